//! Tenants: which tenant a request is for, its issuer and its keys, cached per isolate;
//! and the scheduled key rotation.
//!
//! The rules (host classification, `x-application-id`, settings, cache lifetimes) are the
//! core's [`crate::edge::tenancy`]; rotation planning is [`crate::keys::rotation`]. Here:
//!
//! * Resolution reads the custom-domain mapping from D1 (`tenant_domains`).
//! * Keys: seeds are derived per (tenant, version) from `TORII_MASTER_SECRET`; D1 holds
//!   only the versions' timestamps. The tenant's verifier holds only its own published
//!   keys and accepts only its own issuer, so a token of another tenant fails with
//!   `unknown_key` or `invalid_issuer` even when a `kid` collides.
//! * Cache: each tenant's row and key versions stay in isolate memory (served while
//!   `waitUntil` refreshes them), so a warm request reads neither D1 nor KV, and every
//!   isolate sees a new key before it signs anything. The caches (tenants, custom
//!   domains, tenant ids known to be missing) are bounded LRUs ([`LruCache`]): a flood of
//!   names evicts the least recently used entries one by one, never the whole cache.
//! * Load from unknown names: a request naming a tenant or custom domain this isolate
//!   does not know (not seen in D1 in the last hour) costs a D1 read, so it is first counted
//!   per client address by the `TENANT_LIMITER` binding
//!   ([`UNKNOWN_TENANT_LIMIT`](crate::edge::ratelimit::UNKNOWN_TENANT_LIMIT)); over the
//!   limit it is answered 429 `rate_limited` without reading D1. Known tenants are never
//!   counted.

use super::clock::{now_ms, now_secs};
use super::env::string_var;
use super::ratelimit;
use super::store::{self, TenantRow};
use super::webcrypto::TenantKey;
use crate::edge::authn;
use crate::edge::lru::LruCache;
use crate::edge::ratelimit::{unknown_tenant_key, UNKNOWN_TENANT_LIMIT};
use crate::edge::reply::{self, Reply};
use crate::edge::tenancy::{
    classify_host, domain_tenant, forgotten_tenants, fresh, lookup, master_secret,
    tenant_not_found, valid_tenant_id, Forgotten, TenantConfig, TenantLookup,
    DEFAULT_CACHE_TTL_SECS, MAX_DOMAIN_LEN, MAX_STALE_MS,
};
use crate::keys::rotation::{self, KeyVersion};
use crate::{derive_signing_seed, Jwks, Verifier};
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use worker::{Context, Env, Request};

pub(crate) use crate::edge::tenancy::APPLICATION_ID_HEADER;

/// Most tenants (row, key versions, derived keys) each isolate keeps.
const MAX_TENANTS: usize = 1024;
/// Most custom domains, and most missing tenant ids, each isolate remembers.
const MAX_NAMES: usize = 4096;
/// Header with the client's address, set by Cloudflare.
pub(crate) const CLIENT_IP_HEADER: &str = "cf-connecting-ip";

/// A resolved tenant: what the routes, the mint endpoint and the gateway need.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// Tenant (application) id: `pid` in its tokens.
    pub(crate) id: String,
    /// Its issuer URL: `iss` in its tokens.
    pub(crate) issuer: String,
    /// The key signing now (with WebCrypto).
    pub(crate) key: TenantKey,
    /// The signing key's version (reported by the dev-only session helper).
    #[cfg_attr(not(feature = "dev"), allow(dead_code))]
    pub(crate) key_version: u32,
    /// The verifier of its session tokens, over its published keys (tokens of this tenant
    /// verify against these): built once per key set, shared by every request.
    pub(crate) verifier: Rc<Verifier>,
    /// The JWKS document as served.
    pub(crate) jwks_json: Rc<String>,
    /// `max-age` of the public documents (≤ 300 s and ≤ half the publish lead).
    pub(crate) max_age: i64,
}

std::thread_local! {
    /// The tenancy settings, derived once per `env` object.
    static CONFIG: super::env::PerEnv<Rc<TenantConfig>> = const { RefCell::new(None) };
}

/// The tenancy settings from the Worker's vars (read and parsed once per `env` object).
pub(crate) fn config(env: &Env) -> Rc<TenantConfig> {
    super::env::once_per_env(&CONFIG, env, || {
        Rc::new(TenantConfig::from_vars(|name| string_var(env, name)))
    })
}

// ------------------------------------------------------------------ isolate cache

