//! CloudWatch history of one table or GSI: for each dimension asked for, its
//! `Consumed{Read,Write}CapacityUnits` (Sum), `{Read,Write}ThrottleEvents` (Sum) and
//! `Provisioned{Read,Write}CapacityUnits` (Average) over a period, with `GetMetricData`. The
//! stage `backtest` (and any command that needs a table's past) starts with.
//!
//! **Resolution.** CloudWatch keeps 60 s datapoints for 15 days, 300 s ones for 63 days and
//! 3600 s ones for 455 days, and accepts a period only as fine as the age of a query's start
//! allows. So the period is cut into three segments (older than 63 days at 3600 s, 15-63 days at
//! 300 s, younger at 60 s, each boundary [`RETENTION_MARGIN_SECS`] on the safe side), and each
//! segment into [`Call`]s: one `GetMetricData` request each, within the API's datapoint limit for
//! all the queries together, starting on a multiple of its period. The first call may start
//! before the period asked for (rounded down to its period); the calls are contiguous.
//!
//! **Progress.** A bar on stderr (`indicatif`) counts the calls when stderr is a terminal;
//! nothing is drawn otherwise (so scripts and tests see a clean stderr).
//!
//! A datapoint keeps its period ([`Point`]): turning the series into per-minute values is the
//! next stage's job (`demand.rs`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use autoscaler_aws::aws::{self, MetricKey, metric_names};
use autoscaler_aws::{Clients, Error};
use scaling_policy::time::DAY_SECS;
use scaling_policy::{Dimension, Timestamp};

/// How far on the safe side of CloudWatch's retention boundaries the periods switch.
pub const RETENTION_MARGIN_SECS: i64 = 3_600;
/// The longest history CloudWatch keeps (at 3600 s), in days.
pub const MAX_DAYS: u32 = 455;

/// What to fetch.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The table.
    pub table: &'a str,
    /// One of its GSIs instead of the table itself.
    pub index: Option<&'a str>,
    /// The dimensions, each with its three series.
    pub dimensions: &'a [Dimension],
    /// Start of the period (the first call may start earlier, on its period).
    pub start: Timestamp,
    /// End of the period (exclusive).
    pub end: Timestamp,
    /// The time the ages (and so the periods CloudWatch still has) are counted from.
    pub now: Timestamp,
    /// Datapoints one call may return (CloudWatch: [`aws::MAX_DATAPOINTS_PER_CALL`]).
    pub max_datapoints_per_call: usize,
}

/// One datapoint as CloudWatch returned it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Start of its period.
    pub at: Timestamp,
    /// The statistic's value over the period.
    pub value: f64,
    /// The period, in seconds.
    pub period: i64,
}

/// The three series of one dimension, oldest datapoint first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Read or write.
    pub dimension: Dimension,
    /// Consumed capacity units, a Sum per period.
    pub consumed: Vec<Point>,
    /// Throttle events, a Sum per period.
    pub throttled: Vec<Point>,
    /// Provisioned capacity units, an Average per period (empty where CloudWatch has none, as
    /// in the local emulator).
    pub provisioned: Vec<Point>,
}

/// What was fetched.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Start of the first call (at or before the start asked for).
    pub start: Timestamp,
    /// End of the period (exclusive).
    pub end: Timestamp,
    /// One per dimension asked for, in the order asked.
    pub series: Vec<Series>,
    /// `GetMetricData` calls made.
    pub calls: usize,
    /// Datapoints received.
    pub datapoints: usize,
    /// The periods used (seconds), coarsest first.
    pub periods: Vec<i64>,
}

impl History {
    /// Whole minutes in `[start, end)`.
    pub fn minutes(&self) -> usize {
        usize::try_from(self.end.secs_since(self.start) / 60).unwrap_or(0)
    }
}

