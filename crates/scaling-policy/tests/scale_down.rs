//! Example tests for the scale-down rules (`scale_down` and `scale_down_pair`), one per rule,
//! with the exact decision and numbers.
//!
//! Unless a test says otherwise: target 70%, minimum decrease 20%, a 30-minute window with 80%
//! coverage needed, 30 minutes of cooldown, bounds 1..=40000, a fresh quota, and `now` is
//! 12:00:30 on 2026-01-01, so the window is 11:30 to 11:59.

mod common;

use common::*;
use scaling_policy::scale_down::MIN_DOWN_COVERAGE;
use scaling_policy::{
    Action, DecreaseBudget, DimensionState, Minute, Numbers, Reason, Settings, ThrottleCauses,
    Timestamp, Usage, scale_down_pair,
};

/// The numbers every scale-down decision carries, before the data-specific fields.
fn base_numbers(s: &Settings, next_decrease_at: Timestamp) -> Numbers {
    Numbers {
        window_minutes: s.down_window_minutes,
        known_minutes: 0,
        peak_demand: None,
        peak_consumed: None,
        throttle_events: 0.0,
        key_range_events: 0.0,
        utilisation: None,
        growth: 1.0,
        seasonal_demand: None,
        boost: None,
        target: s.target,
        trigger: s.scale_up_trigger,
        min: s.read.min,
        max: s.read.max,
        wanted: None,
        next_decrease_at: Some(next_decrease_at),
    }
}

/// 30 minutes at 100 units/s with one 140 units/s minute in the middle: wants ceil(140/0.7) =
/// 200.
fn quiet_half_hour(now: Timestamp) -> Usage {
    let mut m = steady(100.0, 30);
    m[12] = ups(140.0);
    usage_before(now, m)
}

fn with_budget(p: u64, decreases_today: u32, last_decrease: Timestamp) -> DimensionState {
    DimensionState {
        budget: DecreaseBudget {
            decreases_today,
            last_decrease: Some(last_decrease),
        },
        ..state(p)
    }
}

#[test]
fn down_lowers_to_peak_over_target() {
    let s = defaults();
    let now = noon();
    let d = down(&s, &state(1_000), &quiet_half_hour(now), now);
    assert_eq!((d.from, d.to), (1_000, 200));
    assert_eq!(d.action, Action::Decrease);
    assert_eq!(d.reason, Reason::Overprovisioned);
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 30,
            peak_demand: Some(140.0),
            peak_consumed: Some(140.0),
            utilisation: Some(0.14),
            wanted: Some(200),
            ..base_numbers(&s, now)
        }
    );
}

