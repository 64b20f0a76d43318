//! Example tests for the scale-up rule, one per rule, with the exact decision and numbers.
//!
//! Unless a test says otherwise: target 70%, trigger 80%, a 5-minute window, bounds 1..=40000,
//! and `now` is 12:00:30, so the window is 11:55 to 11:59 (the minute in progress is ignored).

mod common;

use common::*;
use scaling_policy::{
    Action, DimensionState, Minute, Numbers, Reason, Settings, ThrottleCauses, Usage,
};

/// The numbers every scale-up decision carries, before the data-specific fields.
fn base_numbers(s: &Settings) -> Numbers {
    Numbers {
        window_minutes: s.up_window_minutes,
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
        next_decrease_at: None,
    }
}

#[test]
fn up_fires_exactly_at_trigger_and_raises_to_peak_over_target() {
    let s = defaults();
    let now = noon();
    // Peak 80 units/s = 80% of 100: exactly the trigger.
    let u = usage_before(
        now,
        vec![ups(10.0), ups(20.0), ups(80.0), ups(30.0), ups(40.0)],
    );
    let d = up(&s, &state(100), &u, now);
    assert_eq!((d.from, d.to), (100, 115), "ceil(80 / 0.7) = ceil(114.29)");
    assert_eq!(d.action, Action::Increase);
    assert_eq!(d.reason, Reason::AboveTrigger);
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 5,
            peak_demand: Some(80.0),
            peak_consumed: Some(80.0),
            utilisation: Some(0.8),
            wanted: Some(115),
            ..base_numbers(&s)
        }
    );
}

#[test]
fn up_fires_above_trigger() {
    let s = defaults();
    let now = noon();
    let u = usage_before(now, vec![ups(95.0), ups(90.0)]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (136, Action::Increase, Reason::AboveTrigger)
    );
    assert_eq!(d.numbers.wanted, Some(136), "ceil(95 / 0.7) = ceil(135.71)");
    assert_eq!(d.numbers.peak_demand, Some(95.0));
    assert_eq!(d.numbers.known_minutes, 2);
}

#[test]
fn up_keeps_below_trigger() {
    let s = defaults();
    let now = noon();
    // 79 units/s on 100: above the target, below the 80% trigger.
    let u = usage_before(now, steady(79.0, 5));
    let d = up(&s, &state(100), &u, now);
    assert_eq!((d.from, d.to), (100, 100));
    assert_eq!(d.action, Action::Keep);
    assert_eq!(d.reason, Reason::BelowTrigger);
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 5,
            peak_demand: Some(79.0),
            peak_consumed: Some(79.0),
            utilisation: Some(0.79),
            wanted: Some(113),
            ..base_numbers(&s)
        }
    );
}

#[test]
fn up_raises_at_least_one_unit() {
    // Throttling with demand well below capacity (a hot key, say): demand / target asks for
    // less than is provisioned, yet the rule adds one unit.
    let s = defaults();
    let now = noon();
    let u = usage_before(now, vec![ups(30.0), ups_throttled(30.0, 1.0)]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!((d.from, d.to), (100, 101));
    assert_eq!(d.action, Action::Increase);
    assert_eq!(d.reason, Reason::Throttled);
    assert_eq!(d.numbers.wanted, Some(45), "ceil(31 / 0.7) = ceil(44.29)");
    assert_eq!(d.numbers.throttle_events, 60.0);
}

#[test]
fn up_throttle_events_at_modest_consumption_raise_with_demand_consumed_plus_throttled() {
    let s = defaults();
    let now = noon();
    // Consumed 50 units/s on 100 (50%, far below the trigger) but 40 units/s were refused.
    let u = usage_before(
        now,
        vec![
            ups(50.0),
            ups(50.0),
            ups_throttled(50.0, 40.0),
            ups(50.0),
            ups(50.0),
        ],
    );
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.from, d.to),
        (100, 129),
        "ceil((50 + 40) / 0.7) = ceil(128.57)"
    );
    assert_eq!(d.action, Action::Increase);
    assert_eq!(d.reason, Reason::Throttled);
    assert_eq!(
        d.numbers,
        Numbers {
            known_minutes: 5,
            peak_demand: Some(90.0),
            peak_consumed: Some(50.0),
            throttle_events: 2_400.0,
            utilisation: Some(0.9),
            wanted: Some(129),
            ..base_numbers(&s)
        }
    );
}

