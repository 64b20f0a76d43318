//! An in-process stand-in for API Gateway's HTTP API in front of the management API's handler:
//! requests become payload-v2 events, as API Gateway sends them, and go through `lambda_http`'s
//! own conversion ([`lambda_http::request::from_str`]), so the handler meets exactly what it
//! meets in Lambda.
//!
//! - [`event`] / [`request`]: one event (or request) for the route tests, with the IAM identity
//!   API Gateway adds after checking a SigV4 signature ([`CALLER_ARN`]), or without one.
//! - [`Gateway`]: the handler served over HTTP/1.1 on 127.0.0.1, for schemathesis. A request
//!   with an `Authorization: AWS4-HMAC-SHA256 ...` header gets the identity (the signature is
//!   not checked: IAM is not what is tested), one without gets none, which the handler refuses.

use std::future::Future;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::http::read_request;

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
pub fn request(method: &str, target: &str, body: Option<&str>, signed: bool) -> Request {
    let e = event(method, target, body, signed, &[]).to_string();
    lambda_http::request::from_str(&e)
        .unwrap_or_else(|err| panic!("lambda_http refused the event ({err}): {e}"))
}

/// The handler as the gateway calls it.
pub type Handler =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync>;

/// The handler served over HTTP on 127.0.0.1, until the process ends.
pub struct Gateway {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Gateway {
    /// Serves `handler` on a free port. Must be called within a multi-threaded tokio runtime:
    /// each connection's thread runs the handler on it.
    pub fn start(handler: Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the API Gateway stand-in");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the stand-in's address")
        );
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, runtime) = (Arc::clone(&handler), runtime.clone());
                std::thread::spawn(move || serve(stream, &handler, &runtime));
            }
        });
        Self { url }
    }
}

fn serve(stream: TcpStream, handler: &Handler, runtime: &tokio::runtime::Handle) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while let Some(req) = read_request(&mut reader) {
        let signed = req
            .header("authorization")
            .is_some_and(|a| a.starts_with("AWS4-HMAC-SHA256 "));
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let headers: Vec<(String, String)> = req
            .headers
            .iter()
            .filter(|(k, _)| k != "content-length" && k != "authorization")
            .cloned()
            .collect();
        let e = event(
            &req.method,
            &req.path,
            (!body.is_empty()).then_some(body.as_str()),
            signed,
            &headers,
        )
        .to_string();
        let answer = match lambda_http::request::from_str(&e) {
            Ok(request) => {
                let response = runtime.block_on(handler(request));
                let status = response.status();
                let mut headers: Vec<(&str, String)> = response
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
                let body: &[u8] = response.body().as_ref();
                crate::http::reply(
                    &format!(
                        "{} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ),
                    &headers,
                    body,
                )
            }
            // What API Gateway answers to a request it cannot pass on.
            Err(_) => crate::http::reply(
                "400 Bad Request",
                &[("Content-Type", "application/json".to_owned())],
                br#"{"message":"Bad Request"}"#,
            ),
        };
        if writer
            .write_all(&answer)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}
