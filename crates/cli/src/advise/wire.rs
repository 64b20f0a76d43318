//! The wiring of `advise`: each table's and GSI's history into demand traces and replays, then
//! the decisions of `capacity_sim::advice` in the order the module documentation gives (class
//! and mode per table, then the schedule, then reserved capacity and the min tags), kept with
//! the runs behind them for the report and the plot.

use autoscaler_aws::table::Billing;
use capacity_sim::advice::{
    self, CLASS_SWITCH_RULE, CapacityMode, Choice, HOURS_PER_MONTH, Prices, Recommendation,
    Reservation, TableClass, Throughput, per_month,
};
use capacity_sim::schedule::{Requirement, choose_daily_runs};
use capacity_sim::{ModelParams, Run, ScaleDownSchedule, Trace, reference};
use scaling_policy::config::Setting;
use scaling_policy::{Dimension, Mode, Settings, Timestamp};

use super::{Found, Storage};
use crate::common::Error;
use crate::demand::{Actual, Demand};
use crate::replay::{self, Replay, Row};

/// Scale-down runs a day the schedule advice chooses (the template's default count).
pub(super) const SCHEDULE_RUNS: usize = 4;

/// What every decision needs.
pub(super) struct Setup<'a> {
    /// The deployment's default settings (tags override them per table).
    pub defaults: &'a Settings,
    /// The opt-in tag key, the prefix of the min tags.
    pub tag_key: &'a str,
    /// Prices.
    pub prices: &'a Prices,
    /// The deployed scale-down times.
    pub deployed: &'a ScaleDownSchedule,
    /// Units already reserved: reads, writes.
    pub reserved: [u64; 2],
    /// The smallest monthly saving worth a switch of class or mode.
    pub min_saving: f64,
    /// Now.
    pub now: Timestamp,
}

/// The period asked for, for the report.
pub(super) struct Period {
    pub region: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub days: u32,
}

/// One dimension of a table or GSI, replayed from its first datapoint on.
pub(super) struct ReplayedSeries {
    /// `None` for the table, else the GSI.
    pub index: Option<String>,
    /// Read or write.
    pub dimension: Dimension,
    /// Provisioned now.
    pub current: u64,
    /// Ours' settings for it.
    pub settings: Settings,
    /// The model, at the table's class prices and the deployed schedule.
    pub params: ModelParams,
    /// Its demand.
    pub trace: Trace,
    /// What it actually had and cost.
    pub actual: Actual,
    /// Throttle events actually observed.
    pub observed_throttles: f64,
    /// `ours`, `aws-target-tracking`, `on-demand`, `clairvoyant` (replay.rs).
    pub rows: Vec<Row>,
    /// Ours at the deployed times.
    pub ours: Run,
    /// Ours at the quota's pace (hourly).
    pub hourly: Run,
}

impl ReplayedSeries {
    /// Hours of history replayed.
    pub fn hours(&self) -> f64 {
        self.trace.len() as f64 / 60.0
    }

    /// Dollars over the history as dollars a month.
    pub fn month(&self, usd: f64) -> f64 {
        per_month(usd, self.hours())
    }

    /// The row of `policy`.
    pub fn row(&self, policy: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.policy == policy)
    }

    /// Dollars of a run at the model's price.
    pub fn run_usd(&self, run: &Run) -> f64 {
        run.unit_hours() * self.params.price_per_unit_hour
    }

    /// The request units the on-demand model served (what it billed).
    pub fn on_demand_units(&self) -> f64 {
        self.row("on-demand").map_or(0.0, |r| {
            r.cost_usd / self.params.on_demand_price_per_million * 1e6
        })
    }

    /// Ours (deployed times) and on-demand, per month.
    fn throughput_month(&self) -> Throughput {
        let scale = HOURS_PER_MONTH / self.hours().max(1.0 / 60.0);
        Throughput {
            dimension: self.dimension,
            provisioned_unit_hours: self.ours.unit_hours() * scale,
            on_demand_units: self.on_demand_units() * scale,
        }
    }
}

/// One table, its runs and its class and mode decision.
pub(super) struct Table {
    pub name: String,
    /// The opt-in tag's mode (`None`: not opted in, advised with `--ignore-opt-in`).
    pub mode: Option<Mode>,
    pub billing: CapacityMode,
    pub storage: Storage,
    pub targets: Vec<ReplayedSeries>,
    pub options: Vec<Choice>,
    pub recommendation: Recommendation,
    /// What the table actually cost a month: its dimensions' actual cost, and storage at its class.
    pub actual_usd_month: f64,
    /// What the switch rules say about the recommended switch.
    pub switch_notes: Vec<String>,
}

