//! An in-process stand-in for API Gateway's HTTP API in front of the management API's handler:
//! requests become payload-v2 events, as API Gateway sends them, and go through `lambda_http`'s
//! own conversion ([`lambda_http::request::from_str`]), so the handler meets exactly what it
//! meets in Lambda.
//!
//! - [`event`] / [`request`] (from `emulator-fixtures`, which the demo shares): one event (or
//!   request) for the route tests, with the IAM identity API Gateway adds after checking a SigV4
//!   signature ([`CALLER_ARN`]), or without one.
//! - [`Gateway`]: the handler served over HTTP/1.1 on 127.0.0.1, for schemathesis. A request
//!   with an `Authorization: AWS4-HMAC-SHA256 ...` header gets the identity (the signature is
//!   not checked: IAM is not what is tested), one without gets none, which the handler refuses.

use std::future::Future;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};

pub use emulator_fixtures::api_event::{CALLER_ARN, event};

/// The request `lambda_http` makes of [`event`]`(method, target, body, signed, [])`; panics if
/// it refuses the event.
pub fn request(method: &str, target: &str, body: Option<&str>, signed: bool) -> Request {
    emulator_fixtures::api_event::request(method, target, body, signed)
        .unwrap_or_else(|e| panic!("lambda_http refused the event for {method} {target}: {e}"))
}

use crate::http::read_message;

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
    while let Some(req) = read_message(&mut reader, false) {
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
            req.method(),
            req.path(),
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
                let content_type = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map_or_else(|| "application/json".to_owned(), |(_, v)| v.clone());
                headers.retain(|(k, _)| {
                    !k.eq_ignore_ascii_case("content-length")
                        && !k.eq_ignore_ascii_case("content-type")
                });
                let body: &[u8] = response.body().as_ref();
                crate::http::reply(
                    &format!(
                        "{} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or("")
                    ),
                    &headers,
                    &content_type,
                    body,
                )
            }
            // What API Gateway answers to a request it cannot pass on.
            Err(_) => crate::http::reply(
                "400 Bad Request",
                &[],
                "application/json",
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
