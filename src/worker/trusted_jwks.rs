//! Trusted external issuers' key sets: the I/O around the core's [`JwksCache`] policy
//! (isolate memory → KV → fetch). Their configuration and URL rules are the core's
//! ([`crate::edge::issuers`]).
//!
//! * Memory: one [`JwksCache`] per issuer per isolate. A warm request reads nothing else.
//! * KV (`JWKS_CACHE`): read once per isolate when memory is empty; written after every
//!   successful fetch, stamped with the fetch time and `max-age`, with a TTL covering
//!   freshness plus the 24 h a stale set may still serve (at least 60 s). KV only caches:
//!   each call is bounded by [`SECONDARY_TIMEOUT_MS`]; a read that fails, times out or
//!   returns a value that does not parse is a miss (the request fetches), a write that
//!   fails or times out leaves the set in memory (the request succeeds); both are logged
//!   and counted (`kv_read_failures`, `kv_write_failures`), neither ever passes a token
//!   the fetched set does not verify.
//! * Fetch: 5 s timeout, body ≤ 64 KiB, `https` only (plain `http` for loopback hosts),
//!   redirects refused. Each request does its own fetch (no promise is shared across
//!   requests); a request that finds another one's fetch in flight and nothing usable
//!   cached waits for the state to change (polling memory), not for the other's promise.
//!   Who fetches, and when a cancelled request's claim lapses, is the core's
//!   [`SharedFetch`] rule.
//!
//! Every KV read/write and subrequest is counted ([`super::counters`]) for the dev-mode
//! endpoint `GET /_torii/dev/counters`; the cache reads [`super::clock::cache_now`].

use super::clock::cache_now;
use super::counters::bump;
use crate::edge::issuers::{
    discovered_jwks_uri, fetchable, CachedSet, TrustedIssuer, MAX_KV_VALUE_BYTES,
};
use crate::edge::lru::LruCache;
use crate::keys::{FetchStep, SharedFetch, SECONDARY_TIMEOUT_MS};
use crate::{max_age_from_cache_control, CacheConfig, Jwks, JwksCache, MAX_JWKS_BYTES};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::Env;

/// Timeout of a JWKS or discovery fetch, in milliseconds.
pub(crate) const FETCH_TIMEOUT_MS: u32 = 5_000;
/// Largest discovery document accepted, in bytes.
const MAX_DISCOVERY_BYTES: usize = 64 * 1024;
/// KV binding of the cache.
const KV_BINDING: &str = "JWKS_CACHE";
/// How long a request waits for another request's fetch of the same set.
const MAX_WAIT_MS: u32 = 5_500;
const WAIT_STEP_MS: u32 = 20;

std::thread_local! {
    /// Each trusted issuer's state, by issuer: a map (nothing is evicted or expires) held
    /// in an [`LruCache`], whose key bookkeeping the wasm has for the tenant caches anyway,
    /// instead of a `BTreeMap` of its own.
    static STATES: RefCell<LruCache<String, IssuerState>> =
        const { RefCell::new(LruCache::new(usize::MAX, i64::MAX)) };
}

/// Drops every issuer's in-memory state, as a fresh isolate would start (dev builds only).
#[cfg(feature = "dev")]
pub(crate) fn forget() {
    STATES.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.clear();
        }
    });
}

// ------------------------------------------------------------------ state machine I/O

#[derive(Debug, Clone)]
struct IssuerState {
    cache: JwksCache,
    /// `jwks_uri` resolved through discovery.
    jwks_uri: Option<String>,
    /// Which request of this isolate reads KV or fetches, until when (the core's rule).
    shared: SharedFetch,
}

impl IssuerState {
    fn new() -> Self {
        Self {
            cache: JwksCache::new(CacheConfig::default()),
            jwks_uri: None,
            shared: SharedFetch::default(),
        }
    }
}

/// The flight clock in whole milliseconds.
fn flight_ms() -> i64 {
    // `as` saturates; Date.now() is a finite positive number of ms.
    #[allow(clippy::cast_possible_truncation)]
    let ms = super::clock::now_ms() as i64;
    ms
}

