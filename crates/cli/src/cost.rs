//! `ddb-autoscaler cost`: what ddb-autoscaler itself costs to run, per 30-day month, next to
//! polling every minute and to AWS target tracking's alarms for the same tables.
//!
//! **Where the fleet comes from** (one of):
//! - **the account** (the default): every opted-in table and GSI, discovered and described as
//!   the functions do, each series' last `--hours` of CloudWatch datapoints (consumed, throttle
//!   and key-range throttle events, per minute) replayed through the cadence
//!   (`capacity_sim::cadence::shadow`): exactly the polls the scale-up function makes on that
//!   traffic after a cold start, the scale-down runs of `--scale-down-hours`, scaled to a month.
//!   The look back itself requests three metrics per series (reported as `lookup`).
//! - **flags** (`--tables N [--gsis M] [--mix hot=20,cold=60,throttled=10,idle=10]`): N tables
//!   and M GSIs whose series behave like the classes of `capacity_sim::cadence::fleet`
//!   (simulated with the cadence and every minute); the default mix is the issue's.
//! - **traces** (`--traces DIR`): each `.csv` under DIR as one table's reads and writes
//!   (scaled as `bench` scales them), with the policy's own cost and throttling with the
//!   cadence and polling every minute, side by side.
//!
//! **The bill.** `GetMetricData`: $0.01 per 1,000 metrics requested, no free tier, whatever the
//! window, for both functions (what `capacity_sim::cadence` counts; each run's summary reports
//! the same count, `calls.metrics_requested`). Lambda: $0.20 per million requests and
//! $0.0000133334 per GB-second on arm64 ($0.0000166667 on x86_64) at 128 MB, with run durations
//! that are *assumptions* (`--run-ms`, `--per-table-ms`; no AWS account was at hand to measure
//! them), no free tier. Custom metrics, the stack's EMF metrics (`autoscaler_aws::emf`): $0.30 per
//! metric-month, prorated by the hour and billed for the hours in which a metric gets data. The
//! per-run ones (on unless `--no-run-metrics`, as the stack's `MetricsNamespace=off`): each
//! function's [`RUN_METRICS_PER_FUNCTION`] plus `--decision-metrics` (action, reason) pairs, for
//! every hour for scale-up and for the hours of the scale-down runs; they are the stack's, not a
//! table's, so they are shown apart from the per-table bill. The per-table ones (with
//! `--table-metrics`, the stack's `TableMetrics=true`): [`TABLE_METRICS_PER_CHANGED_TARGET`] for
//! each change of a table or GSI dimension, each in an hour of its own (an upper bound), with
//! the changes simulated (flags, traces: increases and decreases) or replayed (account: the
//! increases; decreases are not replayed). Target tracking's alarms: 4 per dimension of each
//! table or GSI, $0.10 each. CloudWatch Logs of the functions are not included.
//!
//! ## JSON (`--json`)
//! One object: `source` (`account`, `flags` or `traces`), `tables`, `targets` (tables and
//! GSIs), `schedules` {`scale_up`, `scale_down_hours`, `max_poll_minutes`},
//! `get_metric_data` {`metrics_per_month`, `usd_per_month`}, `lambda`
//! {`invocations_per_month`, `gb_seconds_per_month`, `usd_per_month`}, `custom_metrics`
//! {`run_metrics`, `run_usd_per_month`, `changes_per_month`, `table_metric_months`,
//! `table_usd_per_month`, `usd_per_month`}, `total_usd` (everything), `per_table_usd`
//! (`GetMetricData`, Lambda and the per-table metrics, per table: the table-month),
//! `every_minute` {`total_usd`, `per_table_usd`, `table_metrics_usd`, `get_metric_data_usd`}, `target_tracking_alarms` {`alarms`,
//! `usd_per_month`}, `lookup` {`metrics_requested`, `usd`} (account only), `guarantee` (with
//! `--guarantee`: `cases`, `reaching`, `worst_minutes`, `bound_minutes`, `late`, and `beyond`:
//! per step `factor`, `cases`, `mean_minutes`, `worst_minutes`), and `rows`: per
//! table (account), class (flags) or trace, `name`, `share` (flags), `targets`,
//! `metrics`, `scale_up_metrics` and `minutes` (the replayed window, account only), `metrics_per_month` and
//! `get_metric_data_usd` (per table, or per table or GSI for a class), their `every_minute_`
//! counterparts, and for classes and traces `cadence_quality` / `every_minute_quality`
//! {`capacity_usd`, `throttled_pct`, `throttled_minutes`, `increases`, `decreases`,
//! `changes_per_month`} (one series, reads).

