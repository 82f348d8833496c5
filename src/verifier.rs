//! The verifier: signature first, then claims; no partial results.

use crate::claims::{numeric_date, VerifiedClaims};
use crate::error::VerifyError;
use crate::jwk::{Jwk, Jwks};
use crate::policy::Policy;
use crate::time::UnixTime;
use crate::token::UntrustedToken;
use crate::{json, sig};
use alloc::string::{String, ToString};
use serde_json::{Map, Value};

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
}

impl Verifier {
    /// A verifier for `jwks` under `policy`.
    pub fn new(jwks: Jwks, policy: Policy) -> Self {
        Self { jwks, policy }
    }

    /// The key set.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Verifies a compact token at time `now`.
    ///
    /// In order: size and structure ([`UntrustedToken::parse`]), `typ`, key selection by
    /// `kid`, `alg` agreement with the key, the Ed25519 signature, then the claims:
    /// strict JSON object, JSON types of registered claims, required claims, `iss`, `aud`,
    /// `exp`/`nbf`/`iat` with the policy's skew, maximum age.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<VerifiedClaims, VerifyError> {
        let untrusted = UntrustedToken::parse(token, self.policy.max_token_len)?;
        self.verify_untrusted(&untrusted, now)
    }

    /// Verifies an already parsed token (see [`Verifier::verify`]).
    pub fn verify_untrusted(
        &self,
        token: &UntrustedToken<'_>,
        now: UnixTime,
    ) -> Result<VerifiedClaims, VerifyError> {
        let key = self.select_key(token)?;
        check_signature(key, token)?;
        self.check_claims_of(key, token, now)
    }

    /// Phase 1 of [`Verifier::verify_untrusted`]: `typ`, key selection by `kid`, and the
    /// token's `alg` against the key's. (Adapters with a native signature verifier run the
    /// phases themselves; phase 3 must only follow a verified signature.)
    pub(crate) fn select_key(&self, token: &UntrustedToken<'_>) -> Result<&Jwk, VerifyError> {
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
        Ok(key)
    }

    /// Phase 3 of [`Verifier::verify_untrusted`], after the signature verified: the claims.
    pub(crate) fn check_claims_of(
        &self,
        key: &Jwk,
        token: &UntrustedToken<'_>,
        now: UnixTime,
    ) -> Result<VerifiedClaims, VerifyError> {
        let claims = json::parse_object(&token.payload, json::DEFAULT_MAX_DEPTH)
            .map_err(|e| VerifyError::MalformedToken(e.reason()))?;
        check_claims(&claims, &self.policy, now)?;
        Ok(VerifiedClaims {
            claims,
            kid: key.kid.clone(),
        })
    }
}

/// The key decides: the token's `alg` must agree with the key's declared `alg` (if any),
/// then the signature must verify.
pub(crate) fn check_signature(key: &Jwk, token: &UntrustedToken<'_>) -> Result<(), VerifyError> {
    if key.alg.is_some_and(|a| a != token.alg) {
        return Err(VerifyError::UnsupportedAlgorithm);
    }
    if sig::verify(&key.key, token.signing_input().as_bytes(), &token.signature) {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

fn claim_type_error(name: &str) -> VerifyError {
    VerifyError::InvalidClaimType(name.to_string())
}

fn check_types(claims: &Map<String, Value>) -> Result<(), VerifyError> {
    for name in STRING_CLAIMS {
        if claims.get(*name).is_some_and(|v| !v.is_string()) {
            return Err(claim_type_error(name));
        }
    }
    for name in NUMERIC_CLAIMS {
        if let Some(v) = claims.get(*name) {
            if numeric_date(v).is_none() {
                return Err(claim_type_error(name));
            }
        }
    }
    match claims.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(claim_type_error("aud")),
    }
    if claims.get("act").is_some_and(|v| !v.is_object()) {
        return Err(claim_type_error("act"));
    }
    Ok(())
}

fn date(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    claims.get(name).and_then(numeric_date)
}

pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    policy: &Policy,
    now: UnixTime,
) -> Result<(), VerifyError> {
    check_types(claims)?;
    for name in policy
        .required
        .iter()
        .map(String::as_str)
        .chain(core::iter::once("iss"))
    {
        if !claims.contains_key(name) {
            return Err(VerifyError::MissingClaim(name.to_string()));
        }
    }
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !policy.issuers.iter().any(|i| i == iss) {
        return Err(VerifyError::InvalidIssuer);
    }
    if !policy.audiences.is_empty() {
        let ok = match claims.get("aud") {
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
    if let Some(exp) = date(claims, "exp") {
        if now.saturating_sub(skew) >= exp {
            return Err(VerifyError::TokenExpired { exp, now });
        }
    }
    if let Some(nbf) = date(claims, "nbf") {
        if nbf > now.saturating_add(skew) {
            return Err(VerifyError::TokenNotYetValid { nbf, now });
        }
    }
    if let Some(iat) = date(claims, "iat") {
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
