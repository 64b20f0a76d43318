//! The cadence by example (one test per rule, with the interval and the reason) and by property
//! (every interval within its bounds, an increase always watched the next minute, the cadence
//! off always every minute). The reaction guarantee itself is proven on the model, where the
//! whole scale-up loop runs: `capacity-sim`'s `cadence::guarantee`.
//!
//! Unless a test says otherwise: the pinned `defaults()` (target 70%, trigger 80%, a 5-minute
//! window), 100 units provisioned, `now` 12:00:30, and 30 minutes of datapoints published up to
//! 11:57 (the two newest minutes are not published yet, as in production).

mod common;

use common::*;
use proptest::prelude::*;
use scaling_policy::cadence::{Cadence, Plan, Polled, Second, Why};
use scaling_policy::{
    Action, DimensionState, Minute, Settings, ThrottleCauses, Timestamp, Usage, scale_up,
};

const UNPUBLISHED: usize = 2;

/// 30 minutes at `rates` (units/s, the last one the newest), published as CloudWatch would at
/// `now`: the newest two minutes are gaps.
fn published(now: Timestamp, rates: &[f64]) -> Usage {
    let mut minutes: Vec<Minute> = rates.iter().map(|r| ups(*r)).collect();
    minutes.extend([Minute::GAP; UNPUBLISHED]);
    usage_before(now, minutes)
}

fn flat(now: Timestamp, rate: f64) -> Usage {
    published(now, &[rate; 28])
}

/// The shipped cadence (`MaxPollMinutes=10`) with no calm wait: these tests poll 30 minutes of
/// datapoints cold, and the calm wait has its own.
fn cadence() -> Cadence {
    Cadence {
        max_interval_minutes: 10,
        calm_minutes: 0,
        ..Cadence::default()
    }
}

/// [`cadence`] with the shipped calm wait.
fn calm_cadence() -> Cadence {
    Cadence {
        calm_minutes: Cadence::default().calm_minutes,
        ..cadence()
    }
}

/// A poll at `now` that follows one long ago, calm since long before (so only what `usage`
/// shows decides whether the series is calm).
fn settled(now: Timestamp) -> Polled {
    let long_ago = now.floor_minute().plus_secs(-86_400);
    Polled {
        at: now.floor_minute().plus_secs(-600),
        due: now.floor_minute(),
        throttles_at: now.floor_minute().plus_secs(-600),
        capacity: 100,
        calm_since: long_ago,
        calm_read: true,
        why: Why::MaxInterval,
    }
}

/// Polls `usage` at `now` after `last` (cold when `None`): plans it, decides scale-up with the
/// plan's settings, and schedules the next poll.
fn poll(
    c: &Cadence,
    s: &Settings,
    last: Option<&Polled>,
    state: &DimensionState,
    usage: &Usage,
    now: Timestamp,
) -> (Plan, Polled) {
    let plan = c
        .plan(s, last, state.provisioned, now)
        .expect("the poll is due");
    let d = c.decide(s, &plan, read(state, usage), now);
    let next = c.next(s, last, &plan, &read(state, usage), &d, now);
    (plan, next)
}

fn interval(p: &Polled) -> (i64, Why) {
    (p.interval_minutes(), p.why)
}

#[test]
fn far_from_the_trigger_a_series_rests_the_longest() {
    let (s, now) = (defaults(), noon());
    // 5 units/s on 100 with an 80% trigger: four doublings away, the earliest at 11:58 + 15.
    let (_, p) = poll(&cadence(), &s, None, &state(100), &flat(now, 5.0), now);
    assert_eq!(interval(&p), (10, Why::MaxInterval));
    // 10 units/s: three doublings, the earliest at 11:58 + 10, published from 12:09: read at
    // 12:12 at the latest, so the longest interval, 10, is short enough.
    let (_, p) = poll(&cadence(), &s, None, &state(100), &flat(now, 10.0), now);
    assert_eq!(interval(&p), (10, Why::MaxInterval));
    let longer = Cadence {
        max_interval_minutes: 30,
        ..cadence()
    };
    let (_, p) = poll(&longer, &s, None, &state(100), &flat(now, 10.0), now);
    assert_eq!(interval(&p), (12, Why::Guarantee));
    assert_eq!(p.at, now.floor_minute());
    assert_eq!(p.capacity, 100);
}

