//! Late scheduled runs, changes stamped when they are made, `not_before`, schedules at any
//! minutes of the UTC day, and the decrease quota at its edges (to the second).

mod common;

use capacity_sim::{ModelParams, Request, ScaleDownSchedule, View, simulate};
use common::{DAY0, Requesting, Scripted, changes, flat, params};
use scaling_policy::Timestamp;

const DAY_MINUTES: usize = 1440;

fn late(max_secs: u32, seed: u64) -> ModelParams {
    ModelParams {
        late_runs_max_secs: max_secs,
        late_runs_seed: seed,
        ..params(2, 1, 1000)
    }
}

/// Seconds between each minute's start and its run's `now`.
fn lateness(p: &ModelParams, minutes: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut policy = Scripted(|v: &View<'_>| {
        assert_eq!(v.scheduled, v.scheduled.floor_minute());
        seen.push(v.now.secs_since(v.scheduled));
        None
    });
    simulate(&flat(0, 1.0, minutes), p, &mut policy);
    seen
}

#[test]
fn runs_start_0_to_30_seconds_late_pseudo_randomly_and_reproducibly() {
    let secs = lateness(&ModelParams::default(), 10_000);
    assert!(secs.iter().all(|s| (0..=30).contains(s)), "default: 0-30 s");
    assert!(secs.contains(&0) && secs.contains(&30), "both ends occur");
    let mean = secs.iter().sum::<i64>() as f64 / secs.len() as f64;
    assert!((13.0..=17.0).contains(&mean), "uniform: mean {mean}");
    let repeats = secs.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(repeats < 10_000 / 10, "independent from minute to minute");
    assert_eq!(secs, lateness(&ModelParams::default(), 10_000), "seeded");
    assert_ne!(
        secs,
        lateness(&late(30, 9), 10_000),
        "another seed, other lateness"
    );
    assert!(
        lateness(&late(0, 8), 100).iter().all(|s| *s == 0),
        "0 switches it off"
    );
    assert!(
        lateness(&late(5, 8), 1000)
            .iter()
            .all(|s| (0..=5).contains(s))
    );
}

#[test]
fn changes_are_stamped_with_the_instant_they_are_made() {
    let p = late(30, 8);
    let mut made = Vec::new();
    let mut stamps = Vec::new();
    let mut policy = Requesting(|v: &View<'_>| {
        stamps.push((v.last_increase, v.last_decrease, v.budget.last_decrease));
        match v.minute {
            3 => {
                made.push(v.now);
                Some(Request::new(2000))
            }
            6 => {
                let at = v.scheduled.plus_secs(45);
                made.push(at);
                Some(Request {
                    capacity: 500,
                    not_before: Some(at),
                })
            }
            _ => None,
        }
    });
    let run = simulate(&flat(0, 1.0, 10), &p, &mut policy);
    assert_eq!(changes(&run.provisioned), vec![(4, 2000), (7, 500)]);
    assert_eq!(
        stamps[5].0,
        Some(made[0]),
        "LastIncreaseDateTime is the run's now"
    );
    assert_ne!(made[0].unix() % 60, 0, "seed 8 makes minute 3's run late");
    assert_eq!(
        stamps[8].1,
        Some(made[1]),
        "LastDecreaseDateTime is not_before"
    );
    assert_eq!(
        stamps[8].2,
        Some(made[1]),
        "and so is the quota's last decrease"
    );
}

/// Asks for one unit less at every scheduled scale-down run; with `wait`, at the instant the
/// quota allows it when that is later in the minute (what `Decision::not_before` is for).
fn lower_at_each_run(wait: bool) -> Requesting<impl FnMut(&View<'_>) -> Option<Request>> {
    Requesting(move |v: &View<'_>| {
        if !v.is_scale_down_time() {
            return None;
        }
        let at = v.budget.next_allowed(v.now);
        let not_before = (wait && at > v.now).then_some(at);
        Some(Request {
            capacity: v.provisioned - 1,
            not_before,
        })
    })
}

/// Decreases made on each UTC day of a run that started at midnight.
fn per_day(provisioned: &[u64]) -> Vec<usize> {
    let mut days = vec![0; provisioned.len().div_ceil(DAY_MINUTES)];
    for (m, _) in changes(provisioned) {
        // A decrease in force in minute m was made in minute m - 1 (update delay 1).
        days[(m - 1) / DAY_MINUTES] += 1;
    }
    days
}

/// Three days of an hourly scale-down that lowers at each run, runs `late_secs` late.
fn hourly(late_secs: u32, wait: bool) -> capacity_sim::Run {
    let p = ModelParams {
        scale_down: ScaleDownSchedule::every(60).expect("hourly"),
        ..late(late_secs, 8)
    };
    simulate(
        &flat(0, 1.0, 3 * DAY_MINUTES),
        &p,
        &mut lower_at_each_run(wait),
    )
}

#[test]
fn an_hourly_schedule_with_runs_0_30_s_late_still_makes_its_decreases() {
    let run = hourly(30, true);
    assert_eq!(
        per_day(&run.provisioned),
        vec![24, 24, 24],
        "4 at any time, then one an hour: every hourly run"
    );
    assert_eq!(run.refused_quota + run.dropped_not_before, 0);
}

