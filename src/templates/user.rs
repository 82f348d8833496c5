//! The user a token is minted for, with the caps JWT templates rely on.
//!
//! Every field a template shortcode can select is bounded when it is written, so a
//! template's worst-case size, computed once when the template is saved, holds for every
//! user at mint time:
//!
//! | Field | Cap (enforced by the setters) |
//! |---|---|
//! | `id` | 1..=64 bytes of printable ASCII except `"` and `\` (never escaped in JSON) |
//! | `email` | 254 bytes, no control characters (U+0000..=U+001F) |
//! | `first_name`, `last_name`, `name` | 256 bytes each, no control characters |
//! | `public_metadata`, `unsafe_metadata`, `private_metadata` | 512 bytes serialized as compact JSON, nesting depth ≤ 8 (the bag itself is depth 1) |
//!
//! Control characters are refused in text fields because JSON escapes them as `\u00XX`
//! (6 bytes for 1): with them gone, a text field grows at most 2× when serialized (`"` and
//! `\`), which keeps a template selecting `email`, a name and two metadata keys inside the
//! default 1200-byte budget. The depth cap keeps a minted token within the verifier's JSON
//! depth bound (16): template depth ≤ 8 plus a selected value's depth ≤ 8.
//!
//! `private_metadata` lives on the user so one type can carry everything the store holds,
//! but it has no shortcode and no accessor the template or mint code uses: it cannot reach
//! a token.

use crate::error::ErrorCode;
use alloc::string::{String, ToString};
use core::fmt;
use serde_json::{Map, Value};

/// Maximum length of a user id, in bytes.
pub const MAX_USER_ID_BYTES: usize = 64;
/// Maximum length of an email address, in bytes (RFC 5321 path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Maximum length of `first_name`, `last_name` and `name` (explicit or derived), in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Maximum compact-JSON size of each metadata bag, in bytes.
pub const MAX_METADATA_BYTES: usize = 512;
/// Maximum nesting depth of a metadata bag (the bag object itself is depth 1).
pub const MAX_METADATA_DEPTH: usize = 8;

/// Which metadata bag an operation concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetadataBag {
    /// `public_metadata`: readable by the frontend, selectable by templates.
    Public,
    /// `unsafe_metadata`: writable by the frontend, selectable by templates.
    Unsafe,
    /// `private_metadata`: backend only; never selectable, never in a token.
    Private,
}

impl MetadataBag {
    /// The bag's snake_case field name, e.g. `public_metadata`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public_metadata",
            Self::Unsafe => "unsafe_metadata",
            Self::Private => "private_metadata",
        }
    }
}

/// Why a user field was refused on write.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    /// A metadata bag serializes to more than [`MAX_METADATA_BYTES`].
    MetadataTooLarge {
        /// The bag.
        bag: MetadataBag,
        /// Its compact-JSON size in bytes.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// A metadata bag nests deeper than [`MAX_METADATA_DEPTH`].
    MetadataTooDeep {
        /// The bag.
        bag: MetadataBag,
        /// The cap.
        limit: usize,
    },
    /// A text field is empty (id), too long, or holds characters it may not hold.
    InvalidUserField {
        /// The field's name, e.g. `email`.
        field: &'static str,
        /// Why, for humans.
        reason: &'static str,
    },
}

impl UserError {
    /// The stable snake_case code: `metadata_too_large`, `metadata_too_deep` or
    /// `invalid_user_field`.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::MetadataTooLarge { .. } => ErrorCode::MetadataTooLarge,
            Self::MetadataTooDeep { .. } => ErrorCode::MetadataTooDeep,
            Self::InvalidUserField { .. } => ErrorCode::InvalidUserField,
        }
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MetadataTooLarge { bag, size, limit } => {
                write!(
                    f,
                    "{} is {size} bytes serialized, the limit is {limit}",
                    bag.as_str()
                )
            }
            Self::MetadataTooDeep { bag, limit } => {
                write!(f, "{} nests deeper than {limit} levels", bag.as_str())
            }
            Self::InvalidUserField { field, reason } => write!(f, "invalid `{field}`: {reason}"),
        }
    }
}

