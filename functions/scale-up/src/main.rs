//! # ddb-autoscaler-scale-up: the scale-up Lambda function
//!
//! Wiring only: configuration from the environment (validated at cold start: a bad value fails
//! the init with a message naming the variable), the SDK configuration and clients built once,
//! `lambda_runtime`'s tracing subscriber (JSON logs when the function's log format is JSON),
//! and a handler that runs the pipeline of `autoscaler-aws` in direction `Up`.
//!
//! The handler accepts any JSON event (an EventBridge rule's "Scheduled Event" or a Scheduler's
//! empty input) and returns the run summary. A run in which any table failed returns an error
//! (listing the failed tables) so that the function's `Errors` metric sees it.

use autoscaler_aws::{Clients, Direction, RunConfig};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = RunConfig::from_env().map_err(|e| {
        tracing::error!(error = %e, "invalid configuration");
        format!("invalid configuration: {e}")
    })?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = Clients::new(&sdk);
    let (clients, config) = (&clients, &config);
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        let summary =
            autoscaler_aws::invoke(clients, config, Direction::Up, autoscaler_aws::now()).await?;
        Ok::<_, Error>(summary)
    }))
    .await
}
