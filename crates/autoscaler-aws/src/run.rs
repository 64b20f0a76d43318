//! One run of the pipeline (DESIGN section 2): discover -> describe -> measure -> decide ->
//! apply -> report. Both Lambda functions and the CLI's `plan` call [`run`]. One table's failure
//! never stops the run; it is recorded in the [`RunSummary`].
//!
//! The CLI's `status` reuses the building blocks instead of a whole run, so that it shows exactly
//! what the functions would decide without applying anything: [`discover_and_prepare`] (discover,
//! describe, validate), [`series_keys`] + [`aws::fetch_usage`] (measure) and [`decisions`]
//! (decide, in either direction).
//!
//! Every decision is logged as one `decision` line whose `applied` field ([`Applied`]) says what
//! became of it; a failed table carries its typed error ([`TableError`]) into its report.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use scaling_policy::{
    Boost, Decision, Dimension, DimensionInput, Mode, Settings, TableTags, Timestamp, Usage,
    scale_down_pair, scale_up,
};
use serde::Serialize;

use crate::aws::{self, Clients, Measured, SeriesKey};
use crate::env::RunConfig;
use crate::error::{Error, ErrorKind, TableError};
use crate::table::{Billing, CapacityChange, Status, TableDescription, TaggedTable};

/// Which of the two functions is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The scale-up function: raise before throttling, never lower.
    Up,
    /// The scale-down function: lower when worth a decrease, never raise.
    Down,
}

impl Direction {
    /// `"up"` or `"down"`, as in the JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision about one dimension of the table or of a GSI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableOrIndexDecision {
    /// `None` for the table, else the GSI name.
    pub index: Option<String>,
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
}

/// What happened to one table.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// `UpdateTable` was called and accepted.
    Changed,
    /// Every decision was to keep.
    Unchanged,
    /// A change was decided but not applied (dry-run globally or by tag).
    DryRun,
    /// Not managed this run, for a benign reason (not opted in, on-demand, not active...).
    Skipped {
        /// Why.
        reason: String,
    },
    /// Needs attention: bad override tags, or an AWS error. The table was left alone.
    Failed {
        /// The error (JSON: its cause chain).
        error: TableError,
    },
}

/// The report on one table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableReport {
    /// Table name.
    pub table: String,
    /// The opt-in mode, when opted in.
    pub mode: Option<Mode>,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Every decision made (empty when skipped before deciding).
    pub decisions: Vec<TableOrIndexDecision>,
}

/// A table that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skipped {
    /// Table name.
    pub table: String,
    /// Why.
    pub reason: String,
}

/// A table that failed, and the error.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failed {
    /// Table name.
    pub table: String,
    /// The error (JSON: its cause chain).
    pub error: TableError,
}

/// The result of one run, returned as the function's JSON result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    /// Up or down.
    pub direction: Direction,
    /// The run's `now` (RFC 3339).
    pub at: String,
    /// Whether the whole run was a dry run.
    pub dry_run: bool,
    /// Tables carrying the opt-in tag key, whatever its value.
    pub tables_seen: usize,
    /// Tables opted in (`on` or `dry-run`).
    pub tables_managed: usize,
    /// Tables whose capacity was changed.
    pub tables_changed: usize,
    /// Tables skipped, with reasons.
    pub skipped: Vec<Skipped>,
    /// Tables that failed, with errors.
    pub failed: Vec<Failed>,
    /// Everything, table by table.
    pub tables: Vec<TableReport>,
}

