//! # test-support: what the emulator and Lambda tests share (dev-only)
//!
//! - [`emulator`]: one moto server per test process, on a free port of 127.0.0.1 (or the one
//!   named by `DDB_AUTOSCALER_TEST_ENDPOINT`), clients pointed at it exactly as the functions
//!   configure theirs plus an endpoint URL and dummy credentials, and table and metric helpers
//!   that panic with a message (a panic is a failed test). Metrics are seeded as CloudWatch
//!   publishes them: the newest minutes are not there yet ([`emulator::PUBLICATION_DELAY_SECS`]).
//! - [`recorder`]: moto's request recorder, and the `GetMetricData` queries it saw (what
//!   CloudWatch would bill), per table.
//! - [`lambda`]: a fake Lambda Runtime API and the real function binary started as Lambda
//!   starts it, for `functions/*/tests`.
//! - [`api_gateway`]: API Gateway's HTTP API stood in for, in process: payload-v2 events (with
//!   or without an IAM identity) for the management API's route tests, and its handler served
//!   over HTTP for schemathesis. [`http`] is the little HTTP/1.1 every test server here speaks.
//! - [`proxy`]: the fault-injecting HTTP proxy of the fault campaign (and a per-API call
//!   counter, and a way to hold one request while another run goes on).
//! - [`cloudwatch`]: a fast `GetMetricData` stand-in for the 2,500-table scale run, and
//!   [`scale`]: that run's fleet of tables, their traffic and the calls a run should make.
//! - [`mock_aws`]: a small AWS in memory behind real SDK clients (`aws-smithy-mocks`), for what
//!   the emulator cannot do: the decrease quota, a clock the test moves, two runs interleaved at
//!   any step.
//!
//! Key decision: a crate of its own that every crate lists under `[dev-dependencies]` only, so
//! that no test code (process spawning, panics, table creation) can reach a Lambda binary. The
//! fixtures that the CLI's demo needs as well (creating tables, writing datapoints) are in
//! `emulator-fixtures`, re-exported here.

pub mod api_gateway;
pub mod cloudwatch;
pub mod emulator;
pub mod http;
pub mod lambda;
pub mod mock_aws;
pub mod proxy;
pub mod recorder;
pub mod scale;

pub use emulator_fixtures::{
    SeedMinute, TableSpec, capacities, create_table, put_minutes, put_values,
};
