//! `ddb-autoscaler backtest`: a table's (or GSI's) real CloudWatch history replayed through the
//! simulator, so that ours, AWS target tracking and on-demand can be compared with what the
//! table actually cost and throttled.
//!
//! **Fetching.** For each dimension asked for (`--dimension read|write|both`, default both) it
//! reads `Consumed{Read,Write}CapacityUnits` (Sum), `{Read,Write}ThrottleEvents` (Sum) and
//! `Provisioned{Read,Write}CapacityUnits` (Average) of the table, or of the GSI with `--index`,
//! over the last `--days` days (default 14) ending at the last complete minute, with
//! `GetMetricData`. CloudWatch keeps 60 s datapoints for 15 days, 300 s ones for 63 days and
//! 3600 s ones for 455 days, and accepts a period only as fine as the age of a query's start
//! allows, so the history is cut into three segments (older than 63 days at 3600 s, 15-63 days
//! at 300 s, younger at 60 s, each boundary an hour on the safe side), and each segment into
//! windows that keep one call within 100,800 datapoints (all the queries together). Each window
//! starts on a multiple of its period. A progress bar on stderr counts the calls when stderr is
//! a terminal; nothing is drawn otherwise.
//!
//! **The demand trace.** Demand in a minute is consumed plus throttled units (consumption alone
//! is capped by what was provisioned), in units/s; a coarser datapoint is spread evenly over its
//! minutes (its rate held constant). A minute without a consumed or a throttle datapoint is a
//! gap: the simulator runs it with no traffic and no datapoint, as everywhere else.
//!
//! **The comparison**, per dimension, through `capacity-sim` with its default model (2-minute
//! publication delay, 1-minute update delay, 300 s burst, the exact decrease quota) and every
//! policy starting at the capacity the table actually had at the start:
//! - `actual`: what happened: the cost of the provisioned series from CloudWatch (unit-hours =
//!   sum of the per-minute capacity / 60; a coarser or missing datapoint holds the previous
//!   value) and the throttle events actually observed. When CloudWatch has no provisioned
//!   datapoint at all (the local emulator never has), the current provisioned capacity is held
//!   constant over the whole period and a note says so. For an on-demand table, `actual` is the
//!   on-demand bill of the consumed units.
//! - `ours`: the real `scaling-policy` with this table's settings (deployment defaults from the
//!   `AUTOSCALER_*` variables plus its override tags), scale-up every minute, scale-down at
//!   `--scale-down-hours` (default 0,6,12,18 UTC, the template's default). Read and write are
//!   simulated separately, so a decrease riding along with the other dimension is not modelled
//!   (this understates ours slightly).
//! - `aws-target-tracking` (target 70%), `on-demand`, and `clairvoyant` (the cheapest schedule
//!   that never throttles and obeys the quota, with perfect foresight: a lower bound, not a
//!   policy).
//!
//! Throttling of the simulated policies is refused units / demanded units; for `actual` it is
//! the observed throttle events / demanded units (each event counted as one unit, as the
//! demand does). `--plot FILE` writes a PNG: per dimension, demand with the actual, ours and
//! target tracking capacities, and below it their throttling.
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

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;

use autoscaler_aws::aws::{self, MAX_DATAPOINTS_PER_CALL, MetricKey};
use autoscaler_aws::table::{Billing, Target};
use capacity_sim::policies::Ours;
use capacity_sim::{ModelParams, PolicySpec, Trace, evaluate, simulate};
use scaling_policy::{Dimension, Mode, Settings, TableTags, Timestamp};
use serde::Serialize;

use crate::common::{self, AwsArgs, Error};
use crate::output::{self, ACTUAL, Chart, DEMAND, Line, OURS, TRACKING};
use crate::status::mode_str;

const DAY_SECS: i64 = 86_400;
/// How far on the safe side of CloudWatch's retention boundaries the periods switch.
const RETENTION_MARGIN_SECS: i64 = 3_600;
/// The longest history CloudWatch keeps (at 3600 s).
const MAX_DAYS: u32 = 455;

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
    /// Print JSON instead of the tables (stable fields, documented in crates/cli/src/backtest.rs).
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

