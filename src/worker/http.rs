//! The one conversion of a core [`Reply`] into the runtime's `Response`, and request ids.

use crate::edge::headers::REQUEST_ID;
use crate::edge::reply::Reply;
use crate::edge::url::SerializedUrl;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use worker::wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;

/// A [`Reply`] as the runtime's `Response`, built directly with `web_sys` (a string body
/// and plain `ResponseInit`: measurably cheaper per request than `worker::Response`).
pub(crate) fn to_web_response(
    reply: &Reply,
    request_id: Option<&str>,
) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    if let Some(id) = request_id {
        headers.set(REQUEST_ID, id)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(reply.status);
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        reply.body.as_deref(),
        &init,
    )?)
}

/// Random bytes for request ids, drawn [`ID_BYTES`] at a time from a buffer that
/// `getrandom` refills [`POOL_IDS`] ids at a time: one call out to
/// `crypto.getRandomValues` per 64 requests instead of one per request (~5 µs of wasm →
/// JS each, measured). Request ids only correlate log lines; no secret is drawn from it.
struct IdPool {
    bytes: [u8; ID_BYTES * POOL_IDS],
    /// How many bytes of `bytes` are used up (all of them: refill first).
    used: usize,
}

/// Bytes per request id (128 bits).
const ID_BYTES: usize = 16;
/// Ids per refill of the pool.
const POOL_IDS: usize = 64;

impl IdPool {
    /// An empty pool: the first id refills it.
    const fn new() -> Self {
        Self {
            bytes: [0; ID_BYTES * POOL_IDS],
            used: ID_BYTES * POOL_IDS,
        }
    }

    /// The next id's bytes, refilling the pool with `fill` when it is used up; `None`
    /// (and the pool left empty) when `fill` fails. No byte is handed out twice.
    fn next(&mut self, fill: impl FnOnce(&mut [u8]) -> bool) -> Option<[u8; ID_BYTES]> {
        if self.used >= self.bytes.len() {
            if !fill(&mut self.bytes) {
                return None;
            }
            self.used = 0;
        }
        let mut id = [0u8; ID_BYTES];
        id.copy_from_slice(self.bytes.get(self.used..self.used + ID_BYTES)?);
        // Spent bytes are wiped, so nothing drawn stays readable in the pool.
        self.bytes.get_mut(self.used..self.used + ID_BYTES)?.fill(0);
        self.used += ID_BYTES;
        Some(id)
    }
}

std::thread_local! {
    /// This isolate's pool of request-id bytes.
    static ID_POOL: core::cell::RefCell<IdPool> = const { core::cell::RefCell::new(IdPool::new()) };
}

/// A fresh request id: 128 random bits as hex.
pub(crate) fn new_request_id() -> String {
    let drawn = ID_POOL.with(|pool| {
        pool.try_borrow_mut()
            .ok()
            .and_then(|mut pool| pool.next(|buf| getrandom::fill(buf).is_ok()))
    });
    match drawn {
        Some(bytes) => crate::encoding::hex::encode(&bytes),
        // No randomness: a time-based id still correlates log lines.
        None => format!("t{}", js_sys::Date::now()),
    }
}

/// [`to_web_response`] as a `worker::Response`, for the routes written with workers-rs
/// (the dev routes and the Backend API's).
#[cfg(any(feature = "api", feature = "dev"))]
pub(crate) fn to_response(reply: &Reply) -> worker::Result<worker::Response> {
    to_web_response(reply, None).map(worker::Response::from)
}

/// The parts of a request's URL (the runtime serialized it: split, not re-parsed).
pub(crate) fn request_url(req: &worker::Request) -> Option<SerializedUrl> {
    SerializedUrl::split(&req.inner().url())
}