#[test]
fn two_doublings_away_the_guarantee_sets_the_interval() {
    let (s, now) = (defaults(), noon());
    // 30 units/s: one doubling (60) stays below the trigger (80), the second comes at 12:03 at
    // the earliest (11:58 doubled, again 5 minutes later), ends at 12:04, and must be read by
    // 12:07.
    let (_, p) = poll(&cadence(), &s, None, &state(100), &flat(now, 30.0), now);
    assert_eq!(interval(&p), (7, Why::Guarantee));
}

/// [`cadence`] hot only at the target itself, so that the guarantee's own intervals show
/// between half the target and the target.
fn hot_at_target() -> Cadence {
    Cadence {
        hot_share: 1.0,
        ..cadence()
    }
}

/// The next poll of a flat `rate` on 100 units at noon, cold, with [`hot_at_target`].
fn at_target(rate: f64) -> Polled {
    let now = noon();
    poll(
        &hot_at_target(),
        &defaults(),
        None,
        &state(100),
        &flat(now, rate),
        now,
    )
    .1
}

#[test]
fn one_doubling_away_it_is_read_within_three_minutes() {
    // 45 units/s: a doubling (90) reaches the trigger at once; the minute it happens in is
    // published after this poll, so a poll three minutes from now answers within three minutes.
    let p = at_target(45.0);
    assert_eq!(interval(&p), (3, Why::Guarantee));
    // Nearer the trigger with a full bucket (65 units/s: 30 minutes fill it), the same: a
    // doubling to 130 drains 30 units/s out of 30,000 in 16 minutes.
    let p = at_target(65.0);
    assert_eq!(interval(&p), (3, Why::Guarantee));
}

#[test]
fn from_half_the_target_it_is_hot() {
    let (s, now) = (defaults(), noon());
    // 35 units/s on 100 is half the 70% target: a jump the guarantee does not cover (more than
    // a doubling, after hours of calm) throttles at once from here, so it is read every minute,
    // as before the cadence.
    let (_, p) = poll(&cadence(), &s, None, &state(100), &flat(now, 35.0), now);
    assert_eq!(interval(&p), (1, Why::Hot));
    let (_, p) = poll(&cadence(), &s, None, &state(100), &flat(now, 34.0), now);
    assert_eq!(interval(&p), (7, Why::Guarantee));
    // Hot at the target itself: 69 units/s is then left to the guarantee.
    let p = at_target(70.0);
    assert_eq!(interval(&p), (1, Why::Hot));
    let p = at_target(69.0);
    assert_eq!(interval(&p), (3, Why::Guarantee));
}

#[test]
fn a_trickle_on_a_tiny_table_is_hot() {
    let (s, now) = (defaults(), noon());
    // 0.3 units/s on 1: a rise to just under 1 unit/s is no jump (JUMP_FLOOR_UNITS), so it may
    // come any minute unnoticed by the calm wait, and it is above the trigger: every minute.
    let (_, p) = poll(&cadence(), &s, None, &state(1), &flat(now, 0.3), now);
    assert_eq!(interval(&p), (1, Why::Hot));
    // On 10 units, the same trickle rests: 1 unit/s is below half the target.
    let (_, p) = poll(&cadence(), &s, None, &state(10), &flat(now, 0.3), now);
    assert_eq!(p.why, Why::MaxInterval);
}

#[test]
fn near_the_trigger_with_an_empty_bucket_it_is_read_every_minute() {
    let (s, now) = (defaults(), noon());
    // Raised to 100 five minutes ago: the bucket is known to hold only what the two published
    // minutes since then left (35 units/s x 120 s), and a doubling to 130 drains it in 140 s.
    let mut st = state(100);
    st.last_increase = Some(now.floor_minute().plus_secs(-5 * 60));
    let (_, p) = poll(&hot_at_target(), &s, None, &st, &flat(now, 65.0), now);
    assert_eq!(interval(&p), (1, Why::BurstBucket));
}

