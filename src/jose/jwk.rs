//! JWK and JWKS (RFC 7517, RFC 8037): only `OKP`/`Ed25519` public keys are ever loaded.

use crate::crypto as sig;
use crate::crypto::PublicKey;
use crate::encoding::{b64, json};
use crate::error::KeyError;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest JWKS document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Most keys (of any type) a JWKS may list.
pub const MAX_JWKS_KEYS: usize = 64;
const JWKS_MAX_DEPTH: usize = 8;

/// The algorithm a key declares (`alg` member), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyAlg {
    /// `EdDSA` (RFC 8037).
    EdDsa,
    /// `Ed25519` (RFC 9864, fully specified).
    Ed25519,
}

impl KeyAlg {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "EdDSA" => Some(Self::EdDsa),
            "Ed25519" => Some(Self::Ed25519),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::EdDsa => "EdDSA",
            Self::Ed25519 => "Ed25519",
        }
    }
}

/// A validated Ed25519 public key with its optional `kid` and `alg`.
///
/// Only [`Jwk::from_json`], [`Jwks::from_json`] and [`SigningKey::public_jwk`](crate::SigningKey::public_jwk)
/// build one, and each checks that the point is canonical and not of small order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// Shared, not copied, with the claims of every token it verifies
    /// ([`VerifiedClaims::kid`](crate::VerifiedClaims::kid)).
    pub(crate) kid: Option<Arc<str>>,
    pub(crate) alg: Option<KeyAlg>,
    pub(crate) key: PublicKey,
}

/// How a JWK entry of a set was judged (transient: the size gap is harmless).
#[allow(clippy::large_enum_variant)]
enum Entry {
    /// A usable Ed25519 verification key.
    Usable(Jwk),
    /// A key of another type or use: skipped, never used.
    Skipped,
}

fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, KeyError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidKey("a JWK member has the wrong JSON type")),
    }
}

fn parse_entry(obj: &Map<String, Value>) -> Result<Entry, KeyError> {
    if obj.contains_key("d") {
        return Err(KeyError::InvalidKey(
            "the JWK carries private key material (`d`)",
        ));
    }
    let kty = opt_str(obj, "kty")?.ok_or(KeyError::InvalidKey("the JWK has no `kty`"))?;
    let kid = opt_str(obj, "kid")?;
    let crv = opt_str(obj, "crv")?;
    let use_ = opt_str(obj, "use")?;
    let alg = opt_str(obj, "alg")?;
    let key_ops = match obj.get("key_ops") {
        None => None,
        Some(Value::Array(ops)) => {
            let mut all = Vec::with_capacity(ops.len());
            for op in ops {
                all.push(
                    op.as_str()
                        .ok_or(KeyError::InvalidKey("`key_ops` must hold strings"))?,
                );
            }
            Some(all)
        }
        Some(_) => return Err(KeyError::InvalidKey("`key_ops` must be an array")),
    };
    if kty != "OKP" || crv != Some("Ed25519") {
        return Ok(Entry::Skipped);
    }
    if use_.is_some_and(|u| u != "sig") || key_ops.is_some_and(|ops| !ops.contains(&"verify")) {
        return Ok(Entry::Skipped);
    }
    let alg = match alg {
        None => None,
        Some(a) => match KeyAlg::parse(a) {
            Some(a) => Some(a),
            None => return Ok(Entry::Skipped),
        },
    };
    let x = opt_str(obj, "x")?.ok_or(KeyError::InvalidKey("the Ed25519 JWK has no `x`"))?;
    let bytes: [u8; 32] = b64::decode_array(x)
        .map_err(|_| KeyError::InvalidKey("`x` is not 32 bytes of canonical base64url"))?;
    let key = sig::validate_public_key(&bytes).ok_or(KeyError::InvalidKey(
        "`x` is not a valid Ed25519 point or has small order",
    ))?;
    Ok(Entry::Usable(Jwk {
        kid: kid.map(Arc::from),
        alg,
        key,
    }))
}

impl Jwk {
    /// Builds a JWK from a validated public key.
    pub(crate) fn from_public_key(key: PublicKey, kid: Option<String>) -> Self {
        Self {
            kid: kid.map(Arc::from),
            alg: Some(KeyAlg::EdDsa),
            key,
        }
    }

