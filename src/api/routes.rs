//! The `/v1` router as a pure function: `(method, path)` → [`ApiRoute`] with its path
//! parameters, or `not_found` / `method_not_allowed` (with `Allow`).
//!
//! The path is the request path without its query. Empty segments (`//`, a trailing
//! `/`) match nothing. A path parameter may be percent-encoded; decoded, it must be a
//! valid id of its kind (else `not_found`: no such resource can exist).

use super::error::ApiError;
use super::keys::KEY_ID_LEN;
use super::scopes::{required_scope, Access};
use crate::error::ErrorCode;
use crate::templates::user::MAX_USER_ID_BYTES;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Longest session id (the D1 `sessions.id` cap).
pub const MAX_SESSION_ID_BYTES: usize = 128;
/// Longest JWT template name.
pub const MAX_TEMPLATE_NAME_BYTES: usize = 64;
/// The path every Backend API route is under.
pub const API_PREFIX: &str = "/v1";

/// A Backend API endpoint, with its path parameters (decoded and validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiRoute {
    /// `POST /v1/applications` (operator, Worker secret).
    CreateApplication,
    /// `GET /v1/applications/current`: the calling key's application.
    GetApplication,
    /// `PATCH /v1/applications/current`.
    UpdateApplication,
    /// `GET /v1/openapi.json` (public).
    OpenApi,
    /// `OPTIONS` on any `/v1` resource: a CORS preflight.
    Preflight {
        /// The resource's methods.
        allow: &'static str,
    },
    /// `POST /v1/users`.
    CreateUser,
    /// `GET /v1/users`.
    ListUsers,
    /// `GET /v1/users/{id}`.
    GetUser {
        /// The user id.
        user_id: String,
    },
    /// `PATCH /v1/users/{id}`.
    UpdateUser {
        /// The user id.
        user_id: String,
    },
    /// `PATCH /v1/users/{id}/metadata`.
    UpdateUserMetadata {
        /// The user id.
        user_id: String,
    },
    /// `DELETE /v1/users/{id}`.
    DeleteUser {
        /// The user id.
        user_id: String,
    },
    /// `POST /v1/users/{id}/sessions/revoke`.
    RevokeUserSessions {
        /// The user id.
        user_id: String,
    },
    /// `POST /v1/sessions`.
    CreateSession,
    /// `GET /v1/sessions`.
    ListSessions,
    /// `GET /v1/sessions/{id}`.
    GetSession {
        /// The session id.
        session_id: String,
    },
    /// `POST /v1/sessions/{id}/revoke`.
    RevokeSession {
        /// The session id.
        session_id: String,
    },
    /// `POST /v1/sessions/{id}/tokens`.
    CreateSessionToken {
        /// The session id.
        session_id: String,
    },
    /// `GET /v1/jwt-templates`.
    ListTemplates,
    /// `POST /v1/jwt-templates/preview`.
    PreviewTemplate,
    /// `PUT /v1/jwt-templates/{name}`.
    PutTemplate {
        /// The template name.
        name: String,
    },
    /// `GET /v1/jwt-templates/{name}`.
    GetTemplate {
        /// The template name.
        name: String,
    },
    /// `DELETE /v1/jwt-templates/{name}`.
    DeleteTemplate {
        /// The template name.
        name: String,
    },
    /// `POST /v1/api-keys`.
    CreateApiKey,
    /// `GET /v1/api-keys`.
    ListApiKeys,
    /// `GET /v1/api-keys/{id}`.
    GetApiKey {
        /// The key id (the public part of the key).
        key_id: String,
    },
    /// `POST /v1/api-keys/{id}/roll`.
    RollApiKey {
        /// The key id.
        key_id: String,
    },
    /// `POST /v1/api-keys/{id}/revoke`.
    RevokeApiKey {
        /// The key id.
        key_id: String,
    },
    /// `GET /v1/signing-keys`.
    ListSigningKeys,
    /// `POST /v1/signing-keys/rotate`.
    RotateSigningKeys,
}

/// A resource the API reads by its id within the calling application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A user (`users.id`).
    User,
    /// A session (`sessions.id`).
    Session,
    /// A JWT template (`templates.name`).
    Template,
    /// A secret key (`api_keys.key_id`).
    ApiKey,
}

/// What [`ApiRoute::prefetch`] reads ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ahead<'a> {
    /// The row of this record with this id.
    Row(Record, &'a str),
    /// A page of these records (the route's query string decides which).
    List(Record),
}

