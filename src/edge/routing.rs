//! The gateway's decisions, sans-I/O: route rules, header hygiene, claims headers.
//!
//! The Worker asks this module which rule a request falls under, whether verified claims
//! satisfy it, which inbound headers to strip, and which headers to add; it does the I/O.

use crate::encoding::{b64, json};
use crate::error::ErrorCode;
use crate::jose::claims::VerifiedClaims;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

/// Prefix of every header the edge adds; inbound look-alikes are always stripped.
pub const HEADER_PREFIX: &str = "x-torii-";
/// Most rules a route table may hold.
pub const MAX_RULES: usize = 256;

/// A gateway-phase error, with a stable code.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The verified claims do not satisfy the route's requirements (403).
    InsufficientScope(String),
    /// The route table configuration is invalid; the reason is for humans.
    InvalidRouteConfig(String),
    /// The request path cannot be matched safely (encoded `/` or `\`, bad escapes).
    InvalidPath,
}

impl GatewayError {
    /// The stable snake_case code.
    pub const fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
    /// The error's entry in the code table.
    pub const fn error_code(&self) -> ErrorCode {
        match self {
            Self::InsufficientScope(_) => ErrorCode::InsufficientScope,
            Self::InvalidRouteConfig(_) => ErrorCode::InvalidRouteConfig,
            Self::InvalidPath => ErrorCode::InvalidPath,
        }
    }
    /// The HTTP status the edge answers with (the code table's).
    pub const fn http_status(&self) -> u16 {
        self.error_code().http_status()
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InsufficientScope(why) => write!(f, "insufficient scope: {why}"),
            Self::InvalidRouteConfig(why) => write!(f, "invalid route configuration: {why}"),
            Self::InvalidPath => f.write_str("the request path cannot be matched safely"),
        }
    }
}

impl core::error::Error for GatewayError {}

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

/// Who may pass a route.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// No token needed; none is verified or forwarded (`x-torii-*` still stripped).
    Public,
    /// A valid token adds claims headers; no token passes without them; a bad token is 401.
    Optional,
    /// A valid token that meets the requirements is needed.
    Required(Requirements),
}

/// Requirements on verified claims.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Requirements {
    /// When non-empty, `org_role` must be one of these.
    pub roles: Vec<String>,
    /// Each claim must be present and equal to the value.
    pub claims: Map<String, Value>,
}

impl Requirements {
    /// Checks verified claims against the requirements.
    pub fn check(&self, claims: &VerifiedClaims) -> Result<(), GatewayError> {
        if !self.roles.is_empty() {
            let role = claims.org_role().unwrap_or_default();
            if !self.roles.iter().any(|r| r == role) {
                return Err(GatewayError::InsufficientScope(
                    "org_role not allowed".into(),
                ));
            }
        }
        for (name, want) in &self.claims {
            if claims.get(name) != Some(want) {
                return Err(GatewayError::InsufficientScope(alloc::format!(
                    "claim `{name}` does not match"
                )));
            }
        }
        Ok(())
    }
}

/// One route rule: a path pattern, optional methods, and the access it grants.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteRule {
    /// The pattern: `*` matches within one segment, `**` matches anything (including `/`);
    /// a pattern without wildcards matches exactly, or as a prefix when it ends with `/`.
    pub pattern: String,
    /// Upper-case methods the rule applies to (empty: all).
    pub methods: Vec<String>,
    /// The access granted.
    pub access: Access,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Route<'a> {
    /// Served by the edge itself (`/_torii/…`, `/.well-known/…`): never proxied.
    Edge,
    /// Proxied to the origin under this access rule (`None`: no rule matched, so a valid
    /// token is required — default deny).
    Origin(Option<&'a RouteRule>),
}

/// An ordered list of rules; the first match wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteTable {
    rules: Vec<RouteRule>,
}

impl RouteTable {
    /// A table of these rules, in order.
    pub fn new(rules: Vec<RouteRule>) -> Self {
        Self { rules }
    }

