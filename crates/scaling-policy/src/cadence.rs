//! How often scale-up polls each series (a table's or GSI's reads or writes): every minute only
//! while a minute may matter, less often while demand is far from its trigger. `GetMetricData`
//! costs $0.01 per 1,000 metrics requested, whatever the window, so the bill is the number of
//! metrics polled; the cadence decides it.
//!
//! **Every minute** ([`Cadence::next`]) after an increase ([`Why::Increased`]), while requests
//! are throttled for lack of capacity or of unknown cause ([`Why::Throttled`]), and while demand
//! is at or above half the target utilisation ([`Why::Hot`], [`Cadence::hot_share`]: the rise
//! since the last increase may go on, and from there a jump the guarantee does not cover
//! throttles at once; this is what keeps busy tables answered within a minute). Demand counts as
//! at least [`JUMP_FLOOR_UNITS`] (a rise to just under it is no jump, so it may come any
//! minute): a table of 1 or 2 units is hot. Half the target was tuned on the shared traces
//! (`cargo run --release -p capacity-sim --example tune -- ../shared/traces/raw hot`, shares
//! 0.4 to 1 at `MaxPollMinutes=10`): at 0.6 and above some trace throttles more than when read
//! every minute; at 0.5 none does, nor any synthetic trace.
//!
//! **Shipped: a longest interval of 10** ([`Cadence::default`], `MaxPollMinutes=10`): with the
//! hot rule above and the calm wait below, every series of the shared and synthetic traces
//! throttles no more than when read every minute, and the policy's frontier is the same. A longest
//! interval of 1 reads consumed capacity every minute and spaces out only the combined throttle
//! series (every [`Cadence::throttles_interval_minutes`], 10, while nothing is throttled or
//! just raised): every reaction comes at the same minute as with [`Cadence::EVERY_MINUTE`],
//! whatever the traffic, for a little over half its bill. The rules below space out consumed
//! capacity when the longest interval is above 1. The cold start reads the whole calm wait of a
//! series ([`Cadence::first_poll_minutes`]); the shell does so for a bounded number of series a
//! run ([`Plan::without_calm`], [`Why::CalmUnread`]), the others read every minute until their
//! turn: read for all 8,336 series of 2,500 tables at once, that run outgrew the function's
//! memory and time (`scripts/bench-scale`).
//!
//! **Every minute while the series surprises** ([`Why::RecentJump`]): until
//! [`Cadence::calm_minutes`] (6 hours) have passed since a minute whose demand more than
//! doubled the largest of the 5 before it ([`newest_jump`]: growth faster than the guarantee
//! covers, which only reading every minute answers at once). Traffic comes in bursts: on the
//! shared traces, a series that jumped is likely to jump again within hours (AAPL, FB and ELB
//! jump every hour or so, and are read every minute nearly all the time), while one calm for
//! hours rarely jumps (NASA, WorldCup). Every poll reads all the minutes since the one before
//! (the price is per metric, whatever the window), so no jump goes unseen; the first poll
//! after a cold start reads the whole wait, so that a restart does not forget a calm series
//! (nor a jumpy one). Measured with `cargo run --release -p capacity-sim --example tune --
//! ../shared/traces/raw cadence` (a wait of 2, 6, 12 and 24 hours; 6 is where it stops
//! helping): at `MaxPollMinutes=10`, the wait keeps the lowest trace's advantage over target
//! tracking where reading every minute has it; what it leaves (a jump after hours of calm, on a
//! series past half its target) the hot rule takes.
//!
//! **Otherwise, the worst case the guarantee covers.** From the first minute this poll did not
//! see (the one after the newest datapoint), demand doubles at once and again every
//! [`Cadence::doubling_minutes`] (5), from the level the poll saw (the scale-up window's peak
//! demand times the policy's own growth factor, or the seasonal expectation when higher). The
//! next poll is the latest, at most [`Cadence::max_interval_minutes`] later, that still
//! 1. reads the first minute of that worst case at the scale-up trigger no later than
//!    [`Cadence::answer_minutes`] (3) after CloudWatch can have published it (a minute this poll
//!    did not see is published after this poll, and never before the minute ends): the
//!    guarantee ([`Why::Guarantee`]); and
//! 2. lets the capacity plus the burst bucket (300 s of unused capacity, estimated as a lower
//!    bound from the consumed datapoints, [`bucket_lower_bound`]) serve a doubling until an
//!    increase made at that poll is in force ([`Why::BurstBucket`]): a table near its trigger
//!    with an empty bucket is read every minute, one with a full bucket every three.
//!
//! Nothing to answer with (at the configured max, [`Why::AtMax`]) or no datapoint at all (an idle
//! table, [`Why::NoData`]): the longest interval.
//!
//! **The guarantee**, as the simulator proves it (`capacity-sim`, `cadence::guarantee`): on any
//! series, demand that doubles within 5 minutes (at once or as a ramp, and again every 5 minutes
//! after that) and so reaches the scale-up trigger is answered with an increase within 3 minutes
//! of the publication of its first datapoint at the trigger. Beyond that growth (a flash crowd
//! of many times the demand read, traffic on a table that had none), the answer comes within
//! [`Cadence::max_interval_minutes`] of the publication. That is the price of the saving.
//!
//! **Never blind.** A poll decides as each run it skipped would have ([`Cadence::decide`]: the
//! largest raise of the runs right after each minute it is the first to read), so every minute
//! the every-minute runs would have looked at is looked at, and a jump read late keeps the growth
//! the next run would have extrapolated: the raises, and so the capacity bought, are those of
//! polling every minute, only later. The combined throttle series is read at every poll while
//! throttled or just raised, after a cold start or a change of capacity, and at least every
//! [`Cadence::throttles_interval_minutes`] ([`Cadence::plan`]); in between a poll reads consumed
//! capacity alone, which a lack of capacity always shows (a throttled minute consumes all the
//! capacity and the bucket), and an increase decided on it fetches the throttle series before it
//! is sized ([`Cadence::second`], the run's second request, which also fetches the key-range
//! throttle events wherever the combined ones are above zero). Key-range throttling alone does
//! not mean every minute: more capacity does not cure it.
//!
//! **State.** A [`Polled`] per series, which the shell keeps between runs (the warm Lambda
//! container, the simulator's policy). No state, as after a cold start, means due: everything is
//! read, and the cadence then rebuilds itself from what that poll saw. A capacity other than the
//! one the last poll planned for (a scale-down, a change by hand) is read at once. Time is an
//! argument; nothing here reads a clock. [`Cadence::EVERY_MINUTE`] (both intervals 1) polls
//! everything every minute, exactly as before the cadence existed.