impl Record {
    /// Its D1 table.
    pub const fn table(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Session => "sessions",
            Self::Template => "templates",
            Self::ApiKey => "api_keys",
        }
    }

    /// The column its path parameter names.
    pub const fn id_column(self) -> &'static str {
        match self {
            Self::User | Self::Session => "id",
            Self::Template => "name",
            Self::ApiKey => "key_id",
        }
    }
}

impl ApiRoute {
    /// What a read-only route answers from, which the Worker reads in the same D1 batch
    /// as the authentication read (one round trip per call). It is used only once the key
    /// is authenticated and its scope checked; writes (whose reads must follow an
    /// idempotency claim) read nothing ahead.
    pub fn prefetch(&self) -> Option<Ahead<'_>> {
        match self {
            Self::GetUser { user_id } => Some(Ahead::Row(Record::User, user_id)),
            Self::GetSession { session_id } => Some(Ahead::Row(Record::Session, session_id)),
            Self::GetTemplate { name } => Some(Ahead::Row(Record::Template, name)),
            Self::GetApiKey { key_id } => Some(Ahead::Row(Record::ApiKey, key_id)),
            Self::ListUsers => Some(Ahead::List(Record::User)),
            Self::ListSessions => Some(Ahead::List(Record::Session)),
            Self::ListTemplates => Some(Ahead::List(Record::Template)),
            Self::ListApiKeys => Some(Ahead::List(Record::ApiKey)),
            _ => None,
        }
    }

    /// Who may call it (see [`required_scope`]).
    pub fn access(&self) -> Access {
        required_scope(self)
    }

    /// Whether its `POST` takes an `Idempotency-Key` (every `POST`).
    pub fn is_post(&self) -> bool {
        matches!(
            self,
            Self::CreateApplication
                | Self::CreateUser
                | Self::RevokeUserSessions { .. }
                | Self::CreateSession
                | Self::RevokeSession { .. }
                | Self::CreateSessionToken { .. }
                | Self::PreviewTemplate
                | Self::CreateApiKey
                | Self::RollApiKey { .. }
                | Self::RevokeApiKey { .. }
                | Self::RotateSigningKeys
        )
    }

    /// A stable operation id, e.g. `users.create` (logs, OpenAPI `operationId`).
    pub const fn operation_id(&self) -> &'static str {
        match self {
            Self::CreateApplication => "applications.create",
            Self::GetApplication => "applications.get",
            Self::UpdateApplication => "applications.update",
            Self::OpenApi => "openapi.get",
            Self::Preflight { .. } => "preflight",
            Self::CreateUser => "users.create",
            Self::ListUsers => "users.list",
            Self::GetUser { .. } => "users.get",
            Self::UpdateUser { .. } => "users.update",
            Self::UpdateUserMetadata { .. } => "users.update_metadata",
            Self::DeleteUser { .. } => "users.delete",
            Self::RevokeUserSessions { .. } => "users.revoke_sessions",
            Self::CreateSession => "sessions.create",
            Self::ListSessions => "sessions.list",
            Self::GetSession { .. } => "sessions.get",
            Self::RevokeSession { .. } => "sessions.revoke",
            Self::CreateSessionToken { .. } => "sessions.create_token",
            Self::ListTemplates => "jwt_templates.list",
            Self::PreviewTemplate => "jwt_templates.preview",
            Self::PutTemplate { .. } => "jwt_templates.put",
            Self::GetTemplate { .. } => "jwt_templates.get",
            Self::DeleteTemplate { .. } => "jwt_templates.delete",
            Self::CreateApiKey => "api_keys.create",
            Self::ListApiKeys => "api_keys.list",
            Self::GetApiKey { .. } => "api_keys.get",
            Self::RollApiKey { .. } => "api_keys.roll",
            Self::RevokeApiKey { .. } => "api_keys.revoke",
            Self::ListSigningKeys => "signing_keys.list",
            Self::RotateSigningKeys => "signing_keys.rotate",
        }
    }
}

/// A `/v1` resource (a path pattern), before the method is considered.
enum Resource {
    Applications,
    ApplicationCurrent,
    OpenApi,
    Users,
    User(String),
    UserMetadata(String),
    UserSessionsRevoke(String),
    Sessions,
    Session(String),
    SessionRevoke(String),
    SessionTokens(String),
    Templates,
    TemplatePreview,
    Template(String),
    ApiKeys,
    ApiKey(String),
    ApiKeyRoll(String),
    ApiKeyRevoke(String),
    SigningKeys,
    SigningKeysRotate,
}

