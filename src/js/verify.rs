//! Token verification: [`Verifier`] (prepare / complete around the native signature
//! equation, the token cache and its tickets) and [`ed25519_verify`] for the package's
//! differential tests.

use super::*;

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

// Only the paths that never build a JsValue can run off wasm32.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_cross_as_whole_numbers() {
        assert_eq!(ticket_number(None), 0.0);
        assert_eq!(ticket_number(Some(42)), 42.0);
        assert_eq!(ticket_of(42.0), Some(42));
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(ticket_of(bad), None, "{bad}");
        }
    }
}