impl RunSummary {
    fn from_reports(
        direction: Direction,
        now: Timestamp,
        dry_run: bool,
        tables: Vec<TableReport>,
    ) -> Self {
        let mut s = Self {
            direction,
            at: now.to_string(),
            dry_run,
            tables_seen: tables.len(),
            tables_managed: tables.iter().filter(|t| t.mode.is_some()).count(),
            tables_changed: 0,
            skipped: Vec::new(),
            failed: Vec::new(),
            tables,
        };
        for t in &s.tables {
            match &t.outcome {
                Outcome::Changed => s.tables_changed += 1,
                Outcome::Skipped { reason } => s.skipped.push(Skipped {
                    table: t.table.clone(),
                    reason: reason.clone(),
                }),
                Outcome::Failed { error } => s.failed.push(Failed {
                    table: t.table.clone(),
                    error: error.clone(),
                }),
                Outcome::Unchanged | Outcome::DryRun => {}
            }
        }
        s
    }

    /// The report of one table.
    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == name)
    }
}

/// A managed table ready for decisions: described, `ACTIVE`, provisioned, with valid settings.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Its opt-in mode.
    pub mode: Mode,
    /// What `DescribeTable` said.
    pub description: TableDescription,
    /// Settings of the table and of each GSI, in the order of `description.table_and_indexes`
    /// (tag overrides applied, max capped at the table quota from `DescribeLimits`).
    pub settings: Vec<Settings>,
    /// The table as discovered: its ARN and all its tags.
    pub tagged: TaggedTable,
    /// Its boosts, expired ones included (see [`crate::boost`]).
    pub boosts: Vec<Boost>,
}

/// The first half of a run (discover -> describe -> validate), before measuring: the tables
/// ready for decisions, and the reports of the tables that were skipped or failed on the way.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// Managed tables ready for decisions, in no particular order.
    pub prepared: Vec<Prepared>,
    /// Tables skipped (not opted in, on-demand, not `ACTIVE`, gone) or failed (bad tags, AWS
    /// errors), with their reasons.
    pub reports: Vec<TableReport>,
}

fn report(table: &str, mode: Option<Mode>, outcome: Outcome) -> TableReport {
    TableReport {
        table: table.to_owned(),
        mode,
        outcome,
        decisions: Vec::new(),
    }
}

fn skipped(table: &str, mode: Option<Mode>, reason: impl Into<String>) -> TableReport {
    let reason = reason.into();
    tracing::info!(table, reason = %reason, "table skipped");
    report(table, mode, Outcome::Skipped { reason })
}

fn failed(table: &str, mode: Option<Mode>, error: Error) -> TableReport {
    let error = TableError::from(error);
    tracing::error!(table, error = %error, "table failed");
    report(table, mode, Outcome::Failed { error })
}

/// Discovers the tables carrying the opt-in tag, describes the managed ones and resolves their
/// settings: the part of [`run`] before measuring, for callers (the CLI's `status`) that decide
/// on their own. Errors only when the tables cannot be discovered at all.
pub async fn discover_and_prepare(
    clients: &Clients,
    config: &RunConfig,
) -> Result<Discovery, Error> {
    let tagged = aws::discover(clients, &config.tag_key).await?;
    let mut reports = Vec::new();
    let mut managed = Vec::new();
    for table in tagged {
        let tags = TableTags::parse(
            &config.tag_key,
            table.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        match tags {
            Err(source) => {
                let mode = TableTags::mode_of(
                    &config.tag_key,
                    table.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                );
                if mode.is_none() {
                    // Switched off: its leftover override tags are none of our business.
                    reports.push(skipped(
                        &table.name,
                        None,
                        format!("not opted in (tag {} is not on or dry-run)", config.tag_key),
                    ));
                    continue;
                }
                let err = Error::Config {
                    table: table.name.clone(),
                    source,
                };
                reports.push(failed(&table.name, mode, err));
            }
            Ok(TableTags { mode: None, .. }) => {
                let value = table
                    .tags
                    .iter()
                    .find(|(k, _)| *k == config.tag_key)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                reports.push(skipped(
                    &table.name,
                    None,
                    format!("not opted in (tag {} = {value:?})", config.tag_key),
                ));
            }
            Ok(tags) => managed.push((table, tags)),
        }
    }

    // Describe every managed table, a few at a time.
    let described: Vec<_> = stream::iter(managed)
        .map(|(table, tags)| async move {
            let d = aws::describe(clients, &table.name).await;
            (table, tags, d)
        })
        .buffer_unordered(config.concurrency)
        .collect()
        .await;

    let limits = if described.is_empty() {
        None
    } else {
        aws::table_limits(clients).await
    };
    let mut prepared = Vec::new();
    for (table, tags, d) in described {
        let mode = tags.mode.unwrap_or(Mode::On);
        let description = match d {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                reports.push(skipped(&table.name, Some(mode), "table no longer exists"));
                continue;
            }
            Err(e) => {
                reports.push(failed(&table.name, Some(mode), e));
                continue;
            }
        };
        match prepare(config, limits, table, tags, mode, description) {
            Ok(p) => prepared.push(p),
            Err(r) => reports.push(r),
        }
    }
    Ok(Discovery { prepared, reports })
}

