//! The wasm-bindgen surface of the npm package `torii-edge` (feature `js`).
//!
//! Only conversions live here: options JSON → [`Policy`], header/token string →
//! [`bearer_token`], `f64` seconds → [`UnixTime`], claims → JSON text, and core errors →
//! a thrown JS `Error` carrying the core's stable `code`. Every decision is the core's.
//! The JS wrapper in `js/src/` turns the thrown error into a `ToriiError`.

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

/// A verifier for one key set and one policy (the core's `Verifier`).
#[wasm_bindgen]
pub struct Verifier {
    inner: crate::Verifier,
    /// Tokens this verifier already verified: a repeat costs a hash and the time checks.
    cache: core::cell::RefCell<crate::TokenCache>,
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
            cache: core::cell::RefCell::new(crate::TokenCache::default()),
        })
    }

    /// Verifies a bare token or an `Authorization` header value at `now_secs` (seconds
    /// since the epoch); returns the claims as JSON text, or throws an `Error` whose
    /// `code` is the core's stable code.
    pub fn verify(&self, token_or_header: &str, now_secs: f64) -> Result<String, JsValue> {
        let token = token_of(token_or_header).map_err(|e| verify_error(&e))?;
        let now = unix_time(now_secs);
        let claims = match self.cache.try_borrow_mut() {
            Ok(mut cache) => self.inner.verify_cached(&mut cache, token, now),
            Err(_) => self.inner.verify(token, now),
        }
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

/// `[[name, value], …]` (at most the identity headers' count, strings only).
fn identity_pairs(json: &str) -> Result<Vec<(String, String)>, JsValue> {
    let bad = || {
        coded_error(
            ErrorCode::InvalidRequest,
            "identity headers: expected [[name, value], …]",
        )
    };
    let value = crate::encoding::json::parse(json.as_bytes(), 3).map_err(|_| bad())?;
    let Value::Array(items) = value else {
        return Err(bad());
    };
    if items.len() > crate::edge::headers::IDENTITY_HEADERS.len() {
        return Err(bad());
    }
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([Value::String(n), Value::String(v)]) => Ok((n.clone(), v.clone())),
            _ => Err(bad()),
        })
        .collect()
}

fn assertion_error(e: &AssertionError) -> JsValue {
    coded_error(e.error_code(), &e.to_string())
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
    /// identity headers it carried as a JSON array of `[name, value]` pairs, `[]` when
    /// none: see `coreConstants().identityHeaders`) at `now_secs`; returns the
    /// assertion's claims as JSON text, or throws an `Error` whose `code` is the core's
    /// (`assertion_mismatch` when it is valid but bound to another request).
    pub fn verify(
        &self,
        assertion: &str,
        method: &str,
        url: &str,
        identity_json: &str,
        now_secs: f64,
    ) -> Result<String, JsValue> {
        let pairs = identity_pairs(identity_json)?;
        let identity: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let binding = Binding {
            method,
            url,
            identity: &identity,
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

fn template_error(e: &TemplateError) -> JsValue {
    let err = coded_error(e.error_code(), &e.to_string());
    if let Some(pointer) = e.pointer() {
        let _ = js_sys::Reflect::set(
            &err,
            &JsValue::from_str("pointer"),
            &JsValue::from_str(pointer),
        );
    }
    err
}

fn user_error(e: &UserError, field: &str) -> JsValue {
    let err = coded_error(e.error_code(), &e.to_string());
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("field"), &JsValue::from_str(field));
    err
}

/// A byte budget from JS (`undefined`: the default; fractions floored, negatives 0).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn budget_of(budget: Option<f64>) -> usize {
    budget.map_or(DEFAULT_TEMPLATE_BUDGET, |b| b.max(0.0) as usize)
}

/// Parses a template as the edge does: strict JSON, ≤ 4 KiB, worst-case size within
/// `budget` bytes, and `lifetime` (seconds) when given.
fn parse_template(
    template_json: &str,
    budget: Option<f64>,
    lifetime: Option<f64>,
) -> Result<Template, TemplateError> {
    let template = Template::parse_with_budget(template_json.as_bytes(), budget_of(budget))?;
    match lifetime {
        #[allow(clippy::cast_possible_truncation)]
        Some(secs) => template.with_lifetime(if secs.is_finite() {
            secs as i64
        } else {
            i64::MAX
        }),
        None => Ok(template),
    }
}

/// Validates a template (JSON text) as the edge does when it is saved; returns its
/// worst-case rendered size in bytes, or throws an `Error` with the core's `code` and
/// `pointer` (RFC 6901, `""` for the whole template).
#[wasm_bindgen(js_name = validateTemplate)]
pub fn validate_template(
    template_json: &str,
    budget: Option<f64>,
    lifetime: Option<f64>,
) -> Result<f64, JsValue> {
    let template =
        parse_template(template_json, budget, lifetime).map_err(|e| template_error(&e))?;
    // Bounded by the budget (or 4 KiB × escaping): exact in f64.
    #[allow(clippy::cast_precision_loss)]
    Ok(template.worst_case_size() as f64)
}

fn user_text<'a>(
    user: &'a Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<&'a str>, (UserError, String)> {
    for name in names {
        match user.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => return Ok(Some(s)),
            Some(_) => {
                return Err((
                    UserError::InvalidUserField {
                        field: name,
                        reason: "must be a string",
                    },
                    (*name).to_string(),
                ))
            }
        }
    }
    Ok(None)
}

