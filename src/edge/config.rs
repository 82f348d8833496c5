//! The gateway's configuration, parsed once per isolate from its vars: `ORIGIN_URL` (where
//! requests go, through the strict [`HttpUrl`] parser), `ROUTES` ([`RouteTable`]) and
//! `TRUSTED_ISSUERS` ([`TrustedIssuer`]).

use super::issuers::{parse_trusted_issuers, TrustedIssuer};
use super::routing::RouteTable;
use super::url::HttpUrl;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The gateway's parsed configuration.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// `ORIGIN_URL` without a trailing `/`.
    pub origin_base: String,
    /// The origin (`scheme://host[:port]`): the assertion's audience.
    pub audience: String,
    /// Route rules.
    pub routes: RouteTable,
    /// External issuers.
    pub trusted: Vec<TrustedIssuer>,
    /// How long the origin has to answer (response headers), in milliseconds
    /// (`TORII_ORIGIN_TIMEOUT_MS`); past it the gateway answers 504 `origin_timeout`.
    pub origin_timeout_ms: u32,
}

/// Default origin timeout, in milliseconds (Envoy's route timeout is 15 s; oauth2-proxy's
/// upstream timeout 30 s).
pub const DEFAULT_ORIGIN_TIMEOUT_MS: u32 = 30_000;
/// Largest origin timeout accepted, in milliseconds.
pub const MAX_ORIGIN_TIMEOUT_MS: u32 = 300_000;

/// Parses `TORII_ORIGIN_TIMEOUT_MS`: absent or blank is the default; otherwise a whole
/// number of milliseconds in `1..=300000`.
pub fn parse_origin_timeout(raw: Option<&str>) -> Result<u32, String> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(DEFAULT_ORIGIN_TIMEOUT_MS),
        Some(r) => r
            .parse::<u32>()
            .ok()
            .filter(|ms| (1..=MAX_ORIGIN_TIMEOUT_MS).contains(ms))
            .ok_or_else(|| {
                format!("TORII_ORIGIN_TIMEOUT_MS must be 1..={MAX_ORIGIN_TIMEOUT_MS} milliseconds")
            }),
    }
}

impl GatewayConfig {
    /// Parses `ORIGIN_URL` (an absolute http(s) URL without query, fragment or
    /// credentials), `ROUTES` and `TRUSTED_ISSUERS` (absent or blank: none), with the
    /// default origin timeout ([`GatewayConfig::with_origin_timeout`] sets another).
    pub fn parse(
        origin_url: &str,
        routes: Option<&str>,
        trusted: Option<&str>,
    ) -> Result<Self, String> {
        let raw = origin_url.trim();
        if raw.contains('#') || raw.contains('@') {
            return Err("ORIGIN_URL must not have a query, fragment or credentials".into());
        }
        let url = HttpUrl::parse(raw).map_err(|e| format!("ORIGIN_URL: {e}"))?;
        if url.query().is_some() {
            return Err("ORIGIN_URL must not have a query, fragment or credentials".into());
        }
        let audience = url.origin();
        let origin_base = format!("{audience}{}", url.path().trim_end_matches('/'));
        let routes = match routes.map(str::trim).filter(|r| !r.is_empty()) {
            None => RouteTable::default(),
            Some(r) => RouteTable::from_json(r.as_bytes()).map_err(|e| format!("ROUTES: {e}"))?,
        };
        let trusted = match trusted.map(str::trim).filter(|t| !t.is_empty()) {
            None => Vec::new(),
            Some(t) => parse_trusted_issuers(t).map_err(|e| format!("TRUSTED_ISSUERS: {e}"))?,
        };
        Ok(Self {
            origin_base,
            audience,
            routes,
            trusted,
            origin_timeout_ms: DEFAULT_ORIGIN_TIMEOUT_MS,
        })
    }

    /// The same configuration with the origin timeout of `TORII_ORIGIN_TIMEOUT_MS`
    /// ([`parse_origin_timeout`]).
    pub fn with_origin_timeout(mut self, raw: Option<&str>) -> Result<Self, String> {
        self.origin_timeout_ms = parse_origin_timeout(raw)?;
        Ok(self)
    }

    /// The URL the origin receives for a normalized path and the raw query.
    pub fn forward_url(&self, path: &str, query: Option<&str>) -> String {
        match query {
            Some(q) => format!("{}{path}?{q}", self.origin_base),
            None => format!("{}{path}", self.origin_base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_origin_routes_and_issuers() {
        let c = GatewayConfig::parse(
            "http://127.0.0.1:9000/base/",
            Some(r#"[{"path":"/public/**","access":"public"}]"#),
            None,
        )
        .unwrap();
        assert_eq!(c.audience, "http://127.0.0.1:9000");
        assert_eq!(
            c.forward_url("/a/b", Some("x=1")),
            "http://127.0.0.1:9000/base/a/b?x=1"
        );
        assert_eq!(c.forward_url("/", None), "http://127.0.0.1:9000/base/");
        assert_eq!(c.routes.rules().len(), 1);
        for bad in ["ftp://x", "not a url", "http://u:p@x/", "http://x/?q=1"] {
            assert!(GatewayConfig::parse(bad, None, None).is_err(), "{bad}");
        }
        assert!(GatewayConfig::parse("http://x", Some("{}"), None).is_err());
        assert!(GatewayConfig::parse("http://x", None, Some("[{}]")).is_err());
    }

    #[test]
    fn origin_urls_are_normalized_like_whatwg() {
        let c = GatewayConfig::parse("HTTPS://Origin.Example:443/", None, None).unwrap();
        assert_eq!(c.audience, "https://origin.example");
        assert_eq!(c.forward_url("/x", None), "https://origin.example/x");
        let c = GatewayConfig::parse(" http://127.0.0.1:8788 ", None, None).unwrap();
        assert_eq!(c.audience, "http://127.0.0.1:8788");
        assert_eq!(
            c.forward_url("/", Some("a=1")),
            "http://127.0.0.1:8788/?a=1"
        );
        for bad in [
            "http://x/#f",
            "http://x/a\\b",
            "http://x\t/",
            "http://127.0.0.1@evil/",
        ] {
            assert!(GatewayConfig::parse(bad, None, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_timeout_defaults_and_bounds() {
        assert_eq!(parse_origin_timeout(None), Ok(DEFAULT_ORIGIN_TIMEOUT_MS));
        assert_eq!(
            parse_origin_timeout(Some(" ")),
            Ok(DEFAULT_ORIGIN_TIMEOUT_MS)
        );
        assert_eq!(parse_origin_timeout(Some("250")), Ok(250));
        for bad in ["0", "-1", "300001", "1.5", "soon"] {
            assert!(parse_origin_timeout(Some(bad)).is_err(), "{bad}");
        }
        let c = GatewayConfig::parse("http://x", None, None)
            .unwrap()
            .with_origin_timeout(Some("1000"))
            .unwrap();
        assert_eq!(c.origin_timeout_ms, 1000);
    }
}
