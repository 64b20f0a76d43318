//! Options shared by the simulation subcommands: the model's parameters and how traces are read.

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

/// AWS options of the commands that talk to an account (`status`, `plan`, `backtest`). Anything
/// not given comes from the standard AWS configuration (`AWS_PROFILE`, `AWS_REGION`,
/// `~/.aws/config`, `AWS_ENDPOINT_URL`...), exactly as the AWS CLI reads it.
#[derive(Clone, Debug, clap::Args)]
pub struct AwsArgs {
    /// Named profile of the AWS configuration (default: AWS_PROFILE, else `default`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, else the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The opt-in tag key of the deployment (default: AUTOSCALER_TAG_KEY, else `ddb-autoscaler`).
    #[arg(long, value_name = "KEY")]
    pub tag_key: Option<String>,
}

/// A connection to one account and region, with the run configuration of the deployment.
pub struct Aws {
    /// The three clients the pipeline uses.
    pub clients: autoscaler_aws::Clients,
    /// Defaults from the same `AUTOSCALER_*` environment variables the functions read, the
    /// tag key possibly from `--tag-key`.
    pub config: autoscaler_aws::RunConfig,
    /// The region in use.
    pub region: String,
}

/// What to do when no credentials are found: the usual ways, and the emulator's.
const CREDENTIALS_HELP: &str = "configure them as for the AWS CLI: `aws configure`, or \
`aws sso login --profile NAME` and then --profile NAME (or AWS_PROFILE=NAME), or set \
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (against the local emulator any values do, e.g. \
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)";

impl AwsArgs {
    /// Loads the AWS configuration and the run configuration, and checks that there are a
    /// region and credentials, so that neither fails later with a less helpful error.
    pub async fn connect(&self) -> Result<Aws, Error> {
        let config = autoscaler_aws::RunConfig::from_lookup(|name| {
            if name == "AUTOSCALER_TAG_KEY"
                && let Some(key) = &self.tag_key
            {
                return Some(key.clone());
            }
            std::env::var(name).ok()
        })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(ToString::to_string) else {
            return Err(
                "no AWS region configured: pass --region, set AWS_REGION, or set \
                        `region` in your AWS profile"
                    .into(),
            );
        };
        if let Err(why) = autoscaler_aws::aws::check_credentials(&sdk).await {
            return Err(format!("no AWS credentials found ({why}); {CREDENTIALS_HELP}").into());
        }
        Ok(Aws {
            clients: autoscaler_aws::Clients::new(&sdk),
            config,
            region,
        })
    }
}

/// An AWS error as a message for the user: its whole cause chain, plus a hint when the cause is
/// the credentials (expired, unknown or not allowed).
pub fn aws_error(err: &(dyn std::error::Error + 'static)) -> Error {
    let text = autoscaler_aws::error::chain(err);
    let hint = if [
        "UnrecognizedClient",
        "InvalidClientTokenId",
        "ExpiredToken",
        "security token",
        "InvalidSignature",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        format!(" (the credentials were refused; {CREDENTIALS_HELP})")
    } else if text.contains("AccessDenied") {
        " (the credentials lack a permission: status, plan and backtest need \
         tag:GetResources, dynamodb:ListTables, dynamodb:ListTagsOfResource, \
         dynamodb:DescribeTable, dynamodb:DescribeLimits and cloudwatch:GetMetricData)"
            .to_owned()
    } else {
        String::new()
    };
    format!("{text}{hint}").into()
}

/// The error for a table `DescribeTable` does not know.
pub fn unknown_table(name: &str, region: &str) -> Error {
    format!("table {name:?} not found in region {region} (check the name, --region and --profile)")
        .into()
}

/// The error for a table that exists but is not managed: names the table and the tag.
pub fn not_opted_in(name: &str, tag_key: &str, value: Option<&str>) -> Error {
    match value {
        None => format!(
            "table {name:?} has not opted in: it has no tag {tag_key:?} (tag it {tag_key}=on, or \
             {tag_key}=dry-run to decide without changing anything; --tag-key or \
             AUTOSCALER_TAG_KEY if your deployment uses another key)"
        ),
        Some(v) => format!(
            "table {name:?} has not opted in: its tag {tag_key:?} is {v:?}, and only \"on\" or \
             \"dry-run\" opt a table in"
        ),
    }
    .into()
}

/// `DescribeTable` of `name` (an error naming it when it does not exist), and the table with
/// all its tags when it carries the opt-in tag key (whatever the value), as the pipeline's
/// discovery finds it; `None` when it does not carry the key.
pub async fn describe_and_tags(
    aws: &Aws,
    name: &str,
) -> Result<
    (
        autoscaler_aws::table::TableDescription,
        Option<autoscaler_aws::table::TaggedTable>,
    ),
    Error,
> {
    let description = match autoscaler_aws::aws::describe(&aws.clients, name).await {
        Ok(d) => d,
        Err((autoscaler_aws::aws::Failure::NotFound, _)) => {
            return Err(unknown_table(name, &aws.region));
        }
        Err((_, e)) => return Err(aws_error(&e)),
    };
    let tagged = autoscaler_aws::aws::discover(&aws.clients, &aws.config.tag_key)
        .await
        .map_err(|e| aws_error(&e))?
        .into_iter()
        .find(|t| t.name == name);
    Ok((description, tagged))
}
