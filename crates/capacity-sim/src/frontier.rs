//! The frontier: ours against AWS target tracking at equal cost (issue 8's measure).
//!
//! Target tracking (TT) trades cost for throttling through its target: at 20% it is dear and
//! rarely throttles, at 90% cheap and throttles more. Its targets 20, 30, ..., 90%
//! ([`TT_TARGETS_PCT`]) trace a frontier of (cost, throttled %) points. For each trace and
//! scale-down schedule of ours, [`frontier`] reports:
//! - ours' cost and throttled % on the scored minutes;
//! - **TT's throttled % at ours' cost**: TT's points sorted by cost, the logarithm of the
//!   throttled % (floored at [`FLOOR_PCT`], 0.0001%) linear in cost between neighbours, and
//!   outside their range the nearer end's value (normally TT20 above, TT90 below);
//! - **the advantage**: that divided by ours' throttled % (floored the same way), capped at
//!   [`MAX_ADVANTAGE`] (1000x). Where both are below [`TIE_BELOW_PCT`] (0.001%) the trace is a
//!   tie: no advantage, and it stays out of the geometric mean;
//! - ours' cost against TT at 70% (AWS's default), on-demand and the clairvoyant, and the cost
//!   of perfect foresight on that schedule ([`crate::clairvoyant::optimal_on_schedule`])
//!   against the clairvoyant: what bounds any policy that lowers capacity only at those runs.
//!
//! Cost is provisioned capacity only (and on-demand's bill for its column); the scaler's own
//! CloudWatch bill is not in it.
//!
//! **Schedules** ([`FrontierSchedule`]): fixed times, or times chosen per trace: the best `k`
//! a day by perfect foresight ([`crate::schedule::choose_daily_runs`], on what ours can lower
//! capacity to at a run, [`crate::advice::lowerable`]) on the trace's first
//! [`CHOOSING_DAYS`] days (the first half, in whole days, of a trace shorter than twice that),
//! and then every policy, TT's whole sweep included, is scored on the rest only, so that the
//! choice never sees the minutes it is scored on. Policies always run over the whole trace (so
//! they are warm when scoring starts); only the scored minutes count. On-demand and the
//! clairvoyant are their whole-trace results restricted to the scored minutes; perfect
//! foresight on the schedule is computed on the scored minutes alone.
//!
//! [`summarize`] gives the geometric means over a group of traces, per schedule.

use serde::Serialize;

use crate::Error;
use crate::clairvoyant::{self, QuotaRules};
use crate::model::{Run, simulate};
use crate::params::ModelParams;
use crate::policies::{Ours, TargetTracking};
use crate::reference;
use crate::report::percent_of;
use crate::schedule::{Requirement, ScaleDownSchedule, choose_daily_runs};
use crate::trace::Trace;
use scaling_policy::Settings;
use scaling_policy::cadence::Cadence;

/// Target tracking's targets on the frontier, percent.
pub const TT_TARGETS_PCT: [u32; 8] = [20, 30, 40, 50, 60, 70, 80, 90];
/// Throttled % below this counts as this (the logarithm needs a floor), percent.
pub const FLOOR_PCT: f64 = 1e-4;
/// Both below this: a tie, percent.
pub const TIE_BELOW_PCT: f64 = 1e-3;
/// The largest advantage reported.
pub const MAX_ADVANTAGE: f64 = 1000.0;
/// Days a chosen schedule is chosen on (the first half of a shorter trace).
pub const CHOOSING_DAYS: usize = 7;

/// One scale-down schedule of ours on the frontier.
#[derive(Clone, Debug, PartialEq)]
pub enum FrontierSchedule {
    /// The same times on every trace.
    Fixed {
        /// Name in reports (`default`, `hourly`...).
        id: String,
        /// The times.
        schedule: ScaleDownSchedule,
    },
    /// `runs_per_day` times chosen for each trace among `candidates` (minutes of the UTC day).
    Chosen {
        /// Name in reports (`chosen-4`).
        id: String,
        /// Runs a day.
        runs_per_day: usize,
        /// The times it may choose from.
        candidates: Vec<u32>,
    },
}

impl FrontierSchedule {
    /// The name in reports.
    pub fn id(&self) -> &str {
        match self {
            FrontierSchedule::Fixed { id, .. } | FrontierSchedule::Chosen { id, .. } => id,
        }
    }

