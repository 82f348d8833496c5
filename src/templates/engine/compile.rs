//! Compilation: a template's JSON into its node tree (shortcodes parsed and resolved to user fields, reserved claims and private metadata refused, every error at its JSON pointer).

use super::*;

pub(super) fn child_pointer(parent: &str, token: &str) -> String {
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

pub(super) fn check_key(key: &str, pointer: &str) -> Result<(), TemplateError> {
    if key.contains("{{") {
        return Err(TemplateError::InvalidShortcode {
            reason: "shortcodes are not allowed in keys",
            pointer: pointer.to_string(),
        });
    }
    Ok(())
}

pub(super) fn compile(value: &Value, pointer: &str) -> Result<Node, TemplateError> {
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
pub(super) fn collapse(node: Node, value: &Value) -> Node {
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

pub(super) fn compile_string(s: &str, pointer: &str) -> Result<Node, TemplateError> {
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

pub(super) fn invalid(reason: &'static str, pointer: &str) -> TemplateError {
    TemplateError::InvalidShortcode {
        reason,
        pointer: pointer.to_string(),
    }
}

pub(super) fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Parses the text after `{{` up to and including its `}}`; returns the rest.
pub(super) fn parse_shortcode<'a>(
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
pub(super) fn literal_len(s: &str) -> Option<usize> {
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

pub(super) fn is_private_name(segment: &str) -> bool {
    let mut norm = segment
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase());
    "privatemetadata".chars().all(|c| norm.next() == Some(c)) && norm.next().is_none()
}

pub(super) fn resolve_path(path: &str, pointer: &str) -> Result<Source, TemplateError> {
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