#[test]
fn down_saving_exactly_the_minimum_fraction_is_enough() {
    let s = defaults();
    let now = noon();
    // ceil(56 / 0.7) = 80: 20% below 100.
    let d = down(&s, &state(100), &usage_before(now, steady(56.0, 30)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (80, Action::Decrease, Reason::Overprovisioned)
    );
    // ceil(84 / 0.7) = 120, 20% below 150; in floating point 84 / 0.7 is 120.00000000000001,
    // and a plain `ceil` would make it 121, a saving too small to spend a decrease on.
    let d = down(&s, &state(150), &usage_before(now, steady(84.0, 30)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (120, Action::Decrease, Reason::Overprovisioned)
    );
}

#[test]
fn down_keeps_when_saving_is_too_small() {
    let s = defaults();
    let now = noon();
    // ceil(60 / 0.7) = 86: a 14% saving is not worth one of the day's decreases.
    let d = down(&s, &state(100), &usage_before(now, steady(60.0, 30)), now);
    assert_eq!((d.from, d.to), (100, 100));
    assert_eq!((d.action, d.reason), (Action::Keep, Reason::SavingTooSmall));
    assert_eq!(d.numbers.wanted, Some(86));
}

#[test]
fn down_never_below_min() {
    let s = bounded(300, 40_000);
    let now = noon();
    let d = down(&s, &state(1_000), &quiet_half_hour(now), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (300, Action::Decrease, Reason::Overprovisioned)
    );
    assert_eq!(d.numbers.wanted, Some(300));
    // An idle table goes to min, not to zero.
    let idle = usage_before(now, steady(0.0, 30));
    let d = down(&s, &state(1_000), &idle, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (300, Action::Decrease, Reason::Overprovisioned)
    );
    assert_eq!(d.numbers.peak_demand, Some(0.0));
    let d = down(&defaults(), &state(1_000), &idle, now);
    assert_eq!(d.to, 1, "DynamoDB's own minimum");
}

#[test]
fn down_keeps_when_there_is_no_saving() {
    let s = defaults();
    let now = noon();
    // Exactly at target: wanted = provisioned.
    let d = down(&s, &state(100), &usage_before(now, steady(70.0, 30)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (100, Action::Keep, Reason::NoSaving)
    );
    assert_eq!(d.numbers.wanted, Some(100));
    // Above target: wanted is higher, and scale-down never raises.
    let d = down(&s, &state(100), &usage_before(now, steady(75.0, 30)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (100, Action::Keep, Reason::NoSaving)
    );
    assert_eq!(d.numbers.wanted, Some(108));
    // Below min: raising is scale-up's job.
    let d = down(
        &bounded(10, 1_000),
        &state(5),
        &usage_before(now, steady(0.0, 30)),
        now,
    );
    assert_eq!(
        (d.to, d.action, d.reason),
        (5, Action::Keep, Reason::NoSaving)
    );
    assert_eq!(d.numbers.wanted, Some(10));
}

#[test]
fn down_keeps_during_cooldown_after_an_increase() {
    let s = defaults();
    let now = noon();
    let u = quiet_half_hour(now);
    let recent = DimensionState {
        last_increase: Some(now.plus_secs(-(30 * 60 - 1))),
        ..state(1_000)
    };
    let d = down(&s, &recent, &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::Cooldown)
    );
    assert_eq!(d.numbers.wanted, Some(200));
    let cooled = DimensionState {
        last_increase: Some(now.plus_secs(-30 * 60)),
        ..state(1_000)
    };
    let d = down(&s, &cooled, &u, now);
    assert_eq!((d.to, d.reason), (200, Reason::Overprovisioned));
}

#[test]
fn down_quota_exhausted_for_a_fifth_decrease_within_the_hour() {
    let s = defaults();
    let now = noon();
    let u = quiet_half_hour(now);
    // The 4th (last free) decrease was 20 minutes ago.
    let d = down(&s, &with_budget(1_000, 4, now.plus_secs(-1_200)), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::QuotaExhausted)
    );
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 30,
            peak_demand: Some(140.0),
            peak_consumed: Some(140.0),
            utilisation: Some(0.14),
            wanted: Some(200),
            ..base_numbers(&s, now.plus_secs(2_400))
        }
    );
    // The 4th decrease itself needs no wait.
    let d = down(&s, &with_budget(1_000, 3, now.plus_secs(-60)), &u, now);
    assert_eq!((d.to, d.reason), (200, Reason::Overprovisioned));
    assert_eq!(d.numbers.next_decrease_at, Some(now));
    // An hour after the 4th, the 5th is allowed.
    let d = down(&s, &with_budget(1_000, 4, now.plus_secs(-3_600)), &u, now);
    assert_eq!((d.to, d.reason), (200, Reason::Overprovisioned));
}

#[test]
fn down_quota_exhausted_after_27_decreases_in_a_day() {
    let s = defaults();
    let now = noon();
    let u = quiet_half_hour(now);
    let d = down(&s, &with_budget(1_000, 27, now.plus_secs(-7_200)), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::QuotaExhausted)
    );
    assert_eq!(
        d.numbers.next_decrease_at,
        Some(at(DAY)),
        "next UTC midnight"
    );
    // The 27th is still allowed.
    let d = down(&s, &with_budget(1_000, 26, now.plus_secs(-3_600)), &u, now);
    assert_eq!((d.to, d.reason), (200, Reason::Overprovisioned));
    // At 23:45 with the 26th at 23:30, the hourly rule would say 00:30, but the day's count
    // resets at midnight first.
    let late = at(23 * 3600 + 45 * 60);
    let d = down(
        &s,
        &with_budget(1_000, 26, at(23 * 3600 + 30 * 60)),
        &quiet_half_hour(late),
        late,
    );
    assert_eq!((d.to, d.reason), (1_000, Reason::QuotaExhausted));
    assert_eq!(d.numbers.next_decrease_at, Some(at(DAY)));
}

