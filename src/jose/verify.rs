//! The verifier: the one place that orders the checks of a token; signature first, then
//! claims; no partial results.

use crate::crypto::strict::signature_encoding_ok;
use crate::crypto::{Ed25519Verify, PublicKey, RustBackend, SIGNATURE_LEN};
use crate::encoding::json;
use crate::error::VerifyError;
use crate::jose::claims::{numeric_date, VerifiedClaims};
use crate::jose::jwk::{Jwk, Jwks};
use crate::jose::policy::Policy;
use crate::jose::token::UntrustedToken;
use crate::time::UnixTime;
use alloc::string::{String, ToString};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Registered claims that must be strings when present.
const STRING_CLAIMS: &[&str] = &[
    "iss", "sub", "jti", "sid", "pid", "aal", "org", "org_id", "org_role", "azp",
];
/// Registered claims that must be JSON numbers when present.
const NUMERIC_CLAIMS: &[&str] = &["exp", "nbf", "iat"];

/// Verifies tokens against one key set and one policy.
#[derive(Debug, Clone)]
pub struct Verifier {
    jwks: Jwks,
    policy: Policy,
    scope: [u8; 32],
}

impl Verifier {
    /// A verifier for `jwks` under `policy`.
    pub fn new(jwks: Jwks, policy: Policy) -> Self {
        let mut h = Sha256::new();
        h.update(jwks.fingerprint());
        h.update(policy.fingerprint());
        let scope = h.finalize().into();
        Self {
            jwks,
            policy,
            scope,
        }
    }

    /// SHA-256 over the key set's and the policy's fingerprints, computed once: two
    /// verifiers accept the same tokens when their scopes are equal (the
    /// [`TokenCache`](crate::jose::TokenCache) keys entries by it).
    pub fn scope(&self) -> &[u8; 32] {
        &self.scope
    }

    /// The key set.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Verifies a compact token at time `now` with the compiled-in Rust backend.
    ///
    /// In order: size and structure ([`UntrustedToken::parse`]), `typ`, key selection by
    /// `kid`, `alg` agreement with the key, the strict signature encoding
    /// ([`signature_encoding_ok`]), the Ed25519 signature, then the claims: strict JSON
    /// object, JSON types of registered claims, required claims, `iss`, `aud`,
    /// `exp`/`nbf`/`iat` with the policy's skew, maximum age.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<VerifiedClaims, VerifyError> {
        self.verify_with(token, now, &RustBackend)
    }

    /// [`Verifier::verify`] with the signature equation computed by `backend`.
    pub fn verify_with(
        &self,
        token: &str,
        now: UnixTime,
        backend: &impl Ed25519Verify,
    ) -> Result<VerifiedClaims, VerifyError> {
        let untrusted = UntrustedToken::parse(token, self.policy.max_token_len)?;
        let check = self.prepare(&untrusted)?;
        let valid = check.verify_with(backend);
        check.complete(valid, now)
    }

    /// Verifies an already parsed token (see [`Verifier::verify`]).
    pub fn verify_untrusted(
        &self,
        token: &UntrustedToken<'_>,
        now: UnixTime,
    ) -> Result<VerifiedClaims, VerifyError> {
        let check = self.prepare(token)?;
        let valid = check.verify_with(&RustBackend);
        check.complete(valid, now)
    }

    /// The first half of a verification whose signature equation the caller computes
    /// (an async native primitive such as WebCrypto): `typ`, key selection by `kid`,
    /// `alg` against the key, and the strict signature encoding. The returned
    /// [`SignatureCheck`] names the key, message and signature to verify; its
    /// [`complete`](SignatureCheck::complete) takes the primitive's answer and checks
    /// the claims.
    pub fn prepare<'v, 't>(
        &'v self,
        token: &'v UntrustedToken<'t>,
    ) -> Result<SignatureCheck<'v, 't>, VerifyError> {
        if !self.policy.typ.accepts(token.typ()) {
            return Err(VerifyError::InvalidTokenType);
        }
        let key = self
            .jwks
            .select(token.kid())
            .ok_or(VerifyError::UnknownKey)?;
        if key.alg.is_some_and(|a| a != token.alg) {
            return Err(VerifyError::UnsupportedAlgorithm);
        }
        if !signature_encoding_ok(&token.signature) {
            return Err(VerifyError::InvalidSignature);
        }
        Ok(SignatureCheck {
            verifier: self,
            key,
            token,
        })
    }
}

