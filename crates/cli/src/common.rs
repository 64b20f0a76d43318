//! What the simulation subcommands (`simulate`, `bench`) share: the model's parameters and how
//! traces are read; and the command line's error type, which every command returns. The
//! connection to an account, shared by the operator commands, is in `account.rs`.

use std::path::Path;

use capacity_sim::trace::{DEFAULT_TARGET_MEDIAN, DEFAULT_ZERO_RUN_GAP_MINUTES};
use capacity_sim::{
    Duplicates, ModelParams, PolicySpec, ScaleDownSchedule, Trace, TraceOptions, synthetic,
};
use clap::ValueEnum;

/// Errors of the command line: messages for the user.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Which capacity dimension the trace stands for (sets the prices).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DimensionArg {
    /// Reads: $0.00013 per RCU-hour, $0.125 per million on-demand reads.
    Read,
    /// Writes: $0.00065 per WCU-hour, $0.625 per million on-demand writes.
    Write,
}

/// How to read repeated timestamps in a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DuplicatesArg {
    /// Reject the trace, naming both lines.
    Error,
    /// Add the repeated rows' counts into one step.
    Sum,
    /// Keep the last row.
    Last,
}

/// Model and trace options.
#[derive(Clone, Debug, clap::Args)]
pub struct ModelArgs {
    /// The dimension the trace is priced as.
    #[arg(long, value_enum, default_value = "read")]
    pub dimension: DimensionArg,
    /// Scale each trace so that the median of its non-zero values is this many units/s.
    #[arg(long, default_value_t = DEFAULT_TARGET_MEDIAN)]
    pub target_median: f64,
    /// The CSV column holding the values (default: value, count, request_count...).
    #[arg(long)]
    pub column: Option<String>,
    /// Runs of exact zeros at least this many minutes long are missing data (0: never).
    #[arg(long, default_value_t = DEFAULT_ZERO_RUN_GAP_MINUTES)]
    pub zero_run_gap: u32,
    /// What a repeated timestamp in a trace means (a local-time export across a daylight-saving
    /// change): an error, the sum of the rows, or the last row.
    #[arg(long, value_enum, default_value = "error")]
    pub duplicates: DuplicatesArg,
    /// Minutes after a minute ends before its CloudWatch datapoint is visible.
    #[arg(long, default_value_t = 2)]
    pub publish_delay: u32,
    /// Minutes an UpdateTable takes to take effect (and blocks further updates).
    #[arg(long, default_value_t = 1)]
    pub update_delay: u32,
    /// Seconds of unused capacity the burst bucket keeps.
    #[arg(long, default_value_t = 300.0)]
    pub burst_secs: f64,
    /// UTC hours of the scale-down run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0,6,12,18",
          value_parser = clap::value_parser!(u32).range(0..=23))]
    pub scale_down_hours: Vec<u32>,
    /// Run the scale-down every this many minutes from midnight UTC instead (60: hourly, the
    /// quota's pace; 15: `cron(0/15 * * * ? *)`).
    #[arg(long, value_name = "MINUTES", conflicts_with = "scale_down_hours",
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub scale_down_every: Option<u32>,
    /// Each minute's runs start up to this many seconds late (pseudo-random per minute, as
    /// EventBridge's do); 0: exactly on the minute.
    #[arg(long, value_name = "SECS", default_value_t = capacity_sim::params::DEFAULT_LATE_RUNS_MAX_SECS,
          value_parser = clap::value_parser!(u32).range(0..=59))]
    pub late_runs_max_secs: u32,
    /// Seed of the runs' lateness.
    #[arg(long, value_name = "SEED", default_value_t = capacity_sim::params::DEFAULT_LATE_RUNS_SEED)]
    pub late_runs_seed: u64,
}

impl ModelArgs {
    /// The model parameters these options describe.
    pub fn params(&self) -> ModelParams {
        let dimension = match self.dimension {
            DimensionArg::Read => capacity_sim::params::Dimension::Read,
            DimensionArg::Write => capacity_sim::params::Dimension::Write,
        };
        let mut p = ModelParams::for_dimension(dimension);
        p.publish_delay = self.publish_delay;
        p.update_delay = self.update_delay;
        p.burst_secs = self.burst_secs;
        p.initial_burst_secs = self.burst_secs;
        p.scale_down = match self.scale_down_every {
            Some(step) => ScaleDownSchedule::every(step),
            None => ScaleDownSchedule::at_hours(&self.scale_down_hours),
        }
        .expect("clap checks the hours and the step");
        p.late_runs_max_secs = self.late_runs_max_secs;
        p.late_runs_seed = self.late_runs_seed;
        p
    }

    /// How to read traces.
    pub fn trace_options(&self) -> TraceOptions {
        TraceOptions {
            target_median: self.target_median,
            column: self.column.clone(),
            zero_run_gap_minutes: self.zero_run_gap,
            duplicates: match self.duplicates {
                DuplicatesArg::Error => Duplicates::Error,
                DuplicatesArg::Sum => Duplicates::Sum,
                DuplicatesArg::Last => Duplicates::Last,
            },
        }
    }
}

/// Loads a trace file, or a synthetic trace named `synthetic:NAME`. `name` is what reports
/// call it.
pub fn load_trace(spec: &str, name: &str, options: &TraceOptions) -> Result<Trace, Error> {
    if spec.starts_with("synthetic:") {
        return Ok(synthetic::by_name(spec, options)?);
    }
    let mut trace = Trace::load(Path::new(spec), options)?;
    trace.name = name.to_owned();
    Ok(trace)
}

/// The policies named on the command line, or all of them.
pub fn policies(names: &[String]) -> Result<Vec<PolicySpec>, Error> {
    if names.is_empty() {
        return Ok(PolicySpec::all());
    }
    Ok(names
        .iter()
        .map(|n| PolicySpec::parse(n))
        .collect::<Result<Vec<_>, _>>()?)
}
