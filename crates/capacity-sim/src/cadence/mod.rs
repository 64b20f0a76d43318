//! The scaler's own CloudWatch bill in the simulator, and the cadence that decides it.
//!
//! `ours` polls a series only when [`scaling_policy::cadence`] says it is due, with the same
//! pure code the Lambda function runs; a [`Meter`] keeps that code's state (what the warm
//! container keeps) and counts every metric the AWS layer would request for it:
//!
//! | request | metrics per series (one dimension of a table or GSI) | when |
//! |---|---|---|
//! | scale-up poll | 2: consumed, combined throttle events | when due |
//! | by cause | 1: key-range throttle events | a poll whose window has throttle events |
//! | seasonal history | 2, +1 key-range when it has throttle events | at a poll, when older than an hour |
//! | scale-down run | 2, +1 key-range when throttled; its own history, the same way | at its schedule |
//!
//! Provisioned-throughput throttle events are the combined ones minus the key-range ones: the
//! other causes (account limits, on-demand maximums) apply only to on-demand tables, which the
//! scaler does not manage. Prices: $0.01 per 1,000 metrics requested, no free tier, whatever the
//! window ([`USD_PER_METRIC`]).
//!
//! [`shadow`] replays the cadence over datapoints a table actually published (what
//! `ddb-autoscaler cost` projects an account's bill from). Submodules: [`guarantee`] proves the
//! cadence's reaction guarantee on the model; [`fleet`] projects the bill of the fleets it is
//! judged on, next to the policy's quality with and without the cadence.

pub mod fleet;
pub mod guarantee;

use scaling_policy::cadence::{Cadence, Plan, Polled, history_stale};
use scaling_policy::{
    Decision, Dimension, DimensionInput, DimensionState, Minute, Settings, Timestamp, Usage,
};
use serde::Serialize;

use crate::schedule::ScaleDownSchedule;

/// `GetMetricData`: dollars per metric requested ($0.01 per 1,000).
pub const USD_PER_METRIC: f64 = 0.01 / 1_000.0;

/// Minutes in the month the bills are projected to (30 days, as AWS's per-month examples).
pub const MINUTES_PER_MONTH: f64 = 30.0 * 1_440.0;

/// Metrics requested for one series, by request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Bill {
    /// Scale-up polls made.
    pub polls: u64,
    /// Metrics of the scale-up polls (consumed and combined throttle events).
    pub poll_metrics: u64,
    /// Key-range throttle metrics (the second request).
    pub by_cause_metrics: u64,
    /// Metrics of the seasonal history fetches.
    pub history_metrics: u64,
    /// Metrics the scale-down runs requested (their window and their history).
    pub scale_down_metrics: u64,
    /// Minutes the bill covers.
    pub minutes: u64,
}

impl Bill {
    /// Every metric requested.
    pub fn metrics(&self) -> u64 {
        self.poll_metrics + self.by_cause_metrics + self.history_metrics + self.scale_down_metrics
    }

    /// Metrics per 30-day month at this rate.
    pub fn metrics_per_month(&self) -> f64 {
        if self.minutes == 0 {
            return 0.0;
        }
        self.metrics() as f64 * MINUTES_PER_MONTH / self.minutes as f64
    }

    /// `GetMetricData` dollars per 30-day month at this rate.
    pub fn usd_per_month(&self) -> f64 {
        self.metrics_per_month() * USD_PER_METRIC
    }

    /// The sum of two bills (two series, or two tables).
    pub fn plus(&self, other: &Bill) -> Bill {
        Bill {
            polls: self.polls + other.polls,
            poll_metrics: self.poll_metrics + other.poll_metrics,
            by_cause_metrics: self.by_cause_metrics + other.by_cause_metrics,
            history_metrics: self.history_metrics + other.history_metrics,
            scale_down_metrics: self.scale_down_metrics + other.scale_down_metrics,
            minutes: self.minutes.max(other.minutes),
        }
    }
}

