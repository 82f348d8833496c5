//! The edge's first decision, sans-I/O: which of its handlers a request path goes to
//! ([`edge_route`]), which of the Worker's two wasm modules answers it
//! ([`EdgeRoute::in_api_module`]), and whether a dev-only route may answer
//! ([`dev_route_allowed`]). Paths the edge does not own go on to the gateway's route table
//! ([`super::routing`]).

use super::url::HttpUrl;

/// Path of the minting endpoint (`POST`).
pub const MINT_PATH: &str = "/_torii/auth/session/token";
/// Prefix of the dev-mode store helpers (dev builds only).
pub const DEVTOOLS_PREFIX: &str = "/_torii/devtools/";
/// Prefix of the dev-mode gateway helpers (dev builds only).
pub const DEV_PREFIX: &str = "/_torii/dev/";

/// Whether the edge itself owns `path` (`/_torii`, `/_torii/…`, `/.well-known/…`): such a
/// path is never proxied to the origin, whatever the route table says.
pub fn edge_owned(path: &str) -> bool {
    path.starts_with("/_torii/")
        || path == "/_torii"
        || path.starts_with("/.well-known/")
        || crate::api::routes::is_api_path(path)
}

/// Which handler of the edge a request path goes to: the first dispatch decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeRoute {
    /// A public well-known document of the tenant.
    WellKnown,
    /// The minting endpoint ([`MINT_PATH`]).
    Mint,
    /// A dev-mode store helper ([`DEVTOOLS_PREFIX`]): dev builds only, when
    /// [`dev_route_allowed`]; 404 otherwise.
    DevTools,
    /// A dev-mode gateway helper ([`DEV_PREFIX`]): dev builds only, when
    /// [`dev_route_allowed`]; 404 otherwise.
    DevGateway,
    /// The Backend API: `/v1` and `/v1/…` ([`crate::api`]).
    Api,
    /// The dashboard's pages and files ([`super::dashboard`]).
    Dashboard,
    /// Another edge-owned path: 404.
    NotFound,
    /// Everything else: the gateway in front of the origin.
    Gateway,
}

impl EdgeRoute {
    /// Whether the Worker's second wasm module, the Backend API's (crate feature `api`),
    /// answers this route: the Backend API and the dashboard. Every other route is the
    /// edge's module's; the entry (`src/worker/entry.mjs`) instantiates the API's module
    /// only when a request first needs it, so a gateway isolate never instantiates it
    /// (workerd still compiles both modules when the isolate loads: `docs/benchmarks.md`,
    /// "Two modules: what they cost the cold start").
    pub fn in_api_module(self) -> bool {
        matches!(self, Self::Api | Self::Dashboard)
    }
}

/// Dispatches a raw request path (before normalization: the edge's own paths are
/// matched exactly, and anything the gateway gets is normalized there).
pub fn edge_route(path: &str) -> EdgeRoute {
    if path.starts_with(DEV_PREFIX) {
        EdgeRoute::DevGateway
    } else if crate::api::routes::is_api_path(path) {
        EdgeRoute::Api
    } else if !edge_owned(path) {
        EdgeRoute::Gateway
    } else if super::well_known::is_well_known(path) {
        EdgeRoute::WellKnown
    } else if path == MINT_PATH {
        EdgeRoute::Mint
    } else if path.starts_with(DEVTOOLS_PREFIX) {
        EdgeRoute::DevTools
    } else if super::dashboard::is_dashboard_path(path) {
        EdgeRoute::Dashboard
    } else {
        EdgeRoute::NotFound
    }
}

/// Whether `authority` (a host, or `host:port`, as in a request URL, a `Host` or an
/// `x-forwarded-host` value) is a loopback host: `localhost`, `[::1]` or any
/// `127.0.0.0/8` address. Parsed as strictly as [`HttpUrl`]: anything it refuses (userinfo,
/// `127.1`, a trailing dot, a path) is not loopback.
pub fn loopback_authority(authority: &str) -> bool {
    !authority.is_empty()
        && !authority.contains(['/', '?', '#'])
        && HttpUrl::parse(&alloc::format!("http://{authority}/")).is_ok_and(|u| u.loopback_host())
}

/// Whether a dev-only route (`/_torii/dev/*`, `/_torii/devtools/*`, in builds with the
/// `dev` feature) may answer: only when `TORII_DEV_MODE` is exactly `1` and the request
/// is a local one. `host` is the request URL's host; `x_forwarded_host` and `forwarded`
/// are those headers' raw values, if any: a proxy or tunnel that reached the Worker over
/// loopback for a remote client says so there, so every host they name (each
/// comma-separated `x-forwarded-host` entry, each `host=` of `Forwarded`) must be loopback
/// too. Otherwise the route is answered like any unknown edge path (404).
pub fn dev_route_allowed(
    dev_mode_var: Option<&str>,
    host: &str,
    x_forwarded_host: Option<&str>,
    forwarded: Option<&str>,
) -> bool {
    let forwarded_hosts = forwarded.into_iter().flat_map(forwarded_hosts);
    let mut claimed = x_forwarded_host
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .chain(forwarded_hosts);
    dev_mode_var == Some("1") && loopback_authority(host) && claimed.all(loopback_authority)
}

