//! Trusted external issuers: their configuration, and the I/O around the core's
//! [`JwksCache`] policy (isolate memory → KV → fetch).
//!
//! * Memory: one [`JwksCache`] per issuer per isolate. A warm request reads nothing else.
//! * KV (`JWKS_CACHE`): read once per isolate when memory is empty; written after every
//!   successful fetch, stamped with the fetch time and `max-age`, with a TTL covering
//!   freshness plus the 24 h a stale set may still serve (at least 60 s).
//! * Fetch: 5 s timeout, body ≤ 64 KiB, `https` only (plain `http` for loopback hosts),
//!   redirects refused. Each request does its own fetch (no promise is shared across
//!   requests); a request that finds another one's fetch in flight and nothing usable
//!   cached waits for the state to change (polling memory), not for the other's promise.
//!
//! Counters of every KV read/write and subrequest are kept per isolate for the dev-mode
//! endpoint `GET /_torii/dev/counters`.

use crate::{
    max_age_from_cache_control, CacheConfig, Jwks, JwksCache, Lookup, Policy, TypPolicy, UnixTime,
    MAX_JWKS_BYTES,
};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use serde_json::{json, Value};
use worker::wasm_bindgen::JsCast;
use worker::{Env, Url};

/// Most trusted issuers a configuration may list.
pub(crate) const MAX_TRUSTED_ISSUERS: usize = 32;
/// Timeout of a JWKS or discovery fetch, in milliseconds.
pub(crate) const FETCH_TIMEOUT_MS: u32 = 5_000;
/// Largest discovery document accepted, in bytes.
const MAX_DISCOVERY_BYTES: usize = 64 * 1024;
/// KV binding of the cache.
const KV_BINDING: &str = "JWKS_CACHE";
/// Shortest KV TTL Cloudflare accepts.
const MIN_KV_TTL: i64 = 60;
/// How long a request waits for another request's fetch of the same set.
const MAX_WAIT_MS: u32 = 5_500;
const WAIT_STEP_MS: u32 = 20;

/// One issuer whose tokens the gateway also accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrustedIssuer {
    /// The exact `iss` of its tokens.
    pub(crate) issuer: String,
    /// Where its JWKS is (`jwks_uri`), or `None` when found through discovery.
    pub(crate) jwks_uri: Option<String>,
    /// Its OpenID discovery document, when `jwks_uri` is not given.
    pub(crate) discovery: Option<String>,
    /// Accepted audiences (at least one; `aud` must contain one of them).
    pub(crate) audiences: Vec<String>,
    /// The tenant its tokens act for.
    pub(crate) tenant: String,
    /// An exact `typ` to require (e.g. `at+jwt`); default: absent or `JWT`.
    pub(crate) typ: Option<String>,
}

impl TrustedIssuer {
    /// The verification policy of this issuer's tokens.
    pub(crate) fn policy(&self) -> Policy {
        let mut policy = Policy::new(&self.issuer);
        for aud in &self.audiences {
            policy = policy.with_audience(aud);
        }
        if let Some(typ) = &self.typ {
            policy = policy.with_typ(TypPolicy::Exact(typ.clone()));
        }
        policy
    }
}

/// Whether `url` may be fetched: `https`, or `http` to a loopback host (development and
/// tests only: a production issuer on plain HTTP would let anyone on path swap its keys).
pub(crate) fn fetchable(url: &str) -> bool {
    let Ok(u) = Url::parse(url) else {
        return false;
    };
    if !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    match u.scheme() {
        "https" => u.host_str().is_some(),
        "http" => matches!(
            u.host_str(),
            Some("127.0.0.1") | Some("localhost") | Some("[::1]")
        ),
        _ => false,
    }
}