use serde::Serialize;

use crate::config::Settings;
use crate::decision::{Action, Decision, DimensionInput, Reason};
use crate::scale_up::scale_up;
use crate::seasonal;
use crate::time::Timestamp;
use crate::usage::Usage;
use crate::window::{GROWTH_MINUTES, PUBLICATION_SLACK_MINUTES};

/// CloudWatch publishes a minute's datapoint within this many minutes of its end (DESIGN
/// section 4: roughly 1 to 3).
pub const PUBLICATION_DELAY_MINUTES: u32 = 3;

/// How long the shell keeps a fetched seasonal history before fetching it again, minutes (six
/// hours). The history is days old, so a copy fetched over
/// [`crate::seasonal::history_range`] with this validity stays right all that time; fetching it
/// hourly would cost six times as much, for the same data.
pub const HISTORY_REFRESH_MINUTES: u32 = 360;

/// Whether a seasonal history fetched at `fetched` (`None`: never) is to be fetched again at
/// `now`: [`HISTORY_REFRESH_MINUTES`] old, counted in whole minutes (runs start a few seconds
/// late, by a different amount each time; a copy fetched at 00:00:20 still serves at 06:00:05,
/// and is refreshed then).
pub fn history_stale(fetched: Option<Timestamp>, now: Timestamp) -> bool {
    fetched.is_none_or(|t| {
        now.floor_minute().secs_since(t.floor_minute()) >= 60 * i64::from(HISTORY_REFRESH_MINUTES)
    })
}

/// Minutes of consumed datapoints the burst-bucket estimate reads: from empty, a table at 80%
/// of its capacity refills its 300 s bucket in 25 minutes.
pub const BUCKET_WINDOW_MINUTES: u32 = 30;

