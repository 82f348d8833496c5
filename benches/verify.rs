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
//! Also timed in the same rounds: with the default `dalek` backend (not with
//! `--no-default-features --features std`, the reference backend), raw `ed25519-dalek` `verify`
//! (that backend's floor: the primitive it calls) and `verify_strict` (for reference);
//! the per-request gateway decision of `examples/perf_guard.rs` (routing, token
//! extraction, policy, claims headers, the assertion's signing input, the forwarded header list:
//! everything but the signatures, which are WebCrypto's at the edge); and one
//! `SigningKey::sign_raw` (the edge assertion's signature). `-- --json FILE` also writes
//! every figure as JSON (read by `benches/report.mjs`); `-- --quick` (or `BENCH_QUICK=1`) runs a tenth of the rounds.
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
use common::{run_rounds, Args, Case};

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
    let args = Args::parse();
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

    // (a) raw ed25519-compact over the signing input, under the key prepared once (its
    // point decoded on load, as the core keeps it: vendor/ed25519-compact/TORII-PATCH.md),
    // so that (b) / (a) is the core's own cost.
    let parsed = UntrustedToken::parse(token, usize::MAX).unwrap();
    let signing_input: &'static [u8] = parsed.signing_input().as_bytes();
    let sig_b64 = token.rsplit('.').next().unwrap();
    let sig_bytes: [u8; 64] = torii_edge::b64::decode_array(sig_b64).unwrap();
    let raw_pk = ed25519_compact::PublicKey::new(pk_bytes).prepare().unwrap();
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

    // (h) the gateway decision around the signatures; (i) the assertion's signature.
    let gateway = gateway_decision(&key, token, now);
    let signer = key.clone();
    let sign = move || {
        black_box(signer.sign_raw(black_box(signing_input)));
        true
    };

    let mut cases = vec![
        Case::new("(a) raw ed25519-compact verify", raw),
        Case::new("(b) torii-edge Verifier::verify", ours),
        Case::new("(c) jwt-simple 0.15 verify_token", jwt_simple),
        Case::new("(d) jsonwebtoken 11 decode", jsonwebtoken),
        Case::new("(e) UntrustedToken::parse", parse),
        Case::new("(f) claims JSON parse", claims_json),
        Case::new("(g) verify_untrusted (pre-parsed)", untrusted),
        Case::new("(h) gateway decision (no signature)", gateway),
        Case::new("(i) SigningKey::sign_raw (assertion)", sign),
    ];
    #[cfg_attr(not(feature = "dalek"), allow(unused_mut))]
    let mut ids = vec![
        "raw",
        "ours",
        "jwt_simple",
        "jsonwebtoken",
        "parse",
        "claims",
        "untrusted",
        "gateway",
        "sign",
    ];
    // With the dalek backend, the raw primitive it calls (the floor of ours in that
    // build): the cofactorless `verify`, strict behind the verifier's checks
    // (src/crypto/mod.rs); and `verify_strict`, which also decompresses `R`, for reference.
    #[cfg(feature = "dalek")]
    {
        use ed25519_dalek::Verifier as _;
        let dk = ed25519_dalek::VerifyingKey::from_bytes(&pk_bytes).unwrap();
        let ds = ed25519_dalek::Signature::from_bytes(&sig_bytes);
        cases.push(Case::new("(j) raw ed25519-dalek verify", move || {
            dk.verify(black_box(signing_input), black_box(&ds)).is_ok()
        }));
        ids.push("raw_backend");
        cases.push(Case::new(
            "(k) raw ed25519-dalek verify_strict",
            move || {
                dk.verify_strict(black_box(signing_input), black_box(&ds))
                    .is_ok()
            },
        ));
        ids.push("raw_strict");
    }
    for c in &mut cases {
        assert!(
            (c.run)(),
            "{} must verify the token before it is timed",
            c.name
        );
    }
    assert!(verifier.verify(&tamper(token), now).is_err());

    let plan = args.plan(BATCH_NS, BATCHES, WARMUP);
    run_rounds(&mut cases, &plan);

    // The raw verify of the backend ours uses: (j) with dalek, (a) otherwise.
    let raw_backend = if cfg!(feature = "dalek") {
        cases.len() - 2
    } else {
        0
    };
    let raw_ns = cases[raw_backend].median();
    let ours_ns = cases[1].median();
    let ratios: Vec<f64> = cases.iter().map(|c| c.paired_ratio(&cases[0])).collect();
    println!();
    println!(
        "Token: {} bytes (header kid = 43-char thumbprint, 10 claims)",
        token.len()
    );
    println!(
        "Medians over {} rounds; each round times every case for ~{} ms, order rotating.",
        plan.rounds,
        plan.batch_ns / 1_000_000
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
    let ratio = cases[1].paired_ratio(&cases[raw_backend]);
    println!();
    println!(
        "**Ours / raw {} = {ratio:.3}×** (target ≤ 1.05×): {}; overhead ≈ {:.0} ns/op",
        cases[raw_backend].name,
        if ratio <= 1.05 { "PASS" } else { "FAIL" },
        ours_ns - raw_ns
    );

    let backend = if cfg!(feature = "dalek") {
        "ed25519-dalek"
    } else {
        "ed25519-compact"
    };
    args.write_json(&serde_json::json!({
        "bench": "native-verify",
        "backend": backend,
        "quick": args.quick,
        "token_bytes": token.len(),
        "rounds": plan.rounds,
        "batch_ms": plan.batch_ns as f64 / 1e6,
        "cases": cases
            .iter()
            .zip(&ids)
            .map(|(c, id)| c.to_json(id, &cases[0]))
            .collect::<Vec<_>>(),
        "paired": {
            "ours_vs_raw_backend": cases[1].paired_ratio(&cases[raw_backend]),
            "ours_vs_jsonwebtoken": cases[1].paired_ratio(&cases[3]),
            "gateway_vs_sign": cases[7].paired_ratio(&cases[8]),
        },
    }));
}

/// The per-request gateway decision (`benches/common/gateway.rs`, also what
/// `examples/perf_guard.rs` counts) for one request carrying `token`.
fn gateway_decision(key: &SigningKey, token: &'static str, now: UnixTime) -> impl FnMut() -> bool {
    let case = common::gateway::GatewayCase::new(key, ISSUER, token, "bench/1");
    move || case.decide(now)
}

/// The token with one signature character changed (still canonical base64url).
fn tamper(token: &str) -> String {
    let mut t = token.to_string();
    let i = t.len() - 10;
    let c = if &t[i..=i] == "A" { "B" } else { "A" };
    t.replace_range(i..=i, c);
    t
}