/// The first value of query parameter `name` (`application/x-www-form-urlencoded`).
pub(crate) fn query_param(url: &SerializedUrl, name: &str) -> Option<String> {
    form_urlencoded::parse(url.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every header of `headers` as (lower-case name, value) pairs, in the runtime's order
/// (`Headers` iteration: sorted, repeated names combined as `get` combines them), copied
/// out in one crossing (`JSON.stringify(Array.from(headers))`) instead of three per
/// header. `None` if the runtime's list cannot be read.
pub(crate) fn header_list(headers: &web_sys::Headers) -> Option<Vec<(String, String)>> {
    js_sys::JSON::stringify(&js_sys::Array::from(headers))
        .ok()
        .and_then(|json| json.as_string())
        .and_then(|json| serde_json::from_slice(json.as_bytes()).ok())
}

/// [`header_list`] as the fast path's entry module sends it ([`super::fast`]): `name "\n"
/// value "\n"` for each header, as `Headers` iterates them (lower-case names, one entry
/// per name, values combined). A header name or value cannot contain a line feed (the Fetch standard's `Headers`
/// refuses one), so the list splits one way only; and the names are checked to be HTTP
/// tokens, so anything else (which no runtime sends) is `None`: the full path, which reads
/// the runtime's `Headers` itself. Cheaper on both sides than a JSON array of pairs
/// (`JSON.stringify(Array.from(headers))` then serde), which it replaced.
pub(crate) fn header_lines(list: &str) -> Option<Vec<(String, String)>> {
    if list.is_empty() {
        return Some(Vec::new());
    }
    let body = list.strip_suffix('\n')?;
    let mut lines = body.split('\n');
    let mut out = Vec::new();
    while let Some(name) = lines.next() {
        let value = lines.next()?;
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return None;
        }
        out.push((name.into(), value.into()));
    }
    Some(out)
}

/// The value of header `name` (lower case) in a [`header_list`].
pub(crate) fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The runtime's `Headers` holding `headers` in order, built in one crossing
/// (`new Headers(JSON.parse(list))`) instead of one `append` per header.
pub(crate) fn headers_of<N: serde::Serialize, V: serde::Serialize>(
    headers: &[(N, V)],
) -> Result<web_sys::Headers, JsValue> {
    let json = serde_json::to_string(headers).map_err(|_| JsValue::from_str("headers"))?;
    web_sys::Headers::new_with_str_sequence_sequence(&js_sys::JSON::parse(&json)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn the_id_pool_refills_once_per_64_ids_and_never_repeats_bytes() {
        let mut pool = IdPool::new();
        let mut fills = 0u8;
        let mut ids = Vec::new();
        for _ in 0..3 * POOL_IDS {
            let id = pool.next(|buf| {
                fills += 1;
                // Distinct bytes per refill and per position: a repeat would show.
                for (i, b) in buf.chunks_mut(4).enumerate() {
                    let [hi, lo] = u16::try_from(i).unwrap().to_be_bytes();
                    b.copy_from_slice(&[fills, hi, lo, 1]);
                }
                true
            });
            ids.push(id.unwrap());
        }
        assert_eq!(fills, 3);
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
        // What was handed out is wiped from the pool.
        assert!(pool.bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_failed_refill_gives_no_id_and_the_next_call_tries_again() {
        let mut pool = IdPool::new();
        assert_eq!(pool.next(|_| false), None);
        assert_eq!(
            pool.next(|buf| {
                buf.fill(7);
                true
            }),
            Some([7; ID_BYTES])
        );
    }

    #[test]
    fn header_lines_split_one_way_and_refuse_anything_else() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            header_lines("accept\n*/*\nauthorization\nBearer a.b.c\nx-empty\n\n"),
            Some(pairs(&[
                ("accept", "*/*"),
                ("authorization", "Bearer a.b.c"),
                ("x-empty", "")
            ]))
        );
        // A value keeps its commas, colons and spaces as the runtime combined them.
        assert_eq!(
            header_lines("cookie\na=1; b=2\nx-list\n1, 2:3\n"),
            Some(pairs(&[("cookie", "a=1; b=2"), ("x-list", "1, 2:3")]))
        );
        // No headers at all is an empty list (the entry sends "").
        assert_eq!(header_lines(""), Some(Vec::new()));
        assert_eq!(header_lines("\n"), None);
        // A name without its value, a missing final line feed, a name that is not a token.
        for bad in [
            "accept\n",
            "accept\n*/*",
            "bad name\nv\n",
            "x:y\nv\n",
            "\nv\n",
            "acc\u{e9}pt\nv\n",
        ] {
            assert_eq!(header_lines(bad), None, "{bad:?}");
        }
    }
}
