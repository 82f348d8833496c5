//! CORS on `/v1`: only the application's allowed origins, never `*`.
//!
//! A simple or actual request gets `Access-Control-Allow-Origin: <its origin>` when that
//! origin is in the application's `allowed_origins` (the list read with the key), else
//! no CORS header at all (the browser then hides the response). A preflight carries no
//! `x-application-id` value, so it is answered for an origin that some application
//! allows; the actual request is still checked against its own application.

use crate::edge::reply::Reply;
use alloc::string::String;
use alloc::vec::Vec;

/// Request headers a browser may send to `/v1`.
pub const ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, if-match, x-application-id";
/// Response headers a browser may read.
pub const EXPOSE_HEADERS: &str = "etag, idempotent-replayed, x-request-id";
/// How long a browser may cache a preflight, in seconds.
pub const PREFLIGHT_MAX_AGE: u32 = 600;

/// `origin` if it is exactly one of `allowed` (`None`: no `Origin`, `null`, or not
/// allowed).
pub fn allowed_origin<'a>(origin: Option<&'a str>, allowed: &[String]) -> Option<&'a str> {
    origin.filter(|o| *o != "null" && allowed.iter().any(|a| a == o))
}

/// The origins of an application's `allowed_origins` column (a JSON array of strings;
/// anything else allows none).
pub fn parse_allowed_origins(column: &str) -> Vec<String> {
    match serde_json::from_slice::<serde_json::Value>(column.as_bytes()) {
        Ok(serde_json::Value::Array(list)) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds the CORS headers of an actual request from `origin` (already allowed) to
/// `reply`, and `Vary: Origin` in every case (the answer depends on it).
pub fn apply(reply: &mut Reply, origin: Option<&str>) {
    reply.headers.push(("vary", "Origin".into()));
    if let Some(origin) = origin {
        reply
            .headers
            .push(("access-control-allow-origin", origin.into()));
        reply
            .headers
            .push(("access-control-expose-headers", EXPOSE_HEADERS.into()));
    }
}

/// The answer to a preflight of a resource allowing `methods`: 204, with the CORS grant
/// only when `origin` is allowed (`None`: not allowed, no grant).
pub fn preflight(origin: Option<&str>, methods: &str) -> Reply {
    let mut reply = Reply {
        status: 204,
        headers: Vec::new(),
        body: None,
    };
    reply.headers.push(("vary", "Origin".into()));
    reply.headers.push(("cache-control", "no-store".into()));
    if let Some(origin) = origin {
        reply
            .headers
            .push(("access-control-allow-origin", origin.into()));
        reply.headers.push((
            "access-control-allow-methods",
            alloc::format!("{methods}, OPTIONS"),
        ));
        reply
            .headers
            .push(("access-control-allow-headers", ALLOW_HEADERS.into()));
        reply.headers.push((
            "access-control-max-age",
            alloc::format!("{PREFLIGHT_MAX_AGE}"),
        ));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn only_listed_origins_never_a_wildcard() {
        let allowed = vec!["https://app.example".to_string()];
        assert_eq!(
            allowed_origin(Some("https://app.example"), &allowed),
            Some("https://app.example")
        );
        assert_eq!(allowed_origin(Some("https://evil.example"), &allowed), None);
        assert_eq!(allowed_origin(Some("https://app.example/"), &allowed), None);
        assert_eq!(allowed_origin(Some("null"), &["null".to_string()]), None);
        assert_eq!(allowed_origin(None, &allowed), None);
        let mut r = Reply::json(200, "{}".into());
        apply(&mut r, None);
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert_eq!(r.header("vary"), Some("Origin"));
        apply(&mut r, Some("https://app.example"));
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://app.example")
        );
    }

    #[test]
    fn preflights_and_columns() {
        let p = preflight(Some("https://a.example"), "GET, POST");
        assert_eq!(p.status, 204);
        assert_eq!(
            p.header("access-control-allow-methods"),
            Some("GET, POST, OPTIONS")
        );
        assert!(p
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("x-application-id") && h.contains("idempotency-key")));
        let p = preflight(None, "GET");
        assert_eq!(p.status, 204);
        assert_eq!(p.header("access-control-allow-origin"), None);
        assert_eq!(
            parse_allowed_origins(r#"["https://a","https://b"]"#),
            vec!["https://a".to_string(), "https://b".to_string()]
        );
        assert!(parse_allowed_origins("{}").is_empty());
        assert!(parse_allowed_origins("nope").is_empty());
    }
}