use std::fmt::Write as _;
use std::path::PathBuf;

use autoscaler_aws::aws::SeriesKey;
use autoscaler_aws::emf::{RUN_METRICS_PER_FUNCTION, TABLE_METRICS_PER_CHANGED_TARGET};
use autoscaler_aws::run::{Prepared, discover_and_prepare};
use capacity_sim::cadence::fleet::{self, Class, Projection, Quality};
use capacity_sim::cadence::guarantee;
use capacity_sim::cadence::{self as sim_cadence, MINUTES_PER_MONTH, USD_PER_METRIC};
use capacity_sim::trace::parse_timestamp;
use capacity_sim::{ModelParams, ScaleDownSchedule};
use scaling_policy::Settings;
use scaling_policy::cadence::{BUCKET_WINDOW_MINUTES, Cadence};
use serde::Serialize;

use crate::account::{self, AwsArgs};
use crate::common::{self, Error};
use crate::output::{self, dollars};

/// Lambda: dollars per request.
pub const LAMBDA_USD_PER_REQUEST: f64 = 0.20 / 1e6;
/// Lambda on arm64: dollars per GB-second.
pub const LAMBDA_USD_PER_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
/// Lambda on x86_64: dollars per GB-second.
pub const LAMBDA_USD_PER_GB_SECOND_X86_64: f64 = 0.000_016_666_7;
/// The functions' memory (template.yaml), GB.
pub const LAMBDA_MEMORY_GB: f64 = 0.125;
/// A custom metric (an EMF metric, for one): dollars per metric-month.
pub const CUSTOM_METRIC_USD_PER_MONTH: f64 = 0.30;
/// A standard-resolution CloudWatch alarm: dollars per alarm-month.
pub const ALARM_USD_PER_MONTH: f64 = 0.10;
/// Minutes after a minute ends before its datapoint is read, in the account projection (the
/// simulator's default; CloudWatch publishes within 1 to 3).
pub const PUBLISH_DELAY_MINUTES: u32 = 2;
/// Alarms AWS target tracking keeps per dimension of a table or GSI.
pub const TARGET_TRACKING_ALARMS_PER_DIMENSION: u64 = 4;

/// The Lambda architecture (its price per GB-second).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Architecture {
    /// Graviton, the stack's default.
    Arm64,
    /// Intel/AMD.
    #[value(name = "x86_64")]
    X86_64,
}

/// Arguments of `cost`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Project for this many tables instead of the account's.
    #[arg(long, value_name = "N", conflicts_with = "traces")]
    tables: Option<u64>,
    /// GSIs across those tables, in total.
    #[arg(long, value_name = "M", default_value_t = 0, requires = "tables")]
    gsis: u64,
    /// The classes of those tables and GSIs, in percent.
    #[arg(
        long,
        default_value = "hot=20,cold=60,throttled=10,idle=10",
        requires = "tables"
    )]
    mix: String,
    /// Project each .csv trace under this folder as one table's reads and writes.
    #[arg(long, value_name = "DIR")]
    traces: Option<PathBuf>,
    /// Hours of each series' recent datapoints the account projection replays.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=360))]
    hours: u32,
    /// End of those hours (a time such as 2026-11-29T11:00:00Z; default: now).
    #[arg(long, value_name = "TIME")]
    end: Option<String>,
    /// The longest the scale-up function leaves a series' consumed capacity unread (default:
    /// AUTOSCALER_MAX_POLL_MINUTES, else the shipped 10)
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=60))]
    max_poll_minutes: Option<u32>,
    /// UTC hours of the scale-down runs, comma-separated (the stack's ScaleDownSchedule).
    #[arg(long, value_delimiter = ',', default_value = "0,6,12,18")]
    scale_down_hours: Vec<u32>,
    /// The stack writes no per-run metrics (`MetricsNamespace=off`).
    #[arg(long)]
    no_run_metrics: bool,
    /// Distinct (action, reason) pairs of decisions a run writes, a `Decisions` metric each
    /// (an assumption: 2 to 5 is typical).
    #[arg(long, value_name = "N", default_value_t = 4)]
    decision_metrics: u32,
    /// The stack writes per-table metrics too (`TableMetrics=true`).
    #[arg(long)]
    table_metrics: bool,
    /// The functions' architecture.
    #[arg(long, value_enum, default_value = "arm64")]
    architecture: Architecture,
    /// Assumed duration of a run with no table, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 400.0)]
    run_ms: f64,
    /// Assumed duration a run adds per table, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20.0)]
    per_table_ms: f64,
    /// Also prove the cadence's reaction guarantee on the simulator (every case it covers, at
    /// every phase) and measure the steps it does not cover.
    #[arg(long)]
    guarantee: bool,
    /// Print JSON instead of the tables (stable fields, documented in crates/cli/src/cost.rs).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

