//! The minting endpoint, `POST /_torii/auth/session/token[?template=<name>]`.
//!
//! Minting (seed 002): the caller presents a session token of this tenant
//! (`Authorization: Bearer`, `typ: "JWT"`; template tokens are refused with
//! `invalid_token_type`), whose session row in D1 must be active (else 401
//! `session_revoked`). With `template`, the named template is rendered for the session's
//! user into a template token (404 `jwt_template_not_found` when the tenant has none by
//! that name); without it, a fresh session token (standard claims plus the default
//! template's) is minted for the same session. `200 {"accessToken","expiresAt"}`, never
//! cached; CORS allows any origin (the credential is a bearer token, not a cookie).
//! Mints are counted per session by the `MINT_LIMITER` binding once the token verifies and
//! before any D1 read ([`MINT_LIMIT`]): over the limit, 429 `rate_limited` with
//! `Retry-After`.

use super::clock;
use super::ratelimit;
use super::store::{self, SessionRow, UserRow};
use super::tenant::{self, Tenant};
use super::webcrypto::sign_input;
use crate::edge::ratelimit::{mint_key, MINT_LIMIT};
use crate::edge::reply::{self, token_error_reply, www_authenticate, Reply};
use crate::templates::mint::{prepare_session_token, prepare_template_token};
use crate::{
    bearer_token, ErrorCode, MintedToken, Policy, SessionInput, Template, TypPolicy, UnixTime,
    UntrustedToken, User, Verifier, VerifyError, DEFAULT_MAX_TOKEN_LEN, SESSION_TOKEN_TYP,
};
use alloc::format;
use alloc::string::{String, ToString};
use serde_json::{Map, Value};
use worker::{Env, Request};

/// Longest template name looked up.
const MAX_TEMPLATE_NAME: usize = 64;

/// The lifetime of minted tokens (`TORII_TOKEN_LIFETIME_SECS`; the core's rule).
pub(crate) fn lifetime(env: &Env) -> i64 {
    crate::templates::mint::token_lifetime(
        env.var("TORII_TOKEN_LIFETIME_SECS")
            .ok()
            .map(|v| v.to_string())
            .as_deref(),
    )
}

fn session_revoked(realm: &str) -> Reply {
    let mut reply = Reply::from_code(ErrorCode::SessionRevoked, "the session is not active");
    reply.headers.push((
        "www-authenticate",
        www_authenticate(
            realm,
            Some(("invalid_token", ErrorCode::SessionRevoked.as_str())),
        ),
    ));
    reply
}

/// The reply when D1 failed (logged).
pub(crate) fn storage_error(err: &worker::Error) -> Reply {
    store::storage_error(err, "the store is unavailable")
}

/// `POST /_torii/auth/session/token`.
pub(crate) async fn handle(req: &Request, env: &Env) -> Reply {
    match req.method().to_string().as_str() {
        "OPTIONS" => return reply::preflight("POST, OPTIONS"),
        "POST" => {}
        _ => return reply::method_not_allowed("POST, OPTIONS"),
    }
    let reply = mint(req, env).await.unwrap_or_else(|r| r);
    if reply.status >= 500 {
        worker::console_error!(
            "torii-edge: mint: {}",
            reply.body.as_deref().unwrap_or_default()
        );
    }
    reply.with_cors()
}

