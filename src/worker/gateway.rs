//! The gateway in front of the origin: route rules, token verification, header hygiene,
//! claims headers and the edge assertion, over the sans-I/O [`crate::edge::routing`] and
//! [`crate::edge::assertion`] modules (every rule there, natively tested). The request runs
//! as phases: [`start`] (request id, log line), [`decide`] (configuration, path, tenant,
//! route, token, requirements), [`outbound`] (the origin request and the assertion's
//! signing input), then the I/O. [`handle`] is the full path, doing every I/O itself
//! ([`Mode::Full`]); the fast path ([`super::fast`]) runs the same phases from the
//! isolate's caches ([`Mode::Cached`]) and leaves the I/O to the entry module.
//!
//! Environment:
//! * `ORIGIN_URL` (var): where requests go (`http(s)://host[:port][/base]`). Unset: the
//!   gateway is off and every non-edge path is 404 `not_found`.
//! * `ROUTES` (var, optional): JSON route rules ([`RouteTable::from_json`]); a path no
//!   rule matches requires a valid token (default deny).
//! * `TRUSTED_ISSUERS` (var, optional): external issuers ([`crate::edge::issuers`], [`super::trusted_jwks`]).
//! * `TORII_DEV_MODE=1` (var, dev and tests only): enables `/_torii/dev/*`.

use super::clock;
use super::counters;
use super::env::string_var;
use super::http::{new_request_id, to_web_response};
use super::log::LogLine;
use super::trusted_jwks::{self, KeysError};
use super::webcrypto::{
    complete_check, entry_verify, sign_input, verify_native, verify_remembered, Remembered,
    TenantKey,
};
use crate::edge::assertion::{
    edge_assertion_signing_input, Binding, ASSERTION_HEADER, MAX_ASSERTION_LIFETIME,
};
use crate::edge::authn;
use crate::edge::config::GatewayConfig;
use crate::edge::extract::request_token;
use crate::edge::headers::{
    claims_headers, forwarded_headers, valid_request_id, ForwardContext, ForwardedHeaders,
    REQUEST_ID,
};
use crate::jose::finish_jws;

use crate::edge::path::normalize_path;
use crate::edge::reply::{claim_header_error_reply, token_error_reply, www_authenticate, Reply};
use crate::edge::routing::{check_query, Access, GatewayError, Requirements, Route};
use crate::edge::url::SerializedUrl as Url;
use crate::{
    ErrorCode, UnixTime, UntrustedToken, VerifiedClaims, VerifyError, DEFAULT_MAX_TOKEN_LEN,
};
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use serde_json::Value;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::web_sys;
use worker::Env;

/// Lifetime of edge assertions, in seconds.
const ASSERTION_LIFETIME: i64 = MAX_ASSERTION_LIFETIME;

// ------------------------------------------------------------------ tenant seam

/// What the gateway needs of the tenant a request is for.
#[derive(Debug, Clone)]
pub(crate) struct GatewayTenant {
    /// Tenant id (`x-torii-tenant-id`).
    pub(crate) id: String,
    /// Its issuer URL.
    pub(crate) issuer: String,
    /// The key that signs edge assertions (with WebCrypto).
    pub(crate) key: TenantKey,
    /// The verifier of its session tokens, over its published keys (tokens it issued
    /// verify against these).
    pub(crate) verifier: Rc<crate::Verifier>,
}

/// A parsed configuration, or why it is invalid.
pub(crate) type Parsed = Rc<Result<GatewayConfig, String>>;

std::thread_local! {
    /// The parsed gateway configuration (`None`: no `ORIGIN_URL`), once per `env` object.
    static CONFIG: super::env::PerEnv<Option<Parsed>> = const { RefCell::new(None) };
    /// Whether the log line is off (`TORII_LOG=off`), once per `env` object.
    static LOG_OFF: super::env::PerEnv<bool> = const { RefCell::new(None) };
}

