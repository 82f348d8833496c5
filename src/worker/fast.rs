//! The gateway's fast path: the same decision as [`super::gateway::handle`], taken
//! from this isolate's caches, with the runtime I/O left to the Worker's entry module
//! (`src/worker/entry.mjs`).
//!
//! The full path is Rust driving the runtime through wasm-bindgen: about eighty calls
//! across the boundary per request and an executor for every await. A warm request needs
//! none of that: its tenant, keys, route table and (for a repeated token) verification
//! are in the isolate's caches. So the entry calls [`gateway_plan`] once with the
//! request's method, URL and headers; the core runs [`decide`] in [`Mode::Cached`] and
//! [`outbound`], and answers with a plan, as JSON:
//!
//! * `{"k":"full"}`: take the full path (`fetch`): the request needs I/O (a D1 read, a
//!   trusted issuer's keys, a key not imported yet, an edge route that is not the
//!   gateway's);
//! * `{"k":"api"}`: a route of the Backend API's module ([`EdgeRoute::in_api_module`]):
//!   its `fetch` answers;
//! * `{"k":"reply",...}`: send this reply (status, headers, body; logged already);
//! * `{"k":"verify",...}`: a first-seen token: check this Ed25519 signature with
//!   WebCrypto and give the answer to [`gateway_signature`], which resumes the same
//!   request where it stopped and answers with its plan (the request waits, parked in
//!   this isolate, bounded; when WebCrypto threw, the plan is the full path);
//! * `{"k":"forward",...}`: sign `sign` with the tenant's key ([`gateway_signing_key`]),
//!   finish the assertion with [`gateway_assertion`], send `method` `url` with a copy of
//!   the request's own headers less the names in `drop`, plus `add` and the assertion
//!   appended (and the body when `body`), at most `timeout_ms` for the response headers; set
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
use super::webcrypto::{imported_signing_key, take_handed_out, Answer};
use crate::edge::assertion::ASSERTION_HEADER;
use crate::edge::dispatch::{edge_route, EdgeRoute};
use crate::edge::headers::REQUEST_ID;
use crate::edge::reply::Reply;
use crate::edge::url::SerializedUrl as Url;
use crate::encoding::b64;
use crate::jose::finish_jws;
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use serde::Serialize;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// The plan that sends the request down the full path.
const FULL: &str = r#"{"k":"full"}"#;

/// The plan that sends the request to the Backend API's module (its `fetch`): a route
/// of [`EdgeRoute::in_api_module`].
const API: &str = r#"{"k":"api"}"#;

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
        drop: &'a [&'a str],
        add: &'a [(Cow<'a, str>, Cow<'a, str>)],
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

/// A request's plan, being computed: a [`Mode::Cached`] decision is ready at its first
/// poll, or waits for one handed-out signature check.
type Planning = Pin<Box<dyn Future<Output = String>>>;

/// Requests waiting for the entry's answer to their signature check, at most this many
/// (the oldest is dropped; its answer then finds nothing, and the request takes the full
/// path).
const MAX_PARKED: usize = 64;

/// The last id handed out, and the parked requests by id with their answer slots.
type Parked = (u32, VecDeque<(u32, Planning, Answer)>);

std::thread_local! {
    /// Requests parked on a signature check (bounded).
    static PARKED: RefCell<Parked> = const { RefCell::new((0, VecDeque::new())) };
}

/// Polls `planning` once: its plan if ready; if it handed out a signature check, the
/// `verify` plan for it (the request parked under a new id); otherwise the full path.
/// Counts the answer: a fallback for the full path, a fast-path request for a final plan.
fn run(mut planning: Planning) -> String {
    // Nothing another poll handed out and left is taken for this one's.
    drop(take_handed_out());
    let plan = match planning
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(plan) => plan,
        Poll::Pending => match take_handed_out() {
            Some((pending, answer)) => match park(planning, answer) {
                Some(id) => {
                    return to_json(&Plan::Verify {
                        id,
                        key: b64::encode(&pending.key),
                        data: &pending.message,
                        sig: b64::encode(&pending.signature),
                    })
                }
                None => FULL.into(),
            },
            None => FULL.into(),
        },
    };
    counters::bump(if plan == FULL {
        |c| &c.fast_path_fallbacks
    } else {
        |c| &c.fast_path
    });
    plan
}

