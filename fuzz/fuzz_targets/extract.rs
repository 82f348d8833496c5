//! `bearer_token`, `cookie_value` and `request_token` on arbitrary header values must
//! never panic, and a token they return is a non-empty substring of the header it came
//! from, without whitespace (a bearer token: in the RFC 6750 `b64token` alphabet).
//!
//! Input: `Authorization` value, NUL, `Cookie` value (each lossily UTF-8). A first byte
//! `\x01` means no `Authorization` header, a missing NUL means no `Cookie` header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_edge::bearer_token;
use torii_edge::edge::extract::{cookie_value, request_token, SESSION_COOKIE};

/// Whether `inner` is a slice of `outer` (same memory), not merely equal text.
fn within(inner: &str, outer: &str) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn check_token(token: &str, header: &str) {
    assert!(!token.is_empty(), "empty token from {header:?}");
    assert!(within(token, header), "{token:?} is not part of {header:?}");
    assert!(
        !token.chars().any(char::is_whitespace),
        "token {token:?} from {header:?} holds whitespace"
    );
}

fuzz_target!(|data: &[u8]| {
    let (auth, cookie) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let auth = String::from_utf8_lossy(auth);
    let auth = (!auth.starts_with('\u{1}')).then_some(auth.as_ref());
    let cookie = cookie.map(String::from_utf8_lossy);
    let cookie = cookie.as_deref();

    if let Ok(token) = bearer_token(auth) {
        let header = auth.unwrap();
        check_token(token, header);
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
    }
    if let Some(c) = cookie {
        if let Some(v) = cookie_value(c, SESSION_COOKIE) {
            assert!(!v.is_empty() && within(v, c));
        }
    }
    match request_token(auth, cookie) {
        Ok(Some(token)) => match bearer_token(auth) {
            Ok(b) => assert_eq!(b, token),
            Err(_) => check_token(token, cookie.unwrap()),
        },
        Ok(None) => assert!(bearer_token(auth).is_err()),
        // A malformed `Authorization` header, or a session cookie that is not a token.
        Err(e) => assert!(
            matches!(e.code(), "invalid_request" | "malformed_token"),
            "{}",
            e.code()
        ),
    }
});
