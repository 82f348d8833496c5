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

// ---------------------------------------------------------------------------------------
// Compilation

fn child_pointer(parent: &str, token: &str) -> String {
    let mut out = String::with_capacity(parent.len() + token.len() + 1);
    out.push_str(parent);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

fn check_key(key: &str, pointer: &str) -> Result<(), TemplateError> {
    if key.contains("{{") {
        return Err(TemplateError::InvalidShortcode {
            reason: "shortcodes are not allowed in keys",
            pointer: pointer.to_string(),
        });
    }
    Ok(())
}

fn compile(value: &Value, pointer: &str) -> Result<Node, TemplateError> {
    match value {
        Value::String(s) => compile_string(s, pointer),
        Value::Object(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (key, v) in map {
                let p = child_pointer(pointer, key);
                check_key(key, &p)?;
                entries.push((key.clone(), compile(v, &p)?));
            }
            Ok(collapse(Node::Object(entries), value))
        }
        Value::Array(items) => {
            let mut nodes = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                nodes.push(compile(v, &child_pointer(pointer, &i.to_string()))?);
            }
            Ok(collapse(Node::Array(nodes), value))
        }
        other => Ok(Node::Literal(to_json(other))),
    }
}

/// A container without shortcodes below is one literal.
fn collapse(node: Node, value: &Value) -> Node {
    let all_literal = match &node {
        Node::Object(entries) => entries.iter().all(|(_, n)| matches!(n, Node::Literal(_))),
        Node::Array(items) => items.iter().all(|n| matches!(n, Node::Literal(_))),
        _ => false,
    };
    if all_literal {
        Node::Literal(to_json(value))
    } else {
        node
    }
}

fn compile_string(s: &str, pointer: &str) -> Result<Node, TemplateError> {
    if !s.contains("{{") {
        return Ok(Node::Literal(to_json(&Value::String(s.to_string()))));
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some((before, after)) = rest.split_once("{{") {
        if !before.is_empty() {
            parts.push(Part::Text(escaped(before)));
        }
        let (code, tail) = parse_shortcode(after, pointer)?;
        parts.push(Part::Code(code));
        rest = tail;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(escaped(rest)));
    }
    if let [Part::Code(code)] = parts.as_slice() {
        return Ok(Node::Whole(code.clone()));
    }
    Ok(Node::Text(parts))
}

fn invalid(reason: &'static str, pointer: &str) -> TemplateError {
    TemplateError::InvalidShortcode {
        reason,
        pointer: pointer.to_string(),
    }
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Parses the text after `{{` up to and including its `}}`; returns the rest.
fn parse_shortcode<'a>(
    text: &'a str,
    pointer: &str,
) -> Result<(Shortcode, &'a str), TemplateError> {
    let text = text.trim_start();
    let end = text.find(|c: char| !is_path_char(c)).unwrap_or(text.len());
    let (path, rest) = text
        .split_at_checked(end)
        .ok_or_else(|| invalid("bad path", pointer))?;
    if path.is_empty() {
        return Err(invalid("empty shortcode", pointer));
    }
    let rest = rest.trim_start();
    let (fallback, rest) = match rest.strip_prefix("||") {
        Some(after) => {
            let after = after.trim_start();
            let len = literal_len(after)
                .ok_or_else(|| invalid("fallback is not a JSON literal", pointer))?;
            let (lit, rest) = after
                .split_at_checked(len)
                .ok_or_else(|| invalid("bad fallback", pointer))?;
            let value = json::parse(lit.as_bytes(), MAX_TEMPLATE_DEPTH)
                .map_err(|_| invalid("fallback is not a JSON literal", pointer))?;
            (Some(value), rest.trim_start())
        }
        None => (None, rest),
    };
    // Syntax first (the whole shortcode is well formed), then meaning.
    match rest.strip_prefix("}}") {
        Some(tail) => Ok((
            Shortcode {
                source: resolve_path(path, pointer)?,
                fallback,
            },
            tail,
        )),
        None if rest.is_empty() => Err(invalid("unterminated shortcode: missing `}}`", pointer)),
        None => Err(invalid("unexpected character in shortcode", pointer)),
    }
}

