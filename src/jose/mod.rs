//! JOSE: compact tokens ([`UntrustedToken`]), keys ([`Jwk`], [`Jwks`]), the verification
//! [`Policy`], the [`Verifier`] (the one function that orders every check) and the
//! [`SigningKey`]. Only [`Verifier`] builds [`VerifiedClaims`].

mod cache;
pub(crate) mod claims;
pub(crate) mod jwk;
mod memo;
pub(crate) mod policy;
pub(crate) mod sign;
pub(crate) mod token;
pub(crate) mod verify;

pub use cache::{CacheKey, Ticket, TokenCache, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES};
pub use claims::VerifiedClaims;
pub use jwk::{Jwk, Jwks, MAX_JWKS_BYTES, MAX_JWKS_KEYS};
pub use memo::{SignatureMemo, DEFAULT_MEMO_ENTRIES};
pub use policy::{
    Policy, TypPolicy, DEFAULT_CLAIMS_DEPTH, DEFAULT_MAX_TOKEN_LEN, DEFAULT_SKEW_SECS,
    MAX_CLAIMS_DEPTH, MAX_SKEW_SECS,
};
pub use sign::{finish_jws, jwt_signing_input, SigningKey};
pub use token::UntrustedToken;
pub use verify::{SignatureCheck, Verifier};
