//! The worst-case size of a template's rendered claims, computed from its node tree and the user caps (the budget check at save).

use super::*;

/// Serialized size of `s` as the contents of a JSON string (serde_json's escaping).
pub(super) fn escaped_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            c if c < ' ' => 6,
            c => c.len_utf8(),
        })
        .sum()
}

pub(super) fn serialized_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

pub(super) fn to_json(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(&mut out, v);
    out
}

/// Appends `s` JSON-escaped (without quotes), exactly as serde_json escapes strings.
pub(super) fn escape_into(out: &mut Vec<u8>, s: &str) {
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

pub(super) fn escaped(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    escape_into(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

/// One shortcode occurrence: weight 1 whole-value, 2 embedded (re-escaped).
pub(super) struct Occurrence<'a> {
    source: &'a Source,
    weight: usize,
    fallback: usize,
}

/// Worst-case size of a selected bag value at `path` (its compact JSON inside the bag).
pub(super) fn bag_value_cap(path: &[String]) -> usize {
    // Each level costs at least `{`, `"key"`, `:` and `}` around the value.
    let overhead: usize = path.iter().map(|s| escaped_len(s).saturating_add(5)).sum();
    MAX_METADATA_BYTES.saturating_sub(overhead)
}

pub(super) fn occurrence_cost(o: &Occurrence<'_>) -> usize {
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

pub(super) fn fallback_cost(code: &Shortcode, whole: bool) -> usize {
    match &code.fallback {
        None => 0,
        Some(v) if whole => serialized_len(v),
        Some(Value::String(s)) => escaped_len(s),
        Some(Value::Null) => 0,
        Some(v) => escaped_len(&v.to_string()),
    }
}

pub(super) fn static_size<'a>(node: &'a Node, occ: &mut Vec<Occurrence<'a>>) -> usize {
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

pub(super) fn entries_size<'a>(
    entries: &'a [(String, Node)],
    occ: &mut Vec<Occurrence<'a>>,
) -> usize {
    let base = 2usize.saturating_add(entries.len().saturating_sub(1));
    entries.iter().fold(base, |acc, (key, n)| {
        acc.saturating_add(escaped_len(key) + 3)
            .saturating_add(static_size(n, occ))
    })
}

/// Bound for all selections from one bag: each alone, or all sharing the bag's bytes.
pub(super) fn bag_bound(occ: &[&Occurrence<'_>]) -> usize {
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

pub(super) fn worst_case_size(root: &[(String, Node)]) -> usize {
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
