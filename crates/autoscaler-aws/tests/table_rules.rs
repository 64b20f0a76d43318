//! Issue 9, points 2, 4, 5 and 6, through the whole pipeline on the in-memory AWS of
//! `test_support::mock_aws` (real SDK clients): what is managed and what is left alone, a table
//! and its GSIs together, and the limits (the per-table and account quotas, Application Auto
//! Scaling, global tables, the runaway guard). Each test says what happened before the fix.
#![allow(clippy::unwrap_used)]

use autoscaler_aws::run::{LeftAlone, Outcome, RunSummary};
use autoscaler_aws::{Deadline, Direction, InvokeError, SkipReason, invoke, run};
use aws_sdk_dynamodb::types::AttributeValue;
use scaling_policy::{Dimension, Reason};
use test_support::mock_aws::{KEY, NOW, World, config, now};

/// Reads and writes of a target at the same rate.
fn both(w: &World, table: &str, index: Option<&str>, per_sec: f64) {
    for dim in Dimension::BOTH {
        w.recent(table, index, dim, now(), per_sec, 0.0);
    }
}

async fn up(w: &World) -> RunSummary {
    run(&w.clients("up"), &config(), Direction::Up, now())
        .await
        .unwrap()
}

async fn down(w: &World) -> RunSummary {
    run(&w.clients("down"), &config(), Direction::Down, now())
        .await
        .unwrap()
}

fn outcome<'a>(s: &'a RunSummary, table: &str) -> &'a Outcome {
    &s.table(table)
        .unwrap_or_else(|| panic!("{table}: {s:#?}"))
        .outcome
}

/// Scale-up as the function invokes it, which fails: its summary.
async fn failed_up(w: &World) -> RunSummary {
    let err = invoke(
        &w.clients("up"),
        &config(),
        Direction::Up,
        now(),
        Deadline::NONE,
    )
    .await
    .unwrap_err();
    let InvokeError::TablesFailed(failed) = err else {
        panic!("{err}");
    };
    *failed.summary
}

fn updated(w: &World, table: &str) -> bool {
    w.calls()
        .iter()
        .any(|c| c.operation == "UpdateTable" && c.table.as_deref() == Some(table))
}

#[tokio::test]
async fn an_opt_in_value_that_iam_would_refuse_is_skipped_naming_the_tag_and_value() {
    // Before: "On" and "on " were trimmed and lower-cased into "on", decided on, then refused by
    // the template's case-sensitive IAM condition every minute.
    let w = World::new(now());
    for (name, value) in [
        ("capital", "On"),
        ("spaced", "on "),
        ("off", "off"),
        ("exact", "on"),
    ] {
        w.add_table(name, (10, 10), &[], &[(KEY, value)]);
        w.recent(name, None, Dimension::Read, now(), 9.5, 0.0);
    }
    let s = up(&w).await;
    for (name, value) in [("capital", "On"), ("spaced", "on ")] {
        let Outcome::Skipped { reason, detail } = outcome(&s, name) else {
            panic!("{name}: {s:#?}");
        };
        assert_eq!(*reason, SkipReason::OptInNearMiss);
        assert!(
            detail.contains(KEY) && detail.contains(&format!("{value:?}")),
            "names the tag and the value: {detail}"
        );
        assert!(!updated(&w, name), "{name} is not changed");
    }
    assert!(matches!(
        outcome(&s, "off"),
        Outcome::Skipped {
            reason: SkipReason::NotOptedIn,
            ..
        }
    ));
    assert_eq!(outcome(&s, "exact"), &Outcome::Changed);
    assert!(s.failed.is_empty(), "a near miss is no failure: {s:#?}");
}

#[tokio::test]
async fn a_gsi_being_backfilled_is_skipped_alone() {
    // Before: one GSI that was not ACTIVE skipped the whole table, its other GSIs too, silently.
    let w = World::new(now());
    w.add_table(
        "orders",
        (10, 10),
        &[("new", 5, 5), ("old", 5, 5)],
        &[(KEY, "on")],
    );
    w.target("orders", Some("new"), |t| t.status = "CREATING".into());
    both(&w, "orders", None, 9.5);
    both(&w, "orders", Some("old"), 4.8);
    let s = up(&w).await;
    let report = s.table("orders").unwrap();
    assert_eq!(report.outcome, Outcome::Changed, "{s:#?}");
    assert_eq!(
        report.left_alone,
        vec![LeftAlone {
            index: Some("new".into()),
            reason: SkipReason::NotActive,
            detail: "index new is CREATING".into()
        }]
    );
    assert_eq!(w.capacity("orders", None), (12, 12));
    assert_eq!(w.capacity("orders", Some("old")), (6, 6));
    assert_eq!(
        w.capacity("orders", Some("new")),
        (5, 5),
        "the backfilling GSI is left alone"
    );
    assert!(
        report
            .decisions
            .iter()
            .all(|d| d.index.as_deref() != Some("new")),
        "no decision about it"
    );
}

