//! Rate limits: calls a Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml)
//! for a key and applies the core's decision ([`crate::edge::ratelimit`]): which key,
//! and the 429, are the core's; this module only asks the binding.
//!
//! The binding is called through `Reflect` (`env[NAME].limit({ key })` → `{ success }`),
//! so a missing binding is seen as such (logged once per isolate, nothing limited) rather
//! than as a type error; a call that fails is logged and lets the request through.

use super::counters::{self, Counters};
use super::env::string_var;
use crate::edge::ratelimit::{LimitOutcome, RateLimit};
use crate::edge::reply::Reply;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::cell::RefCell;
use js_sys::{Function, Object, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::Env;

std::thread_local! {
    /// Bindings already reported missing by this isolate (a few static names: a list is
    /// smaller in the wasm than an ordered set).
    static REPORTED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Counts `key` against `limit`; `Err` is the 429 to send.
pub(crate) async fn check(env: &Env, limit: &RateLimit, key: &str) -> Result<(), Reply> {
    let outcome = call(env, limit.binding, key).await;
    match outcome {
        LimitOutcome::Unconfigured => report_missing(limit.binding),
        LimitOutcome::Failed => {
            worker::console_error!(
                "torii-edge: rate limiter {} failed: request not limited",
                limit.binding
            );
        }
        LimitOutcome::Allowed => counters::bump(|c: &Counters| &c.limiter_calls),
        LimitOutcome::Limited => {
            counters::bump(|c: &Counters| &c.limiter_calls);
            counters::bump(|c: &Counters| &c.rate_limited);
        }
    }
    limit.decide(outcome, string_var(env, limit.period_var).as_deref())
}

fn report_missing(binding: &'static str) {
    let first = REPORTED.with(|r| {
        r.try_borrow_mut().is_ok_and(|mut r| {
            let first = !r.contains(&binding);
            if first {
                r.push(binding);
            }
            first
        })
    });
    if first {
        worker::console_log!(
            "torii-edge: no rate limiter binding {} (wrangler.toml [[ratelimits]]): not limited",
            binding
        );
    }
}

async fn call(env: &Env, binding: &str, key: &str) -> LimitOutcome {
    let env: &JsValue = env.as_ref();
    let Ok(limiter) = Reflect::get(env, &JsValue::from_str(binding)) else {
        return LimitOutcome::Unconfigured;
    };
    if limiter.is_undefined() || limiter.is_null() {
        return LimitOutcome::Unconfigured;
    }
    let Some(limit) = Reflect::get(&limiter, &JsValue::from_str("limit"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return LimitOutcome::Failed;
    };
    let options = Object::new();
    if Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key)).is_err() {
        return LimitOutcome::Failed;
    }
    let Some(promise) = limit
        .call1(&limiter, &options)
        .ok()
        .and_then(|p| p.dyn_into::<Promise>().ok())
    else {
        return LimitOutcome::Failed;
    };
    let Ok(result) = worker::wasm_bindgen_futures::JsFuture::from(promise).await else {
        return LimitOutcome::Failed;
    };
    match Reflect::get(&result, &JsValue::from_str("success"))
        .ok()
        .and_then(|s| s.as_bool())
    {
        Some(true) => LimitOutcome::Allowed,
        Some(false) => LimitOutcome::Limited,
        None => LimitOutcome::Failed,
    }
}
