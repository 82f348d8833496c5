//! The Worker's clock: `Date.now()`, plus, in dev builds (feature `dev`), the test offset
//! of the trusted-JWKS cache (`POST /_torii/dev/clock?advance=<secs>`).

use crate::UnixTime;
#[cfg(feature = "dev")]
use core::cell::Cell;

#[cfg(feature = "dev")]
std::thread_local! {
    /// Test-clock offset of the cache (dev mode only), in seconds.
    static CLOCK_OFFSET: Cell<i64> = const { Cell::new(0) };
}

/// Milliseconds since the epoch (`Date.now()`).
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Whole seconds of `Date.now()`.
pub(crate) fn now_secs() -> i64 {
    // f64 → i64 `as` saturates; Date.now() is a finite positive number of ms.
    #[allow(clippy::cast_possible_truncation)]
    let secs = (now_ms() / 1000.0).floor() as i64;
    secs
}

/// Moves the cache's clock forward (dev builds only).
#[cfg(feature = "dev")]
pub(crate) fn advance_clock(secs: i64) {
    CLOCK_OFFSET.with(|c| c.set(c.get().saturating_add(secs.clamp(0, 7 * 86_400))));
}

/// The dev-mode offset of the cache's clock, in seconds.
#[cfg(feature = "dev")]
pub(crate) fn clock_offset() -> i64 {
    CLOCK_OFFSET.with(Cell::get)
}

/// No test clock without the `dev` feature: the offset is always 0.
#[cfg(not(feature = "dev"))]
pub(crate) const fn clock_offset() -> i64 {
    0
}

/// The cache's clock: `Date.now()` plus the dev-mode offset.
pub(crate) fn cache_now() -> UnixTime {
    UnixTime(now_secs().saturating_add(clock_offset()))
}
