//! Request-path normalization, sans-I/O: the path the gateway matches against its route
//! table ([`super::routing`]) is the path the origin will see.

use super::routing::GatewayError;
use alloc::string::String;
use alloc::vec::Vec;

/// Longest request path the gateway matches and forwards, in bytes (longer: 414).
pub const MAX_PATH_LEN: usize = 2048;

/// Normalizes a URL path for matching and forwarding, so the rule that matches is the
/// path the origin will see: percent-encoded unreserved characters are decoded
/// (`/%61dmin` is `/admin`), runs of `/` collapse, and `.`/`..` segments are resolved.
/// Encoded `/`, `\` or `%`, raw `\`, and malformed escapes are refused (`invalid_path`);
/// a path over [`MAX_PATH_LEN`] bytes is `uri_too_long`.
pub fn normalize_path(path: &str) -> Result<String, GatewayError> {
    if path.len() > MAX_PATH_LEN {
        return Err(GatewayError::UriTooLong);
    }
    let bytes = path.as_bytes();
    // Raw control characters are refused like their escapes (`%00`–`%1F`): the runtime
    // percent-encodes them, so only a hand-built path carries them.
    if bytes.first() != Some(&b'/') || path.contains('\\') || path.chars().any(char::is_control) {
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
            // Copy the whole character: a non-ASCII byte is part of a UTF-8 sequence, not
            // a Latin-1 character of its own.
            let c = path
                .get(i..)
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{fffd}');
            decoded.push(c);
            i += c.len_utf8();
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn path_normalization_matches_what_the_origin_sees() {
        assert_eq!(normalize_path("/%61dmin/x").unwrap(), "/admin/x");
        assert_eq!(normalize_path("//admin///x").unwrap(), "/admin/x");
        assert_eq!(normalize_path("/public/../admin").unwrap(), "/admin");
        assert_eq!(normalize_path("/a/./b/").unwrap(), "/a/b/");
        assert_eq!(normalize_path("/").unwrap(), "/");
        assert_eq!(normalize_path("/../..").unwrap(), "/");
        assert_eq!(normalize_path("/a%20b").unwrap(), "/a%20b");
        assert_eq!(normalize_path("/caf\u{e9}/./x").unwrap(), "/caf\u{e9}/x");
        for bad in [
            "/a%2Fb", "/a%2fb", "/a%5Cb", "/a\\b", "/a%", "/a%zz", "/a%00", "a", "", "/%25",
            "/a\u{15}", "/a\nb", "/\u{7f}",
        ] {
            assert_eq!(normalize_path(bad), Err(GatewayError::InvalidPath), "{bad}");
        }
    }

    #[test]
    fn long_paths_are_uri_too_long() {
        let ok = format!("/{}", "a".repeat(MAX_PATH_LEN - 1));
        assert!(normalize_path(&ok).is_ok());
        let long = format!("/{}", "a".repeat(MAX_PATH_LEN));
        assert_eq!(normalize_path(&long), Err(GatewayError::UriTooLong));
        assert_eq!(GatewayError::UriTooLong.http_status(), 414);
        assert_eq!(GatewayError::UriTooLong.code(), "uri_too_long");
    }
}
