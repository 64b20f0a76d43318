//! What a rule returns: a [`Decision`] per dimension, with the [`Action`], a machine-readable
//! [`Reason`] and the [`Numbers`] behind it, so that every log line explains itself; and what a
//! rule takes: a [`DimensionInput`] (the dimension's state, its recent datapoints and, when the
//! caller has it, its history for the seasonal floor).
//!
//! The reasons are part of the product's interface: they are logged, returned in the run summary
//! and shown by the CLI under their [`Reason::as_str`] names, which never change meaning.

use serde::Serialize;

use crate::config::Dimension;
use crate::time::Timestamp;
use crate::usage::{DimensionState, Usage};

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
    /// Requests were refused for lack of capacity (provisioned-throughput throttling, or
    /// throttling of unknown cause) after the last increase took effect: raise to demand /
    /// target.
    Throttled,
    /// Peak demand reached the scale-up trigger: raise to demand / target.
    AboveTrigger,
    /// Demand is rising fast enough to reach the trigger before a new capacity could take
    /// effect: raise to the predicted demand / target.
    Rising,
    /// Yesterday and a week ago, the same time of day brought more demand within the seasonal
    /// look-ahead than the capacity covers: raise ahead of it.
    Seasonal,
    /// An announced event (a boost) asks for at least this capacity now: raise to it, or keep
    /// it rather than lower below it.
    Boost,
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
    /// The only throttling happened before the last increase took effect (it was served at the
    /// old capacity, and that increase already answers it).
    Settling,
    /// Requests were throttled, but only by a hot partition (key-range throttling) or account
    /// limits, which more table capacity does not cure: nothing is bought.
    KeyRangeThrottling,
    /// More is wanted but the capacity is at the configured max.
    AtMax,
    /// Capacity already matches demand / target (or is below it).
    NoSaving,
    /// Lowering would save less than the minimum decrease fraction.
    SavingTooSmall,
    /// An increase happened within the cooldown.
    Cooldown,
    /// Requests were refused for lack of capacity in the scale-down window: never lower a
    /// throttled table.
    RecentThrottling,
    /// DynamoDB's decrease quota does not allow a decrease now (nor within the grace).
    QuotaExhausted,
    /// The previous decrease was less than an hour ago, so this one would spend one of the
    /// day's four spacing-free decreases; those are kept for a larger drop.
    Pacing,
    /// A GSI of the table had write requests refused for lack of capacity in the scale-down
    /// window: a throttled GSI write refuses the base-table write too, so the table's own write
    /// consumption understates its demand and its writes are not lowered.
    GsiWriteThrottling,
    /// Raised less than wanted (or not at all): the table and its GSIs together reached the
    /// per-table maximum of `DescribeLimits`, which counts them as one.
    TableQuota,
}

impl Reason {
    /// Every reason, in documentation order.
    pub const ALL: [Reason; 23] = [
        Reason::Throttled,
        Reason::AboveTrigger,
        Reason::Rising,
        Reason::Seasonal,
        Reason::Boost,
        Reason::BelowMin,
        Reason::Overprovisioned,
        Reason::AboveMax,
        Reason::RidesAlong,
        Reason::NoData,
        Reason::InsufficientData,
        Reason::BelowTrigger,
        Reason::Settling,
        Reason::KeyRangeThrottling,
        Reason::AtMax,
        Reason::NoSaving,
        Reason::SavingTooSmall,
        Reason::Cooldown,
        Reason::RecentThrottling,
        Reason::QuotaExhausted,
        Reason::Pacing,
        Reason::GsiWriteThrottling,
        Reason::TableQuota,
    ];