impl Table {
    /// Reserved capacity would apply: advised onto Standard and provisioned.
    pub fn reservation_eligible(&self) -> bool {
        self.recommendation.choice.class == TableClass::Standard
            && self.recommendation.choice.mode == CapacityMode::Provisioned
    }

    /// The longest history of its targets, days.
    pub fn history_days(&self) -> f64 {
        self.targets
            .iter()
            .map(ReplayedSeries::hours)
            .fold(0.0, f64::max)
            / 24.0
    }
}

/// A schedule's cost over the schedule's tables.
pub(super) struct Priced {
    pub schedule: ScaleDownSchedule,
    pub usd_month: f64,
    pub refused_units: f64,
    pub demanded_units: f64,
}

/// The scale-down schedule advice.
pub(super) struct Schedule {
    pub tables: Vec<String>,
    pub targets: usize,
    pub deployed: Priced,
    pub best: Priced,
    pub hourly: Priced,
}

/// Reserved capacity of one dimension.
pub(super) struct Reserved {
    pub dimension: Dimension,
    pub tables: Vec<String>,
    /// Start of the window every table has history for.
    pub start: Timestamp,
    /// Ours' capacity summed over the tables, per minute of the window.
    pub capacity: Vec<u64>,
    /// Their demand summed, units/s per minute.
    pub demand: Vec<f64>,
    /// One per term (1 year, 3 years).
    pub terms: Vec<Reservation>,
}

/// A recommended min tag.
pub(super) struct MinTag {
    pub table: String,
    pub index: Option<String>,
    pub dimension: Dimension,
    pub key: String,
    pub value: u64,
    pub current_min: u64,
}

/// Everything advised.
pub(super) struct Advised {
    pub tables: Vec<Table>,
    pub schedule: Option<Schedule>,
    pub reservations: Vec<Reserved>,
    pub min_tags: Vec<MinTag>,
}

/// Replays one dimension of a table or GSI (`None` when it has no datapoint).
fn target(
    setup: &Setup<'_>,
    f: &Found,
    index: Option<&str>,
    demand: &Demand,
    settings: &Settings,
    notes: &mut Vec<String>,
) -> Result<Option<ReplayedSeries>, Error> {
    let dimension = demand.dimension;
    let shown = match index {
        Some(i) => format!("{}/{i}", f.name),
        None => f.name.clone(),
    };
    let Some(demand) = demand.since_first_datapoint() else {
        notes.push(format!(
            "{shown} {dimension}: no Consumed/ThrottleEvents datapoint in the period: nothing to replay"
        ));
        return Ok(None);
    };
    let part = f
        .description
        .table_and_indexes
        .iter()
        .find(|t| t.index.as_deref() == index);
    let current = part.map_or(0, |p| match dimension {
        Dimension::Read => p.read.provisioned,
        Dimension::Write => p.write.provisioned,
    });
    let class = setup.prices.class(f.storage.class);
    let mut params = ModelParams::for_dimension(dimension);
    params.price_per_unit_hour = class.unit_hour(dimension);
    params.on_demand_price_per_million = class.per_million(dimension);
    params.scale_down = setup.deployed.clone();
    // Its note is said once for all targets ([`actual_notes`]).
    let actual = demand.actual(f.description.billing, current, &params, &shown);
    // Every simulated policy starts settled, at what ours would set for the first minutes'
    // peak: the months after a change matter here, not the hours ours would spend lowering an
    // over-provisioned table (which would weigh heavily in a short history).
    let settle = params.warmup_minutes.max(settings.down_window_minutes) as usize;
    let first_peak = demand
        .trace
        .demand
        .iter()
        .take(settle)
        .flatten()
        .fold(0.0, |a: f64, d| a.max(*d));
    let bounds = settings.bounds(dimension);
    params.initial_capacity = Some(
        scaling_policy::ceil_units(first_peak / settings.target)
            .clamp(bounds.min.max(1), bounds.max.max(1)),
    );
    params.on_demand_initial_peak = Some(match f.description.billing {
        Billing::Provisioned => {
            let highest = actual
                .capacity
                .iter()
                .copied()
                .fold(current as f64, f64::max);
            advice::on_demand_initial_peak(dimension, Some(highest))
        }
        // Already on-demand: it has served at least the period's peak before.
        Billing::OnDemand => {
            advice::on_demand_initial_peak(dimension, None).max(demand.trace.peak())
        }
    });
    let replayed = replay::replay(&Replay {
        trace: &demand.trace,
        dimension,
        params: &params,
        settings,
    })?;
    notes.extend(replayed.notes);
    let mut paced = params.clone();
    paced.scale_down = ScaleDownSchedule::every(60)?;
    let hourly = replay::ours(&demand.trace, dimension, &paced, settings);
    Ok(Some(ReplayedSeries {
        index: index.map(str::to_owned),
        dimension,
        current,
        settings: settings.clone(),
        observed_throttles: demand.observed_throttles(),
        params,
        trace: demand.trace,
        actual,
        rows: replayed.rows,
        ours: replayed.ours,
        hourly,
    }))
}

