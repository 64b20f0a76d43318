//! The adapter edge: every AWS SDK call of the pipeline, and the conversion of SDK types into
//! the crate's own ([`crate::table`]). Nothing outside this module sees an SDK type except
//! [`Clients`].

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_cloudwatch::types::{Dimension as CwDimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    BillingMode, GlobalSecondaryIndexUpdate, IndexStatus, ProvisionedThroughput,
    ProvisionedThroughputDescription, TableStatus, UpdateGlobalSecondaryIndexAction,
};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use scaling_policy::{DecreaseBudget, DimensionState, Minute, Timestamp, Usage};

use crate::error::{BoxError, Error, ErrorKind};
use crate::table::{
    Billing, CapacityChange, Status, TableDescription, TableOrIndex, TaggedTable, timestamp,
};

/// The three AWS clients a run uses. Build them once per cold start.
#[derive(Clone, Debug)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Resource Groups Tagging API.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

impl Clients {
    /// Clients sharing one SDK configuration (region, credentials, `AWS_ENDPOINT_URL`...).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
        }
    }
}

/// Classifies an SDK error: by its modeled variant where the operation models it, else by its
/// error code.
pub(crate) fn classify<E: ProvideErrorMetadata>(err: &E, modeled: Option<ErrorKind>) -> ErrorKind {
    if let Some(kind) = modeled {
        return kind;
    }
    match err.code() {
        Some("ResourceNotFoundException") => ErrorKind::NotFound,
        Some("ResourceInUseException") => ErrorKind::InUse,
        Some("LimitExceededException") => ErrorKind::LimitExceeded,
        _ => ErrorKind::Other,
    }
}

/// A `DescribeTable` error is either a missing table or a failure: it changes nothing, so it
/// can be neither in use nor refused.
fn describe_failure(
    e: &aws_sdk_dynamodb::operation::describe_table::DescribeTableError,
) -> ErrorKind {
    let modeled = e
        .is_resource_not_found_exception()
        .then_some(ErrorKind::NotFound);
    match classify(e, modeled) {
        ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    }
}

fn update_failure(e: &aws_sdk_dynamodb::operation::update_table::UpdateTableError) -> ErrorKind {
    let modeled = if e.is_resource_not_found_exception() {
        Some(ErrorKind::NotFound)
    } else if e.is_resource_in_use_exception() {
        Some(ErrorKind::InUse)
    } else if e.is_limit_exceeded_exception() {
        Some(ErrorKind::LimitExceeded)
    } else {
        None
    };
    classify(e, modeled)
}

pub(crate) fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> BoxError {
    Box::new(e)
}

/// Tables carrying the tag `key` (any value), with all their tags. Uses the tagging API's
/// `GetResources`; where that fails it falls back to `ListTables` + `ListTagsOfResource`.
pub async fn discover(clients: &Clients, key: &str) -> Result<Vec<TaggedTable>, Error> {
    match discover_by_tagging_api(clients, key).await {
        Ok(tables) => Ok(tables),
        Err(err) => {
            tracing::warn!(
                error = %crate::error::chain(&err),
                "tagging API unavailable, falling back to ListTables + ListTagsOfResource"
            );
            discover_by_listing(clients, key).await
        }
    }
}

async fn discover_by_tagging_api(clients: &Clients, key: &str) -> Result<Vec<TaggedTable>, Error> {
    let mut pages = clients
        .tagging
        .get_resources()
        .resource_type_filters("dynamodb:table")
        .tag_filters(TagFilter::builder().key(key).build())
        .into_paginator()
        .send();
    let mut tables = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Discover {
            operation: "tag:GetResources",
            source: boxed(e),
        })?;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            let Some(name) = table_name_from_arn(arn) else {
                continue;
            };
            let tags = mapping
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            tables.push(TaggedTable {
                name: name.to_owned(),
                arn: arn.to_owned(),
                tags,
            });
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

