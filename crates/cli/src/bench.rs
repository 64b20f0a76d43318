//! `ddb-autoscaler bench`: every policy on every trace under a folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use capacity_sim::{Evaluation, evaluate};

use crate::common::{self, Error, ModelArgs};
use crate::output;

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder searched recursively for .csv traces.
    #[arg(long, value_name = "DIR")]
    traces: PathBuf,
    /// Also run the synthetic traces (business-day, flash-crowd, weekly-cycle, step, ramp).
    #[arg(long)]
    synthetic: bool,
    /// A policy to run (repeatable; default: all).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Write the rows as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Draw one PNG per trace into this folder.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Traces evaluated at once (default: up to 2, the cores of a small machine).
    #[arg(long)]
    jobs: Option<usize>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Every `.csv` under `dir`, sorted, with its path relative to `dir` (with `/`).
fn find_csv(dir: &Path) -> Result<Vec<(PathBuf, String)>, Error> {
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
    let mut specs: Vec<(String, String)> = find_csv(&args.traces)?
        .into_iter()
        .map(|(path, rel)| (path.to_string_lossy().into_owned(), rel))
        .collect();
    if args.synthetic {
        for name in capacity_sim::synthetic::NAMES {
            let s = format!("synthetic:{name}");
            specs.push((s.clone(), s));
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
    let results: Mutex<Vec<Option<Result<Evaluation, Error>>>> =
        Mutex::new((0..specs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((spec, name)) = specs.get(i) else {
                        break;
                    };
                    let outcome = (|| -> Result<Evaluation, Error> {
                        let trace = common::load_trace(spec, name, &options)?;
                        let eval = evaluate(&trace, &params, &policies)?;
                        if let Some(dir) = &args.plots {
                            output::plot(&dir.join(output::plot_file_name(name)), &trace, &eval)?;
                        }
                        Ok(eval)
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
    let mut evals = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for ((_, name), r) in specs.iter().zip(results) {
        match r {
            Some(Ok(eval)) => evals.push(eval),
            Some(Err(e)) => failed.push((name.clone(), e.to_string())),
            None => failed.push((name.clone(), "not evaluated".into())),
        }
    }
    output::emit(&output::table(&evals, &failed))?;
    for note in evals.iter().flat_map(|e| &e.notes) {
        eprintln!("note: {note}");
    }
    for (name, error) in &failed {
        eprintln!("error: {name}: {error}");
    }
    if let Some(path) = &args.json {
        let mut rows: Vec<serde_json::Value> = evals
            .iter()
            .flat_map(|e| &e.rows)
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        rows.extend(
            failed
                .iter()
                .map(|(trace, error)| serde_json::json!({ "trace": trace, "error": error })),
        );
        std::fs::write(path, serde_json::to_string_pretty(&rows)? + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("json: {}", path.display());
    }
    if let Some(dir) = &args.plots {
        eprintln!("plots: {}", dir.display());
    }
    eprintln!(
        "{} traces x {} policies in {:.1} s",
        evals.len(),
        policies.len(),
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
