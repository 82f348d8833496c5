//! Dev-only routes, compiled in only with the crate feature `dev` (`make dev` and the
//! end-to-end test build, `make build-worker-dev`): the deployable Worker
//! (`make build-worker`) has none of this module, and answers its paths 404 `not_found`
//! like any other unknown `/_torii/` path. Even in a dev build they answer only when
//! `TORII_DEV_MODE=1` and the request is local
//! ([`dev_route_allowed`](crate::edge::dispatch::dev_route_allowed): a loopback host, and
//! loopback forwarded hosts if any); otherwise 404 as well.
//!
//! * `/_torii/dev/*` (gateway): I/O counters, the cache's test clock, forgetting isolate
//!   memory, a raw signature check through the Worker's WebCrypto path, the size of
//!   the isolate's wasm linear memory (`GET /_torii/dev/memory`, for `make load`), and a
//!   deliberate panic (`POST /_torii/dev/trap`, for the trap-recovery test).
//! * `/_torii/devtools/*` (store): sessions created and revoked for any user of the
//!   request's tenant, the isolate's D1 query count, forgetting the tenant cache.

use super::mint::{lifetime, mint_for, parse_template, storage_error, user_from_row};
use super::store::{self, n, opt, s, SessionRow};
use super::{clock, counters, env, http, tenant, trusted_jwks};
use crate::edge::dispatch::{dev_route_allowed, EdgeRoute, DEVTOOLS_PREFIX};
use crate::edge::reply::{self, Reply};
use crate::ErrorCode;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use serde_json::{json, Map, Value};
use worker::{Env, Request, Response, Url};

/// Largest dev-mode request body.
const MAX_DEV_BODY: usize = 64 * 1024;

/// Answers a dev route ([`EdgeRoute::DevGateway`] or [`EdgeRoute::DevTools`]): the helper
/// when dev mode is on and the request is local, else 404 `not_found`.
pub(crate) async fn handle(
    route: EdgeRoute,
    mut req: Request,
    env: &Env,
) -> worker::Result<Response> {
    if !allowed(&req, env) {
        return http::to_response(&reply::not_found());
    }
    match route {
        EdgeRoute::DevGateway => match dev_route(&req).await {
            Some(result) => result,
            None => http::to_response(&reply::not_found()),
        },
        EdgeRoute::DevTools => http::to_response(&devtools(&mut req, env).await),
        _ => http::to_response(&reply::not_found()),
    }
}

/// `TORII_DEV_MODE=1` and a local request (the rule is the core's).
fn allowed(req: &Request, env: &Env) -> bool {
    let host = req
        .url()
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let header = |name: &str| req.headers().get(name).ok().flatten();
    dev_route_allowed(
        env::string_var(env, "TORII_DEV_MODE").as_deref(),
        &host,
        header("x-forwarded-host").as_deref(),
        header("forwarded").as_deref(),
    )
}

// ------------------------------------------------------------------ /_torii/dev/

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// `GET /_torii/dev/ed25519?pk=&msg=&sig=` (hex): the gateway's signature check next to
/// the core's, so tests can run the Wycheproof vectors through the Worker's native path.
async fn dev_ed25519(url: &Url) -> Reply {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| hex_decode(&v))
            .unwrap_or_default()
    };
    let (pk, msg, sig) = (param("pk"), param("msg"), param("sig"));
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        crate::encoding::b64::encode(&pk)
    );
    let (gateway, core) = match (
        crate::Jwk::from_json(jwk.as_bytes()),
        <[u8; 64]>::try_from(sig.as_slice()),
    ) {
        (Ok(key), Ok(sig64)) => (
            crate::crypto::strict::signature_encoding_ok(&sig64)
                && super::webcrypto::signature_ok(key.public_key(), &msg, &sig64).await,
            key.verify_signature(&msg, &sig),
        ),
        (Ok(key), Err(_)) => (false, key.verify_signature(&msg, &sig)),
        (Err(_), _) => (false, false),
    };
    Reply {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: Some(json!({ "gateway": gateway, "core": core }).to_string()),
    }
}

