//! The adapter edge: every AWS SDK call of the pipeline but the lease table's ([`crate::lease`]),
//! and the conversion of SDK types into the crate's own ([`crate::table`]). Nothing outside these
//! two modules sees an SDK type except [`Clients`].
//!
//! **What CloudWatch answers is checked, not trusted.** [`fetch_usage`] honours each
//! `MetricDataResult`'s `StatusCode` (after the last page: `PartialData` on a page with a
//! `NextToken` is CloudWatch saying "more follows") and the response's `Messages`: a series that
//! is not `Complete`, that is missing from the answer, or that holds a value that is not a
//! number is an error for its table, never "no throttling" or "no data". A response that does
//! not parse is the SDK's error, for every table of the batch. A minute CloudWatch has no
//! datapoint for is a gap (unknown), as always.
//!
//! **The newest minute** of a series is often incomplete: CloudWatch keeps adding late
//! datapoints to it. [`fetch_usage`] never asks for the minute in progress (`end` is the start of
//! `now`'s minute) and keeps the newest published one as a **lower bound** of its demand, not
//! dropped: every rule reads a window through maxima (peak demand, peak consumption, any
//! throttling), where a value below the truth can only give a peak at or below the true one and
//! at or above the peak without it, so keeping it never lowers more than dropping it would, and
//! a partial spike still holds capacity up. No rule reads the newest minute alone as "the
//! current demand" or averages it; the growth rule may miss a jump the minute does not show yet,
//! which delays a raise by a minute and never makes one.
//!
//! **Timeouts.** The SDK has no operation timeout by default: a hung connection would hold a run
//! until Lambda kills it. [`timeouts`] is the configuration both functions (and the tests) use.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use aws_sdk_cloudwatch::types::{
    Dimension as CwDimension, Metric, MetricDataQuery, MetricStat, StatusCode,
};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    BillingMode, GlobalSecondaryIndexUpdate, IndexStatus, ProvisionedThroughput,
    ProvisionedThroughputDescription, TableStatus, UpdateGlobalSecondaryIndexAction,
};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use aws_smithy_types::timeout::TimeoutConfig;
use scaling_policy::{DecreaseBudget, DimensionState, Minute, Timestamp, Usage};

use crate::error::{BoxError, Error, ErrorKind};
use crate::table::{
    Billing, CapacityChange, Limits, Status, TableDescription, TableOrIndex, TaggedTable, timestamp,
};

/// The AWS clients a run uses. Build them once per cold start.
#[derive(Clone, Debug)]
pub struct Clients {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// CloudWatch.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Resource Groups Tagging API.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// Application Auto Scaling (only to see which tables it manages).
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
}

impl Clients {
    /// Clients sharing one SDK configuration (region, credentials, `AWS_ENDPOINT_URL`...), each
    /// counting its calls into the run being counted ([`crate::calls`]).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        use crate::calls::CountCalls;
        Self {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config)
                    .interceptor(CountCalls)
                    .build(),
            ),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                aws_sdk_cloudwatch::config::Builder::from(config)
                    .interceptor(CountCalls)
                    .build(),
            ),
            tagging: aws_sdk_resourcegroupstagging::Client::from_conf(
                aws_sdk_resourcegroupstagging::config::Builder::from(config)
                    .interceptor(CountCalls)
                    .build(),
            ),
            autoscaling: aws_sdk_applicationautoscaling::Client::from_conf(
                aws_sdk_applicationautoscaling::config::Builder::from(config)
                    .interceptor(CountCalls)
                    .build(),
            ),
        }
    }
}

/// How long one attempt of a call may take before the SDK gives up on it (and retries).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// The SDK timeouts of the functions: connecting 3 s (at most `attempt`), an attempt `attempt`,
/// a call its three attempts and their backoffs (`3 x attempt + 4 s`: the standard retry waits
/// up to 1 s, then up to 2 s). The functions use [`ATTEMPT_TIMEOUT`] (a call then takes at
/// most 19 s); tests pass less.
pub fn timeouts(attempt: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3).min(attempt))
        .operation_attempt_timeout(attempt)
        .operation_timeout(attempt * 3 + Duration::from_secs(4))
        .build()
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
    match classify(e, modeled) {
        // The same exception refuses a decrease past the quota and a capacity past a limit;
        // only its message tells them apart.
        ErrorKind::LimitExceeded => {
            let modeled = match e {
                aws_sdk_dynamodb::operation::update_table::UpdateTableError::LimitExceededException(l) => l.message(),
                _ => None,
            };
            let message = modeled.or(e.message()).unwrap_or_default();
            if message.to_ascii_lowercase().contains("decrease") {
                ErrorKind::DecreaseQuota
            } else {
                ErrorKind::LimitExceeded
            }
        }
        kind => kind,
    }
}

