//! Boosts through the pipeline against the local emulator (moto server): a boost kept as a tag
//! raises the table from five minutes before its `from` (not earlier), scale-down does not
//! lower below it, and an expired one is ignored and its tag removed by the scale-up run. The
//! runs are given a `now` of their own, as the scheduled functions would meet it.

mod common;

use autoscaler_aws::run::Outcome;
use autoscaler_aws::{Clients, Direction, run};
use common::{capacity, clients, config, now, seed, table};
use scaling_policy::boost::{LEAD_SECS, tag_key};
use scaling_policy::{Boost, Dimension, Reason, Timestamp};

fn write_boost(id: &str, units: u64, from: Timestamp, until: Timestamp) -> Boost {
    Boost {
        id: id.to_owned(),
        index: None,
        read: None,
        write: Some(units),
        from,
        until,
        note: "launch".to_owned(),
    }
}

async fn tag_keys(c: &Clients, name: &str) -> Vec<String> {
    let arn = autoscaler_aws::aws::describe(c, name)
        .await
        .expect("describe")
        .arn;
    let mut keys: Vec<String> = autoscaler_aws::tags::list(c, name, &arn)
        .await
        .expect("list tags")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys
}

fn write_reason(s: &autoscaler_aws::RunSummary, name: &str) -> Reason {
    s.table(name)
        .unwrap_or_else(|| panic!("{name} missing: {s:#?}"))
        .decisions
        .iter()
        .find(|d| d.index.is_none() && d.decision.dimension == Dimension::Write)
        .map(|d| d.decision.reason)
        .unwrap_or_else(|| panic!("no write decision: {s:#?}"))
}

#[tokio::test]
async fn a_boost_raises_the_table_five_minutes_before_from_and_not_earlier() {
    let c = clients().await;
    let key = "b-future";
    let t = now();
    let b = write_boost("k1", 50, t.plus_secs(3600), t.plus_secs(3 * 3600));
    table(
        &c,
        "boost-launch",
        Some((10, 10)),
        &[],
        &[(key, "on"), (&tag_key(key, "k1"), &b.tag_value())],
    )
    .await;
    seed(&c, "boost-launch", None, Dimension::Write, t, 30, 2.0, 0.0).await;

    let early = b.active_from().plus_secs(-1);
    let s = run(&c, &config(key), Direction::Up, early).await.unwrap();
    assert_eq!(s.table("boost-launch").unwrap().outcome, Outcome::Unchanged);
    assert_eq!(
        capacity(&c, "boost-launch", None).await,
        (10, 10),
        "not before from - 5 min"
    );

    let ready = b.from.plus_secs(-LEAD_SECS);
    let s = run(&c, &config(key), Direction::Up, ready).await.unwrap();
    assert_eq!(s.table("boost-launch").unwrap().outcome, Outcome::Changed);
    assert_eq!(write_reason(&s, "boost-launch"), Reason::Boost);
    assert_eq!(
        capacity(&c, "boost-launch", None).await,
        (10, 50),
        "raised by from - 5 min"
    );

    let s = run(&c, &config(key), Direction::Down, b.from.plus_secs(600))
        .await
        .unwrap();
    assert_eq!(capacity(&c, "boost-launch", None).await.1, 50, "{s:#?}");
    assert!(
        tag_keys(&c, "boost-launch")
            .await
            .contains(&tag_key(key, "k1")),
        "a live boost keeps its tag"
    );
}

#[tokio::test]
async fn an_expired_boost_is_ignored_and_its_tag_removed() {
    let c = clients().await;
    let key = "b-expired";
    let t = now();
    let over = write_boost("old1", 50, t.plus_secs(-7200), t.plus_secs(-60));
    let live = write_boost("new1", 20, t.plus_secs(7200), t.plus_secs(9000));
    table(
        &c,
        "boost-over",
        Some((10, 10)),
        &[],
        &[
            (key, "on"),
            ("team", "payments"),
            (&tag_key(key, "old1"), &over.tag_value()),
            (&tag_key(key, "new1"), &live.tag_value()),
        ],
    )
    .await;
    seed(&c, "boost-over", None, Dimension::Write, t, 30, 2.0, 0.0).await;

    let s = run(&c, &config(key), Direction::Up, t).await.unwrap();
    assert_eq!(
        s.table("boost-over").unwrap().outcome,
        Outcome::Unchanged,
        "{s:#?}"
    );
    assert_eq!(write_reason(&s, "boost-over"), Reason::BelowTrigger);
    assert_eq!(capacity(&c, "boost-over", None).await, (10, 10));
    assert_eq!(
        tag_keys(&c, "boost-over").await,
        [key.to_owned(), tag_key(key, "new1"), "team".to_owned()],
        "the expired boost's tag is removed, nothing else"
    );
}

#[tokio::test]
async fn a_dry_run_deployment_leaves_expired_boost_tags() {
    let c = clients().await;
    let key = "b-dry";
    let t = now();
    let over = write_boost("old1", 50, t.plus_secs(-7200), t.plus_secs(-60));
    table(
        &c,
        "boost-dry",
        Some((10, 10)),
        &[],
        &[(key, "on"), (&tag_key(key, "old1"), &over.tag_value())],
    )
    .await;
    let mut cfg = config(key);
    cfg.dry_run = true;
    run(&c, &cfg, Direction::Up, t).await.unwrap();
    assert!(
        tag_keys(&c, "boost-dry")
            .await
            .contains(&tag_key(key, "old1"))
    );
}