/// Parks `planning` until the answer to its check; its id (`None`: nowhere to park it).
fn park(planning: Planning, answer: Answer) -> Option<u32> {
    PARKED.with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let id = p.0.wrapping_add(1).max(1);
        p.0 = id;
        if p.1.len() >= MAX_PARKED {
            p.1.pop_front();
        }
        p.1.push_back((id, planning, answer));
        Some(id)
    })
}

/// The request parked under `id`, taken out of the slab.
fn unpark(id: u32) -> Option<(Planning, Answer)> {
    PARKED.with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        let at = p.1.iter().position(|(i, _, _)| *i == id)?;
        p.1.remove(at)
            .map(|(_, planning, answer)| (planning, answer))
    })
}

/// The plan for a request: `method`, its full `url`, `headers` as the runtime lists them,
/// one `name "\n" value "\n"` after the other (see [`header_lines`]), as UTF-8 bytes
/// (the entry's `TextEncoder`: copied into wasm memory in one native copy, where a string
/// argument is copied by wasm-bindgen's glue one character at a time, ~10 µs for a
/// browser's headers), `env` the Worker's, `now_ms` the entry's `Date.now()` when the
/// request arrived. Bytes that are not UTF-8 (which `TextEncoder` never gives) take the
/// full path.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_plan(method: String, url: &str, headers: &[u8], env: Env, now_ms: f64) -> String {
    let Ok(headers) = core::str::from_utf8(headers) else {
        counters::bump(|c| &c.fast_path_fallbacks);
        return FULL.into();
    };
    let Some(url) = Url::split(url) else {
        return FULL.into();
    };
    match edge_route(url.path()) {
        EdgeRoute::Gateway => {}
        route if route.in_api_module() => return API.into(),
        _ => return FULL.into(),
    }
    let Some(headers) = header_lines(headers) else {
        counters::bump(|c| &c.fast_path_fallbacks);
        return FULL.into();
    };
    let req = Incoming { headers, method };
    run(Box::pin(
        async move { plan(&req, &url, &env, now_ms).await },
    ))
}

