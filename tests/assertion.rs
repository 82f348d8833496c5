//! The edge assertion: bound to method, URL and every identity header; never an access
//! token.

use serde_json::{json, Map, Value};
use torii_edge::edge::assertion::{
    check_binding, identity_canonical, identity_hash, mint_edge_assertion, verify_edge_assertion,
    Binding, EDGE_ASSERTION_TYP, IDENTITY_HEADERS,
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
/// The identity headers of a request for `user_1` whose `x-torii-claims` is `claims`
/// (none at all when `claims` is empty: an anonymous request).
fn identity(claims: &str) -> &'static [(&'static str, &'static str)] {
    if claims.is_empty() {
        return &[];
    }
    let claims: &'static str = Box::leak(claims.to_string().into_boxed_str());
    Box::leak(Box::new([
        ("x-torii-user-id", "user_1"),
        ("x-torii-tenant-id", "demo"),
        ("x-torii-issuer", ISS),
        ("x-torii-claims", claims),
    ]))
}
fn binding(claims: &str) -> Binding<'static> {
    Binding {
        method: "POST",
        url: "http://127.0.0.1:9000/api/orders?x=1",
        identity: identity(claims),
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
        ("ihash", json!(identity_hash(&[]).unwrap())),
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
    let _: Option<&Value> = ok.get("ihash");
}

#[test]
fn edge_assertion_binds_every_identity_header() {
    let full: Vec<(&str, &str)> = IDENTITY_HEADERS.iter().map(|n| (*n, "v")).collect();
    let b = |identity: &'static [(&'static str, &'static str)]| Binding {
        identity,
        ..binding("")
    };
    let full: &'static [(&str, &str)] = Box::leak(full.into_boxed_slice());
    let a = mint_edge_assertion(&key(), ISS, ORIGIN, b(full), Some("v"), UnixTime(NOW), 30);
    // The same headers in another order and spelling verify...
    let mut shuffled: Vec<(&str, &str)> = full.iter().rev().copied().collect();
    shuffled[0].0 = "X-Torii-Claims";
    let shuffled: &'static [(&str, &str)] = Box::leak(shuffled.into_boxed_slice());
    assert!(verify_edge_assertion(&jwks(), ISS, ORIGIN, &a, b(shuffled), UnixTime(NOW)).is_ok());
    // ...but any header dropped, changed, added twice, or split by a newline does not.
    for i in 0..full.len() {
        let mut dropped = full.to_vec();
        dropped.remove(i);
        let mut changed = full.to_vec();
        changed[i].1 = "w";
        let mut doubled = full.to_vec();
        doubled.push(full[i]);
        for bad in [dropped, changed, doubled] {
            let bad: &'static [(&str, &str)] = Box::leak(bad.into_boxed_slice());
            assert_eq!(
                verify_edge_assertion(&jwks(), ISS, ORIGIN, &a, b(bad), UnixTime(NOW))
                    .unwrap_err()
                    .code(),
                "assertion_mismatch",
                "{}",
                IDENTITY_HEADERS[i]
            );
        }
    }
    assert_eq!(
        identity_canonical(&[("x-torii-user-id", "a\nx-torii-aal:aal2")]),
        None
    );
    // Names outside the identity set are ignored.
    assert_eq!(identity_hash(&[("x-other", "1")]), identity_hash(&[]));
}

/// The canonical form, as every origin language computes it (docs/origin.md).
#[test]
fn identity_canonical_form_vector() {
    let headers = [
        ("x-torii-claims", "eyJzdWIiOiJ1c2VyXzEifQ"),
        ("x-torii-user-id", "user_1"),
        ("x-torii-tenant-id", "demo"),
        ("x-torii-issuer", "https://demo.torii.test"),
    ];
    assert_eq!(
        identity_canonical(&headers).unwrap(),
        "x-torii-user-id:user_1\nx-torii-tenant-id:demo\nx-torii-issuer:https://demo.torii.test\nx-torii-claims:eyJzdWIiOiJ1c2VyXzEifQ\n"
    );
    // base64url(SHA-256(that)); the empty form is SHA-256("").
    assert_eq!(
        identity_hash(&[]).unwrap(),
        "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
    );
    assert_eq!(identity_hash(&headers).unwrap().len(), 43);
}
