//! A small command-line front to the core, used by the jose interop tests
//! (`tests/interop/`) and handy for debugging.
//!
//! ```text
//! cargo run --example jwt -- sign <seed-hex> [typ] < claims.json    # prints a compact JWT
//! cargo run --example jwt -- jwks <seed-hex>                        # prints the public JWKS
//! cargo run --example jwt -- verify <jwks-file> <issuer> <now> [audience] < token
//!     # prints the verified claims as JSON, or `error: <code>` and exits 1
//! cargo run --example jwt -- mint <seed-hex> <now> < input.json
//!     # input: {"issuer", "tenant", "session", "user": {"id", "email", "email_verified",
//!     #   "first_name", "last_name", "public_metadata", "unsafe_metadata",
//!     #   "private_metadata"}, "template"?, "template_name"?, "template_lifetime"?, "lifetime"?}
//!     # with "template": a template token, else a session token; prints
//!     # {"accessToken", "expiresAt"} or `error: <code>`
//! ```

use serde_json::{Map, Value};
use std::io::Read;
use std::process::ExitCode;
use torii_edge::{
    mint_session_token, mint_template_token, Jwks, Policy, SessionInput, SigningKey, Template,
    UnixTime, User, Verifier,
};

fn user_from(v: &Value) -> Result<User, String> {
    let err = |e: torii_edge::UserError| format!("error: {}", e.code());
    let s = |name: &str| v.get(name).and_then(Value::as_str);
    let bag = |name: &str| -> Map<String, Value> {
        v.get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let mut user = User::new(s("id").unwrap_or_default()).map_err(err)?;
    let verified = v.get("email_verified").and_then(Value::as_bool) == Some(true);
    user.set_email(s("email"), verified).map_err(err)?;
    user.set_names(s("first_name"), s("last_name"))
        .map_err(err)?;
    user.set_public_metadata(bag("public_metadata"))
        .map_err(err)?;
    user.set_unsafe_metadata(bag("unsafe_metadata"))
        .map_err(err)?;
    user.set_private_metadata(bag("private_metadata"))
        .map_err(err)?;
    Ok(user)
}

fn mint(seed_hex: &str, now: &str) -> Result<String, String> {
    let key = SigningKey::from_seed(&seed(seed_hex)?);
    let now = UnixTime(
        now.parse()
            .map_err(|_| "now must be an integer".to_string())?,
    );
    let input: Value = serde_json::from_str(&stdin()?).map_err(|e| e.to_string())?;
    let field = |name: &str| input.get(name).and_then(Value::as_str).unwrap_or_default();
    let user = user_from(input.get("user").unwrap_or(&Value::Null))?;
    let session = SessionInput::new(field("issuer"), field("tenant"), &user, field("session"));
    let lifetime = input.get("lifetime").and_then(Value::as_i64).unwrap_or(60);
    let minted = match input.get("template") {
        Some(t) => {
            let code = |e: torii_edge::TemplateError| format!("error: {}", e.code());
            let mut template = Template::parse(t.to_string().as_bytes()).map_err(code)?;
            if let Some(secs) = input.get("template_lifetime").and_then(Value::as_i64) {
                template = template.with_lifetime(secs).map_err(code)?;
            }
            let name = input
                .get("template_name")
                .and_then(Value::as_str)
                .unwrap_or("template");
            mint_template_token(&key, &session, name, &template, now, lifetime, None)
        }
        None => mint_session_token(&key, &session, None, now, lifetime, None),
    };
    minted
        .map(|m| m.to_json())
        .map_err(|e| format!("error: {}", e.code()))
}

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
        [cmd, seed_hex, now] if cmd == "mint" => mint(seed_hex, now),
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