/// The cadence's parameters. [`Cadence::default`] is the shipped one; [`Cadence::EVERY_MINUTE`]
/// polls every series every minute (as before the cadence existed).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Cadence {
    /// The longest a series' consumed capacity goes unread, minutes. It bounds the reaction to
    /// growth the guarantee does not cover. 1 (the shipped value): every minute.
    pub max_interval_minutes: u32,
    /// The longest the combined throttle series goes unread while the series is neither
    /// throttled nor just raised, minutes (at a poll: a longer [`Cadence::max_interval_minutes`]
    /// reads it at every poll). 1: at every poll.
    pub throttles_interval_minutes: u32,
    /// The growth the guarantee covers: demand doubles within this many minutes, again and again.
    pub doubling_minutes: u32,
    /// A minute at the trigger is read within this many minutes of its publication.
    pub answer_minutes: u32,
    /// Minutes an increase takes to be in force (the burst-bucket rule); DynamoDB: seconds to a
    /// few minutes, the simulator's default 1.
    pub update_minutes: u32,
    /// Seconds of unused capacity the burst bucket keeps (DynamoDB: 300).
    pub burst_secs: f64,
    /// Minutes a series must have gone without a jump the guarantee does not cover (a minute
    /// whose demand more than doubles the largest of the [`Cadence::doubling_minutes`] before
    /// it, [`newest_jump`]) before its consumed capacity is read less often than every minute
    /// ([`Why::RecentJump`]). 0: no such wait.
    pub calm_minutes: u32,
    /// The share of the target utilisation from which a series is hot ([`Why::Hot`]): its
    /// demand (times its growth, or the seasonal floor, and at least [`JUMP_FLOOR_UNITS`]) at or
    /// above `hot_share` times the target times capacity is read every minute. 1: at the target
    /// itself; shipped 0.5 (see the module header).
    pub hot_share: f64,
}

impl Default for Cadence {
    fn default() -> Self {
        Self {
            max_interval_minutes: 10,
            throttles_interval_minutes: 10,
            doubling_minutes: 5,
            answer_minutes: 3,
            update_minutes: 1,
            burst_secs: 300.0,
            calm_minutes: 360,
            hot_share: 0.5,
        }
    }
}

impl Cadence {
    /// The longest the combined throttle series goes unread while a series is neither
    /// throttled nor just raised, minutes: [`Cadence::throttles_interval_minutes`], or the
    /// longest interval when that is longer (the series is read only at polls).
    pub fn throttles_read_within_minutes(&self) -> u32 {
        self.throttles_interval_minutes
            .max(self.max_interval_minutes)
    }

    /// Every series every minute.
    pub const EVERY_MINUTE: Cadence = Cadence {
        max_interval_minutes: 1,
        throttles_interval_minutes: 1,
        doubling_minutes: 5,
        answer_minutes: 3,
        update_minutes: 1,
        burst_secs: 300.0,
        calm_minutes: 0,
        hot_share: 0.5,
    };
}

/// Why a series is next polled when it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The cadence is off: every minute.
    EveryMinute,
    /// Capacity was just raised: watch it take effect.
    Increased,
    /// Requests were refused for lack of capacity (or of unknown cause) in the window.
    Throttled,
    /// Demand is at or above the target utilisation: the rise since the last increase may go
    /// on, and the trigger is near.
    Hot,
    /// Demand jumped beyond the growth the guarantee covers less than
    /// [`Cadence::calm_minutes`] ago: a series that surprises is read every minute.
    RecentJump,
    /// The calm wait has not been read yet (the shell left this series' long first read to a
    /// later run, [`Plan::without_calm`]): whether it jumps is not known, so every minute
    /// until it is read.
    CalmUnread,
    /// A doubling would drain the burst bucket before an increase made later took effect.
    BurstBucket,
    /// The interval the reaction guarantee allows.
    Guarantee,
    /// Demand is far from the trigger: the longest interval.
    MaxInterval,
    /// More capacity is wanted but the configured max is reached: nothing to answer with.
    AtMax,
    /// No datapoint at all: demand is unknown; the longest interval (an idle table).
    NoData,
}

impl Why {
    /// The name used in logs and JSON, e.g. `burst_bucket`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Why::EveryMinute => "every_minute",
            Why::Increased => "increased",
            Why::Throttled => "throttled",
            Why::Hot => "hot",
            Why::RecentJump => "recent_jump",
            Why::CalmUnread => "calm_unread",
            Why::BurstBucket => "burst_bucket",
            Why::Guarantee => "guarantee",
            Why::MaxInterval => "max_interval",
            Why::AtMax => "at_max",
            Why::NoData => "no_data",
        }
    }
}