impl Resource {
    const fn allow(&self) -> &'static str {
        match self {
            Self::Applications
            | Self::UserSessionsRevoke(_)
            | Self::SessionRevoke(_)
            | Self::SessionTokens(_)
            | Self::TemplatePreview
            | Self::ApiKeyRoll(_)
            | Self::ApiKeyRevoke(_)
            | Self::SigningKeysRotate => "POST",
            Self::OpenApi
            | Self::Session(_)
            | Self::Templates
            | Self::ApiKey(_)
            | Self::SigningKeys => "GET",
            Self::Users | Self::Sessions | Self::ApiKeys => "GET, POST",
            Self::ApplicationCurrent => "GET, PATCH",
            Self::User(_) => "GET, PATCH, DELETE",
            Self::UserMetadata(_) => "PATCH",
            Self::Template(_) => "GET, PUT, DELETE",
        }
    }

    fn route(self, method: &str) -> Option<ApiRoute> {
        use ApiRoute as R;
        if method == "OPTIONS" {
            return Some(R::Preflight {
                allow: self.allow(),
            });
        }
        Some(match (self, method) {
            (Self::Applications, "POST") => R::CreateApplication,
            (Self::ApplicationCurrent, "GET") => R::GetApplication,
            (Self::ApplicationCurrent, "PATCH") => R::UpdateApplication,
            (Self::OpenApi, "GET") => R::OpenApi,
            (Self::Users, "GET") => R::ListUsers,
            (Self::Users, "POST") => R::CreateUser,
            (Self::User(user_id), "GET") => R::GetUser { user_id },
            (Self::User(user_id), "PATCH") => R::UpdateUser { user_id },
            (Self::User(user_id), "DELETE") => R::DeleteUser { user_id },
            (Self::UserMetadata(user_id), "PATCH") => R::UpdateUserMetadata { user_id },
            (Self::UserSessionsRevoke(user_id), "POST") => R::RevokeUserSessions { user_id },
            (Self::Sessions, "GET") => R::ListSessions,
            (Self::Sessions, "POST") => R::CreateSession,
            (Self::Session(session_id), "GET") => R::GetSession { session_id },
            (Self::SessionRevoke(session_id), "POST") => R::RevokeSession { session_id },
            (Self::SessionTokens(session_id), "POST") => R::CreateSessionToken { session_id },
            (Self::Templates, "GET") => R::ListTemplates,
            (Self::TemplatePreview, "POST") => R::PreviewTemplate,
            (Self::Template(name), "GET") => R::GetTemplate { name },
            (Self::Template(name), "PUT") => R::PutTemplate { name },
            (Self::Template(name), "DELETE") => R::DeleteTemplate { name },
            (Self::ApiKeys, "GET") => R::ListApiKeys,
            (Self::ApiKeys, "POST") => R::CreateApiKey,
            (Self::ApiKey(key_id), "GET") => R::GetApiKey { key_id },
            (Self::ApiKeyRoll(key_id), "POST") => R::RollApiKey { key_id },
            (Self::ApiKeyRevoke(key_id), "POST") => R::RevokeApiKey { key_id },
            (Self::SigningKeys, "GET") => R::ListSigningKeys,
            (Self::SigningKeysRotate, "POST") => R::RotateSigningKeys,
            _ => return None,
        })
    }
}

/// Whether `name` is a valid JWT template name: 1 to 64 of `A-Z a-z 0-9 _ - .`, and not
/// `preview` (that path is `POST /v1/jwt-templates/preview`).
pub fn valid_template_name(name: &str) -> bool {
    (1..=MAX_TEMPLATE_NAME_BYTES).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name != "preview"
        && name != "."
        && name != ".."
}

/// Whether `id` is a valid user id (as `User::new` takes it): 1 to 64 bytes of printable
/// ASCII without `"` or `\`.
pub fn valid_user_id(id: &str) -> bool {
    (1..=MAX_USER_ID_BYTES).contains(&id.len()) && valid_id_bytes(id)
}

/// Whether `id` is a valid session id: 1 to 128 bytes of printable ASCII without `"` or
/// `\`.
pub fn valid_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID_BYTES).contains(&id.len()) && valid_id_bytes(id)
}

