//! Measures what one run costs in memory and time, to size the Lambda functions.
//!
//! Against the local emulator only. `seed N` creates N tables (each with two GSIs, all opted in)
//! and writes 30 minutes of per-minute metrics for every table and GSI; `run`, in a fresh
//! process, runs the scale-up and the scale-down pipeline as a function would (clients built
//! once) and prints each run's wall time and the process's peak resident memory (VmHWM). Run it
//! in release mode, as the functions are built:
//!
//! ```sh
//! url=$(scripts/emulator start)
//! AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
//!   cargo run --release -p autoscaler-aws --example run_footprint -- seed 100
//! AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
//!   cargo run --release -p autoscaler-aws --example run_footprint -- run
//! scripts/emulator stop
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool: any failure aborts it

use std::time::Instant;

use autoscaler_aws::{Clients, Direction, RunConfig, run};
use emulator_fixtures::{SeedMinute, TableSpec, create_table, put_minutes};
use scaling_policy::Dimension;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:"),
        "run it against the local emulator only (AWS_ENDPOINT_URL={url:?})"
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = Clients::new(&sdk);
    let config = RunConfig::from_env().expect("configuration");
    let now = autoscaler_aws::now();
    if args.first().map(String::as_str) == Some("run") {
        for direction in [Direction::Up, Direction::Down] {
            let t = Instant::now();
            let summary = run(&clients, &config, direction, now).await.unwrap();
            println!(
                "{direction:?}: {} tables managed, {} changed, {} failed in {:.2} s; peak RSS {} KiB",
                summary.tables_managed,
                summary.tables_changed,
                summary.failed.len(),
                t.elapsed().as_secs_f64(),
                peak_rss_kib()
            );
        }
        return;
    }
    assert_eq!(
        args.first().map(String::as_str),
        Some("seed"),
        "usage: seed N | run"
    );
    let n: usize = args
        .get(1)
        .map_or(50, |a| a.parse().expect("number of tables"));
    let start = now.floor_minute().plus_secs(-30 * 60);
    for i in 0..n {
        let name = format!("footprint-{i:04}");
        let spec = TableSpec {
            name: name.clone(),
            capacity: Some((100, 100)),
            indexes: vec![("gsi-a".into(), 50, 50), ("gsi-b".into(), 50, 50)],
            tags: vec![(config.tag_key.clone(), "on".into())],
        };
        create_table(&clients, &spec).await.unwrap();
        for index in [None, Some("gsi-a"), Some("gsi-b")] {
            for (dimension, rate) in [(Dimension::Read, 85.0), (Dimension::Write, 5.0)] {
                let minutes = vec![
                    SeedMinute {
                        consumed: rate * 60.0,
                        throttled: 0.0,
                    };
                    30
                ];
                put_minutes(&clients, &name, index, dimension, start, &minutes)
                    .await
                    .unwrap();
            }
        }
    }
    println!("seeded {n} tables x 3 targets");
}
