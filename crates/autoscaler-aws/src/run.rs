//! One run of the pipeline (DESIGN section 2): discover -> describe -> measure -> decide ->
//! apply -> report. Both Lambda functions call [`run_with`], with their invocation's deadline
//! and the state their warm container keeps ([`Warm`]: which series are due, the seasonal
//! history); the CLI's `plan` calls [`run`], a cold start that reads everything, without a
//! deadline. One table's failure never stops the run; it is recorded in the [`RunSummary`], with
//! the series read and resting and the run's API calls and metrics requested ([`Calls`]).
//!
//! The stages, each a function of its own:
//! - [`discover_and_prepare`]: discover by tag, `DescribeTable` each managed table, resolve its
//!   settings, and set aside what must not be touched: a table skipped whole (not opted in, a
//!   near-miss opt-in value such as `On`, on-demand, not `ACTIVE`, a global table, every table
//!   and GSI managed by Application Auto Scaling) or one GSI of it (a GSI that is not `ACTIVE`, say
//!   backfilling; a table or GSI that Application Auto Scaling manages).
//! - measure ([`poll`]): `GetMetricData` for the tables and GSIs left that the cadence says are due,
//!   one fetch per window length (a table tagged with a long window does not lengthen every
//!   series); the decisions; a second request for what they call for (throttle events by
//!   cause), and the tables it changed decided again.
//! - [`decisions`]: the policy, per table or GSI, then per table ([`scaling_policy::coupling`]: a
//!   write-throttled GSI holds the table's writes up, and the per-table quota is shared by the
//!   table and its GSIs).
//! - apply ([`crate::apply`]): for each table with a change, under its lease, and within the
//!   invocation's deadline.
//!
//! The CLI's `status` reuses the building blocks instead of a whole run, so that it shows exactly
//! what the functions would decide without applying anything: [`discover_and_prepare`],
//! [`series_keys`] + [`aws::fetch_usage`] and [`decisions`] (in either direction).
//!
//! **Logs.** Every decision is logged as one `decision` line whose `applied` field ([`Applied`])
//! says what became of it, each table as one `table` line (its outcome, reason or error), and
//! the run as one compact `run summary` line of counts: a line stays far below CloudWatch Logs'
//! 256 KB event limit whatever the number of tables. The whole summary is the function's
//! result.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use scaling_policy::coupling::{
    TableOrGsiDecision, cap_total, gsi_write_throttled, scale_down_table,
};
use scaling_policy::{
    Decision, Dimension, DimensionInput, Mode, Settings, TableTags, Timestamp, Usage,
    scale_down_pair, scale_up,
};
use serde::Serialize;

use crate::aws::{self, Clients, Measured, SeriesKey};
use crate::calls::{self, Calls};
use crate::deadline::{Clock, Deadline};
use crate::env::RunConfig;
use crate::error::{Error, ErrorKind, TableError};
use crate::poll::{self, Readings, SeriesToRead, Warm};
use crate::table::{
    Billing, CapacityChange, Limits, Status, TableDescription, TableOrIndex, TaggedTable,
};

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

/// Why a table (or one GSI of it) was left alone this run, for a benign reason: the run
/// succeeds. Part of the product's interface: the names ([`SkipReason::as_str`]) are in the
/// JSON, the logs and the CLI, and never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The opt-in tag's value is neither `on` nor `dry-run` (`off`, ...).
    NotOptedIn,
    /// The opt-in tag's value differs from `on` or `dry-run` only in case or spaces (`On`,
    /// `on `): not managed (IAM compares it exactly), and said so rather than ignored.
    OptInNearMiss,
    /// An on-demand (`PAY_PER_REQUEST`) table.
    OnDemand,
    /// The table, or the GSI, is not `ACTIVE` (being created, backfilled, updated, deleted).
    NotActive,
    /// Application Auto Scaling manages the table or GSI (it has a scalable target).
    ApplicationAutoScaling,
    /// A global table: its replicas in other regions would be scaled by other stacks.
    GlobalTable,
    /// The table was being updated (`ResourceInUseException`, or `UPDATING` when described
    /// again before the change); the next run retries.
    InUse,
    /// The table no longer exists.
    Gone,
    /// The other function holds the table's lease; the next run retries.
    LeaseHeld,
    /// The table's description did not yet show the last change made under its lease
    /// (`DescribeTable` is eventually consistent), or changed during the run; the next run
    /// retries.
    StaleDescription,
    /// Not started, or a decrease not made, because the invocation's deadline was near.
    Deadline,
}

