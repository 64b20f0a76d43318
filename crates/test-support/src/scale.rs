//! The fleet of the scale run (issue 9, "Prove it"): 2,500 opted-in tables (DynamoDB's default
//! regional quota), a third of them with two GSIs, their traffic as a function for the
//! CloudWatch stand-in ([`crate::cloudwatch`]), and the calls a run over them should make. Shared
//! by the debug test that asserts the call counts (`crates/autoscaler-aws/tests/scale.rs`) and the
//! release benchmark that measures memory and time (`examples/scale_run.rs`).
//!
//! **The traffic.** Table `i` (`scale-0000` ...): every fifth is hot (reads at 95% of 100:
//! scale-up raises them), the one after it idle (1 unit/s: scale-down lowers it), the others and
//! every GSI steady at 75% (neither function changes them). So each run changes 500 tables.

use std::sync::Arc;

use autoscaler_aws::Clients;
use autoscaler_aws::aws::{MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL, RESOURCES_PER_PAGE};
use autoscaler_aws::poll::{HISTORY_PERIOD_SECS, HISTORY_SERIES_PER_RUN};
use futures::stream::{self, StreamExt};
use scaling_policy::Timestamp;
use scaling_policy::cadence::HISTORY_REFRESH_MINUTES;
use scaling_policy::{Settings, seasonal};

use crate::TableSpec;
use crate::cloudwatch::{Series, SeriesId};

/// Tables in the fleet: DynamoDB's default quota of tables per region.
pub const TABLES: usize = 2_500;

/// The name of table `i`.
pub fn name(i: usize) -> String {
    format!("scale-{i:04}")
}

/// Whether table `i` has two GSIs (a third of them).
pub fn has_gsis(i: usize) -> bool {
    i.is_multiple_of(3)
}

/// The table's capacity, and each GSI's (read and write alike).
pub const TABLE_UNITS: u64 = 100;
/// A GSI's capacity.
pub const GSI_UNITS: u64 = 100;

/// The GSIs of a table that has them.
pub const GSIS: [&str; 2] = ["by-a", "by-b"];

/// Creates the fleet, opted in with `tag_key`, a few tables at a time.
pub async fn create(clients: &Clients, tag_key: &str) {
    stream::iter(0..TABLES)
        .map(|i| async move {
            let gsis: Vec<(&str, u64, u64)> = if has_gsis(i) {
                GSIS.iter().map(|g| (*g, GSI_UNITS, GSI_UNITS)).collect()
            } else {
                Vec::new()
            };
            let spec = TableSpec::new(
                &name(i),
                Some((TABLE_UNITS, TABLE_UNITS)),
                &gsis,
                &[(tag_key, "on")],
            );
            crate::create_table(clients, &spec)
                .await
                .unwrap_or_else(|e| panic!("create {}: {e}", name(i)));
        })
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// Consumed units/s of one series of the fleet (the metric names of `autoscaler_aws::aws`).
fn consumed(id: &SeriesId) -> f64 {
    let i: usize = id
        .table
        .strip_prefix("scale-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let read = id.metric.contains("Read");
    match (id.index.is_some(), i % 5, read) {
        (false, 0, true) => 95.0,
        (false, 1, _) => 1.0,
        (false, _, _) => 75.0,
        (true, _, _) => 0.75 * GSI_UNITS as f64,
    }
}

/// The fleet's traffic for the stand-in: every minute known, consumed as above, no throttling.
pub fn series() -> Series {
    Arc::new(|id: &SeriesId, _t: Timestamp| {
        if id.metric.starts_with("Consumed") {
            Some(consumed(id) * 60.0)
        } else {
            None
        }
    })
}

/// Tables each run changes.
pub const CHANGED_PER_RUN: usize = 500;

/// The targets (tables and GSIs) of the fleet.
pub fn targets() -> usize {
    (0..TABLES)
        .map(|i| 1 + if has_gsis(i) { GSIS.len() } else { 0 })
        .sum()
}

/// The calls one run over the fleet makes, per API, with moto as DynamoDB: discovery in pages
/// of [`RESOURCES_PER_PAGE`] (moto ends a page one resource early, at 99 tags: `ceil(2500/99)`
/// = 26 calls, where DynamoDB's would be 25), one `DescribeTable` per table and one more per
/// changed table (under its lease), one `DescribeLimits`, one `DescribeScalableTargets` page;
/// for the recent datapoints, per window in `windows` (`(minutes, series)`: a cold scale-up
/// reads the cadence's calm wait, [`Cadence::first_poll_minutes`], for at most
/// `CALM_SERIES_PER_RUN` series and the recent window for the rest; scale-down its window for
/// all), `GetMetricData` calls of two metrics per series (consumed and throttle events, as
/// every cold or scale-down poll reads them), at most 500 queries and
/// [`MAX_DATAPOINTS_PER_CALL`] datapoints each; for the seasonal history of the first
/// [`HISTORY_SERIES_PER_RUN`] series (a cold start) one call per metric (consumed, throttle
/// events) per as many series as CloudWatch's datapoint limit allows; one `UpdateTable` and two
/// lease `UpdateItem` calls per changed table.
///
/// [`Cadence::first_poll_minutes`]: scaling_policy::cadence::Cadence::first_poll_minutes
pub fn expected_calls(windows: &[(u32, usize)]) -> Vec<(&'static str, usize)> {
    let recent_calls: usize = windows
        .iter()
        .map(|&(minutes, series)| {
            let per_call = (MAX_DATAPOINTS_PER_CALL / (2 * minutes.max(1) as usize))
                .clamp(1, MAX_QUERIES_PER_CALL / 2);
            series.div_ceil(per_call)
        })
        .sum();
    let history_series = (targets() * 2).min(HISTORY_SERIES_PER_RUN);
    let (start, end) = seasonal::history_range(
        Timestamp::from_unix(0),
        Settings::default().seasonal_ahead_minutes,
        HISTORY_REFRESH_MINUTES,
    );
    // Its range, rounded out to whole periods: at most one more.
    let periods = usize::try_from(end.secs_since(start) / HISTORY_PERIOD_SECS).unwrap_or(0) + 1;
    let per_call = MAX_DATAPOINTS_PER_CALL / periods;
    let history_calls = 2 * history_series.div_ceil(per_call);
    let moto_page = RESOURCES_PER_PAGE as usize - 1;
    vec![
        ("DescribeLimits", 1),
        ("DescribeScalableTargets", 1),
        ("DescribeTable", TABLES + CHANGED_PER_RUN),
        ("GetMetricData", recent_calls + history_calls),
        ("GetResources", TABLES.div_ceil(moto_page)),
        ("UpdateItem", 2 * CHANGED_PER_RUN),
        ("UpdateTable", CHANGED_PER_RUN),
    ]
}