/// Length of the JSON literal at the start of `s` (strings and containers are scanned
/// with string awareness; scalars run to whitespace or `}`); validated by the caller.
fn literal_len(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    match bytes.first()? {
        b'"' | b'{' | b'[' => {
            let mut depth = 0usize;
            let mut in_str = false;
            let mut escaped = false;
            for (i, &b) in bytes.iter().enumerate() {
                if in_str {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_str = false;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            None
        }
        _ => {
            let len = s
                .find(|c: char| c.is_whitespace() || c == '}')
                .unwrap_or(s.len());
            (len > 0).then_some(len)
        }
    }
}

fn is_private_name(segment: &str) -> bool {
    let mut norm = segment
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase());
    "privatemetadata".chars().all(|c| norm.next() == Some(c)) && norm.next().is_none()
}

fn resolve_path(path: &str, pointer: &str) -> Result<Source, TemplateError> {
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(invalid("empty path segment", pointer));
    }
    let unknown = || TemplateError::UnknownShortcode {
        shortcode: path.to_string(),
        pointer: pointer.to_string(),
    };
    if segments.iter().take(2).any(|s| is_private_name(s)) {
        return Err(TemplateError::PrivateMetadataNotAllowed {
            pointer: pointer.to_string(),
        });
    }
    let (root, field, rest) = match segments.as_slice() {
        [root, field, rest @ ..] => (*root, *field, rest),
        _ => return Err(unknown()),
    };
    if root != "user" {
        return Err(unknown());
    }
    let scalar = match field {
        "id" => Source::Id,
        "email" => Source::Email,
        "email_verified" => Source::EmailVerified,
        "name" => Source::Name,
        "first_name" => Source::FirstName,
        "last_name" => Source::LastName,
        "public_metadata" | "unsafe_metadata" => {
            let bag = if field == "public_metadata" {
                Bag::Public
            } else {
                Bag::Unsafe
            };
            return Ok(Source::Bag(
                bag,
                rest.iter().map(|s| (*s).to_string()).collect(),
            ));
        }
        _ => return Err(unknown()),
    };
    if rest.is_empty() {
        Ok(scalar)
    } else {
        Err(unknown())
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

/// A resolved shortcode, borrowed from the user or the template where possible.
enum Resolved<'a> {
    Str(&'a str),
    Owned(String),
    Bool(bool),
    Json(&'a Value),
    Bag(&'a Map<String, Value>),
}

fn resolve<'a>(source: &'a Source, user: &'a User) -> Option<Resolved<'a>> {
    Some(match source {
        Source::Id => Resolved::Str(user.id()),
        Source::Email => Resolved::Str(user.email()?),
        Source::EmailVerified => Resolved::Bool(user.email_verified()),
        Source::Name => Resolved::Owned(user.name()?),
        Source::FirstName => Resolved::Str(user.first_name()?),
        Source::LastName => Resolved::Str(user.last_name()?),
        Source::Bag(bag, path) => {
            let map = match bag {
                Bag::Public => user.public_metadata(),
                Bag::Unsafe => user.unsafe_metadata(),
            };
            let mut segments = path.iter();
            let mut cur = match segments.next() {
                None => return Some(Resolved::Bag(map)),
                Some(first) => map.get(first)?,
            };
            for seg in segments {
                cur = cur.as_object()?.get(seg)?;
            }
            if cur.is_null() {
                return None;
            }
            Resolved::Json(cur)
        }
    })
}

fn resolve_or_fallback<'a>(code: &'a Shortcode, user: &'a User) -> Option<Resolved<'a>> {
    resolve(&code.source, user).or_else(|| code.fallback.as_ref().map(Resolved::Json))
}

/// Compact JSON of `v`, byte for byte as serde_json writes it (serde_json's writer API
/// needs `std`; values here nest at most 16 deep, so recursion is bounded).
fn write_json(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => write_map(out, map),
    }
}

fn write_map(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (k, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_json(out, item);
    }
    out.push(b'}');
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Whole value: the resolved value with its JSON type.
fn write_whole(out: &mut Vec<u8>, r: &Resolved<'_>) {
    match r {
        Resolved::Str(s) => write_str(out, s),
        Resolved::Owned(s) => write_str(out, s),
        Resolved::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Resolved::Json(v) => write_json(out, v),
        Resolved::Bag(m) => write_map(out, m),
    }
}

/// Embedded: a string's text, `null` as nothing, anything else as compact JSON.
fn write_text(out: &mut Vec<u8>, r: &Resolved<'_>) {
    match r {
        Resolved::Str(s) => escape_into(out, s),
        Resolved::Owned(s) => escape_into(out, s),
        Resolved::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Resolved::Json(Value::String(s)) => escape_into(out, s),
        Resolved::Json(Value::Null) => {}
        Resolved::Json(v) => escape_into(out, &String::from_utf8(to_json(v)).unwrap_or_default()),
        Resolved::Bag(m) => {
            let mut json = Vec::new();
            write_map(&mut json, m);
            escape_into(out, &String::from_utf8(json).unwrap_or_default());
        }
    }
}

/// Writes `node`, or nothing (returning false) when it is a whole value that resolves to
/// nothing.
fn write_node(node: &Node, user: &User, out: &mut Vec<u8>) -> bool {
    match node {
        Node::Literal(bytes) => out.extend_from_slice(bytes),
        Node::Whole(code) => match resolve_or_fallback(code, user) {
            Some(r) => write_whole(out, &r),
            None => return false,
        },
        Node::Text(parts) => {
            out.push(b'"');
            for part in parts {
                match part {
                    Part::Text(t) => out.extend_from_slice(t.as_bytes()),
                    Part::Code(code) => {
                        if let Some(r) = resolve_or_fallback(code, user) {
                            write_text(out, &r);
                        }
                    }
                }
            }
            out.push(b'"');
        }
        Node::Object(entries) => {
            out.push(b'{');
            write_entries(entries, user, out, true, |_| false);
            out.push(b'}');
        }
        Node::Array(items) => {
            out.push(b'[');
            let mut first = true;
            for item in items {
                let mark = out.len();
                if !first {
                    out.push(b',');
                }
                if write_node(item, user, out) {
                    first = false;
                } else {
                    out.truncate(mark);
                }
            }
            out.push(b']');
        }
    }
    true
}

fn write_entries(
    entries: &[(String, Node)],
    user: &User,
    out: &mut Vec<u8>,
    mut first: bool,
    skip: impl Fn(&str) -> bool,
) -> bool {
    for (key, node) in entries {
        if skip(key) {
            continue;
        }
        let mark = out.len();
        if !first {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        if write_node(node, user, out) {
            first = false;
        } else {
            out.truncate(mark);
        }
    }
    first
}

// ---------------------------------------------------------------------------------------
// Worst-case size

/// Serialized size of `s` as the contents of a JSON string (serde_json's escaping).
fn escaped_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            c if c < ' ' => 6,
            c => c.len_utf8(),
        })
        .sum()
}

fn serialized_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

fn to_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(&mut out, v);
    out
}

/// Appends `s` JSON-escaped (without quotes), exactly as serde_json escapes strings.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if short.is_empty() {
            let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
            let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

fn escaped(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    escape_into(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

/// One shortcode occurrence: weight 1 whole-value, 2 embedded (re-escaped).
struct Occurrence<'a> {
    source: &'a Source,
    weight: usize,
    fallback: usize,
}

/// Worst-case size of a selected bag value at `path` (its compact JSON inside the bag).
fn bag_value_cap(path: &[String]) -> usize {
    // Each level costs at least `{`, `"key"`, `:` and `}` around the value.
    let overhead: usize = path.iter().map(|s| escaped_len(s).saturating_add(5)).sum();
    MAX_METADATA_BYTES.saturating_sub(overhead)
}

fn occurrence_cost(o: &Occurrence<'_>) -> usize {
    let whole = o.weight == 1;
    let cap = match o.source {
        Source::Id => MAX_USER_ID_BYTES + if whole { 2 } else { 0 },
        Source::Email => 2 * MAX_EMAIL_BYTES + if whole { 2 } else { 0 },
        Source::Name | Source::FirstName | Source::LastName => {
            2 * MAX_NAME_BYTES + if whole { 2 } else { 0 }
        }
        Source::EmailVerified => 5,
        Source::Bag(_, path) => o.weight.saturating_mul(bag_value_cap(path)),
    };
    cap.max(o.fallback)
}

fn fallback_cost(code: &Shortcode, whole: bool) -> usize {
    match &code.fallback {
        None => 0,
        Some(v) if whole => serialized_len(v),
        Some(Value::String(s)) => escaped_len(s),
        Some(Value::Null) => 0,
        Some(v) => escaped_len(&v.to_string()),
    }
}

fn static_size<'a>(node: &'a Node, occ: &mut Vec<Occurrence<'a>>) -> usize {
    let commas = |n: usize| n.saturating_sub(1);
    match node {
        Node::Literal(bytes) => bytes.len(),
        Node::Whole(code) => {
            occ.push(Occurrence {
                source: &code.source,
                weight: 1,
                fallback: fallback_cost(code, true),
            });
            0
        }
        Node::Text(parts) => {
            let mut size = 2usize;
            for part in parts {
                match part {
                    Part::Text(t) => size = size.saturating_add(t.len()),
                    Part::Code(code) => {
                        occ.push(Occurrence {
                            source: &code.source,
                            weight: 2,
                            fallback: fallback_cost(code, false),
                        });
                    }
                }
            }
            size
        }
        Node::Object(entries) => entries_size(entries, occ),
        Node::Array(items) => items
            .iter()
            .fold(2usize.saturating_add(commas(items.len())), |acc, n| {
                acc.saturating_add(static_size(n, occ))
            }),
    }
}

fn entries_size<'a>(entries: &'a [(String, Node)], occ: &mut Vec<Occurrence<'a>>) -> usize {
    let base = 2usize.saturating_add(entries.len().saturating_sub(1));
    entries.iter().fold(base, |acc, (key, n)| {
        acc.saturating_add(escaped_len(key) + 3)
            .saturating_add(static_size(n, occ))
    })
}

