//! The Worker's vars and secrets, read one way everywhere.

use alloc::string::{String, ToString};
use worker::Env;

/// The raw value of var (or secret) `name`, if set.
pub(crate) fn string_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}
