//! The edge's decisions, sans-I/O: which tenant a request is for ([`tenancy`]), which
//! route it falls under and whether its claims pass ([`routing`]), where its token comes from ([`extract`]), what the origin
//! may trust ([`assertion`]), which external issuers it trusts ([`issuers`]), the
//! strict URL parser of its configuration ([`url`]), the replies every route builds
//! ([`reply`]) and the public documents ([`well_known`], [`discovery`]). The Worker
//! (`src/worker/`) only carries these decisions to and from the network.

pub mod assertion;
pub(crate) mod discovery;
pub mod extract;
pub mod issuers;
pub mod reply;
pub mod routing;
pub mod tenancy;
pub mod url;
pub mod well_known;
