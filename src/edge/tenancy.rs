//! Tenancy rules, sans-I/O: which tenant a request is for (its host and
//! `x-application-id`), the tenancy settings read from vars, and how long the Worker's
//! isolate cache may serve a tenant's row and keys.
//!
//! * Resolution: the host `<tenant>.<TORII_BASE_DOMAIN>`, else a custom domain (mapped
//!   in the store); loopback hosts (`127.0.0.1`, `localhost`, `[::1]`) map to
//!   `TORII_DEFAULT_TENANT` when it is set. `x-application-id` names the tenant of API
//!   calls on a host that is not tenant-specific; on a tenant host it must agree.
//! * Cache: entries are fresh for `TORII_TENANT_CACHE_TTL_SECS` (default 60 s, at most a
//!   quarter of the publish lead), served up to twice that while a background refresh
//!   runs, and up to [`MAX_STALE_SECS`] when the store cannot be read.

use crate::edge::reply::{self, Reply};
use crate::keys::rotation::RotationPolicy;
use crate::keys::MIN_MASTER_SECRET_BYTES;
use crate::ErrorCode;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Header naming the tenant (application) of an API call.
pub const APPLICATION_ID_HEADER: &str = "x-application-id";
/// Default isolate-cache lifetime of a tenant's row and keys, in seconds.
pub const DEFAULT_CACHE_TTL_SECS: i64 = 60;
/// Longest `max-age` the JWKS and discovery documents are served with, in seconds.
pub const MAX_DOCUMENT_MAX_AGE: i64 = 300;
/// Oldest cached tenant data used when D1 cannot be read, in seconds.
pub const MAX_STALE_SECS: i64 = 3600;
/// Longest custom domain looked up in the store (a DNS name's limit).
pub const MAX_DOMAIN_LEN: usize = 253;

/// Tenancy and rotation settings, from vars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantConfig {
    /// `TORII_BASE_DOMAIN`: tenants are `<id>.<base domain>` (lower case, no port).
    pub base_domain: Option<String>,
    /// `TORII_DEFAULT_TENANT`: the tenant of loopback hosts (local development).
    pub default_tenant: Option<String>,
    /// Isolate-cache lifetime in milliseconds (`TORII_TENANT_CACHE_TTL_SECS`, at most a
    /// quarter of the publish lead). An entry up to twice as old is still served while a
    /// background refresh runs, so its age plus the documents' `max-age` stays within
    /// the publish lead.
    pub cache_ttl_ms: i64,
    /// `TORII_ROTATION_PERIOD_SECS` and `TORII_ROTATION_PUBLISH_LEAD_SECS`.
    pub policy: RotationPolicy,
}

impl TenantConfig {
    /// Reads the settings through `var` (a var's raw value by name, `None` when unset):
    /// values are trimmed, empty ones are unset, and numbers that are not positive
    /// integers fall back to the defaults.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let text = |name: &str| {
            var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let secs = |name: &str| {
            text(name)
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|v| *v > 0)
        };
        Self::new(
            text("TORII_BASE_DOMAIN").as_deref(),
            text("TORII_DEFAULT_TENANT").as_deref(),
            secs("TORII_TENANT_CACHE_TTL_SECS"),
            secs("TORII_ROTATION_PERIOD_SECS"),
            secs("TORII_ROTATION_PUBLISH_LEAD_SECS"),
        )
    }

    /// The settings from raw values.
    pub fn new(
        base_domain: Option<&str>,
        default_tenant: Option<&str>,
        cache_ttl: Option<i64>,
        period: Option<i64>,
        publish_lead: Option<i64>,
    ) -> Self {
        let mut policy = RotationPolicy::default();
        if let Some(p) = period {
            policy.period = p;
        }
        if let Some(l) = publish_lead {
            policy.publish_lead = l;
        }
        // Every isolate and every verifier honouring `max-age` must see a new key before it
        // signs: entries are served up to 2 × TTL ≤ lead / 2 old, documents cached ≤ lead / 2.
        let cache_ttl_ms = cache_ttl
            .unwrap_or(DEFAULT_CACHE_TTL_SECS)
            .saturating_mul(1000)
            .min(policy.publish_lead.saturating_mul(1000) / 4)
            .max(0);
        Self {
            base_domain: base_domain.map(|d| d.trim_matches('.').to_ascii_lowercase()),
            default_tenant: default_tenant.map(str::to_string),
            cache_ttl_ms,
            policy,
        }
    }

    /// `max-age` of the JWKS and discovery: a verifier caching them that long still
    /// learns a new key before it signs.
    pub fn max_age(&self) -> i64 {
        (self.policy.publish_lead / 2).clamp(0, MAX_DOCUMENT_MAX_AGE)
    }
}

