//! DynamoDB's decrease quota: per table and per GSI, per UTC day, the first
//! [`FREE_DECREASES`] decreases may happen at any time; after that one decrease at most every
//! [`DECREASE_INTERVAL_SECS`] seconds, and never more than [`MAX_DECREASES_PER_DAY`] in a day.
//! One `UpdateTable` lowering reads and writes together counts once.
//!
//! **Which wording this follows.** DynamoDB has documented the quota two ways, and which one it
//! enforces is unverified: the older "4 decreases in the first hour, then 1 per hour if none in
//! the preceding hour", and the current ServiceQuotas page's token bucket, "You start each day
//! with 4 available decreases. Each hour, 1 additional decrease becomes available, up to the
//! maximum of 4 available at any time", at most 27 a day. The rule here satisfies both: its
//! first four decreases of a day need no spacing (both wordings start the day with four), and
//! each later one comes at least an hour after the previous one, by which time either reading
//! has made one more available; the daily cap is the same. It is stricter than the token bucket
//! (which would allow a burst of up to four again after a quiet morning), never looser. It is
//! the one rule the functions, the CLI and the simulator share.

use serde::Serialize;

use crate::time::Timestamp;

/// Decreases allowed at any time of the UTC day, before the hourly rule applies.
pub const FREE_DECREASES: u32 = 4;
/// After the free ones, at most one decrease per this many seconds.
pub const DECREASE_INTERVAL_SECS: i64 = 3_600;
/// Hard cap of decreases per UTC day.
pub const MAX_DECREASES_PER_DAY: u32 = 27;

/// How much of today's decrease quota a table or GSI has used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecreaseBudget {
    /// `NumberOfDecreasesToday` as DynamoDB reports it.
    pub decreases_today: u32,
    /// `LastDecreaseDateTime`, if any.
    pub last_decrease: Option<Timestamp>,
}

impl DecreaseBudget {
    /// Decreases used in `now`'s UTC day: a count whose last decrease fell on an earlier day is
    /// stale and counts as zero.
    pub fn used_today(&self, now: Timestamp) -> u32 {
        match self.last_decrease {
            Some(last) if last.utc_day() < now.utc_day() => 0,
            _ => self.decreases_today,
        }
    }

    /// Whether DynamoDB would accept one more decrease at `now`.
    pub fn allows(&self, now: Timestamp) -> bool {
        self.next_allowed(now) <= now
    }

    /// The earliest instant at or after `now` when a decrease is allowed.
    pub fn next_allowed(&self, now: Timestamp) -> Timestamp {
        let used = self.used_today(now);
        let tomorrow = now.start_of_utc_day().plus_secs(crate::time::DAY_SECS);
        if used < FREE_DECREASES {
            return now;
        }
        if used >= MAX_DECREASES_PER_DAY {
            return tomorrow;
        }
        match self.last_decrease {
            Some(last) => last.plus_secs(DECREASE_INTERVAL_SECS).clamp(now, tomorrow),
            None => now,
        }
    }

    /// The budget after one more decrease at `now`.
    pub fn after_decrease(&self, now: Timestamp) -> Self {
        Self {
            decreases_today: self.used_today(now) + 1,
            last_decrease: Some(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = crate::time::DAY_SECS;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(DAY * 100 + secs)
    }

    #[test]
    fn four_free_then_hourly() {
        let mut b = DecreaseBudget::default();
        for i in 0..4 {
            assert!(b.allows(at(60 * i)), "free decrease {i}");
            b = b.after_decrease(at(60 * i));
        }
        assert!(!b.allows(at(240)), "the fifth within the hour is refused");
        assert_eq!(b.next_allowed(at(240)), at(180 + 3600));
        assert!(b.allows(at(180 + 3600)));
    }

    #[test]
    fn at_most_27_a_day() {
        let mut b = DecreaseBudget::default();
        let mut t = 0;
        let mut n = 0;
        while t < DAY {
            if b.allows(at(t)) {
                b = b.after_decrease(at(t));
                n += 1;
            }
            t += 60;
        }
        assert_eq!(n, 4 + 23, "4 free, then one per hour for the 23 hours left");
        let mut b = DecreaseBudget {
            decreases_today: 27,
            last_decrease: Some(at(0)),
        };
        assert!(!b.allows(at(DAY - 1)));
        assert_eq!(b.next_allowed(at(5 * 3600)), at(DAY));
        b.decreases_today = 26;
        assert!(b.allows(at(2 * 3600)));
    }

    #[test]
    fn resets_at_midnight_utc() {
        let b = DecreaseBudget {
            decreases_today: 27,
            last_decrease: Some(at(DAY - 10)),
        };
        assert!(!b.allows(at(DAY - 1)));
        assert!(b.allows(at(DAY)), "a new UTC day starts with a fresh quota");
        assert_eq!(b.used_today(at(DAY)), 0);
    }
}
