//! Rare AWS errors, which the emulator cannot produce, with `aws-smithy-mocks`: real SDK
//! clients whose responses are scripted. Each test checks that the failing table is reported
//! with a clear cause, that no wrong scaling action follows, and that other tables still scale.

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use autoscaler_aws::run::Outcome;
use autoscaler_aws::{Clients, Direction, RunConfig, SkipReason, run};
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode as SeriesStatus};
use aws_sdk_dynamodb::operation::describe_limits::DescribeLimitsOutput;
use aws_sdk_dynamodb::operation::describe_table::{DescribeTableError, DescribeTableOutput};
use aws_sdk_dynamodb::operation::update_table::{
    UpdateTableError, UpdateTableInput, UpdateTableOutput,
};
use aws_sdk_dynamodb::types::error::{
    LimitExceededException, ResourceInUseException, ResourceNotFoundException,
};
use aws_sdk_dynamodb::types::{
    BillingMode, BillingModeSummary, GlobalSecondaryIndexDescription, IndexStatus,
    ProvisionedThroughputDescription, TableDescription, TableStatus,
};
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use scaling_policy::Timestamp;

const NOW: i64 = 1_796_206_680; // 2026-12-02T10:18:00Z
const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/";

fn now() -> Timestamp {
    Timestamp::from_unix(NOW)
}

fn retry() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// The tagging API lists `tables`, each tagged `ddb-autoscaler = on`.
fn tagged(tables: &'static [&'static str]) -> Rule {
    mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_output(move || {
        let mut out = GetResourcesOutput::builder();
        for t in tables {
            out = out.resource_tag_mapping_list(
                ResourceTagMapping::builder()
                    .resource_arn(format!("{ARN}{t}"))
                    .tags(
                        Tag::builder()
                            .key("ddb-autoscaler")
                            .value("on")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            );
        }
        out.build()
    })
}

fn throughput(read: i64, write: i64) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .number_of_decreases_today(0)
        .build()
}

/// An ACTIVE provisioned table with (read, write) capacity and optional GSIs.
fn table(name: &str, read: i64, write: i64, gsis: &[(&str, i64, i64)]) -> DescribeTableOutput {
    let mut t = TableDescription::builder()
        .table_name(name)
        .table_arn(format!("{ARN}{name}"))
        .table_status(TableStatus::Active)
        .billing_mode_summary(
            BillingModeSummary::builder()
                .billing_mode(BillingMode::Provisioned)
                .build(),
        )
        .provisioned_throughput(throughput(read, write));
    for (g, r, w) in gsis {
        t = t.global_secondary_indexes(
            GlobalSecondaryIndexDescription::builder()
                .index_name(*g)
                .index_status(IndexStatus::Active)
                .provisioned_throughput(throughput(*r, *w))
                .build(),
        );
    }
    DescribeTableOutput::builder().table(t.build()).build()
}

fn describe(name: &'static str, out: DescribeTableOutput) -> Rule {
    mock!(aws_sdk_dynamodb::Client::describe_table)
        .match_requests(move |r| r.table_name() == Some(name))
        .then_output(move || out.clone())
}

fn limits() -> Rule {
    mock!(aws_sdk_dynamodb::Client::describe_limits).then_output(|| {
        DescribeLimitsOutput::builder()
            .table_max_read_capacity_units(40_000)
            .table_max_write_capacity_units(40_000)
            .account_max_read_capacity_units(80_000)
            .account_max_write_capacity_units(80_000)
            .build()
    })
}

