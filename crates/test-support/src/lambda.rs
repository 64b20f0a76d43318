//! The end-to-end harness of the Lambda binaries (`functions/*/tests/`).
//!
//! - [`FakeRuntimeApi`]: the Lambda Runtime API on 127.0.0.1 (`std::net` only, HTTP/1.1 with
//!   keep-alive and `Content-Length` bodies ([`crate::http`]), which is what `lambda_runtime`'s
//!   hyper client speaks). `GET .../invocation/next` hands out queued events with the headers Lambda sends
//!   and is held open while the queue is empty; `POST .../response`, `.../error` and
//!   `.../init/error` are recorded and answered 202.
//! - [`Function`]: the real binary started as Lambda starts it, with a cleared environment (only
//!   the Lambda variables, dummy credentials, the emulator's endpoint ([`crate::emulator`]) and
//!   the test's settings); killed when dropped. Nothing here can reach a real AWS endpoint.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::emulator::endpoint;
use crate::http::{Message, read_message};

/// How long a test waits for the function to answer an invocation or to exit.
pub const WAIT: Duration = Duration::from_secs(30);

/// The sample events of `events/`, as the functions receive them in production.
pub const SCHEDULED_EVENT: &str = include_str!("../../../events/scheduled-event.json");
/// The input an EventBridge Scheduler schedule sends by default.
pub const SCHEDULER_EMPTY: &str = include_str!("../../../events/scheduler-empty.json");

/// `name` made unique to this test process, for tag keys and table names, so tests sharing an
/// emulator (`DDB_AUTOSCALER_TEST_ENDPOINT`) never see each other's tables.
pub fn unique(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

// ------------------------------------------------------------------------------------------
// The fake Lambda Runtime API

/// What the function posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostKind {
    /// `POST /2018-06-01/runtime/invocation/{id}/response`
    Response,
    /// `POST /2018-06-01/runtime/invocation/{id}/error`
    Error,
    /// `POST /2018-06-01/runtime/init/error`
    InitError,
}

/// One recorded post.
#[derive(Clone, Debug)]
pub struct Post {
    /// Which endpoint.
    pub kind: PostKind,
    /// The invocation's request id (`None` for an init error).
    pub request_id: Option<String>,
    /// The `Lambda-Runtime-Function-Error-Type` header, if sent.
    pub error_type_header: Option<String>,
    /// The body as sent.
    pub body: String,
}

impl Post {
    /// The body as JSON (panics, showing it, when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the function posted non-JSON ({e}): {}", self.body))
    }
}

#[derive(Default)]
struct State {
    /// Events not handed out yet: (request id, body).
    /// (request id, event, milliseconds left until its deadline).
    queue: VecDeque<(String, String, u64)>,
    /// Request ids handed out by `next`, in order.
    handed_out: Vec<String>,
    posts: Vec<Post>,
    /// Requests to paths the fake does not know (answered 404).
    unexpected: Vec<String>,
    /// Set when the test is over: held `next` calls return and connections close.
    closed: bool,
    next_id: usize,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panicking connection thread must not hide the test's own failure.
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fake Runtime API. Dropping it releases held `next` calls.
pub struct FakeRuntimeApi {
    address: String,
    shared: Shared,
}

impl FakeRuntimeApi {
    /// Listens on a free port of 127.0.0.1.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake Runtime API");
        let address = listener
            .local_addr()
            .expect("the fake Runtime API's address")
            .to_string();
        let shared: Shared = Arc::default();
        let for_accept = Arc::clone(&shared);
        // The accept loop is never joined: it ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if lock(&for_accept).closed {
                    return;
                }
                let shared = Arc::clone(&for_accept);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Self { address, shared }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Queues an invocation with this event and a minute until its deadline; returns its
    /// request id.
    pub fn push(&self, event: &str) -> String {
        self.push_with_time_left(event, Duration::from_secs(60))
    }

    /// Queues `event` whose invocation has `left` until its deadline (the
    /// `Lambda-Runtime-Deadline-Ms` header, counted from when it is handed out); returns its
    /// request id.
    pub fn push_with_time_left(&self, event: &str, left: Duration) -> String {
        let mut s = lock(&self.shared);
        s.next_id += 1;
        let id = format!("req-{:04}-{}", s.next_id, std::process::id());
        let left = u64::try_from(left.as_millis()).unwrap_or(u64::MAX);
        s.queue.push_back((id.clone(), event.to_owned(), left));
        self.shared.1.notify_all();
        id
    }

    /// Request ids handed out by `next` so far.
    pub fn handed_out(&self) -> Vec<String> {
        lock(&self.shared).handed_out.clone()
    }

    /// Everything the function posted so far.
    pub fn posts(&self) -> Vec<Post> {
        lock(&self.shared).posts.clone()
    }

    /// Requests the fake did not recognise.
    pub fn unexpected(&self) -> Vec<String> {
        lock(&self.shared).unexpected.clone()
    }