/// What the shell keeps about one series between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Polled {
    /// The minute of the last poll.
    pub at: Timestamp,
    /// The minute from which the series is due again.
    pub due: Timestamp,
    /// The minute the combined throttle series was last read.
    pub throttles_at: Timestamp,
    /// The capacity the next poll was planned for: a run that finds another one (a scale-down,
    /// a change by hand) polls at once.
    pub capacity: u64,
    /// The first minute after the newest jump beyond the guarantee's growth that the polls
    /// saw (or, when they saw none, the first minute they could judge): the series is calm
    /// since then ([`Cadence::calm_minutes`]).
    pub calm_since: Timestamp,
    /// A poll read the whole calm wait ([`Plan::calm`]): `calm_since` is judged from every
    /// minute of it. Until then the series is read every minute ([`Why::CalmUnread`]).
    pub calm_read: bool,
    /// Why then.
    pub why: Why,
}

impl Polled {
    /// Minutes from the last poll to the next.
    pub fn interval_minutes(&self) -> i64 {
        self.due.secs_since(self.at) / 60
    }
}

/// What a due series' poll fetches in a run's first request, and how it decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The combined throttle series is fetched too (else consumed only).
    pub throttles: bool,
    /// Minutes of datapoints to fetch, up to the poll's minute.
    pub fetch_minutes: u32,
    /// The runs of this many minutes before this one were skipped since the series' datapoints
    /// (of the kind this poll reads) were last read: the poll decides as each of them would
    /// have ([`Cadence::decide`]). 0 after a cold start or a poll the minute before.
    pub replayed_minutes: u32,
    /// The poll reads the calm wait ([`Cadence::first_poll_minutes`]) to judge whether the
    /// series is calm: its first poll (a cold start, a new table), and each poll after until
    /// one does. The shell may leave it to a later run ([`Plan::without_calm`]).
    pub calm: bool,
}

impl Plan {
    /// The minutes before the poll's that its decisions read: the scale-up window and the
    /// growth trend's reach, from the oldest replayed run.
    pub fn reach_minutes(&self, settings: &Settings) -> u32 {
        self.replayed_minutes.saturating_add(
            settings
                .up_window_minutes
                .max(GROWTH_MINUTES + PUBLICATION_SLACK_MINUTES),
        )
    }

    /// Minutes a poll that does not read the calm wait fetches: its decisions' reach and the
    /// burst-bucket estimate's ([`BUCKET_WINDOW_MINUTES`]).
    fn recent_minutes(&self, settings: &Settings) -> u32 {
        self.reach_minutes(settings).max(BUCKET_WINDOW_MINUTES)
    }

    /// This plan without the calm wait's long read: the shell bounds how many series read it in
    /// one run (on a cold start of a large account, the whole wait of every series would outgrow
    /// the function's memory and time). The series then stays unjudged, read every minute
    /// ([`Why::CalmUnread`]), and its next poll asks for the wait again.
    pub fn without_calm(self, settings: &Settings) -> Plan {
        Plan {
            calm: false,
            fetch_minutes: self.recent_minutes(settings),
            ..self
        }
    }
}

/// What a poll fetches in the run's second request, after its first answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Second {
    /// The combined throttle series, which the first request did not fetch: the poll decided an
    /// increase, and throttled demand decides how large.
    pub throttles: bool,
    /// The key-range throttle events (the throttle events by cause).
    pub key_range: bool,
}

impl Second {
    /// Metrics it requests.
    pub fn metrics(&self) -> u64 {
        u64::from(self.throttles) + u64::from(self.key_range)
    }
}

/// Whole minutes from `from` to `now`'s minute.
fn minutes_between(from: Timestamp, now: Timestamp) -> u32 {
    u32::try_from(now.floor_minute().secs_since(from).max(0) / 60).unwrap_or(u32::MAX)
}

impl Cadence {
    /// The minutes a first poll (a cold start, a new table) reads back to judge whether the
    /// series is calm, when the cadence spaces polls out: the calm wait and the jump test's
    /// look back, so that a cold start does not wait that long to learn whether the series
    /// jumps (the price is per metric, whatever the window). 0 when every poll is a minute
    /// apart.
    pub fn first_poll_minutes(&self) -> u32 {
        if self.max_interval_minutes > 1 {
            self.calm_minutes.saturating_add(self.doubling_minutes)
        } else {
            0
        }
    }