/// Every consumed-capacity query returns `per_sec` units/s for each minute of the window; tables
/// named in `hot` get `hot_per_sec` instead. Throttle queries return nothing.
fn metrics(per_sec: f64, hot: &'static [&'static str], hot_per_sec: f64) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |req| {
        let start = req.start_time().unwrap().secs();
        let end = req.end_time().unwrap().secs();
        let mut out = GetMetricDataOutput::builder();
        for q in req.metric_data_queries() {
            let id = q.id().unwrap_or_default();
            let metric = q.metric_stat().and_then(|s| s.metric()).unwrap();
            let table = metric
                .dimensions()
                .iter()
                .find(|d| d.name() == Some("TableName"))
                .and_then(|d| d.value())
                .unwrap_or_default();
            let mut r = MetricDataResult::builder()
                .id(id)
                .status_code(SeriesStatus::Complete);
            if id.starts_with('c') {
                let rate = if hot.contains(&table) {
                    hot_per_sec
                } else {
                    per_sec
                };
                let mut t = start;
                while t < end {
                    r = r
                        .timestamps(aws_smithy_types::DateTime::from_secs(t))
                        .values(rate * 60.0);
                    t += 60;
                }
            }
            out = out.metric_data_results(r.build());
        }
        out.build()
    })
}

/// The tagging API refuses (the fallback discovery takes over).
fn tagging_api_down() -> Rule {
    mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_http_response(|| {
        HttpResponse::new(
            StatusCode::try_from(400).unwrap(),
            SdkBody::from(r#"{"__type":"AccessDeniedException","Message":"not allowed"}"#),
        )
    })
}

/// Application Auto Scaling manages no table.
fn no_scalable_targets() -> Rule {
    mock!(aws_sdk_applicationautoscaling::Client::describe_scalable_targets).then_output(|| {
        aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput::builder().build()
    })
}

fn clients(dynamodb: &[&Rule], cloudwatch: &[&Rule], tagging: &[&Rule]) -> Clients {
    clients_with(dynamodb, cloudwatch, tagging, &[&no_scalable_targets()])
}

fn clients_with(
    dynamodb: &[&Rule],
    cloudwatch: &[&Rule],
    tagging: &[&Rule],
    autoscaling: &[&Rule],
) -> Clients {
    Clients {
        autoscaling: mock_client!(
            aws_sdk_applicationautoscaling,
            RuleMode::MatchAny,
            autoscaling,
            |c| c.retry_config(retry())
        ),
        dynamodb: mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, dynamodb, |c| c
            .retry_config(retry())),
        cloudwatch: mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch, |c| c
            .retry_config(retry())),
        tagging: mock_client!(
            aws_sdk_resourcegroupstagging,
            RuleMode::MatchAny,
            tagging,
            |c| c.retry_config(retry())
        ),
    }
}

type Updates = Arc<Mutex<Vec<UpdateTableInput>>>;

/// UpdateTable succeeds and is recorded.
fn record_updates() -> (Rule, Updates) {
    let seen: Updates = Arc::default();
    let s = seen.clone();
    let rule = mock!(aws_sdk_dynamodb::Client::update_table).then_compute_output(move |req| {
        s.lock().unwrap().push(req.clone());
        UpdateTableOutput::builder().build()
    });
    (rule, seen)
}

fn update_fails(table: &'static str, err: fn() -> UpdateTableError) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_table)
        .match_requests(move |r| r.table_name() == Some(table))
        .then_error(err)
}

