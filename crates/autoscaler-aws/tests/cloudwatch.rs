//! Issue 9, point 7: what CloudWatch answers is checked, not trusted. A series that is not
//! `Complete`, missing from the answer, or an answer that does not parse is an error for the
//! tables concerned (and the invocation fails), never "no throttling" or "no data"; each look-back
//! window is fetched on its own; the newest (possibly incomplete) minute is a lower bound. The
//! DynamoDB side is `test_support::mock_aws`; CloudWatch's answers are scripted here.
#![allow(clippy::unwrap_used)]

use autoscaler_aws::run::{Outcome, RunSummary};
use autoscaler_aws::{Clients, Deadline, Direction, InvokeError, invoke, run};
use aws_sdk_cloudwatch::operation::get_metric_data::{GetMetricDataInput, GetMetricDataOutput};
use aws_sdk_cloudwatch::types::{MessageData, MetricDataResult, StatusCode};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode as HttpStatus;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use scaling_policy::cadence::Cadence;
use scaling_policy::{Dimension, Reason};
use test_support::mock_aws::{KEY, NOW, World, config, now};

/// One table, 100/100.
fn world(tables: &[&str]) -> World {
    let w = World::new(now());
    for t in tables {
        w.add_table(t, (100, 100), &[], &[(KEY, "on")]);
    }
    w
}

/// `w`'s clients with CloudWatch answering by `rule`.
fn with_cloudwatch(w: &World, rule: &Rule) -> Clients {
    let mut c = w.clients("run");
    c.cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [rule]);
    c
}

/// Every minute of the request's window at `per_sec` consumed, and `throttled` events a minute,
/// for every query; then `edit` may change each result (by its query's metric name).
fn answer(
    req: &GetMetricDataInput,
    per_sec: f64,
    throttled: f64,
    edit: impl Fn(
        &str,
        aws_sdk_cloudwatch::types::builders::MetricDataResultBuilder,
    ) -> Option<aws_sdk_cloudwatch::types::builders::MetricDataResultBuilder>,
) -> GetMetricDataOutput {
    let (start, end) = (
        req.start_time().unwrap().secs(),
        req.end_time().unwrap().secs(),
    );
    // Published up to two minutes before now.
    let end = end.min(NOW / 60 * 60 - 120);
    let mut out = GetMetricDataOutput::builder();
    for q in req.metric_data_queries() {
        let id = q.id().unwrap();
        let metric = q
            .metric_stat()
            .unwrap()
            .metric()
            .unwrap()
            .metric_name()
            .unwrap();
        let value = if id.starts_with('c') {
            per_sec * 60.0
        } else {
            throttled
        };
        let mut r = MetricDataResult::builder()
            .id(id)
            .status_code(StatusCode::Complete);
        if value > 0.0 {
            let mut t = start;
            while t < end {
                r = r.timestamps(DateTime::from_secs(t)).values(value);
                t += 60;
            }
        }
        if let Some(r) = edit(metric, r) {
            out = out.metric_data_results(r.build());
        }
    }
    out.build()
}

fn failed_with<'a>(err: &'a InvokeError, table: &str) -> &'a RunSummary {
    let InvokeError::TablesFailed(f) = err else {
        panic!("{err}");
    };
    assert!(
        f.summary.failed.iter().any(|x| x.table == table),
        "{table} is named: {:#?}",
        f.summary
    );
    &f.summary
}

#[tokio::test]
async fn a_throttle_series_answered_internal_error_is_unknown_never_no_throttling() {
    // Reproduced before the fix: a table throttled every minute for an hour, its throttle series
    // answered InternalError, was lowered by scale-down from 100 to 25.
    let w = world(&["throttled"]);
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|req| {
        answer(req, 19.0, 600.0, |metric, r| {
            Some(if metric.ends_with("ThrottleEvents") {
                MetricDataResult::builder()
                    .id(r.get_id().clone().unwrap())
                    .status_code(StatusCode::InternalError)
            } else {
                r
            })
        })
    });
    let c = with_cloudwatch(&w, &cw);
    let err = invoke(&c, &config(), Direction::Down, now(), Deadline::NONE)
        .await
        .unwrap_err();
    let s = failed_with(&err, "throttled");
    let message = s.failed[0].error.to_string();
    assert!(
        message.contains("ReadThrottleEvents") && message.contains("InternalError"),
        "{message}"
    );
    assert_eq!(w.capacity("throttled", None), (100, 100), "not lowered");
}