/// The projected bill.
#[derive(Debug, Serialize)]
struct Bill {
    source: &'static str,
    tables: u64,
    targets: u64,
    schedules: Schedules,
    get_metric_data: Metrics,
    lambda: Lambda,
    custom_metrics: Custom,
    #[serde(skip)]
    decision_metrics: u32,
    total_usd: f64,
    per_table_usd: f64,
    every_minute: EveryMinute,
    target_tracking_alarms: Alarms,
    #[serde(skip_serializing_if = "Option::is_none")]
    lookup: Option<Lookup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guarantee: Option<Guarantee>,
    rows: Vec<Row>,
}

/// The reaction guarantee as proven on the simulator.
#[derive(Debug, Serialize)]
struct Guarantee {
    cases: usize,
    reaching: usize,
    worst_minutes: i64,
    bound_minutes: i64,
    late: usize,
    beyond: Vec<guarantee::Beyond>,
}

#[derive(Debug, Serialize)]
struct Schedules {
    scale_up: &'static str,
    scale_down_hours: Vec<u32>,
    max_poll_minutes: u32,
}

#[derive(Debug, Serialize)]
struct Metrics {
    metrics_per_month: f64,
    usd_per_month: f64,
}

#[derive(Debug, Serialize)]
struct Lambda {
    invocations_per_month: f64,
    gb_seconds_per_month: f64,
    usd_per_month: f64,
}

/// The stack's EMF metrics, as custom metrics.
#[derive(Debug, Serialize)]
struct Custom {
    /// Per-run metrics of both functions, in metric-months (scale-down's prorated to its hours).
    run_metrics: f64,
    run_usd_per_month: f64,
    /// Changes of a table or GSI dimension a month, over the fleet.
    changes_per_month: f64,
    /// Per-table metrics in metric-months (0 without `--table-metrics`).
    table_metric_months: f64,
    table_usd_per_month: f64,
    usd_per_month: f64,
}

#[derive(Debug, Serialize)]
struct EveryMinute {
    total_usd: f64,
    per_table_usd: f64,
    table_metrics_usd: f64,
    get_metric_data_usd: f64,
}

#[derive(Debug, Serialize)]
struct Alarms {
    alarms: u64,
    usd_per_month: f64,
}

#[derive(Debug, Serialize)]
struct Lookup {
    metrics_requested: u64,
    usd: f64,
}

#[derive(Debug, Serialize)]
struct Row {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    share: Option<f64>,
    targets: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scale_up_metrics: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minutes: Option<u64>,
    metrics_per_month: f64,
    get_metric_data_usd: f64,
    every_minute_metrics_per_month: f64,
    every_minute_get_metric_data_usd: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cadence_quality: Option<Quality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    every_minute_quality: Option<Quality>,
}

/// The fleet before pricing: what the rows add up to.
struct Fleet {
    source: &'static str,
    tables: u64,
    targets: u64,
    /// `GetMetricData` metrics a month with the cadence and every minute.
    metrics: (f64, f64),
    /// Changes of a table or GSI dimension a month, over the fleet, with the cadence and every
    /// minute.
    changes_per_month: (f64, f64),
    rows: Vec<Row>,
    lookup: Option<Lookup>,
    header: String,
}

