//! The runaway guard (Dynamic DynamoDB's "circuit breaker"): a cap on how often one table is
//! raised in an hour, so that a bug, a feedback loop or a metric gone mad cannot raise a table
//! minute after minute without a human hearing about it.
//!
//! **The model.** Increases are unlimited in DynamoDB and cost money; a healthy table under a
//! steep ramp is raised a handful of times an hour (each raise aims at demand / target, with
//! growth extrapolated, so it rarely needs the next minute's). The guard counts the table's
//! *increases*: the `UpdateTable` calls that raised anything, table or GSI, in the last
//! [`WINDOW_SECS`]. When the table already had `max_increases_per_hour` of them
//! ([`crate::Settings::max_increases_per_hour`], default [`DEFAULT_MAX_INCREASES_PER_HOUR`],
//! overridable by tag), a further increase is not made: the table is **held** at its capacity
//! and the caller reports it failed, so that the alarm fires. It lets go by itself once the
//! oldest counted increase is an hour old.
//!
//! Key decisions:
//! - Generous by default: 30 an hour is one every two minutes for a whole hour, far beyond any
//!   ramp the rules answer in a few steps; it trips on a loop, not on traffic.
//! - Decreases are not counted: DynamoDB's quota already bounds them.
//! - The history is data passed in ([`tripped`], [`record`]): the AWS layer keeps it in its lease
//!   table, next to the lease it takes before changing a table.

use crate::time::Timestamp;

/// Increases allowed per table per hour unless configured otherwise.
pub const DEFAULT_MAX_INCREASES_PER_HOUR: u32 = 30;

/// The span the guard counts over.
pub const WINDOW_SECS: i64 = 3_600;

/// Why a table is held: it was raised `increases` times since `since`, and `max` is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Runaway {
    /// Increases counted in the last hour.
    pub increases: u32,
    /// The configured cap.
    pub max: u32,
    /// The oldest counted increase.
    pub since: Timestamp,
    /// When the guard lets go (the oldest counted increase is then an hour old).
    pub until: Timestamp,
}

impl std::fmt::Display for Runaway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "runaway guard: raised {} times since {} (at most {} an hour); held at its capacity until {}",
            self.increases, self.since, self.max, self.until
        )
    }
}

/// The increases of `history` within the hour before `now` (inclusive of `now`), oldest first.
fn recent(history: &[Timestamp], now: Timestamp) -> Vec<Timestamp> {
    let mut recent: Vec<Timestamp> = history
        .iter()
        .copied()
        .filter(|t| *t <= now && now.secs_since(*t) < WINDOW_SECS)
        .collect();
    recent.sort_unstable();
    recent
}

/// Whether one more increase at `now` is refused: `Some` when `history` already holds
/// `max_per_hour` increases within the last hour.
pub fn tripped(history: &[Timestamp], now: Timestamp, max_per_hour: u32) -> Option<Runaway> {
    let recent = recent(history, now);
    let count = u32::try_from(recent.len()).unwrap_or(u32::MAX);
    if count < max_per_hour {
        return None;
    }
    let since = *recent.first()?;
    // The increase that must age out before one more is allowed.
    let blocking = recent[recent.len() - max_per_hour as usize];
    Some(Runaway {
        increases: count,
        max: max_per_hour,
        since,
        until: blocking.plus_secs(WINDOW_SECS),
    })
}

/// The history after an increase at `at`: the increases of the last hour, and this one.
pub fn record(history: &[Timestamp], at: Timestamp) -> Vec<Timestamp> {
    let mut h = recent(history, at);
    h.push(at);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> Timestamp {
        Timestamp::from_unix(1_796_206_680 + 60 * min)
    }

    #[test]
    fn holds_past_the_cap_and_lets_go_an_hour_later() {
        let mut h = Vec::new();
        for m in 0..3 {
            assert_eq!(tripped(&h, at(m), 3), None, "increase {m} is allowed");
            h = record(&h, at(m));
        }
        let r = tripped(&h, at(3), 3).expect("the fourth within the hour is held");
        assert_eq!(
            (r.increases, r.max, r.since, r.until),
            (3, 3, at(0), at(60))
        );
        assert!(r.to_string().contains("raised 3 times"), "{r}");
        assert!(tripped(&h, at(59), 3).is_some());
        assert_eq!(tripped(&h, at(60), 3), None, "the oldest aged out");
    }

    #[test]
    fn record_forgets_what_is_older_than_an_hour() {
        let h = record(&[at(0), at(30), at(-5)], at(61));
        assert_eq!(h, vec![at(30), at(61)]);
        // A history from a clock ahead of ours does not count yet (and cannot hold us forever).
        assert_eq!(tripped(&[at(10), at(11)], at(5), 2), None);
    }
}