#[test]
fn down_quota_resets_at_midnight_utc() {
    let s = defaults();
    let last = at(-10 * 60); // 23:50 the day before
    let before = at(-1); // 23:59:59
    let d = down(
        &s,
        &with_budget(1_000, 27, last),
        &quiet_half_hour(before),
        before,
    );
    assert_eq!((d.to, d.reason), (1_000, Reason::QuotaExhausted));
    assert_eq!(d.numbers.next_decrease_at, Some(at(0)));
    let midnight = at(0);
    let d = down(
        &s,
        &with_budget(1_000, 27, last),
        &quiet_half_hour(midnight),
        midnight,
    );
    assert_eq!(
        (d.to, d.action, d.reason),
        (200, Action::Decrease, Reason::Overprovisioned)
    );
    assert_eq!(d.numbers.next_decrease_at, Some(midnight));
}

#[test]
fn down_insufficient_data_below_80_percent_coverage() {
    let s = defaults();
    let now = noon();
    // 23 of 30 minutes known (77%): not enough.
    let mut m = steady(10.0, 30);
    for gap in m.iter_mut().step_by(4).take(7) {
        *gap = Minute::GAP;
    }
    let d = down(&s, &state(1_000), &usage_before(now, m.clone()), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::InsufficientData)
    );
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 23,
            peak_demand: Some(10.0),
            peak_consumed: Some(10.0),
            utilisation: Some(0.01),
            ..base_numbers(&s, now)
        }
    );
    // A throttle datapoint alone does not make a minute known.
    m[0] = Minute {
        consumed: None,
        throttled: Some(0.0),
        causes: None,
    };
    let d = down(&s, &state(1_000), &usage_before(now, m.clone()), now);
    assert_eq!(d.reason, Reason::InsufficientData);
    // 24 of 30 (exactly 80%) is enough.
    m[0] = ups(10.0);
    let d = down(&s, &state(1_000), &usage_before(now, m), now);
    assert_eq!((d.to, d.reason), (15, Reason::Overprovisioned));
    assert_eq!(d.numbers.known_minutes, 24);
}

#[test]
fn down_exactly_80_percent_coverage_is_enough_for_every_window() {
    assert!((MIN_DOWN_COVERAGE - 0.8).abs() < 1e-12);
    let now = noon();
    for window in (5..=1_440u32).step_by(5) {
        let s = Settings {
            down_window_minutes: window,
            ..defaults()
        };
        let mut m = steady(10.0, window as usize);
        for gap in m.iter_mut().step_by(5) {
            *gap = Minute::GAP;
        }
        let d = down(&s, &state(1_000), &usage_before(now, m), now);
        assert_eq!(d.numbers.known_minutes, window * 4 / 5);
        assert_eq!(
            (d.to, d.reason),
            (15, Reason::Overprovisioned),
            "window {window}"
        );
    }
}

#[test]
fn down_without_data_keeps_with_reason_no_data() {
    let s = defaults();
    let now = noon();
    for u in [Usage::empty(now), usage_before(now, vec![Minute::GAP; 30])] {
        let d = down(&s, &state(1_000), &u, now);
        assert_eq!(
            (d.to, d.action, d.reason),
            (1_000, Action::Keep, Reason::NoData)
        );
        assert_eq!(d.numbers, base_numbers(&s, now));
    }
}

#[test]
fn down_counts_throttle_events_of_a_minute_without_consumed_datapoint() {
    // The newest minute's throttle datapoint is out, its consumed datapoint is not yet: the
    // 100 units/s refused are known demand and forbid lowering to 15.
    let s = defaults();
    let now = noon();
    let mut m = steady(10.0, 30);
    m[29] = Minute {
        consumed: None,
        throttled: Some(6_000.0),
        causes: None,
    };
    let d = down(&s, &state(100), &usage_before(now, m), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (100, Action::Keep, Reason::NoSaving)
    );
    assert_eq!(
        d.numbers.known_minutes, 29,
        "the minute still counts as unknown"
    );
    assert_eq!(d.numbers.peak_demand, Some(100.0));
    assert_eq!(d.numbers.throttle_events, 6_000.0);
    assert_eq!(d.numbers.wanted, Some(143));
}