    /// Whether a series last polled as `last` and now provisioned with `capacity` is due at
    /// `now`: never polled (a cold start, a new table), its time has come, or its capacity is
    /// not the one its last poll planned for.
    pub fn is_due(&self, last: Option<&Polled>, capacity: u64, now: Timestamp) -> bool {
        last.is_none_or(|p| now.floor_minute() >= p.due || p.capacity != capacity)
    }

    /// The poll of a series at `now`, or `None` when it is not due. The combined throttle series
    /// is read at every poll while the series is throttled or was just raised, after a cold
    /// start, with the cadence off, and otherwise at least every
    /// [`Cadence::throttles_interval_minutes`]: in between, scale-up reads consumed capacity, which a
    /// lack of capacity always shows (a throttled minute consumes all of it and the bucket).
    pub fn plan(
        &self,
        settings: &Settings,
        last: Option<&Polled>,
        capacity: u64,
        now: Timestamp,
    ) -> Option<Plan> {
        if !self.is_due(last, capacity, now) {
            return None;
        }
        let throttles = match last {
            None => true,
            Some(p) => {
                self.throttles_interval_minutes <= 1
                    || matches!(p.why, Why::Increased | Why::Throttled)
                    || p.capacity != capacity
                    || minutes_between(p.throttles_at, now) >= self.throttles_interval_minutes
            }
        };
        let read_since = last.map(|p| if throttles { p.throttles_at } else { p.at });
        let replayed_minutes = read_since.map_or(0, |t| minutes_between(t, now).saturating_sub(1));
        let calm = self.first_poll_minutes() > 0 && last.is_none_or(|p| !p.calm_read);
        let mut plan = Plan {
            throttles,
            fetch_minutes: 0,
            replayed_minutes,
            calm,
        };
        plan.fetch_minutes = plan.recent_minutes(settings);
        if calm {
            plan.fetch_minutes = plan.fetch_minutes.max(self.first_poll_minutes());
        }
        Some(plan)
    }

    /// The scale-up decision of the poll at `now` planned as `plan`: this run's, or the one a
    /// skipped run would have made right after one of the minutes this poll is the first to
    /// read was published (decided on the datapoints up to that minute, as the newest), if it
    /// raises more. So a jump read late is answered as the run right after it would have
    /// answered it (its growth included), and every minute the skipped runs would have looked
    /// at is looked at. With nothing skipped it is exactly [`scale_up`].
    pub fn decide(
        &self,
        settings: &Settings,
        plan: &Plan,
        input: DimensionInput<'_>,
        now: Timestamp,
    ) -> Decision {
        let mut best = scale_up(settings, input, now);
        if plan.replayed_minutes == 0 {
            return best;
        }
        let into_minute = now.secs_since(now.floor_minute());
        for back in 1..=plan.replayed_minutes + PUBLICATION_DELAY_MINUTES {
            // The run that read the minute before `end` as its newest.
            let end = now.floor_minute().plus_secs(-60 * i64::from(back));
            let keep = usize::try_from(end.secs_since(input.usage.start.floor_minute()) / 60)
                .unwrap_or(0)
                .min(input.usage.minutes.len());
            let seen = Usage {
                start: input.usage.start,
                minutes: input.usage.minutes[..keep].to_vec(),
            };
            let then = end.plus_secs(into_minute);
            // The seasonal floor looks an hour ahead: this run's own decision has it.
            let d = scale_up(
                settings,
                DimensionInput {
                    usage: &seen,
                    history: None,
                    ..input
                },
                then,
            );
            if d.to > best.to {
                best = d;
            }
        }
        best
    }

    /// What the poll planned as `plan` fetches in the run's second request, after its first
    /// request returned `usage` and it decided `decision`: the combined throttle series when it
    /// decided an increase without them (and then the key-range ones too, in case), and the
    /// key-range throttle events when the combined ones are above zero in a minute the decisions
    /// read ([`Plan::reach_minutes`]).
    pub fn second(
        &self,
        settings: &Settings,
        plan: &Plan,
        usage: &Usage,
        decision: &Decision,
        now: Timestamp,
    ) -> Second {
        if !plan.throttles {
            let throttles = decision.action == Action::Increase;
            return Second {
                throttles,
                key_range: throttles,
            };
        }
        let key_range = usage
            .window(now, plan.reach_minutes(settings), None)
            .any(|(_, m)| m.throttled.unwrap_or(0.0) > 0.0);
        Second {
            throttles: false,
            key_range,
        }
    }

