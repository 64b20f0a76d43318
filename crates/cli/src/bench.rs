//! `ddb-autoscaler bench`: every policy on every trace under a folder (and the synthetic ones),
//! and the frontier: ours against AWS target tracking's whole sweep at equal cost, on four
//! scale-down schedules ([`capacity_sim::frontier`]).
//!
//! **Output.** On stdout, Markdown: the per-policy table (one row per trace and policy), then
//! unless `--no-frontier` the frontier's summary (geometric means per group of traces and
//! schedule), its per-trace table and target tracking's sweep. A trace that cannot be read or
//! evaluated fails alone: a `failed` row with its error below the table, and the exit status is
//! 1 once everything is written.
//!
//! **`--json FILE`**: an array of the per-policy rows ([`capacity_sim::Summary`]: `trace`,
//! `policy`, `cost_unit_hours`, `cost_usd`, `cost_vs_clairvoyant`, `throttled_pct`,
//! `throttled_key_range_pct`, `increases`, `decreases`, `throttled_minutes`), then one
//! `{"trace", "error"}` object per failed trace.
//!
//! **`--frontier-json FILE`**: one object, fields stable:
//! - `model`: the model parameters ([`capacity_sim::ModelParams`], `scale_down` as minutes of the
//!   UTC day), `tt_targets_pct`, `floor_pct`, `tie_below_pct`, `max_advantage`, `choosing_days`;
//! - `summary`: one [`capacity_sim::frontier::GroupSummary`] per group (`traces`: the files under
//!   `--traces`; `synthetic`) and schedule (`default`, `chosen-4`, `hourly`, `every-15-min`):
//!   `traces`, `ties`, `advantage_geomean`, `advantage_min`, `advantage_min_trace`,
//!   `cost_vs_tt70_geomean`, `cost_vs_on_demand_geomean`, `cost_vs_clairvoyant_geomean`,
//!   `bound_cost_vs_clairvoyant_geomean`, `dearer_than_tt70`, `dearer_than_on_demand`;
//! - `traces`: per trace, `trace`, `group`, then either `error`, or `schedules` (one
//!   [`capacity_sim::frontier::ScheduleResult`] each: `schedule`, `runs_utc`, `run_minutes_utc`,
//!   `chosen_on_days`, `scored_from`, `scored_days`, `ours` {`cost_unit_hours`,
//!   `throttled_pct`}, `ours_decreases`, `target_tracking` [{`target_pct`, `cost_unit_hours`,
//!   `throttled_pct`}], `tt_throttled_pct_at_ours_cost`, `advantage` (null for a tie), `tie`,
//!   `cost_vs_tt70`, `cost_vs_on_demand`, `cost_vs_clairvoyant`, `bound_cost_vs_clairvoyant`)
//!   and `skipped` [{`schedule`, `reason`}].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use capacity_sim::frontier::{self, FrontierSchedule, GroupSummary, ScheduleResult, TraceFrontier};
use capacity_sim::{Evaluation, ModelParams, evaluate};
use scaling_policy::cadence::Cadence;
use serde::Serialize;

use crate::common::{self, Error, ModelArgs};
use crate::output;

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder searched recursively for .csv traces.
    #[arg(long, value_name = "DIR")]
    traces: PathBuf,
    /// Also run the synthetic traces (business-day, flash-crowd, weekly-cycle, step, ramp,
    /// hot-key).
    #[arg(long)]
    synthetic: bool,
    /// A policy to run (repeatable; default: all). The frontier always runs ours and target
    /// tracking.
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Write the per-policy rows as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the frontier report as JSON to this file (fields in the module documentation).
    #[arg(long, value_name = "FILE")]
    frontier_json: Option<PathBuf>,
    /// Skip the frontier (ours and target tracking's sweep on four schedules).
    #[arg(long, conflicts_with = "frontier_json")]
    no_frontier: bool,
    /// Draw one PNG per trace into this folder.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// The longest the frontier's ours leaves a series' consumed capacity unread, minutes (as
    /// `MaxPollMinutes`; default: the shipped 10).
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u32).range(1..=60))]
    max_poll_minutes: Option<u32>,
    /// Traces evaluated at once (default: up to 2, the cores of a small machine).
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    model: ModelArgs,
}

