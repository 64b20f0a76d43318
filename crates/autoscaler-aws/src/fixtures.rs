//! Test-only (`#[cfg(test)]`): one scale-up run summary with every kind of table outcome, for the
//! unit tests of what is made from a summary (metrics in `emf.rs`, events in `notify.rs`); the
//! README's sections those tests and `env.rs`'s compare with; a variable lookup over pairs.

use scaling_policy::{Action, Decision, Dimension, Mode, Numbers, Reason, TableTags};

use crate::error::{Error, TableError};
use crate::run::{
    Direction, Failed, Outcome, RunSummary, SkipReason, Skipped, TableOrIndexDecision, TableReport,
};

/// A decision from `from` to `to` for `reason`, at peak demand `peak` with `throttled` events.
pub fn decision(
    dimension: Dimension,
    (from, to): (u64, u64),
    reason: Reason,
    peak: f64,
    throttled: f64,
) -> Decision {
    let action = match to.cmp(&from) {
        std::cmp::Ordering::Greater => Action::Increase,
        std::cmp::Ordering::Less => Action::Decrease,
        std::cmp::Ordering::Equal => Action::Keep,
    };
    Decision {
        dimension,
        from,
        to,
        action,
        reason,
        numbers: Numbers {
            window_minutes: 5,
            known_minutes: 3,
            peak_demand: Some(peak),
            peak_consumed: Some(peak),
            throttle_events: throttled,
            key_range_events: 0.0,
            utilisation: Some(peak / from as f64),
            growth: 1.0,
            seasonal_demand: None,
            boost: None,
            target: 0.8,
            trigger: 0.9,
            min: 1,
            max: 40_000,
            wanted: Some(to),
            next_decrease_at: None,
        },
        not_before: None,
    }
}

fn report(table: &str, outcome: Outcome, decisions: Vec<(Option<&str>, Decision)>) -> TableReport {
    TableReport {
        table: table.to_owned(),
        mode: Some(Mode::On),
        outcome,
        decisions: decisions
            .into_iter()
            .map(|(index, decision)| TableOrIndexDecision {
                index: index.map(str::to_owned),
                decision,
            })
            .collect(),
        left_alone: Vec::new(),
    }
}

/// A scale-up run at 2026-12-02T10:00:07Z: `orders` raised (the table's reads above the trigger,
/// its GSI `by-customer`'s writes throttled), `clicks` dry-run with a change held back, `quiet`
/// kept, `legacy` skipped (not opted in), `payments` failed (a malformed override tag).
pub fn summary() -> RunSummary {
    use Dimension::{Read, Write};
    let bad_tag = TableTags::parse(
        "ddb-autoscaler",
        [
            ("ddb-autoscaler", "on"),
            ("ddb-autoscaler:read-max", "lots"),
        ],
    )
    .expect_err("a malformed override");
    let error = TableError::from(Error::Config {
        table: "payments".into(),
        source: bad_tag,
    });
    let tables = vec![
        report(
            "clicks",
            Outcome::DryRun,
            vec![
                (
                    None,
                    decision(Read, (20, 30), Reason::AboveTrigger, 23.0, 0.0),
                ),
                (
                    None,
                    decision(Write, (10, 10), Reason::BelowTrigger, 2.0, 0.0),
                ),
            ],
        ),
        report(
            "legacy",
            Outcome::Skipped {
                reason: SkipReason::NotOptedIn,
                detail: "tag ddb-autoscaler = \"off\"".into(),
            },
            vec![],
        ),
        report(
            "orders",
            Outcome::Changed,
            vec![
                (
                    None,
                    decision(Read, (10, 12), Reason::AboveTrigger, 9.5, 0.0),
                ),
                (
                    None,
                    decision(Write, (10, 10), Reason::BelowTrigger, 5.0, 0.0),
                ),
                (
                    Some("by-customer"),
                    decision(Read, (5, 5), Reason::BelowTrigger, 2.0, 0.0),
                ),
                (
                    Some("by-customer"),
                    decision(Write, (5, 7), Reason::Throttled, 5.5, 60.0),
                ),
            ],
        ),
        report(
            "payments",
            Outcome::Failed {
                error: error.clone(),
            },
            vec![],
        ),
        report(
            "quiet",
            Outcome::Unchanged,
            vec![
                (
                    None,
                    decision(Read, (10, 10), Reason::BelowTrigger, 1.0, 0.0),
                ),
                (None, decision(Write, (10, 10), Reason::NoData, 0.0, 0.0)),
            ],
        ),
    ];
    RunSummary {
        direction: Direction::Up,
        at: "2026-12-02T10:00:07Z".into(),
        dry_run: false,
        tables_seen: 5,
        tables_managed: 4,
        tables_changed: 1,
        skipped: vec![Skipped {
            table: "legacy".into(),
            reason: SkipReason::NotOptedIn,
            detail: "tag ddb-autoscaler = \"off\"".into(),
        }],
        failed: vec![Failed {
            table: "payments".into(),
            error,
        }],
        series_read: 8,
        series_resting: 2,
        calls: crate::Calls {
            metrics_requested: 9,
            get_metric_data_calls: 2,
            api_calls: 14,
            by_operation: Default::default(),
        },
        tables,
    }
}

/// The README's text after `start` up to the next `end`; panics naming `start` when the README
/// has no such section.
pub fn readme_section(start: &str, end: &str) -> &'static str {
    include_str!("../../../README.md")
        .split(start)
        .nth(1)
        .and_then(|s| s.split(end).next())
        .unwrap_or_else(|| panic!("the README has no section {start:?}"))
}

/// An environment lookup that knows only `pairs` (name, value).
pub fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}
