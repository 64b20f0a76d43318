//! The fleets the scaler's own bill is judged on, and the projection of one series' bill and
//! policy quality with the cadence and with polling every minute, side by side.
//!
//! **The classes** ([`Class`]) stand for the tables of a real account, each a synthetic trace
//! of [`crate::synthetic`] with the settings that make it what it is:
//!
//! | class | trace | settings | what the scaler sees |
//! |---|---|---|---|
//! | `hot` | `business-day` (quiet nights, a weekday plateau, 10% noise) | shipped | followed closely: near its target by day, ramps morning and evening |
//! | `cold` | `weekly-cycle` | min 1,000 units | held far above its traffic by its minimum (6-15% used) |
//! | `throttled` | `business-day` | max 10 units | throttled every minute at its maximum |
//! | `idle` | no traffic, no datapoint | shipped | nothing |
//!
//! Each is its trace's first two weeks (the cycles are daily and weekly).
//!
//! The mix is [`DEFAULT_MIX`]: 20% hot, 60% cold, 10% throttled, 10% idle. A table with
//! reads and writes is two series with the same demand; the bill of a table is twice that of its
//! series. A table throttled by a hot key (key-range throttling) would be polled like a cold
//! one plus the key-range metric at each throttle-series read; the model has no hot partition
//! yet, so `throttled` is the at-max kind.

use scaling_policy::cadence::Cadence;
use scaling_policy::{Settings, Timestamp};
use serde::Serialize;

use crate::Error;
use crate::cadence::{Bill, MINUTES_PER_MONTH};
use crate::model::{Run, simulate};
use crate::params::ModelParams;
use crate::policies::Ours;
use crate::report::percent_of;
use crate::synthetic;
use crate::trace::{Trace, TraceOptions};

/// A kind of table in a fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Busy, near its trigger by day.
    Hot,
    /// Far below its capacity (held there by its minimum).
    Cold,
    /// Throttled every minute at its maximum.
    Throttled,
    /// No traffic at all.
    Idle,
}

/// The fleet: 20% hot, 60% cold, 10% throttled, 10% idle.
pub const DEFAULT_MIX: [(Class, f64); 4] = [
    (Class::Hot, 0.2),
    (Class::Cold, 0.6),
    (Class::Throttled, 0.1),
    (Class::Idle, 0.1),
];

impl Class {
    /// Every class.
    pub const ALL: [Class; 4] = [Class::Hot, Class::Cold, Class::Throttled, Class::Idle];

    /// The name in reports and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Class::Hot => "hot",
            Class::Cold => "cold",
            Class::Throttled => "throttled",
            Class::Idle => "idle",
        }
    }

    /// The class named `name`.
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == name.trim())
            .ok_or_else(|| {
                Error::BadName(format!(
                    "no table class {name:?}; known: hot, cold, throttled, idle"
                ))
            })
    }

    /// The demand and the settings of one series of the class (see the module header).
    pub fn series(self) -> Result<(Trace, Settings), Error> {
        let options = TraceOptions::default();
        let mut settings = Settings::default();
        let trace = match self {
            Class::Hot => synthetic::by_name("business-day", &options)?,
            Class::Cold => {
                settings.read.min = 1_000;
                settings.read.max = settings.read.max.max(1_000);
                synthetic::by_name("weekly-cycle", &options)?
            }
            Class::Throttled => {
                settings.read.max = 10;
                settings.read.min = settings.read.min.min(10);
                synthetic::by_name("business-day", &options)?
            }
            Class::Idle => Trace {
                name: "idle".into(),
                start: Timestamp::from_unix(trace_start()),
                demand: vec![None; SPAN_MINUTES],
                step_minutes: 1,
                scale: 1.0,
                hot_key: None,
                initial_capacity: None,
            },
        };
        // Two weeks are enough for a month's rate (the cycles are daily and weekly).
        let mut demand = trace.demand;
        demand.truncate(SPAN_MINUTES);
        Ok((
            Trace {
                name: self.name().into(),
                demand,
                ..trace
            },
            settings,
        ))
    }
}

/// Minutes of each class's trace: its first two weeks.
const SPAN_MINUTES: usize = 14 * 1_440;

/// Monday 2024-01-01 00:00 UTC, where the synthetic traces start.
fn trace_start() -> i64 {
    crate::trace::days_from_civil(2024, 1, 1) * scaling_policy::time::DAY_SECS
}

/// What a policy did to a series: the capacity it paid for and the demand refused.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// Dollars of provisioned capacity at the model's prices.
    pub capacity_usd: f64,
    /// Refused units / demanded units, percent.
    pub throttled_pct: f64,
    /// Minutes with refused units.
    pub throttled_minutes: u32,
    /// Capacity increases applied.
    pub increases: u32,
    /// Capacity decreases applied.
    pub decreases: u32,
    /// Changes of capacity (increases and decreases) per 30-day month at the trace's rate: what
    /// the per-table EMF metrics are written for.
    pub changes_per_month: f64,
}

impl Quality {
    fn of(run: &Run, trace: &Trace, params: &ModelParams) -> Self {
        let demanded = trace.total_units();
        Self {
            capacity_usd: run.unit_hours() * params.price_per_unit_hour,
            throttled_pct: percent_of(run.refused_units(), demanded),
            throttled_minutes: run.throttled_minutes(),
            increases: run.increases,
            decreases: run.decreases,
            changes_per_month: f64::from(run.increases + run.decreases) * MINUTES_PER_MONTH
                / (trace.len() as f64).max(1.0),
        }
    }
}

/// One series simulated with the cadence and polled every minute.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// The trace's name.
    pub name: String,
    /// The CloudWatch bill with the cadence.
    pub cadence: Bill,
    /// The CloudWatch bill polling every minute.
    pub every_minute: Bill,
    /// What ours did with the cadence.
    pub cadence_quality: Quality,
    /// What ours did polling every minute.
    pub every_minute_quality: Quality,
}

/// Simulates `trace` as one series with ours (`settings`) polling as `cadence` says and every
/// minute, on `params`.
pub fn project(
    trace: &Trace,
    settings: &Settings,
    params: &ModelParams,
    cadence: Cadence,
) -> Projection {
    let mut with = Ours::with_cadence(settings.clone(), cadence);
    let run = simulate(trace, params, &mut with);
    let mut every = Ours::with_cadence(settings.clone(), Cadence::EVERY_MINUTE);
    let every_run = simulate(trace, params, &mut every);
    Projection {
        name: trace.name.clone(),
        cadence: with.bill(),
        every_minute: every.bill(),
        cadence_quality: Quality::of(&run, trace, params),
        every_minute_quality: Quality::of(&every_run, trace, params),
    }
}

/// [`project`] for one series of `class`.
pub fn project_class(
    class: Class,
    params: &ModelParams,
    cadence: Cadence,
) -> Result<Projection, Error> {
    let (trace, settings) = class.series()?;
    Ok(project(&trace, &settings, params, cadence))
}
