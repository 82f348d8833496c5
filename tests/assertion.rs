//! The edge assertion: bound to method, URL and claims header; never an access token.

use serde_json::{json, Map, Value};
use torii_edge::edge::assertion::{
    check_binding, mint_edge_assertion, verify_edge_assertion, Binding, EDGE_ASSERTION_TYP,
};
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, Verifier};

const ISS: &str = "https://demo.torii.test";
const ORIGIN: &str = "http://127.0.0.1:9000";
const NOW: i64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::from_seed(&[5u8; 32])
}
fn jwks() -> Jwks {
    Jwks::from_keys(vec![key().public_jwk()])
}
fn binding<'a>(claims: &'a str) -> Binding<'a> {
    Binding {
        method: "POST",
        url: "http://127.0.0.1:9000/api/orders?x=1",
        claims_header: claims,
    }
}
fn assertion(claims: &str) -> String {
    mint_edge_assertion(
        &key(),
        ISS,
        ORIGIN,
        binding(claims),
        Some("user_1"),
        UnixTime(NOW),
        30,
    )
}

#[test]
fn edge_assertion_verifies_for_the_request_it_was_made_for() {
    let a = assertion("eyJzdWIiOiJ1c2VyXzEifQ");
    let v = verify_edge_assertion(
        &jwks(),
        ISS,
        ORIGIN,
        &a,
        binding("eyJzdWIiOiJ1c2VyXzEifQ"),
        UnixTime(NOW + 5),
    )
    .unwrap();
    assert_eq!(v.sub(), Some("user_1"));
    assert_eq!(v.exp(), Some(NOW + 30));
    assert_eq!(v.get("htm"), Some(&json!("POST")));
}

#[test]
fn edge_assertion_lifetime_is_capped_at_60s() {
    let a = mint_edge_assertion(&key(), ISS, ORIGIN, binding(""), None, UnixTime(NOW), 3600);
    let claims = torii_edge::UntrustedToken::parse(&a, 4096)
        .unwrap()
        .claims_unverified()
        .unwrap();
    assert_eq!(claims["exp"], json!(NOW + 60));
    assert_eq!(
        verify_edge_assertion(&jwks(), ISS, ORIGIN, &a, binding(""), UnixTime(NOW + 120))
            .unwrap_err()
            .code(),
        "token_expired"
    );
}

#[test]
fn edge_assertion_is_bound_to_method_url_and_claims() {
    let a = assertion("abc");
    let at = UnixTime(NOW);
    let other_method = Binding {
        method: "GET",
        ..binding("abc")
    };
    let other_url = Binding {
        url: "http://127.0.0.1:9000/api/orders?x=2",
        ..binding("abc")
    };
    for b in [other_method, other_url, binding("abd"), binding("")] {
        assert_eq!(
            verify_edge_assertion(&jwks(), ISS, ORIGIN, &a, b, at)
                .unwrap_err()
                .code(),
            "assertion_mismatch"
        );
    }
}

#[test]
fn edge_assertion_audience_and_issuer_are_checked() {
    let a = assertion("abc");
    assert_eq!(
        verify_edge_assertion(
            &jwks(),
            ISS,
            "http://127.0.0.1:9001",
            &a,
            binding("abc"),
            UnixTime(NOW)
        )
        .unwrap_err()
        .code(),
        "invalid_audience"
    );
    assert_eq!(
        verify_edge_assertion(
            &jwks(),
            "https://other.test",
            ORIGIN,
            &a,
            binding("abc"),
            UnixTime(NOW)
        )
        .unwrap_err()
        .code(),
        "invalid_issuer"
    );
    let other = Jwks::from_keys(vec![SigningKey::from_seed(&[6u8; 32])
        .with_kid(key().kid())
        .public_jwk()]);
    assert_eq!(
        verify_edge_assertion(&other, ISS, ORIGIN, &a, binding("abc"), UnixTime(NOW))
            .unwrap_err()
            .code(),
        "invalid_signature"
    );
}

#[test]
fn access_token_verifier_rejects_an_edge_assertion() {
    let a = assertion("abc");
    let v = Verifier::new(jwks(), Policy::new(ISS));
    assert_eq!(
        v.verify(&a, UnixTime(NOW)).unwrap_err().code(),
        "invalid_token_type"
    );
}

#[test]
fn edge_assertion_verifier_rejects_an_access_token() {
    // An access token carrying every assertion claim still fails on its `typ`.
    let mut c = Map::new();
    for (k, v) in [
        ("iss", json!(ISS)),
        ("aud", json!(ORIGIN)),
        ("sub", json!("user_1")),
        ("iat", json!(NOW)),
        ("exp", json!(NOW + 30)),
        ("htm", json!("POST")),
        ("htu", json!(binding("").url)),
        ("chash", json!(torii_edge::edge::assertion::claims_hash(""))),
    ] {
        c.insert(k.into(), v);
    }
    for typ in [None, Some("JWT"), Some("at+jwt")] {
        let token = key().sign_jwt(typ, &c);
        let err = verify_edge_assertion(&jwks(), ISS, ORIGIN, &token, binding(""), UnixTime(NOW))
            .unwrap_err();
        assert_eq!(err.code(), "invalid_token_type", "{typ:?}");
    }
    let real = key().sign_jwt(Some(EDGE_ASSERTION_TYP), &c);
    let ok =
        verify_edge_assertion(&jwks(), ISS, ORIGIN, &real, binding(""), UnixTime(NOW)).unwrap();
    assert!(check_binding(&ok, binding("")).is_ok());
    let _: Option<&Value> = ok.get("chash");
}
