//! The one-minute simulator and the [`Policy`] trait every autoscaler implements.
//!
//! See the crate documentation for the order of events within a minute. A policy gets a
//! [`View`] holding only what a real autoscaler can know at that instant, and answers with a
//! [`Request`] (the capacity it wants, possibly at a later instant of the same minute) or
//! nothing; the simulator plays DynamoDB: it refuses updates while one is in flight and
//! decreases the quota forbids at the instant they are made, stamps the rest with that instant,
//! and applies them after the update delay.

use scaling_policy::{DecreaseBudget, Minute, ThrottleCauses, Timestamp, Usage};
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

/// What a policy may look at when it decides, when its run of one minute starts.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// When the run started (UTC): the start of the minute plus the run's lateness
    /// ([`ModelParams::late_runs_max_secs`]). The policy's `now`.
    pub now: Timestamp,
    /// The start of the current minute, when the run was scheduled.
    pub scheduled: Timestamp,
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

    /// Whether a scale-down run is scheduled in this minute ([`ModelParams::scale_down`]).
    pub fn is_scale_down_time(&self) -> bool {
        self.params.scale_down.runs_at(self.scheduled)
    }

    /// The first instant after this run's minute: a [`Request::not_before`] must fall before it.
    pub fn minute_end(&self) -> Timestamp {
        self.scheduled.plus_secs(60)
    }
}

/// What a policy asks DynamoDB for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The capacity wanted.
    pub capacity: u64,
    /// Make the change at this instant rather than now (a decrease the quota allows only a few
    /// seconds after the run started: `scaling_policy::Decision::not_before`). The model checks
    /// the quota at `max(now, not_before)` and stamps the change with it; an instant outside
    /// the run's minute is not waited for (the request is dropped and counted in
    /// [`Run::dropped_not_before`]).
    pub not_before: Option<Timestamp>,
}

impl Request {
    /// A change to `capacity`, made now.
    pub const fn new(capacity: u64) -> Self {
        Self {
            capacity,
            not_before: None,
        }
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

    /// Called once a minute, when the minute's run starts: the change wanted, or `None` to
    /// leave the capacity. Asking for the capacity in force is the same as `None`.
    fn decide(&mut self, view: &View<'_>) -> Option<Request>;
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
    /// Units refused (throttled) in each minute, whatever the cause.
    pub refused: Vec<f64>,
    /// Of those, the units a hot key refused (key-range throttles), in each minute.
    pub refused_key_range: Vec<f64>,
    /// Increases applied.
    pub increases: u32,
    /// Decreases applied.
    pub decreases: u32,
    /// Requests refused because an update was in flight.
    pub refused_in_use: u32,
    /// Decreases refused by the quota.
    pub refused_quota: u32,
    /// Requests not made because their `not_before` fell outside their run's minute.
    pub dropped_not_before: u32,
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

    /// Total units a hot key refused.
    pub fn refused_key_range_units(&self) -> f64 {
        self.refused_key_range.iter().sum()
    }

    /// Minutes with throttling.
    pub fn throttled_minutes(&self) -> u32 {
        self.refused.iter().filter(|r| **r > EPSILON_UNITS).count() as u32
    }
}

/// One minute's demand split by what can serve it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinuteDemand {
    /// Units/s that reach the table's capacity (and its burst bucket).
    pub table: f64,
    /// Units/s a hot key refuses beyond its limit, whatever the capacity (0 without one).
    pub key_range_refused: f64,
}

/// The demand of minute `i` (0 for a gap), less what the trace's hot key refuses when
/// [`ModelParams::hot_keys`] is on. Every reference (ideal, on-demand, clairvoyant) and the
/// simulator split demand with this.
pub fn minute_demand(trace: &Trace, params: &ModelParams, i: usize) -> MinuteDemand {
    let demand = trace.demand_at(i);
    let key = match trace.hot_key {
        Some(hot) if params.hot_keys => hot.refused(demand).min(demand),
        _ => 0.0,
    };
    MinuteDemand {
        table: demand - key,
        key_range_refused: key,
    }
}

/// The default starting capacity: [`ModelParams::initial_capacity`], else the trace's own
/// ([`Trace::initial_capacity`]), else `ceil(first known demand / 0.7)`, at least 1.
pub fn default_initial_capacity(trace: &Trace, params: &ModelParams) -> u64 {
    if let Some(p) = params.initial_capacity.or(trace.initial_capacity) {
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
        refused_key_range: Vec::with_capacity(n),
        increases: 0,
        decreases: 0,
        refused_in_use: 0,
        refused_quota: 0,
        dropped_not_before: 0,
    };
    let delay = params.publish_delay as usize;
    let warmup = if policy.reads_history() {
        params.warmup_minutes as usize
    } else {
        0
    };
    for t in 0..n {
        let scheduled = trace.time_of(t);
        let now = scheduled.plus_secs(params.run_lateness_secs(scheduled));
        // 1. An update whose time has come takes effect.
        if let Some((at, target)) = pending
            && at <= t
        {
            p = target;
            bucket = bucket.min(params.burst_secs * p as f64);
            pending = None;
        }
        // 2. The policy's run starts and decides on what CloudWatch has published so far.
        let view = View {
            now,
            scheduled,
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
        if let Some(request) = decision {
            let want = request.capacity.clamp(1, max);
            // The instant the change is made, and stamped with.
            let at = request.not_before.map_or(now, |nb| nb.max(now));
            if want != p {
                if pending.is_some() {
                    run.refused_in_use += 1;
                } else if at >= view.minute_end() {
                    run.dropped_not_before += 1;
                } else if want < p && !budget.allows(at) {
                    run.refused_quota += 1;
                } else {
                    if want < p {
                        budget = budget.after_decrease(at);
                        last_decrease = Some(at);
                        run.decreases += 1;
                    } else {
                        last_increase = Some(at);
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
        // 3. The minute is served: a hot key refuses beyond its limit, the table serves the
        //    rest with its capacity and burst bucket.
        let demand = minute_demand(trace, params, t);
        let key = 60.0 * demand.key_range_refused;
        let wanted = 60.0 * demand.table;
        let capacity = 60.0 * p as f64;
        let served = wanted.min(capacity + bucket);
        let refused = (wanted - served).max(0.0);
        bucket = (bucket + capacity - served).clamp(0.0, params.burst_secs * p as f64);
        // 4. CloudWatch records the minute (nothing at all for a gap).
        let throttled = refused + key;
        published.push(match trace.demand[t] {
            None => Minute::GAP,
            Some(_) => Minute {
                consumed: Some(served),
                throttled: (throttled > EPSILON_UNITS).then_some(throttled),
                causes: (params.throttle_causes && throttled > EPSILON_UNITS).then_some(
                    ThrottleCauses {
                        provisioned: refused,
                        key_range: key,
                        other: 0.0,
                    },
                ),
            },
        });
        run.provisioned.push(p);
        run.served.push(served);
        run.refused.push(throttled);
        run.refused_key_range.push(key);
    }
    run
}
