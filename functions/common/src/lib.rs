//! # functions-common: the wiring both Lambda binaries share
//!
//! Each scheduled function's `main.rs` is one call to [`serve`] with its direction: the two
//! functions differ in nothing else. The management API (`functions/api`) shares the
//! [`cold_start`].
//!
//! Configuration from the environment, validated at cold start: a bad value fails the init with
//! a message naming the variable. The SDK configuration and clients are built once.
//! `lambda_runtime`'s tracing subscriber logs JSON when the function's log format is JSON. The
//! handler accepts any JSON event (an EventBridge Scheduler input with the scheduled time, a
//! classic rule's "Scheduled Event", an empty input) and returns the run summary; a run in which
//! any table failed returns an error of type `TablesFailed` listing them, so that the function's
//! `Errors` metric sees it. A run that starts more than a minute after its scheduled time is
//! dropped ([`schedule`]). After each run, the run's metrics and notifications ([`observe`]).

pub mod observe;
pub mod schedule;

use autoscaler_aws::{Clients, Direction, InvokeError, RunConfig};
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
    let config = or_exit(RunConfig::from_env());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    (config, sdk)
}

/// The value, or the end of the cold start: the error logged and printed, exit status 1
/// (Lambda reports it as an init error).
fn or_exit<T>(result: Result<T, autoscaler_aws::Error>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            eprintln!("invalid configuration: {e}");
            std::process::exit(1);
        }
    }
}

/// Runs the function until Lambda stops it.
pub async fn serve(direction: Direction) -> Result<(), Error> {
    let (config, sdk) = init().await;
    let clients = Clients::new(&sdk);
    let observer = or_exit(observe::Observer::from_env(&sdk));
    let (clients, config, observer) = (&clients, &config, &observer);
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
        // Boxed: the run's future is deep, and unboxed its layout exceeds the compiler's
        // default recursion limit in the binaries that call this function.
        let result = Box::pin(autoscaler_aws::invoke(clients, config, direction, now)).await;
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
