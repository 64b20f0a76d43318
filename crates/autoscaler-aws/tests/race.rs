//! Issue 9, point 1: the two functions never undo each other's change. One run (scale-up or
//! scale-down) is stopped at each of its calls in turn, the other function's run is made whole
//! meanwhile, then the first goes on; whatever the step, no change is reverted and no decrease is
//! spent twice. With the in-memory AWS of `test_support::mock_aws` (which records every change),
//! and against the emulator, holding the request at the fault proxy.
//!
//! The table: reads hot (95 units/s on 100: scale-up raises them to 119), writes idle (1 unit/s
//! on 100: scale-down lowers them to 2). Each `UpdateTable` carries both dimensions, so a run
//! that decided on a description older than the other's change would write the old value back.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use autoscaler_aws::run::{Outcome, RunSummary};
use autoscaler_aws::{Clients, Direction, RunConfig, SkipReason, run};
use scaling_policy::{Dimension, Timestamp};
use test_support::emulator::{capacity, clients_at, endpoint, lease_table, seed_recent, table};
use test_support::mock_aws::{KEY, NOW, World, now};
use test_support::proxy::Proxy;

fn config(lease: bool) -> RunConfig {
    let mut config = test_support::mock_aws::config();
    if !lease {
        config.lease_table = None;
    }
    config
}

/// The table, with 30 minutes published up to two minutes ago.
fn world() -> World {
    let w = World::new(now());
    w.add_table("orders", (100, 100), &[], &[(KEY, "on")]);
    w.recent("orders", None, Dimension::Read, now(), 95.0, 0.0);
    w.recent("orders", None, Dimension::Write, now(), 1.0, 0.0);
    w
}

fn other(d: Direction) -> Direction {
    match d {
        Direction::Up => Direction::Down,
        Direction::Down => Direction::Up,
    }
}

/// Runs `direction` to completion on a thread of its own (the caller's runtime may be blocked).
fn run_elsewhere(clients: Clients, config: RunConfig, direction: Direction) -> RunSummary {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(&clients, &config, direction, now()))
            .unwrap()
    })
    .join()
    .unwrap()
}

/// What one interleaving came to.
struct Interleaving {
    /// The call of the first run the second ran before (`None`: the first made fewer calls).
    step: Option<String>,
    first: RunSummary,
    second: Option<RunSummary>,
    world: World,
}

/// The run `first`, with the whole run of the other function made just before its `k`th call
/// is answered.
async fn interleave(first: Direction, k: usize, lease: bool) -> Interleaving {
    let w = world();
    let calls = Arc::new(AtomicUsize::new(0));
    let second: Arc<std::sync::Mutex<Option<(String, RunSummary)>>> = Arc::default();
    let (ww, s) = (w.clone(), second.clone());
    w.set_hook(move |call| {
        if call.client != "first" || calls.fetch_add(1, Ordering::SeqCst) != k {
            return;
        }
        let summary = run_elsewhere(ww.clients("second"), config(lease), other(first));
        *s.lock().unwrap() = Some((call.operation.to_owned(), summary));
    });
    let first_summary = run(&w.clients("first"), &config(lease), first, now())
        .await
        .unwrap();
    w.clear_hook();
    let second = second.lock().unwrap().take();
    Interleaving {
        step: second.as_ref().map(|(op, _)| op.clone()),
        first: first_summary,
        second: second.map(|(_, s)| s),
        world: w,
    }
}

/// The ways one interleaving can be wrong: a change reverted, a decrease spent twice, a failure.
fn problems(i: &Interleaving) -> Vec<String> {
    let mut out = Vec::new();
    let changes = i.world.changes();
    for c in &changes {
        if c.after.0 < c.before.0 {
            out.push(format!(
                "reads lowered {:?} -> {:?}: the increase was undone",
                c.before, c.after
            ));
        }
        if c.after.1 > c.before.1 {
            out.push(format!(
                "writes raised {:?} -> {:?}: the decrease was undone",
                c.before, c.after
            ));
        }
    }
    let decreases = changes.iter().filter(|c| c.after.1 < c.before.1).count();
    if decreases > 1 {
        out.push(format!("{decreases} decreases spent"));
    }
    for s in std::iter::once(&i.first).chain(&i.second) {
        if !s.failed.is_empty() {
            out.push(format!("failed: {:?}", s.failed));
        }
    }
    out
}

