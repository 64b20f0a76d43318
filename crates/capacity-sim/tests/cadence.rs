//! The cadence on the model: the reaction guarantee holds on every case it covers, a cadence
//! that assumes slower growth is caught breaking it, and the meter counts what the AWS layer
//! requests.

use capacity_sim::cadence::guarantee::{self, Scenario};
use capacity_sim::cadence::{Bill, USD_PER_METRIC};
use capacity_sim::policies::Ours;
use capacity_sim::{ModelParams, ScaleDownSchedule, Trace, simulate};
use scaling_policy::cadence::Cadence;
use scaling_policy::{Settings, Timestamp};

/// The shipped cadence (`MaxPollMinutes=10`).
fn shipped() -> Cadence {
    Cadence::default()
}

#[test]
fn the_guarantee_holds_on_every_case_it_covers() {
    let proof = guarantee::prove(&Settings::default(), shipped());
    assert!(
        proof.holds(),
        "{} of {} cases late, e.g. {:?}",
        proof.violations.len(),
        proof.reaching,
        proof.violations.first()
    );
    assert!(proof.reaching > proof.cases / 3, "{proof:?}");
    assert!(proof.worst_minutes <= 3);
}

#[test]
fn polling_every_minute_answers_at_the_publication() {
    // Every minute has no phase: one offset is every case.
    let proof = guarantee::prove(&Settings::default(), Cadence::EVERY_MINUTE);
    assert!(proof.holds());
    assert!(proof.worst_minutes <= 0, "{}", proof.worst_minutes);
    // A longer longest interval only lengthens the quiet bands, which the guarantee still
    // covers: checked on the steps that double again every 5 minutes.
    let longer = Cadence {
        max_interval_minutes: 20,
        ..shipped()
    };
    let steps: Vec<Scenario> = guarantee::scenarios(20)
        .into_iter()
        .filter(|s| s.continues && s.ramp_minutes == 1)
        .collect();
    let proof = guarantee::prove_on(&Settings::default(), longer, &steps);
    assert!(proof.holds(), "{:?}", proof.violations.first());
}

#[test]
fn a_cadence_planning_for_slower_growth_is_caught() {
    // Assuming demand doubles only every 20 minutes, a quiet table rests too long for two
    // doublings 5 minutes apart.
    let slow = Cadence {
        doubling_minutes: 20,
        ..shipped()
    };
    let steps: Vec<Scenario> = guarantee::scenarios(slow.max_interval_minutes)
        .into_iter()
        .filter(|s| s.ramp_minutes == 1)
        .collect();
    let proof = guarantee::prove_on(&Settings::default(), slow, &steps);
    assert!(!proof.holds(), "{proof:?}");
    assert!(proof.violations.iter().all(|c| c.scenario.continues));
}

#[test]
fn a_rise_that_stays_below_the_trigger_needs_no_answer() {
    let s = Scenario {
        utilisation: 0.2,
        ramp_minutes: 1,
        offset: 0,
        continues: false,
        factor: 2.0,
    };
    let case = guarantee::run_case(
        &s,
        &Settings::default(),
        shipped(),
        &guarantee::case_params(),
    );
    assert_eq!(case.at_trigger, None);
    assert_eq!(case.late(), None);
    assert_eq!(case.answered, None, "40% of capacity is no reason to raise");
}

#[test]
fn steps_beyond_the_guarantee_are_answered_within_the_longest_interval() {
    let cadence = shipped();
    for b in guarantee::beyond(&Settings::default(), cadence) {
        assert!(b.cases > 0);
        assert!(
            b.worst_minutes <= i64::from(cadence.max_interval_minutes),
            "{b:?}"
        );
    }
}

fn flat_trace(rate: Option<f64>, minutes: usize) -> Trace {
    Trace {
        name: "flat".into(),
        start: Timestamp::from_unix(20_000 * 86_400),
        demand: vec![rate; minutes],
        step_minutes: 1,
        scale: 1.0,
        hot_key: None,
        initial_capacity: None,
    }
}

