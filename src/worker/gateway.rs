//! The gateway in front of the origin: route rules, token verification, header hygiene,
//! claims headers and the edge assertion, over the sans-I/O [`crate::edge::routing`] and
//! [`crate::edge::assertion`] modules. Everything that is not I/O is a plain function tested
//! natively below; [`handle`] only wires them to the Workers runtime.
//!
//! Environment:
//! * `ORIGIN_URL` (var): where requests go (`http(s)://host[:port][/base]`). Unset: the
//!   gateway is off and every non-edge path is 404 `not_found`.
//! * `ROUTES` (var, optional): JSON route rules ([`RouteTable::from_json`]); a path no
//!   rule matches requires a valid token (default deny).
//! * `TRUSTED_ISSUERS` (var, optional): external issuers ([`super::jwks_kv`]).
//! * `TORII_DEV_MODE=1` (var, dev and tests only): enables `/_torii/dev/*`.

use super::jwks_kv::{self, KeysError, TrustedIssuer};
use crate::edge::assertion::{
    edge_assertion_claims, Binding, EDGE_ASSERTION_TYP, MAX_ASSERTION_LIFETIME,
};
use crate::edge::reply::Reply;
use crate::edge::routing::{
    claims_headers, connection_listed, must_strip, normalize_path, Access, GatewayError,
    Requirements, Route, RouteTable,
};
use crate::{
    bearer_token, Ed25519Verify, ErrorCode, Jwks, Policy, SignatureMemo, SigningKey, TypPolicy,
    UnixTime, UntrustedToken, VerifiedClaims, VerifyError, DEFAULT_MAX_TOKEN_LEN,
    TEMPLATE_TOKEN_TYP,
};
use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use serde_json::{json, Value};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::web_sys;
use worker::{Env, Request, Response, Url};

/// Name of the session cookie a token may come in.
pub(crate) const SESSION_COOKIE: &str = "__session";
/// Request id header, propagated or created.
pub(crate) const REQUEST_ID: &str = "x-request-id";
/// Lifetime of edge assertions, in seconds.
const ASSERTION_LIFETIME: i64 = MAX_ASSERTION_LIFETIME;

// ------------------------------------------------------------------ configuration

/// The gateway's parsed configuration.
#[derive(Debug, Clone)]
pub(crate) struct GatewayConfig {
    /// `ORIGIN_URL` without a trailing `/`.
    pub(crate) origin_base: String,
    /// The origin (`scheme://host[:port]`): the assertion's audience.
    pub(crate) audience: String,
    /// Route rules.
    pub(crate) routes: RouteTable,
    /// External issuers.
    pub(crate) trusted: Vec<TrustedIssuer>,
}

impl GatewayConfig {
    /// Parses `ORIGIN_URL`, `ROUTES` and `TRUSTED_ISSUERS`.
    pub(crate) fn parse(
        origin_url: &str,
        routes: Option<&str>,
        trusted: Option<&str>,
    ) -> Result<Self, String> {
        let url = Url::parse(origin_url.trim()).map_err(|_| "ORIGIN_URL is not a URL")?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("ORIGIN_URL must be an http(s) URL".into());
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err("ORIGIN_URL must not have a query, fragment or credentials".into());
        }
        let audience = url.origin().ascii_serialization();
        let origin_base = url.as_str().trim_end_matches('/').to_string();
        let routes = match routes.map(str::trim).filter(|r| !r.is_empty()) {
            None => RouteTable::default(),
            Some(r) => RouteTable::from_json(r.as_bytes()).map_err(|e| format!("ROUTES: {e}"))?,
        };
        let trusted = match trusted.map(str::trim).filter(|t| !t.is_empty()) {
            None => Vec::new(),
            Some(t) => {
                jwks_kv::parse_trusted_issuers(t).map_err(|e| format!("TRUSTED_ISSUERS: {e}"))?
            }
        };
        Ok(Self {
            origin_base,
            audience,
            routes,
            trusted,
        })
    }

    /// The URL the origin receives for a normalized path and the raw query.
    pub(crate) fn forward_url(&self, path: &str, query: Option<&str>) -> String {
        match query {
            Some(q) => format!("{}{path}?{q}", self.origin_base),
            None => format!("{}{path}", self.origin_base),
        }
    }
}

// ------------------------------------------------------------------ tenant seam

/// What the gateway needs of the tenant a request is for.
#[derive(Debug, Clone)]
pub(crate) struct GatewayTenant {
    /// Tenant id (`x-torii-tenant-id`).
    pub(crate) id: String,
    /// Its issuer URL.
    pub(crate) issuer: String,
    /// The key that signs edge assertions.
    pub(crate) key: SigningKey,
    /// Its seed, when known: assertions are then signed with WebCrypto (native code)
    /// rather than in wasm.
    pub(crate) seed: Option<[u8; 32]>,
    /// Its published keys (tokens it issued verify against these).
    pub(crate) jwks: Jwks,
}

/// A parsed configuration, or why it is invalid.
type Parsed = Rc<Result<GatewayConfig, String>>;