/// The size of this isolate's wasm linear memory (memory 0), in bytes: it only grows
/// (`memory.grow`), so it is the high-water mark of the Rust heap, caches included.
/// Native builds (the `--all-features` lint and tests) have no linear memory: 0.
fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    let pages = u64::try_from(core::arch::wasm32::memory_size(0)).unwrap_or(u64::MAX);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0u64;
    pages.saturating_mul(65_536)
}

/// `POST /_torii/dev/trap`: panics, as a bug would, so the end-to-end tests can check that
/// the instance is replaced (the panic is a trap: `panic = "abort"`, and with the default
/// Worker build `-C panic=immediate-abort`; wasm-bindgen's glue and the entry module
/// start a fresh instance for the next request, whose isolate state starts empty).
#[allow(clippy::panic)] // the one deliberate panic, dev builds only
fn trap() -> Reply {
    panic!("POST /_torii/dev/trap")
}

/// `/_torii/dev/*` (`None`: no such helper): I/O counters, the cache's test clock,
/// forgetting isolate memory, a raw signature check, and the wasm memory size.
async fn dev_route(req: &Request) -> Option<worker::Result<Response>> {
    let url = req.url().ok()?;
    let method = req.method().to_string();
    let reply = match (method.as_str(), url.path()) {
        ("GET", "/_torii/dev/counters") => Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            body: Some(counters::counters_json()),
        },
        ("POST", "/_torii/dev/clock") => {
            let secs = url
                .query_pairs()
                .find(|(k, _)| k == "advance")
                .and_then(|(_, v)| v.parse::<i64>().ok())
                .unwrap_or(0);
            clock::advance_clock(secs);
            Reply {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: Some(counters::counters_json()),
            }
        }
        ("GET", "/_torii/dev/ed25519") => dev_ed25519(&url).await,
        ("GET", "/_torii/dev/memory") => Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            body: Some(json!({ "wasm_memory_bytes": wasm_memory_bytes() }).to_string()),
        },
        ("POST", "/_torii/dev/trap") => trap(),
        ("POST", "/_torii/dev/forget") => {
            trusted_jwks::forget();
            Reply {
                status: 204,
                headers: Vec::new(),
                body: None,
            }
        }
        _ => return None,
    };
    Some(http::to_web_response(&reply, Some(http::new_request_id().as_str())).map(Response::from))
}

// ------------------------------------------------------------------ /_torii/devtools/

/// `/_torii/devtools/*` (404 for anything else):
/// * `POST sessions` `{"userId", "ttl"?, "tokenLifetime"?, "aal"?, "orgId"?, "orgRole"?}`:
///   creates an active session (default 7 days) for a user of the request's tenant and
///   returns `{"sessionId","accessToken","expiresAt","keyVersion"}` (its first session token);
/// * `POST sessions/revoke` `{"sessionId"}`: revokes it;
/// * `GET counters`: this isolate's I/O counters (as `/_torii/dev/counters`: D1
///   statements and round trips, KV, fetches);
/// * `POST forget`: drops the isolate's tenant cache.
async fn devtools(req: &mut Request, env: &Env) -> Reply {
    let path = req.path();
    let method = req.method().to_string();
    let sub = path.strip_prefix(DEVTOOLS_PREFIX).unwrap_or_default();
    let result = match (method.as_str(), sub) {
        ("GET", "counters") => Ok(Reply::json(200, counters::counters_json())),
        ("POST", "forget") => {
            tenant::forget(None);
            Ok(Reply::json(200, "{}".into()))
        }
        ("POST", "sessions") => create_session(req, env).await,
        ("POST", "sessions/revoke") => revoke_session(req, env).await,
        _ => Err(reply::not_found()),
    };
    let mut reply = result.unwrap_or_else(|r| r);
    reply.headers.push(("cache-control", "no-store".into()));
    reply
}

