//! `ddb-autoscaler demo`: the real pipeline against the local emulator, end to end.
//!
//! Creates a hot table (with a hot GSI), an idle table and an untagged table, writes 30 minutes
//! of per-minute CloudWatch datapoints, runs the scale-up pipeline and then the scale-down
//! pipeline (the exact code of the two Lambda functions), and prints the capacities before and
//! after with the reason of every decision. Then it announces an event on the idle table through
//! the management API (its handler, called in process with the request API Gateway would pass
//! on: a signed caller in the request context) and runs scale-up just before and at the boost's
//! lead time (`from` minus 5 minutes), then after `until`, to show the floor honoured and its tag
//! removed. It refuses to run unless `AWS_ENDPOINT_URL` points at this machine: it creates
//! tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use autoscaler_aws::run::RunSummary;
use autoscaler_aws::{Clients, Direction, RunConfig, run};
use emulator_fixtures::{SeedMinute, TableSpec, capacities, create_table, put_minutes};
use scaling_policy::Dimension;

use crate::common::Error;

const MINUTES: usize = 30;

/// (table, index, read units/s, write units/s) of the seeded traffic.
const TRAFFIC: &[(&str, Option<&str>, f64, f64)] = &[
    ("demo-hot", None, 9.5, 7.5),
    ("demo-hot", Some("by-customer"), 4.75, 3.8),
    ("demo-idle", None, 3.0, 1.0),
    ("demo-untagged", None, 9.5, 1.0),
];

fn local_endpoint() -> Result<String, Error> {
    let url = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    if emulator_fixtures::is_local(&url) {
        Ok(url)
    } else {
        Err(format!(
            "the demo creates tables, so it only runs against a local emulator: set AWS_ENDPOINT_URL=http://127.0.0.1:PORT (scripts/demo does), not {url:?}"
        )
        .into())
    }
}

/// Runs the demo and prints its report.
pub async fn demo() -> Result<(), Error> {
    let endpoint = local_endpoint()?;
    let config = RunConfig::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = Clients::new(&sdk);
    let key = config.tag_key.clone();
    println!("emulator: {endpoint}   opt-in tag: {key}\n");

    let aws = |e: emulator_fixtures::Error| -> Error { autoscaler_aws::error::chain(&e).into() };
    let specs = [
        (
            "demo-hot",
            (10, 10),
            vec![("by-customer".to_owned(), 5, 5)],
            "on",
        ),
        ("demo-idle", (100, 100), vec![], "on"),
        ("demo-untagged", (10, 10), vec![], ""),
    ];
    for (name, capacity, indexes, tag) in specs {
        let tags = if tag.is_empty() {
            vec![]
        } else {
            vec![(key.clone(), tag.to_owned())]
        };
        create_table(
            &clients,
            &TableSpec {
                name: name.to_owned(),
                capacity: Some(capacity),
                indexes,
                tags,
            },
        )
        .await
        .map_err(aws)?;
    }
    let now = autoscaler_aws::now();
    let start = now.floor_minute().plus_secs(-60 * MINUTES as i64);
    for (table, index, read, write) in TRAFFIC {
        for (dimension, per_sec) in [(Dimension::Read, read), (Dimension::Write, write)] {
            let minutes = vec![
                SeedMinute {
                    consumed: per_sec * 60.0,
                    throttled: 0.0,
                };
                MINUTES
            ];
            put_minutes(&clients, table, *index, dimension, start, &minutes)
                .await
                .map_err(aws)?;
        }
    }
    println!(
        "created demo-hot (10/10, GSI by-customer 5/5), demo-idle (100/100), demo-untagged (10/10)\nwrote {MINUTES} minutes of consumed-capacity datapoints per table and GSI\n"
    );

    let tables = ["demo-hot", "demo-idle", "demo-untagged"];
    let before = snapshot(&clients, &tables).await?;
    let up = run(&clients, &config, Direction::Up, now)
        .await
        .map_err(|e| autoscaler_aws::error::chain(&e))?;
    let after_up = snapshot(&clients, &tables).await?;
    let down = run(&clients, &config, Direction::Down, now)
        .await
        .map_err(|e| autoscaler_aws::error::chain(&e))?;
    let after_down = snapshot(&clients, &tables).await?;
    print!("{}", report(&before, &after_up, &after_down, &up, &down));
    for (name, s) in [("scale-up", &up), ("scale-down", &down)] {
        println!(
            "{name}: {} tables seen, {} managed, {} changed, {} skipped, {} failed",
            s.tables_seen,
            s.tables_managed,
            s.tables_changed,
            s.skipped.len(),
            s.failed.len()
        );
    }
    boost_through_the_api(&clients, &config, now).await
}

/// The write decision about the table `name` itself in `summary`, as `from -> to (reason)`.
fn write_decision(summary: &RunSummary, name: &str) -> String {
    summary
        .table(name)
        .and_then(|t| {
            t.decisions
                .iter()
                .find(|d| d.index.is_none() && d.decision.dimension == Dimension::Write)
        })
        .map_or_else(
            || "no decision".to_owned(),
            |d| {
                format!(
                    "{} -> {} ({})",
                    d.decision.from,
                    d.decision.to,
                    d.decision.reason.as_str()
                )
            },
        )
}

