//! Rate limits, sans-I/O: which key a request is counted under, and what it is answered
//! when a limit says no. The counting itself is the Workers Rate Limiting binding's (a
//! `[[ratelimits]]` entry in wrangler.toml: its `limit` and `period` are the
//! configuration); the Worker only calls it (`src/worker/ratelimit.rs`).
//!
//! * [`MINT_LIMIT`] (`MINT_LIMITER`): mints per session, keyed by the verified session
//!   token's tenant and `sid`, checked after the token verifies and before any D1 read;
//! * [`UNKNOWN_TENANT_LIMIT`] (`TENANT_LIMITER`): requests naming a tenant or custom
//!   domain the isolate does not know (each would cost a D1 read), keyed by the client
//!   address (`CF-Connecting-IP`; IPv6 by its /64), checked before that read.
//!
//! * [`API_LIMIT`] (`API_LIMITER`): Backend API (`/v1`) calls per secret key, keyed by the
//!   application and the key id (`api:<application>:<key id>`), checked once the key has
//!   authenticated and its scope allows the call, before the handler's D1 work.
//!
//! A binding that is not configured limits nothing (the Worker logs that once per
//! isolate); a binding that fails also lets the request through (logged): the limits
//! shed load, they never decide who is authenticated.
//!
//! [`RateLimit`] is the one descriptor for any limit: a new one is a constant and a key
//! function.

use crate::edge::reply::Reply;
use crate::ErrorCode;
use alloc::format;
use alloc::string::{String, ToString};
use core::net::IpAddr;

/// The periods a Workers Rate Limiting binding supports, in seconds.
pub const SUPPORTED_PERIODS: [u32; 2] = [10, 60];
/// The `Retry-After` used when the period var is unset or not a supported period.
pub const DEFAULT_PERIOD_SECS: u32 = 60;
/// Key of the clients whose address is unknown (they share one budget).
pub const UNKNOWN_CLIENT: &str = "unknown";

/// One limit: the binding counting it, the prefix of its keys, the var holding its
/// period (the binding's own `simple.period` cannot be read at run time) and what the
/// 429 says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Name of the `[[ratelimits]]` binding.
    pub binding: &'static str,
    /// Prefix of every key counted by this limit.
    pub scope: &'static str,
    /// Var that must equal the binding's `simple.period` when it is not 60.
    pub period_var: &'static str,
    /// The 429's message.
    pub message: &'static str,
}

/// Mints per session (`POST /_torii/auth/session/token`).
pub const MINT_LIMIT: RateLimit = RateLimit {
    binding: "MINT_LIMITER",
    scope: "mint",
    period_var: "TORII_MINT_LIMIT_PERIOD_SECS",
    message: "too many token requests for this session",
};

/// Requests naming tenants (or custom domains) this isolate does not know, per client.
pub const UNKNOWN_TENANT_LIMIT: RateLimit = RateLimit {
    binding: "TENANT_LIMITER",
    scope: "tenant-miss",
    period_var: "TORII_TENANT_LIMIT_PERIOD_SECS",
    message: "too many requests for unknown tenants from this address",
};

/// Backend API calls per secret key (`/v1`, after authentication).
pub const API_LIMIT: RateLimit = RateLimit {
    binding: "API_LIMITER",
    scope: "api",
    period_var: "TORII_API_LIMIT_PERIOD_SECS",
    message: "too many Backend API requests for this secret key",
};

/// What the binding said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitOutcome {
    /// Under the limit (`{ success: true }`).
    Allowed,
    /// Over the limit (`{ success: false }`).
    Limited,
    /// The binding is not configured: nothing is limited.
    Unconfigured,
    /// The binding threw or answered something else: the request goes through.
    Failed,
}

impl RateLimit {
    /// The key `subject` is counted under: `<scope>:<subject>`.
    pub fn key(&self, subject: &str) -> String {
        format!("{}:{subject}", self.scope)
    }

    /// `Retry-After` in seconds: the period var when it is a supported period, else 60.
    pub fn period_secs(&self, var: Option<&str>) -> u32 {
        var.and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|p| SUPPORTED_PERIODS.contains(p))
            .unwrap_or(DEFAULT_PERIOD_SECS)
    }

    /// The decision for `outcome`: `Err` is the 429 to send (with `Retry-After`).
    pub fn decide(&self, outcome: LimitOutcome, period_var: Option<&str>) -> Result<(), Reply> {
        match outcome {
            LimitOutcome::Limited => Err(rate_limited(self.period_secs(period_var), self.message)),
            LimitOutcome::Allowed | LimitOutcome::Unconfigured | LimitOutcome::Failed => Ok(()),
        }
    }
}

/// 429 `rate_limited` with `Retry-After: <retry_after_secs>`, never cached.
pub fn rate_limited(retry_after_secs: u32, message: &str) -> Reply {
    let mut reply = Reply::from_code(ErrorCode::RateLimited, message);
    reply
        .headers
        .push(("retry-after", retry_after_secs.to_string()));
    reply
}

/// The mint limit's key: the verified session token's tenant and session id.
pub fn mint_key(tenant: &str, sid: &str) -> String {
    MINT_LIMIT.key(&format!("{tenant}:{sid}"))
}