#[tokio::test]
async fn a_gsi_throttled_for_write_capacity_keeps_the_table_s_writes_up() {
    // Before: the table's writes, whose consumption a throttled GSI holds down (DynamoDB refuses
    // the base-table write too), were lowered to that consumption.
    let w = World::new(now());
    w.add_table(
        "orders",
        (100, 100),
        &[("by-user", 100, 10)],
        &[(KEY, "on")],
    );
    both(&w, "orders", None, 1.0);
    w.recent("orders", Some("by-user"), Dimension::Read, now(), 1.0, 0.0);
    w.recent(
        "orders",
        Some("by-user"),
        Dimension::Write,
        now(),
        9.0,
        30.0,
    );
    let s = down(&w).await;
    let table_write = s
        .table("orders")
        .unwrap()
        .decisions
        .iter()
        .find(|d| d.index.is_none() && d.decision.dimension == Dimension::Write);
    let d = &table_write.unwrap().decision;
    assert_eq!(
        (d.to, d.reason),
        (100, Reason::GsiWriteThrottling),
        "{d:#?}"
    );
    let (read, write) = w.capacity("orders", None);
    assert_eq!(
        (read, write),
        (2, 100),
        "reads lowered on their own merit, writes kept"
    );
}

#[tokio::test]
async fn the_table_quota_caps_the_table_and_its_gsis_together_throttled_gsi_first() {
    // Before: each target was capped at the per-table maximum alone, and the sum of a table
    // and its GSIs could pass it (DynamoDB then refuses the whole update).
    let w = World::new(now());
    w.state().limits = Some([1_000, 300, 80_000, 80_000]);
    w.add_table(
        "orders",
        (100, 100),
        &[("by-user", 100, 100)],
        &[(KEY, "on")],
    );
    // Both throttled: the table wants ceil((95 + 30) / 0.8) = 157, the GSI (100 + 60) / 0.8 = 200;
    // 357 > 300, and 100 units of headroom over their 200.
    w.recent("orders", None, Dimension::Write, now(), 95.0, 1_800.0);
    w.recent(
        "orders",
        Some("by-user"),
        Dimension::Write,
        now(),
        100.0,
        3_600.0,
    );
    let s = up(&w).await;
    assert_eq!(outcome(&s, "orders"), &Outcome::Changed, "{s:#?}");
    let (_, table_write) = w.capacity("orders", None);
    let (_, gsi_write) = w.capacity("orders", Some("by-user"));
    assert_eq!(table_write + gsi_write, 300, "at the quota, not past it");
    assert_eq!(gsi_write, 200, "the write-throttled GSI is served first");
    let cut = s
        .table("orders")
        .unwrap()
        .decisions
        .iter()
        .find(|d| d.index.is_none() && d.decision.dimension == Dimension::Write);
    assert_eq!(cut.unwrap().decision.reason, Reason::TableQuota);
    assert!(w.refusals().is_empty());
}

#[tokio::test]
async fn a_gsi_left_alone_still_counts_in_the_table_quota() {
    // A backfilling GSI is not decided on, but its capacity is part of the table's total.
    let w = World::new(now());
    w.state().limits = Some([1_000, 300, 80_000, 80_000]);
    w.add_table("orders", (100, 100), &[("new", 150, 150)], &[(KEY, "on")]);
    w.target("orders", Some("new"), |t| t.status = "CREATING".into());
    w.recent("orders", None, Dimension::Write, now(), 95.0, 1_800.0); // wants 157
    let s = up(&w).await;
    assert_eq!(outcome(&s, "orders"), &Outcome::Changed, "{s:#?}");
    assert_eq!(w.capacity("orders", None).1, 150, "300 less the GSI's 150");
    assert!(w.refusals().is_empty());
}

