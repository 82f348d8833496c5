//! A bounded cache of verified tokens, so a repeated token costs a hash, not a signature.
//!
//! Keyed by SHA-256 over the whole token and the verifier's [scope](Verifier::scope) (its
//! key set's and policy's fingerprints): a key-set change (rotation, revocation) or another
//! policy (issuer, audience, `typ`…) is a miss, never a stale hit. On every hit the claims
//! are re-checked against the caller's `now` (`exp`, `nbf`, `iat`, maximum age): an expired
//! token is refused from the cache and dropped. Failures are never cached. Bounded in
//! entries and in bytes; the oldest entry goes first. No clock, no I/O: an adapter holds one
//! per isolate or per verifier.
//!
//! Each entry has a [`Ticket`], a serial number the cache never reuses. An adapter that
//! already knows which entry a token is (the npm package indexes its caller's exact token
//! strings by ticket) asks [`TokenCache::recheck`] instead of hashing the token again: the
//! same decision (the entry must still be cached, under the same scope, and pass the time
//! checks at `now`), without the hash.

use crate::error::VerifyError;
use crate::jose::claims::VerifiedClaims;
use crate::jose::verify::{check_claims, Verifier};
use crate::time::UnixTime;
use alloc::collections::{BTreeMap, VecDeque};
use sha2::{Digest, Sha256};

/// Default bound of a [`TokenCache`] in entries.
pub const DEFAULT_CACHE_ENTRIES: usize = 4096;
/// Default bound of a [`TokenCache`] in bytes (counted as token length + 256 per entry).
pub const DEFAULT_CACHE_BYTES: usize = 4 * 1024 * 1024;

/// Bytes counted per entry beyond the token itself.
const ENTRY_OVERHEAD: usize = 256;

/// A cache key: SHA-256 of (token, verifier scope).
pub type CacheKey = [u8; 32];

/// The handle of one cache entry: a serial number, never reused by the cache that issued
/// it (see [`TokenCache::recheck`]).
pub type Ticket = u64;

#[derive(Debug, Clone)]
struct Cached {
    claims: VerifiedClaims,
    bytes: usize,
    ticket: Ticket,
    /// The scope of the verifier that verified it, when inserted through one
    /// ([`TokenCache::insert_verified`]): only then can a ticket recheck it.
    scope: Option<[u8; 32]>,
}

/// Verified tokens by [`TokenCache::key`], bounded, oldest first out.
#[derive(Debug, Clone)]
pub struct TokenCache {
    entries: BTreeMap<CacheKey, Cached>,
    /// Oldest first; tickets increase along it.
    order: VecDeque<(Ticket, CacheKey)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    next_ticket: Ticket,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(DEFAULT_CACHE_ENTRIES, DEFAULT_CACHE_BYTES)
    }
}

