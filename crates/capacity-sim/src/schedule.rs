//! Scale-down schedules: the minutes of the UTC day at which the scale-down function runs.
//!
//! The deployment's `ScaleDownSchedule` is an EventBridge expression; the simulator needs only
//! the set of minutes of the UTC day it fires at, so that is what a [`ScaleDownSchedule`] holds:
//! `0..1440`, sorted, without repeats. The usual shapes have constructors: whole UTC hours
//! ([`ScaleDownSchedule::at_hours`], the CLI's `--scale-down-hours`) and a quota-paced "every N
//! minutes from midnight UTC" ([`ScaleDownSchedule::every`], `--scale-down-every`). A run is
//! *scheduled* at the start of its minute; when it actually starts is the model's business (late
//! runs, [`crate::ModelParams::late_runs_max_secs`]).

use scaling_policy::Timestamp;
use scaling_policy::time::DAY_SECS;
use serde::Serialize;

use crate::Error;

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
