//! Time as data: the policy never reads a clock, callers pass `now`.
//!
//! A [`Timestamp`] is shown as RFC 3339 in UTC (`2026-11-29T10:18:00Z`) and read back from any
//! RFC 3339 date-time ([`Timestamp::parse_rfc3339`]: an offset or `Z`, fractions of a second
//! dropped), so that announced times (boosts) travel as text in tags and JSON. Written here, a
//! few lines next to the formatter, rather than pulling a date crate into the pure core.

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

impl Timestamp {
    /// Reads an RFC 3339 date-time (`2026-12-01T13:45:00Z`, `2026-12-01t14:45:00.250+01:00`):
    /// the instant it names, fractions of a second dropped (toward the past). `None` for
    /// anything else, including impossible dates (`2026-02-30`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        let digits = |from: usize, len: usize| -> Option<i64> {
            let part = b.get(from..from + len)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0_i64, |n, d| n * 10 + i64::from(d - b'0')))
        };
        let at = |i: usize, c: u8| b.get(i) == Some(&c);
        if !(at(4, b'-') && at(7, b'-') && (at(10, b'T') || at(10, b't')))
            || !(at(13, b':') && at(16, b':'))
        {
            return None;
        }
        let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
        let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        if at(i, b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let offset = match b.get(i)? {
            b'Z' | b'z' if b.len() == i + 1 => 0,
            sign @ (b'+' | b'-') if b.len() == i + 6 && at(i + 3, b':') => {
                let (h, m) = (digits(i + 1, 2)?, digits(i + 4, 2)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let secs = h * 3600 + m * 60;
                if *sign == b'+' { secs } else { -secs }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        Some(Self(
            days * DAY_SECS + hour * 3600 + minute * 60 + second - offset,
        ))
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

/// Day number (days since 1970-01-01) of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, the inverse of [`civil_from_days`]).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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
    fn parses_what_it_formats_and_other_rfc3339_forms() {
        for secs in [0, 951_782_400, 1_796_206_680, -86_401, 253_402_300_799] {
            let t = Timestamp::from_unix(secs);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t), "{t}");
        }
        let t = |s| Timestamp::parse_rfc3339(s).map(Timestamp::unix);
        assert_eq!(t("2026-12-02T11:18:00+01:00"), Some(1_796_206_680));
        assert_eq!(t("2026-12-02t09:48:00.999-00:30"), Some(1_796_206_680));
        assert_eq!(t("2026-12-02T10:17:59.5z"), Some(1_796_206_679));
        assert_eq!(t("2000-02-29T00:00:00Z"), Some(951_782_400));
        for bad in [
            "",
            "2026-12-02",
            "2026-12-02T10:18:00",
            "2026-12-02 10:18:00Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T10:18:00.Z",
            "2026-12-02T10:18:00+0100",
            "2026-12-02T10:18:00Z ",
            "+026-12-02T10:18:00Z",
        ] {
            assert_eq!(t(bad), None, "{bad:?}");
        }
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
