//! The reference points: ideal <= clairvoyant <= every run that never throttled, and the
//! clairvoyant schedule is one the model accepts.

mod common;

use capacity_sim::{ModelParams, PolicySpec, Trace, TraceOptions, evaluate, synthetic};
use common::trace;

fn crafted() -> Vec<Trace> {
    let mut traces = Vec::new();
    // A day of a slow sine with short spikes every 90 minutes.
    let demand: Vec<Option<f64>> = (0..1440)
        .map(|m| {
            let base = 100.0 + 60.0 * (m as f64 / 1440.0 * std::f64::consts::TAU).sin();
            Some(if m % 90 < 3 { base * 2.5 } else { base })
        })
        .collect();
    traces.push(trace(0, demand));
    // Two days of a square wave: more changes than the quota allows.
    let demand: Vec<Option<f64>> = (0..2880)
        .map(|m| Some(if (m / 20) % 2 == 0 { 300.0 } else { 40.0 }))
        .collect();
    traces.push(trace(22 * 3600, demand));
    // Gaps and idle minutes.
    let demand: Vec<Option<f64>> = (0..1000)
        .map(|m| match m % 200 {
            0..=49 => None,
            50..=99 => Some(0.0),
            _ => Some(50.0 + (m % 7) as f64),
        })
        .collect();
    traces.push(trace(3600, demand));
    traces
}

#[test]
fn clairvoyant_is_no_costlier_than_any_run_that_never_throttled_and_ideal_is_below_it() {
    let mut traces = crafted();
    for name in synthetic::NAMES {
        traces.push(synthetic::by_name(name, &TraceOptions::default()).unwrap());
    }
    let params = ModelParams::default();
    for t in &traces {
        let eval = evaluate(t, &params, &PolicySpec::all()).unwrap();
        let row = |name: &str| eval.rows.iter().find(|r| r.policy == name).unwrap();
        let clairvoyant = row("clairvoyant");
        let ideal = row("ideal");
        assert_eq!(
            clairvoyant.throttled_pct, clairvoyant.throttled_key_range_pct,
            "{}: only a hot key refuses anything",
            t.name
        );
        assert!(
            ideal.cost_unit_hours <= clairvoyant.cost_unit_hours + 1e-9,
            "{}",
            t.name
        );
        for r in &eval.rows {
            if r.throttled_minutes == 0 {
                assert!(
                    r.cost_unit_hours >= clairvoyant.cost_unit_hours - 1e-9 || r.policy == "ideal",
                    "{}: {} never throttled and cost {} < clairvoyant {}",
                    t.name,
                    r.policy,
                    r.cost_unit_hours,
                    clairvoyant.cost_unit_hours
                );
            }
        }
        let replay = eval.run("clairvoyant").unwrap();
        assert_eq!(
            replay.refused_quota + replay.refused_in_use,
            0,
            "{}",
            t.name
        );
        assert!(eval.notes.is_empty(), "{}: {:?}", t.name, eval.notes);
    }
}

#[test]
fn clairvoyant_covers_demand_every_minute_and_uses_the_quota() {
    let t = &crafted()[1];
    let params = ModelParams::default();
    let eval = evaluate(t, &params, &[PolicySpec::Clairvoyant]).unwrap();
    let run = eval.run("clairvoyant").unwrap();
    for (i, p) in run.provisioned.iter().enumerate() {
        assert!(*p as f64 >= t.demand_at(i), "minute {i}");
    }
    // The wave (20 minutes at 300, 20 at 40, from 22:00) drops every 40 minutes, and a
    // decrease pays only in a low half (capacity must cover 300 in a high one). Four decreases
    // of a UTC day are free; after that the quota wants 60 minutes between two, and the next
    // low half at least 60 minutes after a decrease starts 80 minutes after it. So, by the UTC
    // day of the request (a minute before it takes effect), every saving decrease is made:
    // - 22:00-24:00 of the first day: the 3 drops, all free;
    // - the second day: 4 free at the first four drops (00:20-02:20), then one every 80 minutes
    //   from 03:40 to 23:40: 16 more, 20 in all;
    // - the third day, to 22:00: 4 free (00:20-02:20), then every 80 minutes from 03:40 to
    //   21:40: 14 more, 18 in all.
    let mut per_day = [0; 3];
    for m in 1..run.provisioned.len() {
        if run.provisioned[m] < run.provisioned[m - 1] {
            per_day[(22 * 60 + m - 1) / 1440] += 1;
        }
    }
    assert_eq!(per_day, [3, 20, 18]);
    assert_eq!(run.decreases, 41);
}

