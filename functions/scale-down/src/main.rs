//! # ddb-autoscaler-scale-down: the scale-down Lambda function
//!
//! Wiring only, shared with the other function (the `functions-common` crate): configuration
//! from the environment validated at cold start, SDK clients built once, `lambda_runtime`'s
//! tracing subscriber, and a handler that runs the pipeline of `autoscaler-aws` in direction
//! `Down` for any JSON event and returns the run summary (an error of type `TablesFailed` when a
//! table failed, so that the function's `Errors` metric sees it).

#[tokio::main]
async fn main() -> Result<(), functions_common::Error> {
    functions_common::serve(autoscaler_aws::Direction::Down).await
}
