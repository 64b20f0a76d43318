//! End-to-end tests of the pipeline against the local emulator (moto server): real tables, GSIs,
//! tags and per-minute CloudWatch datapoints (seeded as CloudWatch publishes them: the newest
//! minutes are missing, as in production), through the same code path as the functions.
//! Each test uses its own opt-in tag key and table names, so tests can share one emulator.

mod common;

use autoscaler_aws::run::{Outcome, RunSummary};
use autoscaler_aws::{Deadline, Direction, InvokeError, SkipReason, invoke, run};
use common::{capacity, clients, config, now, seed, seeded_usage, table};
use scaling_policy::{
    Action, DecreaseBudget, Dimension, DimensionInput, DimensionState, Reason, Settings, Timestamp,
    scale_up,
};

/// What the policy computes for a dimension seeded with a constant rate: from what CloudWatch
/// has published by `now`, as the pipeline reads it.
fn policy_up(
    provisioned: u64,
    minutes: usize,
    per_sec: f64,
    throttled: f64,
    now: Timestamp,
) -> u64 {
    let usage = seeded_usage(now, minutes, per_sec, throttled);
    let state = DimensionState {
        provisioned,
        budget: DecreaseBudget::default(),
        last_increase: None,
    };
    let input = DimensionInput {
        dimension: Dimension::Read,
        state: &state,
        usage: &usage,
        history: None,
        boost: None,
    };
    scale_up(&Settings::default(), input, now).to
}

fn outcome<'a>(s: &'a RunSummary, table: &str) -> &'a Outcome {
    &s.table(table)
        .unwrap_or_else(|| panic!("{table} missing from the summary: {s:#?}"))
        .outcome
}

#[tokio::test]
async fn hot_table_and_hot_gsi_are_raised_to_policy_values() {
    let c = clients().await;
    let key = "t-hot";
    let t = now();
    table(
        &c,
        "hot-orders",
        Some((10, 10)),
        &[("by-user", 5, 5)],
        &[(key, "on")],
    )
    .await;
    seed(&c, "hot-orders", None, Dimension::Read, t, 5, 9.5, 0.0).await;
    seed(&c, "hot-orders", None, Dimension::Write, t, 5, 2.0, 0.0).await;
    seed(
        &c,
        "hot-orders",
        Some("by-user"),
        Dimension::Write,
        t,
        5,
        4.8,
        0.0,
    )
    .await;

    let summary = run(&c, &config(key), Direction::Up, now()).await.unwrap();

    assert_eq!(outcome(&summary, "hot-orders"), &Outcome::Changed);
    assert_eq!(summary.tables_changed, 1);
    let want_table_read = policy_up(10, 5, 9.5, 0.0, t);
    let want_gsi_write = policy_up(5, 5, 4.8, 0.0, t);
    assert_eq!(
        (want_table_read, want_gsi_write),
        (12, 6),
        "ceil(9.5/0.8), ceil(4.8/0.8)"
    );
    assert_eq!(
        capacity(&c, "hot-orders", None).await,
        (want_table_read, 10)
    );
    assert_eq!(
        capacity(&c, "hot-orders", Some("by-user")).await,
        (5, want_gsi_write)
    );
}

#[tokio::test]
async fn idle_table_is_lowered_by_scale_down_only() {
    let c = clients().await;
    let key = "t-idle";
    let t = now();
    table(&c, "idle-audit", Some((100, 100)), &[], &[(key, "on")]).await;
    seed(&c, "idle-audit", None, Dimension::Read, t, 30, 1.0, 0.0).await;
    seed(&c, "idle-audit", None, Dimension::Write, t, 30, 1.0, 0.0).await;

    let up = run(&c, &config(key), Direction::Up, now()).await.unwrap();
    assert_eq!(outcome(&up, "idle-audit"), &Outcome::Unchanged);
    assert_eq!(
        capacity(&c, "idle-audit", None).await,
        (100, 100),
        "scale-up never lowers"
    );

    let down = run(&c, &config(key), Direction::Down, now()).await.unwrap();
    assert_eq!(outcome(&down, "idle-audit"), &Outcome::Changed);
    // Peak demand 1 unit/s at an 80% target: ceil(1 / 0.8) = 2.
    assert_eq!(capacity(&c, "idle-audit", None).await, (2, 2));
    let reasons: Vec<Reason> = down.tables[0]
        .decisions
        .iter()
        .map(|d| d.decision.reason)
        .collect();
    assert_eq!(
        reasons,
        vec![Reason::Overprovisioned, Reason::Overprovisioned]
    );
}