#[tokio::test]
async fn one_update_table_call_carries_exactly_the_changed_targets() {
    let (update, seen) = record_updates();
    let t = describe(
        "orders",
        table("orders", 10, 10, &[("hot", 10, 10), ("cold", 10, 10)]),
    );
    // Every consumed series runs at 9.5 units/s: all six dimensions are hot.
    let c = clients(
        &[&t, &limits(), &update],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["orders"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    assert_eq!(s.table("orders").unwrap().outcome, Outcome::Changed);
    let calls = seen.lock().unwrap();
    assert_eq!(calls.len(), 1, "one UpdateTable per table");
    let call = &calls[0];
    let pt = call.provisioned_throughput().unwrap();
    assert_eq!(
        (pt.read_capacity_units(), pt.write_capacity_units()),
        (12, 12)
    );
    let mut gsis: Vec<_> = call
        .global_secondary_index_updates()
        .iter()
        .map(|u| {
            let u = u.update().unwrap();
            let pt = u.provisioned_throughput().unwrap();
            (
                u.index_name().to_owned(),
                pt.read_capacity_units(),
                pt.write_capacity_units(),
            )
        })
        .collect();
    gsis.sort();
    assert_eq!(
        gsis,
        vec![("cold".to_owned(), 12, 12), ("hot".to_owned(), 12, 12)]
    );
}

#[tokio::test]
async fn unchanged_targets_are_not_sent() {
    let (update, seen) = record_updates();
    let t = describe("orders", table("orders", 100, 100, &[("hot", 10, 10)]));
    // 9.5 units/s: hot for the GSI (10), idle for the table (100).
    let c = clients(
        &[&t, &limits(), &update],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["orders"])],
    );
    run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    let calls = seen.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].provisioned_throughput().is_none(),
        "the table did not change"
    );
    assert_eq!(calls[0].global_secondary_index_updates().len(), 1);
}

