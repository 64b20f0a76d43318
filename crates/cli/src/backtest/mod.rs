//! `ddb-autoscaler backtest`: a table's (or GSI's) real CloudWatch history replayed through the
//! simulator, so that ours, AWS target tracking and on-demand can be compared with what the
//! table actually cost and throttled.
//!
//! The command wires four stages, each in its own module:
//! 1. **Fetch** (`history.rs`): for each dimension asked for (`--dimension read|write|both`,
//!    default both), the consumed, throttle and provisioned series of the table, or of the GSI
//!    with `--index`, over the last `--days` days (default 14) ending at the last complete
//!    minute, at the finest period CloudWatch keeps for each age, in calls within the API's
//!    datapoint limit, with a progress bar on a terminal.
//! 2. **Demand** (`demand.rs`): consumed plus throttled units per minute, a coarser datapoint
//!    spread over its minutes; a minute without data is a gap.
//! 3. **Replay** (`replay.rs`): ours with this table's settings (deployment defaults from the
//!    `AUTOSCALER_*` variables plus its override tags, scale-down at `--scale-down-hours`,
//!    default 0,6,12,18 UTC, the template's default), AWS target tracking (70%), on-demand, and
//!    the clairvoyant schedule (perfect foresight, a reference and not a policy: its cost is an
//!    upper bound of the cheapest achievable cost), every policy starting at the capacity the
//!    table actually had at the start.
//! 4. **Render** (`backtest/render.rs`): the tables or JSON, and with `--plot FILE` a PNG: per
//!    dimension, demand with the actual, ours and target tracking capacities, and below it their
//!    throttling.
//!
//! **What actually happened** (`actual`, computed here): the cost of the provisioned series
//! from CloudWatch (unit-hours = sum of the per-minute capacity / 60; a coarser or missing
//! datapoint holds the previous value) and the throttle events actually observed. When
//! CloudWatch has no provisioned datapoint at all (the local emulator never has), the current
//! provisioned capacity is held constant over the whole period and a note says so. For an
//! on-demand table, `actual` is the on-demand bill of the consumed units. Its throttling is the
//! observed throttle events / demanded units (each event counted as one unit, as the demand
//! does).
//!
//! A table that has not opted in is refused (so that a wrong tag key does not go unnoticed);
//! `--ignore-opt-in` backtests it with the deployment defaults.
//!
//! ## JSON (`--json`)
//! One object:
//! - `table`, `index` (`null` for the table), `region`, `tag_key`, `mode` (`on`, `dry-run`, or
//!   `null` when not opted in), `start`, `end` (RFC 3339, the trace covers `[start, end)`),
//!   `days`, `minutes`, `scale_down_hours` (UTC hours of the simulated scale-down runs);
//! - `fetch`: `calls` (`GetMetricData` requests), `datapoints` (received), `periods` (seconds
//!   used, coarsest first);
//! - `dimensions`: per dimension, `dimension` (`read`/`write`), `billing` (`provisioned` or
//!   `on-demand`), `actual_source` (`cloudwatch`, `current_capacity` when the provisioned
//!   metric had no datapoint, or `on_demand_bill`), `current_provisioned`, `demand`
//!   (`total_units`, `peak` and `mean` in units/s, `known_minutes`, `gap_minutes`), and `rows`:
//!   one per policy in the order `actual`, `ours`, `aws-target-tracking`, `on-demand`,
//!   `clairvoyant`, each with `policy`, `cost_unit_hours` (for on-demand: the provisioned
//!   unit-hours costing the same), `cost_usd` (us-east-1 prices), `cost_vs_actual`,
//!   `throttled_units`, `throttled_pct`, `throttled_minutes`, `increases` and `decreases`
//!   (`null` where they do not apply or are unknown);
//! - `totals`: per policy over the dimensions, `policy`, `cost_usd`, `cost_vs_actual`,
//!   `throttled_units`;
//! - `notes`: what a reader should know (fallbacks, gaps, simulator remarks).

mod render;

use std::path::PathBuf;

