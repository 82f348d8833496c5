//! The edge assertion: proof for an origin that a request came through the edge.
//!
//! With every forwarded request the edge sends `x-torii-edge-assertion`, a short-lived
//! EdDSA JWT signed by the tenant's key, with its own `typ` so it can never pass as an
//! access token (and no access token passes as an assertion). It binds:
//!
//! | claim | value |
//! |---|---|
//! | `iss` | the tenant's issuer |
//! | `aud` | the origin (`ORIGIN_URL`'s origin) |
//! | `iat`, `exp` | `exp - iat` ≤ 60 s |
//! | `htm` | the request method, upper case |
//! | `htu` | the URL forwarded to the origin, without fragment |
//! | `ihash` | base64url(SHA-256(the identity headers, canonical: [`identity_canonical`])) |
//! | `sub` | the user id, when there is one |
//!
//! `ihash` binds every identity header the edge forwards ([`IDENTITY_HEADERS`]: user,
//! session, tenant, issuer, organisation, role, `aal` and the whole claims), so none of
//! them can be added, dropped or changed on the way without the assertion failing. The
//! canonical form is one line `name:value\n` per header present, in the fixed order of
//! [`IDENTITY_HEADERS`] (values never hold a newline: the edge refuses control
//! characters); an anonymous request binds the empty string.
//!
//! An origin verifies it against the tenant JWKS with any JOSE library: `alg` EdDSA,
//! `typ` [`EDGE_ASSERTION_TYP`], issuer, audience, then compares `htm`, `htu` and `ihash`.

pub use super::headers::IDENTITY_HEADERS;
use crate::encoding::b64;
use crate::error::{ErrorCode, VerifyError};
use crate::jose::claims::VerifiedClaims;
use crate::jose::jwk::Jwks;
use crate::jose::policy::{Policy, TypPolicy};
use crate::jose::sign::{finish_jws, signing_input_of, SigningKey};
use crate::jose::verify::Verifier;
use crate::time::UnixTime;
use alloc::string::{String, ToString};
use core::fmt;
use serde_core::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `typ` header of edge assertions.
pub const EDGE_ASSERTION_TYP: &str = "torii-edge-assertion+jwt";

/// The request header that carries the edge assertion to the origin.
pub const ASSERTION_HEADER: &str = "x-torii-edge-assertion";
/// Longest lifetime of an edge assertion, in seconds.
pub const MAX_ASSERTION_LIFETIME: i64 = 60;

/// What an assertion binds.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The request method.
    pub method: &'a str,
    /// The URL the origin receives (no fragment).
    pub url: &'a str,
    /// The identity headers sent with it, `(name, value)` in any order (names of
    /// [`IDENTITY_HEADERS`], any case; other names are ignored). Empty when anonymous.
    pub identity: &'a [(&'a str, &'a str)],
}

/// Why an assertion was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertionError {
    /// The assertion failed as a JWT (signature, `typ`, issuer, audience, time…).
    Token(VerifyError),
    /// It is valid but bound to another method, URL or identity headers.
    BindingMismatch(&'static str),
}

impl AssertionError {
    /// The stable code: the token's code, or `assertion_mismatch`.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::Token(e) => e.error_code(),
            Self::BindingMismatch(_) => ErrorCode::AssertionMismatch,
        }
    }
}

impl fmt::Display for AssertionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => write!(f, "edge assertion: {e}"),
            Self::BindingMismatch(what) => write!(f, "edge assertion is bound to another {what}"),
        }
    }
}

impl core::error::Error for AssertionError {}

/// The canonical form of the identity headers: `name:value\n` for each of
/// [`IDENTITY_HEADERS`] present, in that order. `None` when a name is given twice or a
/// value holds a CR or LF (the edge never forwards either).
pub fn identity_canonical(identity: &[(&str, &str)]) -> Option<String> {
    let mut out = String::new();
    for name in IDENTITY_HEADERS {
        let mut values = identity
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v);
        let Some(value) = values.next() else {
            continue;
        };
        if values.next().is_some() || value.contains(['\r', '\n']) {
            return None;
        }
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    Some(out)
}

/// base64url(SHA-256([`identity_canonical`])): the assertion's `ihash`. `None` as for
/// [`identity_canonical`].
pub fn identity_hash(identity: &[(&str, &str)]) -> Option<String> {
    identity_canonical(identity).map(|c| b64::encode(&Sha256::digest(c.as_bytes())))
}

/// The claims of an edge assertion for one forwarded request (what
/// [`mint_edge_assertion`] signs; adapters with a native signer sign these themselves, or
/// sign [`edge_assertion_signing_input`]).
pub fn edge_assertion_claims(
    issuer: &str,
    origin: &str,
    binding: Binding<'_>,
    sub: Option<&str>,
    now: UnixTime,
    lifetime: i64,
) -> Map<String, Value> {
    let claims = AssertionClaims::new(issuer, origin, binding, sub, now, lifetime);
    // One list of the claims' names: their `Serialize`. An object always converts.
    match serde_json::to_value(&claims) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The signing input of the edge assertion for one forwarded request, under the key
/// `kid`: the bytes [`mint_edge_assertion`] signs, for adapters that sign with a native
/// primitive (the Worker signs them with WebCrypto). The same bytes as
/// [`jwt_signing_input`](crate::jose::jwt_signing_input) of
/// [`edge_assertion_claims`] with `typ` [`EDGE_ASSERTION_TYP`], written without building
/// the claims as a map.
pub fn edge_assertion_signing_input(
    kid: &str,
    issuer: &str,
    origin: &str,
    binding: Binding<'_>,
    sub: Option<&str>,
    now: UnixTime,
    lifetime: i64,
) -> String {
    let claims = AssertionClaims::new(issuer, origin, binding, sub, now, lifetime);
    signing_input_of(kid, Some(EDGE_ASSERTION_TYP), &claims)
}

/// An edge assertion's claims, serialized in the order of their names (what a
/// `serde_json::Map` of them gives: [`edge_assertion_claims`]).
struct AssertionClaims<'a> {
    aud: &'a str,
    exp: i64,
    htm: String,
    htu: &'a str,
    iat: i64,
    ihash: String,
    iss: &'a str,
    sub: Option<&'a str>,
}