/// Bound for all selections from one bag: each alone, or all sharing the bag's bytes.
fn bag_bound(occ: &[&Occurrence<'_>]) -> usize {
    let path = |o: &Occurrence<'_>| match o.source {
        Source::Bag(_, p) => p.clone(),
        _ => Vec::new(),
    };
    let separate: usize = occ
        .iter()
        .map(|o| occurrence_cost(o))
        .fold(0, usize::saturating_add);
    let fallbacks: usize = occ
        .iter()
        .map(|o| o.fallback)
        .fold(0, usize::saturating_add);
    // W: the heaviest chain of nested selections (a byte of the bag lies inside every
    // selection whose path is a prefix of the deepest one containing it).
    let chain = occ
        .iter()
        .map(|q| {
            let qp = path(q);
            occ.iter()
                .filter(|p| qp.starts_with(&path(p)))
                .map(|p| p.weight)
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    separate.min(
        chain
            .saturating_mul(MAX_METADATA_BYTES)
            .saturating_add(fallbacks),
    )
}

fn worst_case_size(root: &[(String, Node)]) -> usize {
    let mut occ = Vec::new();
    let mut total = entries_size(root, &mut occ);
    for o in &occ {
        if !matches!(o.source, Source::Bag(..)) {
            total = total.saturating_add(occurrence_cost(o));
        }
    }
    for bag in [Bag::Public, Bag::Unsafe] {
        let in_bag: Vec<&Occurrence<'_>> = occ
            .iter()
            .filter(|o| matches!(o.source, Source::Bag(b, _) if *b == bag))
            .collect();
        total = total.saturating_add(bag_bound(&in_bag));
    }
    total
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