use autoscaler_aws::aws::MAX_DATAPOINTS_PER_CALL;
use autoscaler_aws::table::Billing;
use capacity_sim::ModelParams;
use scaling_policy::time::DAY_SECS;
use scaling_policy::{Dimension, Mode, Settings, TableTags};
use serde::Serialize;

use crate::account::{self, AwsArgs};
use crate::common::Error;
use crate::demand::Demand;
use crate::history::{self, History, MAX_DAYS};
use crate::output;
use crate::replay::{self, Replay, Row};
use capacity_sim::report::percent_of;
use render::Drawn;

/// Which dimensions to backtest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DimensionsArg {
    /// Read capacity only.
    Read,
    /// Write capacity only.
    Write,
    /// Both, each simulated on its own.
    Both,
}

/// Arguments of `backtest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The table.
    #[arg(long, value_name = "NAME")]
    table: String,
    /// A GSI of the table, instead of the table itself.
    #[arg(long, value_name = "NAME")]
    index: Option<String>,
    /// Days of history, ending at the last complete minute (CloudWatch keeps 455).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_DAYS)))]
    days: u32,
    /// Which dimensions to backtest.
    #[arg(long, value_enum, default_value = "both")]
    dimension: DimensionsArg,
    /// Print JSON instead of the tables (stable fields, documented in crates/cli/src/backtest/mod.rs).
    #[arg(long)]
    json: bool,
    /// Also draw demand, capacities and throttling to this PNG file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Backtest a table that has not opted in, with the deployment's default settings.
    #[arg(long)]
    ignore_opt_in: bool,
    /// UTC hours of the simulated scale-down runs, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,6,12,18")]
    scale_down_hours: Vec<u32>,
    /// Datapoints one GetMetricData call may return (CloudWatch: 100,800); lower only to test
    /// the windowing.
    #[arg(long, hide = true, default_value_t = MAX_DATAPOINTS_PER_CALL)]
    max_datapoints_per_call: usize,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Serialize)]
struct DemandStats {
    total_units: f64,
    peak: f64,
    mean: Option<f64>,
    known_minutes: usize,
    gap_minutes: usize,
}

#[derive(Debug, Serialize)]
struct DimensionReport {
    dimension: Dimension,
    billing: &'static str,
    actual_source: &'static str,
    current_provisioned: u64,
    demand: DemandStats,
    rows: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Fetch {
    calls: usize,
    datapoints: usize,
    periods: Vec<i64>,
}

#[derive(Debug, Serialize)]
struct Total {
    policy: String,
    cost_usd: f64,
    cost_vs_actual: Option<f64>,
    throttled_units: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    table: String,
    index: Option<String>,
    region: String,
    tag_key: String,
    mode: Option<Mode>,
    start: String,
    end: String,
    days: u32,
    minutes: usize,
    scale_down_hours: Vec<u32>,
    fetch: Fetch,
    dimensions: Vec<DimensionReport>,
    totals: Vec<Total>,
    notes: Vec<String>,
}

/// What the comparison of one dimension needs besides its demand.
struct Setup<'a> {
    /// The table (or `table/index`), as messages name it.
    shown: &'a str,
    billing: Billing,
    /// Ours' settings.
    settings: &'a Settings,
    scale_down_hours: &'a [u32],
}

/// The comparison of one dimension: its report and what the plot draws.
struct Compared {
    report: DimensionReport,
    drawn: Drawn,
}

/// The `actual` row: what the table cost and throttled ([`Demand::actual`]), and the capacity
/// series behind it (empty for an on-demand table); and where its cost came from.
fn actual(
    setup: &Setup<'_>,
    demand: &Demand,
    params: &ModelParams,
    current: u64,
    notes: &mut Vec<String>,
) -> (&'static str, Vec<f64>, Row) {
    let demanded = demand.trace.total_units();
    let observed_throttles = demand.observed_throttles();
    let found = demand.actual(setup.billing, current, params, setup.shown);
    notes.extend(found.note);
    let counts = if setup.billing == Billing::OnDemand {
        None
    } else {
        demand.provisioned_changes()
    };
    let row = Row {
        policy: "actual".into(),
        cost_unit_hours: found.unit_hours,
        cost_usd: found.usd,
        cost_vs_actual: None,
        throttled_units: observed_throttles,
        throttled_pct: percent_of(observed_throttles, demanded),
        throttled_minutes: demand.throttled_minutes(),
        increases: counts.map(|c| c.0),
        decreases: counts.map(|c| c.1),
    };
    (found.source, found.capacity, row)
}

