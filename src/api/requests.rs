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
use super::pagination::{check_limit, Cursor, ListKind, DEFAULT_LIMIT};
use super::routes::{percent_decode, valid_template_name, valid_user_id};
use super::scopes::ScopeSet;
use crate::encoding::json;
use crate::error::ErrorCode;
use crate::templates::engine::{Template, MAX_TEMPLATE_LIFETIME_SECS, MIN_TEMPLATE_LIFETIME_SECS};
use crate::templates::user::{MetadataBag, StoredUser, User, MAX_EMAIL_BYTES, MAX_NAME_BYTES};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

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

fn check_email(email: &str) -> Result<(), ApiError> {
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(ApiError::validation(
            "email",
            "must be an address `local@domain`",
        )),
    }
}

/// The user fields of a create (`POST /v1/users`) or an inline preview user.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateUser {
    /// A caller-chosen id (e.g. when importing users); `None`: the Worker generates one.
    pub id: Option<String>,
    /// The user, every cap checked (its id is `id` or a placeholder until generated).
    pub user: User,
}

/// Placeholder id of a user whose id is not chosen yet.
const PENDING_ID: &str = "user_pending";

fn user_fields(f: &mut Fields, id_required: bool) -> Result<CreateUser, ApiError> {
    let id = f.string("id", 64)?;
    if let Some(id) = &id {
        if !valid_user_id(id) {
            return Err(ApiError::validation(
                "id",
                "must be 1 to 64 printable ASCII characters without quotes or backslashes",
            ));
        }
    } else if id_required {
        return Err(ApiError::validation("id", "is required"));
    }
    let email = f.string("email", MAX_EMAIL_BYTES)?;
    if let Some(e) = &email {
        check_email(e)?;
    }
    let email_verified = f.bool("email_verified")?.unwrap_or(false);
    let first_name = f.string("first_name", MAX_NAME_BYTES)?;
    let last_name = f.string("last_name", MAX_NAME_BYTES)?;
    let public_metadata = f.object("public_metadata")?.unwrap_or_default();
    let private_metadata = f.object("private_metadata")?.unwrap_or_default();
    let unsafe_metadata = f.object("unsafe_metadata")?.unwrap_or_default();
    let user = User::from_stored(StoredUser {
        id: id.as_deref().unwrap_or(PENDING_ID),
        email: email.as_deref(),
        email_verified,
        first_name: first_name.as_deref(),
        last_name: last_name.as_deref(),
        name: None,
        public_metadata,
        unsafe_metadata,
        private_metadata,
    })
    .map_err(|e| ApiError::from_user(&e))?;
    Ok(CreateUser { id, user })
}

impl CreateUser {
    /// Parses `POST /v1/users` `{ id?, email?, email_verified?, first_name?, last_name?,
    /// public_metadata?, private_metadata?, unsafe_metadata? }`.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let out = user_fields(&mut f, false)?;
        f.finish()?;
        Ok(out)
    }
}

/// `PATCH /v1/users/{id}`: every field optional; `null` clears a text field; a metadata
/// bag given here replaces the bag (use the metadata endpoint to merge).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateUser {
    /// `email`.
    pub email: Patch<String>,
    /// `email_verified`.
    pub email_verified: Option<bool>,
    /// `first_name`.
    pub first_name: Patch<String>,
    /// `last_name`.
    pub last_name: Patch<String>,
    /// `public_metadata` (replaces the bag).
    pub public_metadata: Option<Map<String, Value>>,
    /// `private_metadata` (replaces the bag).
    pub private_metadata: Option<Map<String, Value>>,
    /// `unsafe_metadata` (replaces the bag).
    pub unsafe_metadata: Option<Map<String, Value>>,
}

fn patched(p: &Patch<String>, current: Option<&str>) -> Option<String> {
    match p {
        Patch::Absent => current.map(ToString::to_string),
        Patch::Null => None,
        Patch::Set(v) => Some(v.clone()),
    }
}

