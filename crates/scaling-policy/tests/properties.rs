//! Property tests: invariants of the decision rules over generated settings, states and
//! datapoints. Generated settings always pass `validate`.

mod common;

use common::*;
use proptest::prelude::*;
use scaling_policy::{
    Action, Bounds, Decision, Dimension, DimensionInput, DimensionState, Minute, Reason, Settings,
    Timestamp, Usage, scale_down, scale_down_pair, scale_up,
};

/// One dimension's inputs.
#[derive(Clone, Debug)]
struct Case {
    settings: Settings,
    dimension: Dimension,
    now: Timestamp,
    state: DimensionState,
    usage: Usage,
}

impl Case {
    fn input(&self) -> DimensionInput<'_> {
        DimensionInput {
            dimension: self.dimension,
            state: &self.state,
            usage: &self.usage,
            history: None,
            boost: None,
        }
    }

    fn bounds(&self) -> Bounds {
        self.settings.bounds(self.dimension)
    }

    fn up(&self) -> Decision {
        scale_up(&self.settings, self.input(), self.now)
    }

    fn down(&self) -> Decision {
        scale_down(&self.settings, self.input(), self.now)
    }
}

/// A case whose provisioned capacity is within its bounds (`inside`) or anywhere in 1..=3000.
fn case_strategy(inside: bool) -> impl Strategy<Value = Case> {
    (settings_strategy(), dimension_strategy(), now_strategy()).prop_flat_map(
        move |(settings, dimension, now)| {
            let b = settings.bounds(dimension);
            let provisioned = if inside {
                (b.min..=b.max).boxed()
            } else {
                provisioned_strategy().boxed()
            };
            (
                state_strategy(now, provisioned),
                usage_strategy(now),
                Just((settings, dimension, now)),
            )
                .prop_map(|(state, usage, (settings, dimension, now))| Case {
                    settings,
                    dimension,
                    now,
                    state,
                    usage,
                })
        },
    )
}

/// Both dimensions of one table or GSI: they share the quota.
#[derive(Clone, Debug)]
struct PairCase {
    settings: Settings,
    now: Timestamp,
    states: [DimensionState; 2],
    usages: [Usage; 2],
}

impl PairCase {
    fn down(&self) -> [Decision; 2] {
        self.down_with(&self.usages)
    }

    fn down_with(&self, usages: &[Usage; 2]) -> [Decision; 2] {
        scale_down_pair(
            &self.settings,
            read(&self.states[0], &usages[0]),
            write(&self.states[1], &usages[1]),
            self.now,
        )
    }
}

fn pair_strategy(inside: bool) -> impl Strategy<Value = PairCase> {
    (settings_strategy(), now_strategy()).prop_flat_map(move |(settings, now)| {
        let range = |b: Bounds| {
            if inside {
                (b.min..=b.max).boxed()
            } else {
                provisioned_strategy().boxed()
            }
        };
        (
            state_strategy(now, range(settings.read)),
            (range(settings.write), prop::option::of(0i64..=3 * 3600)),
            usage_strategy(now),
            usage_strategy(now),
            Just((settings, now)),
        )
            .prop_map(|(r, (w_prov, w_inc), ru, wu, (settings, now))| {
                let w = DimensionState {
                    provisioned: w_prov,
                    budget: r.budget,
                    last_increase: w_inc.map(|a| now.plus_secs(-a)),
                };
                PairCase {
                    settings,
                    now,
                    states: [r, w],
                    usages: [ru, wu],
                }
            })
    })
}

/// How far `x` is from `min..=max`.
fn distance(x: u64, b: Bounds) -> u64 {
    if x < b.min {
        b.min - x
    } else {
        x.saturating_sub(b.max)
    }
}

