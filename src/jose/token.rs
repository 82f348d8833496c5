//! Compact JWS parsing into an untrusted token: nothing here is trusted until verified.

use crate::crypto::SIGNATURE_LEN;
use crate::encoding::{b64, json};
use crate::error::VerifyError;
use crate::jose::jwk::KeyAlg;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Header parameters we refuse outright: we never fetch or trust what a token points to,
/// and we implement no critical extensions.
pub(crate) const FORBIDDEN_HEADERS: &[&str] = &["jku", "x5u", "jwk", "x5c", "crit", "b64"];
/// Most parameters a JOSE header may carry.
pub(crate) const MAX_HEADER_PARAMS: usize = 16;
const HEADER_MAX_DEPTH: usize = 4;

/// A compact JWS split and decoded, but not verified.
///
/// Only the header (for `kid`, `alg`, `typ`) is exposed; the claims are reachable only
/// through [`Verifier::verify`](crate::Verifier::verify) or the explicitly named
/// [`UntrustedToken::claims_unverified`].
#[derive(Debug, Clone)]
pub struct UntrustedToken<'a> {
    signing_input: &'a str,
    pub(crate) alg: KeyAlg,
    kid: Option<String>,
    typ: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: [u8; SIGNATURE_LEN],
}

fn malformed(why: &'static str) -> VerifyError {
    VerifyError::MalformedToken(why)
}

impl<'a> UntrustedToken<'a> {
    /// Splits and decodes a compact token of at most `max_len` bytes.
    ///
    /// Checks: exactly three non-empty canonical base64url parts; a header that is a strict
    /// JSON object with at most 16 parameters, an `alg` of `EdDSA`/`Ed25519`, none of
    /// `jku`/`x5u`/`jwk`/`x5c`/`crit`/`b64`, string `kid`/`typ`; a 64-byte signature.
    pub fn parse(token: &'a str, max_len: usize) -> Result<Self, VerifyError> {
        if token.len() > max_len {
            return Err(VerifyError::TokenTooLarge {
                len: token.len(),
                max: max_len,
            });
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a compact JWS has exactly three parts"));
        };
        if h.is_empty() || p.is_empty() || s.is_empty() {
            return Err(malformed("empty part"));
        }
        // Header, payload and dot: `h.len() + 1 + p.len()` bytes of the original string.
        let signing_input = token
            .get(..h.len() + 1 + p.len())
            .ok_or(malformed("split"))?;

        let header_bytes =
            b64::decode(h).map_err(|_| malformed("header is not canonical base64url"))?;
        let header = json::parse_object(&header_bytes, HEADER_MAX_DEPTH)
            .map_err(|e| malformed(e.reason()))?;
        let (alg, kid, typ) = check_header(header)?;

        let payload =
            b64::decode(p).map_err(|_| malformed("payload is not canonical base64url"))?;
        let signature: [u8; SIGNATURE_LEN] = b64::decode_array(s)
            .map_err(|_| malformed("signature is not 64 bytes of canonical base64url"))?;
        Ok(Self {
            signing_input,
            alg,
            kid,
            typ,
            payload,
            signature,
        })
    }

    /// The header's `kid`, if any (untrusted: only used to pick a key).
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The header's `typ`, if any.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The header's `alg` (`EdDSA` or `Ed25519`).
    pub fn alg(&self) -> &'static str {
        match self.alg {
            KeyAlg::EdDsa => "EdDSA",
            KeyAlg::Ed25519 => "Ed25519",
        }
    }

    /// The bytes the signature covers: `base64url(header) "." base64url(payload)`.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    /// Decodes the claims WITHOUT verifying anything (nesting up to
    /// [`MAX_CLAIMS_DEPTH`](crate::jose::policy::MAX_CLAIMS_DEPTH), the most any policy
    /// allows). For diagnostics and routing (which verifier gets the token) only: never
    /// base an authorization decision on this.
    pub fn claims_unverified(&self) -> Result<Map<String, Value>, VerifyError> {
        json::parse_object(&self.payload, crate::jose::policy::MAX_CLAIMS_DEPTH)
            .map_err(|e| malformed(e.reason()))
    }
}

type HeaderParts = (KeyAlg, Option<String>, Option<String>);

/// Checks the header in one pass over its parameters, then in a fixed order (count,
/// forbidden parameters in [`FORBIDDEN_HEADERS`]' order, `alg`, `kid`, `typ`), so the error
/// does not depend on the parameters' order; `kid` and `typ` are moved out, not copied.
fn check_header(header: Map<String, Value>) -> Result<HeaderParts, VerifyError> {
    if header.len() > MAX_HEADER_PARAMS {
        return Err(VerifyError::UnsupportedHeader("too many header parameters"));
    }
    let mut forbidden: Option<usize> = None;
    let (mut alg, mut kid, mut typ) = (None, None, None);
    for (name, value) in header {
        if let Some(i) = FORBIDDEN_HEADERS.iter().position(|f| *f == name) {
            forbidden = Some(forbidden.map_or(i, |j| j.min(i)));
            continue;
        }
        match name.as_str() {
            "alg" => alg = Some(value),
            "kid" => kid = Some(value),
            "typ" => typ = Some(value),
            _ => {}
        }
    }
    if let Some(name) = forbidden.and_then(|i| FORBIDDEN_HEADERS.get(i)) {
        return Err(VerifyError::UnsupportedHeader(name));
    }
    let alg = match alg {
        Some(Value::String(a)) => KeyAlg::parse(&a).ok_or(VerifyError::UnsupportedAlgorithm)?,
        _ => return Err(VerifyError::UnsupportedAlgorithm),
    };
    let kid = match kid {
        None => None,
        Some(Value::String(k)) => Some(k),
        Some(_) => return Err(malformed("`kid` must be a string")),
    };
    let typ = match typ {
        None => None,
        Some(Value::String(t)) => Some(t),
        Some(_) => return Err(VerifyError::InvalidTokenType),
    };
    Ok((alg, kid, typ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> Result<HeaderParts, VerifyError> {
        match serde_json::from_str(json) {
            Ok(Value::Object(m)) => check_header(m),
            _ => Err(malformed("test header")),
        }
    }

    #[test]
    fn header_errors_come_in_a_fixed_order_whatever_the_parameters_order() {
        // Two forbidden parameters: the one first in FORBIDDEN_HEADERS is named.
        assert_eq!(
            header(r#"{"x5u":"a","jku":"b","alg":"none"}"#),
            Err(VerifyError::UnsupportedHeader("jku"))
        );
        assert_eq!(
            header(r#"{"b64":false,"crit":["b64"],"alg":"EdDSA"}"#),
            Err(VerifyError::UnsupportedHeader("crit"))
        );
        assert_eq!(
            header(r#"{"alg":"RS256","kid":1,"typ":2}"#),
            Err(VerifyError::UnsupportedAlgorithm)
        );
        assert_eq!(
            header(r#"{"alg":"EdDSA","kid":1,"typ":2}"#),
            Err(malformed("`kid` must be a string"))
        );
        assert_eq!(
            header(r#"{"alg":"EdDSA","kid":"k","typ":2}"#),
            Err(VerifyError::InvalidTokenType)
        );
        assert_eq!(
            header(r#"{"alg":"EdDSA","kid":"k","typ":"JWT","x":1}"#),
            Ok((KeyAlg::EdDsa, Some("k".into()), Some("JWT".into())))
        );
        assert_eq!(
            header(r#"{"alg":"Ed25519"}"#),
            Ok((KeyAlg::Ed25519, None, None))
        );
    }
}