/// Parses `TRUSTED_ISSUERS`: a JSON array of
/// `{"issuer", "jwks_uri" | "discovery", "audiences": [..], "tenant", "typ"?}`.
pub(crate) fn parse_trusted_issuers(raw: &str) -> Result<Vec<TrustedIssuer>, String> {
    let value =
        crate::encoding::json::parse(raw.as_bytes(), 4).map_err(|e| e.reason().to_string())?;
    let Value::Array(items) = value else {
        return Err("TRUSTED_ISSUERS must be a JSON array".into());
    };
    if items.len() > MAX_TRUSTED_ISSUERS {
        return Err(format!("at most {MAX_TRUSTED_ISSUERS} trusted issuers"));
    }
    let mut out: Vec<TrustedIssuer> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(obj) = item else {
            return Err("each trusted issuer must be an object".into());
        };
        for key in obj.keys() {
            if ![
                "issuer",
                "jwks_uri",
                "discovery",
                "audiences",
                "tenant",
                "typ",
            ]
            .contains(&key.as_str())
            {
                return Err(format!("unknown trusted issuer field `{key}`"));
            }
        }
        let string = |name: &str| -> Result<Option<String>, String> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                Some(_) => Err(format!("`{name}` must be a non-empty string")),
            }
        };
        let issuer = string("issuer")?.ok_or("`issuer` is required")?;
        let tenant = string("tenant")?.ok_or("`tenant` is required")?;
        let jwks_uri = string("jwks_uri")?;
        let discovery = string("discovery")?;
        let typ = string("typ")?;
        match (&jwks_uri, &discovery) {
            (Some(u), None) | (None, Some(u)) if fetchable(u) => {}
            (Some(_), None) | (None, Some(_)) => {
                return Err(format!(
                    "{issuer}: key URLs must be https (http only for loopback hosts)"
                ))
            }
            _ => {
                return Err(format!(
                    "{issuer}: give exactly one of `jwks_uri`, `discovery`"
                ))
            }
        }
        let audiences: Vec<String> = match obj.get("audiences") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("{issuer}: `audiences` must hold non-empty strings"))?,
            Some(Value::String(s)) if !s.is_empty() => alloc::vec![s.clone()],
            _ => return Err(format!("{issuer}: `audiences` is required")),
        };
        if audiences.is_empty() {
            return Err(format!("{issuer}: `audiences` must not be empty"));
        }
        if out.iter().any(|t| t.issuer == issuer) {
            return Err(format!("{issuer}: listed twice"));
        }
        out.push(TrustedIssuer {
            issuer,
            jwks_uri,
            discovery,
            audiences,
            tenant,
            typ,
        });
    }
    Ok(out)
}

// ------------------------------------------------------------------ counters

/// Per-isolate counts of the I/O this module and the gateway did.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) kv_reads: Cell<u64>,
    pub(crate) kv_writes: Cell<u64>,
    pub(crate) jwks_fetches: Cell<u64>,
    pub(crate) jwks_fetch_failures: Cell<u64>,
    pub(crate) origin_fetches: Cell<u64>,
    pub(crate) revalidations: Cell<u64>,
    pub(crate) webcrypto_signs: Cell<u64>,
    pub(crate) wasm_signs: Cell<u64>,
    pub(crate) webcrypto_verifies: Cell<u64>,
    pub(crate) wasm_verifies: Cell<u64>,
    pub(crate) memo_hits: Cell<u64>,
}

std::thread_local! {
    pub(crate) static COUNTERS: Counters = Counters::default();
    static STATES: RefCell<BTreeMap<String, IssuerState>> = const { RefCell::new(BTreeMap::new()) };
    /// Test-clock offset of the cache (dev mode only), in seconds.
    static CLOCK_OFFSET: Cell<i64> = const { Cell::new(0) };
}

/// Adds one to a counter.
pub(crate) fn bump(pick: fn(&Counters) -> &Cell<u64>) {
    COUNTERS.with(|c| {
        let cell = pick(c);
        cell.set(cell.get().saturating_add(1));
    });
}

/// The counters as JSON.
pub(crate) fn counters_json() -> String {
    COUNTERS.with(|c| {
        json!({
            "kv_reads": c.kv_reads.get(),
            "kv_writes": c.kv_writes.get(),
            "jwks_fetches": c.jwks_fetches.get(),
            "jwks_fetch_failures": c.jwks_fetch_failures.get(),
            "origin_fetches": c.origin_fetches.get(),
            "revalidations": c.revalidations.get(),
            "webcrypto_signs": c.webcrypto_signs.get(),
            "wasm_signs": c.wasm_signs.get(),
            "webcrypto_verifies": c.webcrypto_verifies.get(),
            "wasm_verifies": c.wasm_verifies.get(),
            "signature_memo_hits": c.memo_hits.get(),
            "clock_offset": CLOCK_OFFSET.with(Cell::get),
        })
        .to_string()
    })
}

/// Moves the cache's clock forward (dev mode only).
pub(crate) fn advance_clock(secs: i64) {
    CLOCK_OFFSET.with(|c| c.set(c.get().saturating_add(secs.clamp(0, 7 * 86_400))));
}

/// Drops every issuer's in-memory state, as a fresh isolate would start (dev mode only).
pub(crate) fn forget() {
    STATES.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s.clear();
        }
    });
}

