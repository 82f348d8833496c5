//! `/v1/sessions`: create (with its first session token), list, get, revoke, revoke all
//! of a user, and `POST /v1/sessions/{id}/tokens?template=` (the mint endpoint's
//! semantics and codes: `session_revoked`, `jwt_template_not_found`).

use super::store::{self, n, opt, page_sql, s, stmt};
use super::users;
use super::{json, random_id, Answer, Call};
use crate::api::pagination::{paginate, Cursor, ListKind};
use crate::api::requests::{
    parse_empty_body, parse_no_query, parse_token_query, CreateSession, ListSessions, SessionStatus,
};
use crate::api::routes::Record;
use crate::api::ApiError;
use crate::edge::reply::Reply;
use crate::error::ErrorCode;
use crate::worker::mint::{self, lifetime, mint_with_actor, parse_template};
use crate::worker::store::{from_row, SessionRow, TemplateRow};
use crate::worker::tenant::{self, Tenant};
use crate::Template;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{json as j, Map, Value};

/// Default session lifetime when `expires_in` is absent (7 days).
const DEFAULT_SESSION_SECS: i64 = 7 * 86_400;

pub(crate) const COLUMNS: &str =
    "id, tenant_id, user_id, status, aal, org_id, org_role, actor, created_at, expires_at";

#[derive(Debug, Clone)]
struct Row {
    id: String,
    tenant_id: String,
    user_id: String,
    status: String,
    aal: Option<String>,
    org_id: Option<String>,
    org_role: Option<String>,
    actor: Option<String>,
    created_at: i64,
    expires_at: i64,
}
from_row!(Row {
    id,
    tenant_id,
    user_id,
    status,
    aal,
    org_id,
    org_role,
    actor,
    created_at,
    expires_at
});

impl Row {
    fn base(&self) -> SessionRow {
        SessionRow {
            id: self.id.clone(),
            tenant_id: self.tenant_id.clone(),
            user_id: self.user_id.clone(),
            status: self.status.clone(),
            aal: self.aal.clone(),
            org_id: self.org_id.clone(),
            org_role: self.org_role.clone(),
            expires_at: self.expires_at,
        }
    }

    fn actor(&self) -> Option<Map<String, Value>> {
        match serde_json::from_slice::<Value>(self.actor.as_deref()?.as_bytes()) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        }
    }
}

fn session_json(r: &Row, now: i64) -> Value {
    j!({
        "id": r.id,
        "user_id": r.user_id,
        "status": SessionStatus::of(&r.status, r.expires_at, now).as_str(),
        "aal": r.aal,
        "org_id": r.org_id,
        "org_role": r.org_role,
        "actor": r.actor(),
        "created_at": r.created_at,
        "expires_at": r.expires_at,
    })
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no session with this id in this application",
    )
}

/// A core reply (the mint endpoint's) as an API error: same code, same message.
fn from_reply(reply: &Reply) -> ApiError {
    let code = reply
        .code()
        .and_then(|c| crate::ALL_CODES.iter().copied().find(|k| k.as_str() == c))
        .unwrap_or(ErrorCode::InternalError);
    let message = reply
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Value>(b.as_bytes()).ok())
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    ApiError::new(code, message)
}

async fn app_tenant(call: &Call<'_>) -> Result<Tenant, ApiError> {
    let config = crate::edge::tenancy::TenantConfig::from_vars(|name| {
        crate::worker::env::string_var(call.env, name)
    });
    tenant::tenant_by_id(&call.app.id, &config, None, call.env, Some(call.ctx))
        .await
        .map_err(|r| from_reply(&r))
}

async fn row(call: &Call<'_>, id: &str) -> Result<Option<Row>, ApiError> {
    store::by_id(call, Record::Session, id).await
}

fn template_of(row: Option<TemplateRow>) -> Result<Option<Template>, ApiError> {
    row.map(|r| parse_template(&r).map_err(|e| from_reply(&e)))
        .transpose()
}

/// `{jwt, expires_at, template}`: `template` is the template's name, `null` for a session token.
fn token_json(minted: &crate::MintedToken, template: Option<&str>) -> Value {
    j!({ "jwt": minted.access_token, "expires_at": minted.exp, "template": template })
}

