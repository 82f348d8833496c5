//! The vector checks of `tests/vectors.rs`, run in wasm32-unknown-unknown (the target the
//! Worker and the npm package ship) under `wasm-bindgen-test-runner` in Node:
//! `make wasm-vectors`, once per signature backend. The vectors are compiled in (there is
//! no file system in wasm32-unknown-unknown).
#![cfg(target_arch = "wasm32")]

mod vector_checks;

use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[wasm_bindgen_test]
fn wycheproof_ed25519_every_vector_gives_its_expected_result_in_wasm() {
    vector_checks::wycheproof_ed25519(&parse(include_str!(
        "data/vectors/wycheproof/ed25519_test.json"
    )));
}

#[wasm_bindgen_test]
fn rfc8037_signs_byte_for_byte_and_thumbprint_matches_in_wasm() {
    let v = parse(include_str!("data/vectors/rfc8037.json"));
    vector_checks::rfc8037_sign_and_thumbprint(&v);
    vector_checks::rfc8037_private_jwk_refused(&v);
}

#[wasm_bindgen_test]
fn speccheck_ed25519_only_the_cofactorless_valid_case_is_accepted_in_wasm() {
    vector_checks::speccheck_ed25519(&parse(include_str!("data/vectors/speccheck/cases.json")));
}
