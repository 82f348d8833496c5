//! Signing: keys come from a caller-supplied seed (the core draws no randomness).

use crate::encoding::b64;
use crate::jose::jwk::{thumbprint_of, Jwk};
use alloc::string::String;
use alloc::vec::Vec;
use ed25519_compact::{KeyPair, Seed};
use serde_core::ser::{Serialize, SerializeMap, Serializer};
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
    signing_input_of(kid, typ, claims)
}

/// [`jwt_signing_input`] for any claims that serialize as a JSON object: the header
/// written straight from its parts and each part encoded into one buffer (no map built
/// for the header, one allocation for the input). The bytes are what
/// [`jwt_signing_input`] gives for the same members in `serde_json::Map`'s order, which is
/// the order `claims` must serialize them in (the edge assertion's claims do: a test in
/// `edge::assertion` compares them).
pub(crate) fn signing_input_of<C: Serialize + ?Sized>(
    kid: &str,
    typ: Option<&str>,
    claims: &C,
) -> String {
    let header = serde_json::to_vec(&JwtHeader { kid, typ }).unwrap_or_default();
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut input = Vec::new();
    b64::encode_to(&header, &mut input);
    input.push(b'.');
    b64::encode_to(&payload, &mut input);
    // base64url and the dot: ASCII.
    String::from_utf8(input).unwrap_or_default()
}

/// The header [`jwt_signing_input`] writes: `{"alg":"EdDSA","kid":…,"typ":…}`, in the
/// order a `serde_json::Map` of the same members has (its keys sorted).
struct JwtHeader<'a> {
    kid: &'a str,
    typ: Option<&'a str>,
}

impl Serialize for JwtHeader<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2 + usize::from(self.typ.is_some())))?;
        m.serialize_entry("alg", "EdDSA")?;
        m.serialize_entry("kid", self.kid)?;
        if let Some(typ) = self.typ {
            m.serialize_entry("typ", typ)?;
        }
        m.end()
    }
}

/// A compact JWS from its signing input and the signature over it.
pub fn finish_jws(mut signing_input: String, signature: &[u8; 64]) -> String {
    signing_input.push('.');
    signing_input.push_str(&b64::encode(signature));
    signing_input
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    proptest! {
        /// The header written from its parts is the header as a map (what
        /// `jwt_signing_input` wrote before), for any `kid` and `typ`.
        #[test]
        fn the_header_is_the_maps(kid in "\\PC{0,24}", typ in proptest::option::of("\\PC{0,24}")) {
            let mut map = Map::new();
            map.insert("alg".into(), "EdDSA".into());
            map.insert("kid".into(), kid.as_str().into());
            if let Some(typ) = &typ {
                map.insert("typ".into(), typ.as_str().into());
            }
            let header = JwtHeader { kid: &kid, typ: typ.as_deref() };
            prop_assert_eq!(
                serde_json::to_vec(&header).ok(),
                Some(Value::Object(map).to_string().into_bytes())
            );
        }
    }
}
