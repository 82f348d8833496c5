//! Strict JSON: duplicate object keys are rejected at any depth and nesting is bounded.
//!
//! `serde_json` alone keeps the last of two equal keys, which lets two parsers disagree
//! about a token's claims. This module parses into `serde_json::Value` through a seed
//! that refuses duplicates and depth beyond a bound.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_core::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// Default maximum nesting depth of objects and arrays (the top-level object is depth 1).
pub const DEFAULT_MAX_DEPTH: usize = 16;

/// Why a JSON document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Not valid JSON (syntax, encoding, trailing data).
    Syntax,
    /// An object has the same key twice.
    DuplicateKey,
    /// Objects/arrays nest deeper than allowed.
    TooDeep,
    /// The top-level value is not an object.
    NotAnObject,
}

impl JsonError {
    /// A short human-readable reason.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Syntax => "invalid JSON",
            Self::DuplicateKey => "duplicate JSON object key",
            Self::TooDeep => "JSON nested too deep",
            Self::NotAnObject => "JSON value is not an object",
        }
    }
}

const DUP: &str = "torii:duplicate-key";
const DEEP: &str = "torii:too-deep";

/// Parses `bytes` as one JSON value with no duplicate keys and at most `max_depth` levels.
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict {
        depth: 0,
        max_depth,
    }
    .deserialize(&mut de)
    .map_err(|e| classify(&e))?;
    de.end().map_err(|_| JsonError::Syntax)?;
    Ok(value)
}

/// Parses `bytes` as a JSON object (see [`parse`]).
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, JsonError> {
    match parse(bytes, max_depth)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Parses `bytes` as a JSON object of at most `max_members` members, under [`parse`]'s
/// rules (no duplicate keys at any depth, at most `max_depth` levels), into its members in
/// document order, each name borrowed from `bytes` unless it holds an escape. For small
/// objects read once (a JOSE header): no map is built, and no name is copied.
///
/// `None` for any other document: not an object, more than `max_members` members, or
/// refused by those rules ([`parse_object`] tells why).
pub fn parse_members<'de>(
    bytes: &'de [u8],
    max_depth: usize,
    max_members: usize,
) -> Option<Members<'de>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let members = de::Deserializer::deserialize_map(
        &mut de,
        MembersVisitor {
            max_depth,
            max_members,
        },
    )
    .ok()?;
    de.end().ok()?;
    Some(members)
}

/// The members of an object as [`parse_members`] gives them.
pub type Members<'de> = Vec<(Cow<'de, str>, Value)>;

fn classify(e: &serde_json::Error) -> JsonError {
    let text = e.to_string();
    if text.starts_with(DUP) {
        JsonError::DuplicateKey
    } else if text.starts_with(DEEP) || text.starts_with("recursion limit exceeded") {
        JsonError::TooDeep
    } else {
        JsonError::Syntax
    }
}

#[derive(Clone, Copy)]
struct Strict {
    depth: usize,
    max_depth: usize,
}

impl Strict {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        let depth = self.depth.saturating_add(1);
        if depth > self.max_depth {
            return Err(E::custom(DEEP));
        }
        Ok(Self { depth, ..self })
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        // One search per key: the vacant entry it finds is where the value goes.
        while let Some(key) = map.next_key::<String>()? {
            match out.entry(key) {
                Entry::Occupied(_) => return Err(de::Error::custom(DUP)),
                Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(inner)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// [`parse_members`]' visitor: an object's members in order.
struct MembersVisitor {
    max_depth: usize,
    max_members: usize,
}

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // The members' values are what Strict's object holds: one level down.
        let inner = Strict {
            depth: 0,
            max_depth: self.max_depth,
        }
        .nested()?;
        let mut out: Members<'de> = Vec::new();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            // A repeated name, or one member too many: parse_object answers (the error
            // itself is not returned).
            if out.len() >= self.max_members || out.iter().any(|(seen, _)| *seen == name) {
                return Err(de::Error::custom(DUP));
            }
            let value = map.next_value_seed(inner)?;
            out.push((name, value));
        }
        Ok(out)
    }
}

/// An object member's name, borrowed from the document when it holds no escape.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_objects() {
        let v = parse_object(br#"{"a":1,"b":[true,null,"x",1.5],"c":{"d":-2}}"#, 4).unwrap();
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn duplicate_keys_rejected_at_any_depth() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#, 8), Err(JsonError::DuplicateKey));
        assert_eq!(
            parse(br#"{"x":{"a":1,"a":1}}"#, 8),
            Err(JsonError::DuplicateKey)
        );
        assert_eq!(
            parse(br#"{"x":[{"b":1,"b":1}]}"#, 8),
            Err(JsonError::DuplicateKey)
        );
        // Escapes are decoded before comparison: "\u0061" is "a".
        assert_eq!(
            parse(br#"{"a":1,"\u0061":2}"#, 8),
            Err(JsonError::DuplicateKey)
        );
    }

    #[test]
    fn members_in_order_names_borrowed_unless_escaped() {
        let doc = br#"{"b":1,"\u0061":"x","c":{"d":[true]}}"#;
        let members = parse_members(doc, 4, 16).unwrap();
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert!(matches!(members[0].0, Cow::Borrowed(_)));
        assert!(matches!(members[1].0, Cow::Owned(_)));
        assert_eq!(members[1].1, Value::String("x".into()));
        assert_eq!(
            parse_members(br#"{"a":1,"b":2}"#, 4, 2).map(|m| m.len()),
            Some(2)
        );
        assert_eq!(parse_members(b"{}", 1, 16), Some(Vec::new()));
        // Anything else is parse_object's to answer.
        for (refused, max_depth) in [
            (&br#"{"a":1,"\u0061":2}"#[..], 4),
            (br#"{"x":{"a":1,"a":1}}"#, 4),
            (br#"{"a":{"b":1}}"#, 1),
            (br#"{"a":1} x"#, 4),
            (br#"{"a":1,}"#, 4),
            (b"[1]", 4),
            (b"\"s\"", 4),
            (br#"{"a":1,"b":2,"c":3}"#, 4),
        ] {
            assert_eq!(parse_members(refused, max_depth, 2), None);
        }
        assert_eq!(parse_members(b"{}", 0, 16), None);
    }

    #[test]
    fn depth_is_bounded() {
        assert!(parse(br#"{"a":{"b":{}}}"#, 3).is_ok());
        assert_eq!(parse(br#"{"a":{"b":{"c":1}}}"#, 2), Err(JsonError::TooDeep));
        assert_eq!(parse(b"[[[[1]]]]", 3), Err(JsonError::TooDeep));
        let deep = "[".repeat(10_000);
        assert_eq!(parse(deep.as_bytes(), 16), Err(JsonError::TooDeep));
    }

    #[test]
    fn syntax_and_shape_errors() {
        assert_eq!(parse(b"{\"a\":1} x", 8), Err(JsonError::Syntax));
        assert_eq!(parse(b"{\"a\":1,}", 8), Err(JsonError::Syntax));
        assert_eq!(parse(b"\xff", 8), Err(JsonError::Syntax));
        assert_eq!(parse(br#"{"a":"\ud800"}"#, 8), Err(JsonError::Syntax));
        assert_eq!(parse_object(b"[1]", 8), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(b"\"s\"", 8), Err(JsonError::NotAnObject));
    }
}
