//! The `Authorization` request header (RFC 6750 §2.1).

use crate::error::VerifyError;

/// Extracts the token from an `Authorization: Bearer <token>` header value.
///
/// * absent, empty or blank → `missing_token`;
/// * a scheme other than `Bearer` (case-insensitive), no single-space-separated token, or
///   a token outside the RFC 6750 `b64token` alphabet → `invalid_request`.
///
/// ```
/// # use torii_edge::bearer_token;
/// assert_eq!(bearer_token(Some("bearer abc.def.ghi")), Ok("abc.def.ghi"));
/// assert_eq!(bearer_token(None).unwrap_err().code(), "missing_token");
/// assert_eq!(bearer_token(Some("Basic dXNlcg==")).unwrap_err().code(), "invalid_request");
/// ```
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, VerifyError> {
    let value = authorization
        .map(|v| v.trim_matches([' ', '\t']))
        .unwrap_or("");
    if value.is_empty() {
        return Err(VerifyError::MissingToken);
    }
    let (scheme, rest) = value.split_once(' ').ok_or(VerifyError::InvalidRequest)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(VerifyError::InvalidRequest);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() || !is_b64token(token) {
        return Err(VerifyError::InvalidRequest);
    }
    Ok(token)
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(Some("Bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer_token(Some("BEARER a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer_token(Some("bEaReR   a.b.c ")), Ok("a.b.c"));
    }

    #[test]
    fn missing_or_empty_header_is_missing_token() {
        assert_eq!(bearer_token(None), Err(VerifyError::MissingToken));
        assert_eq!(bearer_token(Some("")), Err(VerifyError::MissingToken));
        assert_eq!(bearer_token(Some("   ")), Err(VerifyError::MissingToken));
    }

    #[test]
    fn malformed_header_is_invalid_request() {
        for bad in [
            "Bearer",
            "Bearer ",
            "Basic abc",
            "Bearer a b",
            "Bearer a,b",
            "Bearer=abc",
            "Token abc",
            "Bearer ===",
            "Bearer\ta.b.c",
        ] {
            assert_eq!(
                bearer_token(Some(bad)),
                Err(VerifyError::InvalidRequest),
                "{bad:?}"
            );
        }
    }
}
