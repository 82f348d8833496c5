//! The tenant's public well-known documents: OIDC discovery and the JWKS, with
//! `Cache-Control`, a strong `ETag`, `304` revalidation and CORS.

use super::discovery::discovery_document;
use super::reply::{method_not_allowed, preflight, Reply};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use sha2::{Digest, Sha256};

/// Path of the OIDC discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS, relative to the issuer.
pub const JWKS_PATH: &str = "/_torii/.well-known/jwks.json";

/// Whether `path` is one of the public well-known documents.
pub fn is_well_known(path: &str) -> bool {
    path == DISCOVERY_PATH || path == JWKS_PATH
}

/// The strong `ETag` of a body: a quoted base64url SHA-256 prefix (128 bits).
pub fn etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!(
        "\"{}\"",
        crate::encoding::b64::encode(digest.get(..16).unwrap_or_default())
    )
}

/// Whether `If-None-Match` matches `etag` (weak comparison, RFC 9110 §13.1.2).
pub fn none_match(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    let bare = |t: &str| -> String { t.trim().trim_start_matches("W/").to_string() };
    let want = bare(etag);
    header
        .split(',')
        .take(64)
        .any(|t| t.trim() == "*" || bare(t) == want)
}

/// Method check of the well-known documents: `Some(reply)` ends the request.
pub fn well_known_method(method: &str) -> Option<Reply> {
    match method {
        "GET" | "HEAD" => None,
        "OPTIONS" => Some(preflight("GET, HEAD, OPTIONS")),
        _ => Some(method_not_allowed("GET, HEAD, OPTIONS")),
    }
}

/// A well-known document of a tenant: discovery (from its issuer) or its JWKS, with
/// `Cache-Control`, a strong `ETag`, `304` on a matching `If-None-Match`, and CORS.
pub fn well_known(
    path: &str,
    issuer: &str,
    jwks_json: &str,
    max_age: i64,
    if_none_match: Option<&str>,
) -> Reply {
    let body = if path == DISCOVERY_PATH {
        let issuer = issuer.trim_end_matches('/');
        discovery_document(issuer, &format!("{issuer}{JWKS_PATH}"))
    } else {
        jwks_json.to_string()
    };
    let tag = etag(&body);
    let cache = format!("public, max-age={max_age}");
    if none_match(if_none_match, &tag) {
        return Reply {
            status: 304,
            headers: vec![
                ("etag", tag),
                ("cache-control", cache),
                ("access-control-allow-origin", "*".into()),
            ],
            body: None,
        };
    }
    let mut reply = Reply::json(200, body).with_cors();
    reply.headers.push(("cache-control", cache));
    reply.headers.push(("etag", tag));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const JWKS: &str = r#"{"keys":[]}"#;

    fn body_json(reply: &Reply) -> Value {
        serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn discovery_uses_the_tenant_issuer_without_trailing_slash() {
        let reply = well_known(DISCOVERY_PATH, "https://acme.torii.test/", JWKS, 300, None);
        assert_eq!(reply.status, 200);
        let doc = body_json(&reply);
        assert_eq!(doc["issuer"], "https://acme.torii.test");
        assert_eq!(
            doc["jwks_uri"],
            "https://acme.torii.test/_torii/.well-known/jwks.json"
        );
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
        assert!(reply.header("etag").unwrap().starts_with('"'));
    }

    #[test]
    fn etag_revalidation_gives_304_without_body() {
        let first = well_known(JWKS_PATH, "https://a", JWKS, 60, None);
        assert_eq!(first.body.as_deref(), Some(JWKS));
        let tag = first.header("etag").unwrap().to_string();
        for inm in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"x\", {tag}"),
            "*".into(),
        ] {
            let again = well_known(JWKS_PATH, "https://a", JWKS, 60, Some(&inm));
            assert_eq!(again.status, 304, "{inm}");
            assert_eq!(again.body, None);
            assert_eq!(again.header("etag"), Some(tag.as_str()));
            assert_eq!(again.header("cache-control"), Some("public, max-age=60"));
        }
        let other = well_known(JWKS_PATH, "https://a", r#"{"keys":[1]}"#, 60, Some(&tag));
        assert_eq!(other.status, 200);
        assert_ne!(other.header("etag"), Some(tag.as_str()));
    }

    #[test]
    fn methods_and_preflight() {
        assert!(well_known_method("GET").is_none());
        assert!(well_known_method("HEAD").is_none());
        let pre = well_known_method("OPTIONS").unwrap();
        assert_eq!(pre.status, 204);
        assert_eq!(pre.body, None);
        assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
        let post = well_known_method("POST").unwrap();
        assert_eq!(post.status, 405);
        assert_eq!(body_json(&post)["code"], "method_not_allowed");
        assert_eq!(post.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}