fn user_bag(
    user: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Map<String, Value>, (UserError, String)> {
    for name in names {
        match user.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => return Ok(m.clone()),
            Some(_) => {
                return Err((
                    UserError::InvalidUserField {
                        field: name,
                        reason: "must be an object",
                    },
                    (*name).to_string(),
                ))
            }
        }
    }
    Ok(Map::new())
}

/// A [`User`] from JSON: `id`, `email`, `email_verified`, `first_name`, `last_name`,
/// `name`, `public_metadata`, `unsafe_metadata`, `private_metadata` (camelCase accepted).
fn user_from_json(user_json: &str) -> Result<User, (UserError, String)> {
    let bad = |field: &'static str, reason: &'static str| {
        (
            UserError::InvalidUserField { field, reason },
            field.to_string(),
        )
    };
    let v: Map<String, Value> =
        serde_json::from_str(user_json).map_err(|_| bad("user", "must be a JSON object"))?;
    let id = user_text(&v, &["id"])?.ok_or_else(|| bad("id", "is required"))?;
    let email_verified = match v.get("email_verified").or_else(|| v.get("emailVerified")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("email_verified", "must be a boolean")),
    };
    let stored = StoredUser {
        id,
        email: user_text(&v, &["email"])?,
        email_verified,
        first_name: user_text(&v, &["first_name", "firstName"])?,
        last_name: user_text(&v, &["last_name", "lastName"])?,
        name: user_text(&v, &["name"])?,
        public_metadata: user_bag(&v, &["public_metadata", "publicMetadata"])?,
        unsafe_metadata: user_bag(&v, &["unsafe_metadata", "unsafeMetadata"])?,
        private_metadata: user_bag(&v, &["private_metadata", "privateMetadata"])?,
    };
    User::from_stored(stored).map_err(|e| {
        let field = e.field().to_string();
        (e, field)
    })
}

/// Renders a template (JSON text) for a user (JSON text) exactly as the edge mints it;
/// returns the custom claims as JSON text, or throws an `Error` with the core's `code`
/// (and `pointer` for template errors, `field` for user errors).
#[wasm_bindgen(js_name = renderTemplate)]
pub fn render_template(
    template_json: &str,
    user_json: &str,
    budget: Option<f64>,
) -> Result<String, JsValue> {
    let template = parse_template(template_json, budget, None).map_err(|e| template_error(&e))?;
    let user = user_from_json(user_json).map_err(|(e, field)| user_error(&e, &field))?;
    String::from_utf8(template.render_json(&user))
        .map_err(|_| coded_error(ErrorCode::InvalidTemplate, "rendered claims are not UTF-8"))
}

/// Every stable error code, in documentation order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    ALL_CODES
        .iter()
        .map(|c: &ErrorCode| c.as_str().to_string())
        .collect()
}

