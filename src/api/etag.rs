//! `ETag` and `If-Match` for users and JWT templates: the tag is derived from the row's
//! `version` (incremented by every write) and `updated_at`, and compared strongly
//! (RFC 9110 §13.1.1: a weak tag never matches `If-Match`).

use super::error::ApiError;
use crate::error::ErrorCode;
use alloc::format;
use alloc::string::String;

/// The strong `ETag` of a row at `version`, written at `updated_at`: `"v<version>-<updated_at>"`.
pub fn etag(version: i64, updated_at: i64) -> String {
    format!("\"v{version}-{updated_at}\"")
}

/// Longest `If-Match` header considered.
pub const MAX_IF_MATCH_BYTES: usize = 1024;

/// Checks `If-Match` against the current `ETag` of the resource (`None`: the header was
/// absent, the write goes ahead). `*` matches any existing resource; otherwise one of
/// the comma-separated strong tags must equal `current`. A stale tag →
/// `precondition_failed` (412); an unparsable header → `validation_failed` naming
/// `If-Match`.
pub fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), ApiError> {
    let Some(header) = if_match else {
        return Ok(());
    };
    let header = header.trim();
    if header.len() > MAX_IF_MATCH_BYTES {
        return Err(ApiError::validation("If-Match", "the header is too long"));
    }
    if header == "*" {
        return Ok(());
    }
    let mut matched = false;
    for tag in header.split(',').map(str::trim) {
        let (weak, opaque) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let well_formed = opaque.len() >= 2
            && opaque.starts_with('"')
            && opaque.ends_with('"')
            && opaque
                .get(1..opaque.len().saturating_sub(1))
                .is_some_and(|inner| {
                    inner
                        .bytes()
                        .all(|b| b == 0x21 || (0x23..=0x7E).contains(&b))
                });
        if !well_formed {
            return Err(ApiError::validation(
                "If-Match",
                "expected `*` or a list of quoted entity tags",
            ));
        }
        matched |= !weak && opaque == current;
    }
    if matched {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "the resource changed since it was read (If-Match does not match its ETag)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_change_with_version_and_time() {
        assert_eq!(etag(3, 1_700_000_000), "\"v3-1700000000\"");
        assert_ne!(etag(3, 1), etag(4, 1));
        assert_ne!(etag(3, 1), etag(3, 2));
    }

    #[test]
    fn if_match() {
        let cur = etag(2, 100);
        assert!(check_if_match(None, &cur).is_ok());
        assert!(check_if_match(Some("*"), &cur).is_ok());
        assert!(check_if_match(Some(&cur), &cur).is_ok());
        assert!(check_if_match(Some(&format!("\"x\", {cur}")), &cur).is_ok());
        let stale = etag(1, 50);
        let err = check_if_match(Some(&stale), &cur).unwrap_err();
        assert_eq!(err.code, ErrorCode::PreconditionFailed);
        assert_eq!(err.status(), 412);
        let weak = format!("W/{cur}");
        assert_eq!(
            check_if_match(Some(&weak), &cur).unwrap_err().code,
            ErrorCode::PreconditionFailed
        );
        for bad in ["v2-100", "\"unterminated", "\"a\"b\"", "", "\"a\",,\"b\""] {
            let err = check_if_match(Some(bad), &cur).unwrap_err();
            assert_eq!(err.code, ErrorCode::ValidationFailed, "{bad:?}");
            assert_eq!(err.field.as_deref(), Some("If-Match"));
        }
        let long = alloc::format!("\"{}\"", "a".repeat(2000));
        assert!(check_if_match(Some(&long), &cur).is_err());
    }
}
