//! The crate's one error type. Every variant that concerns a table names it; AWS errors keep
//! their source chain (render it with [`chain`]) and say how the pipeline treats them
//! ([`Error::kind`], classified from the SDK's error at the adapter edge, `aws.rs`).
//!
//! A table's failure travels from the run to its report as a [`TableError`]: the same typed error,
//! shared, and turned into text (its whole cause chain) only where it is shown: logs, the
//! function's JSON result, the CLI.

use std::sync::Arc;

use scaling_policy::runaway::Runaway;
use scaling_policy::{ConfigError, Dimension};
use serde::Serialize;

/// A boxed error source (SDK errors are large generic types; they are boxed at the edge).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How the pipeline treats a failed AWS call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The table does not exist (any more).
    NotFound,
    /// The table is being updated; try again next run.
    InUse,
    /// DynamoDB refused a capacity above its limits (`LimitExceededException` about anything
    /// but decreases).
    LimitExceeded,
    /// DynamoDB refused a decrease: the day's decrease quota (`LimitExceededException` saying
    /// so).
    DecreaseQuota,
    /// Anything else.
    Other,
}

/// What can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An environment variable has a value the functions cannot use.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The default settings built from the environment contradict each other.
    #[error("the default settings from the environment are inconsistent")]
    Defaults(#[source] ConfigError),
    /// Listing the opted-in tables failed (both the tagging API and the fallback).
    #[error("discovering tagged tables failed ({operation})")]
    Discover {
        /// The call that failed.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// An AWS call about one table failed.
    #[error("table {table}: {operation} failed{}", refusal(*.kind))]
    Aws {
        /// The table.
        table: String,
        /// The call that failed.
        operation: &'static str,
        /// How the pipeline treats it.
        kind: ErrorKind,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// A table's tags configure it badly; the table is left alone.
    #[error("table {table}: {source}")]
    Config {
        /// The table.
        table: String,
        /// What is wrong.
        #[source]
        source: ConfigError,
    },
    /// `GetMetricData` failed for a batch of tables.
    #[error("CloudWatch GetMetricData failed")]
    Metrics(#[source] BoxError),
    /// The metrics one table's decisions need could not be fetched: the failure of its batch,
    /// shared by every table of that batch.
    #[error("table {table}")]
    TableMetrics {
        /// The table.
        table: String,
        /// Why its batch failed.
        #[source]
        source: Arc<Error>,
    },
    /// A series the decisions need was never asked for (a bug: every target is measured).
    #[error("table {table}: no metrics were fetched")]
    NotMeasured {
        /// The table.
        table: String,
    },
    /// CloudWatch did not answer one series completely: its data is unknown (never "no
    /// throttling"). Reported through [`Error::TableMetrics`], which names the table.
    #[error("{metric} of {} {why}", target_name(.index.as_deref()))]
    IncompleteSeries {
        /// The GSI, `None` for the table itself.
        index: Option<String>,
        /// The metric.
        metric: String,
        /// What was wrong (its `StatusCode`, missing, a value that is not a number).
        why: String,
    },
    /// `DescribeScalableTargets` (which tables Application Auto Scaling manages) failed.
    #[error("Application Auto Scaling DescribeScalableTargets failed")]
    ScalableTargets(#[source] BoxError),
    /// A change was decided but it is unknown whether Application Auto Scaling manages the
    /// table: nothing is changed rather than fight it.
    #[error(
        "table {table}: not changed, as it is unknown whether Application Auto Scaling manages it"
    )]
    AutoScalingUnknown {
        /// The table.
        table: String,
        /// Why it is unknown.
        #[source]
        source: Arc<Error>,
    },
    /// The runaway guard tripped: the table was raised too often in the last hour, and is held
    /// at its capacity.
    #[error("table {table}: {runaway}")]
    RunawayGuard {
        /// The table.
        table: String,
        /// How often, since when, until when.
        runaway: Runaway,
    },
    /// DynamoDB refused raising one dimension of a table (its account's maximum, or the
    /// per-table one); the table's other changes were sent without it.
    #[error(
        "table {table}: DynamoDB refused raising its {dimension}s{}; {}",
        limit_text(*.limit),
        if *.rest_applied { "its other changes were applied" } else { "nothing else was changed" }
    )]
    IncreaseRefused {
        /// The table.
        table: String,
        /// The dimension whose increase was refused.
        dimension: Dimension,
        /// The quotas `DescribeLimits` reported (account, table), if it answered.
        limit: Option<(u64, u64)>,
        /// Whether an `UpdateTable` without that increase was accepted.
        rest_applied: bool,
        /// DynamoDB's refusal.
        #[source]
        source: BoxError,
    },
    /// A call to the lease table failed.
    #[error("table {table}: the lease table's {operation} failed")]
    Lease {
        /// The managed table whose lease it was.
        table: String,
        /// The call.
        operation: &'static str,
        /// The SDK error, or what was wrong with the answer.
        #[source]
        source: BoxError,
    },
    /// The lease was not ours any more when it was released: another run took it after it
    /// expired, so the two may have overlapped.
    #[error(
        "table {table}: its lease had expired and was taken by another run before this one released it"
    )]
    LeaseLost {
        /// The table.
        table: String,
    },
    /// The AWS configuration yields no credentials.
    #[error("no AWS credentials found")]
    Credentials(#[source] BoxError),
    /// A table that must be opted in (`on` or `dry-run`) for what was asked is not.
    #[error("table {table}: not opted in ({})", opt_in(.tag_key, .value.as_deref()))]
    NotOptedIn {
        /// The table.
        table: String,
        /// The opt-in tag key.
        tag_key: String,
        /// The opt-in tag's value, if the table has the tag.
        value: Option<String>,
    },
    /// A table has no boost with this id.
    #[error("table {table}: no boost {id:?}")]
    UnknownBoost {
        /// The table.
        table: String,
        /// The id asked for.
        id: String,
    },
    /// Changing a table's tags failed part-way: `TagResource` and `UntagResource` are two calls,
    /// and `written` lists the keys the first one set before the failure (empty when nothing
    /// was written).
    #[error("table {table}: the tags were not all changed (written before the failure: {})", keys(.written))]
    TagsPartlyChanged {
        /// The table.
        table: String,
        /// Tag keys that were written (set) before the failure.
        written: Vec<String>,
        /// The failed call.
        #[source]
        source: Box<Error>,
    },
    /// AWS answered something the pipeline cannot use.
    #[error("table {table}: unexpected response from {operation}: {what}")]
    BadResponse {
        /// The table.
        table: String,
        /// The call.
        operation: &'static str,
        /// What was wrong with it.
        what: String,
    },
    /// The metrics recorder (EMF log lines) could not be installed.
    #[error("installing the metrics recorder failed")]
    MetricsRecorder(#[source] BoxError),
    /// Sending notifications (EventBridge `PutEvents`) failed.
    #[error("sending {count} notification(s) failed ({operation})")]
    Notify {
        /// How many events were not delivered.
        count: usize,
        /// The call, or what it answered.
        operation: &'static str,
        /// The SDK error, or the entries' error codes.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// How the pipeline treats this error: the kind of a failed AWS call, [`ErrorKind::Other`]
    /// for everything else.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Aws { kind, .. } => *kind,
            _ => ErrorKind::Other,
        }
    }
}

