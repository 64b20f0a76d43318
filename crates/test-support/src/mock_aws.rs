//! A small AWS in memory, for what the emulator cannot do: DynamoDB's decrease quota enforced at
//! the instant of each `UpdateTable` (both of its documented wordings), `LastIncrease/
//! DecreaseDateTime`, a clock the test moves, Application Auto Scaling targets, global-table
//! replicas, and a hook that runs before each call is answered, so that a test can interleave
//! two runs at any step. Behind real SDK clients ([`World::clients`]), through
//! `aws-smithy-mocks`: the pipeline runs unchanged.
//!
//! **The model.** Tables with GSIs ("targets"), each with read and write capacity, a status and
//! its decreases (instants). `UpdateTable` applies at once (the table stays `ACTIVE`, as in
//! moto), or refuses with `LimitExceededException` when a decrease breaks the quota: 27 a UTC
//! day; after the first four of the day, one an hour since the previous one (the older wording);
//! and no token left in the current wording's bucket (4 at 00:00 UTC, one more each hour, at most
//! 4). A refusal is recorded ([`World::refusals`]) so that tests can say "never refused". The
//! lease table understands the lease's conditional `UpdateItem` (the `SET`/`REMOVE` updates and
//! the `attribute_not_exists(#a) OR #a < :v` / `#a = :v` conditions it uses); moto checks the
//! real expression language in the emulator tests.
//!
//! Panics (a failed test) on a request it does not model.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use autoscaler_aws::Clients;
use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget, ServiceNamespace};
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_sdk_dynamodb::operation::describe_limits::DescribeLimitsOutput;
use aws_sdk_dynamodb::operation::describe_table::{DescribeTableError, DescribeTableOutput};
use aws_sdk_dynamodb::operation::list_tables::ListTablesOutput;
use aws_sdk_dynamodb::operation::list_tags_of_resource::ListTagsOfResourceOutput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::operation::update_table::{UpdateTableError, UpdateTableOutput};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, LimitExceededException, ResourceNotFoundException,
};
use aws_sdk_dynamodb::types::{
    AttributeValue, BillingMode, BillingModeSummary, GlobalSecondaryIndexDescription, IndexStatus,
    ProvisionedThroughputDescription, ReplicaDescription, ReturnValue, TableDescription,
    TableStatus,
};
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use aws_smithy_types::retry::RetryConfig;
use scaling_policy::Timestamp;

const ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/";

/// The `now` of the tests on this world: 2026-12-02T10:18:20Z (20 s into a minute, as a
/// scheduled run starts).
pub const NOW: i64 = 1_796_206_680 + 20;

/// The default opt-in tag key.
pub const KEY: &str = "ddb-autoscaler";

/// [`NOW`] as a timestamp.
pub fn now() -> Timestamp {
    Timestamp::from_unix(NOW)
}

/// The run configuration of the tests on this world: the defaults, and a lease table (the world
/// keeps any).
pub fn config() -> autoscaler_aws::RunConfig {
    autoscaler_aws::RunConfig {
        lease_table: Some("leases".to_owned()),
        ..autoscaler_aws::RunConfig::default()
    }
}

/// One target of a table: the table itself (`index` `None`) or a GSI.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// `None` for the table, else the GSI.
    pub index: Option<String>,
    /// Provisioned read capacity.
    pub read: u64,
    /// Provisioned write capacity.
    pub write: u64,
    /// `ACTIVE`, `CREATING`...
    pub status: String,
    /// Every decrease made, oldest first.
    pub decreases: Vec<Timestamp>,
    /// The last increase.
    pub last_increase: Option<Timestamp>,
}

impl Target {
    /// An `ACTIVE` target with this capacity and no history.
    pub fn new(index: Option<&str>, read: u64, write: u64) -> Self {
        Self {
            index: index.map(str::to_owned),
            read,
            write,
            status: "ACTIVE".to_owned(),
            decreases: Vec::new(),
            last_increase: None,
        }
    }

    /// Decreases in the UTC day of `now`.
    fn today(&self, now: Timestamp) -> Vec<Timestamp> {
        self.decreases
            .iter()
            .copied()
            .filter(|t| t.utc_day() == now.utc_day() && *t <= now)
            .collect()
    }