#[derive(Debug)]
struct Entry {
    /// The master secret the keys were derived from.
    secret: String,
    row: TenantRow,
    versions: Vec<KeyVersion>,
    loaded_ms: f64,
    /// Derived keys by version: one for each of `versions`.
    keys: Vec<(u32, TenantKey)>,
    /// For a set of published versions: the session verifier over their JWKS
    /// ([`authn::session_verifier`], for the row's issuer) and the JWKS document.
    published: Option<(Vec<u32>, Rc<Verifier>, Rc<String>)>,
}

std::thread_local! {
    /// Tenants, kept up to [`MAX_STALE_MS`] (served fresh for the cache TTL, then while a
    /// refresh runs, then only when D1 cannot be read).
    static TENANTS: RefCell<LruCache<String, Entry>> =
        const { RefCell::new(LruCache::new(MAX_TENANTS, MAX_STALE_MS)) };
    /// Custom domain → tenant id (`None`: not mapped), with the load time: served for the
    /// cache TTL, kept up to [`MAX_STALE_MS`] so a mapped domain stays known.
    static DOMAINS: RefCell<LruCache<String, (Option<String>, f64)>> =
        const { RefCell::new(LruCache::new(MAX_NAMES, MAX_STALE_MS)) };
    /// Tenants being refreshed in the background: a set (no bound beyond the refreshes
    /// running, nothing expires), held in an [`LruCache`] of the same type as `KNOWN`'s
    /// so the wasm has one copy of the set code instead of a `BTreeSet`'s too.
    static REFRESHING: RefCell<LruCache<String, ()>> =
        const { RefCell::new(LruCache::new(usize::MAX, i64::MAX)) };
    /// Tenant ids seen in D1 in the last hour: not counted as unknown names, even once
    /// their entry was dropped (after a rotation) or evicted.
    static KNOWN: RefCell<LruCache<String, ()>> =
        const { RefCell::new(LruCache::new(MAX_NAMES, MAX_STALE_MS)) };
    /// Tenant ids not in D1, for the cache TTL.
    static MISSING: RefCell<LruCache<String, ()>> =
        const { RefCell::new(LruCache::new(MAX_NAMES, DEFAULT_CACHE_TTL_SECS * 1000)) };
}

/// The caches' clock: `Date.now()` in whole milliseconds.
fn cache_ms() -> i64 {
    // f64 → i64 `as` saturates; Date.now() is a finite positive number of ms.
    #[allow(clippy::cast_possible_truncation)]
    let ms = now_ms() as i64;
    ms
}

/// Counts a request that would read D1 for a name this isolate does not know against
/// the client's unknown-tenant budget; `Err` is the 429.
async fn admit_unknown(env: &Env, client: Option<&str>) -> Result<(), Reply> {
    ratelimit::check(env, &UNKNOWN_TENANT_LIMIT, &unknown_tenant_key(client)).await
}

std::thread_local! {
    /// What this instance forgot since the entry last carried it to the isolate's other
    /// wasm instance ([`tenant_forgotten`]).
    static FORGOTTEN: RefCell<Forgotten> = const { RefCell::new(Forgotten::Nothing) };
}

/// Drops `tenant` (`None`: every cached tenant and domain) from this instance's caches,
/// and records it for the isolate's other wasm instance (after an API write, a rotation,
/// a tenant found missing; dev mode's `forget`).
pub(crate) fn forget(tenant: Option<&str>) {
    FORGOTTEN.with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            f.add(tenant);
        }
    });
    forget_here(tenant);
}

/// What this instance forgot since the last call ([`Forgotten::take`]'s text: `*` or
/// tenant ids one per line), for the entry to hand to the isolate's other wasm instance
/// ([`tenant_forget`]); `undefined` when nothing.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn tenant_forgotten() -> Option<String> {
    FORGOTTEN.with(|f| f.try_borrow_mut().ok().and_then(|mut f| f.take()))
}

/// Forgets what the isolate's other wasm instance forgot (its [`tenant_forgotten`]),
/// without recording it again.
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn tenant_forget(forgotten: &str) {
    for tenant in forgotten_tenants(forgotten) {
        forget_here(tenant);
    }
}

/// Drops `tenant` (`None`: every cached tenant and domain) from this instance's caches.
fn forget_here(tenant: Option<&str>) {
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
        KNOWN.with(|k| {
            if let Ok(mut k) = k.try_borrow_mut() {
                k.clear();
            }
        });
    }
}

/// Records whether tenant `id` exists in D1 (for the unknown-name limit).
fn set_known(id: &str, exists: bool) {
    KNOWN.with(|k| {
        if let Ok(mut k) = k.try_borrow_mut() {
            if exists {
                k.insert(id.to_string(), (), cache_ms());
            } else {
                k.remove(id);
            }
        }
    });
}

