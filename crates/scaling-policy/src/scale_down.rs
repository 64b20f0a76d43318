//! The scale-down rule (the function that runs a few times a day, or as often as the quota
//! paces it): lower capacity when that is worth one of DynamoDB's scarce daily decreases; never
//! raise.
//!
//! Per dimension, on the last `down_window_minutes` complete minutes, which must be at least
//! [`MIN_DOWN_COVERAGE`] known (a consumed datapoint each):
//! 1. **Level**: `ceil(peak demand / target)`, never below min, and never below the seasonal
//!    floor (`ceil(expected / target)`, [`crate::seasonal`]) when there is history, so that a
//!    decrease is not spent just before a ramp that came yesterday and a week ago.
//! 2. Lower to that level when it saves at least `min_decrease_fraction` of the current
//!    capacity, nothing was throttled for lack of capacity in the window (throttling below the
//!    target means bursts: less capacity would only make it worse; key-range throttling does
//!    not block a decrease, since capacity does not cure it), and no increase happened within
//!    the cooldown.
//! 3. **Quota** ([`crate::quota`]): the decrease must be allowed now, or within
//!    `quota_grace_secs` from now, in which case the decision carries `not_before` (the caller
//!    waits until then): a scheduled run that starts a few seconds before
//!    `LastDecreaseDateTime + 3600 s` does not lose its hour.
//! 4. **Pacing**: a decrease less than an hour after the previous one (less the grace) can only
//!    be one of the day's four spacing-free decreases; spending one on a small saving would
//!    leave none for the drop after a burst or in the evening, so it must save at least
//!    `pacing_decrease_fraction`. Schedules that run hourly or less often never meet this rule.
//!
//! An active boost (an announced event) is a floor: the level is never below it, and a
//! decrease it prevents is [`Reason::Boost`]. Above max it lowers to max (quota permitting)
//! without needing data. [`scale_down_pair`]
//! decides a table's or GSI's reads and writes together: when one is lowered, the other rides
//! along in the same `UpdateTable` if it saves anything at all, since the decrease is counted
//! once for both. Missing data keeps capacity as it is.

use crate::config::Settings;
use crate::decision::{Action, Decision, DimensionInput, Reason};
use crate::quota::FREE_DECREASES;
use crate::scale_up::numbers;
use crate::seasonal;
use crate::time::Timestamp;
use crate::units::ceil_units;
use crate::window::{Known, WindowSummary};

/// Share of the scale-down window that must have datapoints before anything is lowered.
pub const MIN_DOWN_COVERAGE: f64 = 0.8;

/// Seconds the pacing rule counts as "less than an hour" (before the grace is taken off).
const HOUR_SECS: i64 = 3_600;

/// A scale-down candidate before the read/write pairing.
pub(crate) struct DownCandidate {
    decision: Decision,
    /// Set when the only thing stopping a decrease is the minimum saving (or pacing).
    small_saving_to: Option<u64>,
}

/// When the quota lets a decrease happen: now, a few seconds from now, or not soon enough.
fn quota_time(
    settings: &Settings,
    input: &DimensionInput<'_>,
    now: Timestamp,
) -> Option<Option<Timestamp>> {
    let next = input.state.budget.next_allowed(now);
    if next <= now {
        Some(None)
    } else if next.secs_since(now) <= settings.quota_grace_secs {
        Some(Some(next))
    } else {
        None
    }
}