#[tokio::test]
async fn untagged_off_and_dry_run_tables_are_untouched() {
    let c = clients().await;
    let key = "t-optin";
    let t = now();
    table(&c, "optin-untagged", Some((10, 10)), &[], &[]).await;
    table(&c, "optin-off", Some((10, 10)), &[], &[(key, "off")]).await;
    table(&c, "optin-dry", Some((10, 10)), &[], &[(key, "dry-run")]).await;
    for name in ["optin-untagged", "optin-off", "optin-dry"] {
        seed(&c, name, None, Dimension::Read, t, 5, 9.5, 0.0).await;
    }

    let s = run(&c, &config(key), Direction::Up, now()).await.unwrap();

    for name in ["optin-untagged", "optin-off", "optin-dry"] {
        assert_eq!(
            capacity(&c, name, None).await,
            (10, 10),
            "{name} must be untouched"
        );
    }
    assert!(
        s.table("optin-untagged").is_none(),
        "untagged tables are not even seen"
    );
    assert!(
        matches!(outcome(&s, "optin-off"), Outcome::Skipped { reason: SkipReason::NotOptedIn, detail } if detail.contains("\"off\""))
    );
    assert_eq!(outcome(&s, "optin-dry"), &Outcome::DryRun);
    let d = &s.table("optin-dry").unwrap().decisions[0].decision;
    assert_eq!(
        (d.action, d.from, d.to),
        (Action::Increase, 10, 12),
        "dry-run reports its decision"
    );
    assert_eq!(
        (s.tables_seen, s.tables_managed, s.tables_changed),
        (2, 1, 0)
    );

    // The global dry-run switch holds back a table tagged `on` as well.
    table(
        &c,
        "optin-on-global-dry",
        Some((10, 10)),
        &[],
        &[(key, "on")],
    )
    .await;
    seed(
        &c,
        "optin-on-global-dry",
        None,
        Dimension::Read,
        t,
        5,
        9.5,
        0.0,
    )
    .await;
    let mut cfg = config(key);
    cfg.dry_run = true;
    let s = run(&c, &cfg, Direction::Up, now()).await.unwrap();
    assert_eq!(outcome(&s, "optin-on-global-dry"), &Outcome::DryRun);
    assert_eq!(capacity(&c, "optin-on-global-dry", None).await, (10, 10));
}

#[tokio::test]
async fn on_demand_table_is_skipped() {
    let c = clients().await;
    let key = "t-ondemand";
    table(&c, "ondemand-events", None, &[], &[(key, "on")]).await;
    let s = run(&c, &config(key), Direction::Up, now()).await.unwrap();
    assert!(
        matches!(
            outcome(&s, "ondemand-events"),
            Outcome::Skipped {
                reason: SkipReason::OnDemand,
                ..
            }
        ),
        "{s:#?}"
    );
    assert!(s.failed.is_empty());
}

#[tokio::test]
async fn malformed_override_tag_is_reported_and_other_tables_still_scale() {
    let c = clients().await;
    let key = "t-malformed";
    let t = now();
    let bad_tag = format!("{key}:read-max");
    table(
        &c,
        "malformed-bad",
        Some((10, 10)),
        &[],
        &[(key, "on"), (bad_tag.as_str(), "lots")],
    )
    .await;
    table(&c, "malformed-good", Some((10, 10)), &[], &[(key, "on")]).await;
    for name in ["malformed-bad", "malformed-good"] {
        seed(&c, name, None, Dimension::Read, t, 5, 9.5, 0.0).await;
    }

    let err = invoke(&c, &config(key), Direction::Up, now(), Deadline::NONE)
        .await
        .unwrap_err();
    let InvokeError::TablesFailed(failed) = err else {
        panic!("expected failed tables, got {err}");
    };
    let s = &failed.summary;
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.failed[0].table, "malformed-bad");
    let error = s.failed[0].error.to_string();
    assert!(
        error.contains(&bad_tag) && error.contains("lots"),
        "the error names the tag and the value: {error}"
    );
    assert!(failed.to_string().contains("malformed-bad"), "{failed}");
    assert_eq!(capacity(&c, "malformed-bad", None).await, (10, 10));

    // The same malformed tag on a table that is switched off is not an error: not ours.
    table(
        &c,
        "malformed-off",
        Some((10, 10)),
        &[],
        &[(key, "off"), (bad_tag.as_str(), "lots")],
    )
    .await;
    let s = run(&c, &config(key), Direction::Up, now()).await.unwrap();
    assert!(
        matches!(
            outcome(&s, "malformed-off"),
            Outcome::Skipped {
                reason: SkipReason::NotOptedIn,
                ..
            }
        ),
        "{s:#?}"
    );
    assert_eq!(capacity(&c, "malformed-good", None).await, (12, 10));
}