#[test]
fn an_hourly_schedule_that_does_not_wait_loses_decreases_to_late_runs() {
    let run = hourly(30, false);
    let days = per_day(&run.provisioned);
    // A run earlier in its minute than the last decrease's stamp finds `last + 3600 s` still
    // ahead: about 1 in 3 of the 20 hourly ones fails (17 of 24 expected; seed 8 gives 17,
    // 18 and 15).
    for d in &days {
        assert!((13..=21).contains(d), "{days:?}");
    }
    assert!(run.refused_quota >= 3 * 3, "{}", run.refused_quota);
    // Punctual runs make them all.
    assert_eq!(per_day(&hourly(0, false).provisioned), vec![24, 24, 24]);
}

#[test]
fn a_not_before_outside_its_minute_is_not_waited_for() {
    let p = late(30, 8);
    let mut policy = Requesting(|v: &View<'_>| {
        (v.minute == 2).then_some(Request {
            capacity: 10,
            not_before: Some(v.minute_end()),
        })
    });
    let run = simulate(&flat(0, 1.0, 6), &p, &mut policy);
    assert!(changes(&run.provisioned).is_empty());
    assert_eq!(run.dropped_not_before, 1);
    // An instant already past is now.
    let mut policy = Requesting(|v: &View<'_>| {
        (v.minute == 2).then_some(Request {
            capacity: 10,
            not_before: Some(v.scheduled.plus_secs(-3600)),
        })
    });
    let run = simulate(&flat(0, 1.0, 6), &p, &mut policy);
    assert_eq!(changes(&run.provisioned), vec![(3, 10)]);
}

/// Four free decreases in minutes 0-3 (the fourth stamped 20 s into minute 3), then a fifth
/// asked for in minute 63 at `secs` seconds after the fourth (punctual runs).
fn fifth_decrease(secs: i64) -> capacity_sim::Run {
    let p = params(2, 1, 1000);
    let fourth = Timestamp::from_unix(DAY0 + 3 * 60 + 20);
    let mut policy = Requesting(move |v: &View<'_>| {
        let not_before = match v.minute {
            0..=2 => None,
            3 => Some(fourth),
            63 => Some(fourth.plus_secs(secs)),
            _ => return None,
        };
        Some(Request {
            capacity: v.provisioned - 1,
            not_before,
        })
    });
    simulate(&flat(0, 1.0, 70), &p, &mut policy)
}

#[test]
fn the_hourly_rule_counts_to_the_second() {
    let run = fifth_decrease(3599);
    assert_eq!(
        (run.decreases, run.refused_quota),
        (4, 1),
        "3599 s after the fourth"
    );
    let run = fifth_decrease(3600);
    assert_eq!(
        (run.decreases, run.refused_quota),
        (5, 0),
        "3600 s after the fourth"
    );
    assert_eq!(changes(&run.provisioned).last(), Some(&(64, 995)));
}

#[test]
fn a_decrease_stamped_in_the_last_seconds_of_a_day_counts_for_that_day() {
    // From 23:00: one decrease at 23:59:50, then one asked for in every minute. The next UTC
    // day starts with 4 free decreases, seconds after the last one; had 23:59:50 counted for
    // it, only 3 would be free.
    let p = late(30, 8);
    let mut policy = Requesting(|v: &View<'_>| {
        let minute_of_day = v.scheduled.unix().rem_euclid(86_400) / 60;
        match minute_of_day {
            1380..=1438 => None,
            1439 => Some(Request {
                capacity: v.provisioned - 1,
                not_before: Some(v.scheduled.plus_secs(50)),
            }),
            _ => Some(Request::new(v.provisioned - 1)),
        }
    });
    let run = simulate(&flat(23 * 3600, 1.0, 70), &p, &mut policy);
    assert_eq!(
        changes(&run.provisioned),
        vec![(60, 999), (61, 998), (62, 997), (63, 996), (64, 995)],
        "23:59:50, then 00:00-00:03 (in force a minute later)"
    );
    assert_eq!(
        run.refused_quota,
        70 - 60 - 4,
        "00:04 onwards wait for 01:03"
    );
}

#[test]
fn the_scale_down_schedule_can_run_at_any_minutes_of_the_utc_day() {
    for (schedule, per_day) in [
        (ScaleDownSchedule::every(15).unwrap(), 96),
        (ScaleDownSchedule::every(60).unwrap(), 24),
        (ScaleDownSchedule::at_minutes([5, 95, 1439]).unwrap(), 3),
        (ScaleDownSchedule::at_minutes([]).unwrap(), 0),
    ] {
        let p = ModelParams {
            scale_down: schedule.clone(),
            ..late(30, 8)
        };
        let mut fired = Vec::new();
        let mut policy = Scripted(|v: &View<'_>| {
            if v.is_scale_down_time() {
                fired.push(v.scheduled.unix() - DAY0);
            }
            None
        });
        simulate(&flat(0, 1.0, 2 * DAY_MINUTES), &p, &mut policy);
        assert_eq!(fired.len(), 2 * per_day, "{schedule}");
        for t in fired {
            let minute = ((t / 60) % 1440) as u32;
            assert!(schedule.minutes().contains(&minute), "{schedule}: {t}");
        }
    }
}
