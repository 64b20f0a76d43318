//! API Gateway HTTP API (payload v2) events, as API Gateway passes a request to the management
//! API's function after checking its SigV4 signature, turned into requests by `lambda_http`'s
//! own conversion ([`lambda_http::request::from_str`]): what the demo sends the API's handler,
//! and the tests' in-process gateway (`test-support`).

use lambda_http::Request;
use serde_json::{Value, json};

/// The caller every signed request comes from.
pub const CALLER_ARN: &str = "arn:aws:iam::123456789012:user/team-x";

/// A payload-v2 event for `method` `target` (path and optional `?query`) with `body`, signed
/// (with the IAM identity of [`CALLER_ARN`]) or not.
pub fn event(
    method: &str,
    target: &str,
    body: Option<&str>,
    signed: bool,
    headers: &[(String, String)],
) -> Value {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut all: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::from(v.as_str())))
        .collect();
    all.entry("content-type")
        .or_insert("application/json".into());
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "a1b2c3d4e5",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "test"
        },
        "requestId": "test-request",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Dec/2026:12:00:00 +0000",
        "timeEpoch": 1_796_126_400_000_i64
    });
    if signed {
        context["authorizer"] = json!({
            "iam": {
                "accessKey": "AKIATESTTESTTEST",
                "accountId": "123456789012",
                "callerId": "AIDATESTTESTTEST",
                "principalOrgId": null,
                "userArn": CALLER_ARN,
                "userId": "AIDATESTTESTTEST"
            }
        });
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    })
}

/// The request `lambda_http` makes of [`event`]`(method, target, body, signed, [])`.
pub fn request(
    method: &str,
    target: &str,
    body: Option<&str>,
    signed: bool,
) -> Result<Request, serde_json::Error> {
    lambda_http::request::from_str(&event(method, target, body, signed, &[]).to_string())
}
