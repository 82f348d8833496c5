//! Tenants: which tenant a request is for, its issuer and its keys, cached per isolate;
//! and the scheduled key rotation.
//!
//! * Resolution: the host `<tenant>.<TORII_BASE_DOMAIN>`, else a custom domain mapped in
//!   D1 (`tenant_domains`); loopback hosts (`127.0.0.1`, `localhost`, `[::1]`) map to
//!   `TORII_DEFAULT_TENANT` when it is set. `x-application-id` names the tenant of API
//!   calls on a host that is not tenant-specific; on a tenant host it must agree.
//! * Keys: seeds are derived per (tenant, version) from `TORII_MASTER_SECRET`; D1 holds
//!   only the versions' timestamps ([`crate::keys::rotation`]). The tenant's verifier holds only
//!   its own published keys and accepts only its own issuer, so a token of another tenant
//!   fails with `unknown_key` or `invalid_issuer` even when a `kid` collides.
//! * Cache: each tenant's row and key versions stay in isolate memory for
//!   `TORII_TENANT_CACHE_TTL_SECS` (default 60 s, at most a quarter of the publish lead;
//!   served up to twice that while `waitUntil` refreshes it), so a
//!   warm request reads neither D1 nor KV, and every isolate sees a new key before it
//!   signs anything.

use super::store::{self, TenantRow};
use crate::edge::reply::Reply;
use crate::keys::rotation::{self, KeyVersion, RotationPolicy};
use crate::keys::MIN_MASTER_SECRET_BYTES;
use crate::{derive_signing_seed, ErrorCode, Jwks, SigningKey};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use worker::{Context, Env, Request};

/// Header naming the tenant (application) of an API call.
pub(crate) const APPLICATION_ID_HEADER: &str = "x-application-id";
/// Default isolate-cache lifetime of a tenant's row and keys, in seconds.
pub(crate) const DEFAULT_CACHE_TTL_SECS: i64 = 60;
/// Longest `max-age` the JWKS and discovery documents are served with, in seconds.
pub(crate) const MAX_DOCUMENT_MAX_AGE: i64 = 300;
/// Oldest cached tenant data used when D1 cannot be read, in seconds.
pub(crate) const MAX_STALE_SECS: i64 = 3600;
/// Most entries each isolate cache holds before it is cleared.
const MAX_CACHE_ENTRIES: usize = 1024;

/// A resolved tenant: what the routes, the mint endpoint and the gateway need.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// Tenant (application) id: `pid` in its tokens.
    pub(crate) id: String,
    /// Its issuer URL: `iss` in its tokens.
    pub(crate) issuer: String,
    /// The key signing now.
    pub(crate) key: SigningKey,
    /// The signing key's seed (the gateway signs assertions with WebCrypto).
    pub(crate) seed: [u8; 32],
    /// The signing key's version.
    pub(crate) key_version: u32,
    /// The published keys: tokens of this tenant verify against these.
    pub(crate) jwks: Jwks,
    /// The JWKS document as served.
    pub(crate) jwks_json: Rc<String>,
    /// `max-age` of the public documents (≤ 300 s and ≤ half the publish lead).
    pub(crate) max_age: i64,
}

/// Tenancy and rotation settings, from vars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TenantConfig {
    /// `TORII_BASE_DOMAIN`: tenants are `<id>.<base domain>` (lower case, no port).
    pub(crate) base_domain: Option<String>,
    /// `TORII_DEFAULT_TENANT`: the tenant of loopback hosts (local development).
    pub(crate) default_tenant: Option<String>,
    /// Isolate-cache lifetime in milliseconds (`TORII_TENANT_CACHE_TTL_SECS`, at most a
    /// quarter of the publish lead). An entry up to twice as old is still served while a
    /// background refresh runs, so its age plus the documents' `max-age` stays within
    /// the publish lead.
    pub(crate) cache_ttl_ms: i64,
    /// `TORII_ROTATION_PERIOD_SECS` and `TORII_ROTATION_PUBLISH_LEAD_SECS`.
    pub(crate) policy: RotationPolicy,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn secs_var(env: &Env, name: &str) -> Option<i64> {
    var(env, name)
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
}

