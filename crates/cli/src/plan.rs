//! `ddb-autoscaler plan`: what the scale-up and/or scale-down function would do if it ran now.
//!
//! It calls the functions' own pipeline (`autoscaler_aws::run`) with the configuration of this
//! environment (the same `AUTOSCALER_*` variables the functions read; set them to your
//! deployment's values if it changed any) and **dry-run forced on**, so `UpdateTable` is never
//! called. With `--direction both` (the default) it runs scale-up, then scale-down, each on the
//! current capacities, as two separate runs of the functions would see them if nothing was
//! applied in between.
//!
//! Every decision is printed with its reason and the numbers behind it, then the tables that
//! were skipped or failed. `WOULD APPLY` is `yes` for a change the real function would apply:
//! a change on a table whose tag is `on` and that did not fail, with `AUTOSCALER_DRY_RUN` not
//! set.
//!
//! Exit status: 0, or 1 when the account cannot be read or a table failed (the function's
//! invocation would fail too; everything is printed first).
//!
//! ## JSON (`--json`)
//! One object:
//! - `at` (RFC 3339, the runs' `now`), `region`, `tag_key`, `dry_run` (always `true`: nothing
//!   was changed), `configured_dry_run` (`AUTOSCALER_DRY_RUN` of this environment);
//! - `runs`: per direction run, `direction`, `tables_seen` (carrying the tag key),
//!   `tables_managed` (opted in), `tables_to_change` (with a decision that changes capacity),
//!   `tables_to_apply` (of those, the ones the function would actually update);
//! - `decisions`: one per direction x table or GSI x dimension: `direction` (`up`/`down`),
//!   `table`, `index` (`null` for the table), `mode` (`on`/`dry-run`), `dimension`
//!   (`read`/`write`), `from`, `to` (capacity units/s), `action` (`keep`, `increase`,
//!   `decrease`), `reason` (as in the functions' logs), `would_apply`, and `numbers`: the
//!   numbers behind the decision exactly as the functions log them (`window_minutes`,
//!   `known_minutes`, `peak_demand`, `peak_consumed`, `throttle_events`, `utilisation`,
//!   `target`, `trigger`, `min`, `max`, `wanted`, `boost` when an active boost asks for a
//!   floor (`BOOST` in the table), and for scale-down `next_decrease_at`);
//! - `skipped`: `{direction, table, reason, detail}` (`reason` is the functions' skip reason,
//!   `detail` says more); `failed`: `{direction, table, error}`.

use std::fmt::Write as _;

use autoscaler_aws::run::{Direction, Outcome, RunSummary, SkipReason, TableReport};
use scaling_policy::{Action, Dimension, Mode, Numbers, Reason};
use serde::Serialize;

use crate::account::{self, AwsArgs};
use crate::common::Error;
use crate::output::{self, decimal, percent};

/// Which function to plan for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DirectionArg {
    /// The scale-up function.
    Up,
    /// The scale-down function.
    Down,
    /// Both: scale-up, then scale-down.
    Both,
}

/// Arguments of `plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which function's run to plan.
    #[arg(long, value_enum, default_value = "both")]
    direction: DirectionArg,
    /// Print JSON instead of the table (stable fields, documented in crates/cli/src/plan.rs).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, Serialize)]
struct Plan {
    at: String,
    region: String,
    tag_key: String,
    dry_run: bool,
    configured_dry_run: bool,
    runs: Vec<RunCounts>,
    decisions: Vec<PlannedDecision>,
    skipped: Vec<Skipped>,
    failed: Vec<Failed>,
}

#[derive(Debug, Serialize)]
struct RunCounts {
    direction: Direction,
    tables_seen: usize,
    tables_managed: usize,
    tables_to_change: usize,
    tables_to_apply: usize,
}

#[derive(Debug, Serialize)]
struct PlannedDecision {
    direction: Direction,
    table: String,
    index: Option<String>,
    mode: Option<Mode>,
    dimension: Dimension,
    from: u64,
    to: u64,
    action: Action,
    reason: Reason,
    would_apply: bool,
    numbers: Numbers,
}