    /// Waits (up to [`WAIT`]) for the result of invocation `id`: its `/response` or `/error`.
    /// Panics with the function's output when the function exits or the time is up.
    pub async fn wait_for(&self, id: &str, function: &mut Function) -> Post {
        let deadline = Instant::now() + WAIT;
        loop {
            let found = lock(&self.shared)
                .posts
                .iter()
                .find(|p| p.request_id.as_deref() == Some(id))
                .cloned();
            if let Some(post) = found {
                return post;
            }
            if let Some(status) = function.exited() {
                panic!(
                    "the function exited ({status}) before answering {id}\n{}",
                    function.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "no answer to {id} within {WAIT:?}; posts: {:?}; unexpected requests: {:?}\n{}",
                    self.posts(),
                    self.unexpected(),
                    function.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for FakeRuntimeApi {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.1.notify_all();
    }
}

const ACCEPTED: &str = r#"{"status":"OK"}"#;

/// Serves one keep-alive connection until the client closes it or the test ends.
/// A JSON answer of the fake.
fn reply(status: &str, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    crate::http::reply(status, headers, "application/json", body.as_bytes())
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while let Some(req) = read_message(&mut reader, false) {
        let Some(answer) = answer(&req, shared) else {
            return;
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

/// The answer to one request; `None` to close the connection (the test is over).
fn answer(req: &Message, shared: &Shared) -> Option<Vec<u8>> {
    const PREFIX: &str = "/2018-06-01/runtime/";
    let route = req.path().strip_prefix(PREFIX).unwrap_or("");
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let record = |kind, request_id: Option<&str>| {
        lock(shared).posts.push(Post {
            kind,
            request_id: request_id.map(str::to_owned),
            error_type_header: req
                .header("lambda-runtime-function-error-type")
                .map(str::to_owned),
            body: body.clone(),
        });
        shared.1.notify_all();
        Some(reply("202 Accepted", &[], ACCEPTED))
    };
    match (req.method(), route) {
        ("GET", "invocation/next") => next_invocation(shared),
        ("POST", "init/error") => record(PostKind::InitError, None),
        ("POST", r) if r.starts_with("invocation/") => {
            let rest = &r["invocation/".len()..];
            match rest.rsplit_once('/') {
                Some((id, "response")) => record(PostKind::Response, Some(id)),
                Some((id, "error")) => record(PostKind::Error, Some(id)),
                _ => unexpected(req, shared),
            }
        }
        _ => unexpected(req, shared),
    }
}

fn unexpected(req: &Message, shared: &Shared) -> Option<Vec<u8>> {
    lock(shared)
        .unexpected
        .push(format!("{} {}", req.method(), req.path()));
    Some(reply(
        "404 Not Found",
        &[],
        r#"{"errorType":"NotFound","errorMessage":"unknown path"}"#,
    ))
}

/// Hands out the next queued event, holding the call while the queue is empty.
fn next_invocation(shared: &Shared) -> Option<Vec<u8>> {
    let mut state = lock(shared);
    loop {
        if state.closed {
            return None;
        }
        if let Some((id, event, left)) = state.queue.pop_front() {
            state.handed_out.push(id.clone());
            let deadline_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                + u128::from(left);
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", id),
                ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:ddb-autoscaler-test".to_owned(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-6749a1b0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"
                        .to_owned(),
                ),
            ];
            return Some(reply("200 OK", &headers, &event));
        }
        state = shared
            .1
            .wait_timeout(state, Duration::from_millis(500))
            .map_or_else(|e| e.into_inner().0, |(s, _)| s);
    }
}

// ------------------------------------------------------------------------------------------
// The function process

/// A running function binary; killed when dropped.
pub struct Function {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

fn collect(pipe: impl Read + Send + 'static, into: &Arc<Mutex<String>>) -> JoinHandle<()> {
    let into = Arc::clone(into);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { return };
            let mut all = into.lock().unwrap_or_else(|e| e.into_inner());
            all.push_str(&line);
            all.push('\n');
        }
    })
}

impl Function {
    /// Starts `binary` (a `CARGO_BIN_EXE_*` path) as Lambda would, talking to `api` and to the
    /// emulator, with opt-in tag key `tag_key`, the shared lease table
    /// ([`crate::emulator::LEASE_TABLE`], which the test creates) and the extra variables `env`
    /// (an empty value unsets a variable). Nothing of the test's own environment is passed on.
    pub fn start(binary: &str, api: &FakeRuntimeApi, tag_key: &str, env: &[(&str, &str)]) -> Self {
        let name = std::path::Path::new(binary)
            .file_name()
            .map_or_else(|| "function".into(), |n| n.to_string_lossy().into_owned());
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_ENDPOINT_URL", endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            // Belt and braces: nothing may go looking for instance metadata.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AUTOSCALER_TAG_KEY", tag_key)
            // The test creates it (`emulator::lease_table`) before starting the function.
            .env("AUTOSCALER_LEASE_TABLE", crate::emulator::LEASE_TABLE);
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        let (stdout, stderr) = (Arc::default(), Arc::default());
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(collect(out, &stdout));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(collect(err, &stderr));
        }
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    /// The exit status, once the process has exited; all its output has then been read.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.try_wait().ok().flatten()?;
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        Some(status)
    }

    /// Waits (up to [`WAIT`]) for the process to exit on its own.
    pub async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "the function did not exit within {WAIT:?}\n{}",
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the function wrote to stdout (its logs) so far.
    pub fn stdout(&self) -> String {
        self.stdout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// What the function wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Both, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- function stdout ---\n{}--- function stderr ---\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// The JSON log lines on stdout (panics on a line that is not JSON: the function must log
    /// JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`).
    pub fn json_logs(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
