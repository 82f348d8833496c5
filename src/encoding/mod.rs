//! Encodings every token part goes through: strict base64url ([`b64`]) and strict JSON
//! ([`json`]). One spelling per value: non-canonical base64url, duplicate JSON keys and
//! over-deep nesting are refused. Also lower-case [`hex`] (stored hashes, request ids).

pub mod b64;
pub mod hex;
pub mod json;
