//! # torii-edge core
//!
//! A sans-I/O verifier and signer for EdDSA (Ed25519) JSON Web Tokens.
//!
//! The core takes bytes, keys and the current time as arguments: it never reads a
//! clock, touches the network or draws randomness. Adapters (the Cloudflare Worker in
//! `src/worker/`, the npm package in `src/js/`) do I/O and call into it.
//!
//! * Parsing returns an [`UntrustedToken`]; only [`Verifier::verify`] yields
//!   [`VerifiedClaims`], after the signature and every claim check passed.
//! * The key decides the algorithm: only `OKP`/`Ed25519` keys exist here, and a token's
//!   `alg` must be `EdDSA` or `Ed25519` and agree with the key's.
//! * Every error carries a stable snake_case [`code`](VerifyError::code), shared by Rust,
//!   JavaScript and HTTP responses.
//!
//! ```
//! use torii_edge::{Jwks, Policy, SigningKey, UnixTime, Verifier};
//!
//! let key = SigningKey::from_seed(&[7u8; 32]);
//! let now = UnixTime(1_700_000_000);
//! let mut claims = serde_json::Map::new();
//! claims.insert("iss".into(), "https://demo.torii.test".into());
//! claims.insert("sub".into(), "user_1".into());
//! claims.insert("exp".into(), (now.0 + 600).into());
//! let token = key.sign_jwt(Some("JWT"), &claims);
//!
//! let jwks = Jwks::from_keys(vec![key.public_jwk()]);
//! let verifier = Verifier::new(jwks, Policy::new("https://demo.torii.test"));
//! let verified = verifier.verify(&token, now).unwrap();
//! assert_eq!(verified.sub(), Some("user_1"));
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::panic_in_result_fn,
    clippy::todo,
    clippy::unimplemented,
    missing_docs
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod api;
pub mod crypto;
pub mod edge;
pub mod encoding;
mod error;
pub mod jose;
pub mod keys;
pub mod templates;
mod time;

pub use crypto::{Ed25519Verify, PublicKey, RustBackend};
pub use edge::discovery::discovery_document;
pub use edge::extract::bearer_token;
pub use encoding::{b64, json};
pub use error::{CodeGroup, ErrorCode, KeyError, VerifyError, ALL_CODES, ALL_GROUPS};
pub use jose::{
    Jwk, Jwks, Policy, SignatureCheck, SignatureMemo, SigningKey, TokenCache, TypPolicy,
    UntrustedToken, VerifiedClaims, Verifier, DEFAULT_CLAIMS_DEPTH, DEFAULT_MAX_TOKEN_LEN,
    DEFAULT_SKEW_SECS, MAX_CLAIMS_DEPTH, MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_SKEW_SECS,
};
pub use keys::{derive_signing_seed, max_age_from_cache_control, CacheConfig, JwksCache, Lookup};
pub use templates::engine::{preview, Template, TemplateError};
pub use templates::mint::{
    iso8601_utc, mint_session_token, mint_template_token, MintError, MintedToken, SessionInput,
    SESSION_TOKEN_TYP, TEMPLATE_NAME_CLAIM, TEMPLATE_TOKEN_TYP,
};
pub use templates::user::{MetadataBag, User, UserError};
pub use time::UnixTime;

/// Re-export of the JSON types claims are expressed in.
pub use serde_json::{Map, Value};

#[cfg(feature = "js")]
mod js;
#[cfg(feature = "worker")]
mod worker;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The Rust examples of docs/rust.md (verifying in Rust), run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/rust.md")]
struct RustDocDoctests;

/// The Rust examples of docs/templates.md (JWT templates and minting), run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/templates.md")]
struct TemplatesDocDoctests;
