//! The per-request gateway decision both `benches/verify.rs` (timed) and
//! `examples/perf_guard.rs` (instruction-counted by `make perf-guard`) measure, so the two
//! measure the same thing: path normalization, route matching, token extraction, issuer
//! selection and policy, the claims check without the signature equation (WebCrypto's at
//! the edge), claims headers, the assertion's signing input and identity hash, and the
//! header list the origin receives.

use std::hint::black_box;
use torii_edge::edge::assertion::{edge_assertion_signing_input, Binding};
use torii_edge::edge::authn::{
    check_template, pick_issuer, session_verifier, tenant_verifier, Issuer,
};
use torii_edge::edge::extract::request_token;
use torii_edge::edge::headers::{claims_headers, forwarded_headers, ForwardContext};
use torii_edge::edge::path::normalize_path;
use torii_edge::edge::routing::{Access, Route, RouteTable};
use torii_edge::{Jwks, SigningKey, UnixTime, UntrustedToken, Verifier};

/// One request's inputs, prepared once: the route table, the request's headers (a bearer
/// token, a spoofed `x-torii-*` header, a client's `x-forwarded-for`) and the tenant's keys.
pub struct GatewayCase {
    issuer: String,
    routes: RouteTable,
    auth: String,
    inbound: Vec<(String, String)>,
    session: Verifier,
}

impl GatewayCase {
    /// The case for a request carrying `token`, signed by `key` for `issuer` (the tenant's).
    pub fn new(key: &SigningKey, issuer: &str, token: &str, user_agent: &str) -> Self {
        let routes = RouteTable::from_json(
            br#"[{"path":"/public/**","access":"public"},{"path":"/admin/**","access":"required","roles":["admin"]},{"path":"/api/*/items/**","methods":["GET","POST"],"access":"required"}]"#,
        )
        .expect("routes");
        let auth = format!("Bearer {token}");
        let inbound = [
            ("accept", "application/json"),
            ("authorization", auth.as_str()),
            ("user-agent", user_agent),
            ("x-torii-user-id", "spoofed"),
            ("x-forwarded-for", "6.6.6.6"),
            ("cookie", "theme=dark"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        Self {
            issuer: issuer.to_string(),
            routes,
            session: session_verifier(Jwks::from_keys(vec![key.public_jwk()]), issuer),
            auth,
            inbound,
        }
    }

    /// One decision at `now`; `true` when every step succeeded.
    pub fn decide(&self, now: UnixTime) -> bool {
        let path = normalize_path(black_box("/api/v1/items/42/../43")).expect("path");
        let access = match self.routes.route("GET", &path) {
            Route::Origin(Some(rule)) => rule.access.clone(),
            _ => Access::Public,
        };
        let raw = request_token(Some(black_box(&self.auth)), None)
            .ok()
            .flatten()
            .expect("token");
        let untrusted = UntrustedToken::parse(raw, 8192).expect("parse");
        assert!(matches!(
            pick_issuer(&untrusted, "demo", &self.issuer, &[]),
            Ok(Issuer::Tenant)
        ));
        // The tenant's session verifier is built once per key set (per isolate), as the
        // Worker does; a template route's policy would get its own here.
        let verifier = tenant_verifier(&self.session, &self.issuer, untrusted.typ(), &access);
        // The signature equation is WebCrypto's at the edge: not part of the decision.
        let check = verifier.prepare(&untrusted).expect("prepare");
        let claims = check.complete(true, now).expect("claims");
        check_template(untrusted.typ(), &claims, &access).expect("template rule");
        let added = claims_headers(&claims, "demo").expect("headers");
        let identity: Vec<(&str, &str)> = added.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = format!("http://127.0.0.1:9000{path}");
        // The assertion's signing input (what the Worker hands WebCrypto to sign), its
        // identity hash computed inside it.
        let assertion = edge_assertion_signing_input(
            "kid-1",
            &self.issuer,
            "http://127.0.0.1:9000",
            Binding {
                method: "GET",
                url: &url,
                identity: &identity,
            },
            claims.sub(),
            now,
            60,
        );
        let hashed = assertion.split_once('.').is_some();
        // The origin's headers as the Worker's plan carries them: what of the inbound
        // ones is dropped, and what the edge adds.
        let out = forwarded_headers(
            &self.inbound,
            &ForwardContext {
                request_id: "rid",
                host: Some("demo.torii.test"),
                proto: "https",
                client_ip: Some("203.0.113.9"),
            },
            added,
        );
        hashed && out.add.len() > 5 && !out.drop.is_empty()
    }
}
