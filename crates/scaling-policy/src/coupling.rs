//! A table and its GSIs are not independent: what the rules decide for each of them one by one is
//! adjusted here for the table as a whole.
//!
//! - **A throttled GSI write refuses the base-table write.** DynamoDB writes a GSI in the same
//!   request as the table; when the GSI has no capacity, the table's write is refused too, and
//!   the table's own throttle metrics do not count it. So while any GSI had write requests
//!   refused for lack of capacity in the table's scale-down window, the table's writes are not
//!   lowered ([`scale_down_table`], reason [`Reason::GsiWriteThrottling`]): its consumption
//!   understates its demand. Only *provisioned-throughput* throttling counts
//!   ([`Minute::capacity_throttled`](crate::Minute::capacity_throttled): every event when the
//!   causes are unknown, the cautious reading); a hot key on the GSI (key-range throttling)
//!   does not, or a single hot key would pin the table's writes up forever.
//! - **One quota for the table and its GSIs.** `DescribeLimits`' per-table maximum counts a
//!   table's capacity *and* its GSIs' together, per dimension. When the increases decided for a
//!   table would take the sum past it, [`cap_total`] grants what fits, in order: write-throttled
//!   GSIs first (their throttling refuses base-table writes as well, so their capacity is worth
//!   the most), then the table and GSIs otherwise throttled for lack of capacity, then the rest, each in
//!   table order. What is cut is [`Reason::TableQuota`]. Decreases and unchanged capacities are
//!   never touched: the cap only ever holds back an increase.

use crate::config::{Dimension, Settings};
use crate::decision::{Action, Decision, DimensionInput, Reason};
use crate::scale_down::{pair, scale_down_one};
use crate::time::Timestamp;
use crate::usage::Usage;

/// Whether any of `gsi_writes` (the write series of a table's GSIs) had write requests refused
/// for lack of capacity in the `settings.down_window_minutes` complete minutes before `now`.
pub fn gsi_write_throttled<'a>(
    settings: &Settings,
    gsi_writes: impl IntoIterator<Item = &'a Usage>,
    now: Timestamp,
) -> bool {
    gsi_writes.into_iter().any(|u| {
        u.window(now, settings.down_window_minutes, None)
            .any(|(_, m)| m.capacity_throttled() > 0.0)
    })
}

/// The scale-down decisions for the base table's reads and writes, like
/// [`scale_down_pair`](crate::scale_down_pair), except that its writes are held at their capacity
/// (and do not ride along) while `gsi_write_throttled` (see [`gsi_write_throttled`]).
pub fn scale_down_table(
    settings: &Settings,
    read: DimensionInput<'_>,
    write: DimensionInput<'_>,
    now: Timestamp,
    gsi_write_throttled: bool,
) -> [Decision; 2] {
    let read = scale_down_one(settings, read, now);
    let mut write = scale_down_one(settings, write, now);
    if gsi_write_throttled {
        write = write.held(Reason::GsiWriteThrottling);
    }
    pair([read, write])
}

/// One dimension of a table or of one of its GSIs, for [`cap_total`].
#[derive(Debug)]
pub struct TableOrGsiDecision<'a> {
    /// Whether it is a GSI (else the table itself).
    pub is_index: bool,
    /// What the rules decided for it.
    pub decision: &'a mut Decision,
}