#[tokio::test]
async fn partial_data_is_unknown_unless_a_later_page_completes_it() {
    // PartialData with a NextToken is CloudWatch saying "more follows": the last page decides.
    for (completed, expect_failed) in [(true, false), (false, true)] {
        let w = world(&["paged"]);
        let cw =
            mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |req| {
                // The first page: every series partial, no datapoint yet; the second: the
                // datapoints, complete or not.
                let first = req.next_token().is_none();
                let mut out = answer(req, 95.0, 0.0, |_, r| {
                    Some(if first {
                        MetricDataResult::builder()
                            .id(r.get_id().clone().unwrap())
                            .status_code(StatusCode::PartialData)
                    } else if !completed {
                        r.status_code(StatusCode::PartialData)
                    } else {
                        r
                    })
                });
                if first {
                    out.next_token = Some("page-2".into());
                }
                out
            });
        let c = with_cloudwatch(&w, &cw);
        let s = run(&c, &config(), Direction::Up, now()).await.unwrap();
        assert_eq!(!s.failed.is_empty(), expect_failed, "{s:#?}");
        if expect_failed {
            assert!(s.failed[0].error.to_string().contains("PartialData"));
            assert_eq!(w.capacity("paged", None), (100, 100));
        } else {
            assert_eq!(w.capacity("paged", None), (119, 119));
        }
    }
}

#[tokio::test]
async fn an_answer_without_a_requested_series_fails_its_table() {
    // Reproduced before the fix: a truncated answer made scale-up skip tables at 97% as "no
    // data", and the invocation succeeded, so no alarm could fire.
    let w = world(&["hot-a", "hot-b"]);
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|req| {
        // hot-a's series are queried first (c0..c1, t0..t1): drop everything after the first.
        let mut out = answer(req, 97.0, 0.0, |_, r| Some(r));
        out.metric_data_results.as_mut().unwrap().truncate(1);
        out
    });
    let c = with_cloudwatch(&w, &cw);
    let err = invoke(&c, &config(), Direction::Up, now(), Deadline::NONE)
        .await
        .unwrap_err();
    let s = failed_with(&err, "hot-b");
    assert!(
        s.failed.iter().all(|f| f
            .error
            .to_string()
            .contains("missing from CloudWatch's answer")),
        "{s:#?}"
    );
    assert_eq!(w.capacity("hot-b", None), (100, 100));
}

#[tokio::test]
async fn a_truncated_body_fails_every_table_of_the_batch() {
    let w = world(&["hot-a", "hot-b"]);
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_http_response(|| {
        HttpResponse::new(
            HttpStatus::try_from(200).unwrap(),
            SdkBody::from(
                r#"<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults><member><Id>c0</Id><StatusCode>Complete</StatusCode><Timestamps><member>2026-12-02T10:1"#,
            ),
        )
    });
    let c = with_cloudwatch(&w, &cw);
    let err = invoke(&c, &config(), Direction::Up, now(), Deadline::NONE)
        .await
        .unwrap_err();
    let s = failed_with(&err, "hot-a");
    assert_eq!(s.failed.len(), 2, "{s:#?}");
    assert!(w.changes().is_empty());
}

#[tokio::test]
async fn messages_in_the_answer_make_the_batch_unknown() {
    let w = world(&["hot"]);
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|req| {
        let mut out = answer(req, 97.0, 0.0, |_, r| Some(r));
        out.messages = Some(vec![
            MessageData::builder()
                .code("MaxQueryTimeRangeExceed")
                .value("The query time range exceeds the limit")
                .build(),
        ]);
        out
    });
    let c = with_cloudwatch(&w, &cw);
    let s = run(&c, &config(), Direction::Up, now()).await.unwrap();
    let message = s.failed[0].error.to_string();
    assert!(message.contains("MaxQueryTimeRangeExceed"), "{message}");
    assert!(w.changes().is_empty());
}

#[tokio::test]
async fn a_value_that_is_not_a_number_of_units_fails_its_table() {
    let w = world(&["odd"]);
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|req| {
        answer(req, 97.0, 0.0, |metric, r| {
            Some(if metric == "ConsumedReadCapacityUnits" {
                r.values(f64::NAN)
                    .timestamps(DateTime::from_secs(NOW / 60 * 60 - 180))
            } else {
                r
            })
        })
    });
    let c = with_cloudwatch(&w, &cw);
    let s = run(&c, &config(), Direction::Up, now()).await.unwrap();
    assert!(
        s.failed[0].error.to_string().contains("not a number"),
        "{s:#?}"
    );
}