#[tokio::test]
async fn interleaved_at_every_step_no_change_is_undone() {
    let mut steps = 0;
    for first in [Direction::Up, Direction::Down] {
        for k in 0.. {
            let i = interleave(first, k, true).await;
            let Some(step) = &i.step else { break };
            steps += 1;
            let p = problems(&i);
            assert!(
                p.is_empty(),
                "{first} first, the other before its call {k} ({step}): {p:?}"
            );
            let (read, write) = i.world.capacity("orders", None);
            assert!(
                [100, 119].contains(&read) && [100, 2].contains(&write),
                "{read}/{write}"
            );
            // A run the other held off was told so.
            for s in std::iter::once(&i.first).chain(&i.second) {
                if let Outcome::Skipped { reason, .. } = &s.tables[0].outcome {
                    assert_eq!(*reason, SkipReason::LeaseHeld, "{first} {k} {step}");
                }
            }
        }
    }
    assert!(
        steps >= 12,
        "both runs interleaved at each of their calls ({steps})"
    );
}

#[tokio::test]
async fn without_the_lease_an_interleaving_undoes_a_change() {
    // The same sweep with no lease table: the race is real, and the sweep finds it (so the test
    // above would fail without the lease).
    let mut undone = Vec::new();
    for first in [Direction::Up, Direction::Down] {
        for k in 0.. {
            let i = interleave(first, k, false).await;
            let Some(step) = &i.step else { break };
            if !problems(&i).is_empty() {
                undone.push(format!("{first} first, before its {step}"));
            }
        }
    }
    assert!(
        undone.iter().any(|u| u.contains("UpdateTable")),
        "the other run between a describe and the UpdateTable undoes its change: {undone:?}"
    );
}

#[tokio::test]
async fn a_crashed_run_s_lease_expires() {
    // A run that took the lease and never released it (killed at its timeout) holds the table
    // until the lease expires, not forever.
    let w = world();
    w.set_lease_number("orders", "expires", NOW + 60);
    w.state().leases.get_mut("orders").unwrap().insert(
        "owner".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("crashed".into()),
    );
    let held = run(&w.clients("up"), &config(true), Direction::Up, now())
        .await
        .unwrap();
    assert!(
        matches!(&held.tables[0].outcome, Outcome::Skipped { reason: SkipReason::LeaseHeld, detail } if detail.contains("until")),
        "{held:#?}"
    );
    assert_eq!(w.capacity("orders", None), (100, 100));
    let later = Timestamp::from_unix(NOW + 61);
    w.set_now(later);
    let taken = run(&w.clients("up"), &config(true), Direction::Up, later)
        .await
        .unwrap();
    assert_eq!(taken.tables[0].outcome, Outcome::Changed, "{taken:#?}");
    assert_eq!(w.capacity("orders", None), (119, 100));
    let lease = w.lease("orders").unwrap();
    assert!(!lease.contains_key("owner"), "released: {lease:?}");
    assert!(lease.contains_key("written_at"), "{lease:?}");
}

