//! D1, the system of record (binding `DB`): tenants and their domains, key versions,
//! users, sessions and templates. Every query is a bound prepared statement; multi-row
//! writes go through one [`batch`](worker::D1Database::batch), which D1 runs as a single
//! transaction, so nothing is half-written.
//!
//! Each statement sent is counted per isolate (`d1_queries` in the dev-mode counters), so
//! tests can prove that a warm request reads nothing from D1.
//!
//! Statements run beneath workers-rs's `D1Result`, and rows are read column by column
//! ([`FromRow`], [`from_row!`]): a row is a plain object of text, numbers and `NULL`s (the
//! schema has no `BLOB` column), so a few non-generic column readers replace a serde
//! deserializer instantiated for every row type (serde_wasm_bindgen's; ~33 KB less wasm).

use crate::edge::reply::{self, Reply};
use crate::keys::rotation::KeyVersion;
use crate::templates::user::{metadata_from_json, StoredUser};
use crate::User;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{D1Database, D1PreparedStatement, Env};

/// The D1 binding.
pub(crate) const DB_BINDING: &str = "DB";
/// Most tenants one rotation run looks at.
#[cfg(feature = "api")]
pub(crate) const MAX_TENANTS_PER_RUN: u32 = 1000;

// Statements used in more than one place.
const TENANT_SQL: &str = "SELECT id, issuer FROM tenants WHERE id = ?1";
const KEY_VERSIONS_SQL: &str = "SELECT version, state, created_at, activated_at, retired_at \
     FROM key_versions WHERE tenant_id = ?1 AND state != 'retired' ORDER BY version DESC LIMIT 64";
const SESSION_SQL: &str =
    "SELECT id, tenant_id, user_id, status, aal, org_id, org_role, expires_at \
     FROM sessions WHERE id = ?1";
/// The columns of a [`UserRow`].
#[cfg(feature = "api")]
pub(crate) const USER_COLUMNS: &str = "id, email, email_verified, first_name, last_name, \
     public_metadata, unsafe_metadata, private_metadata, created_at, updated_at, version";
const USER_SQL: &str = "SELECT id, email, email_verified, first_name, last_name, public_metadata, \
     unsafe_metadata, private_metadata, created_at, updated_at, version \
     FROM users WHERE tenant_id = ?1 AND id = ?2";
const TEMPLATE_BY_NAME_SQL: &str =
    "SELECT name, body, lifetime FROM templates WHERE tenant_id = ?1 AND name = ?2";
const DEFAULT_TEMPLATE_SQL: &str =
    "SELECT name, body, lifetime FROM templates WHERE tenant_id = ?1 AND is_default = 1";

std::thread_local! {
    static QUERIES: Cell<u64> = const { Cell::new(0) };
    static ROUND_TRIPS: Cell<u64> = const { Cell::new(0) };
}

/// Statements sent to D1 by this isolate (batched statements count one each).
#[cfg(feature = "dev")]
pub(crate) fn queries() -> u64 {
    QUERIES.with(Cell::get)
}

/// Calls to D1 by this isolate (a batch is one, whatever its statements).
#[cfg(feature = "dev")]
pub(crate) fn round_trips() -> u64 {
    ROUND_TRIPS.with(Cell::get)
}

/// Counts one call to D1 of `n` statements.
fn count(n: usize) {
    QUERIES.with(|q| q.set(q.get().saturating_add(n as u64)));
    ROUND_TRIPS.with(|r| r.set(r.get().saturating_add(1)));
}

/// The database, or an error when the binding is missing.
pub(crate) fn db(env: &Env) -> worker::Result<D1Database> {
    env.d1(DB_BINDING)
}

fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> worker::Result<D1PreparedStatement> {
    db.prepare(sql).bind(args)
}

/// A string argument.
pub(crate) fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

/// An integer argument (D1 numbers are JS numbers: exact up to 2^53).
pub(crate) fn n(v: i64) -> JsValue {
    #[allow(clippy::cast_precision_loss)]
    JsValue::from_f64(v as f64)
}

/// An optional string argument (`NULL` when `None`).
#[cfg(any(feature = "api", feature = "dev"))]
pub(crate) fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

// ------------------------------------------------------------------ rows

/// One row of a D1 result: an object whose members are the selected columns.
pub(crate) struct Row<'a>(&'a JsValue);

