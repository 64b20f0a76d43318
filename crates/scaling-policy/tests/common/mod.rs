//! Helpers shared by the integration tests: time, usage builders, states, proptest strategies and
//! a minute-by-minute simulation of one table.
//!
//! Each test file uses only part of this module.
#![allow(dead_code)]

use proptest::prelude::*;
use scaling_policy::config::{Origin, validate};
use scaling_policy::{
    Action, Bounds, Decision, DecreaseBudget, Dimension, DimensionInput, DimensionState, Minute,
    Settings, Timestamp, Usage, scale_down, scale_down_pair, scale_up,
};

/// Seconds in a day.
pub const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z, the day most examples happen on.
pub const MIDNIGHT: i64 = 20_454 * DAY;

/// `secs` seconds after [`MIDNIGHT`] (negative: the day before).
pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_unix(MIDNIGHT + secs)
}

/// 12:00:30, half a minute into the minute, so the current minute is incomplete.
pub fn noon() -> Timestamp {
    at(12 * 3600 + 30)
}

/// `minutes` laid out so that the last one is the last complete minute before `now`.
pub fn usage_before(now: Timestamp, minutes: Vec<Minute>) -> Usage {
    let start = now
        .floor_minute()
        .plus_secs(-60 * i64::try_from(minutes.len()).expect("short series"));
    Usage { start, minutes }
}

/// A minute in which `units_per_sec` units/s were consumed and nothing was throttled.
pub fn ups(units_per_sec: f64) -> Minute {
    Minute::known(units_per_sec * 60.0, 0.0)
}

/// A minute with `consumed` and `throttled` expressed in units/s (stored as per-minute Sums).
pub fn ups_throttled(consumed: f64, throttled: f64) -> Minute {
    Minute::known(consumed * 60.0, throttled * 60.0)
}

/// `n` minutes at the same consumption, no throttling.
pub fn steady(units_per_sec: f64, n: usize) -> Vec<Minute> {
    vec![ups(units_per_sec); n]
}

/// A dimension provisioned at `p`, fresh quota, never increased.
pub fn state(p: u64) -> DimensionState {
    DimensionState {
        provisioned: p,
        budget: DecreaseBudget::default(),
        last_increase: None,
    }
}

/// The settings the rule tests are written against (target 70%, trigger 80%, up window 5, down
/// window 30, cooldown 30 min, min decrease 20%, bounds 1..=40000). Pinned here rather than taken
/// from `Settings::default()`, so that tuning the shipped defaults does not rewrite every test.
pub fn defaults() -> Settings {
    Settings {
        target: 0.70,
        scale_up_trigger: 0.80,
        cooldown_secs: 30 * 60,
        up_window_minutes: 5,
        down_window_minutes: 30,
        min_decrease_fraction: 0.20,
        // The rules added later are off here; their own tests switch them on.
        growth_horizon_minutes: 0,
        growth_cap: 1.0,
        seasonal_ahead_minutes: 0,
        quota_grace_secs: 0,
        pacing_decrease_fraction: 0.0,
        ..Settings::default()
    }
}

/// The defaults with both dimensions bounded by `min..=max`.
pub fn bounded(min: u64, max: u64) -> Settings {
    let b = Bounds { min, max };
    Settings {
        read: b,
        write: b,
        ..defaults()
    }
}

/// Read-dimension input.
pub fn read<'a>(state: &'a DimensionState, usage: &'a Usage) -> DimensionInput<'a> {
    DimensionInput {
        dimension: Dimension::Read,
        state,
        usage,
        history: None,
        boost: None,
    }
}

/// Write-dimension input.
pub fn write<'a>(state: &'a DimensionState, usage: &'a Usage) -> DimensionInput<'a> {
    DimensionInput {
        dimension: Dimension::Write,
        state,
        usage,
        history: None,
        boost: None,
    }
}

/// `scale_up` on the read dimension.
pub fn up(s: &Settings, st: &DimensionState, u: &Usage, now: Timestamp) -> Decision {
    scale_up(s, read(st, u), now)
}

