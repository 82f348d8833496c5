//! The gateway's route table, sans-I/O: the tenant's route rules (first match wins,
//! default deny) over a normalized path ([`super::path`]), and the authorization of
//! verified claims against the matched route's requirements. Which paths never reach the
//! table is [`super::dispatch`]; header hygiene is [`super::headers`].

use super::dispatch::edge_owned;
use super::path::MAX_PATH_LEN;
use crate::encoding::json;
use crate::error::ErrorCode;
use crate::jose::claims::VerifiedClaims;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value};

/// Most rules a route table may hold.
pub const MAX_RULES: usize = 256;
/// Longest route pattern, in bytes.
pub const MAX_PATTERN_LEN: usize = 512;
/// Longest query string the gateway forwards, in bytes (longer: 414).
pub const MAX_QUERY_LEN: usize = 4096;

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
    /// The path or the query is longer than the gateway accepts (414).
    UriTooLong,
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
            Self::UriTooLong => ErrorCode::UriTooLong,
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
            Self::UriTooLong => write!(
                f,
                "the path is limited to {MAX_PATH_LEN} bytes and the query to {MAX_QUERY_LEN}"
            ),
        }
    }
}

impl core::error::Error for GatewayError {}

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
    /// Named JWT templates whose tokens this route also accepts (by their `tpl` claim).
    /// Empty, the default: template tokens are refused (`invalid_token_type`). A template
    /// token is made for a third party and carries no audience; only a route that names
    /// the template may take it.
    pub templates: Vec<String>,
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
    ///   {"path":"/admin/**","methods":["POST"],"access":"required","roles":["admin"],"claims":{"aal":"aal2"}},
    ///   {"path":"/graphql","access":"required","templates":["hasura"]}]`.
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
                if !["path", "methods", "access", "roles", "claims", "templates"]
                    .contains(&key.as_str())
                {
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
            if pattern.matches('*').count() > 4 || pattern.len() > MAX_PATTERN_LEN {
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
                    Some(_) => Err(bad("`methods`, `roles` and `templates` must be arrays")),
                }
            };
            let methods = strings("methods")?
                .into_iter()
                .map(|m| m.to_ascii_uppercase())
                .collect();
            let roles = strings("roles")?;
            let templates = strings("templates")?;
            let claims = match obj.get("claims") {
                None => Map::new(),
                Some(Value::Object(m)) => m.clone(),
                Some(_) => return Err(bad("`claims` must be an object")),
            };
            let access = match obj.get("access").and_then(Value::as_str) {
                Some("public") | Some("optional")
                    if !roles.is_empty() || !claims.is_empty() || !templates.is_empty() =>
                {
                    return Err(bad("`roles`/`claims`/`templates` need `access: required`"))
                }
                Some("public") => Access::Public,
                Some("optional") => Access::Optional,
                Some("required") => Access::Required(Requirements {
                    roles,
                    claims,
                    templates,
                }),
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

    /// Routes a request. `path` must be the output of
    /// [`normalize_path`](super::path::normalize_path).
    pub fn route(&self, method: &str, path: &str) -> Route<'_> {
        if edge_owned(path) {
            return Route::Edge;
        }
        let rule = self.rules.iter().find(|r| {
            (r.methods.is_empty() || r.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
                && glob(&r.pattern, path)
        });
        Route::Origin(rule)
    }
}

/// The query-string bound: a query over [`MAX_QUERY_LEN`] bytes is `uri_too_long`.
pub fn check_query(query: Option<&str>) -> Result<(), GatewayError> {
    match query {
        Some(q) if q.len() > MAX_QUERY_LEN => Err(GatewayError::UriTooLong),
        _ => Ok(()),
    }
}

/// Glob match: `**` any characters, `*` any characters but `/`; literal otherwise; a
/// wildcard-free pattern ending in `/` is a prefix.
///
/// Linear in the path: a simulation of the pattern's automaton over the set of pattern
/// positions (no backtracking), so a request costs at most `pattern × path` steps
/// whatever the patterns (both are bounded: [`MAX_PATTERN_LEN`], [`MAX_PATH_LEN`]).
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

/// One step of a glob pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GlobTok {
    /// One literal byte.
    Lit(u8),
    /// `*`: any run of bytes but `/`.
    Star,
    /// `**`: any run of bytes.
    AnyRun,
}

fn glob_tokens(p: &[u8]) -> Vec<GlobTok> {
    let mut toks = Vec::with_capacity(p.len());
    let mut i = 0;
    while let Some(&c) = p.get(i) {
        if c == b'*' {
            if p.get(i + 1) == Some(&b'*') {
                toks.push(GlobTok::AnyRun);
                i += 2;
            } else {
                toks.push(GlobTok::Star);
                i += 1;
            }
        } else {
            toks.push(GlobTok::Lit(c));
            i += 1;
        }
    }
    toks
}

