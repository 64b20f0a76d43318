//! The real `ddb-autoscaler-api` binary, started as Lambda starts it, answering API Gateway HTTP
//! API (payload v2) events from a fake Lambda Runtime API over the local emulator: the wiring
//! the route tests cannot prove (`lambda_http` reading the event and writing the response,
//! configuration from the environment, JSON logs), and that every request and every change is
//! logged with the caller's IAM identity from the request context.

use serde_json::{Value, json};
use test_support::api_gateway::{CALLER_ARN, event};
use test_support::emulator::{clients, table};
use test_support::lambda::{FakeRuntimeApi, Function, PostKind, unique};

const BIN: &str = env!("CARGO_BIN_EXE_ddb-autoscaler-api");

#[tokio::test]
async fn a_signed_boost_request_is_answered_and_logged_with_the_caller() {
    let c = clients().await;
    let key = unique("fn-api");
    let name = unique("fn-api-orders");
    table(&c, &name, Some((10, 10)), &[], &[(&key, "on")]).await;
    let later = |s| autoscaler_aws::now().plus_secs(s).to_string();
    let body = json!({"write": 20, "from": later(600), "until": later(3600)}).to_string();

    let api = FakeRuntimeApi::start();
    let post = api.push(
        &event(
            "POST",
            &format!("/tables/{name}/boosts"),
            Some(&body),
            true,
            &[],
        )
        .to_string(),
    );
    let unsigned = api.push(&event("GET", "/tables", None, false, &[]).to_string());
    let mut f = Function::start(BIN, &api, &key, &[]);
    let answer = api.wait_for(&post, &mut f).await;
    assert_eq!(
        answer.kind,
        PostKind::Response,
        "{answer:?}\n{}",
        f.output()
    );
    let response = answer.json();
    assert_eq!(response["statusCode"], 201, "{response:#}");
    let boost: Value =
        serde_json::from_str(response["body"].as_str().expect("a body")).expect("JSON");
    assert_eq!(boost["write"], 20);
    let refused = api.wait_for(&unsigned, &mut f).await.json();
    assert_eq!(refused["statusCode"], 403, "{refused:#}");

    let logs = f.json_logs();
    let field = |l: &Value, k: &str| l["fields"][k].as_str().unwrap_or_default().to_owned();
    let request = logs
        .iter()
        .find(|l| field(l, "message") == "api request" && field(l, "method") == "POST")
        .unwrap_or_else(|| panic!("no api request line:\n{}", f.output()));
    assert_eq!(field(request, "caller_arn"), CALLER_ARN);
    assert_eq!(field(request, "caller_account"), "123456789012");
    let change = logs
        .iter()
        .find(|l| field(l, "message") == "tags changed")
        .unwrap_or_else(|| panic!("no tags changed line:\n{}", f.output()));
    assert_eq!(field(change, "table"), name);
    assert!(
        field(change, "changed_by").starts_with(CALLER_ARN),
        "{change:#}"
    );
    assert!(
        logs.iter()
            .any(|l| field(l, "message") == "api request without an IAM identity"),
        "{}",
        f.output()
    );
}
