//! List pagination: `limit` (1…100, never clamped), an opaque cursor
//! (`starting_after` in, `next_cursor` out), and `has_more` from fetching `limit + 1`
//! rows.
//!
//! Lists are ordered newest first by `(created_at, id)`. A cursor is the position of the
//! last item of a page: base64url of `<kind>:<created_at>:<id>`, where `kind` names the
//! list, so a users cursor is refused by the sessions list. The store reads the next page
//! with `WHERE (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT limit + 1`.
//! A cursor carries no authority: every query is still scoped to the application.

use super::error::ApiError;
use super::routes::{valid_key_id, valid_session_id, valid_template_name, valid_user_id};
use crate::encoding::b64;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Smallest `limit`.
pub const MIN_LIMIT: usize = 1;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 100;
/// `limit` when the query has none.
pub const DEFAULT_LIMIT: usize = 20;
/// Longest cursor accepted, in bytes.
pub const MAX_CURSOR_BYTES: usize = 256;

/// Which list a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `GET /v1/users`.
    Users,
    /// `GET /v1/sessions`.
    Sessions,
    /// `GET /v1/jwt-templates` (the id is the template name).
    Templates,
    /// `GET /v1/api-keys` (the id is the key id).
    ApiKeys,
}

impl ListKind {
    const fn tag(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Sessions => "sessions",
            Self::Templates => "jwt_templates",
            Self::ApiKeys => "api_keys",
        }
    }

    fn valid_id(self, id: &str) -> bool {
        match self {
            Self::Users => valid_user_id(id),
            Self::Sessions => valid_session_id(id),
            Self::Templates => valid_template_name(id),
            Self::ApiKeys => valid_key_id(id),
        }
    }
}

/// A position in a list: the `(created_at, id)` of the last item returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The item's `created_at` (seconds since the epoch).
    pub created_at: i64,
    /// The item's id.
    pub id: String,
}

impl Cursor {
    /// The opaque form handed to clients.
    pub fn encode(&self, kind: ListKind) -> String {
        b64::encode(format!("{}:{}:{}", kind.tag(), self.created_at, self.id).as_bytes())
    }

    /// Decodes and validates a cursor of list `kind`; anything else (not canonical
    /// base64url, another list's cursor, a bad number or id) → `validation_failed`
    /// naming `starting_after`.
    pub fn decode(cursor: &str, kind: ListKind) -> Result<Self, ApiError> {
        let bad = || ApiError::validation("starting_after", "not a cursor of this list");
        if cursor.is_empty() || cursor.len() > MAX_CURSOR_BYTES {
            return Err(bad());
        }
        let bytes = b64::decode(cursor).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, ':');
        let (Some(tag), Some(created), Some(id)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if tag != kind.tag() {
            return Err(bad());
        }
        let created_at: i64 = created.parse().map_err(|_| bad())?;
        if format!("{created_at}") != created || !kind.valid_id(id) {
            return Err(bad());
        }
        Ok(Self {
            created_at,
            id: id.into(),
        })
    }
}

/// Checks a `limit`: 1…100 (outside → `validation_failed` naming `limit`, never clamped).
pub fn check_limit(limit: i64) -> Result<usize, ApiError> {
    usize::try_from(limit)
        .ok()
        .filter(|l| (MIN_LIMIT..=MAX_LIMIT).contains(l))
        .ok_or_else(|| ApiError::validation("limit", format!("must be {MIN_LIMIT} to {MAX_LIMIT}")))
}

/// How many rows to fetch for a page of `limit`: one more, to learn `has_more`.
pub const fn fetch_count(limit: usize) -> usize {
    limit.saturating_add(1)
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// At most `limit` items.
    pub data: Vec<T>,
    /// Whether more items follow.
    pub has_more: bool,
    /// The cursor of the next page (`Some` exactly when `has_more`).
    pub next_cursor: Option<String>,
}

/// A page from the rows fetched with [`fetch_count`]`(limit)`: keeps the first `limit`,
/// and when there were more, the cursor of the last one kept.
pub fn paginate<T>(
    mut rows: Vec<T>,
    limit: usize,
    kind: ListKind,
    position: impl Fn(&T) -> Cursor,
) -> Page<T> {
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(|last| position(last).encode(kind))
    } else {
        None
    };
    Page {
        has_more: next_cursor.is_some(),
        data: rows,
        next_cursor,
    }
}

