//! The apply stage of a run: for each table with a change, the critical section that makes the
//! change, never a wrong one.
//!
//! Per table, in order:
//! 1. **Due time.** A decrease the quota allows only a few seconds after the run started (a
//!    decision's `not_before`) is waited for, when that is before the invocation's deadline less
//!    its margin; otherwise the table is skipped for the deadline ([`crate::deadline`]). Tables
//!    are taken in due order, so that no wait holds up a table that is due now. No table is
//!    started once the deadline is near.
//! 2. **Lease** ([`crate::lease`]): taken with a conditional write; held by the other function,
//!    the table is skipped (`lease_held`) until the next run.
//! 3. **Describe again and decide again**, under the lease, on the same measurements: the update
//!    is computed from a description no other update can slip in after. A table found `UPDATING`
//!    is skipped (`in_use`); a description that does not yet show the last write made under the
//!    lease, or whose indexes changed, is skipped (`stale_description`).
//! 4. **Runaway guard** ([`scaling_policy::runaway`]): a change that raises anything, on a table
//!    already raised `max-increases-per-hour` times in the last hour, is not made; the table
//!    fails (its alarm fires) and keeps its capacity.
//! 5. **`UpdateTable`**, one call with every change. When DynamoDB refuses an increase (an
//!    account or table capacity quota), the table's other changes are sent again without the
//!    refused dimension's increases; the table fails naming the quota either way.
//! 6. **Release** the lease, recording what was written and the increase, for the next holder.
//!
//! A table is failed only when its change could be wrong or was refused; AAS-unknown tables
//! (the Application Auto Scaling check failed) are failed only when they have a change to make.

use futures::stream::{self, StreamExt};
use scaling_policy::{Dimension, Mode, Timestamp, runaway};

use crate::aws::{self, Clients};
use crate::deadline::{Clock, Deadline};
use crate::env::RunConfig;
use crate::error::{Error, ErrorKind, TableError};
use crate::lease::{self, Acquired, Lease, LeaseState, Written};
use crate::poll::Readings;
use crate::run::{
    Applied, Decided, Direction, Outcome, Prepared, SkipReason, TableOrIndexDecision, TableReport,
    decide, log_decisions, prepare,
};
use crate::table::{CapacityChange, TableDescription};

/// What the apply stage needs from its run.
pub(crate) struct Context<'a> {
    pub(crate) clients: &'a Clients,
    pub(crate) config: &'a RunConfig,
    pub(crate) direction: Direction,
    pub(crate) clock: Clock,
    pub(crate) deadline: Deadline,
    /// The run's readings (decisions are made again on them under the lease).
    pub(crate) readings: &'a Readings,
}

/// A unique id for this run's leases.
fn run_id(direction: Direction) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{direction}-{nanos:x}-{}", std::process::id())
}

/// The latest `not_before` of a table's decisions: when its change may be made.
fn due(d: &Decided) -> Option<Timestamp> {
    d.decisions
        .iter()
        .filter(|x| x.decision.changes())
        .filter_map(|x| x.decision.not_before)
        .max()
}

/// Applies (or reports) every decided table.
pub(crate) async fn apply_all(
    ctx: &Context<'_>,
    tables: Vec<(Prepared, Decided)>,
) -> Vec<TableReport> {
    let owner = run_id(ctx.direction);
    let mut reports = Vec::new();
    let mut to_apply = Vec::new();
    for (p, d) in tables {
        let mut report = TableReport {
            table: p.description.name.clone(),
            mode: Some(p.mode),
            outcome: Outcome::Unchanged,
            decisions: Vec::new(),
            left_alone: p.left_alone.clone(),
        };
        if let Some(error) = d.error {
            report.outcome = Outcome::Failed {
                error: error.into(),
            };
            reports.push(report);
        } else if d.changes.is_empty() || ctx.config.dry_run || p.mode == Mode::DryRun {
            let applied = if d.changes.is_empty() {
                Applied::NoChange
            } else {
                report.outcome = Outcome::DryRun;
                Applied::DryRun
            };
            report.decisions = d.decisions;
            log_decisions(&report.table, p.mode, |_| applied, &report.decisions);
            reports.push(report);
        } else {
            to_apply.push((p, d));
        }
    }
    to_apply.sort_by_key(|(_, d)| due(d));
    let applied: Vec<TableReport> = stream::iter(to_apply)
        .map(|(p, d)| apply_one(ctx, &owner, p, d))
        .buffer_unordered(ctx.config.concurrency)
        .collect()
        .await;
    reports.extend(applied);
    reports
}