impl UserError {
    /// The field refused: `id`, `email`, `first_name`, `last_name`, `name` or a bag's
    /// name (e.g. `public_metadata`).
    pub const fn field(&self) -> &'static str {
        match self {
            Self::MetadataTooLarge { bag, .. } | Self::MetadataTooDeep { bag, .. } => bag.as_str(),
            Self::InvalidUserField { field, .. } => field,
        }
    }
}

impl core::error::Error for UserError {}

/// A user's fields as a store keeps them (a D1 row, a JSON object from JavaScript): the
/// input of [`User::from_stored`], not yet checked against the caps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredUser<'a> {
    /// The user id.
    pub id: &'a str,
    /// The primary email address.
    pub email: Option<&'a str>,
    /// Whether it is verified (ignored without an email).
    pub email_verified: bool,
    /// The first name.
    pub first_name: Option<&'a str>,
    /// The last name.
    pub last_name: Option<&'a str>,
    /// An explicit full name (else derived from the name parts).
    pub name: Option<&'a str>,
    /// `public_metadata`.
    pub public_metadata: Map<String, Value>,
    /// `unsafe_metadata`.
    pub unsafe_metadata: Map<String, Value>,
    /// `private_metadata`.
    pub private_metadata: Map<String, Value>,
}

/// A metadata bag from its stored JSON text; `None` unless the text is a JSON object.
pub fn metadata_from_json(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(text.as_bytes()).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A user as templates see it. Fields are private: setters enforce the caps in the
/// [module docs](self), so every `User` value is within them.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    id: String,
    email: Option<String>,
    email_verified: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    name: Option<String>,
    public_metadata: Map<String, Value>,
    unsafe_metadata: Map<String, Value>,
    private_metadata: Map<String, Value>,
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), UserError> {
    if value.len() > max {
        return Err(UserError::InvalidUserField {
            field,
            reason: "too long",
        });
    }
    if value.chars().any(|c| c < ' ') {
        return Err(UserError::InvalidUserField {
            field,
            reason: "control characters are not allowed",
        });
    }
    Ok(())
}