    /// The bench's four: `default` (the model's schedule, 00/06/12/18 UTC unless changed),
    /// `chosen-4` (four whole UTC hours chosen per trace), `hourly` and `every-15-min` (the
    /// quota's pace and faster: the quota then decides which runs may decrease).
    pub fn bench(default: &ScaleDownSchedule) -> Result<Vec<Self>, Error> {
        Ok(vec![
            FrontierSchedule::Fixed {
                id: "default".into(),
                schedule: default.clone(),
            },
            FrontierSchedule::Chosen {
                id: "chosen-4".into(),
                runs_per_day: 4,
                candidates: (0..24).map(|h| h * 60).collect(),
            },
            FrontierSchedule::Fixed {
                id: "hourly".into(),
                schedule: ScaleDownSchedule::every(60)?,
            },
            FrontierSchedule::Fixed {
                id: "every-15-min".into(),
                schedule: ScaleDownSchedule::every(15)?,
            },
        ])
    }
}

/// Cost and throttling of one policy on the scored minutes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// Capacity-unit-hours provisioned.
    pub cost_unit_hours: f64,
    /// Refused units / demanded units, percent.
    pub throttled_pct: f64,
}

/// One point of target tracking's sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackingPoint {
    /// The target, percent.
    pub target_pct: u32,
    /// Capacity-unit-hours provisioned.
    pub cost_unit_hours: f64,
    /// Refused units / demanded units, percent.
    pub throttled_pct: f64,
}

/// Ours on one schedule of one trace, against the sweep. Field names are the JSON's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleResult {
    /// The schedule's name (`default`, `chosen-4`, `hourly`, `every-15-min`).
    pub schedule: String,
    /// Its times, e.g. `00:00, 06:00, 12:00, 18:00 UTC`.
    pub runs_utc: String,
    /// Its times as minutes of the UTC day.
    pub run_minutes_utc: Vec<u32>,
    /// For a chosen schedule, the whole days at the start of the trace it was chosen on.
    pub chosen_on_days: Option<u32>,
    /// The first scored minute (RFC 3339, UTC).
    pub scored_from: String,
    /// Days scored.
    pub scored_days: f64,
    /// Ours.
    pub ours: Point,
    /// Decreases ours made in the scored minutes.
    pub ours_decreases: u32,
    /// Target tracking at each of [`TT_TARGETS_PCT`], on the same minutes.
    pub target_tracking: Vec<TrackingPoint>,
    /// TT's throttled % at ours' cost (interpolated; floored at [`FLOOR_PCT`]).
    pub tt_throttled_pct_at_ours_cost: f64,
    /// `tt_throttled_pct_at_ours_cost / max(ours' throttled %, FLOOR_PCT)`, at most
    /// [`MAX_ADVANTAGE`]; `None` for a tie.
    pub advantage: Option<f64>,
    /// Both throttle less than [`TIE_BELOW_PCT`].
    pub tie: bool,
    /// Ours' cost / TT at 70%'s.
    pub cost_vs_tt70: f64,
    /// Ours' cost / on-demand's (dollars).
    pub cost_vs_on_demand: f64,
    /// Ours' cost / the clairvoyant's.
    pub cost_vs_clairvoyant: f64,
    /// Perfect foresight on this schedule / the clairvoyant: the bound of any policy that
    /// lowers capacity only at these runs.
    pub bound_cost_vs_clairvoyant: f64,
}

/// A schedule left out for one trace, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skipped {
    /// The schedule's name.
    pub schedule: String,
    /// Why.
    pub reason: String,
}

/// The frontier of one trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceFrontier {
    /// The trace's name.
    pub trace: String,
    /// One result per schedule evaluated, in the order asked.
    pub schedules: Vec<ScheduleResult>,
    /// Schedules that could not be evaluated on this trace.
    pub skipped: Vec<Skipped>,
}

