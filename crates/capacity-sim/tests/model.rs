//! The model's rules on crafted traces: burst, publication delay, update delay, decrease quota.

mod common;

use capacity_sim::{View, simulate};
use common::{Scripted, changes, flat, idle, params, previous_minutes, trace};

#[test]
fn bucket_fills_to_300_seconds_and_drains() {
    // P = 10, bucket empty at the start; 10 idle minutes would bank 6,000 units without the
    // cap, but the bucket holds only 300 s x 10 = 3,000.
    let mut p = params(2, 1, 10);
    p.initial_burst_secs = 0.0;
    let mut demand = vec![Some(0.0); 10];
    demand.extend(vec![Some(20.0); 8]); // 2P: 600 units/min over capacity
    let run = simulate(&trace(0, demand), &p, &mut idle());
    for m in 10..15 {
        assert_eq!(run.refused[m], 0.0, "minute {m} is covered by the bucket");
        assert_eq!(run.served[m], 1200.0);
    }
    for m in 15..18 {
        assert!(
            (run.refused[m] - 600.0).abs() < 1e-9,
            "minute {m}: the bucket is empty"
        );
        assert_eq!(run.served[m], 600.0);
    }
}

#[test]
fn a_full_bucket_absorbs_a_one_minute_spike_of_six_times_capacity() {
    let p = params(2, 1, 10); // bucket starts full: 3,000 units
    let run = simulate(&trace(0, vec![Some(60.0), Some(10.0)]), &p, &mut idle());
    assert_eq!(run.served[0], 3600.0);
    assert_eq!(run.refused[0], 0.0);
    // The bucket is empty and the next minute gets only its own capacity.
    assert_eq!(run.served[1], 600.0);
    let run = simulate(&trace(0, vec![Some(61.0)]), &p, &mut idle());
    assert!((run.refused[0] - 60.0).abs() < 1e-9);
}

#[test]
fn consumed_is_served_and_throttles_are_refused_units() {
    let mut p = params(0, 1, 10);
    p.initial_burst_secs = 0.0;
    let seen = previous_minutes(&trace(0, vec![Some(15.0), Some(5.0), None, Some(5.0)]), &p);
    assert_eq!(seen[1].consumed, Some(600.0));
    assert_eq!(seen[1].throttled, Some(300.0));
    assert_eq!(seen[2].consumed, Some(300.0));
    assert_eq!(
        seen[2].throttled, None,
        "no throttle datapoint when nothing was refused"
    );
    assert_eq!(
        seen[3],
        scaling_policy::Minute::GAP,
        "a gap publishes nothing"
    );
}

#[test]
fn a_decision_sees_only_datapoints_older_than_the_delay() {
    for delay in [0u32, 1, 2, 3] {
        let p = params(delay, 1, 100);
        let demand: Vec<Option<f64>> = (0..20).map(|i| Some(f64::from(i))).collect();
        let mut log = Vec::new();
        let mut policy = Scripted(|v: &View<'_>| {
            log.push((
                v.minute,
                v.metrics.visible(),
                v.metrics.get(v.t() - 1 - i64::from(delay)),
            ));
            None
        });
        simulate(&trace(0, demand), &p, &mut policy);
        for (t, visible, newest) in log {
            // Minute j is visible at t when it ended at least `delay` minutes ago: j + 1 + delay <= t.
            assert_eq!(
                visible,
                t.saturating_sub(delay as usize),
                "delay {delay}, minute {t}"
            );
            if t > delay as usize {
                let j = t - 1 - delay as usize;
                assert_eq!(
                    newest.consumed,
                    Some(60.0 * j as f64),
                    "delay {delay}, minute {t}"
                );
            }
        }
    }
}

#[test]
fn updates_take_effect_after_the_delay_and_block_others() {
    let p = params(2, 3, 10);
    let mut policy = Scripted(|v: &View<'_>| match v.minute {
        0 => Some(20),
        1 | 2 => {
            assert!(v.updating);
            Some(30)
        }
        3 => {
            assert!(!v.updating);
            assert_eq!(v.provisioned, 20);
            Some(40)
        }
        _ => None,
    });
    let run = simulate(&flat(0, 1.0, 10), &p, &mut policy);
    assert_eq!(changes(&run.provisioned), vec![(3, 20), (6, 40)]);
    assert_eq!(run.refused_in_use, 2);
    assert_eq!(run.increases, 2);
}

/// A policy that asks for one unit less every minute.
fn always_lower() -> Scripted<impl FnMut(&View<'_>) -> Option<u64>> {
    Scripted(|v: &View<'_>| Some(v.provisioned - 1))
}

#[test]
fn the_fifth_decrease_within_an_hour_is_refused() {
    let p = params(2, 1, 1000);
    let run = simulate(&flat(0, 1.0, 70), &p, &mut always_lower());
    // Four free decreases at minutes 0-3 (in force at 1-4), then the hourly rule: the next at
    // minute 63, an hour after the fourth.
    assert_eq!(
        changes(&run.provisioned),
        vec![(1, 999), (2, 998), (3, 997), (4, 996), (64, 995)]
    );
    assert_eq!(run.decreases, 5);
    assert_eq!(
        run.refused_quota, 65,
        "minutes 4..=62 and 64..=69 were refused"
    );
}

#[test]
fn the_quota_resets_at_midnight_utc() {
    // Start at 23:00 UTC: 4 decreases, the hourly one is not due before 00:03, but at 00:00 a
    // new day starts with 4 free decreases again.
    let p = params(2, 1, 1000);
    let run = simulate(&flat(23 * 3600, 1.0, 70), &p, &mut always_lower());
    let got = changes(&run.provisioned);
    assert_eq!(
        got,
        vec![
            (1, 999),
            (2, 998),
            (3, 997),
            (4, 996),
            (61, 995),
            (62, 994),
            (63, 993),
            (64, 992)
        ]
    );
}

#[test]
fn at_most_27_decreases_a_day() {
    let p = params(2, 1, 10_000);
    let run = simulate(&flat(0, 1.0, 1440), &p, &mut always_lower());
    assert_eq!(run.decreases, 27);
}

#[test]
fn requests_are_clamped_to_the_table_limits() {
    let mut p = params(2, 1, 10);
    p.max_capacity = 50;
    let mut policy = Scripted(|v: &View<'_>| Some(if v.minute == 0 { 1_000 } else { 0 }));
    let run = simulate(&flat(0, 1.0, 4), &p, &mut policy);
    assert_eq!(changes(&run.provisioned), vec![(1, 50), (2, 1)]);
}

#[test]
fn the_scale_down_cron_fires_at_the_configured_utc_hours() {
    let p = params(2, 1, 10);
    let mut fired = Vec::new();
    let mut policy = Scripted(|v: &View<'_>| {
        if v.is_scale_down_time() {
            fired.push(v.now.to_string());
        }
        None
    });
    simulate(&flat(0, 1.0, 1440), &p, &mut policy);
    assert_eq!(
        fired,
        [
            "2024-01-01T00:00:00Z",
            "2024-01-01T06:00:00Z",
            "2024-01-01T12:00:00Z",
            "2024-01-01T18:00:00Z"
        ]
    );
}

#[test]
fn policies_wait_for_the_warm_up() {
    let mut p = params(2, 1, 10);
    p.warmup_minutes = 30;
    let mut first = None;
    let mut policy = Scripted(|v: &View<'_>| {
        first.get_or_insert(v.minute);
        None
    });
    simulate(&flat(0, 1.0, 40), &p, &mut policy);
    assert_eq!(first, Some(30));
}