/// Adds every state reachable from `active` without consuming input (a wildcard may
/// match nothing).
fn close(toks: &[GlobTok], active: &mut [bool]) {
    for i in 0..toks.len() {
        if active.get(i) == Some(&true)
            && matches!(toks.get(i), Some(GlobTok::Star | GlobTok::AnyRun))
        {
            if let Some(next) = active.get_mut(i + 1) {
                *next = true;
            }
        }
    }
}

fn glob_bytes(p: &[u8], s: &[u8]) -> bool {
    let toks = glob_tokens(p);
    let mut active = alloc::vec![false; toks.len() + 1];
    let mut next = alloc::vec![false; toks.len() + 1];
    if let Some(first) = active.first_mut() {
        *first = true;
    }
    close(&toks, &mut active);
    for &c in s {
        next.iter_mut().for_each(|n| *n = false);
        for (i, tok) in toks.iter().enumerate() {
            if active.get(i) != Some(&true) {
                continue;
            }
            let target = match tok {
                GlobTok::Lit(x) if *x == c => Some(i + 1),
                GlobTok::Lit(_) => None,
                GlobTok::Star if c == b'/' => None,
                GlobTok::Star | GlobTok::AnyRun => Some(i),
            };
            if let Some(slot) = target.and_then(|t| next.get_mut(t)) {
                *slot = true;
            }
        }
        close(&toks, &mut next);
        if !next.iter().any(|n| *n) {
            return false;
        }
        core::mem::swap(&mut active, &mut next);
    }
    active.last() == Some(&true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

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

    /// The reference semantics the automaton must agree with (exponential; tests only).
    fn glob_backtracking(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| glob_backtracking(rest, &s[i..])),
            [b'*', rest @ ..] => {
                let seg_end = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
                (0..=seg_end).any(|i| glob_backtracking(rest, &s[i..]))
            }
            [c, rest @ ..] => s
                .split_first()
                .is_some_and(|(h, tail)| h == c && glob_backtracking(rest, tail)),
        }
    }

    #[test]
    fn the_linear_matcher_agrees_with_backtracking() {
        let patterns = [
            "/a/**",
            "/**/b",
            "/a/*/c",
            "/*.png",
            "/**/*.png",
            "/a**b",
            "/**a**b**",
            "/*/*/*",
            "/x*y*z",
            "/**/**",
            "/*",
            "/**",
            "/a*",
            "/**/a/*",
        ];
        let paths = [
            "/", "/a", "/a/", "/a/b", "/a/b/c", "/a/x/c", "/b", "/x/y/b", "/q.png", "/d/q.png",
            "/ab", "/aXb", "/a/b/a/b", "/xyz", "/x/y/z", "/xaybz", "/a/a/a",
        ];
        for p in patterns {
            for path in paths {
                assert_eq!(
                    glob_bytes(p.as_bytes(), path.as_bytes()),
                    glob_backtracking(p.as_bytes(), path.as_bytes()),
                    "{p} vs {path}"
                );
            }
        }
    }

    #[test]
    fn adversarial_patterns_and_paths_stay_linear() {
        // The backtracking matcher takes O(n^k) on these; the automaton takes
        // |pattern| x |path| steps. A 2 KiB path against 4-star patterns, all misses.
        let path = format!("/{}", "a".repeat(MAX_PATH_LEN - 2));
        for p in [
            "/**a**a**a**b",
            "/*a*a*a*b",
            "/**/**/**/**/b",
            "/a**a**a**a**c",
        ] {
            assert!(!glob(p, &path), "{p}");
        }
        let slashes = "/a".repeat(MAX_PATH_LEN / 2 - 1);
        assert!(!glob("/**/a/**/a/**/b", &slashes));
        assert!(glob("/**/a/**/a/**/a", &slashes));
    }

    #[test]
    fn long_queries_are_uri_too_long() {
        assert!(check_query(None).is_ok());
        assert!(check_query(Some(&"q".repeat(MAX_QUERY_LEN))).is_ok());
        assert_eq!(
            check_query(Some(&"q".repeat(MAX_QUERY_LEN + 1))),
            Err(GatewayError::UriTooLong)
        );
    }

    #[test]
    fn gateway_codes_are_in_the_code_table() {
        use crate::ErrorCode;
        for (e, c) in [
            (
                GatewayError::InsufficientScope("x".into()),
                ErrorCode::InsufficientScope,
            ),
            (GatewayError::InvalidPath, ErrorCode::InvalidPath),
            (GatewayError::UriTooLong, ErrorCode::UriTooLong),
        ] {
            assert_eq!(e.code(), c.as_str());
            assert_eq!(e.http_status(), c.http_status());
            assert!(crate::ALL_CODES.contains(&c));
        }
    }
}