/// `POST /v1/sessions` → 201 `{session, token}`.
pub(crate) async fn create(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    let input = CreateSession::parse(&call.body)?;
    let tenant = app_tenant(call).await?;
    let user_row = users::row(call, &input.user_id).await?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::NotFound,
            "no user with this id in this application",
        )
        .with_field("user_id")
    })?;
    let user = user_row.user()?;
    let expires_at = call
        .now
        .saturating_add(input.expires_in.unwrap_or(DEFAULT_SESSION_SECS));
    let r = Row {
        id: random_id("sess_")?,
        tenant_id: call.app.id.clone(),
        user_id: input.user_id.clone(),
        status: "active".into(),
        aal: input.aal.map(|a| a.as_str().to_string()),
        org_id: input.org_id,
        org_role: input.org_role,
        actor: input.actor.map(|a| Value::Object(a).to_string()),
        created_at: call.now,
        expires_at,
    };
    // Inserted only while the user exists (a concurrent delete wins), and the default
    // template read in the same batch.
    let statements = Vec::from([
        stmt(
            &call.db,
            "INSERT INTO sessions (id, tenant_id, user_id, status, aal, org_id, org_role, actor, created_at, expires_at) \
             SELECT ?1, ?2, ?3, 'active', ?4, ?5, ?6, ?7, ?8, ?9 \
             WHERE EXISTS (SELECT 1 FROM users WHERE tenant_id = ?2 AND id = ?3)",
            &[
                s(&r.id),
                s(&r.tenant_id),
                s(&r.user_id),
                opt(r.aal.as_deref()),
                opt(r.org_id.as_deref()),
                opt(r.org_role.as_deref()),
                opt(r.actor.as_deref()),
                n(r.created_at),
                n(r.expires_at),
            ],
        )?,
        stmt(
            &call.db,
            "SELECT name, body, lifetime FROM templates WHERE tenant_id = ?1 AND is_default = 1",
            &[s(&call.app.id)],
        )?,
    ]);
    let results = store::batch(&call.db, statements, "a session with this id").await?;
    if store::changes(&results, 0) == 0 {
        return Err(users::not_found().with_field("user_id"));
    }
    let default = template_of(store::rows::<TemplateRow>(&results, 1)?.into_iter().next())?;
    let minted = mint_with_actor(
        &tenant,
        &r.base(),
        &user,
        r.actor().as_ref(),
        None,
        default.as_ref(),
        call.now,
        lifetime(call.env),
    )
    .await
    .map_err(|e| from_reply(&e))?;
    Ok(json(
        201,
        &j!({ "session": session_json(&r, call.now), "token": token_json(&minted, None) }),
    ))
}

/// The page statement of `GET /v1/sessions?user_id=&status=&limit=&starting_after=`
/// (`status` judged at `now`).
pub(crate) fn list_statement(app: &str, query: &str, now: i64) -> store::ListStatement {
    let q = ListSessions::parse(query)?;
    let mut args = Vec::from([s(app)]);
    let mut filter = String::new();
    if let Some(user) = &q.user_id {
        args.push(s(user));
        filter.push_str(&alloc::format!(" AND user_id = ?{}", args.len()));
    }
    if let Some(status) = q.status {
        args.push(n(now));
        let i = args.len();
        filter.push_str(&match status {
            SessionStatus::Active => alloc::format!(" AND status = 'active' AND expires_at > ?{i}"),
            SessionStatus::Expired => {
                alloc::format!(" AND status = 'active' AND expires_at <= ?{i}")
            }
            SessionStatus::Revoked => {
                alloc::format!(" AND status = 'revoked' AND ?{i} IS NOT NULL")
            }
        });
    }
    let sql = page_sql(COLUMNS, "sessions", "id", &filter, &q.page, &mut args);
    Ok((sql, args))
}

/// `GET /v1/sessions?user_id=&status=&limit=&starting_after=`.
pub(crate) async fn list(call: &Call<'_>) -> Answer {
    let q = ListSessions::parse(&call.query)?;
    let rows: Vec<Row> = store::page(call, Record::Session).await?;
    let page = paginate(rows, q.page.limit, ListKind::Sessions, |r| Cursor {
        created_at: r.created_at,
        id: r.id.clone(),
    });
    Ok(json(200, &page.to_json(|r| session_json(&r, call.now))))
}

/// `GET /v1/sessions/{id}`.
pub(crate) async fn get(call: &Call<'_>, id: &str) -> Answer {
    parse_no_query(&call.query)?;
    let r = row(call, id).await?.ok_or_else(not_found)?;
    Ok(json(200, &session_json(&r, call.now)))
}