/// One `GetMetricData` call's time range and period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: Timestamp,
    end: Timestamp,
    period: i64,
}

fn floor_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(t.unix().div_euclid(step) * step)
}

fn ceil_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(-(-t.unix()).div_euclid(step) * step)
}

/// Cuts `[start, end)` into `GetMetricData` windows at `now`: 3600 s periods for what is older
/// than 63 days, 300 s for 15 to 63 days, 60 s for the rest (each boundary
/// [`RETENTION_MARGIN_SECS`] younger than CloudWatch's), each window starting on a multiple of
/// its period and holding at most `max_datapoints` datapoints over `queries` queries. The first
/// window may start before `start` (rounded down to its period); the windows are contiguous.
fn plan_windows(
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
    queries: usize,
    max_datapoints: usize,
) -> Vec<Window> {
    let cut_63 = ceil_to(now.plus_secs(-63 * DAY_SECS + RETENTION_MARGIN_SECS), 3600);
    let cut_15 = ceil_to(now.plus_secs(-15 * DAY_SECS + RETENTION_MARGIN_SECS), 300);
    let per_query = (max_datapoints / queries.max(1)).max(1) as i64;
    let mut windows = Vec::new();
    let mut from = start;
    for (until, period) in [(cut_63, 3600), (cut_15, 300), (end, 60)] {
        let until = until.min(end);
        if from >= until {
            continue;
        }
        let mut w = if windows.is_empty() {
            floor_to(from, period)
        } else {
            from
        };
        while w < until {
            let e = w.plus_secs(per_query * period).min(until);
            windows.push(Window {
                start: w,
                end: e,
                period,
            });
            w = e;
        }
        from = until;
    }
    windows
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
struct Progress {
    total: usize,
    done: usize,
    enabled: bool,
    drawn: usize,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            enabled: total > 0 && std::io::stderr().is_terminal(),
            drawn: 0,
        }
    }

    fn draw(&mut self, datapoints: usize) {
        if !self.enabled {
            return;
        }
        const WIDTH: usize = 30;
        let filled = self.done * WIDTH / self.total.max(1);
        let line = format!(
            "fetching CloudWatch history [{}{}] {}/{} calls, {datapoints} datapoints",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total
        );
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}");
        let _ = err.flush();
        self.drawn = line.len();
    }

    fn tick(&mut self, datapoints: usize) {
        self.done += 1;
        self.draw(datapoints);
    }

    fn finish(&mut self) {
        if self.enabled && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(self.drawn));
            let _ = err.flush();
        }
    }
}

/// The three series of one dimension.
fn metric_keys(table: &str, index: Option<&str>, dimension: Dimension) -> [MetricKey; 3] {
    let (consumed, throttled, provisioned) = match dimension {
        Dimension::Read => (
            "ConsumedReadCapacityUnits",
            "ReadThrottleEvents",
            "ProvisionedReadCapacityUnits",
        ),
        Dimension::Write => (
            "ConsumedWriteCapacityUnits",
            "WriteThrottleEvents",
            "ProvisionedWriteCapacityUnits",
        ),
    };
    [
        (consumed, "Sum"),
        (throttled, "Sum"),
        (provisioned, "Average"),
    ]
    .map(|(metric, stat)| MetricKey {
        table: table.to_owned(),
        index: index.map(str::to_owned),
        metric: metric.to_owned(),
        stat: stat.to_owned(),
    })
}

/// A fetched datapoint: period start, value, period (seconds).
type Point = (Timestamp, f64, i64);