/// `scale_down` on the read dimension.
pub fn down(s: &Settings, st: &DimensionState, u: &Usage, now: Timestamp) -> Decision {
    scale_down(s, read(st, u), now)
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Bounds with 1 <= min <= max, min often small (as it is in practice).
pub fn bounds_strategy() -> impl Strategy<Value = Bounds> {
    (prop_oneof![2 => 1u64..=10, 1 => 1u64..=500], 0u64..=2_000).prop_map(|(min, extra)| Bounds {
        min,
        max: min + extra,
    })
}

/// A provisioned capacity in 1..=3000, spread over the orders of magnitude.
pub fn provisioned_strategy() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..=50, 50u64..=500, 500u64..=3_000]
}

/// Valid settings: target 0.2..=0.9, trigger in (target, 1.0], min <= max, windows 1..=60,
/// cooldown 0..=120 minutes, minimum decrease 0..50%, growth (horizon 0..=10, cap 1..=2),
/// seasonal look-ahead 0..=120 minutes, quota grace 0..=55 s, pacing 0..90%. Each one passes
/// `validate`.
pub fn settings_strategy() -> impl Strategy<Value = Settings> {
    (
        (
            0.2f64..=0.9,
            0.001f64..=1.0,
            bounds_strategy(),
            bounds_strategy(),
            0i64..=120,
            1u32..=60,
            1u32..=60,
            0.0f64..0.5,
        ),
        (0u32..=10, 1.0f64..=2.0, 0u32..=120, 0i64..=55, 0.0f64..0.9),
    )
        .prop_map(
            |(
                (target, above, read, write, cooldown_min, up_w, down_w, min_decrease),
                (horizon, cap, ahead, grace, pacing),
            )| {
                let settings = Settings {
                    read,
                    write,
                    target,
                    scale_up_trigger: (target + (1.0 - target) * above).min(1.0),
                    cooldown_secs: cooldown_min * 60,
                    up_window_minutes: up_w,
                    down_window_minutes: down_w,
                    min_decrease_fraction: min_decrease,
                    growth_horizon_minutes: horizon,
                    growth_cap: cap,
                    seasonal_ahead_minutes: ahead,
                    quota_grace_secs: grace,
                    pacing_decrease_fraction: pacing,
                    max_increases_per_hour: Settings::default().max_increases_per_hour,
                };
                validate(&settings, |_| Origin::Default).expect("generated settings are valid")
            },
        )
}

/// `s` with the trend-following rule off (growth is not monotone in past demand: a series that
/// was lower a few minutes ago is rising, and gets more).
pub fn without_growth(s: Settings) -> Settings {
    Settings {
        growth_horizon_minutes: 0,
        ..s
    }
}

/// Read or write.
pub fn dimension_strategy() -> impl Strategy<Value = Dimension> {
    prop_oneof![Just(Dimension::Read), Just(Dimension::Write)]
}

/// A per-minute consumed Sum: 0 to 500 units/s, with exact zeros now and then.
pub fn consumed_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 6 => 0.0f64..=30_000.0]
}

/// A throttle-events Sum: absent, zero, or up to 100 units/s refused.
pub fn throttled_strategy() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        3 => Just(None),
        2 => Just(Some(0.0)),
        2 => (0.0f64..=6_000.0).prop_map(Some),
    ]
}

/// A minute as CloudWatch may return it: mostly known, sometimes a full gap, sometimes only a
/// throttle datapoint.
pub fn minute_strategy() -> impl Strategy<Value = Minute> {
    prop_oneof![
        1 => Just(Minute::GAP),
        1 => (0.0f64..=6_000.0).prop_map(|t| Minute { consumed: None, throttled: Some(t), causes: None }),
        8 => (consumed_strategy(), throttled_strategy())
            .prop_map(|(c, t)| Minute { consumed: Some(c), throttled: t, causes: None }),
    ]
}

/// A time during the example day.
pub fn now_strategy() -> impl Strategy<Value = Timestamp> {
    (0i64..DAY).prop_map(at)
}

/// How a series of `len` minutes is placed around now: `shift` minutes earlier than ending
/// with the last complete minute before now. Mostly exactly there (as the AWS layer fetches
/// it), sometimes a little off, sometimes far off (reaching into the current, incomplete
/// minute and beyond, or ending long ago).
pub fn shift_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![3 => Just(0i64), 1 => -3i64..=3, 2 => -90i64..=90]
}

/// The start of a series of `len` minutes placed `shift` minutes before ending at now's
/// minute.
pub fn placed(now: Timestamp, len: usize, shift: i64) -> Timestamp {
    let len = i64::try_from(len).expect("short series");
    now.floor_minute().plus_secs(-60 * (len + shift))
}

