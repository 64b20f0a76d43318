//! End-to-end tests of the scale-up Lambda binary: the real `ddb-autoscaler-scale-up` process,
//! started as Lambda starts it, polls a fake Lambda Runtime API for the sample events of
//! `events/` and scales tables in the local emulator (moto). This proves the wiring the library
//! tests cannot: configuration from the environment, the SDK honouring `AWS_ENDPOINT_URL`, the
//! accepted event shapes, the run summary as the invocation's result, failed tables reported as
//! an invocation error (what Lambda's `Errors` metric counts), JSON logs, and a bad
//! configuration failing the cold start.
#![allow(clippy::unwrap_used)] // tests: a panic with the value is the failure report

use scaling_policy::Dimension;
use serde_json::Value;
use test_support::emulator::{capacity, clients, lease_table, seed_recent, table};
use test_support::lambda::{
    FakeRuntimeApi, Function, PostKind, SCHEDULED_EVENT, SCHEDULER_EMPTY, unique,
};

const BIN: &str = env!("CARGO_BIN_EXE_ddb-autoscaler-scale-up");

/// The report on `name` in a run summary.
fn report<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|r| r["table"] == name))
        .unwrap_or_else(|| panic!("{name} missing from the summary: {summary:#}"))
}

/// The decision on the table's (not a GSI's) `dimension` in a table report.
fn decision<'a>(report: &'a Value, dimension: &str) -> &'a Value {
    report["decisions"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|d| d["index"].is_null() && d["dimension"] == dimension)
        })
        .unwrap_or_else(|| panic!("no {dimension} decision in {report:#}"))
}

/// A provisioned 10/10 table opted in under `key`, with 5 minutes at 9.5 read units/s (95% of
/// provisioned, above the 90% trigger) and 2 write units/s, seeded as CloudWatch publishes them.
async fn hot_table(c: &autoscaler_aws::Clients, name: &str, key: &str, tags: &[(&str, &str)]) {
    lease_table(c).await;
    let mut all = vec![(key, "on")];
    all.extend_from_slice(tags);
    table(c, name, Some((10, 10)), &[], &all).await;
    let now = autoscaler_aws::now();
    seed_recent(c, name, None, Dimension::Read, now, 5, 9.5, 0.0).await;
    seed_recent(c, name, None, Dimension::Write, now, 5, 2.0, 0.0).await;
}

