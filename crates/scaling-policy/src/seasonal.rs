//! The seasonal floor: demand that came at this time of day both yesterday and a week ago is
//! "known to come", so capacity is raised ahead of it instead of after it, and not lowered
//! below it.
//!
//! **The model.** For each lag (one day, seven days), the peak demand of the minutes
//! `[now - lag, now - lag + ahead)`; the expected peak is the *smaller* of the two, and there is
//! none unless both are known. Taking the smaller one is what makes it a floor rather than a
//! forecast: a spike that happened once (yesterday's flash crowd) is not repeated a week later
//! at the same minute, so it does not buy capacity today; a morning ramp that happens every
//! weekday (or a daily cycle) does.
//!
//! **Data.** The history is a [`Usage`] of any reach (the AWS layer fetches it every six hours,
//! a coarser period spread over its minutes; the simulator passes everything it has
//! published). A lag whose window has no known minute gives no floor. Missing history never
//! lowers anything: without a floor the rules are purely reactive.

use crate::time::{DAY_SECS, Timestamp};
use crate::usage::Usage;

/// The lags compared, in seconds: one day and one week.
pub const LAGS_SECS: [i64; 2] = [DAY_SECS, 7 * DAY_SECS];

/// The expected peak demand (units/s) of the `ahead_minutes` minutes from `now` (see the module
/// header), or `None` without history for both lags (or with `ahead_minutes` 0).
pub fn expected_peak(history: &Usage, now: Timestamp, ahead_minutes: u32) -> Option<f64> {
    if ahead_minutes == 0 {
        return None;
    }
    let mut expected: Option<f64> = None;
    for lag in LAGS_SECS {
        // The window that ends `ahead` minutes after `now - lag`, as `Usage::window` counts.
        let then = now
            .floor_minute()
            .plus_secs(-lag + 60 * i64::from(ahead_minutes));
        let peak = history
            .window(then, ahead_minutes, None)
            .filter_map(|(_, m)| m.demand())
            .fold(None, |acc: Option<f64>, d| {
                Some(acc.map_or(d, |a| a.max(d)))
            })?;
        expected = Some(expected.map_or(peak, |e| e.min(peak)));
    }
    expected
}

/// The history [`expected_peak`] reads for every `now` in `[from, from + valid_minutes)`:
/// `(start, end)` of one fetch covering both lags' windows. The AWS layer fetches it every
/// [`crate::cadence::HISTORY_REFRESH_MINUTES`] (six hours), which keeps the seasonal floor to a
/// few queries per metric a day, whatever the cadence of the runs.
pub fn history_range(
    from: Timestamp,
    ahead_minutes: u32,
    valid_minutes: u32,
) -> (Timestamp, Timestamp) {
    let start = from.floor_minute().plus_secs(-LAGS_SECS[1]);
    let end = from
        .floor_minute()
        .plus_secs(-LAGS_SECS[0] + 60 * i64::from(ahead_minutes + valid_minutes));
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::Minute;

    const NOW: i64 = 86_400 * 1_000 + 8 * 3_600 + 30; // 08:00:30 on some day

    /// Eight days of per-minute demand from `rate(minute_of_history)`.
    fn history(rate: impl Fn(i64) -> Option<f64>) -> Usage {
        let start = Timestamp::from_unix(NOW)
            .floor_minute()
            .plus_secs(-8 * DAY_SECS);
        Usage {
            start,
            minutes: (0..8 * 1440)
                .map(|i| rate(i).map_or(Minute::GAP, |r| Minute::known(r * 60.0, 0.0)))
                .collect(),
        }
    }

    #[test]
    fn a_daily_ramp_is_expected_and_a_one_off_spike_is_not() {
        let ramp_start = 8 * 3_600 + 20 * 60; // every day at 08:20, demand goes to 500
        let h = history(|i| {
            let secs = (i * 60 + 8 * 3_600).rem_euclid(DAY_SECS);
            let day = (i * 60 + 8 * 3_600) / DAY_SECS;
            Some(
                if day == 7 && (8 * 3_600 + 5 * 60..8 * 3_600 + 10 * 60).contains(&secs) {
                    5_000.0 // yesterday's spike at 08:05
                } else if (ramp_start..ramp_start + 3_600).contains(&secs) {
                    500.0
                } else {
                    100.0
                },
            )
        });
        let now = Timestamp::from_unix(NOW);
        assert_eq!(
            expected_peak(&h, now, 30),
            Some(500.0),
            "ramp at 08:20 within 30 min"
        );
        assert_eq!(
            expected_peak(&h, now, 15),
            Some(100.0),
            "ramp not within 15 min; spike once"
        );
        assert_eq!(expected_peak(&h, now, 0), None);
    }

    #[test]
    fn both_lags_are_needed() {
        let now = Timestamp::from_unix(NOW);
        // Only the last two days exist: no week-old data.
        let h = history(|i| (i >= 6 * 1440).then_some(200.0));
        assert_eq!(expected_peak(&h, now, 30), None);
        let h = history(|_| Some(200.0));
        assert_eq!(expected_peak(&h, now, 30), Some(200.0));
        assert_eq!(expected_peak(&Usage::empty(now), now, 30), None);
    }

    #[test]
    fn the_history_range_covers_every_lag_window_for_its_validity() {
        let from = Timestamp::from_unix(NOW);
        let valid = crate::cadence::HISTORY_REFRESH_MINUTES;
        let (start, end) = history_range(from, 60, valid);
        for lag in LAGS_SECS {
            for offset in [0, i64::from(valid) * 60 - 1] {
                let now = from.plus_secs(offset);
                let first = now.floor_minute().plus_secs(-lag);
                let last = first.plus_secs(60 * 59);
                assert!(first >= start && last < end, "lag {lag}, {offset} s in");
            }
        }
        assert_eq!(
            end.secs_since(start),
            6 * DAY_SECS + i64::from(60 + valid) * 60
        );
    }
}
