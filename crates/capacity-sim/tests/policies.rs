//! Each policy reproduces its documented rule (DESIGN.md section 5) on a crafted trace.

mod common;

use capacity_sim::policies::{
    DynamicDynamodb, LambdaAutoscale, Ours, StaticPeak, TargetTracking, Trek10,
};
use capacity_sim::{ModelParams, reference, simulate};
use common::{changes, flat, params, trace};
use scaling_policy::Settings;
use scaling_policy::cadence::Cadence;

const HOUR: i64 = 3600;

fn tt() -> TargetTracking {
    TargetTracking::new(0.7, 1, 40_000)
}

#[test]
fn target_tracking_high_alarm_after_two_datapoints_above_target() {
    // 80% of 100 > 70%: the datapoints of minutes 0 and 1 are published at minute 4.
    let run = simulate(&flat(HOUR, 80.0, 60), &params(2, 1, 100), &mut tt());
    assert_eq!(changes(&run.provisioned), vec![(5, 115)], "ceil(80 / 0.7)");
}

#[test]
fn target_tracking_under_scales_while_throttled() {
    // Demand 300 on 100 with no burst: consumption is capped at 100, so each step is only
    // ~1/0.7 of the capacity, and a step waits for two datapoints at the new capacity.
    let mut p = params(2, 1, 100);
    p.initial_burst_secs = 0.0;
    let run = simulate(&flat(HOUR, 300.0, 12), &p, &mut tt());
    // Minutes 5 and 6 at 143 are published at minute 9.
    assert_eq!(changes(&run.provisioned), vec![(5, 143), (10, 205)]);
    assert!(run.throttled_minutes() >= 10);
}

#[test]
fn target_tracking_low_alarm_after_fifteen_datapoints_below_target_minus_20() {
    let run = simulate(&flat(HOUR, 10.0, 30), &params(2, 1, 100), &mut tt());
    assert_eq!(changes(&run.provisioned), vec![(18, 15)], "ceil(10 / 0.7)");
}

#[test]
fn trek10_scales_up_by_ten_when_the_5_minute_average_reaches_80_percent() {
    // With no publication delay, the average is right once 5 minutes are known.
    let run = simulate(
        &flat(HOUR, 90.0, 20),
        &params(0, 1, 100),
        &mut Trek10::new(1, 40_000),
    );
    assert_eq!(changes(&run.provisioned), vec![(6, 110), (7, 120)]);
}

#[test]
fn trek10_counts_unpublished_minutes_as_zero() {
    // With CloudWatch's 2-minute delay, 2 of the 5 minutes are missing and count as 0: the
    // average reads 60% of the truth, and 90% utilisation never triggers a scale-up.
    let run = simulate(
        &flat(HOUR, 90.0, 60),
        &params(2, 1, 100),
        &mut Trek10::new(1, 40_000),
    );
    assert!(changes(&run.provisioned).is_empty());
}

#[test]
fn trek10_scales_down_every_6_hours_to_c_over_08_minus_10() {
    let run = simulate(
        &flat(5 * HOUR, 20.0, 90),
        &params(0, 1, 100),
        &mut Trek10::new(1, 40_000),
    );
    // 20 / 0.8 - 10 = 15 at 06:00; 20 is then above 80% of 15, so the next minute's scale-up
    // run raises it to max(P + 10, C + 10): the -10 makes it thrash.
    assert_eq!(changes(&run.provisioned), vec![(61, 15), (62, 30)]);
}

#[test]
fn trek10_skips_the_scale_down_within_30_minutes_of_an_increase() {
    // Start 05:40 on 10 units with demand 20: increases at 05:42 (the 5-minute average with
    // 3 minutes missing is 8, i.e. 80%) and 05:44, so no decrease at 06:00.
    let run = simulate(
        &flat(5 * HOUR + 40 * 60, 20.0, 60),
        &params(0, 1, 10),
        &mut Trek10::new(1, 40_000),
    );
    assert_eq!(changes(&run.provisioned), vec![(3, 20), (5, 30)]);
}

#[test]
fn dynamic_dynamodb_looks_at_the_window_ending_10_minutes_ago_every_5_minutes() {
    let run = simulate(
        &flat(0, 95.0, 40),
        &params(2, 1, 100),
        &mut DynamicDynamodb::new(1, 40_000),
    );
    assert_eq!(changes(&run.provisioned), vec![(16, 150)], "+50% above 90%");
    let run = simulate(
        &flat(0, 20.0, 40),
        &params(2, 1, 100),
        &mut DynamicDynamodb::new(1, 40_000),
    );
    assert_eq!(changes(&run.provisioned), vec![(16, 50)], "-50% below 30%");
}

#[test]
fn lambda_autoscale_scales_up_on_the_max_of_5_minutes() {
    let run = simulate(
        &flat(HOUR, 80.0, 20),
        &params(2, 1, 100),
        &mut LambdaAutoscale::new(1, 40_000),
    );
    assert_eq!(
        changes(&run.provisioned),
        vec![(4, 130)],
        "max(1.3P, P+3, 1.3C)"
    );
}