fn gateway_tenant(t: super::tenant::Tenant) -> GatewayTenant {
    GatewayTenant {
        id: t.id,
        issuer: t.issuer,
        key: t.key,
        verifier: t.verifier,
    }
}

/// The gateway configuration from the vars, parsed once per `env` object (a warm request
/// reads no var: [`super::env::once_per_env`]).
fn load_config(env: &Env) -> Option<Parsed> {
    super::env::once_per_env(&CONFIG, env, || {
        let origin = string_var(env, "ORIGIN_URL").filter(|o| !o.trim().is_empty())?;
        let routes = string_var(env, "ROUTES");
        let trusted = string_var(env, "TRUSTED_ISSUERS");
        let timeout = string_var(env, "TORII_ORIGIN_TIMEOUT_MS");
        Some(Rc::new(
            GatewayConfig::parse(&origin, routes.as_deref(), trusted.as_deref())
                .and_then(|c| c.with_origin_timeout(timeout.as_deref())),
        ))
    })
}

/// Arms `abort` to fire after `ms` (the runtime's `setTimeout` calling the controller's
/// own bound `abort`: no Rust closure, no promise race); the handle clears it.
fn arm_timeout(
    global: &web_sys::WorkerGlobalScope,
    abort: &web_sys::AbortController,
    ms: u32,
) -> Option<i32> {
    let fire: js_sys::Function = js_sys::Reflect::get(abort, &"abort".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    global
        .set_timeout_with_callback_and_timeout_and_arguments_0(&fire.bind0(abort), ms)
        .ok()
}

// ------------------------------------------------------------------ I/O

/// How far the gateway may go for what a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Any I/O: D1, KV, the trusted issuers, WebCrypto (the full path, [`handle`]).
    Full,
    /// The isolate's caches alone (the fast path, [`super::fast`]): where the full path
    /// would do I/O, [`decide`] stops with [`Halt::FullPath`]. Its one await is a
    /// first-seen token's signature, handed out to the entry module
    /// ([`super::webcrypto::entry_verify`]); the fast path resumes the request with the
    /// answer.
    Cached,
}

/// Why [`decide`] stopped short of forwarding.
pub(crate) enum Halt {
    /// The reply to send.
    Reply(Reply),
    /// ([`Mode::Cached`]) the request needs I/O the fast path does not do.
    FullPath,
}

impl From<Reply> for Halt {
    fn from(reply: Reply) -> Self {
        Self::Reply(reply)
    }
}

pub(crate) enum Verified {
    /// No token on an optional or public route.
    Anonymous,
    /// A verified token.
    Claims(VerifiedClaims),
}

/// Verifies `token` for `tenant`: the tenant's own keys, or a trusted issuer's through the
/// JWKS cache (the full path only). `Err` is the reply to send, or where the fast path stops.
#[allow(clippy::too_many_arguments)]
async fn verify_token(
    token: &str,
    tenant: &GatewayTenant,
    config: &GatewayConfig,
    access: &Access,
    env: &Env,
    ctx: Option<&worker::Context>,
    line: &mut LogLine,
    mode: Mode,
) -> Result<VerifiedClaims, Halt> {
    let realm = tenant.id.as_str();
    let now = UnixTime(clock::now_secs());
    let untrusted = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN)
        .map_err(|e| token_error_reply(realm, &e))?;
    match authn::pick_issuer(&untrusted, &tenant.id, &tenant.issuer, &config.trusted) {
        Ok(authn::Issuer::Tenant) => {
            line.issuer = Some("tenant");
            let verifier =
                authn::tenant_verifier(&tenant.verifier, &tenant.issuer, untrusted.typ(), access);
            let verifier = &*verifier;
            let verified = match mode {
                Mode::Full => verify_native(verifier, token, &untrusted, now).await,
                Mode::Cached => match verify_remembered(verifier, token, &untrusted, now) {
                    Remembered::Decided(result) => result,
                    Remembered::Unchecked(check, key) => {
                        let Some(valid) = entry_verify(&check).await else {
                            return Err(Halt::FullPath);
                        };
                        complete_check(check, key, valid, token.len(), now)
                    }
                },
            };
            verified
                .and_then(|claims| {
                    authn::check_template(untrusted.typ(), &claims, access).map(|()| claims)
                })
                .map_err(|e| token_error_reply(realm, &e).into())
        }
        Ok(authn::Issuer::Trusted(issuer)) => {
            line.issuer = Some("trusted");
            let (Mode::Full, Some(ctx)) = (mode, ctx) else {
                return Err(Halt::FullPath);
            };
            let jwks = match trusted_jwks::keys_for(issuer, untrusted.kid(), env, ctx).await {
                Ok(jwks) => jwks,
                Err(KeysError::Unavailable { retry_after }) => {
                    let mut reply = Reply::from_code(
                        ErrorCode::JwksUnavailable,
                        "the issuer's keys are unavailable; retry later",
                    );
                    reply.headers.push(("retry-after", retry_after.to_string()));
                    return Err(reply.into());
                }
            };
            let verifier = crate::Verifier::new(jwks, issuer.policy());
            verify_native(&verifier, token, &untrusted, now)
                .await
                .map_err(|e| token_error_reply(realm, &e).into())
        }
        Err(e) => Err(token_error_reply(realm, &e).into()),
    }
}

