//! # capacity-sim: DynamoDB provisioned capacity, one minute at a time
//!
//! Replays a demand trace through a model of **one dimension (read or write) of one table** and
//! lets autoscaling policies (ours, the real [`scaling_policy`] crate, and the baselines people
//! use today) steer it, then reports cost and throttling against reference schedules.
//!
//! ## The model (DESIGN.md section 6), per one-minute step `t`
//! 1. An `UpdateTable` requested [`ModelParams::update_delay`] minutes ago (default 1) takes
//!    effect. On a change the burst bucket is clamped to the new cap.
//! 2. The policy's run of the minute starts, [`ModelParams::run_lateness_secs`] seconds late
//!    (**late runs**: pseudo-random per minute in 0-30 s by default, as EventBridge's are;
//!    [`ModelParams::late_runs_max_secs`] 0 switches them off), and that instant is its `now`.
//!    It decides (from minute [`ModelParams::warmup_minutes`] on, default 30, so that no policy
//!    mistakes the empty history before the trace for an idle table), seeing only what a real
//!    one sees: the capacity in force, whether an update is still in flight (table `UPDATING`),
//!    the decrease quota state ([`scaling_policy::DecreaseBudget`], the quota exactly as the
//!    functions implement it; there is no second one here), the times of the last increase and
//!    decrease, and the CloudWatch datapoints of the minutes that ended at least
//!    [`ModelParams::publish_delay`] minutes ago (default 2). It may ask for its change at a
//!    later instant of the same minute ([`Request::not_before`]). A request while an update is
//!    in flight is refused (`ResourceInUseException`); a decrease the quota forbids at the
//!    instant it is made is refused (`LimitExceededException`); requests are clamped to
//!    `1..=max_capacity`. A change made is stamped with the instant it was made (the quota's
//!    last decrease, `LastIncreaseDateTime`/`LastDecreaseDateTime`).
//! 3. The minute is served. A trace's **hot key** ([`trace::HotKey`], [`ModelParams::hot_keys`])
//!    first refuses its share of demand beyond its own limit, whatever the capacity; the table
//!    serves the rest: `available = 60 P + bucket`, `served = min(60 D, available)`, the rest is
//!    refused (throttled), and `bucket' = clamp(bucket + 60 P - served, 0, 300 P)`.
//! 4. CloudWatch gets the minute's datapoint: consumed = served units (Sum), throttle events =
//!    refused units (Sum, published only when non-zero, as CloudWatch does), and the same
//!    **throttle events by cause** ([`ModelParams::throttle_causes`]: `provisioned` for lack of
//!    capacity, `key_range` for the hot key). A minute the trace has no data for (a gap) is
//!    simulated as *no traffic and no datapoint*.
//!
//! Key decisions:
//! - Capacity is a whole number of units >= 1; the bucket starts full.
//! - Every parameter is a field of [`ModelParams`] with DynamoDB's/CloudWatch's default.
//! - Cost is capacity-unit-hours provisioned (sum of `P` over minutes / 60) and dollars at
//!   [`ModelParams::price_per_unit_hour`]. The trace is treated as the **read** dimension by
//!   default (us-east-1 $0.00013 per RCU-hour); [`ModelParams::for_dimension`] switches to writes.
//! - References: `ideal` (capacity = demand every minute, fractional), `clairvoyant`
//!   ([`clairvoyant`]: the exact cheapest integer schedule with perfect foresight that obeys the
//!   decrease quota and never needs burst capacity), `on-demand` ([`reference::on_demand`]).
//!
//! Modules: [`trace`] (CSV loading) and [`synthetic`] (traces made in code), [`params`],
//! [`schedule`] (scale-down schedules), [`model`] (the simulator and the [`Policy`] trait),
//! [`policies`] (ours and the baselines), [`clairvoyant`], [`reference`](mod@reference) (ideal
//! and on-demand), [`report`] (the benchmark rows), [`frontier`] (ours against target
//! tracking's whole sweep at equal cost, per scale-down schedule), [`advice`] (the arithmetic of
//! `advise`: capacity mode, table class, reserved capacity, min tags), [`cadence`] (the scaler's
//! own CloudWatch bill as ours polls, the proof of the cadence's reaction guarantee, the fleets
//! it is judged on).

pub mod advice;
pub mod cadence;
pub mod clairvoyant;
pub mod frontier;
pub mod model;
pub mod params;
pub mod policies;
pub mod reference;
pub mod report;
pub mod schedule;
pub mod synthetic;
pub mod trace;

pub use model::{Metrics, Policy, Request, Run, View, simulate};
pub use params::ModelParams;
pub use policies::PolicySpec;
pub use report::{Evaluation, Summary, evaluate};
pub use schedule::ScaleDownSchedule;
pub use trace::{Duplicates, HotKey, Trace, TraceOptions};

/// Everything that can go wrong in the simulator: bad input files, bad names, bad parameters.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A trace file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a trace file is malformed.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A trace file as a whole is unusable (no data, irregular spacing, no value column...).
    #[error("{path}: {message}")]
    BadTrace {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A timestamp that none of the accepted forms reads (see [`trace::parse_timestamp`]).
    #[error("{text:?} is not a timestamp: {reason}")]
    BadTimestamp {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A policy or synthetic trace name that does not exist, or a bad policy parameter.
    #[error("{0}")]
    BadName(String),
    /// A model parameter out of range.
    #[error("invalid model parameter: {0}")]
    BadParam(String),
}