#[test]
fn lambda_autoscale_adds_07_per_throttle_event_when_it_can_see_them() {
    let mut p = params(0, 1, 100);
    p.initial_burst_secs = 0.0;
    let run = simulate(
        &flat(HOUR, 110.0, 3),
        &p,
        &mut LambdaAutoscale::new(1, 40_000),
    );
    // C = 100 (capped), T = 600 refused units in the last minute: 130 + 0.7 * 600.
    assert_eq!(changes(&run.provisioned), vec![(2, 550)]);
    // With the default delay the last minute is never published: blind to throttles.
    let mut p = params(2, 1, 100);
    p.initial_burst_secs = 0.0;
    let run = simulate(
        &flat(HOUR, 110.0, 5),
        &p,
        &mut LambdaAutoscale::new(1, 40_000),
    );
    assert_eq!(changes(&run.provisioned), vec![(4, 130)]);
}

#[test]
fn lambda_autoscale_spreads_decreases_over_the_day() {
    // 23:30 / 5 = 4:42 after midnight for the first decrease of the day, down to C. At 100%
    // utilisation its own scale-up rule then fires (C / P > 75%) until C / P <= 75%.
    let run = simulate(
        &flat(0, 10.0, 300),
        &params(0, 1, 100),
        &mut LambdaAutoscale::new(1, 40_000),
    );
    assert_eq!(
        changes(&run.provisioned),
        vec![(283, 10), (284, 13), (285, 17)]
    );
}

#[test]
fn static_peak_never_changes_and_never_throttles() {
    let mut demand = vec![Some(10.0); 100];
    demand[50] = Some(250.3);
    let t = trace(0, demand);
    let run = simulate(
        &t,
        &ModelParams::default(),
        &mut StaticPeak::for_trace(&t, 40_000),
    );
    assert!(run.provisioned.iter().all(|p| *p == 251));
    assert_eq!(run.throttled_minutes(), 0);
}

#[test]
fn on_demand_absorbs_twice_the_previous_peak_then_learns_it_after_30_minutes() {
    let mut demand = vec![Some(100.0); 60];
    demand.extend(vec![Some(300.0); 60]);
    let p = ModelParams {
        on_demand_initial_peak: Some(100.0),
        ..ModelParams::default()
    };
    let o = reference::on_demand(&trace(0, demand), &p);
    assert_eq!(
        o.throttled_minutes, 30,
        "200 of 300 served until the 200 peak is 30 min old"
    );
    assert!((o.refused_units - 30.0 * 60.0 * 100.0).abs() < 1e-6);
    let served_units = 60.0 * 60.0 * 100.0 + 60.0 * 60.0 * 300.0 - o.refused_units;
    assert!((o.usd - served_units * 0.125 / 1e6).abs() < 1e-9);
}

#[test]
fn ours_scales_up_on_peak_demand_over_the_trigger() {
    let mut demand = vec![Some(50.0); 10];
    demand.extend(vec![Some(95.0); 20]);
    let every_minute = &mut Ours::with_cadence(Settings::default(), Cadence::EVERY_MINUTE);
    let run = simulate(
        &trace(HOUR, demand.clone()),
        &params(2, 1, 100),
        every_minute,
    );
    // Minute 10 is published at minute 13. It is a new high, and the newest six minutes are
    // above the six before: growth (1.15^(1/6))^5 on top of ceil(95 / 0.8) = 119. One raise:
    // the next minutes are no new high.
    let g = 1.15f64.powf(5.0 / 6.0);
    let want = scaling_policy::ceil_units(95.0 * g / 0.8);
    assert_eq!(want, 134);
    assert_eq!(changes(&run.provisioned), vec![(14, want)]);
    // With the cadence, 50 units/s on 100 is read every three minutes (a doubling would reach
    // the trigger): the first poll after minute 10 is published raises, within three minutes of
    // it, to at least ceil(95 / 0.8) = 119 (with the growth on top while minute 10 is the
    // newest one read).
    let run = simulate(
        &trace(HOUR, demand),
        &params(2, 1, 100),
        &mut Ours::default(),
    );
    let raised = changes(&run.provisioned);
    assert_eq!(raised.len(), 1);
    let (at, to) = raised[0];
    assert!((14..=14 + 3).contains(&at), "{raised:?}");
    assert!([119, want].contains(&to), "{raised:?}");
}

#[test]
fn ours_scales_down_only_at_the_cron() {
    let run = simulate(
        &flat(5 * HOUR, 20.0, 90),
        &params(2, 1, 100),
        &mut Ours::default(),
    );
    assert_eq!(
        changes(&run.provisioned),
        vec![(61, 25)],
        "at 06:00, ceil(20 / 0.8)"
    );
}

#[test]
fn ours_keeps_capacity_without_data() {
    let mut demand = vec![Some(20.0); 20];
    demand.extend(vec![None; 400]);
    let run = simulate(
        &trace(5 * HOUR + 30 * 60, demand),
        &params(2, 1, 100),
        &mut Ours::default(),
    );
    assert!(
        changes(&run.provisioned).is_empty(),
        "no datapoints at 06:00 or 12:00: no decrease"
    );
}

#[test]
fn the_shipped_ours_and_ours_every_minute_keep_their_names() {
    use capacity_sim::model::Policy;
    // The shipped cadence reads consumed capacity every minute too, but it is not the baseline
    // that reads everything every minute: reports and plots find ours by this name.
    assert_eq!(capacity_sim::policies::Ours::default().name(), "ours");
    assert_eq!(
        capacity_sim::policies::Ours::every_minute().name(),
        "ours-every-minute"
    );
}
