//! `/v1/signing-keys`: list (kid, version, state, dates; never a seed), rotate.

use super::store::unavailable;
use super::{json, Answer, Call};
use crate::api::requests::{parse_empty_body, parse_no_query};
use crate::api::signing::plan_manual_rotation;
use crate::api::ApiError;
use crate::derive_signing_seed;
use crate::edge::tenancy::{master_secret, TenantConfig};
use crate::error::ErrorCode;
use crate::keys::rotation::{key_state, KeyVersion, RotationPolicy};
use crate::worker::env::string_var;
use crate::worker::webcrypto::TenantKey;
use crate::worker::{store as base, tenant};
use alloc::string::ToString;
use alloc::vec::Vec;
use serde_json::{json as j, Value};

fn config(call: &Call<'_>) -> TenantConfig {
    TenantConfig::from_vars(|name| string_var(call.env, name))
}

async fn version_json(
    call: &Call<'_>,
    secret: &str,
    v: &KeyVersion,
    policy: &RotationPolicy,
) -> Result<Value, ApiError> {
    let seed = derive_signing_seed(secret.as_bytes(), &call.app.id, v.version);
    let kid = TenantKey::derive(seed)
        .await
        .ok_or_else(|| ApiError::new(ErrorCode::InternalError, "WebCrypto is unavailable"))?
        .kid()
        .to_string();
    Ok(j!({
        "kid": kid,
        "version": v.version,
        "state": key_state(v, call.now, policy),
        "published_at": v.published_at,
        "signs_from": v.signs_from,
        "signs_until": v.signs_until,
    }))
}

fn secret(call: &Call<'_>) -> Result<alloc::string::String, ApiError> {
    master_secret(string_var(call.env, "TORII_MASTER_SECRET"))
        .map_err(|_| ApiError::new(ErrorCode::Misconfigured, "TORII_MASTER_SECRET is not set"))
}

/// `GET /v1/signing-keys`: the versions not retired, newest first.
pub(crate) async fn list(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    let secret = secret(call)?;
    let policy = config(call).policy;
    let versions = base::key_versions(&call.db, &call.app.id)
        .await
        .map_err(|e| unavailable(&e))?;
    let mut data: Vec<Value> = Vec::with_capacity(versions.len());
    for v in versions.iter().rev() {
        data.push(version_json(call, &secret, v, &policy).await?);
    }
    Ok(json(
        200,
        &j!({ "data": data, "has_more": false, "next_cursor": null }),
    ))
}

/// `POST /v1/signing-keys/rotate`: publishes the next version now; it signs after the
/// publish lead (`TORII_ROTATION_PUBLISH_LEAD_SECS`), when the current one stops.
pub(crate) async fn rotate(call: &Call<'_>) -> Answer {
    parse_no_query(&call.query)?;
    parse_empty_body(&call.body)?;
    let secret = secret(call)?;
    let policy = config(call).policy;
    let versions = base::key_versions(&call.db, &call.app.id)
        .await
        .map_err(|e| unavailable(&e))?;
    // Dated from the next second: never published before it is visible.
    let now = call.now.saturating_add(1);
    let (new, (changed, insert)) = plan_manual_rotation(&versions, now, &policy)?;
    // The answer (its `kid`) first: a failure then changes nothing.
    let body = version_json(call, &secret, &new, &policy).await?;
    base::write_rotation(&call.db, &call.app.id, &changed, insert)
        .await
        .map_err(|e| super::store::write_error(&e, "this signing key version"))?;
    tenant::forget(Some(&call.app.id));
    Ok(json(201, &body))
}