#[test]
fn an_increase_throttling_and_nothing_to_answer_with() {
    let (s, now) = (defaults(), noon());
    let c = cadence();
    // Above the trigger: scale-up raises, and the cadence watches the next minute.
    let (_, p) = poll(&c, &s, None, &state(100), &flat(now, 85.0), now);
    assert_eq!(interval(&p), (1, Why::Increased));
    // Throttled for lack of capacity at 20 units/s consumed: every minute.
    let mut rates: Vec<Minute> = vec![ups(20.0); 27];
    rates.push(ups_throttled(20.0, 1.0));
    rates.extend([Minute::GAP; UNPUBLISHED]);
    let throttled = usage_before(now, rates);
    let st = state(100);
    let plan = c.plan(&s, None, 100, now).unwrap();
    let d = up(&s, &st, &throttled, now);
    assert_eq!(d.action, Action::Increase, "settled throttling raises");
    // Decided without raising (it is at max): nothing can answer it, so the longest interval.
    let at_max = bounded(1, 100);
    let d = up(&at_max, &st, &throttled, now);
    let p = c.next(&at_max, None, &plan, &read(&st, &throttled), &d, now);
    assert_eq!(interval(&p), (10, Why::AtMax));
    // No datapoint at all (an idle table): demand is unknown, the longest interval.
    let empty = Usage::empty(now.floor_minute());
    let (_, p) = poll(&c, &s, None, &st, &empty, now);
    assert_eq!(interval(&p), (10, Why::NoData));
}

#[test]
fn key_range_throttling_alone_does_not_mean_every_minute() {
    let (s, now) = (defaults(), noon());
    let c = cadence();
    let st = state(100);
    // A hot key throttles at 5 units/s: capacity does not cure it.
    let mut minutes: Vec<Minute> = vec![ups(5.0); 28];
    for m in &mut minutes {
        m.throttled = Some(60.0);
        m.causes = Some(ThrottleCauses {
            provisioned: 0.0,
            key_range: 60.0,
            other: 0.0,
        });
    }
    minutes.extend([Minute::GAP; UNPUBLISHED]);
    let u = usage_before(now, minutes);
    let (_, p) = poll(&c, &s, None, &st, &u, now);
    assert_eq!(interval(&p), (10, Why::MaxInterval));
    // The same events with their causes unknown count as lack of capacity.
    let unknown = Usage {
        minutes: u
            .minutes
            .iter()
            .map(|m| Minute { causes: None, ..*m })
            .collect(),
        ..u.clone()
    };
    let plan = c.plan(&s, None, 100, now).unwrap();
    let d = up(&s, &st, &unknown, now);
    let p = c.next(&s, None, &plan, &read(&st, &unknown), &d, now);
    assert_eq!(p.interval_minutes(), 1);
}

#[test]
fn the_seasonal_expectation_counts_as_demand() {
    let (now, c) = (noon(), hot_at_target());
    let s = Settings {
        seasonal_ahead_minutes: 60,
        ..defaults()
    };
    let st = state(100);
    let u = flat(now, 5.0);
    // Yesterday and a week ago, 45 units/s came within the hour: one doubling from the trigger.
    let start = now.floor_minute().plus_secs(-8 * DAY);
    let history = Usage {
        start,
        minutes: vec![ups(45.0); 8 * 1440],
    };
    let plan = c.plan(&s, None, 100, now).unwrap();
    let input = read(&st, &u).with_history(&history);
    let d = scale_up(&s, input, now);
    assert_eq!(d.action, Action::Keep, "45 / 0.7 is below 110% of 100");
    let p = c.next(&s, None, &plan, &input, &d, now);
    assert_eq!(interval(&p), (3, Why::Guarantee));
}

#[test]
fn a_poll_is_due_at_its_time_or_when_the_capacity_changed() {
    let (s, now) = (defaults(), noon());
    let c = cadence();
    let (_, p) = poll(&c, &s, None, &state(100), &flat(now, 30.0), now);
    assert_eq!(p.interval_minutes(), 7);
    for m in 1..7 {
        assert!(
            c.plan(&s, Some(&p), 100, now.plus_secs(60 * m)).is_none(),
            "minute {m}"
        );
    }
    assert!(c.plan(&s, Some(&p), 100, now.plus_secs(7 * 60)).is_some());
    // Lowered by the scale-down function (or by hand): due at once, throttles included.
    let plan = c.plan(&s, Some(&p), 40, now.plus_secs(60)).expect("due");
    assert!(plan.throttles);
    // Never polled: due.
    assert!(c.is_due(None, 100, now));
}