/// Geometric means over a group of traces, for one schedule. Field names are the JSON's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupSummary {
    /// The group (`traces`: the real ones; `synthetic`).
    pub group: String,
    /// The schedule's name.
    pub schedule: String,
    /// Traces evaluated on this schedule.
    pub traces: usize,
    /// Of those, ties (left out of the advantage's mean and minimum).
    pub ties: usize,
    /// Geometric mean of the advantage over the traces that are not ties.
    pub advantage_geomean: Option<f64>,
    /// The smallest advantage, and on which trace.
    pub advantage_min: Option<f64>,
    /// The trace with the smallest advantage.
    pub advantage_min_trace: Option<String>,
    /// Geometric mean of ours' cost / TT at 70%'s.
    pub cost_vs_tt70_geomean: Option<f64>,
    /// Geometric mean of ours' cost / on-demand's.
    pub cost_vs_on_demand_geomean: Option<f64>,
    /// Geometric mean of ours' cost / the clairvoyant's.
    pub cost_vs_clairvoyant_geomean: Option<f64>,
    /// Geometric mean of perfect foresight on the schedule / the clairvoyant.
    pub bound_cost_vs_clairvoyant_geomean: Option<f64>,
    /// Traces on which ours costs more than TT at 70%.
    pub dearer_than_tt70: usize,
    /// Traces on which ours costs more than on-demand.
    pub dearer_than_on_demand: usize,
}

/// TT's throttled % at `cost`, from its sweep `points` (see the module documentation).
pub fn throttled_at_cost(points: &[Point], cost: f64) -> f64 {
    let mut sorted: Vec<&Point> = points.iter().collect();
    sorted.sort_by(|a, b| a.cost_unit_hours.total_cmp(&b.cost_unit_hours));
    let log = |p: &Point| p.throttled_pct.max(FLOOR_PCT).ln();
    let (Some(first), Some(last)) = (sorted.first(), sorted.last()) else {
        return f64::NAN;
    };
    if cost <= first.cost_unit_hours {
        return log(first).exp();
    }
    if cost >= last.cost_unit_hours {
        return log(last).exp();
    }
    for w in sorted.windows(2) {
        let (a, b) = (w[0], w[1]);
        if cost <= b.cost_unit_hours {
            let span = b.cost_unit_hours - a.cost_unit_hours;
            if span <= 0.0 {
                return log(a).min(log(b)).exp();
            }
            let x = (cost - a.cost_unit_hours) / span;
            return (log(a) + x * (log(b) - log(a))).exp();
        }
    }
    log(last).exp()
}

/// The advantage of a policy throttling `ours_pct` over TT's `tt_pct` at the same cost, or
/// `None` for a tie (both under [`TIE_BELOW_PCT`]).
pub fn advantage(tt_pct: f64, ours_pct: f64) -> Option<f64> {
    if tt_pct < TIE_BELOW_PCT && ours_pct < TIE_BELOW_PCT {
        return None;
    }
    Some((tt_pct.max(FLOOR_PCT) / ours_pct.max(FLOOR_PCT)).min(MAX_ADVANTAGE))
}

/// The geometric mean, or `None` for no values.
pub fn geomean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v.ln(), n + 1));
    (n > 0).then(|| (sum / n as f64).exp())
}

/// Cost and throttling of `run` over minutes `from..`, with `demanded` units there.
fn point(run: &Run, from: usize, demanded: f64) -> Point {
    Point {
        cost_unit_hours: run.provisioned[from..].iter().sum::<u64>() as f64 / 60.0,
        throttled_pct: percent_of(run.refused[from..].iter().sum(), demanded),
    }
}

/// Whole days a chosen schedule is chosen on: [`CHOOSING_DAYS`], or half the trace's whole
/// days when it is shorter than twice that (0: too short to choose and score).
pub fn choosing_days(trace: &Trace) -> usize {
    CHOOSING_DAYS.min(trace.len() / 1440 / 2)
}

/// Ours (the shipped settings, polling as `cadence` says) on each of `schedules` against
/// target tracking's sweep, on `trace` (see the module documentation). `clairvoyant` is the clairvoyant's capacity per minute when the caller has
/// it already (the `clairvoyant` run of [`crate::evaluate`]); otherwise it is computed, which
/// is the most expensive step here.
pub fn frontier(
    trace: &Trace,
    params: &ModelParams,
    schedules: &[FrontierSchedule],
    clairvoyant: Option<&[u64]>,
    cadence: Cadence,
) -> Result<TraceFrontier, Error> {
    let baselines = Baselines::new(trace, params, clairvoyant)?;
    frontier_of(&baselines, schedules, &Settings::default(), cadence)
}

