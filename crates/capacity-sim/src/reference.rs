//! Reference points that are not autoscalers: `ideal`, `on-demand`, and the requirement the
//! clairvoyant schedule must cover.
//!
//! **On-demand model.** On-demand tables have no capacity to manage; AWS documents that they
//! accommodate up to double the previous peak at once and may throttle traffic that exceeds
//! double the previous peak within 30 minutes. Modelled as: in minute `i` at most
//! `on_demand_peak_factor` (2) times the *previous peak* is served, the previous peak being the
//! highest rate served in minutes `i - 30` and earlier (so a peak counts once it is 30 minutes
//! old), starting from [`crate::ModelParams::on_demand_initial_peak`] (default: the trace's
//! median non-zero demand, i.e. the table has served its typical rate before the trace begins).
//! Cost is the served request units at the on-demand price (refused requests are not billed);
//! its `cost_unit_hours` is the provisioned unit-hours that would cost the same dollars.

use crate::model::EPSILON_UNITS;
use crate::params::ModelParams;
use crate::policies::units;
use crate::trace::Trace;

/// Cost and throttling of a reference, in the benchmark's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Capacity-unit-hours (or their dollar equivalent for on-demand).
    pub unit_hours: f64,
    /// Dollars.
    pub usd: f64,
    /// Refused units.
    pub refused_units: f64,
    /// Minutes with throttling.
    pub throttled_minutes: u32,
    /// Refused units per minute.
    pub refused: Vec<f64>,
}

/// Capacity = demand, every minute, fractional: the cost of demand itself.
pub fn ideal(trace: &Trace, params: &ModelParams) -> Outcome {
    let unit_hours = trace.demand.iter().flatten().sum::<f64>() / 60.0;
    Outcome {
        unit_hours,
        usd: unit_hours * params.price_per_unit_hour,
        refused_units: 0.0,
        throttled_minutes: 0,
        refused: vec![0.0; trace.len()],
    }
}

/// On-demand capacity mode (see the module documentation for the throttling model).
pub fn on_demand(trace: &Trace, params: &ModelParams) -> Outcome {
    let n = trace.len();
    let window = params.on_demand_peak_minutes as usize;
    let mut peak = params
        .on_demand_initial_peak
        .unwrap_or_else(|| trace.median_nonzero());
    let mut served_rate = Vec::with_capacity(n);
    let mut refused = Vec::with_capacity(n);
    let mut served_units = 0.0;
    for i in 0..n {
        if i >= window {
            peak = peak.max(served_rate[i - window]);
        }
        let d = trace.demand_at(i);
        let s = d.min(params.on_demand_peak_factor * peak);
        served_rate.push(s);
        served_units += 60.0 * s;
        refused.push(60.0 * (d - s));
    }
    let usd = served_units * params.on_demand_price_per_million / 1e6;
    Outcome {
        unit_hours: usd / params.price_per_unit_hour,
        usd,
        refused_units: refused.iter().sum(),
        throttled_minutes: refused.iter().filter(|r| **r > EPSILON_UNITS).count() as u32,
        refused,
    }
}

/// Whole units each minute must have to serve its demand without burst: `max(1, ceil(D))`,
/// capped at the table's maximum.
pub fn required_units(trace: &Trace, params: &ModelParams) -> Vec<u64> {
    trace
        .demand
        .iter()
        .map(|d| units(d.unwrap_or(0.0), 1, params.max_capacity))
        .collect()
}