#[test]
fn a_poll_decides_as_the_runs_it_skipped_would_have() {
    let (s, now) = (defaults(), noon());
    let c = cadence();
    let (first, p) = poll(&c, &s, None, &state(100), &flat(now, 30.0), now);
    assert_eq!(
        first.replayed_minutes, 0,
        "after a cold start, nothing skipped"
    );
    assert!(first.throttles);
    assert!(first.fetch_minutes >= 30, "the bucket estimate's reach");
    // Seven minutes later the six runs in between were skipped: the poll reads their windows
    // and decides as each would have.
    let later = now.plus_secs(7 * 60);
    let plan = c.plan(&s, Some(&p), 100, later).unwrap();
    assert_eq!(plan.replayed_minutes, 6);
    assert_eq!(
        plan.reach_minutes(&s),
        6 + 17,
        "the growth trend's reach, from the oldest"
    );
    assert!(plan.fetch_minutes >= plan.reach_minutes(&s));
    // A minute at 85 units/s five minutes before `later`, and quiet since: the run right after
    // it raised to ceil(85 / 0.7); so does the poll that reads it late.
    let mut rates = vec![30.0; 28];
    rates[22] = 85.0;
    let u = published(later, &rates);
    let st = state(100);
    let d = c.decide(&s, &plan, read(&st, &u), later);
    assert_eq!((d.action, d.to), (Action::Increase, 122));
    assert_eq!(
        up(&s, &st, &u, later).action,
        Action::Keep,
        "this run's own window has it no more"
    );
    // With nothing skipped it is scale-up's own decision.
    assert_eq!(
        c.decide(&s, &first, read(&st, &u), later),
        up(&s, &st, &u, later)
    );
}

#[test]
fn a_jump_read_late_keeps_the_growth_the_next_run_would_have_seen() {
    let (now, c) = (noon(), cadence());
    let s = Settings {
        growth_horizon_minutes: 5,
        growth_cap: 1.5,
        ..defaults()
    };
    let st = state(100);
    // Steady at 30 units/s, then 75 (below the 80 trigger) from two minutes before the newest:
    // the run right after the jump extrapolated it past the trigger; read late, it is no new
    // high any more, and scale-up alone keeps.
    let mut rates = vec![30.0; 28];
    for r in &mut rates[25..] {
        *r = 75.0;
    }
    let u = published(now, &rates);
    let alone = up(&s, &st, &u, now);
    let plan = Plan {
        throttles: true,
        fetch_minutes: 30,
        replayed_minutes: 3,
        calm: false,
    };
    let late = c.decide(&s, &plan, read(&st, &u), now);
    assert_eq!(alone.action, Action::Keep);
    assert!(late.numbers.growth > 1.0, "{:?}", late.numbers);
    assert_eq!(
        (late.action, late.reason),
        (Action::Increase, scaling_policy::Reason::Rising)
    );
}

#[test]
fn the_throttle_series_are_read_at_least_every_max_interval() {
    let s = defaults();
    let c = hot_at_target();
    let st = state(100);
    let start = noon();
    let mut last: Option<Polled> = None;
    let mut reads = Vec::new();
    // 45 units/s: polled every 3 minutes; the throttle series only every 10 or so.
    for minute in 0..60 {
        let now = start.plus_secs(60 * minute);
        let Some(plan) = c.plan(&s, last.as_ref(), 100, now) else {
            continue;
        };
        if plan.throttles {
            reads.push(minute);
        }
        let u = flat(now, 45.0);
        let d = c.decide(&s, &plan, read(&st, &u), now);
        last = Some(c.next(&s, last.as_ref(), &plan, &read(&st, &u), &d, now));
    }
    assert_eq!(reads, vec![0, 12, 24, 36, 48]);
    // With a throttle-series read, the replay reaches back to the previous one.
    let at = start.plus_secs(15 * 60);
    let before = Polled {
        at: start.floor_minute().plus_secs(12 * 60),
        due: at.floor_minute(),
        throttles_at: start.floor_minute(),
        capacity: 100,
        calm_since: start.floor_minute(),
        calm_read: true,
        why: Why::Guarantee,
    };
    let plan = c.plan(&s, Some(&before), 100, at).unwrap();
    assert!(plan.throttles);
    assert_eq!(plan.replayed_minutes, 14);
}

