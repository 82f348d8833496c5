//! Strict JSON: duplicate object keys are rejected at any depth and nesting is bounded.
//!
//! `serde_json` alone keeps the last of two equal keys, which lets two parsers disagree
//! about a token's claims. This module parses into `serde_json::Value` through a seed
//! that refuses duplicates and depth beyond a bound.

use alloc::string::String;
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

fn classify(e: &serde_json::Error) -> JsonError {
    use alloc::string::ToString;
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
