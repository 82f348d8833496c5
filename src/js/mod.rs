//! The wasm-bindgen surface of the npm package `torii-edge` (feature `js`).
//!
//! Only conversions live here: options JSON → [`Policy`], header/token string →
//! [`bearer_token`], `f64` seconds → [`UnixTime`], claims → JSON text, and core errors →
//! a thrown JS `Error` carrying the core's stable `code`. Every decision is the core's.
//! The JS wrapper in `js/src/` turns the thrown error into a `ToriiError`.
//!
//! This module holds what every export shares (the coded errors, the options → policy
//! conversion, token and time inputs); the exports are in one file per group: `verify`
//! (the verifier and its token cache), `assertion` (the origin's assertion check),
//! `templates`, `jwks` (the JWKS cache policy) and `tables` (error codes, constants,
//! statuses).

use crate::edge::assertion::{verify_edge_assertion, AssertionError, Binding};
use crate::edge::extract::bearer_token;
use crate::error::{ErrorCode, KeyError, VerifyError, ALL_CODES};
use crate::jose::jwk::Jwks;
use crate::jose::policy::{Policy, TypPolicy};
use crate::keys::jwks_cache::{CacheConfig, JwksCache, Lookup};
use crate::templates::engine::{Template, TemplateError, DEFAULT_TEMPLATE_BUDGET};
use crate::templates::user::{StoredUser, User, UserError};
use crate::time::UnixTime;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

mod assertion;
mod jwks;
mod tables;
mod templates;
mod verify;

/// A JS `Error` whose `code` property is the core's stable code (always one of the table's).
fn coded_error(code: ErrorCode, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Reflect.set on a fresh, extensible Error object cannot fail; ignore the Result.
    let _ = js_sys::Reflect::set(
        &err,
        &JsValue::from_str("code"),
        &JsValue::from_str(code.as_str()),
    );
    err.into()
}

fn verify_error(e: &VerifyError) -> JsValue {
    coded_error(e.error_code(), &e.to_string())
}

fn key_error(e: &KeyError) -> JsValue {
    coded_error(e.error_code(), &e.to_string())
}

/// Options the wrapper could not have produced: a programming error, thrown as `TypeError`.
fn options_error(message: &str) -> JsValue {
    js_sys::TypeError::new(&format!("torii-edge: {message}")).into()
}

fn strings(value: &Value, name: &str) -> Result<Vec<String>, JsValue> {
    match value {
        Value::String(s) => Ok(alloc::vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(ToString::to_string)
                    .ok_or_else(|| options_error(&format!("`{name}` must hold strings")))
            })
            .collect(),
        _ => Err(options_error(&format!(
            "`{name}` must be a string or an array of strings"
        ))),
    }
}

fn integer(value: &Value, name: &str) -> Result<i64, JsValue> {
    value
        .as_i64()
        .ok_or_else(|| options_error(&format!("`{name}` must be an integer")))
}

