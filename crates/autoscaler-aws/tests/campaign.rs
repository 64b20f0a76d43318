//! The fault campaign (issue 9, "Prove it"): the real pipeline against the emulator, through the
//! fault-injecting proxy of `test_support::proxy`, one cell per fault x API x direction, every
//! cell at once on one moto server (each cell its own proxy, tag key and tables; the cells
//! spread over moto's regions, which it keeps apart).
//!
//! **A cell.** Two tables: the *victim*, whose calls the fault hits (calls about one table), and
//! a *bystander* tagged with look-back windows of its own, so that its `GetMetricData` request
//! is not the victim's. Scale-up cells have both hot (95%), scale-down cells both idle, so both
//! tables should change. The fault is *persistent* (every matching call) or *once* (the first
//! matching call only, which the SDK's retries should absorb). `ListTables` and
//! `ListTagsOfResource` are only called by the fallback discovery, so their cells also make the
//! tagging API's `GetResources` fail, to put the fallback under the fault.
//!
//! **What every cell asserts.**
//! - No capacity moves the wrong way (scale-up never lowers, scale-down never raises) or past a
//!   bound.
//! - The tables that fail are exactly those that depend on what failed: none for an absorbed
//!   fault or for `GetResources` (the fallback) and `DescribeLimits` (the configured max, with a
//!   warning); the victim for calls about it alone (`DescribeTable`, `ListTagsOfResource`,
//!   `GetMetricData`, its lease's `UpdateItem`, `UpdateTable`: a malformed answer is one lost
//!   after the write was made, since the proxy forwards the request and cuts the answer); every table with a change for `DescribeScalableTargets`
//!   (whether another scaler manages them is unknown); the whole run for `ListTables` (the
//!   fallback has no other list). Every other table still scales.
//! - The summary names every failure, each error naming its table.
//! - The invocation fails exactly when a table failed (or discovery did).
//!
//! The matrix of outcomes is printed to the test's output (past libtest's capture), and written
//! to `$DDB_AUTOSCALER_CAMPAIGN_OUT` when set: `scripts/campaign` puts it into the README.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use autoscaler_aws::{Deadline, Direction, InvokeError, RunConfig, invoke};
use futures::stream::{self, StreamExt};
use scaling_policy::Dimension;
use scaling_policy::cadence::Cadence;
use test_support::emulator::{capacity, clients_at, endpoint, seed_recent, table};
use test_support::proxy::{Fault, Proxy, Rule};

/// The APIs of the pipeline, in the matrix's order (`UpdateItem` is the lease's: taken before
/// the update, released after it).
const APIS: [&str; 9] = [
    "GetResources",
    "ListTables",
    "ListTagsOfResource",
    "DescribeTable",
    "DescribeLimits",
    "GetMetricData",
    "UpdateItem",
    "UpdateTable",
    "DescribeScalableTargets",
];

/// The calls that concern one table: their faults hit the victim only (the lease's by its key).
const PER_TABLE: [&str; 5] = [
    "ListTagsOfResource",
    "DescribeTable",
    "GetMetricData",
    "UpdateItem",
    "UpdateTable",
];

/// moto keeps regions apart: cells are spread over these, so that the fallback discovery of a
/// cell lists a handful of tables, not every cell's.
const REGIONS: [&str; 16] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "sa-east-1",
];

const LEASES: &str = test_support::emulator::LEASE_TABLE;
/// The clients' attempt timeout (moto answers within it even with every cell at once); a
/// timeout fault holds its request longer.
const ATTEMPT: Duration = Duration::from_secs(3);
const HOLD: Duration = Duration::from_secs(5);
/// Cells under way at once: enough to overlap the timeouts' waits, few enough that moto (one
/// Python process) answers every call well within the attempt timeout.
const AT_ONCE: usize = 48;

/// A column of the matrix: a fault, persistent or once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    fault: Fault,
    once: bool,
}

impl Column {
    fn all() -> Vec<Column> {
        let mut v = Vec::new();
        for fault in Fault::ALL {
            v.push(Column { fault, once: false });
            if matches!(
                fault,
                Fault::Throttling | Fault::ServerError | Fault::Timeout | Fault::Reset
            ) {
                v.push(Column { fault, once: true });
            }
        }
        v
    }

    fn name(self) -> String {
        if self.once {
            format!("{} once", self.fault.as_str())
        } else {
            self.fault.as_str().to_owned()
        }
    }