/// The reply when D1 failed (logged).
fn storage_error(err: &worker::Error) -> Reply {
    store::storage_error(err, STORE_UNAVAILABLE)
}

const STORE_UNAVAILABLE: &str = "the tenant store is unavailable";

/// Resolves the tenant of `req` (see the module docs). `Err` is the reply to send.
pub(crate) async fn resolve_tenant(
    req: &Request,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let url = super::http::request_url(req).ok_or_else(tenant_not_found)?;
    let host = url.host().to_string();
    let app_id = req.headers().get(APPLICATION_ID_HEADER).ok().flatten();
    let client = client_ip(req.headers());
    resolve(&host, app_id.as_deref(), client.as_deref(), env, ctx).await
}

/// The client's address (`CF-Connecting-IP`), if the runtime gave one.
pub(crate) fn client_ip(headers: &worker::Headers) -> Option<String> {
    headers.get(CLIENT_IP_HEADER).ok().flatten()
}

/// Resolves the tenant for a host and `x-application-id`. With `ctx`, an expired cache
/// entry (up to twice the TTL) is served while `ctx.waitUntil` refreshes it, so a busy
/// isolate never waits on D1. `client` (`CF-Connecting-IP`) is what D1 reads for unknown
/// names are counted under.
pub(crate) async fn resolve(
    host: &str,
    app_id: Option<&str>,
    client: Option<&str>,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let config = config(env);
    let id = match lookup(classify_host(host, &config), app_id)? {
        TenantLookup::Id(id) => id,
        TenantLookup::Domain { host, fallback } => domain_tenant(
            domain_tenant_id(&host, &config, client, env).await?,
            fallback,
        )?,
    };
    if !valid_tenant_id(&id) {
        return Err(tenant_not_found());
    }
    tenant_by_id(&id, &config, client, env, ctx).await
}

/// [`resolve`] from this isolate's caches alone, for the fast path ([`super::fast`]):
/// `None` when [`resolve`] would read D1, serve a stale entry while refreshing it, or
/// count an unknown name (the request then takes the full path, which does).
pub(crate) fn resolve_cached(
    host: &str,
    app_id: Option<&str>,
    env: &Env,
) -> Option<Result<Tenant, Reply>> {
    let config = config(env);
    let id = match lookup(classify_host(host, &config), app_id) {
        Err(reply) => return Some(Err(reply)),
        Ok(TenantLookup::Id(id)) => id,
        Ok(TenantLookup::Domain { host, fallback }) => {
            let (id, at) = cached_domain(&host)?;
            if !fresh(at, now_ms(), config.cache_ttl_ms) {
                return None;
            }
            match domain_tenant(id, fallback) {
                Ok(id) => id,
                Err(reply) => return Some(Err(reply)),
            }
        }
    };
    if !valid_tenant_id(&id) {
        return Some(Err(tenant_not_found()));
    }
    let secret = match master_secret(string_var(env, "TORII_MASTER_SECRET")) {
        Ok(secret) => secret,
        Err(reply) => return Some(Err(reply)),
    };
    build_cached(&id, &secret, &config, now_secs(), config.cache_ttl_ms)
}

/// The isolate's cached mapping of custom domain `host`, with when it was read.
fn cached_domain(host: &str) -> Option<(Option<String>, f64)> {
    DOMAINS.with(|d| {
        d.try_borrow_mut()
            .ok()
            .and_then(|mut d| d.get(host, cache_ms()).cloned())
    })
}

/// The tenant a custom domain is mapped to in D1 (isolate-cached).
async fn domain_tenant_id(
    host: &str,
    config: &TenantConfig,
    client: Option<&str>,
    env: &Env,
) -> Result<Option<String>, Reply> {
    let cached = cached_domain(host);
    if let Some((id, at)) = &cached {
        if fresh(*at, now_ms(), config.cache_ttl_ms) {
            return Ok(id.clone());
        }
    }
    if host.len() > MAX_DOMAIN_LEN {
        return Ok(None);
    }
    // A domain seen mapped in the last hour is known; any other read is counted.
    if cached.is_none_or(|(id, _)| id.is_none()) {
        admit_unknown(env, client).await?;
    }
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    let id = store::tenant_of_domain(&db, host)
        .await
        .map_err(|e| storage_error(&e))?;
    DOMAINS.with(|d| {
        if let Ok(mut d) = d.try_borrow_mut() {
            d.insert(host.to_string(), (id.clone(), now_ms()), cache_ms());
        }
    });
    Ok(id)
}

