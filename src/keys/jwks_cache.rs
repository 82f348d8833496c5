//! The JWKS cache policy, as a sans-I/O state machine.
//!
//! The edge (isolate memory → KV → HTTPS) and the npm package (memory → HTTPS) share this
//! policy; they do the I/O and report back. Defaults follow panva/jose's remote key set:
//!
//! * a fetched set is **fresh** for the response's `Cache-Control: max-age`, clamped to
//!   `[60 s, 24 h]` (10 min without one);
//! * once stale it is still **served while revalidating** in the background;
//! * a `kid` the set does not know triggers a refetch, **at most once per 30 s**
//!   (any fetch attempt starts the cooldown, so a flood of unknown `kid`s costs one fetch);
//! * when fetches fail, the last good set keeps being served for **up to 24 h** past its
//!   freshness; after that, [`Lookup::Unavailable`] tells the adapter to fail closed
//!   (`jwks_unavailable`, with a `Retry-After`).
//!
//! Nothing here shares a fetch across requests: the adapter decides per request.

use crate::error::KeyError;
use crate::jose::jwk::Jwks;
use crate::time::UnixTime;

/// Tunables of the cache policy, all in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Freshness when the response has no usable `max-age`.
    pub default_ttl: i64,
    /// Lower clamp of `max-age`.
    pub min_ttl: i64,
    /// Upper clamp of `max-age`.
    pub max_ttl: i64,
    /// Minimum time between two fetch attempts.
    pub cooldown: i64,
    /// How long past freshness a set may still be served when refreshes fail.
    pub max_stale: i64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            default_ttl: 600,
            min_ttl: 60,
            max_ttl: 86_400,
            cooldown: 30,
            max_stale: 86_400,
        }
    }
}

/// What the adapter should do for one verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Verify with this set; no I/O.
    Use(&'a Jwks),
    /// Verify with this (stale) set now, and refresh it in the background.
    UseAndRevalidate(&'a Jwks),
    /// Fetch the set before verifying (nothing usable is cached, or the `kid` is unknown
    /// and the cooldown has passed). Call [`JwksCache::begin_fetch`] first.
    Fetch,
    /// Fail closed: no usable set, and fetching again now would break the cooldown.
    Unavailable {
        /// Seconds after which a retry may succeed (for `Retry-After`).
        retry_after: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    jwks: Jwks,
    fetched_at: i64,
    fresh_until: i64,
}

/// The cache of one issuer's key set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JwksCache {
    config: CacheConfig,
    entry: Option<Entry>,
    last_attempt: Option<i64>,
}

impl JwksCache {
    /// An empty cache with the given policy.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            config,
            entry: None,
            last_attempt: None,
        }
    }

    /// The policy in force.
    pub fn config(&self) -> CacheConfig {
        self.config
    }

    fn cooling_down(&self, now: i64) -> Option<i64> {
        let last = self.last_attempt?;
        let wait = last
            .saturating_add(self.config.cooldown)
            .saturating_sub(now);
        (wait > 0).then_some(wait)
    }

    /// Decides how to obtain keys for a token naming `kid` (or none) at `now`.
    pub fn lookup(&self, kid: Option<&str>, now: UnixTime) -> Lookup<'_> {
        let knows_kid = match (&self.entry, kid) {
            (Some(entry), Some(k)) => entry.jwks.select(Some(k)).is_some(),
            _ => true,
        };
        self.lookup_known(knows_kid, now)
    }

    /// [`JwksCache::lookup`] for an adapter that says whether the token's key is in the
    /// cached set (`false` after verifying with it gave `unknown_key`) instead of naming
    /// the `kid` (the npm package, whose verifiers hold the keys).
    pub fn lookup_known(&self, knows_kid: bool, now: UnixTime) -> Lookup<'_> {
        let now = now.0;
        let Some(entry) = &self.entry else {
            return match self.cooling_down(now) {
                Some(retry_after) => Lookup::Unavailable { retry_after },
                None => Lookup::Fetch,
            };
        };
        let cooling = self.cooling_down(now);
        if now < entry.fresh_until {
            if knows_kid || cooling.is_some() {
                return Lookup::Use(&entry.jwks);
            }
            return Lookup::Fetch;
        }
        let servable_until = entry.fresh_until.saturating_add(self.config.max_stale);
        if now < servable_until {
            return match (knows_kid, cooling) {
                (_, Some(_)) => Lookup::Use(&entry.jwks),
                (true, None) => Lookup::UseAndRevalidate(&entry.jwks),
                (false, None) => Lookup::Fetch,
            };
        }
        match cooling {
            Some(retry_after) => Lookup::Unavailable { retry_after },
            None => Lookup::Fetch,
        }
    }

    /// Records that a fetch starts now (it starts the cooldown, whatever its outcome).
    pub fn begin_fetch(&mut self, now: UnixTime) {
        self.last_attempt = Some(now.0);
    }

    /// Records a successful fetch: `body` is parsed and validated as a JWKS and kept fresh
    /// for `max_age` (clamped; the default when `None`). A body that is not a valid JWKS
    /// counts as a failed fetch: the previous set stays.
    pub fn on_fetch_ok(
        &mut self,
        body: &[u8],
        max_age: Option<i64>,
        now: UnixTime,
    ) -> Result<(), KeyError> {
        let jwks = Jwks::from_json(body)?;
        self.insert(jwks, now.0, max_age);
        Ok(())
    }

    /// Stores an already validated set fetched at `fetched_at` (e.g. read back from KV,
    /// where values are stamped with their fetch time).
    pub fn insert(&mut self, jwks: Jwks, fetched_at: i64, max_age: Option<i64>) {
        let ttl = self.ttl(max_age);
        self.entry = Some(Entry {
            jwks,
            fetched_at,
            fresh_until: fetched_at.saturating_add(ttl),
        });
    }

    /// Freshness for a `max-age`, clamped to the policy's bounds.
    pub fn ttl(&self, max_age: Option<i64>) -> i64 {
        max_age.map_or(self.config.default_ttl, |a| {
            a.clamp(self.config.min_ttl, self.config.max_ttl)
        })
    }

    /// When the cached set was fetched, if there is one.
    pub fn fetched_at(&self) -> Option<i64> {
        self.entry.as_ref().map(|e| e.fetched_at)
    }

    /// The cached set, whatever its age.
    pub fn jwks(&self) -> Option<&Jwks> {
        self.entry.as_ref().map(|e| &e.jwks)
    }
}

