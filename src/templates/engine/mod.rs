//! JWT templates: the custom claims of a token, authored as JSON with `{{ user.* }}`
//! shortcodes, validated once when saved and rendered against a [`User`] at mint time.
//!
//! # Syntax
//!
//! A template is a JSON object of at most 4 KiB ([`MAX_TEMPLATE_BYTES`]), parsed strictly
//! (no duplicate keys, nesting depth ≤ 8). Any string value, at any depth, may contain
//! shortcodes: `{{ user.<field> }}` or `{{ user.<field> || <fallback> }}`, whitespace
//! inside the braces optional. Every `{{` in a string value starts a shortcode (there is
//! no escape); `{{` in an object key is refused.
//!
//! | Shortcode | Whole value | Embedded in text |
//! |---|---|---|
//! | `user.id` | string | the id |
//! | `user.email` | string, or nothing | the address |
//! | `user.email_verified` | `true` / `false` | `true` / `false` |
//! | `user.name` | string, or nothing (explicit name, else first and last joined by a space) | the name |
//! | `user.first_name`, `user.last_name` | string, or nothing | the name part |
//! | `user.public_metadata`, `user.unsafe_metadata` | the bag (object) | its compact JSON |
//! | `user.public_metadata.<path>`, `user.unsafe_metadata.<path>` | the JSON value there, or nothing | a string's text; other values as compact JSON |
//!
//! * `<path>` is a **dotted path** into nested objects: `user.public_metadata.org.role`
//!   reads `{"org":{"role":…}}`. Each segment is an object key of ASCII letters, digits,
//!   `_` or `-`; a path that meets a non-object, a missing key or `null` resolves to
//!   nothing. Keys with other characters (including `.`) can only be read by selecting the
//!   whole bag.
//! * The fallback is one strict JSON literal: a string, number, `true`, `false`, `null`,
//!   or an object/array literal. It applies when the shortcode resolves to nothing
//!   (absent or `null`); whole-value, it keeps its JSON type; embedded, a string gives
//!   its text, `null` gives `""` and anything else its compact JSON.
//! * Without a fallback, a whole-value shortcode that resolves to nothing removes its
//!   member from the enclosing object, or its element from the enclosing array; an
//!   embedded one becomes `""`.
//! * Rendering recurses: the same rules apply to string values at every depth of nested
//!   objects and arrays. Keys, numbers, booleans and `null` are copied as authored.
//!
//! # Validation ([`Template::parse`]) and error codes
//!
//! Each error carries the RFC 6901 JSON pointer of the offending value
//! ([`TemplateError::pointer`]); the first error in document order is reported.
//!
//! | Code | Cause |
//! |---|---|
//! | `invalid_template` | Not a strict JSON object (syntax, duplicate keys, depth > 8). |
//! | `template_too_large` | Authored size > 4 KiB, or worst-case rendered size > the budget (default 1200 bytes). |
//! | `reserved_claim` | A top-level key is one of [`RESERVED_CLAIMS`]. |
//! | `private_metadata_not_allowed` | A shortcode names private metadata (`user.private_metadata…`, `privateMetadata`, any spelling). |
//! | `unknown_shortcode` | Well-formed but not in the table above (`user.emial`, `user.email.x`, `org.id`). |
//! | `invalid_shortcode` | Malformed: unterminated, empty path or segment, bad character, fallback not one JSON literal, `{{` in a key. |
//! | `invalid_lifetime` | [`Template::with_lifetime`] outside 30 s … 86 400 s. |
//!
//! # Worst-case size
//!
//! [`Template::worst_case_size`] bounds the compact-JSON size of the rendered claims for
//! every [`User`] (whose fields are capped on write, see [`crate::templates::user`]). Literal parts
//! count their exact serialized size; each whole-value member counts as present. A
//! shortcode counts its field's cap after JSON escaping, or its fallback if larger: `id`
//! 64 (never escaped); `email` 254 × 2 (user text has no control characters, so only `"`
//! and `\` grow, to 2 bytes); names 256 × 2; `email_verified` 5. A metadata selection
//! reads a value whose compact JSON lies inside the bag's ≤ 512 bytes: whole-value it
//! counts that size, embedded twice it (re-escaping). Selections from one bag share its
//! 512 bytes: disjoint paths cannot all be large at once, so a bag counts at most
//! `W × 512` (plus fallbacks), `W` being the largest total weight of selections on one
//! chain of nested paths. A property test checks the bound against random users.

