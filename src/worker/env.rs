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

/// A slot for a value derived from the vars alone, with the `env` object it was derived
/// from (see [`once_per_env`]).
pub(crate) type PerEnv<T> = RefCell<Option<(JsValue, T)>>;

/// `derive()`'s value for this `env`, derived once per `env` object and kept in `slot`:
/// for what depends on the vars alone (the parsed gateway configuration, the tenancy
/// settings, the log switch), which [`string_var`] already reads once per `env` object.
/// A warm request then copies no var and parses nothing: one `Object.is` and a clone of
/// `T` (an `Rc` or a `Copy` value).
pub(crate) fn once_per_env<T: Clone>(
    slot: &'static std::thread::LocalKey<PerEnv<T>>,
    env: &Env,
    derive: impl FnOnce() -> T,
) -> T {
    let this: &JsValue = env.as_ref();
    let hit = slot.with(|s| {
        let s = s.try_borrow().ok()?;
        let (from, value) = s.as_ref()?;
        js_sys::Object::is(from, this).then(|| value.clone())
    });
    if let Some(value) = hit {
        return value;
    }
    let value = derive();
    slot.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some((this.clone(), value.clone()));
        }
    });
    value
}