impl TenantConfig {
    /// Reads the vars (invalid numbers fall back to the defaults).
    pub(crate) fn from_env(env: &Env) -> Self {
        Self::new(
            var(env, "TORII_BASE_DOMAIN").as_deref(),
            var(env, "TORII_DEFAULT_TENANT").as_deref(),
            secs_var(env, "TORII_TENANT_CACHE_TTL_SECS"),
            secs_var(env, "TORII_ROTATION_PERIOD_SECS"),
            secs_var(env, "TORII_ROTATION_PUBLISH_LEAD_SECS"),
        )
    }

    /// The settings from raw values.
    pub(crate) fn new(
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
    pub(crate) fn max_age(&self) -> i64 {
        (self.policy.publish_lead / 2).clamp(0, MAX_DOCUMENT_MAX_AGE)
    }
}

/// What the host says about the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostMatch {
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
pub(crate) fn valid_tenant_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Classifies a request host (as in the URL: lower case, no port; IPv6 in brackets).
pub(crate) fn classify_host(host: &str, config: &TenantConfig) -> HostMatch {
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

/// Where to look the tenant up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
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
pub(crate) fn lookup(host: HostMatch, app_id: Option<&str>) -> Result<Lookup, Reply> {
    let app_id = app_id.map(str::trim).filter(|a| !a.is_empty());
    match (host, app_id) {
        (HostMatch::Subdomain(id), Some(app)) if app != id => Err(mismatch()),
        (HostMatch::Subdomain(id), _) => Ok(Lookup::Id(id)),
        (HostMatch::Loopback(_) | HostMatch::Apex, Some(app)) => Ok(Lookup::Id(app.to_string())),
        (HostMatch::Loopback(Some(id)), None) => Ok(Lookup::Id(id)),
        (HostMatch::Loopback(None) | HostMatch::Apex, None) => Err(not_found()),
        (HostMatch::Other(host), app) => Ok(Lookup::Domain {
            host,
            fallback: app.map(str::to_string),
        }),
    }
}

fn mismatch() -> Reply {
    Reply::from_code(
        ErrorCode::TenantMismatch,
        "x-application-id does not match the tenant of the host",
    )
}

fn not_found() -> Reply {
    let code = ErrorCode::TenantNotFound;
    Reply::error(
        code.http_status(),
        code.as_str(),
        "no tenant for this host or application id",
    )
}

fn misconfigured(why: &str) -> Reply {
    Reply::from_code(ErrorCode::Misconfigured, why)
}

// ------------------------------------------------------------------ isolate cache

#[derive(Debug)]
struct Entry {
    /// The master secret the keys were derived from.
    secret: String,
    row: TenantRow,
    versions: Vec<KeyVersion>,
    loaded_ms: f64,
    /// Derived keys by version.
    keys: BTreeMap<u32, (SigningKey, [u8; 32])>,
    /// The JWKS for a set of published versions.
    published: Option<(Vec<u32>, Jwks, Rc<String>)>,
}

std::thread_local! {
    static TENANTS: RefCell<BTreeMap<String, Entry>> = const { RefCell::new(BTreeMap::new()) };
    /// Custom domain → tenant id (`None`: not mapped), with the load time.
    static DOMAINS: RefCell<BTreeMap<String, (Option<String>, f64)>> =
        const { RefCell::new(BTreeMap::new()) };
    /// Tenants being refreshed in the background.
    static REFRESHING: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    /// Tenant ids not in D1, with the time they were looked up.
    static MISSING: RefCell<BTreeMap<String, f64>> = const { RefCell::new(BTreeMap::new()) };
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> i64 {
    #[allow(clippy::cast_possible_truncation)]
    let secs = (now_ms() / 1000.0).floor() as i64;
    secs
}

#[allow(clippy::cast_precision_loss)]
fn fresh(loaded_ms: f64, ttl_ms: i64) -> bool {
    now_ms() - loaded_ms < ttl_ms as f64
}

/// Drops every cached tenant and domain (dev mode; and after a rotation).
pub(crate) fn forget(tenant: Option<&str>) {
    TENANTS.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            match tenant {
                Some(id) => {
                    t.remove(id);
                }
                None => t.clear(),
            }
        }
    });
    if tenant.is_none() {
        DOMAINS.with(|d| {
            if let Ok(mut d) = d.try_borrow_mut() {
                d.clear();
            }
        });
        MISSING.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                m.clear();
            }
        });
    }
}

