//! The core's tables for the JS side: [`error_codes`], [`error_table`], [`core_constants`]
//! and [`http_status`].

use super::*;

/// Every stable error code, in documentation order.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    ALL_CODES
        .iter()
        .map(|c: &ErrorCode| c.as_str().to_string())
        .collect()
}

/// The code table as JSON text: `[{"code","status","description"}]`, in documentation
/// order (the npm package's `ToriiError.status` and its type tests read it).
#[wasm_bindgen(js_name = errorTable)]
pub fn error_table() -> String {
    error_table_json()
}

fn error_table_json() -> String {
    let rows: Vec<Value> = ALL_CODES
        .iter()
        .map(|c| {
            serde_json::json!({
                "code": c.as_str(),
                "status": c.http_status(),
                "description": c.description(),
            })
        })
        .collect();
    Value::Array(rows).to_string()
}

/// The constants the npm package shares with the core, as JSON text:
/// `{"maxJwksBytes", "identityHeaders", "tokenCache": {"entries","bytes"},
/// "defaultCacheConfig": {"defaultTtl","minTtl","maxTtl","cooldown","maxStale"}}`
/// (`MAX_JWKS_BYTES`, `IDENTITY_HEADERS`, the verified-token cache's default bounds and
/// `CacheConfig::default()`, seconds).
#[wasm_bindgen(js_name = coreConstants)]
pub fn core_constants() -> String {
    core_constants_json()
}

fn core_constants_json() -> String {
    let c = CacheConfig::default();
    serde_json::json!({
        "maxJwksBytes": crate::jose::jwk::MAX_JWKS_BYTES,
        "identityHeaders": crate::edge::headers::IDENTITY_HEADERS,
        "tokenCache": {
            "entries": crate::jose::DEFAULT_CACHE_ENTRIES,
            "bytes": crate::jose::DEFAULT_CACHE_BYTES,
        },
        "defaultCacheConfig": {
            "defaultTtl": c.default_ttl,
            "minTtl": c.min_ttl,
            "maxTtl": c.max_ttl,
            "cooldown": c.cooldown,
            "maxStale": c.max_stale,
        },
    })
    .to_string()
}

/// The HTTP status the edge answers with for `code` (0 for an unknown code).
#[wasm_bindgen(js_name = httpStatus)]
pub fn http_status(code: &str) -> u16 {
    ErrorCode::from_code(code).map_or(0, ErrorCode::http_status)
}

// Only the paths that never build a JsValue can run off wasm32.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_table_and_the_constants_are_the_cores() {
        let table: Value = serde_json::from_str(&error_table_json()).unwrap();
        let rows = table.as_array().unwrap();
        assert_eq!(rows.len(), ALL_CODES.len());
        for (row, c) in rows.iter().zip(ALL_CODES) {
            assert_eq!(row["code"], c.as_str());
            assert_eq!(row["status"], c.http_status());
            assert_eq!(row["description"], c.description());
            assert_eq!(http_status(c.as_str()), c.http_status());
        }
        assert_eq!(http_status("no_such_code"), 0);
        let k: Value = serde_json::from_str(&core_constants_json()).unwrap();
        assert_eq!(k["maxJwksBytes"], crate::jose::jwk::MAX_JWKS_BYTES);
        assert_eq!(
            k["identityHeaders"],
            serde_json::json!(crate::edge::headers::IDENTITY_HEADERS)
        );
        assert_eq!(
            k["tokenCache"]["entries"],
            crate::jose::DEFAULT_CACHE_ENTRIES
        );
        assert_eq!(k["tokenCache"]["bytes"], crate::jose::DEFAULT_CACHE_BYTES);
        let c = CacheConfig::default();
        assert_eq!(k["defaultCacheConfig"]["defaultTtl"], c.default_ttl);
        assert_eq!(k["defaultCacheConfig"]["minTtl"], c.min_ttl);
        assert_eq!(k["defaultCacheConfig"]["maxTtl"], c.max_ttl);
        assert_eq!(k["defaultCacheConfig"]["cooldown"], c.cooldown);
        assert_eq!(k["defaultCacheConfig"]["maxStale"], c.max_stale);
    }
}