/// A factor for the consumed datapoints of a whole series, so that throttle events are
/// sometimes small and sometimes large next to consumption.
pub fn level_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![Just(1.0), Just(0.1), Just(0.01)]
}

/// `m` with its consumed datapoint scaled by `level`.
pub fn scaled(m: Minute, level: f64) -> Minute {
    Minute {
        consumed: m.consumed.map(|c| c * level),
        ..m
    }
}

/// A series of up to 90 minutes placed around `now` (see [`shift_strategy`]).
pub fn usage_strategy(now: Timestamp) -> impl Strategy<Value = Usage> {
    (
        shift_strategy(),
        level_strategy(),
        prop::collection::vec(minute_strategy(), 0..=90),
    )
        .prop_map(move |(shift, level, minutes)| Usage {
            start: placed(now, minutes.len(), shift),
            minutes: minutes.into_iter().map(|m| scaled(m, level)).collect(),
        })
}

/// A quota state as `DescribeTable` may report it at `now`: up to 27 decreases, the last one
/// up to two days before `now` (so sometimes stale).
pub fn budget_strategy(now: Timestamp) -> impl Strategy<Value = DecreaseBudget> {
    (0u32..=27, 0i64..=2 * DAY).prop_map(move |(n, ago)| DecreaseBudget {
        decreases_today: n,
        last_decrease: (n > 0).then(|| now.plus_secs(-ago)),
    })
}

/// A state with `provisioned` drawn from `provisioned`, a random quota and maybe a recent
/// increase.
pub fn state_strategy(
    now: Timestamp,
    provisioned: impl Strategy<Value = u64>,
) -> impl Strategy<Value = DimensionState> {
    (
        provisioned,
        budget_strategy(now),
        prop::option::of(0i64..=3 * 3600),
    )
        .prop_map(move |(provisioned, budget, inc_ago)| DimensionState {
            provisioned,
            budget,
            last_increase: inc_ago.map(|a| now.plus_secs(-a)),
        })
}

// ---------------------------------------------------------------------------------------------
// Simulation
// ---------------------------------------------------------------------------------------------

/// One dimension of a simulated table.
#[derive(Clone, Debug)]
pub struct SimDimension {
    /// Provisioned units/s.
    pub provisioned: u64,
    /// When capacity was last raised.
    pub last_increase: Option<Timestamp>,
    /// Every minute so far, from the simulation's start.
    pub history: Vec<Minute>,
}

impl SimDimension {
    /// A dimension provisioned at `p`.
    pub fn new(p: u64) -> Self {
        Self {
            provisioned: p,
            last_increase: None,
            history: Vec::new(),
        }
    }

    /// The last `keep` minutes of history as a `Usage` (the rules never look further back;
    /// trimming keeps the simulation fast).
    fn recent(&self, start: Timestamp, keep: usize) -> Usage {
        let skip = self.history.len().saturating_sub(keep);
        Usage {
            start: start.plus_secs(60 * i64::try_from(skip).expect("short history")),
            minutes: self.history[skip..].to_vec(),
        }
    }

    /// Serves one minute of `demand` units/s at the current capacity (no burst) and records
    /// what CloudWatch would show.
    fn serve(&mut self, demand: f64) {
        let served = demand.min(self.provisioned as f64);
        self.history
            .push(Minute::known(served * 60.0, (demand - served) * 60.0));
    }

    fn state(&self, budget: DecreaseBudget) -> DimensionState {
        DimensionState {
            provisioned: self.provisioned,
            budget,
            last_increase: self.last_increase,
        }
    }
}

