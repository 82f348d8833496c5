//! Strict parsing of every Backend API request body and query into typed structs.
//!
//! Bodies are at most 64 KiB (else `payload_too_large`, 413) and must be one JSON object
//! without duplicate keys. Every refusal is `validation_failed` (422) naming the field:
//! not JSON, a wrong type, an unknown field, an over-long string (the user caps of
//! `src/templates/user.rs`), a number out of range, an unknown scope, a metadata bag over
//! 512 bytes. Template claims are checked by the template engine (its codes and JSON
//! pointers). Queries refuse unknown and repeated parameters the same way.

use super::error::ApiError;
use super::keys::Environment;
use super::merge::{check_metadata, merge_metadata};
use super::pagination::ListKind;
use super::routes::valid_user_id;
use super::scopes::ScopeSet;
use crate::encoding::json;
use crate::error::ErrorCode;
use crate::templates::engine::{Template, MAX_TEMPLATE_LIFETIME_SECS, MIN_TEMPLATE_LIFETIME_SECS};
use crate::templates::user::{MetadataBag, StoredUser, User, MAX_EMAIL_BYTES, MAX_NAME_BYTES};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

mod applications;
mod keys;
mod query;
mod sessions;
mod templates;
mod users;

pub use applications::*;
pub use keys::*;
pub use query::*;
pub use sessions::*;
pub use templates::*;
pub use users::*;

/// Largest request body, in bytes (64 KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Deepest JSON body accepted (metadata nests 8 levels under its member).
pub const MAX_BODY_DEPTH: usize = 16;
/// Longest API key name, in bytes.
pub const MAX_KEY_NAME_BYTES: usize = 64;
/// Shortest `expires_in` of an API key, in seconds (1 min).
pub const MIN_KEY_EXPIRES_IN: i64 = 60;
/// Longest `expires_in` of an API key, in seconds (5 years of 365 days).
pub const MAX_KEY_EXPIRES_IN: i64 = 5 * 365 * 86_400;
/// Longest `expire_previous_in` of a roll, in seconds (7 days); 0 expires it at once.
pub const MAX_EXPIRE_PREVIOUS_IN: i64 = 7 * 86_400;
/// Shortest session `expires_in`, in seconds (1 min).
pub const MIN_SESSION_EXPIRES_IN: i64 = 60;
/// Longest session `expires_in`, in seconds (30 days).
pub const MAX_SESSION_EXPIRES_IN: i64 = 30 * 86_400;
/// Longest `org_id`, in bytes.
pub const MAX_ORG_ID_BYTES: usize = 128;
/// Longest `org_role`, in bytes.
pub const MAX_ORG_ROLE_BYTES: usize = 64;
/// Largest session `actor` object, in bytes of compact JSON.
pub const MAX_ACTOR_BYTES: usize = 512;
/// Longest application id (a DNS label: `a-z 0-9 -`).
pub const MAX_APPLICATION_ID_BYTES: usize = 63;
/// Most allowed CORS origins of an application.
pub const MAX_ALLOWED_ORIGINS: usize = 20;
/// Longest allowed origin, in bytes.
pub const MAX_ORIGIN_BYTES: usize = 255;
/// Most custom domains of an application.
pub const MAX_DOMAINS: usize = 10;
/// Longest custom domain (a DNS name), in bytes.
pub const MAX_DOMAIN_BYTES: usize = 253;
/// Longest issuer URL, in bytes.
pub const MAX_ISSUER_BYTES: usize = 255;
/// Longest query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// `payload_too_large` (413) when a body of `len` bytes exceeds [`MAX_BODY_BYTES`];
/// check the `Content-Length` (and the bytes read) before parsing.
pub fn check_body_size(len: usize) -> Result<(), ApiError> {
    if len > MAX_BODY_BYTES {
        Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is {len} bytes, the limit is {MAX_BODY_BYTES}"),
        ))
    } else {
        Ok(())
    }
}

/// A field of a `PATCH`: absent (unchanged), `null` (cleared) or a new value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    /// Not in the body: unchanged.
    #[default]
    Absent,
    /// `null`: cleared.
    Null,
    /// A new value.
    Set(T),
}