fn master_secret(env: &Env) -> Result<String, Reply> {
    match env.var("TORII_MASTER_SECRET").ok().map(|v| v.to_string()) {
        Some(secret) if secret.len() >= MIN_MASTER_SECRET_BYTES => Ok(secret),
        Some(_) => Err(misconfigured(
            "TORII_MASTER_SECRET is shorter than 32 bytes",
        )),
        None => Err(misconfigured("TORII_MASTER_SECRET is not set")),
    }
}

fn storage_error(err: &worker::Error) -> Reply {
    worker::console_error!("torii-edge: D1: {}", err);
    storage_unavailable()
}

fn storage_unavailable() -> Reply {
    let code = ErrorCode::StorageUnavailable;
    Reply::error(
        code.http_status(),
        code.as_str(),
        "the tenant store is unavailable",
    )
}

/// Resolves the tenant of `req` (see the module docs). `Err` is the reply to send.
pub(crate) async fn resolve_tenant(
    req: &Request,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let url = req.url().map_err(|_| not_found())?;
    let host = url.host_str().unwrap_or_default().to_string();
    let app_id = req.headers().get(APPLICATION_ID_HEADER).ok().flatten();
    resolve(&host, app_id.as_deref(), env, ctx).await
}

/// Resolves the tenant for a host and `x-application-id`. With `ctx`, an expired cache
/// entry (up to twice the TTL) is served while `ctx.waitUntil` refreshes it, so a busy
/// isolate never waits on D1.
pub(crate) async fn resolve(
    host: &str,
    app_id: Option<&str>,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let config = TenantConfig::from_env(env);
    let id = match lookup(classify_host(host, &config), app_id)? {
        Lookup::Id(id) => id,
        Lookup::Domain { host, fallback } => match domain_tenant(&host, &config, env).await? {
            Some(id) => {
                if fallback.as_deref().is_some_and(|app| app != id) {
                    return Err(mismatch());
                }
                id
            }
            None => fallback.ok_or_else(not_found)?,
        },
    };
    if !valid_tenant_id(&id) {
        return Err(not_found());
    }
    tenant_by_id(&id, &config, env, ctx).await
}

async fn domain_tenant(
    host: &str,
    config: &TenantConfig,
    env: &Env,
) -> Result<Option<String>, Reply> {
    let hit = DOMAINS.with(|d| {
        d.try_borrow().ok().and_then(|d| {
            d.get(host)
                .filter(|(_, at)| fresh(*at, config.cache_ttl_ms))
                .map(|(id, _)| id.clone())
        })
    });
    if let Some(id) = hit {
        return Ok(id);
    }
    if host.len() > 253 {
        return Ok(None);
    }
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    let id = store::tenant_of_domain(&db, host)
        .await
        .map_err(|e| storage_error(&e))?;
    DOMAINS.with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            if d.len() >= MAX_CACHE_ENTRIES {
                d.clear();
            }
            d.insert(host.to_string(), (id.clone(), now_ms()));
        }
    });
    Ok(id)
}

/// The tenant `id`, from the isolate cache or D1 (creating its first key if it has none).
///
/// When D1 cannot be read, a cached entry up to [`MAX_STALE_SECS`] old is used instead
/// (its keys stay valid: a key a stale entry still signs with stays published for the
/// longest token lifetime after it stops signing); with none, 503 `storage_unavailable`.
pub(crate) async fn tenant_by_id(
    id: &str,
    config: &TenantConfig,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let secret = master_secret(env)?;
    let now = now_secs();
    if let Some(tenant) = build_cached(id, &secret, config, now, config.cache_ttl_ms) {
        return tenant;
    }
    if let Some(ctx) = ctx {
        let stale_ms = config.cache_ttl_ms.saturating_mul(2);
        if let Some(tenant) = build_cached(id, &secret, config, now, stale_ms) {
            if start_refresh(id) {
                let (id, env, config) = (id.to_string(), env.clone(), config.clone());
                ctx.wait_until(async move {
                    refresh(&id, &secret, &config, &env).await;
                    end_refresh(&id);
                });
            }
            return tenant;
        }
    }
    let missing = MISSING.with(|m| {
        m.try_borrow()
            .ok()
            .and_then(|m| m.get(id).copied())
            .is_some_and(|at| fresh(at, config.cache_ttl_ms))
    });
    if missing {
        return Err(not_found());
    }
    match load(id, now, config, env).await {
        Ok(Some((row, versions))) => {
            store_entry(id, &secret, row, versions);
            build_cached(id, &secret, config, now, i64::MAX)
                .unwrap_or_else(|| Err(misconfigured("the isolate's tenant cache is unavailable")))
        }
        Ok(None) => {
            MISSING.with(|m| {
                if let Ok(mut m) = m.try_borrow_mut() {
                    if m.len() >= MAX_CACHE_ENTRIES {
                        m.clear();
                    }
                    m.insert(id.to_string(), now_ms());
                }
            });
            Err(not_found())
        }
        Err(e) => {
            let stale = build_cached(id, &secret, config, now, MAX_STALE_SECS * 1000);
            worker::console_error!(
                "torii-edge: D1 read of tenant {} failed ({}): {}",
                id,
                if stale.is_some() {
                    "serving cached keys"
                } else {
                    "nothing cached"
                },
                e
            );
            stale.unwrap_or_else(|| Err(storage_unavailable()))
        }
    }
}

