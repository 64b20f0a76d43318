//! Scale-down schedules: the minutes of the UTC day at which the scale-down function runs.
//!
//! The deployment's `ScaleDownSchedule` is an EventBridge expression; the simulator needs only
//! the set of minutes of the UTC day it fires at, so that is what a [`ScaleDownSchedule`] holds:
//! `0..1440`, sorted, without repeats. The usual shapes have constructors: whole UTC hours
//! ([`ScaleDownSchedule::at_hours`], the CLI's `--scale-down-hours`) and a quota-paced "every N
//! minutes from midnight UTC" ([`ScaleDownSchedule::every`], `--scale-down-every`). A run is
//! *scheduled* at the start of its minute; when it actually starts is the model's business (late
//! runs, [`crate::ModelParams::late_runs_max_secs`]).
//!
//! **Choosing the times** ([`choose_daily_runs`]). With a few runs a day, the run times matter
//! more than any rule: each run sets the level until the next one. The proxy that ranks a set
//! of times is the cost of perfect foresight on it ([`crate::clairvoyant::optimal_on_schedule`]):
//! at each run capacity drops to what the next minute needs, then it is the running maximum of
//! the requirement until the next run. That cost is a sum over consecutive runs (`a`, `b`) of
//! segment costs from each day's `a` to its `b`, so every pair's total over the days is
//! computed once (O(1) per segment with the clairvoyant's running-maximum tables) and the best
//! cycle of `k` times through the candidates is a small dynamic programme: O(c^2 days) pair
//! costs and O(c^3 k) for the cycle, `c` candidates. Exact for the proxy as long as the quota
//! allows every run to decrease: up to 4 runs a day, or runs at least an hour apart (enforced
//! for more than 4). Several demand series (a whole account's tables) add their costs, each
//! weighted (by its price, say).

use scaling_policy::Timestamp;
use scaling_policy::quota::{DECREASE_INTERVAL_SECS, FREE_DECREASES};
use scaling_policy::time::DAY_SECS;
use serde::Serialize;

use crate::Error;
use crate::clairvoyant::Segments;

/// Minutes in a UTC day.
pub const DAY_MINUTES: u32 = 1440;

/// The minutes of the UTC day at which scale-down runs (default 00:00, 06:00, 12:00, 18:00, the
/// template's `cron(0 0,6,12,18 * * ? *)`). Serialized as the list of minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ScaleDownSchedule {
    minutes: Vec<u32>,
}

impl Default for ScaleDownSchedule {
    fn default() -> Self {
        Self {
            minutes: vec![0, 360, 720, 1080],
        }
    }
}

impl ScaleDownSchedule {
    /// A schedule that never runs.
    pub fn never() -> Self {
        Self {
            minutes: Vec::new(),
        }
    }

    /// Runs at the given minutes of the UTC day (any order, repeats ignored); an empty set
    /// never runs.
    pub fn at_minutes(minutes: impl IntoIterator<Item = u32>) -> Result<Self, Error> {
        let mut minutes: Vec<u32> = minutes.into_iter().collect();
        if let Some(m) = minutes.iter().find(|m| **m >= DAY_MINUTES) {
            return Err(Error::BadParam(format!(
                "scale-down minute {m} is not a minute of the UTC day (0-1439)"
            )));
        }
        minutes.sort_unstable();
        minutes.dedup();
        Ok(Self { minutes })
    }

    /// Runs at minute 0 of the given UTC hours.
    pub fn at_hours(hours: &[u32]) -> Result<Self, Error> {
        if let Some(h) = hours.iter().find(|h| **h > 23) {
            return Err(Error::BadParam(format!(
                "scale-down hour {h} is not a UTC hour 0-23"
            )));
        }
        Self::at_minutes(hours.iter().map(|h| h * 60))
    }

    /// Runs every `step` minutes from midnight UTC (`0, step, 2 step, ...` below 1440): 60 is
    /// hourly (`cron(0 * * * ? *)`), 15 is `cron(0/15 * * * ? *)`.
    pub fn every(step: u32) -> Result<Self, Error> {
        if !(1..=DAY_MINUTES).contains(&step) {
            return Err(Error::BadParam(format!(
                "a scale-down every {step} minutes: the step must be 1-1440 minutes"
            )));
        }
        Self::at_minutes((0..DAY_MINUTES).step_by(step as usize))
    }

