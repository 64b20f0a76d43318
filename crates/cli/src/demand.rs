//! Demand traces from CloudWatch history: the second stage after `history.rs`, turning one
//! dimension's datapoints into per-minute series on the grid of `[start, end)` and into the
//! [`Trace`] the simulator replays.
//!
//! **Demand** in a minute is consumed plus throttled units, in units/s (consumption alone is
//! capped by what was provisioned, so it hides demand exactly when it matters). A coarser
//! datapoint of a Sum is spread evenly over its minutes (its rate held constant); a coarser
//! Average (provisioned capacity) is held over them. A minute without a consumed or a throttle
//! datapoint is a gap: the simulator runs it with no traffic and no datapoint, as everywhere
//! else. What the table actually had is the provisioned series with each gap holding the value
//! before it, and what it actually cost is [`Demand::actual`].

use autoscaler_aws::table::Billing;
use capacity_sim::{ModelParams, Trace};
use scaling_policy::{Dimension, Timestamp};

use crate::history::{History, Point, Series};

/// One dimension of a table's history, minute by minute.
#[derive(Clone, Debug)]
pub struct Demand {
    /// Read or write.
    pub dimension: Dimension,
    /// Consumed plus throttled units/s per minute, gaps unknown: the trace to replay.
    pub trace: Trace,
    /// Consumed units per minute (`None`: no datapoint).
    pub consumed: Vec<Option<f64>>,
    /// Throttle events per minute (`None`: no datapoint).
    pub throttled: Vec<Option<f64>>,
    /// Provisioned capacity per minute, each gap holding the value before it; `None` when
    /// CloudWatch has no provisioned datapoint at all in the period.
    pub provisioned: Option<Vec<f64>>,
}

impl Demand {
    /// The demand of `series` (one dimension of `history`); `name` names the trace.
    pub fn from_history(history: &History, series: &Series, name: &str) -> Self {
        let (start, n) = (history.start, history.minutes());
        let consumed = per_minute(&series.consumed, start, n, true);
        let throttled = per_minute(&series.throttled, start, n, true);
        let demand = consumed
            .iter()
            .zip(&throttled)
            .map(|(c, t)| match (c, t) {
                (None, None) => None,
                _ => Some((c.unwrap_or(0.0) + t.unwrap_or(0.0)).max(0.0) / 60.0),
            })
            .collect();
        Self {
            dimension: series.dimension,
            trace: Trace::per_minute(format!("{name} {}", series.dimension), start, demand),
            consumed,
            throttled,
            provisioned: hold(&per_minute(&series.provisioned, start, n, false)),
        }
    }

    /// Minutes with demand data.
    pub fn known_minutes(&self) -> usize {
        self.trace.demand.iter().flatten().count()
    }

    /// Throttle events observed over the period.
    pub fn observed_throttles(&self) -> f64 {
        // fold, not sum: an empty f64 sum is -0.0, which prints as "-0".
        self.throttled.iter().flatten().fold(0.0, |a, t| a + t)
    }

    /// Minutes with at least one observed throttle event.
    pub fn throttled_minutes(&self) -> u32 {
        let minutes = self
            .throttled
            .iter()
            .flatten()
            .filter(|t| **t > 0.0)
            .count();
        u32::try_from(minutes).unwrap_or(u32::MAX)
    }

    /// Consumed units over the period.
    pub fn consumed_units(&self) -> f64 {
        self.consumed.iter().flatten().fold(0.0, |a, c| a + c)
    }

    /// Increases and decreases of the provisioned series, when there is one.
    pub fn provisioned_changes(&self) -> Option<(u32, u32)> {
        self.provisioned.as_deref().map(changes)
    }

    /// The same demand from its first minute with data on, `None` when no minute has any: a
    /// table created during the period (or silent before) is judged on the minutes it has.
    pub fn since_first_datapoint(&self) -> Option<Demand> {
        let first = self.trace.demand.iter().position(Option::is_some)?;
        Some(Demand {
            dimension: self.dimension,
            trace: Trace::per_minute(
                self.trace.name.clone(),
                self.trace.time_of(first),
                self.trace.demand[first..].to_vec(),
            ),
            consumed: self.consumed[first..].to_vec(),
            throttled: self.throttled[first..].to_vec(),
            provisioned: self.provisioned.as_ref().map(|p| p[first..].to_vec()),
        })
    }