/// Whether any minute of `usage` reports throttle events.
fn throttled(usage: &Usage) -> bool {
    usage
        .minutes
        .iter()
        .any(|m| m.throttled.unwrap_or(0.0) > 0.0)
}

/// The cadence's state for one series and the bill it runs up: what the scale-up function's warm
/// container keeps, plus what the scale-down function fetches.
#[derive(Clone, Debug, PartialEq)]
pub struct Meter {
    /// The cadence.
    pub cadence: Cadence,
    last: Option<Polled>,
    history_at: Option<Timestamp>,
    down_history_at: Option<Timestamp>,
    first: Option<Timestamp>,
    bill: Bill,
}

impl Meter {
    /// A meter with no state (a cold start: the first run polls).
    pub fn new(cadence: Cadence) -> Self {
        Self {
            cadence,
            last: None,
            history_at: None,
            down_history_at: None,
            first: None,
            bill: Bill::default(),
        }
    }

    /// The bill so far.
    pub fn bill(&self) -> Bill {
        self.bill
    }

    /// The last poll, if any.
    pub fn last(&self) -> Option<&Polled> {
        self.last.as_ref()
    }

    /// Marks a run at `now` (scale-up runs every minute, polled or not).
    pub fn tick(&mut self, now: Timestamp) {
        // By minute: runs start a few seconds late, by a different amount each minute.
        let first = *self.first.get_or_insert(now.floor_minute());
        self.bill.minutes =
            u64::try_from(now.floor_minute().secs_since(first) / 60 + 1).unwrap_or(0);
    }

    /// The poll at `now` of the series provisioned with `capacity`, or `None` when it is not
    /// due.
    pub fn plan(&self, settings: &Settings, capacity: u64, now: Timestamp) -> Option<Plan> {
        self.cadence
            .plan(settings, self.last.as_ref(), capacity, now)
    }

    /// Whether a poll at `now` fetches the seasonal history (none yet, or
    /// [`HISTORY_REFRESH_MINUTES`](scaling_policy::cadence::HISTORY_REFRESH_MINUTES) old).
    pub fn history_stale(&self, now: Timestamp) -> bool {
        history_stale(self.history_at, now)
    }

    /// Counts a history fetch at `now` that returned `history`.
    pub fn history_fetched(&mut self, history: &Usage, now: Timestamp) {
        self.history_at = Some(now);
        self.bill.history_metrics += 2 + u64::from(throttled(history));
    }

    /// The poll at `now` planned as `plan` (from [`Meter::plan`]) of a series in `state`, as the
    /// AWS layer makes it: the first request returns `usage` (everything published; at least
    /// the plan's window) without its throttle events unless the plan reads them, scale-up
    /// decides, the second request adds what that decision calls for, and scale-up decides
    /// again on it. Counts it, schedules the next poll, and returns the decision.
    pub fn poll(
        &mut self,
        plan: &Plan,
        settings: &Settings,
        state: &DimensionState,
        usage: &Usage,
        history: Option<&Usage>,
        now: Timestamp,
    ) -> Decision {
        let consumed_only = Usage {
            start: usage.start,
            minutes: usage
                .minutes
                .iter()
                .map(|m| Minute {
                    consumed: m.consumed,
                    ..Minute::GAP
                })
                .collect(),
        };
        let input = |usage| {
            let i = DimensionInput::new(Dimension::Read, state, usage);
            match history {
                Some(h) => i.with_history(h),
                None => i,
            }
        };
        let first = if plan.throttles {
            usage
        } else {
            &consumed_only
        };
        let decided = self.cadence.decide(settings, plan, input(first), now);
        let second = self.cadence.second(settings, plan, first, &decided, now);
        let (read, decision) = if second.throttles {
            (
                usage,
                self.cadence.decide(settings, plan, input(usage), now),
            )
        } else {
            (first, decided)
        };
        self.bill.polls += 1;
        self.bill.poll_metrics += 1 + u64::from(plan.throttles);
        self.bill.by_cause_metrics += second.metrics();
        self.last = Some(self.cadence.next(
            settings,
            self.last.as_ref(),
            plan,
            &input(read),
            &decision,
            now,
        ));
        decision
    }

