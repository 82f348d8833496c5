//! A bounded cache, sans-I/O: at most `capacity` entries, the least-recently used one
//! evicted to make room, and entries expiring `ttl_ms` after they were stored. There is
//! no clock here: every call that needs the time takes `now_ms` (milliseconds since the
//! epoch, or any monotonic origin), so the rules are unit-tested natively.
//!
//! The Worker's isolate caches (tenants, custom domains, tenants known to be missing)
//! are built on it, so a flood of distinct names evicts old entries one by one instead
//! of wiping a whole cache, and memory stays bounded.
//!
//! Every operation is `O(log n)`: the entries are in one ordered map, their recency in
//! another (use tick → key).

use alloc::collections::BTreeMap;
use core::borrow::Borrow;

#[derive(Debug, Clone)]
struct Slot<V> {
    value: V,
    stored_ms: i64,
    used: u64,
}

/// A bounded least-recently-used cache whose entries expire after a TTL.
#[derive(Debug, Clone)]
pub struct LruCache<K, V> {
    entries: BTreeMap<K, Slot<V>>,
    /// Last use (a tick) → key; the first entry is the least recently used.
    order: BTreeMap<u64, K>,
    tick: u64,
    capacity: usize,
    ttl_ms: i64,
}

impl<K: Ord + Clone, V> LruCache<K, V> {
    /// An empty cache of at most `capacity` entries, each expiring `ttl_ms` after it was
    /// stored (`ttl_ms <= 0`: nothing is ever served).
    pub const fn new(capacity: usize, ttl_ms: i64) -> Self {
        Self {
            entries: BTreeMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            capacity,
            ttl_ms,
        }
    }

    /// The most entries held.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// The entries' lifetime in milliseconds.
    pub const fn ttl_ms(&self) -> i64 {
        self.ttl_ms
    }

    /// Changes the entries' lifetime (it applies to the entries already held too).
    pub fn set_ttl(&mut self, ttl_ms: i64) {
        self.ttl_ms = ttl_ms;
    }

