//! The work `make perf-guard` counts instructions of (under valgrind, so the count is the
//! same on any load): one native verify of a first-seen token, and the per-request gateway
//! decision around it (path normalization, route matching, token extraction, issuer
//! selection and policy, claims headers, the assertion's claims and identity hash, the
//! header list the origin receives), without the signature equation (WebCrypto's, at the
//! edge).
//!
//! ```text
//! cargo run --release --example perf_guard -- verify 1000    # 1000 full verifies
//! cargo run --release --example perf_guard -- gateway 1000   # 1000 gateway decisions
//! ```

use std::process::ExitCode;
use torii_edge::edge::assertion::{edge_assertion_claims, identity_hash, Binding};
use torii_edge::edge::authn::{check_template, pick_issuer, tenant_policy, Issuer};
use torii_edge::edge::extract::request_token;
use torii_edge::edge::headers::{claims_headers, forward_headers, ForwardContext};
use torii_edge::edge::routing::{normalize_path, Access, Route, RouteTable};
use torii_edge::{Jwks, Policy, SigningKey, UnixTime, UntrustedToken, Verifier};

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
            let routes = RouteTable::from_json(
                br#"[{"path":"/public/**","access":"public"},{"path":"/admin/**","access":"required","roles":["admin"]},{"path":"/api/*/items/**","methods":["GET","POST"],"access":"required"}]"#,
            )
            .expect("routes");
            let auth = format!("Bearer {tok}");
            let inbound: Vec<(String, String)> = [
                ("accept", "application/json"),
                ("authorization", auth.as_str()),
                ("user-agent", "perf-guard/1"),
                ("x-torii-user-id", "spoofed"),
                ("x-forwarded-for", "6.6.6.6"),
                ("cookie", "theme=dark"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
            let verifier_keys = jwks;
            for _ in 0..n {
                let path = normalize_path("/api/v1/items/42/../43").expect("path");
                let access = match routes.route("GET", &path) {
                    Route::Origin(Some(rule)) => rule.access.clone(),
                    _ => Access::Public,
                };
                let raw = request_token(Some(&auth), None)
                    .ok()
                    .flatten()
                    .expect("token");
                let untrusted = UntrustedToken::parse(raw, 8192).expect("parse");
                assert!(matches!(
                    pick_issuer(&untrusted, "demo", ISS, &[]),
                    Ok(Issuer::Tenant)
                ));
                let verifier = Verifier::new(
                    verifier_keys.clone(),
                    tenant_policy(ISS, untrusted.typ(), &access),
                );
                // The signature equation is WebCrypto's at the edge: not counted here.
                let check = verifier.prepare(&untrusted).expect("prepare");
                let claims = check.complete(true, UnixTime(NOW)).expect("claims");
                check_template(untrusted.typ(), &claims, &access).expect("template rule");
                let added = claims_headers(&claims, "demo").expect("headers");
                let identity: Vec<(&str, &str)> =
                    added.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let url = format!("http://127.0.0.1:9000{path}");
                let assertion = edge_assertion_claims(
                    ISS,
                    "http://127.0.0.1:9000",
                    Binding {
                        method: "GET",
                        url: &url,
                        identity: &identity,
                    },
                    claims.sub(),
                    UnixTime(NOW),
                    60,
                );
                ok += u32::from(identity_hash(&identity).is_some() && !assertion.is_empty());
                let out = forward_headers(
                    &inbound,
                    &ForwardContext {
                        request_id: "rid",
                        host: Some("demo.torii.test"),
                        proto: "https",
                        client_ip: Some("203.0.113.9"),
                    },
                    added,
                );
                ok += u32::from(out.len() > 5) - 1;
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