#[test]
fn down_above_max_lowers_to_max() {
    let s = bounded(1, 500);
    let now = noon();
    // Regardless of data (none here) and of a recent increase.
    let recent = DimensionState {
        last_increase: Some(now.plus_secs(-60)),
        ..state(800)
    };
    let d = down(&s, &recent, &Usage::empty(now), now);
    assert_eq!((d.from, d.to), (800, 500));
    assert_eq!((d.action, d.reason), (Action::Decrease, Reason::AboveMax));
    assert_eq!(
        d.numbers,
        Numbers {
            wanted: Some(500),
            ..base_numbers(&s, now)
        }
    );
    // But only when the quota allows it.
    let d = down(
        &s,
        &with_budget(800, 27, now.plus_secs(-60)),
        &Usage::empty(now),
        now,
    );
    assert_eq!(
        (d.to, d.action, d.reason),
        (800, Action::Keep, Reason::QuotaExhausted)
    );
    assert_eq!(d.numbers.next_decrease_at, Some(at(DAY)));
}

#[test]
fn pair_other_dimension_rides_along() {
    let s = defaults();
    let now = noon();
    let (r_state, r_usage) = (state(1_000), quiet_half_hour(now));
    // Writes: ceil(60 / 0.7) = 86 on 100 is a 14% saving, too small on its own...
    let (w_state, w_usage) = (state(100), usage_before(now, steady(60.0, 30)));
    let alone = down_write(&s, &w_state, &w_usage, now);
    assert_eq!((alone.to, alone.reason), (100, Reason::SavingTooSmall));
    // ...but free when reads are lowered in the same UpdateTable.
    let [r, w] = scale_down_pair(&s, read(&r_state, &r_usage), write(&w_state, &w_usage), now);
    assert_eq!(
        (r.to, r.action, r.reason),
        (200, Action::Decrease, Reason::Overprovisioned)
    );
    assert_eq!((w.from, w.to), (100, 86));
    assert_eq!((w.action, w.reason), (Action::Decrease, Reason::RidesAlong));
    assert_eq!(w.dimension, scaling_policy::Dimension::Write);
    assert_eq!(w.numbers.wanted, Some(86));
    assert_eq!(w.numbers.next_decrease_at, Some(now));
    // The same the other way round.
    let [r, w] = scale_down_pair(&s, read(&w_state, &w_usage), write(&r_state, &r_usage), now);
    assert_eq!((r.to, r.reason), (86, Reason::RidesAlong));
    assert_eq!((w.to, w.reason), (200, Reason::Overprovisioned));
}

fn down_write(
    s: &Settings,
    st: &DimensionState,
    u: &Usage,
    now: Timestamp,
) -> scaling_policy::Decision {
    scaling_policy::scale_down(s, write(st, u), now)
}

#[test]
fn pair_no_ride_along_when_neither_decreases() {
    let s = defaults();
    let now = noon();
    let (r_state, r_usage) = (state(100), usage_before(now, steady(60.0, 30)));
    let (w_state, w_usage) = (state(100), usage_before(now, steady(65.0, 30)));
    let [r, w] = scale_down_pair(&s, read(&r_state, &r_usage), write(&w_state, &w_usage), now);
    assert_eq!(
        (r.to, r.action, r.reason),
        (100, Action::Keep, Reason::SavingTooSmall)
    );
    assert_eq!(
        (w.to, w.action, w.reason),
        (100, Action::Keep, Reason::SavingTooSmall)
    );
    assert_eq!((r.numbers.wanted, w.numbers.wanted), (Some(86), Some(93)));
}

