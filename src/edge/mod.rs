//! The edge's decisions, sans-I/O: which route a request falls under and whether its
//! claims pass ([`routing`]), where its token comes from ([`extract`]), what the origin
//! may trust ([`assertion`]), and the discovery document ([`discovery`]). The Worker
//! (`src/worker/`) only carries these decisions to and from the network.

pub mod assertion;
pub(crate) mod discovery;
pub(crate) mod extract;
pub mod routing;
