//! A look-back window of datapoints summarised for the rules: its peak demand, how many of its
//! minutes are known, its throttle events by cause, and how fast its demand is rising.
//!
//! **Known minutes.** Scale-up counts a minute as known when it has any datapoint (a throttle
//! datapoint alone proves demand); scale-down only when it has a consumed datapoint, since a
//! decrease needs to know how much was used. A minute that is not known but reports throttle
//! events still counts those as demand (a lower bound): missing consumption is not zero demand.
//!
//! **Settled minutes.** Throttle events of minutes that started before the last increase took
//! effect (`settled_from`) were refused at the old capacity and are already answered by that
//! increase: they are counted in `throttle_events` but not in `settled_capacity_events`, which
//! is what makes scale-up fire. Their demand still counts: it was measured.
//!
//! **Growth.** [`growth`] reads the twelve minutes up to the newest one that has a datapoint
//! (the newest ones are not published yet) as four blocks of three, newest first. Demand is
//! growing when the newest minute is a new high over the three before it (the jump it just
//! made) *and* the newest six minutes are above the six before them (it is not a single noisy
//! minute): the smaller of the two rises, per minute, is extrapolated over the horizon
//! (the time a new capacity takes to be in force and be checked again) and capped. A jump is
//! treated as the start of more: measured on the shared traces, the minutes after a jump are
//! where nearly all throttling happens, and a second jump is more likely right after a first.

use crate::time::Timestamp;
use crate::usage::{Minute, Usage};

/// Minutes of history [`growth`] compares: four blocks of three.
pub const GROWTH_MINUTES: u32 = 12;

/// Newest minutes [`growth`] skips while they have no datapoint yet (CloudWatch publishes a
/// minute one to three minutes after it ends).
pub const PUBLICATION_SLACK_MINUTES: u32 = 5;

/// A window of one dimension's datapoints, summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSummary {
    /// Minutes in the window.
    pub minutes: u32,
    /// Minutes of the window with data (see the module header for which count).
    pub known: u32,
    /// Highest demand, units/s.
    pub peak_demand: Option<f64>,
    /// Highest consumption, units/s.
    pub peak_consumed: Option<f64>,
    /// Every throttle event of the window, whatever its cause.
    pub throttle_events: f64,
    /// Events that more capacity would have served, in settled minutes only.
    pub settled_capacity_events: f64,
    /// Events more table capacity would not have served (key-range, account limits).
    pub key_range_events: f64,
}

/// Which minutes count as known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Any datapoint (scale-up).
    AnyDatapoint,
    /// A consumed datapoint (scale-down).
    Consumed,
}

impl WindowSummary {
    /// Summarises the `minutes` complete minutes before `now`'s minute; throttle events count
    /// as settled only in minutes starting at or after `settled_from`.
    pub fn of(
        usage: &Usage,
        now: Timestamp,
        minutes: u32,
        settled_from: Option<Timestamp>,
        known: Known,
    ) -> Self {
        let mut w = WindowSummary {
            minutes,
            known: 0,
            peak_demand: None,
            peak_consumed: None,
            throttle_events: 0.0,
            settled_capacity_events: 0.0,
            key_range_events: 0.0,
        };
        let max = |acc: Option<f64>, v: f64| Some(acc.map_or(v, |a: f64| a.max(v)));
        for (t, m) in usage.window(now, minutes, None) {
            let Some(demand) = m.demand() else {
                continue;
            };
            w.throttle_events += m.throttled.unwrap_or(0.0).max(0.0);
            w.key_range_events += m.uncurable_throttled();
            if settled_from.is_none_or(|s| t >= s) {
                w.settled_capacity_events += m.capacity_throttled();
            }
            let is_known = match known {
                Known::AnyDatapoint => true,
                Known::Consumed => m.consumed.is_some(),
            };
            if !is_known {
                // Throttle events of a minute without consumption: a lower bound of demand.
                if m.capacity_throttled() > 0.0 {
                    w.peak_demand = max(w.peak_demand, demand);
                }
                continue;
            }
            let consumed = m.consumed.unwrap_or(0.0).max(0.0) / 60.0;
            w.known += 1;
            w.peak_demand = max(w.peak_demand, demand);
            w.peak_consumed = max(w.peak_consumed, consumed);
        }
        w
    }
}