/// Whether `id` is a valid API key id: exactly 12 base62 characters.
pub fn valid_key_id(id: &str) -> bool {
    id.len() == KEY_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_id_bytes(id: &str) -> bool {
    id.bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Strict percent-decoding (`%XX`, nothing else special); `None` for a malformed escape
/// or a result that is not UTF-8.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hi = hex_val(bytes.next()?)?;
                let lo = hex_val(bytes.next()?)?;
                out.push((hi << 4) | lo);
            }
            b'+' if plus_is_space => out.push(b' '),
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such Backend API route")
}

fn param(segment: &str, valid: fn(&str) -> bool) -> Result<String, ApiError> {
    let decoded = percent_decode(segment, false).ok_or_else(not_found)?;
    if valid(&decoded) {
        Ok(decoded)
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            "no such resource (the id is not well formed)",
        ))
    }
}

fn resource(rest: &str) -> Result<Resource, ApiError> {
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    use Resource as S;
    Ok(match segments.as_slice() {
        ["applications"] => S::Applications,
        ["applications", "current"] => S::ApplicationCurrent,
        ["openapi.json"] => S::OpenApi,
        ["users"] => S::Users,
        ["users", id] => S::User(param(id, valid_user_id)?),
        ["users", id, "metadata"] => S::UserMetadata(param(id, valid_user_id)?),
        ["users", id, "sessions", "revoke"] => S::UserSessionsRevoke(param(id, valid_user_id)?),
        ["sessions"] => S::Sessions,
        ["sessions", id] => S::Session(param(id, valid_session_id)?),
        ["sessions", id, "revoke"] => S::SessionRevoke(param(id, valid_session_id)?),
        ["sessions", id, "tokens"] => S::SessionTokens(param(id, valid_session_id)?),
        ["jwt-templates"] => S::Templates,
        ["jwt-templates", "preview"] => S::TemplatePreview,
        ["jwt-templates", name] => S::Template(param(name, valid_template_name)?),
        ["api-keys"] => S::ApiKeys,
        ["api-keys", id] => S::ApiKey(param(id, valid_key_id)?),
        ["api-keys", id, "roll"] => S::ApiKeyRoll(param(id, valid_key_id)?),
        ["api-keys", id, "revoke"] => S::ApiKeyRevoke(param(id, valid_key_id)?),
        ["signing-keys"] => S::SigningKeys,
        ["signing-keys", "rotate"] => S::SigningKeysRotate,
        _ => return Err(not_found()),
    })
}

/// Whether `path` is under `/v1` (the Worker hands such requests to the Backend API).
pub fn is_api_path(path: &str) -> bool {
    path == API_PREFIX || path.starts_with("/v1/")
}

