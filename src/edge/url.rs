//! A strict parser of absolute `http`/`https` URLs, for configuration the edge fetches
//! from or forwards to (trusted issuers' key URLs, the origin).
//!
//! It accepts only URLs it can interpret exactly as the WHATWG URL parser (browsers,
//! `fetch`, the `url` crate) would, and refuses everything else (fail closed), so the
//! host checked here is the host a later `fetch` of the same string connects to:
//!
//! * ASCII only: no whitespace or control characters (WHATWG silently strips tabs and
//!   newlines), no backslash (WHATWG reads it as `/`), no fragment (`#`);
//! * `http://` or `https://` (scheme in any case), then an authority without userinfo
//!   (`@` is refused);
//! * the host is a DNS name of `[A-Za-z0-9.-]` with no empty label and no `xn--` label
//!   (WHATWG would validate or rewrite those), whose last label is not numeric; or an IPv4
//!   literal in dotted-decimal form (`127.0.0.1`, not `127.1`, `0x7f.0.0.1` or `0177.0.0.1`);
//!   or a bracketed IPv6 literal of hex digits and colons (`[::1]`), serialized in the
//!   WHATWG canonical form;
//! * an optional decimal port ≤ 65535 (not empty);
//! * a path and query of visible ASCII, without the characters WHATWG would
//!   percent-encode (`"`, `'`, `<`, `>`, `` ` ``, `{`, `}`) and without `.`/`..`
//!   segments (WHATWG would resolve them, also as `%2e`).
//!
//! Scheme and host are lower-cased; an empty path is `/`; the scheme's default port is
//! dropped, as WHATWG does.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlError(&'static str);

impl UrlError {
    /// Why, for humans (e.g. `"userinfo is not allowed"`).
    pub const fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// An absolute `http` or `https` URL accepted by [`HttpUrl::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    https: bool,
    host: String,
    port: Option<u16>,
    path: String,
    query: Option<String>,
}

/// Characters WHATWG percent-encodes in a path or query (or that end them).
const ENCODED: &[u8] = b"\"'<>`{}#";

impl HttpUrl {
    /// Parses `input` (see the [module docs](self) for what is accepted).
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if !input.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UrlError(
                "only visible ASCII is allowed (no whitespace or control characters)",
            ));
        }
        if input.contains('\\') {
            return Err(UrlError("backslashes are not allowed"));
        }
        let (https, rest) = if let Some(rest) = strip_prefix_ci(input, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ci(input, "http://") {
            (false, rest)
        } else {
            return Err(UrlError("the scheme must be http:// or https://"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(UrlError("userinfo is not allowed"));
        }
        let (host, port) = split_port(authority)?;
        let host = parse_host(host)?;
        let default = if https { 443 } else { 80 };
        let port = port.filter(|p| *p != default);
        let (path, query) = match tail.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (tail, None),
        };
        if tail.bytes().any(|b| ENCODED.contains(&b)) {
            return Err(UrlError(
                "the path or query holds a character WHATWG would rewrite",
            ));
        }
        if path.split('/').any(dot_segment) {
            return Err(UrlError("`.` and `..` path segments are not allowed"));
        }
        Ok(Self {
            https,
            host,
            port,
            path: if path.is_empty() {
                "/".to_string()
            } else {
                path.to_string()
            },
            query: query.map(str::to_string),
        })
    }

    /// `"https"` or `"http"`.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }

    /// The host, lower case: a DNS name, a dotted IPv4 address, or `[…]` IPv6.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, unless absent or the scheme's default (80, 443).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path, starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query without its `?` (`Some("")` for a bare `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// `scheme://host[:port]`, as WHATWG serializes the origin.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme(), self.host),
            None => format!("{}://{}", self.scheme(), self.host),
        }
    }

    /// Whether the host is a loopback host: `localhost`, `[::1]` or any `127.0.0.0/8`
    /// address.
    pub fn loopback_host(&self) -> bool {
        self.host == "localhost"
            || self.host == "[::1]"
            || (self.host.starts_with("127.") && parse_ipv4(&self.host).is_some())
    }
}

/// The parts of a URL the runtime already serialized (WHATWG): the `url` of an incoming
/// `Request` in workerd. Splitting such a string gives exactly what re-parsing it would
/// (the `url` crate's `host_str`, `port`, `path`, `query`), without a URL parser and its
/// IDNA tables in the Worker. Only for serialized URLs: configuration goes through
/// [`HttpUrl::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializedUrl {
    url: String,
    /// End of the scheme (before `:`).
    scheme_end: usize,
    /// The host's range.
    host: (usize, usize),
    port: Option<u16>,
    /// The path's range.
    path: (usize, usize),
    /// The query's range, without its `?`.
    query: Option<(usize, usize)>,
}

