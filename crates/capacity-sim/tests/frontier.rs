//! The frontier: target tracking's throttling at ours' cost, the advantage, ties, geometric
//! means, and schedules chosen on the first days and scored on the rest only.

use capacity_sim::frontier::{
    self, FLOOR_PCT, FrontierSchedule, Point, TraceFrontier, advantage, geomean, throttled_at_cost,
};
use capacity_sim::{ModelParams, PolicySpec, ScaleDownSchedule, TraceOptions, evaluate, synthetic};
use scaling_policy::cadence::Cadence;

fn p(cost: f64, throttled: f64) -> Point {
    Point {
        cost_unit_hours: cost,
        throttled_pct: throttled,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn tt_at_ours_cost_is_log_linear_between_neighbours_and_clamped_outside() {
    // Unsorted on purpose: the sweep is sorted by cost, not by target.
    let sweep = [p(200.0, 0.01), p(100.0, 1.0), p(400.0, 0.001)];
    assert!(
        close(throttled_at_cost(&sweep, 150.0), 0.1),
        "halfway in log"
    );
    assert!(close(
        throttled_at_cost(&sweep, 300.0),
        0.01f64.sqrt() * 0.001f64.sqrt()
    ));
    assert!(
        close(throttled_at_cost(&sweep, 100.0), 1.0),
        "a point itself"
    );
    assert!(
        close(throttled_at_cost(&sweep, 50.0), 1.0),
        "cheaper than all: the cheapest"
    );
    assert!(
        close(throttled_at_cost(&sweep, 900.0), 0.001),
        "dearer than all: the dearest"
    );
    // A point that never throttles counts as the floor.
    let sweep = [p(100.0, 1.0), p(200.0, 0.0)];
    assert!(close(
        throttled_at_cost(&sweep, 150.0),
        (1.0 * FLOOR_PCT).sqrt()
    ));
    assert!(close(throttled_at_cost(&sweep, 500.0), FLOOR_PCT));
    // Non-monotone sweeps are taken as they are, neighbour to neighbour.
    let sweep = [p(100.0, 1.0), p(200.0, 2.0), p(300.0, 0.5)];
    assert!(close(throttled_at_cost(&sweep, 150.0), 2f64.sqrt()));
}

#[test]
fn the_advantage_is_floored_capped_and_ties_have_none() {
    assert!(close(advantage(1.0, 0.1).unwrap(), 10.0));
    assert!(
        close(advantage(0.01, 0.0).unwrap(), 100.0),
        "ours floored at 0.0001%"
    );
    assert_eq!(advantage(5.0, 0.0), Some(1000.0), "capped at 1000x");
    assert_eq!(advantage(0.0009, 0.0002), None, "both under 0.001%: a tie");
    assert!(
        advantage(0.002, 0.0002).is_some(),
        "TT above 0.001%: no tie"
    );
    assert!(
        close(advantage(0.5, 1.0).unwrap(), 0.5),
        "below 1 when TT does better"
    );
    assert!(close(geomean([2.0, 8.0]).unwrap(), 4.0));
    assert_eq!(geomean(std::iter::empty()), None);
}

fn schedules() -> Vec<FrontierSchedule> {
    FrontierSchedule::bench(&ScaleDownSchedule::default()).expect("the bench schedules")
}

#[test]
fn every_schedule_is_reported_with_the_sweep_and_the_ratios() {
    let trace = synthetic::by_name("business-day", &TraceOptions::default()).unwrap();
    let params = ModelParams::default();
    let f = frontier::frontier(&trace, &params, &schedules(), None, Cadence::default()).unwrap();
    let ids: Vec<&str> = f.schedules.iter().map(|r| r.schedule.as_str()).collect();
    assert_eq!(ids, ["default", "chosen-4", "hourly", "every-15-min"]);
    for r in &f.schedules {
        assert_eq!(r.target_tracking.len(), 8, "{}", r.schedule);
        let tt70 = r
            .target_tracking
            .iter()
            .find(|t| t.target_pct == 70)
            .unwrap();
        assert!(close(
            r.cost_vs_tt70,
            r.ours.cost_unit_hours / tt70.cost_unit_hours
        ));
        let points: Vec<Point> = r
            .target_tracking
            .iter()
            .map(|t| p(t.cost_unit_hours, t.throttled_pct))
            .collect();
        assert!(close(
            r.tt_throttled_pct_at_ours_cost,
            throttled_at_cost(&points, r.ours.cost_unit_hours)
        ));
        assert_eq!(r.tie, r.advantage.is_none());
        assert!(r.bound_cost_vs_clairvoyant >= 1.0 - 1e-9, "{}", r.schedule);
    }
    // The default schedule over the whole trace is the bench's own ours.
    let eval = evaluate(
        &trace,
        &params,
        &[PolicySpec::Ours, PolicySpec::Clairvoyant],
    )
    .unwrap();
    let default = &f.schedules[0];
    assert_eq!(default.run_minutes_utc, vec![0, 360, 720, 1080]);
    assert_eq!(default.chosen_on_days, None);
    assert!(close(
        default.ours.cost_unit_hours,
        eval.rows[0].cost_unit_hours
    ));
    assert!(close(
        default.ours.throttled_pct,
        eval.rows[0].throttled_pct
    ));
    assert!(close(
        default.cost_vs_clairvoyant,
        eval.rows[0].cost_vs_clairvoyant
    ));
    // The clairvoyant passed in gives the same as the one computed.
    let given = eval.run("clairvoyant").map(|r| r.provisioned.as_slice());
    assert_eq!(
        frontier::frontier(&trace, &params, &schedules(), given, Cadence::default()).unwrap(),
        f
    );
    // Four chosen times, chosen on the first 7 of 14 days, scored on the other 7.
    let chosen = &f.schedules[1];
    assert_eq!(chosen.run_minutes_utc.len(), 4);
    assert_eq!(chosen.chosen_on_days, Some(7));
    assert_eq!(chosen.scored_from, "2024-01-08T00:00:00Z");
    assert!(close(chosen.scored_days, 7.0));
}

#[test]
fn chosen_times_never_see_the_minutes_they_are_scored_on() {
    let a = synthetic::by_name("weekly-cycle", &TraceOptions::default()).unwrap();
    let mut b = a.clone();
    // After the first week, b's traffic is shifted by five hours and doubled.
    for m in 7 * 1440..b.len() {
        b.demand[m] = a.demand[m - 300].map(|d| 2.0 * d);
    }
    let params = ModelParams::default();
    let fa = frontier::frontier(&a, &params, &schedules(), None, Cadence::default()).unwrap();
    let fb = frontier::frontier(&b, &params, &schedules(), None, Cadence::default()).unwrap();
    assert_eq!(
        fa.schedules[1].run_minutes_utc,
        fb.schedules[1].run_minutes_utc
    );
    assert_ne!(
        fa.schedules[1].ours, fb.schedules[1].ours,
        "but they are scored on it"
    );
    // Target tracking is scored on the same minutes as ours.
    assert_ne!(
        fa.schedules[1].target_tracking[0],
        fa.schedules[0].target_tracking[0]
    );
}

#[test]
fn a_trace_too_short_to_choose_and_score_skips_the_chosen_schedule() {
    let trace = synthetic::by_name("hot-key", &TraceOptions::default()).unwrap();
    let f = frontier::frontier(
        &trace,
        &ModelParams::default(),
        &schedules(),
        None,
        Cadence::default(),
    )
    .unwrap();
    let ids: Vec<&str> = f.schedules.iter().map(|r| r.schedule.as_str()).collect();
    assert_eq!(ids, ["default", "hourly", "every-15-min"]);
    assert_eq!(f.skipped.len(), 1);
    assert_eq!(f.skipped[0].schedule, "chosen-4");
    // A hot key's refusals are everyone's: no policy can do better, none worse.
    for r in &f.schedules {
        assert!(close(r.advantage.unwrap(), 1.0), "{}", r.schedule);
    }
}

#[test]
fn the_summary_leaves_ties_out_of_the_advantage() {
    let mut a = frontier::frontier(
        &synthetic::by_name("step", &TraceOptions::default()).unwrap(),
        &ModelParams::default(),
        &schedules()[..1],
        None,
        Cadence::default(),
    )
    .unwrap();
    let mut b = a.clone();
    let mut c = a.clone();
    a.trace = "a".into();
    b.trace = "b".into();
    c.trace = "c".into();
    a.schedules[0].advantage = Some(2.0);
    b.schedules[0].advantage = Some(8.0);
    c.schedules[0].advantage = None;
    c.schedules[0].tie = true;
    a.schedules[0].cost_vs_tt70 = 0.5;
    b.schedules[0].cost_vs_tt70 = 2.0;
    c.schedules[0].cost_vs_tt70 = 4.0;
    let traces: Vec<&TraceFrontier> = vec![&a, &b, &c];
    let s = frontier::summarize("traces", &traces);
    assert_eq!(s.len(), 1);
    let g = &s[0];
    assert_eq!(
        (g.group.as_str(), g.schedule.as_str()),
        ("traces", "default")
    );
    assert_eq!((g.traces, g.ties), (3, 1));
    assert!(close(g.advantage_geomean.unwrap(), 4.0));
    assert_eq!(g.advantage_min, Some(2.0));
    assert_eq!(g.advantage_min_trace.as_deref(), Some("a"));
    assert!(
        close(g.cost_vs_tt70_geomean.unwrap(), 4f64.powf(1.0 / 3.0)),
        "ties count for cost"
    );
    assert_eq!(g.dearer_than_tt70, 2);
}