#[tokio::test]
async fn a_description_that_predates_the_last_write_is_not_acted_on() {
    // DescribeTable is eventually consistent: the lease remembers the last write, and a
    // description that shows neither it nor a later change is stale.
    let w = world();
    let written = aws_sdk_dynamodb::types::AttributeValue::M(
        [(
            "#table".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::L(vec![
                aws_sdk_dynamodb::types::AttributeValue::N("100".into()),
                aws_sdk_dynamodb::types::AttributeValue::N("50".into()),
            ]),
        )]
        .into(),
    );
    w.set_lease_number("orders", "written_at", NOW - 5);
    w.state()
        .leases
        .get_mut("orders")
        .unwrap()
        .insert("written".into(), written);
    let s = run(&w.clients("down"), &config(true), Direction::Down, now())
        .await
        .unwrap();
    assert!(
        matches!(
            &s.tables[0].outcome,
            Outcome::Skipped {
                reason: SkipReason::StaleDescription,
                ..
            }
        ),
        "{s:#?}"
    );
    assert!(
        w.changes().is_empty(),
        "nothing written on a stale description"
    );
}

// ---------------------------------------------------------------------------------------------
// The same against the emulator
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn interleaved_at_every_step_against_the_emulator() {
    let setup = clients_at(endpoint(), "us-east-1", Duration::from_secs(20)).await;
    let leases = lease_table(&setup).await;
    let t = autoscaler_aws::now();
    let mut steps = 0;
    for first in [Direction::Up, Direction::Down] {
        for k in 0.. {
            // Each interleaving has its own table and tag key.
            let key = format!("t-race-{first}-{k}");
            let name = format!("race-{first}-{k}");
            table(
                &setup,
                &name,
                Some((100, 100)),
                &[],
                &[(key.as_str(), "on")],
            )
            .await;
            seed_recent(&setup, &name, None, Dimension::Read, t, 30, 95.0, 0.0).await;
            seed_recent(&setup, &name, None, Dimension::Write, t, 30, 1.0, 0.0).await;
            let cfg = RunConfig {
                tag_key: key.clone(),
                lease_table: Some(leases.to_owned()),
                ..RunConfig::default()
            };
            let (pa, pb) = (
                Proxy::start(endpoint(), None, Duration::from_secs(30)),
                Proxy::start(endpoint(), None, Duration::from_secs(30)),
            );
            let (a, b) = (
                clients_at(pa.url(), "us-east-1", Duration::from_secs(20)).await,
                clients_at(pb.url(), "us-east-1", Duration::from_secs(20)).await,
            );
            pa.hold(k);
            let (ca, cfa) = (a.clone(), cfg.clone());
            let first_run =
                tokio::spawn(
                    async move { run(&ca, &cfa, first, autoscaler_aws::now()).await.unwrap() },
                );
            let pa = Arc::new(pa);
            let waiting = Arc::clone(&pa);
            let held =
                tokio::task::spawn_blocking(move || waiting.wait_held(Duration::from_secs(5)))
                    .await
                    .unwrap();
            let second = match &held {
                Some(_) => Some(
                    run(&b, &cfg, other(first), autoscaler_aws::now())
                        .await
                        .unwrap(),
                ),
                None => None,
            };
            pa.release();
            let first_summary = first_run.await.unwrap();
            let Some(held) = held else { break };
            steps += 1;
            let (read, write) = capacity(&setup, &name, None).await;
            for s in std::iter::once(&first_summary).chain(&second) {
                assert!(s.failed.is_empty(), "{first} {k} {held:?}: {s:#?}");
                let outcome = &s.table(&name).unwrap().outcome;
                match (s.direction, outcome) {
                    (Direction::Up, Outcome::Changed) => assert_eq!(
                        read, 119,
                        "{first} first, the other before its {}: the increase was undone",
                        held.api
                    ),
                    (Direction::Down, Outcome::Changed) => assert_eq!(
                        write, 2,
                        "{first} first, the other before its {}: the decrease was undone",
                        held.api
                    ),
                    (_, Outcome::Skipped { reason, .. }) => {
                        assert_eq!(*reason, SkipReason::LeaseHeld, "{outcome:?}")
                    }
                    (_, o) => panic!("{first} {k}: unexpected {o:?}"),
                }
            }
        }
    }
    assert!(
        steps >= 12,
        "both runs interleaved at each of their calls ({steps})"
    );
}
