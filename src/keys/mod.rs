//! Key management: signing keys derived from the master secret ([`derive_signing_seed`]),
//! their rotation schedule ([`rotation`]), and the cache policy for remote key sets
//! ([`JwksCache`]).

mod derive;
pub(crate) mod jwks_cache;
pub mod rotation;

pub use derive::{derive_signing_seed, MIN_MASTER_SECRET_BYTES};
pub use jwks_cache::{
    max_age_from_cache_control, CacheConfig, FetchStep, JwksCache, Lookup, SharedFetch,
    FLIGHT_DEADLINE_MS, SECONDARY_TIMEOUT_MS,
};