/// Caches a tenant's row and versions, keeping the keys already derived for them.
fn store_entry(id: &str, secret: &str, row: TenantRow, versions: Vec<KeyVersion>) {
    TENANTS.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            let keys = t
                .remove(id)
                .filter(|old| old.secret == secret)
                .map(|old| old.keys)
                .unwrap_or_default();
            if t.len() >= MAX_CACHE_ENTRIES {
                t.clear();
            }
            t.insert(
                id.to_string(),
                Entry {
                    secret: secret.to_string(),
                    row,
                    versions,
                    loaded_ms: now_ms(),
                    keys,
                    published: None,
                },
            );
        }
    });
}

/// Marks `id` as being refreshed; `false` if a refresh is already running.
fn start_refresh(id: &str) -> bool {
    REFRESHING.with(|r| {
        r.try_borrow_mut()
            .is_ok_and(|mut r| r.insert(id.to_string()))
    })
}

fn end_refresh(id: &str) {
    REFRESHING.with(|r| {
        if let Ok(mut r) = r.try_borrow_mut() {
            r.remove(id);
        }
    });
}

/// Background refresh of a cached tenant (failures keep the old entry until it is too old).
async fn refresh(id: &str, secret: &str, config: &TenantConfig, env: &Env) {
    match load(id, now_secs(), config, env).await {
        Ok(Some((row, versions))) => store_entry(id, secret, row, versions),
        Ok(None) => forget(Some(id)),
        Err(e) => worker::console_error!("torii-edge: refreshing tenant {}: {}", id, e),
    }
}

/// Reads a tenant and its key versions from D1, creating its first key when none signs.
async fn load(
    id: &str,
    now: i64,
    config: &TenantConfig,
    env: &Env,
) -> worker::Result<Option<(TenantRow, Vec<KeyVersion>)>> {
    let db = store::db(env)?;
    let Some((row, mut versions)) = store::tenant_with_versions(&db, id).await? else {
        return Ok(None);
    };
    if rotation::signing_version(&versions, now).is_none()
        && rotation::rotation_due(&versions, now, &config.policy)
    {
        // First key (or every key retired): create one now, signing at once.
        let before = versions.clone();
        let new = rotation::rotate(&mut versions, now, &config.policy);
        let changed = changed_versions(&before, &versions, now, &config.policy);
        if let Err(e) = store::write_rotation(&db, id, &changed, Some((new, "active"))).await {
            // Another isolate created it first: read what won.
            worker::console_log!("torii-edge: first key of {}: {}", id, e);
            versions = store::key_versions(&db, id).await?;
        }
    }
    Ok(Some((row, versions)))
}

/// Builds the tenant from a fresh cache entry; `None` when there is none.
fn build_cached(
    id: &str,
    secret: &str,
    config: &TenantConfig,
    now: i64,
    max_age_secs: i64,
) -> Option<Result<Tenant, Reply>> {
    TENANTS.with(|t| {
        let mut t = t.try_borrow_mut().ok()?;
        let entry = t.get_mut(id)?;
        if entry.secret != secret || !fresh(entry.loaded_ms, max_age_secs) {
            return None;
        }
        Some(build(entry, config, now))
    })
}

