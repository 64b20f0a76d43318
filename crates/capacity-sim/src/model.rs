//! The one-minute simulator and the [`Policy`] trait every autoscaler implements.
//!
//! See the crate documentation for the order of events within a minute. A policy gets a
//! [`View`] holding only what a real autoscaler can know at that instant, and answers with the
//! capacity it wants (or nothing); the simulator plays DynamoDB: it refuses updates while one is
//! in flight and decreases the quota forbids, and applies the rest after the update delay.

use scaling_policy::{DecreaseBudget, Minute, Timestamp, Usage};
use serde::Serialize;

use crate::params::ModelParams;
use crate::trace::Trace;

/// Refused units below this are float noise, not throttling.
pub const EPSILON_UNITS: f64 = 1e-6;

/// The CloudWatch datapoints a policy can see: one per minute from the trace start up to the
/// newest published minute. Anything later, or before the start, is a gap.
#[derive(Clone, Copy, Debug)]
pub struct Metrics<'a> {
    start: Timestamp,
    points: &'a [Minute],
}

impl<'a> Metrics<'a> {
    /// Datapoints `points[i]` for minute `i` after `start`.
    pub fn new(start: Timestamp, points: &'a [Minute]) -> Self {
        Self { start, points }
    }

    /// Number of visible minutes: minutes `0..visible()` have been published.
    pub fn visible(&self) -> usize {
        self.points.len()
    }

    /// The datapoint of minute `i` (may be negative or in the future: then a gap).
    pub fn get(&self, i: i64) -> Minute {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.points.get(i))
            .copied()
            .unwrap_or(Minute::GAP)
    }

    /// Datapoints of minutes `from..to` (each may be a gap).
    pub fn range(&self, from: i64, to: i64) -> impl Iterator<Item = Minute> + '_ {
        (from..to).map(|i| self.get(i))
    }

    /// The `minutes` minutes before minute `now` as a [`Usage`], the shape `scaling-policy`
    /// reads (the AWS layer builds the same from `GetMetricData`).
    pub fn usage(&self, now: i64, minutes: u32) -> Usage {
        let from = now - i64::from(minutes);
        Usage {
            start: self.start.plus_secs(60 * from),
            minutes: self.range(from, now).collect(),
        }
    }
}

/// What a policy may look at when it decides, at the start of one minute.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// Start of the current minute (UTC).
    pub now: Timestamp,
    /// Index of the current minute in the trace.
    pub minute: usize,
    /// Capacity in force now.
    pub provisioned: u64,
    /// An `UpdateTable` is in flight (the table is `UPDATING`): any request is refused.
    pub updating: bool,
    /// The decrease quota state (`NumberOfDecreasesToday`, `LastDecreaseDateTime`).
    pub budget: DecreaseBudget,
    /// When capacity was last raised (`LastIncreaseDateTime`).
    pub last_increase: Option<Timestamp>,
    /// When capacity was last lowered (`LastDecreaseDateTime`).
    pub last_decrease: Option<Timestamp>,
    /// The published CloudWatch datapoints.
    pub metrics: Metrics<'a>,
    /// The model's parameters (schedules, bounds).
    pub params: &'a ModelParams,
}

impl View<'_> {
    /// The current minute as a signed index, for [`Metrics`] arithmetic.
    pub fn t(&self) -> i64 {
        self.minute as i64
    }

    /// Whether a scale-down run is scheduled at this minute (minute 0 of a scale-down hour).
    pub fn is_scale_down_time(&self) -> bool {
        let secs = self.now.unix().rem_euclid(scaling_policy::time::DAY_SECS);
        secs % 3600 == 0
            && self
                .params
                .scale_down_hours
                .contains(&((secs / 3600) as u32))
    }
}

/// An autoscaling policy for one dimension.
pub trait Policy {
    /// The name in reports.
    fn name(&self) -> String;

    /// Capacity in force at the start, when the policy sets its own (static schedules).
    fn initial_capacity(&self) -> Option<u64> {
        None
    }

    /// Whether the policy reads CloudWatch history, and so waits for
    /// [`ModelParams::warmup_minutes`] before its first decision (a fixed schedule does not).
    fn reads_history(&self) -> bool {
        true
    }

    /// Called at the start of every minute: the capacity wanted now, or `None` to leave it.
    /// Asking for the capacity in force is the same as `None`.
    fn decide(&mut self, view: &View<'_>) -> Option<u64>;
}

/// What happened in one simulation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// The policy's name.
    pub policy: String,
    /// Capacity in force in each minute.
    pub provisioned: Vec<u64>,
    /// Units served in each minute.
    pub served: Vec<f64>,
    /// Units refused (throttled) in each minute.
    pub refused: Vec<f64>,
    /// Increases applied.
    pub increases: u32,
    /// Decreases applied.
    pub decreases: u32,
    /// Requests refused because an update was in flight.
    pub refused_in_use: u32,
    /// Decreases refused by the quota.
    pub refused_quota: u32,
}

