//! The Backend API's D1 statements that more than one route group uses: the
//! authentication read, `last_used_at`, idempotency records, and error mapping. Every
//! statement goes through [`crate::worker::store`] (bound, counted).

use super::Call;
use crate::api::idempotency::IDEMPOTENCY_WINDOW_SECS;
use crate::api::keys::LAST_USED_GRANULARITY_SECS;
use crate::api::routes::{Ahead, Record};
use crate::api::ApiError;
use crate::error::ErrorCode;
use crate::worker::store as base;
use crate::worker::store::{from_row, D1Result, FromRow};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env};

pub(crate) use crate::worker::store::{n, opt, prepared, s};

/// D1 failed: logged, 503 `storage_unavailable` (the message never holds SQL values).
pub(crate) fn unavailable(err: &worker::Error) -> ApiError {
    worker::console_error!("torii-edge: /v1 D1: {}", err);
    ApiError::new(ErrorCode::StorageUnavailable, "the store is unavailable")
}

/// A failed write: a unique constraint is 409 `conflict`, anything else 503.
pub(crate) fn write_error(err: &worker::Error, what: &str) -> ApiError {
    let text = alloc::format!("{err}");
    if text.contains("UNIQUE constraint failed") || text.contains("PRIMARY KEY") {
        ApiError::new(ErrorCode::Conflict, alloc::format!("{what} already exists"))
    } else {
        unavailable(err)
    }
}

/// The database.
pub(crate) fn db(env: &Env) -> Result<D1Database, ApiError> {
    base::db(env).map_err(|e| unavailable(&e))
}

/// A prepared statement (503 on failure).
pub(crate) fn stmt(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<D1PreparedStatement, ApiError> {
    prepared(db, sql, args).map_err(|e| unavailable(&e))
}

/// The first row of a query.
pub(crate) async fn first<T: FromRow>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<Option<T>, ApiError> {
    base::first(db, sql, args)
        .await
        .map_err(|e| unavailable(&e))
}

/// Every row of a query.
pub(crate) async fn all<T: FromRow>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> Result<Vec<T>, ApiError> {
    base::all(db, sql, args).await.map_err(|e| unavailable(&e))
}

/// Runs `statements` as one atomic D1 batch (one round trip); `what` names the resource
/// in a `conflict`.
pub(crate) async fn batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    what: &str,
) -> Result<Vec<D1Result>, ApiError> {
    base::batch_results(db, statements)
        .await
        .map_err(|e| write_error(&e, what))
}

/// Rows a statement of a batch changed.
pub(crate) fn changes(results: &[D1Result], i: usize) -> usize {
    results.get(i).and_then(D1Result::changes).unwrap_or(0)
}

/// The rows of statement `i` of a batch.
pub(crate) fn rows<T: FromRow>(results: &[D1Result], i: usize) -> Result<Vec<T>, ApiError> {
    match results.get(i) {
        Some(r) => r.results::<T>().map_err(|e| unavailable(&e)),
        None => Ok(Vec::new()),
    }
}

/// The authentication read: the application, the key row (of any application) and the
/// idempotency record, each column `NULL` when absent. Always one row.
#[derive(Debug, Default)]
pub(crate) struct AuthRow {
    pub(crate) app_id: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) allowed_origins: Option<String>,
    pub(crate) domains: Option<String>,
    pub(crate) app_created_at: Option<i64>,
    pub(crate) key_tenant: Option<String>,
    pub(crate) scopes: Option<String>,
    pub(crate) secret_hash: Option<String>,
    pub(crate) expires_at: Option<i64>,
    pub(crate) revoked_at: Option<i64>,
    pub(crate) last_used_at: Option<i64>,
    pub(crate) idem_fingerprint: Option<String>,
    pub(crate) idem_status: Option<i64>,
    pub(crate) idem_body: Option<String>,
    pub(crate) idem_created_at: Option<i64>,
}
from_row!(AuthRow {
    app_id,
    environment,
    issuer,
    allowed_origins,
    domains,
    app_created_at,
    key_tenant,
    scopes,
    secret_hash,
    expires_at,
    revoked_at,
    last_used_at,
    idem_fingerprint,
    idem_status,
    idem_body,
    idem_created_at
});

const AUTH_SQL: &str = "SELECT t.id AS app_id, t.environment, t.issuer, t.allowed_origins, \
     (SELECT json_group_array(host) FROM (SELECT host FROM tenant_domains \
     WHERE tenant_id = t.id ORDER BY host)) AS domains, \
     t.created_at AS app_created_at, k.tenant_id AS key_tenant, k.scopes, k.secret_hash, \
     k.expires_at, k.revoked_at, k.last_used_at, i.fingerprint AS idem_fingerprint, \
     i.status AS idem_status, i.body AS idem_body, i.created_at AS idem_created_at \
     FROM (SELECT ?1 AS app, ?2 AS kid, ?3 AS ikey) w \
     LEFT JOIN tenants t ON t.id = w.app \
     LEFT JOIN api_keys k ON k.key_id = w.kid \
     LEFT JOIN idempotency_keys i ON i.tenant_id = w.app AND i.key = w.ikey";