impl<'a> AssertionClaims<'a> {
    fn new(
        issuer: &'a str,
        origin: &'a str,
        binding: Binding<'a>,
        sub: Option<&'a str>,
        now: UnixTime,
        lifetime: i64,
    ) -> Self {
        Self {
            aud: origin,
            exp: now
                .0
                .saturating_add(lifetime.clamp(1, MAX_ASSERTION_LIFETIME)),
            htm: binding.method.to_ascii_uppercase(),
            htu: binding.url,
            iat: now.0,
            // The edge builds `identity` itself from one header per name: always `Some`.
            ihash: identity_hash(binding.identity).unwrap_or_default(),
            iss: issuer,
            sub,
        }
    }
}

impl Serialize for AssertionClaims<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(7 + usize::from(self.sub.is_some())))?;
        m.serialize_entry("aud", self.aud)?;
        m.serialize_entry("exp", &self.exp)?;
        m.serialize_entry("htm", &self.htm)?;
        m.serialize_entry("htu", self.htu)?;
        m.serialize_entry("iat", &self.iat)?;
        m.serialize_entry("ihash", &self.ihash)?;
        m.serialize_entry("iss", self.iss)?;
        if let Some(sub) = self.sub {
            m.serialize_entry("sub", sub)?;
        }
        m.end()
    }
}

/// Signs an edge assertion for one forwarded request.
pub fn mint_edge_assertion(
    key: &SigningKey,
    issuer: &str,
    origin: &str,
    binding: Binding<'_>,
    sub: Option<&str>,
    now: UnixTime,
    lifetime: i64,
) -> String {
    let input =
        edge_assertion_signing_input(key.kid(), issuer, origin, binding, sub, now, lifetime);
    let signature = key.sign_raw(input.as_bytes());
    finish_jws(input, &signature)
}

/// Verifies an edge assertion for the request the origin received.
///
/// Checks the JWT (EdDSA against `jwks`, `typ` [`EDGE_ASSERTION_TYP`], `iss`, `aud` =
/// `origin`, `exp`, `iat` no older than 60 s plus skew) and then the binding.
pub fn verify_edge_assertion(
    jwks: &Jwks,
    issuer: &str,
    origin: &str,
    assertion: &str,
    binding: Binding<'_>,
    now: UnixTime,
) -> Result<VerifiedClaims, AssertionError> {
    let policy = Policy::new(issuer)
        .with_audience(origin)
        .with_typ(TypPolicy::Exact(EDGE_ASSERTION_TYP.to_string()))
        .with_required_claims(["exp", "iat", "htm", "htu", "ihash"])
        .with_max_age(MAX_ASSERTION_LIFETIME)
        .with_max_token_len(4096);
    // The key set is small and cloned once per call; origins verifying at high rates
    // keep a `Verifier` and call `check_binding` themselves.
    let verified = Verifier::new(jwks.clone(), policy)
        .verify(assertion, now)
        .map_err(AssertionError::Token)?;
    check_binding(&verified, binding)?;
    Ok(verified)
}

/// Compares a verified assertion's `htm`, `htu` and `ihash` with the request.
pub fn check_binding(
    verified: &VerifiedClaims,
    binding: Binding<'_>,
) -> Result<(), AssertionError> {
    let get = |n: &str| verified.get(n).and_then(Value::as_str).unwrap_or_default();
    if !get("htm").eq_ignore_ascii_case(binding.method) {
        return Err(AssertionError::BindingMismatch("method"));
    }
    if get("htu") != binding.url {
        return Err(AssertionError::BindingMismatch("URL"));
    }
    match identity_hash(binding.identity) {
        Some(h) if !h.is_empty() && get("ihash") == h => {}
        _ => return Err(AssertionError::BindingMismatch("identity headers")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::jwt_signing_input;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        /// The signing input written from the claims' parts is, byte for byte, the one
        /// of the claims as a map (what `mint_edge_assertion` signed before, and what an
        /// adapter signing `edge_assertion_claims` itself gets), for any strings
        /// (escapes, non-ASCII), times, lifetimes and identity headers.
        #[test]
        fn the_signing_input_is_the_maps(
            kid in "\\PC{0,12}",
            issuer in "\\PC{0,24}",
            origin in "\\PC{0,24}",
            method in "[a-zA-Z]{1,7}",
            url in "\\PC{0,40}",
            sub in proptest::option::of("\\PC{0,16}"),
            user in proptest::option::of("[ -~]{0,16}"),
            now in any::<i64>(),
            lifetime in any::<i64>(),
        ) {
            let identity: Vec<(&str, &str)> =
                user.iter().map(|u| ("x-torii-user-id", u.as_str())).collect();
            let binding = Binding { method: &method, url: &url, identity: &identity };
            let sub = sub.as_deref();
            let claims = edge_assertion_claims(&issuer, &origin, binding, sub, UnixTime(now), lifetime);
            prop_assert_eq!(
                edge_assertion_signing_input(&kid, &issuer, &origin, binding, sub, UnixTime(now), lifetime),
                jwt_signing_input(&kid, Some(EDGE_ASSERTION_TYP), &claims)
            );
        }
    }
}