/// One table's runs and decision: `Ok(None)` when it has no datapoint, `Err` (a message naming
/// it) when its tags do not resolve.
fn table(
    setup: &Setup<'_>,
    f: &Found,
    notes: &mut Vec<String>,
) -> Result<Result<Option<Table>, String>, Error> {
    let billing = match f.description.billing {
        Billing::Provisioned => CapacityMode::Provisioned,
        Billing::OnDemand => CapacityMode::OnDemand,
    };
    let mut targets = Vec::new();
    for (index, history) in &f.histories {
        let settings = match f.tags.resolve(setup.defaults, index.as_deref()) {
            Ok(s) => s,
            Err(e) => return Ok(Err(format!("table {:?}: {e}", f.name))),
        };
        let shown = match index {
            Some(i) => format!("{}/{i}", f.name),
            None => f.name.clone(),
        };
        for series in &history.series {
            let demand = Demand::from_history(history, series, &shown);
            if let Some(t) = target(setup, f, index.as_deref(), &demand, &settings, notes)? {
                targets.push(t);
            }
        }
    }
    if targets.is_empty() {
        return Ok(Ok(None));
    }
    let throughput: Vec<Throughput> = targets
        .iter()
        .map(ReplayedSeries::throughput_month)
        .collect();
    let options = advice::options(
        &throughput,
        f.storage.bytes as f64,
        HOURS_PER_MONTH,
        setup.prices,
    );
    let recommendation = advice::recommend(&options, (f.storage.class, billing), setup.min_saving)?;
    let storage_month = options
        .iter()
        .find(|o| o.class == f.storage.class)
        .map_or(0.0, |o| o.storage_usd_month);
    let actual_usd_month =
        targets.iter().map(|t| t.month(t.actual.usd)).sum::<f64>() + storage_month;
    let mut switch_notes = Vec::new();
    switch_notes.extend(advice::mode_switch_note(
        billing,
        recommendation.choice.mode,
        f.storage.last_to_on_demand,
        setup.now,
    ));
    if recommendation.choice.class != f.storage.class {
        switch_notes.push(CLASS_SWITCH_RULE.to_owned());
    }
    Ok(Ok(Some(Table {
        name: f.name.clone(),
        mode: f.tags.mode,
        billing,
        storage: f.storage.clone(),
        targets,
        options,
        recommendation,
        actual_usd_month,
        switch_notes,
    })))
}

/// Sums a cost over targets, each per month over its own history.
fn priced<'a>(
    schedule: ScaleDownSchedule,
    runs: impl Iterator<Item = (&'a ReplayedSeries, &'a Run)>,
) -> Priced {
    let mut p = Priced {
        schedule,
        usd_month: 0.0,
        refused_units: 0.0,
        demanded_units: 0.0,
    };
    for (t, run) in runs {
        p.usd_month += t.month(t.run_usd(run));
        p.refused_units += run.refused_units();
        p.demanded_units += t.trace.total_units();
    }
    p
}