/// Announces an event on `demo-idle` through the management API, then shows scale-up honouring
/// it from `from` minus 5 minutes (not before), and the expired tag removed after `until`.
async fn boost_through_the_api(
    clients: &Clients,
    config: &RunConfig,
    now: scaling_policy::Timestamp,
) -> Result<(), Error> {
    let api = api::Api {
        clients: clients.clone(),
        config: config.clone(),
    };
    let from = now.floor_minute().plus_secs(20 * 60);
    let until = from.plus_secs(2 * 3600);
    let body = serde_json::json!({
        "write": 20,
        "from": from.to_string(),
        "until": until.to_string(),
        "note": "product launch",
    })
    .to_string();
    let path = "/tables/demo-idle/boosts";
    let request = emulator_fixtures::api_event::request("POST", path, Some(&body), true)?;
    let response = api::handle(&api, request).await;
    let answer: serde_json::Value = serde_json::from_slice(response.body().as_ref())?;
    println!(
        "\nboost through the management API (signed by {}):",
        emulator_fixtures::api_event::CALLER_ARN
    );
    println!("  POST {path} {body}");
    println!("  -> {} {answer}", response.status().as_u16());
    if !response.status().is_success() {
        return Err(format!("the API refused the boost: {answer}").into());
    }
    let active_from = from.plus_secs(-scaling_policy::boost::LEAD_SECS);
    for (label, at) in [
        ("a minute before from - 5 min", active_from.plus_secs(-60)),
        ("at from - 5 min", active_from),
    ] {
        let s = run(clients, config, Direction::Up, at)
            .await
            .map_err(|e| autoscaler_aws::error::chain(&e))?;
        println!(
            "scale-up {at} ({label}): demo-idle write {}",
            write_decision(&s, "demo-idle")
        );
    }
    let after = until.plus_secs(60);
    run(clients, config, Direction::Up, after)
        .await
        .map_err(|e| autoscaler_aws::error::chain(&e))?;
    let left = autoscaler_aws::manage::boosts(clients, config, "demo-idle")
        .await
        .map_err(|e| autoscaler_aws::error::chain(&e))?;
    println!(
        "scale-up {after} (after until): the expired boost's tag {}",
        if left.is_empty() {
            "was removed"
        } else {
            "is still there"
        }
    );
    Ok(())
}

type Key = (String, String, Dimension);

async fn snapshot(clients: &Clients, tables: &[&str]) -> Result<BTreeMap<Key, u64>, Error> {
    let mut out = BTreeMap::new();
    for t in tables {
        let caps = capacities(clients, t)
            .await
            .map_err(|e| autoscaler_aws::error::chain(&e))?;
        for (index, read, write) in caps {
            let index = index.unwrap_or_else(|| "-".to_owned());
            out.insert(((*t).to_owned(), index.clone(), Dimension::Read), read);
            out.insert(((*t).to_owned(), index, Dimension::Write), write);
        }
    }
    Ok(out)
}

fn reason(summary: &RunSummary, key: &Key) -> String {
    let Some(t) = summary.table(&key.0) else {
        return "not opted in (no tag)".to_owned();
    };
    let found = t
        .decisions
        .iter()
        .find(|d| d.index.as_deref().unwrap_or("-") == key.1 && d.decision.dimension == key.2);
    match (found, &t.outcome) {
        (Some(d), _) => d.decision.reason.as_str().to_owned(),
        (None, autoscaler_aws::Outcome::Skipped { reason, .. }) => reason.as_str().to_owned(),
        (None, autoscaler_aws::Outcome::Failed { error }) => error.to_string(),
        (None, _) => String::new(),
    }
}

fn report(
    before: &BTreeMap<Key, u64>,
    after_up: &BTreeMap<Key, u64>,
    after_down: &BTreeMap<Key, u64>,
    up: &RunSummary,
    down: &RunSummary,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<12} {:<5} {:>6} {:>9} {:>10}  {:<22} scale-down reason",
        "table", "index", "dim", "before", "after-up", "after-down", "scale-up reason",
    );
    for (key, b) in before {
        let traffic = TRAFFIC
            .iter()
            .find(|(t, i, _, _)| *t == key.0 && i.unwrap_or("-") == key.1)
            .map(|(_, _, r, w)| if key.2 == Dimension::Read { *r } else { *w });
        let _ = writeln!(
            out,
            "{:<14} {:<12} {:<5} {:>6} {:>9} {:>10}  {:<22} {}{}",
            key.0,
            key.1,
            key.2.as_str(),
            b,
            after_up.get(key).copied().unwrap_or_default(),
            after_down.get(key).copied().unwrap_or_default(),
            reason(up, key),
            reason(down, key),
            traffic
                .map(|t| format!("  (traffic {t} units/s)"))
                .unwrap_or_default(),
        );
    }
    let _ = writeln!(out);
    out
}