/// A value read from a column ([`Row::column`]): `String`, `i64`, or an `Option` of
/// either (`NULL` or an absent column is `None`).
pub(crate) trait Column: Sized + Default {
    /// What the column must hold (for the error).
    const EXPECTED: &'static str;
    /// The value of `value`; `None` when it is not one.
    fn read(value: JsValue) -> Option<Self>;
}

impl Column for String {
    const EXPECTED: &'static str = "text";
    fn read(value: JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl Column for i64 {
    const EXPECTED: &'static str = "an integer";
    fn read(value: JsValue) -> Option<Self> {
        /// `Number.MAX_SAFE_INTEGER`: D1's integers are exact JS numbers up to it.
        const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
        let v = value.as_f64()?;
        // A safe integer converts exactly.
        #[allow(clippy::cast_possible_truncation)]
        (v.fract() == 0.0 && v.abs() <= MAX_SAFE).then_some(v as i64)
    }
}

impl<T: Column> Column for Option<T> {
    const EXPECTED: &'static str = T::EXPECTED;
    fn read(value: JsValue) -> Option<Self> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::read(value).map(Some)
        }
    }
}

/// The first column of a row that did not hold what its field needs: its name and what
/// it must hold.
pub(crate) type BadColumn = Option<(&'static str, &'static str)>;

impl Row<'_> {
    /// Column `name` of the row, as a `T`; when it is not one, `bad` records the first
    /// such column (and the value is a placeholder that [`FromRow`] never returns).
    pub(crate) fn column<T: Column>(&self, name: &'static str, bad: &mut BadColumn) -> T {
        T::read(member(self.0, name)).unwrap_or_else(|| {
            bad.get_or_insert((name, T::EXPECTED));
            T::default()
        })
    }
}

/// The error of a row whose column `bad` did not hold what its field needs.
pub(crate) fn bad_row((name, expected): (&'static str, &'static str)) -> worker::Error {
    worker::Error::RustError(alloc::format!("D1 column `{name}`: expected {expected}"))
}

/// Member `name` of `object` (`undefined` when absent or unreadable).
fn member(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A type read from a D1 row ([`from_row!`] writes the impl from the field names).
pub(crate) trait FromRow: Sized {
    /// The value of `row`.
    fn from_row(row: &Row<'_>) -> worker::Result<Self>;
}

/// `from_row!(Type { field, … })`: [`FromRow`] for a struct whose every field is read from
/// the column of its name (the compiler checks that every field is listed). Every column
/// is read, then the first bad one, if any, fails the row: no early return per field.
macro_rules! from_row {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl $crate::worker::store::FromRow for $ty {
            fn from_row(row: &$crate::worker::store::Row<'_>) -> ::worker::Result<Self> {
                let mut bad: $crate::worker::store::BadColumn = None;
                let value = Self { $($field: row.column(stringify!($field), &mut bad)),* };
                match bad {
                    None => Ok(value),
                    Some(bad) => Err($crate::worker::store::bad_row(bad)),
                }
            }
        }
    };
}
#[cfg(feature = "api")]
pub(crate) use from_row;

/// Every row of `rows` (a JS array), each as a `T`.
fn read_rows<T: FromRow>(rows: &js_sys::Array) -> worker::Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.length() as usize);
    for row in rows.iter() {
        out.push(T::from_row(&Row(&row))?);
    }
    Ok(out)
}

/// One statement's result as D1's JavaScript API returns it (`{results, meta, error}`).
#[derive(Debug)]
pub(crate) struct D1Result(worker::worker_sys::D1Result);

impl D1Result {
    /// The rows, each as a `T` (none when the statement returns no rows).
    pub(crate) fn results<T: FromRow>(&self) -> worker::Result<Vec<T>> {
        match self.0.results()? {
            Some(rows) => read_rows(&rows),
            None => Ok(Vec::new()),
        }
    }

    /// Rows the statement changed (`meta.changes`), if D1 reported a count.
    #[cfg(feature = "api")]
    pub(crate) fn changes(&self) -> Option<usize> {
        let meta: JsValue = self.0.meta().ok()?.into();
        let changes = member(&meta, "changes").as_f64()?;
        // A count: a whole number within usize (as workers-rs's `D1ResultMeta` reads it).
        #[allow(clippy::cast_precision_loss)]
        let fits = changes >= 0.0 && changes.fract() == 0.0 && changes <= usize::MAX as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        fits.then_some(changes as usize)
    }