/// The inbound request's method and headers, copied out of the runtime's object once
/// ([`super::http::header_list`]: one crossing, not one per read; `worker::Request::from`
/// would also parse `request.cf` on every request, which the gateway never reads).
pub(crate) struct Incoming {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) method: String,
}

impl Incoming {
    /// The value of header `name` (lower case), as `Headers.get` answers it.
    fn header(&self, name: &str) -> Option<&str> {
        super::http::header_value(&self.headers, name)
    }
    fn method(&self) -> &str {
        &self.method
    }
}

/// The request's id (a valid inbound `x-request-id`, else a fresh one) and its log line.
pub(crate) fn start(req: &Incoming, url: &Url, env: &Env, started_ms: f64) -> (String, LogLine) {
    let inbound_id = req
        .header(REQUEST_ID)
        .filter(|id| valid_request_id(id))
        .map(str::to_string);
    let request_id = inbound_id.unwrap_or_else(new_request_id);
    let line = LogLine {
        request_id: request_id.clone(),
        method: req.method().to_string(),
        path: url.path().chars().take(256).collect(),
        started_ms,
        off: super::env::once_per_env(&LOG_OFF, env, || {
            string_var(env, "TORII_LOG").as_deref() == Some("off")
        }),
        ..LogLine::default()
    };
    (request_id, line)
}

/// Completes `line` for a reply the gateway sends itself (not the origin's response).
pub(crate) fn note_reply(line: &mut LogLine, reply: &Reply) {
    line.status = reply.status;
    if line.decision.is_empty() {
        line.decision = "reject";
    }
    if line.code.is_none() {
        line.code = reply
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice::<Value>(b.as_bytes()).ok())
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string));
    }
}

/// Handles one request for a path outside `/_torii/` and `/.well-known/` with any I/O it
/// needs (the full path); `url` is the request's parsed URL.
pub(crate) async fn handle(
    raw: web_sys::Request,
    url: Url,
    env: &Env,
    ctx: &worker::Context,
) -> worker::Result<web_sys::Response> {
    let Some(headers) = super::http::header_list(&raw.headers()) else {
        return to_web_response(&crate::edge::reply::internal_error(), None);
    };
    let req = Incoming {
        headers,
        method: raw.method(),
    };
    let (request_id, mut line) = start(&req, &url, env, js_sys::Date::now());
    let decided = decide(&req, &url, env, Some(ctx), &mut line, Mode::Full).await;
    let reply = match decided {
        Ok(Decision::Forward(config, tenant, path, verified)) => {
            match forward(
                &req,
                &raw,
                &url,
                &config,
                &tenant,
                &path,
                verified,
                &request_id,
                &mut line,
            )
            .await
            {
                Ok(response) => {
                    line.emit();
                    return Ok(response);
                }
                Err(reply) => reply,
            }
        }
        Err(Halt::Reply(reply)) => reply,
        // The full path does every I/O itself: it never stops where the fast path would.
        Err(Halt::FullPath) => crate::edge::reply::internal_error(),
    };
    note_reply(&mut line, &reply);
    line.emit();
    to_web_response(&reply, Some(request_id.as_str()))
}

