//! Harness of the operator-command tests: the emulator of `test-support` (one moto server per
//! test binary, on a free port of 127.0.0.1). The binary under test gets the endpoint URL, dummy
//! credentials and a region through its environment (nothing else from the machine's), and a
//! tag key unique to the test, so tests share the emulator without seeing each other's tables.
//! Metrics are seeded as CloudWatch publishes them: the newest minutes are not there yet.
#![allow(dead_code, unused_imports)] // each test binary uses a part of the harness

use std::path::PathBuf;
use std::process::{Command, Output};

use autoscaler_aws::{Clients, RunConfig};
use scaling_policy::{Dimension, Timestamp};
use test_support::SeedMinute;
use test_support::emulator::seed_published;
pub use test_support::emulator::{capacity, clients, endpoint, published_before, table};

/// A folder that holds no AWS configuration, for `HOME` and the config file variables (one
/// for every run: nothing ever writes to it).
fn empty_home() -> PathBuf {
    let dir = std::env::temp_dir().join("ddb-autoscaler-cli-empty-home");
    std::fs::create_dir_all(&dir).expect("scratch home");
    dir
}

/// The binary with a clean environment: no AWS configuration of this machine, IMDS off.
pub fn bare() -> Command {
    let home = empty_home();
    let mut c = Command::new(env!("CARGO_BIN_EXE_ddb-autoscaler"));
    c.env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// The deployment settings every test runs with, pinned so that the expected figures do not
/// move when the shipped defaults are retuned.
pub const SETTINGS: &[(&str, &str)] = &[
    ("AUTOSCALER_TARGET_PERCENT", "70"),
    ("AUTOSCALER_SCALE_UP_TRIGGER_PERCENT", "80"),
    ("AUTOSCALER_COOLDOWN_MINUTES", "30"),
    ("AUTOSCALER_UP_WINDOW_MINUTES", "5"),
    ("AUTOSCALER_DOWN_WINDOW_MINUTES", "30"),
    ("AUTOSCALER_MIN_DECREASE_PERCENT", "20"),
];

/// The binary against the emulator, with dummy credentials, the opt-in tag key `tag_key` and
/// the [`SETTINGS`].
pub fn cli(tag_key: &str) -> Command {
    let mut c = bare();
    c.env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AUTOSCALER_TAG_KEY", tag_key)
        .envs(SETTINGS.iter().copied());
    c
}

/// Runs `command` and returns its output; panics with stderr unless the exit status is `ok`.
pub fn run(command: &mut Command, ok: bool) -> Output {
    let out = command.output().expect("run ddb-autoscaler");
    assert_eq!(
        out.status.success(),
        ok,
        "exit status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `command`, expecting success, and parses its stdout as JSON.
pub fn json(command: &mut Command) -> serde_json::Value {
    let out = run(command, true);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The run configuration [`cli`] gives the binary: the opt-in tag key `tag_key` and the
/// [`SETTINGS`].
pub fn config(tag_key: &str) -> RunConfig {
    RunConfig::from_lookup(|name| {
        if name == "AUTOSCALER_TAG_KEY" {
            return Some(tag_key.to_owned());
        }
        SETTINGS
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("valid test settings")
}

/// The traffic of the `minutes` minutes from `start` (consumed units/s and throttle events given
/// by `f(minute start)`), written as CloudWatch has published it when the traffic ends (the
/// tests' traffic runs until their `now`): the minutes from [`published_before`] of that end on
/// are left out.
pub async fn seed(
    c: &Clients,
    table: &str,
    index: Option<&str>,
    dimension: Dimension,
    start: Timestamp,
    minutes: usize,
    f: impl Fn(Timestamp) -> (f64, f64),
) {
    let data: Vec<SeedMinute> = (0..minutes)
        .map(|i| {
            let (rate, throttled) = f(start.floor_minute().plus_secs(60 * i as i64));
            SeedMinute {
                consumed: rate * 60.0,
                throttled,
            }
        })
        .collect();
    let end = start.floor_minute().plus_secs(60 * minutes as i64);
    seed_published(c, table, index, dimension, start, &data, end).await;
}

/// Parses an RFC 3339 timestamp the commands print.
pub fn timestamp(v: &serde_json::Value) -> Timestamp {
    let text = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    capacity_sim::trace::parse_timestamp(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}