    /// The statement's error, if it failed.
    fn error(&self) -> Option<String> {
        self.0.error().ok().flatten()
    }
}

/// A rejected D1 call. D1's own errors (`D1_…` messages) keep their message and their
/// cause's (where D1 puts SQLite's text, e.g. `UNIQUE constraint failed`); anything
/// else is converted as workers-rs converts any JS error.
fn d1_error(err: JsValue) -> worker::Error {
    match err.dyn_into::<js_sys::Error>() {
        Ok(err) => {
            let message = String::from(err.message());
            if !message.starts_with("D1") {
                return err.into();
            }
            match err.cause().dyn_into::<js_sys::Error>() {
                Ok(cause) => worker::Error::RustError(alloc::format!(
                    "{message} (cause: {})",
                    String::from(cause.message())
                )),
                Err(_) => worker::Error::RustError(message),
            }
        }
        Err(err) => err.into(),
    }
}

/// Awaits a D1 promise.
async fn settle(promise: Result<js_sys::Promise, JsValue>) -> worker::Result<JsValue> {
    JsFuture::from(promise.map_err(d1_error)?)
        .await
        .map_err(d1_error)
}

/// The first row of a query, if any.
pub(crate) async fn first<T: FromRow>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> worker::Result<Option<T>> {
    count(1);
    let row = settle(stmt(db, sql, args)?.inner().first(None)).await?;
    if row.is_null() || row.is_undefined() {
        return Ok(None);
    }
    T::from_row(&Row(&row)).map(Some)
}

/// Every row of a query.
pub(crate) async fn all<T: FromRow>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> worker::Result<Vec<T>> {
    count(1);
    let result = JsFuture::from(stmt(db, sql, args)?.inner().all()?).await?;
    D1Result(result.unchecked_into()).results()
}

/// Runs `statements` as one atomic batch.
pub(crate) async fn batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
) -> worker::Result<()> {
    batch_results(db, statements).await.map(|_| ())
}

/// Runs `statements` as one batch and returns their results (an error if any failed).
pub(crate) async fn batch_results(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
) -> worker::Result<Vec<D1Result>> {
    count(statements.len());
    let statements: js_sys::Array = statements.iter().map(|s| s.inner().clone()).collect();
    let sys: &worker::worker_sys::D1Database = db.as_ref().unchecked_ref();
    let array: js_sys::Array = settle(sys.batch(statements)).await?.dyn_into()?;
    let mut results = Vec::with_capacity(array.length() as usize);
    for result in array.iter() {
        let result = D1Result(result.unchecked_into());
        if let Some(err) = result.error() {
            return Err(worker::Error::RustError(err));
        }
        results.push(result);
    }
    Ok(results)
}

/// The reply when D1 failed: the error goes to the log, the client gets 503
/// `storage_unavailable` with `message`.
pub(crate) fn storage_error(err: &worker::Error, message: &str) -> Reply {
    worker::console_error!("torii-edge: D1: {}", err);
    reply::storage_unavailable(message)
}