/// Compares the policies on one dimension whose table had `current` units provisioned now;
/// `None` (with a note) when there is no demand datapoint to replay.
fn compare(
    setup: &Setup<'_>,
    demand: Demand,
    current: u64,
    notes: &mut Vec<String>,
) -> Result<Option<Compared>, Error> {
    let dimension = demand.dimension;
    let known = demand.known_minutes();
    if known == 0 {
        notes.push(format!(
            "{dimension}: no Consumed/ThrottleEvents datapoint for {} in the period: nothing to replay",
            setup.shown
        ));
        return Ok(None);
    }
    let mut params = ModelParams::for_dimension(dimension);
    params.scale_down = capacity_sim::ScaleDownSchedule::at_hours(setup.scale_down_hours)?;
    let (actual_source, actual_series, actual_row) =
        actual(setup, &demand, &params, current, notes);
    // Every policy starts where the table was.
    if let Some(first) = actual_series.first() {
        params.initial_capacity = Some(scaling_policy::ceil_units(*first).max(1));
    }
    let trace = &demand.trace;
    let replayed = replay::replay(&Replay {
        trace,
        dimension,
        params: &params,
        settings: setup.settings,
    })?;
    notes.extend(replayed.notes);
    let mut rows = vec![actual_row];
    rows.extend(replayed.rows);
    let actual_usd = rows[0].cost_usd;
    for r in &mut rows {
        r.cost_vs_actual = (actual_usd > 0.0).then(|| r.cost_usd / actual_usd);
    }

    let n = trace.len();
    let report = DimensionReport {
        dimension,
        billing: if setup.billing == Billing::OnDemand {
            "on-demand"
        } else {
            "provisioned"
        },
        actual_source,
        current_provisioned: current,
        demand: DemandStats {
            total_units: trace.total_units(),
            peak: trace.peak(),
            mean: Some(trace.demand.iter().flatten().sum::<f64>() / known as f64),
            known_minutes: known,
            gap_minutes: trace.gap_minutes(),
        },
        rows,
    };
    if trace.gap_minutes() > 0 {
        notes.push(format!(
            "{dimension}: {} of {n} minutes have no consumed or throttle datapoint (replayed as no traffic)",
            trace.gap_minutes()
        ));
    }
    let drawn = Drawn {
        dimension,
        demand: (0..n).map(|i| trace.demand_at(i)).collect(),
        actual: actual_series,
        actual_throttled: demand
            .throttled
            .iter()
            .map(|t| t.unwrap_or(0.0) / 60.0)
            .collect(),
        tracking: replayed.tracking,
        ours: replayed.ours,
    };
    Ok(Some(Compared { report, drawn }))
}

/// The policies' totals over the dimensions, in row order.
fn totals(reports: &[DimensionReport]) -> Vec<Total> {
    let mut totals: Vec<Total> = Vec::new();
    for r in reports.iter().flat_map(|d| &d.rows) {
        match totals.iter_mut().find(|t| t.policy == r.policy) {
            Some(t) => {
                t.cost_usd += r.cost_usd;
                t.throttled_units += r.throttled_units;
            }
            None => totals.push(Total {
                policy: r.policy.clone(),
                cost_usd: r.cost_usd,
                cost_vs_actual: None,
                throttled_units: r.throttled_units,
            }),
        }
    }
    let actual_usd = totals
        .iter()
        .find(|t| t.policy == "actual")
        .map_or(0.0, |t| t.cost_usd);
    for t in &mut totals {
        t.cost_vs_actual = (actual_usd > 0.0).then(|| t.cost_usd / actual_usd);
    }
    totals
}