#[test]
fn up_counts_a_minute_that_has_only_throttle_events() {
    // The consumed datapoint is not published yet, the throttle one is: a lower bound of demand.
    let s = defaults();
    let now = noon();
    let only_throttled = Minute {
        consumed: None,
        throttled: Some(600.0),
        causes: None,
    };
    let u = usage_before(now, vec![Minute::GAP, Minute::GAP, only_throttled]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (101, Action::Increase, Reason::Throttled)
    );
    assert_eq!(d.numbers.known_minutes, 1);
    assert_eq!(d.numbers.peak_demand, Some(10.0));
    assert_eq!(d.numbers.peak_consumed, Some(0.0));
}

#[test]
fn up_never_above_max() {
    let s = bounded(1, 120);
    let now = noon();
    let u = usage_before(now, steady(90.0, 5));
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.from, d.to),
        (100, 120),
        "ceil(90 / 0.7) = 129, capped at 120"
    );
    assert_eq!(d.action, Action::Increase);
    assert_eq!(d.reason, Reason::AboveTrigger);
    assert_eq!(d.numbers.wanted, Some(120));
    assert_eq!(d.numbers.max, 120);
}

#[test]
fn up_at_max_keeps_with_reason_at_max() {
    let s = bounded(1, 120);
    let now = noon();
    let u = usage_before(now, vec![ups(110.0), ups_throttled(120.0, 30.0)]);
    let d = up(&s, &state(120), &u, now);
    assert_eq!((d.from, d.to), (120, 120));
    assert_eq!(d.action, Action::Keep);
    assert_eq!(d.reason, Reason::AtMax);
    assert_eq!(d.numbers.wanted, Some(120));
    assert_eq!(d.numbers.peak_demand, Some(150.0));
}

#[test]
fn up_above_max_never_lowers() {
    // Someone set 150 by hand with max 120: scale-up wants more but must not lower (that is
    // scale-down's job, under the quota).
    let s = bounded(1, 120);
    let now = noon();
    let u = usage_before(now, steady(140.0, 5));
    let d = up(&s, &state(150), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (150, Action::Keep, Reason::AtMax)
    );
    let quiet = usage_before(now, steady(1.0, 5));
    let d = up(&s, &state(150), &quiet, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (150, Action::Keep, Reason::BelowTrigger)
    );
}

#[test]
fn up_below_min_raises_to_min_without_data() {
    let s = bounded(10, 1_000);
    let now = noon();
    for u in [Usage::empty(now), usage_before(now, vec![Minute::GAP; 5])] {
        let d = up(&s, &state(5), &u, now);
        assert_eq!((d.from, d.to), (5, 10));
        assert_eq!(d.action, Action::Increase);
        assert_eq!(d.reason, Reason::BelowMin);
        assert_eq!(
            d.numbers,
            Numbers {
                min: 10,
                max: 1_000,
                wanted: Some(10),
                ..base_numbers(&s)
            }
        );
    }
}

#[test]
fn up_below_min_raises_to_min_with_data() {
    let s = bounded(10, 1_000);
    let now = noon();
    // 1 unit/s on 5 provisioned: 20%, below the trigger.
    let u = usage_before(now, steady(1.0, 5));
    let d = up(&s, &state(5), &u, now);
    assert_eq!((d.from, d.to), (5, 10));
    assert_eq!(d.action, Action::Increase);
    assert_eq!(d.reason, Reason::BelowMin);
    assert_eq!(
        d.numbers.wanted,
        Some(10),
        "ceil(1 / 0.7) = 2, raised to min"
    );
    assert_eq!(d.numbers.utilisation, Some(0.2));
    // Demand above the trigger and above min: demand / target wins.
    let u = usage_before(now, steady(20.0, 5));
    let d = up(&s, &state(5), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (29, Action::Increase, Reason::AboveTrigger)
    );
}

#[test]
fn up_without_data_keeps_with_reason_no_data() {
    let s = defaults();
    let now = noon();
    let cases = [
        ("no series", Usage::empty(now)),
        ("only gaps", usage_before(now, vec![Minute::GAP; 5])),
        (
            "only the minute in progress",
            Usage {
                start: now.floor_minute(),
                minutes: vec![ups(500.0)],
            },
        ),
        (
            "only minutes older than the window",
            Usage {
                start: now.floor_minute().plus_secs(-60 * 10),
                minutes: steady(500.0, 5),
            },
        ),
    ];
    for (what, u) in cases {
        let d = up(&s, &state(100), &u, now);
        assert_eq!(
            (d.to, d.action, d.reason),
            (100, Action::Keep, Reason::NoData),
            "{what}"
        );
        assert_eq!(d.numbers, base_numbers(&s), "{what}");
    }
}