/// A prepared statement for [`batch`].
pub(crate) fn prepared(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> worker::Result<D1PreparedStatement> {
    stmt(db, sql, args)
}

// ------------------------------------------------------------------ tenants

/// A tenant row.
#[derive(Debug, Clone)]
pub(crate) struct TenantRow {
    pub(crate) id: String,
    pub(crate) issuer: String,
}
from_row!(TenantRow { id, issuer });

struct TenantId {
    tenant_id: String,
}
from_row!(TenantId { tenant_id });

/// The tenant a custom domain (lower case, no port) is mapped to.
pub(crate) async fn tenant_of_domain(
    db: &D1Database,
    host: &str,
) -> worker::Result<Option<String>> {
    let row: Option<TenantId> = first(
        db,
        "SELECT tenant_id FROM tenant_domains WHERE host = ?1",
        &[s(host)],
    )
    .await?;
    Ok(row.map(|r| r.tenant_id))
}

#[cfg(feature = "api")]
struct Id {
    id: String,
}
#[cfg(feature = "api")]
from_row!(Id { id });

/// Tenant ids, in order (at most [`MAX_TENANTS_PER_RUN`]).
#[cfg(feature = "api")]
pub(crate) async fn tenant_ids(db: &D1Database) -> worker::Result<Vec<String>> {
    let rows: Vec<Id> = all(
        db,
        "SELECT id FROM tenants ORDER BY id LIMIT ?1",
        &[n(i64::from(MAX_TENANTS_PER_RUN))],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

// ------------------------------------------------------------------ key versions

struct KeyRow {
    version: i64,
    state: String,
    created_at: i64,
    activated_at: i64,
    retired_at: Option<i64>,
}
from_row!(KeyRow {
    version,
    state,
    created_at,
    activated_at,
    retired_at
});

/// A tenant's newest 64 non-retired key versions, oldest first (rows whose numbers do not
/// fit a `u32` are skipped).
pub(crate) async fn key_versions(db: &D1Database, tenant: &str) -> worker::Result<Vec<KeyVersion>> {
    Ok(versions_only(key_versions_with_state(db, tenant).await?))
}

fn versions_only(rows: Vec<(KeyVersion, String)>) -> Vec<KeyVersion> {
    rows.into_iter().map(|(v, _)| v).collect()
}

fn key_rows(rows: Vec<KeyRow>) -> Vec<(KeyVersion, String)> {
    rows.into_iter()
        .rev()
        .filter_map(|r| {
            let v = KeyVersion {
                version: u32::try_from(r.version).ok()?,
                published_at: r.created_at,
                signs_from: r.activated_at,
                signs_until: r.retired_at,
            };
            Some((v, r.state))
        })
        .collect()
}

/// [`key_versions`] with each version's stored `state`.
pub(crate) async fn key_versions_with_state(
    db: &D1Database,
    tenant: &str,
) -> worker::Result<Vec<(KeyVersion, String)>> {
    let rows: Vec<KeyRow> = all(db, KEY_VERSIONS_SQL, &[s(tenant)]).await?;
    Ok(key_rows(rows))
}

/// The tenant and its key versions in one D1 batch (one round trip).
pub(crate) async fn tenant_with_versions(
    db: &D1Database,
    id: &str,
) -> worker::Result<Option<(TenantRow, Vec<KeyVersion>)>> {
    let statements = Vec::from([
        prepared(db, TENANT_SQL, &[s(id)])?,
        prepared(db, KEY_VERSIONS_SQL, &[s(id)])?,
    ]);
    let results = batch_results(db, statements).await?;
    let (Some(tenant), Some(keys)) = (results.first(), results.get(1)) else {
        return Err(worker::Error::RustError(
            "D1 batch returned too few results".into(),
        ));
    };
    let Some(row) = tenant.results::<TenantRow>()?.into_iter().next() else {
        return Ok(None);
    };
    let versions = versions_only(key_rows(keys.results::<KeyRow>()?));
    Ok(Some((row, versions)))
}

/// Writes a rotation in one batch: `changed` versions get their (new) `retired_at` and
/// state, `new` is inserted. Fails (and writes nothing) if another rotation inserted the
/// same version first.
pub(crate) async fn write_rotation(
    db: &D1Database,
    tenant: &str,
    changed: &[(KeyVersion, &'static str)],
    new: Option<(KeyVersion, &'static str)>,
) -> worker::Result<()> {
    let mut statements = Vec::with_capacity(changed.len() + 1);
    for (v, state) in changed {
        statements.push(prepared(
            db,
            "UPDATE key_versions SET retired_at = ?3, state = ?4 \
             WHERE tenant_id = ?1 AND version = ?2",
            &[
                s(tenant),
                n(i64::from(v.version)),
                v.signs_until.map_or(JsValue::NULL, n),
                s(state),
            ],
        )?);
    }
    if let Some((v, state)) = new {
        statements.push(prepared(
            db,
            "INSERT INTO key_versions (tenant_id, version, state, created_at, activated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &[
                s(tenant),
                n(i64::from(v.version)),
                s(state),
                n(v.published_at),
                n(v.signs_from),
            ],
        )?);
    }
    if statements.is_empty() {
        return Ok(());
    }
    batch(db, statements).await
}

// ------------------------------------------------------------------ users, sessions, templates

/// A user row ([`USER_COLUMNS`]: metadata bags as JSON text, the ETag columns), as minting
/// and the Backend API read it.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) email: Option<String>,
    pub(crate) email_verified: i64,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) public_metadata: String,
    pub(crate) unsafe_metadata: String,
    pub(crate) private_metadata: String,
    // Read by the Backend API (its ETags and timestamps), not by the edge's minting.
    #[cfg_attr(not(feature = "api"), allow(dead_code))]
    pub(crate) created_at: i64,
    #[cfg_attr(not(feature = "api"), allow(dead_code))]
    pub(crate) updated_at: i64,
    #[cfg_attr(not(feature = "api"), allow(dead_code))]
    pub(crate) version: i64,
}
from_row!(UserRow {
    id,
    email,
    email_verified,
    first_name,
    last_name,
    public_metadata,
    unsafe_metadata,
    private_metadata,
    created_at,
    updated_at,
    version
});

impl UserRow {
    /// The core's [`User`] of this row, with the stored caps
    /// re-checked; `Err` names what is wrong (a bad row fails closed).
    pub(crate) fn to_user(&self) -> Result<User, &'static str> {
        let bag = |text: &str| metadata_from_json(text).ok_or("metadata is not a JSON object");
        User::from_stored(StoredUser {
            id: &self.id,
            email: self.email.as_deref(),
            email_verified: self.email_verified != 0,
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            name: None,
            public_metadata: bag(&self.public_metadata)?,
            unsafe_metadata: bag(&self.unsafe_metadata)?,
            private_metadata: bag(&self.private_metadata)?,
        })
        .map_err(|e| e.code())
    }
}

/// The user `id` of `tenant`.
#[cfg(feature = "dev")]
pub(crate) async fn user(
    db: &D1Database,
    tenant: &str,
    id: &str,
) -> worker::Result<Option<UserRow>> {
    first(db, USER_SQL, &[s(tenant), s(id)]).await
}

/// A session row.
#[derive(Debug, Clone)]
pub(crate) struct SessionRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) user_id: String,
    pub(crate) status: String,
    pub(crate) aal: Option<String>,
    pub(crate) org_id: Option<String>,
    pub(crate) org_role: Option<String>,
    pub(crate) expires_at: i64,
}
from_row!(SessionRow {
    id,
    tenant_id,
    user_id,
    status,
    aal,
    org_id,
    org_role,
    expires_at
});