async fn discover_by_listing(clients: &Clients, key: &str) -> Result<Vec<TaggedTable>, Error> {
    let names: Vec<String> = clients
        .dynamodb
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| Error::Discover {
            operation: "dynamodb:ListTables",
            source: boxed(e),
        })?;
    let mut tables = Vec::new();
    for name in names {
        let described = clients
            .dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await;
        let arn = match described {
            Ok(out) => match out.table().and_then(|t| t.table_arn()) {
                Some(arn) => arn.to_owned(),
                None => continue,
            },
            Err(e) if e.as_service_error().map(describe_failure) == Some(ErrorKind::NotFound) => {
                continue;
            }
            Err(e) => {
                return Err(Error::Discover {
                    operation: "dynamodb:DescribeTable",
                    source: boxed(e),
                });
            }
        };
        let mut tags = Vec::new();
        let mut token = None;
        loop {
            let out = clients
                .dynamodb
                .list_tags_of_resource()
                .resource_arn(&arn)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| Error::Discover {
                    operation: "dynamodb:ListTagsOfResource",
                    source: boxed(e),
                })?;
            tags.extend(
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned())),
            );
            token = out.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        if tags.iter().any(|(k, _)| k == key) {
            tables.push(TaggedTable { name, arn, tags });
        }
    }
    Ok(tables)
}

/// `arn:aws:dynamodb:region:account:table/NAME` -> `NAME`.
fn table_name_from_arn(arn: &str) -> Option<&str> {
    let (_, resource) = arn.rsplit_once(":table/")?;
    Some(resource.split('/').next().unwrap_or(resource))
}

/// `DescribeTable`, converted. A missing table is an error of kind [`ErrorKind::NotFound`].
pub async fn describe(clients: &Clients, name: &str) -> Result<TableDescription, Error> {
    let out = clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| Error::Aws {
            table: name.to_owned(),
            operation: "DescribeTable",
            kind: e
                .as_service_error()
                .map_or(ErrorKind::Other, describe_failure),
            source: boxed(e),
        })?;
    let table = out.table().ok_or_else(|| Error::BadResponse {
        table: name.to_owned(),
        operation: "DescribeTable",
        what: "no table in the response".to_owned(),
    })?;
    let on_demand = table
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .is_some_and(|m| *m == BillingMode::PayPerRequest);
    let mut table_and_indexes = Vec::new();
    let (read, write) = states(table.provisioned_throughput());
    table_and_indexes.push(TableOrIndex {
        index: None,
        status: status(
            table
                .table_status()
                .map(|s| (s.as_str(), *s == TableStatus::Active)),
        ),
        read,
        write,
    });
    for gsi in table.global_secondary_indexes() {
        let Some(index) = gsi.index_name() else {
            continue;
        };
        let (read, write) = states(gsi.provisioned_throughput());
        table_and_indexes.push(TableOrIndex {
            index: Some(index.to_owned()),
            status: status(
                gsi.index_status()
                    .map(|s| (s.as_str(), *s == IndexStatus::Active)),
            ),
            read,
            write,
        });
    }
    let on_demand = on_demand
        || table_and_indexes
            .first()
            .is_some_and(|t| t.read.provisioned == 0);
    Ok(TableDescription {
        name: name.to_owned(),
        arn: table.table_arn().unwrap_or_default().to_owned(),
        billing: if on_demand {
            Billing::OnDemand
        } else {
            Billing::Provisioned
        },
        table_and_indexes,
    })
}

/// A table's or index's status from its SDK value (as spelled, and whether it is `ACTIVE`).
fn status(sdk: Option<(&str, bool)>) -> Status {
    match sdk {
        Some((_, true)) => Status::Active,
        Some((spelled, false)) => Status::Inactive(spelled.to_owned()),
        None => Status::Inactive("UNKNOWN".to_owned()),
    }
}