/// Reads `max-age` from a `Cache-Control` header value (`no-store`/`no-cache` give 0,
/// which the policy then clamps up to its minimum).
pub fn max_age_from_cache_control(value: &str) -> Option<i64> {
    let mut max_age = None;
    for directive in value.split(',') {
        let d = directive.trim();
        if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        if let Some((name, v)) = d.split_once('=') {
            if name.trim().eq_ignore_ascii_case("max-age") {
                max_age = v
                    .trim()
                    .trim_matches('"')
                    .parse::<i64>()
                    .ok()
                    .map(|n| n.max(0));
            }
        }
    }
    max_age
}

/// What an adapter does next to get a key set that concurrent requests of one process (a
/// Worker isolate) share: see [`SharedFetch::step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchStep {
    /// Verify with this set.
    Use(Jwks),
    /// Verify with this set, and refetch it in the background (this request started the
    /// flight; call [`SharedFetch::done`] when it ends).
    Revalidate(Jwks),
    /// Read the secondary cache (KV) once, then [`SharedFetch::done`] and step again.
    ReadSecondary,
    /// Fetch the set in the foreground, then [`SharedFetch::done`] and step again.
    Fetch,
    /// Another request is reading or fetching: wait a little and step again.
    Wait,
    /// Fail closed, retry after this many seconds.
    Unavailable(i64),
}

/// How long a flight (a secondary read or a fetch) may claim the set before another
/// request may take over, in milliseconds: the fetch timeout plus a second. A request
/// cancelled mid-fetch never reports back; its claim lapses after this.
pub const FLIGHT_DEADLINE_MS: i64 = 6_000;

/// How long an adapter waits for one secondary-cache (KV) call, in milliseconds. The
/// secondary cache only caches, so its failures never decide a request:
///
/// * a read that fails, times out or returns a value that does not parse is a **miss**:
///   report [`SharedFetch::done`] and step again, which fetches (the secondary cache is
///   read once per process, so a broken one costs one bounded wait, not one per request);
/// * a write that fails or times out leaves the fetched set in memory, where the request
///   and the ones after it use it; only other processes miss it.
///
/// Shorter than [`FLIGHT_DEADLINE_MS`], so a read that hangs reports back before its claim
/// lapses and no other request takes over a read still in flight.
pub const SECONDARY_TIMEOUT_MS: u32 = 1_000;