#[test]
fn up_counts_demand_before_the_last_increase_but_not_its_throttling() {
    let s = defaults();
    let now = noon(); // 12:00:30; window 11:55..=11:59
    // 200 units/s (60 of them refused) until 11:57, then 10 units/s.
    let throttled = ups_throttled(140.0, 60.0);
    let u = usage_before(
        now,
        vec![throttled, throttled, throttled, ups(10.0), ups(10.0)],
    );
    let without = up(&s, &state(100), &u, now);
    assert_eq!((without.to, without.reason), (286, Reason::Throttled));
    // Raised to 300 at 11:57:10 for that demand: the minutes up to 11:57 were served at the old
    // capacity, and 200 / 300 is below the trigger. Nothing more to do; the reason says why the
    // throttling in the window buys nothing.
    let raised = DimensionState {
        last_increase: Some(at(11 * 3600 + 57 * 60 + 10)),
        ..state(300)
    };
    let d = up(&s, &raised, &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (300, Action::Keep, Reason::Settling)
    );
    assert_eq!(d.numbers.known_minutes, 5);
    assert_eq!(d.numbers.peak_demand, Some(200.0));
    assert_eq!(d.numbers.throttle_events, 3.0 * 3_600.0);
    // An increase decided on older data fell short (to 100): the demand measured before it
    // still counts, so the next run raises again at once instead of waiting for new minutes.
    let fell_short = DimensionState {
        last_increase: Some(at(11 * 3600 + 59 * 60 + 40)),
        ..state(100)
    };
    let d = up(&s, &fell_short, &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (286, Action::Increase, Reason::AboveTrigger)
    );
}

#[test]
fn up_70_over_0_7_is_100_not_101() {
    let s = defaults();
    let now = noon();
    let u = usage_before(now, steady(70.0, 5));
    let d = up(&s, &state(80), &u, now);
    assert_eq!((d.from, d.to), (80, 100));
    assert_eq!(
        (d.action, d.reason),
        (Action::Increase, Reason::AboveTrigger)
    );
    assert_eq!(d.numbers.wanted, Some(100));
    // 70 / 0.7 happens to round to exactly 100.0 in binary floating point; these do not, and
    // a plain `ceil` would ask for one unit too many.
    for (demand, provisioned, exact) in [(21.0, 20, 30), (42.0, 50, 60), (84.0, 100, 120)] {
        let quotient: f64 = demand / 0.7;
        assert_eq!(
            quotient.ceil(),
            (exact + 1) as f64,
            "the float noise at {demand}"
        );
        let u = usage_before(now, steady(demand, 5));
        let d = up(&s, &state(provisioned), &u, now);
        assert_eq!(
            (d.to, d.reason),
            (exact, Reason::AboveTrigger),
            "{demand} / 0.7"
        );
    }
}