/// Runs scale-up then scale-down (the read/write pair) every minute for `minutes` minutes from
/// `start`, applying every decision, and returns the instants at which capacity was lowered
/// (one entry per `UpdateTable`, however many dimensions it lowered).
///
/// `demand(dim, minute)` is the demand in units/s.
pub fn simulate_pair(
    settings: &Settings,
    start: Timestamp,
    minutes: usize,
    initial: [u64; 2],
    mut budget: DecreaseBudget,
    demand: impl Fn(Dimension, usize) -> f64,
) -> Vec<Timestamp> {
    let keep = settings.up_window_minutes.max(settings.down_window_minutes) as usize + 2;
    let mut dims = initial.map(SimDimension::new);
    let mut decreases = Vec::new();
    for i in 0..minutes {
        // Five seconds into minute i: minutes 0..i are complete.
        let now = start.plus_secs(60 * i64::try_from(i).expect("short run") + 5);
        for (dim, d) in Dimension::BOTH.into_iter().zip(dims.iter_mut()) {
            let usage = d.recent(start, keep);
            let st = d.state(budget);
            let decision = scale_up(
                settings,
                DimensionInput {
                    dimension: dim,
                    state: &st,
                    usage: &usage,
                    history: None,
                    boost: None,
                },
                now,
            );
            assert_ne!(decision.action, Action::Decrease, "scale_up lowered");
            if decision.action == Action::Increase {
                d.provisioned = decision.to;
                d.last_increase = Some(now);
            }
        }
        let usages = dims.clone().map(|d| d.recent(start, keep));
        let states = dims.clone().map(|d| d.state(budget));
        let pair = scale_down_pair(
            settings,
            DimensionInput {
                dimension: Dimension::Read,
                state: &states[0],
                usage: &usages[0],
                history: None,
                boost: None,
            },
            DimensionInput {
                dimension: Dimension::Write,
                state: &states[1],
                usage: &usages[1],
                history: None,
                boost: None,
            },
            now,
        );
        let mut lowered = None;
        for (decision, d) in pair.iter().zip(dims.iter_mut()) {
            assert_ne!(decision.action, Action::Increase, "scale_down raised");
            if decision.action == Action::Decrease {
                d.provisioned = decision.to;
                // Made when the decision says (a few seconds from now, within the grace).
                lowered = Some(decision.not_before.unwrap_or(now));
            }
        }
        if let Some(at) = lowered {
            // One UpdateTable for both dimensions: one decrease.
            budget = budget.after_decrease(at);
            decreases.push(at);
        }
        for (dim, d) in Dimension::BOTH.into_iter().zip(dims.iter_mut()) {
            d.serve(demand(dim, i));
        }
    }
    decreases
}

/// Like [`simulate_pair`] for a single dimension decided with `scale_down` alone.
pub fn simulate_single(
    settings: &Settings,
    start: Timestamp,
    minutes: usize,
    initial: u64,
    mut budget: DecreaseBudget,
    demand: impl Fn(usize) -> f64,
) -> Vec<Timestamp> {
    let keep = settings.up_window_minutes.max(settings.down_window_minutes) as usize + 2;
    let mut d = SimDimension::new(initial);
    let mut decreases = Vec::new();
    for i in 0..minutes {
        let now = start.plus_secs(60 * i64::try_from(i).expect("short run") + 5);
        let usage = d.recent(start, keep);
        let decision = scale_up(settings, read(&d.state(budget), &usage), now);
        if decision.action == Action::Increase {
            d.provisioned = decision.to;
            d.last_increase = Some(now);
        }
        let decision = scale_down(settings, read(&d.state(budget), &usage), now);
        if decision.action == Action::Decrease {
            let at = decision.not_before.unwrap_or(now);
            d.provisioned = decision.to;
            budget = budget.after_decrease(at);
            decreases.push(at);
        }
        d.serve(demand(i));
    }
    decreases
}

/// An independent check of DynamoDB's decrease quota over a list of decrease instants, given
/// the quota state before the first: per UTC day at most 27, and from the 5th of a day on, each
/// at least 3600 s after the previous one. Returns a description of the first violation.
pub fn quota_violation(initial: DecreaseBudget, decreases: &[Timestamp]) -> Option<String> {
    use std::collections::BTreeMap;
    // UTC day -> (decreases that day, the last of them).
    let mut days: BTreeMap<i64, (u32, Option<i64>)> = BTreeMap::new();
    if let Some(last) = initial.last_decrease {
        days.insert(
            last.unix().div_euclid(DAY),
            (initial.decreases_today, Some(last.unix())),
        );
    }
    for t in decreases {
        let t = t.unix();
        let entry = days.entry(t.div_euclid(DAY)).or_insert((0, None));
        let (count, last) = *entry;
        if count >= 27 {
            return Some(format!("decrease #{} of the day at {t}", count + 1));
        }
        if count >= 4
            && let Some(last) = last
            && t - last < 3600
        {
            return Some(format!(
                "decrease #{} of the day at {t}, only {} s after the previous",
                count + 1,
                t - last
            ));
        }
        *entry = (count + 1, Some(t));
    }
    None
}
