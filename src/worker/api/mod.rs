//! The Backend API under `/v1` (see docs/backend-api.md): I/O only. Every rule is in
//! [`crate::api`]; here the request is read, D1 is asked, and the core's answer sent.
//!
//! Per call, in order: route (404/405), preflight, body size (413, before reading more),
//! then authentication: the operator secret for `POST /v1/applications`, else
//! `Authorization: Bearer sk_…` parsed (checksum) before any D1 read, and then ONE D1
//! statement reading the application named by `x-application-id`, the key row and (on a
//! `POST` with `Idempotency-Key`) its idempotency record. The key is checked against D1
//! on every call (no cache: a revoked key fails on the next call in every isolate), its
//! scopes against the route, and `last_used_at` is written at most once a minute, in
//! `waitUntil`. The binding is used without the D1 Sessions API, so with read
//! replication on, every query still goes to the primary.

mod api_keys;
mod applications;
mod sessions;
mod signing_keys;
mod store;
mod templates;
mod users;

use super::clock;
use super::env::string_var;
use super::http::{new_request_id, to_response};
use crate::api::cors;
use crate::api::idempotency::{self, Decision, IdempotencyRecord};
use crate::api::keys::{
    authenticate, last_used_due, secret_key_from_authorization, Environment, Pepper, SecretHash,
    StoredApiKey,
};
use crate::api::requests::check_body_size;
use crate::api::routes::{route, ApiRoute};
use crate::api::scopes::{Access, ScopeSet};
use crate::api::ApiError;
use crate::edge::ratelimit::{api_key, API_LIMIT, DEFAULT_PERIOD_SECS};
use crate::edge::reply::Reply;
use crate::edge::tenancy::valid_tenant_id;
use crate::error::ErrorCode;
use crate::keys::MIN_MASTER_SECRET_BYTES;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use worker::{Context, D1Database, Env, Request, Response};

/// The application (tenant) a call is for, as read with its key.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) id: String,
    pub(crate) environment: Environment,
    pub(crate) issuer: String,
    pub(crate) allowed_origins: Vec<String>,
    /// Its custom domains (`tenant_domains`), sorted.
    pub(crate) domains: Vec<String>,
    pub(crate) created_at: i64,
}

/// What a handler gets: the authenticated call.
pub(crate) struct Call<'a> {
    pub(crate) env: &'a Env,
    pub(crate) ctx: &'a Context,
    pub(crate) db: D1Database,
    pub(crate) app: App,
    /// The calling key's scopes.
    pub(crate) scopes: ScopeSet,
    pub(crate) now: i64,
    pub(crate) query: String,
    pub(crate) body: Vec<u8>,
    pub(crate) if_match: Option<String>,
    pub(crate) pepper: Pepper,
    /// The route's row, read with the authentication ([`store::by_id`] takes it).
    pub(crate) prefetched: core::cell::Cell<Option<store::Prefetched>>,
}

/// A handler's result.
pub(crate) type Answer = Result<Reply, ApiError>;

/// A JSON reply, never cached.
pub(crate) fn json(status: u16, body: &serde_json::Value) -> Reply {
    let mut reply = Reply::json(status, body.to_string());
    reply.headers.push(("cache-control", "no-store".into()));
    reply
}

/// `204 No Content`: no body, never cached.
pub(crate) fn no_content() -> Reply {
    Reply {
        status: 204,
        headers: Vec::from([
            ("cache-control", "no-store".into()),
            ("x-content-type-options", "nosniff".into()),
        ]),
        body: None,
    }
}

/// A JSON reply with an `ETag`.
pub(crate) fn json_etag(status: u16, body: &serde_json::Value, etag: String) -> Reply {
    let mut reply = json(status, body);
    reply.headers.push(("etag", etag));
    reply
}

/// `Pepper` for hashing secret keys, from `TORII_MASTER_SECRET` (500 `misconfigured`
/// when it is missing or short).
pub(crate) fn pepper(env: &Env) -> Result<Pepper, ApiError> {
    match string_var(env, "TORII_MASTER_SECRET") {
        Some(s) if s.len() >= MIN_MASTER_SECRET_BYTES => Ok(Pepper::derive(s.as_bytes())),
        _ => Err(ApiError::new(
            ErrorCode::Misconfigured,
            "TORII_MASTER_SECRET is not set (or too short)",
        )),
    }
}

/// 41 random bytes for a new secret key.
pub(crate) fn key_random() -> Result<[u8; crate::api::keys::KEY_RANDOM_BYTES], ApiError> {
    let mut r = [0u8; crate::api::keys::KEY_RANDOM_BYTES];
    getrandom::fill(&mut r)
        .map_err(|_| ApiError::new(ErrorCode::InternalError, "no randomness"))?;
    Ok(r)
}