fn bill_of(trace: &Trace, cadence: Cadence, params: &ModelParams) -> Bill {
    let mut ours = Ours::with_cadence(Settings::default(), cadence);
    simulate(trace, params, &mut ours);
    ours.bill()
}

#[test]
fn every_minute_costs_two_metrics_a_minute_plus_the_history() {
    let params = ModelParams {
        initial_capacity: Some(100),
        scale_down: ScaleDownSchedule::never(),
        ..ModelParams::default()
    };
    let trace = flat_trace(Some(50.0), 30 + 120);
    let b = bill_of(&trace, Cadence::EVERY_MINUTE, &params);
    assert_eq!(b.polls, 120, "one poll a minute after the warm-up");
    assert_eq!(b.poll_metrics, 240);
    assert_eq!(b.by_cause_metrics, 0, "never throttled");
    assert_eq!(
        b.history_metrics, 2,
        "at the first poll; again six hours later"
    );
    assert_eq!(b.scale_down_metrics, 0);
    // 120 polls over 150 minutes of scale-up runs.
    assert_eq!(b.minutes, 120);
    let per_month = b.metrics_per_month();
    assert!((per_month - (242.0 * 43_200.0 / 120.0)).abs() < 1e-6);
    assert!((b.usd_per_month() - per_month * USD_PER_METRIC).abs() < 1e-12);
}

#[test]
fn a_quiet_series_rests_and_a_steady_one_at_its_target_is_read_every_minute() {
    let params = ModelParams {
        initial_capacity: Some(100),
        scale_down: ScaleDownSchedule::default(),
        ..ModelParams::default()
    };
    let day = 24 * 60;
    let trace = flat_trace(Some(2.0), 30 + day);
    // Kept at 100 by its min: 2% of capacity, four doublings from the trigger: the longest
    // interval.
    let mut pinned = Settings::default();
    pinned.read.min = 100;
    // Traffic arriving at the trace's start is itself a jump: without the calm wait first.
    let no_wait = Cadence {
        calm_minutes: 0,
        ..shipped()
    };
    let mut ours = Ours::with_cadence(pinned.clone(), no_wait);
    simulate(&trace, &params, &mut ours);
    assert_eq!(ours.bill().polls, (day as u64).div_ceil(10));
    // With it, read every minute until six hours after that jump (the first 30 of which are
    // the model's warm-up, not billed), then resting the same.
    let mut ours = Ours::with_cadence(pinned, shipped());
    simulate(&trace, &params, &mut ours);
    let calm = u64::from(shipped().calm_minutes) - u64::from(params.warmup_minutes);
    let expected = calm + (day as u64 - calm).div_ceil(10);
    let polls = ours.bill().polls;
    assert!(
        (expected - 2..=expected + 2).contains(&polls),
        "{polls} polls, not {expected}"
    );
    // The scale-down function reads every series at each of its runs, with its own history.
    assert_eq!(ours.bill().scale_down_metrics, 4 * (2 + 2));
    // Lowered to 3 units at the first scale-down (06:00), 2 units/s is 67%, above half the
    // target: hot, so from then on its consumed capacity is read every minute; the throttle
    // series every ten.
    let b = bill_of(&trace, no_wait, &params);
    let every = bill_of(&trace, Cadence::EVERY_MINUTE, &params);
    assert_eq!(every.polls, day as u64);
    // Before 06:00, 2% of 100 rests (its polls fewer than one every three minutes).
    let after = day as u64 - 360;
    assert!(
        (after..after + 360 / 3).contains(&b.polls),
        "{} polls",
        b.polls
    );
    // The throttle series: at each resting poll before 06:00, every ten minutes after.
    let throttle_reads = b.poll_metrics - b.polls;
    assert!(
        (after / 10..=b.polls - after + after / 10 + 1).contains(&throttle_reads),
        "{throttle_reads} throttle reads in {} polls",
        b.polls
    );
    // An idle table (no datapoint at all) rests the longest.
    let idle = flat_trace(None, 30 + day);
    let b = bill_of(&idle, shipped(), &params);
    assert_eq!(b.polls, (day as u64).div_ceil(10));
}
