//! Time as an argument: the core never reads a clock.

/// Seconds since the Unix epoch, as JWT `NumericDate`s count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// The current time from the system clock (only with the `std` feature, and not on
    /// `wasm32-unknown-unknown`, which has no clock: adapters pass `Date.now()` there).
    #[cfg(all(feature = "std", not(target_arch = "wasm32")))]
    pub fn now() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self(i64::try_from(secs).unwrap_or(i64::MAX))
    }
}
