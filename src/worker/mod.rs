//! The Cloudflare Worker edge (feature `worker`): thin glue between the Workers runtime
//! and the pure rules in [`routes`], [`tenant`], [`mint`] and [`gateway`].
//!
//! * `fetch`: the Backend API under `/v1` ([`api`]); `/.well-known/openid-configuration`
//!   and `/_torii/.well-known/jwks.json` of the request's tenant;
//!   `POST /_torii/auth/session/token` (minting); the dashboard's pages and files under
//!   `/_torii/dashboard/` ([`dashboard`], from the `ASSETS` static-assets binding); in dev builds only (crate feature `dev`),
//!   the helpers under `/_torii/dev/` (gateway) and `/_torii/devtools/` (store) of
//!   `devtools.rs`, for loopback requests with `TORII_DEV_MODE=1`; any other path under
//!   `/_torii/` or `/.well-known/` is 404; every other path goes to the gateway.
//! * `scheduled`: the Cron Trigger rotating due tenants' keys ([`tenant::rotate_due_tenants`]).
//!
//! Two wasm modules are built from this adapter (scripts/build-worker.mjs): the edge's
//! (feature `edge`: the gateway, its fast path in `fast`, the well-known documents and
//! minting) and the Backend API's (feature `api`). The API's module has none of the edge's
//! entry points (its `fetch` answers the API's and the dashboard's routes, 404 to any
//! other: the entry never sends it one), so the linker leaves the edge's code out of it.
//!
//! Environment (see the README's configuration table):
//! * `TORII_MASTER_SECRET` (secret, required): at least 32 bytes, the HKDF input key
//!   material of every signing key. Missing or short: tenant routes answer 500
//!   `misconfigured`.
//! * `DB` (D1): the system of record; `JWKS_CACHE` (KV): caches only; `MINT_LIMITER` and
//!   `TENANT_LIMITER` (Workers Rate Limiting, optional: absent, nothing is limited).
//! * `TORII_BASE_DOMAIN`, `TORII_DEFAULT_TENANT`, `TORII_TENANT_CACHE_TTL_SECS`,
//!   `TORII_ROTATION_PERIOD_SECS`, `TORII_ROTATION_PUBLISH_LEAD_SECS`,
//!   `TORII_TOKEN_LIFETIME_SECS` (vars); `TORII_DEV_MODE` (read by dev builds only).

// A build without the edge's routes (the Backend API's module) reaches only part of the
// shared adapter below: what only the edge's routes use is dead code there, and left out
// by the linker. Not a blind spot: every build with `edge` (the edge's module,
// `--all-features`) compiles it with the dead-code lint on, and nothing is compiled only
// without `edge`.
#![cfg_attr(not(feature = "edge"), allow(dead_code, unused_imports))]

#[cfg(feature = "api")]
mod api;
mod clock;
mod counters;
#[cfg(feature = "api")]
mod dashboard;
#[cfg(feature = "dev")]
mod devtools;
mod env;
#[cfg(feature = "edge")]
mod fast;
#[cfg(feature = "edge")]
mod gateway;
mod http;
mod log;
mod mint;
mod ratelimit;
mod store;
mod tenant;
mod trusted_jwks;
mod webcrypto;

use crate::edge::dispatch::{edge_route, EdgeRoute};
use crate::edge::reply;
use crate::edge::well_known;
use alloc::boxed::Box;
use alloc::string::ToString;
use core::future::Future;
use core::pin::Pin;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Request, Result};