/// Routes a `/v1` request. `method` is the request method (case-sensitive, as HTTP
/// defines it) and `path` the path without the query. Unknown path → `not_found` (404);
/// known path, other method → `method_not_allowed` (405, `allow` set); `OPTIONS` on a
/// known path → [`ApiRoute::Preflight`].
pub fn route(method: &str, path: &str) -> Result<ApiRoute, ApiError> {
    let rest = path.strip_prefix("/v1/").ok_or_else(not_found)?;
    let res = resource(rest)?;
    let allow = res.allow();
    res.route(method).ok_or_else(|| {
        let mut err = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("only {allow} are allowed here"),
        );
        err.allow = Some(allow);
        err
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn only_reads_prefetch_and_only_what_they_answer_from() {
        for r in sample_routes() {
            let expected = match &r {
                ApiRoute::GetUser { .. } => Some(Ahead::Row(Record::User, "user_1")),
                ApiRoute::GetSession { .. } => Some(Ahead::Row(Record::Session, "sess_1")),
                ApiRoute::GetTemplate { .. } => Some(Ahead::Row(Record::Template, "hasura")),
                ApiRoute::GetApiKey { .. } => Some(Ahead::Row(Record::ApiKey, "k")),
                ApiRoute::ListUsers => Some(Ahead::List(Record::User)),
                ApiRoute::ListSessions => Some(Ahead::List(Record::Session)),
                ApiRoute::ListTemplates => Some(Ahead::List(Record::Template)),
                ApiRoute::ListApiKeys => Some(Ahead::List(Record::ApiKey)),
                _ => None,
            };
            let kind = |a: Option<Ahead<'_>>| {
                a.map(|a| match a {
                    Ahead::Row(k, _) => (k, true),
                    Ahead::List(k) => (k, false),
                })
            };
            assert_eq!(kind(r.prefetch()), kind(expected), "{r:?}");
            // Only reads: every prefetching route is keyed and not a POST.
            if expected.is_some() {
                assert!(!r.is_post());
                assert!(matches!(r.access(), Access::Key(_)));
            }
        }
        let r = route("GET", "/v1/users/user_42").unwrap();
        assert_eq!(r.prefetch(), Some(Ahead::Row(Record::User, "user_42")));
        assert_eq!(
            route("DELETE", "/v1/users/user_42").unwrap().prefetch(),
            None
        );
        assert_eq!(
            route("PATCH", "/v1/users/user_42").unwrap().prefetch(),
            None
        );
        assert_eq!(
            route("GET", "/v1/jwt-templates/hasura").unwrap().prefetch(),
            Some(Ahead::Row(Record::Template, "hasura"))
        );
        assert_eq!(Record::Template.id_column(), "name");
        assert_eq!(Record::ApiKey.table(), "api_keys");
    }

    /// One of every route.
    pub(crate) fn sample_routes() -> Vec<ApiRoute> {
        let cases = table();
        let mut out: Vec<ApiRoute> = cases.into_iter().map(|(_, _, r)| r).collect();
        out.push(ApiRoute::Preflight { allow: "GET" });
        out
    }

    fn s(x: &str) -> String {
        x.into()
    }

    fn table() -> Vec<(&'static str, &'static str, ApiRoute)> {
        use ApiRoute as R;
        let key = "AbC123xyz789";
        vec![
            ("POST", "/v1/applications", R::CreateApplication),
            ("GET", "/v1/applications/current", R::GetApplication),
            ("PATCH", "/v1/applications/current", R::UpdateApplication),
            ("GET", "/v1/openapi.json", R::OpenApi),
            ("POST", "/v1/users", R::CreateUser),
            ("GET", "/v1/users", R::ListUsers),
            (
                "GET",
                "/v1/users/user_1",
                R::GetUser {
                    user_id: s("user_1"),
                },
            ),
            (
                "PATCH",
                "/v1/users/user_1",
                R::UpdateUser {
                    user_id: s("user_1"),
                },
            ),
            (
                "DELETE",
                "/v1/users/user_1",
                R::DeleteUser {
                    user_id: s("user_1"),
                },
            ),
            (
                "PATCH",
                "/v1/users/user_1/metadata",
                R::UpdateUserMetadata {
                    user_id: s("user_1"),
                },
            ),
            (
                "POST",
                "/v1/users/user_1/sessions/revoke",
                R::RevokeUserSessions {
                    user_id: s("user_1"),
                },
            ),
            ("POST", "/v1/sessions", R::CreateSession),
            ("GET", "/v1/sessions", R::ListSessions),
            (
                "GET",
                "/v1/sessions/sess_1",
                R::GetSession {
                    session_id: s("sess_1"),
                },
            ),
            (
                "POST",
                "/v1/sessions/sess_1/revoke",
                R::RevokeSession {
                    session_id: s("sess_1"),
                },
            ),
            (
                "POST",
                "/v1/sessions/sess_1/tokens",
                R::CreateSessionToken {
                    session_id: s("sess_1"),
                },
            ),
            ("GET", "/v1/jwt-templates", R::ListTemplates),
            ("POST", "/v1/jwt-templates/preview", R::PreviewTemplate),
            (
                "PUT",
                "/v1/jwt-templates/hasura",
                R::PutTemplate { name: s("hasura") },
            ),
            (
                "GET",
                "/v1/jwt-templates/hasura",
                R::GetTemplate { name: s("hasura") },
            ),
            (
                "DELETE",
                "/v1/jwt-templates/hasura",
                R::DeleteTemplate { name: s("hasura") },
            ),
            ("POST", "/v1/api-keys", R::CreateApiKey),
            ("GET", "/v1/api-keys", R::ListApiKeys),
            (
                "GET",
                "/v1/api-keys/AbC123xyz789",
                R::GetApiKey { key_id: s(key) },
            ),
            (
                "POST",
                "/v1/api-keys/AbC123xyz789/roll",
                R::RollApiKey { key_id: s(key) },
            ),
            (
                "POST",
                "/v1/api-keys/AbC123xyz789/revoke",
                R::RevokeApiKey { key_id: s(key) },
            ),
            ("GET", "/v1/signing-keys", R::ListSigningKeys),
            ("POST", "/v1/signing-keys/rotate", R::RotateSigningKeys),
        ]
    }

    #[test]
    fn every_endpoint_routes() {
        for (method, path, expected) in table() {
            assert_eq!(route(method, path), Ok(expected.clone()), "{method} {path}");
            assert_eq!(expected.is_post(), method == "POST", "{method} {path}");
            assert!(!expected.operation_id().is_empty());
        }
        let mut ids: Vec<_> = sample_routes().iter().map(ApiRoute::operation_id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "operation ids are unique");
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        for (method, path, allow) in [
            ("DELETE", "/v1/users", "GET, POST"),
            ("POST", "/v1/users/u1", "GET, PATCH, DELETE"),
            ("GET", "/v1/users/u1/metadata", "PATCH"),
            ("GET", "/v1/jwt-templates/preview", "POST"),
            ("PUT", "/v1/jwt-templates", "GET"),
            ("POST", "/v1/openapi.json", "GET"),
            ("GET", "/v1/applications", "POST"),
            ("POST", "/v1/applications/current", "GET, PATCH"),
            ("HEAD", "/v1/users", "GET, POST"),
            ("get", "/v1/users", "GET, POST"),
            ("DELETE", "/v1/api-keys/AbC123xyz789", "GET"),
            ("GET", "/v1/signing-keys/rotate", "POST"),
        ] {
            let err = route(method, path).unwrap_err();
            assert_eq!(err.code, ErrorCode::MethodNotAllowed, "{method} {path}");
            assert_eq!(err.allow, Some(allow), "{method} {path}");
            let reply = err.reply("r");
            assert_eq!(reply.status, 405);
            assert_eq!(reply.header("allow"), Some(allow));
        }
    }

    #[test]
    fn options_is_a_preflight_on_known_paths() {
        assert_eq!(
            route("OPTIONS", "/v1/users/u1"),
            Ok(ApiRoute::Preflight {
                allow: "GET, PATCH, DELETE"
            })
        );
        assert_eq!(
            route("OPTIONS", "/v1/nope").unwrap_err().code,
            ErrorCode::NotFound
        );
    }

    #[test]
    fn unknown_or_malformed_paths_are_404() {
        for path in [
            "/v1",
            "/v1/",
            "/v2/users",
            "/users",
            "/v1/users/",
            "/v1//users",
            "/v1/users//metadata",
            "/v1/users/u1/metadata/x",
            "/v1/users/u1/sessions",
            "/v1/sessions/s1/tokens/x",
            "/v1/api-keys/short",
            "/v1/api-keys/AbC123xyz78_",
            "/v1/jwt-templates/has%20ura",
            "/v1/jwt-templates/..",
            "/v1/users/%zz",
            "/v1/users/%22quoted%22",
            "/v1/users/a%5Cb",
            "/v1/users/%FF",
            "/v1/USERS",
            "/v1/openapi",
        ] {
            assert_eq!(
                route("GET", path).unwrap_err().code,
                ErrorCode::NotFound,
                "{path}"
            );
        }
        let long = format!("/v1/users/{}", "a".repeat(65));
        assert_eq!(route("GET", &long).unwrap_err().code, ErrorCode::NotFound);
        let ok = format!("/v1/users/{}", "a".repeat(64));
        assert!(route("GET", &ok).is_ok());
        let long = format!("/v1/sessions/{}", "a".repeat(129));
        assert_eq!(route("GET", &long).unwrap_err().code, ErrorCode::NotFound);
    }

    #[test]
    fn path_parameters_are_percent_decoded() {
        assert_eq!(
            route("GET", "/v1/users/a%2Fb%3F"),
            Ok(ApiRoute::GetUser { user_id: s("a/b?") })
        );
        assert_eq!(
            route("GET", "/v1/users/user+1@x"),
            Ok(ApiRoute::GetUser {
                user_id: s("user+1@x")
            })
        );
        assert_eq!(percent_decode("a+b", true).as_deref(), Some("a b"));
        assert_eq!(percent_decode("a%2", false), None);
        assert_eq!(percent_decode("%C3%A9", false).as_deref(), Some("é"));
    }

    #[test]
    fn names_and_ids() {
        assert!(valid_template_name("hasura.v2-default_1"));
        assert!(!valid_template_name("preview"));
        assert!(!valid_template_name(""));
        assert!(!valid_template_name(&"a".repeat(65)));
        assert!(!valid_template_name("a b"));
        assert!(valid_key_id("AbC123xyz789"));
        assert!(!valid_key_id("AbC123xyz78"));
        assert!(is_api_path("/v1/users"));
        assert!(is_api_path("/v1"));
        assert!(!is_api_path("/v10/users"));
        assert!(!is_api_path("/_torii/v1"));
    }
}