/// The metric series (table or GSI x read or write) the decisions about `prepared` need.
pub fn series_keys(prepared: &[Prepared]) -> Vec<SeriesKey> {
    prepared
        .iter()
        .flat_map(|p| {
            p.description.table_and_indexes.iter().flat_map(move |t| {
                Dimension::BOTH.map(|dimension| SeriesKey {
                    table: p.description.name.clone(),
                    index: t.index.clone(),
                    dimension,
                })
            })
        })
        .collect()
}

/// Runs the pipeline once. Errors only when the tables cannot be discovered at all; every
/// per-table problem is in the summary instead.
pub async fn run(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
) -> Result<RunSummary, Error> {
    let Discovery {
        prepared,
        mut reports,
    } = discover_and_prepare(clients, config).await?;

    // Measure: one GetMetricData window for every target of every prepared table.
    let window = prepared
        .iter()
        .flat_map(|p| &p.settings)
        .map(|s| match direction {
            Direction::Up => s.up_window_minutes,
            Direction::Down => s.down_window_minutes,
        })
        .max()
        .unwrap_or(1);
    let end = now.floor_minute();
    let start = end.plus_secs(-60 * i64::from(window));
    let keys = series_keys(&prepared);
    let usage = if keys.is_empty() {
        Measured::new()
    } else {
        aws::fetch_usage(clients, &keys, start, end).await
    };

    // Decide, then apply, a few tables at a time.
    let decided: Vec<_> = prepared
        .iter()
        .map(|p| decide(p, &usage, direction, now))
        .collect();
    let applied: Vec<TableReport> = stream::iter(decided)
        .map(|d| apply(clients, config, d))
        .buffer_unordered(config.concurrency)
        .collect()
        .await;
    reports.extend(applied);
    if direction == Direction::Up && !config.dry_run {
        crate::boost::remove_expired(clients, config, &prepared, now).await;
    }
    reports.sort_by(|a, b| a.table.cmp(&b.table));
    let summary = RunSummary::from_reports(direction, now, config.dry_run, reports);
    tracing::info!(
        direction = direction.as_str(),
        tables_seen = summary.tables_seen,
        tables_managed = summary.tables_managed,
        tables_changed = summary.tables_changed,
        skipped = summary.skipped.len(),
        failed = summary.failed.len(),
        summary = %serde_json::to_string(&summary).unwrap_or_default(),
        "run summary"
    );
    Ok(summary)
}

