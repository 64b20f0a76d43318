//! What a run asks of AWS: every API call the clients make, and the metrics its `GetMetricData`
//! requests name (what CloudWatch bills: $0.01 per 1,000, whatever the window), so that a user
//! can check `ddb-autoscaler cost`'s projection against the run summaries.
//!
//! **How.** [`Clients::new`](crate::Clients::new) gives each client an SDK interceptor,
//! [`CountCalls`], that records every operation (once per operation, not per retry attempt; a
//! paginated call is one operation per page, as it is billed) into the [`Calls`] of the run
//! being counted, a tokio task-local that [`counted`] sets around a run. Outside it (the CLI's
//! `status`, clients built by hand, as the mock tests do) nothing is counted. The run's own
//! futures stay on one task (`buffer_unordered`, no `spawn`), so concurrent runs on the same
//! clients keep separate counts.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::Serialize;

/// The calls of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    /// Metrics named by the run's `GetMetricData` requests (what CloudWatch bills).
    pub metrics_requested: u64,
    /// `GetMetricData` requests (pages included).
    pub get_metric_data_calls: u64,
    /// Every API call, of any service.
    pub api_calls: u64,
    /// API calls by operation, e.g. `DescribeTable`.
    pub by_operation: BTreeMap<String, u64>,
}

tokio::task_local! {
    static RUN_CALLS: RefCell<Calls>;
}

/// Runs `future` and counts the API calls it makes through clients that carry [`CountCalls`].
pub async fn counted<F: Future>(future: F) -> (F::Output, Calls) {
    RUN_CALLS
        .scope(RefCell::new(Calls::default()), async {
            let out = future.await;
            let calls = RUN_CALLS.with(|c| c.take());
            (out, calls)
        })
        .await
}

/// The SDK interceptor that records each operation into the counted run, if any.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountCalls;

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "ddb-autoscaler-count-calls"
    }

    // Not `read_before_execution`: a client interceptor runs that before the operation's
    // configuration (and so its name) is in the bag. Serialization happens once per operation,
    // before the retry loop.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned());
        let metrics = context
            .input()
            .downcast_ref::<aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataInput>()
            .map(|i| i.metric_data_queries().len() as u64);
        // Not inside a counted run: nothing to record.
        let _ = RUN_CALLS.try_with(|c| {
            let mut c = c.borrow_mut();
            c.api_calls += 1;
            *c.by_operation.entry(operation).or_insert(0) += 1;
            if let Some(n) = metrics {
                c.get_metric_data_calls += 1;
                c.metrics_requested += n;
            }
        });
        Ok(())
    }
}