impl TokenCache {
    /// An empty cache of at most `max_entries` entries and `max_bytes` bytes (each at
    /// least 1).
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_entries: max_entries.max(1),
            max_bytes: max_bytes.max(1),
            next_ticket: 1,
        }
    }

    /// The key of `token` under `verifier` (its key set and policy).
    pub fn key(verifier: &Verifier, token: &str) -> CacheKey {
        let mut h = Sha256::new();
        h.update((token.len() as u64).to_le_bytes());
        h.update(token.as_bytes());
        h.update(verifier.scope());
        h.finalize().into()
    }

    /// A cached verification of `key` at `now`: `None` on a miss; `Some(Ok)` when the
    /// cached claims still pass the policy's time checks; `Some(Err)` when they no longer
    /// do (the entry is dropped).
    pub fn get(
        &mut self,
        key: &CacheKey,
        verifier: &Verifier,
        now: UnixTime,
    ) -> Option<Result<VerifiedClaims, VerifyError>> {
        self.get_with_ticket(key, verifier, now).map(|(_, hit)| hit)
    }

    /// [`TokenCache::get`], with the entry's [`Ticket`].
    pub fn get_with_ticket(
        &mut self,
        key: &CacheKey,
        verifier: &Verifier,
        now: UnixTime,
    ) -> Option<(Ticket, Result<VerifiedClaims, VerifyError>)> {
        let cached = self.entries.get(key)?;
        let ticket = cached.ticket;
        match check_claims(cached.claims.claims(), verifier.policy(), now) {
            Ok(()) => Some((ticket, Ok(cached.claims.clone()))),
            Err(e) => {
                self.remove(key);
                Some((ticket, Err(e)))
            }
        }
    }

    /// The entry of `ticket` checked again at `now`, as [`TokenCache::get`] checks a hit:
    /// `None` when the cache no longer holds it (evicted, dropped, or never issued), or
    /// when another verifier (another key set or policy) verified it; `Some(Ok)` when its
    /// claims still pass `verifier`'s time checks; `Some(Err)` when they no longer do (the
    /// entry is dropped). No hash: the caller vouches that the token is the one the ticket
    /// was issued for (the npm package keys tickets by the exact token string).
    pub fn recheck(
        &mut self,
        ticket: Ticket,
        verifier: &Verifier,
        now: UnixTime,
    ) -> Option<Result<(), VerifyError>> {
        let at = self.order.binary_search_by_key(&ticket, |(t, _)| *t).ok()?;
        let (_, key) = *self.order.get(at)?;
        let cached = self.entries.get(&key)?;
        if cached.scope.as_ref() != Some(verifier.scope()) {
            return None;
        }
        match check_claims(cached.claims.claims(), verifier.policy(), now) {
            Ok(()) => Some(Ok(())),
            Err(e) => {
                self.remove(&key);
                Some(Err(e))
            }
        }
    }

    /// Remembers a token that verified (only [`Verifier`] builds `claims`).
    pub fn insert(&mut self, key: CacheKey, claims: &VerifiedClaims, token_len: usize) {
        self.insert_entry(key, claims, token_len, None);
    }

    /// [`TokenCache::insert`] of a token `verifier` verified (`key` is
    /// [`TokenCache::key`] of it under `verifier`); its [`Ticket`] (for
    /// [`TokenCache::recheck`]), `None` when the token is too large to cache.
    pub fn insert_verified(
        &mut self,
        verifier: &Verifier,
        key: CacheKey,
        claims: &VerifiedClaims,
        token_len: usize,
    ) -> Option<Ticket> {
        self.insert_entry(key, claims, token_len, Some(*verifier.scope()))
    }

    fn insert_entry(
        &mut self,
        key: CacheKey,
        claims: &VerifiedClaims,
        token_len: usize,
        scope: Option<[u8; 32]>,
    ) -> Option<Ticket> {
        let bytes = token_len.saturating_add(ENTRY_OVERHEAD);
        if bytes > self.max_bytes {
            return None;
        }
        self.remove(&key);
        while self.entries.len() >= self.max_entries
            || self.bytes.saturating_add(bytes) > self.max_bytes
        {
            let Some((_, oldest)) = self.order.pop_front() else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.bytes = self.bytes.saturating_sub(old.bytes);
            }
        }
        let ticket = self.next_ticket;
        self.next_ticket = self.next_ticket.saturating_add(1);
        self.entries.insert(
            key,
            Cached {
                claims: claims.clone(),
                bytes,
                ticket,
                scope,
            },
        );
        self.order.push_back((ticket, key));
        self.bytes = self.bytes.saturating_add(bytes);
        Some(ticket)
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes = self.bytes.saturating_sub(old.bytes);
            if let Ok(at) = self.order.binary_search_by_key(&old.ticket, |(t, _)| *t) {
                self.order.remove(at);
            }
        }
    }

    /// How many tokens are cached.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The bytes counted for the cached tokens.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Verifier {
    /// [`Verifier::verify`] through `cache`: a token this verifier (same keys, same policy)
    /// already verified costs a hash and the time checks; anything else is verified in full
    /// and remembered only when it passes.
    pub fn verify_cached(
        &self,
        cache: &mut TokenCache,
        token: &str,
        now: UnixTime,
    ) -> Result<VerifiedClaims, VerifyError> {
        let key = TokenCache::key(self, token);
        if let Some(hit) = cache.get(&key, self, now) {
            return hit;
        }
        let claims = self.verify(token, now)?;
        cache.insert_verified(self, key, &claims, token.len());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::policy::{Policy, TypPolicy};
    use crate::{Jwks, SigningKey};
    use alloc::string::String;
    use alloc::vec;

    const ISS: &str = "https://i";

    fn token(key: &SigningKey, exp: i64, typ: Option<&str>) -> String {
        let mut c = serde_json::Map::new();
        c.insert("iss".into(), ISS.into());
        c.insert("sub".into(), "u".into());
        c.insert("exp".into(), exp.into());
        key.sign_jwt(typ, &c)
    }

    fn verifier(key: &SigningKey, policy: Policy) -> Verifier {
        Verifier::new(Jwks::from_keys(vec![key.public_jwk()]), policy)
    }

    #[test]
    fn a_repeated_token_is_a_hit_and_still_expires() {
        let key = SigningKey::from_seed(&[1; 32]);
        let v = verifier(&key, Policy::new(ISS));
        let mut cache = TokenCache::default();
        let t = token(&key, 1_000, None);
        assert!(v.verify_cached(&mut cache, &t, UnixTime(500)).is_ok());
        assert_eq!(cache.len(), 1);
        let k = TokenCache::key(&v, &t);
        assert!(matches!(cache.get(&k, &v, UnixTime(600)), Some(Ok(_))));
        // Past exp (+ 60 s skew): refused from the cache, and dropped.
        assert_eq!(
            v.verify_cached(&mut cache, &t, UnixTime(2_000))
                .unwrap_err()
                .code(),
            "token_expired"
        );
        assert!(cache.is_empty());
    }

    #[test]
    fn failures_are_never_cached() {
        let key = SigningKey::from_seed(&[1; 32]);
        let v = verifier(&key, Policy::new(ISS));
        let mut cache = TokenCache::default();
        let mut t = token(&key, 1_000, None);
        t.pop();
        t.push('A');
        for _ in 0..2 {
            assert!(v.verify_cached(&mut cache, &t, UnixTime(500)).is_err());
        }
        assert!(cache.is_empty());
    }

    #[test]
    fn another_key_set_or_policy_or_typ_is_a_miss() {
        let key = SigningKey::from_seed(&[1; 32]);
        let other = SigningKey::from_seed(&[2; 32]).with_kid(key.kid());
        let mut cache = TokenCache::default();
        let t = token(&key, 1_000, None);
        let v = verifier(&key, Policy::new(ISS));
        v.verify_cached(&mut cache, &t, UnixTime(500)).unwrap();
        // The key was revoked and replaced under the same kid: a miss, and refused.
        let rotated = verifier(&other, Policy::new(ISS));
        assert_ne!(TokenCache::key(&rotated, &t), TokenCache::key(&v, &t));
        assert_eq!(
            rotated
                .verify_cached(&mut cache, &t, UnixTime(500))
                .unwrap_err()
                .code(),
            "invalid_signature"
        );
        // Another policy: an audience is now required.
        let strict = verifier(&key, Policy::new(ISS).with_audience("api"));
        assert_eq!(
            strict
                .verify_cached(&mut cache, &t, UnixTime(500))
                .unwrap_err()
                .code(),
            "missing_claim"
        );
        // Another typ policy: the same bytes are refused for what they are.
        let templates = verifier(
            &key,
            Policy::new(ISS).with_typ(TypPolicy::Exact("at+jwt".into())),
        );
        assert_eq!(
            templates
                .verify_cached(&mut cache, &t, UnixTime(500))
                .unwrap_err()
                .code(),
            "invalid_token_type"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn bounded_in_entries_and_bytes_oldest_first() {
        let key = SigningKey::from_seed(&[1; 32]);
        let v = verifier(&key, Policy::new(ISS));
        let mut cache = TokenCache::new(3, usize::MAX);
        let tokens: alloc::vec::Vec<String> =
            (0..5).map(|i| token(&key, 1_000 + i, None)).collect();
        for t in &tokens {
            v.verify_cached(&mut cache, t, UnixTime(500)).unwrap();
        }
        assert_eq!(cache.len(), 3);
        assert!(cache
            .get(&TokenCache::key(&v, &tokens[0]), &v, UnixTime(500))
            .is_none());
        assert!(cache
            .get(&TokenCache::key(&v, &tokens[4]), &v, UnixTime(500))
            .is_some());
        let one = tokens[0].len() + ENTRY_OVERHEAD;
        let mut small = TokenCache::new(100, 2 * one);
        for t in &tokens {
            v.verify_cached(&mut small, t, UnixTime(500)).unwrap();
        }
        assert_eq!(small.len(), 2);
        assert!(small.bytes() <= 2 * one);
    }

    #[test]
    fn a_ticket_rechecks_its_entry_like_a_hit() {
        let key = SigningKey::from_seed(&[1; 32]);
        let v = verifier(&key, Policy::new(ISS));
        let mut cache = TokenCache::default();
        let t = token(&key, 1_000, None);
        let claims = v.verify(&t, UnixTime(500)).unwrap();
        let k = TokenCache::key(&v, &t);
        let ticket = cache.insert_verified(&v, k, &claims, t.len()).unwrap();
        assert_eq!(cache.recheck(ticket, &v, UnixTime(600)), Some(Ok(())));
        // A hit by hash names the same entry.
        assert!(
            matches!(cache.get_with_ticket(&k, &v, UnixTime(600)), Some((n, Ok(_))) if n == ticket)
        );
        // Unknown tickets and other verifiers' (another key set, another policy) are misses.
        assert_eq!(cache.recheck(ticket + 1, &v, UnixTime(600)), None);
        let other = SigningKey::from_seed(&[2; 32]).with_kid(key.kid());
        assert_eq!(
            cache.recheck(ticket, &verifier(&other, Policy::new(ISS)), UnixTime(600)),
            None
        );
        let strict = verifier(&key, Policy::new(ISS).with_audience("api"));
        assert_eq!(cache.recheck(ticket, &strict, UnixTime(600)), None);
        // Past exp: refused, dropped, and the ticket is dead.
        assert_eq!(
            cache
                .recheck(ticket, &v, UnixTime(2_000))
                .map(|r| r.unwrap_err().code()),
            Some("token_expired")
        );
        assert!(cache.is_empty());
        assert_eq!(cache.recheck(ticket, &v, UnixTime(600)), None);
        // Re-verified, it gets a new ticket; the old one stays dead.
        let again = cache.insert_verified(&v, k, &claims, t.len()).unwrap();
        assert!(again > ticket);
        assert_eq!(cache.recheck(ticket, &v, UnixTime(600)), None);
        assert_eq!(cache.recheck(again, &v, UnixTime(600)), Some(Ok(())));
        // An entry inserted without its verifier cannot be rechecked by ticket.
        let mut plain = TokenCache::default();
        plain.insert(k, &claims, t.len());
        let (n, _) = plain.get_with_ticket(&k, &v, UnixTime(600)).unwrap();
        assert_eq!(plain.recheck(n, &v, UnixTime(600)), None);
    }

    #[test]
    fn evicted_entries_lose_their_tickets() {
        let key = SigningKey::from_seed(&[1; 32]);
        let v = verifier(&key, Policy::new(ISS));
        let mut cache = TokenCache::new(2, usize::MAX);
        let tickets: alloc::vec::Vec<Ticket> = (0..4)
            .map(|i| {
                let t = token(&key, 1_000 + i, None);
                let c = v.verify(&t, UnixTime(500)).unwrap();
                cache
                    .insert_verified(&v, TokenCache::key(&v, &t), &c, t.len())
                    .unwrap()
            })
            .collect();
        let live: alloc::vec::Vec<bool> = tickets
            .iter()
            .map(|n| cache.recheck(*n, &v, UnixTime(500)).is_some())
            .collect();
        assert_eq!(live, [false, false, true, true]);
        assert_eq!(cache.len(), 2);
        // Too large to cache: no ticket.
        let mut tiny = TokenCache::new(8, 10);
        let t = token(&key, 1_000, None);
        let c = v.verify(&t, UnixTime(500)).unwrap();
        assert_eq!(
            tiny.insert_verified(&v, TokenCache::key(&v, &t), &c, t.len()),
            None
        );
        assert!(tiny.is_empty());
    }
}
