//! The clairvoyant reference: the cheapest capacity schedule with perfect foresight that obeys
//! the decrease quota, computed **exactly** for the problem it solves:
//!
//! > minimise `sum_i P_i` over whole numbers `P_i >= r_i` (`r_i = max(1, ceil(D_i))`, capped at
//! > `max_capacity`), where every decrease (`P_i < P_{i-1}`) is requested `update_delay` minutes
//! > before it takes effect and the requests obey DynamoDB's quota per UTC day (4 at any time,
//! > then one per 60 minutes, at most 27).
//!
//! **Relaxations and restrictions, stated plainly.**
//! - The requirement `r` comes from [`crate::reference::required_units`]: the table's demand
//!   (a hot key's refusals taken out) rounded up, so capacity covers demand in every minute and
//!   the schedule never relies on the burst bucket, except where demand exceeds the table's
//!   maximum capacity: there only the bucket can serve the excess, and `r` holds the maximum
//!   long enough before for the bucket to bank it. It is a schedule the model can actually run
//!   (replayed through it, it refuses nothing for capacity that a table held at its maximum
//!   would serve), so it is an *upper* bound of the true optimum with burst. Burst can help an
//!   optimiser on short spikes (a full bucket covers 5 minutes at twice the capacity), so a
//!   policy that rides its bucket through spikes without ever throttling can, in principle,
//!   cost less; the benchmark reports every such case (`cost_vs_clairvoyant < 1` with zero
//!   throttling).
//! - Capacity may change every minute (increases are free and unlimited). That is exact for the
//!   default `update_delay` of 1 minute; with a longer delay the model would refuse changes
//!   closer together than the delay, which the schedule ignores.
//!
//! **Algorithm.** Between two decreases capacity never falls, and the cheapest non-decreasing
//! schedule above `r` on a segment `[a, b)` is the running maximum of `r` from `a`; so a schedule
//! is a set of decrease times, and its cost is a sum of segment costs `cost(a, b)`. With
//! `g(a) = sum_{i >= a} max(r[a..=i])` (one pass with "next greater element" links) and `m` the
//! first position of the maximum of `r[a..b)` (a sparse table), `cost(a, b) = g(a) - g(m) +
//! r_m (b - m)` in O(1). A dynamic programme over decrease times with one layer per decrease of
//! the day (1..=27) then finds the optimum: `F_k(s) = min_t F_{k-1}(t) + cost(t, s)` within a day
//! (with `s - t >= 60` from the 5th decrease on), and the first decrease of a day continues from
//! the best state of any earlier minute. `cost` is Monge (`cost(a,c) + cost(b,d) <= cost(a,d) +
//! cost(b,c)` for `a <= b <= c <= d`, because a later start never has a higher running maximum),
//! so each layer is solved by divide and conquer over monotone argmins in O(n log n):
//! about `27 * n * log2(1440)` evaluations, well under a second for 87 days of minutes.
//!
//! **On a schedule.** [`optimal_on_schedule`] is the same programme when decreases may only be
//! requested at a scale-down schedule's minutes: perfect foresight on that schedule, which
//! bounds what any policy lowering capacity only there can reach. The programme runs over the
//! candidate minutes alone (a sub-matrix of a Monge matrix is Monge), so four runs a day cost
//! a few hundredths of the unrestricted one.

use scaling_policy::quota::{DECREASE_INTERVAL_SECS, FREE_DECREASES, MAX_DECREASES_PER_DAY};

use crate::schedule::{DAY_MINUTES, ScaleDownSchedule};

const INF: u64 = u64::MAX;

/// The decrease quota, as the dynamic programme sees it (DynamoDB's by default; tests use
/// small ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaRules {
    /// Decreases allowed at any time of the day.
    pub free: u32,
    /// Minutes between decreases after the free ones.
    pub interval_minutes: usize,
    /// Decreases per day.
    pub max_per_day: u32,
    /// Minutes per day.
    pub day_minutes: i64,
}

impl Default for QuotaRules {
    fn default() -> Self {
        Self {
            free: FREE_DECREASES,
            interval_minutes: (DECREASE_INTERVAL_SECS / 60) as usize,
            max_per_day: MAX_DECREASES_PER_DAY,
            day_minutes: 1440,
        }
    }
}

