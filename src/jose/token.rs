//! Compact JWS parsing into an untrusted token: nothing here is trusted until verified.

use crate::crypto::SIGNATURE_LEN;
use crate::encoding::{b64, json};
use crate::error::VerifyError;
use crate::jose::jwk::KeyAlg;
use alloc::borrow::Cow;
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
        let (alg, kid, typ) = parse_header(&header_bytes)?;

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

/// The decoded header's JSON, checked ([`check_header`]). The usual header (a few
/// members) is read as its members, without a map; any other document (more than
/// [`MAX_HEADER_PARAMS`] members, not an object, or not strict JSON) again as a map, which
/// gives the answer for it.
fn parse_header(bytes: &[u8]) -> Result<HeaderParts, VerifyError> {
    match json::parse_members(bytes, HEADER_MAX_DEPTH, MAX_HEADER_PARAMS) {
        Some(members) => check_header(members),
        None => parse_header_as_map(bytes),
    }
}

/// [`parse_header`] through a map: every document, at the cost of the map.
fn parse_header_as_map(bytes: &[u8]) -> Result<HeaderParts, VerifyError> {
    let header = json::parse_object(bytes, HEADER_MAX_DEPTH).map_err(|e| malformed(e.reason()))?;
    check_header(
        header
            .into_iter()
            .map(|(name, value)| (Cow::Owned(name), value))
            .collect(),
    )
}

/// Checks the header's parameters (distinct names: the JSON parser refuses a repeated one)
/// in one pass, then in a fixed order (count, forbidden parameters in
/// [`FORBIDDEN_HEADERS`]' order, `alg`, `kid`, `typ`), so the error does not depend on the
/// parameters' order; `kid` and `typ` are moved out, not copied.
fn check_header(header: json::Members<'_>) -> Result<HeaderParts, VerifyError> {
    if header.len() > MAX_HEADER_PARAMS {
        return Err(VerifyError::UnsupportedHeader("too many header parameters"));
    }
    let mut forbidden: Option<usize> = None;
    let (mut alg, mut kid, mut typ) = (None, None, None);
    for (name, value) in header {
        let name: &str = &name;
        if let Some(i) = FORBIDDEN_HEADERS.iter().position(|f| *f == name) {
            forbidden = Some(forbidden.map_or(i, |j| j.min(i)));
            continue;
        }
        match name {
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
    use alloc::{format, vec};
    use proptest::prelude::*;

    fn header(json: &str) -> Result<HeaderParts, VerifyError> {
        match serde_json::from_str(json) {
            Ok(Value::Object(m)) => {
                check_header(m.into_iter().map(|(n, v)| (n.into(), v)).collect())
            }
            _ => Err(malformed("test header")),
        }
    }

    /// A header member for the differential test: a name (some forbidden, some escaped,
    /// some repeated by chance) and a JSON value of any type, sometimes nested.
    fn member() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec![
            "alg",
            "kid",
            "typ",
            "jku",
            "x5u",
            "jwk",
            "x5c",
            "crit",
            "b64",
            "cty",
            "x",
            "\\u0061lg",
            "k\\u0069d",
            "",
        ]);
        let value = prop::sample::select(vec![
            r#""EdDSA""#,
            r#""Ed25519""#,
            r#""RS256""#,
            r#""k1""#,
            r#""JWT""#,
            "1",
            "-2.5",
            "true",
            "null",
            "[]",
            r#"["b64"]"#,
            "{}",
            r#"{"a":{"b":{"c":1}}}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":[{"b":[1]}]}"#,
            r#""\ud800""#,
        ]);
        (name, value).prop_map(|(n, v)| format!(r#""{n}":{v}"#))
    }

    proptest::proptest! {
        /// The members path and the map path agree on every header: the same parts, or
        /// the same error (reason included), whatever the members' number, names (forbidden,
        /// escaped, repeated), values (nested, too deep, with duplicates) or syntax.
        #[test]
        fn the_header_read_as_members_is_the_header_read_as_a_map(
            members in proptest::collection::vec(member(), 0..20),
            wrap in prop::sample::select(vec![0u8, 1, 2, 3]),
        ) {
            let body = members.join(",");
            let doc = match wrap {
                0 => format!("{{{body}}}"),
                1 => format!("[{{{body}}}]"),
                2 => format!("{{{body}}} x"),
                _ => format!("{{{body},}}"),
            };
            proptest::prop_assert_eq!(
                parse_header(doc.as_bytes()),
                parse_header_as_map(doc.as_bytes()),
                "{}", doc
            );
        }
    }

    #[test]
    fn a_header_beyond_sixteen_members_or_not_an_object_is_read_as_a_map() {
        let many: Vec<String> = (0..17).map(|i| format!(r#""p{i}":{i}"#)).collect();
        let doc = format!(r#"{{"alg":"EdDSA",{}}}"#, many.join(","));
        assert_eq!(
            parse_header(doc.as_bytes()),
            Err(VerifyError::UnsupportedHeader("too many header parameters"))
        );
        // A repeated name after the sixteenth member is still a duplicate, not "too many".
        let doc = format!(r#"{{"alg":"EdDSA",{},"p1":0}}"#, many.join(","));
        assert_eq!(
            parse_header(doc.as_bytes()),
            Err(malformed("duplicate JSON object key"))
        );
        assert_eq!(
            parse_header(b"[]"),
            Err(malformed("JSON value is not an object"))
        );
        assert_eq!(
            parse_header(br#"[{"a":1,"a":2}]"#),
            Err(malformed("duplicate JSON object key"))
        );
        assert_eq!(
            parse_header(br#"{"alg":"EdDSA","kid":"k","typ":"JWT"}"#),
            Ok((KeyAlg::EdDsa, Some("k".into()), Some("JWT".into())))
        );
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