/// Builds a [`Policy`] from the options object (as JSON text):
/// `{ issuer, audience?, clockTolerance?, requiredClaims?, maxTokenLength?, maxTokenAge?,
/// typ? }` (seconds for the durations).
fn policy_from_options(options_json: &str) -> Result<Policy, JsValue> {
    let options: Map<String, Value> = serde_json::from_str(options_json)
        .map_err(|_| options_error("options must be a JSON object"))?;
    let issuers = strings(
        options
            .get("issuer")
            .ok_or_else(|| options_error("`issuer` is required"))?,
        "issuer",
    )?;
    let mut issuers = issuers.iter();
    let first = issuers
        .next()
        .ok_or_else(|| options_error("`issuer` must not be empty"))?;
    let mut policy = Policy::new(first);
    for iss in issuers {
        policy = policy.with_issuer(iss);
    }
    if let Some(aud) = options.get("audience").filter(|v| !v.is_null()) {
        for a in strings(aud, "audience")? {
            policy = policy.with_audience(&a);
        }
    }
    if let Some(skew) = options.get("clockTolerance").filter(|v| !v.is_null()) {
        policy = policy.with_clock_skew(integer(skew, "clockTolerance")?);
    }
    if let Some(claims) = options.get("requiredClaims").filter(|v| !v.is_null()) {
        policy = policy.with_required_claims(strings(claims, "requiredClaims")?);
    }
    if let Some(max) = options.get("maxTokenLength").filter(|v| !v.is_null()) {
        let max = usize::try_from(integer(max, "maxTokenLength")?)
            .map_err(|_| options_error("`maxTokenLength` must not be negative"))?;
        policy = policy.with_max_token_len(max);
    }
    if let Some(age) = options.get("maxTokenAge").filter(|v| !v.is_null()) {
        policy = policy.with_max_age(integer(age, "maxTokenAge")?);
    }
    if let Some(typ) = options.get("typ").filter(|v| !v.is_null()) {
        let typ = typ
            .as_str()
            .ok_or_else(|| options_error("`typ` must be a string"))?;
        policy = policy.with_typ(TypPolicy::Exact(typ.to_string()));
    }
    Ok(policy)
}

/// A bare token, or an `Authorization` header value (`Bearer <token>`, any case).
fn token_of(input: &str) -> Result<&str, VerifyError> {
    let trimmed = input.trim_matches([' ', '\t']);
    if trimmed.is_empty() || trimmed.contains([' ', '\t']) || trimmed.eq_ignore_ascii_case("bearer")
    {
        bearer_token(Some(input))
    } else {
        Ok(trimmed)
    }
}

/// Seconds since the epoch from a JS number (fractions floored; `as` saturates, NaN is 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn unix_time(now_secs: f64) -> UnixTime {
    let t = now_secs as i64;
    UnixTime(if t as f64 > now_secs {
        t.saturating_sub(1)
    } else {
        t
    })
}

// Only the paths that never build a JsValue can run off wasm32.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_tokens_and_bearer_headers_are_both_accepted() {
        assert_eq!(token_of("a.b.c"), Ok("a.b.c"));
        assert_eq!(token_of(" a.b.c "), Ok("a.b.c"));
        assert_eq!(token_of("Bearer a.b.c"), Ok("a.b.c"));
        assert_eq!(token_of("bearer  a.b.c"), Ok("a.b.c"));
        assert_eq!(token_of(""), Err(VerifyError::MissingToken));
        assert_eq!(token_of("  "), Err(VerifyError::MissingToken));
        assert_eq!(token_of("Bearer"), Err(VerifyError::InvalidRequest));
        assert_eq!(token_of("Basic dXNlcg=="), Err(VerifyError::InvalidRequest));
    }

    #[test]
    fn seconds_are_floored() {
        assert_eq!(unix_time(1.9), UnixTime(1));
        assert_eq!(unix_time(-1.5), UnixTime(-2));
        assert_eq!(unix_time(f64::NAN), UnixTime(0));
        assert_eq!(unix_time(1e300), UnixTime(i64::MAX));
    }

    #[test]
    fn options_map_onto_the_policy() {
        let p = policy_from_options(
            r#"{"issuer":["https://a","https://b"],"audience":"api","clockTolerance":9999,
                "requiredClaims":["sub"],"maxTokenLength":100,"maxTokenAge":60,"typ":"at+jwt"}"#,
        )
        .unwrap();
        let want = Policy::new("https://a")
            .with_issuer("https://b")
            .with_audience("api")
            .with_clock_skew(300)
            .with_required_claims(["sub"])
            .with_max_token_len(100)
            .with_max_age(60)
            .with_typ(TypPolicy::Exact("at+jwt".into()));
        assert_eq!(p, want);
        assert_eq!(
            policy_from_options(r#"{"issuer":"https://a","audience":null}"#).unwrap(),
            Policy::new("https://a")
        );
    }
}