#[test]
fn pair_rides_along_only_with_something_to_save_and_outside_cooldown() {
    let s = defaults();
    let now = noon();
    let (r_state, r_usage) = (state(1_000), quiet_half_hour(now));
    // Writes with no saving stay put.
    let (w_state, w_usage) = (state(100), usage_before(now, steady(70.0, 30)));
    let [_, w] = scale_down_pair(&s, read(&r_state, &r_usage), write(&w_state, &w_usage), now);
    assert_eq!(
        (w.to, w.action, w.reason),
        (100, Action::Keep, Reason::NoSaving)
    );
    // Writes raised 10 minutes ago stay put too, even with a small saving available.
    let w_raised = DimensionState {
        last_increase: Some(now.plus_secs(-600)),
        ..state(100)
    };
    let w_usage = usage_before(now, steady(60.0, 30));
    let [r, w] = scale_down_pair(
        &s,
        read(&r_state, &r_usage),
        write(&w_raised, &w_usage),
        now,
    );
    assert_eq!(r.to, 200);
    assert_eq!(
        (w.to, w.action, w.reason),
        (100, Action::Keep, Reason::Cooldown)
    );
}

#[test]
fn pair_lowering_above_max_lets_the_other_ride_along() {
    let s = bounded(1, 500);
    let now = noon();
    let r_state = state(800);
    let r_usage = Usage::empty(now);
    let (w_state, w_usage) = (state(100), usage_before(now, steady(60.0, 30)));
    let [r, w] = scale_down_pair(&s, read(&r_state, &r_usage), write(&w_state, &w_usage), now);
    assert_eq!((r.to, r.reason), (500, Reason::AboveMax));
    assert_eq!(
        (w.to, w.action, w.reason),
        (86, Action::Decrease, Reason::RidesAlong)
    );
}

#[test]
fn quota_sawtooth_demand_gets_exactly_27_decreases_each_utc_day() {
    // Demand alternates 5 minutes at 300 units/s and 5 minutes at 10, so every 10 minutes
    // there is something to lower. Run scale-up and scale-down every minute for two days.
    let s = Settings {
        cooldown_secs: 0,
        up_window_minutes: 2,
        down_window_minutes: 3,
        ..defaults()
    };
    let demand = |i: usize| if i % 10 < 5 { 300.0 } else { 10.0 };
    let budget = DecreaseBudget::default();
    let decreases = simulate_single(&s, at(0), 2 * 1_440, 15, budget, demand);
    assert_eq!(quota_violation(budget, &decreases), None);
    for day in 0..2 {
        let today: Vec<i64> = decreases
            .iter()
            .map(|t| t.unix() - MIDNIGHT - day * DAY)
            .filter(|t| (0..DAY).contains(t))
            .collect();
        assert_eq!(today.len(), 27, "day {day}: {today:?}");
        // Four free ones within the first hour, then exactly hourly.
        assert!(today[3] < 3_600, "day {day}: {today:?}");
        for k in 4..27 {
            assert_eq!(today[k] - today[k - 1], 3_600, "day {day}: {today:?}");
        }
    }
}

#[test]
fn down_never_lowers_a_table_that_was_throttled_in_the_window() {
    // 5 units/s consumed plus 2 units/s refused on 100: demand / target would allow 10 units, but
    // requests were throttled, so nothing is lowered.
    let s = defaults();
    let state = DimensionState {
        provisioned: 100,
        budget: DecreaseBudget::default(),
        last_increase: None,
    };
    let now = Timestamp::from_unix(100 * 86_400 + 12 * 3600);
    let mut minutes = vec![Minute::known(300.0, 0.0); 30];
    minutes[20].throttled = Some(120.0);
    let usage = Usage {
        start: now.floor_minute().plus_secs(-30 * 60),
        minutes,
    };
    let d = scaling_policy::scale_down(&s, read(&state, &usage), now);
    assert_eq!(
        (d.action, d.to, d.reason),
        (Action::Keep, 100, Reason::RecentThrottling)
    );
    // The same window without the throttled minute is lowered.
    let mut calm = usage.clone();
    calm.minutes[20].throttled = None;
    let d = scaling_policy::scale_down(&s, read(&state, &calm), now);
    assert_eq!(
        (d.action, d.reason),
        (Action::Decrease, Reason::Overprovisioned)
    );
}

