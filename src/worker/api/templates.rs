//! `/v1/jwt-templates`: save (validated by the core at save, its codes and pointers),
//! get, list, delete, preview; at most one default. ETags; `If-Match` → 412 when stale.

use super::store::{self, n, page_sql, s, stmt};
use super::users;
use super::{json, json_etag, no_content, Answer, Call};
use crate::api::etag::{check_if_match, etag};
use crate::api::pagination::{paginate, Cursor, ListKind};
use crate::api::requests::{
    parse_list_query, parse_no_query, sample_user, PreviewTemplate, PreviewUser, PutTemplate,
};
use crate::api::routes::Record;
use crate::api::ApiError;
use crate::error::ErrorCode;
use crate::worker::store::from_row;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{json as j, Value};

pub(crate) const COLUMNS: &str =
    "name, body, lifetime, is_default, created_at, updated_at, version";

#[derive(Debug, Clone)]
struct Row {
    name: String,
    body: String,
    lifetime: Option<i64>,
    is_default: i64,
    created_at: i64,
    updated_at: i64,
    version: i64,
}
from_row!(Row {
    name,
    body,
    lifetime,
    is_default,
    created_at,
    updated_at,
    version
});

impl Row {
    fn etag(&self) -> String {
        etag(self.version, self.updated_at)
    }
}

