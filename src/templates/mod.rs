//! JWT templates and minting: the template engine ([`engine`]), the [`user`] a token is
//! minted for, and the minter of session and template tokens ([`mint`]).

pub mod engine;
pub mod mint;
pub mod user;