    /// Whether the SDK's retries absorb it (or it is no fault at all).
    fn absorbed(self) -> bool {
        self.once || self.fault == Fault::Slow
    }
}

/// What a cell should come to.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    /// The run happens; exactly these tables fail.
    Failed(Vec<&'static str>),
    /// The tables cannot be listed at all.
    DiscoveryFailed,
}

fn expected(api: &str, column: Column) -> Expected {
    if column.absorbed() {
        return Expected::Failed(vec![]);
    }
    match api {
        "GetResources" | "DescribeLimits" => Expected::Failed(vec![]),
        "ListTables" => Expected::DiscoveryFailed,
        "DescribeScalableTargets" => Expected::Failed(vec!["bystander", "victim"]),
        _ => Expected::Failed(vec!["victim"]),
    }
}

/// What a cell came to: tables changed and failed, or the discovery failing.
#[derive(Debug, PartialEq, Eq)]
enum Came {
    Ran { changed: usize, failed: usize },
    DiscoveryFailed,
}

struct Cell {
    api: &'static str,
    column: Column,
    direction: Direction,
    index: usize,
}

impl Cell {
    fn name(&self, role: &str) -> String {
        format!("camp{}-{role}", self.index)
    }
}

/// Runs one cell and checks it; the outcome for the matrix.
async fn run_cell(cell: Cell) -> (String, String, Direction, Came) {
    let region = REGIONS[cell.index % REGIONS.len()];
    let setup = clients_at(endpoint(), region, Duration::from_secs(20)).await;
    let key = format!("camp{}", cell.index);
    let (victim, bystander) = (cell.name("victim"), cell.name("bystander"));
    let (capacity0, rate) = match cell.direction {
        Direction::Up => (10, 9.5),
        Direction::Down => (100, 1.0),
    };
    table(
        &setup,
        &victim,
        Some((capacity0, capacity0)),
        &[],
        &[(key.as_str(), "on")],
    )
    .await;
    // Longer than the cadence's fetches (30 minutes, and a cold start's calm wait): a request
    // of its own.
    let up_window = (Cadence::default().first_poll_minutes() + 35).to_string();
    table(
        &setup,
        &bystander,
        Some((capacity0, capacity0)),
        &[],
        &[
            (key.as_str(), "on"),
            (&format!("{key}:up-window-minutes"), up_window.as_str()),
            (&format!("{key}:down-window-minutes"), "21"),
        ],
    )
    .await;
    let now = autoscaler_aws::now();
    for t in [&victim, &bystander] {
        for dim in Dimension::BOTH {
            seed_recent(&setup, t, None, dim, now, 30, rate, 0.0).await;
        }
    }

    let proxy = Proxy::start(endpoint(), None, HOLD);
    let times = cell.column.once.then_some(1);
    let target = PER_TABLE.contains(&cell.api).then(|| victim.clone());
    proxy.add(Rule {
        api: cell.api.to_owned(),
        table: target,
        fault: cell.column.fault,
        times,
    });
    if ["ListTables", "ListTagsOfResource"].contains(&cell.api) {
        proxy.add(Rule {
            api: "GetResources".into(),
            table: None,
            fault: Fault::ServerError,
            times: None,
        });
    }
    let c = clients_at(proxy.url(), region, ATTEMPT).await;
    let config = RunConfig {
        tag_key: key.clone(),
        lease_table: Some(LEASES.to_owned()),
        ..RunConfig::default()
    };
    let result = invoke(&c, &config, cell.direction, now, Deadline::NONE).await;
    let what = format!(
        "{} {} on {} ({region})",
        cell.direction,
        cell.column.name(),
        cell.api
    );

    // No capacity moved the wrong way or past a bound.
    for t in [&victim, &bystander] {
        let (r, w) = capacity(&setup, t, None).await;
        for units in [r, w] {
            let ok = match cell.direction {
                Direction::Up => units >= capacity0 && units <= 40_000,
                Direction::Down => units <= capacity0 && units >= 1,
            };
            assert!(
                ok,
                "{what}: {t} moved the wrong way or past a bound: {r}/{w}"
            );
        }
    }
    let came = match result {
        Err(InvokeError::DiscoveryFailed(e)) => {
            assert_eq!(
                expected(cell.api, cell.column),
                Expected::DiscoveryFailed,
                "{what}: {e}"
            );
            Came::DiscoveryFailed
        }
        result => {
            let summary = match result {
                Ok(s) => s,
                Err(InvokeError::TablesFailed(f)) => {
                    assert!(
                        !f.summary.failed.is_empty(),
                        "{what}: failed without a failed table"
                    );
                    *f.summary
                }
                Err(e) => panic!("{what}: {e}"),
            };
            let mut failed: Vec<&str> = summary
                .failed
                .iter()
                .map(|f| {
                    let text = f.error.to_string();
                    assert!(
                        text.contains(&f.table),
                        "{what}: the error names its table: {text}"
                    );
                    if f.table == victim {
                        "victim"
                    } else {
                        "bystander"
                    }
                })
                .collect();
            failed.sort_unstable();
            assert_eq!(
                Expected::Failed(failed.clone()),
                expected(cell.api, cell.column),
                "{what}: {summary:#?}"
            );
            // Every table that did not fail still scaled.
            for t in [&victim, &bystander] {
                let report = summary
                    .table(t)
                    .unwrap_or_else(|| panic!("{what}: {t} missing"));
                let is_failed = summary.failed.iter().any(|f| &f.table == t);
                if !is_failed {
                    assert_eq!(
                        report.outcome,
                        autoscaler_aws::Outcome::Changed,
                        "{what}: {t} should still scale: {summary:#?}"
                    );
                    assert_ne!(capacity(&setup, t, None).await, (capacity0, capacity0));
                }
            }
            Came::Ran {
                changed: summary.tables_changed,
                failed: failed.len(),
            }
        }
    };
    (
        cell.api.to_owned(),
        cell.column.name(),
        cell.direction,
        came,
    )
}