/// The tenant `id`, from the isolate cache or D1 (creating its first key if it has none).
///
/// When D1 cannot be read, a cached entry up to
/// [`MAX_STALE_SECS`](crate::edge::tenancy::MAX_STALE_SECS) old is used instead
/// (its keys stay valid: a key a stale entry still signs with stays published for the
/// longest token lifetime after it stops signing); with none, 503 `storage_unavailable`.
/// A D1 read for an id this isolate does not know is counted against `client`'s
/// unknown-tenant budget first.
pub(crate) async fn tenant_by_id(
    id: &str,
    config: &TenantConfig,
    client: Option<&str>,
    env: &Env,
    ctx: Option<&Context>,
) -> Result<Tenant, Reply> {
    let secret = master_secret(string_var(env, "TORII_MASTER_SECRET"))?;
    let now = now_secs();
    if let Some(tenant) = build_cached(id, &secret, config, now, config.cache_ttl_ms) {
        return tenant;
    }
    if let Some(ctx) = ctx {
        let stale_ms = config.refresh_ttl_ms();
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
        m.try_borrow_mut().is_ok_and(|mut m| {
            m.set_ttl(config.cache_ttl_ms);
            m.get(id, cache_ms()).is_some()
        })
    });
    if missing {
        return Err(tenant_not_found());
    }
    let known = KNOWN.with(|k| k.try_borrow().is_ok_and(|k| k.contains(id, cache_ms())));
    if !known {
        admit_unknown(env, client).await?;
    }
    match load(id, now, config, env).await {
        Ok(Some((row, versions))) => {
            let keys = derive_keys(id, &secret, &versions).await?;
            store_entry(id, &secret, row, versions, keys);
            build_cached(id, &secret, config, now, i64::MAX).unwrap_or_else(|| {
                Err(reply::misconfigured(
                    "the isolate's tenant cache is unavailable",
                ))
            })
        }
        Ok(None) => {
            set_known(id, false);
            MISSING.with(|m| {
                if let Ok(mut m) = m.try_borrow_mut() {
                    m.set_ttl(config.cache_ttl_ms);
                    m.insert(id.to_string(), (), cache_ms());
                }
            });
            Err(tenant_not_found())
        }
        Err(e) => {
            let stale = build_cached(id, &secret, config, now, MAX_STALE_MS);
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
            stale.unwrap_or_else(|| Err(reply::storage_unavailable(STORE_UNAVAILABLE)))
        }
    }
}

/// The key of `version` among a tenant's derived keys (at most 64: a list, smaller in the
/// wasm than an ordered map).
fn key_of(keys: &[(u32, TenantKey)], version: u32) -> Option<&TenantKey> {
    keys.iter().find(|(v, _)| *v == version).map(|(_, k)| k)
}

/// The keys of `versions` (WebCrypto derives their public halves), reusing those this
/// isolate already derived for tenant `id` under `secret`. `Err` (500) when WebCrypto
/// could not derive one.
async fn derive_keys(
    id: &str,
    secret: &str,
    versions: &[KeyVersion],
) -> Result<Vec<(u32, TenantKey)>, Reply> {
    let mut keys = TENANTS
        .with(|t| {
            let t = t.try_borrow().ok()?;
            let entry = t.peek(id, cache_ms())?;
            (entry.secret == secret).then(|| entry.keys.clone())
        })
        .unwrap_or_default();
    keys.retain(|(v, _)| versions.iter().any(|k| k.version == *v));
    for v in versions {
        if key_of(&keys, v.version).is_none() {
            let seed = derive_signing_seed(secret.as_bytes(), id, v.version);
            let key = TenantKey::derive(seed).await.ok_or_else(|| {
                worker::console_error!("torii-edge: WebCrypto could not derive a key of {}", id);
                reply::internal_error()
            })?;
            keys.push((v.version, key));
        }
    }
    Ok(keys)
}

/// Caches a tenant's row, versions and their keys ([`derive_keys`]).
fn store_entry(
    id: &str,
    secret: &str,
    row: TenantRow,
    versions: Vec<KeyVersion>,
    keys: Vec<(u32, TenantKey)>,
) {
    set_known(id, true);
    TENANTS.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
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
                cache_ms(),
            );
        }
    });
}