/// An optimal schedule and its cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Capacity in force in each minute.
    pub capacity: Vec<u64>,
    /// `sum(capacity)`, unit-minutes.
    pub unit_minutes: u64,
}

/// Segment costs in O(1): running-maximum sums and a first-argmax sparse table.
pub(crate) struct Segments<'a> {
    r: &'a [u64],
    g: Vec<u64>,
    sparse: Vec<Vec<u32>>,
}

impl<'a> Segments<'a> {
    pub(crate) fn new(r: &'a [u64]) -> Self {
        let n = r.len();
        let mut next_greater = vec![n; n];
        let mut stack: Vec<usize> = Vec::new();
        for (i, v) in r.iter().enumerate() {
            while let Some(&top) = stack.last() {
                if r[top] < *v {
                    next_greater[top] = i;
                    stack.pop();
                } else {
                    break;
                }
            }
            stack.push(i);
        }
        let mut g = vec![0u64; n + 1];
        for i in (0..n).rev() {
            let j = next_greater[i];
            g[i] = r[i] * (j - i) as u64 + g[j];
        }
        let mut sparse: Vec<Vec<u32>> = vec![(0..n as u32).collect()];
        let mut width = 1;
        while 2 * width <= n {
            let prev = &sparse[sparse.len() - 1];
            let level: Vec<u32> = (0..=n - 2 * width)
                .map(|i| {
                    let (a, b) = (prev[i], prev[i + width]);
                    if r[a as usize] >= r[b as usize] { a } else { b }
                })
                .collect();
            sparse.push(level);
            width *= 2;
        }
        Self { r, g, sparse }
    }

    /// First position of the maximum of `r[a..=b]`.
    fn argmax(&self, a: usize, b: usize) -> usize {
        let len = b - a + 1;
        let k = (usize::BITS - 1 - len.leading_zeros()) as usize;
        let (x, y) = (self.sparse[k][a], self.sparse[k][b + 1 - (1 << k)]);
        if self.r[x as usize] >= self.r[y as usize] {
            x as usize
        } else {
            y as usize
        }
    }

    /// Cost of a segment `[a, b)` that starts afresh at `a` (`a < b`).
    pub(crate) fn cost(&self, a: usize, b: usize) -> u64 {
        let m = self.argmax(a, b - 1);
        self.g[a] - self.g[m] + self.r[m] * (b - m) as u64
    }
}

/// One layer by divide and conquer over candidate indices: for each `s` in `s_lo..s_hi`,
/// `out[s - out_base] = min over t in t_lo..=min(t_hi, upper(s)) of prev(t) + cost(t, s)`.
#[allow(clippy::too_many_arguments)]
fn layer(
    cost: &dyn Fn(usize, usize) -> u64,
    prev: &dyn Fn(usize) -> u64,
    upper: &dyn Fn(usize) -> Option<usize>,
    s_lo: usize,
    s_hi: usize,
    t_lo: usize,
    t_hi: usize,
    out: &mut [u64],
    arg: &mut [u32],
    out_base: usize,
) {
    if s_lo >= s_hi {
        return;
    }
    let mid = (s_lo + s_hi) / 2;
    let mut best = INF;
    let mut best_t = t_lo;
    if let Some(ub) = upper(mid) {
        for t in t_lo..=t_hi.min(ub) {
            let f = prev(t);
            if f == INF {
                continue;
            }
            let v = f + cost(t, mid);
            if v < best {
                best = v;
                best_t = t;
            }
        }
    }
    out[mid - out_base] = best;
    arg[mid - out_base] = best_t as u32;
    layer(
        cost, prev, upper, s_lo, mid, t_lo, best_t, out, arg, out_base,
    );
    layer(
        cost,
        prev,
        upper,
        mid + 1,
        s_hi,
        best_t,
        t_hi,
        out,
        arg,
        out_base,
    );
}

