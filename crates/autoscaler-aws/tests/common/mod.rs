//! Test harness for the emulator tests: one moto server per test binary, started on a free port
//! on 127.0.0.1 from the project's virtualenv (`scripts/emulator install`), or the one named by
//! `DDB_AUTOSCALER_TEST_ENDPOINT`. The SDK is configured exactly as in Lambda, plus an endpoint
//! URL (what `AWS_ENDPOINT_URL` does) and dummy credentials: no test-only code path.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use autoscaler_aws::emulator::{SeedMinute, TableSpec, create_table, put_minutes};
use autoscaler_aws::{Clients, RunConfig};
use scaling_policy::{Dimension, Timestamp};

static ENDPOINT: OnceLock<String> = OnceLock::new();

fn start_moto() -> String {
    autoscaler_aws::emulator::test_endpoint(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."),
    )
}

/// The emulator's endpoint URL.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(start_moto)
}

/// Clients configured like the functions', pointed at the emulator.
pub async fn clients() -> Clients {
    autoscaler_aws::emulator::clients_for(endpoint()).await
}

/// A run configuration whose opt-in tag key is unique to one test, so parallel tests sharing
/// the emulator never see each other's tables.
pub fn config(tag_key: &str) -> RunConfig {
    RunConfig {
        tag_key: tag_key.to_owned(),
        ..RunConfig::default()
    }
}

/// `now` for a test: the current time (moto keeps real timestamps).
pub fn now() -> Timestamp {
    autoscaler_aws::now()
}

/// Creates a provisioned table with the given GSIs and tags.
pub async fn table(
    c: &Clients,
    name: &str,
    capacity: Option<(u64, u64)>,
    indexes: &[(&str, u64, u64)],
    tags: &[(&str, &str)],
) {
    create_table(c, &TableSpec::new(name, capacity, indexes, tags))
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e}"));
}

/// Writes `minutes` one-minute datapoints ending at the last complete minute before `now`,
/// each with `consumed_per_sec * 60` consumed units and `throttled` events.
#[allow(clippy::too_many_arguments)] // reads better at the call sites than a builder
pub async fn seed(
    c: &Clients,
    table: &str,
    index: Option<&str>,
    dimension: Dimension,
    now: Timestamp,
    minutes: usize,
    consumed_per_sec: f64,
    throttled: f64,
) -> Vec<SeedMinute> {
    let data = vec![
        SeedMinute {
            consumed: consumed_per_sec * 60.0,
            throttled,
        };
        minutes
    ];
    let start = now.floor_minute().plus_secs(-60 * minutes as i64);
    put_minutes(c, table, index, dimension, start, &data)
        .await
        .unwrap_or_else(|e| panic!("put metrics for {table}: {e}"));
    data
}

/// The (read, write) capacity of the table (`None`) or a GSI, per `DescribeTable`.
pub async fn capacity(c: &Clients, table: &str, index: Option<&str>) -> (u64, u64) {
    let all = autoscaler_aws::emulator::capacities(c, table)
        .await
        .unwrap_or_else(|e| panic!("describe {table}: {e}"));
    all.into_iter()
        .find(|(i, _, _)| i.as_deref() == index)
        .map(|(_, r, w)| (r, w))
        .unwrap_or_else(|| panic!("{table} has no target {index:?}"))
}