/// The cache's clock: `Date.now()` plus the dev-mode offset.
pub(crate) fn cache_now() -> UnixTime {
    UnixTime(now_secs().saturating_add(CLOCK_OFFSET.with(Cell::get)))
}

/// Whole seconds of `Date.now()`.
pub(crate) fn now_secs() -> i64 {
    // f64 → i64 `as` saturates; Date.now() is a finite positive number of ms.
    #[allow(clippy::cast_possible_truncation)]
    let secs = (js_sys::Date::now() / 1000.0).floor() as i64;
    secs
}

// ------------------------------------------------------------------ state machine I/O

#[derive(Debug, Clone)]
struct IssuerState {
    cache: JwksCache,
    /// `jwks_uri` resolved through discovery.
    jwks_uri: Option<String>,
    /// Whether this isolate already looked in KV.
    kv_checked: bool,
    /// Whether one of this isolate's requests is fetching the set right now.
    in_flight: bool,
}

impl IssuerState {
    fn new() -> Self {
        Self {
            cache: JwksCache::new(CacheConfig::default()),
            jwks_uri: None,
            kv_checked: false,
            in_flight: false,
        }
    }
}

fn with_state<R>(issuer: &str, f: impl FnOnce(&mut IssuerState) -> R) -> Option<R> {
    STATES.with(|s| {
        let mut map = s.try_borrow_mut().ok()?;
        let state = map
            .entry(issuer.to_string())
            .or_insert_with(IssuerState::new);
        Some(f(state))
    })
}

/// Why no key set could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeysError {
    /// Fail closed with 503 `jwks_unavailable` and this `Retry-After`.
    Unavailable { retry_after: i64 },
}

enum Step {
    Use(Jwks),
    Revalidate(Jwks),
    ReadKv,
    Fetch,
    Wait,
    Unavailable(i64),
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
        let step = with_state(&issuer.issuer, |s| match s.cache.lookup(kid, now) {
            Lookup::Use(j) => Step::Use(j.clone()),
            Lookup::UseAndRevalidate(j) => {
                let j = j.clone();
                if s.in_flight {
                    Step::Use(j)
                } else {
                    s.cache.begin_fetch(now);
                    s.in_flight = true;
                    Step::Revalidate(j)
                }
            }
            // Another request of this isolate is reading KV or fetching: wait for it.
            Lookup::Fetch if s.in_flight => Step::Wait,
            Lookup::Fetch if !s.kv_checked && s.cache.jwks().is_none() => {
                s.kv_checked = true;
                s.in_flight = true;
                Step::ReadKv
            }
            Lookup::Fetch => {
                s.cache.begin_fetch(now);
                s.in_flight = true;
                Step::Fetch
            }
            Lookup::Unavailable { .. } if s.in_flight => Step::Wait,
            Lookup::Unavailable { retry_after } => Step::Unavailable(retry_after),
        })
        .unwrap_or(Step::Unavailable(1));
        match step {
            Step::Use(jwks) => return Ok(jwks),
            Step::Revalidate(jwks) => {
                bump(|c| &c.revalidations);
                let (issuer, env) = (issuer.clone(), env.clone());
                ctx.wait_until(async move {
                    fetch_and_store(&issuer, &env).await;
                });
                return Ok(jwks);
            }
            Step::ReadKv => {
                let _ = read_kv(issuer, env).await;
                with_state(&issuer.issuer, |s| s.in_flight = false);
            }
            Step::Fetch => fetch_and_store(issuer, env).await,
            Step::Wait => {
                if waited >= MAX_WAIT_MS {
                    return Err(KeysError::Unavailable { retry_after: 5 });
                }
                worker::Delay::from(core::time::Duration::from_millis(WAIT_STEP_MS.into())).await;
                waited = waited.saturating_add(WAIT_STEP_MS);
            }
            Step::Unavailable(retry_after) => {
                return Err(KeysError::Unavailable {
                    retry_after: retry_after.max(1),
                })
            }
        }
    }
    Err(KeysError::Unavailable { retry_after: 5 })
}

/// The KV key of an issuer's set (hashed: KV keys are at most 512 bytes).
fn kv_key(issuer: &str) -> String {
    format!("jwks:v1:{}", crate::edge::assertion::claims_hash(issuer))
}