impl UpdateUser {
    /// Parses the body (types, caps; `id` cannot change).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        if f.take("id").is_some() {
            return Err(ApiError::validation("id", "a user's id cannot change"));
        }
        let email = f.patch_string("email", MAX_EMAIL_BYTES)?;
        if let Patch::Set(e) = &email {
            check_email(e)?;
        }
        let out = Self {
            email,
            email_verified: f.bool("email_verified")?,
            first_name: f.patch_string("first_name", MAX_NAME_BYTES)?,
            last_name: f.patch_string("last_name", MAX_NAME_BYTES)?,
            public_metadata: f.object("public_metadata")?,
            private_metadata: f.object("private_metadata")?,
            unsafe_metadata: f.object("unsafe_metadata")?,
        };
        f.finish()?;
        Ok(out)
    }

    /// The user after this update, every cap re-checked. Changing the email without
    /// `email_verified` makes it unverified.
    pub fn apply(&self, current: &User) -> Result<User, ApiError> {
        let mut user = current.clone();
        let email = patched(&self.email, current.email());
        let email_changed = email.as_deref() != current.email();
        let verified = self
            .email_verified
            .unwrap_or(current.email_verified() && !email_changed);
        let err = |e: crate::templates::user::UserError| ApiError::from_user(&e);
        user.set_email(email.as_deref(), verified).map_err(err)?;
        let first = patched(&self.first_name, current.first_name());
        let last = patched(&self.last_name, current.last_name());
        user.set_names(first.as_deref(), last.as_deref())
            .map_err(err)?;
        for (bag, map) in [
            (MetadataBag::Public, &self.public_metadata),
            (MetadataBag::Private, &self.private_metadata),
            (MetadataBag::Unsafe, &self.unsafe_metadata),
        ] {
            if let Some(map) = map {
                user.set_metadata(bag, map.clone()).map_err(err)?;
            }
        }
        Ok(user)
    }
}

/// `PATCH /v1/users/{id}/metadata`: a merge patch per bag (see [`super::merge`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpdateMetadata {
    /// Patch of `public_metadata`.
    pub public_metadata: Option<Map<String, Value>>,
    /// Patch of `private_metadata`.
    pub private_metadata: Option<Map<String, Value>>,
    /// Patch of `unsafe_metadata`.
    pub unsafe_metadata: Option<Map<String, Value>>,
}

impl UpdateMetadata {
    /// Parses the body: at least one bag, each an object.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let out = Self {
            public_metadata: f.object("public_metadata")?,
            private_metadata: f.object("private_metadata")?,
            unsafe_metadata: f.object("unsafe_metadata")?,
        };
        f.finish()?;
        if out.public_metadata.is_none()
            && out.private_metadata.is_none()
            && out.unsafe_metadata.is_none()
        {
            return Err(ApiError::new(
                ErrorCode::ValidationFailed,
                "give public_metadata, private_metadata or unsafe_metadata",
            ));
        }
        Ok(out)
    }

    /// The user with each patch merged into its bag, caps re-checked.
    pub fn apply(&self, current: &User) -> Result<User, ApiError> {
        let mut user = current.clone();
        for (bag, patch, base) in [
            (
                MetadataBag::Public,
                &self.public_metadata,
                current.public_metadata(),
            ),
            (
                MetadataBag::Private,
                &self.private_metadata,
                current.private_metadata(),
            ),
            (
                MetadataBag::Unsafe,
                &self.unsafe_metadata,
                current.unsafe_metadata(),
            ),
        ] {
            if let Some(patch) = patch {
                let merged = merge_metadata(bag, base, patch)?;
                user.set_metadata(bag, merged)
                    .map_err(|e| ApiError::from_user(&e))?;
            }
        }
        Ok(user)
    }
}