/// [`gateway_plan`] for a gateway route.
async fn plan(req: &Incoming, url: &Url, env: &Env, now_ms: f64) -> String {
    let (request_id, mut line) = start(req, url, env, now_ms);
    let decided = decide(req, url, env, None, &mut line, Mode::Cached).await;
    let (config, tenant, path, verified) = match decided {
        Ok(Decision::Forward(config, tenant, path, verified)) => (config, tenant, path, verified),
        Err(Halt::FullPath) => return FULL.into(),
        Err(Halt::Reply(reply)) => return reply_now(&reply, &request_id, &mut line),
    };
    if imported_signing_key(tenant.key.kid()).is_none() {
        return FULL.into();
    }
    let out = match outbound(
        req,
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
        drop: &out.headers.drop,
        add: &out.headers.add,
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
/// `crypto.subtle.verify`, `undefined` when it threw. Resumes the request parked under
/// `id` and answers with its plan: a valid signature is remembered and the token's claims
/// checked; a refused one is refused like any bad signature; a throw, or an id parked no
/// more (answered already, or dropped), is the full path.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_signature(id: u32, valid: Option<bool>) -> String {
    let Some((planning, answer)) = unpark(id) else {
        counters::bump(|c| &c.fast_path_fallbacks);
        return FULL.into();
    };
    answer.set(Some(valid));
    run(planning)
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

/// The edge assertion from a `forward` plan's `sign`, as the UTF-8 bytes the entry gave
/// WebCrypto to sign (one native copy in, no second encoding of the string), and
/// WebCrypto's 64-byte `signature` of it (the core's JWS encoding), counted with the
/// origin call it goes with; `undefined` when the signature is not 64 bytes or `sign` not
/// UTF-8.
#[wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn gateway_assertion(sign: Vec<u8>, signature: &[u8]) -> Option<String> {
    let (Ok(sign), Ok(signature)) = (String::from_utf8(sign), <[u8; 64]>::try_from(signature))
    else {
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
        let add = alloc::vec![(Cow::Borrowed("x-request-id"), Cow::Borrowed("rid-2"))];
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
            drop: &["host"],
            add: &add,
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
            "drop",
            "add",
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

    /// A request as [`plan`] makes one in [`Mode::Cached`]: its one await is the
    /// signature of `token`, answered by the entry ([`super::super::webcrypto::entry_verify`]);
    /// the plan is the verified subject, or the error's code.
    fn planning(token: String) -> Planning {
        Box::pin(async move {
            let key = crate::SigningKey::from_seed(&[4; 32]);
            let verifier = crate::Verifier::new(
                crate::Jwks::from_keys(alloc::vec![key.public_jwk()]),
                crate::Policy::new("https://i"),
            );
            let Ok(untrusted) = crate::UntrustedToken::parse(&token, 8192) else {
                return "unparsed".into();
            };
            let Ok(check) = verifier.prepare(&untrusted) else {
                return "unprepared".into();
            };
            let Some(valid) = super::super::webcrypto::entry_verify(&check).await else {
                return FULL.into();
            };
            match check.complete(valid, crate::UnixTime(10)) {
                Ok(claims) => claims.sub().unwrap_or_default().to_string(),
                Err(e) => e.code().to_string(),
            }
        })
    }

    fn token(sub: &str) -> String {
        let key = crate::SigningKey::from_seed(&[4; 32]);
        let mut c = serde_json::Map::new();
        c.insert("iss".into(), "https://i".into());
        c.insert("sub".into(), sub.into());
        c.insert("exp".into(), 1000.into());
        key.sign_jwt(None, &c)
    }

    fn verify_plan(plan: &str) -> (u32, Value) {
        let plan: Value = serde_json::from_str(plan).unwrap();
        assert_eq!(plan["k"], "verify", "{plan}");
        (u32::try_from(plan["id"].as_u64().unwrap()).unwrap(), plan)
    }

    #[test]
    fn a_request_parks_on_its_signature_and_resumes_with_the_answer() {
        let tok = token("ada");
        let (id, plan) = verify_plan(&run(planning(tok.clone())));
        // The check handed out is the token's: its signing input, signature and key.
        let (signing_input, sig) = tok.rsplit_once('.').unwrap();
        assert_eq!(plan["data"], signing_input);
        assert_eq!(plan["sig"], sig);
        assert_eq!(
            plan["key"],
            crate::SigningKey::from_seed(&[4; 32]).public_jwk().x()
        );
        // Valid: resumed where it stopped, the claims then checked.
        assert_eq!(gateway_signature(id, Some(true)), "ada");
        // Answered once: the id is parked no more, a second answer is the full path.
        assert_eq!(gateway_signature(id, Some(true)), FULL);
    }

    #[test]
    fn a_refused_or_thrown_check_is_refused_or_the_full_path() {
        let (id, _) = verify_plan(&run(planning(token("bob"))));
        assert_eq!(gateway_signature(id, Some(false)), "invalid_signature");
        let (id, _) = verify_plan(&run(planning(token("bob"))));
        assert_eq!(gateway_signature(id, None), FULL);
    }

    #[test]
    fn interleaved_requests_each_get_their_own_answer() {
        let (a, _) = verify_plan(&run(planning(token("a"))));
        let (b, _) = verify_plan(&run(planning(token("b"))));
        assert_ne!(a, b);
        assert_eq!(gateway_signature(b, Some(false)), "invalid_signature");
        assert_eq!(gateway_signature(a, Some(true)), "a");
    }

    #[test]
    fn parked_requests_are_bounded_and_the_oldest_is_dropped() {
        let (first, _) = verify_plan(&run(planning(token("old"))));
        let mut last = first;
        for _ in 0..MAX_PARKED {
            last = verify_plan(&run(planning(token("new")))).0;
        }
        let parked = PARKED.with(|p| p.borrow().1.len());
        assert!(parked <= MAX_PARKED, "{parked}");
        assert_eq!(gateway_signature(first, Some(true)), FULL);
        assert_eq!(gateway_signature(last, Some(true)), "new");
    }

    #[test]
    fn a_plan_ready_at_once_is_answered_and_one_that_waits_on_nothing_is_the_full_path() {
        assert_eq!(run(Box::pin(async { String::from("ready") })), "ready");
        assert_eq!(run(Box::pin(core::future::pending::<String>())), FULL);
    }
}
