//! Time in a run: the invocation's deadline, and the run's clock.
//!
//! **The deadline.** Lambda tells each invocation when it will be stopped (the Runtime API's
//! `Lambda-Runtime-Deadline-Ms`, `lambda_runtime`'s `Context::deadline`). A run starts no new
//! table (no describe, no lease, no `UpdateTable`) once less than [`MARGIN`] is left, and reports
//! the tables it did not get to as skipped for the deadline; a decrease due a few seconds after
//! the run started (a decision's `not_before`) is waited for only when that is before the same
//! point, never after it. The margin covers a table's calls as they usually go (tens to
//! hundreds of milliseconds each) and returning the summary. It does not cover the worst case:
//! one call may take up to its operation timeout ([`crate::aws::timeouts`]: three attempts and
//! the backoff, about 19 s with the functions' 5 s attempts), so a run that starts a table just
//! before the margin and meets slow calls can still be stopped halfway through it. That is safe
//! rather than clean: the capacity is either changed or not (`UpdateTable` is one call), the
//! lease it holds expires after [`crate::lease::LEASE_SECS`], and the next run starts over from
//! `DescribeTable`.
//!
//! **The clock.** The policy takes `now` as data; the run pairs it with a monotonic instant
//! ([`Clock`]), so that everything it waits for (a deadline, a `not_before`) is measured on
//! Tokio's clock. Tests drive that clock (paused time) instead of waiting on the wall clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use scaling_policy::Timestamp;
use tokio::time::Instant;

/// No new table is started with less than this left before the deadline.
pub const MARGIN: Duration = Duration::from_secs(10);

/// When the invocation will be stopped, if known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline (the CLI, tests of other things).
    pub const NONE: Deadline = Deadline(None);

    /// A deadline at `instant` (on Tokio's clock).
    pub const fn at(instant: Instant) -> Self {
        Deadline(Some(instant))
    }

    /// A deadline `after` from now.
    pub fn after(after: Duration) -> Self {
        Deadline(Some(Instant::now() + after))
    }

    /// The deadline Lambda gives, in milliseconds since the Unix epoch.
    pub fn from_epoch_millis(millis: u64) -> Self {
        let at = UNIX_EPOCH + Duration::from_millis(millis);
        let left = at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Self::after(left)
    }

    /// The last instant a table may be started at: the deadline less [`MARGIN`].
    pub fn last_start(&self) -> Option<Instant> {
        self.0.map(|at| at.checked_sub(MARGIN).unwrap_or(at))
    }

    /// Whether a table may be started at `at`.
    pub fn allows_start_at(&self, at: Instant) -> bool {
        self.last_start().is_none_or(|last| at < last)
    }

    /// Whether a table may be started now.
    pub fn allows_start(&self) -> bool {
        self.allows_start_at(Instant::now())
    }
}

/// The run's `now` and the Tokio instant it corresponds to.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The run's `now`, as the policy sees it.
    pub start: Timestamp,
    /// The instant of `start`.
    pub started: Instant,
}

impl Clock {
    /// A clock that reads `now` at this instant.
    pub fn starting_at(now: Timestamp) -> Self {
        Self {
            start: now,
            started: Instant::now(),
        }
    }

    /// The current time: `start` plus the time elapsed since (whole seconds).
    pub fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.started.elapsed().as_secs()).unwrap_or(i64::MAX);
        self.start.plus_secs(elapsed)
    }

    /// The instant `t` falls at (the start for anything before it).
    pub fn instant_of(&self, t: Timestamp) -> Instant {
        let secs = u64::try_from(t.secs_since(self.start)).unwrap_or(0);
        self.started + Duration::from_secs(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tables_start_until_the_margin_before_the_deadline() {
        let d = Deadline::after(Duration::from_secs(30));
        assert!(d.allows_start());
        tokio::time::advance(Duration::from_secs(19)).await;
        assert!(d.allows_start());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!d.allows_start(), "10 s left is the margin");
        assert!(Deadline::NONE.allows_start());
        let passed = Deadline::from_epoch_millis(0);
        assert!(!passed.allows_start(), "a deadline in the past");
    }

    #[tokio::test(start_paused = true)]
    async fn the_clock_follows_tokio_time() {
        let c = Clock::starting_at(Timestamp::from_unix(1_000));
        tokio::time::advance(Duration::from_millis(2_500)).await;
        assert_eq!(c.now(), Timestamp::from_unix(1_002));
        assert_eq!(
            c.instant_of(Timestamp::from_unix(1_010)),
            c.started + Duration::from_secs(10)
        );
        assert_eq!(c.instant_of(Timestamp::from_unix(900)), c.started);
    }
}
