//! [`ApiError`]: a code from the table, a message, and the field or JSON pointer it is
//! about; its reply is `{code, message, field?, pointer?, request_id}`.

use crate::edge::reply::Reply;
use crate::error::ErrorCode;
use crate::templates::engine::TemplateError;
use crate::templates::user::UserError;
use alloc::string::{String, ToString};
use core::fmt;
use serde_json::{Map, Value};

/// A refused Backend API request. The HTTP status is always the code's
/// ([`ErrorCode::http_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The code (its status is the reply's).
    pub code: ErrorCode,
    /// For humans; never holds a secret.
    pub message: String,
    /// The request field (body member, query parameter or header) refused, e.g. `scopes`
    /// or `limit`.
    pub field: Option<String>,
    /// An RFC 6901 JSON pointer into the field's value (templates: into `claims`).
    pub pointer: Option<String>,
    /// For `method_not_allowed`: the `Allow` header.
    pub allow: Option<&'static str>,
    /// For `rate_limited`: the `Retry-After` header, in seconds.
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with `code` and `message`, about no field in particular.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            pointer: None,
            allow: None,
            retry_after: None,
        }
    }

    /// `rate_limited` with `Retry-After: <secs>`.
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u32) -> Self {
        let mut err = Self::new(ErrorCode::RateLimited, message);
        err.retry_after = Some(retry_after_secs);
        err
    }

    /// `validation_failed` (422) naming `field`.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message).with_field(field)
    }

    /// The same error naming `field`.
    #[must_use]
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    /// The same error with a JSON pointer into the field's value.
    #[must_use]
    pub fn with_pointer(mut self, pointer: &str) -> Self {
        self.pointer = Some(pointer.to_string());
        self
    }

    /// A template refused by the engine: the engine's code and pointer (relative to the
    /// template's claims), naming `field` (e.g. `claims` or `lifetime`).
    pub fn from_template(err: &TemplateError, field: &str) -> Self {
        let mut out = Self::new(err.error_code(), err.to_string()).with_field(field);
        out.pointer = err.pointer().map(ToString::to_string);
        out
    }

    /// A user field refused by its cap: `validation_failed` naming the field (e.g.
    /// `email`, `public_metadata`); the message says which cap
    /// (`metadata_too_large`, …) in words.
    pub fn from_user(err: &UserError) -> Self {
        Self::validation(err.field(), err.to_string())
    }

    /// The reply's HTTP status (the code's).
    pub const fn status(&self) -> u16 {
        self.code.http_status()
    }

    /// The reply body: `{code, message, field?, pointer?, request_id}`.
    pub fn to_json(&self, request_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("code".into(), self.code.as_str().into());
        body.insert("message".into(), self.message.as_str().into());
        if let Some(field) = &self.field {
            body.insert("field".into(), field.as_str().into());
        }
        if let Some(pointer) = &self.pointer {
            body.insert("pointer".into(), pointer.as_str().into());
        }
        body.insert("request_id".into(), request_id.into());
        Value::Object(body)
    }

    /// The JSON reply, with the code's status, `cache-control: no-store`,
    /// `x-request-id`, and `Allow` for a 405.
    pub fn reply(&self, request_id: &str) -> Reply {
        let mut reply = Reply::json(self.status(), self.to_json(request_id).to_string());
        reply.headers.push(("cache-control", "no-store".into()));
        reply.headers.push(("x-request-id", request_id.into()));
        if let Some(allow) = self.allow {
            reply.headers.push(("allow", allow.into()));
        }
        if let Some(secs) = self.retry_after {
            reply.headers.push(("retry-after", secs.to_string()));
        }
        reply
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        Ok(())
    }
}

impl core::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::engine::Template;
    use crate::templates::user::{MetadataBag, User};

    #[test]
    fn rate_limited_carries_retry_after() {
        let reply = ApiError::rate_limited("slow down", 10).reply("req_2");
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("retry-after"), Some("10"));
        assert_eq!(reply.code().as_deref(), Some("rate_limited"));
        assert_eq!(
            ApiError::new(ErrorCode::NotFound, "x")
                .reply("r")
                .header("retry-after"),
            None
        );
    }

    #[test]
    fn reply_body_has_code_message_field_pointer_and_request_id() {
        let err = ApiError::validation("limit", "limit must be 1 to 100");
        let reply = err.reply("req_1");
        assert_eq!(reply.status, 422);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("x-request-id"), Some("req_1"));
        assert_eq!(reply.header("allow"), None);
        let body: Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": "validation_failed",
                "message": "limit must be 1 to 100",
                "field": "limit",
                "request_id": "req_1",
            })
        );
    }

    #[test]
    fn the_status_is_always_the_tables() {
        for &code in crate::ALL_CODES {
            assert_eq!(
                ApiError::new(code, "m").reply("r").status,
                code.http_status()
            );
        }
    }

    #[test]
    fn template_errors_keep_the_engines_code_and_pointer() {
        let err = Template::parse(br#"{"a":{"iss2":"{{user.emial}}"}}"#).unwrap_err();
        let api = ApiError::from_template(&err, "claims");
        assert_eq!(api.code, ErrorCode::UnknownShortcode);
        assert_eq!(api.pointer.as_deref(), Some("/a/iss2"));
        assert_eq!(api.field.as_deref(), Some("claims"));
        let body = api.to_json("r");
        assert_eq!(body["code"], "unknown_shortcode");
        assert_eq!(body["pointer"], "/a/iss2");
        assert_eq!(api.status(), 400);
    }

    #[test]
    fn user_cap_errors_are_validation_failures_naming_the_field() {
        let mut user = User::new("u").unwrap();
        let mut big = Map::new();
        big.insert("k".into(), "x".repeat(600).into());
        let err = user.set_metadata(MetadataBag::Public, big).unwrap_err();
        let api = ApiError::from_user(&err);
        assert_eq!(api.code, ErrorCode::ValidationFailed);
        assert_eq!(api.field.as_deref(), Some("public_metadata"));
        assert_eq!(api.status(), 422);
        assert!(api.to_string().contains("public_metadata"));
    }
}