#[tokio::test]
async fn scheduled_event_raises_hot_table_and_responds_with_run_summary() {
    let c = clients().await;
    let key = unique("fn-up-sched");
    let hot = unique("fn-up-sched-hot");
    hot_table(&c, &hot, &key, &[]).await;

    let api = FakeRuntimeApi::start();
    let id = api.push(SCHEDULED_EVENT);
    let mut f = Function::start(BIN, &api, &key, &[]);
    let post = api.wait_for(&id, &mut f).await;

    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    let summary = post.json();
    assert_eq!(summary["direction"], "up", "{summary:#}");
    assert_eq!(summary["dry_run"], false);
    assert_eq!(summary["tables_seen"], 1, "{summary:#}");
    assert_eq!(summary["tables_managed"], 1);
    assert_eq!(summary["tables_changed"], 1);
    assert_eq!(summary["failed"], serde_json::json!([]));
    let r = report(&summary, &hot);
    assert_eq!(r["outcome"], "changed", "{r:#}");
    assert_eq!(r["mode"], "on");
    let read = decision(r, "read");
    assert_eq!(
        (&read["from"], &read["to"], &read["action"], &read["reason"]),
        (
            &Value::from(10),
            &Value::from(12),
            &Value::from("increase"),
            &Value::from("above_trigger")
        ),
        "{read:#}"
    );
    // ceil(9.5 / 0.8) = 12, the README's example; writes at 20% stay.
    assert_eq!(capacity(&c, &hot, None).await, (12, 10));

    // Logs are JSON lines (AWS_LAMBDA_LOG_FORMAT=JSON) and include the run summary.
    let logs = f.json_logs();
    assert!(
        logs.iter()
            .any(|l| l["fields"]["message"] == "run summary" && l["level"] == "INFO"),
        "no JSON `run summary` log line\n{}",
        f.output()
    );
    // One `decision` line per dimension, `applied` as the README documents it: the raised
    // dimension was applied, the kept one had nothing to apply.
    let applied: Vec<(&str, &str)> = logs
        .iter()
        .filter(|l| l["fields"]["message"] == "decision" && l["fields"]["table"] == hot.as_str())
        .map(|l| {
            let f = &l["fields"];
            (
                f["dimension"].as_str().unwrap_or_default(),
                f["applied"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        applied,
        [("read", "applied"), ("write", "no_change")],
        "{}",
        f.output()
    );
    assert!(api.unexpected().is_empty(), "{:?}", api.unexpected());
}

#[tokio::test]
async fn scheduler_empty_input_raises_hot_table_then_warm_rerun_keeps_capacity() {
    let c = clients().await;
    let key = unique("fn-up-empty");
    let hot = unique("fn-up-empty-hot");
    hot_table(&c, &hot, &key, &[]).await;

    let api = FakeRuntimeApi::start();
    let first = api.push(SCHEDULER_EMPTY);
    let second = api.push(SCHEDULER_EMPTY);
    let mut f = Function::start(BIN, &api, &key, &[]);

    let post = api.wait_for(&first, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    let summary = post.json();
    assert_eq!(summary["direction"], "up");
    assert_eq!(summary["tables_changed"], 1, "{summary:#}");
    assert_eq!(report(&summary, &hot)["outcome"], "changed");
    assert_eq!(capacity(&c, &hot, None).await, (12, 10));

    // The same (warm) process serves the next invocation: the table is not raised again.
    let post = api.wait_for(&second, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    let summary = post.json();
    assert_eq!(summary["tables_changed"], 0, "{summary:#}");
    assert_eq!(
        report(&summary, &hot)["outcome"],
        "unchanged",
        "{summary:#}"
    );
    assert_eq!(capacity(&c, &hot, None).await, (12, 10));
    assert_eq!(api.handed_out(), vec![first, second]);
}

#[tokio::test]
async fn malformed_override_tag_fails_the_invocation_and_healthy_table_is_still_raised() {
    let c = clients().await;
    let key = unique("fn-up-bad");
    let bad = unique("fn-up-bad-tagged");
    let good = unique("fn-up-bad-healthy");
    let bad_tag = format!("{key}:read-max");
    hot_table(&c, &bad, &key, &[(bad_tag.as_str(), "lots")]).await;
    hot_table(&c, &good, &key, &[]).await;

    let api = FakeRuntimeApi::start();
    let id = api.push(SCHEDULED_EVENT);
    let mut f = Function::start(BIN, &api, &key, &[]);
    let post = api.wait_for(&id, &mut f).await;

    // Reported through /error, which is what Lambda counts in the function's Errors metric.
    assert_eq!(post.kind, PostKind::Error, "{post:?}\n{}", f.output());
    assert_eq!(post.error_type_header.as_deref(), Some("unhandled"));
    let body = post.json();
    let message = body["errorMessage"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("1 of 2 managed tables failed")
            && message.contains(&bad)
            && message.contains(&bad_tag)
            && message.contains("lots")
            && !message.contains(&good),
        "the error names the failed table, the tag and its value, and only them: {body:#}"
    );
    assert_eq!(body["errorType"], "TablesFailed", "{body:#}");

    // The healthy table in the same run was raised; the misconfigured one left alone.
    assert_eq!(capacity(&c, &good, None).await, (12, 10));
    assert_eq!(capacity(&c, &bad, None).await, (10, 10));

    // The logs say the same: one `table` line each, and the counts in the `run summary`.
    let logs = f.json_logs();
    let table_line = |name: &str| {
        logs.iter()
            .find(|l| l["fields"]["message"] == "table" && l["fields"]["table"] == name)
            .map(|l| l["fields"].clone())
            .unwrap_or_else(|| panic!("no `table` line for {name}\n{}", f.output()))
    };
    let bad_line = table_line(&bad);
    assert_eq!(bad_line["outcome"], "failed", "{bad_line:#}");
    assert!(
        bad_line["error"]
            .as_str()
            .is_some_and(|e| e.contains(&bad_tag) && e.contains("lots")),
        "{bad_line:#}"
    );
    assert_eq!(table_line(&good)["outcome"], "changed");
    let summary = logs
        .iter()
        .find(|l| l["fields"]["message"] == "run summary")
        .map(|l| &l["fields"])
        .unwrap_or_else(|| panic!("no run summary logged\n{}", f.output()));
    assert_eq!(
        (&summary["tables_changed"], &summary["failed"]),
        (&Value::from(1), &Value::from(1)),
        "{summary:#}"
    );
}

#[tokio::test]
async fn no_log_line_grows_with_the_number_of_tables() {
    // The run summary used to be logged whole in one line: past about 130 tables it exceeded
    // CloudWatch Logs' 256 KB event limit (the line is cut, its JSON unreadable).
    let c = clients().await;
    lease_table(&c).await;
    let key = unique("fn-up-many");
    let names: Vec<String> = (0..150)
        .map(|i| unique(&format!("fn-up-many-{i:03}")))
        .collect();
    for name in &names {
        // Long names make the summary large quickly, as real table names often are.
        table(&c, name, Some((10, 10)), &[], &[(key.as_str(), "on")]).await;
    }
    let api = FakeRuntimeApi::start();
    let id = api.push(SCHEDULED_EVENT);
    let mut f = Function::start(BIN, &api, &key, &[]);
    let post = api.wait_for(&id, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    assert_eq!(post.json()["tables_managed"], 150);
    let stdout = f.stdout();
    let longest = stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(
        longest < 8 * 1024,
        "the longest log line has {longest} bytes: it should not hold a table list"
    );
    let tables = f
        .json_logs()
        .iter()
        .filter(|l| l["fields"]["message"] == "table")
        .count();
    assert_eq!(tables, 150, "one `table` line per table");
    // Each decision line says what it was decided against, and leaves out the numbers a
    // decision without data does not have (it used to log -1.0 for them).
    let logs = f.json_logs();
    let d = logs
        .iter()
        .find(|l| l["fields"]["message"] == "decision")
        .map(|l| &l["fields"])
        .unwrap_or_else(|| panic!("no decision line\n{}", f.output()));
    assert_eq!(d["reason"], "no_data", "{d:#}");
    for field in [
        "target",
        "trigger",
        "min",
        "max",
        "window_minutes",
        "known_minutes",
    ] {
        assert!(d[field].is_number(), "{field} in {d:#}");
    }
    for field in ["peak_demand", "utilisation", "wanted"] {
        assert!(d[field].is_null(), "{field} is unknown, so absent: {d:#}");
    }
}

#[tokio::test]
async fn a_deployment_without_its_lease_table_fails_the_cold_start() {
    let api = FakeRuntimeApi::start();
    api.push(SCHEDULED_EVENT);
    let key = unique("fn-up-nolease");
    let mut f = Function::start(BIN, &api, &key, &[("AUTOSCALER_LEASE_TABLE", "")]);
    let status = f.wait_exit().await;
    assert!(!status.success(), "exited with {status}\n{}", f.output());
    assert!(
        f.stderr().contains("AUTOSCALER_LEASE_TABLE"),
        "{}",
        f.output()
    );
    // In dry-run, nothing is changed, so nothing needs serialising: it starts.
    let api = FakeRuntimeApi::start();
    let id = api.push(SCHEDULED_EVENT);
    let mut f = Function::start(
        BIN,
        &api,
        &key,
        &[
            ("AUTOSCALER_DRY_RUN", "true"),
            ("AUTOSCALER_LEASE_TABLE", ""),
        ],
    );
    let post = api.wait_for(&id, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
}

#[tokio::test]
async fn invalid_configuration_fails_the_cold_start_naming_the_variable() {
    let c = clients().await;
    let key = unique("fn-up-badenv");
    let hot = unique("fn-up-badenv-hot");
    hot_table(&c, &hot, &key, &[]).await;

    let api = FakeRuntimeApi::start();
    api.push(SCHEDULED_EVENT);
    let mut f = Function::start(BIN, &api, &key, &[("AUTOSCALER_TARGET_PERCENT", "high")]);
    let status = f.wait_exit().await;

    assert!(!status.success(), "exited with {status}\n{}", f.output());
    // main prints the error on stderr and exits 1; the JSON log names it too.
    assert!(
        f.stderr().contains("AUTOSCALER_TARGET_PERCENT") && f.stderr().contains("high"),
        "stderr names the variable and its value\n{}",
        f.output()
    );
    assert!(
        f.json_logs().iter().any(|l| l["level"] == "ERROR"
            && l["fields"]["message"] == "invalid configuration"
            && l["fields"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("AUTOSCALER_TARGET_PERCENT"))),
        "an ERROR log line names the variable\n{}",
        f.output()
    );
    // The process fails before it reaches the Runtime API: no event taken, nothing posted
    // (not even /runtime/init/error: Lambda sees the exit and reports Runtime.ExitError).
    assert!(api.handed_out().is_empty(), "{:?}", api.handed_out());
    assert!(api.posts().is_empty(), "{:?}", api.posts());
    assert_eq!(
        capacity(&c, &hot, None).await,
        (10, 10),
        "nothing is scaled"
    );
}

#[tokio::test]
async fn the_run_keeps_to_the_invocation_s_deadline() {
    // The run reads its deadline from the Lambda context: an invocation with less time left
    // than the margin starts no table and says so (no wall-clock timing: the deadline is given).
    let c = clients().await;
    let key = unique("fn-up-deadline");
    let hot = unique("fn-up-deadline-hot");
    hot_table(&c, &hot, &key, &[]).await;
    let api = FakeRuntimeApi::start();
    let id = api.push_with_time_left(SCHEDULED_EVENT, std::time::Duration::from_secs(5));
    let mut f = Function::start(BIN, &api, &key, &[]);
    let post = api.wait_for(&id, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    let summary = post.json();
    let r = report(&summary, &hot);
    assert_eq!(
        (&r["outcome"], &r["reason"]),
        (&Value::from("skipped"), &Value::from("deadline")),
        "{summary:#}"
    );
    assert_eq!(capacity(&c, &hot, None).await, (10, 10));
}

/// The EMF lines a function wrote (the stdout lines with an `_aws` member).
fn emf_lines(f: &Function) -> Vec<Value> {
    f.json_logs()
        .into_iter()
        .filter(|l| l.get("_aws").is_some())
        .collect()
}

/// The EMF line whose dimension set is exactly `dimensions`.
fn emf_line<'a>(lines: &'a [Value], dimensions: &[&str]) -> &'a Value {
    lines
        .iter()
        .find(|l| {
            l["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0] == serde_json::json!(dimensions)
        })
        .unwrap_or_else(|| panic!("no EMF line with dimensions {dimensions:?}: {lines:#?}"))
}

#[tokio::test]
async fn a_run_writes_its_metrics_as_emf_and_notifies_and_a_late_run_is_dropped() {
    let c = clients().await;
    let key = unique("fn-up-emf");
    let hot = unique("fn-up-emf-hot");
    hot_table(&c, &hot, &key, &[]).await;
    let namespace = "ddb-autoscaler-test";

    let api = FakeRuntimeApi::start();
    let now = autoscaler_aws::now();
    let on_time = api.push(&format!(r#"{{"scheduled_time": "{now}"}}"#));
    let late = api.push(&format!(
        r#"{{"scheduled_time": "{}"}}"#,
        now.plus_secs(-300)
    ));
    let env = [
        ("AUTOSCALER_METRICS_NAMESPACE", namespace),
        ("AUTOSCALER_TABLE_METRICS", "true"),
        ("AUTOSCALER_NOTIFICATIONS", "eventbridge"),
    ];
    let mut f = Function::start(BIN, &api, &key, &env);
    let post = api.wait_for(&on_time, &mut f).await;
    assert_eq!(post.kind, PostKind::Response, "{post:?}\n{}", f.output());
    assert_eq!(post.json()["tables_changed"], 1);
    let dropped = api.wait_for(&late, &mut f).await;
    assert_eq!(
        dropped.kind,
        PostKind::Response,
        "{dropped:?}\n{}",
        f.output()
    );

    // Every line is Embedded Metric Format as CloudWatch requires it: a millisecond timestamp, one
    // directive in our namespace, each dimension and each metric a member of the line.
    let lines = emf_lines(&f);
    assert!(!lines.is_empty(), "no EMF line\n{}", f.output());
    for line in &lines {
        let aws = &line["_aws"];
        assert!(
            aws["Timestamp"]
                .as_u64()
                .is_some_and(|t| t > 1_700_000_000_000),
            "{line}"
        );
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1, "{line}");
        let d = &directives[0];
        assert_eq!(d["Namespace"], namespace, "{line}");
        let sets = d["Dimensions"].as_array().unwrap();
        assert_eq!(sets.len(), 1, "{line}");
        for dim in sets[0].as_array().unwrap() {
            assert!(
                line[dim.as_str().unwrap()].is_string(),
                "dimension {dim}: {line}"
            );
        }
        for m in d["Metrics"].as_array().unwrap() {
            let value = &line[m["Name"].as_str().unwrap()];
            let numbers = value
                .as_array()
                .cloned()
                .unwrap_or_else(|| vec![value.clone()]);
            assert!(
                !numbers.is_empty() && numbers.iter().all(Value::is_number),
                "{m}: {line}"
            );
        }
    }

    // The run: one table seen and raised (its reads, 10 -> 12), nothing failed.
    let run = emf_line(&lines, &["Direction"]);
    assert_eq!(run["Direction"], "up");
    for (metric, value) in [
        ("TablesSeen", 1.0),
        ("TablesManaged", 1.0),
        ("TablesChanged", 1.0),
        ("TablesFailed", 0.0),
        ("TablesThrottled", 0.0),
        ("Increases", 1.0),
        // As the run counted its requests: consumed and throttle events of both dimensions,
        // and their seasonal history (a cold start fetches it).
        ("MetricsRequested", 8.0),
    ] {
        assert_eq!(run[metric], serde_json::json!([value]), "{metric}: {run}");
    }
    assert!(
        run["RunDuration"][0].as_f64().is_some_and(|ms| ms > 0.0),
        "{run}"
    );
    let units: Vec<(&str, &str)> = run["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap(),
                m["Unit"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        units.contains(&("RunDuration", "Milliseconds")),
        "{units:?}"
    );
    assert!(units.contains(&("TablesSeen", "Count")), "{units:?}");

    // Decisions by action and reason: the read raised above the trigger, the write kept.
    let decisions: Vec<(&str, &str, &Value)> = lines
        .iter()
        .filter(|l| l.get("Decisions").is_some())
        .map(|l| {
            (
                l["Action"].as_str().unwrap(),
                l["Reason"].as_str().unwrap(),
                &l["Decisions"],
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("increase", "above_trigger", &Value::from(1)),
            ("keep", "below_trigger", &Value::from(1))
        ],
        "{lines:#?}"
    );

    // Per table and dimension (TableMetrics on): the change, and only the change.
    let table = emf_line(&lines, &["Table", "Index", "Dimension"]);
    assert_eq!(
        (&table["Table"], &table["Index"], &table["Dimension"]),
        (&hot.as_str().into(), &"-".into(), &"read".into())
    );
    assert_eq!(table["CapacityFrom"], serde_json::json!([10.0]));
    assert_eq!(table["CapacityTo"], serde_json::json!([12.0]));
    assert_eq!(table["PeakDemand"], serde_json::json!([9.5]));
    assert_eq!(lines.iter().filter(|l| l.get("Table").is_some()).count(), 1);

    // The change was notified (the emulator's EventBridge accepted the event).
    assert!(
        f.json_logs()
            .iter()
            .any(|l| l["fields"]["message"] == "notifications sent" && l["fields"]["sent"] == 1),
        "no `notifications sent` line\n{}",
        f.output()
    );

    // The late run was dropped, said so, and counted: no second run, no second summary.
    let body = dropped.json();
    assert_eq!(body["dropped"], "late", "{body:#}");
    assert!(
        body["late_by_secs"].as_i64().is_some_and(|s| s >= 300),
        "{body:#}"
    );
    assert_eq!(
        f.json_logs()
            .iter()
            .filter(|l| l["fields"]["message"] == "run summary")
            .count(),
        1
    );
    let late_line = lines
        .iter()
        .find(|l| l.get("LateRunsDropped").is_some())
        .unwrap_or_else(|| panic!("no LateRunsDropped line: {lines:#?}"));
    assert_eq!(late_line["LateRunsDropped"], 1);
    assert_eq!(capacity(&c, &hot, None).await, (12, 10));
}
