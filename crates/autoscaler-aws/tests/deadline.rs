//! The invocation's deadline and the decreases due a few seconds after a run starts, with an
//! injected deadline on Tokio's paused clock (no wall-clock timing): the run starts no table
//! within the margin of its deadline and says which it left; a decrease due later
//! (`not_before`) is waited for when that is before the deadline less its margin, and made
//! then, never after it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use autoscaler_aws::deadline::MARGIN;
use autoscaler_aws::run::Outcome;
use autoscaler_aws::{Deadline, Direction, RunConfig, SkipReason, run_within};
use scaling_policy::{Dimension, Timestamp};
use test_support::mock_aws::{KEY, NOW, World, now};

fn config() -> RunConfig {
    RunConfig {
        concurrency: 1,
        ..test_support::mock_aws::config()
    }
}

/// An idle table at 100/100 whose next decrease the quota allows `due` seconds from now (four
/// decreases today, the last an hour before that; `None`: allowed now).
fn idle(w: &World, name: &str, due: Option<i64>) {
    w.add_table(name, (100, 100), &[], &[(KEY, "on")]);
    for dim in Dimension::BOTH {
        w.recent(name, None, dim, now(), 1.0, 0.0);
    }
    if let Some(due) = due {
        w.target(name, None, |t| {
            let last = NOW + due - 3_600;
            t.decreases = (0..4)
                .map(|i| Timestamp::from_unix(last - 600 * i))
                .rev()
                .collect();
        });
    }
}

async fn scale_down_within(w: &World, deadline: Deadline) -> autoscaler_aws::RunSummary {
    run_within(
        &w.clients("down"),
        &config(),
        Direction::Down,
        now(),
        deadline,
    )
    .await
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_run_within_the_margin_of_its_deadline_starts_no_table() {
    let w = World::new(now());
    idle(&w, "a", None);
    idle(&w, "b", None);
    let deadline = Deadline::after(MARGIN - Duration::from_secs(1));
    let s = scale_down_within(&w, deadline).await;
    for t in ["a", "b"] {
        assert!(
            matches!(
                &s.table(t).unwrap().outcome,
                Outcome::Skipped {
                    reason: SkipReason::Deadline,
                    ..
                }
            ),
            "{s:#?}"
        );
    }
    assert!(s.failed.is_empty(), "out of time is no failure");
    let described = w
        .calls()
        .iter()
        .filter(|c| c.operation == "DescribeTable")
        .count();
    assert_eq!(described, 0, "not even described");
}

#[tokio::test(start_paused = true)]
async fn a_decrease_due_before_the_deadline_is_waited_for_and_one_due_after_it_is_not_made() {
    // A deadline 30 s away: tables start until 20 s from now. Decreases due now, in 19 s
    // (before that) and in 25 s (after it).
    let w = World::new(now());
    idle(&w, "now", None);
    idle(&w, "soon", Some(19));
    idle(&w, "late", Some(25));
    w.run_clock_from(now());
    let started = tokio::time::Instant::now();
    let deadline = Deadline::at(started + Duration::from_secs(30));
    let s = scale_down_within(&w, deadline).await;
    assert_eq!(s.table("now").unwrap().outcome, Outcome::Changed, "{s:#?}");
    let soon = s.table("soon").unwrap();
    assert_eq!(soon.outcome, Outcome::Changed, "{s:#?}");
    assert_eq!(
        soon.decisions[0].decision.not_before,
        Some(Timestamp::from_unix(NOW + 19))
    );
    let Outcome::Skipped { reason, detail } = &s.table("late").unwrap().outcome else {
        panic!("{s:#?}");
    };
    assert_eq!(*reason, SkipReason::Deadline);
    assert!(detail.contains("due at"), "{detail}");
    assert_eq!(w.capacity("late", None), (100, 100));
    // The wait happened on Tokio's clock, and ended before the deadline less its margin.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(19) && waited < Duration::from_secs(20),
        "{waited:?}"
    );
    // DynamoDB (whose clock runs with the run's) took the decrease at its due time, and
    // refused nothing.
    let soon_change = w.changes().into_iter().find(|c| c.table == "soon").unwrap();
    assert_eq!(
        soon_change.at,
        Timestamp::from_unix(NOW + 19),
        "made when due, not before"
    );
    assert!(w.refusals().is_empty(), "{:?}", w.refusals());
}
