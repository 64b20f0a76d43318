//! Which series a run reads from CloudWatch, and when: the AWS side of
//! [`scaling_policy::cadence`], and the seasonal history.
//!
//! A series is one dimension (read or write) of a table or GSI. Each run of the scale-up
//! function:
//! 1. **Plans** every series of the managed tables with the cadence and the [`Warm`] state the
//!    container kept from earlier runs: a series that is not due is *resting* and gets no
//!    decision this run. No state (a cold start, a new table, the CLI) means everything is due.
//!    A poll that wants the calm wait ([`Plan::calm`]: a series' first poll, when the cadence
//!    spaces polls out) reads hours of datapoints; at most [`CALM_SERIES_PER_RUN`] a run do,
//!    and the others read the recent window ([`Plan::without_calm`]) and are read every minute
//!    until their turn, the next runs. A cold start of a large account then neither outgrows
//!    the function's memory nor its time.
//! 2. **First request**, one per window length among the due series' plans (a series' window
//!    covers every minute its plan reads; one table tagged with a long window does not lengthen
//!    every series, and the price is per metric whatever the window): consumed and combined
//!    throttle events for the series whose plan reads the throttle series
//!    ([`aws::fetch_usage`]), consumed only for the others. Every answer is checked as
//!    [`aws::fetch_usage`] checks it (a series not `Complete` is unknown, never zero).
//! 3. **History** for the seasonal floor ([`scaling_policy::seasonal`]) of the due series whose
//!    copy is missing or six hours old ([`HISTORY_REFRESH_MINUTES`]: the data is days old, so a
//!    copy stays right; "at most hourly"), at most [`HISTORY_SERIES_PER_RUN`] a run: consumed and
//!    combined throttle events over [`seasonal::history_range`] at a 5-minute period, then the
//!    key-range throttle events of the series whose history has throttle events. The container
//!    keeps only the demand of each period of the two windows the floor reads
//!    ([`SeasonalHistory`], a few kilobytes a series) and expands it per minute for one table's
//!    decisions at a time; a cold start drops it, and a series without history gets no seasonal
//!    floor (the rules are then purely reactive: never a wrong action).
//! 4. The run **decides**; then the **second request**
//!    ([`scaling_policy::cadence::Cadence::second`]) fetches the key-range throttle events of the
//!    series whose combined ones were above zero, and the throttle series of those that decided
//!    an increase without them, and those tables are decided again.
//! 5. The cadence **records** each poll ([`Warm::record`]).
//!
//! The scale-down function reads every series each run (it runs a few times a day), its own
//! history, and the key-range throttle events where the window was throttled.
//!
//! **Throttle events by cause.** Only the key-range ones are fetched; provisioned-throughput
//! throttling is the combined count minus them, and the other causes are zero: account-limit and
//! on-demand-maximum throttling happen to on-demand tables only (DynamoDB's `ThrottlingReason`),
//! which the scaler does not manage. A missing key-range datapoint reads as zero, so every
//! event it does not prove to be key-range counts as capacity throttling: the cautious reading.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use scaling_policy::cadence::{
    Cadence, HISTORY_REFRESH_MINUTES, Plan, Polled, Second, history_stale,
};
use scaling_policy::seasonal;
use scaling_policy::{
    Decision, DimensionInput, DimensionState, Minute, Settings, ThrottleCauses, Timestamp, Usage,
};

use crate::aws::{
    self, Clients, MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL, MetricKey, SeriesKey,
};
use crate::error::Error;
use crate::run::Direction;

/// The most series whose seasonal history one run fetches (about eight requests): a cold start
/// on a large account spreads the histories over its first runs instead of one long run.
pub const HISTORY_SERIES_PER_RUN: usize = 200;

/// The most series whose calm wait ([`Cadence::first_poll_minutes`], six hours of per-minute
/// datapoints) one run reads. Read for every series at once, a cold start of 2,500 tables
/// (8,336 series) peaked at 228 MB and 81 s (`scripts/bench-scale`), past the function's 128 MB
/// and 50 s; 500 series hold fewer datapoints than the recent windows of all 8,336, so that
/// account is judged in 17 runs, each read every minute until its turn.
pub const CALM_SERIES_PER_RUN: usize = 500;