/// What [`decide`] decided: forward, with the configuration, the tenant, the normalized
/// path and the caller's identity.
pub(crate) enum Decision {
    Forward(
        Rc<Result<GatewayConfig, String>>,
        GatewayTenant,
        String,
        Verified,
    ),
}

/// The tenant of this request: its id, issuer, signing key and published keys, from the
/// tenant store ([`super::tenant::resolve`]: isolate-cached, so a warm request reads
/// neither D1 nor KV) in [`Mode::Full`], or from the isolate's cache alone in
/// [`Mode::Cached`].
async fn tenant_of(
    req: &Incoming,
    url: &Url,
    env: &Env,
    ctx: Option<&worker::Context>,
    mode: Mode,
) -> Result<GatewayTenant, Halt> {
    match mode {
        Mode::Full => Ok(super::tenant::resolve(
            url.host(),
            req.header(super::tenant::APPLICATION_ID_HEADER),
            req.header(super::tenant::CLIENT_IP_HEADER),
            env,
            ctx,
        )
        .await
        .map(gateway_tenant)?),
        Mode::Cached => match super::tenant::resolve_cached(
            url.host(),
            req.header(super::tenant::APPLICATION_ID_HEADER),
            env,
        ) {
            Some(tenant) => Ok(tenant.map(gateway_tenant)?),
            None => Err(Halt::FullPath),
        },
    }
}

/// Everything before the origin call: configuration, route, token, requirements. The
/// same rules in both modes; only where the answer comes from differs.
pub(crate) async fn decide(
    req: &Incoming,
    url: &Url,
    env: &Env,
    ctx: Option<&worker::Context>,
    line: &mut LogLine,
    mode: Mode,
) -> Result<Decision, Halt> {
    let Some(config_rc) = load_config(env) else {
        return Err(crate::edge::reply::not_found().into());
    };
    let config = match config_rc.as_ref() {
        Ok(config) => config,
        Err(why) => {
            worker::console_error!("torii-edge: gateway misconfigured: {}", why);
            line.decision = "error";
            return Err(misconfigured().into());
        }
    };
    // Bounded, pure checks first: a bad path costs no tenant lookup.
    check_query(url.query()).map_err(|e| gateway_error_reply(&e))?;
    let path = normalize_path(url.path()).map_err(|e| gateway_error_reply(&e))?;
    let tenant = super::boxed(tenant_of(req, url, env, ctx, mode)).await?;
    line.tenant = Some(tenant.id.clone());
    let access = match config.routes.route(req.method(), &path) {
        Route::Edge => return Err(crate::edge::reply::not_found().into()),
        Route::Origin(Some(rule)) => {
            line.route = Some(rule.pattern.clone());
            rule.access.clone()
        }
        Route::Origin(None) => {
            line.route = Some("(default)".into());
            Access::Required(Requirements::default())
        }
    };
    if access == Access::Public {
        line.decision = "public";
        return Ok(Decision::Forward(
            Rc::clone(&config_rc),
            tenant,
            path,
            Verified::Anonymous,
        ));
    }
    let token = request_token(req.header("authorization"), req.header("cookie"))
        .map_err(|e| token_error_reply(&tenant.id, &e))?;
    let Some(token) = token else {
        if access == Access::Optional {
            line.decision = "anonymous";
            return Ok(Decision::Forward(
                Rc::clone(&config_rc),
                tenant,
                path,
                Verified::Anonymous,
            ));
        }
        return Err(token_error_reply(&tenant.id, &VerifyError::MissingToken).into());
    };
    let t0 = js_sys::Date::now();
    let verified = super::boxed(verify_token(
        token, &tenant, config, &access, env, ctx, line, mode,
    ))
    .await;
    line.verify_ms = Some(js_sys::Date::now() - t0);
    let claims = verified?;
    if let Access::Required(req) = &access {
        if let Err(e) = req.check(&claims) {
            let mut reply = gateway_error_reply(&e);
            reply.headers.push((
                "www-authenticate",
                www_authenticate(&tenant.id, Some(("insufficient_scope", e.code()))),
            ));
            return Err(reply.into());
        }
    }
    line.decision = "verified";
    Ok(Decision::Forward(
        Rc::clone(&config_rc),
        tenant,
        path,
        Verified::Claims(claims),
    ))
}