use crate::encoding::json::{self, JsonError};
use crate::error::ErrorCode;
use crate::templates::user::{
    User, MAX_EMAIL_BYTES, MAX_METADATA_BYTES, MAX_NAME_BYTES, MAX_USER_ID_BYTES,
};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

mod compile;
mod render;
mod size;

use compile::*;
use render::*;
use size::*;

/// Largest template accepted, as authored (bytes of JSON).
pub const MAX_TEMPLATE_BYTES: usize = 4096;
/// Default budget for the worst-case serialized size of a template's claims, in bytes.
pub const DEFAULT_TEMPLATE_BUDGET: usize = 1200;
/// Deepest nesting of a template (and of a fallback literal); the top-level object is 1.
pub const MAX_TEMPLATE_DEPTH: usize = 8;
/// Shortest token lifetime a template may set, in seconds.
pub const MIN_TEMPLATE_LIFETIME_SECS: i64 = 30;
/// Longest token lifetime a template may set, in seconds (24 h).
pub const MAX_TEMPLATE_LIFETIME_SECS: i64 = 86_400;

/// Top-level claims a template may not set: the standard claims minting stamps, and every
/// claim the verifier or a session token relies on (`sid`, `aal`, `azp`, `tpl` (a template
/// token's name, which the gateway checks), and `org`, which
/// [`VerifiedClaims::org_id`](crate::VerifiedClaims::org_id) reads when `org_id` is absent).
pub const RESERVED_CLAIMS: &[&str] = &[
    "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "pid", "sid", "act", "aal", "azp", "locale",
    "org", "org_id", "org_role", "tpl",
];

/// Why a template was refused.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// Not a strict JSON object.
    InvalidTemplate(&'static str),
    /// The authored template exceeds [`MAX_TEMPLATE_BYTES`].
    SourceTooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The worst-case size of the rendered claims exceeds the budget.
    TemplateTooLarge {
        /// The computed worst-case size in bytes.
        size: usize,
        /// The budget.
        limit: usize,
    },
    /// A top-level key is a reserved claim.
    ReservedClaim {
        /// The claim.
        claim: String,
        /// JSON pointer to it.
        pointer: String,
    },
    /// A shortcode reads private metadata.
    PrivateMetadataNotAllowed {
        /// JSON pointer to the string holding it.
        pointer: String,
    },
    /// A well-formed shortcode that does not exist.
    UnknownShortcode {
        /// Its path, e.g. `user.emial`.
        shortcode: String,
        /// JSON pointer to the string holding it.
        pointer: String,
    },
    /// A malformed shortcode or fallback.
    InvalidShortcode {
        /// Why, for humans.
        reason: &'static str,
        /// JSON pointer to the string (or member, for a key) holding it.
        pointer: String,
    },
    /// A lifetime outside 30 s … 86 400 s.
    InvalidLifetime {
        /// The lifetime asked for, in seconds.
        secs: i64,
    },
}