/// What the frontier compares ours with on one trace, computed once: target tracking's sweep,
/// on-demand, the minutes' requirement and the clairvoyant. Tuning runs many settings of ours
/// against the same baselines ([`frontier_of`]).
#[derive(Clone, Debug)]
pub struct Baselines<'a> {
    trace: &'a Trace,
    params: ModelParams,
    tracking: Vec<(u32, Run)>,
    on_demand: reference::Outcome,
    required: Vec<u64>,
    clairvoyant: Vec<u64>,
}

impl<'a> Baselines<'a> {
    /// The baselines of `trace` (`clairvoyant` as in [`frontier`]).
    pub fn new(
        trace: &'a Trace,
        params: &ModelParams,
        clairvoyant: Option<&[u64]>,
    ) -> Result<Self, Error> {
        params.validate()?;
        let n = trace.len();
        if n == 0 {
            return Err(Error::BadTrace {
                path: trace.name.clone(),
                message: "the trace has no minutes".into(),
            });
        }
        let tracking: Vec<(u32, Run)> = TT_TARGETS_PCT
            .iter()
            .map(|pct| {
                let mut tt = TargetTracking::new(f64::from(*pct) / 100.0, 1, params.max_capacity);
                (*pct, simulate(trace, params, &mut tt))
            })
            .collect();
        let on_demand = reference::on_demand(trace, params);
        let required = reference::required_units(trace, params);
        let clairvoyant = match clairvoyant {
            Some(c) if c.len() == n => c.to_vec(),
            _ => {
                clairvoyant::optimal(
                    &required,
                    trace.start.unix().div_euclid(60),
                    params.update_delay as usize,
                    QuotaRules::default(),
                )
                .capacity
            }
        };
        Ok(Self {
            trace,
            params: params.clone(),
            tracking,
            on_demand,
            required,
            clairvoyant,
        })
    }
}

/// The frontier of ours with `settings`, polling as `cadence` says, against `baselines` (see
/// [`frontier`]).
pub fn frontier_of(
    baselines: &Baselines<'_>,
    schedules: &[FrontierSchedule],
    settings: &Settings,
    cadence: Cadence,
) -> Result<TraceFrontier, Error> {
    let Baselines {
        trace,
        params,
        tracking,
        on_demand,
        required,
        clairvoyant,
    } = baselines;
    let (trace, params) = (*trace, params);
    let n = trace.len();
    let first_minute = trace.start.unix().div_euclid(60);
    let lead = params.update_delay as usize;
    let rules = QuotaRules::default();
    let mut out = TraceFrontier {
        trace: trace.name.clone(),
        schedules: Vec::new(),
        skipped: Vec::new(),
    };
    for spec in schedules {
        let (schedule, from, chosen_on_days) = match spec {
            FrontierSchedule::Fixed { schedule, .. } => (schedule.clone(), 0, None),
            FrontierSchedule::Chosen {
                runs_per_day,
                candidates,
                ..
            } => {
                let days = choosing_days(trace);
                if days == 0 {
                    out.skipped.push(Skipped {
                        schedule: spec.id().into(),
                        reason: "shorter than 2 days: no part to choose on and another to score"
                            .into(),
                    });
                    continue;
                }
                let train = days * 1440;
                // Chosen on what ours can lower to at a run (its look-back peak over its
                // target, as `advise` chooses them), not on bare demand: a run right where a
                // peak ends would still see the peak and lower nothing.
                let lookback = (settings.down_window_minutes + params.publish_delay) as usize;
                let lowerable =
                    crate::advice::lowerable(&required[..train], lookback, settings.target);
                let series = [Requirement {
                    units: &lowerable,
                    first_minute,
                    weight: 1.0,
                }];
                let choice = choose_daily_runs(&series, *runs_per_day, candidates, lead)?;
                (choice.schedule, train, Some(days as u32))
            }
        };
        let ours_params = ModelParams {
            scale_down: schedule.clone(),
            ..params.clone()
        };
        let ours = simulate(
            trace,
            &ours_params,
            &mut Ours::with_cadence(settings.clone(), cadence),
        );
        let demanded: f64 = (from..n).map(|i| 60.0 * trace.demand_at(i)).sum();
        let ours_point = point(&ours, from, demanded);
        let sweep: Vec<TrackingPoint> = tracking
            .iter()
            .map(|(pct, run)| {
                let p = point(run, from, demanded);
                TrackingPoint {
                    target_pct: *pct,
                    cost_unit_hours: p.cost_unit_hours,
                    throttled_pct: p.throttled_pct,
                }
            })
            .collect();
        let points: Vec<Point> = sweep
            .iter()
            .map(|t| Point {
                cost_unit_hours: t.cost_unit_hours,
                throttled_pct: t.throttled_pct,
            })
            .collect();
        let at_cost = throttled_at_cost(&points, ours_point.cost_unit_hours);
        let adv = advantage(at_cost, ours_point.throttled_pct);
        let tt70 = sweep
            .iter()
            .find(|t| t.target_pct == 70)
            .map_or(f64::NAN, |t| t.cost_unit_hours);
        let on_demand_usd: f64 = on_demand.usd_per_minute[from..].iter().sum();
        let clairvoyant_uh = clairvoyant[from..].iter().sum::<u64>() as f64 / 60.0;
        let bound = clairvoyant::optimal_on_schedule(
            &required[from..],
            first_minute + from as i64,
            lead,
            rules,
            &schedule,
        );
        let ours_decreases = (from.max(1)..n)
            .filter(|i| ours.provisioned[*i] < ours.provisioned[i - 1])
            .count() as u32;
        out.schedules.push(ScheduleResult {
            schedule: spec.id().into(),
            runs_utc: schedule.to_string(),
            run_minutes_utc: schedule.minutes().to_vec(),
            chosen_on_days,
            scored_from: trace.time_of(from).to_string(),
            scored_days: (n - from) as f64 / 1440.0,
            ours_decreases,
            cost_vs_tt70: ours_point.cost_unit_hours / tt70,
            cost_vs_on_demand: ours_point.cost_unit_hours * params.price_per_unit_hour
                / on_demand_usd,
            cost_vs_clairvoyant: ours_point.cost_unit_hours / clairvoyant_uh,
            bound_cost_vs_clairvoyant: bound.unit_minutes as f64 / 60.0 / clairvoyant_uh,
            ours: ours_point,
            target_tracking: sweep,
            tt_throttled_pct_at_ours_cost: at_cost,
            advantage: adv,
            tie: adv.is_none(),
        });
    }
    Ok(out)
}

