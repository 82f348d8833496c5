//! Header hygiene, sans-I/O: which inbound headers never reach the origin (ours in any
//! spelling, hop-by-hop, `Connection`-listed), the claims headers the edge adds, the
//! request id, and the full header list the origin receives.

use crate::encoding::b64;
use crate::jose::claims::VerifiedClaims;
use alloc::borrow::Cow;
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

/// Why verified claims cannot be forwarded as headers.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimHeaderError {
    /// A claim copied into a header holds a control character (CR, LF, NUL, any other
    /// C0 character or DEL): never a header injection, the request is refused.
    ControlCharacter(&'static str),
}

impl ClaimHeaderError {
    /// The stable code, `invalid_claim_value`.
    pub const fn code(&self) -> &'static str {
        "invalid_claim_value"
    }
}

impl core::fmt::Display for ClaimHeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ControlCharacter(claim) => {
                write!(f, "claim `{claim}` holds a control character")
            }
        }
    }
}

impl core::error::Error for ClaimHeaderError {}

/// Longest claim value copied into its own header, in bytes (longer: only in
/// `x-torii-claims`).
pub const MAX_CLAIM_HEADER_LEN: usize = 1024;

/// How a claim value goes into its own header: `Ok(Some(v))` verbatim when it is printable
/// ASCII (0x20–0x7E) without leading or trailing space and at most
/// [`MAX_CLAIM_HEADER_LEN`] bytes; `Ok(None)` (the header is omitted; the value stays in
/// `x-torii-claims`, which is base64url) for non-ASCII, padded, empty or over-long values;
/// `Err` for a control character anywhere.
pub fn claim_header_value<'a>(
    claim: &'static str,
    value: &'a str,
) -> Result<Option<&'a str>, ClaimHeaderError> {
    if value.chars().any(char::is_control) {
        return Err(ClaimHeaderError::ControlCharacter(claim));
    }
    let plain = !value.is_empty()
        && value.len() <= MAX_CLAIM_HEADER_LEN
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with(' ')
        && !value.ends_with(' ');
    Ok(plain.then_some(value))
}

/// The identity headers the edge forwards for a verified request, in this fixed order
/// (the edge assertion binds them, [`super::assertion::identity_hash`]).
pub const IDENTITY_HEADERS: [&str; 8] = [
    "x-torii-user-id",
    "x-torii-session-id",
    "x-torii-tenant-id",
    "x-torii-issuer",
    "x-torii-org-id",
    "x-torii-org-role",
    "x-torii-aal",
    "x-torii-claims",
];

/// The headers the origin receives for a verified request, in [`IDENTITY_HEADERS`] order.
///
/// `x-torii-claims` is the base64url of the verified claims' JSON; `x-torii-issuer` is the
/// verified `iss` (a `sub` is only unique per issuer); the other values are single claims,
/// present only when the claim is and [`claim_header_value`] takes it.
pub fn claims_headers(
    claims: &VerifiedClaims,
    tenant_id: &str,
) -> Result<Vec<(&'static str, String)>, ClaimHeaderError> {
    let mut out = Vec::with_capacity(IDENTITY_HEADERS.len());
    let mut push = |name: &'static str, claim: &'static str, v: Option<&str>| {
        if let Some(v) = v {
            if let Some(v) = claim_header_value(claim, v)? {
                out.push((name, v.to_string()));
            }
        }
        Ok::<(), ClaimHeaderError>(())
    };
    push("x-torii-user-id", "sub", claims.sub())?;
    push("x-torii-session-id", "sid", claims.sid())?;
    push("x-torii-tenant-id", "tenant", Some(tenant_id))?;
    push("x-torii-issuer", "iss", Some(claims.iss()))?;
    push("x-torii-org-id", "org_id", claims.org_id())?;
    push("x-torii-org-role", "org_role", claims.org_role())?;
    push("x-torii-aal", "aal", claims.aal())?;
    out.push(("x-torii-claims", claims_header_value(claims.claims())));
    Ok(out)
}

/// The `x-torii-claims` value: base64url (no padding) of the claims' JSON.
pub fn claims_header_value(claims: &Map<String, Value>) -> String {
    // Serialized in place (no copy of the map into a `Value`); a map of JSON values with
    // string keys always serializes, so the empty fallback is never taken.
    serde_json::to_vec(claims)
        .map(|json| b64::encode(&json))
        .unwrap_or_default()
}

/// A usable inbound request id (1–128 visible ASCII characters from a safe set).
pub fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

