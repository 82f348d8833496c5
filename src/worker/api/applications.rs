//! `POST /v1/applications` (operator), `GET`/`PATCH /v1/applications/current`.

use super::api_keys::{key_json, KeyRow};
use super::store::{self, s, stmt};
use super::{header, json, key_random, pepper, Answer, App, Call};
use crate::api::idempotency::{self, Decision, IdempotencyRecord};
use crate::api::keys::{generate_secret_key, hash_secret, operator_secret_matches, SecretHash};
use crate::api::requests::{default_issuer, CreateApplication, UpdateApplication};
use crate::api::scopes::{Scope, ScopeSet};
use crate::api::ApiError;
use crate::edge::tenancy::claimable_domain;
use crate::edge::url::SerializedUrl;
use crate::error::ErrorCode;
use crate::worker::clock;
use crate::worker::env::string_var;
use crate::worker::store::from_row;
use crate::worker::store::n;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{json as j, Value};
use worker::{Env, Request};

/// The application as the API shows it.
pub(crate) fn app_json(app: &App) -> Value {
    j!({
        "id": app.id,
        "environment": app.environment.as_str(),
        "issuer": app.issuer,
        "allowed_origins": app.allowed_origins,
        "domains": app.domains,
        "created_at": app.created_at,
    })
}

/// `validation_failed` at `/domains/<i>` for a domain no application may claim (the
/// base domain, a tenant subdomain, loopback: see [`claimable_domain`]).
fn check_domains(env: &Env, domains: &[String]) -> Result<(), ApiError> {
    let config = crate::worker::tenant::config(env);
    match domains.iter().position(|d| !claimable_domain(d, &config)) {
        Some(i) => Err(ApiError::validation(
            "domains",
            "the base domain, its tenant subdomains and loopback names cannot be custom domains",
        )
        .with_pointer(&alloc::format!("/{i}"))),
        None => Ok(()),
    }
}

/// The statements mapping `domains` to `app` (after removing its old ones, if `replace`).
fn domain_statements(
    db: &worker::D1Database,
    app: &str,
    domains: &[String],
    replace: bool,
) -> Result<Vec<worker::D1PreparedStatement>, ApiError> {
    let mut out = Vec::with_capacity(domains.len() + 1);
    if replace {
        out.push(stmt(
            db,
            "DELETE FROM tenant_domains WHERE tenant_id = ?1",
            &[s(app)],
        )?);
    }
    for d in domains {
        out.push(stmt(
            db,
            "INSERT INTO tenant_domains (host, tenant_id) VALUES (?1, ?2)",
            &[s(d), s(app)],
        )?);
    }
    Ok(out)
}

/// The operator check: `Authorization: Bearer <TORII_OPERATOR_SECRET>`, in constant time.
fn check_operator(req: &Request, env: &Env) -> Result<(), ApiError> {
    let expected = string_var(env, "TORII_OPERATOR_SECRET")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Misconfigured,
                "TORII_OPERATOR_SECRET is not set: applications cannot be created",
            )
        })?;
    let presented = header(req, "authorization").unwrap_or_default();
    let presented = presented.trim();
    let token = match presented.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ if presented.is_empty() => "",
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidApiKey,
                "`Authorization` is not `Bearer <operator secret>`",
            ))
        }
    };
    if token.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MissingApiKey,
            "send `Authorization: Bearer <TORII_OPERATOR_SECRET>`",
        ));
    }
    if operator_secret_matches(&expected, token) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidApiKey,
            "not the operator secret",
        ))
    }
}

struct IdemRow {
    fingerprint: String,
    status: Option<i64>,
    body: String,
    created_at: i64,
}
from_row!(IdemRow {
    fingerprint,
    status,
    body,
    created_at
});