#[test]
fn down_a_decrease_due_seconds_from_now_is_made_then() {
    // Hourly scale-down, the 4 free decreases spent: the previous one was stamped 20 s into its
    // run, and this run started 5 s after the hour, 15 s before `last + 3600 s`.
    let s = Settings {
        quota_grace_secs: 45,
        ..defaults()
    };
    let now = at(12 * 3600 + 5);
    let last = at(11 * 3600 + 20);
    let u = quiet_half_hour(now);
    let d = down(&s, &with_budget(1_000, 5, last), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (200, Action::Decrease, Reason::Overprovisioned)
    );
    assert_eq!(d.not_before, Some(at(12 * 3600 + 20)));
    assert_eq!(d.numbers.next_decrease_at, Some(at(12 * 3600 + 20)));
    // 50 s early is beyond the 45 s grace: the hour is lost, as it is without a grace.
    let early = at(12 * 3600 - 30);
    let d = down(
        &s,
        &with_budget(1_000, 5, last),
        &quiet_half_hour(early),
        early,
    );
    assert_eq!(
        (d.to, d.reason, d.not_before),
        (1_000, Reason::QuotaExhausted, None)
    );
    let d = down(&defaults(), &with_budget(1_000, 5, last), &u, now);
    assert_eq!(
        (d.to, d.reason),
        (1_000, Reason::QuotaExhausted),
        "no grace"
    );
    // Allowed now: no waiting.
    let d = down(&s, &with_budget(1_000, 5, at(11 * 3600)), &u, now);
    assert_eq!((d.to, d.not_before), (200, None));
}

#[test]
fn down_hourly_runs_up_to_30_s_late_make_every_decrease() {
    // Demand falls a little every hour; scale-down runs at every hour, 0-30 s late, and the
    // decrease is stamped a second after it is made. With the grace, every run from 01:00 on decreases;
    // without it, a run that starts before the previous stamp + 3600 s waits another hour.
    let lateness = |h: i64| (h * 7 + 3) % 31; // 0..=30 s, irregular
    let count = |grace: i64| {
        let s = Settings {
            quota_grace_secs: grace,
            min_decrease_fraction: 0.01,
            ..defaults()
        };
        let mut st = DimensionState {
            budget: DecreaseBudget {
                decreases_today: 4,
                last_decrease: Some(at(lateness(0) + 1)),
            },
            ..state(10_000)
        };
        let mut made = 0;
        for h in 1..24 {
            let now = at(h * 3600 + lateness(h));
            let level = 5_000.0 - 100.0 * h as f64;
            let d = down(&s, &st, &usage_before(now, steady(level, 30)), now);
            if d.action == Action::Decrease {
                let stamped = d.not_before.unwrap_or(now).plus_secs(1);
                assert!(st.budget.allows(stamped.plus_secs(-1)));
                st.provisioned = d.to;
                st.budget = st.budget.after_decrease(stamped);
                made += 1;
            }
        }
        made
    };
    assert_eq!(count(45), 23, "every hour from 01:00 to 23:00");
    assert!(
        count(0) < 20,
        "without the grace some hours are lost: {}",
        count(0)
    );
}

#[test]
fn down_pacing_keeps_the_free_decreases_for_a_large_drop() {
    let s = Settings {
        pacing_decrease_fraction: 0.5,
        quota_grace_secs: 45,
        ..defaults()
    };
    let now = noon();
    // Two decreases today, the last 20 minutes ago: a 30% saving is not worth a spacing-free
    // decrease...
    let u = usage_before(now, steady(490.0, 30)); // wants 700 of 1000
    let d = down(&s, &with_budget(1_000, 2, now.plus_secs(-1_200)), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::Pacing)
    );
    assert_eq!(d.numbers.wanted, Some(700));
    // ...a 60% one is.
    let u = usage_before(now, steady(280.0, 30)); // wants 400
    let d = down(&s, &with_budget(1_000, 2, now.plus_secs(-1_200)), &u, now);
    assert_eq!((d.to, d.reason), (400, Reason::Overprovisioned));
    // An hour (less the grace) after the previous one, a decrease is an hourly one: no pacing.
    let u = usage_before(now, steady(490.0, 30));
    let d = down(&s, &with_budget(1_000, 2, now.plus_secs(-3_560)), &u, now);
    assert_eq!((d.to, d.reason), (700, Reason::Overprovisioned));
    // Without pacing, the small saving is spent.
    let d = down(
        &defaults(),
        &with_budget(1_000, 2, now.plus_secs(-1_200)),
        &u,
        now,
    );
    assert_eq!((d.to, d.reason), (700, Reason::Overprovisioned));
}

