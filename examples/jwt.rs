//! A small command-line front to the core, used by the jose interop tests
//! (`tests/interop/`) and handy for debugging.
//!
//! ```text
//! cargo run --example jwt -- sign <seed-hex> [typ] < claims.json    # prints a compact JWT
//! cargo run --example jwt -- jwks <seed-hex>                        # prints the public JWKS
//! cargo run --example jwt -- verify <jwks-file> <issuer> <now> [audience] < token
//!     # prints the verified claims as JSON, or `error: <code>` and exits 1
//! ```

use std::io::Read;
use std::process::ExitCode;
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, Verifier};

fn seed(hex: &str) -> Result<[u8; 32], String> {
    let bytes: Result<Vec<u8>, _> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .ok_or(())
                .and_then(|h| u8::from_str_radix(h, 16).map_err(|_| ()))
        })
        .collect();
    bytes
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "seed must be 64 hex digits".into())
}

fn stdin() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| e.to_string())?;
    Ok(s.trim().to_string())
}

fn run(args: &[String]) -> Result<String, String> {
    match args {
        [cmd, seed_hex, rest @ ..] if cmd == "sign" => {
            let key = SigningKey::from_seed(&seed(seed_hex)?);
            let claims: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&stdin()?).map_err(|e| e.to_string())?;
            Ok(key.sign_jwt(rest.first().map(String::as_str), &claims))
        }
        [cmd, seed_hex] if cmd == "jwks" => {
            let key = SigningKey::from_seed(&seed(seed_hex)?);
            Ok(Jwks::from_keys(vec![key.public_jwk()]).to_json())
        }
        [cmd, jwks_file, issuer, now, rest @ ..] if cmd == "verify" => {
            let doc = std::fs::read(jwks_file).map_err(|e| e.to_string())?;
            let jwks = Jwks::from_json(&doc).map_err(|e| format!("error: {}", e.code()))?;
            let mut policy = Policy::new(issuer);
            if let Some(aud) = rest.first() {
                policy = policy.with_audience(aud);
            }
            let now: i64 = now.parse().map_err(|_| "now must be an integer".to_string())?;
            let verified = Verifier::new(jwks, policy)
                .verify(&stdin()?, UnixTime(now))
                .map_err(|e| format!("error: {}", e.code()))?;
            serde_json::to_string(verified.claims()).map_err(|e| e.to_string())
        }
        _ => Err("usage: jwt sign <seed-hex> [typ] | jwt jwks <seed-hex> | jwt verify <jwks-file> <issuer> <now> [aud]".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}