pub(crate) fn scale_down_one(
    settings: &Settings,
    input: DimensionInput<'_>,
    now: Timestamp,
) -> DownCandidate {
    let p = input.state.provisioned;
    let b = settings.bounds(input.dimension);
    let w = WindowSummary::of(
        input.usage,
        now,
        settings.down_window_minutes,
        None,
        Known::Consumed,
    );
    let mut numbers = numbers(settings, input.dimension, p, &w);
    let boost = input.boost.map(|u| u.clamp(b.min, b.max));
    numbers.boost = boost;
    let budget = input.state.budget;
    numbers.next_decrease_at = Some(budget.next_allowed(now));
    let done = |d: Decision| DownCandidate {
        decision: d,
        small_saving_to: None,
    };
    let at = quota_time(settings, &input, now);
    let deferred = |mut d: Decision| {
        d.not_before = at.flatten();
        d
    };

    if p > b.max {
        // A boost is clamped to max, so it never holds capacity above max.
        numbers.wanted = Some(b.max);
        return done(match at {
            None => Decision::new(&input, p, Reason::QuotaExhausted, numbers),
            Some(_) => deferred(Decision::new(&input, b.max, Reason::AboveMax, numbers)),
        });
    }
    let Some(peak) = w.peak_demand else {
        return done(Decision::new(&input, p, Reason::NoData, numbers));
    };
    if w.known == 0 {
        return done(Decision::new(&input, p, Reason::NoData, numbers));
    }
    if f64::from(w.known) < MIN_DOWN_COVERAGE * f64::from(w.minutes) {
        return done(Decision::new(&input, p, Reason::InsufficientData, numbers));
    }
    let expected = input
        .history
        .and_then(|h| seasonal::expected_peak(h, now, settings.seasonal_ahead_minutes));
    numbers.seasonal_demand = expected;
    let demand_wanted = ceil_units(peak / settings.target)
        .max(expected.map_or(0, |e| ceil_units(e / settings.target)))
        .clamp(b.min, b.max);
    let wanted = demand_wanted.max(boost.unwrap_or(0));
    numbers.wanted = Some(wanted);
    if wanted >= p {
        let reason = if demand_wanted < p {
            Reason::Boost
        } else {
            Reason::NoSaving
        };
        return done(Decision::new(&input, p, reason, numbers));
    }
    if w.throttle_events - w.key_range_events > 0.0 {
        return done(Decision::new(&input, p, Reason::RecentThrottling, numbers));
    }
    let in_cooldown = input
        .state
        .last_increase
        .is_some_and(|t| now.secs_since(t) < settings.cooldown_secs);
    if in_cooldown {
        return done(Decision::new(&input, p, Reason::Cooldown, numbers));
    }
    if at.is_none() {
        return done(Decision::new(&input, p, Reason::QuotaExhausted, numbers));
    }
    let saving = (p - wanted) as f64 / p as f64;
    if saving < settings.min_decrease_fraction {
        return DownCandidate {
            decision: Decision::new(&input, p, Reason::SavingTooSmall, numbers),
            small_saving_to: Some(wanted),
        };
    }
    let spacing_free = budget.used_today(now) < FREE_DECREASES
        && budget
            .last_decrease
            .is_some_and(|t| now.secs_since(t) < HOUR_SECS - settings.quota_grace_secs);
    if spacing_free && saving < settings.pacing_decrease_fraction {
        return DownCandidate {
            decision: Decision::new(&input, p, Reason::Pacing, numbers),
            small_saving_to: Some(wanted),
        };
    }
    done(deferred(Decision::new(
        &input,
        wanted,
        Reason::Overprovisioned,
        numbers,
    )))
}

/// The scale-down decision for one dimension on its own. Never raises capacity.
pub fn scale_down(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> Decision {
    scale_down_one(settings, input, now).decision
}

/// The scale-down decisions for the read and write dimensions of one table or GSI, which share
/// one decrease: when one is lowered, the other is lowered too if it saves anything at all (and
/// both are made at the later `not_before`, since they go in one `UpdateTable`).
pub fn scale_down_pair(
    settings: &Settings,
    read: DimensionInput<'_>,
    write: DimensionInput<'_>,
    now: Timestamp,
) -> [Decision; 2] {
    pair([
        scale_down_one(settings, read, now),
        scale_down_one(settings, write, now),
    ])
}

impl DownCandidate {
    /// The candidate held at its capacity for `reason`: neither lowered nor riding along.
    pub(crate) fn held(self, reason: Reason) -> Self {
        let d = self.decision;
        if d.action != Action::Decrease && self.small_saving_to.is_none() {
            return DownCandidate {
                decision: d,
                small_saving_to: None,
            };
        }
        DownCandidate {
            decision: Decision {
                to: d.from,
                action: Action::Keep,
                reason,
                not_before: None,
                ..d
            },
            small_saving_to: None,
        }
    }
}

/// Pairs the read and write candidates of one table or GSI (see [`scale_down_pair`]).
pub(crate) fn pair(mut pair: [DownCandidate; 2]) -> [Decision; 2] {
    let lowered = pair.iter().any(|c| c.decision.action == Action::Decrease);
    if lowered {
        let not_before = pair.iter().filter_map(|c| c.decision.not_before).max();
        for c in &mut pair {
            if let Some(to) = c.small_saving_to {
                c.decision.to = to;
                c.decision.action = Action::Decrease;
                c.decision.reason = Reason::RidesAlong;
            }
            if c.decision.action == Action::Decrease {
                c.decision.not_before = not_before;
            }
        }
    }
    pair.map(|c| c.decision)
}
