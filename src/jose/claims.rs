//! Verified claims: only the verifier can build them.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// The claims of a token whose signature, header and every claim check passed.
///
/// Built only by [`Verifier::verify`](crate::Verifier::verify); the registered claims
/// below were type-checked there, so the accessors cannot see a wrong JSON type.
///
/// Cloning is cheap: the claims are shared, not copied (a [`TokenCache`](crate::TokenCache)
/// hit hands out a clone of what it holds).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    claims: Arc<Map<String, Value>>,
    kid: Option<Arc<str>>,
}

impl VerifiedClaims {
    /// Only [`SignatureCheck::complete`](crate::SignatureCheck::complete) calls this,
    /// after the signature verified and every claim check passed.
    pub(in crate::jose) fn new(claims: Map<String, Value>, kid: Option<Arc<str>>) -> Self {
        Self {
            claims: Arc::new(claims),
            kid,
        }
    }

    fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `iss`, always present and accepted by the policy.
    pub fn iss(&self) -> &str {
        self.str_claim("iss").unwrap_or_default()
    }
    /// `sub`: the user id.
    pub fn sub(&self) -> Option<&str> {
        self.str_claim("sub")
    }
    /// `sid`: the session id.
    pub fn sid(&self) -> Option<&str> {
        self.str_claim("sid")
    }
    /// `aal`: the authenticator assurance level.
    pub fn aal(&self) -> Option<&str> {
        self.str_claim("aal")
    }
    /// The organization id: `org_id`, or `org` as some issuers name it.
    pub fn org_id(&self) -> Option<&str> {
        self.str_claim("org_id").or_else(|| self.str_claim("org"))
    }
    /// `org_role`: the user's role in the organization.
    pub fn org_role(&self) -> Option<&str> {
        self.str_claim("org_role")
    }
    /// `pid`: the tenant (application) id.
    pub fn pid(&self) -> Option<&str> {
        self.str_claim("pid")
    }
    /// `jti`: the token id.
    pub fn jti(&self) -> Option<&str> {
        self.str_claim("jti")
    }
    /// `act`: the actor object of an impersonation token.
    pub fn act(&self) -> Option<&Map<String, Value>> {
        self.claims.get("act").and_then(Value::as_object)
    }
    /// `aud`, as a list (a single string is a list of one).
    pub fn aud(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(s)) => alloc::vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
    /// `exp`, in seconds since the epoch (fractions floored).
    pub fn exp(&self) -> Option<i64> {
        self.claims.get("exp").and_then(numeric_date)
    }
    /// `iat`, in seconds since the epoch.
    pub fn iat(&self) -> Option<i64> {
        self.claims.get("iat").and_then(numeric_date)
    }
    /// `nbf`, in seconds since the epoch.
    pub fn nbf(&self) -> Option<i64> {
        self.claims.get("nbf").and_then(numeric_date)
    }
    /// Any claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }
    /// The `kid` of the key that verified the token, if it had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// All claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
    /// All claims, by value (copied only when a clone still shares them).
    pub fn into_claims(self) -> Map<String, Value> {
        Arc::try_unwrap(self.claims).unwrap_or_else(|shared| (*shared).clone())
    }
}

/// A JSON number as a NumericDate in whole seconds (fractions floored, saturating).
pub(crate) fn numeric_date(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = n.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    // `as` saturates for out-of-range floats.
    #[allow(clippy::cast_possible_truncation)]
    Some(libm_floor(f) as i64)
}

fn libm_floor(f: f64) -> f64 {
    // no_std has no f64::floor; truncation toward zero then adjust for negatives.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let t = f as i64 as f64;
    if t > f {
        t - 1.0
    } else {
        t
    }
}