/// The cheapest schedule covering `required` (whole units per minute, each >= 1) whose
/// decreases obey `rules`. Minute `i` is absolute minute `first_minute + i` (minutes since the
/// Unix epoch, for UTC days); a decrease taking effect in minute `s` is requested in minute
/// `s - lead` (the update delay), which is what the quota counts.
pub fn optimal(required: &[u64], first_minute: i64, lead: usize, rules: QuotaRules) -> Schedule {
    optimal_with_requests(required, first_minute, lead, rules, |_| true)
}

/// [`optimal`] when decreases may be requested only at the minutes of a scale-down schedule:
/// perfect foresight on that schedule (at each run, capacity drops to what the minutes until
/// the next run need, as far as the quota allows), the bound of any policy that lowers
/// capacity only there.
pub fn optimal_on_schedule(
    required: &[u64],
    first_minute: i64,
    lead: usize,
    rules: QuotaRules,
    schedule: &ScaleDownSchedule,
) -> Schedule {
    let day = i64::from(DAY_MINUTES);
    optimal_with_requests(required, first_minute, lead, rules, |m| {
        schedule
            .minutes()
            .binary_search(&(m.rem_euclid(day) as u32))
            .is_ok()
    })
}

/// [`optimal`] when a decrease may be requested only in the absolute minutes `m` where
/// `may_request(m)` holds. The dynamic programme runs over those candidate minutes alone, so a
/// schedule of a few runs a day costs a fraction of the unrestricted one.
pub fn optimal_with_requests(
    required: &[u64],
    first_minute: i64,
    lead: usize,
    rules: QuotaRules,
    may_request: impl Fn(i64) -> bool,
) -> Schedule {
    let n = required.len();
    if n == 0 {
        return Schedule {
            capacity: Vec::new(),
            unit_minutes: 0,
        };
    }
    let seg = Segments::new(required);
    // Candidate segment starts: the start, then every minute a decrease may take effect in.
    let positions: Vec<usize> = std::iter::once(0)
        .chain((lead.max(1)..n).filter(|s| may_request(first_minute + *s as i64 - lead as i64)))
        .collect();
    let m = positions.len();
    let cost = |t: usize, s: usize| seg.cost(positions[t], positions[s]);
    let layers = rules.max_per_day as usize;
    let day =
        |j: usize| (first_minute + positions[j] as i64 - lead as i64).div_euclid(rules.day_minutes);
    // best[j]: cheapest cost of minutes 0..positions[j] with a segment starting at candidate j
    // (0 = the start, which is free); best_layer[j]: which decrease of its day j is (0 for the
    // start).
    let mut best = vec![INF; m];
    let mut best_layer = vec![0u8; m];
    best[0] = 0;
    let mut parent = vec![0u32; layers * m];
    let mut lo = 1;
    let mut cur: Vec<u64> = Vec::new();
    let mut prev_layer: Vec<u64> = Vec::new();
    let mut arg: Vec<u32> = Vec::new();
    while lo < m && layers > 0 {
        let d = day(lo);
        let mut hi = lo;
        while hi < m && day(hi) == d {
            hi += 1;
        }
        let width = hi - lo;
        cur.clear();
        cur.resize(width, INF);
        arg.clear();
        arg.resize(width, 0);
        // First decrease of the day: continue from any earlier candidate's best state.
        {
            let best_ref = &best;
            layer(
                &cost,
                &|t| best_ref[t],
                &|_| Some(lo - 1),
                lo,
                hi,
                0,
                lo - 1,
                &mut cur,
                &mut arg,
                lo,
            );
        }
        for (i, v) in cur.iter().enumerate() {
            parent[lo + i] = arg[i];
            if *v < best[lo + i] {
                best[lo + i] = *v;
                best_layer[lo + i] = 1;
            }
        }
        // Later decreases of the same day.
        for k in 2..=layers {
            std::mem::swap(&mut prev_layer, &mut cur);
            if prev_layer.iter().all(|v| *v == INF) {
                break;
            }
            let gap = if k as u32 > rules.free {
                rules.interval_minutes.max(1)
            } else {
                1
            };
            // The latest candidate at least `gap` minutes before candidate s, within the day.
            let upper = |s: usize| {
                let limit = positions[s].checked_sub(gap)?;
                positions[lo..s]
                    .partition_point(|p| *p <= limit)
                    .checked_sub(1)
                    .map(|i| lo + i)
            };
            cur.clear();
            cur.resize(width, INF);
            arg.clear();
            arg.resize(width, 0);
            {
                let prev_ref = &prev_layer;
                layer(
                    &cost,
                    &|t| prev_ref[t - lo],
                    &upper,
                    lo,
                    hi,
                    lo,
                    hi - 1,
                    &mut cur,
                    &mut arg,
                    lo,
                );
            }
            let base = (k - 1) * m;
            for (i, v) in cur.iter().enumerate() {
                parent[base + lo + i] = arg[i];
                if *v < best[lo + i] {
                    best[lo + i] = *v;
                    best_layer[lo + i] = k as u8;
                }
            }
        }
        lo = hi;
    }
    // The last segment runs to the end.
    let mut end_best = INF;
    let mut end_t = 0;
    for (t, b) in best.iter().enumerate() {
        if *b != INF {
            let v = b + seg.cost(positions[t], n);
            if v < end_best {
                end_best = v;
                end_t = t;
            }
        }
    }
    // Walk back through the segment starts.
    let mut starts = vec![positions[end_t]];
    let (mut t, mut k) = (end_t, best_layer[end_t] as usize);
    while t != 0 {
        let p = parent[(k - 1) * m + t] as usize;
        k = if k == 1 {
            best_layer[p] as usize
        } else {
            k - 1
        };
        t = p;
        starts.push(positions[t]);
    }
    starts.reverse();
    let mut capacity = Vec::with_capacity(n);
    for (i, a) in starts.iter().enumerate() {
        let b = starts.get(i + 1).copied().unwrap_or(n);
        let mut running = 0;
        for r in &required[*a..b] {
            running = running.max(*r);
            capacity.push(running);
        }
    }
    Schedule {
        capacity,
        unit_minutes: end_best,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_cost(r: &[u64], starts: &[usize]) -> u64 {
        let mut total = 0;
        let mut running = 0;
        for (i, v) in r.iter().enumerate() {
            if i == 0 || starts.contains(&i) {
                running = 0;
            }
            running = running.max(*v);
            total += running;
        }
        total
    }

    /// Whether decrease requests at `times` (absolute minutes, sorted) obey `rules`.
    fn quota_ok(times: &[i64], rules: QuotaRules) -> bool {
        let mut count = 0;
        let mut last: Option<i64> = None;
        for t in times {
            if last
                .is_some_and(|l| l.div_euclid(rules.day_minutes) != t.div_euclid(rules.day_minutes))
            {
                count = 0;
            }
            if count >= rules.max_per_day {
                return false;
            }
            if count >= rules.free && last.is_some_and(|l| t - l < rules.interval_minutes as i64) {
                return false;
            }
            count += 1;
            last = Some(*t);
        }
        true
    }

    fn brute(r: &[u64], first: i64, lead: usize, rules: QuotaRules) -> u64 {
        brute_with(r, first, lead, rules, &|_| true)
    }

    /// The cheapest schedule over every subset of the allowed decrease minutes.
    fn brute_with(
        r: &[u64],
        first: i64,
        lead: usize,
        rules: QuotaRules,
        may_request: &dyn Fn(i64) -> bool,
    ) -> u64 {
        let n = r.len();
        let candidates: Vec<usize> = (lead.max(1)..n)
            .filter(|s| may_request(first + *s as i64 - lead as i64))
            .collect();
        let mut best = u64::MAX;
        for mask in 0u32..(1 << candidates.len()) {
            let starts: Vec<usize> = candidates
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, s)| *s)
                .collect();
            let times: Vec<i64> = starts
                .iter()
                .map(|s| first + *s as i64 - lead as i64)
                .collect();
            if quota_ok(&times, rules) {
                best = best.min(brute_cost(r, &starts));
            }
        }
        best
    }

    /// Deterministic pseudo-random values in 1..=max.
    fn values(seed: u64, n: usize, max: u64) -> Vec<u64> {
        let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                1 + x % max
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_on_small_instances() {
        let rules = QuotaRules {
            free: 1,
            interval_minutes: 3,
            max_per_day: 3,
            day_minutes: 7,
        };
        for seed in 0..300u64 {
            let n = 3 + (seed % 11) as usize;
            let r = values(seed, n, 9);
            let first = (seed % 5) as i64;
            let lead = (seed % 2) as usize;
            let got = optimal(&r, first, lead, rules);
            let want = brute(&r, first, lead, rules);
            assert_eq!(
                got.unit_minutes, want,
                "seed {seed} r {r:?} first {first} lead {lead}"
            );
            assert_eq!(got.capacity.iter().sum::<u64>(), want);
            assert!(got.capacity.iter().zip(&r).all(|(c, r)| c >= r));
            // The schedule's own decreases obey the quota.
            let times: Vec<i64> = (1..n)
                .filter(|i| got.capacity[*i] < got.capacity[i - 1])
                .map(|i| first + i as i64 - lead as i64)
                .collect();
            assert!(quota_ok(&times, rules), "seed {seed}: {:?}", got.capacity);
        }
    }

    #[test]
    fn restricted_request_minutes_match_brute_force() {
        let rules = QuotaRules {
            free: 2,
            interval_minutes: 4,
            max_per_day: 4,
            day_minutes: 9,
        };
        for seed in 0..300u64 {
            let n = 3 + (seed % 14) as usize;
            let r = values(seed + 1000, n, 9);
            let first = (seed % 7) as i64;
            let lead = (seed % 2) as usize;
            let mask = values(seed + 5000, 32, 2);
            let allowed = |m: i64| mask[m.rem_euclid(32) as usize] == 1;
            let got = optimal_with_requests(&r, first, lead, rules, allowed);
            let want = brute_with(&r, first, lead, rules, &allowed);
            assert_eq!(got.unit_minutes, want, "seed {seed} r {r:?}");
            assert_eq!(got.capacity.iter().sum::<u64>(), want);
            for i in 1..n {
                if got.capacity[i] < got.capacity[i - 1] {
                    assert!(allowed(first + i as i64 - lead as i64), "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn on_a_schedule_capacity_drops_only_at_its_runs() {
        // Two days at 10 with 50 from 06:00 to 12:00; runs at 00:00 and 12:00 (lead 1). The
        // 12:00 run lowers capacity from 12:01 on; the 00:00 run cannot lower anything.
        let r: Vec<u64> = (0..2880)
            .map(|m| {
                if (360..720).contains(&(m % 1440)) {
                    50
                } else {
                    10
                }
            })
            .collect();
        let schedule = ScaleDownSchedule::at_hours(&[0, 12]).unwrap();
        let s = optimal_on_schedule(&r, 0, 1, QuotaRules::default(), &schedule);
        for (i, c) in s.capacity.iter().enumerate() {
            let want = if (360..721).contains(&(i % 1440)) {
                50
            } else {
                10
            };
            assert_eq!(*c, want, "minute {i}");
        }
        let hourly = ScaleDownSchedule::every(60).unwrap();
        let h = optimal_on_schedule(&r, 0, 1, QuotaRules::default(), &hourly);
        let full = optimal(&r, 0, 1, QuotaRules::default());
        assert_eq!(
            h.unit_minutes, s.unit_minutes,
            "no other run can save anything"
        );
        // Unrestricted, the decrease is requested at 11:59 and saves 40 units a day for a
        // minute.
        assert_eq!(full.unit_minutes + 2 * 40, s.unit_minutes);
    }

    #[test]
    fn unlimited_decreases_give_the_requirement_itself() {
        let r = values(7, 50, 20);
        let rules = QuotaRules {
            free: 100,
            interval_minutes: 1,
            max_per_day: 100,
            day_minutes: 1440,
        };
        let s = optimal(&r, 0, 1, rules);
        assert_eq!(s.capacity, r);
    }

    #[test]
    fn no_decreases_give_the_running_maximum() {
        let r = vec![3, 1, 4, 1, 5, 9, 2, 6];
        let rules = QuotaRules {
            free: 0,
            interval_minutes: 1,
            max_per_day: 0,
            day_minutes: 1440,
        };
        let s = optimal(&r, 0, 1, rules);
        assert_eq!(s.capacity, vec![3, 3, 4, 4, 5, 9, 9, 9]);
    }
}
