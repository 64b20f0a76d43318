//! # autoscaler-aws: one ddb-autoscaler run against AWS
//!
//! The imperative shell around [`scaling_policy`]. A run ([`run::run`]) is the pipeline of
//! DESIGN section 2: discover the tables carrying the opt-in tag (Resource Groups Tagging API
//! `GetResources`, falling back to `ListTables` + `ListTagsOfResource`), `DescribeTable` each,
//! fetch per-minute consumed and throttle Sums with `GetMetricData` for the series that are due
//! ([`poll`]: one query per metric over a window covering every minute the decisions read, at
//! most 500 queries a call), decide with the pure policy, and apply
//! with one `UpdateTable` per table carrying every changed table and GSI throughput and nothing
//! unchanged ([`mod@run`] for the stages).
//!
//! Key decisions:
//! - SDK types stop at [`aws`]: the rest of the crate works on its own types ([`table`]).
//! - One table's failure never stops a run: every per-table problem (bad override tags, AWS
//!   errors, a table that vanished) becomes a line in the [`run::RunSummary`]. Only a failure to
//!   discover tables at all fails the run.
//! - Dry-run is global (`AUTOSCALER_DRY_RUN`) or per table (tag value `dry-run`): decisions are
//!   made and reported, `UpdateTable` is never called.
//! - [`invoke`] turns a summary with failed tables into an error, so that the Lambda function's
//!   `Errors` metric (and an alarm on it) sees it; the full summary is logged either way.
//! - The two functions never change one table at once: a per-table lease in a table of the
//!   stack ([`lease`]) holds the describe an update is computed from and the update together.
//! - A run keeps to its invocation's deadline ([`deadline`]): it starts no table it may not
//!   finish, and says which it left.
//! - No trait over the SDK: the emulator (moto) and `aws-smithy-mocks` give real clients.
//! - Boosts (announced events, kept as tags) reach the decisions as a floor ([`boost`]); the
//!   scale-up run removes the tags of expired ones.
//! - The management API and the CLI see the decisions through [`outlook`] (a run's building
//!   blocks, nothing applied) and change tables only through [`manage`] (validated tag changes
//!   on opted-in tables), whose SDK calls are in [`tags`].
//! - What a run reports besides its summary is made from the summary, after the run: its metrics
//!   as CloudWatch Embedded Metric Format lines ([`emf`]) and, when asked, an EventBridge event
//!   per applied change and per failed table ([`notify`]). The functions call both
//!   (`functions-common`); the pipeline itself neither knows nor waits for them.
//! - The scale-up function reads a series only when the cadence says it is due ([`poll`]), with
//!   the state a warm container keeps ([`Warm`]); a cold start reads everything. Each run counts
//!   its API calls and the metrics it requested ([`calls`]), in its summary and log line.

pub mod apply;
pub mod aws;
pub mod boost;
pub mod calls;
pub mod deadline;
pub mod emf;
pub mod env;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod lease;
pub mod manage;
pub mod notify;
pub mod outlook;
pub mod poll;
pub mod run;
pub mod table;
pub mod tags;

pub use aws::Clients;
pub use calls::Calls;
pub use deadline::Deadline;
pub use env::RunConfig;
pub use error::{Error, ErrorKind, TableError};
pub use poll::Warm;
pub use run::{Direction, Outcome, RunSummary, SkipReason, run, run_with, run_within};

use scaling_policy::Timestamp;

/// A run that completed but left tables failed (bad tags or AWS errors). Returned as the
/// invocation's error so the function's `Errors` metric counts it; the summary is kept.
#[derive(Debug, thiserror::Error)]
#[error("{} of {} managed tables failed: {}", .summary.failed.len(), .summary.tables_managed, failed_list(.summary))]
pub struct RunFailed {
    /// The complete summary of the run.
    pub summary: Box<RunSummary>,
}

/// The failed tables' errors (each names its table).
fn failed_list(s: &RunSummary) -> String {
    s.failed
        .iter()
        .map(|f| f.error.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why an invocation failed. Each variant is named as the Lambda error type it is reported as
/// ([`InvokeError::kind`]).
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The run could not happen: the tables could not be discovered (the only error [`run()`]
    /// returns; every per-table problem is in the summary instead).
    #[error(transparent)]
    DiscoveryFailed(#[from] Error),
    /// The run happened but some tables failed.
    #[error(transparent)]
    TablesFailed(#[from] RunFailed),
}

impl InvokeError {
    /// A short, stable name for the kind of failure (the Lambda error type): `DiscoveryFailed`
    /// or `TablesFailed`.
    pub fn kind(&self) -> &'static str {
        match self {
            InvokeError::DiscoveryFailed(_) => "DiscoveryFailed",
            InvokeError::TablesFailed(_) => "TablesFailed",
        }
    }
}

/// One function invocation after a cold start: a run at `now` within the invocation's
/// `deadline`, whose summary is the result, or an error when any table failed.
pub async fn invoke(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
    deadline: Deadline,
) -> Result<RunSummary, InvokeError> {
    invoke_with(
        clients,
        config,
        direction,
        now,
        deadline,
        &mut Warm::new(config.cadence),
    )
    .await
}

/// One function invocation in a warm container: [`invoke`] with what the container kept from
/// its earlier runs (`warm`, updated).
pub async fn invoke_with(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
    deadline: Deadline,
    warm: &mut Warm,
) -> Result<RunSummary, InvokeError> {
    let summary = run_with(clients, config, direction, now, deadline, warm).await?;
    if summary.failed.is_empty() {
        Ok(summary)
    } else {
        Err(RunFailed {
            summary: Box::new(summary),
        }
        .into())
    }
}

/// The current time, for the shell (the policy never reads a clock).
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Timestamp::from_unix(secs)
}
