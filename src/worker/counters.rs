//! Per-isolate counts of the I/O the trusted-JWKS cache and the gateway did, for the
//! dev-mode endpoint `GET /_torii/dev/counters` (tests prove a warm request does none),
//! with the D1 statements sent and the rate limiter's calls and refusals (dev builds
//! only: the deployable Worker counts but never reports).

#[cfg(feature = "dev")]
use super::clock;
#[cfg(feature = "dev")]
use alloc::string::{String, ToString};
use core::cell::Cell;
#[cfg(feature = "dev")]
use serde_json::{json, Map, Value};

/// Per-isolate counts of the I/O the trusted-JWKS cache and the gateway did.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) kv_reads: Cell<u64>,
    pub(crate) kv_writes: Cell<u64>,
    /// KV reads that failed, timed out or returned a value that does not parse (misses).
    pub(crate) kv_read_failures: Cell<u64>,
    /// KV writes that failed or timed out.
    pub(crate) kv_write_failures: Cell<u64>,
    pub(crate) jwks_fetches: Cell<u64>,
    pub(crate) jwks_fetch_failures: Cell<u64>,
    pub(crate) origin_fetches: Cell<u64>,
    pub(crate) revalidations: Cell<u64>,
    pub(crate) webcrypto_signs: Cell<u64>,
    pub(crate) webcrypto_verifies: Cell<u64>,
    /// WebCrypto calls that failed or found no `crypto.subtle` (nothing signed, the
    /// signature refused): the Worker has no other Ed25519.
    pub(crate) webcrypto_failures: Cell<u64>,
    pub(crate) memo_hits: Cell<u64>,
    pub(crate) token_cache_hits: Cell<u64>,
    /// Gateway requests the fast path answered (a reply or a forward plan: no Rust await).
    pub(crate) fast_path: Cell<u64>,
    /// Gateway requests the fast path handed to the full path (I/O needed, a refused
    /// signature, a key not imported yet).
    pub(crate) fast_path_fallbacks: Cell<u64>,
    /// Calls to a rate limiter binding that answered.
    pub(crate) limiter_calls: Cell<u64>,
    /// Requests refused with 429 `rate_limited`.
    pub(crate) rate_limited: Cell<u64>,
}

std::thread_local! {
    pub(crate) static COUNTERS: Counters = Counters::default();
}

/// Adds one to a counter.
pub(crate) fn bump(pick: fn(&Counters) -> &Cell<u64>) {
    COUNTERS.with(|c| {
        let cell = pick(c);
        cell.set(cell.get().saturating_add(1));
    });
}

/// The isolate's counters as JSON: this instance's ([`own_counters`]) plus those of the
/// isolate's other wasm instance, if it runs (the Backend API's: its D1 statements,
/// limiter calls and signatures count too). The entry hands them over through the
/// dev-only hook `globalThis.__toriiPeerCounters` (its [`dev_counters`]).
#[cfg(feature = "dev")]
pub(crate) fn counters_json() -> String {
    let mut counters = own_counters();
    if let Some(peer) = peer_counters() {
        add_counters(&mut counters, &peer);
    }
    Value::Object(counters).to_string()
}

/// This instance's counters as JSON, for the entry to hand to the other instance's
/// [`counters_json`] (dev builds only).
#[cfg(feature = "dev")]
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = ::worker::wasm_bindgen,
    wasm_bindgen_futures = ::worker::wasm_bindgen_futures
)]
pub fn dev_counters() -> String {
    Value::Object(own_counters()).to_string()
}

/// The other instance's counters from the entry's hook, if it set one and the
/// instance runs.
#[cfg(feature = "dev")]
fn peer_counters() -> Option<Map<String, Value>> {
    use worker::wasm_bindgen::{JsCast, JsValue};
    let hook = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__toriiPeerCounters"))
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let text = hook.call0(&JsValue::UNDEFINED).ok()?.as_string()?;
    match serde_json::from_str(&text).ok()? {
        Value::Object(peer) => Some(peer),
        _ => None,
    }
}

/// Adds `peer`'s counts to `counters`, name by name (the test clock's offset is this
/// instance's own and stays as it is).
#[cfg(feature = "dev")]
fn add_counters(counters: &mut Map<String, Value>, peer: &Map<String, Value>) {
    for (name, value) in counters.iter_mut() {
        if name == "clock_offset" {
            continue;
        }
        let theirs = peer.get(name).and_then(Value::as_u64).unwrap_or(0);
        if let Some(ours) = value.as_u64() {
            *value = Value::from(ours.saturating_add(theirs));
        }
    }
}

/// This instance's counters, by name.
#[cfg(feature = "dev")]
fn own_counters() -> Map<String, Value> {
    COUNTERS.with(|c| {
        let counters = json!({
            "kv_reads": c.kv_reads.get(),
            "kv_writes": c.kv_writes.get(),
            "kv_read_failures": c.kv_read_failures.get(),
            "kv_write_failures": c.kv_write_failures.get(),
            "jwks_fetches": c.jwks_fetches.get(),
            "jwks_fetch_failures": c.jwks_fetch_failures.get(),
            "origin_fetches": c.origin_fetches.get(),
            "revalidations": c.revalidations.get(),
            "webcrypto_signs": c.webcrypto_signs.get(),
            "webcrypto_verifies": c.webcrypto_verifies.get(),
            "webcrypto_failures": c.webcrypto_failures.get(),
            "signature_memo_hits": c.memo_hits.get(),
            "token_cache_hits": c.token_cache_hits.get(),
            "fast_path": c.fast_path.get(),
            "fast_path_fallbacks": c.fast_path_fallbacks.get(),
            "d1_queries": super::store::queries(),
            "d1_round_trips": super::store::round_trips(),
            "limiter_calls": c.limiter_calls.get(),
            "rate_limited": c.rate_limited.get(),
            "clock_offset": clock::clock_offset(),
        });
        match counters {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    })
}

#[cfg(all(test, feature = "dev"))]
mod tests {
    use super::*;

    #[test]
    fn the_other_instances_counts_add_up_but_not_its_clock() {
        let mut ours = match json!({"d1_queries": 2, "fast_path": 5, "clock_offset": 30}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        let theirs = match json!({"d1_queries": 3, "clock_offset": 99, "other": 1}) {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        add_counters(&mut ours, &theirs);
        assert_eq!(
            Value::Object(ours),
            json!({"d1_queries": 5, "fast_path": 5, "clock_offset": 30})
        );
    }
}
