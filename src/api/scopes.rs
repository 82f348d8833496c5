//! API key scopes: the set a key holds, the scope each endpoint requires, and the
//! subset rule of key creation (`scope_escalation`).

use super::error::ApiError;
use super::routes::ApiRoute;
use crate::error::ErrorCode;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::Value;

/// One scope. `admin` holds every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every endpoint.
    Admin,
    /// Read users.
    UsersRead,
    /// Create, update and delete users.
    UsersWrite,
    /// Read sessions.
    SessionsRead,
    /// Create and revoke sessions, mint their tokens.
    SessionsWrite,
    /// Read JWT templates.
    TemplatesRead,
    /// Save, delete and preview JWT templates.
    TemplatesWrite,
    /// Read API keys (never their secrets).
    ApiKeysRead,
    /// Create, roll and revoke API keys.
    ApiKeysWrite,
    /// Read signing keys.
    SigningKeysRead,
    /// Rotate signing keys.
    SigningKeysWrite,
}

/// Every scope, in documentation order.
pub const ALL_SCOPES: &[Scope] = &[
    Scope::Admin,
    Scope::UsersRead,
    Scope::UsersWrite,
    Scope::SessionsRead,
    Scope::SessionsWrite,
    Scope::TemplatesRead,
    Scope::TemplatesWrite,
    Scope::ApiKeysRead,
    Scope::ApiKeysWrite,
    Scope::SigningKeysRead,
    Scope::SigningKeysWrite,
];

/// Most scopes a list may hold (every scope once).
pub const MAX_SCOPES: usize = 11;

impl Scope {
    /// The scope's name, e.g. `users:read`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::UsersRead => "users:read",
            Self::UsersWrite => "users:write",
            Self::SessionsRead => "sessions:read",
            Self::SessionsWrite => "sessions:write",
            Self::TemplatesRead => "templates:read",
            Self::TemplatesWrite => "templates:write",
            Self::ApiKeysRead => "api_keys:read",
            Self::ApiKeysWrite => "api_keys:write",
            Self::SigningKeysRead => "signing_keys:read",
            Self::SigningKeysWrite => "signing_keys:write",
        }
    }

    /// The scope named `s` (exact, case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        ALL_SCOPES.iter().copied().find(|c| c.as_str() == s)
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of scopes (what a key holds, or asks for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u16);

impl ScopeSet {
    /// No scope.
    pub const EMPTY: Self = Self(0);

