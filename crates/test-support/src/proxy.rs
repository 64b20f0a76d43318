//! The fault-injecting HTTP proxy of the fault campaign: it sits between the SDK and the emulator
//! on 127.0.0.1, forwards every request, counts them per API, and by rule answers the calls of one
//! API (for one table, when the rule names one) with a fault instead.
//!
//! **Faults** ([`Fault`]): throttling (the protocol's own throttling error, which the SDK retries),
//! a 5xx, a timeout (the request is held past the client's attempt timeout, then the connection is
//! closed; never forwarded), a connection reset (closed without an answer; never forwarded), a
//! malformed body (forwarded, then the answer's body cut in half), and a slow answer (forwarded,
//! answered 300 ms late). A rule fires on every matching request, or only on the first `times`
//! (a transient fault that the SDK's retries absorb).
//!
//! **Which API, which table.** The API is the request's `X-Amz-Target` operation (DynamoDB, the
//! tagging API, Application Auto Scaling) or its `Action` (CloudWatch's query protocol). The
//! tables are the request's `TableName`, a table ARN's name, the lease key, or, for
//! `GetMetricData`, the `TableName` dimension values of its queries: a rule for one table matches
//! every request that concerns it.
//!
//! **Holding a request.** [`Proxy::hold`] holds the `n`th request (after the faults, before
//! forwarding) until [`Proxy::release`]: a test interleaves another run at exactly that step.
//!
//! Each proxy has its own rules and counts, so concurrent campaign cells each use their own. The
//! CloudWatch requests can go to another upstream (the fast stand-in of the scale run).
//! Thread per connection, `std::net` only ([`crate::http`]): the bytes must be ours to cut.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::http::{Message, form, read_message, reply};

/// How a rule answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The protocol's throttling error (400 `ThrottlingException` / `Throttling`).
    Throttling,
    /// 500 (`InternalServerError` / `InternalFailure`).
    ServerError,
    /// Held past the client's attempt timeout, then closed, never forwarded.
    Timeout,
    /// Closed without an answer, never forwarded.
    Reset,
    /// Forwarded; the answer's body cut in half.
    Malformed,
    /// Forwarded; answered [`SLOW`] late.
    Slow,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 6] = [
        Fault::Throttling,
        Fault::ServerError,
        Fault::Timeout,
        Fault::Reset,
        Fault::Malformed,
        Fault::Slow,
    ];

    /// Its name in the campaign's matrix.
    pub const fn as_str(self) -> &'static str {
        match self {
            Fault::Throttling => "throttling",
            Fault::ServerError => "5xx",
            Fault::Timeout => "timeout",
            Fault::Reset => "reset",
            Fault::Malformed => "malformed",
            Fault::Slow => "slow",
        }
    }
}

/// How late a [`Fault::Slow`] answer comes.
pub const SLOW: Duration = Duration::from_millis(300);

/// A fault for the calls of `api` (for `table`, if set): on every one, or on the first `times`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The operation, as AWS spells it (`DescribeTable`, `GetMetricData`...).
    pub api: String,
    /// Only requests concerning this table.
    pub table: Option<String>,
    /// What to answer.
    pub fault: Fault,
    /// Only the first this many matching requests (`None`: all).
    pub times: Option<usize>,
}

/// What the proxy saw of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The operation.
    pub api: String,
    /// The tables it concerns.
    pub tables: Vec<String>,
    /// The fault it got, if any.
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    rules: Vec<(Rule, usize)>,
    seen: Vec<Seen>,
    hold: Option<usize>,
    held: Option<Seen>,
    released: bool,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    upstream: String,
    cloudwatch: Option<String>,
    timeout_hold: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running proxy; it stops accepting when dropped.