#[derive(Debug, Serialize)]
struct Skipped {
    direction: Direction,
    table: String,
    reason: SkipReason,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Failed {
    direction: Direction,
    table: String,
    error: String,
}

/// Whether the real function would call `UpdateTable` for this table: the forced dry run is
/// the only thing that stopped it (a change was decided, the table is `on`, and the deployment
/// is not in dry-run mode).
fn applies(t: &TableReport, configured_dry_run: bool) -> bool {
    matches!(t.outcome, Outcome::DryRun) && t.mode == Some(Mode::On) && !configured_dry_run
}

fn add(plan: &mut Plan, summary: RunSummary, configured_dry_run: bool) {
    let direction = summary.direction;
    plan.runs.push(RunCounts {
        direction,
        tables_seen: summary.tables_seen,
        tables_managed: summary.tables_managed,
        tables_to_change: summary
            .tables
            .iter()
            .filter(|t| t.decisions.iter().any(|d| d.decision.changes()))
            .count(),
        tables_to_apply: summary
            .tables
            .iter()
            .filter(|t| applies(t, configured_dry_run))
            .count(),
    });
    for t in summary.tables {
        let applies = applies(&t, configured_dry_run);
        for d in t.decisions {
            plan.decisions.push(PlannedDecision {
                direction,
                table: t.table.clone(),
                index: d.index,
                mode: t.mode,
                dimension: d.decision.dimension,
                from: d.decision.from,
                to: d.decision.to,
                action: d.decision.action,
                reason: d.decision.reason,
                would_apply: applies && d.decision.changes(),
                numbers: d.decision.numbers,
            });
        }
    }
    plan.skipped
        .extend(summary.skipped.into_iter().map(|s| Skipped {
            direction,
            table: s.table,
            reason: s.reason,
            detail: s.detail,
        }));
    plan.failed
        .extend(summary.failed.into_iter().map(|f| Failed {
            direction,
            table: f.table,
            error: f.error.to_string(),
        }));
}

/// Runs `plan`.
pub async fn run(args: Args) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let configured_dry_run = aws.config.dry_run;
    let mut config = aws.config.clone();
    config.dry_run = true;
    let now = autoscaler_aws::now();
    let directions: &[Direction] = match args.direction {
        DirectionArg::Up => &[Direction::Up],
        DirectionArg::Down => &[Direction::Down],
        DirectionArg::Both => &[Direction::Up, Direction::Down],
    };
    let mut plan = Plan {
        at: now.to_string(),
        region: aws.region.clone(),
        tag_key: config.tag_key.clone(),
        dry_run: true,
        configured_dry_run,
        runs: Vec::new(),
        decisions: Vec::new(),
        skipped: Vec::new(),
        failed: Vec::new(),
    };
    for direction in directions {
        let summary = autoscaler_aws::run(&aws.clients, &config, *direction, now)
            .await
            .map_err(|e| account::aws_error(&e))?;
        add(&mut plan, summary, configured_dry_run);
    }
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&plan)? + "\n"))?;
    } else {
        output::emit(&render(&plan))?;
    }
    if plan.failed.is_empty() {
        Ok(())
    } else {
        let tables = failed_tables(&plan.failed);
        Err(format!("{} table(s) failed: {}", tables.len(), tables.join(", ")).into())
    }
}

/// The tables that failed in any run, each once, by name.
fn failed_tables(failed: &[Failed]) -> Vec<&str> {
    let mut tables: Vec<&str> = failed.iter().map(|f| f.table.as_str()).collect();
    tables.sort_unstable();
    tables.dedup();
    tables
}

fn render(p: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan at {} (region {}, opt-in tag {}): dry run, nothing is changed{}\n",
        p.at,
        p.region,
        p.tag_key,
        if p.configured_dry_run {
            " (and AUTOSCALER_DRY_RUN=true: the functions would not apply either)"
        } else {
            ""
        }
    );
    if p.decisions.is_empty() {
        let _ = writeln!(out, "no decision: no opted-in table was ready");
    } else {
        let header = [
            "RUN",
            "TABLE",
            "INDEX",
            "MODE",
            "DIM",
            "FROM -> TO",
            "ACTION",
            "REASON",
            "WOULD APPLY",
            "PEAK DEMAND/S",
            "UTIL",
            "THROTTLED",
            "KNOWN MIN",
            "WANTED",
            "BOOST",
        ];
        let rows: Vec<Vec<String>> = p
            .decisions
            .iter()
            .map(|d| {
                let n = &d.numbers;
                vec![
                    d.direction.as_str().to_owned(),
                    d.table.clone(),
                    d.index.clone().unwrap_or_else(|| "-".to_owned()),
                    d.mode.map_or("-", Mode::as_str).to_owned(),
                    d.dimension.as_str().to_owned(),
                    format!("{} -> {}", d.from, d.to),
                    d.action.as_str().to_owned(),
                    d.reason.as_str().to_owned(),
                    if d.would_apply { "yes" } else { "no" }.to_owned(),
                    decimal(n.peak_demand),
                    percent(n.utilisation),
                    format!("{:.0}", n.throttle_events),
                    format!("{}/{}", n.known_minutes, n.window_minutes),
                    n.wanted.map_or_else(|| "-".to_owned(), |w| w.to_string()),
                    n.boost.map_or_else(|| "-".to_owned(), |b| b.to_string()),
                ]
            })
            .collect();
        out += &output::columns(&header, &rows, &[9, 10, 11, 12, 13, 14]);
    }
    out.push('\n');
    for r in &p.runs {
        let _ = writeln!(
            out,
            "scale-{}: {} tables carry the tag, {} opted in, {} with a change, {} would be changed",
            r.direction, r.tables_seen, r.tables_managed, r.tables_to_change, r.tables_to_apply
        );
    }
    for s in &p.skipped {
        let _ = writeln!(
            out,
            "skipped ({}) {}: {} ({})",
            s.direction, s.table, s.reason, s.detail
        );
    }
    for f in &p.failed {
        let _ = writeln!(out, "FAILED ({}) {}: {}", f.direction, f.table, f.error);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_that_failed_in_both_runs_is_counted_once() {
        // Scale-up's failures, then scale-down's: the same tables, not next to each other.
        let failed: Vec<Failed> = [
            (Direction::Up, "b"),
            (Direction::Up, "a"),
            (Direction::Down, "b"),
            (Direction::Down, "a"),
        ]
        .into_iter()
        .map(|(direction, table)| Failed {
            direction,
            table: table.to_owned(),
            error: "x".to_owned(),
        })
        .collect();
        assert_eq!(failed_tables(&failed), vec!["a", "b"]);
    }
}
