//! The wasm-bindgen surface of the npm package `torii-edge` (feature `js`).
//!
//! Only conversions live here: options JSON → [`Policy`], header/token string →
//! [`bearer_token`], `f64` seconds → [`UnixTime`], claims → JSON text, and core errors →
//! a thrown JS `Error` carrying the core's stable `code`. Every decision is the core's.
//! The JS wrapper in `js/src/` turns the thrown error into a `ToriiError`.

use crate::assertion::{verify_edge_assertion, AssertionError, Binding};
use crate::error::{ErrorCode, KeyError, VerifyError, ALL_CODES};
use crate::header::bearer_token;
use crate::jwk::Jwks;
use crate::policy::{Policy, TypPolicy};
use crate::time::UnixTime;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

/// A JS `Error` whose `code` property is the core's stable code.
fn coded_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Reflect.set on a fresh, extensible Error object cannot fail; ignore the Result.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

fn verify_error(e: &VerifyError) -> JsValue {
    coded_error(e.code(), &e.to_string())
}

fn key_error(e: &KeyError) -> JsValue {
    coded_error(e.code(), &e.to_string())
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

/// A verifier for one key set and one policy (the core's `Verifier`).
#[wasm_bindgen]
pub struct Verifier {
    inner: crate::Verifier,
}

#[wasm_bindgen]
impl Verifier {
    /// Loads the JWKS (JSON text) and the options (JSON text); throws an `Error` with
    /// `code` `invalid_jwks`/`invalid_key`, or a `TypeError` for malformed options.
    #[wasm_bindgen(constructor)]
    pub fn new(jwks_json: &str, options_json: &str) -> Result<Verifier, JsValue> {
        let policy = policy_from_options(options_json)?;
        let jwks = Jwks::from_json(jwks_json.as_bytes()).map_err(|e| key_error(&e))?;
        Ok(Self {
            inner: crate::Verifier::new(jwks, policy),
        })
    }

    /// Verifies a bare token or an `Authorization` header value at `now_secs` (seconds
    /// since the epoch); returns the claims as JSON text, or throws an `Error` whose
    /// `code` is the core's stable code.
    pub fn verify(&self, token_or_header: &str, now_secs: f64) -> Result<String, JsValue> {
        let token = token_of(token_or_header).map_err(|e| verify_error(&e))?;
        let claims = self
            .inner
            .verify(token, unix_time(now_secs))
            .map_err(|e| verify_error(&e))?;
        Ok(Value::Object(claims.into_claims()).to_string())
    }

    /// The `kid`s of the loaded keys (keys without one are left out).
    pub fn kids(&self) -> Vec<String> {
        self.inner
            .jwks()
            .keys()
            .iter()
            .filter_map(|k| k.kid().map(ToString::to_string))
            .collect()
    }

    /// The clock skew tolerance in force, in seconds (after clamping to `0..=300`).
    #[wasm_bindgen(getter, js_name = clockTolerance)]
    pub fn clock_tolerance(&self) -> f64 {
        // Skew is clamped to 0..=300: exact in f64.
        #[allow(clippy::cast_precision_loss)]
        let skew = self.inner.policy().clock_skew() as f64;
        skew
    }
}

fn assertion_error(e: &AssertionError) -> JsValue {
    coded_error(e.code(), &e.to_string())
}

/// A verifier of edge assertions (`x-torii-edge-assertion`) for one origin: the core's
/// [`verify_edge_assertion`] with one key set, issuer and audience.
#[wasm_bindgen]
pub struct AssertionVerifier {
    jwks: Jwks,
    issuer: String,
    audience: String,
}

#[wasm_bindgen]
impl AssertionVerifier {
    /// Loads the tenant's JWKS (JSON text); `issuer` is the tenant's issuer and `audience`
    /// the origin (`scheme://host[:port]`) the edge forwards to. Throws an `Error` with
    /// `code` `invalid_jwks`/`invalid_key`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        jwks_json: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<AssertionVerifier, JsValue> {
        let jwks = Jwks::from_json(jwks_json.as_bytes()).map_err(|e| key_error(&e))?;
        Ok(Self {
            jwks,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// Verifies `assertion` for the request the origin received (`method`, full `url`,
    /// `x-torii-claims` value or `""`) at `now_secs`; returns the assertion's claims as
    /// JSON text, or throws an `Error` whose `code` is the core's (`assertion_mismatch`
    /// when it is valid but bound to another request).
    pub fn verify(
        &self,
        assertion: &str,
        method: &str,
        url: &str,
        claims_header: &str,
        now_secs: f64,
    ) -> Result<String, JsValue> {
        let binding = Binding {
            method,
            url,
            claims_header,
        };
        let verified = verify_edge_assertion(
            &self.jwks,
            &self.issuer,
            &self.audience,
            assertion,
            binding,
            unix_time(now_secs),
        )
        .map_err(|e| assertion_error(&e))?;
        Ok(Value::Object(verified.into_claims()).to_string())
    }
}

/// Every stable error code of the core, in documentation order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    ALL_CODES
        .iter()
        .map(|c: &ErrorCode| c.as_str().to_string())
        .collect()
}

/// `max-age` from a `Cache-Control` header value, as the edge's JWKS cache reads it
/// (`no-store`/`no-cache` give 0); `undefined` when absent.
#[wasm_bindgen(js_name = maxAgeFromCacheControl)]
pub fn max_age_from_cache_control(value: &str) -> Option<f64> {
    // Whole seconds well inside f64's exact range in practice; `as` rounds otherwise.
    #[allow(clippy::cast_precision_loss)]
    crate::jwks_cache::max_age_from_cache_control(value).map(|s| s as f64)
}

/// The HTTP status the edge answers with for `code` (0 for an unknown code).
#[wasm_bindgen(js_name = httpStatus)]
pub fn http_status(code: &str) -> u16 {
    ALL_CODES
        .iter()
        .find(|c| c.as_str() == code)
        .map_or(0, |c| c.http_status())
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