/// An authenticator assurance level (NIST SP 800-63B).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aal {
    /// `aal1`.
    Aal1,
    /// `aal2`.
    Aal2,
    /// `aal3`.
    Aal3,
}

impl Aal {
    /// `aal1`, `aal2` or `aal3`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Aal1 => "aal1",
            Self::Aal2 => "aal2",
            Self::Aal3 => "aal3",
        }
    }
}

/// `POST /v1/sessions { user_id, org_id?, org_role?, aal?, actor?, expires_in? }`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateSession {
    /// The user.
    pub user_id: String,
    /// The active organization.
    pub org_id: Option<String>,
    /// The role in it.
    pub org_role: Option<String>,
    /// The assurance level.
    pub aal: Option<Aal>,
    /// The actor (`act` claim, impersonation): an object with a string `sub`.
    pub actor: Option<Map<String, Value>>,
    /// Lifetime in seconds (60 … 30 days); `None`: the Worker's default.
    pub expires_in: Option<i64>,
}

impl CreateSession {
    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let user_id = f.required_string("user_id", 64)?;
        if !valid_user_id(&user_id) {
            return Err(ApiError::validation("user_id", "not a valid user id"));
        }
        let org_id = f.string("org_id", MAX_ORG_ID_BYTES)?;
        let org_role = f.string("org_role", MAX_ORG_ROLE_BYTES)?;
        if org_role.is_some() && org_id.is_none() {
            return Err(ApiError::validation("org_role", "needs org_id"));
        }
        let aal = match f.string("aal", 8)?.as_deref() {
            None => None,
            Some("aal1") => Some(Aal::Aal1),
            Some("aal2") => Some(Aal::Aal2),
            Some("aal3") => Some(Aal::Aal3),
            Some(_) => return Err(ApiError::validation("aal", "must be aal1, aal2 or aal3")),
        };
        let actor = f.object("actor")?;
        if let Some(actor) = &actor {
            let sub = actor.get("sub").and_then(Value::as_str).unwrap_or_default();
            if sub.is_empty() {
                return Err(ApiError::validation("actor", "needs a string `sub`"));
            }
            let size = serde_json::to_vec(actor).map_or(usize::MAX, |v| v.len());
            if size > MAX_ACTOR_BYTES {
                return Err(ApiError::validation(
                    "actor",
                    format!("must be at most {MAX_ACTOR_BYTES} bytes"),
                ));
            }
        }
        let expires_in = f.int("expires_in", MIN_SESSION_EXPIRES_IN, MAX_SESSION_EXPIRES_IN)?;
        f.finish()?;
        Ok(Self {
            user_id,
            org_id,
            org_role,
            aal,
            actor,
            expires_in,
        })
    }
}

/// `PUT /v1/jwt-templates/{name} { claims, lifetime?, default? }`, validated by the
/// template engine (its codes, pointers into `claims`).
#[derive(Debug, Clone)]
pub struct PutTemplate {
    /// The claims as compact JSON (the D1 `body`).
    pub claims_json: String,
    /// Token lifetime in seconds (30 … 86 400).
    pub lifetime: Option<i64>,
    /// Whether it becomes the application's default.
    pub is_default: bool,
    /// The compiled template.
    pub template: Template,
}

fn template_from(f: &mut Fields) -> Result<(String, Option<i64>, Template), ApiError> {
    let claims = match f.take("claims") {
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::validation("claims", "must be an object")),
        None => return Err(ApiError::validation("claims", "is required")),
    };
    let lifetime = match f.take("lifetime") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
            ApiError::validation("lifetime", "must be an integer number of seconds")
        })?),
        Some(_) => return Err(ApiError::validation("lifetime", "must be an integer")),
    };
    let claims_json = Value::Object(claims).to_string();
    let mut template = Template::parse(claims_json.as_bytes())
        .map_err(|e| ApiError::from_template(&e, "claims"))?;
    if let Some(secs) = lifetime {
        template = template
            .with_lifetime(secs)
            .map_err(|e| ApiError::from_template(&e, "lifetime"))?;
    }
    Ok((claims_json, lifetime, template))
}