fn states(pt: Option<&ProvisionedThroughputDescription>) -> (DimensionState, DimensionState) {
    let units = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
    let budget = DecreaseBudget {
        decreases_today: pt
            .and_then(|p| p.number_of_decreases_today())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
        last_decrease: pt.and_then(|p| p.last_decrease_date_time()).map(timestamp),
    };
    let last_increase = pt.and_then(|p| p.last_increase_date_time()).map(timestamp);
    let state = |provisioned| DimensionState {
        provisioned,
        budget,
        last_increase,
    };
    (
        state(units(pt.and_then(|p| p.read_capacity_units()))),
        state(units(pt.and_then(|p| p.write_capacity_units()))),
    )
}

/// The per-table capacity quotas from `DescribeLimits` (read, write), if the API answers.
pub async fn table_limits(clients: &Clients) -> Option<(u64, u64)> {
    match clients.dynamodb.describe_limits().send().await {
        Ok(out) => Some((
            out.table_max_read_capacity_units()
                .and_then(|v| u64::try_from(v).ok())?,
            out.table_max_write_capacity_units()
                .and_then(|v| u64::try_from(v).ok())?,
        )),
        Err(e) => {
            tracing::warn!(
                error = %crate::error::chain(&e),
                "DescribeLimits failed; using the configured max only"
            );
            None
        }
    }
}

/// Which series one metric query fetches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SeriesKey {
    /// Table name.
    pub table: String,
    /// GSI name, if any.
    pub index: Option<String>,
    /// Read or write.
    pub dimension: scaling_policy::Dimension,
}

/// The `AWS/DynamoDB` metric names of one dimension: the one place that spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricNames {
    /// Consumed capacity units (a Sum per period).
    pub consumed: &'static str,
    /// Throttle events of every cause together (a Sum per period).
    pub throttled: &'static str,
    /// Provisioned capacity units (an Average per period).
    pub provisioned: &'static str,
}

/// The metric names of `dimension`.
pub const fn metric_names(dimension: scaling_policy::Dimension) -> MetricNames {
    match dimension {
        scaling_policy::Dimension::Read => MetricNames {
            consumed: "ConsumedReadCapacityUnits",
            throttled: "ReadThrottleEvents",
            provisioned: "ProvisionedReadCapacityUnits",
        },
        scaling_policy::Dimension::Write => MetricNames {
            consumed: "ConsumedWriteCapacityUnits",
            throttled: "WriteThrottleEvents",
            provisioned: "ProvisionedWriteCapacityUnits",
        },
    }
}

/// The most metric queries one `GetMetricData` call accepts.
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// What [`fetch_usage`] returns: per series, its [`Usage`], or the failure of the batch that
/// should have fetched it (shared by every series of the batch).
pub type Measured = HashMap<SeriesKey, Result<Usage, Arc<Error>>>;

/// Fetches consumed and throttle Sums per minute for every key over `[start, end)` (whole
/// minutes), in batches of at most [`MAX_QUERIES_PER_CALL`] queries, one query per metric.
/// Returns one [`Usage`] per key; a batch that fails yields its error for each of its keys.
pub async fn fetch_usage(
    clients: &Clients,
    keys: &[SeriesKey],
    start: Timestamp,
    end: Timestamp,
) -> Measured {
    let start = start.floor_minute();
    let end = end.floor_minute();
    let minutes = usize::try_from(end.secs_since(start) / 60).unwrap_or(0);
    let mut out = HashMap::new();
    // Two queries (consumed, throttled) per key.
    for batch in keys.chunks(MAX_QUERIES_PER_CALL / 2) {
        match fetch_batch(clients, batch, start, end, minutes).await {
            Ok(usages) => out.extend(usages.into_iter().map(|(k, u)| (k, Ok(u)))),
            Err(e) => {
                let e = Arc::new(e);
                out.extend(batch.iter().map(|k| (k.clone(), Err(Arc::clone(&e)))));
            }
        }
    }
    out
}

