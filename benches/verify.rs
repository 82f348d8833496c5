//! Verification cost of one realistic ~400-byte EdDSA JWT, ours against raw Ed25519 and
//! two peer crates.
//!
//! `cargo bench --bench verify` (harness = false: plain `main`, no criterion). Every case
//! verifies the same token once (asserted) before timing. Cases run round-robin in short
//! batches of ~`BATCH_NS` (the order rotating each round), so noise from a shared machine
//! hits them alike. The table reports, per case, the median ns/op over the rounds and the
//! median of its per-round ratio to raw `ed25519-compact` timed in the same round (paired,
//! so load drifting over the run cancels out).
//!
//! Peer crates (dev-dependencies, pure-Rust backends):
//! * `jwt-simple` 0.15, `default-features = false, features = ["pure-rust"]`
//!   (EdDSA through `ed25519-compact`, like ours);
//! * `jsonwebtoken` 11, `default-features = false, features = ["rust_crypto"]`
//!   (EdDSA through `ed25519-dalek`; `aws_lc_rs` would need cmake and a C toolchain).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
#![allow(missing_docs)]

mod common;
use common::{run_rounds, Case, Plan};

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, UntrustedToken, Verifier};

const ISSUER: &str = "https://t.io";
/// Target wall time of one timed batch.
const BATCH_NS: u128 = 5_000_000;
/// Timed rounds (one batch of every case each; medians are reported).
const BATCHES: usize = 301;
/// Warmup per case before sizing the batches.
const WARMUP: Duration = Duration::from_millis(300);

/// Claims of a realistic session token (`sign_jwt` sorts keys: serde_json `Map` is a
/// `BTreeMap` here). `azp` is left out: with a 43-character thumbprint `kid` in the header
/// and every other claim present, it would push the token past 410 bytes.
fn claims(now: i64) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), ISSUER.into());
    c.insert("sub".into(), "user_2".into());
    c.insert("sid".into(), "s_1".into());
    c.insert("pid".into(), "p_1".into());
    c.insert("iat".into(), now.into());
    c.insert("nbf".into(), (now - 5).into());
    c.insert("exp".into(), (now + 3600).into());
    c.insert("aal".into(), "aal1".into());
    c.insert("org_id".into(), "o_1".into());
    c.insert("org_role".into(), "admin".into());
    c
}