/// Fetches the history `request` describes, one call after the other.
pub async fn fetch(clients: &Clients, request: &Request<'_>) -> Result<History, Error> {
    let keys: Vec<MetricKey> = request
        .dimensions
        .iter()
        .flat_map(|d| metric_keys(request.table, request.index, *d))
        .collect();
    let calls = plan_calls(
        request.start,
        request.end,
        request.now,
        keys.len(),
        request.max_datapoints_per_call,
    );
    let mut fetched: Vec<Vec<Point>> = vec![Vec::new(); keys.len()];
    let mut datapoints = 0;
    let progress = progress(calls.len());
    for w in &calls {
        let period = i32::try_from(w.period).unwrap_or(60);
        let got = aws::fetch_history(clients, &keys, w.start, w.end, period)
            .await
            .and_then(|series| series.into_iter().collect::<Result<Vec<_>, _>>());
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                progress.finish_and_clear();
                return Err(e);
            }
        };
        for (all, points) in fetched.iter_mut().zip(got) {
            datapoints += points.len();
            all.extend(points.into_iter().map(|(at, value)| Point {
                at,
                value,
                period: w.period,
            }));
        }
        progress.set_message(datapoints.to_string());
        progress.inc(1);
    }
    progress.finish_and_clear();
    let mut periods: Vec<i64> = calls.iter().map(|w| w.period).collect();
    periods.dedup();
    let mut fetched = fetched.into_iter();
    let series = request
        .dimensions
        .iter()
        .map(|dimension| Series {
            dimension: *dimension,
            consumed: fetched.next().unwrap_or_default(),
            throttled: fetched.next().unwrap_or_default(),
            provisioned: fetched.next().unwrap_or_default(),
        })
        .collect();
    Ok(History {
        start: calls.first().map_or(request.start, |w| w.start),
        end: request.end,
        series,
        calls: calls.len(),
        datapoints,
        periods,
    })
}

/// The three series of one dimension, in the order of [`Series`]' fields.
fn metric_keys(table: &str, index: Option<&str>, dimension: Dimension) -> [MetricKey; 3] {
    let names = metric_names(dimension);
    [
        (names.consumed, "Sum"),
        (names.throttled, "Sum"),
        (names.provisioned, "Average"),
    ]
    .map(|(metric, stat)| MetricKey {
        table: table.to_owned(),
        index: index.map(str::to_owned),
        metric: metric.to_owned(),
        stat: stat.to_owned(),
    })
}

/// One `GetMetricData` call's time range and period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// First period start.
    pub start: Timestamp,
    /// End (exclusive).
    pub end: Timestamp,
    /// Seconds.
    pub period: i64,
}

fn floor_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(t.unix().div_euclid(step) * step)
}

fn ceil_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(-(-t.unix()).div_euclid(step) * step)
}

/// Cuts `[start, end)` into `GetMetricData` calls at `now`: 3600 s periods for what is older
/// than 63 days, 300 s for 15 to 63 days, 60 s for the rest (each boundary
/// [`RETENTION_MARGIN_SECS`] younger than CloudWatch's), each call starting on a multiple of its
/// period and holding at most `max_datapoints` datapoints over `queries` queries. The first call
/// may start before `start` (rounded down to its period); the calls are contiguous.
pub fn plan_calls(
    start: Timestamp,
    end: Timestamp,
    now: Timestamp,
    queries: usize,
    max_datapoints: usize,
) -> Vec<Call> {
    let cut_63 = ceil_to(now.plus_secs(-63 * DAY_SECS + RETENTION_MARGIN_SECS), 3600);
    let cut_15 = ceil_to(now.plus_secs(-15 * DAY_SECS + RETENTION_MARGIN_SECS), 300);
    let per_query = (max_datapoints / queries.max(1)).max(1) as i64;
    let mut calls = Vec::new();
    let mut from = start;
    for (until, period) in [(cut_63, 3600), (cut_15, 300), (end, 60)] {
        let until = until.min(end);
        if from >= until {
            continue;
        }
        let mut w = if calls.is_empty() {
            floor_to(from, period)
        } else {
            from
        };
        while w < until {
            let e = w.plus_secs(per_query * period).min(until);
            calls.push(Call {
                start: w,
                end: e,
                period,
            });
            w = e;
        }
        from = until;
    }
    calls
}

