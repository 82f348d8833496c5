//! Signing: keys come from a caller-supplied seed (the core draws no randomness).

use crate::encoding::b64;
use crate::jose::jwk::{thumbprint_of, Jwk};
use alloc::string::{String, ToString};
use ed25519_compact::{KeyPair, Seed};
use serde_json::{Map, Value};

/// An Ed25519 signing key with its `kid`.
#[derive(Clone)]
pub struct SigningKey {
    pair: KeyPair,
    public: crate::crypto::PublicKey,
    kid: String,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The key for a 32-byte seed (RFC 8032 private key). Its `kid` is the RFC 7638
    /// thumbprint of the public key.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let pair = KeyPair::from_seed(Seed::new(*seed));
        let public = crate::crypto::public_key_from_seed(seed);
        let kid = thumbprint_of(&public);
        Self { pair, public, kid }
    }

    /// Replaces the `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: &str) -> Self {
        self.kid = kid.into();
        self
    }

    /// The key id put in every token's header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (`OKP`, `Ed25519`, `x`, `kid`, `alg: EdDSA`, `use: sig`).
    pub fn public_jwk(&self) -> Jwk {
        Jwk::from_public_key(self.public, Some(self.kid.clone()))
    }

    /// Signs `message` (deterministic RFC 8032 Ed25519).
    pub fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        *self.pair.sk.sign(message, None)
    }

    /// Signs a compact JWS over the exact header and payload bytes given.
    pub fn sign_compact(&self, header_json: &[u8], payload: &[u8]) -> String {
        let mut input = b64::encode(header_json);
        input.push('.');
        input.push_str(&b64::encode(payload));
        let sig = self.sign_raw(input.as_bytes());
        finish_jws(input, &sig)
    }

    /// Signs `claims` into a compact JWT with header `{"alg":"EdDSA","kid":…,"typ":…}`
    /// (`typ` omitted when `None`).
    pub fn sign_jwt(&self, typ: Option<&str>, claims: &Map<String, Value>) -> String {
        let input = jwt_signing_input(&self.kid, typ, claims);
        let sig = self.sign_raw(input.as_bytes());
        finish_jws(input, &sig)
    }
}

/// The signing input of a JWT, `base64url(header) "." base64url(claims)`, with the header
/// `{"alg":"EdDSA","kid":…,"typ":…}` (`typ` omitted when `None`): what
/// [`SigningKey::sign_jwt`] signs, for adapters that sign with a native primitive.
pub fn jwt_signing_input(kid: &str, typ: Option<&str>, claims: &Map<String, Value>) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), "EdDSA".into());
    header.insert("kid".into(), kid.into());
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    let header = Value::Object(header).to_string();
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut input = b64::encode(header.as_bytes());
    input.push('.');
    input.push_str(&b64::encode(&payload));
    input
}

/// A compact JWS from its signing input and the signature over it.
pub fn finish_jws(mut signing_input: String, signature: &[u8; 64]) -> String {
    signing_input.push('.');
    signing_input.push_str(&b64::encode(signature));
    signing_input
}