/// The group of the traces under `--traces`.
const FILES: &str = "traces";
/// The group of the synthetic traces.
const SYNTHETIC: &str = "synthetic";

/// One trace to run: how to load it, its name, its group.
struct Spec {
    source: String,
    name: String,
    group: &'static str,
}

/// What one trace gave.
struct Outcome {
    eval: Evaluation,
    frontier: Option<TraceFrontier>,
}

/// Every `.csv` under `dir`, sorted, with its path relative to `dir` (with `/`).
pub fn find_csv(dir: &Path) -> Result<Vec<(PathBuf, String)>, Error> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot list {}: {e}", d.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot list {}: {e}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((path, rel));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// Runs `bench`.
pub fn run(args: Args) -> Result<(), Error> {
    let started = Instant::now();
    let options = args.model.trace_options();
    let params = args.model.params();
    let policies = common::policies(&args.policies)?;
    let shipped = Cadence::default();
    let cadence = Cadence {
        max_interval_minutes: args
            .max_poll_minutes
            .unwrap_or(shipped.max_interval_minutes),
        ..shipped
    };
    let schedules = if args.no_frontier {
        Vec::new()
    } else {
        FrontierSchedule::bench(&params.scale_down)?
    };
    let mut specs: Vec<Spec> = find_csv(&args.traces)?
        .into_iter()
        .map(|(path, rel)| Spec {
            source: path.to_string_lossy().into_owned(),
            name: rel,
            group: FILES,
        })
        .collect();
    if args.synthetic {
        for name in capacity_sim::synthetic::NAMES {
            let s = format!("synthetic:{name}");
            specs.push(Spec {
                source: s.clone(),
                name: s,
                group: SYNTHETIC,
            });
        }
    }
    if specs.is_empty() {
        return Err(format!("no .csv file under {}", args.traces.display()).into());
    }
    if let Some(dir) = &args.plots {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(2)))
        .clamp(1, specs.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Outcome, Error>>>> =
        Mutex::new((0..specs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = specs.get(i) else {
                        break;
                    };
                    let outcome = (|| -> Result<Outcome, Error> {
                        let trace = common::load_trace(&spec.source, &spec.name, &options)?;
                        let eval = evaluate(&trace, &params, &policies)?;
                        if let Some(dir) = &args.plots {
                            output::plot(
                                &dir.join(output::plot_file_name(&spec.name)),
                                &trace,
                                &eval,
                            )?;
                        }
                        let frontier = if schedules.is_empty() {
                            None
                        } else {
                            let clairvoyant =
                                eval.run("clairvoyant").map(|r| r.provisioned.as_slice());
                            Some(frontier::frontier(
                                &trace,
                                &params,
                                &schedules,
                                clairvoyant,
                                cadence,
                            )?)
                        };
                        Ok(Outcome { eval, frontier })
                    })();
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(outcome);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| "a benchmark thread panicked")?;
    // A trace that fails (unreadable, malformed, ...) fails alone: the others are reported.
    let mut done: Vec<(&Spec, Outcome)> = Vec::new();
    let mut failed: Vec<(&Spec, String)> = Vec::new();
    for (spec, r) in specs.iter().zip(results) {
        match r {
            Some(Ok(outcome)) => done.push((spec, outcome)),
            Some(Err(e)) => failed.push((spec, e.to_string())),
            None => failed.push((spec, "not evaluated".into())),
        }
    }
    let evals: Vec<Evaluation> = done.iter().map(|(_, o)| o.eval.clone()).collect();
    let failed_names: Vec<(String, String)> = failed
        .iter()
        .map(|(s, e)| (s.name.clone(), e.clone()))
        .collect();
    let mut out = output::table(&evals, &failed_names);
    let frontiers: Vec<(&'static str, &TraceFrontier)> = done
        .iter()
        .filter_map(|(s, o)| Some((s.group, o.frontier.as_ref()?)))
        .collect();
    let summary: Vec<GroupSummary> = [FILES, SYNTHETIC]
        .into_iter()
        .flat_map(|group| {
            let members: Vec<&TraceFrontier> = frontiers
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, f)| *f)
                .collect();
            frontier::summarize(group, &members)
        })
        .collect();
    if !schedules.is_empty() {
        out += &render_frontier(&summary, &frontiers);
    }
    output::emit(&out)?;
    for note in evals.iter().flat_map(|e| &e.notes) {
        eprintln!("note: {note}");
    }
    for (spec, error) in &failed {
        eprintln!("error: {}: {error}", spec.name);
    }
    if let Some(path) = &args.json {
        let mut rows: Vec<serde_json::Value> = evals
            .iter()
            .flat_map(|e| &e.rows)
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        rows.extend(
            failed_names
                .iter()
                .map(|(trace, error)| serde_json::json!({ "trace": trace, "error": error })),
        );
        write_json(path, &rows)?;
    }
    if let Some(path) = &args.frontier_json {
        let mut traces: Vec<serde_json::Value> = Vec::new();
        for spec in &specs {
            let found = done.iter().find(|(s, _)| std::ptr::eq(*s, spec));
            if let Some(frontier) = found.and_then(|(_, o)| o.frontier.as_ref()) {
                traces.push(serde_json::to_value(TraceEntry {
                    group: spec.group,
                    frontier,
                })?);
            } else if let Some((_, error)) = failed.iter().find(|(s, _)| std::ptr::eq(*s, spec)) {
                traces.push(serde_json::json!({
                    "trace": spec.name, "group": spec.group, "error": error
                }));
            }
        }
        let report = FrontierReport {
            model: &params,
            tt_targets_pct: frontier::TT_TARGETS_PCT,
            floor_pct: frontier::FLOOR_PCT,
            tie_below_pct: frontier::TIE_BELOW_PCT,
            max_advantage: frontier::MAX_ADVANTAGE,
            choosing_days: frontier::CHOOSING_DAYS,
            summary: &summary,
            traces,
        };
        write_json(path, &report)?;
    }
    if let Some(dir) = &args.plots {
        eprintln!("plots: {}", dir.display());
    }
    eprintln!(
        "{} traces x {} policies{} in {:.1} s",
        evals.len(),
        policies.len(),
        if schedules.is_empty() {
            ""
        } else {
            ", and the frontier"
        },
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        return Err(format!(
            "{} of {} traces failed (the others are reported above)",
            failed.len(),
            specs.len()
        )
        .into());
    }
    Ok(())
}