/// A token whose header, key and signature encoding passed, waiting for the signature
/// equation (see [`Verifier::prepare`]). Claims are not read until
/// [`complete`](Self::complete) is told the signature verified.
#[derive(Debug)]
#[must_use = "a prepared check verifies nothing until it is completed"]
pub struct SignatureCheck<'v, 't> {
    verifier: &'v Verifier,
    key: &'v Jwk,
    token: &'v UntrustedToken<'t>,
}

impl SignatureCheck<'_, '_> {
    /// The selected key (validated when its set was loaded).
    pub fn key(&self) -> &PublicKey {
        &self.key.key
    }

    /// The bytes the signature covers (`header "." payload`).
    pub fn message(&self) -> &[u8] {
        self.token.signing_input().as_bytes()
    }

    /// The 64-byte signature (strictly encoded).
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.token.signature
    }

    /// SHA-256 over the key, the signature and the message (fixed-length fields first,
    /// so the encoding is unambiguous): the identity of this signature check, for a memo
    /// of signatures that verified ([`SignatureMemo`](crate::jose::SignatureMemo)).
    pub fn memo_key(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key.key.as_bytes());
        h.update(self.token.signature);
        h.update(self.message());
        h.finalize().into()
    }

    /// Computes the signature equation with `backend`.
    pub fn verify_with(&self, backend: &impl Ed25519Verify) -> bool {
        backend.verify(&self.key.key, self.message(), &self.token.signature)
    }

    /// The second half: `signature_valid` is the primitive's answer for
    /// ([`key`](Self::key), [`message`](Self::message), [`signature`](Self::signature)).
    /// `false` is `invalid_signature`; `true` goes on to the claims at `now`.
    pub fn complete(
        self,
        signature_valid: bool,
        now: UnixTime,
    ) -> Result<VerifiedClaims, VerifyError> {
        if !signature_valid {
            return Err(VerifyError::InvalidSignature);
        }
        let claims = json::parse_object(&self.token.payload, self.verifier.policy.max_claims_depth)
            .map_err(|e| VerifyError::MalformedToken(e.reason()))?;
        check_claims(&claims, &self.verifier.policy, now)?;
        Ok(VerifiedClaims::new(claims, self.key.kid.clone()))
    }
}

fn claim_type_error(name: &str) -> VerifyError {
    VerifyError::InvalidClaimType(name.to_string())
}

/// Where each registered claim [`check_claims`] reads sits in [`Registered::slots`]: the
/// string claims first, then the numeric dates, `aud` and `act` (the order the type checks
/// run in, so the first wrong claim named is the same whatever the claims' order).
fn slot(name: &str) -> Option<usize> {
    Some(match name {
        "iss" => ISS,
        "sub" => 1,
        "jti" => 2,
        "sid" => 3,
        "pid" => 4,
        "aal" => 5,
        "org" => 6,
        "org_id" => 7,
        "org_role" => 8,
        "azp" => 9,
        "exp" => EXP,
        "nbf" => NBF,
        "iat" => IAT,
        "aud" => AUD,
        "act" => ACT,
        _ => return None,
    })
}
const ISS: usize = 0;
const EXP: usize = STRING_CLAIMS.len();
const NBF: usize = EXP + 1;
const IAT: usize = EXP + 2;
const AUD: usize = EXP + 3;
const ACT: usize = EXP + 4;
const SLOTS: usize = ACT + 1;

/// The registered claims of one claims object, found in one pass over it (instead of a
/// map lookup per claim and check).
struct Registered<'c> {
    slots: [Option<&'c Value>; SLOTS],
}

impl<'c> Registered<'c> {
    fn of(claims: &'c Map<String, Value>) -> Self {
        let mut slots = [None; SLOTS];
        for (name, value) in claims {
            if let Some(cell) = slot(name).and_then(|i| slots.get_mut(i)) {
                *cell = Some(value);
            }
        }
        Self { slots }
    }

    fn get(&self, i: usize) -> Option<&'c Value> {
        self.slots.get(i).copied().flatten()
    }

    /// Whether `name` is present: a registered claim by its slot, any other by lookup.
    fn has(&self, claims: &Map<String, Value>, name: &str) -> bool {
        match slot(name) {
            Some(i) => self.get(i).is_some(),
            None => claims.contains_key(name),
        }
    }

    fn date(&self, i: usize) -> Option<i64> {
        self.get(i).and_then(numeric_date)
    }
}