fn with_state<R>(issuer: &str, f: impl FnOnce(&mut IssuerState) -> R) -> Option<R> {
    STATES.with(|s| {
        let mut map = s.try_borrow_mut().ok()?;
        // `i64::MAX` TTL: nothing expires, so the time given does not matter.
        if !map.contains(issuer, 0) {
            map.insert(issuer.to_string(), IssuerState::new(), 0);
        }
        Some(f(map.peek_mut(issuer, 0)?))
    })
}

/// Why no key set could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeysError {
    /// Fail closed with 503 `jwks_unavailable` and this `Retry-After`.
    Unavailable { retry_after: i64 },
}

/// The key set to verify a token naming `kid` from `issuer`, doing whatever I/O the
/// cache policy asks for. Background revalidations are handed to `ctx.waitUntil`.
pub(crate) async fn keys_for(
    issuer: &TrustedIssuer,
    kid: Option<&str>,
    env: &Env,
    ctx: &worker::Context,
) -> Result<Jwks, KeysError> {
    let mut waited: u32 = 0;
    // Bounded: at most one KV read and one fetch per request, plus waiting.
    for _ in 0..(3 + MAX_WAIT_MS / WAIT_STEP_MS) {
        let now = cache_now();
        let step = with_state(&issuer.issuer, |s| {
            s.shared.step(&mut s.cache, kid, now, flight_ms())
        })
        .unwrap_or(FetchStep::Unavailable(1));
        match step {
            FetchStep::Use(jwks) => return Ok(jwks),
            FetchStep::Revalidate(jwks) => {
                bump(|c| &c.revalidations);
                let (issuer, env) = (issuer.clone(), env.clone());
                ctx.wait_until(async move {
                    fetch_and_store(&issuer, &env).await;
                });
                return Ok(jwks);
            }
            FetchStep::ReadSecondary => {
                let _ = read_kv(issuer, env).await;
                with_state(&issuer.issuer, |s| s.shared.done());
            }
            FetchStep::Fetch => fetch_and_store(issuer, env).await,
            FetchStep::Wait => {
                if waited >= MAX_WAIT_MS {
                    return Err(KeysError::Unavailable { retry_after: 5 });
                }
                worker::Delay::from(core::time::Duration::from_millis(WAIT_STEP_MS.into())).await;
                waited = waited.saturating_add(WAIT_STEP_MS);
            }
            FetchStep::Unavailable(retry_after) => {
                return Err(KeysError::Unavailable { retry_after })
            }
        }
    }
    Err(KeysError::Unavailable { retry_after: 5 })
}

async fn read_kv(issuer: &TrustedIssuer, env: &Env) -> Option<()> {
    bump(|c| &c.kv_reads);
    let key = crate::edge::issuers::kv_key(&issuer.issuer);
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"type".into(), &"text".into()).ok()?;
    let value = match kv_call(env, "get", &[key.into(), options.into()]).await {
        Ok(value) => value,
        Err(why) => {
            bump(|c| &c.kv_read_failures);
            worker::console_warn!(
                "torii-edge: JWKS KV read for {} failed ({}): treated as a miss",
                issuer.issuer,
                why
            );
            return None;
        }
    };
    // `null`: not there. Anything but a string, or a value that does not parse: a miss.
    let text = value.as_string()?;
    let Some(CachedSet {
        fetched_at,
        max_age,
        jwks_uri,
        jwks,
    }) = CachedSet::from_kv(&text, &issuer.issuer)
    else {
        bump(|c| &c.kv_read_failures);
        worker::console_warn!(
            "torii-edge: JWKS KV value for {} is not a valid cached set: treated as a miss",
            issuer.issuer
        );
        return None;
    };
    with_state(&issuer.issuer, |s| {
        // Only fill an empty cache: memory never goes backwards.
        if s.cache.jwks().is_none() {
            s.cache.insert(jwks, fetched_at, max_age);
            if s.jwks_uri.is_none() {
                s.jwks_uri = jwks_uri;
            }
        }
    })
}