/// How a table is not opted in, for [`Error::NotOptedIn`].
fn opt_in(key: &str, value: Option<&str>) -> String {
    match value {
        None => format!("no tag {key}; tag it {key}=on, or {key}=dry-run"),
        Some(v) => format!("tag {key} = {v:?}, and only \"on\" or \"dry-run\" opt a table in"),
    }
}

/// Tag keys for a message: `none`, or the keys in order.
fn keys(keys: &[String]) -> String {
    if keys.is_empty() {
        "none".to_owned()
    } else {
        keys.join(", ")
    }
}

/// "the table" or "index NAME".
fn target_name(index: Option<&str>) -> String {
    index.map_or_else(|| "the table".to_owned(), |i| format!("index {i}"))
}

/// The quotas an increase ran into, for its message.
fn limit_text(limit: Option<(u64, u64)>) -> String {
    limit.map_or_else(
        || " (an account or table capacity quota; DescribeLimits did not say which)".to_owned(),
        |(account, table)| {
            format!(
                " past a capacity quota (DescribeLimits: account maximum {account}, table maximum {table}, table and GSIs together)"
            )
        },
    )
}

/// What a refused call adds to its message.
fn refusal(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::LimitExceeded => " (DynamoDB refused the change: a capacity limit)",
        ErrorKind::DecreaseQuota => " (DynamoDB refused the decrease: the daily decrease quota)",
        _ => "",
    }
}

/// Why a table failed, in its report: the typed [`Error`], shared (reports are cloned), shown and
/// serialized (JSON: a string) as its whole cause chain ([`chain`]).
#[derive(Clone, Debug)]
pub struct TableError(Arc<Error>);

impl TableError {
    /// The error.
    pub fn error(&self) -> &Error {
        &self.0
    }
}

impl From<Error> for TableError {
    fn from(error: Error) -> Self {
        Self(Arc::new(error))
    }
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&chain(&*self.0))
    }
}

impl PartialEq for TableError {
    /// The same error, or one that reads the same.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.to_string() == other.to_string()
    }
}

impl Serialize for TableError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The full error chain on one line (`outer: cause: root cause`), for reports and logs. A cause
/// whose text the previous one already contains is not repeated.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut last = out.clone();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && !last.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_joins_causes_without_repeats() {
        let e = Error::Aws {
            table: "orders".into(),
            operation: "UpdateTable",
            kind: ErrorKind::Other,
            source: Box::new(std::io::Error::other("connection reset")),
        };
        assert_eq!(
            chain(&e),
            "table orders: UpdateTable failed: connection reset"
        );
    }

    #[test]
    fn a_batch_failure_reads_as_the_table_s_own() {
        let batch = Arc::new(Error::Metrics(Box::new(std::io::Error::other(
            "Throttling",
        ))));
        let e = TableError::from(Error::TableMetrics {
            table: "orders".into(),
            source: batch,
        });
        assert_eq!(
            e.to_string(),
            "table orders: CloudWatch GetMetricData failed: Throttling"
        );
        assert_eq!(serde_json::to_value(&e).unwrap(), e.to_string());
    }
}
