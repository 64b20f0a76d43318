//! Harness of the emulator tests: the moto server, clients and table helpers of `test-support`
//! (one server per test binary; the SDK configured exactly as in Lambda, plus an endpoint URL and
//! dummy credentials: no test-only code path), and what these tests add: a run configuration per
//! test, and the seeding of recent traffic as CloudWatch publishes it.
#![allow(dead_code)]

use autoscaler_aws::RunConfig;
use scaling_policy::{Minute, Timestamp, Usage};
use test_support::emulator::published_before;
/// `seed(c, table, index, dimension, now, minutes, per_sec, throttled)`: constant traffic over the
/// `minutes` minutes before `now`'s minute, written as CloudWatch would have published it by
/// `now` (the newest minutes are not there yet).
pub use test_support::emulator::seed_recent as seed;
pub use test_support::emulator::{capacity, clients, table};

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

/// The usage the pipeline can read at `now` after `seed` with the same arguments: the
/// published minutes known, the rest gaps.
pub fn seeded_usage(now: Timestamp, minutes: usize, per_sec: f64, throttled: f64) -> Usage {
    let start = now.floor_minute().plus_secs(-60 * minutes as i64);
    let published = published_before(now);
    Usage {
        start,
        minutes: (0..minutes as i64)
            .map(|i| {
                if start.plus_secs(60 * i) < published {
                    Minute::known(per_sec * 60.0, throttled)
                } else {
                    Minute::GAP
                }
            })
            .collect(),
    }
}