/// What was read ahead with the authentication (see
/// [`ApiRoute::prefetch`](crate::api::routes::ApiRoute::prefetch)).
pub(crate) struct Prefetched {
    record: Record,
    /// `Some(id)`: the row `id`; `None`: the route's page.
    id: Option<String>,
    result: D1Result,
}

/// The columns the API reads of each record.
const fn columns(r: Record) -> &'static str {
    match r {
        Record::User => super::users::COLUMNS,
        Record::Session => super::sessions::COLUMNS,
        Record::Template => super::templates::COLUMNS,
        Record::ApiKey => super::api_keys::COLUMNS,
    }
}

fn by_id_sql(r: Record) -> String {
    alloc::format!(
        "SELECT {} FROM {} WHERE tenant_id = ?1 AND {} = ?2",
        columns(r),
        r.table(),
        r.id_column()
    )
}

/// A list's statement: its SQL and arguments, from the application, the query string
/// and the time. `Err` (a bad query) is reported by the handler, after authentication.
pub(crate) type ListStatement = Result<(String, Vec<JsValue>), ApiError>;

/// The statement of a read ahead: the row's, or the page's from the query string.
fn ahead_statement(
    db: &D1Database,
    ahead: Ahead<'_>,
    app: &str,
    query: &str,
    now: i64,
) -> Option<(Record, Option<String>, D1PreparedStatement)> {
    match ahead {
        Ahead::Row(record, id) => {
            let st = stmt(db, &by_id_sql(record), &[s(app), s(id)]).ok()?;
            Some((record, Some(id.to_string()), st))
        }
        Ahead::List(record) => {
            let (sql, args) = list_statement(record, app, query, now).ok()?;
            Some((record, None, stmt(db, &sql, &args).ok()?))
        }
    }
}

/// The page statement of `record`'s list.
pub(crate) fn list_statement(record: Record, app: &str, query: &str, now: i64) -> ListStatement {
    match record {
        Record::User => super::users::list_statement(app, query),
        Record::Session => super::sessions::list_statement(app, query, now),
        Record::Template => super::templates::list_statement(app, query),
        Record::ApiKey => super::api_keys::list_statement(app, query),
    }
}

/// The authentication read: one statement, or, for a route that reads ahead (a row or a
/// page), that read in the same batch. Either way one D1 round trip.
pub(crate) async fn auth_row(
    db: &D1Database,
    (app, key_id, idem_key): (&str, &str, Option<&str>),
    ahead: Option<Ahead<'_>>,
    query: &str,
    now: i64,
) -> Result<(AuthRow, Option<Prefetched>), ApiError> {
    let args = [s(app), s(key_id), opt(idem_key)];
    let Some((record, id, ahead_stmt)) =
        ahead.and_then(|a| ahead_statement(db, a, app, query, now))
    else {
        let row = first(db, AUTH_SQL, &args).await?.unwrap_or_default();
        return Ok((row, None));
    };
    let statements = Vec::from([stmt(db, AUTH_SQL, &args)?, ahead_stmt]);
    let mut results = base::batch_results(db, statements)
        .await
        .map_err(|e| unavailable(&e))?;
    let row = rows::<AuthRow>(&results, 0)?
        .into_iter()
        .next()
        .unwrap_or_default();
    let prefetched = results
        .pop()
        .filter(|_| results.len() == 1)
        .map(|result| Prefetched { record, id, result });
    Ok((row, prefetched))
}

/// The read ahead of `record` (`id`: its row; `None`: its page), if that is what was
/// read; taken once.
fn take_ahead(call: &Call<'_>, record: Record, id: Option<&str>) -> Option<D1Result> {
    call.prefetched
        .take()
        .filter(|p| p.record == record && p.id.as_deref() == id)
        .map(|p| p.result)
}

/// The row `id` of `record` in the call's application: the one read with the
/// authentication when it is that row, else a query.
pub(crate) async fn by_id<T: FromRow>(
    call: &Call<'_>,
    record: Record,
    id: &str,
) -> Result<Option<T>, ApiError> {
    match take_ahead(call, record, Some(id)) {
        Some(result) => Ok(result
            .results::<T>()
            .map_err(|e| unavailable(&e))?
            .into_iter()
            .next()),
        None => first(&call.db, &by_id_sql(record), &[s(&call.app.id), s(id)]).await,
    }
}

