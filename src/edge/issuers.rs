//! Trusted external issuers (`TRUSTED_ISSUERS`): whose tokens the gateway also accepts,
//! where their keys are, and the verification policy of their tokens. The Worker
//! (`src/worker/trusted_jwks.rs`) fetches and caches their key sets.

use crate::edge::url::HttpUrl;
use crate::jose::policy::{Policy, TypPolicy};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

/// Most trusted issuers a configuration may list.
pub const MAX_TRUSTED_ISSUERS: usize = 32;

/// One issuer whose tokens the gateway also accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedIssuer {
    /// The exact `iss` of its tokens.
    pub issuer: String,
    /// Where its JWKS is (`jwks_uri`), or `None` when found through discovery.
    pub jwks_uri: Option<String>,
    /// Its OpenID discovery document, when `jwks_uri` is not given.
    pub discovery: Option<String>,
    /// Accepted audiences (at least one; `aud` must contain one of them).
    pub audiences: Vec<String>,
    /// The tenant its tokens act for.
    pub tenant: String,
    /// An exact `typ` to require (e.g. `at+jwt`); default: absent or `JWT`.
    pub typ: Option<String>,
}

impl TrustedIssuer {
    /// The verification policy of this issuer's tokens.
    pub fn policy(&self) -> Policy {
        let mut policy = Policy::new(&self.issuer);
        for aud in &self.audiences {
            policy = policy.with_audience(aud);
        }
        if let Some(typ) = &self.typ {
            policy = policy.with_typ(TypPolicy::Exact(typ.clone()));
        }
        policy
    }
}

/// Whether `url` may be fetched: `https` with a host, or `http` to a loopback host
/// (`localhost`, `[::1]`, `127.0.0.0/8`; development and tests only: a production issuer
/// on plain HTTP would let anyone on path swap its keys). The URL must pass the strict
/// [`HttpUrl`] parser, so the host checked is the host `fetch` connects to.
pub fn fetchable(url: &str) -> bool {
    HttpUrl::parse(url).is_ok_and(|u| u.scheme() == "https" || u.loopback_host())
}

/// Parses `TRUSTED_ISSUERS`: a JSON array of
/// `{"issuer", "jwks_uri" | "discovery", "audiences": [..], "tenant", "typ"?}`.
pub fn parse_trusted_issuers(raw: &str) -> Result<Vec<TrustedIssuer>, String> {
    let value =
        crate::encoding::json::parse(raw.as_bytes(), 4).map_err(|e| e.reason().to_string())?;
    let Value::Array(items) = value else {
        return Err("TRUSTED_ISSUERS must be a JSON array".into());
    };
    if items.len() > MAX_TRUSTED_ISSUERS {
        return Err(format!("at most {MAX_TRUSTED_ISSUERS} trusted issuers"));
    }
    let mut out: Vec<TrustedIssuer> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(obj) = item else {
            return Err("each trusted issuer must be an object".into());
        };
        for key in obj.keys() {
            if ![
                "issuer",
                "jwks_uri",
                "discovery",
                "audiences",
                "tenant",
                "typ",
            ]
            .contains(&key.as_str())
            {
                return Err(format!("unknown trusted issuer field `{key}`"));
            }
        }
        let string = |name: &str| -> Result<Option<String>, String> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                Some(_) => Err(format!("`{name}` must be a non-empty string")),
            }
        };
        let issuer = string("issuer")?.ok_or("`issuer` is required")?;
        let tenant = string("tenant")?.ok_or("`tenant` is required")?;
        let jwks_uri = string("jwks_uri")?;
        let discovery = string("discovery")?;
        let typ = string("typ")?;
        match (&jwks_uri, &discovery) {
            (Some(u), None) | (None, Some(u)) if fetchable(u) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(format!(
                    "{issuer}: key URLs must be https (http only for loopback hosts)"
                ))
            }
            _ => {
                return Err(format!(
                    "{issuer}: give exactly one of `jwks_uri`, `discovery`"
                ))
            }
        }
        let audiences: Vec<String> = match obj.get("audiences") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("{issuer}: `audiences` must hold non-empty strings"))?,
            Some(Value::String(s)) if !s.is_empty() => alloc::vec![s.clone()],
            _ => return Err(format!("{issuer}: `audiences` is required")),
        };
        if audiences.is_empty() {
            return Err(format!("{issuer}: `audiences` must not be empty"));
        }
        if out.iter().any(|t| t.issuer == issuer) {
            return Err(format!("{issuer}: listed twice"));
        }
        out.push(TrustedIssuer {
            issuer,
            jwks_uri,
            discovery,
            audiences,
            tenant,
            typ,
        });
    }
    Ok(out)
}