async fn json_body(req: &mut Request) -> Result<Map<String, Value>, Reply> {
    let bytes = req.bytes().await.map_err(|_| reply::internal_error())?;
    if bytes.len() > MAX_DEV_BODY {
        return Err(Reply::from_code(
            ErrorCode::PayloadTooLarge,
            "body too large",
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Reply::from_code(
            ErrorCode::InvalidRequest,
            "body must be a JSON object",
        )),
    }
}

fn random_id(prefix: &str) -> Result<String, Reply> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| reply::internal_error())?;
    Ok(format!("{prefix}{}", crate::encoding::b64::encode(&bytes)))
}

async fn create_session(req: &mut Request, env: &Env) -> Result<Reply, Reply> {
    let tenant = tenant::resolve_tenant(req, env, None).await?;
    let body = json_body(req).await?;
    let user_id = body
        .get("userId")
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::from_code(ErrorCode::InvalidRequest, "userId is required"))?
        .to_string();
    let ttl = body
        .get("ttl")
        .and_then(Value::as_i64)
        .unwrap_or(7 * 86_400)
        .clamp(1, 365 * 86_400);
    let token_lifetime = body
        .get("tokenLifetime")
        .and_then(Value::as_i64)
        .map_or_else(|| lifetime(env), |t| t.clamp(30, 86_400));
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_string);
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    let user_row = store::user(&db, &tenant.id, &user_id)
        .await
        .map_err(|e| storage_error(&e))?
        .ok_or_else(|| Reply::from_code(ErrorCode::NotFound, "no such user in this tenant"))?;
    let user = user_from_row(&user_row)?;
    let now = clock::now_secs();
    let session = SessionRow {
        id: random_id("sess_")?,
        tenant_id: tenant.id.clone(),
        user_id: user_id.clone(),
        status: "active".into(),
        aal: field("aal"),
        org_id: field("orgId"),
        org_role: field("orgRole"),
        expires_at: now.saturating_add(ttl),
    };
    let insert = store::prepared(
        &db,
        "INSERT INTO sessions (id, tenant_id, user_id, status, aal, org_id, org_role, created_at, expires_at) \
         VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6, ?7, ?8)",
        &[
            s(&session.id),
            s(&tenant.id),
            s(&user_id),
            opt(session.aal.as_deref()),
            opt(session.org_id.as_deref()),
            opt(session.org_role.as_deref()),
            n(now),
            n(session.expires_at),
        ],
    )
    .map_err(|e| storage_error(&e))?;
    store::batch(&db, Vec::from([insert]))
        .await
        .map_err(|e| storage_error(&e))?;
    let default = match store::default_template(&db, &tenant.id)
        .await
        .map_err(|e| storage_error(&e))?
    {
        Some(row) => Some(parse_template(&row)?),
        None => None,
    };
    let minted = mint_for(
        &tenant,
        &session,
        &user,
        None,
        default.as_ref(),
        now,
        token_lifetime,
    )
    .await?;
    let body = json!({
        "sessionId": session.id,
        "accessToken": minted.access_token,
        "expiresAt": minted.expires_at,
        "keyVersion": tenant.key_version,
    });
    Ok(Reply::json(201, body.to_string()))
}

async fn revoke_session(req: &mut Request, env: &Env) -> Result<Reply, Reply> {
    let tenant = tenant::resolve_tenant(req, env, None).await?;
    let body = json_body(req).await?;
    let sid = body
        .get("sessionId")
        .and_then(Value::as_str)
        .ok_or_else(|| Reply::from_code(ErrorCode::InvalidRequest, "sessionId is required"))?;
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    let update = store::prepared(
        &db,
        "UPDATE sessions SET status = 'revoked' WHERE id = ?1 AND tenant_id = ?2",
        &[s(sid), s(&tenant.id)],
    )
    .map_err(|e| storage_error(&e))?;
    store::batch(&db, Vec::from([update]))
        .await
        .map_err(|e| storage_error(&e))?;
    Ok(Reply {
        status: 204,
        headers: Vec::new(),
        body: None,
    })
}