/// The state concurrent requests share around one [`JwksCache`]: whether one of them is
/// reading the secondary cache or fetching (and until when that claim holds), and whether
/// the secondary cache was read. Sans-I/O: every call takes the time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedFetch {
    in_flight_until_ms: Option<i64>,
    secondary_checked: bool,
}

impl SharedFetch {
    /// Whether a live flight holds the set at `now_ms`.
    pub fn in_flight(&self, now_ms: i64) -> bool {
        self.in_flight_until_ms.is_some_and(|until| now_ms < until)
    }

    /// The next step for a token naming `kid`, at `now` (the cache's clock, seconds) and
    /// `now_ms` (the flight clock): the cache's [`Lookup`], with at most one flight at a
    /// time (a lapsed one is taken over), and the secondary cache read once before the
    /// first fetch.
    pub fn step(
        &mut self,
        cache: &mut JwksCache,
        kid: Option<&str>,
        now: UnixTime,
        now_ms: i64,
    ) -> FetchStep {
        let busy = self.in_flight(now_ms);
        let claim =
            |s: &mut Self| s.in_flight_until_ms = Some(now_ms.saturating_add(FLIGHT_DEADLINE_MS));
        let has_set = cache.jwks().is_some();
        match cache.lookup(kid, now) {
            Lookup::Use(j) => FetchStep::Use(j.clone()),
            Lookup::UseAndRevalidate(j) => {
                let j = j.clone();
                if busy {
                    FetchStep::Use(j)
                } else {
                    cache.begin_fetch(now);
                    claim(self);
                    FetchStep::Revalidate(j)
                }
            }
            Lookup::Fetch | Lookup::Unavailable { .. } if busy => FetchStep::Wait,
            Lookup::Fetch if !self.secondary_checked && !has_set => {
                self.secondary_checked = true;
                claim(self);
                FetchStep::ReadSecondary
            }
            Lookup::Fetch => {
                cache.begin_fetch(now);
                claim(self);
                FetchStep::Fetch
            }
            Lookup::Unavailable { retry_after } => FetchStep::Unavailable(retry_after.max(1)),
        }
    }