#[test]
fn at_one_minute_consumed_is_read_every_minute_and_the_throttle_events_spaced_out() {
    let s = defaults();
    let shipped = Cadence::default();
    assert_eq!(
        (
            shipped.max_interval_minutes,
            shipped.throttles_interval_minutes
        ),
        (10, 10)
    );
    // `MaxPollMinutes=1`.
    let c = Cadence {
        max_interval_minutes: 1,
        ..shipped
    };
    let st = state(100);
    let start = noon();
    let mut last: Option<Polled> = None;
    let (mut polls, mut reads) = (0, Vec::new());
    for minute in 0..30 {
        let now = start.plus_secs(60 * minute);
        let plan = c
            .plan(&s, last.as_ref(), 100, now)
            .expect("due every minute");
        polls += 1;
        if plan.throttles {
            reads.push(minute);
        }
        // Quiet (10 units/s on 100) until 12:20, then throttled for lack of capacity.
        let mut u = flat(now, 10.0);
        if minute >= 20 {
            for m in &mut u.minutes {
                m.throttled = Some(50.0);
            }
        }
        let d = c.decide(&s, &plan, read(&st, &u), now);
        let p = c.next(&s, last.as_ref(), &plan, &read(&st, &u), &d, now);
        assert_eq!(p.interval_minutes(), 1, "minute {minute}: {:?}", p.why);
        last = Some(p);
    }
    assert_eq!(polls, 30);
    // Every 10 minutes while quiet; once a poll saw throttling, at every poll.
    let mut expected = vec![0, 10, 20];
    expected.extend(21..30);
    assert_eq!(reads, expected);
}

#[test]
fn the_second_request_fetches_what_the_first_answer_calls_for() {
    let (s, now) = (defaults(), noon());
    let c = cadence();
    let st = state(100);
    let consumed_only = Plan {
        throttles: false,
        fetch_minutes: 30,
        replayed_minutes: 0,
        calm: false,
    };
    let full = Plan {
        throttles: true,
        ..consumed_only
    };
    let hot = flat(now, 85.0);
    let raised = up(&s, &st, &hot, now);
    assert_eq!(raised.action, Action::Increase);
    // Raised without the throttle series: fetch them (and their causes) to size the increase.
    assert_eq!(
        c.second(&s, &consumed_only, &hot, &raised, now),
        Second {
            throttles: true,
            key_range: true
        }
    );
    assert_eq!(c.second(&s, &full, &hot, &raised, now), Second::default());
    // Throttle events in the window: their causes.
    let mut minutes = vec![ups(20.0); 27];
    minutes.push(ups_throttled(20.0, 1.0));
    minutes.extend([Minute::GAP; UNPUBLISHED]);
    let throttled = usage_before(now, minutes);
    let d = up(&s, &st, &throttled, now);
    assert_eq!(
        c.second(&s, &full, &throttled, &d, now),
        Second {
            throttles: false,
            key_range: true
        }
    );
    let quiet = flat(now, 20.0);
    let d = up(&s, &st, &quiet, now);
    assert_eq!(c.second(&s, &full, &quiet, &d, now).metrics(), 0);
}

#[test]
fn every_minute_is_every_minute() {
    let (s, now) = (defaults(), noon());
    let c = Cadence::EVERY_MINUTE;
    let (plan, p) = poll(&c, &s, None, &state(100), &flat(now, 5.0), now);
    assert_eq!(interval(&p), (1, Why::EveryMinute));
    assert!(plan.throttles);
    let plan = c.plan(&s, Some(&p), 100, now.plus_secs(60)).unwrap();
    assert!(plan.throttles);
    assert_eq!(plan.replayed_minutes, 0, "as before the cadence");
}

fn case() -> impl Strategy<Value = (Settings, Timestamp, u32, Usage, DimensionState)> {
    (settings_strategy(), now_strategy(), 1u32..=30).prop_flat_map(|(s, now, max)| {
        (
            Just(s),
            Just(now),
            Just(max),
            usage_strategy(now),
            state_strategy(now, provisioned_strategy()),
        )
    })
}

