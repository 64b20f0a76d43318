//! `ddb-autoscaler simulate`: one trace, some policies.

use std::path::PathBuf;

use capacity_sim::evaluate;

use crate::common::{self, Error, ModelArgs};
use crate::output;

/// Arguments of `simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trace: a CSV file, or `synthetic:NAME` (business-day, flash-crowd, weekly-cycle,
    /// step, ramp, hot-key).
    #[arg(long)]
    trace: String,
    /// A policy to run (repeatable; default: all). `aws-target-tracking:PERCENT` sets its
    /// target.
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Print JSON rows instead of the table.
    #[arg(long)]
    json: bool,
    /// Also draw demand, capacity and throttling to this PNG file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs `simulate`.
pub fn run(args: Args) -> Result<(), Error> {
    let options = args.model.trace_options();
    let name = PathBuf::from(&args.trace)
        .file_name()
        .map_or_else(|| args.trace.clone(), |f| f.to_string_lossy().into_owned());
    let trace = common::load_trace(&args.trace, &name, &options)?;
    let params = args.model.params();
    let policies = common::policies(&args.policies)?;
    let eval = evaluate(&trace, &params, &policies)?;
    if args.json {
        output::emit(&format!("{}\n", serde_json::to_string_pretty(&eval.rows)?))?;
    } else {
        output::emit(&output::table(std::slice::from_ref(&eval), &[]))?;
        for note in &eval.notes {
            eprintln!("note: {note}");
        }
    }
    if let Some(path) = args.plot {
        output::plot(&path, &trace, &eval)?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}