impl SerializedUrl {
    /// Splits a serialized absolute URL with an authority (`scheme://[userinfo@]host[:port]`,
    /// then path, `?query`, `#fragment`); `None` for anything else (no `://`, a port that
    /// is not a number ≤ 65535, a path not starting with `/`).
    pub fn split(url: &str) -> Option<Self> {
        let scheme_end = url.find("://")?;
        let authority_start = scheme_end + 3;
        let rest = url.get(authority_start..)?;
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..authority_len)?;
        let host_start = authority.rfind('@').map_or(0, |at| at + 1);
        let host_port = authority.get(host_start..)?;
        // A bracketed IPv6 host may contain `:`; the port follows `]`.
        let colon = match host_port.rfind(']') {
            Some(close) => host_port.get(close..)?.find(':').map(|c| c + close),
            None => host_port.find(':'),
        };
        let (host_len, port) = match colon {
            Some(c) => {
                let digits = host_port.get(c + 1..)?;
                let port = if digits.is_empty() {
                    None
                } else if digits.bytes().all(|b| b.is_ascii_digit()) {
                    Some(digits.parse::<u16>().ok()?)
                } else {
                    return None;
                };
                (c, port)
            }
            None => (host_port.len(), None),
        };
        let host = (
            authority_start + host_start,
            authority_start + host_start + host_len,
        );
        let path_start = authority_start + authority_len;
        let tail = url.get(path_start..)?;
        let path_len = tail.find(['?', '#']).unwrap_or(tail.len());
        if path_len > 0 && !tail.starts_with('/') {
            return None;
        }
        let path = (path_start, path_start + path_len);
        let query = match tail.get(path_len..)?.strip_prefix('?') {
            Some(q) => {
                let start = path_start + path_len + 1;
                Some((start, start + q.find('#').unwrap_or(q.len())))
            }
            None => None,
        };
        Some(Self {
            url: url.to_string(),
            scheme_end,
            host,
            port,
            path,
            query,
        })
    }

    /// The scheme, as serialized (lower case).
    pub fn scheme(&self) -> &str {
        self.url.get(..self.scheme_end).unwrap_or_default()
    }

    /// The host (`[…]` for IPv6), as serialized; empty when there is none.
    pub fn host(&self) -> &str {
        self.url.get(self.host.0..self.host.1).unwrap_or_default()
    }

    /// The port, when the URL has one (a serialized URL omits the scheme's default).
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The path (`/` when the serialization has none).
    pub fn path(&self) -> &str {
        match self.url.get(self.path.0..self.path.1) {
            Some("") | None => "/",
            Some(path) => path,
        }
    }

    /// The query without its `?` (`Some("")` for a bare `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.query.and_then(|(a, b)| self.url.get(a..b))
    }

    /// `scheme://host[:port]`: the origin as WHATWG serializes it (for `http`/`https`).
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme(), self.host()),
            None => format!("{}://{}", self.scheme(), self.host()),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Splits `host[:port]` (the host may be bracketed IPv6).
fn split_port(authority: &str) -> Result<(&str, Option<u16>), UrlError> {
    let colon = if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or(UrlError("unterminated IPv6 literal"))?;
        match authority.get(close.saturating_add(1)..) {
            Some("") | None => None,
            Some(after) if after.starts_with(':') => Some(close.saturating_add(1)),
            Some(_) => return Err(UrlError("junk after the IPv6 literal")),
        }
    } else {
        authority.find(':')
    };
    let Some(colon) = colon else {
        return Ok((authority, None));
    };
    let (host, port) = authority.split_at(colon);
    let digits = port.get(1..).unwrap_or_default();
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError("the port must be decimal digits"));
    }
    let port = digits
        .parse::<u16>()
        .map_err(|_| UrlError("the port must be at most 65535"))?;
    Ok((host, Some(port)))
}