/// The `host=` values of a `Forwarded` header (RFC 7239), quotes removed (an empty one
/// is not loopback).
fn forwarded_hosts(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ';']).filter_map(|pair| {
        let (name, v) = pair.split_once('=')?;
        name.trim().eq_ignore_ascii_case("host").then(|| {
            let v = v.trim();
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_paths_dispatch_before_the_gateway() {
        for (path, want) in [
            ("/.well-known/openid-configuration", EdgeRoute::WellKnown),
            ("/_torii/.well-known/jwks.json", EdgeRoute::WellKnown),
            ("/_torii/auth/session/token", EdgeRoute::Mint),
            ("/_torii/devtools/sessions", EdgeRoute::DevTools),
            ("/_torii/dev/counters", EdgeRoute::DevGateway),
            ("/v1", EdgeRoute::Api),
            ("/v1/users", EdgeRoute::Api),
            ("/v1/nope/deeper", EdgeRoute::Api),
            ("/v10/users", EdgeRoute::Gateway),
            ("/v1x", EdgeRoute::Gateway),
            ("/_torii/dashboard", EdgeRoute::Dashboard),
            ("/_torii/dashboard/", EdgeRoute::Dashboard),
            ("/_torii/dashboard/app.js", EdgeRoute::Dashboard),
            ("/_torii/dashboardx", EdgeRoute::NotFound),
            ("/_torii", EdgeRoute::NotFound),
            ("/_torii/other", EdgeRoute::NotFound),
            ("/.well-known/other", EdgeRoute::NotFound),
            ("/_toriix", EdgeRoute::Gateway),
            ("/api/x", EdgeRoute::Gateway),
            ("/", EdgeRoute::Gateway),
        ] {
            assert_eq!(edge_route(path), want, "{path}");
            assert_eq!(edge_owned(path), want != EdgeRoute::Gateway, "{path}");
            let api = (path.starts_with("/v1") && want != EdgeRoute::Gateway)
                || (path.starts_with("/_torii/dashboard") && want != EdgeRoute::NotFound);
            assert_eq!(edge_route(path).in_api_module(), api, "{path}");
        }
    }

    #[test]
    fn dev_routes_need_dev_mode_and_a_loopback_host() {
        let on = Some("1");
        for host in [
            "127.0.0.1",
            "127.0.0.1:8787",
            "127.9.8.7",
            "localhost",
            "LOCALHOST:1",
            "[::1]",
            "[::1]:8787",
        ] {
            assert!(dev_route_allowed(on, host, None, None), "{host}");
            assert!(dev_route_allowed(on, host, Some(host), None), "{host}");
        }
        for host in [
            "",
            "acme.example.com",
            "acme.example.com:8787",
            "127.0.0.1.evil.com",
            "localhost.evil.com",
            "localhost.",
            "127.1",
            "0.0.0.0",
            "10.0.0.1",
            "[::2]",
            "::1",
            "user@127.0.0.1",
            "127.0.0.1/x",
        ] {
            assert!(!dev_route_allowed(on, host, None, None), "{host}");
        }
        // The variable must be exactly `1`.
        for var in [
            None,
            Some(""),
            Some("0"),
            Some("true"),
            Some(" 1"),
            Some("1 "),
        ] {
            assert!(!dev_route_allowed(var, "127.0.0.1", None, None), "{var:?}");
        }
        // A proxy or tunnel in front of a loopback listener names the real host.
        for xfh in [
            "acme.example.com",
            "localhost, acme.example.com",
            "",
            "127.0.0.1,",
        ] {
            assert!(
                !dev_route_allowed(on, "127.0.0.1", Some(xfh), None),
                "{xfh:?}"
            );
        }
        assert!(dev_route_allowed(
            on,
            "localhost",
            Some("localhost:5173, 127.0.0.1"),
            None
        ));
        for fwd in [
            "host=acme.example.com",
            "for=192.0.2.1;host=acme.example.com;proto=https",
            "host=localhost, host=\"acme.example.com\"",
            "HOST=acme.example.com",
            "host=",
        ] {
            assert!(
                !dev_route_allowed(on, "127.0.0.1", None, Some(fwd)),
                "{fwd}"
            );
        }
        for fwd in [
            "for=127.0.0.1",
            "host=\"localhost:5173\";proto=http",
            "host=[::1]",
        ] {
            assert!(dev_route_allowed(on, "127.0.0.1", None, Some(fwd)), "{fwd}");
        }
    }
}
