//! HTTP replies, independent of any runtime: a status, headers and a body. Every edge
//! route builds one of these; the Worker converts it to the runtime's `Response` in one
//! place. No Worker types here, so every reply is unit-tested natively.

use crate::error::{ErrorCode, VerifyError};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// An HTTP response, independent of the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(&'static str, String)>,
    /// Body (`None` for an empty body).
    pub body: Option<String>,
}

impl Reply {
    /// A JSON body.
    pub fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body: Some(body),
        }
    }

    /// An error body `{"code": …, "message": …}`, never cached.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        let mut reply = Self::json(status, body);
        reply.headers.push(("cache-control", "no-store".into()));
        reply
    }

    /// The error reply for `code`: its status from the code table, `{"code", "message"}`,
    /// never cached. Every error the edge answers with is built here or from a code's
    /// error enum, so no reply carries a code (or a status) outside the table.
    pub fn from_code(code: ErrorCode, message: &str) -> Self {
        Self::error(code.http_status(), code.as_str(), message)
    }

    /// Readable from any origin (no cookies are involved in any edge route).
    pub fn with_cors(mut self) -> Self {
        if self.header("access-control-allow-origin").is_none() {
            self.headers
                .push(("access-control-allow-origin", "*".into()));
        }
        self
    }

    /// The value of header `name` (lower case), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body's `code`, if it is an error reply.
    pub fn code(&self) -> Option<String> {
        let body: serde_json::Value =
            serde_json::from_slice(self.body.as_deref()?.as_bytes()).ok()?;
        body.get("code")?.as_str().map(str::to_string)
    }
}

/// 404 for a path the edge does not serve.
pub fn not_found() -> Reply {
    Reply::from_code(ErrorCode::NotFound, "no route for this path")
}

/// 405 with `Allow`.
pub fn method_not_allowed(allow: &str) -> Reply {
    let mut reply = Reply::from_code(
        ErrorCode::MethodNotAllowed,
        &format!("only {allow} are allowed"),
    )
    .with_cors();
    reply.headers.push(("allow", allow.into()));
    reply
}

/// The reply when the runtime failed under us (details go to the log, not the client).
pub fn internal_error() -> Reply {
    Reply::from_code(ErrorCode::InternalError, "internal error")
}

/// 500 `misconfigured`: the deployment's configuration or stored data is unusable
/// (`why` names what, for the operator; no secret goes in it).
pub fn misconfigured(why: &str) -> Reply {
    Reply::from_code(ErrorCode::Misconfigured, why)
}

/// 503 `storage_unavailable`: the store could not be read or written.
pub fn storage_unavailable(message: &str) -> Reply {
    Reply::from_code(ErrorCode::StorageUnavailable, message)
}

/// `WWW-Authenticate` for a 401/403: the realm, plus the RFC 6750 error and our code
/// when a token was presented.
pub fn www_authenticate(realm: &str, error: Option<(&str, &str)>) -> String {
    let realm: String = realm
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    match error {
        None => format!("Bearer realm=\"{realm}\""),
        Some((error, code)) => {
            format!("Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{code}\"")
        }
    }
}

/// CORS preflight answer allowing `methods`, the `Authorization` and
/// `x-application-id` headers, from any origin (no cookies are used).
pub fn preflight(methods: &str) -> Reply {
    Reply {
        status: 204,
        headers: vec![
            ("access-control-allow-origin", "*".into()),
            ("access-control-allow-methods", methods.into()),
            (
                "access-control-allow-headers",
                "authorization, content-type, x-application-id".into(),
            ),
            ("access-control-max-age", "86400".into()),
        ],
        body: None,
    }
}

/// The reply for a token that failed verification.
pub fn token_error_reply(realm: &str, err: &VerifyError) -> Reply {
    let code = err.error_code();
    let status = code.http_status();
    let mut reply = Reply::error(status, code.as_str(), &err.to_string());
    let error = match code {
        ErrorCode::MissingToken => None,
        ErrorCode::InvalidRequest => Some(("invalid_request", code.as_str())),
        _ => Some(("invalid_token", code.as_str())),
    };
    if status == 401 || status == 400 {
        reply
            .headers
            .push(("www-authenticate", www_authenticate(realm, error)));
    }
    reply
}

/// The reply for a verified token whose claims cannot be forwarded as headers (a control
/// character in a claim the edge copies): 401 `invalid_claim_value`, never forwarded.
pub fn claim_header_error_reply(
    realm: &str,
    err: &crate::edge::headers::ClaimHeaderError,
) -> Reply {
    let code = ErrorCode::InvalidClaimValue;
    let mut reply = Reply::error(code.http_status(), code.as_str(), &err.to_string());
    reply.headers.push((
        "www-authenticate",
        www_authenticate(realm, Some(("invalid_token", code.as_str()))),
    ));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    #[test]
    fn www_authenticate_strips_quotes_and_controls() {
        assert_eq!(www_authenticate("demo", None), "Bearer realm=\"demo\"");
        assert_eq!(
            www_authenticate("de\"mo", Some(("invalid_token", "token_expired"))),
            "Bearer realm=\"demo\", error=\"invalid_token\", error_description=\"token_expired\""
        );
        assert_eq!(
            www_authenticate("a\\b\nc", Some(("invalid_token", "session_revoked"))),
            "Bearer realm=\"abc\", error=\"invalid_token\", error_description=\"session_revoked\""
        );
    }

    #[test]
    fn errors_are_json_and_never_cached() {
        let reply = not_found();
        assert_eq!(reply.status, 404);
        assert_eq!(reply.code().as_deref(), Some("not_found"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let reply = misconfigured("TORII_MASTER_SECRET is not set");
        assert_eq!(
            (reply.status, reply.code().as_deref()),
            (500, Some("misconfigured"))
        );
        let reply = storage_unavailable("the store is unavailable");
        assert_eq!(
            (reply.status, reply.code().as_deref()),
            (503, Some("storage_unavailable"))
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    #[test]
    fn www_authenticate_values() {
        assert_eq!(www_authenticate("demo", None), "Bearer realm=\"demo\"");
        assert_eq!(
            www_authenticate("de\"mo", Some(("invalid_token", "token_expired"))),
            "Bearer realm=\"demo\", error=\"invalid_token\", error_description=\"token_expired\""
        );
        let r = token_error_reply("demo", &VerifyError::MissingToken);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"demo\""));
        let r = token_error_reply("demo", &VerifyError::InvalidSignature);
        assert_eq!(r.status, 401);
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""));
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["code"], "invalid_signature");
        assert!(body["message"].is_string());
    }

    #[test]
    fn replies_from_codes_take_the_tables_status() {
        for &code in crate::ALL_CODES {
            let reply = Reply::from_code(code, "m");
            assert_eq!(reply.status, code.http_status());
            assert_eq!(reply.code().as_deref(), Some(code.as_str()));
        }
        assert_eq!(method_not_allowed("GET").status, 405);
        assert_eq!(method_not_allowed("GET").header("allow"), Some("GET"));
        assert_eq!(internal_error().status, 500);
    }
}
