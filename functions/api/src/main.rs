//! # ddb-autoscaler-api: the management API Lambda function
//!
//! Wiring only: the cold start the scheduled functions share (`functions-common`: tracing
//! subscriber, configuration validated from the environment, SDK clients), then `lambda_http`
//! serving [`api::handle`] for every API Gateway HTTP API (payload v2) request.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    api::serve().await
}