fn main() {
    // Real time: `jsonwebtoken` checks `exp`/`nbf` against the system clock.
    let now_secs = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let now = UnixTime(now_secs);

    let key = SigningKey::from_seed(&[42u8; 32]);
    assert_eq!(key.kid().len(), 43, "kid is the RFC 7638 thumbprint");
    let token: &'static str = Box::leak(
        key.sign_jwt(Some("JWT"), &claims(now_secs))
            .into_boxed_str(),
    );
    assert!(
        (390..=410).contains(&token.len()),
        "token is {} bytes",
        token.len()
    );
    let pk_bytes = key.public_jwk().public_key_bytes();

    // (a) raw ed25519-compact over the signing input.
    let parsed = UntrustedToken::parse(token, usize::MAX).unwrap();
    let signing_input: &'static [u8] = parsed.signing_input().as_bytes();
    let sig_b64 = token.rsplit('.').next().unwrap();
    let sig_bytes: [u8; 64] = torii_edge::b64::decode_array(sig_b64).unwrap();
    let raw_pk = ed25519_compact::PublicKey::new(pk_bytes);
    let raw_sig = ed25519_compact::Signature::new(sig_bytes);
    let raw = move || {
        raw_pk
            .verify(black_box(signing_input), black_box(&raw_sig))
            .is_ok()
    };

    // (b) ours, end to end.
    let verifier = Verifier::new(Jwks::from_keys(vec![key.public_jwk()]), Policy::new(ISSUER));
    let v_full = verifier.clone();
    let ours = move || v_full.verify(black_box(token), now).is_ok();

    // (e) parse alone; (f) claims work alone: payload JSON parse (`claims_unverified`),
    // and everything after parsing (`verify_untrusted`: typ, key, signature, claims).
    let parse = move || UntrustedToken::parse(black_box(token), 8 * 1024).is_ok();
    let parsed_f = parsed.clone();
    let claims_json = move || black_box(&parsed_f).claims_unverified().is_ok();
    let parsed_g = parsed.clone();
    let v_untrusted = verifier.clone();
    let untrusted = move || {
        v_untrusted
            .verify_untrusted(black_box(&parsed_g), now)
            .is_ok()
    };

    // (c) jwt-simple.
    use jwt_simple::prelude::{Ed25519PublicKey, EdDSAPublicKeyLike, VerificationOptions};
    let js_pk = Ed25519PublicKey::from_bytes(&pk_bytes).unwrap();
    let js_opts = VerificationOptions {
        allowed_issuers: Some([ISSUER.to_string()].into_iter().collect()),
        ..VerificationOptions::default()
    };
    let jwt_simple = move || {
        js_pk
            .verify_token::<Map<String, Value>>(black_box(token), Some(js_opts.clone()))
            .is_ok_and(|c| c.subject.is_some())
    };

    // (d) jsonwebtoken.
    let jw_key = jsonwebtoken::DecodingKey::from_ed_der(&pk_bytes);
    let mut jw_val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    jw_val.set_issuer(&[ISSUER]);
    jw_val.set_required_spec_claims(&["exp", "iss", "sub"]);
    jw_val.validate_nbf = true;
    let jsonwebtoken = move || {
        jsonwebtoken::decode::<Map<String, Value>>(black_box(token), &jw_key, &jw_val).is_ok()
    };

    let mut cases = vec![
        Case::new("(a) raw ed25519-compact verify", raw),
        Case::new("(b) torii-edge Verifier::verify", ours),
        Case::new("(c) jwt-simple 0.15 verify_token", jwt_simple),
        Case::new("(d) jsonwebtoken 11 decode", jsonwebtoken),
        Case::new("(e) UntrustedToken::parse", parse),
        Case::new("(f) claims JSON parse", claims_json),
        Case::new("(g) verify_untrusted (pre-parsed)", untrusted),
    ];
    for c in &mut cases {
        assert!(
            (c.run)(),
            "{} must verify the token before it is timed",
            c.name
        );
    }
    assert!(verifier.verify(&tamper(token), now).is_err());

    let plan = Plan {
        batch_ns: BATCH_NS,
        rounds: BATCHES,
        warmup: WARMUP,
    };
    run_rounds(&mut cases, &plan);

    let raw_ns = cases[0].median();
    let ours_ns = cases[1].median();
    let ratios: Vec<f64> = cases.iter().map(|c| c.paired_ratio(&cases[0])).collect();
    println!();
    println!(
        "Token: {} bytes (header kid = 43-char thumbprint, 10 claims)",
        token.len()
    );
    println!(
        "Medians over {BATCHES} rounds; each round times every case for ~{} ms, order rotating.",
        BATCH_NS / 1_000_000
    );
    println!();
    println!("| case | ns/op (median) | vs raw (paired median) | ±IQR/2 |");
    println!("|---|---:|---:|---:|");
    for (c, r) in cases.iter().zip(&ratios) {
        println!(
            "| {} | {:.0} | {:.3}× | {:.1}% |",
            c.name,
            c.median(),
            r,
            c.spread() * 100.0
        );
    }
    let ratio = ratios[1];
    println!();
    println!(
        "**Ours / raw = {ratio:.3}×** (target ≤ 1.10×): {}; overhead ≈ {:.0} ns/op",
        if ratio <= 1.10 { "PASS" } else { "FAIL" },
        ours_ns - raw_ns
    );
}

/// The token with one signature character changed (still canonical base64url).
fn tamper(token: &str) -> String {
    let mut t = token.to_string();
    let i = t.len() - 10;
    let c = if &t[i..=i] == "A" { "B" } else { "A" };
    t.replace_range(i..=i, c);
    t
}