/// Geometric means over `traces` (one group), one per schedule, in the order the schedules
/// first appear.
pub fn summarize(group: &str, traces: &[&TraceFrontier]) -> Vec<GroupSummary> {
    let mut ids: Vec<&str> = Vec::new();
    for r in traces.iter().flat_map(|t| &t.schedules) {
        if !ids.contains(&r.schedule.as_str()) {
            ids.push(&r.schedule);
        }
    }
    ids.into_iter()
        .map(|id| {
            let rows: Vec<(&str, &ScheduleResult)> = traces
                .iter()
                .flat_map(|t| {
                    t.schedules
                        .iter()
                        .filter(move |r| r.schedule == id)
                        .map(move |r| (t.trace.as_str(), r))
                })
                .collect();
            let scored: Vec<(&str, f64)> = rows
                .iter()
                .filter_map(|(t, r)| r.advantage.map(|a| (*t, a)))
                .collect();
            let min = scored
                .iter()
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(t, a)| ((*t).to_owned(), *a));
            let mean = |f: fn(&ScheduleResult) -> f64| geomean(rows.iter().map(|(_, r)| f(r)));
            GroupSummary {
                group: group.into(),
                schedule: id.into(),
                traces: rows.len(),
                ties: rows.len() - scored.len(),
                advantage_geomean: geomean(scored.iter().map(|(_, a)| *a)),
                advantage_min: min.as_ref().map(|m| m.1),
                advantage_min_trace: min.map(|m| m.0),
                cost_vs_tt70_geomean: mean(|r| r.cost_vs_tt70),
                cost_vs_on_demand_geomean: mean(|r| r.cost_vs_on_demand),
                cost_vs_clairvoyant_geomean: mean(|r| r.cost_vs_clairvoyant),
                bound_cost_vs_clairvoyant_geomean: mean(|r| r.bound_cost_vs_clairvoyant),
                dearer_than_tt70: rows.iter().filter(|(_, r)| r.cost_vs_tt70 > 1.0).count(),
                dearer_than_on_demand: rows
                    .iter()
                    .filter(|(_, r)| r.cost_vs_on_demand > 1.0)
                    .count(),
            }
        })
        .collect()
}