/// A random id `<prefix><22 base64url characters>` (128 bits).
pub(crate) fn random_id(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|_| ApiError::new(ErrorCode::InternalError, "no randomness"))?;
    let mut out = String::from(prefix);
    out.push_str(&crate::encoding::b64::encode(&bytes));
    Ok(out)
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// Handles a `/v1` request.
pub(crate) async fn handle(mut req: Request, env: &Env, ctx: &Context) -> worker::Result<Response> {
    let request_id = new_request_id();
    let mut reply = match serve(&mut req, env, ctx, &request_id).await {
        Ok(reply) => reply,
        Err(err) => {
            if err.status() >= 500 {
                worker::console_error!("torii-edge: /v1 {}: {}", request_id, err.code.as_str());
            }
            err.reply(&request_id)
        }
    };
    if reply.header("x-request-id").is_none() {
        reply.headers.push(("x-request-id", request_id));
    }
    to_response(&reply)
}

/// Where the reply of an authenticated call goes through CORS.
async fn serve(req: &mut Request, env: &Env, ctx: &Context, request_id: &str) -> Answer {
    let url = crate::worker::http::request_url(req)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "bad URL"))?;
    let method = req.method().to_string();
    let path = url.path().to_string();
    let query = url.query().unwrap_or_default().to_string();
    let route = route(&method, &path)?;
    let origin = header(req, "origin");
    match route.access() {
        Access::Public => {
            return match route {
                ApiRoute::Preflight { allow } => {
                    let allowed = match origin.as_deref() {
                        Some(o) => {
                            let db = store::db(env)?;
                            store::origin_allowed_anywhere(&db, o).await?
                        }
                        None => false,
                    };
                    Ok(cors::preflight(
                        origin.as_deref().filter(|_| allowed),
                        allow,
                    ))
                }
                // `GET /v1/openapi.json`: the core's document (its committed bytes, from
                // the static assets: not in the wasm), public and cacheable.
                _ => {
                    let path = crate::api::openapi::ASSET_PATH;
                    match crate::worker::dashboard::asset_text(env, path).await {
                        Ok(Some(document)) => Ok(crate::api::openapi::reply(document)),
                        _ => Err(ApiError::new(
                            ErrorCode::Misconfigured,
                            "the OpenAPI document is not in the static assets (`make dashboard`)",
                        )),
                    }
                }
            };
        }
        Access::Operator => {
            let body = read_body(req, &method).await?;
            return applications::create(req, env, &url, &body).await;
        }
        Access::Key(_) => {}
    }
    // Checked without I/O: the key's format and checksum, the application id, the
    // idempotency key, the body size.
    let authorization = header(req, "authorization");
    let parsed = secret_key_from_authorization(authorization.as_deref())?;
    let app_id = header(req, crate::edge::tenancy::APPLICATION_ID_HEADER)
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    if app_id.is_empty() {
        return Err(ApiError::validation(
            "x-application-id",
            "name the application in `x-application-id`",
        ));
    }
    if !valid_tenant_id(&app_id) {
        return Err(ApiError::validation(
            "x-application-id",
            "not a valid application id",
        ));
    }
    let idem_key = match header(req, "idempotency-key") {
        Some(k) if route.is_post() => Some(idempotency::check_key(&k)?.to_string()),
        _ => None,
    };
    let body = read_body(req, &method).await?;
    let pepper = pepper(env)?;
    let now = clock::now_secs();

    // The one D1 round trip of authentication (with the route's row, if it reads one).
    let db = store::db(env)?;
    let (row, prefetched) = store::auth_row(
        &db,
        (&app_id, parsed.key_id, idem_key.as_deref()),
        route.prefetch(),
        &query,
        now,
    )
    .await?;
    let app = row.app();
    let allowed = app
        .as_ref()
        .map(|a| a.allowed_origins.clone())
        .unwrap_or_default();
    let cors_origin = cors::allowed_origin(origin.as_deref(), &allowed).map(str::to_string);
    let result = authorized(
        AuthInput {
            env,
            ctx,
            db,
            row,
            prefetched,
            app,
            route: &route,
            parsed_env: parsed.env,
            parsed_key_id: parsed.key_id,
            parsed_secret: parsed.secret,
            app_id: &app_id,
            now,
            pepper,
            request_id,
        },
        Request2 {
            method: &method,
            path: &path,
            query,
            body,
            if_match: header(req, "if-match"),
            idem_key,
        },
    )
    .await;
    let mut reply = result.unwrap_or_else(|e| {
        if e.status() >= 500 {
            worker::console_error!("torii-edge: /v1 {}: {}", request_id, e.code.as_str());
        }
        e.reply(request_id)
    });
    cors::apply(&mut reply, cors_origin.as_deref());
    Ok(reply)
}

