//! The gateway's fast path: the same decision as [`super::gateway::handle`], taken
//! synchronously from this isolate's caches, with the runtime I/O left to the Worker's
//! entry module (`src/worker/entry.mjs`).
//!
//! The full path is Rust driving the runtime through wasm-bindgen: about eighty calls
//! across the boundary per request and an executor for every await. A warm request needs
//! none of that: its tenant, keys, route table and (for a repeated token) verification
//! are in the isolate's caches. So the entry calls [`gateway_plan`] once with the
//! request's method, URL and headers; the core runs [`decide`] in [`Mode::Cached`] (one
//! poll: nothing in that mode awaits) and [`outbound`], and answers with a plan, as JSON:
//!
//! * `{"k":"full"}`: take the full path (`fetch`): the request needs I/O (a D1 read, a
//!   trusted issuer's keys, a key not imported yet, a route that is not the gateway's);
//! * `{"k":"reply",...}`: send this reply (status, headers, body; logged already);
//! * `{"k":"verify",...}`: check this Ed25519 signature with WebCrypto, report it with
//!   [`gateway_signature`], and ask again (a valid one is then in the memo and its claims
//!   are checked; a refused one, named by its id, is refused like any bad signature; when
//!   WebCrypto threw, the request takes the full path);
//! * `{"k":"forward",...}`: sign `sign` with the tenant's key ([`gateway_signing_key`]),
//!   finish the assertion with [`gateway_assertion`], send `method` `url` with `headers`
//!   (and the body when `body`), at most `timeout_ms` for the response headers; set
//!   `response_headers` on the origin's response; complete and write `log`. When the
//!   origin fails, [`gateway_origin_failed`] gives the reply.
//!
//! Every decision is the core's, in the same functions the full path runs; the entry
//! module only carries bytes, makes the WebCrypto and `fetch` calls, and measures time.

use super::counters;
use super::gateway::{
    decide, note_reply, origin_failure, outbound, start, unsigned, Decision, Halt, Incoming, Mode,
};
use super::http::header_lines;
use super::log::{LogLine, LogRecord};
use super::webcrypto::{imported_signing_key, signature_checked};
use crate::edge::assertion::ASSERTION_HEADER;
use crate::edge::headers::REQUEST_ID;
use crate::edge::reply::Reply;
use crate::edge::routing::{edge_route, EdgeRoute};
use crate::edge::url::SerializedUrl as Url;
use crate::encoding::b64;
use crate::jose::finish_jws;
use alloc::string::String;
use alloc::vec::Vec;
use core::future::Future;
use core::task::{Context, Poll, Waker};
use serde::Serialize;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// The plan that sends the request down the full path.
const FULL: &str = r#"{"k":"full"}"#;

/// A plan (see the module docs); serialized with a `k` tag.
#[derive(Serialize)]
#[serde(tag = "k", rename_all = "lowercase")]
// Built once per request and serialized at once: the size of its largest variant costs
// nothing a box would save.
#[allow(clippy::large_enum_variant)]
enum Plan<'a> {
    Reply {
        status: u16,
        headers: Vec<(&'a str, &'a str)>,
        body: Option<&'a str>,
    },
    Verify {
        id: u32,
        key: String,
        data: &'a str,
        sig: String,
    },
    Forward {
        method: &'a str,
        url: &'a str,
        headers: &'a [(String, String)],
        body: bool,
        sign: &'a str,
        kid: &'a str,
        assertion: &'static str,
        timeout_ms: u32,
        response_headers: [(&'static str, &'a str); 1],
        started_ms: f64,
        log: Option<LogRecord<'a>>,
    },
}

fn to_json(plan: &Plan<'_>) -> String {
    serde_json::to_string(plan).unwrap_or_else(|_| FULL.into())
}

/// A reply plan: `reply` with the request id header (as the full path's
/// [`super::http::to_web_response`] sets it).
fn reply_plan(reply: &Reply, request_id: &str) -> String {
    let mut headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    headers.push((REQUEST_ID, request_id));
    to_json(&Plan::Reply {
        status: reply.status,
        headers,
        body: reply.body.as_deref(),
    })
}

/// Polls `f` once: its output if it is ready then (a [`Mode::Cached`] decision always is).
fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = core::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