    /// Parses rules from JSON, e.g.
    /// `[{"path":"/public/**","access":"public"},
    ///   {"path":"/admin/**","methods":["POST"],"access":"required","roles":["admin"],"claims":{"aal":"aal2"}}]`.
    pub fn from_json(bytes: &[u8]) -> Result<Self, GatewayError> {
        let bad = |why: &str| GatewayError::InvalidRouteConfig(why.to_string());
        let value = json::parse(bytes, 6).map_err(|e| bad(e.reason()))?;
        let Value::Array(items) = value else {
            return Err(bad("routes must be a JSON array"));
        };
        if items.len() > MAX_RULES {
            return Err(bad("too many route rules"));
        }
        let mut rules = Vec::with_capacity(items.len());
        for item in items {
            let Value::Object(obj) = item else {
                return Err(bad("each route must be an object"));
            };
            for key in obj.keys() {
                if !["path", "methods", "access", "roles", "claims"].contains(&key.as_str()) {
                    return Err(bad("unknown route field"));
                }
            }
            let pattern = obj
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("`path` must be a string"))?;
            if !pattern.starts_with('/') {
                return Err(bad("`path` must start with `/`"));
            }
            if pattern.matches('*').count() > 4 || pattern.len() > 512 {
                return Err(bad("`path` may hold at most 4 `*` and 512 bytes"));
            }
            let strings = |name: &str| -> Result<Vec<String>, GatewayError> {
                match obj.get(name) {
                    None => Ok(Vec::new()),
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| bad("lists must hold strings"))
                        })
                        .collect(),
                    Some(_) => Err(bad("`methods` and `roles` must be arrays")),
                }
            };
            let methods = strings("methods")?
                .into_iter()
                .map(|m| m.to_ascii_uppercase())
                .collect();
            let roles = strings("roles")?;
            let claims = match obj.get("claims") {
                None => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => return Err(bad("`claims` must be an object")),
            };
            let access = match obj.get("access").and_then(Value::as_str) {
                Some("public") | Some("optional") if !roles.is_empty() || !claims.is_empty() => {
                    return Err(bad("`roles`/`claims` need `access: required`"))
                }
                Some("public") => Access::Public,
                Some("optional") => Access::Optional,
                Some("required") => Access::Required(Requirements { roles, claims }),
                _ => return Err(bad("`access` must be public, optional or required")),
            };
            rules.push(RouteRule {
                pattern: pattern.to_string(),
                methods,
                access,
            });
        }
        Ok(Self { rules })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[RouteRule] {
        &self.rules
    }

    /// Routes a request. `path` must be the output of [`normalize_path`].
    pub fn route(&self, method: &str, path: &str) -> Route<'_> {
        if path.starts_with("/_torii/") || path == "/_torii" || path.starts_with("/.well-known/") {
            return Route::Edge;
        }
        let rule = self.rules.iter().find(|r| {
            (r.methods.is_empty() || r.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
                && glob(&r.pattern, path)
        });
        Route::Origin(rule)
    }
}

/// Normalizes a URL path for matching and forwarding, so the rule that matches is the
/// path the origin will see: percent-encoded unreserved characters are decoded
/// (`/%61dmin` is `/admin`), runs of `/` collapse, and `.`/`..` segments are resolved.
/// Encoded `/`, `\` or `%`, raw `\`, and malformed escapes are refused (`invalid_path`).
pub fn normalize_path(path: &str) -> Result<String, GatewayError> {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') || path.contains('\\') {
        return Err(GatewayError::InvalidPath);
    }
    let mut decoded = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = path.get(i + 1..i + 3).ok_or(GatewayError::InvalidPath)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| GatewayError::InvalidPath)?;
            if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                decoded.push(char::from(v));
            } else if matches!(v, b'/' | b'\\' | b'%') || v < 0x20 {
                return Err(GatewayError::InvalidPath);
            } else {
                decoded.push('%');
                decoded.push_str(&hex.to_ascii_uppercase());
            }
            i += 3;
        } else {
            decoded.push(char::from(b));
            i += 1;
        }
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (decoded.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    Ok(out)
}