proptest! {
    /// Whatever the data: the next poll comes 1 to `max` minutes later, at once after an
    /// increase or a change of capacity, with the throttle series within `max` minutes or the
    /// throttles interval, whichever is longer; a cold poll decides exactly as scale-up.
    #[test]
    fn intervals_stay_within_their_bounds((s, now, max, u, st) in case()) {
        let c = Cadence { max_interval_minutes: max, ..Cadence::default() };
        let plan = c.plan(&s, None, st.provisioned, now).unwrap();
        prop_assert_eq!(plan.replayed_minutes, 0);
        let d = c.decide(&s, &plan, read(&st, &u), now);
        prop_assert_eq!(&d, &scale_up(&s, read(&st, &u), now));
        let p = c.next(&s, None, &plan, &read(&st, &u), &d, now);
        let k = p.interval_minutes();
        prop_assert!((1..=i64::from(max)).contains(&k), "interval {k}");
        if d.action == Action::Increase || max == 1 {
            prop_assert_eq!(k, 1);
        }
        prop_assert!(c.is_due(Some(&p), p.capacity + 1, now), "a changed capacity is due");
        let later = now.plus_secs(60 * i64::from(c.throttles_read_within_minutes()));
        let next = c.plan(&s, Some(&p), p.capacity, later).unwrap();
        prop_assert!(next.throttles, "throttle series read within the longer interval");
    }
}

#[test]
fn a_jump_beyond_a_doubling_keeps_a_series_read_every_minute_for_the_calm_wait() {
    let (s, now) = (defaults(), noon());
    let c = calm_cadence();
    assert_eq!(c.calm_minutes, 360);
    let last = settled(now);
    // 5 units/s, and at 11:50 one minute of 11: more than twice the largest of the 5 before.
    let mut rates = [5.0; 28];
    rates[20] = 11.0;
    let u = published(now, &rates);
    let (_, p) = poll(&c, &s, Some(&last), &state(100), &u, now);
    assert_eq!(interval(&p), (1, Why::RecentJump));
    assert_eq!(p.calm_since, u.start.plus_secs(21 * 60));
    // Still jumpy 359 minutes after the minute after the jump, calm at 360: then the guarantee
    // decides again, as without the wait.
    let later = p.calm_since.plus_secs(359 * 60).plus_secs(30);
    let (_, q) = poll(&c, &s, Some(&p), &state(100), &flat(later, 5.0), later);
    assert_eq!(interval(&q), (1, Why::RecentJump));
    assert_eq!(
        q.calm_since, p.calm_since,
        "the jump is remembered across polls"
    );
    let calm = later.plus_secs(60);
    let (_, r) = poll(&c, &s, Some(&q), &state(100), &flat(calm, 5.0), calm);
    assert_eq!(interval(&r), (10, Why::MaxInterval));
    // The same jump with the wait off: spaced out at once.
    let (_, off) = poll(&cadence(), &s, Some(&last), &state(100), &u, now);
    assert_eq!(interval(&off), (10, Why::MaxInterval));
}

#[test]
fn a_doubling_and_crumbs_of_traffic_are_not_jumps_but_traffic_after_silence_is() {
    let (s, now) = (defaults(), noon());
    let c = calm_cadence();
    let last = settled(now);
    // `level` units/s with one minute (11:50) at `peak`, polled after `last`.
    let spike = |level: f64, peak: f64| {
        let mut rates = [level; 28];
        rates[20] = peak;
        poll(
            &c,
            &s,
            Some(&last),
            &state(100),
            &published(now, &rates),
            now,
        )
        .1
    };
    // Exactly twice the largest of the 5 before: the growth the guarantee covers.
    let p = spike(5.0, 10.0);
    assert_ne!(p.why, Why::RecentJump);
    assert_eq!(p.calm_since, last.calm_since);
    // 0.1 to 0.9 units/s: nine times, but below a unit per second.
    assert_ne!(spike(0.1, 0.9).why, Why::RecentJump);
    // No datapoint (no requests) and then 2 units/s: traffic arriving is a jump.
    let mut minutes = vec![Minute::GAP; 20];
    minutes.extend(steady(2.0, 8));
    minutes.extend([Minute::GAP; UNPUBLISHED]);
    let (_, p) = poll(
        &c,
        &s,
        Some(&last),
        &state(100),
        &usage_before(now, minutes),
        now,
    );
    assert_eq!(p.why, Why::RecentJump);
}

