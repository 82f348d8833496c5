//! `/v1/api-keys`: create (the secret once), list, get (never the secret), roll, revoke.

use super::store::{self, n, page_sql, s, stmt};
use super::{json, key_random, Answer, Call};
use crate::api::keys::{display_prefix, generate_secret_key, hash_secret, previous_key_end};
use crate::api::pagination::{paginate, Cursor, ListKind};
use crate::api::requests::{
    parse_empty_body, parse_list_query, parse_no_query, CreateApiKey, RollApiKey,
};
use crate::api::routes::Record;
use crate::api::scopes::ScopeSet;
use crate::api::ApiError;
use crate::error::ErrorCode;
use crate::worker::store::from_row;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{json as j, Value};

pub(crate) const COLUMNS: &str =
    "key_id, name, scopes, prefix, last_four, created_at, last_used_at, expires_at, revoked_at";

/// An API key row (never its hash).
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    pub(crate) key_id: String,
    pub(crate) name: String,
    pub(crate) scopes: String,
    pub(crate) prefix: String,
    pub(crate) last_four: String,
    pub(crate) created_at: i64,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
}
from_row!(KeyRow {
    key_id,
    name,
    scopes,
    prefix,
    last_four,
    created_at,
    last_used_at,
    expires_at,
    revoked_at
});

impl KeyRow {
    fn scope_set(&self) -> ScopeSet {
        serde_json::from_slice::<Value>(self.scopes.as_bytes())
            .ok()
            .and_then(|v| ScopeSet::from_json(&v, "scopes").ok())
            .unwrap_or(ScopeSet::EMPTY)
    }

    fn live(&self, now: i64) -> bool {
        self.revoked_at.is_none_or(|t| t > now) && self.expires_at.is_none_or(|t| t > now)
    }
}

/// A key as the API shows it: never its secret or hash.
pub(crate) fn key_json(k: &KeyRow, now: i64) -> Value {
    let status = if k.revoked_at.is_some_and(|t| t <= now) {
        "revoked"
    } else if k.expires_at.is_some_and(|t| t <= now) {
        "expired"
    } else {
        "active"
    };
    j!({
        "id": k.key_id,
        "name": k.name,
        "scopes": serde_json::from_slice::<Value>(k.scopes.as_bytes()).unwrap_or(Value::Array(Vec::new())),
        "prefix": k.prefix,
        "last_four": k.last_four,
        "status": status,
        "created_at": k.created_at,
        "last_used_at": k.last_used_at,
        "expires_at": k.expires_at,
        "revoked_at": k.revoked_at,
    })
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no API key with this id in this application",
    )
}

async fn row(call: &Call<'_>, key_id: &str) -> Result<Option<KeyRow>, ApiError> {
    store::by_id(call, Record::ApiKey, key_id).await
}

fn with_secret(mut v: Value, secret: &str) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("secret".into(), secret.into());
    }
    v
}

/// `POST /v1/api-keys { name, scopes, expires_in? }` → 201 with `secret` (once).
pub(crate) async fn create(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    let input = CreateApiKey::parse(&call.body)?;
    call.scopes.check_grant(input.scopes)?;
    let generated = generate_secret_key(call.app.environment, &key_random()?);
    let hash = hash_secret(&generated.secret, Some(&call.pepper));
    let expires_at = input.expires_in.map(|e| call.now.saturating_add(e));
    let k = KeyRow {
        key_id: generated.key_id.clone(),
        name: input.name,
        scopes: input.scopes.to_json().to_string(),
        prefix: generated.prefix(),
        last_four: generated.last_four().into(),
        created_at: call.now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
    };
    let insert = stmt(
        &call.db,
        "INSERT INTO api_keys (key_id, tenant_id, name, scopes, secret_hash, prefix, last_four, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            s(&k.key_id),
            s(&call.app.id),
            s(&k.name),
            s(&k.scopes),
            s(&hash.to_hex()),
            s(&k.prefix),
            s(&k.last_four),
            n(k.created_at),
            expires_at.map_or(worker::wasm_bindgen::JsValue::NULL, n),
        ],
    )?;
    store::batch(&call.db, Vec::from([insert]), "an API key with this name").await?;
    Ok(json(
        201,
        &with_secret(key_json(&k, call.now), &generated.secret),
    ))
}

/// The page statement of `GET /v1/api-keys?limit=&starting_after=`.
pub(crate) fn list_statement(app: &str, query: &str) -> store::ListStatement {
    let page = parse_list_query(query, ListKind::ApiKeys)?;
    let mut args = Vec::from([s(app)]);
    let sql = page_sql(COLUMNS, "api_keys", "key_id", "", &page, &mut args);
    Ok((sql, args))
}

