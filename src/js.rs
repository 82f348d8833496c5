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
///
/// A verification is two calls around the signature equation, so that the JS side can
/// compute it with the runtime's native Ed25519 (`node:crypto`, WebCrypto): [`prepare`]
/// runs every check before the signature (size, structure, `typ`, key selection by `kid`,
/// `alg`, and the strict encoding `S < L`, `R` not of small order) and names the key,
/// signature and message; [`complete`] takes the primitive's answer (or computes it with
/// the core's backend) and checks the claims. Tokens that verified are kept in the core's
/// [`TokenCache`](crate::TokenCache); the JS side keeps each one's [ticket](Prepared::ticket)
/// by its exact input string, and [`recheck`] decides a repeat without the hash.
///
/// [`prepare`]: Verifier::prepare
/// [`complete`]: Verifier::complete
/// [`recheck`]: Verifier::recheck
#[wasm_bindgen]
pub struct Verifier {
    inner: crate::Verifier,
    /// Tokens this verifier already verified: a repeat costs a hash and the time checks.
    cache: core::cell::RefCell<crate::TokenCache>,
    /// The ticket of the token the last [`Verifier::verify_with`] cached (0: none).
    last_ticket: core::cell::Cell<f64>,
}

/// The signature equation through a synchronous JS function `(keyIndex, signature,
/// message) => boolean` (the runtime's native Ed25519), called only after every check the
/// core makes first; anything but a boolean from it (it threw, or had no answer) is
/// computed by the core's backend instead.
struct JsBackend<'a> {
    jwks: &'a Jwks,
    native: &'a js_sys::Function,
}

impl crate::Ed25519Verify for JsBackend<'_> {
    fn verify(
        &self,
        key: &crate::PublicKey,
        message: &[u8],
        signature: &[u8; crate::crypto::SIGNATURE_LEN],
    ) -> bool {
        let index = self.jwks.keys().iter().position(|k| k.key == *key);
        let answer = index.and_then(|i| u32::try_from(i).ok()).and_then(|i| {
            self.native
                .call3(
                    &JsValue::NULL,
                    &JsValue::from(i),
                    &js_sys::Uint8Array::from(signature.as_slice()),
                    &js_sys::Uint8Array::from(message),
                )
                .ok()
                .and_then(|v| v.as_bool())
        });
        answer.unwrap_or_else(|| {
            crate::Ed25519Verify::verify(&crate::RustBackend, key, message, signature)
        })
    }
}

/// The first half of a verification ([`Verifier::prepare`]): either a cache hit (its
/// `claims` and `ticket`), or a signature to check (`keyIndex`, `data`) before
/// [`Verifier::complete`].
#[wasm_bindgen]
pub struct Prepared {
    /// The token to complete; empty for a hit and once completed.
    token: String,
    cache_key: crate::jose::CacheKey,
    scope: [u8; 32],
    /// The selected key's bytes (what the signature is to be checked with).
    key: [u8; 32],
    key_index: i32,
    /// The signature (64 bytes), then the signing input.
    data: Vec<u8>,
    claims: Option<String>,
    ticket: f64,
}

#[wasm_bindgen]
impl Prepared {
    /// The position of the key to check the signature with in the verifier's key set
    /// (see [`Verifier::key_x`]); `-1` when there is nothing to check (a cache hit, or
    /// already completed).
    #[wasm_bindgen(getter, js_name = keyIndex)]
    pub fn key_index(&self) -> i32 {
        self.key_index
    }

    /// The 64-byte signature followed by the signing input (`header "." payload`): the
    /// primitive checks `data[..64]` over `data[64..]` (empty for a hit).
    pub fn data(&self) -> Vec<u8> {
        self.data.clone()
    }

    /// The claims as JSON text: a cache hit's (else `undefined` until completed).
    #[wasm_bindgen(getter)]
    pub fn claims(&self) -> Option<String> {
        self.claims.clone()
    }

