//! Backend API query strings: decoded strictly into parameters that must all be taken
//! ([`Query`]), the paging parameters of a list, and the queries of the endpoints whose
//! query is not a list's filters (the list filters are with their groups' bodies).

use super::{printable, MAX_QUERY_BYTES};
use crate::api::error::ApiError;
use crate::api::pagination::{check_limit, Cursor, ListKind, DEFAULT_LIMIT};
use crate::api::routes::{percent_decode, valid_template_name};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The decoded parameters of a query string; [`Query::finish`] refuses unknown ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=2` (without the `?`; `+` is a space, `%XX` decoded strictly).
    /// A repeated or undecodable parameter → `validation_failed` naming it.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        if query.len() > MAX_QUERY_BYTES {
            return Err(ApiError::validation(
                "query",
                "the query string is too long",
            ));
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let k = percent_decode(k, true)
                .ok_or_else(|| ApiError::validation("query", "malformed percent-encoding"))?;
            let v = percent_decode(v, true).ok_or_else(|| {
                ApiError::validation(&printable(&k), "malformed percent-encoding")
            })?;
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(ApiError::validation(&printable(&k), "is repeated"));
            }
            pairs.push((k, v));
        }
        Ok(Self { pairs })
    }

    /// Takes parameter `name`.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(k, _)| k == name)?;
        Some(self.pairs.remove(i).1)
    }

    /// Refuses any parameter not taken.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.pairs.first() {
            None => Ok(()),
            Some((k, _)) => Err(ApiError::validation(
                &printable(k),
                format!("unknown query parameter `{}`", printable(k)),
            )),
        }
    }

    /// `limit` (1 … 100, default 20) and `starting_after` (a cursor of `kind`).
    pub fn page(&mut self, kind: ListKind) -> Result<PageQuery, ApiError> {
        let limit = match self.take("limit") {
            None => DEFAULT_LIMIT,
            Some(l) => {
                if l.is_empty() || l.len() > 19 || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ApiError::validation(
                        "limit",
                        "must be an integer from 1 to 100",
                    ));
                }
                check_limit(l.parse().unwrap_or(i64::MAX))?
            }
        };
        let starting_after = self
            .take("starting_after")
            .map(|c| Cursor::decode(&c, kind))
            .transpose()?;
        Ok(PageQuery {
            limit,
            starting_after,
        })
    }
}

/// The paging parameters of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    /// Items per page (1 … 100).
    pub limit: usize,
    /// Where the page starts (after this position).
    pub starting_after: Option<Cursor>,
}

/// The query of a list without filters (`GET /v1/jwt-templates`, `GET /v1/api-keys`).
pub fn parse_list_query(query: &str, kind: ListKind) -> Result<PageQuery, ApiError> {
    let mut q = Query::parse(query)?;
    let page = q.page(kind)?;
    q.finish()?;
    Ok(page)
}

/// The query of `POST /v1/sessions/{id}/tokens?template=<name>`: the template, if any.
pub fn parse_token_query(query: &str) -> Result<Option<String>, ApiError> {
    let mut q = Query::parse(query)?;
    let template = q.take("template");
    if template.as_deref().is_some_and(|t| !valid_template_name(t)) {
        return Err(ApiError::validation(
            "template",
            "not a valid template name",
        ));
    }
    q.finish()?;
    Ok(template)
}

/// The query of an endpoint that takes none: empty.
pub fn parse_no_query(query: &str) -> Result<(), ApiError> {
    Query::parse(query)?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::requests::tests::{field, vf};

    #[test]
    fn queries() {
        assert_eq!(
            parse_list_query("limit=100", ListKind::ApiKeys)
                .unwrap()
                .limit,
            100
        );
        assert_eq!(
            parse_token_query("template=hasura").unwrap().as_deref(),
            Some("hasura")
        );
        assert_eq!(parse_token_query("").unwrap(), None);
        assert_eq!(field(parse_token_query("template=a%20b")), vf("template"));
        assert!(parse_no_query("").is_ok());
        assert_eq!(field(parse_no_query("x=1")), vf("x"));
        let long = "a".repeat(MAX_QUERY_BYTES + 1);
        assert_eq!(field(parse_no_query(&long)), vf("query"));
    }
}