    /// When to poll the series of `input` again, after the poll at `now` (planned as `plan`,
    /// following `last`) that decided `decision` (see the module header).
    pub fn next(
        &self,
        settings: &Settings,
        last: Option<&Polled>,
        plan: &Plan,
        input: &DimensionInput<'_>,
        decision: &Decision,
        now: Timestamp,
    ) -> Polled {
        let t0 = now.floor_minute();
        let max = self.max_interval_minutes.max(1);
        let read_throttles = plan.throttles || decision.action == Action::Increase;
        let throttles_at = match last {
            Some(p) if !read_throttles => p.throttles_at,
            _ => t0,
        };
        let doubling = self.doubling_minutes.max(1);
        let judged_from = input
            .usage
            .start
            .floor_minute()
            .plus_secs(60 * i64::from(doubling));
        // A poll that read the whole wait judges it afresh; the others go on from the last.
        let mut calm_since = match last {
            Some(p) if !plan.calm => p.calm_since,
            _ => judged_from,
        };
        let calm_read = plan.calm || last.is_some_and(|p| p.calm_read);
        if let Some(jump) = newest_jump(input.usage, doubling) {
            calm_since = calm_since.max(jump.plus_secs(60));
        }
        let poll = |minutes: u32, why| Polled {
            at: t0,
            due: t0.plus_secs(60 * i64::from(minutes.clamp(1, max))),
            throttles_at,
            capacity: decision.to,
            calm_since,
            calm_read,
            why,
        };
        // Raised, at max or throttled first, even every minute: the reason decides whether the
        // next poll reads the throttle events too ([`Cadence::plan`]).
        if decision.action == Action::Increase {
            return poll(1, Why::Increased);
        }
        if decision.reason == Reason::AtMax {
            return poll(max, Why::AtMax);
        }
        let n = &decision.numbers;
        if n.throttle_events > n.key_range_events {
            return poll(1, Why::Throttled);
        }
        if max == 1 {
            return poll(1, Why::EveryMinute);
        }
        if !calm_read && self.first_poll_minutes() > 0 {
            return poll(1, Why::CalmUnread);
        }
        if minutes_between(calm_since, now) < self.calm_minutes {
            return poll(1, Why::RecentJump);
        }
        let Some(seen) = newest_datapoint(input.usage, now) else {
            return poll(max, Why::NoData);
        };
        let capacity = decision.to.max(1) as f64;
        let expected = input
            .history
            .and_then(|h| seasonal::expected_peak(h, now, settings.seasonal_ahead_minutes));
        let level = (n.peak_demand.unwrap_or(0.0) * n.growth.max(1.0))
            .max(expected.unwrap_or(0.0))
            .max(JUMP_FLOOR_UNITS);
        let bucket = bucket_lower_bound(
            input.usage,
            now,
            input.state.provisioned.max(1),
            input.state.last_increase,
            self.burst_secs,
        );
        let worst = WorstCase {
            first_unseen: seen.plus_secs(60),
            level,
            capacity,
            trigger: settings.scale_up_trigger * capacity,
            bucket,
            burst_secs: self.burst_secs,
            doubling_minutes: doubling,
        };
        if worst.level >= self.hot_share * settings.target * capacity {
            return poll(1, Why::Hot);
        }
        let deadline = worst.answer_deadline(t0, self.answer_minutes);
        let mut why = Why::MaxInterval;
        let mut minutes = max;
        if let Some(d) = deadline {
            let allowed = u32::try_from(d.secs_since(t0) / 60).unwrap_or(0);
            if allowed < minutes {
                minutes = allowed;
                why = Why::Guarantee;
            }
        }
        while minutes > 1
            && !worst
                .doubling_served_until(t0.plus_secs(60 * i64::from(minutes + self.update_minutes)))
        {
            minutes -= 1;
            why = Why::BurstBucket;
        }
        if minutes <= 1 && why == Why::MaxInterval {
            why = Why::Guarantee;
        }
        poll(minutes, why)
    }
}

/// The worst case the cadence plans for, from the first minute a poll did not see.
struct WorstCase {
    first_unseen: Timestamp,
    /// Demand the poll saw, units/s.
    level: f64,
    capacity: f64,
    trigger: f64,
    /// Burst bucket at `first_unseen`, capacity-unit-seconds.
    bucket: f64,
    burst_secs: f64,
    doubling_minutes: u32,
}

