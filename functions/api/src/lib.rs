//! # api: ddb-autoscaler's management API
//!
//! A small HTTP API (API Gateway HTTP API, IAM/SigV4 authorisation, `template.yaml`) through
//! which other systems and people see and change their own tables: what the autoscaler would
//! do to them now, their override settings, and announced events (boosts). The routes and
//! their JSON are in `openapi.yaml` beside this crate, which `tests/openapi.rs` checks against
//! [`routes::ROUTES`] and the bodies, and schemathesis against the handler itself.
//!
//! | route | what |
//! |---|---|
//! | `GET /tables` | every opted-in table: mode, capacities, what each function would decide now |
//! | `GET /tables/{name}` | one table and its GSIs, the same with the quota state and next decrease |
//! | `PUT /tables/{name}/settings` | replace the table's overrides (validated, written as tags) |
//! | `PATCH /tables/{name}/settings` | merge into them (`null` removes one) |
//! | `GET /tables/{name}/boosts` | the table's boosts |
//! | `POST /tables/{name}/boosts` | announce an event: a timed floor, kept as a tag |
//! | `GET /tables/{name}/boosts/{id}` | one boost |
//! | `DELETE /tables/{name}/boosts/{id}` | remove it |
//!
//! Key decisions:
//! - Nothing is decided here: views come from `autoscaler_aws::outlook` (a run's own building
//!   blocks, nothing applied) and changes go through `autoscaler_aws::manage`, which the CLI's
//!   `boost` uses too; this crate parses requests ([`bodies`]), routes ([`routes`]), and turns
//!   results into JSON ([`views`]) and errors into `application/problem+json` ([`problem`])
//!   naming the field at fault.
//! - Who may call what is IAM's business (`execute-api:Invoke` on route ARNs); the handler only
//!   insists on an IAM identity in the request context ([`caller`]) and logs it with every
//!   request (`api request`) and every change (`tags changed`).
//! - Time is read once per request ([`autoscaler_aws::now`]); boost ids are random.

// A `Problem` is returned at most once per request, on the way to becoming the response: boxing
// it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod bodies;
pub mod caller;
pub mod problem;
pub mod routes;
pub mod views;

use autoscaler_aws::{Clients, RunConfig, manage, outlook};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use crate::caller::Caller;
use crate::problem::Problem;
use crate::routes::Route;

/// What every request needs: the SDK clients and the deployment's configuration.
#[derive(Clone, Debug)]
pub struct Api {
    /// The AWS clients.
    pub clients: Clients,
    /// The deployment's settings (opt-in tag key, defaults).
    pub config: RunConfig,
}

/// Runs the Lambda function until Lambda stops it.
pub async fn serve() -> Result<(), lambda_http::Error> {
    let (config, clients) = functions_common::cold_start().await;
    let api = Api { clients, config };
    let api = &api;
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(handle(api, req).await)
    }))
    .await
}

/// A JSON response.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body))
        .unwrap_or_default()
}

/// Answers one request. Never fails: every error is a problem response.
pub async fn handle(api: &Api, req: Request) -> Response<Body> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let caller = Caller::of(&req);
    let response = match (&caller, routes::route(&method, &path)) {
        (_, Err(problem)) => problem.response(),
        (None, Ok(_)) => Problem::no_identity().response(),
        (Some(caller), Ok(route)) => answer(api, caller, route, req.body())
            .await
            .unwrap_or_else(|p| p.response()),
    };
    let status = response.status().as_u16();
    match &caller {
        Some(c) => tracing::info!(
            method,
            path,
            status,
            caller_arn = c.arn.as_str(),
            caller_account = c.account.as_str(),
            caller_id = c.id.as_str(),
            "api request"
        ),
        None => tracing::warn!(method, path, status, "api request without an IAM identity"),
    }
    response
}

async fn answer(
    api: &Api,
    caller: &Caller,
    route: Route,
    body: &Body,
) -> Result<Response<Body>, Problem> {
    let (clients, config) = (&api.clients, &api.config);
    let now = autoscaler_aws::now();
    let by = caller.to_string();
    match route {
        Route::Tables => {
            let tables = outlook::all(clients, config, now)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            Ok(json(StatusCode::OK, &views::tables(config, now, &tables)))
        }
        Route::Table(name) => {
            let table = outlook::one(clients, config, &name, now)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            Ok(json(StatusCode::OK, &views::table(config, now, &table)))
        }
        Route::Settings { name, replace } => {
            let changes = bodies::settings(&config.tag_key, body, replace)?;
            let pairs: Vec<_> = changes.iter().map(|c| c.change.clone()).collect();
            let written = manage::change_settings(clients, config, &name, &pairs, replace, &by)
                .await
                .map_err(|e| Problem::from_error(&e, &changes))?;
            Ok(json(StatusCode::OK, &views::written(&name, &written)))
        }
        Route::Boosts(name) => {
            let boosts = manage::boosts(clients, config, &name)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            let list: Vec<_> = boosts
                .iter()
                .map(|b| views::boost(config, &name, b, now))
                .collect();
            Ok(json(StatusCode::OK, &views::BoostList { boosts: list }))
        }
        Route::NewBoost(name) => {
            let new = bodies::boost(body, manage::new_boost_id())?;
            manage::add_boost(clients, config, &name, &new, now, &by)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            let view = views::boost(config, &name, &new, now);
            let mut response = json(StatusCode::CREATED, &view);
            if let Ok(location) = format!("/tables/{name}/boosts/{}", new.id).parse() {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Route::Boost { name, id } => {
            let b = manage::boost(clients, config, &name, &id)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            Ok(json(StatusCode::OK, &views::boost(config, &name, &b, now)))
        }
        Route::DeleteBoost { name, id } => {
            let b = manage::remove_boost(clients, config, &name, &id, &by)
                .await
                .map_err(|e| Problem::from_error(&e, &[]))?;
            Ok(json(StatusCode::OK, &views::boost(config, &name, &b, now)))
        }
    }
}