fn template_json(r: &Row) -> Value {
    j!({
        "name": r.name,
        "claims": serde_json::from_slice::<Value>(r.body.as_bytes()).unwrap_or(Value::Null),
        "lifetime": r.lifetime,
        "default": r.is_default != 0,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::JwtTemplateNotFound,
        "no JWT template with this name",
    )
}

async fn row(call: &Call<'_>, name: &str) -> Result<Option<Row>, ApiError> {
    store::by_id(call, Record::Template, name).await
}

fn stale() -> ApiError {
    ApiError::new(
        ErrorCode::PreconditionFailed,
        "the template changed while it was being saved: read it again",
    )
    .with_field("If-Match")
}

/// `PUT /v1/jwt-templates/{name} { claims, lifetime?, default? }`: 201 created or 200
/// replaced. With `default: true` the previous default stops being one, in the same batch.
pub(crate) async fn put(call: &Call<'_>, name: &str) -> Answer {
    parse_no_query(&call.query)?;
    let input = PutTemplate::parse(&call.body)?;
    let existing = row(call, name).await?;
    match (&existing, call.if_match.as_deref()) {
        (Some(r), tag) => check_if_match(tag, &r.etag())?,
        (None, Some(_)) => {
            return Err(ApiError::new(
                ErrorCode::PreconditionFailed,
                "If-Match names a template that does not exist",
            )
            .with_field("If-Match"))
        }
        (None, None) => {}
    }
    let app = s(&call.app.id);
    let lifetime = input
        .lifetime
        .map_or(worker::wasm_bindgen::JsValue::NULL, n);
    let is_default = n(i64::from(input.is_default));
    // Every statement holds only while the row is the version read (or still absent).
    let guard = match &existing {
        Some(r) => alloc::format!(
            "(SELECT version FROM templates WHERE tenant_id = ?1 AND name = ?2) = {}",
            r.version
        ),
        None => {
            String::from("NOT EXISTS (SELECT 1 FROM templates WHERE tenant_id = ?1 AND name = ?2)")
        }
    };
    let mut statements = Vec::new();
    if input.is_default {
        statements.push(stmt(
            &call.db,
            &alloc::format!(
                "UPDATE templates SET is_default = 0, version = version + 1, updated_at = ?3 \
                 WHERE tenant_id = ?1 AND is_default = 1 AND name != ?2 AND {guard}"
            ),
            &[app.clone(), s(name), n(call.now)],
        )?);
    }
    let write = match &existing {
        Some(r) => stmt(
            &call.db,
            "UPDATE templates SET body = ?4, lifetime = ?5, is_default = ?6, \
             version = version + 1, updated_at = ?7 \
             WHERE tenant_id = ?1 AND name = ?2 AND version = ?3",
            &[
                app.clone(),
                s(name),
                n(r.version),
                s(&input.claims_json),
                lifetime,
                is_default,
                n(call.now),
            ],
        )?,
        None => stmt(
            &call.db,
            "INSERT INTO templates (tenant_id, name, body, lifetime, is_default, created_at, updated_at, version) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)",
            &[app, s(name), s(&input.claims_json), lifetime, is_default, n(call.now)],
        )?,
    };
    statements.push(write);
    let last = statements.len() - 1;
    let results = store::batch(&call.db, statements, "a JWT template with this name").await?;
    if store::changes(&results, last) == 0 {
        return Err(stale());
    }
    let saved = Row {
        name: name.into(),
        body: input.claims_json,
        lifetime: input.lifetime,
        is_default: i64::from(input.is_default),
        created_at: existing.as_ref().map_or(call.now, |r| r.created_at),
        updated_at: call.now,
        version: existing.as_ref().map_or(1, |r| r.version.saturating_add(1)),
    };
    let status = if existing.is_some() { 200 } else { 201 };
    Ok(json_etag(status, &template_json(&saved), saved.etag()))
}

/// `GET /v1/jwt-templates/{name}`.
pub(crate) async fn get(call: &Call<'_>, name: &str) -> Answer {
    parse_no_query(&call.query)?;
    let r = row(call, name).await?.ok_or_else(not_found)?;
    Ok(json_etag(200, &template_json(&r), r.etag()))
}

/// The page statement of `GET /v1/jwt-templates?limit=&starting_after=`.
pub(crate) fn list_statement(app: &str, query: &str) -> store::ListStatement {
    let page = parse_list_query(query, ListKind::Templates)?;
    let mut args = Vec::from([s(app)]);
    let sql = page_sql(COLUMNS, "templates", "name", "", &page, &mut args);
    Ok((sql, args))
}

/// `GET /v1/jwt-templates`.
pub(crate) async fn list(call: &Call<'_>) -> Answer {
    let page = parse_list_query(&call.query, ListKind::Templates)?;
    let rows: Vec<Row> = store::page(call, Record::Template).await?;
    let page = paginate(rows, page.limit, ListKind::Templates, |r| Cursor {
        created_at: r.created_at,
        id: r.name.clone(),
    });
    Ok(json(200, &page.to_json(|r| template_json(&r))))
}

/// `DELETE /v1/jwt-templates/{name}`.
pub(crate) async fn delete(call: &Call<'_>, name: &str) -> Answer {
    parse_no_query(&call.query)?;
    let r = row(call, name).await?.ok_or_else(not_found)?;
    check_if_match(call.if_match.as_deref(), &r.etag())?;
    let results = store::batch(
        &call.db,
        Vec::from([stmt(
            &call.db,
            "DELETE FROM templates WHERE tenant_id = ?1 AND name = ?2 AND version = ?3",
            &[s(&call.app.id), s(name), n(r.version)],
        )?]),
        "the template",
    )
    .await?;
    if store::changes(&results, 0) == 0 {
        return Err(stale());
    }
    Ok(no_content())
}

/// `POST /v1/jwt-templates/preview { claims, lifetime?, user_id? | user? }`: the claims
/// rendered for a sample, stored or inline user (nothing is saved).
pub(crate) async fn preview(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    let input = PreviewTemplate::parse(&call.body)?;
    let user = match input.user {
        PreviewUser::Sample => sample_user()?,
        PreviewUser::Inline(u) => u,
        PreviewUser::Stored(id) => users::row(call, &id)
            .await?
            .ok_or_else(|| users::not_found().with_field("user_id"))?
            .user()?,
    };
    let claims = input.template.render(&user);
    Ok(json(
        200,
        &j!({ "claims": claims, "lifetime": input.lifetime }),
    ))
}