impl TemplateError {
    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::InvalidTemplate(_) => ErrorCode::InvalidTemplate,
            Self::SourceTooLarge { .. } | Self::TemplateTooLarge { .. } => {
                ErrorCode::TemplateTooLarge
            }
            Self::ReservedClaim { .. } => ErrorCode::ReservedClaim,
            Self::PrivateMetadataNotAllowed { .. } => ErrorCode::PrivateMetadataNotAllowed,
            Self::UnknownShortcode { .. } => ErrorCode::UnknownShortcode,
            Self::InvalidShortcode { .. } => ErrorCode::InvalidShortcode,
            Self::InvalidLifetime { .. } => ErrorCode::InvalidLifetime,
        }
    }

    /// The stable snake_case code (see the [module docs](self)).
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The RFC 6901 JSON pointer of the offending value (`""` is the whole template), or
    /// `None` when the error is not about one value (lifetime).
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::InvalidTemplate(_)
            | Self::SourceTooLarge { .. }
            | Self::TemplateTooLarge { .. } => Some(""),
            Self::ReservedClaim { pointer, .. }
            | Self::PrivateMetadataNotAllowed { pointer }
            | Self::UnknownShortcode { pointer, .. }
            | Self::InvalidShortcode { pointer, .. } => Some(pointer),
            Self::InvalidLifetime { .. } => None,
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTemplate(why) => write!(f, "invalid template: {why}"),
            Self::SourceTooLarge { size, limit } => {
                write!(f, "template is {size} bytes, the limit is {limit}")
            }
            Self::TemplateTooLarge { size, limit } => {
                write!(
                    f,
                    "template claims could reach {size} bytes, the budget is {limit}"
                )
            }
            Self::ReservedClaim { claim, .. } => write!(f, "`{claim}` is a reserved claim"),
            Self::PrivateMetadataNotAllowed { pointer } => {
                write!(
                    f,
                    "private metadata is never available in tokens (at `{pointer}`)"
                )
            }
            Self::UnknownShortcode { shortcode, pointer } => {
                write!(f, "unknown shortcode `{shortcode}` (at `{pointer}`)")
            }
            Self::InvalidShortcode { reason, pointer } => {
                write!(f, "invalid shortcode: {reason} (at `{pointer}`)")
            }
            Self::InvalidLifetime { secs } => {
                write!(f, "lifetime {secs} s is outside {MIN_TEMPLATE_LIFETIME_SECS}..={MAX_TEMPLATE_LIFETIME_SECS} s")
            }
        }
    }
}

impl core::error::Error for TemplateError {}

/// The bags a shortcode may select. Private metadata has no variant: no code path here
/// can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bag {
    Public,
    Unsafe,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Id,
    Email,
    EmailVerified,
    Name,
    FirstName,
    LastName,
    Bag(Bag, Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Shortcode {
    source: Source,
    fallback: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Literal text, already JSON-escaped (no quotes).
    Text(String),
    Code(Shortcode),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// No shortcode below: its compact JSON, copied as is.
    Literal(Vec<u8>),
    /// A string that is exactly one shortcode.
    Whole(Shortcode),
    /// A string with embedded shortcodes.
    Text(Vec<Part>),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
}

/// A validated JWT template: parsed, checked against every rule and within its size
/// budget. Only [`Template::parse`] builds one, so minting never sees an invalid template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: Map<String, Value>,
    root: Vec<(String, Node)>,
    worst_case: usize,
    lifetime: Option<i64>,
}

impl Template {
    /// Parses and validates a template with the default budget (1200 bytes).
    pub fn parse(json: &[u8]) -> Result<Self, TemplateError> {
        Self::parse_with_budget(json, DEFAULT_TEMPLATE_BUDGET)
    }

    /// Parses and validates a template whose worst-case claims size must be ≤ `budget`.
    pub fn parse_with_budget(json: &[u8], budget: usize) -> Result<Self, TemplateError> {
        Self::build(json, Some(budget), true)
    }

    /// Compiles without the reserved-claim and budget checks: only for tests showing that
    /// minting's standard claims win even over an unvalidated template.
    #[cfg(test)]
    pub(crate) fn parse_unchecked(json: &[u8]) -> Result<Self, TemplateError> {
        Self::build(json, None, false)
    }