impl WorstCase {
    /// The last minute (start) at which a poll still answers the first worst-case minute at the
    /// trigger within `answer` minutes of its publication, which comes after the poll at `t0`
    /// and never before the minute ends; `None` when demand never reaches the trigger.
    fn answer_deadline(&self, t0: Timestamp, answer: u32) -> Option<Timestamp> {
        if self.level <= 0.0 {
            return None;
        }
        let doublings_needed = (self.trigger / self.level).log2().ceil().max(1.0);
        let i = (doublings_needed - 1.0) * f64::from(self.doubling_minutes);
        let i = if i.is_finite() && i < 1e9 {
            i as i64
        } else {
            return None;
        };
        let crossing_end = self.first_unseen.plus_secs(60 * (i + 1));
        Some(crossing_end.max(t0).plus_secs(60 * i64::from(answer)))
    }

    /// Whether capacity plus the bucket serve a doubling (held from the first unseen minute) in
    /// every minute that starts before `until`.
    fn doubling_served_until(&self, until: Timestamp) -> bool {
        let mut bucket = self.bucket;
        let cap = self.burst_secs * self.capacity;
        let minutes = until.secs_since(self.first_unseen) / 60;
        let want = 120.0 * self.level;
        for _ in 0..minutes {
            let available = 60.0 * self.capacity + bucket;
            if want > available + 1e-9 {
                return false;
            }
            bucket = (available - want).min(cap);
        }
        true
    }
}

/// Demand (units/s) below which a minute is never a jump: crumbs of traffic doubling.
pub const JUMP_FLOOR_UNITS: f64 = 1.0;

/// The start of the newest minute of `usage` whose demand more than doubles the largest of the
/// `doubling_minutes` minutes before it (a minute without a datapoint counts as no demand, as
/// CloudWatch publishes none for a minute without requests) and is at least
/// [`JUMP_FLOOR_UNITS`]: growth faster than the guarantee covers. The first `doubling_minutes`
/// minutes of `usage` are not judged (what came before them is not known).
pub fn newest_jump(usage: &Usage, doubling_minutes: u32) -> Option<Timestamp> {
    let back = usize::try_from(doubling_minutes.max(1)).unwrap_or(usize::MAX);
    let demand: Vec<f64> = usage
        .minutes
        .iter()
        .map(|m| m.demand().unwrap_or(0.0))
        .collect();
    (back..demand.len())
        .rev()
        .find(|&i| {
            let before = demand[i - back..i].iter().copied().fold(0.0, f64::max);
            demand[i] >= JUMP_FLOOR_UNITS && demand[i] > 2.0 * before
        })
        .map(|i| usage.start.floor_minute().plus_secs(60 * i as i64))
}

/// The start of the newest minute with any datapoint among the fetched minutes before `now`.
fn newest_datapoint(usage: &Usage, now: Timestamp) -> Option<Timestamp> {
    let reach = u32::try_from(usage.minutes.len()).unwrap_or(u32::MAX);
    usage
        .window(now, reach, None)
        .filter(|(_, m)| m.demand().is_some())
        .map(|(t, _)| t)
        .last()
}

/// A lower bound of the burst bucket at the end of the newest datapoint, capacity-unit-seconds:
/// replayed from empty over the consumed datapoints since the last increase (before it the
/// capacity was lower), at the capacity in force (a decrease in the window only makes the bound
/// lower). A minute without a consumed datapoint adds nothing; one with throttle events empties
/// it.
pub fn bucket_lower_bound(
    usage: &Usage,
    now: Timestamp,
    capacity: u64,
    last_increase: Option<Timestamp>,
    burst_secs: f64,
) -> f64 {
    let cap = burst_secs * capacity as f64;
    let reach = u32::try_from(usage.minutes.len()).unwrap_or(u32::MAX);
    let mut bucket: f64 = 0.0;
    for (_, m) in usage.window(now, reach, last_increase.map(|t| t.plus_secs(60))) {
        if m.throttled.unwrap_or(0.0) > 0.0 {
            bucket = 0.0;
        } else if let Some(consumed) = m.consumed {
            bucket = (bucket + 60.0 * capacity as f64 - consumed.max(0.0)).clamp(0.0, cap);
        }
    }
    bucket
}
