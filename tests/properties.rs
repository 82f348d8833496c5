//! Property tests: round trips, single-byte tampering, and no panics on any input.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, UntrustedToken, Verifier};

const ISS: &str = "https://demo.torii.test";
const NOW: i64 = 1_800_000_000;

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1.0e12f64..1.0e12).prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Custom claims that avoid the registered names, whose types the verifier checks.
fn arb_claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("c_[a-z0-9_]{0,10}", arb_json(3), 0..8)
        .prop_map(|m| m.into_iter().collect())
}

fn signer() -> SigningKey {
    SigningKey::from_seed(&[42u8; 32])
}

fn verifier(k: &SigningKey) -> Verifier {
    Verifier::new(Jwks::from_keys(vec![k.public_jwk()]), Policy::new(ISS))
}

fn full_claims(extra: Map<String, Value>, sub: String) -> Map<String, Value> {
    let mut c = extra;
    c.insert("iss".into(), ISS.into());
    c.insert("sub".into(), sub.into());
    c.insert("exp".into(), (NOW + 600).into());
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sign_then_verify_round_trips_arbitrary_claims(extra in arb_claims(), sub in ".{1,40}") {
        let k = signer();
        let claims = full_claims(extra, sub);
        let token = k.sign_jwt(Some("JWT"), &claims);
        let verified = verifier(&k).verify(&token, UnixTime(NOW)).unwrap();
        prop_assert_eq!(verified.claims(), &claims);
    }

    #[test]
    fn any_single_byte_change_of_a_valid_token_is_rejected(extra in arb_claims(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let k = signer();
        let token = k.sign_jwt(Some("JWT"), &full_claims(extra, "user".into()));
        let mut bytes = token.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        // Not valid UTF-8 cannot even be a &str; anything else must be rejected.
        if let Ok(changed) = String::from_utf8(bytes) {
            prop_assert!(verifier(&k).verify(&changed, UnixTime(NOW)).is_err(), "accepted a token changed at byte {}", i);
        }
    }

    #[test]
    fn parser_and_verifier_never_panic_on_arbitrary_strings(s in ".{0,600}") {
        let k = signer();
        let _ = UntrustedToken::parse(&s, 8192);
        let _ = verifier(&k).verify(&s, UnixTime(NOW));
        let _ = torii_edge::bearer_token(Some(&s));
    }

    #[test]
    fn parser_never_panics_on_dotted_base64url_garbage(a in "[A-Za-z0-9_-]{0,80}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,100}") {
        let k = signer();
        let t = format!("{a}.{b}.{c}");
        prop_assert!(verifier(&k).verify(&t, UnixTime(NOW)).is_err());
    }

    #[test]
    fn jwks_parser_never_panics_on_arbitrary_json(v in arb_json(4)) {
        let doc = json!({ "keys": [v.clone()] }).to_string();
        let _ = Jwks::from_json(doc.as_bytes());
        let _ = Jwks::from_json(v.to_string().as_bytes());
    }

    #[test]
    fn jwks_parser_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Jwks::from_json(&bytes);
        let _ = torii_edge::Jwk::from_json(&bytes);
    }
}
