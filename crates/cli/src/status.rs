//! `ddb-autoscaler status`: every opted-in table and GSI of an account, what it consumes, and
//! what the functions would decide about it right now.
//!
//! It runs the first half of the functions' pipeline (`autoscaler_aws::run::discover_and_prepare`:
//! discover by tag, `DescribeTable`, settings from the tags, max capped by `DescribeLimits`),
//! fetches the per-minute CloudWatch Sums once over the longest window any decision needs (at
//! least the last 15 complete minutes), and calls the pipeline's own decision step
//! (`autoscaler_aws::run::decisions`) for scale-up and for scale-down. Nothing is changed, and no
//! decision rule is repeated here.
//!
//! Figures are over the 15 complete minutes before now (the current minute is never complete).
//! A minute without a consumed datapoint is unknown, not zero: averages are over the known
//! minutes, and `known_minutes` says how many there were.
//!
//! Exit status: 0, or 1 when the table named with `--table` does not exist or has not opted in,
//! when the account cannot be read, or when a table failed (malformed override tags, AWS errors;
//! the functions' invocation would fail too). Failed tables are printed before exiting.
//!
//! ## JSON (`--json`)
//! One object:
//! - `at` (RFC 3339, the `now` of every figure and decision), `region`, `tag_key`,
//!   `dry_run` (`AUTOSCALER_DRY_RUN` of this environment), `window_minutes` (15);
//! - `targets`: one object per opted-in table and per GSI of it, tables by name, each table
//!   before its GSIs: `table`, `index` (`null` for the table itself), `mode` (`on` or
//!   `dry-run`), `decreases_today` (decreases DynamoDB counts for this table or GSI in the
//!   current UTC day), `next_decrease_at` (RFC 3339, equal to `at` when a decrease is allowed
//!   now), `decrease_allowed_now`, and `read` and `write`, each with:
//!   - `provisioned`, `min`, `max` (capacity units/s; min and max after tag overrides and the
//!     table quota);
//!   - `known_minutes` (of the 15 with a consumed datapoint), `consumed_peak` and
//!     `consumed_avg` (units/s, `null` without data), `utilisation_peak` and
//!     `utilisation_avg` (those divided by `provisioned`, fractions), `throttle_events` (sum
//!     over the 15 minutes), `boost` (the floor the active boosts ask for now, within min and
//!     max, `null` without one);
//!   - `scale_up` and `scale_down`: what the function would decide now: `action` (`keep`,
//!     `increase`, `decrease`), `to` (capacity after it), `reason` (as in the functions' logs),
//!     `peak_demand` (units/s, consumed plus throttled, in the decision's window or `null`),
//!     `window_minutes` and `known_minutes` of the decision's own window;
//! - `boosts`: the boosts of opted-in tables that have not expired: `table`, `id`, `index`
//!   (`null` for the table), `read`, `write` (units or `null`), `from`, `until`, `active_from`
//!   (RFC 3339; in force from five minutes before `from`), `active` (in force now), `note`;
//! - `skipped`: `{table, reason, detail}` for tables carrying the tag key but not managed:
//!   `reason` is the functions' skip reason (`not_opted_in`, `opt_in_near_miss`, `on_demand`,
//!   `not_active`, `application_auto_scaling`, `global_table`, ...), `detail` says more (the tag
//!   and its value, the status, the replicas). A table of which only some GSIs are skipped (a
//!   GSI being backfilled, or one Application Auto Scaling manages) is listed with
//!   `index` set;
//! - `failed`: `{table, error}` for tables the functions would fail on.

use std::fmt::Write as _;

use autoscaler_aws::aws::{Measured, SeriesKey};
use autoscaler_aws::outlook;
use autoscaler_aws::run::{self, Direction, Discovery, Outcome, Prepared, TableOrIndexDecision};
use scaling_policy::{Action, Decision, Dimension, Mode, Reason, Timestamp, Usage};
use serde::Serialize;

use crate::account::{self, AwsArgs};
use crate::common::Error;
use crate::output::{self, decimal, percent};

/// Minutes the consumption figures cover.
pub const WINDOW_MINUTES: u32 = 15;

/// Arguments of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this table (an error if it does not exist or has not opted in).
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// Print JSON instead of the table (stable fields, documented in crates/cli/src/status.rs).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

