//! The operator commands (`status`, `plan`, `backtest`) end to end: the built binary against the
//! local emulator (moto server), tables and per-minute metrics seeded as CloudWatch publishes
//! them (`test-support`: the newest minutes are not there yet). Each test has its own opt-in tag
//! key and table names.
#![allow(clippy::unwrap_used)]

mod common;

use autoscaler_aws::Direction;
use common::{
    bare, capacity, cli, clients, config, json, published_before, run, seed, table, timestamp,
};
use scaling_policy::Dimension::{Read, Write};
use scaling_policy::Timestamp;
use serde_json::Value;

const DAY: i64 = 86_400;

fn close(a: &Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() < 1e-6 * b.abs().max(1.0))
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// 6, 7, 8, 9 units/s in turn, by the minute's absolute number.
fn cycling_rate(t: Timestamp) -> f64 {
    6.0 + (t.unix() / 60).rem_euclid(4) as f64
}

fn target<'a>(report: &'a Value, table: &str, index: Option<&str>) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table && t["index"].as_str() == index)
        .unwrap_or_else(|| panic!("no target {table} {index:?} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn status_lists_exactly_the_opted_in_tables_and_gsis_with_their_figures() {
    let c = clients().await;
    let k = "cli-test-status";
    table(
        &c,
        "st-hot",
        Some((10, 10)),
        &[("by-customer", 5, 5)],
        &[(k, "on")],
    )
    .await;
    table(&c, "st-dry", Some((100, 50)), &[], &[(k, "dry-run")]).await;
    table(&c, "st-off", Some((10, 10)), &[], &[(k, "off")]).await;
    table(&c, "st-untagged", Some((10, 10)), &[], &[]).await;
    table(&c, "st-ondemand", None, &[], &[(k, "on")]).await;
    let now = autoscaler_aws::now();
    let seeded = 40;
    let start = now.floor_minute().plus_secs(-60 * seeded);
    // The newest minute CloudWatch has published.
    let throttled_minute = published_before(now).plus_secs(-60);
    // 6, 7, 8, 9 units/s in turn, then 9 over the last 5 minutes (the scale-up window), of
    // which CloudWatch has published the first 3.
    let hot_read = |t: Timestamp| {
        if t >= now.floor_minute().plus_secs(-300) {
            9.0
        } else {
            cycling_rate(t)
        }
    };
    seed(&c, "st-hot", None, Read, start, 40, |t| (hot_read(t), 0.0)).await;
    seed(&c, "st-hot", None, Write, start, 40, |t| {
        (5.0, if t == throttled_minute { 120.0 } else { 0.0 })
    })
    .await;
    seed(&c, "st-hot", Some("by-customer"), Read, start, 40, |_| {
        (2.0, 0.0)
    })
    .await;
    seed(&c, "st-hot", Some("by-customer"), Write, start, 40, |_| {
        (1.0, 0.0)
    })
    .await;
    seed(&c, "st-dry", None, Read, start, 40, |_| (3.0, 0.0)).await;
    seed(&c, "st-dry", None, Write, start, 40, |_| (1.0, 0.0)).await;
    seed(&c, "st-off", None, Read, start, 40, |_| (9.0, 0.0)).await;
    seed(&c, "st-untagged", None, Read, start, 40, |_| (9.0, 0.0)).await;

    let report = json(cli(k).args(["status", "--json"]));
    assert_eq!(report["tag_key"], k);
    assert_eq!(report["window_minutes"], 15);
    let ids: Vec<(String, Option<String>)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["table"].as_str().unwrap().to_owned(),
                t["index"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("st-dry".to_owned(), None),
            ("st-hot".to_owned(), None),
            ("st-hot".to_owned(), Some("by-customer".to_owned())),
        ],
        "exactly the opted-in, provisioned tables and their GSIs"
    );

    // The figures are over the 15 complete minutes before the command's `now`, of which
    // CloudWatch has published all but the newest.
    let at = timestamp(&report["at"]);
    let window: Vec<Timestamp> = (1..=15)
        .map(|i| at.floor_minute().plus_secs(-60 * i))
        .filter(|t| *t >= start && *t < published_before(now))
        .collect();
    let known = window.len() as u64;
    assert!(known >= 11, "the test ran too slowly: {known} minutes left");
    let rates: Vec<f64> = window.iter().map(|t| hot_read(*t)).collect();
    let peak = rates.iter().fold(0.0_f64, |a, b| a.max(*b));
    let avg = rates.iter().sum::<f64>() / rates.len() as f64;

    let hot = target(&report, "st-hot", None);
    assert_eq!(hot["mode"], "on");
    assert_eq!(hot["decreases_today"], 0);
    assert_eq!(hot["decrease_allowed_now"], true);
    let r = &hot["read"];
    assert_eq!(r["provisioned"], 10);
    assert_eq!(r["known_minutes"], known);
    assert!(close(&r["consumed_peak"], peak), "{r:#}");
    assert!(close(&r["consumed_avg"], avg), "{r:#}");
    assert!(close(&r["utilisation_peak"], peak / 10.0), "{r:#}");
    assert!(close(&r["utilisation_avg"], avg / 10.0), "{r:#}");
    assert!(close(&r["throttle_events"], 0.0));
    // 9 units/s on 10 is 90%, above the 80% trigger: ceil(9 / 0.7) = 13.
    assert_eq!(r["scale_up"]["action"], "increase");
    assert_eq!(r["scale_up"]["to"], 13);
    assert_eq!(r["scale_up"]["reason"], "above_trigger");
    assert_eq!(r["scale_down"]["action"], "keep");
    assert_eq!(r["scale_down"]["reason"], "no_saving");
    let w = &hot["write"];
    assert!(close(&w["consumed_peak"], 5.0) && close(&w["consumed_avg"], 5.0));
    assert!(close(&w["throttle_events"], 120.0), "{w:#}");
    // 5 consumed + 120/60 throttled = 7 units/s -> ceil(7 / 0.7) = 10, at least 11.
    assert_eq!(w["scale_up"]["action"], "increase");
    assert_eq!(w["scale_up"]["to"], 11);
    assert_eq!(w["scale_up"]["reason"], "throttled");

    let gsi = target(&report, "st-hot", Some("by-customer"));
    assert_eq!(gsi["mode"], "on");
    assert_eq!(gsi["read"]["provisioned"], 5);
    assert!(close(&gsi["read"]["consumed_peak"], 2.0));
    assert!(close(&gsi["read"]["utilisation_avg"], 0.4));
    assert_eq!(gsi["read"]["scale_up"]["reason"], "below_trigger");
    assert_eq!(gsi["read"]["scale_down"]["action"], "decrease");
    assert_eq!(gsi["read"]["scale_down"]["to"], 3);
    assert_eq!(gsi["read"]["scale_down"]["reason"], "overprovisioned");
    assert_eq!(gsi["write"]["scale_down"]["to"], 2);

    let dry = target(&report, "st-dry", None);
    assert_eq!(dry["mode"], "dry-run");
    assert_eq!(dry["read"]["provisioned"], 100);
    assert_eq!(dry["write"]["provisioned"], 50);
    assert!(close(&dry["read"]["consumed_avg"], 3.0));
    assert!(close(&dry["read"]["utilisation_peak"], 0.03));
    assert_eq!(dry["read"]["scale_up"]["action"], "keep");
    assert_eq!(dry["read"]["scale_down"]["to"], 5);
    assert_eq!(dry["write"]["scale_down"]["to"], 2);

    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["table"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(
        skipped,
        [("st-off", "not_opted_in"), ("st-ondemand", "on_demand")]
    );
    assert_eq!(report["failed"], serde_json::json!([]));

    // Nothing was changed.
    assert_eq!(capacity(&c, "st-hot", None).await, (10, 10));
    assert_eq!(capacity(&c, "st-dry", None).await, (100, 50));

    // The terminal table says the same.
    let out = run(cli(k).arg("status"), true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("increase to 13 (above_trigger)"), "{text}");
    assert!(
        text.contains("by-customer") && text.contains("dry-run"),
        "{text}"
    );
    assert!(!text.contains("st-untagged"), "{text}");
    assert!(text.contains("skipped st-off: not_opted_in"), "{text}");

    // One table.
    let one = json(cli(k).args(["status", "--table", "st-hot", "--json"]));
    assert_eq!(one["targets"].as_array().unwrap().len(), 2);
    assert_eq!(one["skipped"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_says_which_tables_and_gsis_application_auto_scaling_manages() {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    let c = clients().await;
    let k = "cli-test-aas";
    table(&c, "aas-whole", Some((10, 10)), &[], &[(k, "on")]).await;
    table(
        &c,
        "aas-gsi",
        Some((10, 10)),
        &[("by-day", 5, 5)],
        &[(k, "on")],
    )
    .await;
    for (id, dimension) in [
        (
            "table/aas-whole",
            ScalableDimension::DynamoDbTableWriteCapacityUnits,
        ),
        (
            "table/aas-gsi/index/by-day",
            ScalableDimension::DynamoDbIndexReadCapacityUnits,
        ),
    ] {
        c.autoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Dynamodb)
            .resource_id(id)
            .scalable_dimension(dimension)
            .min_capacity(1)
            .max_capacity(100)
            .send()
            .await
            .unwrap();
    }
    let report = json(cli(k).args(["status", "--json"]));
    let skipped: Vec<(&str, Option<&str>, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["table"].as_str().unwrap(),
                s["index"].as_str(),
                s["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("aas-gsi", Some("by-day"), "application_auto_scaling"),
            ("aas-whole", None, "application_auto_scaling"),
        ],
        "{report:#}"
    );
    // The table whose GSI alone AAS manages is still shown, without that GSI.
    let targets: Vec<(&str, Option<&str>)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["table"].as_str().unwrap(), t["index"].as_str()))
        .collect();
    assert_eq!(targets, [("aas-gsi", None)]);
    let text = String::from_utf8_lossy(&run(cli(k).arg("status"), true).stdout).into_owned();
    assert!(
        text.contains("skipped aas-gsi index by-day: application_auto_scaling"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_up_prints_what_the_scale_up_function_then_does() {
    let c = clients().await;
    let k = "cli-test-plan";
    table(
        &c,
        "pl-hot",
        Some((10, 10)),
        &[("by-customer", 5, 5)],
        &[(k, "on")],
    )
    .await;
    table(&c, "pl-dry", Some((10, 10)), &[], &[(k, "dry-run")]).await;
    table(&c, "pl-idle", Some((100, 100)), &[], &[(k, "on")]).await;
    let now = autoscaler_aws::now();
    let start = now.floor_minute().plus_secs(-600);
    for (t, index, r, w) in [
        ("pl-hot", None, 9.0, 7.5),
        ("pl-hot", Some("by-customer"), 4.5, 3.8),
        ("pl-dry", None, 9.0, 1.0),
        ("pl-idle", None, 3.0, 3.0),
    ] {
        seed(&c, t, index, Read, start, 10, |_| (r, 0.0)).await;
        seed(&c, t, index, Write, start, 10, |_| (w, 0.0)).await;
    }

    let plan = json(cli(k).args(["plan", "--direction", "up", "--json"]));
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["runs"][0]["direction"], "up");
    assert_eq!(plan["runs"][0]["tables_managed"], 3);
    let decisions = plan["decisions"].as_array().unwrap();
    assert_eq!(
        decisions.len(),
        2 * 4,
        "read and write of 3 tables and 1 GSI"
    );
    assert!(decisions.iter().all(|d| d["direction"] == "up"));
    let find = |t: &str, i: Option<&str>, dim: &str| {
        decisions
            .iter()
            .find(|d| d["table"] == t && d["index"].as_str() == i && d["dimension"] == dim)
            .unwrap()
    };
    let hot = find("pl-hot", None, "read");
    assert_eq!(
        (hot["from"].as_u64(), hot["to"].as_u64()),
        (Some(10), Some(13))
    );
    assert_eq!(hot["reason"], "above_trigger");
    assert_eq!(hot["would_apply"], true);
    assert!(close(&hot["numbers"]["peak_demand"], 9.0), "{hot:#}");
    assert_eq!(find("pl-hot", Some("by-customer"), "read")["to"], 7);
    assert_eq!(
        find("pl-hot", Some("by-customer"), "write")["action"],
        "keep"
    );
    let dry = find("pl-dry", None, "read");
    assert_eq!(
        (dry["to"].as_u64(), dry["would_apply"].as_bool()),
        (Some(13), Some(false))
    );
    assert_eq!(find("pl-idle", None, "read")["reason"], "below_trigger");

    // The plan changed nothing.
    assert_eq!(capacity(&c, "pl-hot", None).await, (10, 10));
    assert_eq!(capacity(&c, "pl-hot", Some("by-customer")).await, (5, 5));

    // The scale-up function's run does what the plan said.
    let summary = autoscaler_aws::run(&c, &config(k), Direction::Up, autoscaler_aws::now())
        .await
        .unwrap();
    assert_eq!(summary.tables_changed, 1);
    for d in decisions {
        let t = d["table"].as_str().unwrap();
        let index = d["index"].as_str();
        let (r, w) = capacity(&c, t, index).await;
        let now_cap = if d["dimension"] == "read" { r } else { w };
        let expected = if d["would_apply"] == true {
            d["to"].as_u64()
        } else {
            d["from"].as_u64()
        };
        assert_eq!(Some(now_cap), expected, "{t} {index:?}: {d:#}");
        let done = summary
            .table(t)
            .unwrap()
            .decisions
            .iter()
            .find(|x| {
                x.index.as_deref() == index && x.decision.dimension.as_str() == d["dimension"]
            })
            .unwrap();
        assert_eq!(Some(done.decision.to), d["to"].as_u64(), "{t} {index:?}");
        assert_eq!(done.decision.reason.as_str(), d["reason"]);
    }
    assert_eq!(
        capacity(&c, "pl-hot", None).await,
        (13, 10),
        "writes at 75% stay"
    );
    assert_eq!(capacity(&c, "pl-dry", None).await, (10, 10));

    // The terminal form, both directions.
    let out = run(cli(k).arg("plan"), true);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dry run, nothing is changed"), "{text}");
    assert!(
        text.contains("pl-idle") && text.contains("scale-down:"),
        "{text}"
    );
}

/// 15 units/s from 08:00 to 18:00 UTC, 3 units/s otherwise.
fn business_hours(t: Timestamp) -> f64 {
    let hour = t.unix().rem_euclid(DAY) / 3600;
    if (8..18).contains(&hour) { 15.0 } else { 3.0 }
}

/// 30 throttle events in one minute of every 97.
fn throttles(t: Timestamp) -> f64 {
    if (t.unix() / 60).rem_euclid(97) == 0 {
        30.0
    } else {
        0.0
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backtest_compares_ours_tracking_and_on_demand_with_the_actual_history() {
    let c = clients().await;
    let k = "cli-test-backtest";
    table(&c, "bt-orders", Some((20, 10)), &[], &[(k, "on")]).await;
    table(&c, "bt-prov", Some((30, 10)), &[], &[(k, "on")]).await;
    let now = autoscaler_aws::now();
    let minutes = 2 * 1440;
    let start = now.floor_minute().plus_secs(-60 * minutes as i64);
    let seeded_end = published_before(start.plus_secs(60 * minutes as i64));
    let write_rate = |t: Timestamp| {
        if t.unix().rem_euclid(DAY) / 3600 == 12 {
            8.0
        } else {
            2.0
        }
    };
    seed(&c, "bt-orders", None, Read, start, minutes, |t| {
        (business_hours(t), throttles(t))
    })
    .await;
    seed(&c, "bt-orders", None, Write, start, minutes, |t| {
        (write_rate(t), 0.0)
    })
    .await;
    seed(&c, "bt-prov", None, Read, start, minutes, |t| {
        (business_hours(t), 0.0)
    })
    .await;
    // bt-prov's provisioned read capacity, every 5 minutes: 20 the first day, then 30.
    let provisioned: Vec<f64> = (0..minutes / 5)
        .map(|i| if i < 288 { 20.0 } else { 30.0 })
        .collect();
    test_support::put_values(
        &c,
        "bt-prov",
        None,
        "ProvisionedReadCapacityUnits",
        start,
        300,
        &provisioned,
    )
    .await
    .unwrap();

    let dir = std::env::temp_dir().join(format!("ddb-autoscaler-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("bt-orders.png");
    let report = json(
        cli(k)
            .args(["backtest", "--table", "bt-orders", "--days", "2", "--json"])
            .args(["--max-datapoints-per-call", "6000", "--plot"])
            .arg(&png),
    );
    assert_eq!(report["table"], "bt-orders");
    assert_eq!(report["index"], Value::Null);
    assert_eq!(report["mode"], "on");
    assert_eq!(report["minutes"], minutes);
    // 6 queries x 1,000 minutes a call.
    assert_eq!(report["fetch"]["calls"], 3);
    assert_eq!(report["fetch"]["periods"], serde_json::json!([60]));
    let t0 = timestamp(&report["start"]);
    let t1 = timestamp(&report["end"]);
    assert_eq!(t1.secs_since(t0), 60 * minutes as i64);
    let in_range: Vec<Timestamp> = (0..minutes as i64)
        .map(|m| t0.plus_secs(60 * m))
        .filter(|t| *t >= start && *t < seeded_end)
        .collect();
    let expected_throttles: f64 = in_range.iter().map(|t| throttles(*t)).sum();
    let expected_units: f64 = in_range
        .iter()
        .map(|t| 60.0 * business_hours(*t) + throttles(*t))
        .sum();

    let dims = report["dimensions"].as_array().unwrap();
    assert_eq!(dims.len(), 2);
    let read = &dims[0];
    assert_eq!(read["dimension"], "read");
    assert_eq!(read["billing"], "provisioned");
    assert_eq!(read["actual_source"], "current_capacity");
    assert_eq!(read["demand"]["known_minutes"], in_range.len());
    assert!(close(&read["demand"]["total_units"], expected_units));
    assert!(close(&read["demand"]["peak"], 15.0 + 0.5));
    let rows = read["rows"].as_array().unwrap();
    let policies: Vec<&str> = rows.iter().map(|r| r["policy"].as_str().unwrap()).collect();
    assert_eq!(
        policies,
        [
            "actual",
            "ours",
            "aws-target-tracking",
            "on-demand",
            "clairvoyant"
        ]
    );
    let row = |p: &str| rows.iter().find(|r| r["policy"] == p).unwrap();
    // No provisioned metric in the emulator: the current 20 RCU held for 2,880 minutes.
    let actual = row("actual");
    assert!(close(&actual["cost_unit_hours"], 20.0 * 48.0), "{actual:#}");
    assert!(close(&actual["cost_usd"], 20.0 * 48.0 * 0.000_13));
    assert!(close(&actual["cost_vs_actual"], 1.0));
    assert!(
        close(&actual["throttled_units"], expected_throttles),
        "{actual:#}"
    );
    assert!(close(
        &actual["throttled_pct"],
        100.0 * expected_throttles / expected_units
    ));
    assert_eq!(actual["increases"], Value::Null);
    let ours = row("ours");
    let cost = |p: &str| row(p)["cost_usd"].as_f64().unwrap();
    assert!(
        cost("ours") > 0.0 && cost("ours") < cost("actual"),
        "ours scales down at night: {ours:#}"
    );
    assert!(ours["decreases"].as_u64().unwrap() >= 1, "{ours:#}");
    assert!(cost("clairvoyant") <= cost("ours") + 1e-9);
    assert!(cost("aws-target-tracking") > 0.0);
    // On-demand bills the served request units: at most all the demand at $0.125 a million.
    let on_demand = cost("on-demand");
    assert!(on_demand > 0.0 && on_demand <= expected_units * 0.125 / 1e6 + 1e-9);
    for r in rows {
        let pct = r["throttled_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&pct), "{r:#}");
    }
    let write = &dims[1];
    assert_eq!(write["dimension"], "write");
    assert!(close(&write["rows"][0]["cost_unit_hours"], 10.0 * 48.0));
    assert!(close(&write["rows"][0]["cost_usd"], 10.0 * 48.0 * 0.000_65));
    let totals = report["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 5);
    assert!(close(
        &totals[0]["cost_usd"],
        20.0 * 48.0 * 0.000_13 + 10.0 * 48.0 * 0.000_65
    ));
    let notes = report["notes"].to_string();
    assert!(notes.contains("ProvisionedReadCapacityUnits"), "{notes}");
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(bytes.len() > 10_000, "with content");

    // With the provisioned history in CloudWatch, `actual` is its cost.
    let report = json(cli(k).args([
        "backtest",
        "--table",
        "bt-prov",
        "--days",
        "2",
        "--dimension",
        "read",
        "--json",
    ]));
    assert_eq!(report["fetch"]["calls"], 1);
    let read = &report["dimensions"][0];
    assert_eq!(read["actual_source"], "cloudwatch");
    assert_eq!(read["current_provisioned"], 30);
    let t0 = timestamp(&report["start"]);
    let switch = start.plus_secs(DAY);
    let expected: f64 = (0..minutes as i64)
        .map(|m| {
            if t0.plus_secs(60 * m) < switch {
                20.0
            } else {
                30.0
            }
        })
        .sum::<f64>()
        / 60.0;
    let actual = &read["rows"][0];
    assert!(
        close(&actual["cost_unit_hours"], expected),
        "{actual:#} vs {expected}"
    );
    assert_eq!(actual["increases"], 1);
    assert_eq!(actual["decreases"], 0);
    assert!(
        !report["notes"]
            .to_string()
            .contains("ProvisionedReadCapacityUnits")
    );

    // The terminal form.
    let out = run(
        cli(k).args([
            "backtest",
            "--table",
            "bt-orders",
            "--days",
            "2",
            "--dimension",
            "write",
        ]),
        true,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("backtest of bt-orders") && text.contains("aws-target-tracking"),
        "{text}"
    );
    assert!(
        text.contains("note: write: CloudWatch has no ProvisionedWriteCapacityUnits"),
        "{text}"
    );
    assert!(
        stderr(&out).is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_and_not_opted_in_tables_are_errors_that_name_them() {
    let c = clients().await;
    let k = "cli-test-errors";
    table(&c, "err-off", Some((10, 10)), &[], &[(k, "off")]).await;
    table(&c, "err-untagged", Some((10, 10)), &[("by-day", 5, 5)], &[]).await;

    for args in [
        vec!["backtest", "--table", "err-nope"],
        vec!["status", "--table", "err-nope"],
    ] {
        let out = run(cli(k).args(&args), false);
        let err = stderr(&out);
        assert!(
            err.contains("\"err-nope\" not found in region us-east-1"),
            "{args:?}: {err}"
        );
    }
    for args in [
        vec!["backtest", "--table", "err-off"],
        vec!["status", "--table", "err-off"],
    ] {
        let out = run(cli(k).args(&args), false);
        let err = stderr(&out);
        assert!(
            err.contains("\"err-off\" has not opted in")
                && err.contains(k)
                && err.contains("\"off\""),
            "{args:?}: {err}"
        );
    }
    for args in [
        vec!["backtest", "--table", "err-untagged"],
        vec!["status", "--table", "err-untagged"],
    ] {
        let out = run(cli(k).args(&args), false);
        let err = stderr(&out);
        assert!(
            err.contains("\"err-untagged\" has not opted in")
                && err.contains(&format!("no tag \"{k}\"")),
            "{args:?}: {err}"
        );
    }
    let out = run(
        cli(k).args([
            "backtest",
            "--table",
            "err-untagged",
            "--index",
            "by-month",
            "--ignore-opt-in",
        ]),
        false,
    );
    assert!(
        stderr(&out).contains("has no GSI \"by-month\" (its GSIs: by-day)"),
        "{}",
        stderr(&out)
    );

    // --ignore-opt-in backtests it with the defaults.
    let now = autoscaler_aws::now();
    let start = now.floor_minute().plus_secs(-120 * 60);
    seed(&c, "err-untagged", Some("by-day"), Read, start, 120, |_| {
        (2.0, 0.0)
    })
    .await;
    let report = json(cli(k).args([
        "backtest",
        "--table",
        "err-untagged",
        "--index",
        "by-day",
        "--ignore-opt-in",
        "--days",
        "1",
        "--dimension",
        "read",
        "--json",
    ]));
    assert_eq!(report["mode"], Value::Null);
    assert_eq!(report["index"], "by-day");
    assert_eq!(report["dimensions"][0]["current_provisioned"], 5);

    // A table without any datapoint has nothing to replay.
    let out = run(
        cli(k).args([
            "backtest",
            "--table",
            "err-off",
            "--ignore-opt-in",
            "--days",
            "1",
        ]),
        false,
    );
    assert!(
        stderr(&out).contains("no consumed-capacity or throttle datapoint for err-off"),
        "{}",
        stderr(&out)
    );

    // No credentials, no region.
    let out = run(
        bare()
            .env("AWS_ENDPOINT_URL", common::endpoint())
            .env("AWS_REGION", "us-east-1")
            .arg("status"),
        false,
    );
    let err = stderr(&out);
    assert!(
        err.contains("no AWS credentials found") && err.contains("AWS_ACCESS_KEY_ID"),
        "{err}"
    );
    let out = run(
        bare()
            .env("AWS_ENDPOINT_URL", common::endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .args(["plan", "--direction", "up"]),
        false,
    );
    assert!(
        stderr(&out).contains("no AWS region configured"),
        "{}",
        stderr(&out)
    );
}