/// Validates a described table against its tags; a report instead when it must be left alone.
pub(crate) fn prepare(
    config: &RunConfig,
    limits: Option<(u64, u64)>,
    table: TaggedTable,
    tags: TableTags,
    mode: Mode,
    description: TableDescription,
) -> Result<Prepared, TableReport> {
    let name = table.name.clone();
    if description.billing == Billing::OnDemand {
        return Err(skipped(
            &name,
            Some(mode),
            "on-demand (PAY_PER_REQUEST) table",
        ));
    }
    if let Some(t) = description
        .table_and_indexes
        .iter()
        .find(|t| t.status != Status::Active)
    {
        let what = t
            .index
            .as_deref()
            .map_or_else(|| "table".to_owned(), |i| format!("index {i}"));
        return Err(skipped(
            &name,
            Some(mode),
            format!("{what} is {}", t.status),
        ));
    }
    let config_err = |source| {
        let e = Error::Config {
            table: name.clone(),
            source,
        };
        failed(&name, Some(mode), e)
    };
    tags.check_indexes(
        description
            .table_and_indexes
            .iter()
            .filter_map(|t| t.index.as_deref()),
    )
    .map_err(config_err)?;
    let mut settings = Vec::new();
    for t in &description.table_and_indexes {
        let mut s = tags
            .resolve(&config.defaults, t.index.as_deref())
            .map_err(config_err)?;
        if let Some((read_max, write_max)) = limits {
            // DynamoDB's per-table quota (adjustable, so read, not hard-coded).
            s.read.max = s.read.max.min(read_max).max(s.read.min);
            s.write.max = s.write.max.min(write_max).max(s.write.min);
        }
        settings.push(s);
    }
    Ok(Prepared {
        mode,
        description,
        settings,
        tagged: table,
        boosts: tags.boosts,
    })
}

/// A table with its decisions, before applying.
struct Decided {
    table: String,
    mode: Mode,
    decisions: Vec<TableOrIndexDecision>,
    changes: Vec<CapacityChange>,
    /// Set when the decisions could not be made.
    error: Option<Error>,
}

/// The decisions about the table and each GSI (read, then write) of one prepared table in
/// `direction` at `now`, from the series in `usage` (as [`aws::fetch_usage`] returns them).
/// `Err` says which series could not be fetched. Exactly what [`run`] decides; it applies
/// nothing.
pub fn decisions(
    p: &Prepared,
    usage: &Measured,
    direction: Direction,
    now: Timestamp,
) -> Result<Vec<TableOrIndexDecision>, Error> {
    let d = decide(p, usage, direction, now);
    match d.error {
        Some(e) => Err(e),
        None => Ok(d.decisions),
    }
}

/// The usage of one series as [`aws::fetch_usage`] returned it, or why it is missing (its batch
/// failed, or it was never asked for), as an error naming its table.
pub fn series<'a>(usage: &'a Measured, key: &SeriesKey) -> Result<&'a Usage, Error> {
    match usage.get(key) {
        Some(Ok(u)) => Ok(u),
        Some(Err(e)) => Err(Error::TableMetrics {
            table: key.table.clone(),
            source: Arc::clone(e),
        }),
        None => Err(Error::NotMeasured {
            table: key.table.clone(),
        }),
    }
}

fn decide(p: &Prepared, usage: &Measured, direction: Direction, now: Timestamp) -> Decided {
    let name = p.description.name.clone();
    let mut decided = Decided {
        table: name.clone(),
        mode: p.mode,
        decisions: Vec::new(),
        changes: Vec::new(),
        error: None,
    };
    for (part, settings) in p.description.table_and_indexes.iter().zip(&p.settings) {
        let series = |dimension| {
            let key = SeriesKey {
                table: name.clone(),
                index: part.index.clone(),
                dimension,
            };
            series(usage, &key)
        };
        let (read_usage, write_usage) = match (series(Dimension::Read), series(Dimension::Write)) {
            (Ok(r), Ok(w)) => (r, w),
            (Err(e), _) | (_, Err(e)) => {
                decided.error = Some(e);
                return decided;
            }
        };
        let boost = |dimension| crate::boost::floor(p, part.index.as_deref(), dimension, now);
        let read = DimensionInput {
            dimension: Dimension::Read,
            state: &part.read,
            usage: read_usage,
            history: None,
            boost: boost(Dimension::Read),
        };
        let write = DimensionInput {
            dimension: Dimension::Write,
            state: &part.write,
            usage: write_usage,
            history: None,
            boost: boost(Dimension::Write),
        };
        let [r, w] = match direction {
            Direction::Up => [
                scale_up(settings, read, now),
                scale_up(settings, write, now),
            ],
            Direction::Down => scale_down_pair(settings, read, write, now),
        };
        if r.changes() || w.changes() {
            decided.changes.push(CapacityChange {
                index: part.index.clone(),
                read: r.to,
                write: w.to,
            });
        }
        for decision in [r, w] {
            decided.decisions.push(TableOrIndexDecision {
                index: part.index.clone(),
                decision,
            });
        }
    }
    decided
}