std::thread_local! {
    /// The parsed gateway configuration, with the raw vars it came from.
    static CONFIG: RefCell<Option<(String, Parsed)>> =
        const { RefCell::new(None) };
}

/// The tenant of this request, from the tenant store ([`super::tenant::resolve_tenant`]):
/// its id, issuer, signing key and published keys (isolate-cached; a warm request reads
/// neither D1 nor KV).
async fn tenant_for(
    req: &Incoming,
    url: &Url,
    env: &Env,
    ctx: &worker::Context,
) -> Result<GatewayTenant, Reply> {
    let app_id = req
        .headers()
        .get(super::tenant::APPLICATION_ID_HEADER)
        .ok()
        .flatten();
    let t = super::tenant::resolve(
        url.host_str().unwrap_or_default(),
        app_id.as_deref(),
        env,
        Some(ctx),
    )
    .await?;
    Ok(GatewayTenant {
        id: t.id,
        issuer: t.issuer,
        key: t.key,
        seed: Some(t.seed),
        jwks: t.jwks,
    })
}

fn string_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

fn load_config(env: &Env) -> Option<Parsed> {
    let origin = string_var(env, "ORIGIN_URL").filter(|o| !o.trim().is_empty())?;
    let routes = string_var(env, "ROUTES");
    let trusted = string_var(env, "TRUSTED_ISSUERS");
    let raw = format!(
        "{origin}\n{}\n{}",
        routes.as_deref().unwrap_or(""),
        trusted.as_deref().unwrap_or("")
    );
    let hit = CONFIG.with(|c| {
        c.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((r, cfg)) if *r == raw => Some(Rc::clone(cfg)),
            _ => None,
        })
    });
    if hit.is_some() {
        return hit;
    }
    let parsed = Rc::new(GatewayConfig::parse(
        &origin,
        routes.as_deref(),
        trusted.as_deref(),
    ));
    CONFIG.with(|c| {
        if let Ok(mut slot) = c.try_borrow_mut() {
            *slot = Some((raw, Rc::clone(&parsed)));
        }
    });
    Some(parsed)
}

// ------------------------------------------------------------------ pure helpers

/// An error reply `{"code", "message"}`, never cached.
pub(crate) fn error_reply(status: u16, code: &str, message: &str) -> Reply {
    Reply {
        status,
        headers: vec![
            ("content-type", "application/json".into()),
            ("x-content-type-options", "nosniff".into()),
            ("cache-control", "no-store".into()),
        ],
        body: Some(json!({ "code": code, "message": message }).to_string()),
    }
}

/// `WWW-Authenticate` for a 401/403: the realm, plus the RFC 6750 error and our code
/// when a token was presented.
pub(crate) fn www_authenticate(realm: &str, error: Option<(&str, &str)>) -> String {
    let realm: String = realm
        .chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect();
    match error {
        None => format!("Bearer realm=\"{realm}\""),
        Some((error, code)) => {
            format!("Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{code}\"")
        }
    }
}

/// The reply for a token that failed verification.
pub(crate) fn token_error_reply(realm: &str, err: &VerifyError) -> Reply {
    let code = err.error_code();
    let status = code.http_status();
    let mut reply = error_reply(status, code.as_str(), &err.to_string());
    let error = match code {
        ErrorCode::MissingToken => None,
        ErrorCode::InvalidRequest => Some(("invalid_request", code.as_str())),
        _ => Some(("invalid_token", code.as_str())),
    };
    if status == 401 || status == 400 {
        reply
            .headers
            .push(("www-authenticate", www_authenticate(realm, error)));
    }
    reply
}

/// The value of cookie `name` in a `Cookie` header, if present and non-empty.
pub(crate) fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name)
            .then(|| v.trim().trim_matches('"'))
            .filter(|v| !v.is_empty())
    })
}

/// The token of a request: `Authorization: Bearer` first, else the `__session` cookie.
/// `Ok(None)`: no token at all. A malformed `Authorization` header is an error.
pub(crate) fn request_token<'a>(
    authorization: Option<&'a str>,
    cookie: Option<&'a str>,
) -> Result<Option<&'a str>, VerifyError> {
    match bearer_token(authorization) {
        Ok(token) => Ok(Some(token)),
        Err(VerifyError::MissingToken) => Ok(cookie.and_then(|c| cookie_value(c, SESSION_COOKIE))),
        Err(e) => Err(e),
    }
}

/// A usable inbound request id (1–128 visible ASCII characters from a safe set).
pub(crate) fn valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'+' | b'=')
        })
}