impl Run {
    /// Capacity-unit-hours provisioned.
    pub fn unit_hours(&self) -> f64 {
        self.provisioned.iter().map(|p| *p as f64).sum::<f64>() / 60.0
    }

    /// Total refused units.
    pub fn refused_units(&self) -> f64 {
        self.refused.iter().sum()
    }

    /// Minutes with throttling.
    pub fn throttled_minutes(&self) -> u32 {
        self.refused.iter().filter(|r| **r > EPSILON_UNITS).count() as u32
    }
}

/// The default starting capacity: `ceil(first known demand / 0.7)`, at least 1.
pub fn default_initial_capacity(trace: &Trace, params: &ModelParams) -> u64 {
    if let Some(p) = params.initial_capacity {
        return p;
    }
    let first = trace.demand.iter().flatten().next().copied().unwrap_or(0.0);
    scaling_policy::ceil_units(first / 0.7).clamp(1, params.max_capacity.max(1))
}

/// Replays `trace` through the model with `policy` in charge.
pub fn simulate(trace: &Trace, params: &ModelParams, policy: &mut dyn Policy) -> Run {
    let n = trace.len();
    let max = params.max_capacity.max(1);
    let mut p = policy
        .initial_capacity()
        .unwrap_or_else(|| default_initial_capacity(trace, params))
        .clamp(1, max);
    let mut bucket = params.initial_burst_secs.min(params.burst_secs) * p as f64;
    let mut pending: Option<(usize, u64)> = None;
    let mut budget = DecreaseBudget::default();
    let mut last_increase = None;
    let mut last_decrease = None;
    let mut published: Vec<Minute> = Vec::with_capacity(n);
    let mut run = Run {
        policy: policy.name(),
        provisioned: Vec::with_capacity(n),
        served: Vec::with_capacity(n),
        refused: Vec::with_capacity(n),
        increases: 0,
        decreases: 0,
        refused_in_use: 0,
        refused_quota: 0,
    };
    let delay = params.publish_delay as usize;
    let warmup = if policy.reads_history() {
        params.warmup_minutes as usize
    } else {
        0
    };
    for t in 0..n {
        let now = trace.time_of(t);
        // 1. An update whose time has come takes effect.
        if let Some((at, target)) = pending
            && at <= t
        {
            p = target;
            bucket = bucket.min(params.burst_secs * p as f64);
            pending = None;
        }
        // 2. The policy decides on what CloudWatch has published so far.
        let view = View {
            now,
            minute: t,
            provisioned: p,
            updating: pending.is_some(),
            budget,
            last_increase,
            last_decrease,
            metrics: Metrics::new(trace.start, &published[..t.saturating_sub(delay)]),
            params,
        };
        let decision = if t < warmup {
            None
        } else {
            policy.decide(&view)
        };
        if let Some(want) = decision {
            let want = want.clamp(1, max);
            if want != p {
                if pending.is_some() {
                    run.refused_in_use += 1;
                } else if want < p && !budget.allows(now) {
                    run.refused_quota += 1;
                } else {
                    if want < p {
                        budget = budget.after_decrease(now);
                        last_decrease = Some(now);
                        run.decreases += 1;
                    } else {
                        last_increase = Some(now);
                        run.increases += 1;
                    }
                    if params.update_delay == 0 {
                        p = want;
                        bucket = bucket.min(params.burst_secs * p as f64);
                    } else {
                        pending = Some((t + params.update_delay as usize, want));
                    }
                }
            }
        }
        // 3. The minute is served, with burst.
        let demand = trace.demand[t];
        let wanted = 60.0 * demand.unwrap_or(0.0);
        let capacity = 60.0 * p as f64;
        let served = wanted.min(capacity + bucket);
        let refused = (wanted - served).max(0.0);
        bucket = (bucket + capacity - served).clamp(0.0, params.burst_secs * p as f64);
        // 4. CloudWatch records the minute (nothing at all for a gap).
        published.push(match demand {
            None => Minute::GAP,
            Some(_) => Minute {
                consumed: Some(served),
                throttled: (refused > EPSILON_UNITS).then_some(refused),
                causes: None,
            },
        });
        run.provisioned.push(p);
        run.served.push(served);
        run.refused.push(refused);
    }
    run
}
