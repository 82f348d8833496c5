//! Dev-mode routes under `/_torii/dev/` (only with `TORII_DEV_MODE=1`): I/O counters,
//! the cache's test clock, forgetting isolate memory, and a raw signature check through
//! the Worker's WebCrypto path.

use super::{clock, counters, trusted_jwks};
use crate::edge::reply::Reply;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use serde_json::json;
use worker::{Env, Request, Response, Url};

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

/// `/_torii/dev/*` (only with `TORII_DEV_MODE=1`; `None` otherwise): I/O counters, the
/// cache's test clock, forgetting isolate memory, and a raw signature check.
pub(crate) async fn dev_route(req: &Request, env: &Env) -> Option<worker::Result<Response>> {
    if !super::env::dev_mode(env) {
        return None;
    }
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
    Some(
        super::http::to_web_response(&reply, Some(super::http::new_request_id().as_str()))
            .map(Response::from),
    )
}
