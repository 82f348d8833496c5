//! The work `make perf-guard` counts instructions of (under valgrind, so the count is the
//! same on any load): one native verify of a first-seen token, and the per-request gateway
//! decision around it (path normalization, route matching, token extraction, issuer
//! selection and policy, claims headers, the assertion's signing input and identity hash, the
//! header list the origin receives), without the signature equation (WebCrypto's, at the
//! edge).
//!
//! ```text
//! cargo run --release --example perf_guard -- verify 1000    # 1000 full verifies
//! cargo run --release --example perf_guard -- gateway 1000   # 1000 gateway decisions
//! ```

// The decision itself, shared with the timed bench (benches/verify.rs).
#[path = "../benches/common/gateway.rs"]
mod gateway;

use std::process::ExitCode;
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, Verifier};

const ISS: &str = "https://demo.torii.test";
const NOW: i64 = 1_800_000_000;

fn token(key: &SigningKey) -> String {
    let mut c = serde_json::Map::new();
    c.insert("iss".into(), ISS.into());
    c.insert("sub".into(), "user_2abc".into());
    c.insert("sid".into(), "sess_2abc".into());
    c.insert("pid".into(), "demo".into());
    c.insert("org_id".into(), "org_1".into());
    c.insert("org_role".into(), "admin".into());
    c.insert("iat".into(), NOW.into());
    c.insert("exp".into(), (NOW + 60).into());
    key.sign_jwt(Some("JWT"), &c)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("verify");
    let n: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let key = SigningKey::from_seed(&[7u8; 32]);
    let jwks = Jwks::from_keys(vec![key.public_jwk()]);
    let tok = token(&key);
    let mut ok = 0u32;
    match mode {
        "verify" => {
            let verifier = Verifier::new(jwks, Policy::new(ISS));
            for _ in 0..n {
                ok += u32::from(verifier.verify(&tok, UnixTime(NOW)).is_ok());
            }
        }
        "gateway" => {
            let case = gateway::GatewayCase::new(&key, ISS, &tok, "perf-guard/1");
            for _ in 0..n {
                ok += u32::from(case.decide(UnixTime(NOW)));
            }
        }
        other => {
            eprintln!("unknown mode {other}: verify or gateway");
            return ExitCode::FAILURE;
        }
    }
    if ok != n {
        eprintln!("only {ok} of {n} succeeded");
        return ExitCode::FAILURE;
    }
    println!("{mode}: {n} ok");
    ExitCode::SUCCESS
}