/// What the host says about the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    /// `<id>.<base domain>`.
    Subdomain(String),
    /// A loopback host: the default tenant, if configured.
    Loopback(Option<String>),
    /// The base domain itself: no tenant (API calls name theirs).
    Apex,
    /// Any other host: maybe a custom domain.
    Other(String),
}

/// Whether `id` is a well-formed tenant id: 1–63 bytes of `a-z`, `0-9`, `-`, `_`.
pub fn valid_tenant_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Classifies a request host (as in the URL: lower case, no port; IPv6 in brackets).
pub fn classify_host(host: &str, config: &TenantConfig) -> HostMatch {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1") {
        return HostMatch::Loopback(config.default_tenant.clone());
    }
    if let Some(base) = config.base_domain.as_deref().filter(|b| !b.is_empty()) {
        if host == base {
            return HostMatch::Apex;
        }
        if let Some(label) = host
            .strip_suffix(base)
            .and_then(|rest| rest.strip_suffix('.'))
        {
            if valid_tenant_id(label) {
                return HostMatch::Subdomain(label.to_string());
            }
        }
    }
    HostMatch::Other(host)
}

/// Whether an application may claim `domain` as a custom domain: only a host that
/// [`classify_host`] reads as [`HostMatch::Other`] is looked up in `tenant_domains`, so the
/// base domain, `<tenant>.<base domain>` and loopback names are never claimable (they
/// would never route to the claim, or would shadow another tenant).
pub fn claimable_domain(domain: &str, config: &TenantConfig) -> bool {
    matches!(classify_host(domain, config), HostMatch::Other(h) if h == domain)
}

/// Where to look the tenant up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantLookup {
    /// This tenant id.
    Id(String),
    /// The custom domain `host`, then (if unmapped) `fallback` from `x-application-id`.
    Domain {
        /// The host.
        host: String,
        /// `x-application-id`, when given.
        fallback: Option<String>,
    },
}

/// Combines the host and `x-application-id`. `Err` is the reply to send.
pub fn lookup(host: HostMatch, app_id: Option<&str>) -> Result<TenantLookup, Reply> {
    let app_id = app_id.map(str::trim).filter(|a| !a.is_empty());
    match (host, app_id) {
        (HostMatch::Subdomain(id), Some(app)) if app != id => Err(tenant_mismatch()),
        (HostMatch::Subdomain(id), _) => Ok(TenantLookup::Id(id)),
        (HostMatch::Loopback(_) | HostMatch::Apex, Some(app)) => {
            Ok(TenantLookup::Id(app.to_string()))
        }
        (HostMatch::Loopback(Some(id)), None) => Ok(TenantLookup::Id(id)),
        (HostMatch::Loopback(None) | HostMatch::Apex, None) => Err(tenant_not_found()),
        (HostMatch::Other(host), app) => Ok(TenantLookup::Domain {
            host,
            fallback: app.map(str::to_string),
        }),
    }
}

/// 400 `invalid_request`: `x-application-id` names another tenant than the host.
pub fn tenant_mismatch() -> Reply {
    Reply::from_code(
        ErrorCode::TenantMismatch,
        "x-application-id does not match the tenant of the host",
    )
}

/// 404 `tenant_not_found`: no tenant for this host or application id.
pub fn tenant_not_found() -> Reply {
    Reply::from_code(
        ErrorCode::TenantNotFound,
        "no tenant for this host or application id",
    )
}

/// Whether a cache entry loaded at `loaded_ms` is younger than `ttl_ms` at `now_ms`
/// (milliseconds since the epoch).
#[allow(clippy::cast_precision_loss)]
pub fn fresh(loaded_ms: f64, now_ms: f64, ttl_ms: i64) -> bool {
    now_ms - loaded_ms < ttl_ms as f64
}

impl TenantConfig {
    /// How old an entry may be and still be served while a background refresh runs:
    /// twice the TTL, in milliseconds.
    pub fn refresh_ttl_ms(&self) -> i64 {
        self.cache_ttl_ms.saturating_mul(2)
    }
}

