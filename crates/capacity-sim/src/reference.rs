//! Reference points that are not autoscalers: `ideal`, `on-demand`, and the requirement the
//! clairvoyant schedule must cover.
//!
//! A trace's hot key ([`crate::trace::HotKey`]) refuses the same units in every one of them:
//! a partition's limit holds in on-demand mode too, and no capacity cures it. What is left is
//! the table's demand ([`crate::model::minute_demand`]).
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

use crate::model::{EPSILON_UNITS, minute_demand};
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
    /// Of those, the units a hot key refused.
    pub refused_key_range_units: f64,
    /// Minutes with throttling.
    pub throttled_minutes: u32,
    /// Refused units per minute.
    pub refused: Vec<f64>,
    /// Dollars per minute (what a window of the trace costs).
    pub usd_per_minute: Vec<f64>,
}

impl Outcome {
    fn new(refused: Vec<f64>, key_range: f64, usd_per_minute: Vec<f64>, price: f64) -> Self {
        let usd = usd_per_minute.iter().sum::<f64>();
        Self {
            unit_hours: usd / price,
            usd,
            refused_units: refused.iter().sum(),
            refused_key_range_units: key_range,
            throttled_minutes: refused.iter().filter(|r| **r > EPSILON_UNITS).count() as u32,
            refused,
            usd_per_minute,
        }
    }
}

/// Capacity = the table's demand, every minute, fractional: the cost of demand itself. Only a
/// hot key refuses anything.
pub fn ideal(trace: &Trace, params: &ModelParams) -> Outcome {
    let price = params.price_per_unit_hour;
    let mut refused = Vec::with_capacity(trace.len());
    let mut usd = Vec::with_capacity(trace.len());
    for i in 0..trace.len() {
        let d = minute_demand(trace, params, i);
        refused.push(60.0 * d.key_range_refused);
        usd.push(d.table / 60.0 * price);
    }
    let key_range = refused.iter().sum();
    Outcome::new(refused, key_range, usd, price)
}

/// On-demand capacity mode (see the module documentation for the throttling model).
pub fn on_demand(trace: &Trace, params: &ModelParams) -> Outcome {
    let n = trace.len();
    let window = params.on_demand_peak_minutes as usize;
    let mut peak = params
        .on_demand_initial_peak
        .unwrap_or_else(|| trace.median_nonzero());
    let per_unit = params.on_demand_price_per_million / 1e6;
    let mut served_rate = Vec::with_capacity(n);
    let mut refused = Vec::with_capacity(n);
    let mut usd = Vec::with_capacity(n);
    let mut key_range = 0.0;
    for i in 0..n {
        if i >= window {
            peak = peak.max(served_rate[i - window]);
        }
        let d = minute_demand(trace, params, i);
        let s = d.table.min(params.on_demand_peak_factor * peak);
        served_rate.push(s);
        usd.push(60.0 * s * per_unit);
        key_range += 60.0 * d.key_range_refused;
        refused.push(60.0 * (d.table - s + d.key_range_refused));
    }
    Outcome::new(refused, key_range, usd, params.price_per_unit_hour)
}

/// Whole units each minute must have so that the table serves its demand: `max(1, ceil(D))`,
/// capped at the table's maximum, and, where demand exceeds that maximum, the maximum in the
/// minutes before for as long as the burst bucket takes to bank the excess.
///
/// Capacity alone cannot serve demand above [`ModelParams::max_capacity`]; only the burst
/// bucket can (the model's rule 3: up to [`ModelParams::burst_secs`] of unused capacity). So a
/// backward pass computes the bucket each minute must start with (`need`): in a minute above
/// the maximum it grows by the excess, in the minutes before it shrinks by what the minute at
/// the maximum banks, and it never exceeds a full bucket (beyond that, no schedule serves the
/// demand: [`unavoidable_refusal`]). Every minute with a positive `need` requires the maximum.
/// That assumes an empty bucket where the banking starts, so the requirement is sufficient,
/// not exact: the clairvoyant plan built on it never refuses more than a table held at the
/// maximum all the time does.
pub fn required_units(trace: &Trace, params: &ModelParams) -> Vec<u64> {
    let max = params.max_capacity.max(1);
    let table: Vec<f64> = (0..trace.len())
        .map(|i| minute_demand(trace, params, i).table)
        .collect();
    let mut required: Vec<u64> = table.iter().map(|d| units(*d, 1, max)).collect();
    let full = params.burst_secs * max as f64;
    if full <= 0.0 {
        return required;
    }
    let mut need = 0.0_f64;
    for (i, d) in table.iter().enumerate().rev() {
        let excess = 60.0 * (d - max as f64);
        if need > EPSILON_UNITS || excess > EPSILON_UNITS {
            required[i] = max;
            need = (need.min(full) + excess).max(0.0);
        } else {
            need = 0.0;
        }
    }
    required
}

/// Units the table refuses for lack of capacity even when held at its maximum all the time
/// with the bucket full at the start (the most any schedule can serve): what demand above
/// [`ModelParams::max_capacity`] costs every policy. 0 unless demand exceeds the maximum.
pub fn unavoidable_refusal(trace: &Trace, params: &ModelParams) -> f64 {
    let max = params.max_capacity.max(1) as f64;
    let table: Vec<f64> = (0..trace.len())
        .map(|i| minute_demand(trace, params, i).table)
        .collect();
    if table.iter().all(|d| *d <= max) {
        return 0.0;
    }
    let full = params.burst_secs * max;
    let mut bucket = params.initial_burst_secs.min(params.burst_secs) * max;
    let mut refused = 0.0;
    for d in table {
        let served = (60.0 * d).min(60.0 * max + bucket);
        refused += 60.0 * d - served;
        bucket = (bucket + 60.0 * max - served).clamp(0.0, full);
    }
    refused
}
