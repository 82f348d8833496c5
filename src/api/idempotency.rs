//! `Idempotency-Key` on `POST`: the first response to a key is stored with a fingerprint
//! of the request; within 24 h the same key and the same request replay it, another
//! request with that key is refused (`idempotency_key_reused`, 409).

use super::error::ApiError;
use crate::edge::reply::Reply;
use crate::error::ErrorCode;
use alloc::string::String;
use sha2::{Digest, Sha256};

/// How long a stored response is replayed, in seconds (24 h).
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 86_400;
/// Longest `Idempotency-Key`, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 255;

/// Checks an `Idempotency-Key` header: 1 to 255 bytes of printable ASCII, else
/// `validation_failed` naming `Idempotency-Key`.
pub fn check_key(key: &str) -> Result<&str, ApiError> {
    if (1..=MAX_IDEMPOTENCY_KEY_BYTES).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(key)
    } else {
        Err(ApiError::validation(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        ))
    }
}

/// The fingerprint of a request: SHA-256 over the method, the path (with its query) and
/// the body, each preceded by its length as 8 big-endian bytes (so no two requests share
/// an encoding).
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), body] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// A stored idempotency record (D1 `idempotency_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// The fingerprint of the first request.
    pub fingerprint: [u8; 32],
    /// Its response status; `None` while the first request is still being handled.
    pub status: Option<u16>,
    /// Its response body (JSON).
    pub body: String,
    /// When it was stored (seconds since the epoch).
    pub created_at: i64,
}

/// What to do with a `POST` carrying an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No live record: handle the request and store its response.
    Proceed,
    /// Same request within the window: answer the stored response.
    Replay {
        /// The stored status.
        status: u16,
        /// The stored body.
        body: String,
    },
}

/// Decides, from the record stored under the key (if any), the request's fingerprint and
/// `now`. A record older than the window counts as absent. Same fingerprint → replay
/// (or, while the first is in flight, `conflict`); another fingerprint →
/// `idempotency_key_reused`.
pub fn decide(
    record: Option<&IdempotencyRecord>,
    fingerprint: &[u8; 32],
    now: i64,
) -> Result<Decision, ApiError> {
    let Some(record) = record.filter(|r| is_live(r, now)) else {
        return Ok(Decision::Proceed);
    };
    if &record.fingerprint != fingerprint {
        return Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was used with another request in the last 24 h",
        )
        .with_field("Idempotency-Key"));
    }
    match record.status {
        Some(status) => Ok(Decision::Replay {
            status,
            body: record.body.clone(),
        }),
        None => Err(ApiError::new(
            ErrorCode::Conflict,
            "a request with this Idempotency-Key is still being handled",
        )
        .with_field("Idempotency-Key")),
    }
}

/// Whether a record is still inside the window at `now`.
pub fn is_live(record: &IdempotencyRecord, now: i64) -> bool {
    now < record.created_at.saturating_add(IDEMPOTENCY_WINDOW_SECS)
}

/// Whether a response should be stored for replay: everything but server faults (5xx),
/// which the client may retry with the same key.
pub const fn should_store(status: u16) -> bool {
    status < 500
}

/// The body stored for replay: `body` with every member named `secret` (at any depth)
/// set to `null`, so D1 never holds a secret key. A replay of a call that created a key
/// returns the key without its secret (it is shown once; roll the key if it was lost).
/// A body that is not JSON is stored as is.
pub fn redact_secrets(body: &str) -> String {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    if k == "secret" {
                        *child = serde_json::Value::Null;
                    } else {
                        walk(child);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(body.as_bytes()) {
        Ok(mut v) => {
            walk(&mut v);
            alloc::string::ToString::to_string(&v)
        }
        Err(_) => body.into(),
    }
}

/// The replayed reply: the stored status and body, marked `idempotent-replayed: true`.
pub fn replay_reply(status: u16, body: String) -> Reply {
    let mut reply = Reply::json(status, body);
    reply.headers.push(("cache-control", "no-store".into()));
    reply.headers.push(("idempotent-replayed", "true".into()));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bodies_never_hold_secrets() {
        let body = r#"{"secret_key":{"id":"k","secret":"sk_test_x"},"secret":"s","list":[{"secret":1}],"n":1}"#;
        let out: serde_json::Value = serde_json::from_str(&redact_secrets(body)).unwrap();
        assert_eq!(out["secret_key"]["secret"], serde_json::Value::Null);
        assert_eq!(out["secret_key"]["id"], "k");
        assert_eq!(out["secret"], serde_json::Value::Null);
        assert_eq!(out["list"][0]["secret"], serde_json::Value::Null);
        assert_eq!(out["n"], 1);
        assert_eq!(redact_secrets("not json"), "not json");
    }

    fn rec(fp: [u8; 32], status: Option<u16>, at: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            fingerprint: fp,
            status,
            body: "{\"id\":\"user_1\"}".into(),
            created_at: at,
        }
    }

    #[test]
    fn fingerprints_separate_method_path_and_body() {
        let a = fingerprint("POST", "/v1/users", b"{}");
        assert_eq!(a, fingerprint("POST", "/v1/users", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/users", b"{ }"));
        assert_ne!(a, fingerprint("PUT", "/v1/users", b"{}"));
        assert_ne!(a, fingerprint("POST", "/v1/sessions", b"{}"));
        // Moving bytes between parts changes the fingerprint.
        assert_ne!(
            fingerprint("POST", "/v1/a", b"b"),
            fingerprint("POST", "/v1/ab", b"")
        );
    }

    #[test]
    fn decisions() {
        let fp = fingerprint("POST", "/v1/users", b"{}");
        let other = fingerprint("POST", "/v1/users", b"{\"a\":1}");
        let now = 1_000_000;
        assert_eq!(decide(None, &fp, now), Ok(Decision::Proceed));
        let stored = rec(fp, Some(201), now - 10);
        assert_eq!(
            decide(Some(&stored), &fp, now),
            Ok(Decision::Replay {
                status: 201,
                body: stored.body.clone()
            })
        );
        let err = decide(Some(&stored), &other, now).unwrap_err();
        assert_eq!(err.code, ErrorCode::IdempotencyKeyReused);
        assert_eq!(err.status(), 409);
        let in_flight = rec(fp, None, now - 1);
        assert_eq!(
            decide(Some(&in_flight), &fp, now).unwrap_err().code,
            ErrorCode::Conflict
        );
        // The window: live until 24 h after creation, exclusive.
        let old = rec(fp, Some(201), now - IDEMPOTENCY_WINDOW_SECS);
        assert_eq!(decide(Some(&old), &other, now), Ok(Decision::Proceed));
        let edge = rec(fp, Some(201), now - IDEMPOTENCY_WINDOW_SECS + 1);
        assert!(decide(Some(&edge), &other, now).is_err());
        let far = rec(fp, Some(201), i64::MAX);
        assert!(is_live(&far, now));
    }

    #[test]
    fn keys_and_storage() {
        assert!(check_key("abc-123_X").is_ok());
        assert!(check_key(&"a".repeat(255)).is_ok());
        for bad in ["", "a b", "é", "a\n"] {
            assert_eq!(
                check_key(bad).unwrap_err().field.as_deref(),
                Some("Idempotency-Key")
            );
        }
        assert!(check_key(&"a".repeat(256)).is_err());
        assert!(should_store(201) && should_store(422) && !should_store(503));
        let reply = replay_reply(201, "{}".into());
        assert_eq!(reply.status, 201);
        assert_eq!(reply.header("idempotent-replayed"), Some("true"));
    }
}
