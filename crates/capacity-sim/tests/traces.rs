//! Trace loading: every layout of the real files, steps, gaps, time zones, scaling, errors.

use std::path::PathBuf;

use capacity_sim::{Duplicates, Error, Trace, TraceOptions};

fn parse(text: &str) -> Result<Trace, Error> {
    Trace::parse_csv("test.csv", text, &TraceOptions::default())
}

fn raw(text: &str) -> Trace {
    // No scaling surprises: a target median equal to the data's.
    Trace::parse_csv(
        "test.csv",
        text,
        &TraceOptions {
            zero_run_gap_minutes: 0,
            ..TraceOptions::default()
        },
    )
    .expect("a valid test CSV")
}

#[test]
fn nab_layout_timestamp_value_five_minutes() {
    let t = parse(
        "timestamp,value\n\
         2014-04-10 00:04:00,94.0\n\
         2014-04-10 00:09:00,56.0\n\
         2014-04-10 00:14:00,150.0\n",
    )
    .unwrap();
    assert_eq!(t.step_minutes, 5);
    assert_eq!(t.len(), 15);
    assert_eq!(t.start.to_string(), "2014-04-10T00:04:00Z");
    // Each step's rate is held over its 5 minutes; the median (94) maps to 100 units/s.
    assert!((t.demand_at(0) - 100.0).abs() < 1e-9);
    assert!((t.demand_at(4) - 100.0).abs() < 1e-9);
    assert!((t.demand_at(5) - 100.0 * 56.0 / 94.0).abs() < 1e-9);
    assert!((t.median_nonzero() - 100.0).abs() < 1e-9);
}

#[test]
fn worldcup_layout_period_count_one_minute_with_a_gap() {
    let t = raw("period,count\n\
         1998-04-30 21:30:00,2\n\
         1998-04-30 21:31:00,11\n\
         1998-04-30 21:34:00,4\n\
         1998-04-30 21:35:00,5\n");
    assert_eq!(t.step_minutes, 1);
    assert_eq!(t.len(), 6);
    assert_eq!(t.gap_minutes(), 2, "21:32 and 21:33 are missing: no data");
    assert_eq!(t.demand[2], None);
    assert!(t.demand[4].is_some());
}

#[test]
fn nasa_layout_picks_request_count_and_converts_the_offset_to_utc() {
    let t = raw(
        "timestamp,request_count,total_bytes,status_2xx,status_3xx,status_4xx,status_5xx,is_outage\n\
         1995-07-01 00:00:00-04:00,301.0,5277675.0,267.0,33.0,1.0,0.0,0\n\
         1995-07-01 00:05:00-04:00,,,,,,,1\n\
         1995-07-01 00:10:00-04:00,267.0,5041043.0,240.0,27.0,0.0,0.0,0\n",
    );
    assert_eq!(t.start.to_string(), "1995-07-01T04:00:00Z");
    assert_eq!(t.step_minutes, 5);
    assert_eq!(t.gap_minutes(), 5, "an empty cell is a missing step");
    let ratio = t.demand_at(0) / t.demand_at(10);
    assert!(
        (ratio - 301.0 / 267.0).abs() < 1e-9,
        "request_count, not total_bytes"
    );
}

