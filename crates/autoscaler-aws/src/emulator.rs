//! Fixtures for the local AWS emulator (moto server): create tables with GSIs and tags, write
//! per-minute CloudWatch datapoints, read capacities back. Used by the integration tests, the
//! demo and the CLI's tests; it goes through the same [`Clients`] as a real run. Never point it
//! at a real account: it creates tables.

use aws_sdk_cloudwatch::types::{Dimension as CwDimension, MetricDatum, StandardUnit};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ScalarAttributeType, Tag,
};
use scaling_policy::{Dimension, Timestamp};

use crate::Clients;
use crate::error::BoxError;

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
pub async fn create_table(clients: &Clients, spec: &TableSpec) -> Result<(), BoxError> {
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
) -> Result<(), BoxError> {
    let (consumed, throttled) = match dimension {
        Dimension::Read => ("ConsumedReadCapacityUnits", "ReadThrottleEvents"),
        Dimension::Write => ("ConsumedWriteCapacityUnits", "WriteThrottleEvents"),
    };
    let mut data = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let at = start.plus_secs(60 * i64::try_from(i)?);
        data.push(datum(table, index, consumed, at, m.consumed));
        if m.throttled > 0.0 {
            data.push(datum(table, index, throttled, at, m.throttled));
        }
    }
    put(clients, data).await
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
) -> Result<(), BoxError> {
    let mut data = Vec::new();
    for (i, v) in values.iter().enumerate() {
        let at = start.plus_secs(step_secs * i64::try_from(i)?);
        data.push(datum(table, index, metric, at, *v));
    }
    put(clients, data).await
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

async fn put(clients: &Clients, data: Vec<MetricDatum>) -> Result<(), BoxError> {
    for chunk in data.chunks(20) {
        clients
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/DynamoDB")
            .set_metric_data(Some(chunk.to_vec()))
            .send()
            .await?;
    }
    Ok(())
}

/// Provisioned (index, read, write) of the table (index `None`) and each GSI.
pub async fn capacities(
    clients: &Clients,
    table: &str,
) -> Result<Vec<(Option<String>, u64, u64)>, BoxError> {
    let d = crate::aws::describe(clients, table)
        .await
        .map_err(|(_, e)| e)?;
    Ok(d.targets
        .into_iter()
        .map(|t| (t.index, t.read.provisioned, t.write.provisioned))
        .collect())
}

/// The endpoint of a local moto server for tests: the one named by
/// `DDB_AUTOSCALER_TEST_ENDPOINT` (it must be on this machine), or a new one started from
/// `<workspace>/.venv/bin/moto_server` (installed by `scripts/emulator install`) on a free port of
/// 127.0.0.1. A watchdog shell stops the server when this process ends. Panics with a message
/// saying what to do when the emulator is not installed or does not start: for tests only.
pub fn test_endpoint(workspace: &std::path::Path) -> String {
    use std::time::{Duration, Instant};
    if let Ok(url) = std::env::var("DDB_AUTOSCALER_TEST_ENDPOINT") {
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("http://localhost:"),
            "DDB_AUTOSCALER_TEST_ENDPOINT must be a local emulator, got {url}"
        );
        return url;
    }
    let moto = workspace.join(".venv/bin/moto_server");
    assert!(
        moto.exists(),
        "the emulator is not installed: run `scripts/emulator install` (or scripts/test) first ({} is missing)",
        moto.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
    // The watchdog outlives this process on purpose (it is never waited for): it stops and reaps
    // moto once this process is gone.
    let script = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill $m; wait $m",
        moto.display(),
        std::process::id()
    );
    #[allow(clippy::zombie_processes)]
    std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", moto.display()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

/// Clients configured as the functions configure theirs, plus the emulator's endpoint URL (what
/// `AWS_ENDPOINT_URL` does), region `us-east-1` and dummy credentials.
pub async fn clients_for(endpoint: &str) -> Clients {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .load()
        .await;
    Clients::new(&sdk)
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