/// The code table as JSON text: `[{"code","status","description"}]`, in documentation
/// order (the npm package's `ToriiError.status` and its type tests read it).
#[wasm_bindgen(js_name = errorTable)]
pub fn error_table() -> String {
    error_table_json()
}

fn error_table_json() -> String {
    let rows: Vec<Value> = ALL_CODES
        .iter()
        .map(|c| {
            serde_json::json!({
                "code": c.as_str(),
                "status": c.http_status(),
                "description": c.description(),
            })
        })
        .collect();
    Value::Array(rows).to_string()
}

/// The constants the npm package shares with the core, as JSON text:
/// `{"maxJwksBytes", "defaultCacheConfig": {"defaultTtl","minTtl","maxTtl","cooldown","maxStale"}}`
/// (`MAX_JWKS_BYTES` and `CacheConfig::default()`, seconds).
#[wasm_bindgen(js_name = coreConstants)]
pub fn core_constants() -> String {
    core_constants_json()
}

fn core_constants_json() -> String {
    let c = CacheConfig::default();
    serde_json::json!({
        "maxJwksBytes": crate::jose::jwk::MAX_JWKS_BYTES,
        "identityHeaders": crate::edge::headers::IDENTITY_HEADERS,
        "defaultCacheConfig": {
            "defaultTtl": c.default_ttl,
            "minTtl": c.min_ttl,
            "maxTtl": c.max_ttl,
            "cooldown": c.cooldown,
            "maxStale": c.max_stale,
        },
    })
    .to_string()
}

/// Whole seconds from a JS number (fractions floored; `as` saturates, NaN is 0).
fn seconds(value: f64) -> i64 {
    unix_time(value).0
}

/// The core's JWKS cache policy ([`JwksCache`]) for the npm package's in-memory cache:
/// the core decides, the JS adapter fetches and keeps the verifier it built from the set.
#[wasm_bindgen(js_name = JwksCache)]
pub struct WasmJwksCache {
    inner: JwksCache,
}

#[wasm_bindgen(js_class = JwksCache)]
impl WasmJwksCache {
    /// A cache with this policy (seconds; see [`CacheConfig`]).
    #[wasm_bindgen(constructor)]
    pub fn new(
        default_ttl: f64,
        min_ttl: f64,
        max_ttl: f64,
        cooldown: f64,
        max_stale: f64,
    ) -> WasmJwksCache {
        Self {
            inner: JwksCache::new(CacheConfig {
                default_ttl: seconds(default_ttl),
                min_ttl: seconds(min_ttl),
                max_ttl: seconds(max_ttl),
                cooldown: seconds(cooldown),
                max_stale: seconds(max_stale),
            }),
        }
    }

    /// [`JwksCache::lookup_known`], encoded as a number: `0` use, `1` use and revalidate,
    /// `2` fetch, `-n` unavailable with `Retry-After` `n` (≥ 1) seconds.
    pub fn lookup(&self, knows_kid: bool, now: f64) -> f64 {
        // Retry-After is at most the cooldown: exact in f64.
        #[allow(clippy::cast_precision_loss)]
        match self.inner.lookup_known(knows_kid, unix_time(now)) {
            Lookup::Use(_) => 0.0,
            Lookup::UseAndRevalidate(_) => 1.0,
            Lookup::Fetch => 2.0,
            Lookup::Unavailable { retry_after } => -(retry_after.max(1) as f64),
        }
    }

    /// Records that a fetch starts at `now` (starts the cooldown).
    #[wasm_bindgen(js_name = beginFetch)]
    pub fn begin_fetch(&mut self, now: f64) {
        self.inner.begin_fetch(unix_time(now));
    }

    /// Records a successful fetch at `now`, fresh for `max_age` (clamped; default when
    /// `undefined`). The keys themselves live in the adapter's verifier.
    pub fn store(&mut self, max_age: Option<f64>, now: f64) {
        self.inner.insert(
            Jwks::from_keys(Vec::new()),
            seconds(now),
            max_age.map(seconds),
        );
    }

    /// Freshness for a `max-age` (`undefined`: the default), clamped to the policy.
    pub fn ttl(&self, max_age: Option<f64>) -> f64 {
        // Clamped to the policy's bounds: exact in f64 in practice.
        #[allow(clippy::cast_precision_loss)]
        let ttl = self.inner.ttl(max_age.map(seconds)) as f64;
        ttl
    }
}

