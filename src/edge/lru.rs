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
//! another (use tick → key), the values in reused slots of a vector (so the maps' code,
//! which does not depend on the value type, exists once per key type in the wasm).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::borrow::Borrow;

/// Where an entry's value is, when it was stored and when it was last used.
#[derive(Debug, Clone, Copy)]
struct Meta {
    slot: usize,
    stored_ms: i64,
    used: u64,
}

/// The bookkeeping of an [`LruCache`] (keys, recency, expiry). It does not depend on the
/// value type, so a binary holds one copy of this code (and of its ordered maps) per key
/// type rather than one per cache.
#[derive(Debug, Clone)]
struct Index<K> {
    entries: BTreeMap<K, Meta>,
    /// Last use (a tick) → key; the first entry is the least recently used.
    order: BTreeMap<u64, K>,
    tick: u64,
    capacity: usize,
    ttl_ms: i64,
}

impl<K: Ord + Clone> Index<K> {
    fn expired(&self, stored_ms: i64, now_ms: i64) -> bool {
        now_ms.saturating_sub(stored_ms) >= self.ttl_ms
    }

    fn next_tick(&mut self) -> u64 {
        self.tick = self.tick.wrapping_add(1);
        self.tick
    }

    /// The slot of `key` if it has not expired, marking it the most recently used; an
    /// expired entry is dropped (`Err` with its slot).
    fn touch<Q>(&mut self, key: &Q, now_ms: i64) -> Result<Option<usize>, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let Some(meta) = self.entries.get(key).copied() else {
            return Ok(None);
        };
        if self.expired(meta.stored_ms, now_ms) {
            return Err(self.remove(key).map_or(meta.slot, |m| m.slot));
        }
        let tick = self.next_tick();
        let Some(owned) = self.order.remove(&meta.used) else {
            return Ok(None);
        };
        self.order.insert(tick, owned);
        let Some(m) = self.entries.get_mut(key) else {
            return Ok(None);
        };
        m.used = tick;
        Ok(Some(m.slot))
    }

    /// The slot of `key` if it has not expired (its recency is not changed).
    fn peek<Q>(&self, key: &Q, now_ms: i64) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries
            .get(key)
            .filter(|m| !self.expired(m.stored_ms, now_ms))
            .map(|m| m.slot)
    }

    /// Stores `key` again at `now_ms` as used at `tick`, if it is held: its slot.
    fn refresh(&mut self, key: &K, now_ms: i64, tick: u64) -> Option<usize> {
        let m = self.entries.get_mut(key)?;
        let old = m.used;
        m.stored_ms = now_ms;
        m.used = tick;
        let slot = m.slot;
        self.order.remove(&old);
        self.order.insert(tick, key.clone());
        Some(slot)
    }

    /// Pops the least recently used key, with its slot if it was held.
    fn pop_oldest(&mut self) -> Option<(K, Option<usize>)> {
        let (_, oldest) = self.order.pop_first()?;
        let slot = self.entries.remove(&oldest).map(|m| m.slot);
        Some((oldest, slot))
    }

    /// Adds a new `key` in `slot`, stored at `now_ms` and used at `tick`.
    fn add(&mut self, key: K, slot: usize, now_ms: i64, tick: u64) {
        self.order.insert(tick, key.clone());
        self.entries.insert(
            key,
            Meta {
                slot,
                stored_ms: now_ms,
                used: tick,
            },
        );
    }

    /// Drops `key`.
    fn remove<Q>(&mut self, key: &Q) -> Option<Meta>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let meta = self.entries.remove(key)?;
        self.order.remove(&meta.used);
        Some(meta)
    }

    /// Drops every expired entry; their slots are pushed to `freed`.
    fn purge_expired(&mut self, now_ms: i64, freed: &mut Vec<usize>) {
        let ttl = self.ttl_ms;
        let order = &mut self.order;
        self.entries.retain(|_, m| {
            let keep = now_ms.saturating_sub(m.stored_ms) < ttl;
            if !keep {
                order.remove(&m.used);
                freed.push(m.slot);
            }
            keep
        });
    }
}

/// A bounded least-recently-used cache whose entries expire after a TTL.
#[derive(Debug, Clone)]
pub struct LruCache<K, V> {
    index: Index<K>,
    /// The values, by slot (`None`: a free slot); never more slots than `capacity`.
    values: Vec<Option<V>>,
    /// The free slots of `values`.
    free: Vec<usize>,
}

impl<K: Ord + Clone, V> LruCache<K, V> {
    /// An empty cache of at most `capacity` entries, each expiring `ttl_ms` after it was
    /// stored (`ttl_ms <= 0`: nothing is ever served).
    pub const fn new(capacity: usize, ttl_ms: i64) -> Self {
        Self {
            index: Index {
                entries: BTreeMap::new(),
                order: BTreeMap::new(),
                tick: 0,
                capacity,
                ttl_ms,
            },
            values: Vec::new(),
            free: Vec::new(),
        }
    }

