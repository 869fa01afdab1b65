//! The fake's own clock: the wall clock plus however far a test has moved it
//! with [`FakeAuthsignal::advance`](crate::FakeAuthsignal::advance).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

/// The wall clock shifted by an offset that only grows. Clones share the
/// offset, so the handle, the transports and the server see one time.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset_millis: Arc<AtomicI64>,
}

impl Clock {
    /// Milliseconds since the Unix epoch on the fake's clock.
    pub(crate) fn now_millis(&self) -> i64 {
        let wall = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(wall).unwrap_or(i64::MAX) + self.offset_millis.load(Ordering::SeqCst)
    }

    /// Moves the clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::SeqCst);
    }
}

/// Formats Unix milliseconds as RFC 3339 UTC, e.g. `2025-02-20T01:51:56.070Z`.
pub(crate) fn format_millis(millis: i64) -> String {
    // Always three fraction digits, as the real API writes them.
    let format = time::format_description::parse(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z",
    );
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000);
    match (format, at) {
        (Ok(format), Ok(at)) => at.format(&format).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Parses an RFC 3339 timestamp, or a bare `YYYY-MM-DD` date (midnight UTC),
/// into Unix milliseconds.
pub(crate) fn parse_datetime(input: &str) -> Option<i64> {
    let input = input.trim();
    let at = match OffsetDateTime::parse(input, &Rfc3339) {
        Ok(at) => at,
        Err(_) => time::Date::parse(input, &Iso8601::DATE)
            .ok()?
            .midnight()
            .assume_utc(),
    };
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_dates_read_as_midnight() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        let t = parse_datetime("2025-02-20T01:51:56.070Z").unwrap();
        assert_eq!(t, 1_740_016_316_070);
        assert_eq!(format_millis(t), "2025-02-20T01:51:56.070Z");
        assert_eq!(parse_datetime("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(
            parse_datetime("2025-02-20T03:51:56+02:00"),
            Some(1_740_016_316_000)
        );
        assert_eq!(parse_datetime("2023-02-29"), None);
        assert_eq!(parse_datetime("nonsense"), None);
        assert_eq!(parse_datetime("2025-02-20T01:51:56Zjunk"), None);
    }

    #[test]
    fn advance_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now_millis();
        clock.advance(Duration::from_secs(3600));
        assert!(other.now_millis() >= before + 3_600_000);
    }
}
