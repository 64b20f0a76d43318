//! # emf: a run as CloudWatch metrics, written as Embedded Metric Format log lines
//!
//! After each run the functions print a few JSON lines in CloudWatch's Embedded Metric Format
//! (EMF) next to their logs; CloudWatch Logs extracts the metrics from them. No `PutMetricData`
//! call, no extra permission, no cost per call: the metrics travel with the log lines (which a
//! function must then not filter out: they carry no `level`, and Lambda files them as `INFO`).
//!
//! **Model.** A run becomes a list of [`Sample`]s ([`samples`], pure: a [`RunSummary`] and the
//! [`RunFacts`] the summary does not hold), which [`Emitter::lines`] hands to the `metrics`
//! facade and its EMF recorder (`metrics_cloudwatch_embedded`), and flushes as one line per
//! dimension set:
//!
//! - **per run**, dimension `Direction` (`up`, `down`): [`RUN_METRICS`], one value each per run
//!   (tables seen, managed, changed, skipped, failed, throttled; the capacity changes applied,
//!   `Increases` for scale-up and `Decreases` for scale-down, the only kind each makes; the
//!   CloudWatch metrics the run requested; its duration);
//! - **per decision**, dimensions `Direction`, `Action`, `Reason`: [`DECISIONS`], the number of
//!   decisions of that action and reason in the run (only the combinations that occurred);
//! - **per table and dimension**, only with [`MetricsConfig::per_table`] (off by default),
//!   dimensions `Table`, `Index` (`-` for the table itself), `Dimension` (`read`, `write`):
//!   [`TABLE_METRICS`] for each change applied, and nothing for a target that did not change;
//! - [`LATE_RUNS_DROPPED`] (dimension `Direction`) when the handler drops a late scheduled run.
//!
//! **Cardinality.** Each (namespace, name, dimension values) is a custom metric, billed by the
//! hour in which it receives data ($0.30 a metric-month). The per-run and per-decision metrics
//! are bounded by the code (a few dozen); the per-table ones grow with the tables that change,
//! [`TABLE_METRICS_PER_CHANGED_TARGET`] per table or GSI dimension (the `cost` command counts
//! them), hence off by default.
//!
//! **Key decisions.** Every value is recorded as a `metrics` histogram (the decision counts as
//! counters): the recorder emits a histogram only when a value was recorded since the last
//! flush, so a warm container never repeats a previous run's values (its gauges would), and a
//! zero that was recorded is still written (its counters drop zeros). The `metrics` facade has
//! one global recorder per process: [`Emitter::install`] once, at cold start.

use std::time::Duration;

use metrics_cloudwatch_embedded::Collector;
use scaling_policy::Action;

use crate::error::Error;
use crate::run::{Direction, Outcome, RunSummary};

/// The namespace of the metrics unless the deployment chooses another.
pub const DEFAULT_NAMESPACE: &str = "ddb-autoscaler";

/// The value of `AUTOSCALER_METRICS_NAMESPACE` that turns the metrics off.
pub const OFF: &str = "off";

/// The per-run metrics (dimension `Direction`), in the order they are listed in the README.
pub const RUN_METRICS: [&str; 10] = [
    "TablesSeen",
    "TablesManaged",
    "TablesChanged",
    "TablesSkipped",
    "TablesFailed",
    "TablesThrottled",
    "Increases",
    "Decreases",
    "MetricsRequested",
    "RunDuration",
];

/// The per-run metrics one function writes: scale-up never lowers and scale-down never raises,
/// so each writes only its own kind of change.
pub const RUN_METRICS_PER_FUNCTION: usize = RUN_METRICS.len() - 1;

/// Decisions of one action and reason in a run (dimensions `Direction`, `Action`, `Reason`).
pub const DECISIONS: &str = "Decisions";

/// Scheduled runs the handler dropped because they started too late (dimension `Direction`).
pub const LATE_RUNS_DROPPED: &str = "LateRunsDropped";

/// The per-table metrics of one changed table or GSI dimension (dimensions `Table`, `Index`,
/// `Dimension`): the capacity before and after the change, and the peak demand (units/s) behind
/// it (left out when the decision had none).
pub const TABLE_METRICS: [&str; 3] = ["CapacityFrom", "CapacityTo", "PeakDemand"];

