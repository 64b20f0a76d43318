//! Time as data: the policy never reads a clock, callers pass `now`.

use serde::{Deserialize, Serialize};

/// Seconds in one UTC day.
pub const DAY_SECS: i64 = 86_400;

/// A point in time: whole seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    pub const fn from_unix(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix(self) -> i64 {
        self.0
    }

    /// The UTC day number (days since the epoch) this instant falls in.
    pub const fn utc_day(self) -> i64 {
        self.0.div_euclid(DAY_SECS)
    }

    /// Midnight UTC at the start of this instant's day.
    pub const fn start_of_utc_day(self) -> Self {
        Self(self.utc_day() * DAY_SECS)
    }

    /// The start of the minute this instant falls in.
    pub const fn floor_minute(self) -> Self {
        Self(self.0.div_euclid(60) * 60)
    }

    /// This instant moved by `secs` seconds (negative moves back).
    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0 + secs)
    }

    /// Seconds from `earlier` to `self` (negative if `earlier` is later).
    pub const fn secs_since(self, earlier: Self) -> i64 {
        self.0 - earlier.0
    }
}

impl std::fmt::Display for Timestamp {
    /// RFC 3339 in UTC, e.g. `2026-11-29T10:18:00Z`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.utc_day();
        let secs = self.0 - days * DAY_SECS;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

/// Proleptic Gregorian date of a day number (Howard Hinnant's `civil_from_days`).
const fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(Timestamp::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix(1_796_206_680).to_string(),
            "2026-12-02T10:18:00Z"
        );
        assert_eq!(
            Timestamp::from_unix(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn day_and_minute_boundaries() {
        let t = Timestamp::from_unix(DAY_SECS * 3 + 3_725);
        assert_eq!(t.utc_day(), 3);
        assert_eq!(t.start_of_utc_day().unix(), DAY_SECS * 3);
        assert_eq!(t.floor_minute().unix(), DAY_SECS * 3 + 3_720);
        assert_eq!(Timestamp::from_unix(-1).utc_day(), -1);
    }
}