/// The headers the origin receives: the inbound ones minus ours (any spelling), hop-by-hop
/// and `Connection`-listed headers, `Host` and the request id; then the request id, the
/// forwarding headers and `added` (claims headers and the assertion).
pub(crate) fn forward_headers(
    inbound: &[(String, String)],
    request_id: &str,
    forwarded_host: Option<&str>,
    forwarded_proto: &str,
    added: Vec<(&'static str, String)>,
) -> Vec<(String, String)> {
    let listed: Vec<String> = inbound
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v))
        .collect();
    let mut out: Vec<(String, String)> = inbound
        .iter()
        .filter(|(n, _)| {
            !must_strip(n, &listed)
                && !n.eq_ignore_ascii_case("host")
                && !n.eq_ignore_ascii_case(REQUEST_ID)
                && !n.eq_ignore_ascii_case("x-forwarded-host")
                && !n.eq_ignore_ascii_case("x-forwarded-proto")
        })
        .cloned()
        .collect();
    out.push((REQUEST_ID.into(), request_id.into()));
    if let Some(host) = forwarded_host {
        out.push(("x-forwarded-host".into(), host.into()));
    }
    out.push(("x-forwarded-proto".into(), forwarded_proto.into()));
    out.extend(added.into_iter().map(|(n, v)| (n.to_string(), v)));
    out
}

/// Which verifier a token goes to, chosen from its (unverified) `iss`.
#[derive(Debug)]
pub(crate) enum Issuer<'a> {
    /// The tenant itself.
    Tenant,
    /// A trusted external issuer mapped to this tenant.
    Trusted(&'a TrustedIssuer),
}

/// Picks the verifier for a token: the tenant's issuer, or a trusted issuer mapped to the
/// tenant. Anything else is `invalid_issuer` (tokens of other tenants included).
pub(crate) fn pick_issuer<'a>(
    untrusted: &UntrustedToken<'_>,
    tenant: &GatewayTenant,
    trusted: &'a [TrustedIssuer],
) -> Result<Issuer<'a>, VerifyError> {
    let claims = untrusted.claims_unverified()?;
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss == tenant.issuer {
        return Ok(Issuer::Tenant);
    }
    trusted
        .iter()
        .find(|t| t.issuer == iss && t.tenant == tenant.id)
        .map(Issuer::Trusted)
        .ok_or(VerifyError::InvalidIssuer)
}

/// The policy for the tenant's own tokens: session tokens (`typ` absent or `JWT`) and
/// template tokens (`typ` [`TEMPLATE_TOKEN_TYP`]); never edge assertions.
pub(crate) fn tenant_policy(tenant: &GatewayTenant, untrusted: &UntrustedToken<'_>) -> Policy {
    let policy = Policy::new(&tenant.issuer);
    match untrusted.typ() {
        Some(t) if t.eq_ignore_ascii_case(TEMPLATE_TOKEN_TYP) => {
            policy.with_typ(TypPolicy::Exact(TEMPLATE_TOKEN_TYP.into()))
        }
        _ => policy,
    }
}

// ------------------------------------------------------------------ request log

/// One structured log line per request; never holds a token or a header value.
#[derive(Debug, Default)]
struct LogLine {
    request_id: String,
    tenant: Option<String>,
    method: String,
    path: String,
    route: Option<String>,
    issuer: Option<&'static str>,
    decision: &'static str,
    status: u16,
    code: Option<String>,
    started_ms: f64,
    verify_ms: Option<f64>,
    origin_ms: Option<f64>,
    /// `TORII_LOG=off` silences the per-request line.
    off: bool,
}

/// The serialized form of [`LogLine`] (absent values omitted).
#[derive(serde::Serialize)]
struct LogRecord<'a> {
    msg: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'static str>,
    decision: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_ms: Option<f64>,
    total_ms: f64,
}

impl LogLine {
    fn emit(&self) {
        if self.off {
            return;
        }
        let record = LogRecord {
            msg: "torii-edge gateway",
            request_id: &self.request_id,
            tenant: self.tenant.as_deref(),
            method: &self.method,
            path: &self.path,
            route: self.route.as_deref(),
            issuer: self.issuer,
            decision: self.decision,
            status: self.status,
            code: self.code.as_deref(),
            verify_ms: self.verify_ms,
            origin_ms: self.origin_ms,
            total_ms: js_sys::Date::now() - self.started_ms,
        };
        let line = serde_json::to_string(&record).unwrap_or_default();
        worker::console_log!("{}", line);
    }
}

// ------------------------------------------------------------------ I/O

/// A [`Reply`] as the runtime's `Response`, built directly with `web_sys` (a string body
/// and plain `ResponseInit`: measurably cheaper per request than `worker::Response`).
fn to_web_response(reply: &Reply, request_id: &str) -> worker::Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    headers.set(REQUEST_ID, request_id)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(reply.status);
    init.set_headers(&headers);
    Ok(web_sys::Response::new_with_opt_str_and_init(
        reply.body.as_deref(),
        &init,
    )?)
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: a time-based id still correlates log lines.
        return format!("t{}", js_sys::Date::now());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum Verified {
    /// No token on an optional or public route.
    Anonymous,
    /// A verified token.
    Claims(VerifiedClaims),
}