/// The progress bar's layout (indicatif's template syntax).
const PROGRESS_TEMPLATE: &str =
    "fetching CloudWatch history [{bar:30}] {pos}/{len} calls, {msg} datapoints";

/// The progress bar of a fetch of `total` calls, on stderr (indicatif draws nothing when stderr
/// is not a terminal, so scripts and tests see a clean stderr); the message counts datapoints.
fn progress(total: usize) -> ProgressBar {
    if total == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(PROGRESS_TEMPLATE) {
        bar.set_style(style.progress_chars("#-"));
    }
    bar.set_message("0");
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_is_a_valid_template_and_hidden_off_a_terminal() {
        assert!(ProgressStyle::with_template(PROGRESS_TEMPLATE).is_ok());
        // Tests run with stderr captured or piped: nothing is drawn.
        assert!(progress(3).is_hidden() || std::io::IsTerminal::is_terminal(&std::io::stderr()));
        assert!(progress(0).is_hidden());
    }
    use autoscaler_aws::aws::MAX_DATAPOINTS_PER_CALL;

    const NOW: i64 = 1_796_206_713; // 2026-12-02T10:18:33Z

    fn now() -> Timestamp {
        Timestamp::from_unix(NOW)
    }

    fn check(windows: &[Call], queries: usize, max: usize) {
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "contiguous");
        }
        for w in windows {
            assert_eq!(w.start.unix() % w.period, 0, "aligned: {w:?}");
            let points = (w.end.secs_since(w.start) / w.period) as usize * queries;
            assert!(points <= max, "{points} datapoints in {w:?}");
            let age = now().secs_since(w.start);
            let allowed = if age > 63 * DAY_SECS {
                3600
            } else if age > 15 * DAY_SECS {
                300
            } else {
                60
            };
            assert!(w.period >= allowed, "{w:?} is {age} s old");
        }
    }

    #[test]
    fn fourteen_days_at_one_minute_within_the_datapoint_limit() {
        let end = now().floor_minute();
        let start = end.plus_secs(-14 * DAY_SECS);
        let w = plan_calls(start, end, now(), 6, MAX_DATAPOINTS_PER_CALL);
        assert!(w.iter().all(|w| w.period == 60));
        assert_eq!(w.first().map(|w| w.start), Some(start));
        assert_eq!(w.last().map(|w| w.end), Some(end));
        // 20,160 minutes x 6 queries = 120,960 datapoints: two calls.
        assert_eq!(w.len(), 2);
        check(&w, 6, MAX_DATAPOINTS_PER_CALL);
        let small = plan_calls(start, end, now(), 6, 6_000);
        assert_eq!(small.len(), 21, "1,000 minutes a call");
        check(&small, 6, 6_000);
    }

    #[test]
    fn older_history_uses_coarser_periods() {
        let end = now().floor_minute();
        let start = end.plus_secs(-100 * DAY_SECS);
        let w = plan_calls(start, end, now(), 6, MAX_DATAPOINTS_PER_CALL);
        let periods: Vec<i64> = w.iter().map(|w| w.period).collect();
        let mut distinct = periods.clone();
        distinct.dedup();
        assert_eq!(distinct, vec![3600, 300, 60]);
        assert!(w[0].start <= start && start.secs_since(w[0].start) < 3600);
        assert_eq!(w.last().map(|w| w.end), Some(end));
        check(&w, 6, MAX_DATAPOINTS_PER_CALL);
        let w = plan_calls(
            end.plus_secs(-20 * DAY_SECS),
            end,
            now(),
            3,
            MAX_DATAPOINTS_PER_CALL,
        );
        assert_eq!(w[0].period, 300);
        check(&w, 3, MAX_DATAPOINTS_PER_CALL);
    }
}