fn check_text_opt(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, UserError> {
    value
        .map(|v| check_text(field, v, max).map(|()| v.to_string()))
        .transpose()
}

/// Whether `v` nests at most `limit` levels of objects/arrays (a scalar is 0 levels).
fn depth_within(v: &Value, limit: usize) -> bool {
    match v {
        Value::Object(m) => limit
            .checked_sub(1)
            .is_some_and(|n| m.values().all(|c| depth_within(c, n))),
        Value::Array(a) => limit
            .checked_sub(1)
            .is_some_and(|n| a.iter().all(|c| depth_within(c, n))),
        _ => true,
    }
}

fn check_bag(bag: MetadataBag, map: &Map<String, Value>) -> Result<(), UserError> {
    let size = serde_json::to_vec(map).map_or(usize::MAX, |v| v.len());
    if size > MAX_METADATA_BYTES {
        return Err(UserError::MetadataTooLarge {
            bag,
            size,
            limit: MAX_METADATA_BYTES,
        });
    }
    if !map
        .values()
        .all(|v| depth_within(v, MAX_METADATA_DEPTH.saturating_sub(1)))
    {
        return Err(UserError::MetadataTooDeep {
            bag,
            limit: MAX_METADATA_DEPTH,
        });
    }
    Ok(())
}

impl User {
    /// A user with this id, no email, no names and empty metadata bags.
    pub fn new(id: &str) -> Result<Self, UserError> {
        if id.is_empty() || id.len() > MAX_USER_ID_BYTES {
            return Err(UserError::InvalidUserField {
                field: "id",
                reason: "must be 1 to 64 bytes",
            });
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            return Err(UserError::InvalidUserField {
                field: "id",
                reason: "must be printable ASCII without quotes or backslashes",
            });
        }
        Ok(Self {
            id: id.to_string(),
            email: None,
            email_verified: false,
            first_name: None,
            last_name: None,
            name: None,
            public_metadata: Map::new(),
            unsafe_metadata: Map::new(),
            private_metadata: Map::new(),
        })
    }

    /// A user from its stored fields, every cap checked (id, email, names, name, then the
    /// public, unsafe and private bags; the first refusal is returned): a stored user
    /// that breaks a cap fails closed.
    pub fn from_stored(stored: StoredUser<'_>) -> Result<Self, UserError> {
        let mut user = Self::new(stored.id)?;
        user.set_email(stored.email, stored.email_verified)?;
        user.set_names(stored.first_name, stored.last_name)?;
        user.set_name(stored.name)?;
        user.set_metadata(MetadataBag::Public, stored.public_metadata)?;
        user.set_metadata(MetadataBag::Unsafe, stored.unsafe_metadata)?;
        user.set_metadata(MetadataBag::Private, stored.private_metadata)?;
        Ok(user)
    }

    /// Sets the primary email address (≤ 254 bytes, no control characters) and whether it
    /// is verified.
    pub fn set_email(&mut self, email: Option<&str>, verified: bool) -> Result<(), UserError> {
        self.email = check_text_opt("email", email, MAX_EMAIL_BYTES)?;
        self.email_verified = verified && self.email.is_some();
        Ok(())
    }

    /// Sets the first and last names (≤ 256 bytes each, no control characters).
    pub fn set_names(
        &mut self,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Result<(), UserError> {
        let first = check_text_opt("first_name", first_name, MAX_NAME_BYTES)?;
        let last = check_text_opt("last_name", last_name, MAX_NAME_BYTES)?;
        self.first_name = first;
        self.last_name = last;
        Ok(())
    }

    /// Sets an explicit full name (≤ 256 bytes, no control characters); `None` derives it
    /// from the name parts (see [`User::name`]).
    pub fn set_name(&mut self, name: Option<&str>) -> Result<(), UserError> {
        self.name = check_text_opt("name", name, MAX_NAME_BYTES)?;
        Ok(())
    }

    /// Replaces a metadata bag; refused above 512 bytes serialized or 8 levels deep.
    pub fn set_metadata(
        &mut self,
        bag: MetadataBag,
        map: Map<String, Value>,
    ) -> Result<(), UserError> {
        check_bag(bag, &map)?;
        *match bag {
            MetadataBag::Public => &mut self.public_metadata,
            MetadataBag::Unsafe => &mut self.unsafe_metadata,
            MetadataBag::Private => &mut self.private_metadata,
        } = map;
        Ok(())
    }

    /// Replaces `public_metadata` (see [`User::set_metadata`]).
    pub fn set_public_metadata(&mut self, map: Map<String, Value>) -> Result<(), UserError> {
        self.set_metadata(MetadataBag::Public, map)
    }

    /// Replaces `unsafe_metadata` (see [`User::set_metadata`]).
    pub fn set_unsafe_metadata(&mut self, map: Map<String, Value>) -> Result<(), UserError> {
        self.set_metadata(MetadataBag::Unsafe, map)
    }

    /// Replaces `private_metadata` (see [`User::set_metadata`]). It never reaches a token.
    pub fn set_private_metadata(&mut self, map: Map<String, Value>) -> Result<(), UserError> {
        self.set_metadata(MetadataBag::Private, map)
    }

    /// The user id (a token's `sub`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The primary email address.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// Whether the primary email address is verified (`false` without one).
    pub fn email_verified(&self) -> bool {
        self.email_verified
    }

    /// The first name.
    pub fn first_name(&self) -> Option<&str> {
        self.first_name.as_deref()
    }

    /// The last name.
    pub fn last_name(&self) -> Option<&str> {
        self.last_name.as_deref()
    }

    /// The full name: the explicit name if set, else the present name parts joined by one
    /// space, truncated to 256 bytes at a character boundary; `None` if neither exists.
    pub fn name(&self) -> Option<String> {
        if let Some(name) = &self.name {
            return Some(name.clone());
        }
        let mut out = String::new();
        for part in [&self.first_name, &self.last_name].into_iter().flatten() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
        if out.is_empty() {
            return None;
        }
        let mut cut = MAX_NAME_BYTES.min(out.len());
        while !out.is_char_boundary(cut) {
            cut = cut.saturating_sub(1);
        }
        out.truncate(cut);
        Some(out)
    }

    /// `public_metadata`.
    pub fn public_metadata(&self) -> &Map<String, Value> {
        &self.public_metadata
    }

    /// `unsafe_metadata`.
    pub fn unsafe_metadata(&self) -> &Map<String, Value> {
        &self.unsafe_metadata
    }

    /// `private_metadata`: for the backend's own use; templates and minting never read it.
    pub fn private_metadata(&self) -> &Map<String, Value> {
        &self.private_metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn stored() -> StoredUser<'static> {
        StoredUser {
            id: "user_1",
            email: Some("ada@example.com"),
            email_verified: true,
            first_name: Some("Ada"),
            last_name: Some("Lovelace"),
            name: None,
            public_metadata: metadata_from_json(r#"{"role":"admin"}"#).unwrap(),
            unsafe_metadata: Map::new(),
            private_metadata: metadata_from_json(r#"{"ssn":"x"}"#).unwrap(),
        }
    }

    #[test]
    fn stored_users_keep_every_field() {
        let u = User::from_stored(stored()).unwrap();
        assert_eq!(
            (u.id(), u.email(), u.email_verified(), u.name()),
            (
                "user_1",
                Some("ada@example.com"),
                true,
                Some("Ada Lovelace".into())
            )
        );
        assert_eq!(u.public_metadata()["role"], "admin");
        assert_eq!(u.private_metadata()["ssn"], "x");
        let u = User::from_stored(StoredUser {
            email: None,
            name: Some("Countess"),
            ..stored()
        })
        .unwrap();
        assert!(!u.email_verified());
        assert_eq!(u.name().as_deref(), Some("Countess"));
    }

    #[test]
    fn stored_users_breaking_a_cap_fail_closed_naming_the_field() {
        let long = "x".repeat(600);
        let big = metadata_from_json(&format!(r#"{{"k":"{long}"}}"#)).unwrap();
        for (user, code, field) in [
            (
                StoredUser { id: "", ..stored() },
                "invalid_user_field",
                "id",
            ),
            (
                StoredUser {
                    email: Some("a\n"),
                    ..stored()
                },
                "invalid_user_field",
                "email",
            ),
            (
                StoredUser {
                    last_name: Some(&long),
                    ..stored()
                },
                "invalid_user_field",
                "last_name",
            ),
            (
                StoredUser {
                    name: Some("\t"),
                    ..stored()
                },
                "invalid_user_field",
                "name",
            ),
            (
                StoredUser {
                    unsafe_metadata: big.clone(),
                    ..stored()
                },
                "metadata_too_large",
                "unsafe_metadata",
            ),
            (
                StoredUser {
                    private_metadata: metadata_from_json(
                        r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}"#,
                    )
                    .unwrap(),
                    ..stored()
                },
                "metadata_too_deep",
                "private_metadata",
            ),
        ] {
            let e = User::from_stored(user).unwrap_err();
            assert_eq!((e.code(), e.field()), (code, field));
        }
        // The first refusal wins: the id before the metadata.
        let e = User::from_stored(StoredUser {
            id: "",
            public_metadata: big,
            ..stored()
        })
        .unwrap_err();
        assert_eq!(e.field(), "id");
    }

    #[test]
    fn stored_metadata_must_be_a_json_object() {
        assert_eq!(metadata_from_json("{}"), Some(Map::new()));
        for bad in ["[1]", "null", "1", "\"x\"", "", "{"] {
            assert_eq!(metadata_from_json(bad), None, "{bad}");
        }
    }
}