/// The session `id`.
pub(crate) async fn session(db: &D1Database, id: &str) -> worker::Result<Option<SessionRow>> {
    first(db, SESSION_SQL, &[s(id)]).await
}

/// A template row.
#[derive(Debug, Clone)]
pub(crate) struct TemplateRow {
    pub(crate) name: String,
    pub(crate) body: String,
    pub(crate) lifetime: Option<i64>,
}
from_row!(TemplateRow {
    name,
    body,
    lifetime
});

/// The default template of `tenant`, if one is marked.
#[cfg(feature = "dev")]
pub(crate) async fn default_template(
    db: &D1Database,
    tenant: &str,
) -> worker::Result<Option<TemplateRow>> {
    first(db, DEFAULT_TEMPLATE_SQL, &[s(tenant)]).await
}

/// What minting needs, read in one batch (one round trip): the session `sid`, the user
/// `sub` of `tenant`, and the template `name` (or, without a name, the default template).
#[derive(Debug, Default)]
pub(crate) struct MintRows {
    pub(crate) session: Option<SessionRow>,
    pub(crate) user: Option<UserRow>,
    pub(crate) template: Option<TemplateRow>,
}

/// Reads [`MintRows`] in one D1 batch.
pub(crate) async fn mint_rows(
    db: &D1Database,
    tenant: &str,
    sid: &str,
    sub: &str,
    template: Option<&str>,
) -> worker::Result<MintRows> {
    let template_stmt = match template {
        Some(name) => prepared(db, TEMPLATE_BY_NAME_SQL, &[s(tenant), s(name)])?,
        None => prepared(db, DEFAULT_TEMPLATE_SQL, &[s(tenant)])?,
    };
    let statements = Vec::from([
        prepared(db, SESSION_SQL, &[s(sid)])?,
        prepared(db, USER_SQL, &[s(tenant), s(sub)])?,
        template_stmt,
    ]);
    let results = batch_results(db, statements).await?;
    let mut rows = MintRows::default();
    for (i, result) in results.iter().enumerate() {
        match i {
            0 => rows.session = result.results::<SessionRow>()?.into_iter().next(),
            1 => rows.user = result.results::<UserRow>()?.into_iter().next(),
            _ => rows.template = result.results::<TemplateRow>()?.into_iter().next(),
        }
    }
    Ok(rows)
}