/// Verifies `token` for `tenant`: the tenant's own keys, or a trusted issuer's through the
/// JWKS cache. `Err` is the reply to send.
async fn verify_token(
    token: &str,
    tenant: &GatewayTenant,
    config: &GatewayConfig,
    env: &Env,
    ctx: &worker::Context,
    line: &mut LogLine,
) -> Result<VerifiedClaims, Reply> {
    let realm = tenant.id.as_str();
    let now = UnixTime(jwks_kv::now_secs());
    let untrusted = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN)
        .map_err(|e| token_error_reply(realm, &e))?;
    match pick_issuer(&untrusted, tenant, &config.trusted) {
        Ok(Issuer::Tenant) => {
            line.issuer = Some("tenant");
            let verifier =
                crate::Verifier::new(tenant.jwks.clone(), tenant_policy(tenant, &untrusted));
            verify_native(&verifier, &untrusted, now)
                .await
                .map_err(|e| token_error_reply(realm, &e))
        }
        Ok(Issuer::Trusted(issuer)) => {
            line.issuer = Some("trusted");
            let jwks = match jwks_kv::keys_for(issuer, untrusted.kid(), env, ctx).await {
                Ok(jwks) => jwks,
                Err(KeysError::Unavailable { retry_after }) => {
                    let code = ErrorCode::JwksUnavailable;
                    let mut reply = error_reply(
                        code.http_status(),
                        code.as_str(),
                        "the issuer's keys are unavailable; retry later",
                    );
                    reply.headers.push(("retry-after", retry_after.to_string()));
                    return Err(reply);
                }
            };
            let verifier = crate::Verifier::new(jwks, issuer.policy());
            verify_native(&verifier, &untrusted, now)
                .await
                .map_err(|e| token_error_reply(realm, &e))
        }
        Err(e) => Err(token_error_reply(realm, &e)),
    }
}

/// The inbound request, read straight from the runtime's object (`worker::Request::from`
/// would also parse `request.cf` on every request, which the gateway never reads).
pub(crate) struct Incoming {
    raw: web_sys::Request,
    headers: worker::Headers,
    method: String,
}

impl Incoming {
    fn headers(&self) -> &worker::Headers {
        &self.headers
    }
    fn method(&self) -> &str {
        &self.method
    }
}

