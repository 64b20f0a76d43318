//! Replaying a demand trace through the simulator (`capacity-sim`, its default model: 2-minute
//! publication delay, 1-minute update delay, 300 s burst, the exact decrease quota), each policy
//! starting at the capacity the model parameters say (the table's own, for a backtest):
//! - `ours`: the real `scaling-policy` with the given settings, scale-up every minute,
//!   scale-down at the parameters' hours. One dimension at a time, so a decrease riding along
//!   with the other dimension is not modelled (this understates ours slightly).
//! - `aws-target-tracking` (target 70%), `on-demand`, and `clairvoyant`: the cheapest schedule
//!   that never throttles and obeys the quota, with perfect foresight; a reference, not a
//!   policy. It never relies on the burst bucket, so its cost is an *upper* bound of the
//!   cheapest achievable cost (`capacity_sim::clairvoyant`).
//!
//! The rows compare them in the units of a bill: unit-hours, dollars at the parameters' prices,
//! throttled units (refused units; each throttle event counts as one unit, as the demand does).

use capacity_sim::policies::Ours;
use capacity_sim::report::percent_of;
use capacity_sim::{ModelParams, PolicySpec, Run, Trace, evaluate, simulate};
use scaling_policy::{Dimension, Settings};
use serde::Serialize;

/// One policy's cost and throttling over a trace (`cost_vs_actual` is filled in by whoever
/// knows what the table actually cost).
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The policy's name.
    pub policy: String,
    /// Capacity unit-hours (for on-demand: the provisioned unit-hours costing the same).
    pub cost_unit_hours: f64,
    /// Dollars at the parameters' prices.
    pub cost_usd: f64,
    /// Cost divided by what the table actually cost.
    pub cost_vs_actual: Option<f64>,
    /// Refused (throttled) units.
    pub throttled_units: f64,
    /// Refused units in percent of the demanded ones.
    pub throttled_pct: f64,
    /// Minutes with any refused unit.
    pub throttled_minutes: u32,
    /// Capacity increases (`None` where they do not apply or are unknown).
    pub increases: Option<u32>,
    /// Capacity decreases (`None` where they do not apply or are unknown).
    pub decreases: Option<u32>,
}

/// What to replay.
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    /// The demand.
    pub trace: &'a Trace,
    /// Which dimension the trace is: ours takes that dimension's bounds.
    pub dimension: Dimension,
    /// The model: prices, scale-down hours, the initial capacity.
    pub params: &'a ModelParams,
    /// Ours' settings.
    pub settings: &'a Settings,
}

/// The replay's results.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// `ours`, `aws-target-tracking`, `on-demand`, `clairvoyant`, in that order.
    pub rows: Vec<Row>,
    /// Ours, minute by minute.
    pub ours: Run,
    /// Target tracking, minute by minute.
    pub tracking: Option<Run>,
    /// What the simulator remarked, each prefixed with the dimension.
    pub notes: Vec<String>,
}

/// Replays `r.trace` under every policy above.
pub fn replay(r: &Replay<'_>) -> Result<Replayed, capacity_sim::Error> {
    let (trace, params) = (r.trace, r.params);
    params.validate()?;
    let eval = evaluate(
        trace,
        params,
        &[
            PolicySpec::AwsTargetTracking { target: 0.7 },
            PolicySpec::OnDemand,
            PolicySpec::Clairvoyant,
        ],
    )?;
    let notes = eval
        .notes
        .iter()
        .map(|n| format!("{}: {n}", r.dimension))
        .collect();
    let ours = ours(trace, r.dimension, params, r.settings);
    let demanded = trace.total_units();
    let mut rows = vec![Row {
        policy: "ours".into(),
        cost_unit_hours: ours.unit_hours(),
        cost_usd: ours.unit_hours() * params.price_per_unit_hour,
        cost_vs_actual: None,
        throttled_units: ours.refused_units(),
        throttled_pct: percent_of(ours.refused_units(), demanded),
        throttled_minutes: ours.throttled_minutes(),
        increases: Some(ours.increases),
        decreases: Some(ours.decreases),
    }];
    for summary in &eval.rows {
        let simulated = eval.run(&summary.policy);
        rows.push(Row {
            policy: summary.policy.clone(),
            cost_unit_hours: summary.cost_unit_hours,
            cost_usd: summary.cost_usd,
            cost_vs_actual: None,
            throttled_units: simulated.map_or_else(
                || summary.throttled_pct * demanded / 100.0,
                Run::refused_units,
            ),
            throttled_pct: summary.throttled_pct,
            throttled_minutes: summary.throttled_minutes,
            increases: simulated.map(|_| summary.increases),
            decreases: simulated.map(|_| summary.decreases),
        });
    }
    Ok(Replayed {
        rows,
        tracking: eval.run("aws-target-tracking").cloned(),
        ours,
        notes,
    })
}

/// Ours alone on `trace` (the `dimension` it stands for) with `settings`, as [`replay`] runs it:
/// for another scale-down schedule, say.
pub fn ours(trace: &Trace, dimension: Dimension, params: &ModelParams, settings: &Settings) -> Run {
    simulate(
        trace,
        params,
        &mut Ours::new(settings_for(settings, dimension)),
    )
}

/// The settings `ours` simulates one dimension with. The simulator's `Ours` applies the read
/// bounds to the one dimension it models, so the write dimension gets its bounds there.
fn settings_for(settings: &Settings, dimension: Dimension) -> Settings {
    let mut s = settings.clone();
    s.read = settings.bounds(dimension);
    s
}
