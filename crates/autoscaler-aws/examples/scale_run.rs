//! The scale benchmark: what one scale-up and one scale-down run over 2,500 tables (a third with
//! two GSIs; `test_support::scale`) cost in memory and time, to size the Lambda functions (128 MB,
//! a 50 s timeout). Run it in release mode, as the functions are built (`scripts/bench-scale`
//! does, and writes the figures into the README):
//!
//! ```sh
//! cargo run --release -p autoscaler-aws --example scale_run -- [--readme-out FILE]
//! ```
//!
//! This process sets the stage: the emulator (moto, for DynamoDB), the fleet, the fast
//! `GetMetricData` stand-in, and the fault proxy as a call counter in front of both. The runs
//! themselves happen in a child process of their own (this binary again, `child URL LEASES`),
//! as a function's cold start would: its peak resident memory (`VmHWM`) is the run's alone, not
//! the stand-in's nor the fleet's set-up. Wall times are against moto on this machine, which
//! answers far slower than DynamoDB: an upper bound of the real runs'.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool: any failure aborts it

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use autoscaler_aws::{Direction, RunConfig, run};
use test_support::cloudwatch::CloudWatchStandIn;
use test_support::emulator::{clients_at, endpoint, lease_table};
use test_support::proxy::Proxy;
use test_support::scale;

const KEY: &str = "scale-run";

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

/// The child: both runs through `url`, one line per run (direction, seconds, tables changed),
/// then the peak RSS in KiB.
async fn child(url: &str, leases: &str) {
    let c = clients_at(url, "us-east-1", autoscaler_aws::aws::ATTEMPT_TIMEOUT).await;
    let config = RunConfig {
        tag_key: KEY.to_owned(),
        lease_table: Some(leases.to_owned()),
        ..RunConfig::default()
    };
    for direction in [Direction::Up, Direction::Down] {
        let t = Instant::now();
        let s = run(&c, &config, direction, autoscaler_aws::now())
            .await
            .unwrap();
        assert!(s.failed.is_empty(), "{:?}", s.failed);
        println!(
            "run {direction} {:.2} {} {}",
            t.elapsed().as_secs_f64(),
            s.tables_changed,
            serde_json::to_vec(&s).unwrap().len()
        );
    }
    println!("rss {}", peak_rss_kib());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1], &args[2]).await;
    }
    let readme_out = args
        .iter()
        .position(|a| a == "--readme-out")
        .and_then(|i| args.get(i + 1));

    let setup = clients_at(endpoint(), "us-east-1", Duration::from_secs(30)).await;
    let t = Instant::now();
    scale::create(&setup, KEY).await;
    eprintln!(
        "created {} tables ({} targets) in {:.0} s",
        scale::TABLES,
        scale::targets(),
        t.elapsed().as_secs_f64()
    );
    let leases = lease_table(&setup).await;
    let standin = CloudWatchStandIn::start(scale::series());
    let proxy = Proxy::start(endpoint(), Some(standin.url()), Duration::from_secs(60));

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child", proxy.url(), leases])
        .output()
        .expect("the child run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut runs = Vec::new();
    let mut rss = 0;
    for line in stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["run", d, secs, changed, json] => runs.push((
                (*d).to_owned(),
                secs.parse::<f64>().unwrap(),
                changed.parse::<usize>().unwrap(),
                json.parse::<usize>().unwrap(),
            )),
            ["rss", kib] => rss = kib.parse::<u64>().unwrap(),
            _ => {}
        }
    }
    let counts = proxy.counts();
    let calls: usize = counts.values().sum();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "One scale-up and one scale-down run over {} opted-in tables ({} with two GSIs: {} targets, {} metric queries a run), release build, in one process as a cold-started function: **peak RSS {:.1} MB** (`VmHWM`; the functions have 128 MB).\n",
        scale::TABLES,
        (0..scale::TABLES).filter(|i| scale::has_gsis(*i)).count(),
        scale::targets(),
        scale::targets() * 2 * 2,
        rss as f64 / 1024.0
    );
    let _ = writeln!(
        md,
        "| run | wall time | tables changed | result (summary JSON) |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|");
    for (d, secs, changed, json) in &runs {
        let _ = writeln!(
            md,
            "| scale-{d} | {secs:.1} s | {changed} | {:.1} MB |",
            *json as f64 / 1e6
        );
    }
    let _ = writeln!(
        md,
        "\nAPI calls of both runs together ({calls}), as the proxy counted them: {}. Wall times are against moto on the benchmark's machine (DynamoDB answers faster); the functions time out at 50 s.",
        counts
            .iter()
            .map(|(api, n)| format!("`{api}` {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    print!("{md}");
    if let Some(path) = readme_out {
        std::fs::write(path, &md).unwrap();
    }
}