impl SkipReason {
    /// Every reason, in documentation order.
    pub const ALL: [SkipReason; 11] = [
        SkipReason::NotOptedIn,
        SkipReason::OptInNearMiss,
        SkipReason::OnDemand,
        SkipReason::NotActive,
        SkipReason::ApplicationAutoScaling,
        SkipReason::GlobalTable,
        SkipReason::InUse,
        SkipReason::Gone,
        SkipReason::LeaseHeld,
        SkipReason::StaleDescription,
        SkipReason::Deadline,
    ];

    /// The name used in JSON and logs, e.g. `opt_in_near_miss`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::NotOptedIn => "not_opted_in",
            SkipReason::OptInNearMiss => "opt_in_near_miss",
            SkipReason::OnDemand => "on_demand",
            SkipReason::NotActive => "not_active",
            SkipReason::ApplicationAutoScaling => "application_auto_scaling",
            SkipReason::GlobalTable => "global_table",
            SkipReason::InUse => "in_use",
            SkipReason::Gone => "gone",
            SkipReason::LeaseHeld => "lease_held",
            SkipReason::StaleDescription => "stale_description",
            SkipReason::Deadline => "deadline",
        }
    }
}

impl std::fmt::Display for SkipReason {
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
    /// Not managed this run, for a benign reason.
    Skipped {
        /// Why.
        reason: SkipReason,
        /// The particulars (the tag and its value, the status, the regions...).
        detail: String,
    },
    /// Needs attention: bad override tags, an AWS error, the runaway guard. The table was left
    /// alone (or, for a refused increase, changed without it).
    Failed {
        /// The error (JSON: its cause chain).
        error: TableError,
    },
}

/// The table itself or one of its GSIs, left alone while the others are managed (JSON
/// `left_alone`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeftAlone {
    /// `None` for the table itself, else the GSI.
    pub index: Option<String>,
    /// Why.
    pub reason: SkipReason,
    /// The particulars.
    pub detail: String,
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
    /// Targets of the table that were not decided on (a GSI being backfilled...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_alone: Vec<LeftAlone>,
}