pub struct Proxy {
    url: String,
    shared: Arc<Shared>,
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 in front of `upstream` (an `http://127.0.0.1:PORT`
    /// URL), sending CloudWatch's requests to `cloudwatch` instead when given. A
    /// [`Fault::Timeout`] holds its request for `timeout_hold` (longer than the clients' attempt
    /// timeout).
    pub fn start(upstream: &str, cloudwatch: Option<&str>, timeout_hold: Duration) -> Self {
        let host = |u: &str| {
            u.strip_prefix("http://")
                .unwrap_or_else(|| panic!("the proxy forwards to http://127.0.0.1:PORT, not {u}"))
                .trim_end_matches('/')
                .to_owned()
        };
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the listener's address")
        );
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Condvar::new(),
            upstream: host(upstream),
            cloudwatch: cloudwatch.map(host),
            timeout_hold,
        });
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.lock().closed {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Proxy { url, shared }
    }

    /// The URL to give the SDK as its endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a rule.
    pub fn add(&self, rule: Rule) {
        self.shared.lock().rules.push((rule, 0));
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.shared.lock().rules.clear();
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().seen.clone()
    }

    /// Requests so far per API.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for s in &self.shared.lock().seen {
            *counts.entry(s.api.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Holds the `n`th request from now (0: the next one) before forwarding it, until
    /// [`Proxy::release`].
    pub fn hold(&self, n: usize) {
        let mut s = self.shared.lock();
        s.hold = Some(s.seen.len() + n);
        s.held = None;
        s.released = false;
    }

    /// Waits until the held request arrives (at most `wait`): what it is, or `None` when the run
    /// made fewer requests.
    pub fn wait_held(&self, wait: Duration) -> Option<Seen> {
        let s = self.shared.lock();
        let (s, _) = self
            .shared
            .changed
            .wait_timeout_while(s, wait, |s| s.held.is_none())
            .unwrap_or_else(|e| e.into_inner());
        s.held.clone()
    }

    /// Lets the held request go on.
    pub fn release(&self) {
        let mut s = self.shared.lock();
        s.released = true;
        s.hold = None;
        self.shared.changed.notify_all();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.release();
        self.shared.lock().closed = true;
        // Wake the accept loop so that it sees `closed`.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// The operation and tables of a request, and whether it speaks CloudWatch's query protocol.
fn identify(req: &Message) -> (String, Vec<String>, bool) {
    if let Some(target) = req.header("x-amz-target") {
        let api = target.rsplit('.').next().unwrap_or_default().to_owned();
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let mut tables = Vec::new();
        if api == "UpdateItem" {
            // The lease table: the key names the managed table.
            if let Some(key) = body["Key"].as_object() {
                tables.extend(
                    key.values()
                        .filter_map(|v| v["S"].as_str())
                        .map(str::to_owned),
                );
            }
        } else if let Some(t) = body["TableName"].as_str() {
            tables.push(t.to_owned());
        }
        if let Some(arn) = body["ResourceArn"].as_str()
            && let Some((_, t)) = arn.rsplit_once(":table/")
        {
            tables.push(t.to_owned());
        }
        return (api, tables, false);
    }
    let pairs = form(&req.body);
    let api = pairs
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut tables = Vec::new();
    for (k, v) in &pairs {
        if let Some(prefix) = k.strip_suffix(".Name")
            && v == "TableName"
            && let Some((_, value)) = pairs
                .iter()
                .find(|(vk, _)| *vk == format!("{prefix}.Value"))
            && !tables.contains(value)
        {
            tables.push(value.clone());
        }
    }
    (api, tables, true)
}

fn fault_answer(fault: Fault, query: bool) -> Vec<u8> {
    let json = "application/x-amz-json-1.0";
    let xml = "text/xml";
    let xml_error = |code: &str, kind: &str| {
        format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        )
    };
    match (fault, query) {
        (Fault::Throttling, false) => reply(
            "400 Bad Request",
            &[],
            json,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput (injected)"}"#,
        ),
        (Fault::Throttling, true) => reply(
            "400 Bad Request",
            &[],
            xml,
            xml_error("Throttling", "Sender").as_bytes(),
        ),
        (_, false) => reply(
            "500 Internal Server Error",
            &[],
            json,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error (injected)"}"#,
        ),
        (_, true) => reply(
            "500 Internal Server Error",
            &[],
            xml,
            xml_error("InternalFailure", "Receiver").as_bytes(),
        ),
    }
}

/// Forwards `req` to `host` and reads its answer.
fn forward(req: &Message, host: &str) -> Option<Message> {
    let mut upstream = TcpStream::connect(host).ok()?;
    upstream.write_all(&req.to_bytes()).ok()?;
    let mut reader = BufReader::new(upstream);
    read_message(&mut reader, true)
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut client = stream;
    // One request per connection: every answer says `connection: close`.
    if let Some(req) = read_message(&mut reader, false) {
        let (api, tables, query) = identify(&req);
        let (fault, index) = {
            let mut s = shared.lock();
            let mut fault = None;
            for (rule, hits) in &mut s.rules {
                let matches = rule.api == api
                    && rule.table.as_ref().is_none_or(|t| tables.contains(t))
                    && rule.times.is_none_or(|n| *hits < n);
                if matches {
                    *hits += 1;
                    fault = Some(rule.fault);
                    break;
                }
            }
            s.seen.push(Seen {
                api: api.clone(),
                tables: tables.clone(),
                fault,
            });
            (fault, s.seen.len() - 1)
        };
        // A held request waits here, before it is forwarded.
        {
            let mut s = shared.lock();
            if s.hold == Some(index) {
                s.held = s.seen.get(index).cloned();
                shared.changed.notify_all();
                while !s.released && !s.closed {
                    s = shared.changed.wait(s).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
        let upstream = if query {
            shared.cloudwatch.as_deref().unwrap_or(&shared.upstream)
        } else {
            &shared.upstream
        };
        let answer = match fault {
            Some(f @ (Fault::Throttling | Fault::ServerError)) => fault_answer(f, query),
            Some(Fault::Timeout) => {
                std::thread::sleep(shared.timeout_hold);
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Reset) => {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            Some(Fault::Malformed) => match forward(&req, upstream) {
                Some(mut answer) => {
                    answer.start = "HTTP/1.1 200 OK".to_owned();
                    let half = answer.body.len() / 2;
                    answer.body.truncate(half);
                    answer.to_bytes()
                }
                None => return,
            },
            Some(Fault::Slow) | None => {
                let Some(answer) = forward(&req, upstream) else {
                    return;
                };
                if fault == Some(Fault::Slow) {
                    std::thread::sleep(SLOW);
                }
                answer.to_bytes()
            }
        };
        let _ = client.write_all(&answer).and_then(|()| client.flush());
        let _ = client.shutdown(Shutdown::Both);
    }
}