fn gateway_error_reply(e: &GatewayError) -> Reply {
    Reply::from_code(e.error_code(), &e.to_string())
}

fn misconfigured() -> Reply {
    Reply::from_code(ErrorCode::Misconfigured, "the gateway is misconfigured")
}

/// The origin request of a forwarded request, all but the assertion's signature.
pub(crate) struct Outbound<'a> {
    /// The request method.
    pub(crate) method: String,
    /// The origin URL.
    pub(crate) target: String,
    /// The forwarded headers as changes to the inbound ones: what of them is dropped, and
    /// the edge's own and the claims headers to append ([`forwarded_headers`]); the
    /// assertion ([`ASSERTION_HEADER`]) goes last.
    pub(crate) headers: ForwardedHeaders<'a>,
    /// The assertion's JWS signing input, for the tenant's key.
    pub(crate) signing_input: String,
    /// Whether the inbound body goes along (not for `GET`/`HEAD`).
    pub(crate) with_body: bool,
    /// How long the origin has to send its response headers.
    pub(crate) timeout_ms: u32,
}

/// Builds the origin request of a forwarded request: clean headers, claims headers and
/// the assertion's signing input. `Err` is the reply to send instead.
#[allow(clippy::too_many_arguments)]
pub(crate) fn outbound<'a>(
    req: &'a Incoming,
    url: &Url,
    config_rc: &Parsed,
    tenant: &GatewayTenant,
    path: &str,
    verified: &Verified,
    request_id: &str,
    line: &mut LogLine,
) -> Result<Outbound<'a>, Reply> {
    let Ok(config) = config_rc.as_ref() else {
        return Err(misconfigured());
    };
    let method = req.method().to_string();
    let target = config.forward_url(path, url.query());
    let (added, sub) = match verified {
        Verified::Claims(claims) => {
            let added = claims_headers(claims, &tenant.id).map_err(|e| {
                line.decision = "reject";
                claim_header_error_reply(&tenant.id, &e)
            })?;
            (added, claims.sub())
        }
        Verified::Anonymous => (Vec::new(), None),
    };
    let identity: Vec<(&str, &str)> = added.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let signing_input = edge_assertion_signing_input(
        tenant.key.kid(),
        &tenant.issuer,
        &config.audience,
        Binding {
            method: &method,
            url: &target,
            identity: &identity,
        },
        sub,
        UnixTime(clock::now_secs()),
        ASSERTION_LIFETIME,
    );
    let host = Some(url.host())
        .filter(|h| !h.is_empty())
        .map(|h| match url.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_string(),
        });
    // The runtime's own client address (Cloudflare sets it; a client's is overwritten).
    let headers = forwarded_headers(
        &req.headers,
        &ForwardContext {
            request_id,
            host: host.as_deref(),
            proto: url.scheme(),
            client_ip: req.header(super::tenant::CLIENT_IP_HEADER),
        },
        added,
    );
    Ok(Outbound {
        with_body: !matches!(method.as_str(), "GET" | "HEAD"),
        method,
        target,
        headers,
        signing_input,
        timeout_ms: config.origin_timeout_ms,
    })
}

