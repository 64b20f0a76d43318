//! The cadence's reaction guarantee, proven on the model: the whole loop (publication delay,
//! `ours` deciding only when the cadence says a poll is due, updates taking effect a minute
//! later) on every demand shape the guarantee covers, at every phase of the cadence.
//!
//! **The guarantee** ([`scaling_policy::cadence`]): demand that doubles within 5 minutes, on any
//! table or GSI, at once or as a ramp, and again every 5 minutes after that, and so reaches the
//! scale-up trigger, is answered with an increase within 3 minutes of the publication of its
//! first datapoint at the trigger.
//!
//! **The cases** ([`scenarios`]): a table provisioned at 100 units/s serves a steady demand `L`
//! (a utilisation from 2% to 85%, in every band of the cadence's intervals) long enough for the cadence to settle and the burst bucket to
//! fill, then, after an offset that puts the rise at every phase of the polls, demand doubles
//! over 1 to 5 minutes (a linear ramp; 1 is a step), and then either holds or doubles again the
//! same way every 5 minutes. A case *reaches the trigger* at its first minute `x` with demand at
//! or above `trigger x 100`; that minute is published `publish_delay` minutes after it ends, and
//! the increase must be requested no later than 3 minutes after that. Cases that never reach
//! the trigger (a doubling of a quiet table) need nothing and are counted apart.
//!
//! [`beyond`] measures what the guarantee does not cover: steps of 4x to 100x, where the answer
//! is bounded only by the cadence's longest interval.

use scaling_policy::Settings;
use scaling_policy::cadence::Cadence;
use serde::Serialize;

use crate::model::simulate;
use crate::params::ModelParams;
use crate::policies::Ours;
use crate::schedule::ScaleDownSchedule;
use crate::trace::Trace;

/// Capacity the cases start at.
const CAPACITY: u64 = 100;
/// Minutes of steady demand before the rise (after the model's warm-up and the cadence's calm
/// wait, [`Cadence::calm_minutes`]: traffic arriving on the table is itself a jump): the cadence
/// settles (the bucket starts full and stays so below capacity).
const STEADY_MINUTES: usize = 45;
/// Minutes of the trace after the rise starts: the latest answer comes well within them.
const AFTER_MINUTES: usize = 40;

/// One demand shape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// Steady demand before the rise, as a share of the capacity.
    pub utilisation: f64,
    /// Minutes the doubling takes (1: a step).
    pub ramp_minutes: u32,
    /// Minutes added to the steady phase, which put the rise at every phase of the polls.
    pub offset: u32,
    /// Whether demand doubles again every 5 minutes (else it holds at twice).
    pub continues: bool,
    /// The factor of the rise (2 for the guarantee's cases; [`beyond`] uses more).
    pub factor: f64,
}

/// What happened in one case.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Case {
    /// The shape.
    pub scenario: Scenario,
    /// Minute (from the rise) of the first demand at the trigger, if any.
    pub at_trigger: Option<i64>,
    /// Minute (from the rise) that datapoint is published.
    pub published: Option<i64>,
    /// Minute (from the rise) the first increase was requested, if any.
    pub answered: Option<i64>,
}

impl Case {
    /// Minutes from the publication to the answer (negative: answered before, by the growth
    /// rule), `None` when the trigger is never reached. A case that reaches it and is never
    /// answered counts as `i64::MAX`.
    pub fn late(&self) -> Option<i64> {
        let published = self.published?;
        Some(self.answered.map_or(i64::MAX, |a| a - published))
    }
}

/// The guarantee checked on every case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proof {
    /// The cadence checked.
    pub cadence: Cadence,
    /// Cases simulated.
    pub cases: usize,
    /// Cases whose demand reaches the trigger.
    pub reaching: usize,
    /// The latest answer, in minutes after the publication of the first datapoint at the
    /// trigger, over the cases that reach it.
    pub worst_minutes: i64,
    /// The guarantee's bound (the cadence's `answer_minutes`).
    pub bound_minutes: i64,
    /// The cases answered later than the bound.
    pub violations: Vec<Case>,
}