/// How much demand is expected to grow over `horizon` minutes, from the trend of the
/// [`GROWTH_MINUTES`] minutes up to the newest one with a datapoint among the last
/// `GROWTH_MINUTES + PUBLICATION_SLACK_MINUTES` complete minutes before `now` (see the module
/// header): a factor in `1..=cap`, 1 when demand is not rising or any block of three minutes
/// has no datapoint.
pub fn growth(usage: &Usage, now: Timestamp, horizon: u32, cap: f64) -> f64 {
    if horizon == 0 || cap.is_nan() || cap <= 1.0 {
        return 1.0;
    }
    // Newest first, from the newest minute with data (the newest minutes are usually not
    // published yet): blocks[0] is the newest three minutes.
    let reach = GROWTH_MINUTES + PUBLICATION_SLACK_MINUTES;
    let mut by_minute = vec![Minute::GAP; reach as usize];
    let end = now.floor_minute();
    for (t, m) in usage.window(now, reach, None) {
        let back = end.secs_since(t) / 60 - 1;
        if let Some(slot) = usize::try_from(back)
            .ok()
            .and_then(|b| by_minute.get_mut(b))
        {
            *slot = m;
        }
    }
    let Some(newest) = by_minute.iter().position(|m| m.demand().is_some()) else {
        return 1.0;
    };
    let minutes: Vec<Minute> = by_minute
        .into_iter()
        .skip(newest)
        .chain(std::iter::repeat(Minute::GAP))
        .take(GROWTH_MINUTES as usize)
        .collect();
    let mean = |from: usize, to: usize| {
        let known: Vec<f64> = minutes[from..to]
            .iter()
            .filter_map(Minute::demand)
            .collect();
        (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
    };
    let blocks = [mean(0, 3), mean(3, 6), mean(6, 9), mean(9, 12)];
    let [Some(b0), Some(b1), Some(b2), Some(b3)] = blocks else {
        return 1.0;
    };
    let before = minutes[1..4]
        .iter()
        .filter_map(Minute::demand)
        .fold(None, |acc: Option<f64>, d| {
            Some(acc.map_or(d, |a| a.max(d)))
        });
    let (Some(latest), Some(before)) = (minutes[0].demand(), before) else {
        return 1.0;
    };
    if before <= 0.0 || b2 + b3 <= 0.0 {
        return 1.0;
    }
    // Per minute: the jump the newest minute made over the highest of the three before it (a
    // new high, or no growth at all), and the rise of the newest six minutes over the six before
    // (their centres are six minutes apart). The smaller counts.
    let jump = latest / before;
    let rise = ((b0 + b1) / (b2 + b3)).powf(1.0 / 6.0);
    let per_minute = jump.min(rise);
    if per_minute.is_nan() || per_minute <= 1.0 {
        return 1.0;
    }
    per_minute.powf(f64::from(horizon)).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(now: Timestamp, rates: &[f64]) -> Usage {
        let start = now.floor_minute().plus_secs(-60 * rates.len() as i64);
        Usage {
            start,
            minutes: rates.iter().map(|r| Minute::known(r * 60.0, 0.0)).collect(),
        }
    }

    #[test]
    fn steady_or_falling_demand_does_not_grow() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        assert_eq!(growth(&series(now, &[100.0; 12]), now, 5, 1.5), 1.0);
        let falling: Vec<f64> = (0..12).map(|i| 200.0 - 10.0 * f64::from(i)).collect();
        assert_eq!(growth(&series(now, &falling), now, 5, 1.5), 1.0);
    }

    #[test]
    fn a_steady_rise_is_extrapolated_and_capped() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        // +2% a minute for 12 minutes.
        let rising: Vec<f64> = (0..12).map(|i| 100.0 * 1.02f64.powi(i)).collect();
        let g = growth(&series(now, &rising), now, 5, 1.5);
        assert!((g / 1.02f64.powi(5) - 1.0).abs() < 1e-3, "{g}");
        let steep: Vec<f64> = (0..12).map(|i| 100.0 * 1.2f64.powi(i)).collect();
        assert_eq!(growth(&series(now, &steep), now, 5, 1.5), 1.5);
        assert_eq!(
            growth(&series(now, &steep), now, 0, 1.5),
            1.0,
            "horizon 0: off"
        );
        assert_eq!(growth(&series(now, &steep), now, 5, 1.0), 1.0, "cap 1: off");
    }

    #[test]
    fn a_jump_counts_as_far_as_the_six_minute_rise_confirms_it() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        // One minute at 3x: the newest six are only a little above the six before.
        let mut flat = vec![100.0; 12];
        flat[11] = 300.0;
        let g = growth(&series(now, &flat), now, 6, 3.0);
        assert!((g - 800.0 / 600.0).abs() < 1e-9, "{g}");
        // After the jump, flat again: the newest minute is no longer above the block before.
        let step: Vec<f64> = (0..12).map(|i| if i < 6 { 50.0 } else { 95.0 }).collect();
        assert_eq!(growth(&series(now, &step), now, 5, 3.0), 1.0);
        // A minute that dropped back is no jump, whatever came before.
        let mut dropped = vec![100.0; 12];
        dropped[10] = 300.0;
        assert_eq!(growth(&series(now, &dropped), now, 5, 3.0), 1.0);
    }

    #[test]
    fn a_block_without_data_means_no_growth() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        let rising: Vec<f64> = (0..12).map(|i| 100.0 * 1.1f64.powi(i)).collect();
        let mut u = series(now, &rising);
        for m in &mut u.minutes[0..3] {
            *m = Minute::GAP;
        }
        assert_eq!(growth(&u, now, 5, 1.5), 1.0);
        let mut u = series(now, &rising);
        for m in &mut u.minutes[3..6] {
            *m = Minute::GAP;
        }
        assert_eq!(growth(&u, now, 5, 1.5), 1.0, "a gap block in the middle");
    }

    #[test]
    fn the_unpublished_newest_minutes_are_skipped() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        let rising: Vec<f64> = (0..12).map(|i| 100.0 * 1.02f64.powi(i)).collect();
        let mut u = series(now.plus_secs(-180), &rising);
        u.minutes.extend([Minute::GAP; 3]); // the last three minutes not published yet
        let g = growth(&u, now, 5, 1.5);
        assert!((g / 1.02f64.powi(5) - 1.0).abs() < 1e-3, "{g}");
        let empty = series(now, &[]);
        assert_eq!(growth(&empty, now, 5, 1.5), 1.0);
    }

    #[test]
    fn settled_minutes_decide_which_throttling_counts() {
        let now = Timestamp::from_unix(86_400 * 100 + 30);
        let mut u = series(now, &[50.0; 5]);
        u.minutes[1].throttled = Some(120.0);
        u.minutes[4].throttled = Some(60.0);
        let all = WindowSummary::of(&u, now, 5, None, Known::AnyDatapoint);
        assert_eq!(
            (all.throttle_events, all.settled_capacity_events),
            (180.0, 180.0)
        );
        let settled_from = Some(u.start.plus_secs(120));
        let w = WindowSummary::of(&u, now, 5, settled_from, Known::AnyDatapoint);
        assert_eq!(
            (w.throttle_events, w.settled_capacity_events),
            (180.0, 60.0)
        );
        assert_eq!(
            w.peak_demand,
            Some(52.0),
            "the unsettled minute's demand still counts"
        );
    }
}