#[test]
fn thirty_minute_steps_and_a_named_column() {
    let text = "time,bytes,hits\n\
         2020-01-01T00:00:00Z,9,10\n\
         2020-01-01T00:30:00Z,9,30\n\
         2020-01-01T01:00:00Z,9,20\n";
    let err = parse(text).unwrap_err().to_string();
    assert!(
        err.contains("test.csv:1") && err.contains("--column"),
        "{err}"
    );
    let t = Trace::parse_csv(
        "test.csv",
        text,
        &TraceOptions {
            column: Some("hits".into()),
            target_median: 50.0,
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(t.step_minutes, 30);
    assert_eq!(t.len(), 90);
    assert!(
        (t.demand_at(0) - 25.0).abs() < 1e-9,
        "10 vs median 20 -> 25 of 50"
    );
    assert!((t.demand_at(89) - 50.0).abs() < 1e-9);
}

#[test]
fn long_runs_of_zeros_are_missing_data_short_ones_are_zero() {
    let mut text = String::from("timestamp,value\n");
    for m in 0..600 {
        let v = if (100..500).contains(&m) || (550..555).contains(&m) {
            0
        } else {
            7
        };
        text += &format!("2024-01-01 {:02}:{:02}:00,{v}\n", m / 60, m % 60);
    }
    let t = parse(&text).unwrap();
    assert_eq!(
        t.gap_minutes(),
        400,
        "6 h 40 min of zeros is a hole in the logs"
    );
    assert_eq!(t.demand[552], Some(0.0), "5 minutes of zeros is real");
    let t = Trace::parse_csv(
        "test.csv",
        &text,
        &TraceOptions {
            zero_run_gap_minutes: 0,
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(t.gap_minutes(), 0);
}

#[test]
fn malformed_input_names_the_file_and_line() {
    let cases = [
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,abc\n",
            "test.csv:3",
            "not a number",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-13-01 00:01:00,1\n",
            "test.csv:3",
            "month",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00\n",
            "test.csv:3",
            "columns",
        ),
        (
            "timestamp,value\n2024-01-01 00:01:00,1\n2024-01-01 00:00:00,1\n",
            "test.csv:3",
            "not after",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,-4\n",
            "test.csv:3",
            ">= 0",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,1\n2024-01-01 00:10:00,1\n2024-01-01 00:13:00,1\n",
            "test.csv:5",
            "multiple of the 5-minute step",
        ),
        (
            "2024-01-01 00:00:00,1\n2024-01-01 00:01:00,1\n",
            "test.csv:1",
            "header",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n",
            "test.csv",
            "two data rows",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,0\n2024-01-01 00:01:00,0\n",
            "test.csv",
            "non-zero",
        ),
        (
            "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:00:30,1\n2024-01-01 00:01:00,1\n",
            "test.csv",
            "whole number of minutes",
        ),
    ];
    for (text, place, what) in cases {
        let err = parse(text).unwrap_err().to_string();
        assert!(
            err.starts_with(place) && err.contains(what),
            "{text:?}: {err}"
        );
    }
    let err = Trace::load(
        &PathBuf::from("/nonexistent/trace.csv"),
        &TraceOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/trace.csv"), "{err}");
}

#[test]
fn quoted_fields_crlf_and_a_byte_order_mark_are_accepted() {
    let t = parse("\u{feff}\"timestamp\",\"value\"\r\n\"2024-01-01 00:00:00\",\"4\"\r\n\"2024-01-01 00:01:00\",\"8\"\r\n").unwrap();
    assert_eq!(t.len(), 2);
}

/// The real traces beside the project (`../shared/traces/raw` from the workspace root), if
/// present: each loads with the documented shape.
#[test]
fn the_real_traces_load_when_present() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/traces/raw");
    if !dir.is_dir() {
        eprintln!(
            "note: {} is absent; skipping the real-trace check",
            dir.display()
        );
        return;
    }
    let expect = [
        // file, step, minimum days, gap minutes at least, start (UTC)
        (
            "nab/elb_request_count_8c0756.csv",
            5,
            14.0,
            40,
            "2014-04-10T00:04:00Z",
        ),
        (
            "nab/Twitter_volume_AAPL.csv",
            5,
            55.0,
            0,
            "2015-02-26T21:42:00Z",
        ),
        (
            "nab/Twitter_volume_FB.csv",
            5,
            54.9,
            0,
            "2015-02-26T21:42:00Z",
        ),
        (
            "worldcup98/invocation_count.csv",
            1,
            86.9,
            7,
            "1998-04-30T21:30:00Z",
        ),
        (
            "nasa_http/nasa_traffic_5m.csv",
            5,
            62.0,
            5 * (989 + 453),
            "1995-07-01T04:00:00Z",
        ),
    ];
    for (file, step, days, gaps, start) in expect {
        let path = dir.join(file);
        let t =
            Trace::load(&path, &TraceOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(t.step_minutes, step, "{file}");
        assert!(
            t.len() as f64 / 1440.0 >= days,
            "{file}: {} minutes",
            t.len()
        );
        assert!(
            t.gap_minutes() >= gaps,
            "{file}: {} gap minutes",
            t.gap_minutes()
        );
        assert_eq!(t.start.to_string(), start, "{file}");
        assert!((t.median_nonzero() - 100.0).abs() < 1e-6, "{file}");
    }
}

/// Hourly counts in local time across the end of daylight saving: 01:00 and 01:30 come twice.
const FALL_BACK: &str = "timestamp,value\n\
     2024-11-03 00:00:00,10\n\
     2024-11-03 00:30:00,10\n\
     2024-11-03 01:00:00,10\n\
     2024-11-03 01:30:00,10\n\
     2024-11-03 01:00:00,30\n\
     2024-11-03 01:30:00,\n\
     2024-11-03 02:00:00,10\n\
     2024-11-03 02:30:00,10\n";

fn with_duplicates(duplicates: Duplicates) -> Result<Trace, Error> {
    Trace::parse_csv(
        "dst.csv",
        FALL_BACK,
        &TraceOptions {
            duplicates,
            // The median step (10 a step) maps to 10: rates read as counts per step.
            target_median: 10.0,
            ..TraceOptions::default()
        },
    )
}

#[test]
fn a_repeated_timestamp_is_an_error_that_names_the_choice() {
    let err = with_duplicates(Duplicates::Error).unwrap_err().to_string();
    assert!(err.starts_with("dst.csv:6"), "{err}");
    assert!(err.contains("repeats the one on line 4"), "{err}");
    assert!(
        err.contains("sum") && err.contains("last") && err.contains("--duplicates"),
        "{err}"
    );
    assert_eq!(TraceOptions::default().duplicates, Duplicates::Error);
}

#[test]
fn repeated_timestamps_are_summed_or_the_last_is_kept_on_request() {
    let rate = |t: &Trace, m: usize| t.demand[m].map(|d| (d * 1e9).round() / 1e9);
    let t = with_duplicates(Duplicates::Sum).unwrap();
    assert_eq!(t.len(), 180, "six 30-minute steps");
    assert_eq!(rate(&t, 60), Some(40.0), "01:00: 10 + 30");
    assert_eq!(rate(&t, 90), Some(10.0), "01:30: 10 + an empty cell");
    let t = with_duplicates(Duplicates::Last).unwrap();
    assert_eq!(rate(&t, 60), Some(30.0));
    assert_eq!(t.demand[90], None, "01:30: the last row is empty");
    // A row before the latest that repeats nothing is still out of order.
    let err = Trace::parse_csv(
        "x.csv",
        "timestamp,value\n2024-01-01 00:00,1\n2024-01-01 00:02,1\n2024-01-01 00:01,1\n",
        &TraceOptions {
            duplicates: Duplicates::Sum,
            ..TraceOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("x.csv:4") && err.contains("not after"),
        "{err}"
    );
}