/// `POST /v1/sessions/{id}/revoke`.
pub(crate) async fn revoke(call: &Call<'_>, id: &str) -> Answer {
    parse_no_query(&call.query)?;
    parse_empty_body(&call.body)?;
    let mut r = row(call, id).await?.ok_or_else(not_found)?;
    if r.status == "active" {
        store::batch(
            &call.db,
            Vec::from([stmt(
                &call.db,
                "UPDATE sessions SET status = 'revoked' WHERE tenant_id = ?1 AND id = ?2",
                &[s(&call.app.id), s(id)],
            )?]),
            "the session",
        )
        .await?;
        r.status = "revoked".into();
    }
    Ok(json(200, &session_json(&r, call.now)))
}

/// `POST /v1/users/{id}/sessions/revoke`: every active session of the user.
pub(crate) async fn revoke_all(call: &Call<'_>, user_id: &str) -> Answer {
    parse_no_query(&call.query)?;
    parse_empty_body(&call.body)?;
    let statements = Vec::from([
        stmt(
            &call.db,
            "SELECT id FROM users WHERE tenant_id = ?1 AND id = ?2",
            &[s(&call.app.id), s(user_id)],
        )?,
        stmt(
            &call.db,
            "UPDATE sessions SET status = 'revoked' WHERE tenant_id = ?1 AND user_id = ?2 AND status = 'active'",
            &[s(&call.app.id), s(user_id)],
        )?,
    ]);
    let results = store::batch(&call.db, statements, "the sessions").await?;
    struct Id {
        #[allow(dead_code)]
        id: String,
    }
    from_row!(Id { id });
    if store::rows::<Id>(&results, 0)?.is_empty() {
        return Err(users::not_found());
    }
    Ok(json(200, &j!({ "revoked": store::changes(&results, 1) })))
}

/// `POST /v1/sessions/{id}/tokens[?template=<name>]`: a session token (with the default
/// template's claims) or a template token, for an active session of the application.
pub(crate) async fn token(call: &Call<'_>, id: &str) -> Answer {
    let name = parse_token_query(&call.query)?;
    parse_empty_body(&call.body)?;
    let tenant = app_tenant(call).await?;
    let template_stmt = match &name {
        Some(t) => stmt(
            &call.db,
            "SELECT name, body, lifetime FROM templates WHERE tenant_id = ?1 AND name = ?2",
            &[s(&call.app.id), s(t)],
        )?,
        None => stmt(
            &call.db,
            "SELECT name, body, lifetime FROM templates WHERE tenant_id = ?1 AND is_default = 1",
            &[s(&call.app.id)],
        )?,
    };
    let statements = Vec::from([
        stmt(
            &call.db,
            &alloc::format!("SELECT {COLUMNS} FROM sessions WHERE tenant_id = ?1 AND id = ?2"),
            &[s(&call.app.id), s(id)],
        )?,
        stmt(
            &call.db,
            "SELECT u.id, u.email, u.email_verified, u.first_name, u.last_name, u.public_metadata, \
             u.unsafe_metadata, u.private_metadata, u.created_at, u.updated_at, u.version \
             FROM sessions s JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id \
             WHERE s.tenant_id = ?1 AND s.id = ?2",
            &[s(&call.app.id), s(id)],
        )?,
        template_stmt,
    ]);
    let results = store::batch(&call.db, statements, "the session").await?;
    let session = store::rows::<Row>(&results, 0)?
        .into_iter()
        .next()
        .ok_or_else(not_found)?;
    let revoked = || ApiError::new(ErrorCode::SessionRevoked, "the session is not active");
    if !mint::active(&session.base(), &call.app.id, &session.user_id, call.now) {
        return Err(revoked());
    }
    // A session whose user is gone cannot mint.
    let user_row = store::rows::<users::Row>(&results, 1)?
        .into_iter()
        .next()
        .ok_or_else(revoked)?;
    let user = user_row.user()?;
    let template_row = store::rows::<TemplateRow>(&results, 2)?.into_iter().next();
    let (template, default) = match (&name, template_row) {
        (Some(_), Some(r)) => (template_of(Some(r))?, None),
        (Some(_), None) => {
            return Err(ApiError::new(
                ErrorCode::JwtTemplateNotFound,
                "no JWT template with this name",
            )
            .with_field("template"))
        }
        (None, r) => (None, template_of(r)?),
    };
    let minted = mint_with_actor(
        &tenant,
        &session.base(),
        &user,
        session.actor().as_ref(),
        name.as_deref().zip(template.as_ref()),
        default.as_ref(),
        call.now,
        lifetime(call.env),
    )
    .await
    .map_err(|e| from_reply(&e))?;
    Ok(json(200, &token_json(&minted, name.as_deref())))
}