    /// The name used in JSON and logs, e.g. `above_trigger`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Throttled => "throttled",
            Reason::AboveTrigger => "above_trigger",
            Reason::Rising => "rising",
            Reason::Seasonal => "seasonal",
            Reason::Boost => "boost",
            Reason::BelowMin => "below_min",
            Reason::Overprovisioned => "overprovisioned",
            Reason::AboveMax => "above_max",
            Reason::RidesAlong => "rides_along",
            Reason::NoData => "no_data",
            Reason::InsufficientData => "insufficient_data",
            Reason::BelowTrigger => "below_trigger",
            Reason::Settling => "settling",
            Reason::KeyRangeThrottling => "key_range_throttling",
            Reason::AtMax => "at_max",
            Reason::NoSaving => "no_saving",
            Reason::SavingTooSmall => "saving_too_small",
            Reason::Cooldown => "cooldown",
            Reason::RecentThrottling => "recent_throttling",
            Reason::QuotaExhausted => "quota_exhausted",
            Reason::Pacing => "pacing",
            Reason::GsiWriteThrottling => "gsi_write_throttling",
            Reason::TableQuota => "table_quota",
        }
    }
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

/// The numbers behind a decision, for logs and reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Numbers {
    /// Minutes in the look-back window.
    pub window_minutes: u32,
    /// Minutes of the window with data.
    pub known_minutes: u32,
    /// Highest demand in the window (consumed plus throttled for lack of capacity), units/s.
    pub peak_demand: Option<f64>,
    /// Highest consumption in the window, units/s.
    pub peak_consumed: Option<f64>,
    /// Throttle events in the window, whatever their cause.
    pub throttle_events: f64,
    /// The part of `throttle_events` that more table capacity does not cure (key-range and
    /// account-limit throttling).
    pub key_range_events: f64,
    /// Peak demand / provisioned.
    pub utilisation: Option<f64>,
    /// Growth factor applied to the peak demand (1 when demand is not rising, scale-up only).
    pub growth: f64,
    /// The seasonal look-ahead's expected peak demand (units/s), when there is history.
    pub seasonal_demand: Option<f64>,
    /// The capacity an active boost asks for (already within min and max), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boost: Option<u64>,
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

impl Decision {
    /// Whether the decision changes capacity.
    pub fn changes(&self) -> bool {
        self.to != self.from
    }

    /// A decision to move `input`'s dimension to `to`, for `reason`.
    pub(crate) fn new(
        input: &DimensionInput<'_>,
        to: u64,
        reason: Reason,
        numbers: Numbers,
    ) -> Self {
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
}

/// Input of one dimension: its state, its datapoints and, optionally, its history.
#[derive(Clone, Copy, Debug)]
pub struct DimensionInput<'a> {
    /// Read or write.
    pub dimension: Dimension,
    /// State from `DescribeTable`.
    pub state: &'a DimensionState,
    /// Recent datapoints from CloudWatch (at least the rule's window).
    pub usage: &'a Usage,
    /// Older datapoints for the seasonal floor (the same time of day yesterday and a week ago,
    /// see [`crate::seasonal`]), when the caller fetched them. `None`: no seasonal floor. It
    /// may be the same series as `usage` when that reaches back far enough.
    pub history: Option<&'a Usage>,
    /// The capacity announced events (boosts) ask for right now, when one is active (the caller
    /// works it out from the boosts and `now`, lead time included): scale-up raises to it and
    /// scale-down never lowers below it. Clamped to the dimension's min and max.
    pub boost: Option<u64>,
}

impl<'a> DimensionInput<'a> {
    /// An input without history (no seasonal floor).
    pub const fn new(dimension: Dimension, state: &'a DimensionState, usage: &'a Usage) -> Self {
        Self {
            dimension,
            state,
            usage,
            history: None,
            boost: None,
        }
    }

    /// The same input with `history` for the seasonal floor.
    pub const fn with_history(self, history: &'a Usage) -> Self {
        Self {
            history: Some(history),
            ..self
        }
    }

    /// The same input with an active boost asking for `units`.
    pub const fn with_boost(self, units: Option<u64>) -> Self {
        Self {
            boost: units,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names_match_the_json_names() {
        for r in Reason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let mut names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len(), "reason names are unique");
        for a in [Action::Keep, Action::Increase, Action::Decrease] {
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
    }
}