/// Caps the sum of one dimension's capacities over a table and its GSIs at `max_total` (see
/// the module header): increases are cut, in priority order, until the sum fits or no increase
/// is left; a cut increase gets [`Reason::TableQuota`]. Returns whether anything was cut.
pub fn cap_total(decisions: &mut [TableOrGsiDecision<'_>], max_total: u64) -> bool {
    let total: u64 = decisions.iter().map(|t| t.decision.to).sum();
    if total <= max_total {
        return false;
    }
    // What the table holds without any of its increases.
    let base: u64 = decisions
        .iter()
        .map(|t| t.decision.to.min(t.decision.from))
        .sum();
    let mut headroom = max_total.saturating_sub(base);
    let priority = |t: &TableOrGsiDecision<'_>| {
        let throttled = t.decision.reason == Reason::Throttled;
        match (throttled, t.is_index, t.decision.dimension) {
            (true, true, Dimension::Write) => 0,
            (true, _, _) => 1,
            _ => 2,
        }
    };
    let mut order: Vec<usize> = (0..decisions.len())
        .filter(|i| decisions[*i].decision.action == Action::Increase)
        .collect();
    order.sort_by_key(|i| (priority(&decisions[*i]), *i));
    for i in order {
        let d = &mut *decisions[i].decision;
        let wanted = d.to - d.from;
        let granted = wanted.min(headroom);
        headroom -= granted;
        if granted < wanted {
            d.to = d.from + granted;
            d.reason = Reason::TableQuota;
            if granted == 0 {
                d.action = Action::Keep;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::DecreaseBudget;
    use crate::usage::{DimensionState, Minute, ThrottleCauses};
    use crate::window::{Known, WindowSummary};

    const NOW: i64 = 1_796_206_680 + 30;

    fn now() -> Timestamp {
        Timestamp::from_unix(NOW)
    }

    /// Twenty complete minutes before `now` at `per_sec` consumed, with `throttled` events in
    /// the newest of them, of unknown cause unless `causes` says.
    fn usage(per_sec: f64, throttled: f64, causes: Option<ThrottleCauses>) -> Usage {
        let start = now().floor_minute().plus_secs(-20 * 60);
        let mut minutes = vec![Minute::known(per_sec * 60.0, 0.0); 20];
        minutes[19].throttled = Some(throttled);
        minutes[19].causes = causes;
        Usage { start, minutes }
    }

    fn state(provisioned: u64) -> DimensionState {
        DimensionState {
            provisioned,
            budget: DecreaseBudget::default(),
            last_increase: None,
        }
    }

    #[test]
    fn a_gsi_refused_writes_for_capacity_holds_the_table_s_writes() {
        let s = Settings::default();
        let idle = usage(1.0, 0.0, None);
        let (r, w) = (state(100), state(100));
        let read = DimensionInput::new(Dimension::Read, &r, &idle);
        let write = DimensionInput::new(Dimension::Write, &w, &idle);
        let free = scale_down_table(&s, read, write, now(), false);
        assert_eq!(
            [free[0].to, free[1].to],
            [2, 2],
            "both lowered without the GSI"
        );

        let [read_d, write_d] = scale_down_table(&s, read, write, now(), true);
        assert_eq!(
            (write_d.to, write_d.reason),
            (100, Reason::GsiWriteThrottling)
        );
        assert_eq!(write_d.action, Action::Keep);
        assert_eq!(
            (read_d.to, read_d.reason),
            (2, Reason::Overprovisioned),
            "reads are lowered on their own merit"
        );
    }

    #[test]
    fn held_writes_do_not_ride_along() {
        let s = Settings::default();
        // Reads well above demand, writes a little above (a saving too small on its own).
        let busy = usage(76.0, 0.0, None);
        let idle = usage(1.0, 0.0, None);
        let (r, w) = (state(100), state(100));
        let read = DimensionInput::new(Dimension::Read, &r, &idle);
        let write = DimensionInput::new(Dimension::Write, &w, &busy);
        let free = scale_down_table(&s, read, write, now(), false);
        assert_eq!(free[1].reason, Reason::RidesAlong, "{free:?}");
        let held = scale_down_table(&s, read, write, now(), true);
        assert_eq!(
            (held[1].to, held[1].reason),
            (100, Reason::GsiWriteThrottling)
        );
    }

    #[test]
    fn only_provisioned_throughput_throttling_of_a_gsi_counts() {
        let s = Settings::default();
        let unknown_cause = usage(1.0, 30.0, None);
        assert!(gsi_write_throttled(&s, [&unknown_cause], now()));
        let capacity = usage(
            1.0,
            30.0,
            Some(ThrottleCauses {
                provisioned: 30.0,
                key_range: 0.0,
                other: 0.0,
            }),
        );
        assert!(gsi_write_throttled(
            &s,
            [&usage(1.0, 0.0, None), &capacity],
            now()
        ));
        let hot_key = usage(
            1.0,
            30.0,
            Some(ThrottleCauses {
                provisioned: 0.0,
                key_range: 30.0,
                other: 0.0,
            }),
        );
        assert!(
            !gsi_write_throttled(&s, [&hot_key], now()),
            "a hot key on the GSI is no reason to keep the table's writes up"
        );
        assert!(!gsi_write_throttled(&s, [&usage(1.0, 0.0, None)], now()));
        // Throttling older than the table's scale-down window does not count.
        let mut old = usage(1.0, 0.0, None);
        old.start = old.start.plus_secs(-3600);
        old.minutes[19].throttled = Some(30.0);
        assert!(!gsi_write_throttled(&s, [&old], now()));
    }

    /// A decision as a rule would return it, from `from` to `to` for `reason`.
    fn decision(dimension: Dimension, from: u64, to: u64, reason: Reason) -> Decision {
        let state = state(from);
        let empty = Usage::empty(now());
        let input = DimensionInput::new(dimension, &state, &empty);
        let w = WindowSummary::of(&empty, now(), 5, None, Known::AnyDatapoint);
        let numbers = crate::scale_up::numbers(&Settings::default(), dimension, from, &w);
        Decision::new(&input, to, reason, numbers)
    }

    /// The table's decision, then its GSIs'.
    fn decisions<'a>(
        table: &'a mut Decision,
        gsis: Vec<&'a mut Decision>,
    ) -> Vec<TableOrGsiDecision<'a>> {
        std::iter::once(TableOrGsiDecision {
            is_index: false,
            decision: table,
        })
        .chain(gsis.into_iter().map(|decision| TableOrGsiDecision {
            is_index: true,
            decision,
        }))
        .collect()
    }

    #[test]
    fn the_sum_is_capped_throttled_gsi_writes_first() {
        let w = Dimension::Write;
        let mut table = decision(w, 100, 300, Reason::AboveTrigger);
        let mut gsi_a = decision(w, 100, 300, Reason::AboveTrigger);
        let mut gsi_b = decision(w, 100, 250, Reason::Throttled);
        let mut decisions = decisions(&mut table, vec![&mut gsi_a, &mut gsi_b]);
        assert!(cap_total(&mut decisions, 600));
        let got: Vec<(u64, Reason)> = decisions
            .iter()
            .map(|t| (t.decision.to, t.decision.reason))
            .collect();
        // 300 units of headroom over 3 x 100: the throttled GSI's 150 first, then the table.
        assert_eq!(
            got,
            vec![
                (250, Reason::TableQuota),
                (100, Reason::TableQuota),
                (250, Reason::Throttled)
            ]
        );
        assert_eq!(decisions[1].decision.action, Action::Keep);
        let sum: u64 = decisions.iter().map(|t| t.decision.to).sum();
        assert_eq!(sum, 600);
    }

    #[test]
    fn decreases_and_what_fits_are_left_alone() {
        let r = Dimension::Read;
        let mut table = decision(r, 100, 40, Reason::Overprovisioned);
        let mut gsi = decision(r, 100, 150, Reason::AboveTrigger);
        let mut decisions = decisions(&mut table, vec![&mut gsi]);
        assert!(!cap_total(&mut decisions, 190), "40 + 150 fits");
        assert!(cap_total(&mut decisions, 120));
        assert_eq!(decisions[0].decision.to, 40, "a decrease is never cut");
        assert_eq!(
            (decisions[1].decision.to, decisions[1].decision.reason),
            (100, Reason::TableQuota),
            "never below what it has: 40 + 100 is already past 120"
        );
    }
}
