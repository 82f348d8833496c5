//! `normalize_path` and route matching on arbitrary paths and route tables.
//!
//! A normalized path starts with `/`, holds no `//`, no `.`/`..` segment and no encoded
//! `/` (`%2F`) or `\`, is no longer than its input and normalizes to itself. Routing it
//! never panics: edge-owned paths are `Route::Edge`; a matched rule belongs to the table
//! and applies to the method.
//!
//! Input: the path, then optionally `\n` and a route table's JSON (parsed with
//! `RouteTable::from_json`; when it parses, the path is routed against it as well as
//! against a fixed table, the one of docs/gateway.md).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use torii_edge::edge::dispatch::edge_owned;
use torii_edge::edge::path::normalize_path;
use torii_edge::edge::routing::{check_query, Route, RouteTable, MAX_QUERY_LEN};

const FIXED: &str = r#"[
  { "path": "/public/**", "access": "public" },
  { "path": "/feed/**", "access": "optional" },
  { "path": "/admin/**", "methods": ["POST", "DELETE"], "access": "required", "roles": ["admin", "owner"] },
  { "path": "/billing/**", "access": "required", "claims": { "aal": "aal2" } },
  { "path": "/v1/graphql", "access": "required", "templates": ["hasura"] },
  { "path": "/files/*.png", "access": "public" },
  { "path": "/api/", "access": "optional" }
]"#;

fn fixed() -> &'static RouteTable {
    static T: OnceLock<RouteTable> = OnceLock::new();
    T.get_or_init(|| RouteTable::from_json(FIXED.as_bytes()).unwrap())
}

fn check_route(table: &RouteTable, method: &str, path: &str) {
    match table.route(method, path) {
        Route::Edge => assert!(edge_owned(path)),
        Route::Origin(rule) => {
            assert!(
                !edge_owned(path),
                "{path} is edge-owned but routed to the origin"
            );
            if let Some(rule) = rule {
                assert!(table.rules().iter().any(|r| std::ptr::eq(r, rule)));
                assert!(
                    rule.methods.is_empty()
                        || rule.methods.iter().any(|m| m.eq_ignore_ascii_case(method)),
                    "rule {rule:?} matched {method}"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (path, table) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(path) = std::str::from_utf8(path) else {
        return;
    };
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    assert_eq!(
        check_query(query).is_ok(),
        query.is_none_or(|q| q.len() <= MAX_QUERY_LEN)
    );
    let Ok(norm) = normalize_path(path) else {
        return;
    };
    assert!(norm.starts_with('/'), "{path:?} -> {norm:?}");
    assert!(!norm.contains("//"), "{path:?} -> {norm:?}");
    assert!(
        !norm.split('/').any(|s| s == "." || s == ".."),
        "{path:?} -> {norm:?}"
    );
    let upper = norm.to_ascii_uppercase();
    assert!(
        !upper.contains("%2F") && !upper.contains("%5C") && !norm.contains('\\'),
        "{path:?} -> {norm:?}"
    );
    assert!(norm.len() <= path.len().max(1), "{path:?} -> {norm:?} grew");
    assert_eq!(
        normalize_path(&norm).as_deref(),
        Ok(norm.as_str()),
        "not idempotent on {path:?}"
    );
    for method in ["GET", "POST", "delete"] {
        check_route(fixed(), method, &norm);
    }
    if let Some(json) = table {
        if let Ok(table) = RouteTable::from_json(json) {
            for method in ["GET", "POST", "OPTIONS"] {
                check_route(&table, method, &norm);
            }
        }
    }
});