/// Writes the issuer's set to KV, bounded by [`SECONDARY_TIMEOUT_MS`]. A failure is logged
/// and counted, nothing else: the set is already in memory.
async fn write_kv(issuer: &TrustedIssuer, env: &Env, value: String, ttl: i64) {
    bump(|c| &c.kv_writes);
    if value.len() > MAX_KV_VALUE_BYTES {
        // Never read back (a miss): not worth a write.
        return;
    }
    let key = crate::edge::issuers::kv_key(&issuer.issuer);
    let options = js_sys::Object::new();
    let ttl = u32::try_from(ttl).unwrap_or(86_400);
    if js_sys::Reflect::set(&options, &"expirationTtl".into(), &ttl.into()).is_err() {
        return;
    }
    if let Err(why) = kv_call(env, "put", &[key.into(), value.into(), options.into()]).await {
        bump(|c| &c.kv_write_failures);
        worker::console_warn!(
            "torii-edge: JWKS KV write for {} failed ({}): the set is served from memory",
            issuer.issuer,
            why
        );
    }
}

/// Calls `method` of the KV binding with `args` and awaits its promise for at most
/// [`SECONDARY_TIMEOUT_MS`]. `Err` says why not (no binding, a throw, a rejection, the
/// deadline), for the log; it never holds the value.
async fn kv_call(env: &Env, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let kv = js_sys::Reflect::get(env, &KV_BINDING.into())
        .ok()
        .filter(|kv| kv.is_object())
        .ok_or_else(|| format!("no {KV_BINDING} binding"))?;
    let function: js_sys::Function = js_sys::Reflect::get(&kv, &method.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("{KV_BINDING}.{method} is not a function"))?;
    let promise = function
        .apply(&kv, &args.iter().collect::<js_sys::Array>())
        .map_err(|e| js_reason(&e))?;
    let promise = js_sys::Promise::resolve(&promise);
    // The deadline resolves to a marker no KV call can return.
    let marker = js_sys::Object::new();
    let global: worker::worker_sys::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let mut timer = None;
    let deadline = js_sys::Promise::new(&mut |resolve, _reject| {
        let ms = i32::try_from(SECONDARY_TIMEOUT_MS).unwrap_or(i32::MAX);
        timer = global
            .set_timeout_with_callback_and_timeout_and_arguments_1(&resolve, ms, &marker)
            .ok();
    });
    let raced = js_sys::Promise::race(&js_sys::Array::of2(&promise, &deadline));
    let outcome = worker::wasm_bindgen_futures::JsFuture::from(raced).await;
    if let Some(timer) = timer {
        global.clear_timeout_with_handle(timer);
    }
    match outcome {
        Ok(v) if js_sys::Object::is(&v, &marker) => {
            Err(format!("no answer within {SECONDARY_TIMEOUT_MS} ms"))
        }
        Ok(v) => Ok(v),
        Err(e) => Err(js_reason(&e)),
    }
}

/// A thrown value's message (an `Error`'s `message`, else the value itself), cut short.
fn js_reason(e: &JsValue) -> String {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "a non-Error value was thrown".to_string());
    text.chars().take(200).collect()
}

/// Fetches the issuer's set (resolving discovery first if needed), records the outcome in
/// the cache and, on success, writes it to KV. Failures leave the previous set in place.
async fn fetch_and_store(issuer: &TrustedIssuer, env: &Env) {
    let ok = fetch_and_store_inner(issuer, env).await;
    if ok.is_none() {
        bump(|c| &c.jwks_fetch_failures);
    }
    with_state(&issuer.issuer, |s| s.shared.done());
}