#[tokio::test]
async fn one_table_with_a_long_window_does_not_lengthen_every_series() {
    // Before: one window, the longest any table asked for, for every series of the run. A
    // cold start reads the cadence's calm wait; the long window is longer still.
    let cold = Cadence::default().first_poll_minutes();
    let long = cold + 60;
    let w = World::new(now());
    w.add_table(
        "long",
        (100, 100),
        &[],
        &[
            (KEY, "on"),
            (
                "ddb-autoscaler:up-window-minutes",
                long.to_string().as_str(),
            ),
        ],
    );
    w.add_table("short", (100, 100), &[], &[(KEY, "on")]);
    run(&w.clients("run"), &config(), Direction::Up, now())
        .await
        .unwrap();
    let mut requests: Vec<(i64, Vec<String>)> = w
        .state()
        .metric_requests
        .iter()
        .map(|(start, end, tables)| (end.secs_since(*start) / 60, tables.clone()))
        .collect();
    requests.sort();
    // The recent datapoints: at least the calm wait a cold start reads, the long window for
    // the table that asked for it alone. Then the seasonal history of both
    // (consumed, throttle events), one range for every series.
    let (recent, history): (Vec<_>, Vec<_>) = requests.into_iter().partition(|(m, _)| *m < 1440);
    assert_eq!(
        recent,
        vec![
            (i64::from(cold), vec!["short".to_owned()]),
            (i64::from(long), vec!["long".to_owned()])
        ]
    );
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history
            .iter()
            .all(|(_, tables)| tables == &["long".to_owned(), "short".to_owned()]),
        "{history:?}"
    );
}

#[tokio::test]
async fn the_newest_minute_is_a_lower_bound() {
    // The newest published minute may be incomplete: what it shows is at most its demand. A
    // partial spike there is still a spike: scale-down keeps capacity for it, as it would for
    // the whole (larger) minute, rather than dropping it and lowering to the quiet minutes.
    let w = world(&["spiky"]);
    let start = now().floor_minute().plus_secs(-32 * 60);
    w.recent("spiky", None, Dimension::Write, now(), 10.0, 0.0);
    let mut reads = vec![10.0; 30];
    reads[29] = 60.0; // the newest published minute, still being added to
    w.seed_usage("spiky", None, Dimension::Read, start, &reads, &[]);
    let s = run(&w.clients("run"), &config(), Direction::Down, now())
        .await
        .unwrap();
    let read = &s.table("spiky").unwrap().decisions[0].decision;
    assert_eq!(
        (read.to, read.reason),
        (75, Reason::Overprovisioned),
        "{read:#?}"
    );
    assert!(matches!(
        s.table("spiky").unwrap().outcome,
        Outcome::Changed
    ));
}

#[tokio::test]
async fn a_cold_start_reading_hours_keeps_each_call_within_its_datapoints() {
    // A cadence that spaces polls out reads the calm wait cold (six hours and the doubling's
    // look-back): 150 tables' reads and writes, 2 metrics each, in calls of at most 100,800
    // datapoints (CloudWatch's limit; 250 series a call would ask for 182,500).
    let w = World::new(now());
    let names: Vec<String> = (0..150).map(|i| format!("t{i:03}")).collect();
    for t in &names {
        w.add_table(t, (100, 100), &[], &[(KEY, "on")]);
    }
    let mut config = config();
    config.cadence.max_interval_minutes = 10;
    let minutes = i64::from(config.cadence.calm_minutes + config.cadence.doubling_minutes);
    assert_eq!(minutes, 365);
    run(&w.clients("run"), &config, Direction::Up, now())
        .await
        .unwrap();
    let recent: Vec<(i64, Vec<String>)> = w
        .state()
        .metric_requests
        .iter()
        .map(|(start, end, tables)| (end.secs_since(*start) / 60, tables.clone()))
        .filter(|(m, _)| *m < 1440)
        .collect();
    assert!(recent.len() >= 3, "{} calls", recent.len());
    let mut read: Vec<String> = Vec::new();
    for (m, tables) in &recent {
        assert_eq!(*m, minutes);
        // Per table: reads and writes, consumed and throttle events.
        let points = tables.len() as i64 * 4 * m;
        assert!(
            points <= autoscaler_aws::aws::MAX_DATAPOINTS_PER_CALL as i64,
            "{points}"
        );
        read.extend(tables.iter().cloned());
    }
    read.sort();
    read.dedup();
    assert_eq!(read, names);
}
