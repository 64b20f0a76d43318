//! Observations: per-minute CloudWatch datapoints (with gaps) and a dimension's current state.

use serde::Serialize;

use crate::quota::DecreaseBudget;
use crate::time::Timestamp;

/// One minute of CloudWatch data for one dimension: the minute's Sums, `None` where CloudWatch
/// has no datapoint. A gap is *unknown*, never zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Minute {
    /// `Consumed{Read,Write}CapacityUnits`, Sum over the minute (capacity units).
    pub consumed: Option<f64>,
    /// `{Read,Write}ThrottleEvents`, Sum over the minute: every throttled request, whatever the
    /// cause. Each refused request counts as at least one unit of unmet demand, so this is a
    /// lower bound of the refused units.
    pub throttled: Option<f64>,
    /// The same throttle events by cause (DynamoDB publishes them since 2025), when they were
    /// fetched: the AWS layer asks for them only for series whose combined throttle events were
    /// above zero. `None` means the cause is unknown, and every event counts as "capacity too
    /// low" (the cautious reading: more capacity is what cures that).
    pub causes: Option<ThrottleCauses>,
}

/// Throttle events of one minute by cause (Sums over the minute).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ThrottleCauses {
    /// `{Read,Write}ProvisionedThroughputThrottleEvents`: provisioned capacity too low; more
    /// capacity cures it.
    pub provisioned: f64,
    /// `{Read,Write}KeyRangeThroughputThrottleEvents`: one partition is hot; more table capacity
    /// does not cure it.
    pub key_range: f64,
    /// `{Read,Write}AccountLimitThrottleEvents` and `...MaxOnDemandThroughputThrottleEvents`:
    /// account or on-demand limits, which table capacity does not cure either.
    pub other: f64,
}

impl Minute {
    /// A minute with both datapoints.
    pub const fn known(consumed: f64, throttled: f64) -> Self {
        Self {
            consumed: Some(consumed),
            throttled: Some(throttled),
            causes: None,
        }
    }

    /// A minute CloudWatch has nothing for.
    pub const GAP: Minute = Minute {
        consumed: None,
        throttled: None,
        causes: None,
    };

    /// Throttle events that more capacity would have served: the provisioned-throughput ones
    /// when the causes are known, else every event (the cautious reading).
    pub fn capacity_throttled(&self) -> f64 {
        let total = self.throttled.unwrap_or(0.0).max(0.0);
        match self.causes {
            Some(c) => c.provisioned.max(0.0),
            None => total,
        }
    }

    /// Throttle events that more table capacity would not have served: key-range (hot
    /// partition) and account-limit ones. Zero when the causes are unknown.
    pub fn uncurable_throttled(&self) -> f64 {
        self.causes
            .map_or(0.0, |c| c.key_range.max(0.0) + c.other.max(0.0))
    }

    /// Demand of the minute in units/s, for capacity purposes: consumed plus the throttle events
    /// more capacity would have served (each refused request counts as at least one unit).
    /// `None` when the minute has no datapoint at all.
    pub fn demand(&self) -> Option<f64> {
        if self.consumed.is_none() && self.throttled.is_none() {
            return None;
        }
        Some((self.consumed.unwrap_or(0.0).max(0.0) + self.capacity_throttled()) / 60.0)
    }
}

/// Consecutive one-minute datapoints starting at `start` (a whole minute).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Start of the first minute.
    pub start: Timestamp,
    /// One entry per minute from `start` on.
    pub minutes: Vec<Minute>,
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::from_unix(0)
    }
}

impl Usage {
    /// A series with no minutes at all.
    pub const fn empty(start: Timestamp) -> Self {
        Self {
            start,
            minutes: Vec::new(),
        }
    }

    /// The complete minutes of the `minutes` minutes before `now`'s minute, skipping those that
    /// started before `not_before`. Minutes outside the series are simply absent (unknown).
    pub fn window(
        &self,
        now: Timestamp,
        minutes: u32,
        not_before: Option<Timestamp>,
    ) -> impl Iterator<Item = (Timestamp, Minute)> + '_ {
        let end = now.floor_minute();
        let mut from = end.plus_secs(-60 * i64::from(minutes));
        if let Some(nb) = not_before {
            from = from.max(nb);
        }
        self.minutes.iter().enumerate().filter_map(move |(i, m)| {
            let t = self.start.floor_minute().plus_secs(60 * i as i64);
            (t >= from && t < end).then_some((t, *m))
        })
    }
}

/// What DynamoDB says about one dimension of a table or GSI right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DimensionState {
    /// Provisioned capacity units per second.
    pub provisioned: u64,
    /// Decrease quota state of the table or GSI this dimension belongs to.
    pub budget: DecreaseBudget,
    /// When capacity was last raised, if known.
    pub last_increase: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_takes_complete_minutes_only() {
        let start = Timestamp::from_unix(600);
        let u = Usage {
            start,
            minutes: (0..10).map(|i| Minute::known(f64::from(i), 0.0)).collect(),
        };
        // now = 10:30 into minute 8 (t=1080+30): minutes 5,6,7 are the last three complete ones.
        let now = Timestamp::from_unix(600 + 8 * 60 + 30);
        let got: Vec<f64> = u
            .window(now, 3, None)
            .map(|(_, m)| m.consumed.unwrap())
            .collect();
        assert_eq!(got, vec![5.0, 6.0, 7.0]);
        let nb = Some(Timestamp::from_unix(600 + 6 * 60 + 1));
        let got: Vec<f64> = u
            .window(now, 3, nb)
            .map(|(_, m)| m.consumed.unwrap())
            .collect();
        assert_eq!(got, vec![7.0], "the minute holding the increase is skipped");
    }
}