/// The whole report (the JSON document).
#[derive(Debug, Serialize)]
struct Report {
    at: String,
    region: String,
    tag_key: String,
    dry_run: bool,
    window_minutes: u32,
    targets: Vec<TargetRow>,
    boosts: Vec<BoostRow>,
    /// The boosts as `boost` prints them, for the text report.
    #[serde(skip)]
    boost_lines: Vec<(String, String)>,
    skipped: Vec<SkippedRow>,
    failed: Vec<FailedRow>,
}

/// A boost of an opted-in table that has not expired.
#[derive(Debug, Serialize)]
struct BoostRow {
    table: String,
    id: String,
    index: Option<String>,
    read: Option<u64>,
    write: Option<u64>,
    from: String,
    until: String,
    active_from: String,
    active: bool,
    note: String,
}

/// A table, or one target of a managed table, that the functions leave alone.
#[derive(Debug, Serialize)]
struct SkippedRow {
    table: String,
    /// Only for a target of a managed table: the GSI, or `null` for the table itself while its
    /// GSIs are managed.
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<Option<String>>,
    reason: run::SkipReason,
    detail: String,
}

/// A table the functions would fail on.
#[derive(Debug, Serialize)]
struct FailedRow {
    table: String,
    /// The error with its cause chain.
    error: String,
}

/// One table or GSI.
#[derive(Debug, Serialize)]
struct TargetRow {
    table: String,
    index: Option<String>,
    mode: Mode,
    decreases_today: u32,
    next_decrease_at: String,
    decrease_allowed_now: bool,
    read: DimensionRow,
    write: DimensionRow,
}

/// One dimension of a table or GSI.
#[derive(Debug, Serialize)]
struct DimensionRow {
    provisioned: u64,
    min: u64,
    max: u64,
    known_minutes: u32,
    consumed_peak: Option<f64>,
    consumed_avg: Option<f64>,
    utilisation_peak: Option<f64>,
    utilisation_avg: Option<f64>,
    throttle_events: f64,
    /// The floor active boosts ask for now (within min and max), if any.
    boost: Option<u64>,
    scale_up: Verdict,
    scale_down: Verdict,
}

/// What one function would decide now.
#[derive(Debug, Serialize)]
struct Verdict {
    action: Action,
    to: u64,
    reason: Reason,
    peak_demand: Option<f64>,
    window_minutes: u32,
    known_minutes: u32,
}

impl From<&Decision> for Verdict {
    fn from(d: &Decision) -> Self {
        Self {
            action: d.action,
            to: d.to,
            reason: d.reason,
            peak_demand: d.numbers.peak_demand,
            window_minutes: d.numbers.window_minutes,
            known_minutes: d.numbers.known_minutes,
        }
    }
}

/// Consumption over the last [`WINDOW_MINUTES`] complete minutes.
struct Consumption {
    known: u32,
    peak: Option<f64>,
    avg: Option<f64>,
    throttle_events: f64,
}

fn consumption(usage: &Usage, now: Timestamp) -> Consumption {
    let mut c = Consumption {
        known: 0,
        peak: None,
        avg: None,
        throttle_events: 0.0,
    };
    let mut sum = 0.0;
    for (_, m) in usage.window(now, WINDOW_MINUTES, None) {
        c.throttle_events += m.throttled.unwrap_or(0.0).max(0.0);
        if let Some(units) = m.consumed {
            let rate = units.max(0.0) / 60.0;
            c.known += 1;
            sum += rate;
            c.peak = Some(c.peak.map_or(rate, |p: f64| p.max(rate)));
        }
    }
    if c.known > 0 {
        c.avg = Some(sum / f64::from(c.known));
    }
    c
}

fn find<'a>(
    decisions: &'a [TableOrIndexDecision],
    index: Option<&str>,
    dimension: Dimension,
) -> Result<&'a Decision, Error> {
    outlook::decision(decisions, index, dimension)
        .ok_or_else(|| format!("no {dimension} decision for {index:?}").into())
}

