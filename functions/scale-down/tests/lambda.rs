//! End-to-end test of the scale-down Lambda binary: the real `ddb-autoscaler-scale-down`
//! process, started as Lambda starts it, polls a fake Lambda Runtime API for the sample
//! EventBridge event of `events/` and lowers an idle table in the local emulator (moto).
#![allow(clippy::unwrap_used)] // tests: a panic with the value is the failure report

use scaling_policy::Dimension;
use test_support::emulator::{capacity, clients, lease_table, seed_recent, table};
use test_support::lambda::{FakeRuntimeApi, Function, PostKind, SCHEDULED_EVENT, unique};

const BIN: &str = env!("CARGO_BIN_EXE_ddb-autoscaler-scale-down");

#[tokio::test]
async fn idle_table_is_lowered_to_policy_value_and_response_says_down() {
    let c = clients().await;
    lease_table(&c).await;
    let key = unique("fn-down-idle");
    let idle = unique("fn-down-idle-audit");
    table(&c, &idle, Some((100, 100)), &[], &[(key.as_str(), "on")]).await;
    let now = autoscaler_aws::now();
    for dimension in Dimension::BOTH {
        seed_recent(&c, &idle, None, dimension, now, 30, 1.0, 0.0).await;
    }

    let api = FakeRuntimeApi::start();
    let id = api.push(SCHEDULED_EVENT);
    let mut f = Function::start(BIN, &api, &key, &[]);
    let post = api.wait_for(&id, &mut f).await;

    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    let summary = post.json();
    assert_eq!(summary["direction"], "down", "{summary:#}");
    assert_eq!(summary["tables_changed"], 1, "{summary:#}");
    assert_eq!(summary["failed"], serde_json::json!([]));
    let report = summary["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["table"] == idle.as_str()))
        .unwrap_or_else(|| panic!("{idle} missing from the summary: {summary:#}"));
    assert_eq!(report["outcome"], "changed", "{report:#}");
    // Peak demand 1 unit/s at the default 80% target: ceil(1 / 0.8) = 2, for both dimensions.
    let decisions: Vec<_> = report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["dimension"].as_str().unwrap_or_default().to_owned(),
                d["from"].as_u64(),
                d["to"].as_u64(),
                d["action"].as_str().unwrap_or_default().to_owned(),
                d["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let lowered = |dim: &str| {
        (
            dim.to_owned(),
            Some(100),
            Some(2),
            "decrease".to_owned(),
            "overprovisioned".to_owned(),
        )
    };
    assert_eq!(
        decisions,
        vec![lowered("read"), lowered("write")],
        "{report:#}"
    );
    assert_eq!(capacity(&c, &idle, None).await, (2, 2));
    assert!(api.unexpected().is_empty(), "{:?}", api.unexpected());
}