#[tokio::test]
async fn table_without_metrics_is_unchanged() {
    let c = clients().await;
    let key = "t-nometrics";
    table(
        &c,
        "nometrics-quiet",
        Some((50, 50)),
        &[("by-day", 20, 20)],
        &[(key, "on")],
    )
    .await;
    for direction in [Direction::Up, Direction::Down] {
        let s = run(&c, &config(key), direction, now()).await.unwrap();
        assert_eq!(outcome(&s, "nometrics-quiet"), &Outcome::Unchanged);
        let report = s.table("nometrics-quiet").unwrap();
        assert_eq!(
            report.decisions.len(),
            4,
            "read and write of the table and its GSI"
        );
        assert!(
            report
                .decisions
                .iter()
                .all(|d| d.decision.reason == Reason::NoData)
        );
    }
    assert_eq!(capacity(&c, "nometrics-quiet", None).await, (50, 50));
    assert_eq!(
        capacity(&c, "nometrics-quiet", Some("by-day")).await,
        (20, 20)
    );
}

#[tokio::test]
async fn throttling_at_modest_consumption_causes_scale_up() {
    let c = clients().await;
    let key = "t-throttle";
    let t = now();
    table(&c, "throttle-carts", Some((10, 10)), &[], &[(key, "on")]).await;
    // 5 units/s consumed (50% of 10, below the 90% trigger) but 240 throttle events a minute.
    seed(
        &c,
        "throttle-carts",
        None,
        Dimension::Read,
        t,
        5,
        5.0,
        240.0,
    )
    .await;
    let s = run(&c, &config(key), Direction::Up, now()).await.unwrap();
    assert_eq!(outcome(&s, "throttle-carts"), &Outcome::Changed);
    let want = policy_up(10, 5, 5.0, 240.0, t);
    assert_eq!(want, 12, "demand (5 + 240/60) / 0.8, rounded up");
    assert_eq!(capacity(&c, "throttle-carts", None).await, (want, 10));
    let d = &s.table("throttle-carts").unwrap().decisions[0].decision;
    assert_eq!(d.reason, Reason::Throttled);
}

#[tokio::test]
async fn a_hot_key_is_told_apart_by_the_second_request_and_buys_nothing() {
    let c = clients().await;
    let key = "t-keyrange";
    let t = now();
    table(&c, "kr-hotkey", Some((100, 100)), &[], &[(key, "on")]).await;
    table(&c, "kr-short", Some((100, 100)), &[], &[(key, "on")]).await;
    // Both: 30 units/s read and 120 read throttle events a minute for 10 minutes; on kr-hotkey
    // every one of them is key-range (a hot partition).
    for name in ["kr-hotkey", "kr-short"] {
        seed(&c, name, None, Dimension::Read, t, 10, 30.0, 120.0).await;
        seed(&c, name, None, Dimension::Write, t, 10, 5.0, 0.0).await;
    }
    let start = t.floor_minute().plus_secs(-600);
    let published =
        usize::try_from(test_support::emulator::published_before(t).secs_since(start) / 60)
            .unwrap();
    let metric = autoscaler_aws::aws::metric_names(Dimension::Read).key_range;
    test_support::put_values(
        &c,
        "kr-hotkey",
        None,
        metric,
        start,
        60,
        &vec![120.0; published],
    )
    .await
    .unwrap();

    let s = run(&c, &config(key), Direction::Up, t).await.unwrap();

    let read = |name: &str| s.table(name).unwrap().decisions[0].decision.clone();
    let hot_key = read("kr-hotkey");
    assert_eq!(
        (hot_key.action, hot_key.reason),
        (Action::Keep, Reason::KeyRangeThrottling),
        "{hot_key:#?}"
    );
    assert!(hot_key.numbers.key_range_events > 0.0);
    assert_eq!(capacity(&c, "kr-hotkey", None).await, (100, 100));
    let short = read("kr-short");
    assert_eq!(
        (short.action, short.reason),
        (Action::Increase, Reason::Throttled),
        "the same events without a key-range cause are lack of capacity"
    );
    // Both tables' two series: consumed and throttle events, and the two history metrics of
    // each; then the key-range events of the two throttled read series.
    assert_eq!(
        s.calls.metrics_requested,
        4 * 2 + 4 * 2 + 2,
        "{:#?}",
        s.calls
    );
    assert_eq!(s.series_read, 4);
}

