//! The `ddb-autoscaler` binary end to end on small traces written by the tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ddb-autoscaler"))
}

/// Asserts that the run succeeded, showing its stderr if not.
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JSON file the command wrote.
fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the JSON file")).expect("JSON")
}

/// `ddb-autoscaler bench --traces DIR`, for more arguments.
fn bench(traces: &Path) -> Command {
    let mut c = bin();
    c.arg("bench").arg("--traces").arg(traces);
    c
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ddb-autoscaler-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// Three hours of 5-minute counts with a spike.
fn small_csv() -> String {
    let mut s = String::from("timestamp,value\n");
    for i in 0..36 {
        let v = if (20..23).contains(&i) {
            900
        } else {
            100 + (i % 4) * 10
        };
        s += &format!("2024-03-01 {:02}:{:02}:00,{v}\n", i * 5 / 60, i * 5 % 60);
    }
    s
}

#[test]
fn simulate_prints_json_rows_with_the_documented_fields() {
    let dir = scratch("simulate");
    let csv = dir.join("small.csv");
    std::fs::write(&csv, small_csv()).expect("write");
    let out = bin()
        .args(["simulate", "--trace"])
        .arg(&csv)
        .args(["--policy", "ours", "--policy", "clairvoyant", "--json"])
        .output()
        .expect("run");
    succeeded(&out);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["policy"], "ours");
    assert_eq!(rows[0]["trace"], "small.csv");
    assert_eq!(rows[1]["cost_vs_clairvoyant"], 1.0);
    for key in [
        "cost_unit_hours",
        "cost_usd",
        "throttled_pct",
        "increases",
        "decreases",
        "throttled_minutes",
    ] {
        assert!(rows[0][key].is_number(), "{key}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_writes_the_table_json_and_a_readable_png_per_trace() {
    let dir = scratch("bench");
    std::fs::create_dir_all(dir.join("traces/sub")).expect("mkdir");
    std::fs::write(dir.join("traces/sub/a.csv"), small_csv()).expect("write");
    std::fs::write(dir.join("traces/b.csv"), small_csv()).expect("write");
    std::fs::write(dir.join("traces/notes.txt"), "not a trace").expect("write");
    let out = bench(&dir.join("traces"))
        .arg("--json")
        .arg(dir.join("bench.json"))
        .arg("--plots")
        .arg(dir.join("plots"))
        .output()
        .expect("run");
    succeeded(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| b.csv") && table.contains("| sub/a.csv"),
        "{table}"
    );
    assert!(table.contains("x clairvoyant") && table.contains("aws-target-tracking"));
    let rows: serde_json::Value = json_file(&dir.join("bench.json"));
    assert_eq!(rows.as_array().map(Vec::len), Some(2 * 9));
    for png in ["b.png", "sub__a.png"] {
        let bytes = std::fs::read(dir.join("plots").join(png)).expect(png);
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png} is a PNG");
        assert!(bytes.len() > 10_000, "{png} has content");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_traces_are_reported_with_file_and_line() {
    let dir = scratch("malformed");
    let csv = dir.join("bad.csv");
    std::fs::write(
        &csv,
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,x\n",
    )
    .expect("write");
    let out = bin()
        .args(["simulate", "--trace"])
        .arg(&csv)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv:3") && err.contains("not a number"),
        "{err}"
    );
    let out = bin()
        .args(["simulate", "--trace", "synthetic:step", "--policy", "nope"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no policy \"nope\""));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Hourly counts in local time across the end of daylight saving: 01:00 comes twice.
fn fall_back_csv() -> String {
    let mut s = String::from("timestamp,value\n");
    for (h, v) in [(0, 100), (1, 120), (1, 80), (2, 110), (3, 90), (4, 100)] {
        s += &format!("2024-11-03 {h:02}:00:00,{v}\n");
    }
    s
}

#[test]
fn a_bad_trace_fails_alone_in_the_table_the_json_and_the_exit_status() {
    let dir = scratch("bench-bad");
    std::fs::create_dir_all(dir.join("traces")).expect("mkdir");
    std::fs::write(dir.join("traces/good.csv"), small_csv()).expect("write");
    std::fs::write(dir.join("traces/dst.csv"), fall_back_csv()).expect("write");
    let run = |extra: &[&str]| {
        bench(&dir.join("traces"))
            .arg("--json")
            .arg(dir.join("bench.json"))
            .arg("--frontier-json")
            .arg(dir.join("frontier.json"))
            .args(["--policy", "ours", "--policy", "clairvoyant"])
            .args(extra)
            .output()
            .expect("run")
    };
    let out = run(&[]);
    assert!(!out.status.success(), "a failed trace fails the run");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| good.csv | ours"), "{table}");
    assert!(table.contains("| dst.csv  | failed"), "{table}");
    assert!(
        table.contains("- dst.csv: ") && table.contains("--duplicates"),
        "{table}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1 of 2 traces failed"), "{err}");
    let rows: serde_json::Value = json_file(&dir.join("bench.json"));
    let rows = rows.as_array().expect("array");
    assert_eq!(
        rows.len(),
        3,
        "two rows of good.csv and one error: {rows:?}"
    );
    assert_eq!(rows[0]["trace"], "good.csv");
    assert_eq!(rows[2]["trace"], "dst.csv");
    assert!(
        rows[2]["error"]
            .as_str()
            .is_some_and(|e| e.contains("repeats the one on line 3")),
        "{rows:?}"
    );
    let frontier: serde_json::Value = json_file(&dir.join("frontier.json"));
    let traces = frontier["traces"].as_array().expect("traces");
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[0]["trace"], "dst.csv");
    assert!(traces[0]["error"].is_string(), "{frontier}");
    assert_eq!(traces[1]["trace"], "good.csv");
    assert!(traces[1]["schedules"].is_array());
    // Told how to read them, it runs.
    let out = run(&["--duplicates", "sum"]);
    succeeded(&out);
    let out = bin()
        .args([
            "simulate",
            "--policy",
            "ours",
            "--duplicates",
            "last",
            "--trace",
        ])
        .arg(dir.join("traces/dst.csv"))
        .output()
        .expect("run");
    succeeded(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ten days of 5-minute counts with a daily cycle and a spike on day 8.
fn ten_days_csv() -> String {
    let mut s = String::from("timestamp,value\n");
    for i in 0..10 * 288 {
        let hour = (i % 288) as f64 / 12.0;
        let mut v = 100.0 + 60.0 * (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin();
        if (8 * 288 + 150..8 * 288 + 153).contains(&i) {
            v *= 6.0;
        }
        let (day, minute) = (i / 288, i % 288 * 5);
        s += &format!(
            "2024-03-{:02} {:02}:{:02}:00,{v:.0}\n",
            day + 1,
            minute / 60,
            minute % 60
        );
    }
    s
}

#[test]
fn bench_reports_the_frontier_on_four_schedules_with_documented_fields() {
    let dir = scratch("frontier");
    std::fs::create_dir_all(dir.join("traces")).expect("mkdir");
    std::fs::write(dir.join("traces/cycle.csv"), ten_days_csv()).expect("write");
    let out = bench(&dir.join("traces"))
        .args(["--policy", "ours", "--frontier-json"])
        .arg(dir.join("frontier.json"))
        .output()
        .expect("run");
    succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "### Frontier: summary",
        "### Frontier: per trace",
        "### Frontier: target tracking's sweep",
    ] {
        assert!(stdout.contains(heading), "{heading}: {stdout}");
    }
    let f: serde_json::Value = json_file(&dir.join("frontier.json"));
    assert_eq!(
        f["tt_targets_pct"],
        serde_json::json!([20, 30, 40, 50, 60, 70, 80, 90])
    );
    assert_eq!(f["model"]["late_runs_max_secs"], 30);
    assert_eq!(
        f["model"]["scale_down"],
        serde_json::json!([0, 360, 720, 1080])
    );
    let summary = f["summary"].as_array().expect("summary");
    let schedules: Vec<&str> = summary
        .iter()
        .map(|g| g["schedule"].as_str().unwrap())
        .collect();
    assert_eq!(schedules, ["default", "chosen-4", "hourly", "every-15-min"]);
    for g in summary {
        assert_eq!(g["group"], "traces");
        for key in [
            "traces",
            "ties",
            "advantage_geomean",
            "advantage_min",
            "advantage_min_trace",
            "cost_vs_tt70_geomean",
            "cost_vs_on_demand_geomean",
            "cost_vs_clairvoyant_geomean",
            "bound_cost_vs_clairvoyant_geomean",
            "dearer_than_tt70",
            "dearer_than_on_demand",
        ] {
            assert!(g.get(key).is_some(), "{key} in {g}");
        }
    }
    let trace = &f["traces"][0];
    assert_eq!(
        (&trace["trace"], &trace["group"]),
        (&"cycle.csv".into(), &"traces".into())
    );
    let chosen = &trace["schedules"][1];
    assert_eq!(chosen["chosen_on_days"], 5, "half of a 10-day trace");
    assert_eq!(chosen["scored_from"], "2024-03-06T00:00:00Z");
    for key in [
        "schedule",
        "runs_utc",
        "run_minutes_utc",
        "scored_days",
        "ours",
        "ours_decreases",
        "target_tracking",
        "tt_throttled_pct_at_ours_cost",
        "advantage",
        "tie",
        "cost_vs_tt70",
        "cost_vs_on_demand",
        "cost_vs_clairvoyant",
        "bound_cost_vs_clairvoyant",
    ] {
        assert!(chosen.get(key).is_some(), "{key} in {chosen}");
    }
    // --no-frontier: the per-policy table alone.
    let out = bench(&dir.join("traces"))
        .args(["--policy", "ours", "--no-frontier"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Frontier"));
    let _ = std::fs::remove_dir_all(&dir);
}
/// Runs `cost` with `args`, expecting success, and parses its JSON.
fn cost_json(args: &[&str]) -> serde_json::Value {
    let out = bin()
        .arg("cost")
        .args(args)
        .arg("--json")
        .env("AUTOSCALER_MAX_POLL_MINUTES", "10")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn cost_from_flags_prices_the_fleet_and_compares() {
    // Idle tables only (the fastest class to simulate): each series read every 10 minutes.
    let b = cost_json(&["--tables", "50", "--gsis", "50", "--mix", "idle=100"]);
    assert_eq!(b["source"], "flags");
    assert_eq!(
        (b["tables"].as_u64(), b["targets"].as_u64()),
        (Some(50), Some(100))
    );
    assert_eq!(b["schedules"]["max_poll_minutes"], 10);
    let metrics = b["get_metric_data"]["metrics_per_month"].as_f64().unwrap();
    // Per series a month: 4,320 polls of 2 metrics, the history every 6 hours (2), the
    // scale-down's 4 runs a day with their own history (4 each); 200 series.
    let per_series = 4_320.0 * 2.0 + 120.0 * 2.0 + 120.0 * 4.0;
    assert!(
        (metrics / 200.0 - per_series).abs() / per_series < 0.01,
        "{metrics}"
    );
    let usd = b["get_metric_data"]["usd_per_month"].as_f64().unwrap();
    assert!((usd - metrics * 1e-5).abs() < 1e-9);
    let total = b["total_usd"].as_f64().unwrap();
    let lambda = b["lambda"]["usd_per_month"].as_f64().unwrap();
    // The stack's per-run EMF metrics, on by default: each function's 9 and 4 decision metrics,
    // scale-up every hour, scale-down in 4 hours of 24; $0.30 a metric-month. The stack's, not
    // a table's: in the total, not in the per-table bill.
    let run_metrics = 13.0 * (1.0 + 4.0 / 24.0);
    let custom = &b["custom_metrics"];
    assert!(
        (custom["run_metrics"].as_f64().unwrap() - run_metrics).abs() < 1e-9,
        "{custom}"
    );
    assert!((total - usd - lambda - 0.30 * run_metrics).abs() < 1e-9);
    assert!((b["per_table_usd"].as_f64().unwrap() - (usd + lambda) / 50.0).abs() < 1e-9);
    assert_eq!(
        custom["table_usd_per_month"], 0.0,
        "per-table metrics off by default"
    );
    assert!(b["every_minute"]["total_usd"].as_f64().unwrap() > 4.0 * (usd + lambda));
    assert_eq!(b["target_tracking_alarms"]["alarms"], 100 * 8);
    assert_eq!(b["rows"][0]["name"], "idle");
    assert!(b["rows"][0]["cadence_quality"].is_object());
    // MetricsNamespace=off, and another number of decision metrics.
    let off = cost_json(&["--tables", "50", "--mix", "idle=100", "--no-run-metrics"]);
    assert_eq!(off["custom_metrics"]["usd_per_month"], 0.0);
    let off_total = off["total_usd"].as_f64().unwrap();
    let off_lambda = off["lambda"]["usd_per_month"].as_f64().unwrap();
    let off_usd = off["get_metric_data"]["usd_per_month"].as_f64().unwrap();
    assert!((off_total - off_usd - off_lambda).abs() < 1e-9);
    let two = cost_json(&[
        "--tables",
        "50",
        "--mix",
        "idle=100",
        "--decision-metrics",
        "2",
        "--scale-down-hours",
        "0,12",
    ]);
    let two_metrics = two["custom_metrics"]["run_metrics"].as_f64().unwrap();
    assert!(
        (two_metrics - 11.0 * (1.0 + 2.0 / 24.0)).abs() < 1e-9,
        "{two_metrics}"
    );
    // A repeated hour is one run.
    let repeated = cost_json(&[
        "--tables",
        "50",
        "--mix",
        "idle=100",
        "--scale-down-hours",
        "0,0,12",
    ]);
    let repeated = repeated["custom_metrics"]["run_metrics"].as_f64().unwrap();
    assert!(
        (repeated - 13.0 * (1.0 + 2.0 / 24.0)).abs() < 1e-9,
        "{repeated}"
    );
}

#[test]
fn cost_of_a_trace_shows_the_policy_with_and_without_the_cadence_and_the_guarantee() {
    let dir = scratch("cost");
    std::fs::write(dir.join("small.csv"), small_csv()).expect("write");
    let b = cost_json(&["--traces", dir.to_str().unwrap(), "--guarantee"]);
    assert_eq!(b["source"], "traces");
    let row = &b["rows"][0];
    assert_eq!(row["name"], "small.csv");
    for q in ["cadence_quality", "every_minute_quality"] {
        for f in [
            "capacity_usd",
            "throttled_pct",
            "throttled_minutes",
            "increases",
            "decreases",
            "changes_per_month",
        ] {
            assert!(row[q][f].is_number(), "{q}.{f}: {row:#}");
        }
    }
    assert!(
        row["metrics_per_month"].as_f64().unwrap()
            < row["every_minute_metrics_per_month"].as_f64().unwrap()
    );
    let g = &b["guarantee"];
    assert_eq!(g["late"], 0, "{g:#}");
    assert_eq!(g["bound_minutes"], 3);
    assert!(g["worst_minutes"].as_i64().unwrap() <= 3);
    assert!(g["reaching"].as_u64().unwrap() > 0);
    assert_eq!(g["beyond"].as_array().map(Vec::len), Some(3));
    // Per-table metrics (TableMetrics=true): 3 custom metrics for an hour at each change of the
    // table's reads and writes (the trace replayed as both), in the table's bill.
    let with = cost_json(&["--traces", dir.to_str().unwrap(), "--table-metrics"]);
    let q = &with["rows"][0]["cadence_quality"];
    let changes = q["increases"].as_f64().unwrap() + q["decreases"].as_f64().unwrap();
    assert!(changes > 0.0, "{q}");
    let per_month = q["changes_per_month"].as_f64().unwrap();
    let custom = &with["custom_metrics"];
    assert!((custom["changes_per_month"].as_f64().unwrap() - 2.0 * per_month).abs() < 1e-9);
    let table_usd = custom["table_usd_per_month"].as_f64().unwrap();
    assert!(
        (table_usd - 3.0 * 2.0 * per_month / 720.0 * 0.30).abs() < 1e-9,
        "{custom}"
    );
    let without = b["per_table_usd"].as_f64().unwrap();
    assert!((with["per_table_usd"].as_f64().unwrap() - without - table_usd).abs() < 1e-9);
    // Every minute is priced with its own simulated changes.
    let every_q = &with["rows"][0]["every_minute_quality"];
    let every_usd = with["every_minute"]["table_metrics_usd"].as_f64().unwrap();
    let every_per_month = every_q["changes_per_month"].as_f64().unwrap();
    assert!((every_usd - 3.0 * 2.0 * every_per_month / 720.0 * 0.30).abs() < 1e-9);
    // MetricsNamespace=off writes no metric, per table or not.
    let off = cost_json(&[
        "--traces",
        dir.to_str().unwrap(),
        "--table-metrics",
        "--no-run-metrics",
    ]);
    assert_eq!(off["custom_metrics"]["usd_per_month"], 0.0, "{off:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cost_errors_name_the_flag() {
    for (args, says) in [
        (vec!["--tables", "10", "--mix", "hot=50,warm=50"], "warm"),
        (vec!["--tables", "10", "--mix", "hot=50,cold=40"], "90.0%"),
        (vec!["--tables", "10", "--scale-down-hours", "0,25"], "25"),
    ] {
        let out = bin().arg("cost").args(&args).output().expect("run");
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