/// Runs `backtest`.
pub async fn run(args: Args) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let name = args.table.clone();
    let (description, tagged) = account::describe_and_tags(&aws, &name).await?;
    let part = description
        .table_and_indexes
        .iter()
        .find(|t| t.index.as_deref() == args.index.as_deref())
        .ok_or_else(|| -> Error {
            let gsis: Vec<&str> = description
                .table_and_indexes
                .iter()
                .filter_map(|t| t.index.as_deref())
                .collect();
            format!(
                "table {name:?} has no GSI {:?} (its GSIs: {})",
                args.index.as_deref().unwrap_or_default(),
                if gsis.is_empty() {
                    "none".to_owned()
                } else {
                    gsis.join(", ")
                }
            )
            .into()
        })?
        .clone();
    let key = aws.config.tag_key.clone();
    let tags: Vec<(String, String)> = tagged.map(|t| t.tags).unwrap_or_default();
    let parsed = TableTags::parse(&key, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| format!("table {name:?}: {e}"))?;
    if parsed.mode.is_none() && !args.ignore_opt_in {
        let value = tags
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str());
        return Err(format!(
            "{}; to backtest it anyway, with the default settings, pass --ignore-opt-in",
            account::not_opted_in(&name, &key, value)
        )
        .into());
    }
    let settings = parsed
        .resolve(&aws.config.defaults, args.index.as_deref())
        .map_err(|e| format!("table {name:?}: {e}"))?;
    let shown = match &args.index {
        Some(i) => format!("{name}/{i}"),
        None => name.clone(),
    };

    let now = autoscaler_aws::now();
    let end = now.floor_minute();
    let dimensions: &[Dimension] = match args.dimension {
        DimensionsArg::Read => &[Dimension::Read],
        DimensionsArg::Write => &[Dimension::Write],
        DimensionsArg::Both => &Dimension::BOTH,
    };
    let history: History = history::fetch(
        &aws.clients,
        &history::Request {
            table: &name,
            index: args.index.as_deref(),
            dimensions,
            start: end.plus_secs(-DAY_SECS * i64::from(args.days)),
            end,
            now,
            max_datapoints_per_call: args.max_datapoints_per_call,
        },
    )
    .await
    .map_err(|e| account::aws_error(&e))?;

    let setup = Setup {
        shown: &shown,
        billing: description.billing,
        settings: &settings,
        scale_down_hours: &args.scale_down_hours,
    };
    let mut notes = Vec::new();
    let mut reports = Vec::new();
    let mut drawn = Vec::new();
    for series in &history.series {
        let current = match series.dimension {
            Dimension::Read => part.read.provisioned,
            Dimension::Write => part.write.provisioned,
        };
        let demand = Demand::from_history(&history, series, &shown);
        if let Some(c) = compare(&setup, demand, current, &mut notes)? {
            reports.push(c.report);
            drawn.push(c.drawn);
        }
    }
    if reports.is_empty() {
        return Err(format!(
            "CloudWatch has no consumed-capacity or throttle datapoint for {shown} in the last {} days (in region {}): nothing to backtest",
            args.days, aws.region
        )
        .into());
    }

    let report = Report {
        table: name.clone(),
        index: args.index.clone(),
        region: aws.region.clone(),
        tag_key: key.clone(),
        mode: parsed.mode,
        start: history.start.to_string(),
        end: end.to_string(),
        days: args.days,
        minutes: history.minutes(),
        scale_down_hours: args.scale_down_hours.clone(),
        fetch: Fetch {
            calls: history.calls,
            datapoints: history.datapoints,
            periods: history.periods,
        },
        totals: totals(&reports),
        dimensions: reports,
        notes,
    };
    if let Some(path) = &args.plot {
        render::plot(path, &shown, &report, &drawn)?;
    }
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        output::emit(&render::text(&report, &settings, &shown))?;
    }
    if let Some(path) = &args.plot {
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}