/// `action` agrees with `from`/`to`, and the reason with the action.
fn check_consistent(d: &Decision) -> Result<(), TestCaseError> {
    let expected = match d.to.cmp(&d.from) {
        std::cmp::Ordering::Less => Action::Decrease,
        std::cmp::Ordering::Equal => Action::Keep,
        std::cmp::Ordering::Greater => Action::Increase,
    };
    prop_assert_eq!(d.action, expected, "{:?}", d);
    let reason_fits = match d.action {
        Action::Increase => matches!(
            d.reason,
            Reason::Throttled
                | Reason::AboveTrigger
                | Reason::Rising
                | Reason::Seasonal
                | Reason::Boost
                | Reason::BelowMin
        ),
        Action::Decrease => matches!(
            d.reason,
            Reason::Overprovisioned | Reason::AboveMax | Reason::RidesAlong
        ),
        Action::Keep => !matches!(
            d.reason,
            Reason::Throttled
                | Reason::AboveTrigger
                | Reason::Rising
                | Reason::Seasonal
                | Reason::BelowMin
                | Reason::Overprovisioned
                | Reason::AboveMax
                | Reason::RidesAlong
        ),
    };
    prop_assert!(reason_fits, "{:?}", d);
    Ok(())
}

/// A series and the same series with more demand in every minute: consumed and throttle
/// datapoints each at least as large, gaps in the same places (a missing throttle datapoint
/// may become a present one, since it means "none").
fn more_demand_strategy(now: Timestamp) -> impl Strategy<Value = (Usage, Usage)> {
    (
        shift_strategy(),
        level_strategy(),
        prop::collection::vec(
            (
                minute_strategy(),
                prop_oneof![Just(0.0), 0.0f64..=6_000.0],
                prop_oneof![Just(0.0), 0.0f64..=6_000.0],
                any::<bool>(),
            ),
            0..=90,
        ),
    )
        .prop_map(move |(shift, level, minutes)| {
            let start = placed(now, minutes.len(), shift);
            let minutes: Vec<_> = minutes
                .into_iter()
                .map(|(m, dc, dt, add)| (scaled(m, level), dc * level, dt, add))
                .collect();
            let more = minutes
                .iter()
                .map(|&(m, dc, dt, add_throttle)| Minute {
                    consumed: m.consumed.map(|c| c + dc),
                    throttled: match m.throttled {
                        Some(t) => Some(t + dt),
                        None if add_throttle => Some(dt),
                        None => None,
                    },
                    causes: None,
                })
                .collect();
            (
                Usage {
                    start,
                    minutes: minutes.iter().map(|&(m, ..)| m).collect(),
                },
                Usage {
                    start,
                    minutes: more,
                },
            )
        })
}