impl<T> Page<T> {
    /// The response body `{data, has_more, next_cursor}` (`next_cursor` is `null` on
    /// the last page), each item rendered by `render`.
    pub fn to_json(self, render: impl Fn(T) -> Value) -> Value {
        let mut out = Map::new();
        out.insert(
            "data".into(),
            Value::Array(self.data.into_iter().map(render).collect()),
        );
        out.insert("has_more".into(), self.has_more.into());
        out.insert(
            "next_cursor".into(),
            self.next_cursor.map_or(Value::Null, Value::String),
        );
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use alloc::vec;

    fn c(t: i64, id: &str) -> Cursor {
        Cursor {
            created_at: t,
            id: id.into(),
        }
    }

    #[test]
    fn cursors_round_trip_per_kind() {
        for (kind, id) in [
            (ListKind::Users, "user_1:with:colons"),
            (ListKind::Sessions, "sess_1"),
            (ListKind::Templates, "hasura"),
            (ListKind::ApiKeys, "AbC123xyz789"),
        ] {
            for t in [0, 1_700_000_000, -5, i64::MAX] {
                let cur = c(t, id);
                assert_eq!(Cursor::decode(&cur.encode(kind), kind), Ok(cur));
            }
        }
    }

    #[test]
    fn foreign_or_forged_cursors_are_refused() {
        let users = c(1, "user_1").encode(ListKind::Users);
        let err = Cursor::decode(&users, ListKind::Sessions).unwrap_err();
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        assert_eq!(err.field.as_deref(), Some("starting_after"));
        for forged in [
            "users:01:u",
            "users:+1:u",
            "users:1:",
            "users:x:u",
            "users:1",
            "users:1:a\"b",
            "api_keys:1:short",
        ] {
            let enc = b64::encode(forged.as_bytes());
            assert!(Cursor::decode(&enc, ListKind::Users).is_err(), "{forged}");
            assert!(Cursor::decode(&enc, ListKind::ApiKeys).is_err(), "{forged}");
        }
        for raw in ["", "!!!", "dXNlcnM6MTp1=", &"A".repeat(300)] {
            assert!(Cursor::decode(raw, ListKind::Users).is_err(), "{raw}");
        }
    }

    #[test]
    fn limits_are_never_clamped() {
        assert_eq!(check_limit(1), Ok(1));
        assert_eq!(check_limit(100), Ok(100));
        for bad in [0, -1, 101, i64::MAX, i64::MIN] {
            let err = check_limit(bad).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_deref()),
                (ErrorCode::ValidationFailed, Some("limit"))
            );
        }
        assert_eq!(fetch_count(100), 101);
    }

    #[test]
    fn pages_from_limit_plus_one_rows() {
        let rows = |n: i64| {
            (0..n)
                .map(|i| (100 - i, format!("u{i}")))
                .collect::<Vec<_>>()
        };
        let pos = |r: &(i64, String)| c(r.0, &r.1);
        let page = paginate(rows(3), 2, ListKind::Users, pos);
        assert_eq!(page.data.len(), 2);
        assert!(page.has_more);
        let next = Cursor::decode(page.next_cursor.as_deref().unwrap(), ListKind::Users).unwrap();
        assert_eq!(next, c(99, "u1"));
        let page = paginate(rows(2), 2, ListKind::Users, pos);
        assert_eq!(
            (page.data.len(), page.has_more, page.next_cursor.clone()),
            (2, false, None)
        );
        let page = paginate(Vec::<(i64, String)>::new(), 2, ListKind::Users, pos);
        assert!(page.data.is_empty() && !page.has_more);
        let json = paginate(rows(1), 5, ListKind::Users, pos).to_json(|r| r.1.into());
        assert_eq!(
            json,
            serde_json::json!({"data": ["u0"], "has_more": false, "next_cursor": null})
        );
        let json = paginate(rows(3), 1, ListKind::Users, pos).to_json(|r| r.1.into());
        assert_eq!(json["has_more"], true);
        assert!(json["next_cursor"].is_string());
        let _ = vec![0];
    }
}
