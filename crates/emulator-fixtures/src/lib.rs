//! # emulator-fixtures: tables and metrics for the local AWS emulator
//!
//! What the CLI's `demo` and the emulator tests put into moto server and read back: tables with
//! GSIs and tags ([`create_table`]), the stack's lease table ([`create_lease_table`]),
//! per-minute CloudWatch datapoints ([`put_minutes`], [`put_values`]), and the capacities
//! `DescribeTable` reports ([`capacities`]); the API Gateway events the management API's
//! handler receives ([`api_event`]); and [`is_local`] tells whether an endpoint is on this
//! machine. Everything goes
//! through the same [`Clients`] as a real run, so no test-only code path exists in the pipeline.
//!
//! Key decisions:
//! - Its own crate, so that neither the production library nor a Lambda binary links it: only
//!   the CLI (for `demo`) and `test-support` (for the tests) depend on it. Starting moto and the
//!   panicking test helpers live in `test-support`, which is a dev-dependency only.
//! - Errors, not panics: the demo reports them like any other command error.
//! - Each datapoint is written in the middle of its minute, so that no bucketing rule of the
//!   emulator (or of CloudWatch) can put it in a neighbouring minute.
//!
//! Never point it at a real account: it creates tables.

pub mod api_event;

use autoscaler_aws::Clients;
use autoscaler_aws::aws::metric_names;
use aws_sdk_cloudwatch::types::{Dimension as CwDimension, MetricDatum, StandardUnit};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, Tag,
};
use scaling_policy::{Dimension, Timestamp};

/// Whether `url` (an `AWS_ENDPOINT_URL`) is a server on this machine (`http://127.0.0.1...` or
/// `http://localhost...`): what anything that creates tables checks before it starts.
pub fn is_local(url: &str) -> bool {
    let host = url
        .strip_prefix("http://")
        .unwrap_or_default()
        .split([':', '/'])
        .next()
        .unwrap_or_default();
    host == "127.0.0.1" || host == "localhost"
}

/// A boxed SDK error (their types are large and generic).
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong while setting up or reading the emulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the emulator failed (or could not be built).
    #[error("{operation} for {name} failed")]
    Call {
        /// The API call.
        operation: &'static str,
        /// The table it was about.
        name: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
    /// `DescribeTable`, through the pipeline's own adapter, failed.
    #[error(transparent)]
    Describe(#[from] autoscaler_aws::Error),
}

/// A table to create.
#[derive(Clone, Debug, Default)]
pub struct TableSpec {
    /// Table name.
    pub name: String,
    /// Provisioned (read, write); `None` creates an on-demand table.
    pub capacity: Option<(u64, u64)>,
    /// GSIs: (name, read, write).
    pub indexes: Vec<(String, u64, u64)>,
    /// Tags (key, value).
    pub tags: Vec<(String, String)>,
}

impl TableSpec {
    /// A table spec from borrowed parts: `capacity` `None` for on-demand, GSIs as
    /// (name, read, write), tags as (key, value).
    pub fn new(
        name: &str,
        capacity: Option<(u64, u64)>,
        indexes: &[(&str, u64, u64)],
        tags: &[(&str, &str)],
    ) -> Self {
        Self {
            name: name.to_owned(),
            capacity,
            indexes: indexes
                .iter()
                .map(|(n, r, w)| ((*n).to_owned(), *r, *w))
                .collect(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

fn throughput(read: u64, write: u64) -> Result<ProvisionedThroughput, BoxError> {
    Ok(ProvisionedThroughput::builder()
        .read_capacity_units(i64::try_from(read)?)
        .write_capacity_units(i64::try_from(write)?)
        .build()?)
}

fn attribute(name: &str) -> Result<AttributeDefinition, BoxError> {
    Ok(AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()?)
}

fn hash_key(name: &str) -> Result<KeySchemaElement, BoxError> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()?)
}

/// Creates the table (and its GSIs and tags).
pub async fn create_table(clients: &Clients, spec: &TableSpec) -> Result<(), Error> {
    send_create_table(clients, spec)
        .await
        .map_err(|source| Error::Call {
            operation: "CreateTable",
            name: spec.name.clone(),
            source,
        })
}

async fn send_create_table(clients: &Clients, spec: &TableSpec) -> Result<(), BoxError> {
    let mut req = clients
        .dynamodb
        .create_table()
        .table_name(&spec.name)
        .attribute_definitions(attribute("pk")?)
        .key_schema(hash_key("pk")?);
    match spec.capacity {
        Some((r, w)) => {
            req = req
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(throughput(r, w)?);
        }
        None => req = req.billing_mode(BillingMode::PayPerRequest),
    }
    for (i, (name, r, w)) in spec.indexes.iter().enumerate() {
        let key = format!("gsi{i}");
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(hash_key(&key)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if spec.capacity.is_some() {
            gsi = gsi.provisioned_throughput(throughput(*r, *w)?);
        }
        req = req
            .attribute_definitions(attribute(&key)?)
            .global_secondary_indexes(gsi.build()?);
    }
    for (k, v) in &spec.tags {
        req = req.tags(Tag::builder().key(k).value(v).build()?);
    }
    req.send().await?;
    Ok(())
}

/// Creates the lease table as `template.yaml`'s `LeaseTable` defines it (on-demand, keyed by
/// `table_name`); one that already exists is left as it is.
pub async fn create_lease_table(clients: &Clients, name: &str) -> Result<(), Error> {
    let sent = async {
        clients
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("table_name")?)
            .key_schema(hash_key("table_name")?)
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception())
                {
                    Ok(())
                } else {
                    Err(BoxError::from(e))
                }
            })
    };
    sent.await.map_err(|source| Error::Call {
        operation: "CreateTable",
        name: name.to_owned(),
        source,
    })
}