/// What the critical section came to: the outcome, the decisions it acted on, which changes
/// were applied, and what to record in the lease.
struct Made {
    outcome: Outcome,
    decisions: Vec<TableOrIndexDecision>,
    applied: Vec<CapacityChange>,
    state: LeaseState,
}

impl Made {
    fn not_made(outcome: Outcome, decisions: Vec<TableOrIndexDecision>, state: LeaseState) -> Self {
        Made {
            outcome,
            decisions,
            applied: Vec::new(),
            state,
        }
    }
}

fn skip(reason: SkipReason, detail: impl Into<String>) -> Outcome {
    Outcome::Skipped {
        reason,
        detail: detail.into(),
    }
}

fn fail(error: Error) -> Outcome {
    Outcome::Failed {
        error: TableError::from(error),
    }
}

async fn apply_one(ctx: &Context<'_>, owner: &str, p: Prepared, d: Decided) -> TableReport {
    let table = p.description.name.clone();
    let mut report = TableReport {
        table: table.clone(),
        mode: Some(p.mode),
        outcome: Outcome::Unchanged,
        decisions: d.decisions.clone(),
        left_alone: p.left_alone.clone(),
    };
    let made = match before_lease(ctx, &p, &d).await {
        Err(outcome) => Made::not_made(outcome, d.decisions, LeaseState::default()),
        Ok(()) => match &ctx.config.lease_table {
            None => critical(ctx, &p, None).await,
            Some(lease_table) => {
                match lease::acquire(ctx.clients, lease_table, &table, owner, ctx.clock.now()).await
                {
                    Err(e) => Made::not_made(fail(e), d.decisions, LeaseState::default()),
                    Ok(Acquired::Held { until }) => Made::not_made(
                        skip(
                            SkipReason::LeaseHeld,
                            match until {
                                Some(t) => {
                                    format!("the other function holds its lease (until {t})")
                                }
                                None => "the other function holds its lease".to_owned(),
                            },
                        ),
                        d.decisions,
                        LeaseState::default(),
                    ),
                    Ok(Acquired::Ours(l)) => {
                        let mut made = critical(ctx, &p, Some(&l)).await;
                        if let Err(e) = lease::release(ctx.clients, &l, &made.state).await {
                            tracing::error!(table = %table, error = %crate::error::chain(&e), "lease release failed");
                            if !matches!(made.outcome, Outcome::Failed { .. }) {
                                made.outcome = fail(e);
                            }
                        }
                        made
                    }
                }
            }
        },
    };
    report.outcome = made.outcome;
    report.decisions = made.decisions;
    let applied = &made.applied;
    log_decisions(
        &table,
        p.mode,
        |x| {
            let part = applied.iter().find(|c| c.index == x.index);
            let to = part.map(|c| match x.decision.dimension {
                Dimension::Read => c.read,
                Dimension::Write => c.write,
            });
            if !x.decision.changes() {
                Applied::NoChange
            } else if to == Some(x.decision.to) {
                Applied::Applied
            } else {
                Applied::NotApplied
            }
        },
        &report.decisions,
    );
    report
}