/// `POST /v1/applications`: the application and its first secret key (`admin`, named
/// `default`), in one batch; the secret is in this response only. An `Idempotency-Key`
/// is scoped to the application id of the body.
pub(crate) async fn create(req: &Request, env: &Env, url: &SerializedUrl, body: &[u8]) -> Answer {
    check_operator(req, env)?;
    let input = CreateApplication::parse(body)?;
    check_domains(env, &input.domains)?;
    let pepper = pepper(env)?;
    let now = clock::now_secs();
    let db = store::db(env)?;
    let idem_key = match header(req, "idempotency-key") {
        Some(k) => Some(idempotency::check_key(&k)?.to_string()),
        None => None,
    };
    let fingerprint = idempotency::fingerprint("POST", url.path(), body);
    if let Some(key) = &idem_key {
        let row: Option<IdemRow> = store::first(
            &db,
            "SELECT fingerprint, status, body, created_at FROM idempotency_keys \
             WHERE tenant_id = ?1 AND key = ?2",
            &[s(&input.id), s(key)],
        )
        .await?;
        let record = row.and_then(|r| {
            Some(IdempotencyRecord {
                fingerprint: SecretHash::from_hex(&r.fingerprint)?.0,
                status: r.status.and_then(|s| u16::try_from(s).ok()),
                body: r.body,
                created_at: r.created_at,
            })
        });
        if let Decision::Replay { status, body } =
            idempotency::decide(record.as_ref(), &fingerprint, now)?
        {
            return Ok(idempotency::replay_reply(status, body));
        }
    }
    let origin = url.origin();
    let base_domain = string_var(env, "TORII_BASE_DOMAIN");
    let issuer = input
        .issuer
        .clone()
        .unwrap_or_else(|| default_issuer(&input.id, base_domain.as_deref(), &origin));
    let generated = generate_secret_key(input.environment, &key_random()?);
    let hash = hash_secret(&generated.secret, Some(&pepper));
    let scopes = ScopeSet::of(&[Scope::Admin]);
    let origins = Value::from(input.allowed_origins.clone()).to_string();
    let mut statements = Vec::from([
        stmt(
            &db,
            "INSERT INTO tenants (id, issuer, environment, allowed_origins, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &[s(&input.id), s(&issuer), s(input.environment.as_str()), s(&origins), n(now)],
        )?,
        stmt(
            &db,
            "INSERT INTO api_keys (key_id, tenant_id, name, scopes, secret_hash, prefix, last_four, created_at) \
             VALUES (?1, ?2, 'default', ?3, ?4, ?5, ?6, ?7)",
            &[
                s(&generated.key_id),
                s(&input.id),
                s(&scopes.to_json().to_string()),
                s(&hash.to_hex()),
                s(&generated.prefix()),
                s(generated.last_four()),
                n(now),
            ],
        )?,
    ]);
    statements.extend(domain_statements(&db, &input.id, &input.domains, false)?);
    let app = App {
        id: input.id.clone(),
        environment: input.environment,
        issuer,
        allowed_origins: input.allowed_origins,
        domains: input.domains,
        created_at: now,
    };
    let key = KeyRow {
        key_id: generated.key_id.clone(),
        name: "default".into(),
        scopes: scopes.to_json().to_string(),
        prefix: generated.prefix(),
        last_four: generated.last_four().into(),
        created_at: now,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    let mut key_value = key_json(&key, now);
    if let Value::Object(m) = &mut key_value {
        m.insert("secret".into(), Value::Null);
    }
    let body = j!({ "application": app_json(&app), "api_key": key_value.clone() });
    if let Some(k) = &idem_key {
        // Stored without the secret (a replay shows the key without it).
        statements.push(stmt(
            &db,
            "INSERT INTO idempotency_keys (tenant_id, key, fingerprint, status, body, created_at) \
             VALUES (?1, ?2, ?3, 201, ?4, ?5) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, \
             status = excluded.status, body = excluded.body, created_at = excluded.created_at",
            &[
                s(&app.id),
                s(k),
                s(&SecretHash(fingerprint).to_hex()),
                s(&idempotency::redact_secrets(&body.to_string())),
                n(now),
            ],
        )?);
    }
    store::batch(
        &db,
        statements,
        "an application with this id or issuer, or one of these domains,",
    )
    .await?;
    // This isolate may remember the id as missing (or an old row): forget it.
    crate::worker::tenant::forget(None);
    if let Value::Object(m) = &mut key_value {
        m.insert("secret".into(), generated.secret.clone().into());
    }
    Ok(json(
        201,
        &j!({ "application": app_json(&app), "api_key": key_value }),
    ))
}

/// `GET /v1/applications/current`.
pub(crate) async fn get(call: &Call<'_>) -> Answer {
    crate::api::requests::parse_no_query(&call.query)?;
    Ok(json(200, &app_json(&call.app)))
}

/// `PATCH /v1/applications/current { allowed_origins?, domains? }`: each given list
/// replaces the stored one, in one batch.
pub(crate) async fn update(call: &Call<'_>) -> Answer {
    crate::api::requests::parse_no_query(&call.query)?;
    let input = UpdateApplication::parse(&call.body)?;
    let mut app = call.app.clone();
    let mut statements = Vec::new();
    if let Some(origins) = input.allowed_origins {
        let text = Value::from(origins.clone()).to_string();
        statements.push(stmt(
            &call.db,
            "UPDATE tenants SET allowed_origins = ?2 WHERE id = ?1",
            &[s(&app.id), s(&text)],
        )?);
        app.allowed_origins = origins;
    }
    if let Some(domains) = input.domains {
        check_domains(call.env, &domains)?;
        statements.extend(domain_statements(&call.db, &app.id, &domains, true)?);
        app.domains = domains;
    }
    if !statements.is_empty() {
        store::batch(&call.db, statements, "one of these domains").await?;
        // Domain lookups this isolate remembers may have changed.
        crate::worker::tenant::forget(None);
    }
    Ok(json(200, &app_json(&app)))
}