async fn mint(req: &Request, env: &Env) -> Result<Reply, Reply> {
    let tenant = tenant::resolve_tenant(req, env, None).await?;
    let url = super::http::request_url(req).ok_or_else(reply::internal_error)?;
    let template_name = super::http::query_param(&url, "template");
    let authorization = req.headers().get("authorization").ok().flatten();
    let token =
        bearer_token(authorization.as_deref()).map_err(|e| token_error_reply(&tenant.id, &e))?;
    let now = clock::now_secs();
    let policy = Policy::new(&tenant.issuer)
        .with_typ(TypPolicy::Exact(SESSION_TOKEN_TYP.into()))
        .require_claim("sid");
    // Keys are scoped by tenant and issuer: another issuer's token is refused as such
    // before any key lookup (as the gateway does), then verified against this tenant's keys.
    let untrusted = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_LEN)
        .map_err(|e| token_error_reply(&tenant.id, &e))?;
    let iss = untrusted
        .claims_unverified()
        .map_err(|e| token_error_reply(&tenant.id, &e))?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_string);
    if iss.as_deref() != Some(tenant.issuer.as_str()) {
        return Err(token_error_reply(&tenant.id, &VerifyError::InvalidIssuer));
    }
    // The signature by WebCrypto, every other check by the core (as the gateway does).
    let verifier = Verifier::new(tenant.verifier.jwks().clone(), policy);
    let claims = super::webcrypto::verify_native(&verifier, token, &untrusted, UnixTime(now))
        .await
        .map_err(|e| token_error_reply(&tenant.id, &e))?;
    let (Some(sid), Some(sub)) = (claims.sid(), claims.sub()) else {
        return Err(session_revoked(&tenant.id));
    };
    if claims.pid().is_some_and(|pid| pid != tenant.id) {
        return Err(session_revoked(&tenant.id));
    }
    // Counted per verified session, before any D1 read.
    ratelimit::check(env, &MINT_LIMIT, &mint_key(&tenant.id, sid)).await?;
    let name = template_name
        .as_deref()
        .filter(|n| !n.is_empty() && n.len() <= MAX_TEMPLATE_NAME);
    if template_name.is_some() && name.is_none() {
        // Checked before any read: no such template can exist. The session is still
        // checked first when the name is plausible (below).
        verify_session_only(env, &tenant, sid, sub, now).await?;
        return Err(template_not_found());
    }
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    let rows = store::mint_rows(&db, &tenant.id, sid, sub, name)
        .await
        .map_err(|e| storage_error(&e))?;
    let session = rows
        .session
        .filter(|row| active(row, &tenant.id, sub, now))
        .ok_or_else(|| session_revoked(&tenant.id))?;
    let user_row = rows.user.ok_or_else(|| session_revoked(&tenant.id))?;
    let (template, default) = match (name, rows.template) {
        (Some(_), Some(row)) => (Some(parse_template(&row)?), None),
        (Some(_), None) => return Err(template_not_found()),
        (None, Some(row)) => (None, Some(parse_template(&row)?)),
        (None, None) => (None, None),
    };
    let user = user_from_row(&user_row)?;
    let minted = mint_for(
        &tenant,
        &session,
        &user,
        name.zip(template.as_ref()),
        default.as_ref(),
        now,
        lifetime(env),
    )
    .await?;
    let mut reply = Reply::json(200, minted.to_json());
    reply.headers.push(("cache-control", "no-store".into()));
    Ok(reply)
}

fn template_not_found() -> Reply {
    Reply::from_code(
        ErrorCode::JwtTemplateNotFound,
        "no JWT template with this name",
    )
}

/// Checks the session alone (for requests that fail later without needing more rows).
async fn verify_session_only(
    env: &Env,
    tenant: &Tenant,
    sid: &str,
    sub: &str,
    now: i64,
) -> Result<(), Reply> {
    let db = store::db(env).map_err(|e| storage_error(&e))?;
    store::session(&db, sid)
        .await
        .map_err(|e| storage_error(&e))?
        .filter(|row| active(row, &tenant.id, sub, now))
        .map(|_| ())
        .ok_or_else(|| session_revoked(&tenant.id))
}

/// Whether a session row is an active session of `tenant` for `user` at `now`.
pub(crate) fn active(row: &SessionRow, tenant: &str, user: &str, now: i64) -> bool {
    crate::templates::mint::SessionState {
        tenant_id: &row.tenant_id,
        user_id: &row.user_id,
        status: &row.status,
        expires_at: row.expires_at,
    }
    .can_mint(tenant, user, now)
}