#[tokio::test]
async fn a_warm_container_lets_quiet_series_rest() {
    use autoscaler_aws::{Deadline, Warm, run_with};
    let c = clients().await;
    let key = "t-warm";
    let t = now();
    table(&c, "warm-quiet", Some((100, 100)), &[], &[(key, "on")]).await;
    // MaxPollMinutes=10 (shipped; 1 reads consumed every minute), where quiet series rest once
    // calm for the cadence's wait: the traffic began before the cold start reads back.
    let mut config = config(key);
    config.cadence.max_interval_minutes = 10;
    let calm = (config.cadence.calm_minutes + config.cadence.doubling_minutes + 30) as usize;
    seed(&c, "warm-quiet", None, Dimension::Read, t, calm, 5.0, 0.0).await;
    seed(&c, "warm-quiet", None, Dimension::Write, t, calm, 5.0, 0.0).await;
    let mut warm = Warm::new(config.cadence);

    let cold = run_with(&c, &config, Direction::Up, t, Deadline::NONE, &mut warm)
        .await
        .unwrap();
    assert_eq!((cold.series_read, cold.series_resting), (2, 0));
    assert!(cold.calls.metrics_requested > 0);
    let polled = |table: &str| {
        warm.polled(&autoscaler_aws::aws::SeriesKey {
            table: table.into(),
            index: None,
            dimension: Dimension::Read,
        })
        .map(|p| (p.interval_minutes(), p.why))
    };
    assert_eq!(
        polled("warm-quiet"),
        Some((
            i64::from(config.cadence.max_interval_minutes),
            scaling_policy::cadence::Why::MaxInterval
        )),
        "5% of capacity, calm for hours: the longest interval"
    );
    // A minute later nothing is due: no GetMetricData at all, no decision.
    let next = run_with(
        &c,
        &config,
        Direction::Up,
        t.plus_secs(60),
        Deadline::NONE,
        &mut warm,
    )
    .await
    .unwrap();
    assert_eq!((next.series_read, next.series_resting), (0, 2));
    assert_eq!(next.calls.get_metric_data_calls, 0, "{:#?}", next.calls);
    assert!(
        next.calls.api_calls > 0,
        "discovery and DescribeTable still run"
    );
    // Counted by operation, as named in the SDK.
    assert_eq!(next.calls.by_operation.get("DescribeTable"), Some(&1));
    assert_eq!(next.calls.by_operation.get("GetMetricData"), None);
    assert_eq!(
        cold.calls.by_operation.get("GetMetricData").copied(),
        Some(cold.calls.get_metric_data_calls)
    );
    assert_eq!(outcome(&next, "warm-quiet"), &Outcome::Unchanged);
    assert!(next.table("warm-quiet").unwrap().decisions.is_empty());
    // A cold start reads everything again.
    let again = run(&c, &config, Direction::Up, t.plus_secs(60))
        .await
        .unwrap();
    assert_eq!(again.series_read, 2);
}

#[tokio::test]
async fn traffic_arriving_on_a_silent_table_is_read_every_minute() {
    use autoscaler_aws::{Deadline, Warm, run_with};
    let c = clients().await;
    let key = "t-arrived";
    let t = now();
    table(&c, "arrived", Some((100, 100)), &[], &[(key, "on")]).await;
    // The warm table's quiet traffic, but only for the last half hour: a jump from nothing.
    seed(&c, "arrived", None, Dimension::Read, t, 30, 5.0, 0.0).await;
    seed(&c, "arrived", None, Dimension::Write, t, 30, 5.0, 0.0).await;
    let mut config = config(key);
    config.cadence.max_interval_minutes = 10;
    let mut warm = Warm::new(config.cadence);
    for minute in 0..2 {
        let s = run_with(
            &c,
            &config,
            Direction::Up,
            t.plus_secs(60 * minute),
            Deadline::NONE,
            &mut warm,
        )
        .await
        .unwrap();
        assert_eq!((s.series_read, s.series_resting), (2, 0), "minute {minute}");
        let polled = warm.polled(&autoscaler_aws::aws::SeriesKey {
            table: "arrived".into(),
            index: None,
            dimension: Dimension::Read,
        });
        assert_eq!(
            polled.map(|p| (p.interval_minutes(), p.why)),
            Some((1, scaling_policy::cadence::Why::RecentJump)),
            "minute {minute}"
        );
    }
}
