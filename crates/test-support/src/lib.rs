//! # test-support: what the emulator and Lambda tests share (dev-only)
//!
//! - [`emulator`]: one moto server per test process, on a free port of 127.0.0.1 (or the one
//!   named by `DDB_AUTOSCALER_TEST_ENDPOINT`), clients pointed at it exactly as the functions
//!   configure theirs plus an endpoint URL and dummy credentials, and table and metric helpers
//!   that panic with a message (a panic is a failed test). Metrics are seeded as CloudWatch
//!   publishes them: the newest minutes are not there yet ([`emulator::PUBLICATION_DELAY_SECS`]).
//! - [`lambda`]: a fake Lambda Runtime API and the real function binary started as Lambda
//!   starts it, for `functions/*/tests`.
//! - [`api_gateway`]: API Gateway's HTTP API stood in for, in process: payload-v2 events (with
//!   or without an IAM identity) for the management API's route tests, and its handler served
//!   over HTTP for schemathesis. [`http`] is the little HTTP/1.1 both test servers speak.
//!
//! Key decision: a crate of its own that every crate lists under `[dev-dependencies]` only, so
//! that no test code (process spawning, panics, table creation) can reach a Lambda binary. The
//! fixtures that the CLI's demo needs as well (creating tables, writing datapoints) are in
//! `emulator-fixtures`, re-exported here.

pub mod api_gateway;
pub mod emulator;
pub mod http;
pub mod lambda;

pub use emulator_fixtures::{
    SeedMinute, TableSpec, capacities, create_table, put_minutes, put_values,
};