/// The KV key of an issuer's cached key set: `jwks:v1:` + base64url(SHA-256(issuer))
/// (hashed: KV keys are at most 512 bytes, and an issuer URL can be longer).
pub fn kv_key(issuer: &str) -> String {
    use sha2::{Digest, Sha256};
    alloc::format!(
        "jwks:v1:{}",
        crate::encoding::b64::encode(&Sha256::digest(issuer.as_bytes()))
    )
}

/// Shortest KV TTL Cloudflare accepts, in seconds.
pub const MIN_KV_TTL_SECS: i64 = 60;

/// Largest KV value [`CachedSet::from_kv`] parses (and the edge writes): a set of at most
/// [`MAX_JWKS_BYTES`](crate::MAX_JWKS_BYTES) plus its stamps and URLs. A longer value is
/// not one the edge wrote: a miss, never parsed.
pub const MAX_KV_VALUE_BYTES: usize = crate::MAX_JWKS_BYTES + 16 * 1024;

/// A trusted issuer's key set as the edge caches it in KV: stamped with its fetch time and
/// `max-age`, so any isolate that reads it applies the same freshness.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedSet {
    /// When it was fetched (the cache's clock).
    pub fetched_at: i64,
    /// The response's `max-age`, if any.
    pub max_age: Option<i64>,
    /// The `jwks_uri` it came from (learned through discovery, when so).
    pub jwks_uri: Option<String>,
    /// The set.
    pub jwks: crate::Jwks,
}

impl CachedSet {
    /// The KV value for `issuer`.
    pub fn to_kv(&self, issuer: &str) -> String {
        serde_json::json!({
            "issuer": issuer,
            "fetched_at": self.fetched_at,
            "max_age": self.max_age,
            "jwks_uri": self.jwks_uri,
            "jwks": self.jwks.to_value(),
        })
        .to_string()
    }

    /// Reads a KV value back; `None` when it is malformed, longer than
    /// [`MAX_KV_VALUE_BYTES`], its set invalid, or it belongs to another issuer (a KV entry
    /// never crosses issuers). `None` is a cache miss: the edge fetches the set.
    pub fn from_kv(text: &str, issuer: &str) -> Option<Self> {
        if text.len() > MAX_KV_VALUE_BYTES {
            return None;
        }
        let value = crate::encoding::json::parse(text.as_bytes(), 8).ok()?;
        if value.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return None;
        }
        Some(Self {
            fetched_at: value.get("fetched_at").and_then(Value::as_i64)?,
            max_age: value.get("max_age").and_then(Value::as_i64),
            jwks_uri: value
                .get("jwks_uri")
                .and_then(Value::as_str)
                .map(str::to_string),
            jwks: crate::Jwks::from_json(value.get("jwks")?.to_string().as_bytes()).ok()?,
        })
    }

    /// The KV TTL for a set fresh for `ttl` seconds: freshness plus the time a stale set may
    /// still serve, at least [`MIN_KV_TTL_SECS`].
    pub fn kv_ttl(ttl: i64, max_stale: i64) -> i64 {
        ttl.saturating_add(max_stale).max(MIN_KV_TTL_SECS)
    }
}