/// The period of the seasonal history's datapoints, seconds.
pub const HISTORY_PERIOD_SECS: i64 = 300;

/// What a warm container remembers between runs: the cadence's state and the seasonal history
/// of each series. [`Warm::new`] is a cold start.
#[derive(Clone, Debug)]
pub struct Warm {
    cadence: Cadence,
    polled: HashMap<SeriesKey, Polled>,
    history: HashMap<SeriesKey, SeasonalHistory>,
}

impl Default for Warm {
    fn default() -> Self {
        Self::new(Cadence::default())
    }
}

impl Warm {
    /// A cold start with `cadence`: every series is due at the first run.
    pub fn new(cadence: Cadence) -> Self {
        Self {
            cadence,
            polled: HashMap::new(),
            history: HashMap::new(),
        }
    }

    /// The cadence.
    pub fn cadence(&self) -> &Cadence {
        &self.cadence
    }

    /// The last poll of a series, if this container made one.
    pub fn polled(&self, key: &SeriesKey) -> Option<&Polled> {
        self.polled.get(key)
    }

    /// Makes the series `key` due at the next run (its seasonal history is kept): a boost that
    /// starts asks for a poll now.
    pub fn make_due(&mut self, key: &SeriesKey) {
        self.polled.remove(key);
    }

    /// Forgets the series for which `keep` is false (tables gone or opted out).
    pub fn retain(&mut self, keep: impl Fn(&SeriesKey) -> bool) {
        self.polled.retain(|k, _| keep(k));
        self.history.retain(|k, _| keep(k));
    }

    /// Records the poll at `now` of the series `key`, planned as `plan`, that decided
    /// `decision` on `input`, and schedules its next poll.
    pub fn record(
        &mut self,
        key: &SeriesKey,
        settings: &Settings,
        plan: &Plan,
        input: &DimensionInput<'_>,
        decision: &Decision,
        now: Timestamp,
    ) {
        let next = self
            .cadence
            .next(settings, self.polled.get(key), plan, input, decision, now);
        self.polled.insert(key.clone(), next);
    }
}

/// One series a run may read, with what it is decided with.
#[derive(Clone, Debug)]
pub struct SeriesToRead<'a> {
    /// Which series.
    pub key: SeriesKey,
    /// The settings of its table or GSI.
    pub settings: &'a Settings,
    /// Its state from `DescribeTable`.
    pub state: DimensionState,
}

/// What a run read, for its decisions.
#[derive(Clone, Debug, Default)]
pub struct Readings {
    /// The cadence the plans come from (it decides their polls: [`Cadence::decide`]).
    pub cadence: Cadence,
    /// The recent datapoints of each series read this run, or why they could not be read.
    pub usage: aws::Measured,
    /// The plan of each series read by the cadence (its widened scale-up window). A series read
    /// without one is decided with its own settings.
    pub plans: HashMap<SeriesKey, Plan>,
    /// Series not due this run: no decision.
    pub resting: HashSet<SeriesKey>,
    /// The seasonal history of each series that has one (expand it with
    /// [`SeasonalHistory::usage`] for the decision).
    pub history: HashMap<SeriesKey, SeasonalHistory>,
}

impl Readings {
    /// Readings of every series in `usage`, each decided with its own settings and without
    /// history (a one-off look, as the CLI's `status` takes).
    pub fn of(usage: aws::Measured) -> Self {
        Self {
            usage,
            ..Self::default()
        }
    }
}

/// The plan of a series in `direction` at `now`, or `None` when it rests.
fn plan(warm: &Warm, t: &SeriesToRead<'_>, direction: Direction, now: Timestamp) -> Option<Plan> {
    match direction {
        Direction::Up => warm.cadence.plan(
            t.settings,
            warm.polled.get(&t.key),
            t.state.provisioned,
            now,
        ),
        Direction::Down => Some(Plan {
            throttles: true,
            fetch_minutes: t.settings.down_window_minutes,
            replayed_minutes: 0,
            calm: false,
        }),
    }
}