/// Client-supplied forwarding and routing headers, never passed through: the origin
/// gets the edge's own values instead (or none). Compared case-insensitively, `_` as `-`.
pub const FORWARDING_HEADERS: &[&str] = &[
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-forwarded-server",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "x-forwarded",
    "forwarded-for",
    "x-original-forwarded-for",
    "x-real-ip",
    "x-client-ip",
    "client-ip",
    "true-client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "cf-connecting-ip",
    "cf-connecting-ipv6",
    "x-original-url",
    "x-rewrite-url",
    "x-original-host",
    "x-host",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Whether `name` is one of [`FORWARDING_HEADERS`] (any case, `_` read as `-`).
pub fn is_forwarding_header(name: &str) -> bool {
    FORWARDING_HEADERS.iter().any(|f| {
        f.len() == name.len()
            && f.bytes().zip(name.bytes()).all(|(f, n)| {
                f == if n == b'_' {
                    b'-'
                } else {
                    n.to_ascii_lowercase()
                }
            })
    })
}

/// A client address as the runtime reports it (`CF-Connecting-IP`): an IPv4 or IPv6
/// literal (hex digits, `.` and `:` only, at most 45 bytes). Anything else is dropped.
pub fn valid_client_ip(ip: &str) -> bool {
    (2..=45).contains(&ip.len())
        && (ip.contains('.') || ip.contains(':'))
        && ip
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
}

/// What the edge itself knows of a forwarded request.
#[derive(Debug, Clone, Copy)]
pub struct ForwardContext<'a> {
    /// The request id (inbound when valid, else a new one).
    pub request_id: &'a str,
    /// The host the client asked for (`host[:port]`), for `x-forwarded-host`.
    pub host: Option<&'a str>,
    /// The scheme the client used, for `x-forwarded-proto`.
    pub proto: &'a str,
    /// The client address the runtime reports (`CF-Connecting-IP`), when valid.
    pub client_ip: Option<&'a str>,
}

/// Headers in order, `(name, value)`, each borrowed from the request where it comes
/// from it (no copy of the inbound headers the origin receives) and owned where the edge
/// made it.
pub type HeaderList<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// The headers the origin receives, as changes to the inbound ones: the inbound headers
/// named in `drop` removed, then `add` appended in order. The Worker's entry applies them
/// to a copy of the runtime's own `Headers` (`new Headers(request.headers)`), so no
/// inbound value is copied into the plan and back; [`ForwardedHeaders::apply`] gives the
/// same list from the core's copy of the inbound headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedHeaders<'a> {
    /// The inbound header names the origin does not receive, each once, as the inbound
    /// list spells them (header names compare without regard to ASCII case).
    pub drop: Vec<&'a str>,
    /// The headers the edge adds after the kept inbound ones, in order.
    pub add: HeaderList<'a>,
}

impl<'a> ForwardedHeaders<'a> {
    /// The headers in order: `inbound` minus [`Self::drop`] (in any ASCII case), then
    /// [`Self::add`]; each borrowed from `inbound` or from `self`.
    pub fn apply(&self, inbound: &'a [(String, String)]) -> HeaderList<'a> {
        let mut out: HeaderList<'a> = inbound
            .iter()
            .filter(|(n, _)| !self.drop.iter().any(|d| d.eq_ignore_ascii_case(n)))
            .map(|(n, v)| (Cow::Borrowed(n.as_str()), Cow::Borrowed(v.as_str())))
            .collect();
        out.extend(self.add.iter().cloned());
        out
    }
}

/// The headers the origin receives: the inbound ones minus ours (any spelling), hop-by-hop
/// and `Connection`-listed headers, `Host`, the request id and every client-supplied
/// forwarding header ([`FORWARDING_HEADERS`]); then the request id, the edge's own
/// forwarding headers (`x-forwarded-for`/`x-real-ip`/`forwarded` from the runtime's client
/// address, `x-forwarded-host`, `x-forwarded-proto`) and `added` (claims headers and the
/// assertion). [`forwarded_headers`] applied to `inbound`.
pub fn forward_headers<'a>(
    inbound: &'a [(String, String)],
    ctx: &ForwardContext<'_>,
    added: Vec<(&'static str, String)>,
) -> HeaderList<'a> {
    forwarded_headers(inbound, ctx, added).apply(inbound)
}

/// Every name the `Connection` headers of `inbound` list ([`connection_listed`]).
fn all_connection_listed(inbound: &[(String, String)]) -> Vec<String> {
    inbound
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v))
        .collect()
}

/// Whether the inbound header `name` goes on to the origin: not ours, hop-by-hop or
/// `listed` by `Connection` ([`must_strip`]), not `Host`, the request id or a forwarding
/// header.
fn reaches_origin(name: &str, listed: &[String]) -> bool {
    !must_strip(name, listed)
        && !name.eq_ignore_ascii_case("host")
        && !name.eq_ignore_ascii_case(REQUEST_ID)
        && !is_forwarding_header(name)
}

