//! `/v1/users`: create, get, list, update, metadata merge, delete (revoking its sessions
//! in the same batch). ETags from `version` and `updated_at`; `If-Match` → 412 when stale.

use super::store::{self, n, opt, page_sql, s, stmt};
use super::{json, json_etag, no_content, random_id, Answer, Call};
use crate::api::etag::{check_if_match, etag};
use crate::api::pagination::{paginate, Cursor, ListKind};
use crate::api::requests::{parse_no_query, CreateUser, ListUsers, UpdateMetadata, UpdateUser};
use crate::api::routes::Record;
use crate::api::ApiError;
use crate::error::ErrorCode;
use crate::templates::user::StoredUser;
use crate::User;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{json as j, Map, Value};
use worker::wasm_bindgen::JsValue;

pub(crate) const COLUMNS: &str = crate::worker::store::USER_COLUMNS;

/// A user row with its ETag columns.
pub(crate) type Row = crate::worker::store::UserRow;

impl Row {
    fn etag(&self) -> String {
        etag(self.version, self.updated_at)
    }

    /// The core's user (a bad row fails closed: 500).
    pub(crate) fn user(&self) -> Result<User, ApiError> {
        self.to_user()
            .map_err(|_| ApiError::new(ErrorCode::Misconfigured, "a stored user is not valid"))
    }
}

/// The stored columns of `user` (email, email_verified, names, the three bags) and the
/// write time, in the order the INSERT and the UPDATE bind them.
fn user_columns(user: &User, now: i64) -> [JsValue; 8] {
    [
        opt(user.email()),
        n(i64::from(user.email_verified())),
        opt(user.first_name()),
        opt(user.last_name()),
        s(&bag_text(user.public_metadata())),
        s(&bag_text(user.unsafe_metadata())),
        s(&bag_text(user.private_metadata())),
        n(now),
    ]
}

fn bag_text(m: &Map<String, Value>) -> String {
    Value::Object(m.clone()).to_string()
}