/// One minute of seeded metrics: consumed units (Sum over the minute) and throttle events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedMinute {
    /// Consumed capacity units in the minute (per-second rate x 60).
    pub consumed: f64,
    /// Throttle events in the minute (0 writes no datapoint, like CloudWatch).
    pub throttled: f64,
}

/// Writes per-minute datapoints for one dimension of a table or GSI, the first at `start`.
pub async fn put_minutes(
    clients: &Clients,
    table: &str,
    index: Option<&str>,
    dimension: Dimension,
    start: Timestamp,
    minutes: &[SeedMinute],
) -> Result<(), Error> {
    let names = metric_names(dimension);
    let mut data = Vec::new();
    for (i, m) in (0_i64..).zip(minutes) {
        let at = start.plus_secs(60 * i);
        data.push(datum(table, index, names.consumed, at, m.consumed));
        if m.throttled > 0.0 {
            data.push(datum(table, index, names.throttled, at, m.throttled));
        }
    }
    put(clients, table, data).await
}

/// Writes one datapoint of any `AWS/DynamoDB` metric of a table or GSI every `step_secs`, the
/// first at `start` (each in the middle of its first minute, as [`put_minutes`] does). For the
/// metrics the emulator never publishes itself, such as `ProvisionedReadCapacityUnits`.
pub async fn put_values(
    clients: &Clients,
    table: &str,
    index: Option<&str>,
    metric: &str,
    start: Timestamp,
    step_secs: i64,
    values: &[f64],
) -> Result<(), Error> {
    let data = (0_i64..)
        .zip(values)
        .map(|(i, v)| datum(table, index, metric, start.plus_secs(step_secs * i), *v))
        .collect();
    put(clients, table, data).await
}

/// One datapoint in the middle of the minute holding `at`, so that no bucketing rule can put it
/// in a neighbouring minute.
fn datum(table: &str, index: Option<&str>, metric: &str, at: Timestamp, value: f64) -> MetricDatum {
    let mut dims = vec![
        CwDimension::builder()
            .name("TableName")
            .value(table)
            .build(),
    ];
    if let Some(i) = index {
        dims.push(
            CwDimension::builder()
                .name("GlobalSecondaryIndexName")
                .value(i)
                .build(),
        );
    }
    let ts = at.floor_minute().plus_secs(30);
    MetricDatum::builder()
        .metric_name(metric)
        .set_dimensions(Some(dims))
        .timestamp(aws_smithy_types::DateTime::from_secs(ts.unix()))
        .value(value)
        .unit(StandardUnit::Count)
        .build()
}

async fn put(clients: &Clients, table: &str, data: Vec<MetricDatum>) -> Result<(), Error> {
    for chunk in data.chunks(20) {
        clients
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/DynamoDB")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| Error::Call {
                operation: "PutMetricData",
                name: table.to_owned(),
                source: Box::new(e),
            })?;
    }
    Ok(())
}

/// Provisioned (index, read, write) of the table (index `None`) and each GSI.
pub async fn capacities(
    clients: &Clients,
    table: &str,
) -> Result<Vec<(Option<String>, u64, u64)>, Error> {
    let d = autoscaler_aws::aws::describe(clients, table).await?;
    Ok(d.table_and_indexes
        .into_iter()
        .map(|t| (t.index, t.read.provisioned, t.write.provisioned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_local() {
        assert!(is_local("http://127.0.0.1:4566"));
        assert!(is_local("http://localhost:4566/"));
        assert!(!is_local("https://dynamodb.us-east-1.amazonaws.com"));
        assert!(!is_local("http://127.0.0.1.example.com:80"));
        assert!(!is_local(""));
    }
}