/// The rows of one prepared table, or the error that made its decisions impossible.
fn rows(p: &Prepared, usage: &Measured, now: Timestamp) -> Result<Vec<TargetRow>, Error> {
    let up = run::decisions(p, usage, Direction::Up, now)?;
    let down = run::decisions(p, usage, Direction::Down, now)?;
    let name = &p.description.name;
    let mut out = Vec::new();
    for (target, settings) in p.managed_tables_and_indexes() {
        let index = target.index.as_deref();
        let dimension_row = |dimension: Dimension| -> Result<DimensionRow, Error> {
            let state = match dimension {
                Dimension::Read => &target.read,
                Dimension::Write => &target.write,
            };
            let key = SeriesKey {
                table: name.clone(),
                index: target.index.clone(),
                dimension,
            };
            let c = consumption(run::series(usage, &key)?, now);
            let p = state.provisioned.max(1) as f64;
            let bounds = settings.bounds(dimension);
            Ok(DimensionRow {
                provisioned: state.provisioned,
                min: bounds.min,
                max: bounds.max,
                known_minutes: c.known,
                consumed_peak: c.peak,
                consumed_avg: c.avg,
                utilisation_peak: c.peak.map(|v| v / p),
                utilisation_avg: c.avg.map(|v| v / p),
                throttle_events: c.throttle_events,
                boost: find(&up, index, dimension)?.numbers.boost,
                scale_up: find(&up, index, dimension)?.into(),
                scale_down: find(&down, index, dimension)?.into(),
            })
        };
        let budget = target.read.budget;
        let next = budget.next_allowed(now);
        out.push(TargetRow {
            table: name.clone(),
            index: target.index.clone(),
            mode: p.mode,
            decreases_today: budget.used_today(now),
            next_decrease_at: next.to_string(),
            decrease_allowed_now: next <= now,
            read: dimension_row(Dimension::Read)?,
            write: dimension_row(Dimension::Write)?,
        });
    }
    Ok(out)
}

/// Runs `status`.
pub async fn run(args: Args) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let now = autoscaler_aws::now();
    let Discovery {
        mut prepared,
        mut reports,
    } = run::discover_and_prepare(&aws.clients, &aws.config)
        .await
        .map_err(|e| account::aws_error(&e))?;
    if let Some(name) = &args.table {
        prepared.retain(|p| p.description.name == *name);
        reports.retain(|r| r.table == *name);
        let managed = !prepared.is_empty() || reports.iter().any(|r| r.mode.is_some());
        if !managed {
            let (_, tagged) = account::describe_and_tags(&aws, name).await?;
            let value = tagged.as_ref().and_then(|t| {
                t.tags
                    .iter()
                    .find(|(k, _)| *k == aws.config.tag_key)
                    .map(|(_, v)| v.as_str())
            });
            return Err(account::not_opted_in(name, &aws.config.tag_key, value));
        }
    }
    prepared.sort_by(|a, b| a.description.name.cmp(&b.description.name));

    let usage = outlook::measure(&aws.clients, &prepared, WINDOW_MINUTES, now).await;

    let mut report = Report {
        at: now.to_string(),
        region: aws.region.clone(),
        tag_key: aws.config.tag_key.clone(),
        dry_run: aws.config.dry_run,
        window_minutes: WINDOW_MINUTES,
        targets: Vec::new(),
        boosts: prepared
            .iter()
            .flat_map(|p| p.tags.boosts.iter().map(move |b| (p, b)))
            .filter(|(_, b)| !b.is_expired(now))
            .map(|(p, b)| BoostRow {
                table: p.description.name.clone(),
                id: b.id.clone(),
                index: b.index.clone(),
                read: b.read,
                write: b.write,
                from: b.from.to_string(),
                until: b.until.to_string(),
                active_from: b.active_from().to_string(),
                active: b.is_active(now),
                note: b.note.clone(),
            })
            .collect(),
        boost_lines: prepared
            .iter()
            .flat_map(|p| p.tags.boosts.iter().map(move |b| (p, b)))
            .filter(|(_, b)| !b.is_expired(now))
            .map(|(p, b)| (p.description.name.clone(), crate::boost::describe(b, now)))
            .collect(),
        skipped: Vec::new(),
        failed: Vec::new(),
    };
    for p in &prepared {
        report
            .skipped
            .extend(p.left_alone.iter().map(|s| SkippedRow {
                table: p.description.name.clone(),
                index: Some(s.index.clone()),
                reason: s.reason,
                detail: s.detail.clone(),
            }));
        if let Some(e) = &p.autoscaling_unknown {
            report.failed.push(FailedRow {
                table: p.description.name.clone(),
                error: format!(
                    "a change would not be made: it is unknown whether Application Auto Scaling manages it: {}",
                    autoscaler_aws::error::chain(&**e)
                ),
            });
        }
        match rows(p, &usage, now) {
            Ok(rows) => report.targets.extend(rows),
            Err(e) => report.failed.push(FailedRow {
                table: p.description.name.clone(),
                error: autoscaler_aws::error::chain(&*e),
            }),
        }
    }
    reports.sort_by(|a, b| a.table.cmp(&b.table));
    for r in reports {
        match r.outcome {
            Outcome::Skipped { reason, detail } => report.skipped.push(SkippedRow {
                table: r.table,
                index: None,
                reason,
                detail,
            }),
            Outcome::Failed { error } => report.failed.push(FailedRow {
                table: r.table,
                error: error.to_string(),
            }),
            Outcome::Changed | Outcome::Unchanged | Outcome::DryRun => {}
        }
    }
    report.failed.sort_by(|a, b| a.table.cmp(&b.table));

    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        output::emit(&render(&report))?;
    }
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} table(s) failed: {}",
            report.failed.len(),
            report
                .failed
                .iter()
                .map(|f| f.table.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into())
    }
}