#[test]
fn up_window_is_the_last_up_window_minutes() {
    // With a 2-minute window, a spike three minutes ago no longer counts.
    let s = Settings {
        up_window_minutes: 2,
        ..defaults()
    };
    let now = noon();
    let u = usage_before(now, vec![ups(500.0), ups(10.0), ups(10.0)]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!((d.to, d.reason), (100, Reason::BelowTrigger));
    assert_eq!((d.numbers.window_minutes, d.numbers.known_minutes), (2, 2));
}

#[test]
fn up_throttling_still_served_at_the_old_capacity_does_not_add_a_unit() {
    // The last increase (to 100) was made 10 s into minute 11:55; the minute after it, 11:56, was
    // still served at the old capacity and throttled. Demand / target (70 / 0.7 = 100) is already
    // provisioned, so no one-unit update follows: it would only hold the table UPDATING.
    let s = defaults();
    let now = noon();
    let mut st = state(100);
    st.last_increase = Some(at(11 * 3600 + 55 * 60 + 10));
    let mut minutes = vec![Minute::known(50.0 * 60.0, 0.0); 5];
    minutes[1] = Minute::known(60.0 * 60.0, 600.0); // 11:56
    let u = usage_before(now, minutes.clone());
    let d = up(&s, &st, &u, now);
    assert_eq!(
        (d.action, d.to, d.reason),
        (Action::Keep, 100, Reason::Settling)
    );
    assert_eq!(
        d.numbers.throttle_events, 600.0,
        "the throttling is still reported"
    );

    // The same throttling a minute later happened at the capacity in force: one more unit.
    minutes[1] = Minute::known(50.0 * 60.0, 0.0);
    minutes[2] = Minute::known(60.0 * 60.0, 600.0); // 11:57
    let u = usage_before(now, minutes);
    let d = up(&s, &st, &u, now);
    assert_eq!(
        (d.action, d.to, d.reason),
        (Action::Increase, 101, Reason::Throttled)
    );
}

/// A minute with `consumed` units/s and `throttled` refused units/s all caused by a hot key.
fn hot_key_minute(consumed: f64, throttled: f64) -> Minute {
    Minute {
        causes: Some(ThrottleCauses {
            provisioned: 0.0,
            key_range: throttled * 60.0,
            other: 0.0,
        }),
        ..ups_throttled(consumed, throttled)
    }
}

#[test]
fn up_key_range_throttling_alone_buys_nothing() {
    // 30 units/s served on 100, 60 throttle events a minute from one hot key.
    let s = defaults();
    let now = noon();
    let u = usage_before(now, vec![hot_key_minute(30.0, 1.0); 5]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (100, Action::Keep, Reason::KeyRangeThrottling)
    );
    assert_eq!(d.numbers.throttle_events, 300.0);
    assert_eq!(d.numbers.key_range_events, 300.0);
    assert_eq!(
        d.numbers.peak_demand,
        Some(30.0),
        "refused hot-key requests are not demand that capacity could serve"
    );
    // The same events without their causes (not fetched) are read cautiously: one unit more.
    let unknown = usage_before(now, vec![ups_throttled(30.0, 1.0); 5]);
    let d = up(&s, &state(100), &unknown, now);
    assert_eq!((d.to, d.reason), (101, Reason::Throttled));
    // Provisioned-throughput throttling next to the hot key does buy capacity, for its demand.
    let mut mixed = hot_key_minute(60.0, 1.0);
    mixed.throttled = Some(60.0 + 1_200.0);
    mixed.causes = Some(ThrottleCauses {
        provisioned: 1_200.0,
        key_range: 60.0,
        other: 0.0,
    });
    let u = usage_before(now, vec![mixed; 5]);
    let d = up(&s, &state(100), &u, now);
    assert_eq!(
        (d.to, d.reason),
        (115, Reason::Throttled),
        "ceil((60 + 20) / 0.7)"
    );
}

#[test]
fn up_hot_key_for_a_day_makes_no_increase() {
    // The ratchet of the issue: 30 units/s served on 100 RCU, 60 hot-key throttle events a
    // minute, scale-up every minute for 24 hours with the shipped defaults. Before the causes
    // were read, every run after the settle minute added a unit (100 -> ~388 in a day).
    let s = Settings::default();
    let start = at(0);
    let mut st = state(100);
    let mut increases = 0;
    for minute in 0..1_440 {
        let now = start.plus_secs(60 * minute + 30);
        let u = usage_before(now, vec![hot_key_minute(30.0, 1.0); 12]);
        let d = up(&s, &st, &u, now);
        if d.action == Action::Increase {
            increases += 1;
            st.provisioned = d.to;
            st.last_increase = Some(now);
        } else {
            assert_eq!(d.reason, Reason::KeyRangeThrottling, "minute {minute}");
        }
    }
    assert_eq!((increases, st.provisioned), (0, 100));
}

/// `n` minutes of demand growing by `rate` a minute from `first` units/s.
fn ramp(first: f64, rate: f64, n: i32) -> Vec<Minute> {
    (0..n).map(|i| ups(first * rate.powi(i))).collect()
}

#[test]
fn up_rising_demand_is_answered_before_it_reaches_the_trigger() {
    let s = Settings {
        growth_horizon_minutes: 5,
        growth_cap: 1.5,
        ..defaults()
    };
    let now = noon();
    // +4% a minute, the newest minute at 70 units/s on 100: below the 80% trigger.
    let mut minutes = ramp(70.0 / 1.04f64.powi(11), 1.04, 12);
    let u = usage_before(now, minutes.clone());
    let d = up(&s, &state(100), &u, now);
    let g = d.numbers.growth;
    assert!(
        (g / 1.04f64.powi(5) - 1.0).abs() < 2e-3,
        "about 4% a minute for 5 minutes: {g}"
    );
    let want = (70.0 * g / 0.7f64 - 1e-9).ceil() as u64;
    assert!(want > 115, "more than the trigger would give: {want}");
    assert_eq!(
        (d.to, d.action, d.reason),
        (want, Action::Increase, Reason::Rising)
    );
    // The same level held steady is no reason to raise.
    let flat = usage_before(now, steady(70.0, 12));
    let d = up(&s, &state(100), &flat, now);
    assert_eq!(
        (d.to, d.reason, d.numbers.growth),
        (100, Reason::BelowTrigger, 1.0)
    );
    // Growth is capped.
    minutes = ramp(10.0, 1.3, 12);
    let u = usage_before(now, minutes);
    let d = up(&s, &state(100), &u, now);
    assert_eq!(d.numbers.growth, 1.5);
    // Switched off, the ramp waits for the trigger.
    let off = Settings {
        growth_horizon_minutes: 0,
        ..s
    };
    let u = usage_before(now, ramp(70.0 / 1.04f64.powi(11), 1.04, 12));
    assert_eq!(up(&off, &state(100), &u, now).reason, Reason::BelowTrigger);
}

/// Eight days of history before `now`: 100 units/s, and `level` units/s in the `at_minute..`
/// hour of the days (0 = 8 days ago) in `days`.
fn history(
    now: scaling_policy::Timestamp,
    level: f64,
    days: &[i64],
    from_now_minutes: i64,
) -> Usage {
    let start = now.floor_minute().plus_secs(-8 * DAY);
    let minutes = (0..8 * 1440)
        .map(|i: i64| {
            let day = i / 1440;
            let in_day = i % 1440;
            let ramp_at = from_now_minutes;
            if days.contains(&day) && (ramp_at..ramp_at + 60).contains(&in_day) {
                ups(level)
            } else {
                ups(100.0)
            }
        })
        .collect();
    Usage { start, minutes }
}

#[test]
fn up_seasonal_floor_raises_ahead_of_a_ramp_seen_yesterday_and_last_week() {
    let s = Settings {
        seasonal_ahead_minutes: 60,
        ..defaults()
    };
    let now = noon();
    let u = usage_before(now, steady(100.0, 5));
    // 20 minutes from now, yesterday (day 7) and a week ago (day 1) went to 300 units/s.
    let h = history(now, 300.0, &[1, 7], 20);
    let st = state(150);
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_history(&h), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (429, Action::Increase, Reason::Seasonal),
        "ceil(300 / 0.7)"
    );
    assert_eq!(d.numbers.seasonal_demand, Some(300.0));
    // Only yesterday: a one-off, no floor.
    let once = history(now, 300.0, &[7], 20);
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_history(&once), now);
    assert_eq!((d.to, d.reason), (150, Reason::BelowTrigger));
    // Beyond the look-ahead: nothing yet.
    let later = history(now, 300.0, &[1, 7], 70);
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_history(&later), now);
    assert_eq!((d.to, d.reason), (150, Reason::BelowTrigger));
    // A floor less than 10% above the capacity is not worth an update.
    let small = history(now, 110.0, &[1, 7], 20);
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_history(&small), now);
    assert_eq!(
        (d.to, d.reason),
        (150, Reason::BelowTrigger),
        "ceil(110 / 0.7) = 158"
    );
    // Switched off.
    let off = Settings {
        seasonal_ahead_minutes: 0,
        ..s
    };
    let d = scaling_policy::scale_up(&off, read(&st, &u).with_history(&h), now);
    assert_eq!(d.reason, Reason::BelowTrigger);
}

#[test]
fn up_boost_raises_to_the_announced_capacity_within_max() {
    let s = bounded(1, 1_000);
    let now = noon();
    let u = usage_before(now, steady(50.0, 5));
    let st = state(100);
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_boost(Some(400)), now);
    assert_eq!(
        (d.to, d.action, d.reason),
        (400, Action::Increase, Reason::Boost)
    );
    assert_eq!(d.numbers.boost, Some(400));
    // Never above max.
    let d = scaling_policy::scale_up(&s, read(&st, &u).with_boost(Some(5_000)), now);
    assert_eq!((d.to, d.reason), (1_000, Reason::Boost));
    // Demand asking for more than the boost wins, with its own reason.
    let hot = usage_before(now, steady(500.0, 5));
    let d = scaling_policy::scale_up(&s, read(&st, &hot).with_boost(Some(400)), now);
    assert_eq!(
        (d.to, d.reason),
        (715, Reason::AboveTrigger),
        "ceil(500 / 0.7)"
    );
    // Already at the boost: nothing to do, even without data.
    let st = state(400);
    let d = scaling_policy::scale_up(&s, read(&st, &Usage::empty(now)).with_boost(Some(400)), now);
    assert_eq!((d.to, d.reason), (400, Reason::NoData));
}