impl PutTemplate {
    /// Parses and validates the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let (claims_json, lifetime, template) = template_from(&mut f)?;
        let is_default = f.bool("default")?.unwrap_or(false);
        f.finish()?;
        Ok(Self {
            claims_json,
            lifetime,
            is_default,
            template,
        })
    }
}

/// Whom a preview renders for.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewUser {
    /// Neither `user_id` nor `user`: a sample user.
    Sample,
    /// `user_id`: a stored user (the Worker reads it).
    Stored(String),
    /// `user`: an inline user (same fields as `POST /v1/users`).
    Inline(User),
}

/// The user a preview renders for when it names none: every field and a public and
/// unsafe bag filled in, so each shortcode shows a value.
pub fn sample_user() -> Result<User, ApiError> {
    let bag = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    User::from_stored(StoredUser {
        id: "user_sample",
        email: Some("ada@example.com"),
        email_verified: true,
        first_name: Some("Ada"),
        last_name: Some("Lovelace"),
        name: None,
        public_metadata: bag(serde_json::json!({"role": "admin", "plan": "pro"})),
        unsafe_metadata: bag(serde_json::json!({"theme": "dark"})),
        private_metadata: Map::new(),
    })
    .map_err(|e| ApiError::from_user(&e))
}

/// `POST /v1/jwt-templates/preview { claims, lifetime?, user_id? | user? }`.
#[derive(Debug, Clone)]
pub struct PreviewTemplate {
    /// The compiled template.
    pub template: Template,
    /// Its lifetime, if given.
    pub lifetime: Option<i64>,
    /// The user to render for.
    pub user: PreviewUser,
}

impl PreviewTemplate {
    /// Parses and validates the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let (_, lifetime, template) = template_from(&mut f)?;
        let user_id = f.string("user_id", 64)?;
        let inline = f.object("user")?;
        f.finish()?;
        let user = match (user_id, inline) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "user",
                    "give user_id or user, not both",
                ))
            }
            (Some(id), None) if valid_user_id(&id) => PreviewUser::Stored(id),
            (Some(_), None) => return Err(ApiError::validation("user_id", "not a valid user id")),
            (None, Some(map)) => {
                let mut inner = Fields::from_map(map);
                let parsed = user_fields(&mut inner, false).map_err(|e| nest("user", e))?;
                inner.finish().map_err(|e| nest("user", e))?;
                PreviewUser::Inline(parsed.user)
            }
            (None, None) => PreviewUser::Sample,
        };
        Ok(Self {
            template,
            lifetime,
            user,
        })
    }
}

/// An error about a member of object `outer`: its field becomes `outer.field`.
fn nest(outer: &str, mut e: ApiError) -> ApiError {
    e.field = Some(match e.field.take() {
        Some(inner) => format!("{outer}.{inner}"),
        None => outer.to_string(),
    });
    e
}

/// `POST /v1/api-keys { name, scopes, expires_in? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateApiKey {
    /// A name unique in the application (1 … 64 bytes).
    pub name: String,
    /// The scopes (check them with [`ScopeSet::check_grant`] against the caller's).
    pub scopes: ScopeSet,
    /// Lifetime in seconds (60 s … 5 years); `None`: never expires.
    pub expires_in: Option<i64>,
}

impl CreateApiKey {
    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let name = f.required_string("name", MAX_KEY_NAME_BYTES)?;
        let scopes = match f.take("scopes") {
            Some(v) => ScopeSet::from_json(&v, "scopes")?,
            None => return Err(ApiError::validation("scopes", "is required")),
        };
        let expires_in = f.int("expires_in", MIN_KEY_EXPIRES_IN, MAX_KEY_EXPIRES_IN)?;
        f.finish()?;
        Ok(Self {
            name,
            scopes,
            expires_in,
        })
    }
}