async fn read_kv(issuer: &TrustedIssuer, env: &Env) -> Option<()> {
    let kv = env.kv(KV_BINDING).ok()?;
    bump(|c| &c.kv_reads);
    let text = kv.get(&kv_key(&issuer.issuer)).text().await.ok()??;
    let value = crate::encoding::json::parse(text.as_bytes(), 8).ok()?;
    if value.get("issuer").and_then(Value::as_str) != Some(issuer.issuer.as_str()) {
        return None;
    }
    let fetched_at = value.get("fetched_at").and_then(Value::as_i64)?;
    let max_age = value.get("max_age").and_then(Value::as_i64);
    let jwks_uri = value
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_string);
    let jwks = Jwks::from_json(value.get("jwks")?.to_string().as_bytes()).ok()?;
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

/// Fetches the issuer's set (resolving discovery first if needed), records the outcome in
/// the cache and, on success, writes it to KV. Failures leave the previous set in place.
async fn fetch_and_store(issuer: &TrustedIssuer, env: &Env) {
    let ok = fetch_and_store_inner(issuer, env).await;
    if ok.is_none() {
        bump(|c| &c.jwks_fetch_failures);
    }
    with_state(&issuer.issuer, |s| s.in_flight = false);
}

async fn fetch_and_store_inner(issuer: &TrustedIssuer, env: &Env) -> Option<()> {
    let known = with_state(&issuer.issuer, |s| s.jwks_uri.clone()).flatten();
    let jwks_uri = match (&issuer.jwks_uri, known, &issuer.discovery) {
        (Some(uri), _, _) => uri.clone(),
        (None, Some(uri), _) => uri,
        (None, None, Some(discovery)) => {
            let (body, _) = fetch_bounded(discovery, MAX_DISCOVERY_BYTES).await?;
            let doc = crate::encoding::json::parse(&body, 8).ok()?;
            if doc.get("issuer").and_then(Value::as_str) != Some(issuer.issuer.as_str()) {
                worker::console_warn!(
                    "torii-edge: discovery issuer mismatch for {}",
                    issuer.issuer
                );
                return None;
            }
            let uri = doc.get("jwks_uri").and_then(Value::as_str)?.to_string();
            if !fetchable(&uri) {
                return None;
            }
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
    let max_stale = CacheConfig::default().max_stale;
    let value = json!({
        "issuer": issuer.issuer,
        "fetched_at": now.0,
        "max_age": max_age,
        "jwks_uri": jwks_uri,
        "jwks": jwks.to_value(),
    })
    .to_string();
    let ttl = ttl.saturating_add(max_stale).max(MIN_KV_TTL);
    if let Ok(kv) = env.kv(KV_BINDING) {
        bump(|c| &c.kv_writes);
        let put = kv
            .put(&kv_key(&issuer.issuer), value)
            .ok()?
            .expiration_ttl(u64::try_from(ttl).unwrap_or(86_400));
        if let Err(e) = put.execute().await {
            worker::console_warn!("torii-edge: JWKS KV write failed: {}", e);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_fetchable() {
        assert!(fetchable("https://issuer.example/.well-known/jwks.json"));
        assert!(fetchable("http://127.0.0.1:9000/jwks"));
        assert!(fetchable("http://localhost/jwks"));
        assert!(fetchable("http://[::1]:80/jwks"));
        for bad in [
            "http://issuer.example/jwks",
            "http://127.0.0.1.example/jwks",
            "ftp://127.0.0.1/jwks",
            "https://user:pw@issuer.example/jwks",
            "/jwks",
            "",
        ] {
            assert!(!fetchable(bad), "{bad}");
        }
    }

    #[test]
    fn trusted_issuers_parse_and_validate() {
        let t = parse_trusted_issuers(
            r#"[{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks",
                 "audiences":["api"],"tenant":"demo"},
                {"issuer":"http://127.0.0.1:9","discovery":"http://127.0.0.1:9/.well-known/openid-configuration",
                 "audiences":"api2","tenant":"demo","typ":"at+jwt"}]"#,
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].audiences, ["api"]);
        assert_eq!(t[1].typ.as_deref(), Some("at+jwt"));
        assert_eq!(t[1].jwks_uri, None);
        for bad in [
            "{}",
            r#"[{"issuer":"a","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"http://idp.example/j","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","discovery":"https://i/d","audiences":["x"],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":[],"tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","tenant":"t"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"]}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"],"tenant":"t","jku":"x"}]"#,
            r#"[{"issuer":"a","jwks_uri":"https://i/j","audiences":["x"],"tenant":"t"},
                {"issuer":"a","jwks_uri":"https://i/k","audiences":["x"],"tenant":"t"}]"#,
        ] {
            assert!(parse_trusted_issuers(bad).is_err(), "{bad}");
        }
    }
}