#[test]
fn cost_vs_clairvoyant_is_a_ratio_of_dollars() {
    let t = &crafted()[0];
    let eval = evaluate(t, &ModelParams::default(), &PolicySpec::all()).unwrap();
    let c = eval
        .rows
        .iter()
        .find(|r| r.policy == "clairvoyant")
        .unwrap();
    assert!((c.cost_vs_clairvoyant - 1.0).abs() < 1e-12);
    for r in &eval.rows {
        assert!((r.cost_vs_clairvoyant - r.cost_usd / c.cost_usd).abs() < 1e-9);
        if r.policy != "on-demand" {
            assert!(
                (r.cost_usd - r.cost_unit_hours * 0.000_13).abs() < 1e-9,
                "{}",
                r.policy
            );
        }
    }
    let json = serde_json::to_string(&eval.rows[0]).unwrap();
    let mut at = 0;
    for key in [
        "trace",
        "policy",
        "cost_unit_hours",
        "cost_usd",
        "cost_vs_clairvoyant",
        "throttled_pct",
        "throttled_key_range_pct",
        "increases",
        "decreases",
        "throttled_minutes",
    ] {
        let found = json[at..].find(&format!("\"{key}\":")).map(|i| i + at);
        at = found.unwrap_or_else(|| panic!("{key} missing or out of order in {json}"));
    }
    assert_eq!(
        json.matches("\":").count(),
        10,
        "exactly the ten fields: {json}"
    );
}

/// The clairvoyant and static peak on 10 units/s, then `spike` units/s for `minutes` minutes,
/// on a table of at most 100.
fn above_max(spike: f64, minutes: usize) -> capacity_sim::Evaluation {
    let mut demand = vec![Some(10.0); 60];
    demand.extend(vec![Some(spike); minutes]);
    demand.extend(vec![Some(10.0); 30]);
    let params = ModelParams {
        max_capacity: 100,
        ..ModelParams::default()
    };
    let policies = [PolicySpec::Clairvoyant, PolicySpec::StaticPeak];
    evaluate(&trace(0, demand), &params, &policies).expect("a valid trace")
}

#[test]
fn the_clairvoyant_banks_burst_for_demand_above_the_tables_maximum() {
    // 150 units/s for 2 minutes on at most 100: 6,000 units more than capacity, which a bucket
    // of 300 s at 100 units/s holds, if the schedule fills it in time.
    let eval = above_max(150.0, 2);
    let replay = eval.run("clairvoyant").unwrap();
    assert_eq!(replay.throttled_minutes(), 0, "{:?}", replay.provisioned);
    assert!(eval.notes.is_empty(), "{:?}", eval.notes);
    // It holds the maximum only as long as filling the bucket takes.
    let at_max = replay.provisioned.iter().filter(|p| **p == 100).count();
    assert!(at_max <= 2 + 2, "{:?}", replay.provisioned);
}

#[test]
fn the_clairvoyant_refuses_only_what_no_schedule_can_serve() {
    // 200 units/s for 10 minutes: 60,000 units over capacity, twice a full bucket.
    let eval = above_max(200.0, 10);
    let replay = eval.run("clairvoyant").unwrap();
    let fullest = eval.run("static-peak").unwrap();
    assert_eq!(
        fullest.provisioned[0], 100,
        "static peak sits at the maximum"
    );
    assert!(fullest.refused_units() > 0.0);
    assert!(
        (replay.refused_units() - fullest.refused_units()).abs() < 1e-6,
        "{} vs {}",
        replay.refused_units(),
        fullest.refused_units()
    );
    assert_eq!(eval.notes.len(), 1, "{:?}", eval.notes);
    assert!(
        eval.notes[0].contains("above the table's maximum"),
        "{:?}",
        eval.notes
    );
}

#[test]
fn cheap_on_demand_is_not_said_to_ride_the_burst_bucket() {
    // An idle table: on-demand bills nothing, far below the clairvoyant's minimum of 1 unit,
    // and it has no bucket to ride.
    let eval = evaluate(
        &common::flat(0, 0.0, 600),
        &ModelParams::default(),
        &[PolicySpec::OnDemand],
    )
    .unwrap();
    assert_eq!(eval.rows[0].cost_usd, 0.0);
    assert!(
        eval.notes.iter().all(|n| !n.contains("on-demand")),
        "{:?}",
        eval.notes
    );
}