#[tokio::test]
async fn limit_exceeded_on_a_decrease_fails_that_table_only() {
    let refuse = update_fails("quota", || {
        UpdateTableError::LimitExceededException(
            LimitExceededException::builder()
                .message("Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day")
                .build(),
        )
    });
    let (update, seen) = record_updates();
    let a = describe("quota", table("quota", 100, 100, &[]));
    let b = describe("other", table("other", 100, 100, &[]));
    let c = clients(
        &[&a, &b, &limits(), &refuse, &update],
        &[&metrics(1.0, &[], 0.0)],
        &[&tagged(&["other", "quota"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Down, now())
        .await
        .unwrap();
    let Outcome::Failed { error } = &s.table("quota").unwrap().outcome else {
        panic!("{s:#?}");
    };
    let error = error.to_string();
    assert!(
        error.contains("LimitExceededException") && error.contains("quota"),
        "{error}"
    );
    assert_eq!(s.failed.len(), 1);
    assert_eq!(s.table("other").unwrap().outcome, Outcome::Changed);
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "only the other table was updated"
    );
}

#[tokio::test]
async fn table_being_updated_is_skipped_until_the_next_run() {
    let busy = update_fails("busy", || {
        UpdateTableError::ResourceInUseException(
            ResourceInUseException::builder()
                .message("Attempt to change a resource which is still in use")
                .build(),
        )
    });
    let t = describe("busy", table("busy", 10, 10, &[]));
    let c = clients(
        &[&t, &limits(), &busy],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["busy"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    let Outcome::Skipped { reason, detail } = &s.table("busy").unwrap().outcome else {
        panic!("{s:#?}");
    };
    assert_eq!(*reason, SkipReason::InUse);
    assert!(detail.contains("being updated"), "{detail}");
    assert!(s.failed.is_empty(), "a busy table is not an error");
}

#[tokio::test]
async fn table_deleted_mid_run_is_reported_and_the_run_goes_on() {
    let gone = mock!(aws_sdk_dynamodb::Client::describe_table)
        .match_requests(|r| r.table_name() == Some("gone"))
        .then_error(|| {
            DescribeTableError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Requested resource not found: Table: gone not found")
                    .build(),
            )
        });
    let (update, seen) = record_updates();
    let b = describe("live", table("live", 10, 10, &[]));
    let c = clients(
        &[&gone, &b, &limits(), &update],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["gone", "live"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    assert!(
        matches!(
            &s.table("gone").unwrap().outcome,
            Outcome::Skipped {
                reason: SkipReason::Gone,
                ..
            }
        ),
        "{s:#?}"
    );
    assert_eq!(s.table("live").unwrap().outcome, Outcome::Changed);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn access_denied_on_one_table_fails_it_cleanly() {
    let denied = mock!(aws_sdk_dynamodb::Client::describe_table)
        .match_requests(|r| r.table_name() == Some("secret"))
        .then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(
                    r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: dynamodb:DescribeTable on resource: secret"}"#,
                ),
            )
        });
    let (update, seen) = record_updates();
    let b = describe("open", table("open", 10, 10, &[]));
    let c = clients(
        &[&denied, &b, &limits(), &update],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["open", "secret"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    let Outcome::Failed { error } = &s.table("secret").unwrap().outcome else {
        panic!("{s:#?}");
    };
    let error = error.to_string();
    assert!(
        error.contains("table secret") && error.contains("AccessDeniedException"),
        "{error}"
    );
    assert_eq!(s.table("open").unwrap().outcome, Outcome::Changed);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

const THROTTLING: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>";

#[tokio::test]
async fn cloudwatch_throttling_is_retried() {
    // The scale-up window: the 5 complete minutes before NOW, at 9 units/s.
    let minutes: Vec<i64> = (1..=5).map(|i| NOW - 60 * i).collect();
    let answer = move || {
        let mut r = MetricDataResult::builder()
            .id("c0")
            .status_code(SeriesStatus::Complete);
        for t in &minutes {
            r = r
                .timestamps(aws_smithy_types::DateTime::from_secs(*t))
                .values(9.5 * 60.0);
        }
        // The write series (c1, t1) and the read throttles (t0): complete, without datapoints.
        let empty = |id: &str| {
            MetricDataResult::builder()
                .id(id)
                .status_code(SeriesStatus::Complete)
                .build()
        };
        GetMetricDataOutput::builder()
            .metric_data_results(r.build())
            .metric_data_results(empty("t0"))
            .metric_data_results(empty("c1"))
            .metric_data_results(empty("t1"))
            .build()
    };
    // The first call is throttled, the retry succeeds.
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(400, Some(THROTTLING.to_owned()))
        .output(answer)
        .build();
    let (update, seen) = record_updates();
    let t = describe("orders", table("orders", 10, 10, &[]));
    let c = clients(&[&t, &limits(), &update], &[&cw], &[&tagged(&["orders"])]);
    // Without the seasonal floor, whose history would be two more calls.
    let mut config = RunConfig::default();
    config.defaults.seasonal_ahead_minutes = 0;
    let s = run(&c, &config, Direction::Up, now()).await.unwrap();
    assert_eq!(
        s.table("orders").unwrap().outcome,
        Outcome::Changed,
        "{s:#?}"
    );
    assert_eq!(cw.num_calls(), 2, "one throttled call, one retry");
    let calls = seen.lock().unwrap();
    let pt = calls[0].provisioned_throughput().unwrap();
    assert_eq!(
        pt.read_capacity_units(),
        12,
        "decided on the retried call's data"
    );
}

#[tokio::test]
async fn cloudwatch_throttling_that_persists_fails_the_table_cleanly() {
    let cw = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .sequence()
        .http_status(400, Some(THROTTLING.to_owned()))
        .times(10)
        .build();
    let (update, seen) = record_updates();
    let t = describe("orders", table("orders", 10, 10, &[]));
    let c = clients(&[&t, &limits(), &update], &[&cw], &[&tagged(&["orders"])]);
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    let Outcome::Failed { error } = &s.table("orders").unwrap().outcome else {
        panic!("{s:#?}");
    };
    let error = error.to_string();
    assert!(
        error.contains("GetMetricData") && error.contains("Throttling"),
        "{error}"
    );
    assert_eq!(cw.num_calls(), 3, "retried up to the configured 3 attempts");
    assert!(
        seen.lock().unwrap().is_empty(),
        "no scaling action without data"
    );
}

#[tokio::test]
async fn discovery_falls_back_to_list_tables_when_the_tagging_api_fails() {
    // And a table it cannot read fails alone. Before: one ListTagsOfResource that failed, or one
    // DescribeTable that failed with anything but not-found, failed the whole discovery, and
    // every table with it.
    use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
    use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
    let tagging_down = tagging_api_down();
    let list = mock!(aws_sdk_dynamodb::Client::list_tables).then_output(|| {
        ListTablesOutput::builder()
            .table_names("managed")
            .table_names("unmanaged")
            .table_names("secret-tags")
            .table_names("broken")
            .build()
    });
    let denied = mock!(aws_sdk_dynamodb::Client::list_tags_of_resource)
        .match_requests(|r| r.resource_arn().is_some_and(|a| a.ends_with("/secret-tags")))
        .then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(r#"{"__type":"com.amazon.coral.service#AccessDeniedException","message":"not authorized to perform: dynamodb:ListTagsOfResource"}"#),
            )
        });
    let tags = mock!(aws_sdk_dynamodb::Client::list_tags_of_resource).then_compute_output(|req| {
        let mut out = ListTagsOfResourceOutput::builder();
        if req.resource_arn().is_some_and(|a| a.ends_with("/managed")) {
            out = out.tags(
                aws_sdk_dynamodb::types::Tag::builder()
                    .key("ddb-autoscaler")
                    .value("on")
                    .build()
                    .unwrap(),
            );
        }
        out.build()
    });
    let broken = mock!(aws_sdk_dynamodb::Client::describe_table)
        .match_requests(|r| r.table_name() == Some("broken"))
        .then_http_response(|| {
            HttpResponse::new(
                StatusCode::try_from(400).unwrap(),
                SdkBody::from(r#"{"__type":"com.amazon.coral.validate#ValidationException","message":"something is wrong"}"#),
            )
        });
    let (update, seen) = record_updates();
    let a = describe("managed", table("managed", 10, 10, &[]));
    let b = describe("unmanaged", table("unmanaged", 10, 10, &[]));
    let d = describe("secret-tags", table("secret-tags", 10, 10, &[]));
    let c = clients(
        &[
            &list,
            &denied,
            &tags,
            &broken,
            &a,
            &b,
            &d,
            &limits(),
            &update,
        ],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagging_down],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    assert_eq!(
        s.table("managed").unwrap().outcome,
        Outcome::Changed,
        "{s:#?}"
    );
    assert!(s.table("unmanaged").is_none(), "not tagged: not seen");
    let failed: Vec<(&str, String)> = s
        .failed
        .iter()
        .map(|f| (f.table.as_str(), f.error.to_string()))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed[0].0 == "broken" && failed[0].1.contains("ValidationException"),
        "{failed:?}"
    );
    assert!(
        failed[1].0 == "secret-tags" && failed[1].1.contains("ListTagsOfResource"),
        "{failed:?}"
    );
    let calls = seen.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].table_name(), Some("managed"));
}

#[tokio::test]
async fn a_capacity_missing_from_describe_table_is_an_error_not_zero() {
    // Before: a missing value became 0 (on-demand for the table, a GSI "raised from 0").
    let mut out = table("orders", 10, 10, &[("by-user", 5, 5)]);
    let t = out.table.as_mut().unwrap();
    let gsi = &mut t.global_secondary_indexes.as_mut().unwrap()[0];
    gsi.provisioned_throughput = Some(
        ProvisionedThroughputDescription::builder()
            .read_capacity_units(5)
            .build(),
    );
    let (update, seen) = record_updates();
    let c = clients(
        &[&describe("orders", out), &limits(), &update],
        &[&metrics(9.5, &[], 0.0)],
        &[&tagged(&["orders"])],
    );
    let s = run(&c, &RunConfig::default(), Direction::Up, now())
        .await
        .unwrap();
    let Outcome::Failed { error } = &s.table("orders").unwrap().outcome else {
        panic!("{s:#?}");
    };
    let error = error.to_string();
    assert!(
        error.contains("no provisioned write capacity for index by-user"),
        "{error}"
    );
    assert!(seen.lock().unwrap().is_empty());
}
