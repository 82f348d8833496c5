//! `/v1/api-keys` bodies: create and roll.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::requests::tests::{field, vf};
    use crate::api::scopes::Scope;

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
}