/// The Worker's `fetch` handler, exported by hand rather than with `#[worker::event]`:
/// that macro's glue needs the std prelude, which this `no_std` crate does not have.
/// worker-build's shim calls `exports.fetch(request, env, ctx)`.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub async fn fetch(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> core::result::Result<JsValue, JsValue> {
    let url = crate::edge::url::SerializedUrl::split(&req.url())
        .ok_or_else(|| JsValue::from_str("the request URL has no authority"))?;
    let path = url.path().to_string();
    let route = edge_route(&path);
    // Every route answers the runtime's `Response` itself; only the dev routes and the
    // Backend API are written with workers-rs's (converted here), so the edge's module,
    // built without them, has none of its response-body conversions (streams included).
    let result: Result<worker::worker_sys::web_sys::Response> = match route {
        #[cfg(all(feature = "dev", feature = "edge"))]
        EdgeRoute::DevGateway | EdgeRoute::DevTools => {
            devtools::handle(route, Request::from(req), &env)
                .await
                .map(Into::into)
        }
        #[cfg(feature = "api")]
        EdgeRoute::Dashboard => match boxed(dashboard::handle(&req, &path, &env)).await {
            Ok(raw) => Ok(raw),
            Err(err) => {
                worker::console_error!("torii-edge: dashboard: {:?}", err);
                http::to_web_response(&reply::internal_error(), None)
            }
        },
        #[cfg(feature = "api")]
        EdgeRoute::Api => boxed(api::handle(
            Request::from(req),
            &env,
            &worker::Context::new(ctx),
        ))
        .await
        .map(Into::into),
        // The gateway hands back the runtime's response as is (no re-wrapping).
        #[cfg(feature = "edge")]
        EdgeRoute::Gateway => {
            boxed(gateway::handle(req, url, &env, &worker::Context::new(ctx))).await
        }
        #[cfg(feature = "edge")]
        route => {
            boxed(edge(
                route,
                &Request::from(req),
                &path,
                &env,
                &worker::Context::new(ctx),
            ))
            .await
        }
        // Not the edge's module: the entry sends this one the API's and the dashboard's
        // requests only (`fast::gateway_plan`'s `api` plan).
        #[cfg(not(feature = "edge"))]
        _ => {
            let _ = url;
            http::to_web_response(&reply::not_found(), None)
        }
    };
    let raw = match result {
        Ok(raw) => raw,
        Err(err) => {
            worker::console_error!("torii-edge: {}", err);
            http::to_web_response(&reply::internal_error(), None)?
        }
    };
    Ok(raw.into())
}

/// `future` behind a function boundary (a `dyn` poll the optimizer cannot inline). V8
/// compiles wasm lazily, one function at a time, on its first call, and a large async
/// state machine costs more to compile per byte than several small ones: a fresh isolate's
/// first request compiled the whole router (gateway, API, well-known and mint inlined) as
/// one 65 KB function, and the gateway's `decide` (token verification inlined) as one of
/// 25 KB. Each route, and each of `decide`'s awaited phases, is now a function of its own,
/// compiled only when a request first takes it (docs/benchmarks.md, "Cold start: what the
/// first request compiles").
fn boxed<'a, T>(future: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(future)
}

#[cfg(feature = "api")]
/// The Worker's `scheduled` handler (Cron Trigger), exported by hand like `fetch`
/// (worker-build's shim calls `exports.scheduled(event, env, ctx)`): rotates the keys of
/// every tenant whose rotation is due.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub async fn scheduled(
    event: worker::worker_sys::ScheduledEvent,
    env: Env,
    _ctx: worker::worker_sys::ScheduleContext,
) -> core::result::Result<JsValue, JsValue> {
    let cron = event.cron().unwrap_or_default();
    match tenant::rotate_due_tenants(&env).await {
        Ok(o) => worker::console_log!(
            "{}",
            serde_json::json!({
                "event": "scheduled",
                "cron": cron,
                "tenants": o.tenants,
                "rotated": o.rotated,
                "retired": o.retired,
                "failed": o.failed,
            })
        ),
        Err(e) => {
            worker::console_error!("torii-edge: scheduled rotation failed: {}", e);
            return Err(JsValue::from_str("rotation failed"));
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// The edge's own routes.
#[cfg(feature = "edge")]
async fn edge(
    route: EdgeRoute,
    req: &Request,
    path: &str,
    env: &Env,
    ctx: &worker::Context,
) -> Result<worker::worker_sys::web_sys::Response> {
    let method = req.method().to_string();
    let reply = match route {
        EdgeRoute::WellKnown => match well_known::well_known_method(&method) {
            Some(reply) => reply,
            None => match tenant::resolve_tenant(req, env, Some(ctx)).await {
                Ok(t) => {
                    let inm = req.headers().get("if-none-match").ok().flatten();
                    well_known::well_known(path, &t.issuer, &t.jwks_json, t.max_age, inm.as_deref())
                }
                Err(reply) => reply.with_cors(),
            },
        },
        EdgeRoute::Mint => mint::handle(req, env).await,
        // Without the `dev` feature the dev routes are unknown edge paths, like NotFound;
        // so are the Backend API's and the dashboard's in the edge's module (without `api`:
        // the entry sends them to the API's module, see `fast::gateway_plan`).
        _ => reply::not_found(),
    };
    http::to_web_response(&reply, None)
}