    /// Parses and validates one JWK. Anything but a usable `OKP`/`Ed25519` verification
    /// key is an `invalid_key` error.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyError> {
        let obj = json::parse_object(bytes, JWKS_MAX_DEPTH)
            .map_err(|_| KeyError::InvalidKey("not a JSON object"))?;
        match parse_entry(&obj)? {
            Entry::Usable(k) => Ok(k),
            Entry::Skipped => Err(KeyError::InvalidKey(
                "not an OKP/Ed25519 key usable for signature verification",
            )),
        }
    }

    /// The key id, if the JWK has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The validated public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// The raw 32-byte public key.
    pub fn public_key_bytes(&self) -> [u8; 32] {
        *self.key.as_bytes()
    }

    /// The `x` member: the public key as base64url.
    pub fn x(&self) -> String {
        b64::encode(self.key.as_bytes())
    }

    /// Checks a raw Ed25519 signature over `message` with this key (the same path token
    /// verification takes: the strict encoding, then the Rust backend). Any length other
    /// than 64 bytes is simply a failed check.
    pub fn verify_signature(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_signature_with(message, signature, &sig::RustBackend)
    }

    /// [`Jwk::verify_signature`] with the signature equation computed by `backend` (a
    /// native primitive), asked only once the strict encoding passed.
    pub fn verify_signature_with(
        &self,
        message: &[u8],
        signature: &[u8],
        backend: &impl sig::Ed25519Verify,
    ) -> bool {
        let Ok(sig) = <[u8; sig::SIGNATURE_LEN]>::try_from(signature) else {
            return false;
        };
        sig::strict::signature_encoding_ok(&sig) && backend.verify(&self.key, message, &sig)
    }

    /// The RFC 7638 JWK SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> String {
        thumbprint_of(&self.key)
    }

    /// The public JWK as a JSON object (`kty`, `crv`, `x`, and `kid`, `alg`, `use` when known).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("kty".into(), "OKP".into());
        m.insert("crv".into(), "Ed25519".into());
        m.insert("x".into(), self.x().into());
        if let Some(kid) = &self.kid {
            m.insert("kid".into(), (**kid).into());
        }
        if let Some(alg) = self.alg {
            m.insert("alg".into(), alg.as_str().into());
        }
        m.insert("use".into(), "sig".into());
        Value::Object(m)
    }
}

/// RFC 7638: SHA-256 over `{"crv":"Ed25519","kty":"OKP","x":"..."}`, base64url.
pub(crate) fn thumbprint_of(key: &PublicKey) -> String {
    let mut h = Sha256::new();
    h.update(br#"{"crv":"Ed25519","kty":"OKP","x":""#);
    h.update(b64::encode(key.as_bytes()).as_bytes());
    h.update(br#""}"#);
    b64::encode(&h.finalize())
}

/// A validated set of Ed25519 verification keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Jwks {
    keys: Vec<Jwk>,
    fingerprint: [u8; 32],
}

/// SHA-256 over every key's `kid`, `alg` and public key, in order, length-prefixed: two
/// sets verify the same tokens exactly when their fingerprints are equal.
fn fingerprint_of(keys: &[Jwk]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for k in keys {
        let kid = k.kid.as_deref().unwrap_or_default();
        h.update((kid.len() as u64).to_le_bytes());
        h.update(kid.as_bytes());
        h.update([match k.alg {
            None => 0u8,
            Some(KeyAlg::EdDsa) => 1,
            Some(KeyAlg::Ed25519) => 2,
        }]);
        h.update(k.key.as_bytes());
    }
    h.finalize().into()
}

impl Jwks {
    /// Builds a set from keys already validated (e.g. derived from signing keys).
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        let fingerprint = fingerprint_of(&keys);
        Self { keys, fingerprint }
    }

    /// The set's fingerprint (see [`TokenCache`](crate::jose::TokenCache)): equal exactly
    /// when two sets hold the same keys with the same `kid`s and `alg`s, in order.
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Parses and validates a JWKS document (`{"keys":[...]}`).
    ///
    /// * at most [`MAX_JWKS_BYTES`] bytes and [`MAX_JWKS_KEYS`] entries, strict JSON;
    /// * keys of other types, curves or uses are skipped, never used;
    /// * every Ed25519 key is validated; a weak or malformed one fails the whole set;
    /// * a key carrying `d` (private material) fails the whole set;
    /// * two entries with the same `kid` fail the set;
    /// * a set with no usable Ed25519 key is refused.
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(KeyError::InvalidJwks("the JWKS is larger than 64 KiB"));
        }
        let doc = json::parse_object(bytes, JWKS_MAX_DEPTH)
            .map_err(|e| KeyError::InvalidJwks(e.reason()))?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(KeyError::InvalidJwks("`keys` must be an array"));
        };
        if entries.len() > MAX_JWKS_KEYS {
            return Err(KeyError::InvalidJwks("the JWKS lists more than 64 keys"));
        }
        let mut kids: Vec<&str> = Vec::new();
        let mut keys = Vec::new();
        for entry in entries {
            let Value::Object(obj) = entry else {
                return Err(KeyError::InvalidJwks(
                    "every entry of `keys` must be an object",
                ));
            };
            if let Some(kid) = opt_str(obj, "kid")? {
                if kids.contains(&kid) {
                    return Err(KeyError::InvalidJwks("duplicate `kid`"));
                }
                kids.push(kid);
            }
            if let Entry::Usable(k) = parse_entry(obj)? {
                keys.push(k);
            }
        }
        if keys.is_empty() {
            return Err(KeyError::InvalidJwks(
                "no usable OKP/Ed25519 verification key",
            ));
        }
        Ok(Self::from_keys(keys))
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Selects the key for a token: by `kid` when the token names one; without a `kid`
    /// only a set of exactly one key has an answer.
    pub fn select(&self, kid: Option<&str>) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }

    /// The set as a JWKS JSON value.
    pub fn to_value(&self) -> Value {
        let keys = self.keys.iter().map(Jwk::to_value).collect();
        let mut m = Map::new();
        m.insert("keys".into(), Value::Array(keys));
        Value::Object(m)
    }

    /// The set as JWKS JSON text (`{"keys":[...]}`), as served at `/_torii/.well-known/jwks.json`.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }
}