/// The `--frontier-json` document.
#[derive(Serialize)]
struct FrontierReport<'a> {
    model: &'a ModelParams,
    tt_targets_pct: [u32; 8],
    floor_pct: f64,
    tie_below_pct: f64,
    max_advantage: f64,
    choosing_days: usize,
    summary: &'a [GroupSummary],
    traces: Vec<serde_json::Value>,
}

/// One trace's frontier with its group.
#[derive(Serialize)]
struct TraceEntry<'a> {
    group: &'static str,
    #[serde(flatten)]
    frontier: &'a TraceFrontier,
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), Error> {
    std::fs::write(path, serde_json::to_string_pretty(value)? + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("json: {}", path.display());
    Ok(())
}

/// A ratio, `2.43x`.
fn ratio(x: f64) -> String {
    format!("{x:.2}x")
}

/// An optional ratio, `-` when absent.
fn maybe_ratio(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), ratio)
}

/// A throttled percentage, precise enough for the frontier's small values.
fn percent(x: f64) -> String {
    format!("{x:.4}")
}

/// The frontier's Markdown: the summary, ours per trace and schedule, target tracking's sweep.
fn render_frontier(summary: &[GroupSummary], traces: &[(&str, &TraceFrontier)]) -> String {
    let mut out = String::from(
        "\n### Frontier: summary\n\nGeometric means over each group's traces (ties left out of \
         the advantage).\n\n",
    );
    let rows: Vec<Vec<String>> = summary
        .iter()
        .map(|g| {
            vec![
                g.group.clone(),
                g.schedule.clone(),
                g.traces.to_string(),
                g.ties.to_string(),
                maybe_ratio(g.advantage_geomean),
                match (&g.advantage_min, &g.advantage_min_trace) {
                    (Some(a), Some(t)) => format!("{} ({t})", ratio(*a)),
                    _ => "-".into(),
                },
                maybe_ratio(g.cost_vs_tt70_geomean),
                maybe_ratio(g.cost_vs_on_demand_geomean),
                maybe_ratio(g.cost_vs_clairvoyant_geomean),
                maybe_ratio(g.bound_cost_vs_clairvoyant_geomean),
                format!("{}/{}", g.dearer_than_tt70, g.traces),
                format!("{}/{}", g.dearer_than_on_demand, g.traces),
            ]
        })
        .collect();
    out += &output::markdown(
        &[
            "group",
            "schedule",
            "traces",
            "ties",
            "advantage",
            "lowest advantage",
            "cost vs TT70",
            "vs on-demand",
            "vs clairvoyant",
            "bound vs clairvoyant",
            "dearer than TT70",
            "dearer than on-demand",
        ],
        &rows,
        2,
    );
    out += "\n### Frontier: per trace\n\n";
    let row = |trace: &str, r: &ScheduleResult| {
        vec![
            trace.to_owned(),
            r.schedule.clone(),
            r.runs_utc.clone(),
            format!("{:.1}", r.scored_days),
            format!("{:.0}", r.ours.cost_unit_hours),
            percent(r.ours.throttled_pct),
            percent(r.tt_throttled_pct_at_ours_cost),
            r.advantage.map_or_else(|| "tie".into(), ratio),
            ratio(r.cost_vs_tt70),
            ratio(r.cost_vs_on_demand),
            ratio(r.cost_vs_clairvoyant),
            ratio(r.bound_cost_vs_clairvoyant),
        ]
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut skipped = Vec::new();
    for (_, t) in traces {
        rows.extend(t.schedules.iter().map(|r| row(&t.trace, r)));
        skipped.extend(t.skipped.iter().map(|s| (&t.trace, s)));
    }
    out += &output::markdown(
        &[
            "trace",
            "schedule",
            "runs",
            "days scored",
            "ours unit-hours",
            "ours throttled %",
            "TT throttled % at ours' cost",
            "advantage",
            "cost vs TT70",
            "vs on-demand",
            "vs clairvoyant",
            "bound vs clairvoyant",
        ],
        &rows,
        3,
    );
    for (trace, s) in skipped {
        out += &format!("\n{trace}: {} not evaluated ({})", s.schedule, s.reason);
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out += "\n### Frontier: target tracking's sweep\n\nUnit-hours and throttled % at each \
            target, on the minutes each schedule scores (all of them, except after the days a \
            chosen schedule was chosen on).\n\n";
    let mut header = vec!["trace".to_owned(), "scored".to_owned()];
    header.extend(frontier::TT_TARGETS_PCT.iter().map(|p| format!("TT{p}")));
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (_, t) in traces {
        let mut windows: Vec<&ScheduleResult> = Vec::new();
        for r in &t.schedules {
            if !windows.iter().any(|w| w.scored_from == r.scored_from) {
                windows.push(r);
            }
        }
        for r in windows {
            let mut cells = vec![t.trace.clone(), format!("from {}", r.scored_from)];
            cells.extend(
                r.target_tracking
                    .iter()
                    .map(|p| format!("{:.0} / {}", p.cost_unit_hours, percent(p.throttled_pct))),
            );
            rows.push(cells);
        }
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out += &output::markdown(&header, &rows, 2);
    out
}
