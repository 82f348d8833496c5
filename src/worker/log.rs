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
pub(crate) struct LogRecord<'a> {
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
    /// Absent only in the fast path's template (the entry module adds it last).
    #[serde(skip_serializing_if = "Option::is_none")]
    total_ms: Option<u64>,
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
        let total = whole_ms(js_sys::Date::now() - self.started_ms);
        if let Some(record) = self.record(Some(total)) {
            let line = serde_json::to_string(&record).unwrap_or_default();
            worker::console_log!("{}", line);
        }
    }

    /// The record to write (`None` when `TORII_LOG=off`); without `total_ms` it is the
    /// fast path's template, which the entry module completes with the origin's status,
    /// `origin_ms` and `total_ms` (in that order, as [`LogLine::emit`] writes them).
    pub(crate) fn record(&self, total_ms: Option<u64>) -> Option<LogRecord<'_>> {
        (!self.off).then(|| LogRecord {
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
            total_ms,
        })
    }
}