#[tokio::test]
async fn an_increase_refused_by_the_account_maximum_names_it_and_the_rest_goes_through() {
    // Before: DynamoDB's refusal failed the whole UpdateTable; the table's write increase was
    // lost with the read one, and the error did not say which quota.
    let w = World::new(now());
    w.state().limits = Some([40_000, 40_000, 110, 80_000]);
    w.add_table("orders", (100, 100), &[], &[(KEY, "on")]);
    both(&w, "orders", None, 95.0);
    let summary = failed_up(&w).await;
    let message = summary.failed[0].error.to_string();
    assert!(
        message.contains("raising its reads")
            && message.contains("account maximum 110")
            && message.contains("other changes were applied"),
        "{message}"
    );
    assert_eq!(
        w.capacity("orders", None),
        (100, 119),
        "the writes went through"
    );
}

#[tokio::test]
async fn tables_and_gsis_that_application_auto_scaling_manages_are_left_to_it() {
    // Before: nothing looked at Application Auto Scaling; both scalers spent one decrease quota.
    let w = World::new(now());
    w.add_table("aas", (100, 100), &[], &[(KEY, "on")]);
    w.add_table("half", (100, 100), &[("g", 100, 100)], &[(KEY, "on")]);
    for (t, i) in [("aas", None), ("half", None), ("half", Some("g"))] {
        both(&w, t, i, 1.0);
    }
    w.state().scalable = vec!["table/aas".into(), "table/half/index/g".into()];
    let s = down(&w).await;
    assert!(
        matches!(outcome(&s, "aas"), Outcome::Skipped { reason: SkipReason::ApplicationAutoScaling, detail } if detail.contains("deregister")),
        "{s:#?}"
    );
    assert!(!updated(&w, "aas"));
    let half = s.table("half").unwrap();
    assert_eq!(half.outcome, Outcome::Changed);
    assert_eq!(
        half.left_alone[0].reason,
        SkipReason::ApplicationAutoScaling
    );
    assert_eq!(
        w.capacity("half", Some("g")),
        (100, 100),
        "its GSI is left to AAS"
    );
    assert_eq!(w.capacity("half", None), (2, 2));
}

#[tokio::test]
async fn global_tables_are_skipped_until_supported() {
    let w = World::new(now());
    w.add_table("global", (10, 10), &[], &[(KEY, "on")]);
    w.state().tables.get_mut("global").unwrap().replicas = vec!["eu-west-1".into()];
    w.recent("global", None, Dimension::Read, now(), 9.5, 0.0);
    let s = up(&w).await;
    assert!(
        matches!(outcome(&s, "global"), Outcome::Skipped { reason: SkipReason::GlobalTable, detail } if detail.contains("eu-west-1")),
        "{s:#?}"
    );
    assert!(!updated(&w, "global"));
}

/// The lease item of `table` with `n` increases in the minutes before now.
fn raised_recently(w: &World, table: &str, n: i64) {
    let increases = (1..=n)
        .map(|i| AttributeValue::N((NOW - 60 * i).to_string()))
        .collect();
    w.set_lease_number(table, "ttl", NOW + 86_400);
    w.state()
        .leases
        .get_mut(table)
        .unwrap()
        .insert("increases".into(), AttributeValue::L(increases));
}

#[tokio::test]
async fn the_runaway_guard_holds_a_table_raised_too_often_and_fails_it() {
    let w = World::new(now());
    w.add_table("loop", (10, 10), &[], &[(KEY, "on")]);
    w.add_table(
        "tuned",
        (10, 10),
        &[],
        &[(KEY, "on"), ("ddb-autoscaler:max-increases-per-hour", "40")],
    );
    for t in ["loop", "tuned"] {
        w.recent(t, None, Dimension::Read, now(), 9.5, 0.0);
        raised_recently(&w, t, 30);
    }
    let summary = failed_up(&w).await;
    let s = &summary;
    assert_eq!(s.failed.len(), 1, "{s:#?}");
    let message = s.failed[0].error.to_string();
    assert!(
        message.contains("table loop")
            && message.contains("runaway guard")
            && message.contains("30 times"),
        "{message}"
    );
    assert_eq!(w.capacity("loop", None), (10, 10), "held at its capacity");
    assert_eq!(outcome(s, "tuned"), &Outcome::Changed, "its tag allows 40");
    let recorded = w.lease("tuned").unwrap()["increases"].as_l().unwrap().len();
    assert_eq!(recorded, 31, "the increase is counted");
}