    /// The cache entry's ticket (a hit's, or the completed token's; `0` when it was not
    /// cached), for [`Verifier::recheck`].
    #[wasm_bindgen(getter)]
    pub fn ticket(&self) -> f64 {
        self.ticket
    }
}

/// A ticket as a JS number (serials stay far below 2^53: exact).
#[allow(clippy::cast_precision_loss)]
fn ticket_number(ticket: Option<crate::jose::Ticket>) -> f64 {
    ticket.map_or(0.0, |t| t as f64)
}

/// A JS number back to a ticket (`None` unless a positive whole number).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn ticket_of(number: f64) -> Option<crate::jose::Ticket> {
    (number.is_finite() && number >= 1.0 && number.fract() == 0.0).then_some(number as u64)
}

fn claims_json(claims: crate::VerifiedClaims) -> String {
    Value::Object(claims.into_claims()).to_string()
}

/// A cache hit: the entry's ticket number and the claims as JSON text, or the error its
/// re-check at `now` gave.
type CacheHit = Result<(f64, String), JsValue>;

impl Verifier {
    /// The cache key of `token` and, when this verifier has it cached, the hit.
    fn cached(&self, token: &str, now: UnixTime) -> (crate::jose::CacheKey, Option<CacheHit>) {
        let cache_key = crate::TokenCache::key(&self.inner, token);
        let hit = self
            .cache
            .try_borrow_mut()
            .ok()
            .and_then(|mut c| c.get_with_ticket(&cache_key, &self.inner, now))
            .map(|(ticket, hit)| {
                hit.map(|claims| (ticket_number(Some(ticket)), claims_json(claims)))
                    .map_err(|e| verify_error(&e))
            });
        (cache_key, hit)
    }
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
            last_ticket: core::cell::Cell::new(0.0),
        })
    }

    /// Verifies a bare token or an `Authorization` header value at `now_secs` in one call,
    /// the signature equation computed by `native` (a synchronous `(keyIndex, signature,
    /// message) => boolean`; anything else from it, or no `native`: the core's backend): the
    /// core's cache first, then [`crate::Verifier::verify_with`] (every check in the core's
    /// order; `native` runs after the strict encoding checks). Returns the claims as JSON
    /// text (the cached entry's ticket is then [`Verifier::last_ticket`]), or throws an
    /// `Error` whose `code` is the core's stable code.
    #[wasm_bindgen(js_name = verifyWith)]
    pub fn verify_with(
        &self,
        token_or_header: &str,
        now_secs: f64,
        native: Option<js_sys::Function>,
    ) -> Result<String, JsValue> {
        self.last_ticket.set(0.0);
        let token = token_of(token_or_header).map_err(|e| verify_error(&e))?;
        let now = unix_time(now_secs);
        let (cache_key, hit) = self.cached(token, now);
        if let Some(hit) = hit {
            let (ticket, claims) = hit?;
            self.last_ticket.set(ticket);
            return Ok(claims);
        }
        let claims = match &native {
            Some(native) => {
                let backend = JsBackend {
                    jwks: self.inner.jwks(),
                    native,
                };
                self.inner.verify_with(token, now, &backend)
            }
            None => self.inner.verify(token, now),
        }
        .map_err(|e| verify_error(&e))?;
        let ticket = self
            .cache
            .try_borrow_mut()
            .ok()
            .and_then(|mut c| c.insert_verified(&self.inner, cache_key, &claims, token.len()));
        self.last_ticket.set(ticket_number(ticket));
        Ok(claims_json(claims))
    }

    /// The ticket of the token the last [`Verifier::verify_with`] returned claims for (`0`
    /// when it was not cached), for [`Verifier::recheck`].
    #[wasm_bindgen(getter, js_name = lastTicket)]
    pub fn last_ticket(&self) -> f64 {
        self.last_ticket.get()
    }

    /// The first half of verifying a bare token or an `Authorization` header value at
    /// `now_secs` (seconds since the epoch): a token this verifier already verified is a
    /// hit in its cache (claims re-checked at `now`); otherwise every check before the
    /// signature equation runs ([`crate::Verifier::prepare`]) and the returned
    /// [`Prepared`] names the key and the bytes to check. Throws an `Error` whose `code`
    /// is the core's stable code.
    pub fn prepare(&self, token_or_header: &str, now_secs: f64) -> Result<Prepared, JsValue> {
        let token = token_of(token_or_header).map_err(|e| verify_error(&e))?;
        let now = unix_time(now_secs);
        let (cache_key, hit) = self.cached(token, now);
        let mut prepared = Prepared {
            token: String::new(),
            cache_key,
            scope: *self.inner.scope(),
            key: [0; 32],
            key_index: -1,
            data: Vec::new(),
            claims: None,
            ticket: 0.0,
        };
        if let Some(hit) = hit {
            let (ticket, claims) = hit?;
            prepared.claims = Some(claims);
            prepared.ticket = ticket;
            return Ok(prepared);
        }
        let untrusted = crate::UntrustedToken::parse(token, self.inner.policy().max_token_len)
            .map_err(|e| verify_error(&e))?;
        let check = self
            .inner
            .prepare(&untrusted)
            .map_err(|e| verify_error(&e))?;
        let key = *check.key().as_bytes();
        let index = self
            .inner
            .jwks()
            .keys()
            .iter()
            .position(|k| k.key.as_bytes() == &key)
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| verify_error(&VerifyError::UnknownKey))?;
        let mut data = Vec::with_capacity(64 + check.message().len());
        data.extend_from_slice(check.signature());
        data.extend_from_slice(check.message());
        prepared.token = token.to_string();
        prepared.key = key;
        prepared.key_index = index;
        prepared.data = data;
        Ok(prepared)
    }

    /// The second half: `signature_valid` is the native primitive's answer for the key
    /// and bytes `prepared` named (`undefined`: the core's backend computes it). `false`
    /// is `invalid_signature`; `true` goes on to the claims at `now_secs`
    /// ([`crate::SignatureCheck::complete`]). Returns the claims as JSON text (a token
    /// that verified is cached: `prepared.ticket` names it), or throws an `Error` whose
    /// `code` is the core's stable code; a `TypeError` for a `prepared` that is not this
    /// verifier's pending check.
    pub fn complete(
        &self,
        prepared: &mut Prepared,
        signature_valid: Option<bool>,
        now_secs: f64,
    ) -> Result<String, JsValue> {
        if prepared.key_index < 0 || prepared.scope != *self.inner.scope() {
            return Err(options_error(
                "complete() takes this verifier's pending check",
            ));
        }
        let token = core::mem::take(&mut prepared.token);
        prepared.key_index = -1;
        prepared.data = Vec::new();
        let now = unix_time(now_secs);
        let untrusted = crate::UntrustedToken::parse(&token, self.inner.policy().max_token_len)
            .map_err(|e| verify_error(&e))?;
        let check = self
            .inner
            .prepare(&untrusted)
            .map_err(|e| verify_error(&e))?;
        if check.key().as_bytes() != &prepared.key {
            return Err(options_error(
                "complete() takes this verifier's pending check",
            ));
        }
        let valid = match signature_valid {
            Some(valid) => valid,
            None => check.verify_with(&crate::RustBackend),
        };
        let claims = check.complete(valid, now).map_err(|e| verify_error(&e))?;
        let ticket = self.cache.try_borrow_mut().ok().and_then(|mut c| {
            c.insert_verified(&self.inner, prepared.cache_key, &claims, token.len())
        });
        prepared.ticket = ticket_number(ticket);
        Ok(claims_json(claims))
    }

    /// A repeat of the token whose cache entry is `ticket`, at `now_secs`: `true` when the
    /// core's cache still holds it for this verifier and its claims pass the time checks;
    /// `false` when it holds it no more (verify the token again); throws an `Error` with
    /// the core's code when its claims no longer pass (`token_expired`…; the entry is
    /// dropped). See [`crate::TokenCache::recheck`].
    pub fn recheck(&self, ticket: f64, now_secs: f64) -> Result<bool, JsValue> {
        let Some(ticket) = ticket_of(ticket) else {
            return Ok(false);
        };
        let Ok(mut cache) = self.cache.try_borrow_mut() else {
            return Ok(false);
        };
        match cache.recheck(ticket, &self.inner, unix_time(now_secs)) {
            None => Ok(false),
            Some(Ok(())) => Ok(true),
            Some(Err(e)) => Err(verify_error(&e)),
        }
    }

    /// The public key at `index` of the key set (see [`Prepared::key_index`]) as the
    /// base64url `x` of its JWK, for importing it into a native primitive; the core
    /// validated it when the set was loaded.
    #[wasm_bindgen(js_name = keyX)]
    pub fn key_x(&self, index: u32) -> Option<String> {
        let index = usize::try_from(index).ok()?;
        self.inner.jwks().keys().get(index).map(|k| k.x())
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

/// One raw Ed25519 signature check the way token verification makes it: the public key
/// (the base64url `x` of an OKP JWK) loaded and validated as a key set's would be (throws
/// an `Error` with `code` `invalid_key` when the core refuses it), the strict encoding of
/// `signature`, then the equation computed by `native` (as in [`Verifier::verify_with`];
/// `undefined`: the core's backend). For the package's differential tests of its native
/// backends against the core's (the Wycheproof vectors).
#[wasm_bindgen(js_name = ed25519Verify)]
pub fn ed25519_verify(
    x: &str,
    message: &[u8],
    signature: &[u8],
    native: Option<js_sys::Function>,
) -> Result<bool, JsValue> {
    let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x }).to_string();
    let key = crate::Jwk::from_json(jwk.as_bytes()).map_err(|e| key_error(&e))?;
    Ok(match &native {
        Some(native) => {
            let jwks = Jwks::from_keys(alloc::vec![key]);
            let backend = JsBackend {
                jwks: &jwks,
                native,
            };
            jwks.keys()
                .first()
                .is_some_and(|k| k.verify_signature_with(message, signature, &backend))
        }
        None => key.verify_signature(message, signature),
    })
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
/// `{"maxJwksBytes", "identityHeaders", "tokenCache": {"entries","bytes"},
/// "defaultCacheConfig": {"defaultTtl","minTtl","maxTtl","cooldown","maxStale"}}`
/// (`MAX_JWKS_BYTES`, `IDENTITY_HEADERS`, the verified-token cache's default bounds and
/// `CacheConfig::default()`, seconds).
#[wasm_bindgen(js_name = coreConstants)]
pub fn core_constants() -> String {
    core_constants_json()
}

fn core_constants_json() -> String {
    let c = CacheConfig::default();
    serde_json::json!({
        "maxJwksBytes": crate::jose::jwk::MAX_JWKS_BYTES,
        "identityHeaders": crate::edge::headers::IDENTITY_HEADERS,
        "tokenCache": {
            "entries": crate::jose::DEFAULT_CACHE_ENTRIES,
            "bytes": crate::jose::DEFAULT_CACHE_BYTES,
        },
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
        assert_eq!(
            k["tokenCache"]["entries"],
            crate::jose::DEFAULT_CACHE_ENTRIES
        );
        assert_eq!(k["tokenCache"]["bytes"], crate::jose::DEFAULT_CACHE_BYTES);
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
    fn tickets_cross_as_whole_numbers() {
        assert_eq!(ticket_number(None), 0.0);
        assert_eq!(ticket_number(Some(42)), 42.0);
        assert_eq!(ticket_of(42.0), Some(42));
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(ticket_of(bad), None, "{bad}");
        }
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