#[test]
fn a_cold_start_reads_the_calm_wait_when_the_cadence_spaces_polls_out() {
    let (s, now) = (defaults(), noon());
    let c = calm_cadence();
    let cold = c.plan(&s, None, 100, now).unwrap();
    assert_eq!(cold.fetch_minutes, c.calm_minutes + c.doubling_minutes);
    // Six calm hours read cold: spaced out at once.
    let long = usage_before(now, {
        let mut m = steady(5.0, cold.fetch_minutes as usize - UNPUBLISHED);
        m.extend([Minute::GAP; UNPUBLISHED]);
        m
    });
    let (_, p) = poll(&c, &s, None, &state(100), &long, now);
    assert_eq!(interval(&p), (10, Why::MaxInterval));
    // A warm poll reads the usual window; `MaxPollMinutes=1` (every minute) never reads more.
    assert_eq!(c.plan(&s, Some(&p), 100, p.due).unwrap().fetch_minutes, 30);
    let every = Cadence {
        max_interval_minutes: 1,
        ..Cadence::default()
    };
    assert_eq!(every.plan(&s, None, 100, now).unwrap().fetch_minutes, 30);
}

#[test]
fn a_series_left_without_the_calm_wait_is_read_every_minute_until_a_poll_reads_it() {
    let (s, now) = (defaults(), noon());
    let c = calm_cadence();
    let st = state(100);
    // A cold start whose shell leaves the long read to a later run: the recent window only.
    let cold = c.plan(&s, None, 100, now).unwrap();
    assert!(cold.calm);
    let short = cold.without_calm(&s);
    assert_eq!((short.calm, short.fetch_minutes), (false, 30));
    let u = flat(now, 5.0);
    let d = c.decide(&s, &short, read(&st, &u), now);
    let p = c.next(&s, None, &short, &read(&st, &u), &d, now);
    assert_eq!(interval(&p), (1, Why::CalmUnread));
    assert!(!p.calm_read);
    // The next poll asks for the wait again, and is again left without it: still unjudged.
    let next = p.due.plus_secs(5);
    let again = c.plan(&s, Some(&p), 100, next).unwrap();
    assert_eq!(
        (again.calm, again.fetch_minutes),
        (true, cold.fetch_minutes)
    );
    let plan = again.without_calm(&s);
    let u = flat(next, 5.0);
    let d = c.decide(&s, &plan, read(&st, &u), next);
    let q = c.next(&s, Some(&p), &plan, &read(&st, &u), &d, next);
    assert_eq!(interval(&q), (1, Why::CalmUnread));
    // When a poll reads the six calm hours, the series is judged from all of them: spaced out.
    let later = q.due.plus_secs(5);
    let long = usage_before(later, {
        let mut m = steady(5.0, cold.fetch_minutes as usize - UNPUBLISHED);
        m.extend([Minute::GAP; UNPUBLISHED]);
        m
    });
    let (plan, r) = poll(&c, &s, Some(&q), &st, &long, later);
    assert!(plan.calm);
    assert_eq!(interval(&r), (10, Why::MaxInterval));
    assert!(r.calm_read);
    // From then on a poll reads the recent window only.
    let warm = c.plan(&s, Some(&r), 100, r.due).unwrap();
    assert_eq!((warm.calm, warm.fetch_minutes), (false, 30));
}

#[test]
fn a_late_read_of_the_calm_wait_finds_a_jump_of_hours_ago() {
    let (s, now) = (defaults(), noon());
    let c = calm_cadence();
    let st = state(100);
    // Unjudged after a cold start without the wait.
    let short = c.plan(&s, None, 100, now).unwrap().without_calm(&s);
    let u = flat(now, 5.0);
    let d = c.decide(&s, &short, read(&st, &u), now);
    let p = c.next(&s, None, &short, &read(&st, &u), &d, now);
    // The wait read a minute later: 5 units/s with one minute of 11, two hours before.
    let later = p.due.plus_secs(5);
    let minutes = c.first_poll_minutes() as usize;
    let mut m = steady(5.0, minutes - UNPUBLISHED);
    m.extend([Minute::GAP; UNPUBLISHED]);
    let jump = minutes - 120;
    m[jump] = ups(11.0);
    let long = usage_before(later, m);
    let (_, q) = poll(&c, &s, Some(&p), &st, &long, later);
    assert_eq!(interval(&q), (1, Why::RecentJump));
    assert_eq!(q.calm_since, long.start.plus_secs(60 * (jump as i64 + 1)));
    assert!(q.calm_read);
}