/// A series of known minutes and two copies of it in which the same datapoints are replaced:
/// by gaps in the first, by zeros in the second.
fn gaps_and_zeros_strategy(now: Timestamp) -> impl Strategy<Value = (Usage, Usage)> {
    (
        shift_strategy(),
        level_strategy(),
        prop::collection::vec(
            (
                consumed_strategy(),
                prop_oneof![1 => Just(None), 1 => Just(Some(0.0)), 3 => (0.0f64..=6_000.0).prop_map(Some)],
                prop_oneof![16 => Just(0u8), 2 => Just(1), 1 => Just(2), 1 => Just(3)],
            ),
            0..=90,
        ),
    )
        .prop_map(move |(shift, level, minutes)| {
            let start = placed(now, minutes.len(), shift);
            let replace = |missing: Option<f64>| {
                minutes
                    .iter()
                    .map(|&(c, t, mask)| Minute {
                        consumed: if mask & 1 != 0 { missing } else { Some(c * level) },
                        throttled: if mask & 2 != 0 { missing } else { t },
                        causes: None,
                    })
                    .collect()
            };
            (
                Usage {
                    start,
                    minutes: replace(None),
                },
                Usage {
                    start,
                    minutes: replace(Some(0.0)),
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Starting within [min, max], every rule ends within [min, max].
    #[test]
    fn prop_result_within_bounds(c in case_strategy(true), p in pair_strategy(true)) {
        let b = c.bounds();
        for d in [c.up(), c.down()] {
            prop_assert!(b.min <= d.to && d.to <= b.max, "{:?} outside {:?}", d, b);
        }
        for (d, b) in p.down().iter().zip([p.settings.read, p.settings.write]) {
            prop_assert!(b.min <= d.to && d.to <= b.max, "{:?} outside {:?}", d, b);
        }
    }

    /// Starting anywhere, no rule moves capacity further from [min, max].
    #[test]
    fn prop_never_moves_away_from_bounds(c in case_strategy(false), p in pair_strategy(false)) {
        let b = c.bounds();
        for d in [c.up(), c.down()] {
            prop_assert!(distance(d.to, b) <= distance(d.from, b), "{:?} vs {:?}", d, b);
        }
        for (d, b) in p.down().iter().zip([p.settings.read, p.settings.write]) {
            prop_assert!(distance(d.to, b) <= distance(d.from, b), "{:?} vs {:?}", d, b);
        }
    }

    /// scale_up never lowers; scale_down and scale_down_pair never raise; the action and reason
    /// agree with the numbers; a decrease only happens when the quota allows it.
    #[test]
    fn prop_up_never_lowers_down_never_raises(c in case_strategy(false), p in pair_strategy(false)) {
        let u = c.up();
        prop_assert!(u.to >= u.from, "{:?}", u);
        prop_assert_eq!(u.from, c.state.provisioned);
        prop_assert_eq!(u.numbers.next_decrease_at, None);
        check_consistent(&u)?;
        let d = c.down();
        prop_assert!(d.to <= d.from, "{:?}", d);
        prop_assert_eq!(d.from, c.state.provisioned);
        check_consistent(&d)?;
        let next = c.state.budget.next_allowed(c.now);
        prop_assert_eq!(d.numbers.next_decrease_at, Some(next));
        if d.action == Action::Decrease {
            // Allowed now, or at `not_before`, within the grace.
            let at = d.not_before.unwrap_or(c.now);
            prop_assert!(c.state.budget.allows(at), "{:?}", d);
            prop_assert_eq!(next.max(c.now), at);
            prop_assert!(at.secs_since(c.now) <= c.settings.quota_grace_secs);
        } else {
            prop_assert_eq!(d.not_before, None);
        }
        let pair = p.down();
        for (d, st) in pair.iter().zip(&p.states) {
            prop_assert!(d.to <= d.from, "{:?}", d);
            prop_assert_eq!(d.from, st.provisioned);
            check_consistent(d)?;
            if d.action == Action::Decrease {
                prop_assert!(st.budget.allows(d.not_before.unwrap_or(p.now)));
            }
        }
        prop_assert_eq!((pair[0].dimension, pair[1].dimension), (Dimension::Read, Dimension::Write));
    }

    /// scale_down_pair decides each dimension as scale_down does, except that a dimension whose
    /// saving alone is too small rides along when the other is lowered.
    #[test]
    fn prop_pair_is_scale_down_plus_ride_along(p in pair_strategy(false)) {
        let pair = p.down();
        let any_lowered = pair.iter().any(|d| d.reason != Reason::RidesAlong && d.action == Action::Decrease);
        for (i, (dim, d)) in Dimension::BOTH.into_iter().zip(&pair).enumerate() {
            let alone = scale_down(
                &p.settings,
                DimensionInput { dimension: dim, state: &p.states[i], usage: &p.usages[i], history: None, boost: None },
                p.now,
            );
            if d.reason == Reason::RidesAlong {
                prop_assert!(any_lowered);
                prop_assert_eq!(alone.reason, Reason::SavingTooSmall);
                prop_assert_eq!(Some(d.to), alone.numbers.wanted);
                prop_assert!(d.to < d.from);
            } else {
                prop_assert_eq!(d, &alone);
                if any_lowered {
                    prop_assert_ne!(alone.reason, Reason::SavingTooSmall);
                }
            }
        }
    }

    /// More demand (pointwise larger consumed and throttled) never yields less capacity.
    #[test]
    fn prop_more_demand_never_less_capacity(
        (c, (base, more), (base2, more2)) in case_strategy(false).prop_flat_map(|c| {
            let now = c.now;
            (Just(c), more_demand_strategy(now), more_demand_strategy(now))
        }),
        pair_states in pair_strategy(false),
    ) {
        // Growth follows the trend, not the level: monotone only without it (its own
        // property below says it never lowers anything).
        let c = Case { settings: without_growth(c.settings.clone()), ..c };
        let pair_states = PairCase { settings: without_growth(pair_states.settings.clone()), ..pair_states };
        let less = Case { usage: base.clone(), ..c.clone() };
        let larger = Case { usage: more.clone(), ..c };
        let (lu, mu) = (less.up(), larger.up());
        prop_assert!(mu.to >= lu.to, "scale_up: {:?} with more demand vs {:?}", mu, lu);
        let (ld, md) = (less.down(), larger.down());
        prop_assert!(md.to >= ld.to, "scale_down: {:?} with more demand vs {:?}", md, ld);
        // The pair: more demand on either or both dimensions.
        let p = PairCase { now: less.now, ..pair_states };
        let low = p.down_with(&[base.clone(), base2.clone()]);
        for usages in [[more.clone(), base2.clone()], [base, more2.clone()], [more, more2]] {
            let high = p.down_with(&usages);
            for (h, l) in high.iter().zip(&low) {
                prop_assert!(h.to >= l.to, "pair: {:?} with more demand vs {:?}", h, l);
            }
        }
    }

    /// A series of gaps only (or no series) never lowers capacity, and raises it only to min;
    /// the one exception is scale-down lowering capacity above max to max, which needs no data.
    #[test]
    fn prop_all_gaps_change_nothing(
        c in case_strategy(false),
        p in pair_strategy(false),
        n in 0usize..=90,
        back in 0i64..=90,
    ) {
        let gaps = Usage { start: c.now.floor_minute().plus_secs(-60 * back), minutes: vec![Minute::GAP; n] };
        let c = Case { usage: gaps.clone(), ..c };
        let b = c.bounds();
        let from = c.state.provisioned;
        let u = c.up();
        if from < b.min {
            prop_assert_eq!((u.to, u.reason), (b.min, Reason::BelowMin));
        } else {
            prop_assert_eq!((u.to, u.reason), (from, Reason::NoData));
        }
        let d = c.down();
        check_gap_down(&d, from, b)?;
        let p = PairCase { usages: [gaps.clone(), gaps], now: c.now, ..p };
        for ((d, st), b) in p.down().iter().zip(&p.states).zip([p.settings.read, p.settings.write]) {
            check_gap_down(d, st.provisioned, b)?;
        }
    }

    /// Missing is not zero: replacing datapoints by gaps gives at least the capacity that
    /// replacing them by zeros gives, for every rule.
    #[test]
    fn prop_gaps_never_lower_more_than_zeros(
        (c, (gaps, zeros), (gaps2, zeros2)) in case_strategy(false).prop_flat_map(|c| {
            let now = c.now;
            (Just(c), gaps_and_zeros_strategy(now), gaps_and_zeros_strategy(now))
        }),
        pair_states in pair_strategy(false),
    ) {
        let c = Case { settings: without_growth(c.settings.clone()), ..c };
        let with_gaps = Case { usage: gaps.clone(), ..c.clone() };
        let with_zeros = Case { usage: zeros.clone(), ..c };
        let (gu, zu) = (with_gaps.up(), with_zeros.up());
        prop_assert!(gu.to >= zu.to, "scale_up: {:?} with gaps vs {:?} with zeros", gu, zu);
        let (gd, zd) = (with_gaps.down(), with_zeros.down());
        prop_assert!(gd.to >= zd.to, "scale_down: {:?} with gaps vs {:?} with zeros", gd, zd);
        let p = PairCase { now: with_gaps.now, ..pair_states };
        let g = p.down_with(&[gaps, gaps2]);
        let z = p.down_with(&[zeros, zeros2]);
        for (g, z) in g.iter().zip(&z) {
            prop_assert!(g.to >= z.to, "pair: {:?} with gaps vs {:?} with zeros", g, z);
        }
    }
}

fn check_gap_down(d: &Decision, from: u64, b: Bounds) -> Result<(), TestCaseError> {
    if from > b.max {
        prop_assert!(
            (d.to, d.reason) == (b.max, Reason::AboveMax)
                || (d.to, d.reason) == (from, Reason::QuotaExhausted),
            "{:?}",
            d
        );
    } else {
        prop_assert_eq!((d.to, d.reason), (from, Reason::NoData), "{:?}", d);
    }
    Ok(())
}

/// Demand blocks: (minutes, units/s), repeated to fill the run.
fn trace_strategy() -> impl Strategy<Value = Vec<(usize, f64)>> {
    prop::collection::vec(
        (
            1usize..=30,
            prop_oneof![1 => Just(0.0), 4 => 0.0f64..=400.0, 1 => 400.0f64..=3_000.0],
        ),
        1..=120,
    )
}

fn expand(blocks: &[(usize, f64)], minutes: usize) -> Vec<f64> {
    blocks
        .iter()
        .flat_map(|&(n, level)| std::iter::repeat_n(level, n))
        .cycle()
        .take(minutes)
        .collect()
}

/// 36 hours: every run crosses at least one UTC midnight.
const RUN_MINUTES: usize = 36 * 60;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Simulating a day and a half minute by minute, applying every decision: the decreases
    /// never break DynamoDB's quota (checked by an independent count, starting from the
    /// generated quota state).
    #[test]
    fn prop_quota_never_exceeded_single_dimension(
        (settings, start, budget) in (settings_strategy(), now_strategy()).prop_flat_map(|(s, start)| {
            (Just(s), Just(start), budget_strategy(start))
        }),
        initial in 1u64..=3_000,
        trace in trace_strategy(),
    ) {
        let demand = expand(&trace, RUN_MINUTES);
        let decreases = simulate_single(&settings, start, RUN_MINUTES, initial, budget, |i| demand[i]);
        let violation = quota_violation(budget, &decreases);
        prop_assert_eq!(violation, None, "decreases: {:?}", decreases);
    }

    /// The same for a table's read and write dimensions decided together (one decrease per
    /// `UpdateTable`, however many dimensions it lowers).
    #[test]
    fn prop_quota_never_exceeded_read_write_pair(
        (settings, start, budget) in (settings_strategy(), now_strategy()).prop_flat_map(|(s, start)| {
            (Just(s), Just(start), budget_strategy(start))
        }),
        initial in (1u64..=3_000, 1u64..=3_000),
        reads in trace_strategy(),
        writes in trace_strategy(),
    ) {
        let reads = expand(&reads, RUN_MINUTES);
        let writes = expand(&writes, RUN_MINUTES);
        let decreases = simulate_pair(
            &settings,
            start,
            RUN_MINUTES,
            [initial.0, initial.1],
            budget,
            |dim, i| match dim {
                Dimension::Read => reads[i],
                Dimension::Write => writes[i],
            },
        );
        let violation = quota_violation(budget, &decreases);
        prop_assert_eq!(violation, None, "decreases: {:?}", decreases);
    }
}

/// Seven days and a few hours of history before `now`, made of a short random pattern repeated
/// (so that both lags of the seasonal floor see data, gaps and throttling), sometimes with
/// stretches of gaps.
fn history_strategy(now: Timestamp) -> impl Strategy<Value = Usage> {
    (
        prop::collection::vec(minute_strategy(), 1..=200),
        level_strategy(),
        any::<bool>(),
    )
        .prop_map(move |(pattern, level, holes)| {
            let start = now.floor_minute().plus_secs(-(7 * DAY + 2 * 3_600));
            let n = 7 * 1_440 + 6 * 60;
            Usage {
                start,
                minutes: (0..n)
                    .map(|i| {
                        if holes && (i / 360) % 3 == 1 {
                            Minute::GAP
                        } else {
                            scaled(pattern[i % pattern.len()], level)
                        }
                    })
                    .collect(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The growth rule only ever adds to what the reactive rule decides.
    #[test]
    fn prop_growth_never_lowers_the_reactive_decision(c in case_strategy(false)) {
        let with = c.up();
        let without = Case { settings: without_growth(c.settings.clone()), ..c.clone() }.up();
        prop_assert!(with.to >= without.to, "{:?} with growth vs {:?}", with, without);
        prop_assert!(with.numbers.growth >= 1.0 && with.numbers.growth <= c.settings.growth_cap.max(1.0));
        if with.to > without.to {
            prop_assert!(matches!(with.reason, Reason::Rising | Reason::Throttled | Reason::AboveTrigger | Reason::Seasonal));
        }
    }

    /// The seasonal floor only ever adds capacity: with history, scale-up raises at least as
    /// much and scale-down lowers at most as much as without; and a decrease never goes below
    /// the floor it reports.
    #[test]
    fn prop_seasonal_floor_never_lowers(
        (c, h) in case_strategy(false).prop_flat_map(|c| {
            let now = c.now;
            (Just(c), history_strategy(now))
        }),
    ) {
        let input = c.input().with_history(&h);
        let up_with = scale_up(&c.settings, input, c.now);
        let down_with = scale_down(&c.settings, input, c.now);
        let (up_without, down_without) = (c.up(), c.down());
        prop_assert!(up_with.to >= up_without.to, "{:?} vs {:?}", up_with, up_without);
        prop_assert!(down_with.to >= down_without.to, "{:?} vs {:?}", down_with, down_without);
        check_consistent(&up_with)?;
        check_consistent(&down_with)?;
        if let (Some(e), Action::Decrease) = (down_with.numbers.seasonal_demand, down_with.action)
            && down_with.reason == Reason::Overprovisioned
        {
            let floor = scaling_policy::ceil_units(e / c.settings.target).clamp(c.bounds().min, c.bounds().max);
            prop_assert!(down_with.to >= floor, "{:?} below the floor {}", down_with, floor);
        }
    }

    /// History alone never lowers anything, and with an all-gap recent window it changes
    /// capacity only to raise it ahead of a floor it reports (or to min).
    #[test]
    fn prop_history_with_gaps_only_never_lowers(
        (c, h) in case_strategy(false).prop_flat_map(|c| {
            let now = c.now;
            (Just(c), history_strategy(now))
        }),
    ) {
        let gaps = Usage { start: c.now.floor_minute().plus_secs(-60 * 90), minutes: vec![Minute::GAP; 90] };
        let c = Case { usage: gaps, ..c };
        let input = c.input().with_history(&h);
        let u = scale_up(&c.settings, input, c.now);
        prop_assert!(u.to >= u.from);
        if u.to > u.from.max(c.bounds().min) {
            prop_assert_eq!(u.reason, Reason::Seasonal);
            prop_assert!(u.numbers.seasonal_demand.is_some());
        }
        let d = scale_down(&c.settings, input, c.now);
        check_gap_down(&d, c.state.provisioned, c.bounds())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A boost only ever adds capacity: scale-up ends at least at the boost (within the
    /// bounds) and never lower than without it; scale-down never ends below it (unless it was
    /// already below and so cannot raise) and never lower than without it.
    #[test]
    fn prop_boost_is_a_floor(c in case_strategy(true), units in 1u64..=5_000) {
        let b = c.bounds();
        let floor = units.clamp(b.min, b.max);
        let input = c.input().with_boost(Some(units));
        let up = scale_up(&c.settings, input, c.now);
        prop_assert!(up.to >= floor, "{:?} below the boost {}", up, floor);
        prop_assert!(up.to >= c.up().to);
        check_consistent(&up)?;
        let down = scale_down(&c.settings, input, c.now);
        prop_assert!(down.to >= floor.min(down.from), "{:?} below the boost {}", down, floor);
        prop_assert!(down.to >= c.down().to);
        check_consistent(&down)?;
    }
}