/// The best four scale-down times for the opted-in tables advised onto provisioned, and ours
/// replayed at them.
fn schedule(setup: &Setup<'_>, tables: &[Table]) -> Result<Option<Schedule>, Error> {
    let members: Vec<(&Table, &ReplayedSeries)> = tables
        .iter()
        .filter(|t| t.mode.is_some() && t.recommendation.choice.mode == CapacityMode::Provisioned)
        .flat_map(|t| t.targets.iter().map(move |g| (t, g)))
        .collect();
    let Some((_, first)) = members.first() else {
        return Ok(None);
    };
    let lowerable: Vec<Vec<u64>> = members
        .iter()
        .map(|(_, t)| {
            let lookback = (t.settings.down_window_minutes + t.params.publish_delay) as usize;
            advice::lowerable(
                &reference::required_units(&t.trace, &t.params),
                lookback,
                t.settings.target,
            )
        })
        .collect();
    let requirements: Vec<Requirement<'_>> = members
        .iter()
        .zip(&lowerable)
        .map(|((_, t), units)| Requirement {
            units,
            first_minute: t.trace.start.unix().div_euclid(60),
            weight: t.params.price_per_unit_hour,
        })
        .collect();
    let hours: Vec<u32> = (0..24).map(|h| h * 60).collect();
    let chosen = choose_daily_runs(
        &requirements,
        SCHEDULE_RUNS,
        &hours,
        first.params.update_delay as usize,
    )?
    .schedule;
    let best_runs: Vec<Run> = members
        .iter()
        .map(|(_, t)| {
            let mut p = t.params.clone();
            p.scale_down = chosen.clone();
            replay::ours(&t.trace, t.dimension, &p, &t.settings)
        })
        .collect();
    let mut names: Vec<String> = members.iter().map(|(t, _)| t.name.clone()).collect();
    names.dedup();
    Ok(Some(Schedule {
        tables: names,
        targets: members.len(),
        deployed: priced(
            setup.deployed.clone(),
            members.iter().map(|(_, t)| (*t, &t.ours)),
        ),
        best: priced(
            chosen,
            members.iter().map(|(_, t)| *t).zip(best_runs.iter()),
        ),
        hourly: priced(
            ScaleDownSchedule::every(60)?,
            members.iter().map(|(_, t)| (*t, &t.hourly)),
        ),
    }))
}

/// The min tag key of `setting` for a table (`index` `None`) or one of its GSIs.
pub(super) fn tag_key(prefix: &str, index: Option<&str>, setting: Setting) -> String {
    match index {
        Some(i) => format!("{prefix}:index:{i}:{}", setting.tag_name()),
        None => format!("{prefix}:{}", setting.tag_name()),
    }
}

/// Capacity and demand summed minute by minute over some targets.
pub(super) struct Aggregate {
    /// Start of the window every target has history for (`fallback` when there is none).
    pub start: Timestamp,
    /// Ours' capacity (deployed times) summed, per minute of the window.
    pub capacity: Vec<u64>,
    /// Demand summed, units/s per minute of the window.
    pub demand: Vec<f64>,
}

/// The sum of `targets` over the window they all have history for (they all end at the same
/// minute), and each one's capacity over it.
fn aggregate<'a>(
    targets: &[&'a ReplayedSeries],
    fallback: Timestamp,
) -> (Aggregate, Vec<&'a [u64]>) {
    let start = targets
        .iter()
        .map(|g| g.trace.start)
        .max()
        .unwrap_or(fallback);
    let offset =
        |g: &ReplayedSeries| usize::try_from(start.secs_since(g.trace.start) / 60).unwrap_or(0);
    let minutes = targets
        .iter()
        .map(|g| g.trace.len().saturating_sub(offset(g)))
        .min()
        .unwrap_or(0);
    let slices: Vec<&'a [u64]> = targets
        .iter()
        .map(|g| &g.ours.provisioned[offset(g)..offset(g) + minutes])
        .collect();
    let capacity = (0..minutes)
        .map(|i| slices.iter().map(|s| s[i]).sum())
        .collect();
    let demand = (0..minutes)
        .map(|i| {
            targets
                .iter()
                .map(|g| g.trace.demand_at(offset(g) + i))
                .sum()
        })
        .collect();
    (
        Aggregate {
            start,
            capacity,
            demand,
        },
        slices,
    )
}

/// Every advised target of `dimension` summed (what the plot shows when no table is advised
/// onto Standard and provisioned).
pub(super) fn everything(
    advised: &Advised,
    dimension: Dimension,
    fallback: Timestamp,
) -> Aggregate {
    let targets: Vec<&ReplayedSeries> = advised
        .tables
        .iter()
        .flat_map(|t| &t.targets)
        .filter(|g| g.dimension == dimension)
        .collect();
    aggregate(&targets, fallback).0
}

