//! Header hygiene, sans-I/O: which inbound headers never reach the origin (ours in any
//! spelling, hop-by-hop, `Connection`-listed), the claims headers the edge adds, the
//! request id, and the full header list the origin receives.

use crate::encoding::b64;
use crate::jose::claims::VerifiedClaims;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Prefix of every header the edge adds; inbound look-alikes are always stripped.
pub const HEADER_PREFIX: &str = "x-torii-";
/// Request id header, propagated or created.
pub const REQUEST_ID: &str = "x-request-id";

/// Whether a header name is one of ours: lower-cased, with `_` read as `-`, it starts
/// with `x-torii-`. Such inbound headers are always removed before forwarding.
pub fn is_reserved_header(name: &str) -> bool {
    let prefix = HEADER_PREFIX.as_bytes();
    name.len() >= prefix.len()
        && name.bytes().zip(prefix.iter()).all(|(b, p)| {
            (if b == b'_' {
                b'-'
            } else {
                b.to_ascii_lowercase()
            }) == *p
        })
}

/// Header names listed in a `Connection` header value (hop-by-hop), lower-cased.
pub fn connection_listed(connection: &str) -> Vec<String> {
    connection
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether an inbound header must be removed before the request goes to the origin:
/// one of ours (any case, `_` or `-`), a hop-by-hop header, or one that `Connection` names.
pub fn must_strip(name: &str, connection_listed: &[String]) -> bool {
    const HOP_BY_HOP: &[&str] = &[
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ];
    let lower = name.to_ascii_lowercase();
    is_reserved_header(name)
        || HOP_BY_HOP.contains(&lower.as_str())
        || connection_listed.contains(&lower)
}

/// The headers the origin receives for a verified request, in a stable order.
///
/// `x-torii-claims` is the base64url of the verified claims' JSON; the other values are
/// single claims, present only when the claim is.
pub fn claims_headers(claims: &VerifiedClaims, tenant_id: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(7);
    let mut push = |name: &'static str, v: Option<&str>| {
        if let Some(v) = v {
            out.push((name, v.to_string()));
        }
    };
    push("x-torii-user-id", claims.sub());
    push("x-torii-session-id", claims.sid());
    push("x-torii-tenant-id", Some(tenant_id));
    push("x-torii-org-id", claims.org_id());
    push("x-torii-org-role", claims.org_role());
    push("x-torii-aal", claims.aal());
    out.push(("x-torii-claims", claims_header_value(claims.claims())));
    out
}

/// The `x-torii-claims` value: base64url (no padding) of the claims' JSON.
pub fn claims_header_value(claims: &Map<String, Value>) -> String {
    b64::encode(Value::Object(claims.clone()).to_string().as_bytes())
}

/// A usable inbound request id (1–128 visible ASCII characters from a safe set).
pub fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

/// The headers the origin receives: the inbound ones minus ours (any spelling), hop-by-hop
/// and `Connection`-listed headers, `Host` and the request id; then the request id, the
/// forwarding headers and `added` (claims headers and the assertion).
pub fn forward_headers(
    inbound: &[(String, String)],
    request_id: &str,
    forwarded_host: Option<&str>,
    forwarded_proto: &str,
    added: Vec<(&'static str, String)>,
) -> Vec<(String, String)> {
    let listed: Vec<String> = inbound
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v))
        .collect();
    let mut out: Vec<(String, String)> = inbound
        .iter()
        .filter(|(n, _)| {
            !must_strip(n, &listed)
                && !n.eq_ignore_ascii_case("host")
                && !n.eq_ignore_ascii_case(REQUEST_ID)
                && !n.eq_ignore_ascii_case("x-forwarded-host")
                && !n.eq_ignore_ascii_case("x-forwarded-proto")
        })
        .cloned()
        .collect();
    out.push((REQUEST_ID.into(), request_id.into()));
    if let Some(host) = forwarded_host {
        out.push(("x-forwarded-host".into(), host.into()));
    }
    out.push(("x-forwarded-proto".into(), forwarded_proto.into()));
    out.extend(added.into_iter().map(|(n, v)| (n.to_string(), v)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reserved_headers_in_any_spelling() {
        for n in [
            "x-torii-user-id",
            "X-Torii-User-Id",
            "x_torii_user_id",
            "X-TORII-CLAIMS",
            "x_torii-claims",
            "X_Torii_Edge_Assertion",
            "x-torii-",
        ] {
            assert!(is_reserved_header(n), "{n}");
        }
        for n in [
            "x-toriiuser",
            "x-tori-user",
            "authorization",
            "x-torii",
            "xx-torii-a",
            "",
        ] {
            assert!(!is_reserved_header(n), "{n}");
        }
    }

    #[test]
    fn connection_listed_headers_and_hop_by_hop_are_stripped() {
        let listed = connection_listed("keep-alive, X-Secret-Role , ");
        assert!(must_strip("x-secret-role", &listed));
        assert!(must_strip("X-SECRET-ROLE", &listed));
        assert!(must_strip("Upgrade", &[]));
        assert!(!must_strip("x-other", &listed));
    }

    #[test]
    fn ours_hop_by_hop_and_connection_listed_headers_never_reach_the_origin() {
        let inbound = h(&[
            ("X-Torii-User-Id", "admin"),
            ("x_torii_user_id", "admin"),
            ("X-TORII-CLAIMS", "e30"),
            ("x-torii-edge-assertion", "forged"),
            ("connection", "keep-alive, X-Secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
            ("host", "edge.example"),
            ("x-request-id", "spoofed"),
            ("x-forwarded-host", "evil"),
            ("accept", "text/plain"),
            ("authorization", "Bearer a.b.c"),
        ]);
        let out = forward_headers(
            &inbound,
            "rid-1",
            Some("edge.example"),
            "https",
            vec![("x-torii-user-id", "user_1".into())],
        );
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "accept",
                "authorization",
                "x-request-id",
                "x-forwarded-host",
                "x-forwarded-proto",
                "x-torii-user-id"
            ]
        );
        assert_eq!(out[2].1, "rid-1");
        assert_eq!(out[3].1, "edge.example");
        assert_eq!(out[5].1, "user_1");
    }

    #[test]
    fn request_ids_are_validated() {
        assert!(valid_request_id("abc-123_x.y:z"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id("a\"b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }
}