async fn fetch_and_store_inner(issuer: &TrustedIssuer, env: &Env) -> Option<()> {
    let known = with_state(&issuer.issuer, |s| s.jwks_uri.clone()).flatten();
    let jwks_uri = match (&issuer.jwks_uri, known, &issuer.discovery) {
        (Some(uri), _, _) => uri.clone(),
        (None, Some(uri), _) => uri,
        (None, None, Some(discovery)) => {
            let (body, _) = fetch_bounded(discovery, MAX_DISCOVERY_BYTES).await?;
            let uri = match discovered_jwks_uri(&body, &issuer.issuer) {
                Ok(uri) => uri,
                Err(why) => {
                    worker::console_warn!("torii-edge: discovery of {}: {}", issuer.issuer, why);
                    return None;
                }
            };
            with_state(&issuer.issuer, |s| s.jwks_uri = Some(uri.clone()));
            uri
        }
        (None, None, None) => return None,
    };
    let (body, cache_control) = fetch_bounded(&jwks_uri, MAX_JWKS_BYTES).await?;
    let max_age = cache_control
        .as_deref()
        .and_then(max_age_from_cache_control);
    let now = cache_now();
    let (jwks, ttl) = with_state(&issuer.issuer, |s| {
        s.cache.on_fetch_ok(&body, max_age, now).ok()?;
        Some((s.cache.jwks()?.clone(), s.cache.ttl(max_age)))
    })??;
    let value = CachedSet {
        fetched_at: now.0,
        max_age,
        jwks_uri: Some(jwks_uri),
        jwks,
    }
    .to_kv(&issuer.issuer);
    let ttl = CachedSet::kv_ttl(ttl, CacheConfig::default().max_stale);
    write_kv(issuer, env, value, ttl).await;
    Some(())
}

/// GETs `url` with a 5 s timeout and no redirects; the body must be 200 and at most
/// `max_bytes` (read incrementally, so a huge body is cut off, not buffered).
async fn fetch_bounded(url: &str, max_bytes: usize) -> Option<(Vec<u8>, Option<String>)> {
    if !fetchable(url) {
        return None;
    }
    bump(|c| &c.jwks_fetches);
    let init = worker::worker_sys::web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_redirect(worker::worker_sys::web_sys::RequestRedirect::Manual);
    let headers = worker::worker_sys::web_sys::Headers::new().ok()?;
    headers.set("accept", "application/json").ok()?;
    init.set_headers(&headers);
    let signal = worker::worker_sys::web_sys::AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS);
    init.set_signal(Some(&signal));
    let global: worker::worker_sys::web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let promise = global.fetch_with_str_and_init(url, &init);
    let response: worker::worker_sys::web_sys::Response =
        match worker::wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(r) => r.unchecked_into(),
            Err(e) => {
                worker::console_warn!("torii-edge: JWKS fetch of {} failed: {:?}", url, e);
                return None;
            }
        };
    if response.status() != 200 {
        worker::console_warn!(
            "torii-edge: JWKS fetch of {} answered {}",
            url,
            response.status()
        );
        return None;
    }
    let resp_headers = response.headers();
    if let Ok(Some(len)) = resp_headers.get("content-length") {
        if len.trim().parse::<usize>().map_or(true, |n| n > max_bytes) {
            return None;
        }
    }
    let cache_control = resp_headers.get("cache-control").ok().flatten();
    let body = read_bounded(&response, max_bytes).await?;
    Some((body, cache_control))
}

/// Reads a response body chunk by chunk, giving up past `max_bytes`.
pub(crate) async fn read_bounded(
    response: &worker::worker_sys::web_sys::Response,
    max_bytes: usize,
) -> Option<Vec<u8>> {
    let Some(stream) = response.body() else {
        return Some(Vec::new());
    };
    let reader: worker::worker_sys::web_sys::ReadableStreamDefaultReader =
        stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let chunk = worker::wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .ok()?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()?
            .as_bool()
            .unwrap_or(true);
        if done {
            return Some(out);
        }
        let value = js_sys::Reflect::get(&chunk, &"value".into()).ok()?;
        let bytes = js_sys::Uint8Array::new(&value);
        let len = usize::try_from(bytes.length()).ok()?;
        if out.len().saturating_add(len) > max_bytes {
            let _ = reader.cancel();
            return None;
        }
        let start = out.len();
        out.resize(start.saturating_add(len), 0);
        if let Some(dst) = out.get_mut(start..) {
            bytes.copy_to(dst);
        }
    }
}
