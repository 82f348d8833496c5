//! The Worker's vars and secrets, read one way everywhere.

use alloc::string::{String, ToString};
use worker::Env;

/// The raw value of var (or secret) `name`, if set.
pub(crate) fn string_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string())
}

/// Whether the dev-mode helpers are on (`TORII_DEV_MODE=1`; never in a deployed config).
pub(crate) fn dev_mode(env: &Env) -> bool {
    string_var(env, "TORII_DEV_MODE").as_deref() == Some("1")
}
