//! The dashboard's serving rules: which paths under [`DASHBOARD_PREFIX`] are pages and
//! files, which file of the static-assets bundle answers each, and the headers every
//! answer carries (a strict Content-Security-Policy among them).
//!
//! The files themselves are not in the Worker's wasm: they are Workers Static Assets
//! (wrangler.toml `[assets]`, binding `ASSETS`, built from `dashboard/` by
//! `make dashboard`), fetched by the Worker (`src/worker/dashboard.rs`) once this module
//! has decided. `run_worker_first` makes every request reach the Worker first, so no
//! asset is ever served without these headers, and no asset shadows a gateway path.

use super::reply::{self, Reply};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Where the dashboard is served: `/_torii/dashboard/`.
pub const DASHBOARD_PREFIX: &str = "/_torii/dashboard";

/// The dashboard's Content-Security-Policy: no inline script or style, no `eval` (but
/// wasm compilation, for the template Preview's core), scripts, styles and the wasm
/// only from the Worker's own origin, API calls to this origin or any HTTPS base URL the
/// user connects to, never framed, no forms, no `<base>`.
pub const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self'; connect-src 'self' https:; base-uri 'none'; \
form-action 'none'; frame-ancestors 'none'";

/// The longest asset path accepted (bytes after the prefix).
const MAX_ASSET_PATH: usize = 128;
/// The deepest asset path accepted (segments).
const MAX_ASSET_DEPTH: usize = 4;

/// What a request under the dashboard's prefix gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardRequest {
    /// Serve this file of the assets bundle (a path from its root, `/index.html`, …),
    /// with [`asset_headers`].
    Asset(String),
    /// A finished reply: the redirect of `/_torii/dashboard` to its slash form, a 404
    /// for a path that names no possible asset, or a 405 for a method other than `GET`
    /// or `HEAD`.
    Reply(Reply),
}

/// Whether `path` (a raw request path) is the dashboard's.
pub fn is_dashboard_path(path: &str) -> bool {
    path.strip_prefix(DASHBOARD_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The content type of an asset, by its extension; `None` for one the dashboard never
/// serves.
pub fn content_type(asset: &str) -> Option<&'static str> {
    let ext = asset.rsplit_once('.')?.1;
    Some(match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => return None,
    })
}

