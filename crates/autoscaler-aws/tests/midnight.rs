//! Runs around 00:00 UTC, when DynamoDB's decrease quota starts a new day: scale-down at
//! 23:59:30, 00:00:00 and 00:00:30, each describing the table as DynamoDB saw it before
//! midnight and updating it after, from every kind of day behind it (no decrease yet, a few,
//! the four spacing-free ones used, the hourly one just spent, the 27 of the day). The
//! in-memory AWS of `test_support::mock_aws` refuses any decrease that either documented
//! wording of the quota refuses, at the instant the update arrives: none is ever refused.
#![allow(clippy::unwrap_used)]

use autoscaler_aws::{Direction, run};
use scaling_policy::{Dimension, Timestamp};
use test_support::mock_aws::{KEY, World};

/// 2026-12-03T00:00:00Z.
const MIDNIGHT: i64 = 1_796_256_000;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(MIDNIGHT + secs)
}

/// The days behind the table: its decreases of the day before, as seconds from midnight.
fn histories() -> Vec<(&'static str, Vec<i64>)> {
    let hourly = |n: i64, last: i64| {
        (0..n)
            .map(|i| last - 3_600 * (n - 1 - i))
            .collect::<Vec<_>>()
    };
    vec![
        ("none", vec![]),
        ("three", vec![-7_200, -3_000, -600]),
        (
            "four free ones, the last 20 s ago",
            vec![-9_000, -8_000, -7_000, -50],
        ),
        (
            "four, the last an hour before 00:00:10",
            vec![-9_000, -8_000, -7_000, -3_590],
        ),
        ("the day's 27", {
            let mut d = vec![-86_000, -85_900, -85_800];
            d.extend(hourly(24, -40));
            d
        }),
    ]
}

#[tokio::test(start_paused = true)]
async fn no_decrease_around_midnight_is_ever_refused() {
    for (history, decreases) in histories() {
        let w = World::new(at(-30));
        w.add_table("orders", (100, 100), &[], &[(KEY, "on")]);
        w.target("orders", None, |t| {
            t.decreases = decreases.iter().map(|s| at(*s)).collect();
        });
        let config = test_support::mock_aws::config();
        let mut made = 0;
        for run_at in [-30, 0, 30] {
            // Idle for the last half hour, and back at 100/100 before each run (raised by hand,
            // say), so that each run wants a decrease.
            for dim in Dimension::BOTH {
                w.recent("orders", None, dim, at(run_at), 1.0, 0.0);
            }
            w.target("orders", None, |t| (t.read, t.write) = (100, 100));
            // DynamoDB describes the table as of 23:59:50 and takes the update at 00:00:05.
            let wc = w.clone();
            w.set_hook(move |call| match call.operation {
                "DescribeTable" => wc.set_now(at(-10)),
                "UpdateTable" => wc.set_now(at(5 + run_at.max(0))),
                _ => {}
            });
            let s = run(&w.clients("down"), &config, Direction::Down, at(run_at))
                .await
                .unwrap();
            w.clear_hook();
            assert!(
                w.refusals().is_empty(),
                "{history}: run at {}: DynamoDB refused {:?}\n{s:#?}",
                at(run_at),
                w.refusals()
            );
            assert!(s.failed.is_empty(), "{history}: {s:#?}");
            made += usize::from(w.capacity("orders", None) != (100, 100));
        }
        // And the new day is not wasted: at least one of the three runs lowers the table (the
        // runs after midnight see a description from before it, so they may stay cautious).
        assert!(made >= 1, "{history}: no run lowered the table");
    }
}
