//! schemathesis (pinned in `scripts/requirements-test.txt`, installed into `.venv` by
//! `scripts/emulator install`) against the management API's handler, served in process over
//! the local emulator by the API Gateway stand-in of `test-support`: every operation of
//! `openapi.yaml` with generated valid and invalid requests (examples, coverage, fuzzing and
//! stateful phases, at most [`MAX_EXAMPLES`] cases per operation and phase), and all of
//! schemathesis' checks: no server error, status codes, content types, headers and bodies as
//! documented, invalid data refused, valid data accepted (`schemathesis.toml` says which
//! statuses count as accepting), missing auth refused, unsupported methods answered 405.
//!
//! The doc's examples name the table `orders`, which exists here, opted in with a GSI, so the
//! generated requests reach the handler's real paths and not only `404`s.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use api::Api;
use autoscaler_aws::RunConfig;
use scaling_policy::Dimension;
use test_support::api_gateway::{Gateway, Handler};
use test_support::emulator::{clients, seed_recent, table};

/// Cases per operation and phase: enough to walk every route's errors, small enough for the
/// test budget (about 10 s here).
const MAX_EXAMPLES: u32 = 25;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_keeps_the_openapi_contract() {
    let root = workspace();
    let schemathesis = root.join(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "schemathesis is not installed: run `scripts/emulator install` (or scripts/test) first ({} is missing)",
        schemathesis.display()
    );
    let c = clients().await;
    let key = "ddb-autoscaler";
    table(
        &c,
        "orders",
        Some((10, 10)),
        &[("by-customer", 5, 5)],
        &[(key, "on")],
    )
    .await;
    table(&c, "audit", Some((10, 10)), &[], &[(key, "off")]).await;
    seed_recent(
        &c,
        "orders",
        None,
        Dimension::Read,
        autoscaler_aws::now(),
        10,
        9.5,
        0.0,
    )
    .await;
    let api = Arc::new(Api {
        clients: c,
        config: RunConfig::default(),
    });
    let handler: Handler = Arc::new(move |req| {
        let api = Arc::clone(&api);
        Box::pin(async move { api::handle(&api, req).await })
    });
    let gateway = Gateway::start(handler);

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // schemathesis keeps a cache and its reports in its working directory: a scratch one.
    let scratch = std::env::temp_dir().join(format!("schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let report = scratch.join("report");
    let mut cmd = Command::new(&schemathesis);
    cmd.current_dir(&scratch)
        .arg("--config-file")
        .arg(dir.join("schemathesis.toml"))
        .arg("run")
        .arg(dir.join("openapi.yaml"))
        .args(["--url", &gateway.url])
        .args(["--checks", "all"])
        // API Gateway answers a request without a signature 403 Forbidden (and so does the
        // handler when the request context has no IAM identity); this check insists on 401 for
        // a missing Authorization header. The ignored_auth check still proves that unsigned
        // requests are refused.
        .args(["--exclude-checks", "missing_required_header"])
        .args(["--max-examples", &MAX_EXAMPLES.to_string()])
        .args(["--seed", "13"])
        .args(["--workers", "1"])
        .args(["--request-timeout", "20"])
        .args(["--report-dir"])
        .arg(&report)
        .args([
            "-H",
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIATESTTESTTEST/20261201/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000",
        ])
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_HOOKS", "");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", schemathesis.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("{stdout}");
}
