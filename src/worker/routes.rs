//! The edge's routes as a pure function: method, path and configuration in, a [`Reply`]
//! out. No Worker types here, so every rule is unit-tested natively.

use crate::{derive_signing_seed, discovery_document, Jwks, SigningKey};
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

/// Path of the OIDC discovery document.
pub(crate) const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the JWKS, relative to the issuer.
pub(crate) const JWKS_PATH: &str = "/_torii/.well-known/jwks.json";
/// The demo tenant served by `make dev` (real tenants come from D1 in a later step).
pub(crate) const DEMO_TENANT: &str = "demo";
/// Version of the demo tenant's signing key.
pub(crate) const DEMO_KEY_VERSION: u32 = 1;
/// Minimum length of `TORII_MASTER_SECRET`, in bytes.
pub(crate) const MIN_SECRET_BYTES: usize = 32;
/// `Cache-Control` of the public documents.
pub(crate) const PUBLIC_CACHE_CONTROL: &str = "public, max-age=300";

/// What the Worker reads from its environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// `TORII_ISSUER`: the issuer URL; when absent or empty, the request's origin is used.
    pub(crate) issuer: Option<String>,
    /// `TORII_MASTER_SECRET`: its UTF-8 bytes are the HKDF input key material.
    pub(crate) master_secret: Option<String>,
}

/// An HTTP response, independent of the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// Status code.
    pub(crate) status: u16,
    /// Header names and values, in order.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Body (`None` for an empty body).
    pub(crate) body: Option<String>,
}

impl Reply {
    fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-content-type-options", "nosniff".into()),
            ],
            body: Some(body),
        }
    }

    /// An error body `{"code": …, "message": …}`, never cached.
    fn error(status: u16, code: &str, message: &str) -> Self {
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        let mut reply = Self::json(status, body);
        reply.headers.push(("cache-control", "no-store".into()));
        reply
    }

    /// Public documents may be read from any origin (they carry no credentials).
    fn with_cors(mut self) -> Self {
        self.headers
            .push(("access-control-allow-origin", "*".into()));
        self
    }

    /// The value of header `name` (lower case), if set.
    #[cfg(test)]
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The issuer: `TORII_ISSUER` when set, else the request's origin; without a trailing `/`.
pub(crate) fn issuer<'a>(config: &'a Config, request_origin: &'a str) -> &'a str {
    let issuer = match config.issuer.as_deref() {
        Some(configured) if !configured.trim().is_empty() => configured.trim(),
        _ => request_origin,
    };
    issuer.trim_end_matches('/')
}

/// The demo tenant's signing key, derived from the master secret; `Err` is the reply
/// to send when the secret is missing or too short (fail closed).
pub(crate) fn demo_signing_key(config: &Config) -> Result<SigningKey, Reply> {
    let secret = match config.master_secret.as_deref() {
        Some(secret) if secret.len() >= MIN_SECRET_BYTES => secret,
        Some(_) => {
            return Err(Reply::error(
                500,
                "misconfigured",
                "TORII_MASTER_SECRET is shorter than 32 bytes",
            ))
        }
        None => {
            return Err(Reply::error(
                500,
                "misconfigured",
                "TORII_MASTER_SECRET is not set",
            ))
        }
    };
    let seed = derive_signing_seed(secret.as_bytes(), DEMO_TENANT, DEMO_KEY_VERSION);
    Ok(SigningKey::from_seed(&seed))
}

/// Routes one request. `keys` is called only by routes that need the signing keys, so a
/// missing secret does not break unrelated routes.
pub(crate) fn route(
    method: &str,
    path: &str,
    request_origin: &str,
    config: &Config,
    keys: impl FnOnce(&Config) -> Result<Vec<SigningKey>, Reply>,
) -> Reply {
    let public = path == DISCOVERY_PATH || path == JWKS_PATH;
    if !public {
        return Reply::error(404, "not_found", "no route for this path");
    }
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" => return preflight(),
        _ => {
            let mut reply = Reply::error(
                405,
                "method_not_allowed",
                "only GET, HEAD and OPTIONS are allowed",
            )
            .with_cors();
            reply.headers.push(("allow", "GET, HEAD, OPTIONS".into()));
            return reply;
        }
    }
    let body = if path == DISCOVERY_PATH {
        let issuer = issuer(config, request_origin);
        let jwks_uri = alloc::format!("{issuer}{JWKS_PATH}");
        discovery_document(issuer, &jwks_uri)
    } else {
        match keys(config) {
            Ok(keys) => {
                Jwks::from_keys(keys.iter().map(SigningKey::public_jwk).collect()).to_json()
            }
            Err(reply) => return reply.with_cors(),
        }
    };
    let mut reply = Reply::json(200, body).with_cors();
    reply
        .headers
        .push(("cache-control", PUBLIC_CACHE_CONTROL.into()));
    reply
}

