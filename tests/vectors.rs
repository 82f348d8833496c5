//! Vectors as data: Wycheproof Ed25519, RFC 8037 Appendix A and the speccheck edge cases,
//! vendored in `tests/data/vectors/`.
//! The checks live in `vector_checks` and run in wasm32 too (`tests/wasm_vectors.rs`).
//! `make test` runs these once per signature backend: default features (ed25519-compact)
//! and `--all-features` (dalek).

mod vector_checks;

use serde_json::Value;

fn vector(path: &str) -> Value {
    let full = format!("{}/tests/data/vectors/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn wycheproof_ed25519_every_vector_gives_its_expected_result() {
    vector_checks::wycheproof_ed25519(&vector("wycheproof/ed25519_test.json"));
}

#[test]
fn rfc8037_signs_byte_for_byte_and_thumbprint_matches() {
    vector_checks::rfc8037_sign_and_thumbprint(&vector("rfc8037.json"));
}

#[test]
fn rfc8037_private_jwk_is_refused_as_a_verification_key() {
    vector_checks::rfc8037_private_jwk_refused(&vector("rfc8037.json"));
}

#[test]
fn speccheck_ed25519_only_the_cofactorless_valid_case_is_accepted() {
    vector_checks::speccheck_ed25519(&vector("speccheck/cases.json"));
}