/// Custom metrics one changed target (a dimension of a table or GSI) adds while per-table
/// metrics are on: what the `cost` command multiplies by the targets that change in a month.
pub const TABLE_METRICS_PER_CHANGED_TARGET: usize = TABLE_METRICS.len();

/// The `Index` dimension's value for the table itself.
pub const TABLE_ITSELF: &str = "-";

/// What the deployment asks for (`AUTOSCALER_METRICS_NAMESPACE`, `AUTOSCALER_TABLE_METRICS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    /// The CloudWatch namespace; `None`: no metrics at all.
    pub namespace: Option<String>,
    /// Whether to write the per-table metrics.
    pub per_table: bool,
}

impl MetricsConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`; a bad value is an error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let (name, value) = crate::env::setting(&lookup, "AUTOSCALER_METRICS_NAMESPACE");
        let namespace = if value.eq_ignore_ascii_case(OFF) {
            None
        } else if !(1..=255).contains(&value.len())
            || !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            || value.starts_with("AWS/")
            || value.starts_with(':')
        {
            return Err(Error::Env {
                name,
                value,
                reason: format!(
                    "a CloudWatch namespace: 1-255 ASCII characters, not starting with AWS/ or ':' (or {OFF})"
                ),
            });
        } else {
            Some(value)
        };
        let per_table = crate::env::flag(crate::env::setting(&lookup, "AUTOSCALER_TABLE_METRICS"))?;
        Ok(Self {
            namespace,
            per_table,
        })
    }
}

/// What a run's metrics need that its summary does not hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunFacts {
    /// How long the invocation took, from the event to the summary.
    pub duration: Duration,
}

/// How a sample is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One value of a series (a `metrics` histogram): written whenever it was recorded, zero
    /// included.
    Value,
    /// A count added up over the run (a `metrics` counter): written only when not zero.
    Count,
}

/// One metric value of a run, before it becomes EMF.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric name.
    pub name: &'static str,
    /// Its dimensions, as (name, value).
    pub dimensions: Vec<(&'static str, String)>,
    /// The value.
    pub value: f64,
    /// How it is recorded.
    pub kind: Kind,
}

/// The metrics of one run: per run, per decision and (with `per_table`) per changed target.
pub fn samples(summary: &RunSummary, facts: &RunFacts, per_table: bool) -> Vec<Sample> {
    let direction = || vec![("Direction", summary.direction.as_str().to_owned())];
    let run = |name, value: f64| Sample {
        name,
        dimensions: direction(),
        value,
        kind: Kind::Value,
    };
    let throttled = summary
        .tables
        .iter()
        .filter(|t| {
            t.decisions
                .iter()
                .any(|d| d.decision.numbers.throttle_events > 0.0)
        })
        .count();
    let applied = || {
        summary
            .tables
            .iter()
            .filter(|t| t.outcome == Outcome::Changed)
            .flat_map(|t| t.decisions.iter().map(move |d| (t, d)))
            .filter(|(_, d)| d.decision.changes())
    };
    let changes = applied().count() as f64;
    let mut out = vec![
        run("TablesSeen", summary.tables_seen as f64),
        run("TablesManaged", summary.tables_managed as f64),
        run("TablesChanged", summary.tables_changed as f64),
        run("TablesSkipped", summary.skipped.len() as f64),
        run("TablesFailed", summary.failed.len() as f64),
        run("TablesThrottled", throttled as f64),
        match summary.direction {
            Direction::Up => run("Increases", changes),
            Direction::Down => run("Decreases", changes),
        },
        run("MetricsRequested", summary.calls.metrics_requested as f64),
        run("RunDuration", facts.duration.as_secs_f64() * 1000.0),
    ];

    let mut decisions: Vec<(Action, &'static str, usize)> = Vec::new();
    for d in summary.tables.iter().flat_map(|t| &t.decisions) {
        let (action, reason) = (d.decision.action, d.decision.reason.as_str());
        match decisions
            .iter_mut()
            .find(|(a, r, _)| *a == action && *r == reason)
        {
            Some((_, _, n)) => *n += 1,
            None => decisions.push((action, reason, 1)),
        }
    }
    out.extend(decisions.into_iter().map(|(action, reason, n)| Sample {
        name: DECISIONS,
        dimensions: vec![
            ("Direction", summary.direction.as_str().to_owned()),
            ("Action", action.as_str().to_owned()),
            ("Reason", reason.to_owned()),
        ],
        value: n as f64,
        kind: Kind::Count,
    }));

    if per_table {
        for (t, d) in applied() {
            let dimensions = vec![
                ("Table", t.table.clone()),
                (
                    "Index",
                    d.index.clone().unwrap_or_else(|| TABLE_ITSELF.to_owned()),
                ),
                ("Dimension", d.decision.dimension.to_string()),
            ];
            let value = |name, value: f64| Sample {
                name,
                dimensions: dimensions.clone(),
                value,
                kind: Kind::Value,
            };
            out.push(value("CapacityFrom", d.decision.from as f64));
            out.push(value("CapacityTo", d.decision.to as f64));
            if let Some(peak) = d.decision.numbers.peak_demand {
                out.push(value("PeakDemand", peak));
            }
        }
    }
    out
}

/// Writes the metrics of the functions as EMF lines: the process's one `metrics` recorder.
pub struct Emitter {
    collector: &'static Collector,
    per_table: bool,
}

impl Emitter {
    /// Installs the EMF recorder as the process's `metrics` recorder (once per process: a second
    /// call fails), or nothing when the configuration turns metrics off.
    pub fn install(config: &MetricsConfig) -> Result<Option<Self>, Error> {
        let Some(namespace) = &config.namespace else {
            return Ok(None);
        };
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(namespace.clone())
            .init()
            .map_err(Error::MetricsRecorder)?;
        for name in &RUN_METRICS[..5] {
            metrics::describe_histogram!(*name, metrics::Unit::Count, "tables in the run");
        }
        metrics::describe_histogram!("TablesThrottled", metrics::Unit::Count, "tables throttled");
        metrics::describe_histogram!("Increases", metrics::Unit::Count, "increases applied");
        metrics::describe_histogram!("Decreases", metrics::Unit::Count, "decreases applied");
        metrics::describe_histogram!("MetricsRequested", metrics::Unit::Count, "GetMetricData");
        metrics::describe_histogram!("RunDuration", metrics::Unit::Milliseconds, "duration");
        metrics::describe_counter!(DECISIONS, metrics::Unit::Count, "decisions");
        metrics::describe_counter!(LATE_RUNS_DROPPED, metrics::Unit::Count, "late runs");
        Ok(Some(Self {
            collector,
            per_table: config.per_table,
        }))
    }

    /// The EMF lines of one run (its samples recorded, then flushed).
    pub fn lines(&self, summary: &RunSummary, facts: &RunFacts) -> Vec<String> {
        for s in samples(summary, facts, self.per_table) {
            record(&s);
        }
        self.flush()
    }

    /// The EMF line of a scheduled run dropped for being late.
    pub fn late_run(&self, direction: Direction) -> Vec<String> {
        record(&Sample {
            name: LATE_RUNS_DROPPED,
            dimensions: vec![("Direction", direction.as_str().to_owned())],
            value: 1.0,
            kind: Kind::Count,
        });
        self.flush()
    }

    /// Everything recorded since the last flush, one line per dimension set.
    fn flush(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.collector.flush(&mut out) {
            tracing::error!(error = %e, "writing the metrics failed");
        }
        String::from_utf8_lossy(&out)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Hands one sample to the `metrics` facade.
fn record(s: &Sample) {
    let labels: Vec<metrics::Label> = s
        .dimensions
        .iter()
        .map(|(k, v)| metrics::Label::new(*k, v.clone()))
        .collect();
    match s.kind {
        Kind::Value => metrics::histogram!(s.name, labels).record(s.value),
        Kind::Count => metrics::counter!(s.name, labels).increment(s.value as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{lookup, readme_section, summary};

    fn facts() -> RunFacts {
        RunFacts {
            duration: Duration::from_millis(1234),
        }
    }

    fn find<'a>(samples: &'a [Sample], name: &str, dims: &[(&str, &str)]) -> Option<&'a Sample> {
        samples.iter().find(|s| {
            s.name == name
                && s.dimensions.len() == dims.len()
                && dims
                    .iter()
                    .all(|(k, v)| s.dimensions.iter().any(|(dk, dv)| dk == k && dv == v))
        })
    }

    #[test]
    fn a_run_gives_its_counts_per_direction() {
        let s = samples(&summary(), &facts(), false);
        let up = [("Direction", "up")];
        let value = |name| find(&s, name, &up).map(|s| s.value);
        assert_eq!(value("TablesSeen"), Some(5.0));
        assert_eq!(value("TablesManaged"), Some(4.0));
        assert_eq!(value("TablesChanged"), Some(1.0));
        assert_eq!(value("TablesSkipped"), Some(1.0));
        assert_eq!(value("TablesFailed"), Some(1.0));
        assert_eq!(
            value("TablesThrottled"),
            Some(1.0),
            "orders' GSI was throttled"
        );
        // Applied changes only: orders' two, not clicks' held back by dry-run.
        assert_eq!(value("Increases"), Some(2.0));
        assert_eq!(value("Decreases"), None, "scale-up never lowers");
        assert_eq!(value("MetricsRequested"), Some(9.0), "the summary's count");
        assert_eq!(value("RunDuration"), Some(1234.0));
        assert_eq!(
            s.iter().filter(|s| s.dimensions.len() == 1).count(),
            RUN_METRICS_PER_FUNCTION
        );
        assert!(
            s.iter()
                .all(|s| s.dimensions.len() != 1 || s.kind == Kind::Value)
        );
    }

    #[test]
    fn decisions_are_counted_by_action_and_reason() {
        let s = samples(&summary(), &facts(), false);
        let count = |action, reason| {
            find(
                &s,
                DECISIONS,
                &[("Direction", "up"), ("Action", action), ("Reason", reason)],
            )
            .map(|s| s.value)
        };
        assert_eq!(count("increase", "above_trigger"), Some(2.0));
        assert_eq!(count("increase", "throttled"), Some(1.0));
        assert_eq!(count("keep", "below_trigger"), Some(4.0));
        assert_eq!(count("keep", "no_data"), Some(1.0));
        assert_eq!(count("keep", "throttled"), None, "only what occurred");
        let total: f64 = s
            .iter()
            .filter(|s| s.name == DECISIONS)
            .map(|s| s.value)
            .sum();
        assert_eq!(total, 8.0, "one per decision");
    }

    #[test]
    fn per_table_metrics_only_when_asked_and_only_for_applied_changes() {
        assert!(
            samples(&summary(), &facts(), false)
                .iter()
                .all(|s| !s.dimensions.iter().any(|(k, _)| *k == "Table"))
        );
        let s = samples(&summary(), &facts(), true);
        let per_table: Vec<&Sample> = s
            .iter()
            .filter(|s| s.dimensions.iter().any(|(k, _)| *k == "Table"))
            .collect();
        // orders read (table) and by-customer write: 3 metrics each; nothing for clicks (dry
        // run) or for the targets kept.
        assert_eq!(per_table.len(), 2 * TABLE_METRICS_PER_CHANGED_TARGET);
        let table = [
            ("Table", "orders"),
            ("Index", TABLE_ITSELF),
            ("Dimension", "read"),
        ];
        assert_eq!(
            find(&s, "CapacityFrom", &table).map(|s| s.value),
            Some(10.0)
        );
        assert_eq!(find(&s, "CapacityTo", &table).map(|s| s.value), Some(12.0));
        assert_eq!(find(&s, "PeakDemand", &table).map(|s| s.value), Some(9.5));
        let gsi = [
            ("Table", "orders"),
            ("Index", "by-customer"),
            ("Dimension", "write"),
        ];
        assert_eq!(find(&s, "CapacityTo", &gsi).map(|s| s.value), Some(7.0));
        assert!(per_table.iter().all(|s| TABLE_METRICS.contains(&s.name)));
    }

    #[test]
    fn the_namespace_and_the_switch_come_from_the_environment() {
        let with = |pairs: &[(&str, &str)]| MetricsConfig::from_lookup(lookup(pairs));
        assert_eq!(
            with(&[]).unwrap(),
            MetricsConfig {
                namespace: Some(DEFAULT_NAMESPACE.into()),
                per_table: false
            }
        );
        assert_eq!(
            with(&[("AUTOSCALER_METRICS_NAMESPACE", "OFF")])
                .unwrap()
                .namespace,
            None
        );
        let c = with(&[
            ("AUTOSCALER_METRICS_NAMESPACE", "Team/Capacity"),
            ("AUTOSCALER_TABLE_METRICS", "true"),
        ])
        .unwrap();
        assert_eq!(c.namespace.as_deref(), Some("Team/Capacity"));
        assert!(c.per_table);
        for (k, v) in [
            ("AUTOSCALER_METRICS_NAMESPACE", "AWS/DynamoDB"),
            ("AUTOSCALER_METRICS_NAMESPACE", "caf\u{e9}"),
            ("AUTOSCALER_TABLE_METRICS", "sometimes"),
        ] {
            let err = with(&[(k, v)]).unwrap_err().to_string();
            assert!(err.contains(k) && err.contains(v), "{err}");
        }
    }

    /// The one test in this process that installs the recorder: the lines' shape (what
    /// CloudWatch requires of EMF) and that a second flush repeats nothing.
    #[test]
    fn the_lines_are_embedded_metric_format() {
        let config = MetricsConfig {
            namespace: Some("test-ns".into()),
            per_table: true,
        };
        let emitter = Emitter::install(&config).unwrap().unwrap();
        let lines = emitter.lines(&summary(), &facts());
        // One line per dimension set: the run, four (action, reason) pairs, two changed targets.
        assert_eq!(lines.len(), 1 + 4 + 2, "{lines:#?}");
        for line in &lines {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let directive = &v["_aws"]["CloudWatchMetrics"][0];
            assert!(v["_aws"]["Timestamp"].is_u64(), "{line}");
            assert_eq!(directive["Namespace"], "test-ns");
            for d in directive["Dimensions"][0].as_array().unwrap() {
                assert!(v[d.as_str().unwrap()].is_string(), "{line}");
            }
            for m in directive["Metrics"].as_array().unwrap() {
                assert!(!v[m["Name"].as_str().unwrap()].is_null(), "{line}");
            }
        }
        let run = lines.iter().find(|l| l.contains("\"TablesSeen\"")).unwrap();
        let v: serde_json::Value = serde_json::from_str(run).unwrap();
        assert_eq!(v["Direction"], "up");
        assert_eq!(v["TablesSeen"], serde_json::json!([5.0]));
        assert_eq!(v["TablesFailed"], serde_json::json!([1.0]));
        // Nothing is repeated by the next flush (a warm container's next run).
        assert!(emitter.flush().is_empty());
        let late = emitter.late_run(Direction::Down);
        assert_eq!(late.len(), 1);
        let v: serde_json::Value = serde_json::from_str(&late[0]).unwrap();
        assert_eq!(
            (&v["Direction"], &v[LATE_RUNS_DROPPED]),
            (&"down".into(), &1.into())
        );
    }

    #[test]
    fn the_readme_lists_every_metric_and_counts_them_as_the_code_does() {
        let section = readme_section("\n### Metrics and the dashboard\n", "\n### ");
        for name in RUN_METRICS
            .iter()
            .chain(&TABLE_METRICS)
            .chain(&[DECISIONS, LATE_RUNS_DROPPED])
        {
            assert!(
                section.contains(&format!("`{name}`")),
                "{name} is not documented"
            );
        }
        assert!(
            section.contains(&format!(
                "each function writes {RUN_METRICS_PER_FUNCTION} metrics"
            )),
            "the per-run count"
        );
        assert!(
            section.contains(&format!(
                "{TABLE_METRICS_PER_CHANGED_TARGET} per table or GSI dimension that changes"
            )),
            "the per-table count"
        );
    }
}
