//! `/v1/jwt-templates` bodies: save (validated by the template engine) and preview.

use super::*;

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

pub(super) fn template_from(f: &mut Fields) -> Result<(String, Option<i64>, Template), ApiError> {
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
pub(super) fn nest(outer: &str, mut e: ApiError) -> ApiError {
    e.field = Some(match e.field.take() {
        Some(inner) => format!("{outer}.{inner}"),
        None => outer.to_string(),
    });
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::requests::tests::{field, vf};

    #[test]
    fn the_sample_user_is_complete() {
        let u = sample_user().unwrap();
        assert_eq!(u.id(), "user_sample");
        assert_eq!(u.public_metadata()["role"], "admin");
        assert!(u.private_metadata().is_empty());
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
}
