//! Throttle events by cause in the simulated CloudWatch, and hot keys: a trace property whose
//! refusals no capacity cures (key-range throttles).

mod common;

use capacity_sim::{
    HotKey, ModelParams, PolicySpec, TraceOptions, evaluate, reference, simulate, synthetic,
};
use common::{flat, idle, params, previous_minutes};
use scaling_policy::ThrottleCauses;

/// 31 units/s, a quarter of it on a key that serves 6.75: 1 unit/s refused by the key.
fn hot(minutes: usize) -> capacity_sim::Trace {
    let mut t = flat(0, 31.0, minutes);
    t.hot_key = Some(HotKey {
        share: 0.25,
        limit: 6.75,
    });
    t
}

#[test]
fn a_hot_key_refuses_beyond_its_limit_whatever_the_capacity() {
    for capacity in [31, 100, 10_000] {
        let run = simulate(&hot(20), &params(2, 1, capacity), &mut idle());
        for m in 0..20 {
            assert_eq!(run.refused[m], 60.0, "capacity {capacity}, minute {m}");
            assert_eq!(run.refused_key_range[m], 60.0);
            assert_eq!(run.served[m], 30.0 * 60.0);
        }
    }
    let off = ModelParams {
        hot_keys: false,
        ..params(2, 1, 100)
    };
    let run = simulate(&hot(20), &off, &mut idle());
    assert_eq!(run.refused_units(), 0.0, "hot_keys off: the key is ignored");
}

#[test]
fn throttle_events_are_published_by_cause() {
    // 31 units/s on 20 provisioned, no bucket: the key refuses 1 unit/s, the table 10 of the
    // remaining 30.
    let mut p = params(0, 1, 20);
    p.initial_burst_secs = 0.0;
    let mut t = hot(3);
    t.demand.push(Some(10.0));
    t.demand.push(Some(10.0));
    let seen = previous_minutes(&t, &p);
    let m = seen[1];
    assert_eq!(m.consumed, Some(1200.0));
    assert_eq!(m.throttled, Some(660.0), "the combined count: both causes");
    assert_eq!(
        m.causes,
        Some(ThrottleCauses {
            provisioned: 600.0,
            key_range: 60.0,
            other: 0.0
        })
    );
    assert_eq!(seen[4].throttled, None, "10 units/s: nothing refused");
    assert_eq!(seen[4].causes, None, "and no cause published");
    // Switched off: only the combined count, as before 2025.
    p.throttle_causes = false;
    let seen = previous_minutes(&t, &p);
    assert_eq!(seen[1].throttled, Some(660.0));
    assert_eq!(seen[1].causes, None);
}

#[test]
fn without_a_hot_key_every_refusal_is_a_provisioned_throughput_throttle() {
    let mut p = params(0, 1, 10);
    p.initial_burst_secs = 0.0;
    let seen = previous_minutes(&flat(0, 15.0, 3), &p);
    let causes = seen[1].causes.expect("published");
    assert_eq!((causes.provisioned, causes.key_range), (300.0, 0.0));
}

#[test]
fn the_references_refuse_what_the_hot_key_refuses_and_no_more() {
    let t = synthetic::by_name("hot-key", &TraceOptions::default()).unwrap();
    let p = ModelParams::default();
    let ideal = reference::ideal(&t, &p);
    assert_eq!(ideal.refused_units, 60.0 * 1440.0);
    assert_eq!(ideal.refused_key_range_units, ideal.refused_units);
    assert!(
        (ideal.unit_hours - 30.0 * 24.0).abs() < 1e-9,
        "30 units/s reach the table"
    );
    let od = reference::on_demand(&t, &p);
    assert_eq!(
        od.refused_units,
        60.0 * 1440.0,
        "a partition's limit holds on demand too"
    );
    assert!(reference::required_units(&t, &p).iter().all(|r| *r == 30));
    let eval = evaluate(&t, &p, &[PolicySpec::Clairvoyant, PolicySpec::StaticPeak]).unwrap();
    let clairvoyant = eval.run("clairvoyant").unwrap();
    assert_eq!(
        clairvoyant.refused_units(),
        clairvoyant.refused_key_range_units()
    );
    assert!(clairvoyant.provisioned[1..].iter().all(|p| *p == 30));
    for row in &eval.rows {
        assert!(
            (row.throttled_pct - 100.0 / 31.0).abs() < 1e-9,
            "{}",
            row.policy
        );
        assert_eq!(row.throttled_key_range_pct, row.throttled_pct);
    }
    assert!(eval.notes.is_empty(), "{:?}", eval.notes);
}

#[test]
fn the_flash_crowds_hot_key_throttles_only_in_the_crowd() {
    let t = synthetic::by_name("flash-crowd", &TraceOptions::default()).unwrap();
    let run = simulate(&t, &ModelParams::default(), &mut idle());
    let crowd = 3 * 1440 + 14 * 60;
    let key: Vec<usize> = (0..t.len())
        .filter(|m| run.refused_key_range[*m] > 0.0)
        .collect();
    assert!(!key.is_empty());
    assert!(
        key.iter().all(|m| (crowd..crowd + 120).contains(m)),
        "{key:?}"
    );
}