/// `POST /v1/api-keys/{id}/roll { expire_previous_in? }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollApiKey {
    /// Seconds the previous secret keeps working (0 … 7 days; absent: 0, at once).
    pub expire_previous_in: i64,
}

impl RollApiKey {
    /// Parses the body (may be empty).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, true)?;
        let secs = f.int("expire_previous_in", 0, MAX_EXPIRE_PREVIOUS_IN)?;
        f.finish()?;
        Ok(Self {
            expire_previous_in: secs.unwrap_or(0),
        })
    }
}

/// The body of a `POST` that takes none (revoke, rotate, session tokens): empty or `{}`.
pub fn parse_empty_body(body: &[u8]) -> Result<(), ApiError> {
    Fields::parse(body, true)?.finish()
}

/// `POST /v1/applications` (operator)
/// `{ id, environment, issuer?, allowed_origins?, domains? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateApplication {
    /// The application (tenant) id: a DNS label, `a-z 0-9 -`, 1 … 63 bytes.
    pub id: String,
    /// Its environment.
    pub environment: Environment,
    /// Its issuer URL (`None`: the Worker derives it from the base domain).
    pub issuer: Option<String>,
    /// Origins allowed to call it from browsers (`https://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Custom domains that serve it (lower case DNS names, besides
    /// `<id>.<TORII_BASE_DOMAIN>`).
    pub domains: Vec<String>,
}

/// Whether `host` is a DNS name a custom domain can be: at least two labels of 1–63
/// bytes of `a-z 0-9 -` (not starting or ending with `-`), at most [`MAX_DOMAIN_BYTES`],
/// not all-numeric at the top (no IP literals), no port, no trailing dot; lower case.
pub fn valid_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    host.len() <= MAX_DOMAIN_BYTES
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// A list member of at most `max` strings of at most `max_bytes`: absent or `null` →
/// `None`; each item goes through `check` (its normalized form, or `None` → `bad`, named
/// by its pointer `/<i>`); duplicates are dropped, keeping the first.
fn string_list(
    value: Option<Value>,
    field: &str,
    (max, max_bytes): (usize, usize),
    check: impl Fn(String) -> Option<String>,
    bad: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ApiError::validation(field, "must be an array of strings")),
    };
    if list.len() > max {
        return Err(ApiError::validation(field, format!("at most {max} items")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        let pointer = format!("/{i}");
        let item = text(field, v, max_bytes).map_err(|e| e.with_pointer(&pointer))?;
        let item =
            check(item).ok_or_else(|| ApiError::validation(field, bad).with_pointer(&pointer))?;
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Some(out))
}

/// The `domains` member: at most [`MAX_DOMAINS`] DNS names, case-folded to lower case
/// and sorted. Whether a domain may be claimed at all (not the base domain, not a tenant
/// subdomain, not loopback) is [`crate::edge::tenancy::claimable_domain`].
fn domains(value: Option<Value>) -> Result<Option<Vec<String>>, ApiError> {
    let mut list = string_list(
        value,
        "domains",
        (MAX_DOMAINS, MAX_DOMAIN_BYTES),
        |d| Some(d.to_ascii_lowercase()).filter(|d| valid_domain(d)),
        "a domain is a DNS name such as `auth.example.com`, without scheme, port or path",
    )?;
    if let Some(l) = &mut list {
        l.sort_unstable();
    }
    Ok(list)
}

fn valid_origin(o: &str) -> bool {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    })
}

/// The `allowed_origins` member: at most [`MAX_ALLOWED_ORIGINS`] origins
/// `http(s)://host[:port]`, in the order given.
fn allowed_origins(value: Option<Value>) -> Result<Option<Vec<String>>, ApiError> {
    string_list(
        value,
        "allowed_origins",
        (MAX_ALLOWED_ORIGINS, MAX_ORIGIN_BYTES),
        |o| Some(o).filter(|o| valid_origin(o)),
        "an origin is `https://host[:port]`, without path",
    )
}