/// Reserved capacity per dimension over the tables advised onto Standard and provisioned, and
/// the min tags at their shares of the 1-year level.
fn reservations(setup: &Setup<'_>, tables: &[Table]) -> (Vec<Reserved>, Vec<MinTag>) {
    let mut out = Vec::new();
    let mut tags = Vec::new();
    for (k, dimension) in Dimension::BOTH.into_iter().enumerate() {
        let members: Vec<(&Table, &ReplayedSeries)> = tables
            .iter()
            .filter(|t| t.reservation_eligible())
            .flat_map(|t| t.targets.iter().map(move |g| (t, g)))
            .filter(|(_, g)| g.dimension == dimension)
            .collect();
        let targets: Vec<&ReplayedSeries> = members.iter().map(|(_, g)| *g).collect();
        let (sum, slices) = aggregate(&targets, setup.now.floor_minute());
        let (start, capacity, demand) = (sum.start, sum.capacity, sum.demand);
        let existing = setup.reserved[k];
        let standard = setup.prices.standard.unit_hour(dimension);
        let terms: Vec<Reservation> = setup
            .prices
            .reserved
            .iter()
            .map(|term| advice::reserve(&capacity, existing, standard, term, dimension))
            .collect();
        let level = existing + terms.first().map_or(0, |r| r.units);
        let setting = match dimension {
            Dimension::Read => Setting::ReadMin,
            Dimension::Write => Setting::WriteMin,
        };
        for ((table, g), share) in members.iter().zip(advice::shares(&slices, level)) {
            let bounds = g.settings.bounds(dimension);
            let value = share.min(bounds.max);
            if value > bounds.min {
                tags.push(MinTag {
                    table: table.name.clone(),
                    index: g.index.clone(),
                    dimension,
                    key: tag_key(setup.tag_key, g.index.as_deref(), setting),
                    value,
                    current_min: bounds.min,
                });
            }
        }
        let mut names: Vec<String> = members.iter().map(|(t, _)| t.name.clone()).collect();
        names.dedup();
        out.push(Reserved {
            dimension,
            tables: names,
            start,
            capacity,
            demand,
            terms,
        });
    }
    (out, tags)
}

/// Where the `actual` figures came from when not from CloudWatch's provisioned metric, one
/// note for all the tables and GSIs alike.
fn actual_notes(tables: &[Table]) -> Vec<String> {
    let mut held = Vec::new();
    let mut notes = Vec::new();
    for t in tables {
        let mut dims: Vec<(Option<&str>, Vec<&str>)> = Vec::new();
        for g in t
            .targets
            .iter()
            .filter(|g| g.actual.source == "current_capacity")
        {
            match dims.iter_mut().find(|(i, _)| *i == g.index.as_deref()) {
                Some((_, d)) => d.push(g.dimension.as_str()),
                None => dims.push((g.index.as_deref(), vec![g.dimension.as_str()])),
            }
        }
        for (index, d) in dims {
            let shown = match index {
                Some(i) => format!("{}/{i}", t.name),
                None => t.name.clone(),
            };
            held.push(format!("{shown} ({})", d.join(", ")));
        }
        if t.billing == CapacityMode::OnDemand {
            notes.push(format!(
                "{} is on-demand: `actual` is the on-demand bill of its consumed units",
                t.name
            ));
        }
    }
    if !held.is_empty() {
        notes.insert(
            0,
            format!(
                "CloudWatch has no Provisioned{{Read,Write}}CapacityUnits datapoint for {}: `actual` assumes the current provisioned capacity held constant over the whole period",
                held.join(", ")
            ),
        );
    }
    notes
}

/// Every decision, from the tables found. A table whose tags do not resolve goes to `failed`.
pub(super) fn advise(
    setup: &Setup<'_>,
    found: &[Found],
    notes: &mut Vec<String>,
    failed: &mut Vec<String>,
) -> Result<Advised, Error> {
    let mut tables = Vec::new();
    for f in found {
        match table(setup, f, notes)? {
            Ok(Some(t)) => tables.push(t),
            Ok(None) => notes.push(format!(
                "{}: no consumed-capacity or throttle datapoint in the period: nothing to advise",
                f.name
            )),
            Err(e) => failed.push(e),
        }
    }
    notes.extend(actual_notes(&tables));
    let schedule = schedule(setup, &tables)?;
    let (reservations, min_tags) = reservations(setup, &tables);
    Ok(Advised {
        tables,
        schedule,
        reservations,
        min_tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scaling_policy::TableTags;

    #[test]
    fn min_tag_keys_are_the_overrides_the_scaler_reads() {
        let table = tag_key("ddb-autoscaler", None, Setting::ReadMin);
        let gsi = tag_key("ddb-autoscaler", Some("by-customer"), Setting::WriteMin);
        assert_eq!(table, "ddb-autoscaler:read-min");
        assert_eq!(gsi, "ddb-autoscaler:index:by-customer:write-min");
        let tags = [
            ("ddb-autoscaler", "on"),
            (table.as_str(), "300"),
            (gsi.as_str(), "47"),
        ];
        let parsed = TableTags::parse("ddb-autoscaler", tags.iter().copied()).unwrap();
        let defaults = Settings::default();
        assert_eq!(parsed.resolve(&defaults, None).unwrap().read.min, 300);
        let index = parsed.resolve(&defaults, Some("by-customer")).unwrap();
        assert_eq!((index.read.min, index.write.min), (300, 47));
    }
}