/// A table that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skipped {
    /// Table name.
    pub table: String,
    /// Why.
    pub reason: SkipReason,
    /// The particulars.
    pub detail: String,
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
    /// Series (a dimension of a table or GSI) read and decided this run.
    pub series_read: usize,
    /// Series the cadence let rest this run (not due: no decision).
    pub series_resting: usize,
    /// The API calls the run made and the metrics its `GetMetricData` requests named (what
    /// CloudWatch bills).
    pub calls: Calls,
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
            series_read: 0,
            series_resting: 0,
            calls: Calls::default(),
            tables,
        };
        for t in &s.tables {
            match &t.outcome {
                Outcome::Changed => s.tables_changed += 1,
                Outcome::Skipped { reason, detail } => s.skipped.push(Skipped {
                    table: t.table.clone(),
                    reason: *reason,
                    detail: detail.clone(),
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
    /// Its tags, parsed (to prepare it again on a fresh description).
    pub tags: TableTags,
    /// What `DescribeTable` said.
    pub description: TableDescription,
    /// Settings of the table and of each GSI, in the order of `description.table_and_indexes`
    /// (tag overrides applied, max capped at the table quota from `DescribeLimits`).
    pub settings: Vec<Settings>,
    /// The table as discovered: its ARN and all its tags (its boosts, expired ones included,
    /// are in `tags.boosts`, see [`crate::boost`]).
    pub tagged: TaggedTable,
    /// Targets not to decide on (a GSI that is not `ACTIVE`, one Application Auto Scaling
    /// manages).
    pub left_alone: Vec<LeftAlone>,
    /// The quotas from `DescribeLimits`, when it answered.
    pub limits: Option<Limits>,
    /// Set when it is unknown whether Application Auto Scaling manages the table (its check
    /// failed): the table is decided on, but not changed.
    pub autoscaling_unknown: Option<Arc<Error>>,
}

impl Prepared {
    /// The table and the GSIs decided on, with their settings, table first.
    pub fn managed_tables_and_indexes(
        &self,
    ) -> impl Iterator<Item = (&crate::table::TableOrIndex, &Settings)> + '_ {
        self.description
            .table_and_indexes
            .iter()
            .zip(&self.settings)
            .filter(|(t, _)| !self.left_alone.iter().any(|s| s.index == t.index))
    }
}

/// The first half of a run (discover -> describe -> validate), before measuring: the tables
/// ready for decisions, and the reports of the tables that were skipped or failed on the way.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// Managed tables ready for decisions, in no particular order.
    pub prepared: Vec<Prepared>,
    /// Tables skipped (not opted in, on-demand, not `ACTIVE`, gone...) or failed (bad tags, AWS
    /// errors), with their reasons.
    pub reports: Vec<TableReport>,
}

pub(crate) fn report(table: &str, mode: Option<Mode>, outcome: Outcome) -> TableReport {
    TableReport {
        table: table.to_owned(),
        mode,
        outcome,
        decisions: Vec::new(),
        left_alone: Vec::new(),
    }
}

pub(crate) fn skipped(
    table: &str,
    mode: Option<Mode>,
    reason: SkipReason,
    detail: impl Into<String>,
) -> TableReport {
    report(
        table,
        mode,
        Outcome::Skipped {
            reason,
            detail: detail.into(),
        },
    )
}

pub(crate) fn failed(table: &str, mode: Option<Mode>, error: Error) -> TableReport {
    report(
        table,
        mode,
        Outcome::Failed {
            error: TableError::from(error),
        },
    )
}

/// Discovers the tables carrying the opt-in tag, describes the managed ones and resolves their
/// settings: the part of [`run`] before measuring, for callers (the CLI's `status`) that decide
/// on their own. Errors only when the tables cannot be discovered at all.
pub async fn discover_and_prepare(
    clients: &Clients,
    config: &RunConfig,
) -> Result<Discovery, Error> {
    discover_and_prepare_within(clients, config, &Deadline::NONE).await
}

/// Why a table's tags do not make it managed, if they do not: skipped (not opted in, a near
/// miss) or failed (malformed overrides on a table that is opted in).
fn opt_in(config: &RunConfig, table: &TaggedTable) -> Result<TableTags, TableReport> {
    let key = &config.tag_key;
    let value = table
        .tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let not_managed = || match Mode::near_miss(value) {
        Some(meant) => skipped(
            &table.name,
            None,
            SkipReason::OptInNearMiss,
            format!(
                "tag {key} = {value:?} is not exactly {meant:?}: case and spaces count, as in the IAM condition"
            ),
        ),
        None => skipped(
            &table.name,
            None,
            SkipReason::NotOptedIn,
            format!("tag {key} = {value:?}"),
        ),
    };
    if Mode::from_tag_value(value).is_none() {
        // Switched off: its leftover override tags, well-formed or not, are none of our business.
        return Err(not_managed());
    }
    TableTags::parse(
        key,
        table.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|source| {
        failed(
            &table.name,
            Mode::from_tag_value(value),
            Error::Config {
                table: table.name.clone(),
                source,
            },
        )
    })
}

/// [`discover_and_prepare`], starting no `DescribeTable` once `deadline` is near.
pub(crate) async fn discover_and_prepare_within(
    clients: &Clients,
    config: &RunConfig,
    deadline: &Deadline,
) -> Result<Discovery, Error> {
    let discovered = aws::discover(clients, &config.tag_key).await?;
    let mut reports: Vec<TableReport> = discovered
        .failed
        .into_iter()
        .map(|(name, e)| failed(&name, None, e))
        .collect();
    let mut managed = Vec::new();
    for table in discovered.tables {
        match opt_in(config, &table) {
            Ok(tags) => managed.push((table, tags)),
            Err(report) => reports.push(report),
        }
    }

    // Describe every managed table, a few at a time, none once the deadline is near.
    let described: Vec<_> = stream::iter(managed)
        .map(|(table, tags)| async move {
            let d = if deadline.allows_start() {
                Some(aws::describe(clients, &table.name).await)
            } else {
                None
            };
            (table, tags, d)
        })
        .buffer_unordered(config.concurrency)
        .collect()
        .await;

    let any = described.iter().any(|(_, _, d)| matches!(d, Some(Ok(_))));
    let (limits, autoscaling) = if any {
        tokio::join!(aws::limits(clients), aws::scalable_targets(clients))
    } else {
        (None, Ok(Default::default()))
    };
    let autoscaling = autoscaling.map_err(|e| {
        tracing::warn!(error = %crate::error::chain(&e), "cannot tell which tables Application Auto Scaling manages; tables with a change fail");
        Arc::new(e)
    });
    let mut prepared = Vec::new();
    for (table, tags, d) in described {
        let mode = tags.mode.unwrap_or(Mode::On);
        let description = match d {
            None => {
                reports.push(skipped(
                    &table.name,
                    Some(mode),
                    SkipReason::Deadline,
                    "not started: the invocation's deadline was near",
                ));
                continue;
            }
            Some(Ok(d)) => d,
            Some(Err(e)) if e.kind() == ErrorKind::NotFound => {
                reports.push(skipped(
                    &table.name,
                    Some(mode),
                    SkipReason::Gone,
                    "table no longer exists",
                ));
                continue;
            }
            Some(Err(e)) => {
                reports.push(failed(&table.name, Some(mode), e));
                continue;
            }
        };
        let managed_by_aas: Vec<Option<String>> = match &autoscaling {
            Ok(targets) => description
                .table_and_indexes
                .iter()
                .filter(|t| targets.contains(&(table.name.clone(), t.index.clone())))
                .map(|t| t.index.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        let unknown = autoscaling.as_ref().err().cloned();
        let candidate = Candidate {
            table,
            tags,
            mode,
            description,
            autoscaled: &managed_by_aas,
            autoscaling_unknown: unknown,
        };
        match prepare(config, limits, candidate) {
            Ok(p) => prepared.push(p),
            Err(r) => reports.push(r),
        }
    }
    Ok(Discovery { prepared, reports })
}

/// The metric series (table or GSI x read or write) the decisions about `prepared` need: every
/// dimension of every table and GSI decided on.
pub fn series_keys(prepared: &[Prepared]) -> Vec<SeriesKey> {
    prepared
        .iter()
        .flat_map(|p| {
            p.managed_tables_and_indexes().flat_map(move |(t, _)| {
                Dimension::BOTH.map(|dimension| SeriesKey {
                    table: p.description.name.clone(),
                    index: t.index.clone(),
                    dimension,
                })
            })
        })
        .collect()
}

/// The series of the prepared tables that are decided on (the table and each managed GSI, read
/// then write), with the settings and state each is decided with.
pub fn series_to_read(prepared: &[Prepared]) -> Vec<SeriesToRead<'_>> {
    prepared
        .iter()
        .flat_map(|p| {
            p.managed_tables_and_indexes()
                .flat_map(move |(t, settings)| {
                    Dimension::BOTH.map(|dimension| SeriesToRead {
                        key: SeriesKey {
                            table: p.description.name.clone(),
                            index: t.index.clone(),
                            dimension,
                        },
                        settings,
                        state: match dimension {
                            Dimension::Read => t.read,
                            Dimension::Write => t.write,
                        },
                    })
                })
        })
        .collect()
}

/// Runs the pipeline once, as after a cold start (every series is read), without a deadline.
/// Errors only when the tables cannot be discovered at all; every per-table problem is in the
/// summary instead.
pub async fn run(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
) -> Result<RunSummary, Error> {
    run_within(clients, config, direction, now, Deadline::NONE).await
}

/// [`run`] within the invocation's `deadline` (see [`crate::deadline`]).
pub async fn run_within(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
    deadline: Deadline,
) -> Result<RunSummary, Error> {
    let mut warm = Warm::new(config.cadence);
    run_with(clients, config, direction, now, deadline, &mut warm).await
}

/// Runs the pipeline once within `deadline`, with what the warm container kept from earlier
/// runs (`warm`, updated: see [`crate::poll`]), counting its calls ([`crate::calls`]).
pub async fn run_with(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
    deadline: Deadline,
    warm: &mut Warm,
) -> Result<RunSummary, Error> {
    let run = run_counted(clients, config, direction, now, deadline, warm);
    let (summary, calls) = calls::counted(run).await;
    let mut summary = summary?;
    summary.calls = calls;
    log_summary(&summary);
    Ok(summary)
}

async fn run_counted(
    clients: &Clients,
    config: &RunConfig,
    direction: Direction,
    now: Timestamp,
    deadline: Deadline,
    warm: &mut Warm,
) -> Result<RunSummary, Error> {
    let clock = Clock::starting_at(now);
    let Discovery {
        prepared,
        mut reports,
    } = discover_and_prepare_within(clients, config, &deadline).await?;

    // Forget the series of tables that are gone or no longer opted in; keep those of tables
    // skipped this run (busy, say), which stay due.
    let managed: HashSet<&str> = prepared
        .iter()
        .map(|p| p.description.name.as_str())
        .chain(
            reports
                .iter()
                .filter(|r| r.mode.is_some())
                .map(|r| r.table.as_str()),
        )
        .collect();
    warm.retain(|key| managed.contains(key.table.as_str()));
    let series = series_to_read(&prepared);
    if direction == Direction::Up {
        // A boost that asks for more than the capacity is due now, whatever the cadence says.
        for (p, t) in prepared.iter().flat_map(|p| {
            p.managed_tables_and_indexes()
                .map(move |(t, _)| (p, t))
                .collect::<Vec<_>>()
        }) {
            for dimension in Dimension::BOTH {
                let provisioned = match dimension {
                    Dimension::Read => t.read.provisioned,
                    Dimension::Write => t.write.provisioned,
                };
                if crate::boost::floor(p, t.index.as_deref(), dimension, now)
                    .is_some_and(|floor| floor > provisioned)
                {
                    warm.make_due(&SeriesKey {
                        table: p.description.name.clone(),
                        index: t.index.clone(),
                        dimension,
                    });
                }
            }
        }
    }

    // Measure, decide, and measure again where the first answer calls for it.
    let mut readings = poll::read(clients, warm, &series, direction, now).await;
    let mut decided: Vec<Decided> = prepared
        .iter()
        .map(|p| decide(p, &readings, direction, now))
        .collect();
    let first: HashMap<SeriesKey, Decision> = prepared
        .iter()
        .zip(&decided)
        .flat_map(|(p, d)| {
            d.decisions.iter().map(|x| {
                (
                    SeriesKey {
                        table: p.description.name.clone(),
                        index: x.index.clone(),
                        dimension: x.decision.dimension,
                    },
                    x.decision.clone(),
                )
            })
        })
        .collect();
    let changed = poll::second(clients, &series, &mut readings, &first, direction, now).await;
    for (p, d) in prepared.iter().zip(decided.iter_mut()) {
        if changed.iter().any(|k| k.table == p.description.name) {
            *d = decide(p, &readings, direction, now);
        }
    }
    if direction == Direction::Up {
        for (p, d) in prepared.iter().zip(&decided) {
            record(warm, p, &readings, d, now);
        }
    }
    let (series_read, series_resting) = (readings.plans.len(), readings.resting.len());

    // The expired boosts' tags are removed after the changes are applied (housekeeping).
    let expired_boosts: Vec<Prepared> = if direction == Direction::Up && !config.dry_run {
        prepared
            .iter()
            .filter(|p| !crate::boost::expired_keys(config, p, now).is_empty())
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let context = crate::apply::Context {
        clients,
        config,
        direction,
        clock,
        deadline,
        readings: &readings,
    };
    reports.extend(
        crate::apply::apply_all(&context, prepared.into_iter().zip(decided).collect()).await,
    );
    crate::boost::remove_expired(clients, config, &expired_boosts, now).await;
    reports.sort_by(|a, b| a.table.cmp(&b.table));
    let mut summary = RunSummary::from_reports(direction, now, config.dry_run, reports);
    summary.series_read = series_read;
    summary.series_resting = series_resting;
    Ok(summary)
}

/// Records the polls of one decided table in the cadence's state.
fn record(warm: &mut Warm, p: &Prepared, readings: &Readings, d: &Decided, now: Timestamp) {
    if d.error.is_some() {
        return; // not decided: its series stay due
    }
    for x in &d.decisions {
        let Some((part, settings)) = p
            .managed_tables_and_indexes()
            .find(|(t, _)| t.index == x.index)
        else {
            continue;
        };
        let key = SeriesKey {
            table: p.description.name.clone(),
            index: x.index.clone(),
            dimension: x.decision.dimension,
        };
        let (Some(plan), Some(Ok(usage))) = (readings.plans.get(&key), readings.usage.get(&key))
        else {
            continue;
        };
        let history = readings.history.get(&key).map(poll::SeasonalHistory::usage);
        let i = input(p, part, usage, history.as_ref(), x.decision.dimension, now);
        warm.record(&key, settings, plan, &i, &x.decision, now);
    }
}

/// One `table` line per table and one compact `run summary` line (see the module header).
fn log_summary(summary: &RunSummary) {
    for t in &summary.tables {
        let outcome = match &t.outcome {
            Outcome::Changed => "changed",
            Outcome::Unchanged => "unchanged",
            Outcome::DryRun => "dry_run",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Failed { .. } => "failed",
        };
        let (reason, detail, error) = match &t.outcome {
            Outcome::Skipped { reason, detail } => {
                (Some(reason.as_str()), Some(detail.as_str()), None)
            }
            Outcome::Failed { error } => (None, None, Some(error.to_string())),
            _ => (None, None, None),
        };
        let left_alone = (!t.left_alone.is_empty()).then(|| {
            t.left_alone
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}: {})",
                        s.index.as_deref().unwrap_or("table"),
                        s.reason,
                        s.detail
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
        if error.is_some() {
            tracing::error!(
                table = %t.table,
                mode = t.mode.map(Mode::as_str),
                outcome,
                error,
                "table"
            );
        } else {
            tracing::info!(
                table = %t.table,
                mode = t.mode.map(Mode::as_str),
                outcome,
                reason,
                detail,
                left_alone,
                changes = t.decisions.iter().filter(|d| d.decision.changes()).count(),
                "table"
            );
        }
    }
    tracing::info!(
        direction = summary.direction.as_str(),
        at = %summary.at,
        dry_run = summary.dry_run,
        tables_seen = summary.tables_seen,
        tables_managed = summary.tables_managed,
        tables_changed = summary.tables_changed,
        skipped = summary.skipped.len(),
        failed = summary.failed.len(),
        series_read = summary.series_read,
        series_resting = summary.series_resting,
        metrics_requested = summary.calls.metrics_requested,
        get_metric_data_calls = summary.calls.get_metric_data_calls,
        api_calls = summary.calls.api_calls,
        "run summary"
    );
}

/// What is known of a managed table when it is prepared.
pub(crate) struct Candidate<'a> {
    /// The table as discovered (ARN and tags).
    pub table: TaggedTable,
    /// Its tags, parsed.
    pub tags: TableTags,
    /// Its opt-in mode.
    pub mode: Mode,
    /// What `DescribeTable` said.
    pub description: TableDescription,
    /// The table and the GSIs Application Auto Scaling manages.
    pub autoscaled: &'a [Option<String>],
    /// Set when that could not be checked.
    pub autoscaling_unknown: Option<Arc<Error>>,
}

/// Validates a described table against its tags; a report instead when it must be left alone.
pub(crate) fn prepare(
    config: &RunConfig,
    limits: Option<Limits>,
    candidate: Candidate<'_>,
) -> Result<Prepared, TableReport> {
    let Candidate {
        table,
        tags,
        mode,
        description,
        autoscaled,
        autoscaling_unknown,
    } = candidate;
    let name = description.name.clone();
    if description.billing == Billing::OnDemand {
        return Err(skipped(
            &name,
            Some(mode),
            SkipReason::OnDemand,
            "on-demand (PAY_PER_REQUEST) table",
        ));
    }
    if !description.replicas.is_empty() {
        return Err(skipped(
            &name,
            Some(mode),
            SkipReason::GlobalTable,
            format!(
                "a global table (replicas: {}): not supported yet, as other regions' stacks would scale its replicas",
                description.replicas.join(", ")
            ),
        ));
    }
    if let Some(t) = description.table_and_indexes.first()
        && t.status != Status::Active
    {
        return Err(skipped(
            &name,
            Some(mode),
            SkipReason::NotActive,
            format!("table is {}", t.status),
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
    let mut left_alone = Vec::new();
    for t in &description.table_and_indexes {
        let mut s = tags
            .resolve(&config.defaults, t.index.as_deref())
            .map_err(config_err)?;
        if let Some(l) = limits {
            // DynamoDB's per-table quota (adjustable, so read, not hard-coded); their sum is
            // capped when deciding (scaling_policy::coupling).
            s.read.max = s.read.max.min(l.table_read).max(s.read.min);
            s.write.max = s.write.max.min(l.table_write).max(s.write.min);
        }
        settings.push(s);
        let what = t
            .index
            .as_deref()
            .map_or_else(|| "the table".to_owned(), |i| format!("index {i}"));
        if autoscaled.contains(&t.index) {
            left_alone.push(LeftAlone {
                index: t.index.clone(),
                reason: SkipReason::ApplicationAutoScaling,
                detail: format!(
                    "Application Auto Scaling has a scalable target for {what}: deregister it to hand it over (README)"
                ),
            });
        } else if t.status != Status::Active {
            left_alone.push(LeftAlone {
                index: t.index.clone(),
                reason: SkipReason::NotActive,
                detail: format!("{what} is {}", t.status),
            });
        }
    }
    if left_alone.len() == description.table_and_indexes.len() {
        let first = &left_alone[0];
        let detail = left_alone
            .iter()
            .map(|s| s.detail.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(skipped(&name, Some(mode), first.reason, detail));
    }
    Ok(Prepared {
        mode,
        tags,
        description,
        settings,
        tagged: table,
        left_alone,
        limits,
        autoscaling_unknown,
    })
}

/// A table with its decisions, before applying.
#[derive(Debug)]
pub(crate) struct Decided {
    pub(crate) decisions: Vec<TableOrIndexDecision>,
    pub(crate) changes: Vec<CapacityChange>,
    /// Set when the decisions could not be made.
    pub(crate) error: Option<Error>,
}

impl Decided {
    /// Whether any change raises capacity.
    pub(crate) fn raises(&self) -> bool {
        self.decisions
            .iter()
            .any(|d| d.decision.to > d.decision.from)
    }
}

/// The decisions about the managed table and GSIs (read, then write, table first) of one prepared
/// table in `direction` at `now`, from the series in `usage` (as [`aws::fetch_usage`] returns
/// them), as a run after a cold start decides them (every series read, no seasonal history).
/// `Err` says which series could not be fetched. It applies nothing.
pub fn decisions(
    p: &Prepared,
    usage: &Measured,
    direction: Direction,
    now: Timestamp,
) -> Result<Vec<TableOrIndexDecision>, Error> {
    let d = decide(p, &Readings::of(usage.clone()), direction, now);
    match d.error {
        Some(e) => Err(e),
        None => Ok(d.decisions),
    }
}

/// The usage of one series as [`aws::fetch_usage`] returned it, or why it is missing (its batch
/// failed, CloudWatch did not answer it completely, or it was never asked for), as an error
/// naming its table.
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

/// The policy's input for one dimension of a table or GSI: its state, its datapoints, its seasonal
/// history (if any) and the floor of its boosts at `now`.
fn input<'a>(
    p: &Prepared,
    part: &'a TableOrIndex,
    usage: &'a Usage,
    history: Option<&'a Usage>,
    dimension: Dimension,
    now: Timestamp,
) -> DimensionInput<'a> {
    let state = match dimension {
        Dimension::Read => &part.read,
        Dimension::Write => &part.write,
    };
    let i = DimensionInput::new(dimension, state, usage).with_boost(crate::boost::floor(
        p,
        part.index.as_deref(),
        dimension,
        now,
    ));
    match history {
        Some(h) => i.with_history(h),
        None => i,
    }
}

pub(crate) fn decide(
    p: &Prepared,
    readings: &Readings,
    direction: Direction,
    now: Timestamp,
) -> Decided {
    let name = &p.description.name;
    let mut decided = Decided {
        decisions: Vec::new(),
        changes: Vec::new(),
        error: None,
    };
    let key = |index: &Option<String>, dimension| SeriesKey {
        table: name.clone(),
        index: index.clone(),
        dimension,
    };
    // The usage of every managed table and GSI, read and write (the newest minute as a lower bound, see
    // `aws`); `None` for a series resting this run (not due: no decision).
    let mut inputs = Vec::new();
    for (part, settings) in p.managed_tables_and_indexes() {
        let fetched = |dimension| {
            let k = key(&part.index, dimension);
            if readings.resting.contains(&k) {
                Ok(None)
            } else {
                series(&readings.usage, &k).map(Some)
            }
        };
        match (fetched(Dimension::Read), fetched(Dimension::Write)) {
            (Ok(r), Ok(w)) => inputs.push((part, settings, r, w)),
            (Err(e), _) | (_, Err(e)) => {
                decided.error = Some(e);
                return decided;
            }
        }
    }
    // The seasonal histories, expanded per minute for this table's decisions only (see
    // `poll::SeasonalHistory`).
    let histories: HashMap<SeriesKey, Usage> = inputs
        .iter()
        .flat_map(|(part, ..)| Dimension::BOTH.map(|d| key(&part.index, d)))
        .filter_map(|k| readings.history.get(&k).map(|h| (k, h.usage())))
        .collect();
    let table_settings = p.settings.first();
    let gsi_throttled = match (direction, table_settings) {
        (Direction::Down, Some(s)) => gsi_write_throttled(
            s,
            inputs
                .iter()
                .filter(|(part, ..)| part.index.is_some())
                .filter_map(|(_, _, _, w)| *w),
            now,
        ),
        _ => false,
    };
    let mut pairs: Vec<(Option<String>, [Option<Decision>; 2])> = Vec::new();
    for (part, settings, read_usage, write_usage) in &inputs {
        let history = |dimension| histories.get(&key(&part.index, dimension));
        let read =
            read_usage.map(|u| input(p, part, u, history(Dimension::Read), Dimension::Read, now));
        let write = write_usage
            .map(|u| input(p, part, u, history(Dimension::Write), Dimension::Write, now));
        let pair = match direction {
            Direction::Up => {
                let up = |i: Option<DimensionInput<'_>>, dimension| {
                    i.map(|i| match readings.plans.get(&key(&part.index, dimension)) {
                        Some(plan) => readings.cadence.decide(settings, plan, i, now),
                        None => scale_up(settings, i, now),
                    })
                };
                [up(read, Dimension::Read), up(write, Dimension::Write)]
            }
            Direction::Down => match (read, write) {
                (Some(r), Some(w)) if part.index.is_none() => {
                    scale_down_table(settings, r, w, now, gsi_throttled).map(Some)
                }
                (Some(r), Some(w)) => scale_down_pair(settings, r, w, now).map(Some),
                _ => [None, None],
            },
        };
        pairs.push((part.index.clone(), pair));
    }
    if let Some(limits) = p.limits {
        for (dimension, max_total) in [
            (Dimension::Read, limits.table_read),
            (Dimension::Write, limits.table_write),
        ] {
            let side = usize::from(dimension == Dimension::Write);
            let provisioned = |t: &TableOrIndex| match dimension {
                Dimension::Read => t.read.provisioned,
                Dimension::Write => t.write.provisioned,
            };
            // The table or GSIs left alone (a GSI being backfilled...) and those resting this run
            // hold their share of the quota.
            let skipped: u64 = p
                .description
                .table_and_indexes
                .iter()
                .filter(|t| p.left_alone.iter().any(|s| s.index == t.index))
                .map(provisioned)
                .sum();
            let resting: u64 = inputs
                .iter()
                .zip(&pairs)
                .filter(|(_, (_, pair))| pair[side].is_none())
                .map(|((part, ..), _)| provisioned(part))
                .sum();
            let mut decisions: Vec<TableOrGsiDecision<'_>> = pairs
                .iter_mut()
                .filter_map(|(index, pair)| {
                    let is_index = index.is_some();
                    pair[side]
                        .as_mut()
                        .map(|decision| TableOrGsiDecision { is_index, decision })
                })
                .collect();
            cap_total(&mut decisions, max_total.saturating_sub(skipped + resting));
        }
    }
    for ((index, [r, w]), (part, ..)) in pairs.into_iter().zip(&inputs) {
        let changes = |d: &Option<Decision>| d.as_ref().is_some_and(Decision::changes);
        if changes(&r) || changes(&w) {
            decided.changes.push(CapacityChange {
                index: index.clone(),
                read: r.as_ref().map_or(part.read.provisioned, |d| d.to),
                write: w.as_ref().map_or(part.write.provisioned, |d| d.to),
            });
        }
        for decision in [r, w].into_iter().flatten() {
            decided.decisions.push(TableOrIndexDecision {
                index: index.clone(),
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
    /// `not_applied`: `UpdateTable` was refused or failed, or the table was busy, gone, held by
    /// the other function or out of time; the table's outcome says why.
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

/// One `decision` line per decision: the table and GSI, what was decided and why, what
/// became of it, and the numbers behind it (a number the decision did not have is left out,
/// never logged as a stand-in value).
pub(crate) fn log_decisions(
    table: &str,
    mode: Mode,
    applied: impl Fn(&TableOrIndexDecision) -> Applied,
    decisions: &[TableOrIndexDecision],
) {
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
            applied = applied(d).as_str(),
            peak_demand = n.peak_demand,
            peak_consumed = n.peak_consumed,
            utilisation = n.utilisation,
            throttle_events = n.throttle_events,
            key_range_events = n.key_range_events,
            known_minutes = n.known_minutes,
            window_minutes = n.window_minutes,
            target = n.target,
            trigger = n.trigger,
            wanted = n.wanted,
            min = n.min,
            max = n.max,
            next_decrease_at = n.next_decrease_at.map(|t| t.to_string()),
            not_before = d.decision.not_before.map(|t| t.to_string()),
            "decision"
        );
    }
}
