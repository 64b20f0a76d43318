//! The decision rules. Each function is pure: settings, state and datapoints in, a
//! [`Decision`] out, with the reason and the numbers behind it.
//!
//! **Demand** in a minute is consumed plus throttled units (consumed alone is capped by what was
//! provisioned, so it hides demand exactly when it matters), divided by 60 to get units/s. A
//! minute whose consumed datapoint is missing is unknown (though throttle events it reports still
//! count as demand: a lower bound); a missing throttle datapoint next to a consumed one means no
//! throttling (CloudWatch publishes throttle events only when they happen).
//!
//! **Scale-up** looks at the last `up_window_minutes` complete minutes that started after the
//! last increase. It fires when any request was throttled or when peak demand reaches
//! `scale_up_trigger` x provisioned, and then raises to `ceil(peak demand / target)`, never above
//! max; at least one unit more than now, unless the only throttling was in the minute after the
//! last increase (still served at the old capacity, and already answered by it). Below min it
//! raises to min. It never lowers.
//!
//! **Scale-down** looks at the last `down_window_minutes` and needs at least
//! [`MIN_DOWN_COVERAGE`] of them known. It lowers to `ceil(peak demand / target)` (never below
//! min, never below the latest demand) when that saves at least `min_decrease_fraction` of the
//! current capacity, nothing was throttled in the window, no increase happened within the
//! cooldown, and the quota allows a decrease now. Above max it lowers to max. It never raises. When one dimension of a table or GSI is
//! lowered, the other rides along in the same `UpdateTable` if it saves anything at all, since the
//! decrease is counted once for both.

use serde::Serialize;

use crate::config::{Dimension, Settings};
use crate::time::Timestamp;
use crate::units::ceil_units;
use crate::usage::{DimensionState, Usage};

/// Share of the scale-down window that must have datapoints before anything is lowered.
pub const MIN_DOWN_COVERAGE: f64 = 0.8;

/// What to do with one dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Leave the capacity as it is.
    Keep,
    /// Raise it.
    Increase,
    /// Lower it.
    Decrease,
}

/// Why: a machine-readable reason for every decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Requests were throttled in the window: raise to demand / target.
    Throttled,
    /// Peak demand reached the scale-up trigger: raise to demand / target.
    AboveTrigger,
    /// Provisioned is below the configured min.
    BelowMin,
    /// Peak demand is well below capacity: lower to demand / target.
    Overprovisioned,
    /// Provisioned is above the configured max.
    AboveMax,
    /// The other dimension of the same table or GSI is lowered; this one rides along for free.
    RidesAlong,
    /// No datapoint in the window: unknown demand, so nothing changes.
    NoData,
    /// Too few datapoints in the scale-down window to trust a decrease.
    InsufficientData,
    /// Demand is below the scale-up trigger.
    BelowTrigger,
    /// More is wanted but the capacity is at the configured max.
    AtMax,
    /// Capacity already matches demand / target (or is below it).
    NoSaving,
    /// Lowering would save less than the minimum decrease fraction.
    SavingTooSmall,
    /// An increase happened within the cooldown.
    Cooldown,
    /// Requests were throttled in the scale-down window: never lower a throttled table.
    RecentThrottling,
    /// DynamoDB's decrease quota does not allow a decrease now.
    QuotaExhausted,
}

/// The numbers behind a decision, for logs and reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Numbers {
    /// Minutes in the look-back window.
    pub window_minutes: u32,
    /// Minutes of the window with data.
    pub known_minutes: u32,
    /// Highest demand (consumed + throttled) in the window, units/s.
    pub peak_demand: Option<f64>,
    /// Highest consumption in the window, units/s.
    pub peak_consumed: Option<f64>,
    /// Throttle events in the window.
    pub throttle_events: f64,
    /// Peak demand / provisioned.
    pub utilisation: Option<f64>,
    /// Target utilisation.
    pub target: f64,
    /// Scale-up trigger.
    pub trigger: f64,
    /// Configured min.
    pub min: u64,
    /// Configured max.
    pub max: u64,
    /// What demand / target (within min and max) asks for.
    pub wanted: Option<u64>,
    /// Earliest time a decrease is allowed (scale-down only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_decrease_at: Option<Timestamp>,
}

/// One decision for one dimension of one table or GSI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// Read or write.
    pub dimension: Dimension,
    /// Provisioned now.
    pub from: u64,
    /// Provisioned after the decision (equal to `from` when kept).
    pub to: u64,
    /// Keep, increase or decrease.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The numbers behind it.
    pub numbers: Numbers,
    /// For a decrease the quota allows only a few seconds from now (a scheduled run that
    /// started a little early for `LastDecreaseDateTime + 3600 s`): the instant to make the
    /// change at. `None`: now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
}

impl Action {
    /// The name used in JSON and logs: `keep`, `increase`, `decrease`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Increase => "increase",
            Action::Decrease => "decrease",
        }
    }
}

