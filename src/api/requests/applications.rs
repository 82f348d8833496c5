//! `/v1/applications` bodies: create (operator) and update; custom domains and CORS origins.

use super::*;

/// `POST /v1/applications` (operator)
/// `{ id, environment, issuer?, allowed_origins?, domains? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateApplication {
    /// The application (tenant) id: a DNS label, `a-z 0-9 -`, 1 … 63 bytes.
    pub id: String,
    /// Its environment.
    pub environment: Environment,
    /// Its issuer URL (`None`: the Worker derives it from the base domain).
    pub issuer: Option<String>,
    /// Origins allowed to call it from browsers (`https://host[:port]`).
    pub allowed_origins: Vec<String>,
    /// Custom domains that serve it (lower case DNS names, besides
    /// `<id>.<TORII_BASE_DOMAIN>`).
    pub domains: Vec<String>,
}

/// Whether `host` is a DNS name a custom domain can be: at least two labels of 1–63
/// bytes of `a-z 0-9 -` (not starting or ending with `-`), at most [`MAX_DOMAIN_BYTES`],
/// not all-numeric at the top (no IP literals), no port, no trailing dot; lower case.
pub fn valid_domain(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    host.len() <= MAX_DOMAIN_BYTES
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// A list member of at most `max` strings of at most `max_bytes`: absent or `null` →
/// `None`; each item goes through `check` (its normalized form, or `None` → `bad`, named
/// by its pointer `/<i>`); duplicates are dropped, keeping the first.
pub(super) fn string_list(
    value: Option<Value>,
    field: &str,
    (max, max_bytes): (usize, usize),
    check: impl Fn(String) -> Option<String>,
    bad: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ApiError::validation(field, "must be an array of strings")),
    };
    if list.len() > max {
        return Err(ApiError::validation(field, format!("at most {max} items")));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        let pointer = format!("/{i}");
        let item = text(field, v, max_bytes).map_err(|e| e.with_pointer(&pointer))?;
        let item =
            check(item).ok_or_else(|| ApiError::validation(field, bad).with_pointer(&pointer))?;
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Some(out))
}

/// The `domains` member: at most [`MAX_DOMAINS`] DNS names, case-folded to lower case
/// and sorted. Whether a domain may be claimed at all (not the base domain, not a tenant
/// subdomain, not loopback) is [`crate::edge::tenancy::claimable_domain`].
pub(super) fn domains(value: Option<Value>) -> Result<Option<Vec<String>>, ApiError> {
    let mut list = string_list(
        value,
        "domains",
        (MAX_DOMAINS, MAX_DOMAIN_BYTES),
        |d| Some(d.to_ascii_lowercase()).filter(|d| valid_domain(d)),
        "a domain is a DNS name such as `auth.example.com`, without scheme, port or path",
    )?;
    if let Some(l) = &mut list {
        l.sort_unstable();
    }
    Ok(list)
}

pub(super) fn valid_origin(o: &str) -> bool {
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"));
    rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    })
}

/// The `allowed_origins` member: at most [`MAX_ALLOWED_ORIGINS`] origins
/// `http(s)://host[:port]`, in the order given.
pub(super) fn allowed_origins(value: Option<Value>) -> Result<Option<Vec<String>>, ApiError> {
    string_list(
        value,
        "allowed_origins",
        (MAX_ALLOWED_ORIGINS, MAX_ORIGIN_BYTES),
        |o| Some(o).filter(|o| valid_origin(o)),
        "an origin is `https://host[:port]`, without path",
    )
}

/// The issuer of a new application that names none: `https://<id>.<base domain>` when
/// `TORII_BASE_DOMAIN` is set, else the origin the request came to (local development:
/// the loopback edge serves every application).
pub fn default_issuer(id: &str, base_domain: Option<&str>, request_origin: &str) -> String {
    match base_domain
        .map(|d| d.trim_matches('.'))
        .filter(|d| !d.is_empty())
    {
        Some(domain) => format!("https://{id}.{}", domain.to_ascii_lowercase()),
        None => request_origin.trim_end_matches('/').to_string(),
    }
}

/// `PATCH /v1/applications/current { allowed_origins?, domains? }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateApplication {
    /// The new CORS origins (replacing the list), if given.
    pub allowed_origins: Option<Vec<String>>,
    /// The new custom domains (replacing the list), if given.
    pub domains: Option<Vec<String>>,
}

impl UpdateApplication {
    /// Parses the body (the id, environment and issuer cannot change).
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        for fixed in ["id", "environment", "issuer"] {
            if f.take(fixed).is_some() {
                return Err(ApiError::validation(
                    fixed,
                    format!("an application's {fixed} cannot change"),
                ));
            }
        }
        let allowed_origins = allowed_origins(f.take("allowed_origins"))?;
        let domains = domains(f.take("domains"))?;
        f.finish()?;
        Ok(Self {
            allowed_origins,
            domains,
        })
    }
}

