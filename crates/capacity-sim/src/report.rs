//! One benchmark row per (trace, policy), and [`evaluate`], which produces them.

use serde::Serialize;

use crate::Error;
use crate::clairvoyant::{self, QuotaRules};
use crate::model::{Run, minute_demand, simulate};
use crate::params::ModelParams;
use crate::policies::{PolicySpec, Scheduled};
use crate::reference::{self, Outcome};
use crate::trace::Trace;

/// One row of the benchmark. Field names are the JSON output's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Trace name.
    pub trace: String,
    /// Policy name.
    pub policy: String,
    /// Capacity-unit-hours provisioned (for on-demand: the provisioned unit-hours costing the
    /// same dollars).
    pub cost_unit_hours: f64,
    /// Dollars at the model's prices.
    pub cost_usd: f64,
    /// `cost_usd / clairvoyant's cost_usd`.
    pub cost_vs_clairvoyant: f64,
    /// Refused units / demanded units, percent.
    pub throttled_pct: f64,
    /// Of `throttled_pct`, the part a hot key refused (key-range throttles, which no capacity
    /// cures; 0 on a trace without a hot key).
    pub throttled_key_range_pct: f64,
    /// Capacity increases applied (0 for `ideal` and `on-demand`, which have none to make).
    pub increases: u32,
    /// Capacity decreases applied (0 for `ideal` and `on-demand`).
    pub decreases: u32,
    /// Minutes in which some demand was refused.
    pub throttled_minutes: u32,
}

/// Everything [`evaluate`] found on one trace.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Trace name.
    pub trace: String,
    /// One row per requested policy, in the requested order.
    pub rows: Vec<Summary>,
    /// The simulated runs (every requested simulated policy, and the clairvoyant replay).
    pub runs: Vec<Run>,
    /// Things a reader should know (e.g. a run that beat the clairvoyant without throttling).
    pub notes: Vec<String>,
}

impl Evaluation {
    /// The run of the policy named `name`, if it was simulated.
    pub fn run(&self, name: &str) -> Option<&Run> {
        self.runs.iter().find(|r| r.policy == name)
    }
}

/// `part` in percent of `whole`; 0 when `whole` is 0 (nothing demanded, nothing throttled).
/// The one percentage helper of the workspace: the simulator's reports, the CLI's and the
/// cadence's fleet all use it.
pub fn percent_of(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
}

/// Runs every policy in `policies` on `trace` and reports them. The clairvoyant schedule is
/// always computed (it is the denominator of `cost_vs_clairvoyant`) and replayed through the
/// model, which checks that it refuses nothing a table at its maximum would serve and never breaks
/// the quota.
pub fn evaluate(
    trace: &Trace,
    params: &ModelParams,
    policies: &[PolicySpec],
) -> Result<Evaluation, Error> {
    params.validate()?;
    if trace.is_empty() {
        return Err(Error::BadTrace {
            path: trace.name.clone(),
            message: "the trace has no minutes".into(),
        });
    }
    let demanded = trace.total_units();
    let price = params.price_per_unit_hour;
    let required = reference::required_units(trace, params);
    let schedule = clairvoyant::optimal(
        &required,
        trace.start.unix().div_euclid(60),
        params.update_delay as usize,
        QuotaRules::default(),
    );
    let planned = schedule.unit_minutes;
    let mut replay = Scheduled::new("clairvoyant", schedule.capacity, params);
    let clairvoyant = simulate(trace, params, &mut replay);
    let clairvoyant_usd = clairvoyant.unit_hours() * price;
    let mut notes = Vec::new();
    let replayed: u64 = clairvoyant.provisioned.iter().sum();
    // What the replay refused for capacity (a hot key's refusals are nobody's doing), against
    // what no schedule can serve: demand above the table's maximum beyond a full bucket.
    let refused_for_capacity = clairvoyant.refused_units() - clairvoyant.refused_key_range_units();
    let unavoidable = reference::unavoidable_refusal(trace, params);
    if replayed != planned || refused_for_capacity > unavoidable + 1e-6 * demanded.max(1.0) {
        notes.push(format!(
            "{}: the clairvoyant replay differs from its plan ({replayed} vs {planned} unit-minutes, {refused_for_capacity:.0} units refused for capacity where no schedule must refuse more than {unavoidable:.0})",
            trace.name,
        ));
    }
    if unavoidable > 0.0 {
        let max = params.max_capacity as f64;
        let minutes = (0..trace.len())
            .filter(|i| minute_demand(trace, params, *i).table > max)
            .count();
        notes.push(format!(
            "{}: demand is above the table's maximum capacity ({} units/s) in {minutes} minutes: {unavoidable:.0} units ({:.4}% of demand) that no schedule can serve, even from a full burst bucket; every policy throttles at least that",
            trace.name,
            params.max_capacity,
            percent_of(unavoidable, demanded),
        ));
    }
    if clairvoyant.refused_in_use + clairvoyant.refused_quota > 0 {
        notes.push(format!(
            "{}: the model refused {} of the clairvoyant schedule's updates",
            trace.name,
            clairvoyant.refused_in_use + clairvoyant.refused_quota
        ));
    }
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    for spec in policies {
        let name = spec.name();
        let row =
            |unit_hours: f64, usd: f64, refused: f64, key_range: f64, inc, dec, minutes| Summary {
                trace: trace.name.clone(),
                policy: name.clone(),
                cost_unit_hours: unit_hours,
                cost_usd: usd,
                cost_vs_clairvoyant: if clairvoyant_usd > 0.0 {
                    usd / clairvoyant_usd
                } else {
                    0.0
                },
                throttled_pct: percent_of(refused, demanded),
                throttled_key_range_pct: percent_of(key_range, demanded),
                increases: inc,
                decreases: dec,
                throttled_minutes: minutes,
            };
        let from_run = |run: &Run| {
            row(
                run.unit_hours(),
                run.unit_hours() * price,
                run.refused_units(),
                run.refused_key_range_units(),
                run.increases,
                run.decreases,
                run.throttled_minutes(),
            )
        };
        let from_outcome = |o: &Outcome| {
            row(
                o.unit_hours,
                o.usd,
                o.refused_units,
                o.refused_key_range_units,
                0,
                0,
                o.throttled_minutes,
            )
        };
        let summary = match spec {
            PolicySpec::Clairvoyant => from_run(&clairvoyant),
            PolicySpec::Ideal => from_outcome(&reference::ideal(trace, params)),
            PolicySpec::OnDemand => from_outcome(&reference::on_demand(trace, params)),
            _ => {
                let Some(mut policy) = spec.build(trace, params) else {
                    continue;
                };
                let run = simulate(trace, params, policy.as_mut());
                let s = from_run(&run);
                runs.push(run);
                s
            }
        };
        if summary.throttled_minutes == 0
            && summary.cost_vs_clairvoyant < 1.0 - 1e-9
            && !matches!(spec, PolicySpec::Ideal | PolicySpec::OnDemand)
        {
            notes.push(format!(
                "{}: {} cost {:.3}x the clairvoyant without throttling (it rode the burst bucket, which the clairvoyant does not use)",
                trace.name, summary.policy, summary.cost_vs_clairvoyant
            ));
        }
        rows.push(summary);
    }
    runs.push(clairvoyant);
    Ok(Evaluation {
        trace: trace.name.clone(),
        rows,
        runs,
        notes,
    })
}