/// Glob match: `**` any characters, `*` any characters but `/`; literal otherwise; a
/// wildcard-free pattern ending in `/` is a prefix.
fn glob(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return if pattern.ends_with('/') {
            path.starts_with(pattern)
        } else {
            path == pattern
        };
    }
    glob_bytes(pattern.as_bytes(), path.as_bytes())
}

fn glob_bytes(p: &[u8], s: &[u8]) -> bool {
    match p {
        [] => s.is_empty(),
        [b'*', b'*', rest @ ..] => {
            (0..=s.len()).any(|i| s.get(i..).is_some_and(|tail| glob_bytes(rest, tail)))
        }
        [b'*', rest @ ..] => {
            let seg_end = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
            (0..=seg_end).any(|i| s.get(i..).is_some_and(|tail| glob_bytes(rest, tail)))
        }
        [c, rest @ ..] => s
            .split_first()
            .is_some_and(|(h, tail)| h == c && glob_bytes(rest, tail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn glob_semantics() {
        assert!(glob("/api/", "/api/x/y"));
        assert!(!glob("/api/", "/apix"));
        assert!(glob("/health", "/health"));
        assert!(!glob("/health", "/health/x"));
        assert!(glob("/api/*/admin", "/api/v1/admin"));
        assert!(!glob("/api/*/admin", "/api/v1/x/admin"));
        assert!(glob("/api/**", "/api/v1/x/admin"));
        assert!(glob("/**/admin", "/a/b/admin"));
        assert!(glob("/files/*.png", "/files/a.png"));
        assert!(!glob("/files/*.png", "/files/a/b.png"));
    }

    #[test]
    fn path_normalization_matches_what_the_origin_sees() {
        assert_eq!(normalize_path("/%61dmin/x").unwrap(), "/admin/x");
        assert_eq!(normalize_path("//admin///x").unwrap(), "/admin/x");
        assert_eq!(normalize_path("/public/../admin").unwrap(), "/admin");
        assert_eq!(normalize_path("/a/./b/").unwrap(), "/a/b/");
        assert_eq!(normalize_path("/").unwrap(), "/");
        assert_eq!(normalize_path("/../..").unwrap(), "/");
        assert_eq!(normalize_path("/a%20b").unwrap(), "/a%20b");
        for bad in [
            "/a%2Fb", "/a%2fb", "/a%5Cb", "/a\\b", "/a%", "/a%zz", "/a%00", "a", "", "/%25",
        ] {
            assert_eq!(normalize_path(bad), Err(GatewayError::InvalidPath), "{bad}");
        }
    }

    #[test]
    fn routes_first_match_wins_and_default_is_deny() {
        let t = RouteTable::from_json(
            br#"[
            {"path":"/public/**","access":"public"},
            {"path":"/admin/**","methods":["post","DELETE"],"access":"required","roles":["admin"]},
            {"path":"/admin/**","access":"optional"}
        ]"#,
        )
        .unwrap();
        assert!(
            matches!(t.route("GET", "/public/a"), Route::Origin(Some(r)) if r.access == Access::Public)
        );
        assert!(
            matches!(t.route("POST", "/admin/a"), Route::Origin(Some(r)) if matches!(r.access, Access::Required(_)))
        );
        assert!(
            matches!(t.route("GET", "/admin/a"), Route::Origin(Some(r)) if r.access == Access::Optional)
        );
        assert_eq!(t.route("GET", "/other"), Route::Origin(None));
        assert_eq!(t.route("GET", "/_torii/x"), Route::Edge);
        assert_eq!(t.route("GET", "/.well-known/jwks.json"), Route::Edge);
    }

    #[test]
    fn route_config_is_validated() {
        for bad in [
            &br#"{}"#[..],
            br#"[{"path":"x","access":"public"}]"#,
            br#"[{"path":"/x","access":"open"}]"#,
            br#"[{"path":"/x","access":"public","roles":["a"]}]"#,
            br#"[{"path":"/x","access":"required","role":["a"]}]"#,
            br#"[{"path":"/x","access":"required","roles":"a"}]"#,
        ] {
            assert_eq!(
                RouteTable::from_json(bad).unwrap_err().code(),
                "invalid_route_config"
            );
        }
    }
}