    /// The most entries held.
    pub const fn capacity(&self) -> usize {
        self.index.capacity
    }

    /// The entries' lifetime in milliseconds.
    pub const fn ttl_ms(&self) -> i64 {
        self.index.ttl_ms
    }

    /// Changes the entries' lifetime (it applies to the entries already held too).
    pub fn set_ttl(&mut self, ttl_ms: i64) {
        self.index.ttl_ms = ttl_ms;
    }

    /// Entries held, expired ones included until they are looked up, evicted or purged.
    pub fn len(&self) -> usize {
        self.index.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.index.entries.is_empty()
    }

    /// Empties `slot`: its value.
    fn release(&mut self, slot: usize) -> Option<V> {
        let value = self.values.get_mut(slot)?.take();
        if value.is_some() {
            self.free.push(slot);
        }
        value
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
        match self.index.touch(key, now_ms) {
            Ok(slot) => self.values.get_mut(slot?)?.as_mut(),
            Err(expired) => {
                self.release(expired);
                None
            }
        }
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
        self.values.get(self.index.peek(key, now_ms)?)?.as_ref()
    }

    /// Like [`peek`](Self::peek), mutably: the value of `key` if it has not expired,
    /// without marking it used.
    pub fn peek_mut<Q>(&mut self, key: &Q, now_ms: i64) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let slot = self.index.peek(key, now_ms)?;
        self.values.get_mut(slot)?.as_mut()
    }

    /// Stores `value` under `key` at `now_ms` (its TTL starts again), as the most
    /// recently used entry. When the cache is full, expired entries are dropped first, then
    /// the least recently used one; the evicted entry, if any, is returned.
    pub fn insert(&mut self, key: K, value: V, now_ms: i64) -> Option<(K, V)> {
        let capacity = self.index.capacity;
        if capacity == 0 {
            return Some((key, value));
        }
        let tick = self.index.next_tick();
        if let Some(slot) = self.index.refresh(&key, now_ms, tick) {
            if let Some(held) = self.values.get_mut(slot) {
                *held = Some(value);
            }
            return None;
        }
        let mut evicted = None;
        if self.index.entries.len() >= capacity {
            let mut freed = Vec::new();
            self.index.purge_expired(now_ms, &mut freed);
            for slot in freed {
                self.release(slot);
            }
        }
        while self.index.entries.len() >= capacity {
            let Some((oldest, slot)) = self.index.pop_oldest() else {
                break;
            };
            if let Some(value) = slot.and_then(|slot| self.release(slot)) {
                evicted = Some((oldest, value));
            }
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(free) = self.values.get_mut(slot) {
                    *free = Some(value);
                }
                slot
            }
            None => {
                self.values.push(Some(value));
                self.values.len() - 1
            }
        };
        self.index.add(key, slot, now_ms, tick);
        evicted
    }

    /// Drops `key`; its value, if it was held (expired or not).
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let meta = self.index.remove(key)?;
        self.release(meta.slot)
    }

    /// Drops every expired entry.
    pub fn purge_expired(&mut self, now_ms: i64) {
        let mut freed = Vec::new();
        self.index.purge_expired(now_ms, &mut freed);
        for slot in freed {
            self.release(slot);
        }
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.index.entries.clear();
        self.index.order.clear();
        self.values.clear();
        self.free.clear();
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
        // `peek`, `peek_mut` and `contains` do not change recency: "c" is evicted next.
        assert!(c.peek("c", 3).is_some());
        if let Some(v) = c.peek_mut("c", 3) {
            *v = 7;
        }
        assert_eq!(c.peek("c", 3), Some(&7));
        assert_eq!(c.peek_mut("b", 3), None);
        assert_eq!(c.insert("e", 1, 4), Some(("c", 7)));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut c = LruCache::new(8, 100);
        c.insert("a", 1, 1_000);
        assert_eq!(c.get("a", 1_099), Some(&1));
        // Use does not extend the TTL; storing again does.
        assert_eq!(c.peek_mut("a", 1_100), None, "expired");
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
        // Freed slots are reused: the values never outnumber the capacity.
        for (i, k) in ["p", "q", "r"].into_iter().enumerate() {
            c.insert(k, i, 2_000);
        }
        assert_eq!(c.values.len(), 3);
        assert_eq!(c.get("old", 2_000), None);
        assert_eq!(c.get("q", 2_099), Some(&1));
        assert_eq!(c.get("p", 2_100), None, "expired on lookup");
        assert_eq!(c.free.len(), 1);
        c.insert("s", 9, 2_100);
        assert_eq!((c.values.len(), c.free.len()), (3, 0));
        assert_eq!(c.peek("s", 2_100), Some(&9));
        assert_eq!(c.remove("q"), Some(1));
        assert_eq!(c.peek("r", 2_099), Some(&2));
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
        // The recency index, the entries and the value slots agree.
        assert_eq!(c.index.order.len(), c.index.entries.len());
        assert_eq!(c.values.len() - c.free.len(), c.len());
        assert!(c.values.len() <= 64);
    }
}