/// How old an entry may be and still be served when the store cannot be read, in
/// milliseconds ([`MAX_STALE_SECS`]).
pub const MAX_STALE_MS: i64 = MAX_STALE_SECS * 1000;

/// The tenant of a custom domain: the one it is mapped to (`x-application-id`, when
/// given, must agree), else the `fallback` from `x-application-id`, else 404.
pub fn domain_tenant(mapped: Option<String>, fallback: Option<String>) -> Result<String, Reply> {
    match mapped {
        Some(id) => {
            if fallback.as_deref().is_some_and(|app| app != id) {
                return Err(tenant_mismatch());
            }
            Ok(id)
        }
        None => fallback.ok_or_else(tenant_not_found),
    }
}

/// The master secret from `TORII_MASTER_SECRET`: at least 32 bytes, else 500
/// `misconfigured`.
pub fn master_secret(raw: Option<String>) -> Result<String, Reply> {
    match raw {
        Some(secret) if secret.len() >= MIN_MASTER_SECRET_BYTES => Ok(secret),
        Some(_) => Err(reply::misconfigured(
            "TORII_MASTER_SECRET is shorter than 32 bytes",
        )),
        None => Err(reply::misconfigured("TORII_MASTER_SECRET is not set")),
    }
}

/// Most tenant ids a [`Forgotten`] lists before it says "every tenant".
pub const MAX_FORGOTTEN: usize = 64;

/// What a wasm instance of the Worker dropped from its tenant cache since the isolate's
/// other instance last heard of it: the Worker runs the edge and the Backend API as two
/// instances ([`crate::edge::dispatch::EdgeRoute::in_api_module`]), each with its own
/// cache, and a write in one (a key rotated, an application created or deleted, a
/// tenant found missing) must be forgotten by both. The entry carries it from one to the
/// other after each call ([`Forgotten::take`] there, [`forgotten_tenants`] here).
/// Bounded: past [`MAX_FORGOTTEN`] ids it becomes "every tenant", which is always safe
/// (the other instance reloads from D1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Forgotten {
    /// Nothing since the last [`Forgotten::take`].
    #[default]
    Nothing,
    /// These tenants (valid ids, each once).
    Tenants(Vec<String>),
    /// Every tenant and custom domain.
    Everything,
}

impl Forgotten {
    /// Adds `tenant` (`None`: every tenant) to what was forgotten.
    pub fn add(&mut self, tenant: Option<&str>) {
        let id = match tenant {
            Some(id) if valid_tenant_id(id) => id,
            // An id that is not valid was never cached; forgetting it is a no-op.
            Some(_) => return,
            None => {
                *self = Self::Everything;
                return;
            }
        };
        match self {
            Self::Everything => {}
            Self::Tenants(ids) if ids.iter().any(|known| known == id) => {}
            Self::Tenants(ids) if ids.len() >= MAX_FORGOTTEN => *self = Self::Everything,
            Self::Tenants(ids) => ids.push(id.to_string()),
            Self::Nothing => *self = Self::Tenants(alloc::vec![id.to_string()]),
        }
    }

    /// Takes what was forgotten, encoded for the other instance: `*` for every tenant,
    /// else the ids one per line; `None` when nothing was.
    pub fn take(&mut self) -> Option<String> {
        match core::mem::take(self) {
            Self::Nothing => None,
            Self::Everything => Some("*".to_string()),
            Self::Tenants(ids) => Some(ids.join("\n")),
        }
    }
}