fn check_types(r: &Registered<'_>) -> Result<(), VerifyError> {
    for (i, name) in STRING_CLAIMS.iter().enumerate() {
        if r.get(i).is_some_and(|v| !v.is_string()) {
            return Err(claim_type_error(name));
        }
    }
    for (i, name) in NUMERIC_CLAIMS.iter().enumerate() {
        if let Some(v) = r.get(EXP + i) {
            if numeric_date(v).is_none() {
                return Err(claim_type_error(name));
            }
        }
    }
    match r.get(AUD) {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(claim_type_error("aud")),
    }
    if r.get(ACT).is_some_and(|v| !v.is_object()) {
        return Err(claim_type_error("act"));
    }
    Ok(())
}

pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    policy: &Policy,
    now: UnixTime,
) -> Result<(), VerifyError> {
    let r = Registered::of(claims);
    check_types(&r)?;
    for name in policy
        .required
        .iter()
        .map(String::as_str)
        .chain(core::iter::once("iss"))
    {
        if !r.has(claims, name) {
            return Err(VerifyError::MissingClaim(name.to_string()));
        }
    }
    let iss = r.get(ISS).and_then(Value::as_str).unwrap_or_default();
    if !policy.issuers.iter().any(|i| i == iss) {
        return Err(VerifyError::InvalidIssuer);
    }
    if !policy.audiences.is_empty() {
        let ok = match r.get(AUD) {
            None => return Err(VerifyError::MissingClaim("aud".into())),
            Some(Value::String(a)) => policy.audiences.iter().any(|x| x == a),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|a| policy.audiences.iter().any(|x| x == a)),
            Some(_) => false,
        };
        if !ok {
            return Err(VerifyError::InvalidAudience);
        }
    }
    let now = now.0;
    let skew = policy.skew;
    if let Some(exp) = r.date(EXP) {
        if now.saturating_sub(skew) >= exp {
            return Err(VerifyError::TokenExpired { exp, now });
        }
    }
    if let Some(nbf) = r.date(NBF) {
        if nbf > now.saturating_add(skew) {
            return Err(VerifyError::TokenNotYetValid { nbf, now });
        }
    }
    if let Some(iat) = r.date(IAT) {
        if iat > now.saturating_add(skew) {
            return Err(VerifyError::TokenIssuedInFuture { iat, now });
        }
        if let Some(max_age) = policy.max_age {
            if now.saturating_sub(iat) > max_age.saturating_add(skew) {
                return Err(VerifyError::TokenTooOld { iat, now });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_claim_has_its_own_slot_in_check_order() {
        for (i, name) in STRING_CLAIMS.iter().enumerate() {
            assert_eq!(slot(name), Some(i), "{name}");
        }
        for (i, name) in NUMERIC_CLAIMS.iter().enumerate() {
            assert_eq!(slot(name), Some(EXP + i), "{name}");
        }
        assert_eq!(slot("iss"), Some(ISS));
        assert_eq!(slot("aud"), Some(AUD));
        assert_eq!(slot("act"), Some(ACT));
        assert_eq!(slot("name"), None);
        assert_eq!(ACT + 1, SLOTS);
    }

    fn claims(json: &str) -> Map<String, Value> {
        match serde_json::from_str(json) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn the_first_wrong_type_is_named_in_check_order_not_claim_order() {
        // `azp` sorts before `sub`, but the string claims are checked in their listed
        // order, as the per-claim lookups did.
        let r = claims(r#"{"azp":1,"sub":2,"exp":"x"}"#);
        assert_eq!(
            check_types(&Registered::of(&r)),
            Err(VerifyError::InvalidClaimType("sub".into()))
        );
        let r = claims(r#"{"exp":"x","aud":[1]}"#);
        assert_eq!(
            check_types(&Registered::of(&r)),
            Err(VerifyError::InvalidClaimType("exp".into()))
        );
        let r = claims(r#"{"aud":[1],"act":1}"#);
        assert_eq!(
            check_types(&Registered::of(&r)),
            Err(VerifyError::InvalidClaimType("aud".into()))
        );
        let r = claims(r#"{"act":"a"}"#);
        assert_eq!(
            check_types(&Registered::of(&r)),
            Err(VerifyError::InvalidClaimType("act".into()))
        );
    }

    #[test]
    fn presence_of_registered_and_other_claims() {
        let c = claims(r#"{"sub":"u","email":"e","exp":null}"#);
        let r = Registered::of(&c);
        assert!(r.has(&c, "sub"));
        assert!(r.has(&c, "email"));
        assert!(r.has(&c, "exp"));
        assert!(!r.has(&c, "iss"));
        assert!(!r.has(&c, "name"));
        assert_eq!(r.date(EXP), None);
    }
}