    /// Entries held, expired ones included until they are looked up, evicted or purged.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn expired(&self, stored_ms: i64, now_ms: i64) -> bool {
        now_ms.saturating_sub(stored_ms) >= self.ttl_ms
    }

    fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.wrapping_add(1);
        self.tick
    }

    /// The value of `key` if it has not expired, marking it the most recently used. An
    /// expired entry is dropped.
    pub fn get<Q>(&mut self, key: &Q, now_ms: i64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.get_mut(key, now_ms).map(|v| &*v)
    }

    /// Like [`get`](Self::get), mutably.
    pub fn get_mut<Q>(&mut self, key: &Q, now_ms: i64) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let (stored_ms, used) = self.entries.get(key).map(|s| (s.stored_ms, s.used))?;
        if self.expired(stored_ms, now_ms) {
            self.remove(key);
            return None;
        }
        let tick = self.next_tick();
        let owned = self.order.remove(&used)?;
        self.order.insert(tick, owned);
        let slot = self.entries.get_mut(key)?;
        slot.used = tick;
        Some(&mut slot.value)
    }

    /// Whether `key` is held and has not expired (its recency is not changed).
    pub fn contains<Q>(&self, key: &Q, now_ms: i64) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.peek(key, now_ms).is_some()
    }

    /// The value of `key` if it has not expired, without marking it used.
    pub fn peek<Q>(&self, key: &Q, now_ms: i64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|s| !self.expired(s.stored_ms, now_ms))
            .map(|s| &s.value)
    }

    /// Stores `value` under `key` at `now_ms` (its TTL starts again), as the most
    /// recently used entry. When the cache is full, expired entries are dropped first, then
    /// the least recently used one; the evicted entry, if any, is returned.
    pub fn insert(&mut self, key: K, value: V, now_ms: i64) -> Option<(K, V)> {
        if self.capacity == 0 {
            return Some((key, value));
        }
        let tick = self.next_tick();
        if let Some(slot) = self.entries.get_mut(&key) {
            let old = slot.used;
            slot.value = value;
            slot.stored_ms = now_ms;
            slot.used = tick;
            self.order.remove(&old);
            self.order.insert(tick, key);
            return None;
        }
        let mut evicted = None;
        if self.entries.len() >= self.capacity {
            self.purge_expired(now_ms);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(slot) = self.entries.remove(&oldest) {
                evicted = Some((oldest, slot.value));
            }
        }
        self.order.insert(tick, key.clone());
        self.entries.insert(
            key,
            Slot {
                value,
                stored_ms: now_ms,
                used: tick,
            },
        );
        evicted
    }

    /// Drops `key`; its value, if it was held (expired or not).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let slot = self.entries.remove(key)?;
        self.order.remove(&slot.used);
        Some(slot.value)
    }

    /// Drops every expired entry.
    pub fn purge_expired(&mut self, now_ms: i64) {
        let ttl = self.ttl_ms;
        let order = &mut self.order;
        self.entries.retain(|_, s| {
            let keep = now_ms.saturating_sub(s.stored_ms) < ttl;
            if !keep {
                order.remove(&s.used);
            }
            keep
        });
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    #[test]
    fn evicts_the_least_recently_used_entry_when_full() {
        let mut c = LruCache::new(3, 1_000);
        for k in ["a", "b", "c"] {
            assert!(c.insert(k, k.len(), 0).is_none());
        }
        // Using "a" makes "b" the least recently used.
        assert_eq!(c.get("a", 1), Some(&1));
        assert_eq!(c.insert("d", 1, 2), Some(("b", 1)));
        assert_eq!(c.len(), 3);
        assert!(c.contains("a", 3) && c.contains("c", 3) && c.contains("d", 3));
        assert!(!c.contains("b", 3));
        // `peek` and `contains` do not change recency: "c" is evicted next.
        assert!(c.peek("c", 3).is_some());
        assert_eq!(c.insert("e", 1, 4).map(|(k, _)| k), Some("c"));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut c = LruCache::new(8, 100);
        c.insert("a", 1, 1_000);
        assert_eq!(c.get("a", 1_099), Some(&1));
        // Use does not extend the TTL; storing again does.
        assert_eq!(c.get("a", 1_100), None);
        assert!(c.is_empty(), "an expired entry is dropped when looked up");
        c.insert("a", 1, 1_000);
        c.insert("a", 2, 1_050);
        assert_eq!(c.peek("a", 1_149), Some(&2));
        assert!(!c.contains("a", 1_150));
        // A clock that steps back keeps the entry.
        assert!(c.contains("a", 0));
        // A shorter TTL applies to what is held.
        c.set_ttl(10);
        assert!(!c.contains("a", 1_060));
        assert_eq!(c.ttl_ms(), 10);
        let mut never = LruCache::new(8, 0);
        never.insert("a", 1, 5);
        assert_eq!(never.get("a", 5), None);
    }

    #[test]
    fn a_full_cache_drops_expired_entries_before_live_ones() {
        let mut c = LruCache::new(3, 100);
        c.insert("old", 0, 0);
        c.insert("live1", 1, 90);
        c.insert("live2", 2, 95);
        // "old" (least recently used and expired) goes; nothing live is evicted.
        assert!(c.get("old", 50).is_some());
        let evicted = c.insert("new", 3, 120);
        assert_eq!(evicted, None);
        assert_eq!(c.len(), 3);
        assert!(c.contains("live1", 120) && c.contains("live2", 120));
        c.purge_expired(1_000);
        assert!(c.is_empty());
    }

    #[test]
    fn remove_clear_and_zero_capacity() {
        let mut c = LruCache::new(2, 100);
        c.insert(String::from("a"), 1, 0);
        assert_eq!(c.remove("a"), Some(1));
        assert_eq!(c.remove("a"), None);
        c.insert(String::from("b"), 2, 0);
        c.clear();
        assert!(c.is_empty());
        let mut zero = LruCache::new(0, 100);
        assert_eq!(zero.insert("a", 1, 0), Some(("a", 1)));
        assert!(zero.is_empty());
        assert_eq!(zero.capacity(), 0);
        if let Some(v) = c.get_mut("b", 0) {
            *v = 3;
        }
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_bounded_and_keeps_the_busy_entry() {
        let mut c = LruCache::new(64, 60_000);
        c.insert(String::from("known"), 0u32, 0);
        for i in 0..10_000u32 {
            let now = i64::from(i);
            c.insert(format!("random-{i}"), i, now);
            // The known entry is used between the flood's requests: it is never the LRU.
            assert!(c.get("known", now).is_some(), "{i}");
            assert!(c.len() <= 64);
        }
        assert_eq!(c.len(), 64);
        assert!(c.contains("random-9999", 10_000));
        assert!(!c.contains("random-0", 10_000));
        // The recency index and the entries agree.
        assert_eq!(c.order.len(), c.entries.len());
    }
}
