//! The vector checks, shared by `tests/vectors.rs` (native, vectors read from
//! `tests/data/vectors/`) and `tests/wasm_vectors.rs` (wasm32, vectors compiled in), so the
//! same assertions run on both.

use serde_json::Value;
use torii_edge::{b64, Jwk, Jwks, Policy, SigningKey, UnixTime, Verifier};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The raw 32 public-key bytes of a vector as an `OKP`/`Ed25519` JWK, through the core's
/// key loading (validated on load, as every key is).
fn raw_key(pk: &[u8]) -> Result<Jwk, torii_edge::KeyError> {
    let jwk_json = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        b64::encode(pk)
    );
    Jwk::from_json(jwk_json.as_bytes())
}

/// Every Wycheproof vector goes through the core's key path (a JWK, validated on load)
/// and signature path (`Jwk::verify_signature`, the seam tokens use).
pub fn wycheproof_ed25519(doc: &Value) {
    let mut seen = 0;
    let (mut valid, mut invalid) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let key = raw_key(&hex(group["publicKey"]["pk"].as_str().unwrap()));
        for t in group["tests"].as_array().unwrap() {
            seen += 1;
            let msg = hex(t["msg"].as_str().unwrap());
            let sig = hex(t["sig"].as_str().unwrap());
            let accepted = key.as_ref().is_ok_and(|k| k.verify_signature(&msg, &sig));
            let expected = match t["result"].as_str().unwrap() {
                "valid" => {
                    valid += 1;
                    true
                }
                "invalid" => {
                    invalid += 1;
                    false
                }
                other => panic!("unexpected result {other}"),
            };
            assert_eq!(
                accepted, expected,
                "tcId {} ({}) {:?}",
                t["tcId"], t["comment"], t["flags"]
            );
        }
    }
    assert_eq!(seen, doc["numberOfTests"].as_u64().unwrap() as usize);
    assert_eq!(seen, 151);
    assert!(valid > 0 && invalid > 0);
}

/// RFC 8037 Appendix A: the key signs byte for byte and its thumbprint matches.
pub fn rfc8037_sign_and_thumbprint(v: &Value) {
    let d: [u8; 32] = b64::decode(v["private_jwk"]["d"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = SigningKey::from_seed(&d);
    assert_eq!(key.public_jwk().x(), v["public_jwk"]["x"].as_str().unwrap());
    assert_eq!(
        key.public_jwk().thumbprint(),
        v["jwk_thumbprint_sha256"].as_str().unwrap()
    );
    // kid defaults to the thumbprint.
    assert_eq!(key.kid(), v["jwk_thumbprint_sha256"].as_str().unwrap());

    let jws = &v["jws"];
    let protected = b64::decode(jws["protected"].as_str().unwrap()).unwrap();
    let payload = jws["payload_text"].as_str().unwrap().as_bytes();
    let compact = key.sign_compact(&protected, payload);
    assert_eq!(compact, jws["compact"].as_str().unwrap());
    let signing_input = format!(
        "{}.{}",
        jws["protected"].as_str().unwrap(),
        jws["payload"].as_str().unwrap()
    );
    assert_eq!(
        b64::encode(&key.sign_raw(signing_input.as_bytes())),
        jws["signature"].as_str().unwrap()
    );

    // The public JWK from the RFC verifies the signature...
    let public = Jwk::from_json(v["public_jwk"].to_string().as_bytes()).unwrap();
    let sig = b64::decode(jws["signature"].as_str().unwrap()).unwrap();
    assert!(public.verify_signature(signing_input.as_bytes(), &sig));
    // ...but the payload is not JSON, so as a JWT it is refused after the signature passed.
    let verifier = Verifier::new(
        Jwks::from_keys(vec![public]),
        Policy::new("https://issuer.test"),
    );
    let err = verifier
        .verify(jws["compact"].as_str().unwrap(), UnixTime(0))
        .unwrap_err();
    assert_eq!(err.code(), "malformed_token");
}

/// The RFC 8037 private JWK is refused as a verification key.
pub fn rfc8037_private_jwk_refused(v: &Value) {
    let err = Jwk::from_json(v["private_jwk"].to_string().as_bytes()).unwrap_err();
    assert_eq!(err.code(), "invalid_key");
    let set = format!(r#"{{"keys":[{}]}}"#, v["private_jwk"]);
    assert_eq!(
        Jwks::from_json(set.as_bytes()).unwrap_err().code(),
        "invalid_key"
    );
}

/// The twelve edge cases of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko,
/// 2020; `speccheck/cases.json`): small-order and mixed-order keys and `R`, a
/// signature valid only under the cofactored equation, non-canonical `S`, `R` and `A`,
/// and a pre-reduced scalar. The core's rule (canonical encodings, small-order keys and
/// `R` refused, the cofactorless equation) accepts exactly case 3 (mixed-order key and
/// `R`, valid under the cofactorless equation), as `ed25519-dalek`'s `verify_strict`
/// and libsodium do; every other case is refused, by key loading or by the signature
/// check.
pub fn speccheck_ed25519(cases: &Value) {
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 12);
    for (i, case) in cases.iter().enumerate() {
        let key = raw_key(&hex(case["pub_key"].as_str().unwrap()));
        let msg = hex(case["message"].as_str().unwrap());
        let sig = hex(case["signature"].as_str().unwrap());
        let accepted = key.is_ok_and(|k| k.verify_signature(&msg, &sig));
        assert_eq!(accepted, i == 3, "speccheck case {i}");
    }
}
