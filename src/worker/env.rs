//! The Worker's vars and secrets, read one way everywhere: from the runtime's `env` once
//! per isolate, then from memory (reading a var crosses into JS several times and, for
//! an unset one, formats an error: a dozen reads per request showed in the profile).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// At most this many distinct names are remembered (the Worker reads about twenty).
const MAX_VARS: usize = 64;

/// The `env` object the values were read from, and each name read so far with its value
/// (`None`: unset).
type Read = (JsValue, Vec<(String, Option<String>)>);

std::thread_local! {
    /// What was read, from which `env`; another `env` object starts over.
    static VARS: RefCell<Option<Read>> = const { RefCell::new(None) };
}

/// The raw value of var (or secret) `name`, if set.
pub(crate) fn string_var(env: &Env, name: &str) -> Option<String> {
    let this: &JsValue = env.as_ref();
    let hit = VARS.with(|vars| {
        let vars = vars.try_borrow().ok()?;
        let (from, values) = vars.as_ref()?;
        if !js_sys::Object::is(from, this) {
            return None;
        }
        values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    });
    if let Some(value) = hit {
        return value;
    }
    let value = env.var(name).ok().map(|v| v.to_string());
    VARS.with(|vars| {
        let Ok(mut vars) = vars.try_borrow_mut() else {
            return;
        };
        match vars.as_mut() {
            Some((from, values)) if js_sys::Object::is(from, this) => {
                if values.len() < MAX_VARS {
                    values.push((name.to_string(), value.clone()));
                }
            }
            _ => *vars = Some((this.clone(), alloc::vec![(name.to_string(), value.clone())])),
        }
    });
    value
}