/// Everything before the lease: the Application Auto Scaling check, the due time, the deadline.
async fn before_lease(ctx: &Context<'_>, p: &Prepared, d: &Decided) -> Result<(), Outcome> {
    if let Some(e) = &p.autoscaling_unknown {
        return Err(fail(Error::AutoScalingUnknown {
            table: p.description.name.clone(),
            source: e.clone(),
        }));
    }
    if let Some(due) = due(d) {
        let at = ctx.clock.instant_of(due);
        if !ctx.deadline.allows_start_at(at) {
            return Err(skip(
                SkipReason::Deadline,
                format!("a decrease due at {due}, too close to the invocation's deadline"),
            ));
        }
        tokio::time::sleep_until(at).await;
    }
    if !ctx.deadline.allows_start() {
        return Err(skip(
            SkipReason::Deadline,
            "not started: the invocation's deadline was near",
        ));
    }
    Ok(())
}

/// Describe again, decide again, guard, update: under `lease` when there is one.
async fn critical(ctx: &Context<'_>, p: &Prepared, lease: Option<&Lease>) -> Made {
    let table = &p.description.name;
    let state = lease.map(|l| l.state.clone()).unwrap_or_default();
    let not_made = |outcome, state| Made::not_made(outcome, Vec::new(), state);
    let fresh = match aws::describe(ctx.clients, table).await {
        Ok(fresh) => fresh,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return not_made(skip(SkipReason::Gone, "table no longer exists"), state);
        }
        Err(e) => return not_made(fail(e), state),
    };
    if let Some(t) = fresh.table_and_indexes.first()
        && t.status != crate::table::Status::Active
    {
        return not_made(
            skip(
                SkipReason::InUse,
                format!(
                    "table is {} when described again; next run retries",
                    t.status
                ),
            ),
            state,
        );
    }
    if let Some(w) = &state.written
        && lease::is_stale(w, &fresh)
    {
        return not_made(
            skip(
                SkipReason::StaleDescription,
                format!(
                    "DescribeTable does not show yet the change made at {}",
                    w.at
                ),
            ),
            state,
        );
    }
    let indexes = |d: &TableDescription| -> Vec<Option<String>> {
        d.table_and_indexes
            .iter()
            .map(|t| t.index.clone())
            .collect()
    };
    if indexes(&fresh) != indexes(&p.description) {
        return not_made(
            skip(
                SkipReason::StaleDescription,
                "the table's indexes changed during the run",
            ),
            state,
        );
    }
    let autoscaled: Vec<Option<String>> = p
        .left_alone
        .iter()
        .filter(|s| s.reason == SkipReason::ApplicationAutoScaling)
        .map(|s| s.index.clone())
        .collect();
    let candidate = crate::run::Candidate {
        table: p.tagged.clone(),
        tags: p.tags.clone(),
        mode: p.mode,
        description: fresh,
        autoscaled: &autoscaled,
        autoscaling_unknown: None,
    };
    let again = match prepare(ctx.config, p.limits, candidate) {
        Ok(again) => again,
        Err(report) => return not_made(report.outcome, state),
    };
    let d = decide(&again, ctx.readings, ctx.direction, ctx.clock.start);
    if let Some(e) = d.error {
        return not_made(fail(e), state);
    }
    if d.changes.is_empty() {
        return Made::not_made(Outcome::Unchanged, d.decisions, state);
    }
    let now = ctx.clock.now();
    if d.raises() {
        let max = again
            .settings
            .first()
            .map_or(runaway::DEFAULT_MAX_INCREASES_PER_HOUR, |s| {
                s.max_increases_per_hour
            });
        if let Some(runaway) = runaway::tripped(&state.increases, now, max) {
            return Made::not_made(
                fail(Error::RunawayGuard {
                    table: table.clone(),
                    runaway,
                }),
                d.decisions,
                state,
            );
        }
    }
    if let Some(l) = lease
        && !l.usable(now)
    {
        return Made::not_made(
            skip(
                SkipReason::Deadline,
                format!("its lease expires at {}, too soon to change it", l.expires),
            ),
            d.decisions,
            state,
        );
    }
    let (outcome, applied) = update(ctx.clients, &again, &d.changes).await;
    let mut state = state;
    if !applied.is_empty() {
        let raised = applied.iter().any(|c| {
            again
                .description
                .target(c.index.as_deref())
                .is_some_and(|t| c.read > t.read.provisioned || c.write > t.write.provisioned)
        });
        if raised {
            state.increases = runaway::record(&state.increases, now);
        }
        state.written = Some(Written {
            at: now,
            capacities: applied.clone(),
        });
    }
    Made {
        outcome,
        decisions: d.decisions,
        applied,
        state,
    }
}