    /// The minutes of the UTC day, sorted.
    pub fn minutes(&self) -> &[u32] {
        &self.minutes
    }

    /// Runs per day.
    pub fn runs_per_day(&self) -> usize {
        self.minutes.len()
    }

    /// Whether a run is scheduled at `t` (the start of one of the schedule's minutes).
    pub fn runs_at(&self, t: Timestamp) -> bool {
        let secs = t.unix().rem_euclid(DAY_SECS);
        secs % 60 == 0 && self.minutes.binary_search(&((secs / 60) as u32)).is_ok()
    }

    /// The step when the runs are evenly spaced from midnight (an `every` schedule of at least
    /// two runs a day), else `None`.
    pub fn step(&self) -> Option<u32> {
        let step = *self.minutes.get(1)?;
        (self.minutes[0] == 0
            && DAY_MINUTES.is_multiple_of(step)
            && self.minutes.len() as u32 == DAY_MINUTES / step
            && self.minutes.windows(2).all(|w| w[1] - w[0] == step))
        .then_some(step)
    }
}

impl std::fmt::Display for ScaleDownSchedule {
    /// `00:00, 06:00, 12:00, 18:00 UTC`, or `every 15 min UTC` for an evenly spaced schedule
    /// of more than four runs, `hourly UTC` for every 60 minutes, `never` when empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.step() {
            _ if self.minutes.is_empty() => write!(f, "never"),
            Some(60) => write!(f, "hourly UTC"),
            Some(step) if self.minutes.len() > 4 => write!(f, "every {step} min UTC"),
            _ => {
                let times: Vec<String> = self
                    .minutes
                    .iter()
                    .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
                    .collect();
                write!(f, "{} UTC", times.join(", "))
            }
        }
    }
}

/// One demand series for [`choose_daily_runs`].
#[derive(Clone, Copy, Debug)]
pub struct Requirement<'a> {
    /// Whole units each minute needs ([`crate::reference::required_units`]).
    pub units: &'a [u64],
    /// The absolute minute (minutes since the Unix epoch) of `units[0]`.
    pub first_minute: i64,
    /// What one unit-minute of this series weighs against the others' (its price; 1 for all
    /// alike).
    pub weight: f64,
}

/// The times [`choose_daily_runs`] chose, and the proxy's cost of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// The chosen runs.
    pub schedule: ScaleDownSchedule,
    /// Perfect foresight's cost on that schedule: weighted unit-minutes over all the series.
    pub cost: f64,
}

/// Unit-minutes of the segments from each day's run at `from` to the next run at `to` (the
/// next day's when `wrap`), clipped to the series.
fn pair_cost(
    seg: &Segments<'_>,
    r: &Requirement<'_>,
    lead: usize,
    from: u32,
    to: u32,
    wrap: bool,
) -> u64 {
    let day = i64::from(DAY_MINUTES);
    let len = r.units.len() as i64;
    let offset = lead as i64 - r.first_minute;
    let mut total = 0;
    let first_day = (r.first_minute - lead as i64).div_euclid(day) - 1;
    let last_day = (r.first_minute + len).div_euclid(day) + 1;
    for d in first_day..=last_day {
        let start = (d * day + i64::from(from) + offset).max(0);
        let end = ((d + i64::from(wrap)) * day + i64::from(to) + offset).min(len);
        if start < end {
            total += seg.cost(start as usize, end as usize);
        }
    }
    total
}