/// The page of `record`'s list the call's query string asks for: the one read with the
/// authentication, else a query ([`list_statement`] either way).
pub(crate) async fn page<T: FromRow>(call: &Call<'_>, record: Record) -> Result<Vec<T>, ApiError> {
    if let Some(result) = take_ahead(call, record, None) {
        return result.results::<T>().map_err(|e| unavailable(&e));
    }
    let (sql, args) = list_statement(record, &call.app.id, &call.query, call.now)?;
    all(&call.db, &sql, &args).await
}

/// Records a use of the key (at most once a minute, also across isolates).
pub(crate) async fn touch_key(db: &D1Database, key_id: &str, now: i64) -> worker::Result<()> {
    let st = prepared(
        db,
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_id = ?1 \
         AND (last_used_at IS NULL OR last_used_at <= ?3)",
        &[
            s(key_id),
            n(now),
            n(now.saturating_sub(LAST_USED_GRANULARITY_SECS)),
        ],
    )?;
    base::batch(db, Vec::from([st])).await
}

/// Claims `key` for a request with `fingerprint` (an in-flight record, status `NULL`),
/// unless a live record holds it. `false`: another request claimed it first.
pub(crate) async fn claim_idempotency(
    db: &D1Database,
    app: &str,
    key: &str,
    fingerprint: &[u8; 32],
    now: i64,
) -> Result<bool, ApiError> {
    let st = stmt(
        db,
        "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, body, created_at) \
         VALUES (?1, ?2, ?3, NULL, '', ?4) \
         ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
         status = NULL, body = '', created_at = excluded.created_at \
         WHERE idempotency_keys.created_at <= ?5",
        &[
            s(app),
            s(key),
            s(&crate::encoding::hex::encode(fingerprint)),
            n(now),
            n(now.saturating_sub(IDEMPOTENCY_WINDOW_SECS)),
        ],
    )?;
    let results = batch(db, Vec::from([st]), "the idempotency record").await?;
    Ok(changes(&results, 0) >= 1)
}

/// Stores the response of a claimed key (`Some((status, body))`), or frees the key
/// (`None`: a server error, which the client may retry).
pub(crate) async fn finish_idempotency(
    db: &D1Database,
    app: &str,
    key: &str,
    response: Option<(u16, &str)>,
) -> Result<(), ApiError> {
    let st = match response {
        Some((status, body)) => stmt(
            db,
            "UPDATE idempotency_keys SET status = ?3, body = ?4 WHERE tenant_id = ?1 AND key = ?2",
            &[s(app), s(key), n(i64::from(status)), s(body)],
        )?,
        None => stmt(
            db,
            "DELETE FROM idempotency_keys WHERE tenant_id = ?1 AND key = ?2",
            &[s(app), s(key)],
        )?,
    };
    batch(db, Vec::from([st]), "the idempotency record")
        .await
        .map(|_| ())
}

/// Whether any application allows `origin` (preflights carry no application id).
pub(crate) async fn origin_allowed_anywhere(
    db: &D1Database,
    origin: &str,
) -> Result<bool, ApiError> {
    struct One {
        #[allow(dead_code)]
        one: i64,
    }
    from_row!(One { one });
    let row: Option<One> = first(
        db,
        "SELECT 1 AS one FROM tenants, json_each(tenants.allowed_origins) AS o \
         WHERE o.value = ?1 LIMIT 1",
        &[s(origin)],
    )
    .await?;
    Ok(row.is_some())
}

/// The keyset-paginated SELECT of one page of `table` for the application bound at `?1`:
/// `filter` (its arguments already in `args`), then the page after the cursor
/// (`(created_at, id_column) < (?, ?)`), newest first, `limit + 1` rows (whether there is
/// more). Binds its arguments at the end of `args`.
pub(crate) fn page_sql(
    columns: &str,
    table: &str,
    id_column: &str,
    filter: &str,
    page: &crate::api::requests::PageQuery,
    args: &mut Vec<JsValue>,
) -> String {
    let next = args.len() + 1;
    let after = after_clause(page.starting_after.as_ref(), id_column, next, args);
    let limit = crate::api::pagination::fetch_count(page.limit);
    args.push(n(i64::try_from(limit).unwrap_or(101)));
    alloc::format!(
        "SELECT {columns} FROM {table} WHERE tenant_id = ?1{filter}{after} \
         ORDER BY created_at DESC, {id_column} DESC LIMIT ?{}",
        args.len()
    )
}

/// `(created_at, id) < (?, ?)` of a page after a cursor, binding arguments from
/// position `next` on (or nothing on the first page).
fn after_clause(
    cursor: Option<&crate::api::pagination::Cursor>,
    id_column: &str,
    next: usize,
    args: &mut Vec<JsValue>,
) -> String {
    match cursor {
        Some(c) => {
            args.push(n(c.created_at));
            args.push(s(&c.id));
            alloc::format!(
                " AND (created_at, {id_column}) < (?{}, ?{})",
                next,
                next + 1
            )
        }
        None => String::new(),
    }
}