fn verdict(v: &Verdict) -> String {
    match v.action {
        Action::Keep => format!("keep ({})", v.reason.as_str()),
        a => format!("{} to {} ({})", a.as_str(), v.to, v.reason.as_str()),
    }
}

fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "status at {} (region {}, opt-in tag {}{})",
        r.at,
        r.region,
        r.tag_key,
        if r.dry_run {
            ", AUTOSCALER_DRY_RUN=true"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "consumption over the last {} complete minutes in units/s; decisions the functions would make now\n",
        r.window_minutes
    );
    if r.targets.is_empty() {
        let _ = writeln!(out, "no opted-in table (tag {} = on or dry-run)", r.tag_key);
    } else {
        let header = [
            "TABLE",
            "INDEX",
            "MODE",
            "DIM",
            "PROV",
            "PEAK/S",
            "AVG/S",
            "UTIL PEAK",
            "UTIL AVG",
            "THROTTLED",
            "BOOST",
            "DECREASES",
            "NEXT DECREASE",
            "SCALE-UP",
            "SCALE-DOWN",
        ];
        let mut rows = Vec::new();
        for t in &r.targets {
            for (dim, d) in [("read", &t.read), ("write", &t.write)] {
                rows.push(vec![
                    t.table.clone(),
                    t.index.clone().unwrap_or_else(|| "-".to_owned()),
                    t.mode.as_str().to_owned(),
                    dim.to_owned(),
                    d.provisioned.to_string(),
                    decimal(d.consumed_peak),
                    decimal(d.consumed_avg),
                    percent(d.utilisation_peak),
                    percent(d.utilisation_avg),
                    format!("{:.0}", d.throttle_events),
                    d.boost.map_or_else(|| "-".to_owned(), |b| b.to_string()),
                    t.decreases_today.to_string(),
                    if t.decrease_allowed_now {
                        "now".to_owned()
                    } else {
                        t.next_decrease_at.clone()
                    },
                    verdict(&d.scale_up),
                    verdict(&d.scale_down),
                ]);
            }
        }
        out += &output::columns(&header, &rows, &[4, 5, 6, 7, 8, 9, 10, 11]);
    }
    if !r.boosts.is_empty() {
        out.push('\n');
        for (table, b) in &r.boost_lines {
            let _ = writeln!(out, "boost on {table}: {b}");
        }
    }
    if !r.skipped.is_empty() {
        out.push('\n');
        for s in &r.skipped {
            let target = match &s.index {
                Some(Some(index)) => format!("{} index {index}", s.table),
                Some(None) => format!("{} (the table, not its GSIs)", s.table),
                None => s.table.clone(),
            };
            let _ = writeln!(out, "skipped {target}: {} ({})", s.reason, s.detail);
        }
    }
    if !r.failed.is_empty() {
        out.push('\n');
        for f in &r.failed {
            let _ = writeln!(out, "FAILED {}: {}", f.table, f.error);
        }
    }
    out
}