/// The reply when the runtime failed under us (details go to the log, not the client).
pub(crate) fn internal_error() -> Reply {
    Reply::error(500, "internal_error", "internal error")
}

/// CORS preflight for the public documents.
fn preflight() -> Reply {
    Reply {
        status: 204,
        headers: vec![
            ("access-control-allow-origin", "*".into()),
            ("access-control-allow-methods", "GET, HEAD, OPTIONS".into()),
            ("access-control-allow-headers", "*".into()),
            ("access-control-max-age", "86400".into()),
        ],
        body: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const SECRET: &str = "test-secret-0123456789abcdefghijklmnop";

    fn config(secret: Option<&str>, issuer: Option<&str>) -> Config {
        Config {
            issuer: issuer.map(Into::into),
            master_secret: secret.map(Into::into),
        }
    }

    fn demo_keys(config: &Config) -> Result<Vec<SigningKey>, Reply> {
        demo_signing_key(config).map(|k| vec![k])
    }

    fn get(path: &str, config: &Config) -> Reply {
        route("GET", path, "http://127.0.0.1:8787", config, demo_keys)
    }

    fn body_json(reply: &Reply) -> Value {
        serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn discovery_uses_request_origin_when_no_issuer_configured() {
        let reply = get(DISCOVERY_PATH, &config(Some(SECRET), None));
        assert_eq!(reply.status, 200);
        let doc = body_json(&reply);
        assert_eq!(doc["issuer"], "http://127.0.0.1:8787");
        assert_eq!(
            doc["jwks_uri"],
            "http://127.0.0.1:8787/_torii/.well-known/jwks.json"
        );
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(["EdDSA"])
        );
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        assert_eq!(reply.header("cache-control"), Some(PUBLIC_CACHE_CONTROL));
    }

    #[test]
    fn discovery_uses_configured_issuer_without_trailing_slash() {
        let reply = get(
            DISCOVERY_PATH,
            &config(None, Some("https://auth.example.com/")),
        );
        let doc = body_json(&reply);
        assert_eq!(doc["issuer"], "https://auth.example.com");
        assert_eq!(
            doc["jwks_uri"],
            "https://auth.example.com/_torii/.well-known/jwks.json"
        );
    }

    #[test]
    fn jwks_serves_the_derived_demo_key_without_private_material() {
        let cfg = config(Some(SECRET), None);
        let reply = get(JWKS_PATH, &cfg);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("cache-control"), Some(PUBLIC_CACHE_CONTROL));
        let jwks = body_json(&reply);
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert!(key.get("d").is_none());
        let expected = demo_signing_key(&cfg).unwrap();
        assert_eq!(key["kid"], expected.kid());
    }

    #[test]
    fn missing_or_short_secret_fails_closed() {
        for cfg in [config(None, None), config(Some("too-short"), None)] {
            let reply = get(JWKS_PATH, &cfg);
            assert_eq!(reply.status, 500);
            assert_eq!(body_json(&reply)["code"], "misconfigured");
            assert_eq!(reply.header("cache-control"), Some("no-store"));
        }
    }

    #[test]
    fn unknown_path_is_not_found() {
        let reply = get("/nope", &config(Some(SECRET), None));
        assert_eq!(reply.status, 404);
        assert_eq!(body_json(&reply)["code"], "not_found");
    }

    #[test]
    fn preflight_is_204_with_cors() {
        let reply = route(
            "OPTIONS",
            JWKS_PATH,
            "http://x",
            &config(None, None),
            |_| unreachable!(),
        );
        assert_eq!(reply.status, 204);
        assert_eq!(reply.body, None);
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn other_methods_are_not_allowed() {
        let reply = route(
            "POST",
            DISCOVERY_PATH,
            "http://x",
            &config(None, None),
            demo_keys,
        );
        assert_eq!(reply.status, 405);
        assert_eq!(body_json(&reply)["code"], "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}