struct AuthInput<'a> {
    env: &'a Env,
    ctx: &'a Context,
    db: D1Database,
    row: store::AuthRow,
    prefetched: Option<store::Prefetched>,
    app: Option<App>,
    route: &'a ApiRoute,
    parsed_env: Environment,
    parsed_key_id: &'a str,
    parsed_secret: &'a str,
    app_id: &'a str,
    now: i64,
    pepper: Pepper,
    request_id: &'a str,
}

struct Request2<'a> {
    method: &'a str,
    path: &'a str,
    query: String,
    body: Vec<u8>,
    if_match: Option<String>,
    idem_key: Option<String>,
}

async fn authorized(a: AuthInput<'_>, r: Request2<'_>) -> Answer {
    let AuthInput {
        env,
        ctx,
        db,
        row,
        prefetched,
        app,
        route,
        parsed_env,
        parsed_key_id,
        parsed_secret,
        app_id,
        now,
        pepper,
        request_id,
    } = a;
    let parsed = crate::api::keys::ParsedKey {
        env: parsed_env,
        key_id: parsed_key_id,
        secret: parsed_secret,
    };
    let hash = row
        .secret_hash
        .as_deref()
        .and_then(SecretHash::from_hex)
        .map(|h| h.0);
    let stored = match (&row.key_tenant, &hash) {
        (Some(tenant), Some(hash)) => Some(StoredApiKey {
            tenant_id: tenant,
            secret_hash: hash,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }),
        _ => None,
    };
    // An application that does not exist is judged as another application's: the key
    // alone decides between invalid_api_key and application_mismatch.
    let app_env = app.as_ref().map_or(parsed.env, |a| a.environment);
    authenticate(
        &parsed,
        stored.as_ref(),
        app_id,
        app_env,
        now,
        Some(&pepper),
    )?;
    let Some(app) = app else {
        return Err(ApiError::new(
            ErrorCode::ApplicationMismatch,
            "the secret key belongs to another application",
        ));
    };
    let scopes = row
        .scopes
        .as_deref()
        .and_then(|s| serde_json::from_slice::<serde_json::Value>(s.as_bytes()).ok())
        .and_then(|v| ScopeSet::from_json(&v, "scopes").ok())
        .unwrap_or(ScopeSet::EMPTY);
    if last_used_due(row.last_used_at, now) {
        let (env2, key_id) = (env.clone(), parsed.key_id.to_string());
        ctx.wait_until(async move {
            let result = match crate::worker::store::db(&env2) {
                Ok(db) => store::touch_key(&db, &key_id, now).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                worker::console_error!("torii-edge: last_used_at: {}", e);
            }
        });
    }
    if let Access::Key(scope) = route.access() {
        scopes.require(scope)?;
    }
    rate_limit(env, &app.id, parsed.key_id).await?;

    let call = Call {
        env,
        ctx,
        db,
        app,
        scopes,
        now,
        query: r.query,
        body: r.body,
        if_match: r.if_match,
        pepper,
        prefetched: core::cell::Cell::new(prefetched),
    };
    let Some(idem_key) = r.idem_key else {
        return dispatch(route, &call).await;
    };
    // Idempotency-Key: replay, refuse, or claim the key and handle.
    let full_path = if call.query.is_empty() {
        r.path.to_string()
    } else {
        alloc::format!("{}?{}", r.path, call.query)
    };
    let fingerprint = idempotency::fingerprint(r.method, &full_path, &call.body);
    let record = row.idempotency_record();
    match idempotency::decide(record.as_ref(), &fingerprint, now)? {
        Decision::Replay { status, body } => return Ok(idempotency::replay_reply(status, body)),
        Decision::Proceed => {}
    }
    if !store::claim_idempotency(&call.db, &call.app.id, &idem_key, &fingerprint, now).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "a request with this Idempotency-Key is still being handled",
        )
        .with_field("Idempotency-Key"));
    }
    let reply = match dispatch(route, &call).await {
        Ok(reply) => reply,
        Err(e) => e.reply(request_id),
    };
    let stored = idempotency::should_store(reply.status);
    let body = reply
        .body
        .as_deref()
        .map(idempotency::redact_secrets)
        .unwrap_or_default();
    if let Err(e) = store::finish_idempotency(
        &call.db,
        &call.app.id,
        &idem_key,
        stored.then_some((reply.status, body.as_str())),
    )
    .await
    {
        worker::console_error!("torii-edge: idempotency record: {}", e.code.as_str());
    }
    Ok(reply)
}

