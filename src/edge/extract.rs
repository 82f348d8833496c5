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

/// Name of the session cookie a token may come in.
pub const SESSION_COOKIE: &str = "__session";

/// The value of cookie `name` in a `Cookie` header, if present and non-empty.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name)
            .then(|| v.trim().trim_matches('"'))
            .filter(|v| !v.is_empty())
    })
}

/// The token of a request: `Authorization: Bearer` first, else the `__session` cookie.
/// `Ok(None)`: no token at all. A malformed `Authorization` header is `invalid_request`;
/// a session cookie whose value is not a `b64token` (e.g. holds whitespace) is a token
/// that cannot be one: `malformed_token` (401, what the verifier would say of it).
pub fn request_token<'a>(
    authorization: Option<&'a str>,
    cookie: Option<&'a str>,
) -> Result<Option<&'a str>, VerifyError> {
    match bearer_token(authorization) {
        Ok(token) => Ok(Some(token)),
        Err(VerifyError::MissingToken) => {
            match cookie.and_then(|c| cookie_value(c, SESSION_COOKIE)) {
                Some(token) if !is_b64token(token) => Err(VerifyError::MalformedToken(
                    "the session cookie is not a token",
                )),
                token => Ok(token),
            }
        }
        Err(e) => Err(e),
    }
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
    #[test]
    fn token_comes_from_bearer_then_session_cookie() {
        assert_eq!(
            request_token(Some("Bearer a.b.c"), Some("__session=x.y.z")),
            Ok(Some("a.b.c"))
        );
        assert_eq!(
            request_token(None, Some("theme=dark; __session=x.y.z")),
            Ok(Some("x.y.z"))
        );
        assert_eq!(request_token(None, Some("__session_other=x")), Ok(None));
        assert_eq!(request_token(None, Some("__session=")), Ok(None));
        assert_eq!(request_token(None, None), Ok(None));
        assert_eq!(
            request_token(None, Some("__session=\"a\tb\"")).map_err(|e| e.code()),
            Err("malformed_token")
        );
        assert_eq!(
            request_token(Some("Basic abc"), Some("__session=x.y.z")),
            Err(VerifyError::InvalidRequest)
        );
    }
}
