//! The gateway's structured log line: one JSON object per request, built once, never
//! holding a token or a header value.

use alloc::string::{String, ToString};

/// One structured log line per request; never holds a token or a header value.
#[derive(Debug, Default)]
pub(crate) struct LogLine {
    pub(crate) request_id: String,
    pub(crate) tenant: Option<String>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) route: Option<String>,
    pub(crate) issuer: Option<&'static str>,
    pub(crate) decision: &'static str,
    pub(crate) status: u16,
    pub(crate) code: Option<String>,
    pub(crate) started_ms: f64,
    pub(crate) verify_ms: Option<f64>,
    pub(crate) origin_ms: Option<f64>,
    /// `TORII_LOG=off` silences the per-request line.
    pub(crate) off: bool,
}

/// The serialized form of [`LogLine`] (absent values omitted).
#[derive(serde::Serialize)]
struct LogRecord<'a> {
    msg: &'static str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
    method: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'static str>,
    decision: &'static str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin_ms: Option<u64>,
    total_ms: u64,
}

/// A duration in whole milliseconds (`Date.now()` differences are whole already; an
/// integer is written without the float formatter).
fn whole_ms(ms: f64) -> u64 {
    // f64 → u64 `as` saturates (negative and NaN become 0).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = ms.round() as u64;
    whole
}

impl LogLine {
    /// Writes the line (unless `TORII_LOG=off`).
    pub(crate) fn emit(&self) {
        if self.off {
            return;
        }
        let record = LogRecord {
            msg: "torii-edge gateway",
            request_id: &self.request_id,
            tenant: self.tenant.as_deref(),
            method: &self.method,
            path: &self.path,
            route: self.route.as_deref(),
            issuer: self.issuer,
            decision: self.decision,
            status: self.status,
            code: self.code.as_deref(),
            verify_ms: self.verify_ms.map(whole_ms),
            origin_ms: self.origin_ms.map(whole_ms),
            total_ms: whole_ms(js_sys::Date::now() - self.started_ms),
        };
        let line = serde_json::to_string(&record).unwrap_or_default();
        worker::console_log!("{}", line);
    }
}