/// The issuer of a new application that names none: `https://<id>.<base domain>` when
/// `TORII_BASE_DOMAIN` is set, else the origin the request came to (local development:
/// the loopback edge serves every application).
pub fn default_issuer(id: &str, base_domain: Option<&str>, request_origin: &str) -> String {
    match base_domain
        .map(|d| d.trim_matches('.'))
        .filter(|d| !d.is_empty())
    {
        Some(domain) => format!("https://{id}.{}", domain.to_ascii_lowercase()),
        None => request_origin.trim_end_matches('/').to_string(),
    }
}

/// `PATCH /v1/applications/current { allowed_origins?, domains? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateApplication {
    /// The new CORS origins (replacing the list), if given.
    pub allowed_origins: Option<Vec<String>>,
    /// The new custom domains (replacing the list), if given.
    pub domains: Option<Vec<String>>,
}

impl UpdateApplication {
    /// Parses the body (the id, environment and issuer cannot change).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        for fixed in ["id", "environment", "issuer"] {
            if f.take(fixed).is_some() {
                return Err(ApiError::validation(
                    fixed,
                    format!("an application's {fixed} cannot change"),
                ));
            }
        }
        let allowed_origins = allowed_origins(f.take("allowed_origins"))?;
        let domains = domains(f.take("domains"))?;
        f.finish()?;
        Ok(Self {
            allowed_origins,
            domains,
        })
    }
}

impl CreateApplication {
    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let id = f.required_string("id", MAX_APPLICATION_ID_BYTES)?;
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || id.starts_with('-')
            || id.ends_with('-')
        {
            return Err(ApiError::validation(
                "id",
                "must be a DNS label (a-z, 0-9, -)",
            ));
        }
        let env = f.required_string("environment", 16)?;
        let environment = Environment::parse(&env).ok_or_else(|| {
            ApiError::validation("environment", "must be development or production")
        })?;
        let issuer = f.string("issuer", MAX_ISSUER_BYTES)?;
        if issuer
            .as_deref()
            .is_some_and(|i| !i.starts_with("https://") && !i.starts_with("http://"))
        {
            return Err(ApiError::validation("issuer", "must be an http(s) URL"));
        }
        let allowed_origins = allowed_origins(f.take("allowed_origins"))?.unwrap_or_default();
        let domains = domains(f.take("domains"))?.unwrap_or_default();
        f.finish()?;
        Ok(Self {
            id,
            environment,
            issuer,
            allowed_origins,
            domains,
        })
    }
}

/// The decoded parameters of a query string; [`Query::finish`] refuses unknown ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=2` (without the `?`; `+` is a space, `%XX` decoded strictly).
    /// A repeated or undecodable parameter → `validation_failed` naming it.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        if query.len() > MAX_QUERY_BYTES {
            return Err(ApiError::validation(
                "query",
                "the query string is too long",
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = percent_decode(k, true)
                .ok_or_else(|| ApiError::validation("query", "malformed percent-encoding"))?;
            let v = percent_decode(v, true).ok_or_else(|| {
                ApiError::validation(&printable(&k), "malformed percent-encoding")
            })?;
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(ApiError::validation(&printable(&k), "is repeated"));
            }
            pairs.push((k, v));
        }
        Ok(Self { pairs })
    }

    /// Takes parameter `name`.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(k, _)| k == name)?;
        Some(self.pairs.remove(i).1)
    }

    /// Refuses any parameter not taken.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.pairs.first() {
            None => Ok(()),
            Some((k, _)) => Err(ApiError::validation(
                &printable(k),
                format!("unknown query parameter `{}`", printable(k)),
            )),
        }
    }

    /// `limit` (1 … 100, default 20) and `starting_after` (a cursor of `kind`).
    pub fn page(&mut self, kind: ListKind) -> Result<PageQuery, ApiError> {
        let limit = match self.take("limit") {
            None => DEFAULT_LIMIT,
            Some(l) => {
                if l.is_empty() || l.len() > 19 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ApiError::validation(
                        "limit",
                        "must be an integer from 1 to 100",
                    ));
                }
                check_limit(l.parse().unwrap_or(i64::MAX))?
            }
        };
        let starting_after = self
            .take("starting_after")
            .map(|c| Cursor::decode(&c, kind))
            .transpose()?;
        Ok(PageQuery {
            limit,
            starting_after,
        })
    }
}

