//! The dashboard (`/_torii/dashboard/`): the core decides ([`crate::edge::dashboard`]),
//! this fetches the file from the static-assets binding `ASSETS` (wrangler.toml
//! `[assets]`, built by `make dashboard`) and answers it with the core's headers. The
//! files are not in the wasm. Written against `web_sys` directly (no `worker::Fetcher`,
//! `RequestInit` or `Headers` wrappers): a few KiB less wasm.

use crate::edge::dashboard::{self, DashboardRequest};
use crate::edge::reply;
use crate::worker::http;
use alloc::string::{String, ToString};
use js_sys::Reflect;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{web_sys, Fetcher};
use worker::Env;

/// The binding of the static assets (wrangler.toml `[assets] binding`).
const ASSETS_BINDING: &str = "ASSETS";

/// The URL the binding is asked for the asset at `path` (its host is never resolved).
fn asset_url(path: &str) -> String {
    let mut url = String::from("https://assets.invalid");
    url.push_str(path);
    url
}

/// The static-assets binding, `None` when the Worker was deployed without it.
fn binding(env: &Env) -> Result<Option<Fetcher>, JsValue> {
    let env: &JsValue = env.as_ref();
    let assets = Reflect::get(env, &JsValue::from_str(ASSETS_BINDING))?;
    if assets.is_undefined() || assets.is_null() {
        return Ok(None);
    }
    Ok(Some(assets.unchecked_into()))
}

/// The text of the static asset at `path` (e.g. `/v1/openapi.json`): `None` when there is
/// no `ASSETS` binding or it does not answer 200. Nothing of the client's request
/// reaches the binding.
pub(crate) async fn asset_text(env: &Env, path: &str) -> Result<Option<String>, JsValue> {
    let Some(assets) = binding(env)? else {
        return Ok(None);
    };
    let fetched: web_sys::Response =
        worker::wasm_bindgen_futures::JsFuture::from(assets.fetch_with_str(&asset_url(path))?)
            .await?
            .dyn_into()?;
    if fetched.status() != 200 {
        return Ok(None);
    }
    let text = worker::wasm_bindgen_futures::JsFuture::from(fetched.text()?).await?;
    Ok(text.as_string())
}

/// Answers one dashboard request.
pub(crate) async fn handle(
    req: &web_sys::Request,
    path: &str,
    env: &Env,
) -> Result<web_sys::Response, JsValue> {
    let method = req.method();
    let asset = match dashboard::dashboard_request(&method, path) {
        DashboardRequest::Asset(asset) => asset,
        DashboardRequest::Reply(r) => return Ok(http::to_web_response(&r, None)?),
    };
    let Some(assets) = binding(env)? else {
        worker::console_error!("torii-edge: no `ASSETS` binding: the dashboard is not deployed");
        let r = reply::misconfigured("the dashboard's assets are not bound");
        return Ok(http::to_web_response(&r, None)?);
    };
    // Only the method and a revalidation header reach the binding: no credential,
    // cookie or other header of the request.
    let headers = web_sys::Headers::new()?;
    if let Some(inm) = req.headers().get("if-none-match")? {
        headers.set("if-none-match", &inm)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(if method == "HEAD" { "HEAD" } else { "GET" });
    init.set_headers(&headers);
    let promise = assets.fetch_with_str_and_init(&asset_url(&asset), &init)?;
    let fetched: web_sys::Response = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await?
        .dyn_into()?;
    let status = fetched.status();
    if status != 200 && status != 304 {
        return Ok(http::to_web_response(&dashboard::not_found(), None)?);
    }
    let out = web_sys::Headers::new()?;
    for (name, value) in dashboard::asset_headers(&asset) {
        out.set(name, &value)?;
    }
    if let Some(etag) = fetched.headers().get("etag")? {
        out.set("etag", &etag)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    init.set_headers(&out);
    let body = if status == 200 && method != "HEAD" {
        fetched.body()
    } else {
        None
    };
    web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
}
