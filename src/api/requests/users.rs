//! `/v1/users` bodies and queries: create, update, metadata merge, list.

use super::*;

pub(super) fn check_email(email: &str) -> Result<(), ApiError> {
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

pub(super) fn user_fields(f: &mut Fields, id_required: bool) -> Result<CreateUser, ApiError> {
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

pub(super) fn patched(p: &Patch<String>, current: Option<&str>) -> Option<String> {
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

/// `PATCH /v1/users/{id}/metadata`: a merge patch per bag (see [`crate::api::merge`]).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pagination::DEFAULT_LIMIT;
    use crate::api::requests::tests::{field, vf};
    use serde_json::json;

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
    fn list_query() {
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
    }
}