/// Runs `cost`.
pub async fn run(args: Args) -> Result<(), Error> {
    let cadence = Cadence {
        max_interval_minutes: match args.max_poll_minutes {
            Some(m) => m,
            None => {
                autoscaler_aws::RunConfig::from_env()
                    .map_err(|e| e.to_string())?
                    .cadence
                    .max_interval_minutes
            }
        },
        ..Cadence::default()
    };
    if let Some(h) = args.scale_down_hours.iter().find(|h| **h > 23) {
        return Err(format!("--scale-down-hours: {h} is not a UTC hour 0-23").into());
    }
    let fleet = if let Some(n) = args.tables {
        from_flags(&args, n, cadence)?
    } else if let Some(dir) = &args.traces {
        from_traces(&args, dir, cadence)?
    } else {
        from_account(&args, cadence).await?
    };
    let header = fleet.header.clone();
    let mut bill = price(&args, cadence, fleet);
    if args.guarantee {
        let settings = Settings::default();
        let proof = guarantee::prove(&settings, cadence);
        bill.guarantee = Some(Guarantee {
            cases: proof.cases,
            reaching: proof.reaching,
            worst_minutes: proof.worst_minutes,
            bound_minutes: proof.bound_minutes,
            late: proof.violations.len(),
            beyond: guarantee::beyond(&settings, cadence),
        });
    }
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&bill)? + "\n"))?;
    } else {
        output::emit(&render(&bill, &header))?;
    }
    Ok(())
}

/// The scale-down schedule of `--scale-down-hours`.
fn scale_down(args: &Args) -> Result<ScaleDownSchedule, Error> {
    Ok(ScaleDownSchedule::at_hours(&args.scale_down_hours)?)
}

/// The model the projections simulate on: the defaults with the scale-down hours.
fn params(args: &Args) -> Result<ModelParams, Error> {
    Ok(ModelParams {
        scale_down: scale_down(args)?,
        ..ModelParams::default()
    })
}

/// Parses `hot=20,cold=60,...` into shares that sum to 1.
fn parse_mix(text: &str) -> Result<Vec<(Class, f64)>, Error> {
    let mut mix = Vec::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (name, pct) = part
            .split_once('=')
            .ok_or_else(|| format!("--mix: {part:?} is not CLASS=PERCENT (e.g. hot=20)"))?;
        let class = Class::parse(name)?;
        let pct: f64 = pct
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| format!("--mix: {pct:?} is not a percentage"))?;
        if !(0.0..=100.0).contains(&pct) {
            return Err(format!("--mix: {pct}% for {name} is not within 0-100").into());
        }
        mix.push((class, pct / 100.0));
    }
    let total: f64 = mix.iter().map(|(_, s)| s).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(format!(
            "--mix: the shares add up to {:.1}%, not 100%",
            total * 100.0
        )
        .into());
    }
    Ok(mix)
}

/// A row of one projected series, with a table or GSI being two such series (reads and
/// writes with the same demand).
fn projected_row(name: String, share: Option<f64>, targets: u64, p: &Projection) -> Row {
    let per_target = |b: &sim_cadence::Bill| 2.0 * b.metrics_per_month();
    let with = per_target(&p.cadence) * targets as f64;
    let every = per_target(&p.every_minute) * targets as f64;
    Row {
        name,
        share,
        targets,
        metrics: None,
        scale_up_metrics: None,
        minutes: None,
        metrics_per_month: with,
        get_metric_data_usd: with * USD_PER_METRIC,
        every_minute_metrics_per_month: every,
        every_minute_get_metric_data_usd: every * USD_PER_METRIC,
        cadence_quality: Some(p.cadence_quality),
        every_minute_quality: Some(p.every_minute_quality),
    }
}

