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
    use crate::api::pagination::{Cursor, DEFAULT_LIMIT};
    use crate::api::scopes::Scope;
    use serde_json::json;

    fn field(r: Result<impl core::fmt::Debug, ApiError>) -> (ErrorCode, Option<String>) {
        let e = r.unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn applications_update_and_default_issuer() {
        let u = UpdateApplication::parse(
            br#"{"allowed_origins":["https://a.example","https://a.example"]}"#,
        )
        .unwrap();
        assert_eq!(
            u.allowed_origins,
            Some(alloc::vec!["https://a.example".to_string()])
        );
        assert_eq!(
            UpdateApplication::parse(b"{}").unwrap().allowed_origins,
            None
        );
        for (body, name) in [
            (&br#"{"issuer":"https://x"}"#[..], "issuer"),
            (br#"{"id":"x"}"#, "id"),
            (br#"{"allowed_origins":"https://a"}"#, "allowed_origins"),
            (br#"{"allowed_origins":["ftp://a"]}"#, "allowed_origins"),
            (br#"{"nope":1}"#, "nope"),
        ] {
            assert_eq!(field(UpdateApplication::parse(body)), vf(name));
        }
        let e = UpdateApplication::parse(br#"{"allowed_origins":["https://a","*"]}"#).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/1"));
        assert_eq!(
            default_issuer("acme", Some("Auth.Example.com."), "http://127.0.0.1:1"),
            "https://acme.auth.example.com"
        );
        assert_eq!(
            default_issuer("acme", None, "http://127.0.0.1:8787/"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(default_issuer("acme", Some(""), "http://h"), "http://h");
    }

    #[test]
    fn the_sample_user_is_complete() {
        let u = sample_user().unwrap();
        assert_eq!(u.id(), "user_sample");
        assert_eq!(u.public_metadata()["role"], "admin");
        assert!(u.private_metadata().is_empty());
    }

    #[test]
    fn session_status_of_rows() {
        assert_eq!(SessionStatus::of("active", 10, 9), SessionStatus::Active);
        assert_eq!(SessionStatus::of("active", 10, 10), SessionStatus::Expired);
        assert_eq!(SessionStatus::of("revoked", 10, 9), SessionStatus::Revoked);
        assert_eq!(SessionStatus::of("revoked", 10, 11), SessionStatus::Revoked);
    }

    fn vf(name: &str) -> (ErrorCode, Option<String>) {
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

    #[test]
    fn create_user() {
        let u = CreateUser::parse(
            br#"{"email":"a@b.co","email_verified":true,"first_name":"Ada","public_metadata":{"plan":"pro"}}"#,
        )
        .unwrap();
        assert_eq!(u.id, None);
        assert_eq!(u.user.email(), Some("a@b.co"));
        assert!(u.user.email_verified());
        assert_eq!(u.user.public_metadata()["plan"], "pro");
        let u = CreateUser::parse(br#"{"id":"user_imported_1"}"#).unwrap();
        assert_eq!(u.id.as_deref(), Some("user_imported_1"));
        assert_eq!(u.user.id(), "user_imported_1");

        assert_eq!(field(CreateUser::parse(br#"{"emial":"a@b"}"#)), vf("emial"));
        assert_eq!(field(CreateUser::parse(br#"{"email":5}"#)), vf("email"));
        assert_eq!(
            field(CreateUser::parse(br#"{"email":"nope"}"#)),
            vf("email")
        );
        assert_eq!(
            field(CreateUser::parse(br#"{"email_verified":"yes"}"#)),
            vf("email_verified")
        );
        assert_eq!(field(CreateUser::parse(br#"{"id":"a\"b"}"#)), vf("id"));
        assert_eq!(
            field(CreateUser::parse(br#"{"first_name":"a\nb"}"#)),
            vf("first_name")
        );
        let long = format!(r#"{{"last_name":"{}"}}"#, "x".repeat(257));
        assert_eq!(field(CreateUser::parse(long.as_bytes())), vf("last_name"));
        let long = format!(r#"{{"email":"a@{}"}}"#, "x".repeat(253));
        assert_eq!(field(CreateUser::parse(long.as_bytes())), vf("email"));
        let big = format!(r#"{{"private_metadata":{{"k":"{}"}}}}"#, "x".repeat(600));
        assert_eq!(
            field(CreateUser::parse(big.as_bytes())),
            vf("private_metadata")
        );
        assert_eq!(
            field(CreateUser::parse(br#"{"unsafe_metadata":[1]}"#)),
            vf("unsafe_metadata")
        );
    }

    #[test]
    fn update_user_and_metadata() {
        let mut current = User::new("user_1").unwrap();
        current.set_email(Some("a@b.co"), true).unwrap();
        current.set_names(Some("Ada"), Some("L")).unwrap();
        let mut bag = Map::new();
        bag.insert("plan".into(), "free".into());
        bag.insert("seats".into(), 3.into());
        current.set_public_metadata(bag).unwrap();

        let up = UpdateUser::parse(br#"{"last_name":null,"email":"c@d.co"}"#).unwrap();
        let after = up.apply(&current).unwrap();
        assert_eq!(after.email(), Some("c@d.co"));
        assert!(!after.email_verified(), "a new email is unverified");
        assert_eq!((after.first_name(), after.last_name()), (Some("Ada"), None));
        assert_eq!(after.public_metadata(), current.public_metadata());
        let same = UpdateUser::parse(b"{}").unwrap().apply(&current).unwrap();
        assert_eq!(same, current);
        assert_eq!(field(UpdateUser::parse(br#"{"id":"x"}"#)), vf("id"));
        assert_eq!(field(UpdateUser::parse(br#"{"name":"x"}"#)), vf("name"));

        let md =
            UpdateMetadata::parse(br#"{"public_metadata":{"plan":"pro","seats":null}}"#).unwrap();
        let after = md.apply(&current).unwrap();
        assert_eq!(
            Value::Object(after.public_metadata().clone()),
            json!({"plan": "pro"})
        );
        assert_eq!(
            UpdateMetadata::parse(b"{}").unwrap_err().code,
            ErrorCode::ValidationFailed
        );
        let big = format!(r#"{{"public_metadata":{{"k":"{}"}}}}"#, "x".repeat(505));
        let md = UpdateMetadata::parse(big.as_bytes()).unwrap();
        assert_eq!(field(md.apply(&current)), vf("public_metadata"));
    }

    #[test]
    fn create_session() {
        let s = CreateSession::parse(
            br#"{"user_id":"user_1","org_id":"org_1","org_role":"admin","aal":"aal2","actor":{"sub":"user_admin"},"expires_in":3600}"#,
        )
        .unwrap();
        assert_eq!(s.user_id, "user_1");
        assert_eq!(s.aal, Some(Aal::Aal2));
        assert_eq!(s.aal.map(Aal::as_str), Some("aal2"));
        assert_eq!(s.expires_in, Some(3600));
        assert_eq!(field(CreateSession::parse(b"{}")), vf("user_id"));
        assert_eq!(
            field(CreateSession::parse(br#"{"user_id":""}"#)),
            vf("user_id")
        );
        for (body, name) in [
            (r#"{"user_id":"u","aal":"aal4"}"#, "aal"),
            (r#"{"user_id":"u","expires_in":59}"#, "expires_in"),
            (r#"{"user_id":"u","expires_in":2592001}"#, "expires_in"),
            (r#"{"user_id":"u","expires_in":1.5}"#, "expires_in"),
            (r#"{"user_id":"u","expires_in":"60"}"#, "expires_in"),
            (r#"{"user_id":"u","actor":{}}"#, "actor"),
            (r#"{"user_id":"u","actor":"x"}"#, "actor"),
            (r#"{"user_id":"u","org_role":"admin"}"#, "org_role"),
            (r#"{"user_id":"u","sid":"s"}"#, "sid"),
        ] {
            assert_eq!(
                field(CreateSession::parse(body.as_bytes())),
                vf(name),
                "{body}"
            );
        }
    }

    #[test]
    fn templates_are_validated_by_the_engine() {
        let t = PutTemplate::parse(
            br#"{"claims":{"email":"{{user.email}}"},"lifetime":300,"default":true}"#,
        )
        .unwrap();
        assert!(t.is_default);
        assert_eq!(t.lifetime, Some(300));
        assert_eq!(t.template.lifetime(), Some(300));
        assert_eq!(t.claims_json, r#"{"email":"{{user.email}}"}"#);
        let e = PutTemplate::parse(br#"{"claims":{"sub":"x"}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref(), e.pointer.as_deref()),
            (ErrorCode::ReservedClaim, Some("claims"), Some("/sub"))
        );
        let e =
            PutTemplate::parse(br#"{"claims":{"a":["{{user.private_metadata.x}}"]}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.pointer.as_deref()),
            (ErrorCode::PrivateMetadataNotAllowed, Some("/a/0"))
        );
        let e = PutTemplate::parse(br#"{"claims":{},"lifetime":29}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidLifetime, Some("lifetime"))
        );
        assert_eq!(
            field(PutTemplate::parse(br#"{"claims":{},"lifetime":"1"}"#)),
            vf("lifetime")
        );
        assert_eq!(field(PutTemplate::parse(br#"{"claims":[]}"#)), vf("claims"));
        assert_eq!(field(PutTemplate::parse(br#"{}"#)), vf("claims"));
        assert_eq!(
            field(PutTemplate::parse(br#"{"claims":{},"default":1}"#)),
            vf("default")
        );
        assert_eq!(
            field(PutTemplate::parse(br#"{"claims":{},"name":"x"}"#)),
            vf("name")
        );
        assert!(valid_lifetime(30) && valid_lifetime(86_400) && !valid_lifetime(86_401));
    }

    #[test]
    fn previews() {
        let p = PreviewTemplate::parse(br#"{"claims":{"e":"{{user.email}}"}}"#).unwrap();
        assert_eq!(p.user, PreviewUser::Sample);
        let p = PreviewTemplate::parse(br#"{"claims":{},"user_id":"user_1"}"#).unwrap();
        assert_eq!(p.user, PreviewUser::Stored("user_1".into()));
        let p = PreviewTemplate::parse(br#"{"claims":{},"user":{"email":"a@b.co"}}"#).unwrap();
        match p.user {
            PreviewUser::Inline(u) => assert_eq!(u.email(), Some("a@b.co")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            field(PreviewTemplate::parse(
                br#"{"claims":{},"user_id":"u","user":{}}"#
            )),
            vf("user")
        );
        assert_eq!(
            field(PreviewTemplate::parse(
                br#"{"claims":{},"user":{"emial":"x"}}"#
            )),
            vf("user.emial")
        );
        assert_eq!(
            field(PreviewTemplate::parse(
                br#"{"claims":{},"user":{"email":3}}"#
            )),
            vf("user.email")
        );
    }

    #[test]
    fn api_keys() {
        let k = CreateApiKey::parse(br#"{"name":"ci","scopes":["users:read"],"expires_in":86400}"#)
            .unwrap();
        assert_eq!(k.scopes, ScopeSet::of(&[Scope::UsersRead]));
        assert_eq!(k.expires_in, Some(86_400));
        assert_eq!(
            field(CreateApiKey::parse(br#"{"scopes":["admin"]}"#)),
            vf("name")
        );
        assert_eq!(field(CreateApiKey::parse(br#"{"name":"x"}"#)), vf("scopes"));
        let e = CreateApiKey::parse(br#"{"name":"x","scopes":["users:read","root"]}"#).unwrap_err();
        assert_eq!(
            (e.field.as_deref(), e.pointer.as_deref()),
            (Some("scopes"), Some("/1"))
        );
        assert_eq!(
            field(CreateApiKey::parse(
                br#"{"name":"x","scopes":["admin"],"expires_in":10}"#
            )),
            vf("expires_in")
        );
        let long = format!(r#"{{"name":"{}","scopes":["admin"]}}"#, "n".repeat(65));
        assert_eq!(field(CreateApiKey::parse(long.as_bytes())), vf("name"));
        assert_eq!(RollApiKey::parse(b"").unwrap().expire_previous_in, 0);
        assert_eq!(
            RollApiKey::parse(br#"{"expire_previous_in":3600}"#)
                .unwrap()
                .expire_previous_in,
            3600
        );
        assert_eq!(
            field(RollApiKey::parse(br#"{"expire_previous_in":604801}"#)),
            vf("expire_previous_in")
        );
        assert_eq!(
            field(RollApiKey::parse(br#"{"expire_previous_in":-1}"#)),
            vf("expire_previous_in")
        );
    }

    #[test]
    fn applications() {
        let a = CreateApplication::parse(
            br#"{"id":"acme","environment":"production","allowed_origins":["https://app.acme.com","http://localhost:3000"]}"#,
        )
        .unwrap();
        assert_eq!(a.environment, Environment::Production);
        assert_eq!(a.allowed_origins.len(), 2);
        assert!(a.domains.is_empty());
        let a = CreateApplication::parse(
            br#"{"id":"acme","environment":"production","domains":["login.acme.co.uk","Auth.Acme.com","auth.acme.com"]}"#,
        )
        .unwrap();
        assert_eq!(a.domains, ["auth.acme.com", "login.acme.co.uk"]);
        let too_many = format!(
            r#"{{"id":"a","environment":"production","domains":[{}]}}"#,
            (0..=MAX_DOMAINS)
                .map(|i| format!(r#""d{i}.example.com""#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            field(CreateApplication::parse(too_many.as_bytes())),
            vf("domains")
        );
        for bad in [
            "example",
            "auth.example.com:8443",
            "https://auth.example.com",
            "auth.example.com.",
            "auth.example.com/x",
            "-a.example.com",
            "a-.example.com",
            "a..example.com",
            "10.0.0.1",
            "*.example.com",
            "caf\u{e9}.example.com",
        ] {
            let body = format!(
                r#"{{"id":"a","environment":"production","domains":["ok.example.com","{bad}"]}}"#
            );
            let err = CreateApplication::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("domains"), "{bad}");
            assert_eq!(err.pointer.as_deref(), Some("/1"), "{bad}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(!valid_domain(&long));
        let label = "a".repeat(63);
        let max = format!("{label}.{label}.{label}.{}", "a".repeat(61));
        assert_eq!(max.len(), 253);
        assert!(valid_domain(&max));
        assert!(!valid_domain(&format!("a{max}")));
        let u = UpdateApplication::parse(br#"{"domains":["a.example.com"]}"#).unwrap();
        assert_eq!(
            u.domains.as_deref(),
            Some(&["a.example.com".to_string()][..])
        );
        assert_eq!(u.allowed_origins, None);
        for (body, name) in [
            (r#"{"id":"Acme","environment":"production"}"#, "id"),
            (r#"{"id":"-a","environment":"production"}"#, "id"),
            (r#"{"id":"a","environment":"staging"}"#, "environment"),
            (
                r#"{"id":"a","environment":"production","allowed_origins":["https://a.com/"]}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","allowed_origins":["*"]}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","allowed_origins":"https://a.com"}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","issuer":"ftp://x"}"#,
                "issuer",
            ),
        ] {
            assert_eq!(
                field(CreateApplication::parse(body.as_bytes())),
                vf(name),
                "{body}"
            );
        }
    }

    #[test]
    fn queries() {
        let q = ListUsers::parse("email=a%2Bb%40c.co&limit=5").unwrap();
        assert_eq!(q.email.as_deref(), Some("a+b@c.co"));
        assert_eq!(q.page.limit, 5);
        assert_eq!(ListUsers::parse("").unwrap().page.limit, DEFAULT_LIMIT);
        for (query, name) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=-1", "limit"),
            ("limit=abc", "limit"),
            ("limit=", "limit"),
            ("limit=99999999999999999999999", "limit"),
            ("limit=1&limit=2", "limit"),
            ("starting_after=zzz", "starting_after"),
            ("emial=x", "emial"),
            ("email=%zz", "email"),
        ] {
            assert_eq!(field(ListUsers::parse(query)), vf(name), "{query}");
        }
        let cursor = Cursor {
            created_at: 10,
            id: "sess_1".into(),
        };
        let q = ListSessions::parse(&format!(
            "user_id=user_1&status=revoked&starting_after={}",
            cursor.encode(ListKind::Sessions)
        ))
        .unwrap();
        assert_eq!(q.status, Some(SessionStatus::Revoked));
        assert_eq!(q.page.starting_after, Some(cursor.clone()));
        let users_cursor = cursor.encode(ListKind::Users);
        assert_eq!(
            field(ListSessions::parse(&format!(
                "starting_after={users_cursor}"
            ))),
            vf("starting_after")
        );
        assert_eq!(field(ListSessions::parse("status=ended")), vf("status"));
        assert_eq!(SessionStatus::Expired.as_str(), "expired");
        assert_eq!(
            parse_list_query("limit=100", ListKind::ApiKeys)
                .unwrap()
                .limit,
            100
        );
        assert_eq!(
            parse_token_query("template=hasura").unwrap().as_deref(),
            Some("hasura")
        );
        assert_eq!(parse_token_query("").unwrap(), None);
        assert_eq!(field(parse_token_query("template=a%20b")), vf("template"));
        assert!(parse_no_query("").is_ok());
        assert_eq!(field(parse_no_query("x=1")), vf("x"));
        let long = "a".repeat(MAX_QUERY_BYTES + 1);
        assert_eq!(field(parse_no_query(&long)), vf("query"));
    }
}