#[test]
fn down_key_range_throttling_does_not_block_a_decrease() {
    let s = defaults();
    let now = noon();
    let hot = Minute {
        causes: Some(ThrottleCauses {
            provisioned: 0.0,
            key_range: 60.0,
            other: 0.0,
        }),
        ..ups_throttled(30.0, 1.0)
    };
    let u = usage_before(now, vec![hot; 30]);
    let d = down(&s, &state(1_000), &u, now);
    assert_eq!(
        (d.to, d.reason),
        (43, Reason::Overprovisioned),
        "ceil(30 / 0.7)"
    );
    assert_eq!(d.numbers.key_range_events, 1_800.0);
    // Provisioned-throughput throttling does.
    let capacity = Minute {
        causes: Some(ThrottleCauses {
            provisioned: 60.0,
            key_range: 0.0,
            other: 0.0,
        }),
        ..hot
    };
    let u = usage_before(now, vec![capacity; 30]);
    assert_eq!(
        down(&s, &state(1_000), &u, now).reason,
        Reason::RecentThrottling
    );
}

#[test]
fn down_seasonal_floor_keeps_capacity_for_a_known_ramp() {
    let s = Settings {
        seasonal_ahead_minutes: 60,
        ..defaults()
    };
    let now = noon();
    let u = usage_before(now, steady(100.0, 30));
    // Yesterday and a week ago, 30 minutes from now, demand went to 350 units/s.
    let start = now.floor_minute().plus_secs(-8 * DAY);
    let h = Usage {
        start,
        minutes: (0..8 * 1440)
            .map(|i: i64| {
                let ramp = [1, 7].contains(&(i / 1440)) && (30..90).contains(&(i % 1440));
                ups(if ramp { 350.0 } else { 100.0 })
            })
            .collect(),
    };
    let st = state(1_000);
    let d = scaling_policy::scale_down(&s, read(&st, &u).with_history(&h), now);
    assert_eq!(
        (d.to, d.reason),
        (500, Reason::Overprovisioned),
        "ceil(350 / 0.7)"
    );
    assert_eq!(d.numbers.seasonal_demand, Some(350.0));
    let d = down(&s, &st, &u, now);
    assert_eq!(d.to, 143, "without history: ceil(100 / 0.7)");
}

#[test]
fn pair_shares_the_later_not_before() {
    let s = Settings {
        quota_grace_secs: 45,
        ..defaults()
    };
    let now = at(12 * 3600 + 5);
    let last = at(11 * 3600 + 20);
    let (r_state, r_usage) = (with_budget(1_000, 5, last), quiet_half_hour(now));
    let (w_state, w_usage) = (
        with_budget(100, 5, last),
        usage_before(now, steady(60.0, 30)),
    );
    let [r, w] = scale_down_pair(&s, read(&r_state, &r_usage), write(&w_state, &w_usage), now);
    assert_eq!((r.to, r.reason), (200, Reason::Overprovisioned));
    assert_eq!((w.to, w.reason), (86, Reason::RidesAlong));
    assert_eq!(
        (r.not_before, w.not_before),
        (Some(at(12 * 3600 + 20)), Some(at(12 * 3600 + 20)))
    );
}

#[test]
fn down_never_below_an_active_boost() {
    let s = defaults();
    let now = noon();
    let u = quiet_half_hour(now); // wants 200
    let st = state(1_000);
    let d = scaling_policy::scale_down(&s, read(&st, &u).with_boost(Some(600)), now);
    assert_eq!((d.to, d.reason), (600, Reason::Overprovisioned));
    assert_eq!(d.numbers.boost, Some(600));
    // The boost is the whole reason nothing is lowered.
    let d = scaling_policy::scale_down(&s, read(&st, &u).with_boost(Some(1_000)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (1_000, Action::Keep, Reason::Boost)
    );
    let d = scaling_policy::scale_down(&s, read(&st, &u).with_boost(Some(2_000)), now);
    assert_eq!((d.to, d.reason), (1_000, Reason::Boost), "never raises");
}