pub(crate) fn parse_template(row: &store::TemplateRow) -> Result<Template, Reply> {
    let template = Template::parse(row.body.as_bytes())
        .map_err(|e| reply::misconfigured(&format!("template {:?}: {}", row.name, e.code())))?;
    match row.lifetime {
        Some(secs) => template
            .with_lifetime(secs)
            .map_err(|e| reply::misconfigured(&format!("template {:?}: {}", row.name, e.code()))),
        None => Ok(template),
    }
}

/// The core's [`User`] from its D1 row (caps re-checked: a bad row fails closed).
pub(crate) fn user_from_row(row: &UserRow) -> Result<User, Reply> {
    row.to_user()
        .map_err(|why| reply::misconfigured(&format!("user {:?}: {why}", row.id)))
}

/// Mints a template token (with `template`) or a session token (with the default
/// template, never outliving the session by more than the 30 s minimum lifetime), signed
/// with WebCrypto.
pub(crate) async fn mint_for(
    tenant: &Tenant,
    session: &SessionRow,
    user: &User,
    template: Option<(&str, &Template)>,
    default: Option<&Template>,
    now: i64,
    lifetime: i64,
) -> Result<MintedToken, Reply> {
    mint_with_actor(
        tenant, session, user, None, template, default, now, lifetime,
    )
    .await
}

/// [`mint_for`] with the session's actor (`act`, impersonation), as the Backend API's
/// `POST /v1/sessions/{id}/tokens` mints.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn mint_with_actor(
    tenant: &Tenant,
    session: &SessionRow,
    user: &User,
    actor: Option<&Map<String, Value>>,
    template: Option<(&str, &Template)>,
    default: Option<&Template>,
    now: i64,
    lifetime: i64,
) -> Result<MintedToken, Reply> {
    let mut input = SessionInput::new(&tenant.issuer, &tenant.id, user, &session.id);
    if let Some(act) = actor {
        input = input.with_act(act);
    }
    if let Some(aal) = session.aal.as_deref() {
        input = input.with_aal(aal);
    }
    if let (Some(org), Some(role)) = (session.org_id.as_deref(), session.org_role.as_deref()) {
        input = input.with_org(org, role);
    }
    let kid = tenant.key.kid();
    let unsigned = match template {
        Some((name, t)) => {
            prepare_template_token(kid, &input, name, t, UnixTime(now), lifetime, None)
        }
        None => {
            let secs =
                crate::templates::mint::session_token_lifetime(lifetime, session.expires_at, now);
            prepare_session_token(kid, &input, default, UnixTime(now), secs, None)
        }
    }
    .map_err(|e| reply::misconfigured(e.code()))?;
    let signature = sign_input(&tenant.key, unsigned.signing_input.as_bytes())
        .await
        .ok_or_else(|| {
            worker::console_error!("torii-edge: WebCrypto could not sign a minted token");
            reply::internal_error()
        })?;
    Ok(unsigned.finish(&signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_rows_become_core_users_and_bad_rows_fail_closed() {
        let mut r = UserRow {
            id: "user_1".into(),
            email: Some("ada@example.com".into()),
            email_verified: 1,
            first_name: Some("Ada".into()),
            last_name: None,
            public_metadata: r#"{"role":"admin"}"#.into(),
            unsafe_metadata: "{}".into(),
            private_metadata: r#"{"ssn":"x"}"#.into(),
            created_at: 1,
            updated_at: 2,
            version: 1,
        };
        let u = user_from_row(&r).unwrap();
        assert_eq!(u.email(), Some("ada@example.com"));
        assert!(u.email_verified());
        assert_eq!(u.public_metadata()["role"], "admin");
        r.public_metadata = "[1]".into();
        assert_eq!(user_from_row(&r).unwrap_err().status, 500);
        r.public_metadata = format!(r#"{{"k":"{}"}}"#, "x".repeat(600));
        assert_eq!(user_from_row(&r).unwrap_err().status, 500);
    }
}