/// [`forward_headers`] as changes to `inbound` ([`ForwardedHeaders`]): what the origin
/// does not receive of it, and what the edge adds.
pub fn forwarded_headers<'a>(
    inbound: &'a [(String, String)],
    ctx: &ForwardContext<'_>,
    added: Vec<(&'static str, String)>,
) -> ForwardedHeaders<'a> {
    let listed = all_connection_listed(inbound);
    let mut drop: Vec<&'a str> = Vec::new();
    for (n, _) in inbound {
        if !reaches_origin(n, &listed) && !drop.iter().any(|d| d.eq_ignore_ascii_case(n)) {
            drop.push(n);
        }
    }
    let mut out: HeaderList<'a> = Vec::with_capacity(added.len() + 6);
    out.push((REQUEST_ID.into(), ctx.request_id.to_string().into()));
    let client_ip = ctx.client_ip.filter(|ip| valid_client_ip(ip));
    if let Some(ip) = client_ip {
        out.push(("x-forwarded-for".into(), ip.to_string().into()));
        out.push(("x-real-ip".into(), ip.to_string().into()));
    }
    let host = ctx.host.filter(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    let mut forwarded = Vec::with_capacity(3);
    if let Some(ip) = client_ip {
        forwarded.push(if ip.contains(':') {
            alloc::format!("for=\"[{ip}]\"")
        } else {
            alloc::format!("for={ip}")
        });
    }
    if let Some(h) = host {
        forwarded.push(alloc::format!("host=\"{h}\""));
    }
    forwarded.push(alloc::format!("proto={}", ctx.proto));
    out.push(("forwarded".into(), forwarded.join(";").into()));
    if let Some(h) = host {
        out.push(("x-forwarded-host".into(), h.to_string().into()));
    }
    out.push(("x-forwarded-proto".into(), ctx.proto.to_string().into()));
    out.extend(
        added
            .into_iter()
            .map(|(n, v)| (Cow::Borrowed(n), Cow::Owned(v))),
    );
    ForwardedHeaders { drop, add: out }
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
            &ctx(None),
            vec![("x-torii-user-id", "user_1".into())],
        );
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(
            names,
            [
                "accept",
                "authorization",
                "x-request-id",
                "forwarded",
                "x-forwarded-host",
                "x-forwarded-proto",
                "x-torii-user-id"
            ]
        );
        assert_eq!(out[2].1, "rid-1");
        assert_eq!(out[3].1, "host=\"edge.example\";proto=https");
        assert_eq!(out[4].1, "edge.example");
        assert_eq!(out[6].1, "user_1");
    }

    /// What the origin receives, written as the per-header filter it was before the
    /// changes form ([`ForwardedHeaders`]): the reference the changes are checked against.
    fn reference(inbound: &[(String, String)]) -> Vec<(&str, &str)> {
        let listed = all_connection_listed(inbound);
        inbound
            .iter()
            .filter(|(n, _)| reaches_origin(n, &listed))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    proptest::proptest! {
        /// The changes, applied the way the entry applies them (delete each dropped name
        /// in any case, then append), give the reference filter's list then the edge's own
        /// headers; each dropped name is listed once and is an inbound name.
        #[test]
        fn the_changes_give_the_filtered_inbound_headers_then_ours(
            names in proptest::collection::vec(
                proptest::sample::select(vec![
                    "accept", "Accept", "authorization", "cookie", "connection", "Connection",
                    "x-secret", "X-Secret", "keep-alive", "upgrade", "host", "Host",
                    "x-request-id", "X-Request-Id", "x-forwarded-for", "x_forwarded_for",
                    "forwarded", "x-torii-user-id", "X_Torii_Claims", "x-torii-", "te",
                    "user-agent", "x-real-ip", "cf-connecting-ip", "set-cookie",
                ]),
                0..12,
            ),
            values in proptest::collection::vec(
                proptest::sample::select(vec!["1", "x-secret", "keep-alive, X-Secret", "close", ""]),
                12,
            ),
        ) {
            let inbound: Vec<(String, String)> = names
                .iter()
                .zip(&values)
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            let changes = forwarded_headers(&inbound, &ctx(Some("203.0.113.9")), vec![("x-torii-user-id", "u".into())]);
            let kept: Vec<(&str, &str)> = inbound
                .iter()
                .filter(|(n, _)| !changes.drop.iter().any(|d| d.eq_ignore_ascii_case(n)))
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            proptest::prop_assert_eq!(&kept, &reference(&inbound));
            for (i, d) in changes.drop.iter().enumerate() {
                proptest::prop_assert!(inbound.iter().any(|(n, _)| n == d));
                proptest::prop_assert!(!changes.drop[..i].iter().any(|e| e.eq_ignore_ascii_case(d)));
            }
            let full = forward_headers(&inbound, &ctx(Some("203.0.113.9")), vec![("x-torii-user-id", "u".into())]);
            let full: Vec<(&str, &str)> = full.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
            let ours: Vec<(&str, &str)> = changes.add.iter().map(|(n, v)| (n.as_ref(), v.as_ref())).collect();
            proptest::prop_assert_eq!(full, [kept, ours].concat());
        }
    }

    fn ctx(client_ip: Option<&str>) -> ForwardContext<'_> {
        ForwardContext {
            request_id: "rid-1",
            host: Some("edge.example"),
            proto: "https",
            client_ip,
        }
    }

    #[test]
    fn client_forwarding_headers_are_replaced_by_the_edge_s_own() {
        let mut spoofed = Vec::new();
        for name in FORWARDING_HEADERS {
            spoofed.push((name.to_string(), "6.6.6.6".to_string()));
            spoofed.push((name.to_ascii_uppercase(), "6.6.6.6".to_string()));
            spoofed.push((name.replace('-', "_"), "6.6.6.6".to_string()));
        }
        spoofed.push(("accept".into(), "*/*".into()));
        let out = forward_headers(&spoofed, &ctx(Some("203.0.113.9")), Vec::new());
        assert!(
            out.iter().all(|(_, v)| v != "6.6.6.6"),
            "a spoofed value passed: {out:?}"
        );
        let get = |n: &str| {
            out.iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.as_ref())
                .collect::<Vec<&str>>()
        };
        assert_eq!(get("x-forwarded-for"), ["203.0.113.9"]);
        assert_eq!(get("x-real-ip"), ["203.0.113.9"]);
        assert_eq!(
            get("forwarded"),
            ["for=203.0.113.9;host=\"edge.example\";proto=https"]
        );
        assert_eq!(get("accept"), ["*/*"]);
        // IPv6 is quoted and bracketed (RFC 7239); a value that is not an address is dropped.
        let v6 = forward_headers(&[], &ctx(Some("2001:db8::1")), Vec::new());
        assert!(v6.contains(&(
            "forwarded".into(),
            "for=\"[2001:db8::1]\";host=\"edge.example\";proto=https".into()
        )));
        for bad in [
            "",
            "unknown",
            "1.2.3.4, 5.6.7.8",
            "1.2.3.4\r\nx: y",
            "evil.example",
        ] {
            let out = forward_headers(&[], &ctx(Some(bad)), Vec::new());
            assert!(!out.iter().any(|(n, _)| n == "x-forwarded-for"), "{bad:?}");
        }
        assert!(is_forwarding_header("X_Forwarded_For"));
        assert!(!is_forwarding_header("x-forwarded-forx"));
    }

    fn verified(claims: serde_json::Value) -> VerifiedClaims {
        let key = crate::SigningKey::from_seed(&[5; 32]);
        let serde_json::Value::Object(map) = claims else {
            panic!("object")
        };
        let tok = key.sign_jwt(None, &map);
        crate::Verifier::new(
            crate::Jwks::from_keys(vec![key.public_jwk()]),
            crate::Policy::new("https://i"),
        )
        .verify(&tok, crate::UnixTime(1_000))
        .unwrap()
    }

    #[test]
    fn claims_with_control_characters_never_become_headers() {
        for bad in [
            "admin\r\nx-torii-org-role: owner",
            "a\nb",
            "a\rb",
            "nul\u{0}",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            for claim in ["sub", "sid", "org_role", "org_id", "aal"] {
                let c = verified(
                    serde_json::json!({"iss":"https://i","sub":"u","exp":2000, claim: bad}),
                );
                let e = claims_headers(&c, "demo").unwrap_err();
                assert_eq!(e.code(), "invalid_claim_value", "{claim} = {bad:?}");
            }
        }
    }

    #[test]
    fn non_ascii_or_odd_values_stay_only_in_the_claims_header() {
        let c = verified(serde_json::json!({
            "iss": "https://i", "sub": "usér_1", "exp": 2000,
            "org_role": " padded", "org_id": "x".repeat(MAX_CLAIM_HEADER_LEN + 1), "aal": "aal1", "sid": ""
        }));
        let out = claims_headers(&c, "demo").unwrap();
        let names: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "x-torii-tenant-id",
                "x-torii-issuer",
                "x-torii-aal",
                "x-torii-claims"
            ]
        );
        let decoded = b64::decode(&out[3].1).unwrap();
        let back: Map<String, Value> = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(back["sub"], "usér_1");
        // Plain values pass verbatim, in the fixed order the assertion binds.
        let c = verified(
            serde_json::json!({"iss":"https://i","sub":"user_1","sid":"s","org_id":"o","org_role":"admin","aal":"aal2","exp":2000}),
        );
        let out = claims_headers(&c, "demo").unwrap();
        let names: Vec<&str> = out.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, IDENTITY_HEADERS);
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