/// `max-age` from a `Cache-Control` header value, as the edge's JWKS cache reads it
/// (`no-store`/`no-cache` give 0); `undefined` when absent.
#[wasm_bindgen(js_name = maxAgeFromCacheControl)]
pub fn max_age_from_cache_control(value: &str) -> Option<f64> {
    // Whole seconds well inside f64's exact range in practice; `as` rounds otherwise.
    #[allow(clippy::cast_precision_loss)]
    crate::keys::jwks_cache::max_age_from_cache_control(value).map(|s| s as f64)
}

/// The HTTP status the edge answers with for `code` (0 for an unknown code).
#[wasm_bindgen(js_name = httpStatus)]
pub fn http_status(code: &str) -> u16 {
    ErrorCode::from_code(code).map_or(0, ErrorCode::http_status)
}

// Only the paths that never build a JsValue can run off wasm32.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_table_and_the_constants_are_the_cores() {
        let table: Value = serde_json::from_str(&error_table_json()).unwrap();
        let rows = table.as_array().unwrap();
        assert_eq!(rows.len(), ALL_CODES.len());
        for (row, c) in rows.iter().zip(ALL_CODES) {
            assert_eq!(row["code"], c.as_str());
            assert_eq!(row["status"], c.http_status());
            assert_eq!(row["description"], c.description());
            assert_eq!(http_status(c.as_str()), c.http_status());
        }
        assert_eq!(http_status("no_such_code"), 0);
        let k: Value = serde_json::from_str(&core_constants_json()).unwrap();
        assert_eq!(k["maxJwksBytes"], crate::jose::jwk::MAX_JWKS_BYTES);
        assert_eq!(
            k["identityHeaders"],
            serde_json::json!(crate::edge::headers::IDENTITY_HEADERS)
        );
        let c = CacheConfig::default();
        assert_eq!(k["defaultCacheConfig"]["defaultTtl"], c.default_ttl);
        assert_eq!(k["defaultCacheConfig"]["minTtl"], c.min_ttl);
        assert_eq!(k["defaultCacheConfig"]["maxTtl"], c.max_ttl);
        assert_eq!(k["defaultCacheConfig"]["cooldown"], c.cooldown);
        assert_eq!(k["defaultCacheConfig"]["maxStale"], c.max_stale);
    }

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
    fn users_from_json_keep_the_core_caps() {
        let u = user_from_json(
            r#"{"id":"u1","email":"a@b.c","emailVerified":true,"first_name":"A",
                "lastName":"B","public_metadata":{"r":1},"private_metadata":{"s":2}}"#,
        )
        .unwrap();
        assert_eq!(
            (u.id(), u.email(), u.email_verified(), u.name()),
            ("u1", Some("a@b.c"), true, Some("A B".into()))
        );
        assert_eq!(u.private_metadata().len(), 1);
        let field = |json: &str| user_from_json(json).unwrap_err().1;
        assert_eq!(field("[]"), "user");
        assert_eq!(field("{}"), "id");
        assert_eq!(field(r#"{"id":""}"#), "id");
        assert_eq!(field(r#"{"id":"u","email":1}"#), "email");
        assert_eq!(field(r#"{"id":"u","last_name":"\u0000"}"#), "last_name");
        assert_eq!(
            field(r#"{"id":"u","unsafe_metadata":[]}"#),
            "unsafe_metadata"
        );
        assert_eq!(
            user_from_json(r#"{"id":"u","email_verified":1}"#)
                .unwrap_err()
                .0
                .code(),
            "invalid_user_field"
        );
    }

    #[test]
    fn template_options() {
        assert_eq!(budget_of(None), DEFAULT_TEMPLATE_BUDGET);
        assert_eq!(budget_of(Some(-5.0)), 0);
        assert!(parse_template("{}", None, Some(f64::NAN)).is_err());
        assert!(parse_template("{}", None, Some(60.9)).is_ok());
        assert_eq!(
            parse_template(r#"{"a":1}"#, Some(3.0), None)
                .unwrap_err()
                .code(),
            "template_too_large"
        );
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