    /// What the table (`shown` in messages) actually had and cost, billed as `billing`, with
    /// `current` units provisioned now, at `params`' prices: the provisioned series from
    /// CloudWatch (unit-hours = the per-minute capacities / 60); when CloudWatch has no
    /// provisioned datapoint at all (the local emulator never has), the current capacity held
    /// over the whole period, with a note saying so; for an on-demand table, the on-demand bill
    /// of its consumed units, with a note.
    pub fn actual(
        &self,
        billing: Billing,
        current: u64,
        params: &ModelParams,
        shown: &str,
    ) -> Actual {
        let dimension = self.dimension;
        if billing == Billing::OnDemand {
            let usd = self.consumed_units() * params.on_demand_price_per_million / 1e6;
            return Actual {
                source: "on_demand_bill",
                capacity: Vec::new(),
                unit_hours: usd / params.price_per_unit_hour,
                usd,
                note: Some(format!(
                    "{dimension}: {shown} is on-demand: `actual` is the on-demand bill of its consumed units"
                )),
            };
        }
        let (source, capacity, note) = match &self.provisioned {
            Some(s) => ("cloudwatch", s.clone(), None),
            None => {
                let metric = autoscaler_aws::aws::metric_names(dimension).provisioned;
                (
                    "current_capacity",
                    vec![current as f64; self.trace.len()],
                    Some(format!(
                        "{dimension}: CloudWatch has no {metric} datapoint for {shown}: `actual` assumes the current provisioned capacity ({current}) held constant over the whole period"
                    )),
                )
            }
        };
        let unit_hours = capacity.iter().sum::<f64>() / 60.0;
        Actual {
            source,
            capacity,
            unit_hours,
            usd: unit_hours * params.price_per_unit_hour,
            note,
        }
    }
}

/// What a table (or GSI) actually had and cost over a period ([`Demand::actual`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Actual {
    /// Where the cost comes from: `cloudwatch` (the provisioned metric), `current_capacity` (no
    /// provisioned datapoint: the current capacity held) or `on_demand_bill`.
    pub source: &'static str,
    /// Capacity in force per minute (empty for an on-demand table).
    pub capacity: Vec<f64>,
    /// Unit-hours (for on-demand: the provisioned unit-hours costing the same).
    pub unit_hours: f64,
    /// Dollars.
    pub usd: f64,
    /// What a reader should know about where the figure came from.
    pub note: Option<String>,
}

/// Counts increases and decreases of a capacity series.
fn changes(series: &[f64]) -> (u32, u32) {
    let mut up = 0;
    let mut down = 0;
    for w in series.windows(2) {
        if w[1] > w[0] + 1e-9 {
            up += 1;
        } else if w[1] < w[0] - 1e-9 {
            down += 1;
        }
    }
    (up, down)
}

/// Places datapoints on the minute grid of `[start, start + n min)`. A Sum (`spread`) is divided
/// evenly over its period's minutes; any other statistic is held over them.
fn per_minute(points: &[Point], start: Timestamp, n: usize, spread: bool) -> Vec<Option<f64>> {
    let mut out = vec![None; n];
    for p in points {
        let minutes = (p.period / 60).max(1);
        let value = if spread {
            p.value / minutes as f64
        } else {
            p.value
        };
        let first = p.at.secs_since(start).div_euclid(60);
        for m in first..first + minutes {
            if let Some(slot) = usize::try_from(m).ok().and_then(|m| out.get_mut(m)) {
                *slot = Some(slot.unwrap_or(0.0) + value);
            }
        }
    }
    out
}

/// Fills gaps with the previous value (the first known value before it); `None` when empty.
fn hold(values: &[Option<f64>]) -> Option<Vec<f64>> {
    let first = values.iter().flatten().next().copied()?;
    let mut last = first;
    Some(
        values
            .iter()
            .map(|v| {
                if let Some(v) = v {
                    last = *v;
                }
                last
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(at: i64, value: f64, period: i64) -> Point {
        Point {
            at: Timestamp::from_unix(at),
            value,
            period,
        }
    }

    #[test]
    fn coarse_sums_are_spread_and_averages_held() {
        let start = Timestamp::from_unix(600);
        let points = [point(600, 300.0, 300), point(900, 60.0, 60)];
        let sums = per_minute(&points, start, 7, true);
        assert_eq!(
            sums,
            vec![
                Some(60.0),
                Some(60.0),
                Some(60.0),
                Some(60.0),
                Some(60.0),
                Some(60.0),
                None
            ]
        );
        let held = per_minute(&[point(600, 10.0, 300)], start, 6, false);
        assert_eq!(held[4], Some(10.0));
        assert_eq!(held[5], None);
        assert_eq!(
            hold(&[None, Some(5.0), None, Some(7.0), None]),
            Some(vec![5.0, 5.0, 5.0, 7.0, 7.0])
        );
        assert_eq!(hold(&[None, None]), None);
        assert_eq!(changes(&[5.0, 5.0, 7.0, 6.0, 6.0, 8.0]), (2, 1));
    }
}
