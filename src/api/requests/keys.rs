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