    fn build(
        json: &[u8],
        budget: Option<usize>,
        check_reserved: bool,
    ) -> Result<Self, TemplateError> {
        if json.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::SourceTooLarge {
                size: json.len(),
                limit: MAX_TEMPLATE_BYTES,
            });
        }
        let source = json::parse_object(json, MAX_TEMPLATE_DEPTH).map_err(|e| {
            TemplateError::InvalidTemplate(match e {
                JsonError::NotAnObject => "a template must be a JSON object",
                other => other.reason(),
            })
        })?;
        let mut root = Vec::with_capacity(source.len());
        for (key, value) in &source {
            let pointer = child_pointer("", key);
            if check_reserved && RESERVED_CLAIMS.contains(&key.as_str()) {
                return Err(TemplateError::ReservedClaim {
                    claim: key.clone(),
                    pointer,
                });
            }
            check_key(key, &pointer)?;
            root.push((key.clone(), compile(value, &pointer)?));
        }
        let worst_case = worst_case_size(&root);
        if let Some(limit) = budget.filter(|b| worst_case > *b) {
            return Err(TemplateError::TemplateTooLarge {
                size: worst_case,
                limit,
            });
        }
        Ok(Self {
            source,
            root,
            worst_case,
            lifetime: None,
        })
    }

    /// Sets the lifetime of tokens minted from this template (30 s … 86 400 s).
    pub fn with_lifetime(mut self, secs: i64) -> Result<Self, TemplateError> {
        if !(MIN_TEMPLATE_LIFETIME_SECS..=MAX_TEMPLATE_LIFETIME_SECS).contains(&secs) {
            return Err(TemplateError::InvalidLifetime { secs });
        }
        self.lifetime = Some(secs);
        Ok(self)
    }

    /// The lifetime set with [`Template::with_lifetime`], in seconds.
    pub fn lifetime(&self) -> Option<i64> {
        self.lifetime
    }

    /// The template as authored (parsed).
    pub fn source(&self) -> &Map<String, Value> {
        &self.source
    }

    /// The worst-case compact-JSON size of [`Template::render`]'s output, in bytes.
    pub fn worst_case_size(&self) -> usize {
        self.worst_case
    }

    /// Renders the custom claims for `user`.
    pub fn render(&self, user: &User) -> Map<String, Value> {
        serde_json::from_slice(&self.render_json(user)).unwrap_or_default()
    }

    /// Renders the custom claims for `user` straight to compact JSON (the fast path minting
    /// uses; [`Template::render`] parses this). Its length is at most
    /// [`Template::worst_case_size`].
    pub fn render_json(&self, user: &User) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.worst_case.min(4096));
        out.push(b'{');
        self.write_members(user, &mut out, true, |_| false);
        out.push(b'}');
        out
    }

    /// Writes the top-level members (no braces) after a comma unless `first`, skipping
    /// keys for which `skip` is true; returns the new `first`.
    pub(crate) fn write_members(
        &self,
        user: &User,
        out: &mut Vec<u8>,
        first: bool,
        skip: impl Fn(&str) -> bool,
    ) -> bool {
        write_entries(&self.root, user, out, first, skip)
    }
}

/// Validates `template_json` and renders it against a sample user, as the dashboard's
/// Preview does.
pub fn preview(template_json: &[u8], sample: &User) -> Result<Map<String, Value>, TemplateError> {
    Template::parse(template_json).map(|t| t.render(sample))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_len_matches_serde_json() {
        for s in [
            "",
            "a",
            "\"",
            "\\",
            "\n\t\r\u{8}\u{c}",
            "\u{1}\u{1f}",
            "é€😀",
            "\u{7f}",
        ] {
            let ser = serde_json::to_string(s).unwrap();
            assert_eq!(escaped_len(s) + 2, ser.len(), "{s:?}");
        }
    }

    #[test]
    fn escape_matches_serde_json() {
        let all: String = (0u8..0x80)
            .map(char::from)
            .chain("é€😀\u{2028}".chars())
            .collect();
        for s in [
            "",
            "plain",
            "\"q\"",
            "a\\b",
            "\u{0}\u{1f}\u{7f}",
            all.as_str(),
        ] {
            assert_eq!(
                alloc::format!("\"{}\"", escaped(s)),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
            assert_eq!(escaped(s).len(), escaped_len(s));
        }
    }

    #[test]
    fn literal_len_scans_one_literal() {
        assert_eq!(literal_len(r#""a}}b" }}"#), Some(6));
        assert_eq!(literal_len(r#""a\"b"}}"#), Some(6));
        assert_eq!(literal_len(r#"{"a":[1,"]"]}}}"#), Some(13));
        assert_eq!(literal_len("12}}"), Some(2));
        assert_eq!(literal_len("true }}"), Some(4));
        assert_eq!(literal_len(r#""open"#), None);
        assert_eq!(literal_len("}}"), None);
    }

    #[test]
    fn private_names_in_any_spelling() {
        for s in [
            "private_metadata",
            "privateMetadata",
            "PRIVATE-METADATA",
            "privatemetadata",
        ] {
            assert!(is_private_name(s), "{s}");
        }
        for s in ["public_metadata", "private", "private_metadata_x", ""] {
            assert!(!is_private_name(s), "{s}");
        }
    }
}