fn parse_host(host: &str) -> Result<String, UrlError> {
    if host.is_empty() {
        return Err(UrlError("the host is empty"));
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or(UrlError("unterminated IPv6 literal"))?;
        let pieces = parse_ipv6(inner).ok_or(UrlError("invalid IPv6 literal"))?;
        return Ok(format!("[{}]", serialize_ipv6(&pieces)));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(UrlError("the host must be a DNS name or an IP literal"));
    }
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return Err(UrlError("the host has an empty label"));
    }
    if labels.iter().any(|l| l.starts_with("xn--")) {
        return Err(UrlError("internationalized (xn--) hosts are not supported"));
    }
    let numeric = labels.last().is_some_and(|last| {
        last.bytes().all(|b| b.is_ascii_digit())
            || last
                .strip_prefix("0x")
                .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if numeric && parse_ipv4(&host).is_none() {
        return Err(UrlError("IPv4 addresses must be four decimal octets"));
    }
    Ok(host)
}

/// A dotted-decimal IPv4 address (four octets, no leading zeros).
fn parse_ipv4(host: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = host.split('.');
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty()
            || part.len() > 3
            || (part.len() > 1 && part.starts_with('0'))
            || !part.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn hex_pieces(s: &str) -> Option<Vec<u16>> {
    if s.is_empty() {
        return Some(Vec::new());
    }
    s.split(':')
        .map(|p| {
            ((1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u16::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect()
}

/// Eight 16-bit pieces from hex groups and at most one `::` (no embedded IPv4).
fn parse_ipv6(s: &str) -> Option<[u16; 8]> {
    let mut out = [0u16; 8];
    match s.split_once("::") {
        Some((left, right)) => {
            if right.contains("::") {
                return None;
            }
            let (l, r) = (hex_pieces(left)?, hex_pieces(right)?);
            if l.len().saturating_add(r.len()) > 7 {
                return None;
            }
            for (slot, v) in out.iter_mut().zip(&l) {
                *slot = *v;
            }
            let start = 8usize.saturating_sub(r.len());
            for (slot, v) in out.iter_mut().skip(start).zip(&r) {
                *slot = *v;
            }
        }
        None => {
            let all = hex_pieces(s)?;
            if all.len() != 8 {
                return None;
            }
            for (slot, v) in out.iter_mut().zip(&all) {
                *slot = *v;
            }
        }
    }
    Some(out)
}

/// WHATWG's IPv6 serializer: lower-case hex, the first longest run (≥ 2) of zero pieces
/// written `::`.
fn serialize_ipv6(pieces: &[u16; 8]) -> String {
    let (mut best, mut best_len) = (None, 1usize);
    let mut i = 0;
    while i < 8 {
        let run = pieces.iter().skip(i).take_while(|p| **p == 0).count();
        if run > best_len {
            best = Some(i);
            best_len = run;
        }
        i = i.saturating_add(run.max(1));
    }
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if Some(i) == best {
            out.push_str(if i == 0 { "::" } else { ":" });
            i = i.saturating_add(best_len);
            continue;
        }
        out.push_str(&format!("{:x}", pieces.get(i).copied().unwrap_or(0)));
        if i < 7 {
            out.push(':');
        }
        i = i.saturating_add(1);
    }
    out
}

/// Whether a path segment is one WHATWG resolves (`.`, `..`, also percent-encoded).
fn dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> HttpUrl {
        HttpUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parts_are_normalized_like_whatwg() {
        let u = ok("HTTPS://Issuer.Example:8443/a/B?x=1&y");
        assert_eq!(
            (u.scheme(), u.host(), u.port(), u.path(), u.query()),
            ("https", "issuer.example", Some(8443), "/a/B", Some("x=1&y"))
        );
        assert_eq!(u.origin(), "https://issuer.example:8443");
        let u = ok("http://example.com");
        assert_eq!((u.path(), u.query(), u.port()), ("/", None, None));
        assert_eq!(u.origin(), "http://example.com");
        assert_eq!(ok("http://a.test:80/").port(), None);
        assert_eq!(ok("https://a.test:443").origin(), "https://a.test");
        assert_eq!(ok("http://a.test:443").port(), Some(443));
        assert_eq!(ok("http://a.test:0080/").port(), None);
        assert_eq!(ok("http://a.test/?").query(), Some(""));
        assert_eq!(ok("http://a.test/%7e/x%20y").path(), "/%7e/x%20y");
    }

    #[test]
    fn ip_literals() {
        let u = ok("http://[::1]:8080/x");
        assert_eq!((u.host(), u.port(), u.path()), ("[::1]", Some(8080), "/x"));
        assert_eq!(u.origin(), "http://[::1]:8080");
        assert_eq!(ok("http://[0:0:0:0:0:0:0:1]/").host(), "[::1]");
        assert_eq!(
            ok("http://[2001:DB8:0:0:1:0:0:1]/").host(),
            "[2001:db8::1:0:0:1]"
        );
        assert_eq!(ok("http://[1:0:0:2:0:0:0:3]/").host(), "[1:0:0:2::3]");
        assert_eq!(ok("http://[::]/").host(), "[::]");
        assert_eq!(ok("http://[1::]/").host(), "[1::]");
        assert_eq!(ok("http://[1:2:3:4:5:6:7:8]/").host(), "[1:2:3:4:5:6:7:8]");
        assert_eq!(ok("http://[1:0:2:3:4:5:6:7]/").host(), "[1:0:2:3:4:5:6:7]");
        assert_eq!(ok("http://10.0.0.255/").host(), "10.0.0.255");
        assert_eq!(ok("http://0.0.0.0/").host(), "0.0.0.0");
    }

    #[test]
    fn anything_whatwg_would_read_differently_is_refused() {
        for bad in [
            "",
            "/jwks",
            "example.com/x",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http:/example.com/",
            "http:example.com/",
            "http:///example.com/",
            "http://",
            "http://:80/",
            "https://a\\b",
            "https://a.test\\@evil.test/",
            "http://127.0.0.1@evil.com/",
            "https://user:pw@issuer.example/jwks",
            "https://@issuer.example/",
            " https://a.test/",
            "https://a.test/ ",
            "https://a.test/\tx",
            "https://a\n.test/",
            "https://a.test/\r",
            "https://a.test/#frag",
            "https://a.test/x y",
            "https://exämple.test/",
            "https://a.test/é",
            "http://a.test:/",
            "http://a.test:65536/",
            "http://a.test:99999/",
            "http://a.test:123456/",
            "http://a.test:-1/",
            "http://a.test:8o/",
            "http://a.test:+80/",
            "http://a..test/",
            "http://.a.test/",
            "http://a.test./",
            "http://xn--bcher-kva.test/",
            "http://a_b.test/",
            "http://a%2eb.test/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://2130706433/",
            "http://127.0.0.1.5/",
            "http://256.0.0.1/",
            "http://a.123/",
            "http://0x/",
            "http://[::1/",
            "http://[::1]x/",
            "http://[::1]:/",
            "http://[1:2:3:4:5:6:7:8:9]/",
            "http://[1:2:3:4:5:6:7]/",
            "http://[1::2::3]/",
            "http://[:::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[12345::]/",
            "http://[g::]/",
            "http://[]/",
            "https://a.test/a/../b",
            "https://a.test/./b",
            "https://a.test/%2e%2E/b",
            "https://a.test/.%2e",
            "https://a.test/x\"y",
            "https://a.test/<x>",
            "https://a.test/?q='x'",
            "https://a.test/`",
            "https://a.test/{x}",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for lo in [
            "http://127.0.0.1/",
            "http://127.255.0.9:9/",
            "http://localhost/",
            "http://LOCALHOST:1/",
            "http://[::1]/",
            "http://[0::1]/",
        ] {
            assert!(ok(lo).loopback_host(), "{lo}");
        }
        for not in [
            "http://127.0.0.1.evil.com/",
            "http://128.0.0.1/",
            "http://localhost.evil.com/",
            "http://[::2]/",
            "http://evil.com/127.0.0.1",
        ] {
            assert!(!ok(not).loopback_host(), "{not}");
        }
    }

    /// Splitting what the `url` crate serializes gives the parts it parsed.
    #[test]
    fn serialized_urls_split_like_the_url_crate_parses() {
        for input in [
            "http://demo.torii.test/",
            "https://Demo.Torii.Test:8443/a/b?x=1&y=%20#frag",
            "http://127.0.0.1:8787/_torii/auth/session/token?template=hasura",
            "http://[::1]:8787/v1/users?limit=5",
            "http://[2001:db8::1]/",
            "https://user:pass@example.com:444/p?",
            "http://example.com:80/default-port",
            "https://example.com:443",
            "http://xn--bcher-kva.example/caf%C3%A9?q=%E2%9C%93",
            "http://b\u{fc}cher.example/a/./b/../c?x=\u{e9}",
            "http://example.com/?",
            "http://example.com/p#only-fragment",
            "http://example.com/p/..%2f/%2e%2E/q",
            "http://a.b/\"<>`{}",
        ] {
            let parsed = url::Url::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            let split = SerializedUrl::split(parsed.as_str())
                .unwrap_or_else(|| panic!("{input}: {parsed} not split"));
            assert_eq!(split.scheme(), parsed.scheme(), "{parsed}");
            assert_eq!(
                split.host(),
                parsed.host_str().unwrap_or_default(),
                "{parsed}"
            );
            assert_eq!(split.port(), parsed.port(), "{parsed}");
            assert_eq!(split.path(), parsed.path(), "{parsed}");
            assert_eq!(split.query(), parsed.query(), "{parsed}");
            assert_eq!(
                split.origin(),
                parsed.origin().ascii_serialization(),
                "{parsed}"
            );
        }
    }

    #[test]
    fn only_urls_with_an_authority_split() {
        for bad in [
            "",
            "example.com/p",
            "mailto:a@b",
            "http://h:x/",
            "http://h:70000/",
            "http://hp",
        ] {
            let split = SerializedUrl::split(bad);
            assert!(bad == "http://hp" || split.is_none(), "{bad}: {split:?}");
        }
        assert!(SerializedUrl::split("http:/x/p").is_none());
        let u = SerializedUrl::split("http://hp").unwrap();
        assert_eq!((u.host(), u.path(), u.query()), ("hp", "/", None));
    }
}