/// What became of a table's decisions: the `applied` field of each `decision` log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// `no_change`: no decision changes capacity; nothing to apply.
    NoChange,
    /// `dry_run`: a change was decided and held back (dry-run globally or by the table's tag).
    DryRun,
    /// `applied`: `UpdateTable` accepted the change.
    Applied,
    /// `not_applied`: `UpdateTable` was refused or failed, or the table was busy or gone; the
    /// table's outcome says why.
    NotApplied,
}

impl Applied {
    /// The logged value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Applied::NoChange => "no_change",
            Applied::DryRun => "dry_run",
            Applied::Applied => "applied",
            Applied::NotApplied => "not_applied",
        }
    }
}

fn log_decisions(table: &str, mode: Mode, applied: Applied, decisions: &[TableOrIndexDecision]) {
    for d in decisions {
        let n = &d.decision.numbers;
        tracing::info!(
            table,
            index = d.index.as_deref().unwrap_or(""),
            mode = mode.as_str(),
            dimension = %d.decision.dimension,
            from = d.decision.from,
            to = d.decision.to,
            action = d.decision.action.as_str(),
            reason = d.decision.reason.as_str(),
            applied = applied.as_str(),
            peak_demand = n.peak_demand.unwrap_or(-1.0),
            utilisation = n.utilisation.unwrap_or(-1.0),
            throttle_events = n.throttle_events,
            known_minutes = n.known_minutes,
            window_minutes = n.window_minutes,
            min = n.min,
            max = n.max,
            "decision"
        );
    }
}

async fn apply(clients: &Clients, config: &RunConfig, d: Decided) -> TableReport {
    let mut report = TableReport {
        table: d.table.clone(),
        mode: Some(d.mode),
        outcome: Outcome::Unchanged,
        decisions: d.decisions,
    };
    if let Some(error) = d.error {
        let error = TableError::from(error);
        tracing::error!(table = %d.table, error = %error, "table failed");
        report.outcome = Outcome::Failed { error };
        return report;
    }
    let applied = if d.changes.is_empty() {
        Applied::NoChange
    } else if config.dry_run || d.mode == Mode::DryRun {
        report.outcome = Outcome::DryRun;
        Applied::DryRun
    } else {
        match aws::update_table(clients, &d.table, &d.changes).await {
            Ok(()) => {
                report.outcome = Outcome::Changed;
                Applied::Applied
            }
            Err(e) => {
                report.outcome = match e.kind() {
                    ErrorKind::InUse => Outcome::Skipped {
                        reason: "table is being updated (ResourceInUseException); next run retries"
                            .to_owned(),
                    },
                    ErrorKind::NotFound => Outcome::Skipped {
                        reason: "table no longer exists".to_owned(),
                    },
                    ErrorKind::LimitExceeded | ErrorKind::Other => {
                        Outcome::Failed { error: e.into() }
                    }
                };
                Applied::NotApplied
            }
        }
    };
    log_decisions(&d.table, d.mode, applied, &report.decisions);
    match &report.outcome {
        Outcome::Failed { error } => {
            tracing::error!(table = %d.table, error = %error, "table failed")
        }
        Outcome::Skipped { reason } => {
            tracing::info!(table = %d.table, reason = %reason, "table skipped")
        }
        _ => {}
    }
    report
}
