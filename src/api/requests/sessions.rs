//! `/v1/sessions` bodies and queries: create, list by user and status.

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pagination::Cursor;
    use crate::api::requests::tests::{field, vf};

    #[test]
    fn session_status_of_rows() {
        assert_eq!(SessionStatus::of("active", 10, 9), SessionStatus::Active);
        assert_eq!(SessionStatus::of("active", 10, 10), SessionStatus::Expired);
        assert_eq!(SessionStatus::of("revoked", 10, 9), SessionStatus::Revoked);
        assert_eq!(SessionStatus::of("revoked", 10, 11), SessionStatus::Revoked);
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
    fn list_query() {
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
    }
}
