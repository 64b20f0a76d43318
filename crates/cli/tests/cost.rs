//! The scaler's bill measured for real: the scale-up pipeline runs every simulated minute for an
//! hour against the emulator on a mixed fleet (hot, cold with a GSI, throttled by a hot key,
//! idle), with the state a warm container keeps, while its traffic is published minute by
//! minute as CloudWatch publishes it. The emulator's request recorder counts the `GetMetricData`
//! queries it received, per table; they must be what each run reported, and what
//! `ddb-autoscaler cost` projects from the same tables' datapoints.
//!
//! Alone in its test binary: the recorder is one per emulator, and records every request.

mod common;

use std::collections::BTreeMap;

use autoscaler_aws::{Deadline, Direction, Warm, run_with};
use common::{capacity, cli, clients, config, json, published_before, table};
use scaling_policy::{Dimension, Timestamp};
use test_support::{SeedMinute, put_minutes, put_values, recorder};

const KEY: &str = "t-cost";

/// (table, index, consumed units/s, throttle events a minute, of which key-range)
const SERIES: &[(&str, Option<&str>, f64, f64, f64)] = &[
    // 75 units/s on 100 at a 70% target: hot, read every minute.
    ("cost-hot", None, 75.0, 0.0, 0.0),
    // 5 units/s on 100 and on 50: far from the trigger, the longest interval.
    ("cost-cold", None, 5.0, 0.0, 0.0),
    ("cost-cold", Some("by-day"), 5.0, 0.0, 0.0),
    // 30 units/s and a hot key: 120 events a minute, all key-range.
    ("cost-throttled", None, 30.0, 120.0, 120.0),
];

/// Publishes the traffic of the `minutes` minutes from `first`, for every series and dimension.
async fn publish(c: &autoscaler_aws::Clients, first: Timestamp, minutes: usize) {
    for (table, index, rate, throttled, key_range) in SERIES {
        for dimension in Dimension::BOTH {
            let m = SeedMinute {
                consumed: rate * 60.0,
                throttled: *throttled,
            };
            put_minutes(c, table, *index, dimension, first, &vec![m; minutes])
                .await
                .unwrap_or_else(|e| panic!("seed {table}: {e}"));
            if *key_range > 0.0 {
                let metric = autoscaler_aws::aws::metric_names(dimension).key_range;
                put_values(
                    c,
                    table,
                    *index,
                    metric,
                    first,
                    60,
                    &vec![*key_range; minutes],
                )
                .await
                .unwrap_or_else(|e| panic!("seed {table}: {e}"));
            }
        }
    }
}

/// Publishes every minute from `*minute` to the one CloudWatch has published by `now`, and
/// moves `*minute` past them.
async fn catch_up(c: &autoscaler_aws::Clients, minute: &mut Timestamp, now: Timestamp) {
    let until = published_before(now);
    if *minute < until {
        let minutes = usize::try_from(until.secs_since(*minute) / 60).unwrap_or(0);
        publish(c, *minute, minutes).await;
        *minute = until;
    }
}

