//! `Jwks::from_json` must never panic; a set it accepts must survive a round trip:
//! the set's `to_json` re-parses to an equal set, and every key's JSON re-parses to an
//! equal key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use torii_edge::{Jwk, Jwks, MAX_JWKS_BYTES};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = Jwks::from_json(data) else {
        return;
    };
    assert!(!set.is_empty(), "an accepted set has a usable key");
    for key in set.keys() {
        let json = key.to_value().to_string();
        let again = Jwk::from_json(json.as_bytes())
            .unwrap_or_else(|e| panic!("key {json} does not re-parse: {e:?}"));
        assert_eq!(&again, key, "key {json} re-parses to a different key");
    }
    let json = set.to_json();
    // Re-serializing adds `"use":"sig"` to keys that lacked it, so a set accepted near
    // the size limit may come back a few bytes over it: that is not a round-trip bug.
    if json.len() <= MAX_JWKS_BYTES {
        let again = Jwks::from_json(json.as_bytes())
            .unwrap_or_else(|e| panic!("set {json} does not re-parse: {e:?}"));
        assert_eq!(again, set, "set {json} re-parses to a different set");
    }
});