/// A user as the API shows it.
pub(crate) fn user_json(u: &User, created_at: i64, updated_at: i64) -> Value {
    j!({
        "id": u.id(),
        "email": u.email(),
        "email_verified": u.email_verified(),
        "first_name": u.first_name(),
        "last_name": u.last_name(),
        "public_metadata": u.public_metadata(),
        "private_metadata": u.private_metadata(),
        "unsafe_metadata": u.unsafe_metadata(),
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

fn row_json(r: &Row) -> Result<Value, ApiError> {
    Ok(user_json(&r.user()?, r.created_at, r.updated_at))
}

pub(crate) fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no user with this id in this application",
    )
}

/// The user `id` of the call's application.
pub(crate) async fn row(call: &Call<'_>, id: &str) -> Result<Option<Row>, ApiError> {
    store::by_id(call, Record::User, id).await
}

/// The page statement of `GET /v1/users?email=&limit=&starting_after=`.
pub(crate) fn list_statement(app: &str, query: &str) -> store::ListStatement {
    let q = ListUsers::parse(query)?;
    let mut args = Vec::from([s(app)]);
    let mut filter = String::new();
    if let Some(email) = &q.email {
        args.push(s(email));
        filter.push_str(" AND email = ?2");
    }
    let sql = page_sql(COLUMNS, "users", "id", &filter, &q.page, &mut args);
    Ok((sql, args))
}

/// `POST /v1/users` → 201 with `ETag`.
pub(crate) async fn create(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    let input = CreateUser::parse(&call.body)?;
    let id = match input.id {
        Some(id) => id,
        None => random_id("user_")?,
    };
    let u = &input.user;
    let user = User::from_stored(StoredUser {
        id: &id,
        email: u.email(),
        email_verified: u.email_verified(),
        first_name: u.first_name(),
        last_name: u.last_name(),
        name: None,
        public_metadata: u.public_metadata().clone(),
        unsafe_metadata: u.unsafe_metadata().clone(),
        private_metadata: u.private_metadata().clone(),
    })
    .map_err(|e| ApiError::from_user(&e))?;
    let insert = stmt(
        &call.db,
        "INSERT INTO users (tenant_id, id, email, email_verified, first_name, last_name, \
         public_metadata, unsafe_metadata, private_metadata, created_at, updated_at, version) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 1)",
        &[
            [s(&call.app.id), s(&id)].as_slice(),
            &user_columns(&user, call.now),
        ]
        .concat(),
    )?;
    store::batch(
        &call.db,
        Vec::from([insert]),
        "a user with this id or email",
    )
    .await?;
    Ok(json_etag(
        201,
        &user_json(&user, call.now, call.now),
        etag(1, call.now),
    ))
}

/// `GET /v1/users/{id}`.
pub(crate) async fn get(call: &Call<'_>, id: &str) -> Answer {
    parse_no_query(&call.query)?;
    let r = row(call, id).await?.ok_or_else(not_found)?;
    Ok(json_etag(200, &row_json(&r)?, r.etag()))
}

/// `GET /v1/users?email=&limit=&starting_after=`.
pub(crate) async fn list(call: &Call<'_>) -> Answer {
    let q = ListUsers::parse(&call.query)?;
    let rows: Vec<Row> = store::page(call, Record::User).await?;
    let page = paginate(rows, q.page.limit, ListKind::Users, |r| Cursor {
        created_at: r.created_at,
        id: r.id.clone(),
    });
    let mut data = Vec::with_capacity(page.data.len());
    for r in &page.data {
        data.push(row_json(r)?);
    }
    Ok(json(
        200,
        &j!({ "data": data, "has_more": page.has_more, "next_cursor": page.next_cursor }),
    ))
}

/// `PATCH /v1/users/{id}` (`merge` false) or `PATCH /v1/users/{id}/metadata` (true):
/// written only if the row is still the version read (and the `If-Match` one).
pub(crate) async fn update(call: &Call<'_>, id: &str, merge: bool) -> Answer {
    parse_no_query(&call.query)?;
    enum Input {
        Fields(UpdateUser),
        Metadata(UpdateMetadata),
    }
    let input = if merge {
        Input::Metadata(UpdateMetadata::parse(&call.body)?)
    } else {
        Input::Fields(UpdateUser::parse(&call.body)?)
    };
    let r = row(call, id).await?.ok_or_else(not_found)?;
    check_if_match(call.if_match.as_deref(), &r.etag())?;
    let current = r.user()?;
    let user = match &input {
        Input::Fields(u) => u.apply(&current)?,
        Input::Metadata(m) => m.apply(&current)?,
    };
    let update = stmt(
        &call.db,
        "UPDATE users SET email = ?4, email_verified = ?5, first_name = ?6, last_name = ?7, \
         public_metadata = ?8, unsafe_metadata = ?9, private_metadata = ?10, \
         version = version + 1, updated_at = ?11 \
         WHERE tenant_id = ?1 AND id = ?2 AND version = ?3",
        &[
            [s(&call.app.id), s(id), n(r.version)].as_slice(),
            &user_columns(&user, call.now),
        ]
        .concat(),
    )?;
    let results = store::batch(&call.db, Vec::from([update]), "a user with this email").await?;
    if store::changes(&results, 0) == 0 {
        return Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "the user changed while this update was prepared: read it again",
        )
        .with_field("If-Match"));
    }
    let version = r.version.saturating_add(1);
    Ok(json_etag(
        200,
        &user_json(&user, r.created_at, call.now),
        etag(version, call.now),
    ))
}

/// `DELETE /v1/users/{id}`: the user and (in the same batch) its sessions revoked.
pub(crate) async fn delete(call: &Call<'_>, id: &str) -> Answer {
    parse_no_query(&call.query)?;
    let r = row(call, id).await?.ok_or_else(not_found)?;
    check_if_match(call.if_match.as_deref(), &r.etag())?;
    let app = s(&call.app.id);
    let guard = "EXISTS (SELECT 1 FROM users WHERE tenant_id = ?1 AND id = ?2 AND version = ?3)";
    let statements = Vec::from([
        stmt(
            &call.db,
            &alloc::format!(
                "UPDATE sessions SET status = 'revoked' WHERE tenant_id = ?1 AND user_id = ?2 \
                 AND status = 'active' AND {guard}"
            ),
            &[app.clone(), s(id), n(r.version)],
        )?,
        stmt(
            &call.db,
            "DELETE FROM users WHERE tenant_id = ?1 AND id = ?2 AND version = ?3",
            &[app, s(id), n(r.version)],
        )?,
    ]);
    let results = store::batch(&call.db, statements, "the user").await?;
    if store::changes(&results, 1) == 0 {
        return Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            "the user changed while it was being deleted: read it again",
        ));
    }
    Ok(no_content())
}
