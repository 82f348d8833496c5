//! The edge's decisions, sans-I/O: which route a request falls under and whether its
//! claims pass ([`routing`]), what the origin receives ([`headers`]), where its token comes from ([`extract`]) and which
//! policy verifies it ([`authn`]), what the origin
//! may trust ([`assertion`]), the replies every route builds ([`reply`]) and the
//! public documents ([`well_known`], [`discovery`]). The Worker
//! (`src/worker/`) only carries these decisions to and from the network.

pub mod assertion;
pub mod authn;
pub(crate) mod discovery;
pub mod extract;
pub mod headers;
pub mod reply;
pub mod routing;
pub mod well_known;