/// The plan for a request: `method`, its full `url`, `headers` as the runtime lists them,
/// one `name "\n" value "\n"` after the other (see [`header_lines`]), `env` the Worker's,
/// `now_ms` the entry's `Date.now()` when the request arrived, `refused` the id of this request's
/// `verify` plan whose signature WebCrypto refused (0: none; that token is then refused
/// as a bad signature, with no second check).
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_plan(
    method: String,
    url: &str,
    headers: &str,
    env: Env,
    now_ms: f64,
    refused: u32,
) -> String {
    let Some(url) = Url::split(url) else {
        return FULL.into();
    };
    if edge_route(url.path()) != EdgeRoute::Gateway {
        return FULL.into();
    }
    let plan = plan(method, &url, headers, &env, now_ms, refused);
    if plan == FULL {
        counters::bump(|c| &c.fast_path_fallbacks);
    } else if !plan.starts_with(VERIFY_PREFIX) {
        counters::bump(|c| &c.fast_path);
    }
    plan
}

/// How a `verify` plan starts (it is not an answer: the same request asks again).
const VERIFY_PREFIX: &str = r#"{"k":"verify""#;

/// [`gateway_plan`] for a gateway route.
fn plan(method: String, url: &Url, headers: &str, env: &Env, now_ms: f64, refused: u32) -> String {
    let Some(headers) = header_lines(headers) else {
        return FULL.into();
    };
    let req = Incoming { headers, method };
    let (request_id, mut line) = start(&req, url, env, now_ms);
    let decided = match poll_once(decide(
        &req,
        url,
        env,
        None,
        &mut line,
        Mode::Cached(refused),
    )) {
        Some(decided) => decided,
        None => return FULL.into(),
    };
    let (config, tenant, path, verified) = match decided {
        Ok(Decision::Forward(config, tenant, path, verified)) => (config, tenant, path, verified),
        Err(Halt::FullPath) => return FULL.into(),
        Err(Halt::Signature(pending)) => {
            return to_json(&Plan::Verify {
                id: pending.id,
                key: b64::encode(&pending.key),
                data: &pending.message,
                sig: b64::encode(&pending.signature),
            })
        }
        Err(Halt::Reply(reply)) => return reply_now(&reply, &request_id, &mut line),
    };
    if imported_signing_key(tenant.key.kid()).is_none() {
        return FULL.into();
    }
    let out = match outbound(
        &req,
        url,
        &config,
        &tenant,
        &path,
        &verified,
        &request_id,
        &mut line,
    ) {
        Ok(out) => out,
        Err(reply) => return reply_now(&reply, &request_id, &mut line),
    };
    to_json(&Plan::Forward {
        method: &out.method,
        url: &out.target,
        headers: &out.headers,
        body: out.with_body,
        sign: &out.signing_input,
        kid: tenant.key.kid(),
        assertion: ASSERTION_HEADER,
        timeout_ms: out.timeout_ms,
        response_headers: [(REQUEST_ID, &request_id)],
        started_ms: line.started_ms,
        log: line.record(None),
    })
}

/// A reply the gateway sends itself, logged now.
fn reply_now(reply: &Reply, request_id: &str, line: &mut LogLine) -> String {
    note_reply(line, reply);
    line.emit();
    reply_plan(reply, request_id)
}

/// WebCrypto's answer for the `verify` plan `id`: `valid` is the result of
/// `crypto.subtle.verify`, `undefined` when it threw (counted as a failure: the request
/// then takes the full path, counted as a fallback). After `true` or `false` the entry
/// asks [`gateway_plan`] again (with `refused` = `id` after `false`).
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_signature(id: u32, valid: Option<bool>) {
    signature_checked(id, valid);
    if valid.is_none() {
        counters::bump(|c| &c.fast_path_fallbacks);
    }
}

/// The imported WebCrypto signing key of `kid` (a `forward` plan names only keys this
/// isolate has imported); `undefined` otherwise.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_signing_key(kid: &str) -> JsValue {
    imported_signing_key(kid).unwrap_or(JsValue::UNDEFINED)
}