/// Marks `id` as being refreshed; `false` if a refresh is already running.
fn start_refresh(id: &str) -> bool {
    REFRESHING.with(|r| {
        r.try_borrow_mut().is_ok_and(|mut r| {
            // `i64::MAX` TTL: an entry never expires, so the time given does not matter.
            let first = !r.contains(id, 0);
            if first {
                r.insert(id.to_string(), (), 0);
            }
            first
        })
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
        Ok(Some((row, versions))) => {
            // A failure is logged; the old entry stays until it is too old.
            if let Ok(keys) = derive_keys(id, secret, &versions).await {
                store_entry(id, secret, row, versions, keys);
            }
        }
        Ok(None) => {
            set_known(id, false);
            forget(Some(id));
        }
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
    if let Some((after, (changed, new))) = rotation::plan_first_key(&versions, now, &config.policy)
    {
        // First key (or every key retired): create one now, signing at once.
        versions = match store::write_rotation(&db, id, &changed, new).await {
            Ok(()) => after,
            Err(e) => {
                // Another isolate created it first: read what won.
                worker::console_log!("torii-edge: first key of {}: {}", id, e);
                store::key_versions(&db, id).await?
            }
        };
    }
    Ok(Some((row, versions)))
}

/// Builds the tenant from a fresh cache entry; `None` when there is none.
fn build_cached(
    id: &str,
    secret: &str,
    config: &TenantConfig,
    now: i64,
    max_age_ms: i64,
) -> Option<Result<Tenant, Reply>> {
    TENANTS.with(|t| {
        let mut t = t.try_borrow_mut().ok()?;
        let entry = t.get_mut(id, cache_ms())?;
        if entry.secret != secret || !fresh(entry.loaded_ms, now_ms(), max_age_ms) {
            return None;
        }
        Some(build(entry, config, now))
    })
}

fn build(entry: &mut Entry, config: &TenantConfig, now: i64) -> Result<Tenant, Reply> {
    let Some(signer) = rotation::signing_version(&entry.versions, now).copied() else {
        return Err(reply::misconfigured("the tenant has no signing key"));
    };
    let published: Vec<u32> = rotation::published_versions(&entry.versions, now, &config.policy)
        .iter()
        .map(|v| v.version)
        .collect();
    let stale = entry.published.as_ref().is_none_or(|(ids, verifier, _)| {
        *ids != published || !matches!(verifier.policy().issuers(), [i] if *i == entry.row.issuer)
    });
    if stale {
        let jwks = published
            .iter()
            .map(|v| key_of(&entry.keys, *v).map(TenantKey::public_jwk))
            .collect::<Option<Vec<_>>>()
            .map(Jwks::from_keys)
            .ok_or_else(|| reply::misconfigured("the tenant's key set is unavailable"))?;
        let json = Rc::new(jwks.to_json());
        let verifier = Rc::new(authn::session_verifier(jwks, &entry.row.issuer));
        entry.published = Some((published, verifier, json));
    }
    let key = key_of(&entry.keys, signer.version)
        .cloned()
        .ok_or_else(|| reply::misconfigured("the tenant's key set is unavailable"))?;
    let (_, verifier, json) = entry
        .published
        .as_ref()
        .ok_or_else(|| reply::misconfigured("the tenant's key set is unavailable"))?;
    Ok(Tenant {
        id: entry.row.id.clone(),
        issuer: entry.row.issuer.clone(),
        key,
        key_version: signer.version,
        verifier: Rc::clone(verifier),
        jwks_json: Rc::clone(json),
        max_age: config.max_age(),
    })
}

// ------------------------------------------------------------------ scheduled rotation

/// What one tenant's rotation did.
#[derive(Debug, Clone, Default)]
#[cfg(feature = "api")]
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
#[cfg(feature = "api")]
pub(crate) async fn rotate_due_tenants(env: &Env) -> worker::Result<RotationOutcome> {
    let config = config(env);
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

#[cfg(feature = "api")]
async fn rotate_tenant(
    db: &worker::D1Database,
    id: &str,
    now: i64,
    policy: &rotation::RotationPolicy,
) -> worker::Result<(bool, u32)> {
    let stored = store::key_versions_with_state(db, id).await?;
    let (changed, new) = rotation::plan_rotation(&stored, now, policy);
    let retired = rotation::retired_in(&changed);
    if changed.is_empty() && new.is_none() {
        return Ok((false, 0));
    }
    store::write_rotation(db, id, &changed, new).await?;
    // Inserted one by one (as `collect` would, the last of equal keys wins): no sort of
    // the pairs instantiated for this log line.
    let mut states = serde_json::Map::new();
    for (v, s) in &changed {
        states.insert(v.version.to_string(), serde_json::Value::from(*s));
    }
    worker::console_log!(
        "{}",
        serde_json::json!({
            "event": "rotation",
            "tenant": id,
            "rotated": new.map(|(v, _)| v.version),
            "retired": retired,
            "states": states,
        })
    );
    Ok((
        new.is_some(),
        u32::try_from(retired.len()).unwrap_or(u32::MAX),
    ))
}