pub(crate) fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> BoxError {
    Box::new(e)
}

/// What discovery found: the tables carrying the tag key, and the tables whose tags could not be
/// read (the fallback reads each table's tags on its own: one failure is that table's).
#[derive(Debug, Default)]
pub struct Discovered {
    /// Tables carrying the tag key (any value), by name.
    pub tables: Vec<TaggedTable>,
    /// Tables that may or may not carry it: reading them failed.
    pub failed: Vec<(String, Error)>,
}

/// Resources asked for per `GetResources` page (the API's maximum).
pub const RESOURCES_PER_PAGE: i32 = 100;

/// Tables carrying the tag `key` (any value), with all their tags. Uses the tagging API's
/// `GetResources`; where that fails it falls back to `ListTables` + `ListTagsOfResource`.
/// Errors only when no list of tables can be had at all.
pub async fn discover(clients: &Clients, key: &str) -> Result<Discovered, Error> {
    match discover_by_tagging_api(clients, key).await {
        Ok(tables) => Ok(Discovered {
            tables,
            failed: Vec::new(),
        }),
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
        .resources_per_page(RESOURCES_PER_PAGE)
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

async fn discover_by_listing(clients: &Clients, key: &str) -> Result<Discovered, Error> {
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
    let mut found = Discovered::default();
    for name in names {
        match tagged_by_listing(clients, &name).await {
            Ok(Some(table)) if table.tags.iter().any(|(k, _)| k == key) => {
                found.tables.push(table);
            }
            Ok(_) => {}
            Err(e) => found.failed.push((name, e)),
        }
    }
    Ok(found)
}

/// One table of the fallback discovery with all its tags; `None` when it vanished meanwhile.
async fn tagged_by_listing(clients: &Clients, name: &str) -> Result<Option<TaggedTable>, Error> {
    let failed = |operation, kind, source| Error::Aws {
        table: name.to_owned(),
        operation,
        kind,
        source,
    };
    let described = clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await;
    let arn = match described {
        Ok(out) => match out.table().and_then(|t| t.table_arn()) {
            Some(arn) => arn.to_owned(),
            None => {
                return Err(Error::BadResponse {
                    table: name.to_owned(),
                    operation: "DescribeTable",
                    what: "no table ARN".to_owned(),
                });
            }
        },
        Err(e) => {
            let kind = e
                .as_service_error()
                .map_or(ErrorKind::Other, describe_failure);
            if kind == ErrorKind::NotFound {
                return Ok(None);
            }
            return Err(failed("DescribeTable", kind, boxed(e)));
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
            .map_err(|e| failed("ListTagsOfResource", ErrorKind::Other, boxed(e)))?;
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
    Ok(Some(TaggedTable {
        name: name.to_owned(),
        arn,
        tags,
    }))
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
    // A table from before billing modes existed has no summary: provisioned, unless it reports
    // zero capacity, which is how DynamoDB describes an on-demand table.
    let on_demand = table
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map_or_else(
            || {
                table
                    .provisioned_throughput()
                    .and_then(|p| p.read_capacity_units())
                    == Some(0)
            },
            |m| *m == BillingMode::PayPerRequest,
        );
    let bad = |what: String| Error::BadResponse {
        table: name.to_owned(),
        operation: "DescribeTable",
        what,
    };
    let states = |pt, target: &str| {
        if on_demand {
            Ok(on_demand_states())
        } else {
            states(pt).map_err(|field| bad(format!("no {field} for {target}")))
        }
    };
    let mut table_and_indexes = Vec::new();
    let (read, write) = states(table.provisioned_throughput(), "the table")?;
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
        let (read, write) = states(gsi.provisioned_throughput(), &format!("index {index}"))?;
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
    let mut replicas: Vec<String> = table
        .replicas()
        .iter()
        .map(|r| r.region_name().unwrap_or("an unnamed region").to_owned())
        .collect();
    if replicas.is_empty()
        && let Some(version) = table.global_table_version()
    {
        replicas.push(format!("global table version {version}"));
    }
    Ok(TableDescription {
        name: name.to_owned(),
        arn: table.table_arn().unwrap_or_default().to_owned(),
        billing: if on_demand {
            Billing::OnDemand
        } else {
            Billing::Provisioned
        },
        table_and_indexes,
        replicas,
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

/// The states of an on-demand table's dimensions: nothing to manage.
fn on_demand_states() -> (DimensionState, DimensionState) {
    let state = DimensionState {
        provisioned: 0,
        budget: DecreaseBudget::default(),
        last_increase: None,
    };
    (state, state)
}

/// Both dimensions of a provisioned table or GSI; `Err` names the field `DescribeTable` left out
/// (a missing capacity is never taken for zero).
fn states(
    pt: Option<&ProvisionedThroughputDescription>,
) -> Result<(DimensionState, DimensionState), &'static str> {
    let units = |v: Option<i64>, field| {
        v.and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v > 0)
            .ok_or(field)
    };
    let read = units(
        pt.and_then(|p| p.read_capacity_units()),
        "provisioned read capacity",
    )?;
    let write = units(
        pt.and_then(|p| p.write_capacity_units()),
        "provisioned write capacity",
    )?;
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
    Ok((state(read), state(write)))
}

/// The capacity quotas from `DescribeLimits`, if the API answers (a warning and `None`
/// otherwise: the configured max still holds).
pub async fn limits(clients: &Clients) -> Option<Limits> {
    match clients.dynamodb.describe_limits().send().await {
        Ok(out) => {
            let units = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
            let limits = (|| {
                Some(Limits {
                    table_read: units(out.table_max_read_capacity_units())?,
                    table_write: units(out.table_max_write_capacity_units())?,
                    account_read: units(out.account_max_read_capacity_units())?,
                    account_write: units(out.account_max_write_capacity_units())?,
                })
            })();
            if limits.is_none() {
                tracing::warn!(
                    "DescribeLimits answered without every quota; using the configured max only"
                );
            }
            limits
        }
        Err(e) => {
            tracing::warn!(
                error = %crate::error::chain(&e),
                "DescribeLimits failed; using the configured max only"
            );
            None
        }
    }
}

/// The tables and GSIs Application Auto Scaling has a scalable target for (any dimension,
/// suspended or not), as (table, index): `DescribeScalableTargets` for the `dynamodb` namespace,
/// every page. A table or GSI that another scaler manages is left to it: two scalers spending
/// one decrease quota is worse than either.
pub async fn scalable_targets(
    clients: &Clients,
) -> Result<std::collections::HashSet<(String, Option<String>)>, Error> {
    let mut pages = clients
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Dynamodb)
        .into_paginator()
        .send();
    let mut targets = std::collections::HashSet::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::ScalableTargets(boxed(e)))?;
        for t in page.scalable_targets() {
            if let Some(target) = scalable_resource(t.resource_id()) {
                targets.insert(target);
            }
        }
    }
    Ok(targets)
}

/// `table/NAME` -> (`NAME`, `None`), `table/NAME/index/INDEX` -> (`NAME`, `Some(INDEX)`).
fn scalable_resource(id: &str) -> Option<(String, Option<String>)> {
    let rest = id.strip_prefix("table/")?;
    match rest.split_once("/index/") {
        Some((table, index)) => Some((table.to_owned(), Some(index.to_owned()))),
        None => Some((rest.to_owned(), None)),
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
    /// Throttle events of a hot partition, which more table capacity does not cure (a Sum per
    /// period). The other causes besides provisioned throughput (account limits, on-demand
    /// maximums) apply to on-demand tables only.
    pub key_range: &'static str,
    /// Provisioned capacity units (an Average per period).
    pub provisioned: &'static str,
}

/// The metric names of `dimension`.
pub const fn metric_names(dimension: scaling_policy::Dimension) -> MetricNames {
    match dimension {
        scaling_policy::Dimension::Read => MetricNames {
            consumed: "ConsumedReadCapacityUnits",
            throttled: "ReadThrottleEvents",
            key_range: "ReadKeyRangeThroughputThrottleEvents",
            provisioned: "ProvisionedReadCapacityUnits",
        },
        scaling_policy::Dimension::Write => MetricNames {
            consumed: "ConsumedWriteCapacityUnits",
            throttled: "WriteThrottleEvents",
            key_range: "WriteKeyRangeThroughputThrottleEvents",
            provisioned: "ProvisionedWriteCapacityUnits",
        },
    }
}

/// The most metric queries one `GetMetricData` call accepts.
pub const MAX_QUERIES_PER_CALL: usize = 500;

/// What [`fetch_usage`] returns: per series, its [`Usage`], or why it is unknown: the failure of
/// the batch that should have fetched it (shared by every series of the batch), or of the series
/// alone (not `Complete`, missing from the answer).
pub type Measured = HashMap<SeriesKey, Result<Usage, Arc<Error>>>;

/// Fetches consumed and throttle Sums per minute for every key over `[start, end)` (whole
/// minutes), in batches of at most [`MAX_QUERIES_PER_CALL`] queries, one query per metric, and
/// of at most [`MAX_DATAPOINTS_PER_CALL`] datapoints (a cold start's first poll reads hours).
/// Returns one [`Usage`] per key; a batch that fails yields its error for each of its keys, a
/// series CloudWatch did not answer completely its own error (see the module header).
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
    let per_call =
        (MAX_DATAPOINTS_PER_CALL / (2 * minutes.max(1))).clamp(1, MAX_QUERIES_PER_CALL / 2);
    for batch in keys.chunks(per_call) {
        match fetch_batch(clients, batch, start, end, minutes).await {
            Ok(usages) => out.extend(usages.into_iter().map(|(k, u)| (k, u.map_err(Arc::new)))),
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

/// The two series one key is fetched as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Series {
    /// Consumed capacity (query id `c<i>`).
    Consumed,
    /// Throttle events (query id `t<i>`).
    Throttled,
}

/// What the answers said about one query, over every page.
#[derive(Default)]
struct Answered {
    /// The `StatusCode` of the last page that had this query, as spelled.
    status: Option<String>,
    /// Every message CloudWatch attached to it.
    messages: Vec<String>,
    /// A value that was not a finite number.
    bad_value: Option<f64>,
}

impl Answered {
    /// Why the series cannot be used, if it cannot.
    fn problem(&self) -> Option<String> {
        let messages = if self.messages.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.messages.join("; "))
        };
        match self.status.as_deref() {
            None => Some(format!("missing from CloudWatch's answer{messages}")),
            Some(s) if s != StatusCode::Complete.as_str() => {
                Some(format!("answered {s}, not Complete{messages}"))
            }
            Some(_) => self
                .bad_value
                .map(|v| format!("answered the value {v}, not a number of units")),
        }
    }
}

async fn fetch_batch(
    clients: &Clients,
    batch: &[SeriesKey],
    start: Timestamp,
    end: Timestamp,
    minutes: usize,
) -> Result<Vec<(SeriesKey, Result<Usage, Error>)>, Error> {
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
    let mut answered: Vec<[Answered; 2]> = batch.iter().map(|_| Default::default()).collect();
    let mut response_messages = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Metrics(boxed(e)))?;
        response_messages.extend(page.messages().iter().map(message));
        for result in page.metric_data_results() {
            let Some((series, i)) = result.id().and_then(parse_query_id) else {
                continue;
            };
            let (Some(usage), Some(answer)) = (usages.get_mut(i), answered.get_mut(i)) else {
                continue;
            };
            let answer = &mut answer[series as usize];
            answer.status = Some(
                result
                    .status_code()
                    .map_or_else(|| "no StatusCode".to_owned(), |s| s.as_str().to_owned()),
            );
            answer
                .messages
                .extend(result.messages().iter().map(message));
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
                if !v.is_finite() || *v < 0.0 {
                    answer.bad_value = Some(*v);
                    continue;
                }
                let slot = match series {
                    Series::Consumed => &mut minute.consumed,
                    Series::Throttled => &mut minute.throttled,
                };
                *slot = Some(slot.unwrap_or(0.0) + v);
            }
        }
    }
    if !response_messages.is_empty() {
        return Err(Error::Metrics(
            format!(
                "CloudWatch answered with messages: {}",
                response_messages.join("; ")
            )
            .into(),
        ));
    }
    Ok(batch
        .iter()
        .zip(usages)
        .zip(answered)
        .map(|((key, usage), answers)| {
            let names = metric_names(key.dimension);
            let problem = [
                (names.consumed, &answers[0]),
                (names.throttled, &answers[1]),
            ]
            .into_iter()
            .find_map(|(metric, a)| a.problem().map(|why| (metric, why)));
            let usage = match problem {
                None => Ok(usage),
                Some((metric, why)) => Err(Error::IncompleteSeries {
                    index: key.index.clone(),
                    metric: metric.to_owned(),
                    why,
                }),
            };
            (key.clone(), usage)
        })
        .collect())
}