/// Plans every series and makes the run's first requests (recent datapoints and stale
/// histories). Failures of the recent datapoints are per series, in `usage`; a history that
/// cannot be fetched is left out (no seasonal floor), with a warning.
pub async fn read(
    clients: &Clients,
    warm: &mut Warm,
    series: &[SeriesToRead<'_>],
    direction: Direction,
    now: Timestamp,
) -> Readings {
    let mut readings = Readings {
        cadence: warm.cadence,
        ..Readings::default()
    };
    // Per window length: one table tagged with a long window does not lengthen every series
    // (the price is per metric, whatever the window, so this costs nothing).
    let mut full: BTreeMap<u32, Vec<SeriesKey>> = BTreeMap::new();
    let mut consumed_only: BTreeMap<u32, Vec<SeriesKey>> = BTreeMap::new();
    let mut plans: Vec<(&SeriesToRead<'_>, Option<Plan>)> = series
        .iter()
        .map(|t| (t, plan(warm, t, direction, now)))
        .collect();
    bound_calm_reads(&mut plans, CALM_SERIES_PER_RUN);
    for (t, p) in plans {
        match p {
            None => {
                readings.resting.insert(t.key.clone());
            }
            Some(p) => {
                let by_window = if p.throttles {
                    &mut full
                } else {
                    &mut consumed_only
                };
                by_window
                    .entry(p.fetch_minutes.max(1))
                    .or_default()
                    .push(t.key.clone());
                readings.plans.insert(t.key.clone(), p);
            }
        }
    }
    let end = now.floor_minute();
    for (minutes, keys) in full {
        let start = end.plus_secs(-60 * i64::from(minutes));
        readings
            .usage
            .extend(aws::fetch_usage(clients, &keys, start, end).await);
    }
    for (minutes, keys) in consumed_only {
        let start = end.plus_secs(-60 * i64::from(minutes));
        let fetched = fetch_sums(clients, &keys, Series::Consumed, (start, end), 60).await;
        for (key, got) in keys.into_iter().zip(fetched) {
            let usage = got.map(|points| {
                let mut u = grid(start, end);
                fill(&mut u, &points, 60, |m, v| m.consumed = Some(v));
                u
            });
            readings.usage.insert(key, usage);
        }
    }
    read_history(clients, warm, series, &mut readings, now).await;
    readings
}

/// Leaves the calm wait ([`Plan::calm`]) to the first `most` plans that want it; the others
/// read the recent window ([`Plan::without_calm`]) and want it again at their next poll.
fn bound_calm_reads(plans: &mut [(&SeriesToRead<'_>, Option<Plan>)], most: usize) {
    let mut granted = 0;
    for (t, plan) in plans.iter_mut() {
        if let Some(p) = plan.as_mut().filter(|p| p.calm) {
            if granted < most {
                granted += 1;
            } else {
                *p = p.without_calm(t.settings);
            }
        }
    }
}

/// Fetches the stale histories of the series read this run (with their recent datapoints), at
/// most [`HISTORY_SERIES_PER_RUN`] of them (the others the next runs: until then they have no
/// seasonal floor), and puts every history into `readings`.
async fn read_history(
    clients: &Clients,
    warm: &mut Warm,
    series: &[SeriesToRead<'_>],
    readings: &mut Readings,
    now: Timestamp,
) {
    let stale: Vec<(&SeriesToRead<'_>, u32)> = series
        .iter()
        // Only for the series read this run (a series whose recent datapoints failed is not
        // decided: its history would be wasted).
        .filter(|t| matches!(readings.usage.get(&t.key), Some(Ok(_))))
        .filter(|t| t.settings.seasonal_ahead_minutes > 0)
        .filter(|t| history_stale(warm.history.get(&t.key).map(|h| h.fetched), now))
        .take(HISTORY_SERIES_PER_RUN)
        .map(|t| (t, t.settings.seasonal_ahead_minutes))
        .collect();
    // One range serves every series: the longest look-ahead.
    let ahead = stale.iter().map(|(_, a)| *a).max().unwrap_or(0);
    if !stale.is_empty() {
        let (start, end) = seasonal::history_range(now, ahead, HISTORY_REFRESH_MINUTES);
        let range = (
            floor_to(start, HISTORY_PERIOD_SECS),
            ceil_to(end, HISTORY_PERIOD_SECS),
        );
        let keys: Vec<SeriesKey> = stale.iter().map(|(t, _)| t.key.clone()).collect();
        let period = HISTORY_PERIOD_SECS;
        let consumed = fetch_sums(clients, &keys, Series::Consumed, range, period).await;
        let throttled = fetch_sums(clients, &keys, Series::Throttled, range, period).await;
        let mut fetched = Vec::new();
        for ((key, c), t) in keys.into_iter().zip(consumed).zip(throttled) {
            match (c, t) {
                (Ok(c), Ok(t)) => fetched.push((key, c, t)),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(
                        table = %key.table,
                        error = %crate::error::chain(&*e),
                        "seasonal history not fetched; no seasonal floor this run"
                    );
                    warm.history.remove(&key);
                }
            }
        }
        let throttled: Vec<SeriesKey> = fetched
            .iter()
            .filter(|(_, _, t)| t.iter().any(|(_, v)| *v > 0.0))
            .map(|(k, _, _)| k.clone())
            .collect();
        let mut key_range: HashMap<SeriesKey, Vec<(Timestamp, f64)>> = HashMap::new();
        let got = fetch_sums(clients, &throttled, Series::KeyRange, range, period).await;
        for (key, points) in throttled.into_iter().zip(got) {
            match points {
                Ok(p) => {
                    key_range.insert(key, p);
                }
                Err(e) => tracing::warn!(
                    table = %key.table,
                    error = %crate::error::chain(&*e),
                    "key-range throttle history not fetched; its throttle events count as capacity throttling"
                ),
            }
        }
        for (key, c, t) in fetched {
            let kr = key_range.get(&key).map_or(&[][..], Vec::as_slice);
            let history = SeasonalHistory::keep(now, ahead, &c, &t, kr);
            warm.history.insert(key, history);
        }
    }
    for key in readings.plans.keys() {
        if let Some(h) = warm.history.get(key) {
            readings.history.insert(key.clone(), h.clone());
        }
    }
}

/// A series' seasonal history as a warm container keeps it: the demand (units/s) of each
/// [`HISTORY_PERIOD_SECS`] period of the two windows the seasonal floor reads while the copy
/// serves (yesterday's and last week's, each [`HISTORY_REFRESH_MINUTES`] plus the look-ahead
/// long). A few kilobytes per series, where the whole range per minute would be over half a
/// megabyte: a container keeps thousands.
#[derive(Clone, Debug, PartialEq)]
pub struct SeasonalHistory {
    /// When it was fetched.
    pub fetched: Timestamp,
    /// Each window's first period, and the demand of each period (`None`: no datapoint).
    windows: Vec<(Timestamp, Vec<Option<f32>>)>,
}

impl SeasonalHistory {
    /// The history fetched at `fetched` for a look-ahead of `ahead` minutes, from the Sums of a
    /// series' consumed capacity, throttle events and key-range throttle events per period
    /// (the key-range ones are not capacity demand).
    pub fn keep(
        fetched: Timestamp,
        ahead: u32,
        consumed: &[(Timestamp, f64)],
        throttled: &[(Timestamp, f64)],
        key_range: &[(Timestamp, f64)],
    ) -> Self {
        let by_period = |points: &[(Timestamp, f64)]| -> HashMap<i64, f64> {
            points.iter().map(|(t, v)| (t.unix(), *v)).collect()
        };
        let (c, t, k) = (
            by_period(consumed),
            by_period(throttled),
            by_period(key_range),
        );
        let minutes = i64::from(ahead + HISTORY_REFRESH_MINUTES);
        let periods = (60 * minutes).div_euclid(HISTORY_PERIOD_SECS) + 2;
        let windows = seasonal::LAGS_SECS
            .iter()
            .rev()
            .map(|lag| {
                let first = floor_to(fetched.floor_minute().plus_secs(-lag), HISTORY_PERIOD_SECS);
                let demand = (0..periods)
                    .map(|p| {
                        let at = first.plus_secs(p * HISTORY_PERIOD_SECS).unix();
                        let (cv, tv) = (c.get(&at), t.get(&at));
                        if cv.is_none() && tv.is_none() {
                            return None;
                        }
                        let capacity_throttled = (tv.copied().unwrap_or(0.0)
                            - k.get(&at).copied().unwrap_or(0.0))
                        .max(0.0);
                        let units = cv.copied().unwrap_or(0.0).max(0.0) + capacity_throttled;
                        Some((units / HISTORY_PERIOD_SECS as f64) as f32)
                    })
                    .collect();
                (first, demand)
            })
            .collect();
        Self { fetched, windows }
    }

    /// The history as the seasonal floor reads it: one per-minute [`Usage`] over both windows
    /// (the minutes between them are gaps). Build it for one decision at a time.
    pub fn usage(&self) -> Usage {
        let Some(start) = self.windows.iter().map(|(t, _)| *t).min() else {
            return Usage::empty(self.fetched);
        };
        let per = usize::try_from(HISTORY_PERIOD_SECS / 60).unwrap_or(1);
        let end = self
            .windows
            .iter()
            .map(|(t, d)| t.plus_secs(HISTORY_PERIOD_SECS * d.len() as i64))
            .max()
            .unwrap_or(start);
        let mut u = grid(start, end);
        for (first, demand) in &self.windows {
            let offset = usize::try_from(first.secs_since(start) / 60).unwrap_or(0);
            for (p, d) in demand.iter().enumerate() {
                let Some(d) = d else { continue };
                for m in 0..per {
                    if let Some(slot) = u.minutes.get_mut(offset + p * per + m) {
                        *slot = Minute::known(f64::from(*d) * 60.0, 0.0);
                    }
                }
            }
        }
        u
    }
}

/// What the second request fetches for the series read this run that `decided`
/// (`direction`'s decisions after the first request), and merges it into `readings`. Returns
/// the series whose datapoints changed (their tables must be decided again).
pub async fn second(
    clients: &Clients,
    series: &[SeriesToRead<'_>],
    readings: &mut Readings,
    decided: &HashMap<SeriesKey, Decision>,
    direction: Direction,
    now: Timestamp,
) -> HashSet<SeriesKey> {
    // Per window length, as the first request: (throttle series, key-range series).
    let mut by_window: BTreeMap<usize, (Vec<SeriesKey>, Vec<SeriesKey>)> = BTreeMap::new();
    for t in series {
        let key = &t.key;
        let (Some(decision), Some(plan), Some(Ok(usage))) = (
            decided.get(key),
            readings.plans.get(key),
            readings.usage.get(key),
        ) else {
            continue;
        };
        let s = match direction {
            Direction::Up => readings
                .cadence
                .second(t.settings, plan, usage, decision, now),
            Direction::Down => Second {
                throttles: false,
                key_range: has_throttles(usage),
            },
        };
        if s.metrics() == 0 {
            continue;
        }
        let (throttles, key_range) = by_window.entry(usage.minutes.len().max(1)).or_default();
        if s.throttles {
            throttles.push(key.clone());
        }
        if s.key_range {
            key_range.push(key.clone());
        }
    }
    let mut changed = HashSet::new();
    let end = now.floor_minute();
    for (minutes, (throttles, key_range)) in by_window {
        let start = end.plus_secs(-60 * i64::try_from(minutes).unwrap_or(0));
        let got = fetch_sums(clients, &throttles, Series::Throttled, (start, end), 60).await;
        for (key, got) in throttles.into_iter().zip(got) {
            match got {
                Ok(points) => {
                    if let Some(Ok(u)) = readings.usage.get_mut(&key) {
                        fill(u, &points, 60, |m, v| m.throttled = Some(v));
                        changed.insert(key);
                    }
                }
                Err(e) => tracing::warn!(
                    table = %key.table,
                    error = %crate::error::chain(&*e),
                    "throttle events not fetched; the increase is sized on consumed capacity"
                ),
            }
        }
        let got = fetch_sums(clients, &key_range, Series::KeyRange, (start, end), 60).await;
        for (key, got) in key_range.into_iter().zip(got) {
            match got {
                Ok(points) => {
                    if let Some(Ok(u)) = readings.usage.get_mut(&key) {
                        attribute(u, &points, 60);
                        changed.insert(key);
                    }
                }
                Err(e) => tracing::warn!(
                    table = %key.table,
                    error = %crate::error::chain(&*e),
                    "key-range throttle events not fetched; throttling counts as lack of capacity"
                ),
            }
        }
    }
    changed
}

/// Every series' consumed and throttle Sums per minute over `[start, end)`, their throttle
/// events attributed to their causes (key-range, the rest provisioned throughput): three
/// metrics per series, for looking back at what a table did (`ddb-autoscaler cost`).
pub async fn observed(
    clients: &Clients,
    keys: &[SeriesKey],
    start: Timestamp,
    end: Timestamp,
) -> Vec<Result<Usage, Arc<Error>>> {
    let (start, end) = (start.floor_minute(), end.floor_minute());
    let range = (start, end);
    let consumed = fetch_sums(clients, keys, Series::Consumed, range, 60).await;
    let throttled = fetch_sums(clients, keys, Series::Throttled, range, 60).await;
    let key_range = fetch_sums(clients, keys, Series::KeyRange, range, 60).await;
    consumed
        .into_iter()
        .zip(throttled)
        .zip(key_range)
        .map(|((c, t), k)| {
            let (c, t, k) = (c?, t?, k?);
            let mut u = grid(start, end);
            fill(&mut u, &c, 60, |m, v| m.consumed = Some(v));
            fill(&mut u, &t, 60, |m, v| m.throttled = Some(v));
            attribute(&mut u, &k, 60);
            Ok(u)
        })
        .collect()
}

/// The metric of a series a request names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Series {
    Consumed,
    Throttled,
    KeyRange,
}

/// The Sums of one metric of each key over `[start, end)` at `period` seconds, in as few
/// `GetMetricData` requests as the API's limits allow; per key, in the order of `keys`.
async fn fetch_sums(
    clients: &Clients,
    keys: &[SeriesKey],
    series: Series,
    (start, end): (Timestamp, Timestamp),
    period: i64,
) -> Vec<Result<Vec<(Timestamp, f64)>, Arc<Error>>> {
    if keys.is_empty() {
        return Vec::new();
    }
    let span = end.secs_since(start).max(60);
    let points = usize::try_from(span / period).unwrap_or(usize::MAX).max(1);
    let per_call = (MAX_DATAPOINTS_PER_CALL / points).clamp(1, MAX_QUERIES_PER_CALL);
    let metric_keys: Vec<MetricKey> = keys
        .iter()
        .map(|k| {
            let names = aws::metric_names(k.dimension);
            MetricKey {
                table: k.table.clone(),
                index: k.index.clone(),
                metric: match series {
                    Series::Consumed => names.consumed,
                    Series::Throttled => names.throttled,
                    Series::KeyRange => names.key_range,
                }
                .to_owned(),
                stat: "Sum".to_owned(),
            }
        })
        .collect();
    let mut out = Vec::with_capacity(keys.len());
    for batch in metric_keys.chunks(per_call) {
        let period = i32::try_from(period).unwrap_or(60);
        match aws::fetch_history(clients, batch, start, end, period).await {
            Ok(series) => out.extend(series.into_iter().map(|s| s.map_err(Arc::new))),
            Err(e) => {
                let e = Arc::new(e);
                out.extend(batch.iter().map(|_| Err(Arc::clone(&e))));
            }
        }
    }
    out
}

/// Minutes `[start, end)` with no datapoint.
fn grid(start: Timestamp, end: Timestamp) -> Usage {
    let n = usize::try_from(end.secs_since(start) / 60).unwrap_or(0);
    Usage {
        start,
        minutes: vec![Minute::GAP; n],
    }
}

/// Puts Sums of `period` seconds onto `usage`'s minutes, each spread evenly over its minutes, with
/// `set` (which adds nothing to a minute already set by another point: each is set once).
fn fill(
    usage: &mut Usage,
    points: &[(Timestamp, f64)],
    period: i64,
    set: impl Fn(&mut Minute, f64),
) {
    let per = (period / 60).max(1);
    for (at, value) in points {
        let first = at.secs_since(usage.start).div_euclid(60);
        for m in first..first + per {
            if let Some(minute) = usize::try_from(m)
                .ok()
                .and_then(|m| usage.minutes.get_mut(m))
            {
                set(minute, value / per as f64);
            }
        }
    }
}

/// Attributes the throttle events of `usage` to their causes with the key-range Sums `points`
/// (see the module header): provisioned throughput is the rest.
fn attribute(usage: &mut Usage, points: &[(Timestamp, f64)], period: i64) {
    let mut key_range = Usage {
        start: usage.start,
        minutes: vec![Minute::GAP; usage.minutes.len()],
    };
    fill(&mut key_range, points, period, |m, v| m.throttled = Some(v));
    for (m, kr) in usage.minutes.iter_mut().zip(&key_range.minutes) {
        let kr = kr.throttled.unwrap_or(0.0).max(0.0);
        let total = m.throttled.unwrap_or(0.0).max(0.0).max(kr);
        if total > 0.0 {
            m.throttled = Some(total);
            m.causes = Some(ThrottleCauses {
                provisioned: total - kr,
                key_range: kr,
                other: 0.0,
            });
        }
    }
}

fn has_throttles(usage: &Usage) -> bool {
    usage
        .minutes
        .iter()
        .any(|m| m.throttled.unwrap_or(0.0) > 0.0)
}

fn floor_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(t.unix().div_euclid(step) * step)
}

fn ceil_to(t: Timestamp, step: i64) -> Timestamp {
    Timestamp::from_unix(-(-t.unix()).div_euclid(step) * step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_so_many_series_read_the_calm_wait_in_one_run() {
        let cadence = Cadence {
            max_interval_minutes: 10,
            ..Cadence::default()
        };
        let warm = Warm::new(cadence);
        let settings = Settings::default();
        let now = Timestamp::from_unix(86_400 * 20_000 + 12 * 3_600);
        let series: Vec<SeriesToRead<'_>> = ["a", "b", "c", "d"]
            .into_iter()
            .map(|table| SeriesToRead {
                key: SeriesKey {
                    table: table.into(),
                    index: None,
                    dimension: scaling_policy::Dimension::Read,
                },
                settings: &settings,
                state: DimensionState {
                    provisioned: 100,
                    budget: Default::default(),
                    last_increase: None,
                },
            })
            .collect();
        let mut plans: Vec<_> = series
            .iter()
            .map(|t| (t, plan(&warm, t, Direction::Up, now)))
            .collect();
        // A series at rest and one that read its wait already take no share of the budget.
        plans[0].1 = None;
        plans[1].1 = plans[1].1.map(|p| p.without_calm(&settings));
        bound_calm_reads(&mut plans, 1);
        let got: Vec<Option<(bool, u32)>> = plans
            .iter()
            .map(|(_, p)| p.map(|p| (p.calm, p.fetch_minutes)))
            .collect();
        let long = cadence.first_poll_minutes();
        assert!(long > 30);
        assert_eq!(
            got,
            [
                None,
                Some((false, 30)),
                Some((true, long)),
                Some((false, 30))
            ]
        );
    }

    #[test]
    fn coarse_sums_are_spread_over_their_minutes() {
        let start = Timestamp::from_unix(600);
        let mut u = grid(start, start.plus_secs(600));
        fill(&mut u, &[(start.plus_secs(300), 50.0)], 300, |m, v| {
            m.consumed = Some(v)
        });
        let got: Vec<Option<f64>> = u.minutes.iter().map(|m| m.consumed).collect();
        assert_eq!(got[..5], [None; 5]);
        assert_eq!(got[5..], [Some(10.0); 5]);
    }

    #[test]
    fn the_kept_history_gives_the_seasonal_floor_the_whole_range_would() {
        let fetched = Timestamp::from_unix(86_400 * 20_000 + 8 * 3_600 + 17 * 60 + 5);
        let ahead = 60;
        let (start, end) = seasonal::history_range(fetched, ahead, HISTORY_REFRESH_MINUTES);
        let (start, end) = (
            floor_to(start, HISTORY_PERIOD_SECS),
            ceil_to(end, HISTORY_PERIOD_SECS),
        );
        // Demand rising and falling by the hour, some of it throttled, part of that key-range.
        let mut consumed = Vec::new();
        let mut throttled = Vec::new();
        let mut key_range = Vec::new();
        let mut t = start;
        while t < end {
            let hour = t.unix().div_euclid(3_600) % 24;
            consumed.push((t, 300.0 * (10.0 + 7.0 * hour as f64)));
            if hour % 5 == 0 {
                throttled.push((t, 600.0));
                key_range.push((t, 200.0));
            }
            t = t.plus_secs(HISTORY_PERIOD_SECS);
        }
        let mut whole = grid(start, end);
        fill(&mut whole, &consumed, HISTORY_PERIOD_SECS, |m, v| {
            m.consumed = Some(v)
        });
        fill(&mut whole, &throttled, HISTORY_PERIOD_SECS, |m, v| {
            m.throttled = Some(v)
        });
        attribute(&mut whole, &key_range, HISTORY_PERIOD_SECS);
        let kept = SeasonalHistory::keep(fetched, ahead, &consumed, &throttled, &key_range);
        let expanded = kept.usage();
        for minutes in [0, 1, 59, 61, 200, 359] {
            let now = fetched.plus_secs(60 * minutes);
            let want = seasonal::expected_peak(&whole, now, ahead).expect("history");
            let got = seasonal::expected_peak(&expanded, now, ahead).expect("history");
            assert!(
                (want - got).abs() < 1e-3,
                "{minutes} min in: {want} vs {got}"
            );
        }
        let periods: usize = kept.windows.iter().map(|(_, d)| d.len()).sum();
        assert!(
            periods < 200,
            "{periods} periods kept, of {}",
            whole.minutes.len() / 5
        );
    }

    #[test]
    fn key_range_events_are_taken_out_of_the_combined_ones() {
        let start = Timestamp::from_unix(600);
        let mut u = grid(start, start.plus_secs(180));
        u.minutes[0] = Minute::known(600.0, 90.0);
        u.minutes[1] = Minute::known(600.0, 0.0);
        u.minutes[2] = Minute {
            consumed: Some(600.0),
            throttled: None,
            causes: None,
        };
        // 60 of the first minute's 90 events were key-range; the third minute's key-range
        // datapoint arrived before its combined one.
        attribute(&mut u, &[(start, 60.0), (start.plus_secs(120), 30.0)], 60);
        let c = u.minutes[0].causes.expect("attributed");
        assert_eq!((c.provisioned, c.key_range, c.other), (30.0, 60.0, 0.0));
        assert_eq!(u.minutes[0].capacity_throttled(), 30.0);
        assert_eq!(
            u.minutes[1].causes, None,
            "no throttling, nothing to attribute"
        );
        assert_eq!(u.minutes[2].throttled, Some(30.0));
        assert_eq!(u.minutes[2].capacity_throttled(), 0.0);
    }
}
