//! What a verifier accepts beyond a valid signature.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Default clock skew tolerance, in seconds.
pub const DEFAULT_SKEW_SECS: i64 = 60;
/// Largest clock skew tolerance a policy can hold; larger settings are clamped to it.
pub const MAX_SKEW_SECS: i64 = 300;
/// Default maximum token length, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;
/// Default maximum nesting depth of a token's claims (the claims object is depth 1):
/// deep enough for the organisation and permission trees other issuers mint.
pub const DEFAULT_CLAIMS_DEPTH: usize = 64;
/// Largest claims nesting depth a policy can hold; larger settings are clamped to it. Well
/// below `serde_json`'s own recursion limit (128), so depth is always refused by this
/// check first, as `malformed_token`.
pub const MAX_CLAIMS_DEPTH: usize = 96;

/// Which `typ` header values a policy accepts (compared case-insensitively, with an
/// `application/` prefix ignored, as RFC 7515 §4.1.9 recommends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypPolicy {
    /// `typ` absent or `JWT` (the default).
    JwtOrAbsent,
    /// `typ` present and equal to this value (e.g. `at+jwt`, or a template token's type).
    Exact(String),
}

impl TypPolicy {
    pub(crate) fn accepts(&self, typ: Option<&str>) -> bool {
        let norm = |t: &str| -> String {
            let lower = t.to_ascii_lowercase();
            match lower.strip_prefix("application/") {
                Some(rest) => rest.to_string(),
                None => lower,
            }
        };
        match (self, typ) {
            (Self::JwtOrAbsent, None) => true,
            (Self::JwtOrAbsent, Some(t)) => norm(t) == "jwt",
            (Self::Exact(_), None) => false,
            (Self::Exact(want), Some(t)) => norm(t) == norm(want),
        }
    }
}

/// A verification policy: accepted issuers and audiences, required claims, clock skew,
/// maximum token age, accepted `typ`, maximum token length and claims nesting depth.
///
/// An issuer is mandatory: `iss` is always checked against the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) issuers: Vec<String>,
    pub(crate) audiences: Vec<String>,
    pub(crate) required: Vec<String>,
    pub(crate) skew: i64,
    pub(crate) max_age: Option<i64>,
    pub(crate) typ: TypPolicy,
    pub(crate) max_token_len: usize,
    pub(crate) max_claims_depth: usize,
}

impl Policy {
    /// A policy accepting tokens from `issuer` (exact match), requiring `exp`, `iss` and
    /// `sub`, with 60 s of skew, `typ` absent or `JWT`, tokens up to 8 KiB and claims nested
    /// up to 64 levels.
    pub fn new(issuer: &str) -> Self {
        Self {
            issuers: vec![issuer.to_string()],
            audiences: Vec::new(),
            required: vec!["exp".into(), "iss".into(), "sub".into()],
            skew: DEFAULT_SKEW_SECS,
            max_age: None,
            typ: TypPolicy::JwtOrAbsent,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            max_claims_depth: DEFAULT_CLAIMS_DEPTH,
        }
    }

    /// Also accepts tokens from `issuer`.
    #[must_use]
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.issuers.push(issuer.to_string());
        self
    }

    /// Requires `aud` to contain `audience` (or any other audience added this way).
    #[must_use]
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audiences.push(audience.to_string());
        self
    }

    /// Replaces the list of claims that must be present (`iss` is checked regardless).
    #[must_use]
    pub fn with_required_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.required = claims.into_iter().map(|c| c.as_ref().to_string()).collect();
        self
    }

    /// Adds a claim that must be present.
    #[must_use]
    pub fn require_claim(mut self, claim: &str) -> Self {
        if !self.required.iter().any(|c| c == claim) {
            self.required.push(claim.to_string());
        }
        self
    }

    /// Sets the clock skew tolerance, clamped to `0..=300` seconds.
    #[must_use]
    pub fn with_clock_skew(mut self, secs: i64) -> Self {
        self.skew = secs.clamp(0, MAX_SKEW_SECS);
        self
    }

    /// Rejects tokens whose `iat` is older than `secs` (and then requires `iat`).
    #[must_use]
    pub fn with_max_age(mut self, secs: i64) -> Self {
        self.max_age = Some(secs.max(0));
        self.require_claim("iat")
    }

    /// Sets the accepted `typ`.
    #[must_use]
    pub fn with_typ(mut self, typ: TypPolicy) -> Self {
        self.typ = typ;
        self
    }

    /// Sets the maximum token length in bytes.
    #[must_use]
    pub fn with_max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// Sets the maximum nesting depth of the claims, clamped to `1..=96`
    /// ([`MAX_CLAIMS_DEPTH`]); deeper claims are `malformed_token`. Default 64.
    #[must_use]
    pub fn with_max_claims_depth(mut self, depth: usize) -> Self {
        self.max_claims_depth = depth.clamp(1, MAX_CLAIMS_DEPTH);
        self
    }

    /// The maximum claims nesting depth in effect.
    pub fn max_claims_depth(&self) -> usize {
        self.max_claims_depth
    }

    /// The clock skew tolerance in effect, in seconds.
    pub fn clock_skew(&self) -> i64 {
        self.skew
    }

    /// The accepted issuers.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// SHA-256 over every setting, length-prefixed: two policies accept the same tokens
    /// when their fingerprints are equal.
    pub fn fingerprint(&self) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let list = |h: &mut Sha256, items: &[String]| {
            h.update((items.len() as u64).to_le_bytes());
            for i in items {
                h.update((i.len() as u64).to_le_bytes());
                h.update(i.as_bytes());
            }
        };
        list(&mut h, &self.issuers);
        list(&mut h, &self.audiences);
        list(&mut h, &self.required);
        h.update(self.skew.to_le_bytes());
        h.update(self.max_age.unwrap_or(-1).to_le_bytes());
        match &self.typ {
            TypPolicy::JwtOrAbsent => h.update([0u8]),
            TypPolicy::Exact(t) => {
                h.update([1u8]);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
        h.update((self.max_token_len as u64).to_le_bytes());
        h.update((self.max_claims_depth as u64).to_le_bytes());
        h.finalize().into()
    }
}