    /// The set of `scopes`.
    pub fn of(scopes: &[Scope]) -> Self {
        Self(scopes.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether the set literally holds `scope` (without the `admin` rule).
    pub const fn has(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set grants `scope`: it holds it, or holds `admin`.
    pub const fn grants(self, scope: Scope) -> bool {
        self.has(Scope::Admin) || self.has(scope)
    }

    /// Whether a key holding `self` may create a key holding `requested`: every requested
    /// scope is granted by `self` (`admin` may only be granted by `admin`).
    pub fn may_grant(self, requested: Self) -> bool {
        ALL_SCOPES
            .iter()
            .all(|&s| !requested.has(s) || self.grants(s))
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The scopes held, in documentation order.
    pub fn to_vec(self) -> Vec<Scope> {
        ALL_SCOPES
            .iter()
            .copied()
            .filter(|&s| self.has(s))
            .collect()
    }

    /// The names held, as a JSON array (the API's and D1's form).
    pub fn to_json(self) -> Value {
        Value::Array(
            self.to_vec()
                .into_iter()
                .map(|s| s.as_str().into())
                .collect(),
        )
    }

    /// From a JSON array of scope names, naming `field` on refusal: not an array, empty,
    /// a non-string, an unknown or a repeated scope → `validation_failed`.
    pub fn from_json(value: &Value, field: &str) -> Result<Self, ApiError> {
        let list = value
            .as_array()
            .ok_or_else(|| ApiError::validation(field, "must be an array of scope names"))?;
        if list.is_empty() {
            return Err(ApiError::validation(field, "must hold at least one scope"));
        }
        if list.len() > MAX_SCOPES {
            return Err(ApiError::validation(field, "holds too many scopes"));
        }
        let mut set = Self::EMPTY;
        for (i, item) in list.iter().enumerate() {
            let name = item.as_str().ok_or_else(|| {
                ApiError::validation(field, format!("item {i} must be a string"))
                    .with_pointer(&format!("/{i}"))
            })?;
            let scope = Scope::parse(name).ok_or_else(|| {
                ApiError::validation(field, format!("unknown scope `{}`", printable(name)))
                    .with_pointer(&format!("/{i}"))
            })?;
            if set.has(scope) {
                return Err(ApiError::validation(
                    field,
                    format!("scope `{}` is repeated", scope.as_str()),
                )
                .with_pointer(&format!("/{i}")));
            }
            set = Self(set.0 | scope.bit());
        }
        Ok(set)
    }

    /// `insufficient_scope` unless the set grants `scope`.
    pub fn require(self, scope: Scope) -> Result<(), ApiError> {
        if self.grants(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::InsufficientScope,
                format!("this endpoint needs the `{}` scope", scope.as_str()),
            ))
        }
    }

    /// `scope_escalation` unless a key holding `self` may create one holding `requested`.
    pub fn check_grant(self, requested: Self) -> Result<(), ApiError> {
        if self.may_grant(requested) {
            return Ok(());
        }
        let missing: Vec<&str> = requested
            .to_vec()
            .into_iter()
            .filter(|&s| !self.grants(s))
            .map(Scope::as_str)
            .collect();
        Err(ApiError::new(
            ErrorCode::ScopeEscalation,
            format!("the calling key does not hold {}", missing.join(", ")),
        )
        .with_field("scopes"))
    }
}

/// At most 64 characters of `s`, control characters replaced (for messages).
fn printable(s: &str) -> String {
    s.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (`GET /v1/openapi.json`, CORS preflights).
    Public,
    /// The operator, with the Worker secret (`POST /v1/applications`).
    Operator,
    /// A secret key of the application granting this scope.
    Key(Scope),
}

/// The access an endpoint requires.
pub fn required_scope(route: &ApiRoute) -> Access {
    use ApiRoute as R;
    match route {
        R::OpenApi | R::Preflight { .. } => Access::Public,
        R::CreateApplication => Access::Operator,
        // The application's own settings (CORS origins): only an admin key.
        R::GetApplication | R::UpdateApplication => Access::Key(Scope::Admin),
        R::ListUsers | R::GetUser { .. } => Access::Key(Scope::UsersRead),
        R::CreateUser
        | R::UpdateUser { .. }
        | R::UpdateUserMetadata { .. }
        | R::DeleteUser { .. } => Access::Key(Scope::UsersWrite),
        R::ListSessions | R::GetSession { .. } => Access::Key(Scope::SessionsRead),
        R::CreateSession
        | R::RevokeSession { .. }
        | R::RevokeUserSessions { .. }
        | R::CreateSessionToken { .. } => Access::Key(Scope::SessionsWrite),
        R::ListTemplates | R::GetTemplate { .. } => Access::Key(Scope::TemplatesRead),
        R::PutTemplate { .. } | R::DeleteTemplate { .. } | R::PreviewTemplate => {
            Access::Key(Scope::TemplatesWrite)
        }
        R::ListApiKeys | R::GetApiKey { .. } => Access::Key(Scope::ApiKeysRead),
        R::CreateApiKey | R::RollApiKey { .. } | R::RevokeApiKey { .. } => {
            Access::Key(Scope::ApiKeysWrite)
        }
        R::ListSigningKeys => Access::Key(Scope::SigningKeysRead),
        R::RotateSigningKeys => Access::Key(Scope::SigningKeysWrite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use serde_json::json;

    #[test]
    fn names_round_trip() {
        for &s in ALL_SCOPES {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(ALL_SCOPES.len(), MAX_SCOPES);
        assert_eq!(Scope::parse("Admin"), None);
        assert_eq!(Scope::parse("users:*"), None);
        assert_eq!(Scope::parse(""), None);
    }

    #[test]
    fn admin_grants_everything() {
        let admin = ScopeSet::of(&[Scope::Admin]);
        for &s in ALL_SCOPES {
            assert!(admin.grants(s));
            assert!(admin.require(s).is_ok());
        }
        let read = ScopeSet::of(&[Scope::UsersRead]);
        assert!(read.grants(Scope::UsersRead));
        assert!(!read.grants(Scope::UsersWrite));
        assert!(!read.grants(Scope::Admin));
        let err = read.require(Scope::UsersWrite).unwrap_err();
        assert_eq!(err.code, ErrorCode::InsufficientScope);
        assert_eq!(err.status(), 403);
        assert!(err.message.contains("users:write"));
    }

    #[test]
    fn subset_rule() {
        let admin = ScopeSet::of(&[Scope::Admin]);
        let rw = ScopeSet::of(&[Scope::UsersRead, Scope::UsersWrite, Scope::ApiKeysWrite]);
        let all_but_admin = ScopeSet::of(&ALL_SCOPES[1..]);
        assert!(admin.may_grant(admin));
        assert!(admin.may_grant(all_but_admin));
        assert!(rw.may_grant(ScopeSet::of(&[Scope::UsersRead])));
        assert!(rw.may_grant(rw));
        assert!(!rw.may_grant(admin));
        assert!(!all_but_admin.may_grant(admin));
        let err = rw
            .check_grant(ScopeSet::of(&[Scope::UsersRead, Scope::SessionsWrite]))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::ScopeEscalation);
        assert_eq!(err.field.as_deref(), Some("scopes"));
        assert!(err.message.contains("sessions:write"));
        assert!(!err.message.contains("users:read"));
    }

    #[test]
    fn parsing_lists_names_the_field() {
        let set = ScopeSet::from_json(&json!(["users:read", "admin"]), "scopes").unwrap();
        assert_eq!(set.to_vec(), vec![Scope::Admin, Scope::UsersRead]);
        assert_eq!(set.to_json(), json!(["admin", "users:read"]));
        assert_eq!(ScopeSet::from_json(&set.to_json(), "s").unwrap(), set);
        for (bad, pointer) in [
            (json!("admin"), None),
            (json!([]), None),
            (json!(["users:read", 3]), Some("/1")),
            (json!(["users:delete"]), Some("/0")),
            (json!(["admin", "admin"]), Some("/1")),
            (json!(null), None),
        ] {
            let err = ScopeSet::from_json(&bad, "scopes").unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed, "{bad}");
            assert_eq!(err.field.as_deref(), Some("scopes"));
            assert_eq!(err.pointer.as_deref(), pointer, "{bad}");
        }
        let too_many: Vec<&str> = core::iter::repeat_n("admin", 12).collect();
        assert!(ScopeSet::from_json(&json!(too_many), "scopes").is_err());
        let err = ScopeSet::from_json(&json!(["a\nb"]), "scopes").unwrap_err();
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn every_keyed_route_has_a_read_or_write_scope_admin_only_for_the_application() {
        for route in crate::api::routes::tests::sample_routes() {
            match required_scope(&route) {
                Access::Key(Scope::Admin) => assert!(
                    matches!(
                        route,
                        ApiRoute::GetApplication | ApiRoute::UpdateApplication
                    ),
                    "{route:?}"
                ),
                Access::Key(_) => {}
                Access::Public => assert!(matches!(
                    route,
                    ApiRoute::OpenApi | ApiRoute::Preflight { .. }
                )),
                Access::Operator => assert_eq!(route, ApiRoute::CreateApplication),
            }
        }
    }
}