/// A `GetMetricData` request over `[start, end)`, oldest datapoints first; queries are added by
/// the caller.
fn metric_data_request(
    clients: &Clients,
    start: Timestamp,
    end: Timestamp,
) -> aws_sdk_cloudwatch::operation::get_metric_data::builders::GetMetricDataFluentBuilder {
    clients
        .cloudwatch
        .get_metric_data()
        .start_time(aws_smithy_types::DateTime::from_secs(start.unix()))
        .end_time(aws_smithy_types::DateTime::from_secs(end.unix()))
        .scan_by(aws_sdk_cloudwatch::types::ScanBy::TimestampAscending)
}

async fn fetch_batch(
    clients: &Clients,
    batch: &[SeriesKey],
    start: Timestamp,
    end: Timestamp,
    minutes: usize,
) -> Result<Vec<(SeriesKey, Usage)>, Error> {
    let mut request = metric_data_request(clients, start, end);
    for (i, key) in batch.iter().enumerate() {
        let names = metric_names(key.dimension);
        request = request
            .metric_data_queries(query(&format!("c{i}"), key, names.consumed))
            .metric_data_queries(query(&format!("t{i}"), key, names.throttled));
    }
    let mut usages: Vec<Usage> = batch
        .iter()
        .map(|_| Usage {
            start,
            minutes: vec![Minute::GAP; minutes],
        })
        .collect();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Metrics(boxed(e)))?;
        for result in page.metric_data_results() {
            let Some(id) = result.id() else { continue };
            let (kind, idx) = id.split_at(1);
            let Some(usage) = idx.parse::<usize>().ok().and_then(|i| usages.get_mut(i)) else {
                continue;
            };
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                let offset = t.secs() - start.unix();
                if offset < 0 || offset % 60 != 0 {
                    continue;
                }
                let Some(minute) = usize::try_from(offset / 60)
                    .ok()
                    .and_then(|m| usage.minutes.get_mut(m))
                else {
                    continue;
                };
                let slot = if kind == "c" {
                    &mut minute.consumed
                } else {
                    &mut minute.throttled
                };
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        }
    }
    Ok(batch.iter().cloned().zip(usages).collect())
}

fn query(id: &str, key: &SeriesKey, metric_name: &str) -> MetricDataQuery {
    metric_query(id, &key.table, key.index.as_deref(), metric_name, "Sum", 60)
}

fn metric_query(
    id: &str,
    table: &str,
    index: Option<&str>,
    metric_name: &str,
    stat: &str,
    period: i32,
) -> MetricDataQuery {
    let mut metric = Metric::builder()
        .namespace("AWS/DynamoDB")
        .metric_name(metric_name)
        .dimensions(
            CwDimension::builder()
                .name("TableName")
                .value(table)
                .build(),
        );
    if let Some(index) = index {
        metric = metric.dimensions(
            CwDimension::builder()
                .name("GlobalSecondaryIndexName")
                .value(index)
                .build(),
        );
    }
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric.build())
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// The most datapoints one `GetMetricData` request returns (CloudWatch's limit).
pub const MAX_DATAPOINTS_PER_CALL: usize = 100_800;

/// One `AWS/DynamoDB` series of a table or GSI, for history queries ([`fetch_history`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MetricKey {
    /// Table name.
    pub table: String,
    /// GSI name, if any.
    pub index: Option<String>,
    /// Metric name, e.g. `ConsumedReadCapacityUnits` or `ProvisionedWriteCapacityUnits`.
    pub metric: String,
    /// Statistic: `Sum`, `Average`, `Maximum`...
    pub stat: String,
}