impl CreateApplication {
    /// Parses the body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let mut f = Fields::parse(body, false)?;
        let id = f.required_string("id", MAX_APPLICATION_ID_BYTES)?;
        if !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || id.starts_with('-')
            || id.ends_with('-')
        {
            return Err(ApiError::validation(
                "id",
                "must be a DNS label (a-z, 0-9, -)",
            ));
        }
        let env = f.required_string("environment", 16)?;
        let environment = Environment::parse(&env).ok_or_else(|| {
            ApiError::validation("environment", "must be development or production")
        })?;
        let issuer = f.string("issuer", MAX_ISSUER_BYTES)?;
        if issuer
            .as_deref()
            .is_some_and(|i| !i.starts_with("https://") && !i.starts_with("http://"))
        {
            return Err(ApiError::validation("issuer", "must be an http(s) URL"));
        }
        let allowed_origins = allowed_origins(f.take("allowed_origins"))?.unwrap_or_default();
        let domains = domains(f.take("domains"))?.unwrap_or_default();
        f.finish()?;
        Ok(Self {
            id,
            environment,
            issuer,
            allowed_origins,
            domains,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::requests::tests::{field, vf};

    #[test]
    fn applications_update_and_default_issuer() {
        let u = UpdateApplication::parse(
            br#"{"allowed_origins":["https://a.example","https://a.example"]}"#,
        )
        .unwrap();
        assert_eq!(
            u.allowed_origins,
            Some(alloc::vec!["https://a.example".to_string()])
        );
        assert_eq!(
            UpdateApplication::parse(b"{}").unwrap().allowed_origins,
            None
        );
        for (body, name) in [
            (&br#"{"issuer":"https://x"}"#[..], "issuer"),
            (br#"{"id":"x"}"#, "id"),
            (br#"{"allowed_origins":"https://a"}"#, "allowed_origins"),
            (br#"{"allowed_origins":["ftp://a"]}"#, "allowed_origins"),
            (br#"{"nope":1}"#, "nope"),
        ] {
            assert_eq!(field(UpdateApplication::parse(body)), vf(name));
        }
        let e = UpdateApplication::parse(br#"{"allowed_origins":["https://a","*"]}"#).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/1"));
        assert_eq!(
            default_issuer("acme", Some("Auth.Example.com."), "http://127.0.0.1:1"),
            "https://acme.auth.example.com"
        );
        assert_eq!(
            default_issuer("acme", None, "http://127.0.0.1:8787/"),
            "http://127.0.0.1:8787"
        );
        assert_eq!(default_issuer("acme", Some(""), "http://h"), "http://h");
    }

    #[test]
    fn applications() {
        let a = CreateApplication::parse(
            br#"{"id":"acme","environment":"production","allowed_origins":["https://app.acme.com","http://localhost:3000"]}"#,
        )
        .unwrap();
        assert_eq!(a.environment, Environment::Production);
        assert_eq!(a.allowed_origins.len(), 2);
        assert!(a.domains.is_empty());
        let a = CreateApplication::parse(
            br#"{"id":"acme","environment":"production","domains":["login.acme.co.uk","Auth.Acme.com","auth.acme.com"]}"#,
        )
        .unwrap();
        assert_eq!(a.domains, ["auth.acme.com", "login.acme.co.uk"]);
        let too_many = format!(
            r#"{{"id":"a","environment":"production","domains":[{}]}}"#,
            (0..=MAX_DOMAINS)
                .map(|i| format!(r#""d{i}.example.com""#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            field(CreateApplication::parse(too_many.as_bytes())),
            vf("domains")
        );
        for bad in [
            "example",
            "auth.example.com:8443",
            "https://auth.example.com",
            "auth.example.com.",
            "auth.example.com/x",
            "-a.example.com",
            "a-.example.com",
            "a..example.com",
            "10.0.0.1",
            "*.example.com",
            "caf\u{e9}.example.com",
        ] {
            let body = format!(
                r#"{{"id":"a","environment":"production","domains":["ok.example.com","{bad}"]}}"#
            );
            let err = CreateApplication::parse(body.as_bytes()).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("domains"), "{bad}");
            assert_eq!(err.pointer.as_deref(), Some("/1"), "{bad}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(!valid_domain(&long));
        let label = "a".repeat(63);
        let max = format!("{label}.{label}.{label}.{}", "a".repeat(61));
        assert_eq!(max.len(), 253);
        assert!(valid_domain(&max));
        assert!(!valid_domain(&format!("a{max}")));
        let u = UpdateApplication::parse(br#"{"domains":["a.example.com"]}"#).unwrap();
        assert_eq!(
            u.domains.as_deref(),
            Some(&["a.example.com".to_string()][..])
        );
        assert_eq!(u.allowed_origins, None);
        for (body, name) in [
            (r#"{"id":"Acme","environment":"production"}"#, "id"),
            (r#"{"id":"-a","environment":"production"}"#, "id"),
            (r#"{"id":"a","environment":"staging"}"#, "environment"),
            (
                r#"{"id":"a","environment":"production","allowed_origins":["https://a.com/"]}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","allowed_origins":["*"]}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","allowed_origins":"https://a.com"}"#,
                "allowed_origins",
            ),
            (
                r#"{"id":"a","environment":"production","issuer":"ftp://x"}"#,
                "issuer",
            ),
        ] {
            assert_eq!(
                field(CreateApplication::parse(body.as_bytes())),
                vf(name),
                "{body}"
            );
        }
    }
}
