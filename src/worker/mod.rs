//! The Cloudflare Worker edge (feature `worker`): thin glue between the Workers runtime
//! and [`routes`], which holds every rule and is tested natively.
//!
//! Environment:
//! * `TORII_MASTER_SECRET` (secret, required): at least 32 bytes, used as its UTF-8
//!   bytes as the HKDF key material of every signing key (see
//!   [`derive_signing_seed`](crate::derive_signing_seed)). Missing or short: the key
//!   routes answer 500 `misconfigured`.
//! * `TORII_ISSUER` (var, optional): the issuer URL; defaults to the request's origin.

mod gateway;
mod jwks_kv;
mod routes;

use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use routes::{Config, Reply};
use worker::wasm_bindgen::JsValue;
use worker::{Env, Headers, Request, Response, Result};

std::thread_local! {
    /// The signing keys derived in this isolate, with the secret they came from.
    static KEYS: RefCell<Option<(String, Rc<Vec<crate::SigningKey>>)>> =
        const { RefCell::new(None) };
}

/// Reads a string binding (var or secret); absent or non-string bindings are `None`.
fn string_binding(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// The signing keys of the demo tenant, derived once per isolate and secret.
fn cached_keys(config: &Config) -> core::result::Result<Vec<crate::SigningKey>, Reply> {
    let secret = config.master_secret.clone().unwrap_or_default();
    let hit = KEYS.with(|cell| {
        cell.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((cached_secret, keys)) if *cached_secret == secret => Some(Rc::clone(keys)),
            _ => None,
        })
    });
    if let Some(keys) = hit {
        return Ok(keys.as_ref().clone());
    }
    let keys = Rc::new(alloc::vec![routes::demo_signing_key(config)?]);
    KEYS.with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = Some((secret, Rc::clone(&keys)));
        }
    });
    Ok(keys.as_ref().clone())
}

fn to_response(reply: Reply) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let builder = Response::builder()
        .with_status(reply.status)
        .with_headers(headers);
    Ok(match reply.body {
        Some(body) => builder.fixed(body.into_bytes()),
        None => builder.empty(),
    })
}

/// The Worker's `fetch` handler, exported by hand rather than with `#[worker::event]`:
/// that macro's glue needs the std prelude, which this `no_std` crate does not have.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub async fn fetch(
    req: worker::worker_sys::web_sys::Request,
    env: Env,
    ctx: worker::worker_sys::Context,
) -> core::result::Result<JsValue, JsValue> {
    let url = worker::Url::parse(&req.url()).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let path = url.path();
    let edge_owned =
        path.starts_with("/_torii/") || path == "/_torii" || path.starts_with("/.well-known/");
    let result = if path.starts_with("/_torii/dev/") {
        let req = Request::from(req);
        match gateway::dev_route(&req, &env).await {
            Some(result) => result,
            None => handle(&req, &env),
        }
    } else if edge_owned {
        handle(&Request::from(req), &env)
    } else {
        // The gateway hands back the runtime's response as is (no re-wrapping).
        return match gateway::handle(req, url, &env, &worker::Context::new(ctx)).await {
            Ok(raw) => Ok(raw.into()),
            Err(err) => {
                worker::console_error!("torii-edge: {}", err);
                let raw: worker::worker_sys::web_sys::Response =
                    to_response(routes::internal_error())?.into();
                Ok(raw.into())
            }
        };
    };
    let response = match result {
        Ok(response) => response,
        Err(err) => {
            worker::console_error!("torii-edge: {}", err);
            to_response(routes::internal_error())?
        }
    };
    let raw: worker::worker_sys::web_sys::Response = response.into();
    Ok(raw.into())
}

fn handle(req: &Request, env: &Env) -> Result<Response> {
    let url = req.url()?;
    let origin = url.origin().ascii_serialization();
    let config = Config {
        issuer: string_binding(env, "TORII_ISSUER"),
        master_secret: string_binding(env, "TORII_MASTER_SECRET"),
    };
    let method = req.method().to_string();
    to_response(routes::route(
        &method,
        url.path(),
        &origin,
        &config,
        cached_keys,
    ))
}