    /// Why one more decrease at `now` is refused, if it is.
    pub fn quota_refusal(&self, now: Timestamp) -> Option<String> {
        let today = self.today(now);
        let used = today.len();
        if used >= 27 {
            return Some("27 decreases today".into());
        }
        if used >= 4
            && let Some(last) = today.last()
            && now.secs_since(*last) < 3_600
        {
            return Some(format!(
                "older wording: a fifth decrease within an hour of the previous ({last})"
            ));
        }
        // Current wording: 4 tokens at midnight, one more each hour, at most 4.
        let midnight = now.start_of_utc_day();
        let mut tokens = 4i64;
        let mut hour = 0;
        for t in &today {
            let h = t.secs_since(midnight) / 3_600;
            tokens = (tokens + (h - hour)).min(4);
            hour = h;
            tokens -= 1;
        }
        let h = now.secs_since(midnight) / 3_600;
        tokens = (tokens + (h - hour)).min(4);
        if tokens <= 0 {
            return Some("current wording: no decrease available in the bucket".into());
        }
        None
    }
}

/// A table of the world.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Tags (key, value).
    pub tags: Vec<(String, String)>,
    /// The table first, then its GSIs.
    pub targets: Vec<Target>,
    /// Regions of a global table's replicas.
    pub replicas: Vec<String>,
}

/// One call the pipeline made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The name of the clients that made it ([`World::clients`]).
    pub client: String,
    /// The operation, as the SDK names it (`DescribeTable`...).
    pub operation: &'static str,
    /// The table it was about, for per-table calls (the managed table for a lease call).
    pub table: Option<String>,
}

/// A metric of a target: (table, index, metric name).
pub type SeriesOf = (String, Option<String>, String);

/// What a hook makes of a call before it is answered.
pub type Hook = Arc<dyn Fn(&Call) + Send + Sync>;

/// The world's state (public so that tests can set it up and inspect it).
#[derive(Default)]
pub struct State {
    /// DynamoDB's clock: quota decisions and `Last*DateTime` use it.
    pub now: Option<Timestamp>,
    /// When set, the clock runs: this time at this Tokio instant, plus the time elapsed since
    /// (paused in tests, so it moves only with the run's waits).
    pub running_from: Option<(Timestamp, tokio::time::Instant)>,
    /// Tables by name.
    pub tables: BTreeMap<String, Table>,
    /// Lease items by key.
    pub leases: HashMap<String, HashMap<String, AttributeValue>>,
    /// Per-minute datapoints: (table, index, metric) -> (minute start, value).
    pub series: HashMap<SeriesOf, Vec<(i64, f64)>>,
    /// Application Auto Scaling resource ids (`table/NAME`, `table/NAME/index/INDEX`).
    pub scalable: Vec<String>,
    /// Every call, in order.
    pub calls: Vec<Call>,
    /// Every `UpdateTable` refused for the quota: (table, why).
    pub refusals: Vec<(String, String)>,
    /// Every capacity change applied, in order.
    pub changes: Vec<Change>,
    /// `DescribeLimits`: (table read, table write, account read, account write); `None` for
    /// DynamoDB's defaults (40,000, 40,000, 80,000, 80,000). `UpdateTable` enforces them: the
    /// table maximum on the table and its GSIs together, the account maximum on every table.
    pub limits: Option<[u64; 4]>,
    /// Every `GetMetricData` request: its start, end and the tables of its queries.
    pub metric_requests: Vec<(Timestamp, Timestamp, Vec<String>)>,
}

impl State {
    /// The limits in force.
    pub fn limits(&self) -> [u64; 4] {
        self.limits.unwrap_or([40_000, 40_000, 80_000, 80_000])
    }
}

/// One target's capacity changed by an `UpdateTable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The table.
    pub table: String,
    /// The GSI, `None` for the table.
    pub index: Option<String>,
    /// (read, write) before.
    pub before: (u64, u64),
    /// (read, write) after.
    pub after: (u64, u64),
    /// DynamoDB's clock then.
    pub at: Timestamp,
}

/// The shared world behind any number of clients.
#[derive(Clone, Default)]
pub struct World {
    state: Arc<Mutex<State>>,
    hook: Arc<Mutex<Option<Hook>>>,
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

impl World {
    /// An empty world whose DynamoDB clock reads `now`.
    pub fn new(now: Timestamp) -> Self {
        let w = Self::default();
        w.state().now = Some(now);
        w
    }

    /// The state, locked.
    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets DynamoDB's clock.
    pub fn set_now(&self, now: Timestamp) {
        self.state().now = Some(now);
    }