/// The `jwks_uri` of an issuer's discovery document: the document must name exactly this
/// `issuer`, and its `jwks_uri` must be [`fetchable`]. The reason otherwise, for the log.
pub fn discovered_jwks_uri(document: &[u8], issuer: &str) -> Result<String, &'static str> {
    let doc = crate::encoding::json::parse(document, 8).map_err(|_| "not a JSON document")?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err("the discovery document names another issuer");
    }
    let uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or("no jwks_uri")?;
    if !fetchable(uri) {
        return Err("jwks_uri is not https (or http to loopback)");
    }
    Ok(uri.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetchable() {
        assert!(fetchable("https://issuer.example/.well-known/jwks.json"));
        assert!(fetchable("http://127.0.0.1:9000/jwks"));
        assert!(fetchable("http://localhost/jwks"));
        assert!(fetchable("http://[::1]:80/jwks"));
        for bad in [
            "http://issuer.example/jwks",
            "http://127.0.0.1.example/jwks",
            "ftp://127.0.0.1/jwks",
            "https://user:pw@issuer.example/jwks",
            "/jwks",
            "",
        ] {
            assert!(!fetchable(bad), "{bad}");
        }
    }

    #[test]
    fn fetchable_refuses_tricky_urls() {
        assert!(fetchable("HTTPS://Issuer.Example/jwks"));
        assert!(fetchable("HTTP://127.0.0.1/jwks"));
        assert!(fetchable("http://127.9.8.7:1/jwks"));
        assert!(fetchable("http://[::1]:8080/x"));
        for bad in [
            "http://127.0.0.1@evil.com/",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com/",
            "http://evil.com/127.0.0.1",
            "https://a\\b",
            "http://127.0.0.1\\@evil.com/",
            "https://issuer.example/\tjwks",
            "https://issuer.example/jwks\n",
            "\thttps://issuer.example/jwks",
            "http://127.0.0.1:65536/",
            "http://127.0.0.1:99999999999/",
            "https://",
            "https:///jwks",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://[::2]/",
            "javascript:alert(1)",
        ] {
            assert!(!fetchable(bad), "{bad:?}");
        }
    }

    #[test]
    fn trusted_issuers_parse_and_validate() {
        let t = parse_trusted_issuers(
            r#"[{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks",
                 "audiences":["api"],"tenant":"demo"},
                {"issuer":"http://127.0.0.1:9","discovery":"http://127.0.0.1:9/.well-known/openid-configuration",
                 "audiences":"api2","tenant":"demo","typ":"at+jwt"}]"#,
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].audiences, ["api"]);
        assert_eq!(t[1].typ.as_deref(), Some("at+jwt"));
        assert_eq!(t[1].jwks_uri, None);
        for bad in [
            "{}",
            r#"[{"issuer":"a","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"http://idp.example/j","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","discovery":"https://i/d","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":[],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"]}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"],"tenant":"t","jku":"x"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"],"tenant":"t"},
                {"issuer":"a","jwks_uri":"https://i/k","audiences":["x"],"tenant":"t"}]"#,
        ] {
            assert!(parse_trusted_issuers(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kv_keys_are_bounded_and_distinct() {
        let a = kv_key("https://idp.example");
        assert!(a.starts_with("jwks:v1:"));
        assert_eq!(a.len(), 8 + 43);
        assert_ne!(a, kv_key("https://idp.example/"));
        assert_eq!(kv_key(&"x".repeat(10_000)).len(), a.len());
    }

    #[test]
    fn kv_values_round_trip_and_never_cross_issuers() {
        let jwks = crate::Jwks::from_json(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}]}"#).unwrap();
        let set = CachedSet {
            fetched_at: 1_000,
            max_age: Some(600),
            jwks_uri: Some("https://idp.example/jwks".into()),
            jwks,
        };
        let text = set.to_kv("https://idp.example");
        assert_eq!(CachedSet::from_kv(&text, "https://idp.example"), Some(set));
        assert_eq!(CachedSet::from_kv(&text, "https://other.example"), None);
        assert_eq!(CachedSet::from_kv("{}", "https://idp.example"), None);
        assert_eq!(CachedSet::kv_ttl(600, 86_400), 87_000);
        assert_eq!(CachedSet::kv_ttl(0, 0), MIN_KV_TTL_SECS);
    }

    #[test]
    fn corrupt_or_oversized_kv_values_are_misses() {
        let iss = "https://idp.example";
        let jwks = crate::Jwks::from_json(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}]}"#).unwrap();
        let good = CachedSet {
            fetched_at: 1_000,
            max_age: None,
            jwks_uri: None,
            jwks,
        }
        .to_kv(iss);
        assert!(CachedSet::from_kv(&good, iss).is_some());
        // Truncated, not JSON, a private key, no stamp: each a miss.
        let private = good.replace(
            r#""kid":"a""#,
            r#""kid":"a","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A""#,
        );
        let unstamped = good.replace(r#""fetched_at":1000,"#, "");
        for bad in [
            &good[..good.len() - 1],
            "<html>",
            "",
            "null",
            &private,
            &unstamped,
        ] {
            assert_eq!(CachedSet::from_kv(bad, iss), None, "{bad}");
        }
        // Padding past the bound: not parsed, even though it would be valid JSON.
        let padded = alloc::format!("{}{}", " ".repeat(MAX_KV_VALUE_BYTES), good);
        assert_eq!(CachedSet::from_kv(&padded, iss), None);
        let fits = alloc::format!("{}{}", " ".repeat(MAX_KV_VALUE_BYTES - good.len()), good);
        assert!(CachedSet::from_kv(&fits, iss).is_some());
    }

    #[test]
    fn discovery_must_name_the_issuer_and_a_fetchable_jwks_uri() {
        let doc =
            |iss: &str, uri: &str| alloc::format!(r#"{{"issuer":"{iss}","jwks_uri":"{uri}"}}"#);
        let iss = "https://idp.example";
        assert_eq!(
            discovered_jwks_uri(doc(iss, "https://idp.example/k").as_bytes(), iss),
            Ok("https://idp.example/k".into())
        );
        assert!(discovered_jwks_uri(
            doc("https://evil.example", "https://idp.example/k").as_bytes(),
            iss
        )
        .is_err());
        assert!(discovered_jwks_uri(doc(iss, "http://idp.example/k").as_bytes(), iss).is_err());
        assert!(discovered_jwks_uri(br#"{"issuer":"https://idp.example"}"#, iss).is_err());
        assert!(discovered_jwks_uri(b"<html>", iss).is_err());
    }
}