/// What another instance forgot, from its [`Forgotten::take`]: `None` for every tenant,
/// else each tenant id. Anything that is not a valid id is skipped (never cached), so
/// the list is at most what the text holds.
pub fn forgotten_tenants(encoded: &str) -> Vec<Option<&str>> {
    if encoded == "*" {
        return alloc::vec![None];
    }
    encoded
        .split('\n')
        .filter(|id| valid_tenant_id(id))
        .map(Some)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_one_instance_forgets_the_other_forgets() {
        let mut f = Forgotten::default();
        assert_eq!(f.take(), None);
        f.add(Some("app_a"));
        f.add(Some("app_b"));
        f.add(Some("app_a"));
        f.add(Some("Not valid\n*"));
        let sent = f.take().unwrap();
        assert_eq!(sent, "app_a\napp_b");
        assert_eq!(forgotten_tenants(&sent), [Some("app_a"), Some("app_b")]);
        // Taken: nothing more until the next forget.
        assert_eq!(f, Forgotten::Nothing);
        assert_eq!(f.take(), None);
        // Every tenant wins over any id, before or after.
        f.add(Some("app_a"));
        f.add(None);
        f.add(Some("app_c"));
        let sent = f.take().unwrap();
        assert_eq!(sent, "*");
        assert_eq!(forgotten_tenants(&sent), [None]);
        // Bounded: one id past the limit is every tenant.
        for i in 0..MAX_FORGOTTEN {
            f.add(Some(&alloc::format!("app_{i}")));
        }
        assert!(matches!(&f, Forgotten::Tenants(ids) if ids.len() == MAX_FORGOTTEN));
        f.add(Some("app_last"));
        assert_eq!(f, Forgotten::Everything);
        // Junk from the other side forgets nothing it could not have cached.
        assert!(forgotten_tenants("").is_empty());
        assert_eq!(
            forgotten_tenants("app_x\n\nBAD\n**\napp_y"),
            [Some("app_x"), Some("app_y")]
        );
    }

    fn cfg(base: Option<&str>, default: Option<&str>) -> TenantConfig {
        TenantConfig::new(base, default, None, None, None)
    }

    #[test]
    fn hosts_classify_by_base_domain_loopback_and_custom() {
        let c = cfg(Some("torii.test"), Some("demo"));
        assert_eq!(
            classify_host("acme.torii.test", &c),
            HostMatch::Subdomain("acme".into())
        );
        assert_eq!(
            classify_host("ACME.Torii.Test.", &c),
            HostMatch::Subdomain("acme".into())
        );
        assert_eq!(classify_host("torii.test", &c), HostMatch::Apex);
        assert_eq!(
            classify_host("127.0.0.1", &c),
            HostMatch::Loopback(Some("demo".into()))
        );
        assert_eq!(
            classify_host("localhost", &cfg(None, None)),
            HostMatch::Loopback(None)
        );
        // Nested labels and look-alike suffixes are not subdomain tenants.
        assert_eq!(
            classify_host("a.b.torii.test", &c),
            HostMatch::Other("a.b.torii.test".into())
        );
        assert_eq!(
            classify_host("eviltorii.test", &c),
            HostMatch::Other("eviltorii.test".into())
        );
        assert_eq!(
            classify_host("auth.acme.com", &c),
            HostMatch::Other("auth.acme.com".into())
        );
    }

    #[test]
    fn custom_domains_cannot_shadow_the_base_domain_tenants_or_loopback() {
        let c = cfg(Some("torii.test"), Some("demo"));
        assert!(claimable_domain("auth.acme.com", &c));
        // Nested names under the base domain are not tenant subdomains: claimable.
        assert!(claimable_domain("a.b.torii.test", &c));
        for taken in ["torii.test", "acme.torii.test", "localhost", "127.0.0.1"] {
            assert!(!claimable_domain(taken, &c), "{taken}");
        }
        // Only the exact, normalized form is claimable (what lookups compare).
        assert!(!claimable_domain("Auth.Acme.com", &c));
        assert!(!claimable_domain("auth.acme.com.", &c));
        assert!(claimable_domain("acme.torii.test", &cfg(None, None)));
    }

    #[test]
    fn application_id_names_the_tenant_only_where_the_host_does_not() {
        assert_eq!(
            lookup(HostMatch::Subdomain("acme".into()), None).unwrap(),
            TenantLookup::Id("acme".into())
        );
        assert_eq!(
            lookup(HostMatch::Subdomain("acme".into()), Some("acme")).unwrap(),
            TenantLookup::Id("acme".into())
        );
        let err = lookup(HostMatch::Subdomain("acme".into()), Some("other")).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(
            lookup(HostMatch::Loopback(Some("demo".into())), Some("acme")).unwrap(),
            TenantLookup::Id("acme".into())
        );
        assert_eq!(
            lookup(HostMatch::Loopback(Some("demo".into())), Some("  ")).unwrap(),
            TenantLookup::Id("demo".into())
        );
        assert_eq!(lookup(HostMatch::Apex, None).unwrap_err().status, 404);
        assert_eq!(
            lookup(HostMatch::Loopback(None), None).unwrap_err().status,
            404
        );
        assert_eq!(
            lookup(HostMatch::Other("x.com".into()), Some("acme")).unwrap(),
            TenantLookup::Domain {
                host: "x.com".into(),
                fallback: Some("acme".into())
            }
        );
    }

    #[test]
    fn tenant_ids_are_bounded_and_plain() {
        assert!(valid_tenant_id("demo"));
        assert!(valid_tenant_id("acme-2_x"));
        assert!(!valid_tenant_id(""));
        assert!(!valid_tenant_id("Acme"));
        assert!(!valid_tenant_id("a.b"));
        assert!(!valid_tenant_id(&"a".repeat(64)));
    }

    #[test]
    fn cache_ttl_and_max_age_stay_below_the_publish_lead() {
        let c = TenantConfig::new(None, None, Some(3600), None, None);
        assert_eq!(c.cache_ttl_ms, 150_000);
        assert_eq!(c.max_age(), 300);
        let c = TenantConfig::new(None, None, None, Some(10), Some(2));
        assert_eq!(c.cache_ttl_ms, 500);
        assert_eq!(c.max_age(), 1);
        assert_eq!(c.policy.period, 10);
        // Served age (≤ 2 × TTL) plus max-age never exceeds the publish lead.
        for lead in [1, 2, 3, 10, 600, 7200] {
            let c = TenantConfig::new(None, None, Some(86_400), None, Some(lead));
            assert!(
                2 * c.cache_ttl_ms + 1000 * c.max_age() <= 1000 * lead,
                "{lead}"
            );
        }
        let c = TenantConfig::new(None, None, None, None, None);
        assert_eq!(c.cache_ttl_ms, DEFAULT_CACHE_TTL_SECS * 1000);
        assert_eq!(c.policy, RotationPolicy::default());
    }

    #[test]
    fn config_reads_trimmed_vars_and_ignores_bad_numbers() {
        let vars = |name: &str| -> Option<String> {
            match name {
                "TORII_BASE_DOMAIN" => Some(" .Torii.Test. ".into()),
                "TORII_DEFAULT_TENANT" => Some("   ".into()),
                "TORII_TENANT_CACHE_TTL_SECS" => Some(" 30 ".into()),
                "TORII_ROTATION_PERIOD_SECS" => Some("-5".into()),
                "TORII_ROTATION_PUBLISH_LEAD_SECS" => Some("soon".into()),
                _ => None,
            }
        };
        let c = TenantConfig::from_vars(vars);
        assert_eq!(
            c,
            TenantConfig::new(Some("torii.test"), None, Some(30), None, None)
        );
        assert_eq!(c.base_domain.as_deref(), Some("torii.test"));
        assert_eq!(c.cache_ttl_ms, 30_000);
        assert_eq!(c.refresh_ttl_ms(), 60_000);
        assert_eq!(TenantConfig::from_vars(|_| None), cfg(None, None));
    }

    #[test]
    fn cache_entries_are_fresh_below_their_ttl() {
        assert!(fresh(1000.0, 1999.0, 1000));
        assert!(!fresh(1000.0, 2000.0, 1000));
        assert!(!fresh(1000.0, 1000.0, 0));
        assert!(fresh(0.0, 1e12, i64::MAX));
        assert_eq!(MAX_STALE_MS, 3_600_000);
    }

    #[test]
    fn custom_domains_and_the_application_id_must_agree() {
        assert_eq!(domain_tenant(Some("acme".into()), None).unwrap(), "acme");
        assert_eq!(
            domain_tenant(Some("acme".into()), Some("acme".into())).unwrap(),
            "acme"
        );
        assert_eq!(
            domain_tenant(Some("acme".into()), Some("demo".into()))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(domain_tenant(None, Some("demo".into())).unwrap(), "demo");
        let err = domain_tenant(None, None).unwrap_err();
        assert_eq!(
            (err.status, err.code().as_deref()),
            (404, Some("tenant_not_found"))
        );
    }

    #[test]
    fn the_master_secret_must_be_long_enough() {
        let secret = "k".repeat(32);
        assert_eq!(master_secret(Some(secret.clone())).unwrap(), secret);
        for raw in [None, Some("k".repeat(31))] {
            let err = master_secret(raw).unwrap_err();
            assert_eq!(
                (err.status, err.code().as_deref()),
                (500, Some("misconfigured"))
            );
        }
    }
}