/// At most 64 characters of `s`, control characters replaced (for messages and fields).
fn printable(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A JSON object body whose members are taken one by one; [`Fields::finish`] refuses
/// whatever was not taken (unknown fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Parses a body: size (413), then one strict JSON object (422). An empty body is
    /// `{}` when `empty_ok` (bodiless `POST`s such as revoke).
    pub fn parse(body: &[u8], empty_ok: bool) -> Result<Self, ApiError> {
        check_body_size(body.len())?;
        if empty_ok && body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self { map: Map::new() });
        }
        let map = json::parse_object(body, MAX_BODY_DEPTH).map_err(|e| {
            ApiError::new(
                ErrorCode::ValidationFailed,
                format!("the body must be a JSON object: {}", e.reason()),
            )
        })?;
        Ok(Self { map })
    }

    /// Fields of an object already parsed (e.g. a nested `user`).
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self { map }
    }

    /// Takes member `name` (`None` if absent).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    /// Refuses any member not taken: `validation_failed` naming the first unknown one.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => Err(ApiError::validation(
                &printable(k),
                format!("unknown field `{}`", printable(k)),
            )),
        }
    }

    /// A string member of at most `max` bytes without control characters; `null` and
    /// absent are `None`.
    pub fn string(&mut self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => text(name, v, max).map(Some),
        }
    }

    /// A required string member (see [`Fields::string`]); also refuses `""`.
    pub fn required_string(&mut self, name: &str, max: usize) -> Result<String, ApiError> {
        match self.string(name, max)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(ApiError::validation(name, "must not be empty")),
            None => Err(ApiError::validation(name, "is required")),
        }
    }

    /// A `PATCH` string member: absent, `null` or a string (see [`Fields::string`]).
    pub fn patch_string(&mut self, name: &str, max: usize) -> Result<Patch<String>, ApiError> {
        match self.take(name) {
            None => Ok(Patch::Absent),
            Some(Value::Null) => Ok(Patch::Null),
            Some(v) => text(name, v, max).map(Patch::Set),
        }
    }

    /// A boolean member; `null` and absent are `None`.
    pub fn bool(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(ApiError::validation(name, "must be a boolean")),
        }
    }

    /// An integer member within `min..=max`; `null` and absent are `None`.
    pub fn int(&mut self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
                _ => Err(ApiError::validation(
                    name,
                    format!("must be an integer from {min} to {max}"),
                )),
            },
            Some(_) => Err(ApiError::validation(name, "must be an integer")),
        }
    }

    /// An object member; `null` and absent are `None`.
    pub fn object(&mut self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        match self.take(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::validation(name, "must be an object")),
        }
    }
}

fn text(name: &str, value: Value, max: usize) -> Result<String, ApiError> {
    let Value::String(s) = value else {
        return Err(ApiError::validation(name, "must be a string"));
    };
    if s.len() > max {
        return Err(ApiError::validation(
            name,
            format!("must be at most {max} bytes"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ApiError::validation(
            name,
            "control characters are not allowed",
        ));
    }
    Ok(s)
}

/// Placeholder id of a user whose id is not chosen yet.
const PENDING_ID: &str = "user_pending";

/// The body of a `POST` that takes none (revoke, rotate, session tokens): empty or `{}`.
pub fn parse_empty_body(body: &[u8]) -> Result<(), ApiError> {
    Fields::parse(body, true)?.finish()
}

/// Checks a bag given whole (e.g. by `PATCH /v1/users/{id}`) against its caps.
pub fn check_bag(bag: MetadataBag, map: &Map<String, Value>) -> Result<(), ApiError> {
    check_metadata(bag, map)
}

/// Whether `secs` is a template lifetime the engine accepts (30 … 86 400).
pub const fn valid_lifetime(secs: i64) -> bool {
    secs >= MIN_TEMPLATE_LIFETIME_SECS && secs <= MAX_TEMPLATE_LIFETIME_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn field(r: Result<impl core::fmt::Debug, ApiError>) -> (ErrorCode, Option<String>) {
        let e = r.unwrap_err();
        (e.code, e.field)
    }

    pub(super) fn vf(name: &str) -> (ErrorCode, Option<String>) {
        (ErrorCode::ValidationFailed, Some(name.into()))
    }

    #[test]
    fn bodies_are_bounded_strict_json_objects() {
        let big = alloc::vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            CreateUser::parse(&big).unwrap_err().code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(CreateUser::parse(&big).unwrap_err().status(), 413);
        for bad in [
            &b"not json"[..],
            b"[]",
            b"\"x\"",
            b"{\"email\":1,\"email\":2}",
            b"",
            b"{} {}",
        ] {
            let e = CreateUser::parse(bad).unwrap_err();
            assert_eq!((e.code, e.status()), (ErrorCode::ValidationFailed, 422));
        }
        let deep = format!(
            "{{\"public_metadata\":{}1{}}}",
            "[".repeat(20),
            "]".repeat(20)
        );
        assert!(CreateUser::parse(deep.as_bytes()).is_err());
        assert!(parse_empty_body(b"").is_ok());
        assert!(parse_empty_body(b" {} ").is_ok());
        assert_eq!(field(parse_empty_body(b"{\"x\":1}")), vf("x"));
    }
}
