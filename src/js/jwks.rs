//! The JWKS cache policy: [`WasmJwksCache`] and [`max_age_from_cache_control`].

use super::*;

/// Whole seconds from a JS number (fractions floored; `as` saturates, NaN is 0).
fn seconds(value: f64) -> i64 {
    unix_time(value).0
}

/// The core's JWKS cache policy ([`JwksCache`]) for the npm package's in-memory cache:
/// the core decides, the JS adapter fetches and keeps the verifier it built from the set.
#[wasm_bindgen(js_name = JwksCache)]
pub struct WasmJwksCache {
    inner: JwksCache,
}

#[wasm_bindgen(js_class = JwksCache)]
impl WasmJwksCache {
    /// A cache with this policy (seconds; see [`CacheConfig`]).
    #[wasm_bindgen(constructor)]
    pub fn new(
        default_ttl: f64,
        min_ttl: f64,
        max_ttl: f64,
        cooldown: f64,
        max_stale: f64,
    ) -> WasmJwksCache {
        Self {
            inner: JwksCache::new(CacheConfig {
                default_ttl: seconds(default_ttl),
                min_ttl: seconds(min_ttl),
                max_ttl: seconds(max_ttl),
                cooldown: seconds(cooldown),
                max_stale: seconds(max_stale),
            }),
        }
    }

    /// [`JwksCache::lookup_known`], encoded as a number: `0` use, `1` use and revalidate,
    /// `2` fetch, `-n` unavailable with `Retry-After` `n` (≥ 1) seconds.
    pub fn lookup(&self, knows_kid: bool, now: f64) -> f64 {
        // Retry-After is at most the cooldown: exact in f64.
        #[allow(clippy::cast_precision_loss)]
        match self.inner.lookup_known(knows_kid, unix_time(now)) {
            Lookup::Use(_) => 0.0,
            Lookup::UseAndRevalidate(_) => 1.0,
            Lookup::Fetch => 2.0,
            Lookup::Unavailable { retry_after } => -(retry_after.max(1) as f64),
        }
    }

    /// Records that a fetch starts at `now` (starts the cooldown).
    #[wasm_bindgen(js_name = beginFetch)]
    pub fn begin_fetch(&mut self, now: f64) {
        self.inner.begin_fetch(unix_time(now));
    }

    /// Records a successful fetch at `now`, fresh for `max_age` (clamped; default when
    /// `undefined`). The keys themselves live in the adapter's verifier.
    pub fn store(&mut self, max_age: Option<f64>, now: f64) {
        self.inner.insert(
            Jwks::from_keys(Vec::new()),
            seconds(now),
            max_age.map(seconds),
        );
    }

    /// Freshness for a `max-age` (`undefined`: the default), clamped to the policy.
    pub fn ttl(&self, max_age: Option<f64>) -> f64 {
        // Clamped to the policy's bounds: exact in f64 in practice.
        #[allow(clippy::cast_precision_loss)]
        let ttl = self.inner.ttl(max_age.map(seconds)) as f64;
        ttl
    }
}

/// `max-age` from a `Cache-Control` header value, as the edge's JWKS cache reads it
/// (`no-store`/`no-cache` give 0); `undefined` when absent.
#[wasm_bindgen(js_name = maxAgeFromCacheControl)]
pub fn max_age_from_cache_control(value: &str) -> Option<f64> {
    // Whole seconds well inside f64's exact range in practice; `as` rounds otherwise.
    #[allow(clippy::cast_precision_loss)]
    crate::keys::jwks_cache::max_age_from_cache_control(value).map(|s| s as f64)
}