    /// Counts a scale-down run at `now` that read `window` and, when it has one, `history` (the
    /// scale-down function keeps its own copy, refreshed as scale-up's).
    pub fn scale_down_run(&mut self, window: &Usage, history: Option<&Usage>, now: Timestamp) {
        self.bill.scale_down_metrics += 2 + u64::from(throttled(window));
        if let Some(h) = history
            && history_stale(self.down_history_at, now)
        {
            self.down_history_at = Some(now);
            self.bill.scale_down_metrics += 2 + u64::from(throttled(h));
        }
    }
}

/// What [`shadow`] replayed: the metrics the polls requested, and the capacity increases
/// scale-up made (each one change of capacity: the per-table EMF metrics are written for it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Shadow {
    /// The metrics requested.
    pub bill: Bill,
    /// Capacity increases decided (scale-down's decreases are not replayed).
    pub increases: u64,
}

/// What the functions would have requested for one series that published `observed` (its
/// CloudWatch datapoints per minute, key-range causes attributed, reaching back at least
/// [`scaling_policy::cadence::BUCKET_WINDOW_MINUTES`] and [`Cadence::first_poll_minutes`] before
/// `from`), had they run every minute of
/// `[from, to)` after a cold start at `from`: scale-up as the cadence says, scale-down at
/// `scale_down` (UTC), each minute's datapoint visible `publish_delay` minutes
/// after it ends. Capacity starts at `capacity` and follows the increases scale-up decides (in
/// force at once). The seasonal history is counted as fetched, but without its data (a
/// replay of a few hours has none): no seasonal floor, and no key-range metric for it.
/// `settings` are the series' own (for a write series, with the write bounds as `read`).
#[allow(clippy::too_many_arguments)] // each is one fact of the replay
pub fn shadow(
    observed: &Usage,
    from: Timestamp,
    to: Timestamp,
    mut capacity: u64,
    settings: &Settings,
    cadence: Cadence,
    publish_delay: u32,
    scale_down: &ScaleDownSchedule,
) -> Shadow {
    let mut meter = Meter::new(cadence);
    let mut increases = 0;
    let empty = Usage::empty(from);
    let mut now = from.floor_minute();
    while now < to {
        meter.tick(now);
        // Minutes that ended `publish_delay` minutes ago or earlier are published.
        let published = now.plus_secs(-60 * i64::from(publish_delay));
        let visible = |minutes: u32| Usage {
            start: now.plus_secs(-60 * i64::from(minutes)),
            minutes: (0..i64::from(minutes))
                .map(|i| {
                    let t = now.plus_secs(60 * (i - i64::from(minutes)));
                    let offset = t.secs_since(observed.start) / 60;
                    match usize::try_from(offset)
                        .ok()
                        .and_then(|o| observed.minutes.get(o))
                    {
                        Some(m) if t.plus_secs(60) <= published => *m,
                        _ => Minute::GAP,
                    }
                })
                .collect(),
        };
        let state = DimensionState {
            provisioned: capacity,
            budget: scaling_policy::DecreaseBudget::default(),
            last_increase: None,
        };
        if let Some(plan) = meter.plan(settings, capacity, now) {
            if settings.seasonal_ahead_minutes > 0 && meter.history_stale(now) {
                meter.history_fetched(&empty, now);
            }
            let usage = visible(plan.fetch_minutes);
            let d = meter.poll(&plan, settings, &state, &usage, None, now);
            if d.to > capacity {
                capacity = d.to;
                increases += 1;
            }
        }
        if scale_down.runs_at(now) {
            let window = visible(settings.down_window_minutes);
            let history = (settings.seasonal_ahead_minutes > 0).then_some(&empty);
            meter.scale_down_run(&window, history, now);
        }
        now = now.plus_secs(60);
    }
    Shadow {
        bill: meter.bill(),
        increases,
    }
}