/// The Backend API limit's key: the application and the authenticated key's id (never
/// the secret).
pub fn api_key(application: &str, key_id: &str) -> String {
    API_LIMIT.key(&format!("{application}:{key_id}"))
}

/// The client a request is counted as, from `CF-Connecting-IP` (set by Cloudflare, never
/// by the client): an IPv4 address as is, an IPv6 address by its /64 (one subscriber's
/// prefix, so rotating addresses within it does not multiply the budget), in canonical
/// form. Absent or unparsable: [`UNKNOWN_CLIENT`], one shared budget.
pub fn client_subject(cf_connecting_ip: Option<&str>) -> String {
    let Some(ip) = cf_connecting_ip.and_then(|v| v.trim().parse::<IpAddr>().ok()) else {
        return UNKNOWN_CLIENT.to_string();
    };
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The unknown-tenant limit's key for a request from `cf_connecting_ip`.
pub fn unknown_tenant_key(cf_connecting_ip: Option<&str>) -> String {
    UNKNOWN_TENANT_LIMIT.key(&client_subject(cf_connecting_ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_keys_name_the_tenant_and_the_session() {
        assert_eq!(mint_key("demo", "sess_1"), "mint:demo:sess_1");
        assert_ne!(mint_key("demo", "sess_1"), mint_key("demo", "sess_2"));
        assert_ne!(mint_key("demo", "sess_1"), mint_key("acme", "sess_1"));
    }

    #[test]
    fn api_keys_name_the_application_and_the_key_id() {
        assert_eq!(api_key("demo", "TtGOFquRGe3I"), "api:demo:TtGOFquRGe3I");
        assert_ne!(api_key("demo", "k1"), api_key("demo", "k2"));
        assert_ne!(api_key("demo", "k1"), api_key("other", "k1"));
        assert_ne!(api_key("demo", "k1"), mint_key("demo", "k1"));
        let reply = API_LIMIT
            .decide(LimitOutcome::Limited, Some("10"))
            .unwrap_err();
        assert_eq!(reply.status, 429);
        assert_eq!(reply.code().as_deref(), Some("rate_limited"));
        assert_eq!(reply.header("retry-after"), Some("10"));
        for outcome in [
            LimitOutcome::Allowed,
            LimitOutcome::Unconfigured,
            LimitOutcome::Failed,
        ] {
            assert!(API_LIMIT.decide(outcome, None).is_ok(), "{outcome:?}");
        }
    }

    #[test]
    fn client_keys_are_canonical_addresses_and_ipv6_prefixes() {
        assert_eq!(
            unknown_tenant_key(Some("203.0.113.7")),
            "tenant-miss:203.0.113.7"
        );
        assert_eq!(client_subject(Some(" 203.0.113.7 ")), "203.0.113.7");
        // One /64: every address in it is one client.
        let a = client_subject(Some("2001:db8:1:2:aaaa::1"));
        let b = client_subject(Some("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, b);
        assert_ne!(a, client_subject(Some("2001:db8:1:3::1")));
        assert_eq!(client_subject(Some("::ffff:198.51.100.1")), "198.51.100.1");
        assert_eq!(client_subject(Some("::1")), "0:0:0:0::/64");
        // Absent or not an address: one shared budget (never the raw header).
        for bad in [None, Some(""), Some("evil, 1.2.3.4"), Some("1.2.3.4:80")] {
            assert_eq!(client_subject(bad), UNKNOWN_CLIENT, "{bad:?}");
        }
        assert_eq!(unknown_tenant_key(None), "tenant-miss:unknown");
    }

    #[test]
    fn only_limited_requests_get_429_with_retry_after_the_period() {
        for outcome in [
            LimitOutcome::Allowed,
            LimitOutcome::Unconfigured,
            LimitOutcome::Failed,
        ] {
            assert!(MINT_LIMIT.decide(outcome, None).is_ok(), "{outcome:?}");
        }
        let reply = MINT_LIMIT.decide(LimitOutcome::Limited, None).unwrap_err();
        assert_eq!(reply.status, 429);
        assert_eq!(reply.code().as_deref(), Some("rate_limited"));
        assert_eq!(reply.header("retry-after"), Some("60"));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let reply = UNKNOWN_TENANT_LIMIT
            .decide(LimitOutcome::Limited, Some(" 10 "))
            .unwrap_err();
        assert_eq!(reply.header("retry-after"), Some("10"));
        assert!(reply.body.unwrap().contains("unknown tenants"));
    }

    #[test]
    fn the_period_is_one_the_binding_supports() {
        assert_eq!(MINT_LIMIT.period_secs(Some("10")), 10);
        assert_eq!(MINT_LIMIT.period_secs(Some("60")), 60);
        for other in [None, Some("30"), Some("-10"), Some("soon"), Some("")] {
            assert_eq!(
                MINT_LIMIT.period_secs(other),
                DEFAULT_PERIOD_SECS,
                "{other:?}"
            );
        }
    }

    #[test]
    fn limits_have_distinct_bindings_and_scopes() {
        let all = [MINT_LIMIT, UNKNOWN_TENANT_LIMIT, API_LIMIT];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.binding, b.binding);
                assert_ne!(a.scope, b.scope);
                assert_ne!(a.period_var, b.period_var);
            }
        }
        assert_eq!(MINT_LIMIT.key("x"), "mint:x");
    }
}