/// The paging parameters of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Items per page (1 … 100).
    pub limit: usize,
    /// Where the page starts (after this position).
    pub starting_after: Option<Cursor>,
}

/// `GET /v1/users?email=&limit=&starting_after=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUsers {
    /// Exact email filter.
    pub email: Option<String>,
    /// Paging.
    pub page: PageQuery,
}

impl ListUsers {
    /// Parses the query.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut q = Query::parse(query)?;
        let email = q
            .take("email")
            .map(|e| text("email", Value::String(e), MAX_EMAIL_BYTES))
            .transpose()?;
        let page = q.page(ListKind::Users)?;
        q.finish()?;
        Ok(Self { email, page })
    }
}

/// A session status filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Not revoked and not expired.
    Active,
    /// Revoked.
    Revoked,
    /// Past `expires_at`, not revoked.
    Expired,
}

impl SessionStatus {
    /// The status of a stored session (`status` column `active`/`revoked`, its
    /// `expires_at`) at `now`: revoked wins, then expiry.
    pub fn of(stored: &str, expires_at: i64, now: i64) -> Self {
        if stored != "active" {
            Self::Revoked
        } else if expires_at <= now {
            Self::Expired
        } else {
            Self::Active
        }
    }

    /// `active`, `revoked` or `expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// `GET /v1/sessions?user_id=&status=&limit=&starting_after=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSessions {
    /// User filter.
    pub user_id: Option<String>,
    /// Status filter.
    pub status: Option<SessionStatus>,
    /// Paging.
    pub page: PageQuery,
}

impl ListSessions {
    /// Parses the query.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut q = Query::parse(query)?;
        let user_id = q.take("user_id");
        if user_id.as_deref().is_some_and(|u| !valid_user_id(u)) {
            return Err(ApiError::validation("user_id", "not a valid user id"));
        }
        let status = match q.take("status").as_deref() {
            None => None,
            Some("active") => Some(SessionStatus::Active),
            Some("revoked") => Some(SessionStatus::Revoked),
            Some("expired") => Some(SessionStatus::Expired),
            Some(_) => {
                return Err(ApiError::validation(
                    "status",
                    "must be active, revoked or expired",
                ))
            }
        };
        let page = q.page(ListKind::Sessions)?;
        q.finish()?;
        Ok(Self {
            user_id,
            status,
            page,
        })
    }
}

/// The query of a list without filters (`GET /v1/jwt-templates`, `GET /v1/api-keys`).
pub fn parse_list_query(query: &str, kind: ListKind) -> Result<PageQuery, ApiError> {
    let mut q = Query::parse(query)?;
    let page = q.page(kind)?;
    q.finish()?;
    Ok(page)
}

/// The query of `POST /v1/sessions/{id}/tokens?template=<name>`: the template, if any.
pub fn parse_token_query(query: &str) -> Result<Option<String>, ApiError> {
    let mut q = Query::parse(query)?;
    let template = q.take("template");
    if template.as_deref().is_some_and(|t| !valid_template_name(t)) {
        return Err(ApiError::validation(
            "template",
            "not a valid template name",
        ));
    }
    q.finish()?;
    Ok(template)
}

/// The query of an endpoint that takes none: empty.
pub fn parse_no_query(query: &str) -> Result<(), ApiError> {
    Query::parse(query)?.finish()
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
