//! The edge's decisions, sans-I/O, in the order a request meets them:
//!
//! * which tenant it is for ([`tenancy`]), the gateway's configuration ([`config`]) and
//!   which external issuers a tenant trusts ([`issuers`]), with the strict URL parser of
//!   that configuration ([`url`]);
//! * which of the edge's handlers it goes to ([`dispatch`]), the path the gateway matches
//!   ([`path`]), the route it falls under and whether its claims pass ([`routing`]);
//! * where its token comes from ([`extract`]) and which policy verifies it ([`authn`]);
//! * what the origin receives ([`headers`]) and may trust ([`assertion`]);
//! * the replies every route builds ([`reply`]) and the public documents ([`well_known`],
//!   `discovery`); the dashboard's paths and headers ([`dashboard`]);
//! * how much load a client may cause ([`ratelimit`]) and the bounded isolate caches
//!   ([`lru`]).
//!
//! The Worker (`src/worker/`) only carries these decisions to and from the network.

pub mod assertion;
pub mod authn;
pub mod config;
pub mod dashboard;
pub(crate) mod discovery;
pub mod dispatch;
pub mod extract;
pub mod headers;
pub mod issuers;
pub mod lru;
pub mod path;
pub mod ratelimit;
pub mod reply;
pub mod routing;
pub mod tenancy;
pub mod url;
pub mod well_known;
