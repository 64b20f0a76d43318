//! Model parameters, each with the default DynamoDB, CloudWatch or the deployment uses.

pub use scaling_policy::Dimension;
use serde::Serialize;

use crate::Error;

/// us-east-1 provisioned price per RCU-hour.
pub const READ_PRICE_PER_UNIT_HOUR: f64 = 0.000_13;
/// us-east-1 provisioned price per WCU-hour.
pub const WRITE_PRICE_PER_UNIT_HOUR: f64 = 0.000_65;
/// us-east-1 on-demand price per million read request units (after the November 2024 cut).
pub const READ_ON_DEMAND_PER_MILLION: f64 = 0.125;
/// us-east-1 on-demand price per million write request units.
pub const WRITE_ON_DEMAND_PER_MILLION: f64 = 0.625;

/// Every parameter of the simulation. `ModelParams::default()` is DynamoDB's read dimension in
/// us-east-1 with CloudWatch's usual delays.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelParams {
    /// Seconds of unused capacity the burst bucket keeps (DynamoDB: 300).
    pub burst_secs: f64,
    /// Seconds of capacity in the bucket at the start (default: full, 300).
    pub initial_burst_secs: f64,
    /// A minute's datapoint becomes visible this many minutes after the minute ends (default 2).
    pub publish_delay: u32,
    /// An `UpdateTable` takes effect this many minutes after the request, and no other update is
    /// accepted meanwhile (default 1; 0 means at once).
    pub update_delay: u32,
    /// Policies that read history are switched on this many minutes after the trace starts
    /// (default 30, the longest window any of them reads), so that none mistakes the empty
    /// history before the trace for a table without traffic. Capacity stays at its initial
    /// value meanwhile.
    pub warmup_minutes: u32,
    /// Highest capacity a table may have (DynamoDB's default per-table quota, 40,000).
    pub max_capacity: u64,
    /// Capacity in force at the start, for every policy that does not choose its own. `None`:
    /// `ceil(first known demand / 0.7)`, i.e. a table sized at 70% utilisation.
    pub initial_capacity: Option<u64>,
    /// Provisioned price per capacity-unit-hour, dollars.
    pub price_per_unit_hour: f64,
    /// On-demand price per million request units, dollars.
    pub on_demand_price_per_million: f64,
    /// UTC hours (at minute 0) when scale-down runs: ours and Trek10's 6-hourly run.
    pub scale_down_hours: Vec<u32>,
    /// On-demand absorbs up to this multiple of its previous peak at once (AWS: 2).
    pub on_demand_peak_factor: f64,
    /// On-demand's previous peak is the highest rate served at least this many minutes ago (30).
    pub on_demand_peak_minutes: u32,
    /// On-demand's previous peak before the trace starts, units/s. `None`: the median non-zero
    /// demand of the trace (the table has served its typical rate before).
    pub on_demand_initial_peak: Option<f64>,
}

impl Default for ModelParams {
    fn default() -> Self {
        Self {
            burst_secs: 300.0,
            initial_burst_secs: 300.0,
            publish_delay: 2,
            update_delay: 1,
            warmup_minutes: 30,
            max_capacity: 40_000,
            initial_capacity: None,
            price_per_unit_hour: READ_PRICE_PER_UNIT_HOUR,
            on_demand_price_per_million: READ_ON_DEMAND_PER_MILLION,
            scale_down_hours: vec![0, 6, 12, 18],
            on_demand_peak_factor: 2.0,
            on_demand_peak_minutes: 30,
            on_demand_initial_peak: None,
        }
    }
}

impl ModelParams {
    /// The defaults with the prices of `dimension`.
    pub fn for_dimension(dimension: Dimension) -> Self {
        let mut p = Self::default();
        match dimension {
            Dimension::Read => {
                p.price_per_unit_hour = READ_PRICE_PER_UNIT_HOUR;
                p.on_demand_price_per_million = READ_ON_DEMAND_PER_MILLION;
            }
            Dimension::Write => {
                p.price_per_unit_hour = WRITE_PRICE_PER_UNIT_HOUR;
                p.on_demand_price_per_million = WRITE_ON_DEMAND_PER_MILLION;
            }
        }
        p
    }

    /// Checks that the parameters make sense together.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::BadParam(m));
        if !(self.burst_secs.is_finite() && self.burst_secs >= 0.0) {
            return bad(format!("burst_secs {} must be >= 0", self.burst_secs));
        }
        if !(self.initial_burst_secs >= 0.0 && self.initial_burst_secs <= self.burst_secs) {
            return bad(format!(
                "initial_burst_secs {} must be within 0..=burst_secs",
                self.initial_burst_secs
            ));
        }
        if self.max_capacity < 1 {
            return bad("max_capacity must be >= 1".into());
        }
        if self.initial_capacity == Some(0) {
            return bad("initial_capacity must be >= 1".into());
        }
        if !(self.price_per_unit_hour > 0.0 && self.on_demand_price_per_million > 0.0) {
            return bad("prices must be positive".into());
        }
        if let Some(h) = self.scale_down_hours.iter().find(|h| **h > 23) {
            return bad(format!("scale-down hour {h} is not a UTC hour 0-23"));
        }
        if self.on_demand_peak_factor < 1.0 {
            return bad("on_demand_peak_factor must be >= 1".into());
        }
        Ok(())
    }
}