    /// The flight this process started has ended (whatever its outcome).
    pub fn done(&mut self) {
        self.in_flight_until_ms = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    fn body(seeds: &[u8]) -> alloc::string::String {
        Jwks::from_keys(
            seeds
                .iter()
                .map(|s| SigningKey::from_seed(&[*s; 32]).public_jwk())
                .collect(),
        )
        .to_json()
    }
    fn kid(seed: u8) -> alloc::string::String {
        SigningKey::from_seed(&[seed; 32]).kid().into()
    }
    fn t(s: i64) -> UnixTime {
        UnixTime(s)
    }

    #[test]
    fn empty_cache_fetches_then_uses_while_fresh() {
        let mut c = JwksCache::default();
        assert_eq!(c.lookup(None, t(0)), Lookup::Fetch);
        c.begin_fetch(t(0));
        c.on_fetch_ok(body(&[1]).as_bytes(), None, t(0)).unwrap();
        for now in [1, 100, 599] {
            assert!(
                matches!(c.lookup(Some(&kid(1)), t(now)), Lookup::Use(_)),
                "{now}"
            );
        }
        assert!(matches!(
            c.lookup(Some(&kid(1)), t(600)),
            Lookup::UseAndRevalidate(_)
        ));
    }

    #[test]
    fn lookup_known_decides_as_lookup_does() {
        let mut c = JwksCache::default();
        let mut times = alloc::vec::Vec::new();
        for step in 0..6 {
            // Walk through empty, cooling, fresh, stale and expired states.
            match step {
                1 => c.begin_fetch(t(0)),
                2 => c
                    .on_fetch_ok(body(&[1]).as_bytes(), Some(60), t(0))
                    .unwrap(),
                4 => c.begin_fetch(t(100)),
                _ => {}
            }
            times.extend([0, 1, 29, 30, 59, 60, 100, 129, 130, 86_459, 86_460, 90_000]);
            for &now in &times {
                assert_eq!(
                    c.lookup(Some(&kid(1)), t(now)),
                    c.lookup_known(true, t(now))
                );
                assert_eq!(c.lookup(None, t(now)), c.lookup_known(true, t(now)));
                assert_eq!(
                    c.lookup(Some(&kid(9)), t(now)),
                    c.lookup_known(false, t(now))
                );
            }
        }
    }

    #[test]
    fn max_age_is_clamped_to_60s_and_24h() {
        let c = JwksCache::default();
        assert_eq!(c.ttl(Some(5)), 60);
        assert_eq!(c.ttl(Some(3600)), 3600);
        assert_eq!(c.ttl(Some(10_000_000)), 86_400);
        assert_eq!(c.ttl(None), 600);
        assert_eq!(max_age_from_cache_control("public, max-age=120"), Some(120));
        assert_eq!(max_age_from_cache_control("no-store"), Some(0));
        assert_eq!(max_age_from_cache_control("public"), None);
        assert_eq!(
            max_age_from_cache_control("max-age=\"30\", s-maxage=5"),
            Some(30)
        );
    }

    #[test]
    fn unknown_kid_refetches_at_most_every_30s() {
        let mut c = JwksCache::default();
        c.begin_fetch(t(0));
        c.on_fetch_ok(body(&[1]).as_bytes(), Some(3600), t(0))
            .unwrap();
        // Outside the cooldown: an unknown kid fetches once...
        assert_eq!(c.lookup(Some(&kid(2)), t(40)), Lookup::Fetch);
        c.begin_fetch(t(40));
        c.on_fetch_ok(body(&[1]).as_bytes(), Some(3600), t(40))
            .unwrap();
        // ...then the cooldown holds every further unknown kid for 30 s.
        for now in [40, 50, 69] {
            assert!(
                matches!(c.lookup(Some(&kid(3)), t(now)), Lookup::Use(_)),
                "{now}"
            );
        }
        assert_eq!(c.lookup(Some(&kid(3)), t(70)), Lookup::Fetch);
        // A rotated-in key is found after the refetch.
        c.begin_fetch(t(70));
        c.on_fetch_ok(body(&[1, 3]).as_bytes(), Some(3600), t(70))
            .unwrap();
        assert!(matches!(c.lookup(Some(&kid(3)), t(71)), Lookup::Use(s) if s.len() == 2));
    }

    #[test]
    fn failed_refreshes_serve_the_last_good_set_for_24h_then_fail_closed() {
        let mut c = JwksCache::default();
        c.begin_fetch(t(0));
        c.on_fetch_ok(body(&[1]).as_bytes(), Some(60), t(0))
            .unwrap();
        // Stale: served while revalidating; the revalidation fails (no on_fetch_ok).
        assert!(matches!(c.lookup(None, t(60)), Lookup::UseAndRevalidate(_)));
        c.begin_fetch(t(60));
        assert!(matches!(c.lookup(None, t(61)), Lookup::Use(_)));
        assert!(matches!(
            c.lookup(None, t(60 + 86_399)),
            Lookup::UseAndRevalidate(_)
        ));
        // Past 24 h of staleness nothing is served: fetch, and if that fails, unavailable.
        assert_eq!(c.lookup(None, t(60 + 86_400)), Lookup::Fetch);
        c.begin_fetch(t(60 + 86_400));
        assert_eq!(
            c.lookup(None, t(60 + 86_410)),
            Lookup::Unavailable { retry_after: 20 }
        );
    }

    #[test]
    fn first_fetch_failure_is_unavailable_during_cooldown() {
        let mut c = JwksCache::default();
        c.begin_fetch(t(100));
        assert_eq!(
            c.lookup(None, t(101)),
            Lookup::Unavailable { retry_after: 29 }
        );
        assert_eq!(c.lookup(None, t(130)), Lookup::Fetch);
    }

    #[test]
    fn invalid_body_keeps_the_previous_set() {
        let mut c = JwksCache::default();
        c.on_fetch_ok(body(&[1]).as_bytes(), None, t(0)).unwrap();
        assert_eq!(
            c.on_fetch_ok(b"{\"keys\":[]}", None, t(10))
                .unwrap_err()
                .code(),
            "invalid_jwks"
        );
        assert_eq!(c.jwks().map(Jwks::len), Some(1));
        assert_eq!(c.fetched_at(), Some(0));
    }

    fn set() -> &'static str {
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}]}"#
    }

    #[test]
    fn shared_fetch_reads_kv_once_then_fetches_one_at_a_time() {
        let mut cache = JwksCache::new(CacheConfig::default());
        let mut shared = SharedFetch::default();
        let t = UnixTime(1_000);
        // Cold: the first request reads the secondary cache; others wait meanwhile.
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, 0),
            FetchStep::ReadSecondary
        );
        assert_eq!(shared.step(&mut cache, Some("a"), t, 10), FetchStep::Wait);
        shared.done();
        // Nothing there: one fetch; the rest wait for it.
        assert_eq!(shared.step(&mut cache, Some("a"), t, 20), FetchStep::Fetch);
        assert_eq!(shared.step(&mut cache, Some("a"), t, 30), FetchStep::Wait);
        cache.on_fetch_ok(set().as_bytes(), Some(600), t).unwrap();
        shared.done();
        assert!(matches!(
            shared.step(&mut cache, Some("a"), t, 40),
            FetchStep::Use(_)
        ));
        // Stale: one request revalidates in the background, the others use the set.
        let later = UnixTime(1_000 + 601);
        assert!(matches!(
            shared.step(&mut cache, Some("a"), later, 50),
            FetchStep::Revalidate(_)
        ));
        assert!(matches!(
            shared.step(&mut cache, Some("a"), later, 60),
            FetchStep::Use(_)
        ));
    }

    #[test]
    fn a_failed_secondary_read_is_a_miss_fetched_once_and_never_reread() {
        let mut cache = JwksCache::new(CacheConfig::default());
        let mut shared = SharedFetch::default();
        let t = UnixTime(1_000);
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, 0),
            FetchStep::ReadSecondary
        );
        // The read failed or timed out (nothing inserted): a miss, so the same request
        // fetches next.
        let timed_out = i64::from(SECONDARY_TIMEOUT_MS);
        shared.done();
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, timed_out),
            FetchStep::Fetch
        );
        // The fetch failed too: fail closed during the cooldown, never a set.
        shared.done();
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, timed_out + 1),
            FetchStep::Unavailable(30)
        );
        // After the cooldown: fetch again; the broken secondary cache is not read again.
        let later = UnixTime(1_030);
        assert_eq!(
            shared.step(&mut cache, Some("a"), later, 40_000),
            FetchStep::Fetch
        );
        cache.on_fetch_ok(set().as_bytes(), None, later).unwrap();
        // Whatever the secondary write then does, memory serves.
        shared.done();
        assert!(matches!(
            shared.step(&mut cache, Some("a"), later, 40_001),
            FetchStep::Use(_)
        ));
    }

    #[test]
    fn a_hanging_secondary_read_times_out_before_its_claim_lapses() {
        const { assert!((SECONDARY_TIMEOUT_MS as i64) < FLIGHT_DEADLINE_MS) };
        let mut cache = JwksCache::new(CacheConfig::default());
        let mut shared = SharedFetch::default();
        let t = UnixTime(1_000);
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, 0),
            FetchStep::ReadSecondary
        );
        // At the read's deadline the claim still holds: others wait, none reads or fetches.
        let deadline = i64::from(SECONDARY_TIMEOUT_MS);
        assert!(shared.in_flight(deadline));
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, deadline),
            FetchStep::Wait
        );
    }

    #[test]
    fn a_cancelled_flight_lapses_and_another_request_takes_over() {
        let mut cache = JwksCache::new(CacheConfig::default());
        let mut shared = SharedFetch::default();
        let t = UnixTime(1_000);
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, 0),
            FetchStep::ReadSecondary
        );
        // The reader was cancelled and never calls `done`: others wait until the deadline...
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, FLIGHT_DEADLINE_MS - 1),
            FetchStep::Wait
        );
        assert!(shared.in_flight(FLIGHT_DEADLINE_MS - 1));
        // ...then one takes over with a fetch (the secondary cache was already read).
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, FLIGHT_DEADLINE_MS),
            FetchStep::Fetch
        );
        assert_eq!(
            shared.step(&mut cache, Some("a"), t, FLIGHT_DEADLINE_MS + 1),
            FetchStep::Wait
        );
    }
}