    /// Makes DynamoDB's clock run with Tokio's, from `now` at this instant.
    pub fn run_clock_from(&self, now: Timestamp) {
        self.state().running_from = Some((now, tokio::time::Instant::now()));
    }

    /// Runs `hook` before each call is answered (outside the world's lock).
    pub fn set_hook(&self, hook: impl Fn(&Call) + Send + Sync + 'static) {
        *self.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
    }

    /// Removes the hook.
    pub fn clear_hook(&self) {
        *self.hook.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Adds a provisioned table with GSIs as (name, read, write) and tags.
    pub fn add_table(
        &self,
        name: &str,
        capacity: (u64, u64),
        indexes: &[(&str, u64, u64)],
        tags: &[(&str, &str)],
    ) {
        let mut targets = vec![Target::new(None, capacity.0, capacity.1)];
        targets.extend(indexes.iter().map(|(i, r, w)| Target::new(Some(i), *r, *w)));
        self.state().tables.insert(
            name.to_owned(),
            Table {
                tags: tags
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                targets,
                replicas: Vec::new(),
            },
        );
    }

    /// Changes one target of a table in place.
    pub fn target(&self, table: &str, index: Option<&str>, f: impl FnOnce(&mut Target)) {
        let mut s = self.state();
        let t = s
            .tables
            .get_mut(table)
            .and_then(|t| t.targets.iter_mut().find(|x| x.index.as_deref() == index))
            .unwrap_or_else(|| panic!("no target {table}/{index:?}"));
        f(t);
    }

    /// (read, write) of a target.
    pub fn capacity(&self, table: &str, index: Option<&str>) -> (u64, u64) {
        let s = self.state();
        let t = s
            .tables
            .get(table)
            .and_then(|t| t.targets.iter().find(|x| x.index.as_deref() == index))
            .unwrap_or_else(|| panic!("no target {table}/{index:?}"));
        (t.read, t.write)
    }

    /// Writes `per_minute` for `metric` of a target, one value per minute from `start`.
    pub fn seed(
        &self,
        table: &str,
        index: Option<&str>,
        metric: &str,
        start: Timestamp,
        per_minute: &[f64],
    ) {
        let start = start.floor_minute().unix();
        let points = (0_i64..)
            .zip(per_minute)
            .map(|(i, v)| (start + 60 * i, *v))
            .collect();
        self.state().series.insert(
            (
                table.to_owned(),
                index.map(str::to_owned),
                metric.to_owned(),
            ),
            points,
        );
    }

    /// One dimension's traffic as CloudWatch publishes it: `consumed` units/s and `throttled`
    /// events per minute, minute `i` starting at `start + i` minutes (a zero throttle count is
    /// no datapoint, as in CloudWatch).
    pub fn seed_usage(
        &self,
        table: &str,
        index: Option<&str>,
        dimension: scaling_policy::Dimension,
        start: Timestamp,
        consumed: &[f64],
        throttled: &[f64],
    ) {
        let names = autoscaler_aws::aws::metric_names(dimension);
        let sums: Vec<f64> = consumed.iter().map(|c| c * 60.0).collect();
        self.seed(table, index, names.consumed, start, &sums);
        let start = start.floor_minute().unix();
        let points = (0_i64..)
            .zip(throttled)
            .filter(|(_, v)| **v > 0.0)
            .map(|(i, v)| (start + 60 * i, *v))
            .collect();
        self.state().series.insert(
            (
                table.to_owned(),
                index.map(str::to_owned),
                names.throttled.to_owned(),
            ),
            points,
        );
    }

    /// 30 minutes of one dimension's traffic before `now`, published up to two minutes before
    /// it: `consumed` units/s and `throttled` events a minute.
    pub fn recent(
        &self,
        table: &str,
        index: Option<&str>,
        dimension: scaling_policy::Dimension,
        now: Timestamp,
        consumed: f64,
        throttled: f64,
    ) {
        let start = now.floor_minute().plus_secs(-32 * 60);
        self.seed_usage(
            table,
            index,
            dimension,
            start,
            &[consumed; 30],
            &[throttled; 30],
        );
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// Every capacity change so far.
    pub fn changes(&self) -> Vec<Change> {
        self.state().changes.clone()
    }

    /// Every quota refusal so far.
    pub fn refusals(&self) -> Vec<(String, String)> {
        self.state().refusals.clone()
    }

    /// Records `call`, then runs the hook on it.
    fn called(&self, client: &str, operation: &'static str, table: Option<&str>) {
        let call = Call {
            client: client.to_owned(),
            operation,
            table: table.map(str::to_owned),
        };
        self.state().calls.push(call.clone());
        let hook = self.hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(&call);
        }
    }

    fn now(&self) -> Timestamp {
        let s = self.state();
        if let Some((at, instant)) = s.running_from {
            let elapsed = i64::try_from(instant.elapsed().as_secs()).unwrap_or(i64::MAX);
            return at.plus_secs(elapsed);
        }
        s.now
            .expect("the world's clock is set (World::new or set_now)")
    }

    /// Clients named `name` (so that a hook can tell two runs apart) on this world, retrying as
    /// the SDK does by default but without waiting long.
    pub fn clients(&self, name: &str) -> Clients {
        let retry = || {
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1))
                .with_max_backoff(std::time::Duration::from_millis(5))
        };
        let w = self.clone();
        let n = name.to_owned();
        let describe =
            mock!(aws_sdk_dynamodb::Client::describe_table).then_compute_response(move |r| {
                let table = r.table_name().unwrap_or_default();
                w.called(&n, "DescribeTable", Some(table));
                w.describe(table)
            });
        let (w, n) = (self.clone(), name.to_owned());
        let update =
            mock!(aws_sdk_dynamodb::Client::update_table).then_compute_response(move |r| {
                let table = r.table_name().unwrap_or_default();
                w.called(&n, "UpdateTable", Some(table));
                w.update_table(r)
            });
        let (w, n) = (self.clone(), name.to_owned());
        let lease = mock!(aws_sdk_dynamodb::Client::update_item).then_compute_response(move |r| {
            let key = r
                .key()
                .and_then(|k| k.values().next())
                .and_then(|v| v.as_s().ok())
                .cloned();
            w.called(&n, "UpdateItem", key.as_deref());
            w.update_item(r)
        });
        let (w, n) = (self.clone(), name.to_owned());
        let limits =
            mock!(aws_sdk_dynamodb::Client::describe_limits).then_compute_output(move |_| {
                w.called(&n, "DescribeLimits", None);
                let [tr, tw, ar, aw] = w.state().limits().map(|l| l as i64);
                DescribeLimitsOutput::builder()
                    .table_max_read_capacity_units(tr)
                    .table_max_write_capacity_units(tw)
                    .account_max_read_capacity_units(ar)
                    .account_max_write_capacity_units(aw)
                    .build()
            });
        let (w, n) = (self.clone(), name.to_owned());
        let list = mock!(aws_sdk_dynamodb::Client::list_tables).then_compute_output(move |_| {
            w.called(&n, "ListTables", None);
            let names: Vec<String> = w.state().tables.keys().cloned().collect();
            ListTablesOutput::builder()
                .set_table_names(Some(names))
                .build()
        });
        let (w, n) = (self.clone(), name.to_owned());
        let tags =
            mock!(aws_sdk_dynamodb::Client::list_tags_of_resource).then_compute_output(move |r| {
                let table = r
                    .resource_arn()
                    .and_then(|a| a.strip_prefix(ARN))
                    .unwrap_or_default()
                    .to_owned();
                w.called(&n, "ListTagsOfResource", Some(&table));
                let mut out = ListTagsOfResourceOutput::builder();
                for (k, v) in w
                    .state()
                    .tables
                    .get(&table)
                    .map(|t| t.tags.clone())
                    .unwrap_or_default()
                {
                    out = out.tags(
                        aws_sdk_dynamodb::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .expect("tag"),
                    );
                }
                out.build()
            });
        let (w, n) = (self.clone(), name.to_owned());
        let resources = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
            .then_compute_output(move |r| {
                w.called(&n, "GetResources", None);
                let key = r
                    .tag_filters()
                    .first()
                    .and_then(|f| f.key())
                    .unwrap_or_default()
                    .to_owned();
                let mut out = GetResourcesOutput::builder();
                for (name, t) in &w.state().tables {
                    if !t.tags.iter().any(|(k, _)| *k == key) {
                        continue;
                    }
                    let mut m = ResourceTagMapping::builder().resource_arn(format!("{ARN}{name}"));
                    for (k, v) in &t.tags {
                        m = m.tags(Tag::builder().key(k).value(v).build().expect("tag"));
                    }
                    out = out.resource_tag_mapping_list(m.build());
                }
                out.build()
            });
        let (w, n) = (self.clone(), name.to_owned());
        let scalable = mock!(aws_sdk_applicationautoscaling::Client::describe_scalable_targets)
            .then_compute_output(move |_| {
                w.called(&n, "DescribeScalableTargets", None);
                let mut out = DescribeScalableTargetsOutput::builder();
                for id in &w.state().scalable {
                    out = out.scalable_targets(
                        ScalableTarget::builder()
                            .service_namespace(ServiceNamespace::Dynamodb)
                            .resource_id(id)
                            .scalable_dimension(ScalableDimension::DynamoDbTableReadCapacityUnits)
                            .min_capacity(1)
                            .max_capacity(100)
                            .role_arn("arn:aws:iam::123456789012:role/aas")
                            .creation_time(DateTime::from_secs(0))
                            .build()
                            .expect("scalable target"),
                    );
                }
                out.build()
            });
        let (w, n) = (self.clone(), name.to_owned());
        let metrics =
            mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |r| {
                w.called(&n, "GetMetricData", None);
                w.metric_data(r)
            });
        Clients {
            dynamodb: mock_client!(
                aws_sdk_dynamodb,
                RuleMode::MatchAny,
                [&describe, &update, &lease, &limits, &list, &tags],
                |c| c.retry_config(retry())
            ),
            cloudwatch: mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&metrics], |c| c
                .retry_config(retry())),
            tagging: mock_client!(
                aws_sdk_resourcegroupstagging,
                RuleMode::MatchAny,
                [&resources],
                |c| c.retry_config(retry())
            ),
            autoscaling: mock_client!(
                aws_sdk_applicationautoscaling,
                RuleMode::MatchAny,
                [&scalable],
                |c| c.retry_config(retry())
            ),
        }
    }

    fn describe(&self, table: &str) -> MockResponse<DescribeTableOutput, DescribeTableError> {
        let now = self.now();
        let s = self.state();
        let Some(t) = s.tables.get(table) else {
            return MockResponse::Error(DescribeTableError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message(format!(
                        "Requested resource not found: Table: {table} not found"
                    ))
                    .build(),
            ));
        };
        let throughput = |x: &Target| {
            let today = x.today(now);
            ProvisionedThroughputDescription::builder()
                .read_capacity_units(x.read as i64)
                .write_capacity_units(x.write as i64)
                .number_of_decreases_today(today.len() as i64)
                .set_last_decrease_date_time(
                    x.decreases.last().map(|d| DateTime::from_secs(d.unix())),
                )
                .set_last_increase_date_time(x.last_increase.map(|d| DateTime::from_secs(d.unix())))
                .build()
        };
        let base = &t.targets[0];
        let mut d = TableDescription::builder()
            .table_name(table)
            .table_arn(format!("{ARN}{table}"))
            .table_status(TableStatus::from(base.status.as_str()))
            .billing_mode_summary(
                BillingModeSummary::builder()
                    .billing_mode(BillingMode::Provisioned)
                    .build(),
            )
            .provisioned_throughput(throughput(base));
        for g in &t.targets[1..] {
            d = d.global_secondary_indexes(
                GlobalSecondaryIndexDescription::builder()
                    .index_name(g.index.clone().unwrap_or_default())
                    .index_status(IndexStatus::from(g.status.as_str()))
                    .provisioned_throughput(throughput(g))
                    .build(),
            );
        }
        for r in &t.replicas {
            d = d.replicas(ReplicaDescription::builder().region_name(r).build());
        }
        MockResponse::Output(DescribeTableOutput::builder().table(d.build()).build())
    }

    fn update_table(
        &self,
        r: &aws_sdk_dynamodb::operation::update_table::UpdateTableInput,
    ) -> MockResponse<UpdateTableOutput, UpdateTableError> {
        let now = self.now();
        let table = r.table_name().unwrap_or_default().to_owned();
        let mut changes: Vec<(Option<String>, u64, u64)> = Vec::new();
        if let Some(pt) = r.provisioned_throughput() {
            changes.push((
                None,
                pt.read_capacity_units() as u64,
                pt.write_capacity_units() as u64,
            ));
        }
        for u in r.global_secondary_index_updates() {
            let u = u.update().expect("only GSI throughput updates");
            let pt = u.provisioned_throughput().expect("throughput");
            changes.push((
                Some(u.index_name().to_owned()),
                pt.read_capacity_units() as u64,
                pt.write_capacity_units() as u64,
            ));
        }
        let mut s = self.state();
        let Some(t) = s.tables.get_mut(&table) else {
            return MockResponse::Error(UpdateTableError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            ));
        };
        // Check every change first: a refusal refuses the whole call.
        for (index, read, write) in &changes {
            let target = t
                .targets
                .iter()
                .find(|x| &x.index == index)
                .unwrap_or_else(|| panic!("UpdateTable of {table}: no target {index:?}"));
            if (*read < target.read || *write < target.write)
                && let Some(why) = target.quota_refusal(now)
            {
                s.refusals.push((table.clone(), why.clone()));
                return MockResponse::Error(UpdateTableError::LimitExceededException(
                    LimitExceededException::builder()
                        .message(format!(
                            "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day ({why})"
                        ))
                        .build(),
                ));
            }
        }
        if let Some(refusal) = capacity_refusal(&s, &table, &changes) {
            return MockResponse::Error(UpdateTableError::LimitExceededException(
                LimitExceededException::builder()
                    .message(format!("Subscriber limit exceeded: {refusal}"))
                    .build(),
            ));
        }
        let Some(t) = s.tables.get_mut(&table) else {
            unreachable!("checked above");
        };
        let mut applied = Vec::new();
        for (index, read, write) in changes {
            let target = t
                .targets
                .iter_mut()
                .find(|x| x.index == index)
                .expect("checked");
            applied.push(Change {
                table: table.clone(),
                index: index.clone(),
                before: (target.read, target.write),
                after: (read, write),
                at: now,
            });
            if read < target.read || write < target.write {
                target.decreases.push(now);
            }
            if read > target.read || write > target.write {
                target.last_increase = Some(now);
            }
            target.read = read;
            target.write = write;
        }
        s.changes.extend(applied);
        MockResponse::Output(UpdateTableOutput::builder().build())
    }

    fn update_item(
        &self,
        r: &aws_sdk_dynamodb::operation::update_item::UpdateItemInput,
    ) -> MockResponse<UpdateItemOutput, UpdateItemError> {
        let names = r.expression_attribute_names().cloned().unwrap_or_default();
        let values = r.expression_attribute_values().cloned().unwrap_or_default();
        let name = |n: &str| {
            names
                .get(n.trim())
                .cloned()
                .unwrap_or_else(|| n.trim().to_owned())
        };
        let value = |v: &str| {
            values
                .get(v.trim())
                .cloned()
                .unwrap_or_else(|| panic!("no value {v}"))
        };
        let key = r.key().cloned().unwrap_or_default();
        let id = key
            .values()
            .next()
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let mut s = self.state();
        let old = s.leases.get(&id).cloned();
        let item = old.clone().unwrap_or_else(|| key.clone());
        let num = |v: &AttributeValue| v.as_n().ok().and_then(|n| n.parse::<i64>().ok());
        if let Some(condition) = r.condition_expression() {
            let holds = condition.split(" OR ").any(|term| {
                let term = term.trim();
                if let Some(a) = term
                    .strip_prefix("attribute_not_exists(")
                    .and_then(|t| t.strip_suffix(')'))
                {
                    !item.contains_key(&name(a))
                } else if let Some((a, v)) = term.split_once(" < ") {
                    match (item.get(&name(a)).and_then(num), num(&value(v))) {
                        (Some(x), Some(y)) => x < y,
                        _ => false,
                    }
                } else if let Some((a, v)) = term.split_once(" = ") {
                    item.get(&name(a)) == Some(&value(v))
                } else {
                    panic!("condition {condition:?} is not modelled")
                }
            });
            if !holds {
                let mut e = ConditionalCheckFailedException::builder()
                    .message("The conditional request failed");
                if let Some(old) = &old {
                    e = e.set_item(Some(old.clone()));
                }
                return MockResponse::Error(UpdateItemError::ConditionalCheckFailedException(
                    e.build(),
                ));
            }
        }
        let mut new = item;
        let expression = r.update_expression().unwrap_or_default();
        let (set, remove) = match expression.split_once(" REMOVE ") {
            Some((set, remove)) => (set, Some(remove)),
            None => (expression, None),
        };
        for assignment in set
            .trim()
            .strip_prefix("SET ")
            .unwrap_or_default()
            .split(", ")
        {
            if let Some((a, v)) = assignment.split_once(" = ") {
                new.insert(name(a), value(v));
            }
        }
        for a in remove.into_iter().flat_map(|r| r.split(", ")) {
            new.remove(&name(a));
        }
        s.leases.insert(id, new.clone());
        let mut out = UpdateItemOutput::builder();
        if r.return_values() == Some(&ReturnValue::AllNew) {
            out = out.set_attributes(Some(new));
        }
        MockResponse::Output(out.build())
    }

    fn metric_data(
        &self,
        r: &aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput,
    ) -> GetMetricDataOutput {
        let start = r.start_time().map_or(0, |t| t.secs());
        let end = r.end_time().map_or(0, |t| t.secs());
        let mut s = self.state();
        let mut tables: Vec<String> = r
            .metric_data_queries()
            .iter()
            .filter_map(|q| q.metric_stat()?.metric())
            .flat_map(|m| m.dimensions())
            .filter(|d| d.name() == Some("TableName"))
            .filter_map(|d| d.value().map(str::to_owned))
            .collect();
        tables.sort();
        tables.dedup();
        s.metric_requests.push((
            Timestamp::from_unix(start),
            Timestamp::from_unix(end),
            tables,
        ));
        let mut out = GetMetricDataOutput::builder();
        for q in r.metric_data_queries() {
            let metric = q.metric_stat().and_then(|m| m.metric()).expect("metric");
            let dim = |n: &str| {
                metric
                    .dimensions()
                    .iter()
                    .find(|d| d.name() == Some(n))
                    .and_then(|d| d.value())
                    .map(str::to_owned)
            };
            let key = (
                dim("TableName").unwrap_or_default(),
                dim("GlobalSecondaryIndexName"),
                metric.metric_name().unwrap_or_default().to_owned(),
            );
            let mut result = MetricDataResult::builder()
                .id(q.id().unwrap_or_default())
                .status_code(StatusCode::Complete);
            for (t, v) in s.series.get(&key).into_iter().flatten() {
                if *t >= start && *t < end {
                    result = result.timestamps(DateTime::from_secs(*t)).values(*v);
                }
            }
            out = out.metric_data_results(result.build());
        }
        out.build()
    }

    /// The lease item of `table`, if any.
    pub fn lease(&self, table: &str) -> Option<HashMap<String, AttributeValue>> {
        self.state().leases.get(table).cloned()
    }

    /// Sets a lease item attribute to a number (a test shaping the lease table).
    pub fn set_lease_number(&self, table: &str, attribute: &str, n: i64) {
        let mut s = self.state();
        let item = s.leases.entry(table.to_owned()).or_insert_with(|| {
            HashMap::from([("table_name".to_owned(), AttributeValue::S(table.to_owned()))])
        });
        item.insert(attribute.to_owned(), number(n));
    }
}

