//! # functions-common: the wiring both Lambda binaries share
//!
//! Each scheduled function's `main.rs` is one call to [`serve`] with its direction: the two
//! functions differ in nothing else. The management API (`functions/api`) shares the
//! [`cold_start`].
//!
//! Configuration from the environment, validated at cold start: a bad value fails the init with
//! a message naming the variable, and so does a deployment that would apply changes without the
//! lease table that serialises the two functions (`AUTOSCALER_LEASE_TABLE`). The SDK
//! configuration and clients are built once, with the pipeline's timeouts
//! (`autoscaler_aws::aws::timeouts`). Each run gets its invocation's deadline from the Lambda
//! context.
//! `lambda_runtime`'s tracing subscriber logs JSON when the function's log format is JSON. The
//! handler accepts any JSON event (an EventBridge rule's "Scheduled Event" or a Scheduler's empty
//! input) and returns the run summary; a run in which any table failed returns an error of type
//! `TablesFailed` listing them, so that the function's `Errors` metric sees it.

use autoscaler_aws::{Clients, Direction, RunConfig};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

/// What a function's `main` returns (`lambda_runtime`'s error).
pub use lambda_runtime::Error;

/// The cold start every function shares: `lambda_runtime`'s tracing subscriber, the
/// configuration from the environment (a bad value exits with status 1, which fails the init and
/// names the variable), and the SDK clients.
pub async fn cold_start() -> (RunConfig, Clients) {
    lambda_runtime::tracing::init_default_subscriber();
    let config = match RunConfig::from_env() {
        Ok(config) if config.lease_table.is_none() && !config.dry_run => invalid(
            "AUTOSCALER_LEASE_TABLE is not set: the functions change tables only under the lease that keeps them from undoing each other's changes (template.yaml sets it)",
        ),
        Ok(config) => config,
        Err(e) => invalid(&e.to_string()),
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(autoscaler_aws::aws::timeouts(
            autoscaler_aws::aws::ATTEMPT_TIMEOUT,
        ))
        .load()
        .await;
    (config, Clients::new(&sdk))
}

/// Runs the function until Lambda stops it.
pub async fn serve(direction: Direction) -> Result<(), Error> {
    let (config, clients) = cold_start().await;
    let (clients, config) = (&clients, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = autoscaler_aws::Deadline::from_epoch_millis(event.context.deadline);
        // Boxed: the run's future is deep, and unboxed its layout exceeds the compiler's
        // default recursion limit in the binaries that call this function.
        Box::pin(autoscaler_aws::invoke(
            clients,
            config,
            direction,
            autoscaler_aws::now(),
            deadline,
        ))
        .await
        .map_err(|e| Diagnostic {
            error_type: e.kind().to_owned(),
            error_message: e.to_string(),
        })
    }))
    .await
}

/// Fails the cold start (Lambda reports it as an init error) with `why`.
fn invalid(why: &str) -> ! {
    tracing::error!(error = why, "invalid configuration");
    eprintln!("invalid configuration: {why}");
    std::process::exit(1);
}
