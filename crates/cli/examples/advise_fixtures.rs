//! The tables of the README's `advise` example, in the local emulator: `scripts/advise-example`
//! starts the emulator, runs this, then `ddb-autoscaler advise`, and writes its output into the
//! README. A day and a half of per-minute traffic (UTC) ending now:
//! - `orders` (tag `on`, 400/150, GSI `by-customer` 100/150): reads follow a daily wave from 120
//!   units/s at 06:00 to 270 at 18:00, writes from 40 to 60; the GSI reads a steady 30 and
//!   writes what the table writes;
//! - `sessions` (`on`, 50/50): 2 reads and 1 write a second, with bursts of 150 and 30 for five
//!   minutes from twenty past every third hour;
//! - `audit-log` (`on`, 25/25): no traffic;
//! - `clicks` (`dry-run`, 200/50): 60 reads a second from 01:00 to 03:15, 08:00 to 10:15, 14:00
//!   to 16:15 and 19:00 to 21:15, 5 otherwise, and 3 writes.
//!
//! It refuses to run unless `AWS_ENDPOINT_URL` points at this machine: it creates tables.

use autoscaler_aws::Clients;
use emulator_fixtures::{SeedMinute, TableSpec, create_table, put_minutes};
use scaling_policy::{Dimension, Timestamp};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Minutes of traffic: a day and a half.
const MINUTES: i64 = 2_160;

/// The minute of the UTC day of `t`.
fn minute_of_day(t: Timestamp) -> i64 {
    t.unix().rem_euclid(86_400) / 60
}

/// 0 at 06:00 UTC, 1 at 18:00.
fn wave(t: Timestamp) -> f64 {
    let m = minute_of_day(t) as f64;
    0.5 - 0.5 * ((m - 360.0) / 1440.0 * std::f64::consts::TAU).cos()
}

fn burst(t: Timestamp, high: f64, low: f64) -> f64 {
    let m = minute_of_day(t);
    if (m / 60) % 3 == 0 && (20..25).contains(&(m % 60)) {
        high
    } else {
        low
    }
}

fn peaks(t: Timestamp) -> f64 {
    let m = minute_of_day(t);
    let on = [(60, 195), (480, 615), (840, 975), (1140, 1275)];
    if on.iter().any(|(a, b)| (*a..*b).contains(&m)) {
        60.0
    } else {
        5.0
    }
}

/// (table, index, dimension, units/s at a minute).
type Series = (
    &'static str,
    Option<&'static str>,
    Dimension,
    fn(Timestamp) -> f64,
);

const SERIES: &[Series] = &[
    ("orders", None, Dimension::Read, |t| 120.0 + 150.0 * wave(t)),
    ("orders", None, Dimension::Write, |t| 40.0 + 20.0 * wave(t)),
    ("orders", Some("by-customer"), Dimension::Read, |_| 30.0),
    ("orders", Some("by-customer"), Dimension::Write, |t| {
        40.0 + 20.0 * wave(t)
    }),
    ("sessions", None, Dimension::Read, |t| burst(t, 150.0, 2.0)),
    ("sessions", None, Dimension::Write, |t| burst(t, 30.0, 1.0)),
    ("audit-log", None, Dimension::Read, |_| 0.0),
    ("audit-log", None, Dimension::Write, |_| 0.0),
    ("clicks", None, Dimension::Read, peaks),
    ("clicks", None, Dimension::Write, |_| 3.0),
];

async fn seed() -> Result<(), Error> {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if !emulator_fixtures::is_local(&url) {
        return Err(format!(
            "this creates tables, so it only runs against a local emulator: set AWS_ENDPOINT_URL=http://127.0.0.1:PORT, not {url:?}"
        )
        .into());
    }
    let key = std::env::var("AUTOSCALER_TAG_KEY").unwrap_or_else(|_| "ddb-autoscaler".into());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = Clients::new(&sdk);
    let tables = [
        ("orders", (400, 150), vec![("by-customer", 100, 150)], "on"),
        ("sessions", (50, 50), vec![], "on"),
        ("audit-log", (25, 25), vec![], "on"),
        ("clicks", (200, 50), vec![], "dry-run"),
    ];
    for (name, capacity, indexes, mode) in tables {
        let spec = TableSpec::new(name, Some(capacity), &indexes, &[(key.as_str(), mode)]);
        create_table(&clients, &spec)
            .await
            .map_err(|e| autoscaler_aws::error::chain(&e))?;
    }
    let now = autoscaler_aws::now();
    let start = now.floor_minute().plus_secs(-60 * MINUTES);
    // CloudWatch publishes a minute about two minutes after it ends.
    let minutes = MINUTES - 2;
    for (table, index, dimension, rate) in SERIES {
        let traffic: Vec<SeedMinute> = (0..minutes)
            .map(|i| SeedMinute {
                consumed: 60.0 * rate(start.plus_secs(60 * i)),
                throttled: 0.0,
            })
            .collect();
        put_minutes(&clients, table, *index, *dimension, start, &traffic)
            .await
            .map_err(|e| autoscaler_aws::error::chain(&e))?;
    }
    eprintln!(
        "created orders (GSI by-customer), sessions, audit-log, clicks with {minutes} minutes of traffic"
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("advise_fixtures: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(seed()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("advise_fixtures: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