/// Why `changes` to `table` would take a capacity past a quota, if they would: the per-table
/// maximum (the table and its GSIs together) or the account's, for a dimension they raise.
fn capacity_refusal(
    s: &State,
    table: &str,
    changes: &[(Option<String>, u64, u64)],
) -> Option<String> {
    let limits = s.limits();
    let units = |x: &Target, read: bool, change: Option<&(Option<String>, u64, u64)>| match (
        change, read,
    ) {
        (Some(c), true) => c.1,
        (Some(c), false) => c.2,
        (None, true) => x.read,
        (None, false) => x.write,
    };
    for (i, (what, read)) in [("read", true), ("write", false)].into_iter().enumerate() {
        let mut table_total = 0;
        let mut account_total = 0;
        let mut raised = false;
        for (name, t) in &s.tables {
            for x in &t.targets {
                let change = (name == table)
                    .then(|| changes.iter().find(|c| c.0 == x.index))
                    .flatten();
                let after = units(x, read, change);
                raised |= after > units(x, read, None);
                account_total += after;
                if name == table {
                    table_total += after;
                }
            }
        }
        if !raised {
            continue;
        }
        if table_total > limits[i] {
            return Some(format!(
                "the table's {what} capacity, GSIs included, would exceed the per-table maximum of {}",
                limits[i]
            ));
        }
        if account_total > limits[2 + i] {
            return Some(format!(
                "the account's {what} capacity would exceed its maximum of {}",
                limits[2 + i]
            ));
        }
    }
    None
}
