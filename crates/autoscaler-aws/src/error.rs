//! The crate's one error type. Every variant that concerns a table names it; AWS errors keep
//! their source chain (render it with [`aws_smithy_types::error::display::DisplayErrorContext`]).

use scaling_policy::ConfigError;

/// A boxed error source (SDK errors are large generic types; they are boxed at the edge).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

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
    #[error("table {table}: {operation} failed")]
    Aws {
        /// The table.
        table: String,
        /// The call that failed.
        operation: &'static str,
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
            source: Box::new(std::io::Error::other("connection reset")),
        };
        assert_eq!(
            chain(&e),
            "table orders: UpdateTable failed: connection reset"
        );
    }
}