fn key_of(entry: &mut Entry, version: u32) -> (SigningKey, [u8; 32]) {
    let secret = entry.secret.as_bytes();
    let id = entry.row.id.as_str();
    entry
        .keys
        .entry(version)
        .or_insert_with(|| {
            let seed = derive_signing_seed(secret, id, version);
            (SigningKey::from_seed(&seed), seed)
        })
        .clone()
}

fn build(entry: &mut Entry, config: &TenantConfig, now: i64) -> Result<Tenant, Reply> {
    let Some(signer) = rotation::signing_version(&entry.versions, now).copied() else {
        return Err(misconfigured("the tenant has no signing key"));
    };
    let published: Vec<u32> = rotation::published_versions(&entry.versions, now, &config.policy)
        .iter()
        .map(|v| v.version)
        .collect();
    let stale = entry
        .published
        .as_ref()
        .is_none_or(|(ids, _, _)| *ids != published);
    if stale {
        let jwks = Jwks::from_keys(
            published
                .iter()
                .map(|v| key_of(entry, *v).0.public_jwk())
                .collect(),
        );
        let json = Rc::new(jwks.to_json());
        entry.published = Some((published, jwks, json));
    }
    let (key, seed) = key_of(entry, signer.version);
    let (_, jwks, json) = entry
        .published
        .as_ref()
        .ok_or_else(|| misconfigured("the tenant's key set is unavailable"))?;
    Ok(Tenant {
        id: entry.row.id.clone(),
        issuer: entry.row.issuer.clone(),
        key,
        seed,
        key_version: signer.version,
        jwks: jwks.clone(),
        jwks_json: Rc::clone(json),
        max_age: config.max_age(),
    })
}

/// The versions whose schedule changed between `before` and `after`, with their state.
fn changed_versions(
    before: &[KeyVersion],
    after: &[KeyVersion],
    now: i64,
    policy: &RotationPolicy,
) -> Vec<(KeyVersion, &'static str)> {
    after
        .iter()
        .filter(|v| before.iter().any(|b| b.version == v.version && b != *v))
        .map(|v| (*v, store::key_state(v, now, policy)))
        .collect()
}

// ------------------------------------------------------------------ scheduled rotation

/// What one tenant's rotation did.
#[derive(Debug, Clone, Default)]
pub(crate) struct RotationOutcome {
    /// Tenants looked at.
    pub(crate) tenants: u32,
    /// New versions scheduled.
    pub(crate) rotated: u32,
    /// Versions marked retired.
    pub(crate) retired: u32,
    /// Tenants whose rotation failed (retried at the next run).
    pub(crate) failed: u32,
}

/// Rotates every tenant whose key is due, with the overlap rules of [`crate::keys::rotation`],
/// and marks versions whose tokens have all expired as retired.
pub(crate) async fn rotate_due_tenants(env: &Env) -> worker::Result<RotationOutcome> {
    let config = TenantConfig::from_env(env);
    let db = store::db(env)?;
    let mut outcome = RotationOutcome::default();
    for id in store::tenant_ids(&db).await? {
        outcome.tenants += 1;
        // A new version is in D1 (and so in any JWKS) only once the batch commits: date it
        // from the next second, so `published_at` is never before it is visible and the
        // whole publish lead separates visibility from signing.
        let now = now_secs().saturating_add(1);
        let result = rotate_tenant(&db, &id, now, &config.policy).await;
        match result {
            Ok((rotated, retired)) => {
                outcome.rotated += u32::from(rotated);
                outcome.retired += retired;
                if rotated || retired > 0 {
                    forget(Some(&id));
                }
            }
            Err(e) => {
                outcome.failed += 1;
                worker::console_error!("torii-edge: rotating {}: {}", id, e);
            }
        }
    }
    Ok(outcome)
}