fn render(results: &[(String, String, Direction, Came)], columns: &[Column]) -> String {
    let mut by: BTreeMap<(String, String, &str), String> = BTreeMap::new();
    for (api, column, direction, came) in results {
        let text = match came {
            Came::Ran { changed, failed } => format!("{changed}/{failed}"),
            Came::DiscoveryFailed => "run failed".to_owned(),
        };
        by.insert((api.clone(), column.clone(), direction.as_str()), text);
    }
    let mut out = String::new();
    let header: Vec<String> = columns.iter().map(|c| c.name()).collect();
    let _ = writeln!(out, "| API | run | {} |", header.join(" | "));
    let _ = writeln!(out, "|---|---|{}", "---|".repeat(header.len()));
    for api in APIS {
        for direction in ["up", "down"] {
            let cells: Vec<&str> = header
                .iter()
                .map(|c| {
                    by.get(&(api.to_owned(), c.clone(), direction))
                        .map_or("?", String::as_str)
                })
                .collect();
            let _ = writeln!(out, "| `{api}` | {direction} | {} |", cells.join(" | "));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_fault_on_every_api_in_both_directions() {
    let started = std::time::Instant::now();
    // One lease table per region, created around the proxies.
    for region in REGIONS {
        let c = clients_at(endpoint(), region, Duration::from_secs(20)).await;
        test_support::emulator::lease_table(&c).await;
    }
    let columns = Column::all();
    let mut cells = Vec::new();
    for api in APIS {
        for column in &columns {
            for direction in [Direction::Up, Direction::Down] {
                cells.push(Cell {
                    api,
                    column: *column,
                    direction,
                    index: cells.len(),
                });
            }
        }
    }
    let count = cells.len();
    // Spawned as the stream pulls them, so at most AT_ONCE at a time; a cell that panics is
    // one failed cell, reported with the others.
    let mut results = Vec::new();
    let mut panics = Vec::new();
    let mut finished = stream::iter(cells)
        .map(|c| tokio::spawn(run_cell(c)))
        .buffer_unordered(AT_ONCE);
    while let Some(done) = finished.next().await {
        match done {
            Ok(r) => results.push(r),
            Err(e) => panics.push(e.to_string()),
        }
    }
    let matrix = render(&results, &columns);
    let summary = format!(
        "Fault campaign: {count} cells ({} faults x {} APIs x 2 directions), every cell's invariants checked, in {:.0} s. \
         Each cell: changed/failed of its 2 tables (victim, bystander), or \"run failed\" when no table could be listed.\n\n{matrix}",
        columns.len(),
        APIS.len(),
        started.elapsed().as_secs_f64()
    );
    // Past libtest's capture, so that scripts/test shows it.
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("\n{summary}\n").as_bytes());
    if let Ok(path) = std::env::var("DDB_AUTOSCALER_CAMPAIGN_OUT") {
        std::fs::write(&path, &matrix).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
    assert!(
        panics.is_empty(),
        "{} cells failed:\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert_eq!(results.len(), count);
}