/// Handles one request for a path outside `/_torii/` and `/.well-known/`; `url` is the
/// request's parsed URL.
pub(crate) async fn handle(
    raw: web_sys::Request,
    url: Url,
    env: &Env,
    ctx: &worker::Context,
) -> worker::Result<web_sys::Response> {
    let req = Incoming {
        headers: worker::Headers(raw.headers()),
        method: raw.method(),
        raw,
    };
    let started_ms = js_sys::Date::now();
    let inbound_id = req
        .headers()
        .get(REQUEST_ID)?
        .filter(|id| valid_request_id(id));
    let request_id = inbound_id.unwrap_or_else(new_request_id);
    let mut line = LogLine {
        request_id: request_id.clone(),
        method: req.method().to_string(),
        path: url.path().chars().take(256).collect(),
        started_ms,
        off: string_var(env, "TORII_LOG").as_deref() == Some("off"),
        ..LogLine::default()
    };
    let reply = match decide(&req, &url, env, ctx, &mut line).await {
        Ok(Decision::Forward(config, tenant, path, verified)) => {
            match forward(
                &req,
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
        Err(reply) => reply,
    };
    line.status = reply.status;
    if line.decision.is_empty() {
        line.decision = "reject";
    }
    if line.code.is_none() {
        line.code = reply
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|v| v.get("code").and_then(Value::as_str).map(str::to_string));
    }
    line.emit();
    to_web_response(&reply, &request_id)
}

enum Decision {
    Forward(
        Rc<Result<GatewayConfig, String>>,
        GatewayTenant,
        String,
        Verified,
    ),
}

/// Everything before the origin call: configuration, route, token, requirements.
async fn decide(
    req: &Incoming,
    url: &Url,
    env: &Env,
    ctx: &worker::Context,
    line: &mut LogLine,
) -> Result<Decision, Reply> {
    let Some(config_rc) = load_config(env) else {
        return Err(crate::edge::reply::not_found());
    };
    let config = match config_rc.as_ref() {
        Ok(config) => config,
        Err(why) => {
            worker::console_error!("torii-edge: gateway misconfigured: {}", why);
            line.decision = "error";
            return Err(Reply::from_code(
                ErrorCode::Misconfigured,
                "the gateway is misconfigured",
            ));
        }
    };
    let tenant = tenant_for(req, url, env, ctx).await?;
    line.tenant = Some(tenant.id.clone());
    let path = normalize_path(url.path()).map_err(|e| gateway_error_reply(&e))?;
    let method = req.method().to_string();
    let access = match config.routes.route(&method, &path) {
        Route::Edge => return Err(crate::edge::reply::not_found()),
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
    let authorization = req.headers().get("authorization").ok().flatten();
    let cookie = req.headers().get("cookie").ok().flatten();
    let token = request_token(authorization.as_deref(), cookie.as_deref())
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
        return Err(token_error_reply(&tenant.id, &VerifyError::MissingToken));
    };
    let t0 = js_sys::Date::now();
    let verified = verify_token(token, &tenant, config, env, ctx, line).await;
    line.verify_ms = Some(js_sys::Date::now() - t0);
    let claims = verified?;
    if let Access::Required(req) = &access {
        if let Err(e) = req.check(&claims) {
            let mut reply = gateway_error_reply(&e);
            reply.headers.push((
                "www-authenticate",
                www_authenticate(&tenant.id, Some(("insufficient_scope", e.code()))),
            ));
            return Err(reply);
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
    error_reply(e.http_status(), e.code(), &e.to_string())
}

/// Sends the request to the origin with clean headers, claims headers and the assertion.
#[allow(clippy::too_many_arguments)]
async fn forward(
    req: &Incoming,
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
    let config = match config_rc.as_ref() {
        Ok(c) => c,
        Err(_) => {
            return Err(Reply::from_code(
                ErrorCode::Misconfigured,
                "the gateway is misconfigured",
            ))
        }
    };
    let method = req.method().to_string();
    let target = config.forward_url(path, url.query());
    let mut added: Vec<(&'static str, String)> = Vec::new();
    let (claims_header, sub) = match &verified {
        Verified::Claims(claims) => {
            added = claims_headers(claims, &tenant.id);
            let header = added
                .iter()
                .find(|(n, _)| *n == "x-torii-claims")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (header, claims.sub().map(str::to_string))
        }
        Verified::Anonymous => (String::new(), None),
    };
    let assertion_claims = edge_assertion_claims(
        &tenant.issuer,
        &config.audience,
        Binding {
            method: &method,
            url: &target,
            claims_header: &claims_header,
        },
        sub.as_deref(),
        UnixTime(jwks_kv::now_secs()),
        ASSERTION_LIFETIME,
    );
    let assertion = sign_jwt(tenant, EDGE_ASSERTION_TYP, &assertion_claims).await;
    added.push(("x-torii-edge-assertion", assertion));
    let inbound: Vec<(String, String)> = req.headers().entries().collect();
    let proto = url.scheme().to_string();
    let host = url.host_str().map(|h| match url.port() {
        Some(port) => format!("{h}:{port}"),
        None => h.to_string(),
    });
    let headers = forward_headers(&inbound, request_id, host.as_deref(), &proto, added);

    let out_headers = web_sys::Headers::new().map_err(|e| internal(e.into()))?;
    for (n, v) in &headers {
        out_headers.append(n, v).map_err(|e| internal(e.into()))?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(&method);
    init.set_headers(&out_headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if !matches!(method.as_str(), "GET" | "HEAD") {
        if let Some(body) = req.raw.body() {
            init.set_body(&body);
        }
    }
    let outbound =
        web_sys::Request::new_with_str_and_init(&target, &init).map_err(|e| internal(e.into()))?;
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    jwks_kv::bump(|c| &c.origin_fetches);
    let t0 = js_sys::Date::now();
    let fetched =
        worker::wasm_bindgen_futures::JsFuture::from(global.fetch_with_request(&outbound)).await;
    line.origin_ms = Some(js_sys::Date::now() - t0);
    let upstream: web_sys::Response = match fetched {
        Ok(r) => r.unchecked_into(),
        Err(e) => {
            worker::console_warn!("torii-edge: origin unreachable: {:?}", e);
            let code = ErrorCode::OriginUnreachable;
            line.decision = "origin_unreachable";
            return Err(error_reply(
                code.http_status(),
                code.as_str(),
                "the origin could not be reached",
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

// ------------------------------------------------------------------ WebCrypto signing

/// DER prefix of a PKCS#8 Ed25519 private key (RFC 8410); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

std::thread_local! {
    /// The WebCrypto signing key of the last tenant key used, by `kid`.
    static WEBCRYPTO_KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
}

/// Calls `obj.method(...args)` and awaits the promise it returns.
async fn call_async(obj: &JsValue, method: &str, args: &js_sys::Array) -> Option<JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(obj, &method.into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = f.apply(obj, args).ok()?.dyn_into().ok()?;
    worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
}

fn ed25519_algorithm() -> JsValue {
    let algo = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&algo, &"name".into(), &"Ed25519".into());
    algo.into()
}

/// Signs with WebCrypto (`crypto.subtle`, native Ed25519); `None` when it is unavailable.
async fn webcrypto_sign(kid: &str, seed: &[u8; 32], message: &[u8]) -> Option<[u8; 64]> {
    let subtle = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"subtle".into()))
        .ok()?;
    let cached = WEBCRYPTO_KEY.with(|k| {
        k.try_borrow().ok().and_then(|slot| match slot.as_ref() {
            Some((cached_kid, key)) if cached_kid == kid => Some(key.clone()),
            _ => None,
        })
    });
    let key = match cached {
        Some(key) => key,
        None => {
            let mut der = PKCS8_ED25519_PREFIX.to_vec();
            der.extend_from_slice(seed);
            let usages = js_sys::Array::of1(&"sign".into());
            let args = js_sys::Array::of5(
                &"pkcs8".into(),
                &js_sys::Uint8Array::from(der.as_slice()).into(),
                &ed25519_algorithm(),
                &JsValue::FALSE,
                &usages.into(),
            );
            let key = call_async(&subtle, "importKey", &args).await?;
            WEBCRYPTO_KEY.with(|k| {
                if let Ok(mut slot) = k.try_borrow_mut() {
                    *slot = Some((kid.to_string(), key.clone()));
                }
            });
            key
        }
    };
    let args = js_sys::Array::of3(
        &ed25519_algorithm(),
        &key,
        &js_sys::Uint8Array::from(message).into(),
    );
    let signature = js_sys::Uint8Array::new(&call_async(&subtle, "sign", &args).await?);
    let mut out = [0u8; 64];
    if signature.length() != 64 {
        return None;
    }
    signature.copy_to(&mut out);
    Some(out)
}

/// Signs `claims` as a compact JWT with the tenant key, header
/// `{"alg":"EdDSA","kid":…,"typ":…}` (the same bytes as [`SigningKey::sign_jwt`]):
/// WebCrypto when the seed is known, the core signer otherwise.
async fn sign_jwt(
    tenant: &GatewayTenant,
    typ: &str,
    claims: &serde_json::Map<String, Value>,
) -> String {
    let header = json!({ "alg": "EdDSA", "kid": tenant.key.kid(), "typ": typ }).to_string();
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut out = crate::encoding::b64::encode(header.as_bytes());
    out.push('.');
    out.push_str(&crate::encoding::b64::encode(&payload));
    let native = match &tenant.seed {
        Some(seed) => webcrypto_sign(tenant.key.kid(), seed, out.as_bytes()).await,
        None => None,
    };
    let signature = match native {
        Some(signature) => {
            jwks_kv::bump(|c| &c.webcrypto_signs);
            signature
        }
        None => {
            jwks_kv::bump(|c| &c.wasm_signs);
            tenant.key.sign_raw(out.as_bytes())
        }
    };
    out.push('.');
    out.push_str(&crate::encoding::b64::encode(&signature));
    out
}

// ------------------------------------------------------------------ WebCrypto verification

std::thread_local! {
    /// Imported WebCrypto public keys, by their 32 bytes (bounded).
    static VERIFY_KEYS: RefCell<alloc::collections::BTreeMap<[u8; 32], JsValue>> =
        const { RefCell::new(alloc::collections::BTreeMap::new()) };
}

/// Verifies with WebCrypto (native Ed25519); `None` when WebCrypto is unavailable.
async fn webcrypto_verify(public: [u8; 32], message: &[u8], signature: &[u8; 64]) -> Option<bool> {
    let subtle = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"subtle".into()))
        .ok()?;
    let cached = VERIFY_KEYS.with(|k| k.try_borrow().ok().and_then(|m| m.get(&public).cloned()));
    let key = match cached {
        Some(key) => key,
        None => {
            let args = js_sys::Array::of5(
                &"raw".into(),
                &js_sys::Uint8Array::from(public.as_slice()).into(),
                &ed25519_algorithm(),
                &JsValue::FALSE,
                &js_sys::Array::of1(&"verify".into()).into(),
            );
            let key = call_async(&subtle, "importKey", &args).await?;
            VERIFY_KEYS.with(|k| {
                if let Ok(mut m) = k.try_borrow_mut() {
                    if m.len() >= 256 {
                        m.clear();
                    }
                    m.insert(public, key.clone());
                }
            });
            key
        }
    };
    let args = js_sys::Array::of4(
        &ed25519_algorithm(),
        &key,
        &js_sys::Uint8Array::from(signature.as_slice()).into(),
        &js_sys::Uint8Array::from(message).into(),
    );
    call_async(&subtle, "verify", &args).await?.as_bool()
}

/// [`crate::Verifier::verify_untrusted`] with the signature equation computed by
/// WebCrypto (the core's backend when WebCrypto is unavailable): the core orders every
/// check ([`crate::Verifier::prepare`] / [`crate::SignatureCheck::complete`]); this only
/// makes the native call, and skips it for a signature this isolate already verified
/// ([`SignatureMemo`]).
async fn verify_native(
    verifier: &crate::Verifier,
    token: &UntrustedToken<'_>,
    now: UnixTime,
) -> Result<VerifiedClaims, VerifyError> {
    let check = verifier.prepare(token)?;
    if SIGNATURE_MEMO.with(|m| m.try_borrow().is_ok_and(|m| m.contains(&check))) {
        jwks_kv::bump(|c| &c.memo_hits);
        return check.complete(true, now);
    }
    let valid = signature_ok(check.key(), check.message(), check.signature()).await;
    if valid {
        SIGNATURE_MEMO.with(|m| {
            if let Ok(mut m) = m.try_borrow_mut() {
                m.remember(&check);
            }
        });
    }
    check.complete(valid, now)
}

std::thread_local! {
    /// Signatures that verified in this isolate (bounded, cleared when full).
    static SIGNATURE_MEMO: RefCell<SignatureMemo> = RefCell::new(SignatureMemo::default());
}

/// The signature equation for a key and a strictly encoded signature (the core's
/// [`crate::Verifier::prepare`] checked both): WebCrypto, or the core's backend when
/// WebCrypto is unavailable.
async fn signature_ok(key: &crate::PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
    match webcrypto_verify(*key.as_bytes(), message, signature).await {
        Some(ok) => {
            jwks_kv::bump(|c| &c.webcrypto_verifies);
            ok
        }
        None => {
            jwks_kv::bump(|c| &c.wasm_verifies);
            crate::RustBackend.verify(key, message, signature)
        }
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// `GET /_torii/dev/ed25519?pk=&msg=&sig=` (hex): the gateway's signature check next to
/// the core's, so tests can run the Wycheproof vectors through the Worker's native path.
async fn dev_ed25519(url: &Url) -> Reply {
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| hex_decode(&v))
            .unwrap_or_default()
    };
    let (pk, msg, sig) = (param("pk"), param("msg"), param("sig"));
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
        crate::encoding::b64::encode(&pk)
    );
    let (gateway, core) = match (
        crate::Jwk::from_json(jwk.as_bytes()),
        <[u8; 64]>::try_from(sig.as_slice()),
    ) {
        (Ok(key), Ok(sig64)) => (
            crate::crypto::strict::signature_encoding_ok(&sig64)
                && signature_ok(key.public_key(), &msg, &sig64).await,
            key.verify_signature(&msg, &sig),
        ),
        (Ok(key), Err(_)) => (false, key.verify_signature(&msg, &sig)),
        (Err(_), _) => (false, false),
    };
    Reply {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: Some(json!({ "gateway": gateway, "core": core }).to_string()),
    }
}

// ------------------------------------------------------------------ dev mode

/// `/_torii/dev/*` (only with `TORII_DEV_MODE=1`; `None` otherwise): I/O counters, the
/// cache's test clock, forgetting isolate memory, and a raw signature check.
pub(crate) async fn dev_route(req: &Request, env: &Env) -> Option<worker::Result<Response>> {
    if string_var(env, "TORII_DEV_MODE").as_deref() != Some("1") {
        return None;
    }
    let url = req.url().ok()?;
    let method = req.method().to_string();
    let reply = match (method.as_str(), url.path()) {
        ("GET", "/_torii/dev/counters") => Reply {
            status: 200,
            headers: vec![
                ("content-type", "application/json".into()),
                ("cache-control", "no-store".into()),
            ],
            body: Some(jwks_kv::counters_json()),
        },
        ("POST", "/_torii/dev/clock") => {
            let secs = url
                .query_pairs()
                .find(|(k, _)| k == "advance")
                .and_then(|(_, v)| v.parse::<i64>().ok())
                .unwrap_or(0);
            jwks_kv::advance_clock(secs);
            Reply {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: Some(jwks_kv::counters_json()),
            }
        }
        ("GET", "/_torii/dev/ed25519") => dev_ed25519(&url).await,
        ("POST", "/_torii/dev/forget") => {
            jwks_kv::forget();
            Reply {
                status: 204,
                headers: Vec::new(),
                body: None,
            }
        }
        _ => return None,
    };
    Some(to_web_response(&reply, &new_request_id()).map(Response::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> GatewayTenant {
        let key = SigningKey::from_seed(&[3; 32]);
        GatewayTenant {
            id: "demo".into(),
            issuer: "http://127.0.0.1:8787".into(),
            jwks: Jwks::from_keys(vec![key.public_jwk()]),
            key,
            seed: Some([3; 32]),
        }
    }

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn config_parses_origin_routes_and_issuers() {
        let c = GatewayConfig::parse(
            "http://127.0.0.1:9000/base/",
            Some(r#"[{"path":"/public/**","access":"public"}]"#),
            None,
        )
        .unwrap();
        assert_eq!(c.audience, "http://127.0.0.1:9000");
        assert_eq!(
            c.forward_url("/a/b", Some("x=1")),
            "http://127.0.0.1:9000/base/a/b?x=1"
        );
        assert_eq!(c.forward_url("/", None), "http://127.0.0.1:9000/base/");
        assert_eq!(c.routes.rules().len(), 1);
        for bad in ["ftp://x", "not a url", "http://u:p@x/", "http://x/?q=1"] {
            assert!(GatewayConfig::parse(bad, None, None).is_err(), "{bad}");
        }
        assert!(GatewayConfig::parse("http://x", Some("{}"), None).is_err());
        assert!(GatewayConfig::parse("http://x", None, Some("[{}]")).is_err());
    }

    #[test]
    fn ours_hop_by_hop_and_connection_listed_headers_never_reach_the_origin() {
        let inbound = h(&[
            ("X-Torii-User-Id", "admin"),
            ("x_torii_user_id", "admin"),
            ("X-TORII-CLAIMS", "e30"),
            ("x-torii-edge-assertion", "forged"),
            ("connection", "keep-alive, X-Secret"),
            ("x-secret", "1"),
            ("keep-alive", "timeout=5"),
            ("host", "edge.example"),
            ("x-request-id", "spoofed"),
            ("x-forwarded-host", "evil"),
            ("accept", "text/plain"),
            ("authorization", "Bearer a.b.c"),
        ]);
        let out = forward_headers(
            &inbound,
            "rid-1",
            Some("edge.example"),
            "https",
            vec![("x-torii-user-id", "user_1".into())],
        );
        let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "accept",
                "authorization",
                "x-request-id",
                "x-forwarded-host",
                "x-forwarded-proto",
                "x-torii-user-id"
            ]
        );
        assert_eq!(out[2].1, "rid-1");
        assert_eq!(out[3].1, "edge.example");
        assert_eq!(out[5].1, "user_1");
    }

    #[test]
    fn token_comes_from_bearer_then_session_cookie() {
        assert_eq!(
            request_token(Some("Bearer a.b.c"), Some("__session=x.y.z")),
            Ok(Some("a.b.c"))
        );
        assert_eq!(
            request_token(None, Some("theme=dark; __session=x.y.z")),
            Ok(Some("x.y.z"))
        );
        assert_eq!(request_token(None, Some("__session_other=x")), Ok(None));
        assert_eq!(request_token(None, Some("__session=")), Ok(None));
        assert_eq!(request_token(None, None), Ok(None));
        assert_eq!(
            request_token(Some("Basic abc"), Some("__session=x.y.z")),
            Err(VerifyError::InvalidRequest)
        );
    }

    #[test]
    fn www_authenticate_values() {
        assert_eq!(www_authenticate("demo", None), "Bearer realm=\"demo\"");
        assert_eq!(
            www_authenticate("de\"mo", Some(("invalid_token", "token_expired"))),
            "Bearer realm=\"demo\", error=\"invalid_token\", error_description=\"token_expired\""
        );
        let r = token_error_reply("demo", &VerifyError::MissingToken);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"demo\""));
        let r = token_error_reply("demo", &VerifyError::InvalidSignature);
        assert_eq!(r.status, 401);
        assert!(r
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\""));
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["code"], "invalid_signature");
        assert!(body["message"].is_string());
    }

    #[test]
    fn gateway_codes_are_in_the_code_table() {
        for (e, c) in [
            (
                GatewayError::InsufficientScope("x".into()),
                ErrorCode::InsufficientScope,
            ),
            (GatewayError::InvalidPath, ErrorCode::InvalidPath),
        ] {
            assert_eq!(e.code(), c.as_str());
            assert_eq!(e.http_status(), c.http_status());
            assert!(crate::ALL_CODES.contains(&c));
        }
    }

    #[test]
    fn request_ids_are_validated() {
        assert!(valid_request_id("abc-123_x.y:z"));
        assert!(!valid_request_id(""));
        assert!(!valid_request_id("a b"));
        assert!(!valid_request_id("a\"b"));
        assert!(!valid_request_id(&"a".repeat(129)));
    }

    #[test]
    fn tokens_route_to_tenant_or_trusted_issuer_by_iss() {
        let t = tenant();
        let trusted = jwks_kv::parse_trusted_issuers(
            r#"[{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","audiences":["api"],"tenant":"demo"},
                {"issuer":"https://other.example","jwks_uri":"https://other.example/jwks","audiences":["api"],"tenant":"acme"}]"#,
        )
        .unwrap();
        let sign = |iss: &str, typ: Option<&str>| {
            let mut c = serde_json::Map::new();
            c.insert("iss".into(), iss.into());
            c.insert("sub".into(), "u".into());
            c.insert("exp".into(), 4_000_000_000i64.into());
            t.key.sign_jwt(typ, &c)
        };
        let tok = sign("http://127.0.0.1:8787", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert!(matches!(pick_issuer(&u, &t, &trusted), Ok(Issuer::Tenant)));
        let tok = sign("https://idp.example", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert!(
            matches!(pick_issuer(&u, &t, &trusted), Ok(Issuer::Trusted(i)) if i.issuer == "https://idp.example")
        );
        // Trusted, but for another tenant.
        let tok = sign("https://other.example", None);
        let u = UntrustedToken::parse(&tok, 8192).unwrap();
        assert_eq!(
            pick_issuer(&u, &t, &trusted).unwrap_err(),
            VerifyError::InvalidIssuer
        );

        // The tenant policy takes session and template tokens, never edge assertions.
        let now = UnixTime(1_700_000_000);
        for (typ, ok) in [
            (None, true),
            (Some("JWT"), true),
            (Some(TEMPLATE_TOKEN_TYP), true),
            (Some(crate::edge::assertion::EDGE_ASSERTION_TYP), false),
        ] {
            let tok = sign("http://127.0.0.1:8787", typ);
            let u = UntrustedToken::parse(&tok, 8192).unwrap();
            let r = crate::Verifier::new(t.jwks.clone(), tenant_policy(&t, &u))
                .verify_untrusted(&u, now);
            assert_eq!(r.is_ok(), ok, "{typ:?}");
        }
    }
}