/// What a rotation run writes for one tenant: versions whose schedule or state changed,
/// and the new version when a rotation is due.
pub(crate) type RotationPlan = (
    Vec<(KeyVersion, &'static str)>,
    Option<(KeyVersion, &'static str)>,
);

/// Plans one tenant's rotation at `now` from its stored versions and states.
pub(crate) fn plan_rotation(
    stored: &[(KeyVersion, String)],
    now: i64,
    policy: &RotationPolicy,
) -> RotationPlan {
    let mut versions: Vec<KeyVersion> = stored.iter().map(|(v, _)| *v).collect();
    let new = rotation::rotation_due(&versions, now, policy)
        .then(|| rotation::rotate(&mut versions, now, policy))
        .map(|v| (v, store::key_state(&v, now, policy)));
    let changed = stored
        .iter()
        .filter_map(|(before, state)| {
            let after = versions.iter().find(|v| v.version == before.version)?;
            let want = store::key_state(after, now, policy);
            (after != before || want != state.as_str()).then_some((*after, want))
        })
        .collect();
    (changed, new)
}

async fn rotate_tenant(
    db: &worker::D1Database,
    id: &str,
    now: i64,
    policy: &RotationPolicy,
) -> worker::Result<(bool, u32)> {
    let stored = store::key_versions_with_state(db, id).await?;
    let (changed, new) = plan_rotation(&stored, now, policy);
    let retired: Vec<u32> = changed
        .iter()
        .filter(|(_, s)| *s == "retired")
        .map(|(v, _)| v.version)
        .collect();
    if changed.is_empty() && new.is_none() {
        return Ok((false, 0));
    }
    store::write_rotation(db, id, &changed, new).await?;
    worker::console_log!(
        "{}",
        serde_json::json!({
            "event": "rotation",
            "tenant": id,
            "rotated": new.map(|(v, _)| v.version),
            "retired": retired,
            "states": changed.iter().map(|(v, s)| (v.version.to_string(), *s)).collect::<BTreeMap<_, _>>(),
        })
    );
    Ok((
        new.is_some(),
        u32::try_from(retired.len()).unwrap_or(u32::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

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
    fn application_id_names_the_tenant_only_where_the_host_does_not() {
        assert_eq!(
            lookup(HostMatch::Subdomain("acme".into()), None).unwrap(),
            Lookup::Id("acme".into())
        );
        assert_eq!(
            lookup(HostMatch::Subdomain("acme".into()), Some("acme")).unwrap(),
            Lookup::Id("acme".into())
        );
        let err = lookup(HostMatch::Subdomain("acme".into()), Some("other")).unwrap_err();
        assert_eq!(err.status, 400);
        assert_eq!(
            lookup(HostMatch::Loopback(Some("demo".into())), Some("acme")).unwrap(),
            Lookup::Id("acme".into())
        );
        assert_eq!(
            lookup(HostMatch::Loopback(Some("demo".into())), Some("  ")).unwrap(),
            Lookup::Id("demo".into())
        );
        assert_eq!(lookup(HostMatch::Apex, None).unwrap_err().status, 404);
        assert_eq!(
            lookup(HostMatch::Loopback(None), None).unwrap_err().status,
            404
        );
        assert_eq!(
            lookup(HostMatch::Other("x.com".into()), Some("acme")).unwrap(),
            Lookup::Domain {
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
    fn rotation_plan_publishes_before_signing_and_tracks_states() {
        let p = RotationPolicy {
            period: 100,
            publish_lead: 10,
            max_token_lifetime: 50,
            skew: 5,
        };
        let v1 = KeyVersion {
            version: 1,
            published_at: 0,
            signs_from: 0,
            signs_until: None,
        };
        // Not due: nothing to write.
        let (changed, new) = plan_rotation(&[(v1, "active".into())], 50, &p);
        assert!(changed.is_empty() && new.is_none());
        // Due: v2 published now, signing after the lead; v1 retiring then.
        let (changed, new) = plan_rotation(&[(v1, "active".into())], 100, &p);
        let (v2, state) = new.unwrap();
        assert_eq!(
            (v2.version, v2.published_at, v2.signs_from, state),
            (2, 100, 110, "published")
        );
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].0.signs_until, Some(110));
        assert_eq!(changed[0].1, "retiring");
        // Later runs: v2 becomes active, then v1 retired after its tokens expired + skew.
        let v1r = changed[0].0;
        let stored = [(v1r, "retiring".into()), (v2, "published".into())];
        let (changed, new) = plan_rotation(&stored, 120, &p);
        assert!(new.is_none());
        assert_eq!(changed, vec![(v2, "active")]);
        let stored = [(v1r, "retiring".into()), (v2, "active".into())];
        let (changed, _) = plan_rotation(&stored, 110 + 50 + 5, &p);
        assert_eq!(changed, vec![(v1r, "retired")]);
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
}