/// `changes` with the increases of `dimension` taken back to what `p` has now (and targets left
/// without any change dropped).
fn without_increases(
    p: &Prepared,
    changes: &[CapacityChange],
    dimension: Dimension,
) -> Vec<CapacityChange> {
    changes
        .iter()
        .filter_map(|c| {
            let t = p.description.target(c.index.as_deref())?;
            let mut c = c.clone();
            match dimension {
                Dimension::Read => c.read = c.read.min(t.read.provisioned),
                Dimension::Write => c.write = c.write.min(t.write.provisioned),
            }
            (c.read != t.read.provisioned || c.write != t.write.provisioned).then_some(c)
        })
        .collect()
}

/// Whether `changes` raise `dimension` anywhere.
fn raises(p: &Prepared, changes: &[CapacityChange], dimension: Dimension) -> bool {
    changes.iter().any(|c| {
        p.description
            .target(c.index.as_deref())
            .is_some_and(|t| match dimension {
                Dimension::Read => c.read > t.read.provisioned,
                Dimension::Write => c.write > t.write.provisioned,
            })
    })
}

/// One `UpdateTable` with `changes`; when DynamoDB refuses an increase, again without the
/// refused dimension's increases. The outcome, and the changes that were applied.
async fn update(
    clients: &Clients,
    p: &Prepared,
    changes: &[CapacityChange],
) -> (Outcome, Vec<CapacityChange>) {
    let table = &p.description.name;
    let err = match aws::update_table(clients, table, changes).await {
        Ok(()) => return (Outcome::Changed, changes.to_vec()),
        Err(e) => e,
    };
    let increase_refused = err.kind() == ErrorKind::LimitExceeded
        && (raises(p, changes, Dimension::Read) || raises(p, changes, Dimension::Write));
    if !increase_refused {
        let outcome = match err.kind() {
            ErrorKind::InUse => skip(
                SkipReason::InUse,
                "table is being updated (ResourceInUseException); next run retries",
            ),
            ErrorKind::NotFound => skip(SkipReason::Gone, "table no longer exists"),
            ErrorKind::LimitExceeded | ErrorKind::DecreaseQuota | ErrorKind::Other => fail(err),
        };
        return (outcome, Vec::new());
    }
    let limit = |dimension| {
        p.limits.map(|l| match dimension {
            Dimension::Read => (l.account_read, l.table_read),
            Dimension::Write => (l.account_write, l.table_write),
        })
    };
    let source: crate::error::BoxError = Box::new(err);
    for dimension in Dimension::BOTH {
        if !raises(p, changes, dimension) {
            continue;
        }
        let rest = without_increases(p, changes, dimension);
        if rest.is_empty() || rest == changes {
            continue;
        }
        if aws::update_table(clients, table, &rest).await.is_ok() {
            return (
                fail(Error::IncreaseRefused {
                    table: table.clone(),
                    dimension,
                    limit: limit(dimension),
                    rest_applied: true,
                    source,
                }),
                rest,
            );
        }
    }
    let dimension = if raises(p, changes, Dimension::Read) {
        Dimension::Read
    } else {
        Dimension::Write
    };
    (
        fail(Error::IncreaseRefused {
            table: table.clone(),
            dimension,
            limit: limit(dimension),
            rest_applied: false,
            source,
        }),
        Vec::new(),
    )
}