impl Reason {
    /// The name used in JSON and logs, e.g. `above_trigger`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Throttled => "throttled",
            Reason::AboveTrigger => "above_trigger",
            Reason::BelowMin => "below_min",
            Reason::Overprovisioned => "overprovisioned",
            Reason::AboveMax => "above_max",
            Reason::RidesAlong => "rides_along",
            Reason::NoData => "no_data",
            Reason::InsufficientData => "insufficient_data",
            Reason::BelowTrigger => "below_trigger",
            Reason::AtMax => "at_max",
            Reason::NoSaving => "no_saving",
            Reason::SavingTooSmall => "saving_too_small",
            Reason::Cooldown => "cooldown",
            Reason::RecentThrottling => "recent_throttling",
            Reason::QuotaExhausted => "quota_exhausted",
        }
    }
}

impl Decision {
    /// Whether the decision changes capacity.
    pub fn changes(&self) -> bool {
        self.to != self.from
    }
}

/// Input of one dimension: its state and its datapoints.
#[derive(Clone, Copy, Debug)]
pub struct DimensionInput<'a> {
    /// Read or write.
    pub dimension: Dimension,
    /// State from `DescribeTable`.
    pub state: &'a DimensionState,
    /// Datapoints from CloudWatch.
    pub usage: &'a Usage,
}

/// Summary of a window of datapoints.
struct Window {
    minutes: u32,
    known: u32,
    peak_demand: Option<f64>,
    peak_consumed: Option<f64>,
    latest_demand: Option<f64>,
    throttle_events: f64,
}

impl Window {
    /// Summarises `minutes` minutes before `now`. A minute is known when `known` says so.
    fn of(
        usage: &Usage,
        now: Timestamp,
        minutes: u32,
        not_before: Option<Timestamp>,
        counts: fn(&crate::usage::Minute) -> bool,
    ) -> Self {
        let mut w = Window {
            minutes,
            known: 0,
            peak_demand: None,
            peak_consumed: None,
            latest_demand: None,
            throttle_events: 0.0,
        };
        for (_, m) in usage.window(now, minutes, not_before) {
            let throttled = m.throttled.unwrap_or(0.0).max(0.0);
            if !counts(&m) {
                // Not a known minute, but throttle events it does report are refused demand:
                // a lower bound that must not be dropped (missing consumed is not zero demand).
                if throttled > 0.0 {
                    let demand = throttled / 60.0;
                    w.throttle_events += throttled;
                    w.peak_demand = Some(w.peak_demand.map_or(demand, |p: f64| p.max(demand)));
                }
                continue;
            }
            let consumed = m.consumed.unwrap_or(0.0).max(0.0) / 60.0;
            let demand = consumed + throttled / 60.0;
            w.known += 1;
            w.throttle_events += throttled;
            w.peak_demand = Some(w.peak_demand.map_or(demand, |p: f64| p.max(demand)));
            w.peak_consumed = Some(w.peak_consumed.map_or(consumed, |p: f64| p.max(consumed)));
            w.latest_demand = Some(demand);
        }
        w
    }

    fn numbers(&self, s: &Settings, dim: Dimension, provisioned: u64) -> Numbers {
        let b = s.bounds(dim);
        Numbers {
            window_minutes: self.minutes,
            known_minutes: self.known,
            peak_demand: self.peak_demand,
            peak_consumed: self.peak_consumed,
            throttle_events: self.throttle_events,
            utilisation: self.peak_demand.map(|d| d / provisioned.max(1) as f64),
            target: s.target,
            trigger: s.scale_up_trigger,
            min: b.min,
            max: b.max,
            wanted: None,
            next_decrease_at: None,
        }
    }
}

fn decision(input: &DimensionInput<'_>, to: u64, reason: Reason, numbers: Numbers) -> Decision {
    let from = input.state.provisioned;
    let action = match to.cmp(&from) {
        std::cmp::Ordering::Less => Action::Decrease,
        std::cmp::Ordering::Equal => Action::Keep,
        std::cmp::Ordering::Greater => Action::Increase,
    };
    Decision {
        dimension: input.dimension,
        from,
        to,
        action,
        reason,
        numbers,
        not_before: None,
    }
}