/// The datapoints of every key over `[start, end)` at `period` seconds, one `GetMetricData`
/// request (its pages followed): per key, in the order of `keys`, the (period start, value)
/// pairs CloudWatch has, oldest first. A period without data is simply absent.
///
/// At most [`MAX_QUERIES_PER_CALL`] keys. The caller keeps
/// `keys.len() * (end - start) / period` within [`MAX_DATAPOINTS_PER_CALL`] and picks a period
/// CloudWatch still keeps at the age of `start` (60 s for data up to 15 days old, 300 s up to 63
/// days, 3600 s beyond), aligned to it.
pub async fn fetch_history(
    clients: &Clients,
    keys: &[MetricKey],
    start: Timestamp,
    end: Timestamp,
    period: i32,
) -> Result<Vec<Vec<(Timestamp, f64)>>, Error> {
    if keys.len() > MAX_QUERIES_PER_CALL {
        return Err(Error::Metrics(
            format!(
                "{} metric queries in one GetMetricData call (at most {MAX_QUERIES_PER_CALL})",
                keys.len()
            )
            .into(),
        ));
    }
    let mut request = metric_data_request(clients, start, end);
    for (i, key) in keys.iter().enumerate() {
        request = request.metric_data_queries(metric_query(
            &format!("m{i}"),
            &key.table,
            key.index.as_deref(),
            &key.metric,
            &key.stat,
            period,
        ));
    }
    let mut series: Vec<Vec<(Timestamp, f64)>> = vec![Vec::new(); keys.len()];
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Metrics(boxed(e)))?;
        for result in page.metric_data_results() {
            let Some(points) = result
                .id()
                .and_then(|id| id.strip_prefix('m'))
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| series.get_mut(i))
            else {
                continue;
            };
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                let at = Timestamp::from_unix(t.secs());
                if at >= start && at < end && v.is_finite() {
                    points.push((at, *v));
                }
            }
        }
    }
    for points in &mut series {
        points.sort_by_key(|(t, _)| *t);
    }
    Ok(series)
}

/// Whether `config` yields AWS credentials: [`Error::Credentials`] with the credential chain's own
/// explanation when it does not (no environment variables, no profile, no SSO session, no
/// instance role...). Lets a command say how to fix it before its first call fails with a
/// generic error.
pub async fn check_credentials(config: &aws_config::SdkConfig) -> Result<(), Error> {
    use aws_sdk_dynamodb::config::ProvideCredentials;
    let Some(provider) = config.credentials_provider() else {
        return Err(Error::Credentials(
            "no credentials provider is configured".into(),
        ));
    };
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| Error::Credentials(boxed(e)))
}

/// One `UpdateTable` carrying every change of the table and its GSIs (and nothing else). The
/// error's [`Error::kind`] says whether the table was busy, gone or refused the change.
pub async fn update_table(
    clients: &Clients,
    table: &str,
    changes: &[CapacityChange],
) -> Result<(), Error> {
    let throughput = |c: &CapacityChange| {
        ProvisionedThroughput::builder()
            .read_capacity_units(i64::try_from(c.read).unwrap_or(i64::MAX))
            .write_capacity_units(i64::try_from(c.write).unwrap_or(i64::MAX))
            .build()
    };
    let failed = |kind, source| Error::Aws {
        table: table.to_owned(),
        operation: "UpdateTable",
        kind,
        source,
    };
    let build_err = |e: aws_sdk_dynamodb::error::BuildError| failed(ErrorKind::Other, boxed(e));
    let mut request = clients.dynamodb.update_table().table_name(table);
    for change in changes {
        let pt = throughput(change).map_err(build_err)?;
        match &change.index {
            None => request = request.provisioned_throughput(pt),
            Some(index) => {
                request = request.global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder()
                        .update(
                            UpdateGlobalSecondaryIndexAction::builder()
                                .index_name(index)
                                .provisioned_throughput(pt)
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
        }
    }
    request.send().await.map(|_| ()).map_err(|e| {
        let kind = e
            .as_service_error()
            .map_or(ErrorKind::Other, update_failure);
        failed(kind, boxed(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_from_arns() {
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            Some("orders")
        );
        assert_eq!(table_name_from_arn("arn:aws:s3:::bucket"), None);
    }
}
