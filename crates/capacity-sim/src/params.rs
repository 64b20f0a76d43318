//! Model parameters, each with the default DynamoDB, CloudWatch or the deployment uses.

pub use scaling_policy::Dimension;
use scaling_policy::Timestamp;
use serde::Serialize;

use crate::Error;
use crate::schedule::ScaleDownSchedule;

// The Standard table class's prices, us-east-1, as listed on
// aws.amazon.com/dynamodb/pricing/provisioned/ and .../on-demand/ (checked on PRICES_CHECKED_ON;
// the on-demand ones after the November 2024 cut). The Standard-IA and reserved prices are in
// `crate::advice`, checked the same day.
/// When the prices below (and `crate::advice`'s) were last checked against AWS's pricing pages.
pub const PRICES_CHECKED_ON: &str = "2026-12-01";
/// us-east-1 provisioned price per RCU-hour.
pub const READ_PRICE_PER_UNIT_HOUR: f64 = 0.000_13;
/// us-east-1 provisioned price per WCU-hour.
pub const WRITE_PRICE_PER_UNIT_HOUR: f64 = 0.000_65;
/// us-east-1 on-demand price per million read request units (after the November 2024 cut).
pub const READ_ON_DEMAND_PER_MILLION: f64 = 0.125;
/// us-east-1 on-demand price per million write request units.
pub const WRITE_ON_DEMAND_PER_MILLION: f64 = 0.625;
/// Default latest start of a run, seconds after its minute ([`ModelParams::late_runs_max_secs`]).
pub const DEFAULT_LATE_RUNS_MAX_SECS: u32 = 30;
/// Default seed of the runs' lateness ([`ModelParams::late_runs_seed`]).
pub const DEFAULT_LATE_RUNS_SEED: u64 = 8;

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
    /// When scale-down runs (minutes of the UTC day): ours and Trek10's 6-hourly run. Default
    /// 00:00, 06:00, 12:00 and 18:00.
    pub scale_down: ScaleDownSchedule,
    /// **Late runs.** Every policy's run of minute `t` starts [`ModelParams::run_lateness_secs`]
    /// seconds after the minute, pseudo-random in `0..=late_runs_max_secs` (default 30, as
    /// EventBridge schedules and Application Auto Scaling alarms start a few seconds late);
    /// the policy's `now` is that instant, and a change is stamped (`LastIncreaseDateTime`,
    /// `LastDecreaseDateTime`, the quota's last decrease) with the instant it is made. 0: runs
    /// start exactly on the minute. At most 59, so that a run stays within its minute.
    pub late_runs_max_secs: u32,
    /// Seed of the runs' lateness (default 8): the same seed gives the same lateness for the
    /// same UTC minute, in every policy and every trace.
    pub late_runs_seed: u64,
    /// **Throttle events by cause.** Every published minute with refused units also carries
    /// its throttle events by cause ([`scaling_policy::ThrottleCauses`]: `provisioned` for
    /// lack of capacity, `key_range` for a hot key's limit), as DynamoDB publishes them since
    /// 2025 (default true). False: only the combined `ThrottleEvents`, as before 2025.
    pub throttle_causes: bool,
    /// **Hot keys.** A trace's hot key ([`crate::trace::HotKey`]) refuses its demand beyond
    /// the key's limit, whatever the table's capacity (default true; real traces have none).
    /// False: the trace's hot key is ignored.
    pub hot_keys: bool,
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
            scale_down: ScaleDownSchedule::default(),
            late_runs_max_secs: DEFAULT_LATE_RUNS_MAX_SECS,
            late_runs_seed: DEFAULT_LATE_RUNS_SEED,
            throttle_causes: true,
            hot_keys: true,
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
        if self.late_runs_max_secs > 59 {
            return bad(format!(
                "late_runs_max_secs {} must be 0-59 (a run starts within its minute)",
                self.late_runs_max_secs
            ));
        }
        if self.on_demand_peak_factor < 1.0 {
            return bad("on_demand_peak_factor must be >= 1".into());
        }
        Ok(())
    }

    /// How many seconds after `minute` (the start of a minute) that minute's runs start:
    /// `splitmix64(late_runs_seed XOR unix minute number) mod (late_runs_max_secs + 1)`, so
    /// uniform in `0..=late_runs_max_secs`, independent from minute to minute, and the same
    /// for every policy and trace.
    pub fn run_lateness_secs(&self, minute: Timestamp) -> i64 {
        if self.late_runs_max_secs == 0 {
            return 0;
        }
        let n = minute.unix().div_euclid(60) as u64;
        (splitmix64(self.late_runs_seed ^ n) % (u64::from(self.late_runs_max_secs) + 1)) as i64
    }
}

/// SplitMix64's output function: a well-mixed 64-bit hash of `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