/// The scale-up decision for one dimension. Never lowers capacity.
pub fn scale_up(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> Decision {
    let p = input.state.provisioned;
    let b = settings.bounds(input.dimension);
    let w = Window::of(
        input.usage,
        now,
        settings.up_window_minutes,
        input.state.last_increase,
        |m| m.consumed.is_some() || m.throttled.is_some(),
    );
    let mut numbers = w.numbers(settings, input.dimension, p);
    let Some(peak) = w.peak_demand else {
        return if p < b.min {
            numbers.wanted = Some(b.min);
            decision(&input, b.min, Reason::BelowMin, numbers)
        } else {
            decision(&input, p, Reason::NoData, numbers)
        };
    };
    let wanted = ceil_units(peak / settings.target).clamp(b.min, b.max);
    numbers.wanted = Some(wanted);
    let throttled = w.throttle_events > 0.0;
    let above_trigger = peak >= settings.scale_up_trigger * p as f64;
    if throttled || above_trigger {
        // The one-unit floor is for throttling at the capacity in force (a hot key, say). Throttle
        // events of the minute the last increase was made in were served at the old capacity:
        // demand / target already covers them, and a one-unit update would only hold the table
        // `UPDATING` when a real increase may be needed.
        let settled = Window::of(
            input.usage,
            now,
            settings.up_window_minutes,
            input.state.last_increase.map(|t| t.plus_secs(60)),
            |m| m.consumed.is_some() || m.throttled.is_some(),
        );
        let floor = if above_trigger || settled.throttle_events > 0.0 {
            p.saturating_add(1)
        } else {
            p
        };
        let to = wanted.max(floor).min(b.max).max(p);
        let reason = if to == p && floor == p {
            Reason::NoSaving
        } else if to == p {
            Reason::AtMax
        } else if throttled {
            Reason::Throttled
        } else {
            Reason::AboveTrigger
        };
        return decision(&input, to, reason, numbers);
    }
    if p < b.min {
        return decision(&input, b.min, Reason::BelowMin, numbers);
    }
    decision(&input, p, Reason::BelowTrigger, numbers)
}

/// A scale-down candidate before the read/write pairing.
struct DownCandidate {
    decision: Decision,
    /// Set when the only thing stopping a decrease is the minimum saving.
    small_saving_to: Option<u64>,
}

fn scale_down_one(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> DownCandidate {
    let p = input.state.provisioned;
    let b = settings.bounds(input.dimension);
    let w = Window::of(input.usage, now, settings.down_window_minutes, None, |m| {
        m.consumed.is_some()
    });
    let mut numbers = w.numbers(settings, input.dimension, p);
    let budget = input.state.budget;
    numbers.next_decrease_at = Some(budget.next_allowed(now));
    let done = |d: Decision| DownCandidate {
        decision: d,
        small_saving_to: None,
    };
    let in_cooldown = input
        .state
        .last_increase
        .is_some_and(|t| now.secs_since(t) < settings.cooldown_secs);

    if p > b.max {
        numbers.wanted = Some(b.max);
        return done(if !budget.allows(now) {
            decision(&input, p, Reason::QuotaExhausted, numbers)
        } else {
            decision(&input, b.max, Reason::AboveMax, numbers)
        });
    }
    let (Some(peak), Some(latest)) = (w.peak_demand, w.latest_demand) else {
        return done(decision(&input, p, Reason::NoData, numbers));
    };
    if f64::from(w.known) < MIN_DOWN_COVERAGE * f64::from(w.minutes) {
        return done(decision(&input, p, Reason::InsufficientData, numbers));
    }
    let wanted = ceil_units(peak / settings.target)
        .max(ceil_units(latest))
        .clamp(b.min, b.max);
    numbers.wanted = Some(wanted);
    if wanted >= p {
        return done(decision(&input, p, Reason::NoSaving, numbers));
    }
    if w.throttle_events > 0.0 {
        // Throttling below the target means bursts or a hot key: less capacity would only make
        // it worse, whatever the averages say.
        return done(decision(&input, p, Reason::RecentThrottling, numbers));
    }
    if in_cooldown {
        return done(decision(&input, p, Reason::Cooldown, numbers));
    }
    if !budget.allows(now) {
        return done(decision(&input, p, Reason::QuotaExhausted, numbers));
    }
    let saving = (p - wanted) as f64 / p as f64;
    if saving < settings.min_decrease_fraction {
        return DownCandidate {
            decision: decision(&input, p, Reason::SavingTooSmall, numbers),
            small_saving_to: Some(wanted),
        };
    }
    done(decision(&input, wanted, Reason::Overprovisioned, numbers))
}

/// The scale-down decision for one dimension on its own. Never raises capacity.
pub fn scale_down(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> Decision {
    scale_down_one(settings, input, now).decision
}

/// The scale-down decisions for the read and write dimensions of one table or GSI, which share
/// one decrease: when one is lowered, the other is lowered too if it saves anything at all.
pub fn scale_down_pair(
    settings: &Settings,
    read: DimensionInput<'_>,
    write: DimensionInput<'_>,
    now: Timestamp,
) -> [Decision; 2] {
    let mut pair = [
        scale_down_one(settings, read, now),
        scale_down_one(settings, write, now),
    ];
    let any_decrease = pair.iter().any(|c| c.decision.action == Action::Decrease);
    if any_decrease {
        for c in &mut pair {
            if let Some(to) = c.small_saving_to {
                c.decision.to = to;
                c.decision.action = Action::Decrease;
                c.decision.reason = Reason::RidesAlong;
            }
        }
    }
    pair.map(|c| c.decision)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names_match_the_json_names() {
        let reasons = [
            Reason::Throttled,
            Reason::AboveTrigger,
            Reason::BelowMin,
            Reason::Overprovisioned,
            Reason::AboveMax,
            Reason::RidesAlong,
            Reason::NoData,
            Reason::InsufficientData,
            Reason::BelowTrigger,
            Reason::AtMax,
            Reason::NoSaving,
            Reason::SavingTooSmall,
            Reason::Cooldown,
            Reason::RecentThrottling,
            Reason::QuotaExhausted,
        ];
        for r in reasons {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for a in [Action::Keep, Action::Increase, Action::Decrease] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