/// Whether `seg` may be one segment of an asset path: ASCII letters, digits, `-`, `_`
/// and `.`, not starting with `.` (no `..`, no hidden file), not empty.
fn asset_segment(seg: &str) -> bool {
    !seg.is_empty()
        && !seg.starts_with('.')
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Decides a request for `path` (raw, as in the URL; it must satisfy
/// [`is_dashboard_path`]) with `method`.
///
/// * `/_torii/dashboard` → 308 to `/_torii/dashboard/` (relative asset URLs need the
///   slash);
/// * `/_torii/dashboard/` → `/index.html` (the one page; its views are `#` fragments);
/// * `/_torii/dashboard/<a>/<b>…` → `/<a>/<b>…` when every segment is plain (see
///   `asset_segment`), at most 4 deep and 128 bytes, and the extension is one of
///   [`content_type`]'s; anything else is 404 without asking the assets binding.
pub fn dashboard_request(method: &str, path: &str) -> DashboardRequest {
    let Some(rest) = path.strip_prefix(DASHBOARD_PREFIX) else {
        return DashboardRequest::Reply(reply::not_found());
    };
    if method != "GET" && method != "HEAD" {
        return DashboardRequest::Reply(with_security_headers(reply::method_not_allowed(
            "GET, HEAD",
        )));
    }
    if rest.is_empty() {
        let mut r = Reply {
            status: 308,
            headers: vec![("location", format!("{DASHBOARD_PREFIX}/"))],
            body: None,
        };
        r.headers.push(("cache-control", "no-store".into()));
        return DashboardRequest::Reply(with_security_headers(r));
    }
    if rest == "/" {
        return DashboardRequest::Asset("/index.html".into());
    }
    let file = &rest[1..];
    let ok = rest.len() <= MAX_ASSET_PATH
        && file.split('/').count() <= MAX_ASSET_DEPTH
        && file.split('/').all(asset_segment)
        && content_type(file).is_some();
    if ok {
        DashboardRequest::Asset(rest.into())
    } else {
        DashboardRequest::Reply(not_found())
    }
}

/// The dashboard's 404 (an asset the bundle does not have, or a path that names none).
pub fn not_found() -> Reply {
    with_security_headers(reply::not_found())
}

/// The security headers of every dashboard answer.
fn security_headers() -> [(&'static str, &'static str); 7] {
    [
        ("content-security-policy", DASHBOARD_CSP),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
    ]
}

fn with_security_headers(mut r: Reply) -> Reply {
    // A dashboard reply is never readable cross-origin: no `*`.
    r.headers
        .retain(|(n, _)| *n != "access-control-allow-origin");
    for (name, value) in security_headers() {
        r.headers.retain(|(n, _)| *n != name);
        r.headers.push((name, value.into()));
    }
    r
}

/// The headers of a served asset: its content type, revalidated on every load
/// (`no-cache`: the file names are not content-hashed, and the assets binding answers
/// `If-None-Match` with 304), and the security headers.
pub fn asset_headers(asset: &str) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        (
            "content-type",
            String::from(content_type(asset).unwrap_or("application/octet-stream")),
        ),
        ("cache-control", "no-cache".into()),
    ];
    for (name, value) in security_headers() {
        headers.push((name, value.into()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(method: &str, path: &str) -> Option<String> {
        match dashboard_request(method, path) {
            DashboardRequest::Asset(a) => Some(a),
            DashboardRequest::Reply(_) => None,
        }
    }

    fn status(method: &str, path: &str) -> u16 {
        match dashboard_request(method, path) {
            DashboardRequest::Asset(_) => 200,
            DashboardRequest::Reply(r) => r.status,
        }
    }

    #[test]
    fn prefix_matches_whole_segments() {
        assert!(is_dashboard_path("/_torii/dashboard"));
        assert!(is_dashboard_path("/_torii/dashboard/"));
        assert!(is_dashboard_path("/_torii/dashboard/app.js"));
        assert!(!is_dashboard_path("/_torii/dashboardx"));
        assert!(!is_dashboard_path("/_torii/dash"));
        assert!(!is_dashboard_path("/x/_torii/dashboard/"));
    }

    #[test]
    fn the_page_and_its_files_map_into_the_bundle() {
        assert_eq!(
            asset("GET", "/_torii/dashboard/").as_deref(),
            Some("/index.html")
        );
        assert_eq!(
            asset("HEAD", "/_torii/dashboard/app.js").as_deref(),
            Some("/app.js")
        );
        assert_eq!(
            asset("GET", "/_torii/dashboard/torii-edge/pkg/torii_edge_bg.wasm").as_deref(),
            Some("/torii-edge/pkg/torii_edge_bg.wasm")
        );
        assert_eq!(
            asset("GET", "/_torii/dashboard/torii-edge/src/browser.mjs").as_deref(),
            Some("/torii-edge/src/browser.mjs")
        );
    }

    #[test]
    fn the_bare_prefix_redirects_to_the_slash() {
        let DashboardRequest::Reply(r) = dashboard_request("GET", "/_torii/dashboard") else {
            panic!("a redirect");
        };
        assert_eq!(r.status, 308);
        assert_eq!(r.header("location"), Some("/_torii/dashboard/"));
        assert_eq!(r.header("content-security-policy"), Some(DASHBOARD_CSP));
    }

    #[test]
    fn paths_naming_no_possible_asset_are_404_without_a_fetch() {
        for path in [
            "/_torii/dashboard/../wrangler.toml",
            "/_torii/dashboard/..%2f..%2fsecret.js",
            "/_torii/dashboard/.hidden.js",
            "/_torii/dashboard/a//b.js",
            "/_torii/dashboard/app.js/",
            "/_torii/dashboard/app",
            "/_torii/dashboard/app.map",
            "/_torii/dashboard/app.json",
            "/_torii/dashboard/index.html%00.js",
            "/_torii/dashboard/a/b/c/d/e.js",
            "/_torii/dashboard/a b.js",
            "/_torii/dashboard/é.js",
            "/_torii/dashboardx",
        ] {
            assert_eq!(status("GET", path), 404, "{path}");
        }
        let long = format!("/_torii/dashboard/{}.js", "a".repeat(200));
        assert_eq!(status("GET", &long), 404);
    }

    #[test]
    fn only_get_and_head() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get"] {
            let DashboardRequest::Reply(r) = dashboard_request(method, "/_torii/dashboard/") else {
                panic!("{method}: a reply");
            };
            assert_eq!(r.status, 405, "{method}");
            assert_eq!(r.header("allow"), Some("GET, HEAD"));
            assert_eq!(r.header("access-control-allow-origin"), None);
            assert_eq!(r.header("content-security-policy"), Some(DASHBOARD_CSP));
        }
    }

    #[test]
    fn every_answer_carries_the_strict_csp() {
        let h = asset_headers("/index.html");
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(get("x-frame-options"), Some("DENY"));
        assert_eq!(get("x-content-type-options"), Some("nosniff"));
        assert_eq!(get("cache-control"), Some("no-cache"));
        let csp = get("content-security-policy").unwrap();
        assert!(csp.starts_with("default-src 'none';"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("unsafe-inline"));
        assert!(!csp.contains("'unsafe-eval'"));
        assert_eq!(
            asset_headers("/torii-edge/pkg/torii_edge_bg.wasm")[0].1,
            "application/wasm"
        );
        assert_eq!(
            asset_headers("/app.js")[0].1,
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            not_found().header("content-security-policy"),
            Some(DASHBOARD_CSP)
        );
        assert_eq!(not_found().status, 404);
    }
}