/// The `runs_per_day` times among `candidates` (minutes of the UTC day) at which perfect
/// foresight costs least over `series` (see the module documentation), for decreases in force
/// `lead` minutes after their run (the update delay). With more than 4 runs a day, consecutive
/// runs are at least an hour apart, so that the quota allows each to decrease.
pub fn choose_daily_runs(
    series: &[Requirement<'_>],
    runs_per_day: usize,
    candidates: &[u32],
    lead: usize,
) -> Result<Choice, Error> {
    let cand = ScaleDownSchedule::at_minutes(candidates.iter().copied())?.minutes;
    let c = cand.len();
    if runs_per_day == 0 || runs_per_day > c {
        return Err(Error::BadParam(format!(
            "cannot choose {runs_per_day} runs a day among {c} candidate times"
        )));
    }
    if series.iter().all(|r| r.units.is_empty()) {
        return Err(Error::BadParam(
            "no demand to choose the run times from".into(),
        ));
    }
    let spacing = if runs_per_day > FREE_DECREASES as usize {
        (DECREASE_INTERVAL_SECS / 60) as u32
    } else {
        0
    };
    // edge[a][b]: the weighted cost of the segments from run a to the next run b (the next
    // day's b when b <= a).
    let mut edge = vec![vec![0.0_f64; c]; c];
    for r in series.iter().filter(|r| !r.units.is_empty()) {
        let seg = Segments::new(r.units);
        for (a, row) in edge.iter_mut().enumerate() {
            for (b, e) in row.iter_mut().enumerate() {
                *e += r.weight * pair_cost(&seg, r, lead, cand[a], cand[b], b <= a) as f64;
            }
        }
    }
    let gap = |a: usize, b: usize| {
        if b > a {
            cand[b] - cand[a]
        } else {
            DAY_MINUTES + cand[b] - cand[a]
        }
    };
    let k = runs_per_day;
    let mut best: Option<(f64, Vec<usize>)> = None;
    // The cycle's earliest run f, then runs in increasing order back to f the next day.
    for f in 0..c {
        // cost[n][j]: cheapest path f -> ... -> j through n + 1 runs; from[n][j] its predecessor.
        let mut cost = vec![vec![f64::INFINITY; c]; k];
        let mut from = vec![vec![0usize; c]; k];
        cost[0][f] = 0.0;
        for n in 1..k {
            for j in f + 1..c {
                for i in f..j {
                    let v = cost[n - 1][i] + edge[i][j];
                    if gap(i, j) >= spacing && v < cost[n][j] {
                        cost[n][j] = v;
                        from[n][j] = i;
                    }
                }
            }
        }
        for j in f..c {
            if (j == f) != (k == 1) || gap(j, f) < spacing {
                continue;
            }
            let total = cost[k - 1][j] + edge[j][f];
            if total.is_finite() && best.as_ref().is_none_or(|(b, _)| total < *b) {
                let mut path = vec![j];
                for n in (1..k).rev() {
                    path.push(from[n][path[path.len() - 1]]);
                }
                best = Some((total, path));
            }
        }
    }
    let (cost, path) = best.ok_or_else(|| {
        Error::BadParam(format!(
            "no {runs_per_day} candidate times a day are an hour apart"
        ))
    })?;
    Ok(Choice {
        schedule: ScaleDownSchedule::at_minutes(path.into_iter().map(|i| cand[i]))?,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_names() {
        assert_eq!(
            ScaleDownSchedule::default().to_string(),
            "00:00, 06:00, 12:00, 18:00 UTC"
        );
        assert_eq!(
            ScaleDownSchedule::at_hours(&[18, 0, 6, 12, 6]).unwrap(),
            ScaleDownSchedule::default()
        );
        let hourly = ScaleDownSchedule::every(60).unwrap();
        assert_eq!(hourly.runs_per_day(), 24);
        assert_eq!(hourly.to_string(), "hourly UTC");
        assert_eq!(
            ScaleDownSchedule::every(15).unwrap().to_string(),
            "every 15 min UTC"
        );
        assert_eq!(ScaleDownSchedule::every(15).unwrap().runs_per_day(), 96);
        assert_eq!(
            ScaleDownSchedule::at_minutes([90, 1439])
                .unwrap()
                .to_string(),
            "01:30, 23:59 UTC"
        );
        assert_eq!(
            ScaleDownSchedule::at_minutes([]).unwrap().to_string(),
            "never"
        );
        assert!(ScaleDownSchedule::at_hours(&[24]).is_err());
        assert!(ScaleDownSchedule::at_minutes([1440]).is_err());
        assert!(ScaleDownSchedule::every(0).is_err());
    }

    #[test]
    fn runs_at_the_start_of_its_minutes_only() {
        let s = ScaleDownSchedule::at_minutes([0, 90]).unwrap();
        let day = 19_723 * DAY_SECS;
        assert!(s.runs_at(Timestamp::from_unix(day)));
        assert!(s.runs_at(Timestamp::from_unix(day + 90 * 60)));
        assert!(!s.runs_at(Timestamp::from_unix(day + 90 * 60 + 5)));
        assert!(!s.runs_at(Timestamp::from_unix(day + 60 * 60)));
        assert!(s.runs_at(Timestamp::from_unix(day - DAY_SECS + 90 * 60)));
    }
}