#[tokio::test]
async fn an_hour_of_real_queries_is_what_cost_projects() {
    let c = clients().await;
    let tag = [(KEY, "on")];
    table(&c, "cost-hot", Some((100, 100)), &[], &tag).await;
    table(
        &c,
        "cost-cold",
        Some((100, 100)),
        &[("by-day", 50, 50)],
        &tag,
    )
    .await;
    table(&c, "cost-throttled", Some((100, 100)), &[], &tag).await;
    table(&c, "cost-idle", Some((10, 10)), &[], &tag).await;
    // MaxPollMinutes=10 (the shipped value, set here whatever the defaults become), where
    // quiet series rest: the projection below is asked for the same.
    let mut config = config(KEY);
    config.cadence.max_interval_minutes = 10;
    // The simulated hour ends well in the past, so that every datapoint is.
    let start = autoscaler_aws::now().floor_minute().plus_secs(-120 * 60);
    let end = start.plus_secs(60 * 60);
    // The traffic began before the first run's cold start reads back (the cadence's calm
    // wait), as published by then: a steady fleet, not one whose traffic just arrived.
    let history = config.cadence.first_poll_minutes() + 40;
    let mut minute = start.plus_secs(-60 * i64::from(history));
    catch_up(&c, &mut minute, start.plus_secs(5)).await;

    recorder::start();
    let mut warm = Warm::new(config.cadence);
    let mut reported = 0;
    let mut resting = 0;
    for i in 0..60 {
        let now = start.plus_secs(60 * i + 5);
        catch_up(&c, &mut minute, now).await;
        let s = run_with(&c, &config, Direction::Up, now, Deadline::NONE, &mut warm)
            .await
            .unwrap_or_else(|e| panic!("run at {now}: {e}"));
        assert!(s.failed.is_empty(), "{s:#?}");
        assert_eq!(s.tables_changed, 0, "nothing here needs capacity: {s:#?}");
        reported += s.calls.metrics_requested;
        resting += s.series_resting;
        assert_eq!(
            s.calls.metrics_requested > 0,
            s.calls.get_metric_data_calls > 0
        );
    }
    recorder::stop();
    assert_eq!(
        capacity(&c, "cost-throttled", None).await,
        (100, 100),
        "a hot key buys nothing"
    );

    let queries = recorder::metric_queries();
    let mut received: BTreeMap<String, u64> = BTreeMap::new();
    for q in &queries {
        *received.entry(q.table.clone()).or_insert(0) += 1;
    }
    assert_eq!(
        queries.len() as u64,
        reported,
        "the runs reported the metrics the emulator received"
    );
    assert!(resting > 0, "the cadence let series rest");

    let projected = json(cli(KEY).args([
        "cost",
        "--json",
        "--hours",
        "1",
        "--end",
        &end.to_string(),
        "--max-poll-minutes",
        "10",
        // The polling bill alone: the stack's per-run metrics are a fixed sum (tests/cli.rs).
        "--no-run-metrics",
    ]));
    assert_eq!(projected["source"], "account");
    let rows = projected["rows"].as_array().expect("rows");
    for name in ["cost-hot", "cost-cold", "cost-throttled", "cost-idle"] {
        let row = rows
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {projected:#}"));
        assert_eq!(
            row["scale_up_metrics"].as_u64(),
            Some(received.get(name).copied().unwrap_or(0)),
            "{name}: projected against received; received {received:?}"
        );
        assert_eq!(row["minutes"], 60);
        let per_month = row["metrics_per_month"].as_f64().expect("a number");
        let in_window = row["metrics"].as_f64().expect("a number");
        assert!((per_month - in_window * 720.0).abs() < 1e-6, "{row:#}");
    }
    // The hot table is read every minute (and its throttle series every ten), the idle one
    // every ten; every minute would have been 2 metrics a series a minute.
    let hot = received["cost-hot"];
    let idle = received.get("cost-idle").copied().unwrap_or(0);
    assert!((2 * 60..2 * 75).contains(&hot), "{received:?}");
    assert!(idle <= 2 * 2 * 7 + 4, "{received:?}");
    // Ten series (four tables, one GSI, reads and writes).
    let every_minute: u64 = 10 * 2 * 60;
    assert!(
        reported * 4 < every_minute,
        "{reported} of {every_minute} metrics"
    );
    // A quarter of this fleet is hot (read every minute by design): the bill is what polling
    // every minute would cost, less the rest, and less than target tracking's alarms.
    let usd = |v: &serde_json::Value| v.as_f64().expect("a number");
    let total = usd(&projected["total_usd"]);
    assert!(
        total > 0.0 && total * 4.0 < usd(&projected["every_minute"]["total_usd"]),
        "{projected:#}"
    );
    assert!(
        total < usd(&projected["target_tracking_alarms"]["usd_per_month"]),
        "{projected:#}"
    );
    assert!(
        projected["lookup"]["metrics_requested"].as_u64() == Some(3 * 10),
        "three metrics per series to look back: {projected:#}"
    );
}
