//! The local emulator for tests: one moto server per test process, clients pointed at it, and
//! helpers that create tables, seed metrics and read capacities back, panicking with a message
//! on failure.
//!
//! **Seeding as CloudWatch publishes.** A datapoint of a real table appears in CloudWatch some
//! minutes after its minute ends (DESIGN section 4: roughly 1-3). [`seed_published`] writes the
//! traffic of each minute only when CloudWatch would show it by the given `now`: the minute must
//! have ended [`PUBLICATION_DELAY_SECS`] before (2 minutes, the simulator's default). So a test
//! that seeds "the last 5 minutes" and runs at `now` gives the pipeline what production would
//! see at `now`: 3 known minutes and 2 not published yet.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use autoscaler_aws::Clients;
use emulator_fixtures::{SeedMinute, TableSpec, capacities, create_table, put_minutes};
use scaling_policy::{Dimension, Timestamp};

/// Seconds after a minute ends before its datapoint is published, in these tests.
pub const PUBLICATION_DELAY_SECS: i64 = 120;

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The emulator's endpoint URL, started on first use.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(|| test_endpoint(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")))
}

/// The endpoint of a local moto server: the one named by `DDB_AUTOSCALER_TEST_ENDPOINT` (it
/// must be on this machine), or a new one started from `<workspace>/.venv` (installed by
/// `scripts/emulator install`) through `scripts/lib/moto_server.py` (moto with DynamoDB's
/// `TagResource` overwriting, as AWS does) on a free port of 127.0.0.1. A watchdog shell stops
/// the server when this process ends. Panics with a message saying what to do when the emulator
/// is not installed or does not start.
fn test_endpoint(workspace: &std::path::Path) -> String {
    if let Ok(url) = std::env::var("DDB_AUTOSCALER_TEST_ENDPOINT") {
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:"),
            "DDB_AUTOSCALER_TEST_ENDPOINT must be a local emulator, got {url}"
        );
        return url;
    }
    let moto = workspace.join(".venv/bin/moto_server");
    // moto with DynamoDB's TagResource fixed (scripts/lib/moto_server.py says how).
    let python = workspace.join(".venv/bin/python");
    let launcher = workspace.join("scripts/lib/moto_server.py");
    assert!(
        moto.exists(),
        "the emulator is not installed: run `scripts/emulator install` (or scripts/test) first ({} is missing)",
        moto.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
    // The watchdog outlives this process on purpose (it is never waited for): it stops and reaps
    // moto once this process is gone.
    // The request recorder (crate::recorder) writes to a file of this process's own.
    let recording = crate::recorder::recording_file();
    let script = format!(
        "MOTO_RECORDER_FILEPATH='{}' '{}' '{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill $m; wait $m; rm -f '{}'",
        recording.display(),
        python.display(),
        launcher.display(),
        std::process::id(),
        recording.display()
    );
    #[allow(clippy::zombie_processes)]
    std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// Clients configured as the functions configure theirs, plus the emulator's endpoint URL (what
/// `AWS_ENDPOINT_URL` does), region `us-east-1` and dummy credentials.
pub async fn clients() -> Clients {
    clients_at(
        endpoint(),
        "us-east-1",
        autoscaler_aws::aws::ATTEMPT_TIMEOUT,
    )
    .await
}

/// Clients configured as the functions configure theirs (with an attempt timeout of `attempt`),
/// for the local endpoint `url` (the emulator, a proxy in front of it) in `region` (moto keeps
/// each region apart), with dummy credentials.
pub async fn clients_at(url: &str, region: &str, attempt: Duration) -> Clients {
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "tests talk to 127.0.0.1 only, not {url}"
    );
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(region.to_owned()))
        .timeout_config(autoscaler_aws::aws::timeouts(attempt))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .load()
        .await;
    Clients::new(&sdk)
}

/// Creates a table (provisioned with `capacity`, on-demand with `None`) with GSIs as
/// (name, read, write) and tags as (key, value).
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

/// The lease table every test of a process shares (each test's tables are its own, so are
/// their leases).
pub const LEASE_TABLE: &str = "test-ddb-autoscaler-leases";

/// Creates [`LEASE_TABLE`] unless it exists, and returns its name.
pub async fn lease_table(c: &Clients) -> &'static str {
    emulator_fixtures::create_lease_table(c, LEASE_TABLE)
        .await
        .unwrap_or_else(|e| panic!("create the lease table: {e}"));
    LEASE_TABLE
}

/// The (read, write) capacity of the table (`None`) or a GSI, per `DescribeTable`.
pub async fn capacity(c: &Clients, table: &str, index: Option<&str>) -> (u64, u64) {
    capacities(c, table)
        .await
        .unwrap_or_else(|e| panic!("describe {table}: {e}"))
        .into_iter()
        .find(|(i, _, _)| i.as_deref() == index)
        .map(|(_, r, w)| (r, w))
        .unwrap_or_else(|| panic!("{table} has no target {index:?}"))
}

/// The end (exclusive) of the minutes CloudWatch has published by `now`: a minute is there once
/// it ended [`PUBLICATION_DELAY_SECS`] ago.
pub fn published_before(now: Timestamp) -> Timestamp {
    now.plus_secs(-PUBLICATION_DELAY_SECS - 60)
        .floor_minute()
        .plus_secs(60)
}

/// Writes the traffic of one dimension of a table or GSI, `traffic[i]` being the minute that
/// starts at `start + i` minutes, as CloudWatch would have published it by `now`: the minutes
/// from [`published_before`]`(now)` on are left out. Returns how many minutes were written.
pub async fn seed_published(
    c: &Clients,
    table: &str,
    index: Option<&str>,
    dimension: Dimension,
    start: Timestamp,
    traffic: &[SeedMinute],
    now: Timestamp,
) -> usize {
    let start = start.floor_minute();
    let published = usize::try_from(published_before(now).secs_since(start) / 60)
        .unwrap_or(0)
        .min(traffic.len());
    put_minutes(c, table, index, dimension, start, &traffic[..published])
        .await
        .unwrap_or_else(|e| panic!("put metrics for {table}: {e}"));
    published
}

/// Constant traffic over the `minutes` minutes before `now`'s minute (`per_sec` consumed units/s
/// and `throttled` events a minute), seeded as CloudWatch publishes it by `now`
/// ([`seed_published`]).
#[allow(clippy::too_many_arguments)] // reads better at the call sites than a builder
pub async fn seed_recent(
    c: &Clients,
    table: &str,
    index: Option<&str>,
    dimension: Dimension,
    now: Timestamp,
    minutes: usize,
    per_sec: f64,
    throttled: f64,
) {
    let traffic = vec![
        SeedMinute {
            consumed: per_sec * 60.0,
            throttled,
        };
        minutes
    ];
    let start = now.floor_minute().plus_secs(-60 * minutes as i64);
    seed_published(c, table, index, dimension, start, &traffic, now).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_is_published_two_minutes_after_it_ends() {
        let t = |hms: i64| Timestamp::from_unix(1_796_206_680 + hms); // 10:18:00
        // At 10:18:00 the minute 10:15 (ended 10:16) is there, 10:16 is not.
        assert_eq!(published_before(t(0)), t(-120));
        assert_eq!(published_before(t(59)), t(-120));
        assert_eq!(published_before(t(60)), t(-60));
    }
}
