//! Rendering: a compiled template against a user, written straight to JSON bytes.

use super::*;

/// A resolved shortcode, borrowed from the user or the template where possible.
pub(super) enum Resolved<'a> {
    Str(&'a str),
    Owned(String),
    Bool(bool),
    Json(&'a Value),
    Bag(&'a Map<String, Value>),
}

pub(super) fn resolve<'a>(source: &'a Source, user: &'a User) -> Option<Resolved<'a>> {
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

pub(super) fn resolve_or_fallback<'a>(code: &'a Shortcode, user: &'a User) -> Option<Resolved<'a>> {
    resolve(&code.source, user).or_else(|| code.fallback.as_ref().map(Resolved::Json))
}

/// Compact JSON of `v`, byte for byte as serde_json writes it (serde_json's writer API
/// needs `std`; values here nest at most 16 deep, so recursion is bounded).
pub(super) fn write_json(out: &mut Vec<u8>, v: &Value) {
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

pub(super) fn write_map(out: &mut Vec<u8>, map: &Map<String, Value>) {
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

pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Whole value: the resolved value with its JSON type.
pub(super) fn write_whole(out: &mut Vec<u8>, r: &Resolved<'_>) {
    match r {
        Resolved::Str(s) => write_str(out, s),
        Resolved::Owned(s) => write_str(out, s),
        Resolved::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Resolved::Json(v) => write_json(out, v),
        Resolved::Bag(m) => write_map(out, m),
    }
}

/// Embedded: a string's text, `null` as nothing, anything else as compact JSON.
pub(super) fn write_text(out: &mut Vec<u8>, r: &Resolved<'_>) {
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
pub(super) fn write_node(node: &Node, user: &User, out: &mut Vec<u8>) -> bool {
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

pub(super) fn write_entries(
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
