//! Property tests of the Backend API core: secret keys round-trip and every corruption is
//! caught before any lookup; cursors round-trip; merge patches behave like RFC 7396.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use torii_edge::api::keys::{
    generate_secret_key, parse_secret_key, Environment, BASE62, KEY_RANDOM_BYTES,
};
use torii_edge::api::merge::merge_patch;
use torii_edge::api::pagination::{Cursor, ListKind};
use torii_edge::{Map, Value};

fn env() -> impl Strategy<Value = Environment> {
    prop_oneof![
        Just(Environment::Development),
        Just(Environment::Production)
    ]
}

fn random_bytes() -> impl Strategy<Value = [u8; KEY_RANDOM_BYTES]> {
    proptest::collection::vec(any::<u8>(), KEY_RANDOM_BYTES).prop_map(|v| v.try_into().unwrap())
}

proptest! {
    #[test]
    fn generated_keys_parse_back(env in env(), random in random_bytes()) {
        let key = generate_secret_key(env, &random);
        let parsed = parse_secret_key(&key.secret).unwrap();
        prop_assert_eq!(parsed.env, env);
        prop_assert_eq!(parsed.key_id, key.key_id.as_str());
    }

    #[test]
    fn one_substitution_is_always_refused(
        env in env(), random in random_bytes(), pos in 8usize..70, pick in 0usize..62,
    ) {
        let key = generate_secret_key(env, &random).secret;
        let mut bytes = key.clone().into_bytes();
        prop_assume!(bytes[pos] != b'_' && bytes[pos] != BASE62[pick]);
        bytes[pos] = BASE62[pick];
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(parse_secret_key(&changed).is_err());
    }

    #[test]
    fn truncation_and_extension_are_refused(env in env(), random in random_bytes(), cut in 1usize..70) {
        let key = generate_secret_key(env, &random).secret;
        prop_assert!(parse_secret_key(&key[..key.len() - cut]).is_err());
        let longer = format!("{}A", key);
        prop_assert!(parse_secret_key(&longer).is_err());
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,90}") {
        let _ = parse_secret_key(&s);
        let _ = Cursor::decode(&s, ListKind::Users);
    }

    #[test]
    fn cursors_round_trip(t in any::<i64>(), id in "[A-Za-z0-9_:@.-]{1,64}") {
        let c = Cursor { created_at: t, id };
        prop_assert_eq!(Cursor::decode(&c.encode(ListKind::Users), ListKind::Users).unwrap(), c.clone());
        prop_assert!(Cursor::decode(&c.encode(ListKind::Users), ListKind::Sessions).is_err());
    }

    #[test]
    fn merge_patch_is_idempotent_and_drops_nulls(base in json_object(), patch in json_object()) {
        let mut once = base.clone();
        merge_patch(&mut once, &patch);
        let mut twice = once.clone();
        merge_patch(&mut twice, &patch);
        prop_assert_eq!(&once, &twice);
        for (k, v) in &patch {
            match v {
                Value::Null => prop_assert!(!once.contains_key(k)),
                Value::Object(_) => prop_assert!(once[k].is_object()),
                other => prop_assert_eq!(&once[k], other),
            }
        }
        prop_assert!(!has_null_from(&once, &patch));
    }
}

/// Whether a `null` of `patch` landed in `merged` (under an object of the patch).
fn has_null_from(merged: &Map<String, Value>, patch: &Map<String, Value>) -> bool {
    patch.iter().any(|(k, v)| match (v, merged.get(k)) {
        (Value::Object(p), Some(Value::Object(m))) => has_null_from(m, p),
        (Value::Null, Some(_)) => true,
        _ => false,
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-c]", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    proptest::collection::btree_map("[a-d]", value, 0..4).prop_map(|m| m.into_iter().collect())
}