/// The edge assertion from a `forward` plan's `sign` and WebCrypto's 64-byte `signature`
/// of it (the core's JWS encoding), counted with the origin call it goes with;
/// `undefined` when the signature is not 64 bytes.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_assertion(sign: String, signature: &[u8]) -> Option<String> {
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        counters::bump(|c| &c.webcrypto_failures);
        return None;
    };
    counters::bump(|c| &c.webcrypto_signs);
    counters::bump(|c| &c.origin_fetches);
    Some(finish_jws(sign, &signature))
}

/// The reply plan, and what its log line records, when a `forward` plan could not
/// reach the origin: `failure` is `"timeout"` (no response headers within `timeout_ms`),
/// `"unsigned"` (WebCrypto could not sign the assertion; nothing was sent) or anything
/// else for an unreachable origin, with `why`, the runtime's error message.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_origin_failed(
    failure: &str,
    timeout_ms: u32,
    why: &str,
    request_id: &str,
) -> String {
    let mut line = LogLine::default();
    let reply = match failure {
        "unsigned" => unsigned(),
        other => origin_failure(other == "timeout", timeout_ms, why, &mut line),
    };
    note_reply(&mut line, &reply);
    let plan = reply_plan(&reply, request_id);
    // The log line's changes, for the entry to merge into the forward plan's `log`.
    let patch = serde_json::json!({
        "status": line.status,
        "code": line.code,
        "decision": if line.decision == "reject" { None } else { Some(line.decision) },
    });
    alloc::format!(r#"{{"reply":{plan},"log":{patch}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use alloc::string::ToString;
    use serde_json::Value;

    #[test]
    fn a_reply_plan_carries_the_reply_and_the_request_id() {
        let reply = Reply::from_code(ErrorCode::MissingToken, "no token");
        let plan: Value = serde_json::from_str(&reply_plan(&reply, "rid-1")).unwrap();
        assert_eq!(plan["k"], "reply");
        assert_eq!(plan["status"], 401);
        let headers = plan["headers"].as_array().unwrap();
        assert!(headers.contains(&serde_json::json!(["x-request-id", "rid-1"])));
        assert!(headers.contains(&serde_json::json!(["content-type", "application/json"])));
        let body: Value = serde_json::from_str(plan["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "missing_token");
    }

    #[test]
    fn a_forward_plan_has_every_field_the_entry_reads() {
        let headers = alloc::vec![("accept".to_string(), "*/*".to_string())];
        let line = LogLine {
            request_id: "rid-2".into(),
            method: "GET".into(),
            path: "/api".into(),
            decision: "verified",
            ..LogLine::default()
        };
        let plan = Plan::Forward {
            method: "GET",
            url: "http://origin.test/api",
            headers: &headers,
            body: false,
            sign: "a.b",
            kid: "kid-1",
            assertion: ASSERTION_HEADER,
            timeout_ms: 30_000,
            response_headers: [(REQUEST_ID, "rid-2")],
            started_ms: 1.0,
            log: line.record(None),
        };
        let plan: Value = serde_json::from_str(&to_json(&plan)).unwrap();
        for key in [
            "method",
            "url",
            "headers",
            "body",
            "sign",
            "kid",
            "assertion",
            "timeout_ms",
            "response_headers",
            "started_ms",
            "log",
        ] {
            assert!(plan.get(key).is_some(), "{key}");
        }
        assert_eq!(plan["k"], "forward");
        assert_eq!(plan["assertion"], "x-torii-edge-assertion");
        // The template leaves the origin's figures to the entry, which appends them last.
        let log = plan["log"].as_object().unwrap();
        assert!(log.get("total_ms").is_none() && log.get("origin_ms").is_none());
        assert_eq!(log["request_id"], "rid-2");
        // TORII_LOG=off: no template, nothing written.
        let off = LogLine {
            off: true,
            ..LogLine::default()
        };
        assert!(off.record(None).is_none());
    }

    #[test]
    fn a_verify_plan_starts_with_its_prefix() {
        let plan = to_json(&Plan::Verify {
            id: 7,
            key: "k".into(),
            data: "h.p",
            sig: "s".into(),
        });
        assert!(plan.starts_with(VERIFY_PREFIX), "{plan}");
    }

    #[test]
    fn poll_once_gives_a_ready_output_and_nothing_for_a_pending_one() {
        assert_eq!(poll_once(async { 5 }), Some(5));
        assert_eq!(poll_once(core::future::pending::<u8>()), None);
    }
}
