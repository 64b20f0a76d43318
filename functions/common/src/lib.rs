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
//! handler accepts any JSON event (an EventBridge Scheduler input with the scheduled time, a
//! classic rule's "Scheduled Event", an empty input) and returns the run summary; a run in which
//! any table failed returns an error of type `TablesFailed` listing them, so that the function's
//! `Errors` metric sees it. A run that starts more than a minute after its scheduled time is
//! dropped ([`schedule`]). A container keeps what the cadence needs between its invocations
//! (`autoscaler_aws::Warm`); a new one starts cold and reads every series. After each run, the
//! run's metrics and notifications ([`observe`]).

pub mod observe;
pub mod schedule;

use autoscaler_aws::{Clients, Direction, InvokeError, RunConfig, Warm};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;

/// What a function's `main` returns (`lambda_runtime`'s error).
pub use lambda_runtime::Error;

/// The cold start every function shares: `lambda_runtime`'s tracing subscriber, the
/// configuration from the environment (a bad value exits with status 1, which fails the init and
/// names the variable), and the SDK clients.
pub async fn cold_start() -> (RunConfig, Clients) {
    let (config, sdk) = init().await;
    (config, Clients::new(&sdk))
}

/// The tracing subscriber, the run configuration and the SDK configuration.
async fn init() -> (RunConfig, aws_config::SdkConfig) {
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
    (config, sdk)
}

/// The value, or the end of the cold start (see [`invalid`]).
fn or_exit<T>(result: Result<T, autoscaler_aws::Error>) -> T {
    result.unwrap_or_else(|e| invalid(&e.to_string()))
}

/// Runs the function until Lambda stops it.
pub async fn serve(direction: Direction) -> Result<(), Error> {
    let (config, sdk) = init().await;
    let clients = Clients::new(&sdk);
    let observer = or_exit(observe::Observer::from_env(&sdk));
    // What the container keeps between invocations (the cadence's state, the seasonal history);
    // a new container starts cold and reads everything. One invocation at a time runs in a
    // container, so the lock is never contended.
    let warm = tokio::sync::Mutex::new(Warm::new(config.cadence));
    let (clients, config, observer, warm) = (&clients, &config, &observer, &warm);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let started = std::time::Instant::now();
        let now = autoscaler_aws::now();
        match schedule::late_run(&event.payload, direction, now) {
            Ok(Some(late)) => {
                tracing::warn!(
                    scheduled_time = %late.scheduled_time,
                    late_by_secs = late.late_by_secs,
                    "late run dropped"
                );
                observer.late_run(direction);
                return Ok(serde_json::to_value(late).unwrap_or_default());
            }
            Ok(None) => {}
            Err(why) => tracing::warn!(reason = %why, "scheduled time unreadable"),
        }
        let mut warm = warm.lock().await;
        // Boxed: the run's future is deep, and unboxed its layout exceeds the compiler's
        // default recursion limit in the binaries that call this function.
        let deadline = autoscaler_aws::Deadline::from_epoch_millis(event.context.deadline);
        let result = Box::pin(autoscaler_aws::invoke_with(
            clients, config, direction, now, deadline, &mut warm,
        ))
        .await;
        let summary = match &result {
            Ok(summary) => Some(summary),
            Err(InvokeError::TablesFailed(failed)) => Some(&*failed.summary),
            Err(InvokeError::DiscoveryFailed(_)) => None,
        };
        if let Some(summary) = summary {
            Box::pin(observer.after_run(summary, started.elapsed())).await;
        }
        result
            .map(|summary| serde_json::to_value(summary).unwrap_or_default())
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
