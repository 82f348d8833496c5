//! `HttpUrl::parse` on arbitrary text must never panic; an accepted URL is serialized
//! canonically: `origin()` + path (+ `?query`) re-parses to the same value, and is a
//! fixed point of parse-then-serialize. Scheme and host are lower case, the path starts
//! with `/`, and the default port is never kept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_edge::edge::url::HttpUrl;

fn serialize(u: &HttpUrl) -> String {
    let mut s = u.origin() + u.path();
    if let Some(q) = u.query() {
        s.push('?');
        s.push_str(q);
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let Ok(url) = HttpUrl::parse(&input) else {
        return;
    };
    assert!(url.path().starts_with('/'));
    assert!(url.scheme() == "https" || url.scheme() == "http");
    assert_eq!(url.host(), url.host().to_ascii_lowercase());
    assert!(!url.host().is_empty());
    assert_ne!(
        url.port(),
        Some(if url.scheme() == "https" { 443 } else { 80 })
    );
    let _ = url.loopback_host();
    let text = serialize(&url);
    let again = HttpUrl::parse(&text).unwrap_or_else(|e| panic!("{input:?} -> {text:?}: {e}"));
    assert_eq!(again, url, "{input:?} -> {text:?}");
    assert_eq!(serialize(&again), text);
    let origin =
        HttpUrl::parse(&url.origin()).unwrap_or_else(|e| panic!("origin of {input:?}: {e}"));
    assert_eq!(origin.origin(), url.origin());
});