/// Places datapoints on the minute grid of `[start, start + n min)`. A Sum (`spread`) is divided
/// evenly over its period's minutes; any other statistic is held over them.
fn per_minute(points: &[Point], start: Timestamp, n: usize, spread: bool) -> Vec<Option<f64>> {
    let mut out = vec![None; n];
    for (t, v, period) in points {
        let minutes = (period / 60).max(1);
        let value = if spread { v / minutes as f64 } else { *v };
        let first = t.secs_since(start).div_euclid(60);
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

/// One row of the comparison.
#[derive(Clone, Debug, Serialize)]
struct Row {
    policy: String,
    cost_unit_hours: f64,
    cost_usd: f64,
    cost_vs_actual: Option<f64>,
    throttled_units: f64,
    throttled_pct: f64,
    throttled_minutes: u32,
    increases: Option<u32>,
    decreases: Option<u32>,
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

/// What is drawn for one dimension.
struct Drawn {
    dimension: Dimension,
    demand: Vec<f64>,
    actual: Vec<f64>,
    actual_throttled: Vec<f64>,
    ours: capacity_sim::Run,
    tracking: Option<capacity_sim::Run>,
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        100.0 * part / whole
    } else {
        0.0
    }
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

/// The settings `ours` simulates one dimension with. The simulator's `Ours` applies the read
/// bounds to the one dimension it models, so the write dimension gets its bounds there.
fn settings_for(settings: &Settings, dimension: Dimension) -> Settings {
    let mut s = settings.clone();
    s.read = settings.bounds(dimension);
    s
}

/// Everything `backtest` needs about one dimension, fetched.
struct Series<'a> {
    dimension: Dimension,
    consumed: &'a [Point],
    throttled: &'a [Point],
    provisioned: &'a [Point],
}

#[allow(clippy::too_many_arguments)] // one call site; the pieces read better named
fn backtest_dimension(
    name: &str,
    series: &Series<'_>,
    target: &Target,
    billing: Billing,
    settings: &Settings,
    start: Timestamp,
    n: usize,
    scale_down_hours: &[u32],
    notes: &mut Vec<String>,
) -> Result<Option<(DimensionReport, Drawn)>, Error> {
    let dimension = series.dimension;
    let consumed = per_minute(series.consumed, start, n, true);
    let throttled = per_minute(series.throttled, start, n, true);
    let demand: Vec<Option<f64>> = consumed
        .iter()
        .zip(&throttled)
        .map(|(c, t)| match (c, t) {
            (None, None) => None,
            _ => Some((c.unwrap_or(0.0) + t.unwrap_or(0.0)).max(0.0) / 60.0),
        })
        .collect();
    let known = demand.iter().flatten().count();
    if known == 0 {
        notes.push(format!(
            "{dimension}: no Consumed/ThrottleEvents datapoint for {name} in the period: nothing to replay"
        ));
        return Ok(None);
    }
    let current = match dimension {
        Dimension::Read => target.read.provisioned,
        Dimension::Write => target.write.provisioned,
    };
    let mut params = ModelParams::for_dimension(dimension);
    params.scale_down = capacity_sim::ScaleDownSchedule::at_hours(scale_down_hours)?;
    // fold, not sum: an empty f64 sum is -0.0, which prints as "-0".
    let observed_throttles = throttled.iter().flatten().fold(0.0, |a, t| a + t);
    let trace = Trace::per_minute(format!("{name} {dimension}"), start, demand);
    let demanded = trace.total_units();
    let (actual_source, actual_series, actual_row) = if billing == Billing::OnDemand {
        let consumed_units = consumed.iter().flatten().fold(0.0, |a, c| a + c);
        let usd = consumed_units * params.on_demand_price_per_million / 1e6;
        notes.push(format!(
            "{dimension}: {name} is on-demand: `actual` is the on-demand bill of its consumed units"
        ));
        let row = Row {
            policy: "actual".into(),
            cost_unit_hours: usd / params.price_per_unit_hour,
            cost_usd: usd,
            cost_vs_actual: None,
            throttled_units: observed_throttles,
            throttled_pct: pct(observed_throttles, demanded),
            throttled_minutes: throttled.iter().flatten().filter(|t| **t > 0.0).count() as u32,
            increases: None,
            decreases: None,
        };
        ("on_demand_bill", Vec::new(), row)
    } else {
        let (source, series, counts) = match hold(&per_minute(series.provisioned, start, n, false))
        {
            Some(s) => {
                let c = changes(&s);
                ("cloudwatch", s, Some(c))
            }
            None => {
                let metric = match dimension {
                    Dimension::Read => "ProvisionedReadCapacityUnits",
                    Dimension::Write => "ProvisionedWriteCapacityUnits",
                };
                notes.push(format!(
                        "{dimension}: CloudWatch has no {metric} datapoint for {name}: `actual` assumes the current provisioned capacity ({current}) held constant over the whole period"
                    ));
                ("current_capacity", vec![current as f64; n], None)
            }
        };
        let unit_hours = series.iter().sum::<f64>() / 60.0;
        let row = Row {
            policy: "actual".into(),
            cost_unit_hours: unit_hours,
            cost_usd: unit_hours * params.price_per_unit_hour,
            cost_vs_actual: None,
            throttled_units: observed_throttles,
            throttled_pct: pct(observed_throttles, demanded),
            throttled_minutes: throttled.iter().flatten().filter(|t| **t > 0.0).count() as u32,
            increases: counts.map(|c| c.0),
            decreases: counts.map(|c| c.1),
        };
        (source, series, row)
    };
    // Every policy starts where the table was.
    if let Some(first) = actual_series.first() {
        params.initial_capacity = Some(scaling_policy::ceil_units(*first).max(1));
    }
    params.validate()?;

    let eval = evaluate(
        &trace,
        &params,
        &[
            PolicySpec::AwsTargetTracking { target: 0.7 },
            PolicySpec::OnDemand,
            PolicySpec::Clairvoyant,
        ],
    )?;
    notes.extend(eval.notes.iter().map(|n| format!("{dimension}: {n}")));
    let ours = simulate(
        &trace,
        &params,
        &mut Ours::new(settings_for(settings, dimension)),
    );
    let price = params.price_per_unit_hour;
    let mut rows = vec![
        actual_row,
        Row {
            policy: "ours".into(),
            cost_unit_hours: ours.unit_hours(),
            cost_usd: ours.unit_hours() * price,
            cost_vs_actual: None,
            throttled_units: ours.refused_units(),
            throttled_pct: pct(ours.refused_units(), demanded),
            throttled_minutes: ours.throttled_minutes(),
            increases: Some(ours.increases),
            decreases: Some(ours.decreases),
        },
    ];
    for summary in &eval.rows {
        let simulated = eval.run(&summary.policy);
        rows.push(Row {
            policy: summary.policy.clone(),
            cost_unit_hours: summary.cost_unit_hours,
            cost_usd: summary.cost_usd,
            cost_vs_actual: None,
            throttled_units: simulated.map_or_else(
                || summary.throttled_pct * demanded / 100.0,
                capacity_sim::Run::refused_units,
            ),
            throttled_pct: summary.throttled_pct,
            throttled_minutes: summary.throttled_minutes,
            increases: simulated.map(|_| summary.increases),
            decreases: simulated.map(|_| summary.decreases),
        });
    }
    let actual_usd = rows[0].cost_usd;
    for r in &mut rows {
        r.cost_vs_actual = (actual_usd > 0.0).then(|| r.cost_usd / actual_usd);
    }

    let peak = trace.peak();
    let report = DimensionReport {
        dimension,
        billing: if billing == Billing::OnDemand {
            "on-demand"
        } else {
            "provisioned"
        },
        actual_source,
        current_provisioned: current,
        demand: DemandStats {
            total_units: demanded,
            peak,
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
        actual_throttled: throttled.iter().map(|t| t.unwrap_or(0.0) / 60.0).collect(),
        tracking: eval.run("aws-target-tracking").cloned(),
        ours,
    };
    Ok(Some((report, drawn)))
}

/// Runs `backtest`.
pub async fn run(args: Args) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let name = args.table.clone();
    let (description, tagged) = common::describe_and_tags(&aws, &name).await?;
    let target = description
        .targets
        .iter()
        .find(|t| t.index.as_deref() == args.index.as_deref())
        .ok_or_else(|| -> Error {
            let gsis: Vec<&str> = description
                .targets
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
            common::not_opted_in(&name, &key, value)
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
    let requested_start = end.plus_secs(-DAY_SECS * i64::from(args.days));
    let dimensions: &[Dimension] = match args.dimension {
        DimensionsArg::Read => &[Dimension::Read],
        DimensionsArg::Write => &[Dimension::Write],
        DimensionsArg::Both => &Dimension::BOTH,
    };
    let keys: Vec<MetricKey> = dimensions
        .iter()
        .flat_map(|d| metric_keys(&name, args.index.as_deref(), *d))
        .collect();
    let windows = plan_windows(
        requested_start,
        end,
        now,
        keys.len(),
        args.max_datapoints_per_call,
    );
    let start = windows.first().map_or(requested_start, |w| w.start);
    let n = usize::try_from(end.secs_since(start) / 60).unwrap_or(0);

    let mut fetched: Vec<Vec<Point>> = vec![Vec::new(); keys.len()];
    let mut datapoints = 0;
    let mut progress = Progress::new(windows.len());
    progress.draw(0);
    for w in &windows {
        let period = i32::try_from(w.period).unwrap_or(60);
        let got = aws::fetch_history(&aws.clients, &keys, w.start, w.end, period).await;
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                progress.finish();
                return Err(common::aws_error(&e));
            }
        };
        for (all, points) in fetched.iter_mut().zip(got) {
            datapoints += points.len();
            all.extend(points.into_iter().map(|(t, v)| (t, v, w.period)));
        }
        progress.tick(datapoints);
    }
    progress.finish();
    let mut periods: Vec<i64> = windows.iter().map(|w| w.period).collect();
    periods.dedup();

    let mut notes = Vec::new();
    let mut reports = Vec::new();
    let mut drawn = Vec::new();
    for (i, dimension) in dimensions.iter().enumerate() {
        let series = Series {
            dimension: *dimension,
            consumed: &fetched[3 * i],
            throttled: &fetched[3 * i + 1],
            provisioned: &fetched[3 * i + 2],
        };
        if let Some((r, d)) = backtest_dimension(
            &shown,
            &series,
            &target,
            description.billing,
            &settings,
            start,
            n,
            &args.scale_down_hours,
            &mut notes,
        )? {
            reports.push(r);
            drawn.push(d);
        }
    }
    if reports.is_empty() {
        return Err(format!(
            "CloudWatch has no consumed-capacity or throttle datapoint for {shown} in the last {} days (in region {}): nothing to backtest",
            args.days, aws.region
        )
        .into());
    }

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

    let report = Report {
        table: name.clone(),
        index: args.index.clone(),
        region: aws.region.clone(),
        tag_key: key.clone(),
        mode: parsed.mode,
        start: start.to_string(),
        end: end.to_string(),
        days: args.days,
        minutes: n,
        scale_down_hours: args.scale_down_hours.clone(),
        fetch: Fetch {
            calls: windows.len(),
            datapoints,
            periods,
        },
        dimensions: reports,
        totals,
        notes,
    };
    if let Some(path) = &args.plot {
        plot(path, &shown, &report, &drawn)?;
    }
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        output::emit(&render(&report, &settings, &shown))?;
    }
    if let Some(path) = &args.plot {
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

fn plot(
    path: &std::path::Path,
    shown: &str,
    report: &Report,
    drawn: &[Drawn],
) -> Result<(), Error> {
    let per_min = |v: &[f64]| v.iter().map(|r| r / 60.0).collect::<Vec<_>>();
    let mut charts = Vec::new();
    for d in drawn {
        let mut capacity = vec![Line {
            name: "demand (consumed + throttled)".into(),
            color: DEMAND,
            width: 1,
            values: d.demand.clone(),
        }];
        let mut throttled = Vec::new();
        if let Some(t) = &d.tracking {
            capacity.push(Line {
                name: "provisioned: aws-target-tracking (simulated)".into(),
                color: TRACKING,
                width: 2,
                values: t.provisioned.iter().map(|p| *p as f64).collect(),
            });
            throttled.push(Line {
                name: "aws-target-tracking (simulated)".into(),
                color: TRACKING,
                width: 1,
                values: per_min(&t.refused),
            });
        }
        capacity.push(Line {
            name: "provisioned: ours (simulated)".into(),
            color: OURS,
            width: 2,
            values: d.ours.provisioned.iter().map(|p| *p as f64).collect(),
        });
        throttled.push(Line {
            name: "ours (simulated)".into(),
            color: OURS,
            width: 1,
            values: per_min(&d.ours.refused),
        });
        if !d.actual.is_empty() {
            capacity.push(Line {
                name: "provisioned: actual".into(),
                color: ACTUAL,
                width: 2,
                values: d.actual.clone(),
            });
        }
        throttled.push(Line {
            name: "actual (throttle events)".into(),
            color: ACTUAL,
            width: 1,
            values: d.actual_throttled.clone(),
        });
        charts.push(Chart {
            caption: format!(
                "{shown} {}: demand and provisioned capacity from {}",
                d.dimension, report.start
            ),
            y_desc: "units/s".into(),
            height: 520,
            lines: capacity,
        });
        charts.push(Chart {
            caption: format!("{shown} {}: throttled units/s", d.dimension),
            y_desc: "units/s".into(),
            height: 280,
            lines: throttled,
        });
    }
    output::plot_charts(path, report.minutes, &charts)
        .map_err(|e| format!("cannot write the plot {}: {e}", path.display()).into())
}

fn dollars(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

fn count(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

fn render(r: &Report, settings: &Settings, shown: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "backtest of {shown} in {}: {} to {} ({} day{}, {} minutes)",
        r.region,
        r.start,
        r.end,
        r.days,
        if r.days == 1 { "" } else { "s" },
        r.minutes
    );
    let _ = writeln!(
        out,
        "CloudWatch: {} GetMetricData call(s), {} datapoints, periods {} s",
        r.fetch.calls,
        r.fetch.datapoints,
        r.fetch
            .periods
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    );
    let _ = writeln!(
        out,
        "ours simulated with {}: target {:.0}%, trigger {:.0}%, read {}-{}, write {}-{}, scale-down at {} UTC\n",
        match r.mode {
            Some(m) => format!("the table's settings (tag {} = {})", r.tag_key, mode_str(m)),
            None => "the default settings (not opted in)".to_owned(),
        },
        settings.target * 100.0,
        settings.scale_up_trigger * 100.0,
        settings.read.min,
        settings.read.max,
        settings.write.min,
        settings.write.max,
        r.scale_down_hours
            .iter()
            .map(|h| format!("{h:02}:00"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let header = [
        "POLICY",
        "UNIT-HOURS",
        "COST $",
        "VS ACTUAL",
        "THROTTLED UNITS",
        "THROTTLED %",
        "THROTTLED MIN",
        "INCREASES",
        "DECREASES",
    ];
    for d in &r.dimensions {
        let _ = writeln!(
            out,
            "{} ({}): demand peak {:.2} units/s, mean {}, {} of {} minutes with data",
            d.dimension,
            d.billing,
            d.demand.peak,
            d.demand
                .mean
                .map_or_else(|| "-".to_owned(), |m| format!("{m:.2}")),
            d.demand.known_minutes,
            d.demand.known_minutes + d.demand.gap_minutes
        );
        let rows: Vec<Vec<String>> = d
            .rows
            .iter()
            .map(|row| {
                vec![
                    if row.policy == "clairvoyant" {
                        "clairvoyant (bound)".to_owned()
                    } else {
                        row.policy.clone()
                    },
                    format!("{:.1}", row.cost_unit_hours),
                    dollars(row.cost_usd),
                    ratio(row.cost_vs_actual),
                    format!("{:.0}", row.throttled_units),
                    format!("{:.3}", row.throttled_pct),
                    row.throttled_minutes.to_string(),
                    count(row.increases),
                    count(row.decreases),
                ]
            })
            .collect();
        out += &output::columns(&header, &rows, &[1, 2, 3, 4, 5, 6, 7, 8]);
        out.push('\n');
    }
    if r.dimensions.len() > 1 {
        let _ = writeln!(out, "total (read and write)");
        let rows: Vec<Vec<String>> = r
            .totals
            .iter()
            .map(|t| {
                vec![
                    t.policy.clone(),
                    dollars(t.cost_usd),
                    ratio(t.cost_vs_actual),
                    format!("{:.0}", t.throttled_units),
                ]
            })
            .collect();
        out += &output::columns(
            &["POLICY", "COST $", "VS ACTUAL", "THROTTLED UNITS"],
            &rows,
            &[1, 2, 3],
        );
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_206_713; // 2026-12-02T10:18:33Z

    fn now() -> Timestamp {
        Timestamp::from_unix(NOW)
    }

    fn check(windows: &[Window], queries: usize, max: usize) {
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "contiguous");
        }
        for w in windows {
            assert_eq!(w.start.unix() % w.period, 0, "aligned: {w:?}");
            let points = (w.end.secs_since(w.start) / w.period) as usize * queries;
            assert!(points <= max, "{points} datapoints in {w:?}");
            let age = now().secs_since(w.start);
            let allowed = if age > 63 * DAY_SECS {
                3600
            } else if age > 15 * DAY_SECS {
                300
            } else {
                60
            };
            assert!(w.period >= allowed, "{w:?} is {age} s old");
        }
    }

    #[test]
    fn fourteen_days_at_one_minute_within_the_datapoint_limit() {
        let end = now().floor_minute();
        let start = end.plus_secs(-14 * DAY_SECS);
        let w = plan_windows(start, end, now(), 6, MAX_DATAPOINTS_PER_CALL);
        assert!(w.iter().all(|w| w.period == 60));
        assert_eq!(w.first().map(|w| w.start), Some(start));
        assert_eq!(w.last().map(|w| w.end), Some(end));
        // 20,160 minutes x 6 queries = 120,960 datapoints: two calls.
        assert_eq!(w.len(), 2);
        check(&w, 6, MAX_DATAPOINTS_PER_CALL);
        let small = plan_windows(start, end, now(), 6, 6_000);
        assert_eq!(small.len(), 21, "1,000 minutes a call");
        check(&small, 6, 6_000);
    }

    #[test]
    fn older_history_uses_coarser_periods() {
        let end = now().floor_minute();
        let start = end.plus_secs(-100 * DAY_SECS);
        let w = plan_windows(start, end, now(), 6, MAX_DATAPOINTS_PER_CALL);
        let periods: Vec<i64> = w.iter().map(|w| w.period).collect();
        let mut distinct = periods.clone();
        distinct.dedup();
        assert_eq!(distinct, vec![3600, 300, 60]);
        assert!(w[0].start <= start && start.secs_since(w[0].start) < 3600);
        assert_eq!(w.last().map(|w| w.end), Some(end));
        check(&w, 6, MAX_DATAPOINTS_PER_CALL);
        let w = plan_windows(
            end.plus_secs(-20 * DAY_SECS),
            end,
            now(),
            3,
            MAX_DATAPOINTS_PER_CALL,
        );
        assert_eq!(w[0].period, 300);
        check(&w, 3, MAX_DATAPOINTS_PER_CALL);
    }

    #[test]
    fn coarse_sums_are_spread_and_averages_held() {
        let start = Timestamp::from_unix(600);
        let points = [
            (Timestamp::from_unix(600), 300.0, 300),
            (Timestamp::from_unix(900), 60.0, 60),
        ];
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
        let held = per_minute(&[(Timestamp::from_unix(600), 10.0, 300)], start, 6, false);
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