/// The reply when the origin did not answer: `timed_out` (after `timeout_ms`) or
/// unreachable (logged as a warning; `why` is the runtime's error, if any).
pub(crate) fn origin_failure(
    timed_out: bool,
    timeout_ms: u32,
    why: &str,
    line: &mut LogLine,
) -> Reply {
    if timed_out {
        worker::console_warn!("torii-edge: origin timed out after {} ms", timeout_ms);
        line.decision = "origin_timeout";
        Reply::from_code(
            ErrorCode::OriginTimeout,
            "the origin did not answer in time",
        )
    } else {
        worker::console_warn!("torii-edge: origin unreachable: {}", why);
        line.decision = "origin_unreachable";
        Reply::from_code(
            ErrorCode::OriginUnreachable,
            "the origin could not be reached",
        )
    }
}

/// The reply when WebCrypto could not sign the assertion (logged; nothing is sent).
pub(crate) fn unsigned() -> Reply {
    worker::console_error!("torii-edge: WebCrypto could not sign the edge assertion");
    crate::edge::reply::internal_error()
}

/// Sends the request to the origin with clean headers, claims headers and the assertion.
#[allow(clippy::too_many_arguments)]
async fn forward(
    req: &Incoming,
    raw: &web_sys::Request,
    url: &Url,
    config_rc: &Parsed,
    tenant: &GatewayTenant,
    path: &str,
    verified: Verified,
    request_id: &str,
    line: &mut LogLine,
) -> Result<web_sys::Response, Reply> {
    let internal = |e: worker::Error| {
        worker::console_error!("torii-edge: {}", e);
        crate::edge::reply::internal_error()
    };
    let out = outbound(
        req, url, config_rc, tenant, path, &verified, request_id, line,
    )?;
    let signature = sign_input(&tenant.key, out.signing_input.as_bytes())
        .await
        .ok_or_else(unsigned)?;
    let mut headers = out.headers.apply(&req.headers);
    headers.push((
        ASSERTION_HEADER.into(),
        finish_jws(out.signing_input, &signature).into(),
    ));
    let out_headers = super::http::headers_of(&headers).map_err(|e| internal(e.into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(&out.method);
    init.set_headers(&out_headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if out.with_body {
        if let Some(body) = raw.body() {
            init.set_body(&body);
        }
    }
    // The origin has `origin_timeout_ms` to send its response headers; the body then
    // streams without a deadline. Past it the fetch is aborted and the client gets a 504.
    let abort = web_sys::AbortController::new().map_err(|e| internal(e.into()))?;
    init.set_signal(Some(&abort.signal()));
    let outbound = web_sys::Request::new_with_str_and_init(&out.target, &init)
        .map_err(|e| internal(e.into()))?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    counters::bump(|c| &c.origin_fetches);
    let t0 = js_sys::Date::now();
    let Some(timer) = arm_timeout(&global, &abort, out.timeout_ms) else {
        return Err(crate::edge::reply::internal_error());
    };
    let fetched =
        worker::wasm_bindgen_futures::JsFuture::from(global.fetch_with_request(&outbound)).await;
    global.clear_timeout_with_handle(timer);
    line.origin_ms = Some(js_sys::Date::now() - t0);
    let upstream: web_sys::Response = match fetched {
        Ok(r) => r.unchecked_into(),
        Err(e) => {
            let why = alloc::format!("{e:?}");
            return Err(origin_failure(
                abort.signal().aborted(),
                out.timeout_ms,
                &why,
                line,
            ));
        }
    };
    line.status = upstream.status();
    let resp_headers =
        web_sys::Headers::new_with_headers(&upstream.headers()).map_err(|e| internal(e.into()))?;
    resp_headers
        .set(REQUEST_ID, request_id)
        .map_err(|e| internal(e.into()))?;
    let resp_init = web_sys::ResponseInit::new();
    resp_init.set_status(upstream.status());
    resp_init.set_status_text(&upstream.status_text());
    resp_init.set_headers(&JsValue::from(resp_headers));
    let body = upstream.body();
    let response =
        web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &resp_init)
            .map_err(|e| internal(e.into()))?;
    Ok(response)
}