impl Proof {
    /// Whether every case was answered in time.
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The demand of `s` as a trace of one-minute rates, the rise at index [`rise_at`].
fn trace(s: &Scenario, params: &ModelParams, cadence: &Cadence) -> Trace {
    let rise = rise_at(s, params, cadence);
    let level = s.utilisation * CAPACITY as f64;
    let ramp = i64::from(s.ramp_minutes.max(1));
    let demand = (0..rise + AFTER_MINUTES)
        .map(|i| {
            let Some(j) = i.checked_sub(rise) else {
                return Some(level);
            };
            let j = j as i64;
            let (rises, within) = if s.continues { (j / 5, j % 5) } else { (0, j) };
            let step = (s.factor - 1.0) * ((within + 1).min(ramp) as f64 / ramp as f64);
            Some(level * s.factor.powi(i32::try_from(rises).unwrap_or(0)) * (1.0 + step))
        })
        .collect();
    Trace {
        name: format!(
            "rise x{} from {:.0}% over {} min{}",
            s.factor,
            100.0 * s.utilisation,
            s.ramp_minutes,
            if s.continues {
                ", again every 5 min"
            } else {
                ""
            }
        ),
        start: scaling_policy::Timestamp::from_unix(20_000 * 86_400),
        demand,
        step_minutes: 1,
        scale: 1.0,
        hot_key: None,
        initial_capacity: None,
    }
}

fn rise_at(s: &Scenario, params: &ModelParams, cadence: &Cadence) -> usize {
    params.warmup_minutes as usize
        + cadence.calm_minutes as usize
        + STEADY_MINUTES
        + s.offset as usize
}

/// The model the cases run on: the defaults with a fixed starting capacity and no scale-down
/// run (nothing lowers capacity during a case).
pub fn case_params() -> ModelParams {
    ModelParams {
        initial_capacity: Some(CAPACITY),
        scale_down: ScaleDownSchedule::never(),
        ..ModelParams::default()
    }
}

/// Runs one case with ours (`settings`, `cadence`) on `params`.
pub fn run_case(s: &Scenario, settings: &Settings, cadence: Cadence, params: &ModelParams) -> Case {
    let t = trace(s, params, &cadence);
    let rise = rise_at(s, params, &cadence);
    let run = simulate(
        &t,
        params,
        &mut Ours::with_cadence(settings.clone(), cadence),
    );
    let threshold = settings.scale_up_trigger * CAPACITY as f64;
    let rel = |i: usize| i as i64 - rise as i64;
    let at_trigger = (rise..t.len()).find(|&i| t.demand[i].is_some_and(|d| d >= threshold - 1e-9));
    // A minute's datapoint is visible from the start of minute `x + publish_delay + 1`.
    let published = at_trigger.map(|x| rel(x) + i64::from(params.publish_delay) + 1);
    let delay = params.update_delay as usize;
    let answered = (rise.max(1)..t.len())
        .find(|&i| run.provisioned[i] > run.provisioned[i - 1])
        .map(|i| rel(i) - delay as i64);
    Case {
        scenario: *s,
        at_trigger: at_trigger.map(rel),
        published,
        answered,
    }
}

/// Every case the guarantee covers, for a cadence whose polls are at most `max_interval`
/// minutes apart (the offsets cover every phase).
pub fn scenarios(max_interval: u32) -> Vec<Scenario> {
    let mut out = Vec::new();
    // Every band of the cadence's intervals: five doublings from the trigger and more, four,
    // three, two (below 45% of capacity at a 90% trigger), one, and the hot ones at the target.
    for pct in [2, 4, 8, 15, 25, 35, 42, 48, 60, 70, 78, 85] {
        for ramp_minutes in 1..=5 {
            for offset in 0..max_interval.max(1) {
                for continues in [false, true] {
                    out.push(Scenario {
                        utilisation: f64::from(pct) / 100.0,
                        ramp_minutes,
                        offset,
                        continues,
                        factor: 2.0,
                    });
                }
            }
        }
    }
    out
}

/// Checks the guarantee for `cadence` with `settings` on every case of [`scenarios`].
pub fn prove(settings: &Settings, cadence: Cadence) -> Proof {
    prove_on(settings, cadence, &scenarios(cadence.max_interval_minutes))
}

/// Checks the guarantee for `cadence` with `settings` on `cases`.
pub fn prove_on(settings: &Settings, cadence: Cadence, cases: &[Scenario]) -> Proof {
    let params = case_params();
    let bound = i64::from(cadence.answer_minutes);
    let mut proof = Proof {
        cadence,
        cases: 0,
        reaching: 0,
        worst_minutes: i64::MIN,
        bound_minutes: bound,
        violations: Vec::new(),
    };
    for s in cases {
        // Steady demand at or above the trigger is not a rise: it is answered before.
        if s.utilisation >= settings.scale_up_trigger {
            continue;
        }
        let case = run_case(s, settings, cadence, &params);
        proof.cases += 1;
        let Some(late) = case.late() else {
            continue;
        };
        proof.reaching += 1;
        proof.worst_minutes = proof.worst_minutes.max(late);
        if late > bound {
            proof.violations.push(case);
        }
    }
    proof
}

/// How late the answer to a step the guarantee does not cover comes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Beyond {
    /// The step's factor over the steady demand.
    pub factor: f64,
    /// Cases that reached the trigger.
    pub cases: usize,
    /// Mean minutes from the publication of the first datapoint at the trigger to the answer.
    pub mean_minutes: f64,
    /// The latest.
    pub worst_minutes: i64,
}

/// Steps of 4x, 10x and 100x that reach 100% to 300% of the capacity, at every phase: how late
/// they are answered.
pub fn beyond(settings: &Settings, cadence: Cadence) -> Vec<Beyond> {
    let params = case_params();
    [4.0, 10.0, 100.0]
        .into_iter()
        .map(|factor| {
            let mut lates = Vec::new();
            for reach in [1.0, 2.0, 3.0] {
                for offset in 0..cadence.max_interval_minutes.max(1) {
                    let s = Scenario {
                        utilisation: reach / factor,
                        ramp_minutes: 1,
                        offset,
                        continues: false,
                        factor,
                    };
                    if let Some(late) = run_case(&s, settings, cadence, &params).late() {
                        lates.push(late);
                    }
                }
            }
            Beyond {
                factor,
                cases: lates.len(),
                mean_minutes: if lates.is_empty() {
                    0.0
                } else {
                    lates.iter().map(|l| *l as f64).sum::<f64>() / lates.len() as f64
                },
                worst_minutes: lates.iter().copied().max().unwrap_or(0),
            }
        })
        .collect()
}