/// The per-key rate limit ([`API_LIMIT`], binding `API_LIMITER`, key
/// `api:<application>:<key id>`): `Err` is its 429 `rate_limited` with `Retry-After`. An
/// unconfigured or failing binding limits nothing.
async fn rate_limit(env: &Env, app_id: &str, key_id: &str) -> Result<(), ApiError> {
    crate::worker::ratelimit::check(env, &API_LIMIT, &api_key(app_id, key_id))
        .await
        .map_err(|reply| {
            let secs = reply
                .header("retry-after")
                .and_then(|v| v.parse().ok())
                .unwrap_or(DEFAULT_PERIOD_SECS);
            ApiError::rate_limited(API_LIMIT.message, secs)
        })
}

async fn dispatch(route: &ApiRoute, call: &Call<'_>) -> Answer {
    use ApiRoute as R;
    match route {
        R::GetApplication => applications::get(call).await,
        R::UpdateApplication => applications::update(call).await,
        R::CreateApiKey => api_keys::create(call).await,
        R::ListApiKeys => api_keys::list(call).await,
        R::GetApiKey { key_id } => api_keys::get(call, key_id).await,
        R::RollApiKey { key_id } => api_keys::roll(call, key_id).await,
        R::RevokeApiKey { key_id } => api_keys::revoke(call, key_id).await,
        R::CreateUser => users::create(call).await,
        R::ListUsers => users::list(call).await,
        R::GetUser { user_id } => users::get(call, user_id).await,
        R::UpdateUser { user_id } => users::update(call, user_id, false).await,
        R::UpdateUserMetadata { user_id } => users::update(call, user_id, true).await,
        R::DeleteUser { user_id } => users::delete(call, user_id).await,
        R::RevokeUserSessions { user_id } => sessions::revoke_all(call, user_id).await,
        R::CreateSession => sessions::create(call).await,
        R::ListSessions => sessions::list(call).await,
        R::GetSession { session_id } => sessions::get(call, session_id).await,
        R::RevokeSession { session_id } => sessions::revoke(call, session_id).await,
        R::CreateSessionToken { session_id } => sessions::token(call, session_id).await,
        R::ListTemplates => templates::list(call).await,
        R::PreviewTemplate => templates::preview(call).await,
        R::PutTemplate { name } => templates::put(call, name).await,
        R::GetTemplate { name } => templates::get(call, name).await,
        R::DeleteTemplate { name } => templates::delete(call, name).await,
        R::ListSigningKeys => signing_keys::list(call).await,
        R::RotateSigningKeys => signing_keys::rotate(call).await,
        R::CreateApplication | R::OpenApi | R::Preflight { .. } => Err(ApiError::new(
            ErrorCode::NotFound,
            "no such Backend API route",
        )),
    }
}

/// The request body of a `POST`/`PUT`/`PATCH` (else empty): `Content-Length` over
/// 64 KiB is refused before reading; the bytes read are checked again.
async fn read_body(req: &mut Request, method: &str) -> Result<Vec<u8>, ApiError> {
    if !matches!(method, "POST" | "PUT" | "PATCH") {
        return Ok(Vec::new());
    }
    if let Some(len) = header(req, "content-length").and_then(|l| l.trim().parse::<usize>().ok()) {
        check_body_size(len)?;
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::validation("body", "the body could not be read"))?;
    check_body_size(bytes.len())?;
    Ok(bytes)
}

impl store::AuthRow {
    fn app(&self) -> Option<App> {
        Some(App {
            id: self.app_id.clone()?,
            environment: Environment::parse(self.environment.as_deref()?)?,
            issuer: self.issuer.clone()?,
            allowed_origins: cors::parse_allowed_origins(
                self.allowed_origins.as_deref().unwrap_or("[]"),
            ),
            domains: self
                .domains
                .as_deref()
                .and_then(|d| serde_json::from_slice(d.as_bytes()).ok())
                .unwrap_or_default(),
            created_at: self.app_created_at.unwrap_or_default(),
        })
    }

    fn idempotency_record(&self) -> Option<IdempotencyRecord> {
        let fp = SecretHash::from_hex(self.idem_fingerprint.as_deref()?)?;
        Some(IdempotencyRecord {
            fingerprint: fp.0,
            status: self.idem_status.and_then(|s| u16::try_from(s).ok()),
            body: self.idem_body.clone().unwrap_or_default(),
            created_at: self.idem_created_at?,
        })
    }
}
