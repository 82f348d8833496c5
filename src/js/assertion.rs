//! Edge assertions: [`AssertionVerifier`], what an origin runs on the assertion the edge
//! forwards.

use super::*;

/// `[[name, value], …]` (at most the identity headers' count, strings only).
fn identity_pairs(json: &str) -> Result<Vec<(String, String)>, JsValue> {
    let bad = || {
        coded_error(
            ErrorCode::InvalidRequest,
            "identity headers: expected [[name, value], …]",
        )
    };
    let value = crate::encoding::json::parse(json.as_bytes(), 3).map_err(|_| bad())?;
    let Value::Array(items) = value else {
        return Err(bad());
    };
    if items.len() > crate::edge::headers::IDENTITY_HEADERS.len() {
        return Err(bad());
    }
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([Value::String(n), Value::String(v)]) => Ok((n.clone(), v.clone())),
            _ => Err(bad()),
        })
        .collect()
}

fn assertion_error(e: &AssertionError) -> JsValue {
    coded_error(e.error_code(), &e.to_string())
}

/// A verifier of edge assertions (`x-torii-edge-assertion`) for one origin: the core's
/// [`verify_edge_assertion`] with one key set, issuer and audience.
#[wasm_bindgen]
pub struct AssertionVerifier {
    jwks: Jwks,
    issuer: String,
    audience: String,
}

#[wasm_bindgen]
impl AssertionVerifier {
    /// Loads the tenant's JWKS (JSON text); `issuer` is the tenant's issuer and `audience`
    /// the origin (`scheme://host[:port]`) the edge forwards to. Throws an `Error` with
    /// `code` `invalid_jwks`/`invalid_key`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        jwks_json: &str,
        issuer: &str,
        audience: &str,
    ) -> Result<AssertionVerifier, JsValue> {
        let jwks = Jwks::from_json(jwks_json.as_bytes()).map_err(|e| key_error(&e))?;
        Ok(Self {
            jwks,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
    }

    /// Verifies `assertion` for the request the origin received (`method`, full `url`,
    /// identity headers it carried as a JSON array of `[name, value]` pairs, `[]` when
    /// none: see `coreConstants().identityHeaders`) at `now_secs`; returns the
    /// assertion's claims as JSON text, or throws an `Error` whose `code` is the core's
    /// (`assertion_mismatch` when it is valid but bound to another request).
    pub fn verify(
        &self,
        assertion: &str,
        method: &str,
        url: &str,
        identity_json: &str,
        now_secs: f64,
    ) -> Result<String, JsValue> {
        let pairs = identity_pairs(identity_json)?;
        let identity: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let binding = Binding {
            method,
            url,
            identity: &identity,
        };
        let verified = verify_edge_assertion(
            &self.jwks,
            &self.issuer,
            &self.audience,
            assertion,
            binding,
            unix_time(now_secs),
        )
        .map_err(|e| assertion_error(&e))?;
        Ok(Value::Object(verified.into_claims()).to_string())
    }
}
