//! Choosing scale-down times: perfect foresight's cost on a schedule, minimised over the
//! candidate times, for one or several demand series.

use capacity_sim::ScaleDownSchedule;
use capacity_sim::clairvoyant::{QuotaRules, optimal_on_schedule};
use capacity_sim::schedule::{Requirement, choose_daily_runs};

/// 2024-01-01T00:00:00Z in minutes since the epoch.
const DAY0_MINUTE: i64 = 1_704_067_200 / 60;

/// A deterministic random walk of whole units, `days` long.
fn walk(seed: u64, days: usize) -> Vec<u64> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut level: i64 = 100;
    (0..days * 1440)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            level = (level + (x % 21) as i64 - 10).clamp(1, 400);
            level as u64
        })
        .collect()
}

fn one(units: &[u64], first_minute: i64) -> [Requirement<'_>; 1] {
    [Requirement {
        units,
        first_minute,
        weight: 1.0,
    }]
}

/// Every `runs`-subset of `candidates`.
fn subsets(candidates: &[u32], runs: usize) -> Vec<Vec<u32>> {
    if runs == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        for mut rest in subsets(&candidates[i + 1..], runs - 1) {
            rest.insert(0, *c);
            out.push(rest);
        }
    }
    out
}

#[test]
fn the_choice_is_the_cheapest_schedule_by_perfect_foresight() {
    let candidates: Vec<u32> = (0..24).step_by(2).map(|h| h * 60).collect();
    for seed in 0..3u64 {
        // Start at an odd time of day, as real traces do.
        let first = DAY0_MINUTE + 21 * 60 + 42 + seed as i64 * 97;
        let units = walk(seed, 2);
        for runs in 1..=4 {
            let choice = choose_daily_runs(&one(&units, first), runs, &candidates, 1).unwrap();
            let cost = |s: &ScaleDownSchedule| {
                optimal_on_schedule(&units, first, 1, QuotaRules::default(), s).unit_minutes
            };
            let best = subsets(&candidates, runs)
                .into_iter()
                .map(|m| cost(&ScaleDownSchedule::at_minutes(m).unwrap()))
                .min()
                .unwrap();
            assert_eq!(choice.schedule.runs_per_day(), runs);
            assert_eq!(choice.cost, best as f64, "seed {seed}, {runs} runs");
            assert_eq!(cost(&choice.schedule), best, "seed {seed}, {runs} runs");
        }
    }
}

/// `days` days at 10 units with `high` units from `from` to `to` (minutes of the UTC day).
fn plateau(days: usize, from: usize, to: usize, high: u64) -> Vec<u64> {
    (0..days * 1440)
        .map(|m| {
            if (from..to).contains(&(m % 1440)) {
                high
            } else {
                10
            }
        })
        .collect()
}

#[test]
fn one_run_a_day_goes_where_demand_falls() {
    // A business day, 08:00-18:00 UTC: the only run worth having is at 18:00.
    let units = plateau(7, 8 * 60, 18 * 60, 200);
    let hours: Vec<u32> = (0..24).map(|h| h * 60).collect();
    let choice = choose_daily_runs(&one(&units, DAY0_MINUTE), 1, &hours, 1).unwrap();
    assert_eq!(choice.schedule.to_string(), "18:00 UTC");
    // Two plateaus a day (09-11 and 15-17): runs after each.
    let two: Vec<u64> = plateau(7, 9 * 60, 11 * 60, 200)
        .iter()
        .zip(plateau(7, 15 * 60, 17 * 60, 200))
        .map(|(a, b)| (*a).max(b))
        .collect();
    let choice = choose_daily_runs(&one(&two, DAY0_MINUTE), 2, &hours, 1).unwrap();
    assert_eq!(choice.schedule.to_string(), "11:00, 17:00 UTC");
}

#[test]
fn several_series_weigh_in_by_their_weight() {
    let a = plateau(3, 0, 6 * 60, 100); // falls at 06:00
    let b = plateau(3, 0, 20 * 60, 100); // falls at 20:00
    let hours: Vec<u32> = (0..24).map(|h| h * 60).collect();
    let both = |wa: f64, wb: f64| {
        let series = [
            Requirement {
                units: &a,
                first_minute: DAY0_MINUTE,
                weight: wa,
            },
            Requirement {
                units: &b,
                first_minute: DAY0_MINUTE,
                weight: wb,
            },
        ];
        choose_daily_runs(&series, 1, &hours, 1).unwrap()
    };
    assert_eq!(both(5.0, 1.0).schedule.to_string(), "06:00 UTC");
    assert_eq!(both(1.0, 5.0).schedule.to_string(), "20:00 UTC");
    // The cost is the weighted sum of each series' own.
    let alone = |u: &[u64]| {
        optimal_on_schedule(
            u,
            DAY0_MINUTE,
            1,
            QuotaRules::default(),
            &ScaleDownSchedule::at_hours(&[20]).unwrap(),
        )
        .unit_minutes as f64
    };
    assert_eq!(both(1.0, 5.0).cost, alone(&a) + 5.0 * alone(&b));
}

#[test]
fn more_than_four_runs_a_day_stay_an_hour_apart() {
    let units = walk(7, 3);
    let quarters: Vec<u32> = (0..96).map(|q| q * 15).collect();
    let choice = choose_daily_runs(&one(&units, DAY0_MINUTE), 6, &quarters, 1).unwrap();
    let m = choice.schedule.minutes();
    assert_eq!(m.len(), 6);
    for i in 0..6 {
        let gap = (m[(i + 1) % 6] + 1440 - m[i]) % 1440;
        assert!(gap >= 60, "{m:?}");
    }
    // ...and so the quota lets each decrease: the proxy is perfect foresight's cost.
    let exact = optimal_on_schedule(
        &units,
        DAY0_MINUTE,
        1,
        QuotaRules::default(),
        &choice.schedule,
    );
    assert_eq!(choice.cost, exact.unit_minutes as f64);
}

#[test]
fn impossible_choices_are_errors() {
    let units = walk(1, 1);
    let hours: Vec<u32> = (0..24).map(|h| h * 60).collect();
    assert!(choose_daily_runs(&one(&units, 0), 0, &hours, 1).is_err());
    assert!(choose_daily_runs(&one(&units, 0), 25, &hours, 1).is_err());
    assert!(choose_daily_runs(&one(&[], 0), 4, &hours, 1).is_err());
    let quarters: Vec<u32> = (0..8).map(|q| q * 15).collect();
    let err = choose_daily_runs(&one(&units, 0), 5, &quarters, 1).unwrap_err();
    assert!(err.to_string().contains("an hour apart"), "{err}");
}