fn from_flags(args: &Args, tables: u64, cadence: Cadence) -> Result<Fleet, Error> {
    if tables == 0 {
        return Err("--tables: at least one table".into());
    }
    let mix = parse_mix(&args.mix)?;
    let params = params(args)?;
    let targets = tables + args.gsis;
    let mut rows = Vec::new();
    let (mut with, mut every, mut changes) = (0.0, 0.0, (0.0, 0.0));
    for (class, share) in &mix {
        let p = fleet::project_class(*class, &params, cadence)?;
        // Per table or GSI of the class: its reads and its writes.
        let row = projected_row(class.name().to_owned(), Some(*share), 1, &p);
        with += share * row.metrics_per_month * targets as f64;
        every += share * row.every_minute_metrics_per_month * targets as f64;
        let series = share * 2.0 * targets as f64;
        changes.0 += series * p.cadence_quality.changes_per_month;
        changes.1 += series * p.every_minute_quality.changes_per_month;
        rows.push(row);
    }
    let mix_text = mix
        .iter()
        .map(|(c, s)| format!("{:.0}% {}", s * 100.0, c.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let header = format!(
        "{tables} tables with {} GSIs ({targets} tables and GSIs), of the classes {mix_text} \
         (crates/capacity-sim/src/cadence/fleet.rs), simulated",
        args.gsis
    );
    Ok(Fleet {
        source: "flags",
        tables,
        targets,
        metrics: (with, every),
        changes_per_month: changes,
        rows,
        lookup: None,
        header,
    })
}

fn from_traces(args: &Args, dir: &std::path::Path, cadence: Cadence) -> Result<Fleet, Error> {
    let options = capacity_sim::TraceOptions::default();
    let params = params(args)?;
    let files = crate::bench::find_csv(dir)?;
    if files.is_empty() {
        return Err(format!("no .csv file under {}", dir.display()).into());
    }
    let mut rows = Vec::new();
    let (mut with, mut every, mut changes) = (0.0, 0.0, (0.0, 0.0));
    for (path, name) in &files {
        let trace = common::load_trace(&path.to_string_lossy(), name, &options)?;
        let p = fleet::project(&trace, &Settings::default(), &params, cadence);
        let row = projected_row(name.clone(), None, 1, &p);
        with += row.metrics_per_month;
        every += row.every_minute_metrics_per_month;
        changes.0 += 2.0 * p.cadence_quality.changes_per_month;
        changes.1 += 2.0 * p.every_minute_quality.changes_per_month;
        rows.push(row);
    }
    let n = files.len() as u64;
    let header = format!(
        "{n} tables, each one trace of {} replayed as its reads and its writes, simulated",
        dir.display()
    );
    Ok(Fleet {
        source: "traces",
        tables: n,
        targets: n,
        metrics: (with, every),
        changes_per_month: changes,
        rows,
        lookup: None,
        header,
    })
}

/// The series of a prepared table (as the pipeline reads them), each with the settings the
/// simulator decides it with (a write series with its write bounds as `read`) and its capacity.
fn series_of(p: &Prepared) -> Vec<(SeriesKey, Settings, u64)> {
    autoscaler_aws::run::series_to_read(std::slice::from_ref(p))
        .into_iter()
        .map(|t| {
            let mut s = t.settings.clone();
            s.read = t.settings.bounds(t.key.dimension);
            (t.key, s, t.state.provisioned)
        })
        .collect()
}

async fn from_account(args: &Args, cadence: Cadence) -> Result<Fleet, Error> {
    let schedule = scale_down(args)?;
    let aws = args.aws.connect().await?;
    let end = match &args.end {
        Some(t) => parse_timestamp(t).map_err(|e| format!("--end: {e}"))?,
        None => autoscaler_aws::now(),
    }
    .floor_minute();
    let from = end.plus_secs(-3_600 * i64::from(args.hours));
    // The replay starts with a cold start at `from`, whose first polls read this far back.
    let lead =
        from.plus_secs(-60 * i64::from(BUCKET_WINDOW_MINUTES.max(cadence.first_poll_minutes())));
    let (fetched, calls) = autoscaler_aws::calls::counted(async {
        let discovery = discover_and_prepare(&aws.clients, &aws.config)
            .await
            .map_err(|e| account::aws_error(&e))?;
        let mut prepared = discovery.prepared;
        prepared.sort_by(|a, b| a.description.name.cmp(&b.description.name));
        let keys: Vec<SeriesKey> = prepared
            .iter()
            .flat_map(series_of)
            .map(|(k, _, _)| k)
            .collect();
        let observed = autoscaler_aws::poll::observed(&aws.clients, &keys, lead, end).await;
        Ok::<_, Error>((prepared, discovery.reports.len(), observed))
    })
    .await;
    let (prepared, not_managed, observed) = fetched?;
    let mut observed = observed.into_iter();
    let minutes = u64::try_from(end.secs_since(from) / 60).unwrap_or(1).max(1);
    let month = MINUTES_PER_MONTH / minutes as f64;
    let mut rows = Vec::new();
    let (mut with, mut every, mut increases) = (0.0, 0.0, (0, 0));
    let mut targets = 0;
    for p in &prepared {
        let mut bill = sim_cadence::Bill::default();
        let mut every_bill = sim_cadence::Bill::default();
        for (key, settings, capacity) in series_of(p) {
            let usage = observed
                .next()
                .ok_or("the look back returned fewer series than it asked for")?
                .map_err(|e| account::aws_error(&*e))?;
            let replay = |c| {
                sim_cadence::shadow(
                    &usage,
                    from,
                    end,
                    capacity,
                    &settings,
                    c,
                    PUBLISH_DELAY_MINUTES,
                    &schedule,
                )
            };
            let shadow = replay(cadence);
            bill = bill.plus(&shadow.bill);
            let every_shadow = replay(Cadence::EVERY_MINUTE);
            every_bill = every_bill.plus(&every_shadow.bill);
            increases.0 += shadow.increases;
            increases.1 += every_shadow.increases;
            let _ = key;
        }
        let parts = p.description.table_and_indexes.len() as u64;
        targets += parts;
        let per_month = bill.metrics() as f64 * month;
        let every_per_month = every_bill.metrics() as f64 * month;
        with += per_month;
        every += every_per_month;
        rows.push(Row {
            name: p.description.name.clone(),
            share: None,
            targets: parts,
            metrics: Some(bill.metrics()),
            scale_up_metrics: Some(bill.metrics() - bill.scale_down_metrics),
            minutes: Some(minutes),
            metrics_per_month: per_month,
            get_metric_data_usd: per_month * USD_PER_METRIC,
            every_minute_metrics_per_month: every_per_month,
            every_minute_get_metric_data_usd: every_per_month * USD_PER_METRIC,
            cadence_quality: None,
            every_minute_quality: None,
        });
    }
    let header = format!(
        "{} opted-in tables ({targets} tables and GSIs) of region {}, from {} hours of their \
         datapoints to {end}{}",
        prepared.len(),
        aws.region,
        args.hours,
        if not_managed > 0 {
            format!(" ({not_managed} more carry the tag but are skipped or failed)")
        } else {
            String::new()
        }
    );
    Ok(Fleet {
        source: "account",
        tables: prepared.len() as u64,
        targets,
        metrics: (with, every),
        changes_per_month: (increases.0 as f64 * month, increases.1 as f64 * month),
        rows,
        lookup: Some(Lookup {
            metrics_requested: calls.metrics_requested,
            usd: calls.metrics_requested as f64 * USD_PER_METRIC,
        }),
        header,
    })
}

fn price(args: &Args, cadence: Cadence, fleet: Fleet) -> Bill {
    let tables = fleet.tables.max(1);
    let gmd = |m: f64| m * USD_PER_METRIC;
    let runs_per_day_down = args.scale_down_hours.len() as f64;
    let invocations = MINUTES_PER_MONTH + 30.0 * runs_per_day_down;
    let run_secs = (args.run_ms + args.per_table_ms * fleet.tables as f64) / 1_000.0;
    let gb_seconds = invocations * run_secs * LAMBDA_MEMORY_GB;
    let per_gb_second = match args.architecture {
        Architecture::Arm64 => LAMBDA_USD_PER_GB_SECOND_ARM64,
        Architecture::X86_64 => LAMBDA_USD_PER_GB_SECOND_X86_64,
    };
    let lambda = invocations * LAMBDA_USD_PER_REQUEST + gb_seconds * per_gb_second;
    let custom = custom_metrics(args, fleet.changes_per_month.0);
    let every_custom = custom_metrics(args, fleet.changes_per_month.1);
    let scaling = gmd(fleet.metrics.0) + lambda + custom.table_usd_per_month;
    let every_scaling = gmd(fleet.metrics.1) + lambda + every_custom.table_usd_per_month;
    let alarms = fleet.targets * 2 * TARGET_TRACKING_ALARMS_PER_DIMENSION;
    Bill {
        source: fleet.source,
        tables: fleet.tables,
        targets: fleet.targets,
        schedules: Schedules {
            scale_up: "rate(1 minute)",
            scale_down_hours: args.scale_down_hours.clone(),
            max_poll_minutes: cadence.max_interval_minutes,
        },
        get_metric_data: Metrics {
            metrics_per_month: fleet.metrics.0,
            usd_per_month: gmd(fleet.metrics.0),
        },
        lambda: Lambda {
            invocations_per_month: invocations,
            gb_seconds_per_month: gb_seconds,
            usd_per_month: lambda,
        },
        total_usd: scaling + custom.run_usd_per_month,
        per_table_usd: scaling / tables as f64,
        every_minute: EveryMinute {
            total_usd: every_scaling + every_custom.run_usd_per_month,
            per_table_usd: every_scaling / tables as f64,
            table_metrics_usd: every_custom.table_usd_per_month,
            get_metric_data_usd: gmd(fleet.metrics.1),
        },
        target_tracking_alarms: Alarms {
            alarms,
            usd_per_month: alarms as f64 * ALARM_USD_PER_MONTH,
        },
        custom_metrics: custom,
        decision_metrics: args.decision_metrics,
        lookup: fleet.lookup,
        guarantee: None,
        rows: fleet.rows,
    }
}

/// Hours in a 30-day month.
const HOURS_PER_MONTH: f64 = MINUTES_PER_MONTH / 60.0;

/// The stack's EMF metrics as custom metrics (see the module header): the per-run ones of
/// scale-up for every hour of the month, of scale-down for the hours it runs in, and with
/// `--table-metrics` the per-table ones for an hour at each of `changes_per_month`.
fn custom_metrics(args: &Args, changes_per_month: f64) -> Custom {
    let per_function = (RUN_METRICS_PER_FUNCTION as f64) + f64::from(args.decision_metrics);
    // Distinct hours: a repeated one is one run (ScaleDownSchedule::at_hours).
    let hours: std::collections::BTreeSet<u32> = args.scale_down_hours.iter().copied().collect();
    let down_share = hours.len() as f64 / 24.0;
    let run_metrics = if args.no_run_metrics {
        0.0
    } else {
        per_function * (1.0 + down_share)
    };
    // MetricsNamespace=off writes no metric at all, per table or not.
    let table_metric_months = if args.table_metrics && !args.no_run_metrics {
        TABLE_METRICS_PER_CHANGED_TARGET as f64 * changes_per_month / HOURS_PER_MONTH
    } else {
        0.0
    };
    let run_usd = run_metrics * CUSTOM_METRIC_USD_PER_MONTH;
    let table_usd = table_metric_months * CUSTOM_METRIC_USD_PER_MONTH;
    Custom {
        run_metrics,
        run_usd_per_month: run_usd,
        changes_per_month,
        table_metric_months,
        table_usd_per_month: table_usd,
        usd_per_month: run_usd + table_usd,
    }
}

fn render(b: &Bill, header: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ddb-autoscaler's own bill, a 30-day month: {header}");
    let hours: Vec<String> = b
        .schedules
        .scale_down_hours
        .iter()
        .map(|h| format!("{h:02}"))
        .collect();
    let _ = writeln!(
        out,
        "scale-up {} (consumed capacity read at least every {} min, throttle events every {} min \
         while quiet), scale-down at {} UTC\n",
        b.schedules.scale_up,
        b.schedules.max_poll_minutes,
        Cadence {
            max_interval_minutes: b.schedules.max_poll_minutes,
            ..Cadence::default()
        }
        .throttles_read_within_minutes(),
        hours.join(", ")
    );
    let quality = b.rows.iter().any(|r| r.cadence_quality.is_some());
    let mut header = vec!["NAME"];
    if b.source == "flags" {
        header.push("SHARE");
    }
    header.extend([
        "TARGETS",
        "METRICS/MONTH",
        "GETMETRICDATA $",
        "EVERY MINUTE $",
    ]);
    if quality {
        header.extend([
            "CAPACITY $",
            "THROTTLED %",
            "EVERY MINUTE: CAPACITY $",
            "THROTTLED %",
        ]);
    }
    let rows: Vec<Vec<String>> = b
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.name.clone()];
            if let Some(s) = r.share {
                row.push(format!("{:.0}%", s * 100.0));
            }
            row.extend([
                r.targets.to_string(),
                format!("{:.0}", r.metrics_per_month),
                format!("{:.4}", r.get_metric_data_usd),
                format!("{:.4}", r.every_minute_get_metric_data_usd),
            ]);
            if let (Some(c), Some(e)) = (r.cadence_quality, r.every_minute_quality) {
                row.extend([
                    dollars(c.capacity_usd),
                    format!("{:.3}", c.throttled_pct),
                    dollars(e.capacity_usd),
                    format!("{:.3}", e.throttled_pct),
                ]);
            }
            row
        })
        .collect();
    let right: Vec<usize> = (1..header.len()).collect();
    out += &output::columns(&header, &rows, &right);
    if b.source == "flags" {
        out += "(per table or GSI of the class: its reads and its writes)\n";
    } else {
        out += "(per table: its reads and its writes, GSIs included)\n";
    }
    if quality {
        out += "(capacity and throttling: one series, priced as reads, with the cadence and polling every minute)\n";
    }
    out.push('\n');
    let line = |out: &mut String, what: &str, with: String, every: String| {
        let _ = writeln!(out, "{what:<52} {with:>12} {every:>14}");
    };
    line(&mut out, "", "cadence".into(), "every minute".into());
    line(
        &mut out,
        "GetMetricData metrics",
        format!("{:.0}", b.get_metric_data.metrics_per_month),
        format!("{:.0}", b.every_minute.get_metric_data_usd / USD_PER_METRIC),
    );
    line(
        &mut out,
        "GetMetricData $",
        dollars(b.get_metric_data.usd_per_month),
        dollars(b.every_minute.get_metric_data_usd),
    );
    let lambda = format!(
        "Lambda $ ({:.0} invocations, {:.0} GB-s)",
        b.lambda.invocations_per_month, b.lambda.gb_seconds_per_month
    );
    line(
        &mut out,
        &lambda,
        dollars(b.lambda.usd_per_month),
        dollars(b.lambda.usd_per_month),
    );
    let c = &b.custom_metrics;
    let table_metrics = format!(
        "per-table metrics $ ({:.1} metric-months)",
        c.table_metric_months
    );
    line(
        &mut out,
        &table_metrics,
        dollars(c.table_usd_per_month),
        dollars(b.every_minute.table_metrics_usd),
    );
    line(
        &mut out,
        &format!("per table $ ({} tables)", b.tables),
        dollars(b.per_table_usd),
        dollars(b.every_minute.per_table_usd),
    );
    let run_metrics = format!(
        "the stack's per-run metrics $ ({:.1} metric-months)",
        c.run_metrics
    );
    line(
        &mut out,
        &run_metrics,
        dollars(c.run_usd_per_month),
        dollars(c.run_usd_per_month),
    );
    line(
        &mut out,
        "total $",
        dollars(b.total_usd),
        dollars(b.every_minute.total_usd),
    );
    let _ = writeln!(
        out,
        "\nAWS target tracking's alarms for the same {} tables and GSIs: {} alarms, ${} a month",
        b.targets,
        b.target_tracking_alarms.alarms,
        dollars(b.target_tracking_alarms.usd_per_month)
    );
    if let Some(l) = &b.lookup {
        let _ = writeln!(
            out,
            "this projection requested {} metrics (${})",
            l.metrics_requested,
            dollars(l.usd)
        );
    }
    if b.custom_metrics.run_metrics > 0.0 {
        let _ = writeln!(
            out,
            "Lambda durations are assumptions (--run-ms, --per-table-ms), and so are the {} \
             (action, reason) pairs of decisions a run writes as metrics (--decision-metrics); \
             CloudWatch Logs are not included",
            b.decision_metrics
        );
    } else {
        let _ = writeln!(
            out,
            "Lambda durations are assumptions (--run-ms, --per-table-ms); the stack writes no \
             metrics (--no-run-metrics); CloudWatch Logs are not included"
        );
    }
    if let Some(g) = &b.guarantee {
        let _ = writeln!(
            out,
            "\nreaction guarantee, proven on the simulator: demand that doubles within 5 minutes \
             (and again every 5) and reaches the scale-up trigger is answered with an increase \
             within {} minutes of the publication of its first datapoint at the trigger",
            g.bound_minutes
        );
        let _ = writeln!(
            out,
            "{} cases (2%-85% utilisation, ramps of 1-5 minutes, at every phase of the polls), {} \
             reach the trigger: the latest answer {} minutes after that publication; {} late",
            g.cases, g.reaching, g.worst_minutes, g.late
        );
        for x in &g.beyond {
            let _ = writeln!(
                out,
                "beyond it, a step of {:.0}x: answered {:.1} minutes after the publication on \
                 average, {} at worst ({} cases)",
                x.factor, x.mean_minutes, x.worst_minutes, x.cases
            );
        }
    }
    out
}
