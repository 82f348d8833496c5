//! `Verifier::verify` must never panic, whatever the token.
//!
//! The first byte picks a mode, the rest is the input:
//! * even: the input (lossily as UTF-8) is the compact token, verified against a fixed set
//!   of two keys; only errors or a verified token are acceptable outcomes;
//! * odd: the input is a payload, signed with a key of the set under a fixed header, so
//!   the claim checks after the signature (JSON, types, iss, exp/nbf/iat) see fuzzed data.
//!   A token that verifies must carry the policy's issuer and an `exp` in the future.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, Verifier};

const ISSUER: &str = "https://t.io";
const NOW: UnixTime = UnixTime(1_700_000_000);

struct Fixture {
    signer: SigningKey,
    verifier: Verifier,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let signer = SigningKey::from_seed(&[1u8; 32]).with_kid("k2");
        let other = SigningKey::from_seed(&[2u8; 32]);
        let jwks = Jwks::from_keys(vec![other.public_jwk(), signer.public_jwk()]);
        Fixture {
            signer,
            verifier: Verifier::new(jwks, Policy::new(ISSUER)),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        if let Ok(claims) = f.verifier.verify(&token, NOW) {
            // Only reachable with a real signature of one of the two keys.
            assert_eq!(claims.iss(), ISSUER);
        }
    } else {
        let token = f
            .signer
            .sign_compact(br#"{"alg":"EdDSA","kid":"k2","typ":"JWT"}"#, rest);
        if let Ok(claims) = f.verifier.verify(&token, NOW) {
            assert_eq!(claims.iss(), ISSUER);
            assert!(
                claims.exp().is_some_and(|exp| exp > NOW.0 - 60),
                "expired token accepted"
            );
            assert_eq!(claims.kid(), Some("k2"));
        }
    }
});