/// `c12` -> (consumed, 12), `t3` -> (throttled, 3).
fn parse_query_id(id: &str) -> Option<(Series, usize)> {
    let series = match id.get(..1)? {
        "c" => Series::Consumed,
        "t" => Series::Throttled,
        _ => return None,
    };
    Some((series, id.get(1..)?.parse().ok()?))
}

/// A CloudWatch message as `Code: Value`.
fn message(m: &aws_sdk_cloudwatch::types::MessageData) -> String {
    match (m.code(), m.value()) {
        (Some(c), Some(v)) => format!("{c}: {v}"),
        (Some(c), None) => c.to_owned(),
        (None, Some(v)) => v.to_owned(),
        (None, None) => "an empty message".to_owned(),
    }
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
/// pairs CloudWatch has, oldest first, or why the series cannot be used. A period without data
/// is simply absent.
///
/// CloudWatch's answer is checked as [`fetch_usage`] checks it: messages on the response fail
/// the call; a series not answered `Complete`, missing from the answer, or with a value that is
/// not a number of units (negative, not finite) fails alone ([`Error::IncompleteSeries`]).
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
) -> Result<Vec<Result<Vec<(Timestamp, f64)>, Error>>, Error> {
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
    let mut answered: Vec<Answered> = keys.iter().map(|_| Answered::default()).collect();
    let mut response_messages = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Metrics(boxed(e)))?;
        response_messages.extend(page.messages().iter().map(message));
        for result in page.metric_data_results() {
            let Some(i) = result
                .id()
                .and_then(|id| id.strip_prefix('m'))
                .and_then(|i| i.parse::<usize>().ok())
            else {
                continue;
            };
            let (Some(points), Some(answer)) = (series.get_mut(i), answered.get_mut(i)) else {
                continue;
            };
            answer.status = Some(
                result
                    .status_code()
                    .map_or_else(|| "no StatusCode".to_owned(), |s| s.as_str().to_owned()),
            );
            answer
                .messages
                .extend(result.messages().iter().map(message));
            for (t, v) in result.timestamps().iter().zip(result.values()) {
                let at = Timestamp::from_unix(t.secs());
                if !(at >= start && at < end) {
                    continue;
                }
                if !v.is_finite() || *v < 0.0 {
                    answer.bad_value = Some(*v);
                    continue;
                }
                points.push((at, *v));
            }
        }
    }
    if !response_messages.is_empty() {
        return Err(Error::Metrics(
            format!(
                "CloudWatch answered with messages: {}",
                response_messages.join("; ")
            )
            .into(),
        ));
    }
    Ok(keys
        .iter()
        .zip(series)
        .zip(answered)
        .map(|((key, mut points), answer)| match answer.problem() {
            Some(why) => Err(Error::IncompleteSeries {
                index: key.index.clone(),
                metric: key.metric.clone(),
                why,
            }),
            None => {
                points.sort_by_key(|(t, _)| *t);
                Ok(points)
            }
        })
        .collect())
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
    fn scalable_target_resource_ids() {
        assert_eq!(
            scalable_resource("table/orders"),
            Some(("orders".to_owned(), None))
        );
        assert_eq!(
            scalable_resource("table/orders/index/by-user"),
            Some(("orders".to_owned(), Some("by-user".to_owned())))
        );
        assert_eq!(scalable_resource("service/cluster/svc"), None);
    }

    #[test]
    fn table_names_from_arns() {
        assert_eq!(
            table_name_from_arn("arn:aws:dynamodb:us-east-1:123456789012:table/orders"),
            Some("orders")
        );
        assert_eq!(table_name_from_arn("arn:aws:s3:::bucket"), None);
    }
}