/// `GET /v1/api-keys`.
pub(crate) async fn list(call: &Call<'_>) -> Answer {
    let page = parse_list_query(&call.query, ListKind::ApiKeys)?;
    let rows: Vec<KeyRow> = store::page(call, Record::ApiKey).await?;
    let page = paginate(rows, page.limit, ListKind::ApiKeys, |k| Cursor {
        created_at: k.created_at,
        id: k.key_id.clone(),
    });
    Ok(json(200, &page.to_json(|k| key_json(&k, call.now))))
}

/// `GET /v1/api-keys/{id}`.
pub(crate) async fn get(call: &Call<'_>, key_id: &str) -> Answer {
    parse_no_query(&call.query)?;
    let k = row(call, key_id).await?.ok_or_else(not_found)?;
    Ok(json(200, &key_json(&k, call.now)))
}

/// `POST /v1/api-keys/{id}/roll { expire_previous_in? }`: a new secret for the same name
/// and scopes (201, `secret` once); the previous one works `expire_previous_in` seconds
/// more. Rolling a key whose scopes the caller does not hold is `scope_escalation`.
pub(crate) async fn roll(call: &Call<'_>, key_id: &str) -> Answer {
    parse_no_query(&call.query)?;
    let input = RollApiKey::parse(&call.body)?;
    let old = row(call, key_id)
        .await?
        .filter(|k| k.revoked_at.is_none() && k.live(call.now))
        .ok_or_else(not_found)?;
    call.scopes.check_grant(old.scope_set())?;
    let end = previous_key_end(call.now, input.expire_previous_in, old.expires_at);
    let generated = generate_secret_key(call.app.environment, &key_random()?);
    let hash = hash_secret(&generated.secret, Some(&call.pepper));
    let app = s(&call.app.id);
    // Both statements hold only while the old key is unrevoked: a concurrent roll or
    // revoke makes both no-ops (nothing half-written).
    let statements = Vec::from([
        stmt(
            &call.db,
            "UPDATE api_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND key_id = ?2 AND revoked_at IS NULL",
            &[app.clone(), s(key_id), n(end)],
        )?,
        stmt(
            &call.db,
            "INSERT INTO api_keys (key_id, tenant_id, name, scopes, secret_hash, prefix, last_four, created_at, expires_at) \
             SELECT ?4, tenant_id, name, scopes, ?5, ?6, ?7, ?8, expires_at FROM api_keys \
             WHERE tenant_id = ?1 AND key_id = ?2 AND revoked_at = ?3 AND changes() = 1",
            &[
                app,
                s(key_id),
                n(end),
                s(&generated.key_id),
                s(&hash.to_hex()),
                s(&generated.prefix()),
                s(generated.last_four()),
                n(call.now),
            ],
        )?,
    ]);
    let results = store::batch(&call.db, statements, "an API key with this name").await?;
    if store::changes(&results, 1) == 0 {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the key was rolled or revoked meanwhile",
        ));
    }
    let new = KeyRow {
        key_id: generated.key_id.clone(),
        name: old.name.clone(),
        scopes: old.scopes.clone(),
        prefix: display_prefix(call.app.environment, &generated.key_id),
        last_four: generated.last_four().into(),
        created_at: call.now,
        last_used_at: None,
        expires_at: old.expires_at,
        revoked_at: None,
    };
    Ok(json(
        201,
        &with_secret(key_json(&new, call.now), &generated.secret),
    ))
}

/// `POST /v1/api-keys/{id}/revoke`: at once (revoking a revoked key changes nothing).
pub(crate) async fn revoke(call: &Call<'_>, key_id: &str) -> Answer {
    parse_no_query(&call.query)?;
    parse_empty_body(&call.body)?;
    let mut k = row(call, key_id).await?.ok_or_else(not_found)?;
    if k.revoked_at.is_none_or(|t| t > call.now) {
        store::batch(
            &call.db,
            Vec::from([stmt(
                &call.db,
                "UPDATE api_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND key_id = ?2 \
                 AND (revoked_at IS NULL OR revoked_at > ?3)",
                &[s(&call.app.id), s(key_id), n(call.now)],
            )?]),
            "the API key",
        )
        .await?;
        k.revoked_at = Some(call.now);
    }
    Ok(json(200, &key_json(&k, call.now)))
}
