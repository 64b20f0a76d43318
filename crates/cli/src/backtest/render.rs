//! What `backtest` shows: the comparison as aligned tables (one per dimension, then the totals
//! over both) followed by the notes, and with `--plot FILE` a PNG through
//! [`output::plot_charts`]: per dimension, demand with the actual, ours and target tracking
//! capacities, and below it their throttling.

use capacity_sim::Run;
use scaling_policy::{Dimension, Settings};

use super::Report;
use crate::common::Error;
use crate::output::{self, ACTUAL, Chart, DEMAND, Line, OURS, TRACKING, count, decimal, dollars};

/// What is drawn for one dimension, per minute.
pub(super) struct Drawn {
    pub(super) dimension: Dimension,
    pub(super) demand: Vec<f64>,
    /// What the table had (empty for an on-demand table).
    pub(super) actual: Vec<f64>,
    pub(super) actual_throttled: Vec<f64>,
    pub(super) ours: Run,
    pub(super) tracking: Option<Run>,
}

/// Writes the PNG.
pub(super) fn plot(
    path: &std::path::Path,
    shown: &str,
    report: &Report,
    drawn: &[Drawn],
) -> Result<(), Error> {
    let per_min = |v: &[f64]| v.iter().map(|r| r / 60.0).collect::<Vec<_>>();
    let mut charts = Vec::new();
    for d in drawn {
        let mut capacity = vec![Line {
            name: "demand (consumed + throttled)".into(),
            color: DEMAND,
            width: 1,
            values: d.demand.clone(),
        }];
        let mut throttled = Vec::new();
        if let Some(t) = &d.tracking {
            capacity.push(Line {
                name: "provisioned: aws-target-tracking (simulated)".into(),
                color: TRACKING,
                width: 2,
                values: t.provisioned.iter().map(|p| *p as f64).collect(),
            });
            throttled.push(Line {
                name: "aws-target-tracking (simulated)".into(),
                color: TRACKING,
                width: 1,
                values: per_min(&t.refused),
            });
        }
        capacity.push(Line {
            name: "provisioned: ours (simulated)".into(),
            color: OURS,
            width: 2,
            values: d.ours.provisioned.iter().map(|p| *p as f64).collect(),
        });
        throttled.push(Line {
            name: "ours (simulated)".into(),
            color: OURS,
            width: 1,
            values: per_min(&d.ours.refused),
        });
        if !d.actual.is_empty() {
            capacity.push(Line {
                name: "provisioned: actual".into(),
                color: ACTUAL,
                width: 2,
                values: d.actual.clone(),
            });
        }
        throttled.push(Line {
            name: "actual (throttle events)".into(),
            color: ACTUAL,
            width: 1,
            values: d.actual_throttled.clone(),
        });
        charts.push(Chart {
            caption: format!(
                "{shown} {}: demand and provisioned capacity from {}",
                d.dimension, report.start
            ),
            y_desc: "units/s".into(),
            height: 520,
            lines: capacity,
        });
        charts.push(Chart {
            caption: format!("{shown} {}: throttled units/s", d.dimension),
            y_desc: "units/s".into(),
            height: 280,
            lines: throttled,
        });
    }
    output::plot_charts(path, report.minutes, &charts)
        .map_err(|e| format!("cannot write the plot {}: {e}", path.display()).into())
}

/// The report as text.
pub(super) fn text(r: &Report, settings: &Settings, shown: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "backtest of {shown} in {}: {} to {} ({} day{}, {} minutes)",
        r.region,
        r.start,
        r.end,
        r.days,
        if r.days == 1 { "" } else { "s" },
        r.minutes
    );
    let _ = writeln!(
        out,
        "CloudWatch: {} GetMetricData call(s), {} datapoints, periods {} s",
        r.fetch.calls,
        r.fetch.datapoints,
        r.fetch
            .periods
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("/")
    );
    let _ = writeln!(
        out,
        "ours simulated with {}: target {:.0}%, trigger {:.0}%, read {}-{}, write {}-{}, scale-down at {} UTC\n",
        match r.mode {
            Some(m) => format!("the table's settings (tag {} = {m})", r.tag_key),
            None => "the default settings (not opted in)".to_owned(),
        },
        settings.target * 100.0,
        settings.scale_up_trigger * 100.0,
        settings.read.min,
        settings.read.max,
        settings.write.min,
        settings.write.max,
        r.scale_down_hours
            .iter()
            .map(|h| format!("{h:02}:00"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    let header = [
        "POLICY",
        "UNIT-HOURS",
        "COST $",
        "VS ACTUAL",
        "THROTTLED UNITS",
        "THROTTLED %",
        "THROTTLED MIN",
        "INCREASES",
        "DECREASES",
    ];
    for d in &r.dimensions {
        let _ = writeln!(
            out,
            "{} ({}): demand peak {:.2} units/s, mean {}, {} of {} minutes with data",
            d.dimension,
            d.billing,
            d.demand.peak,
            decimal(d.demand.mean),
            d.demand.known_minutes,
            d.demand.known_minutes + d.demand.gap_minutes
        );
        let rows: Vec<Vec<String>> = d
            .rows
            .iter()
            .map(|row| {
                vec![
                    if row.policy == "clairvoyant" {
                        "clairvoyant (bound)".to_owned()
                    } else {
                        row.policy.clone()
                    },
                    format!("{:.1}", row.cost_unit_hours),
                    dollars(row.cost_usd),
                    decimal(row.cost_vs_actual),
                    format!("{:.0}", row.throttled_units),
                    format!("{:.3}", row.throttled_pct),
                    row.throttled_minutes.to_string(),
                    count(row.increases),
                    count(row.decreases),
                ]
            })
            .collect();
        out += &output::columns(&header, &rows, &[1, 2, 3, 4, 5, 6, 7, 8]);
        out.push('\n');
    }
    if r.dimensions.len() > 1 {
        let _ = writeln!(out, "total (read and write)");
        let rows: Vec<Vec<String>> = r
            .totals
            .iter()
            .map(|t| {
                vec![
                    t.policy.clone(),
                    dollars(t.cost_usd),
                    decimal(t.cost_vs_actual),
                    format!("{:.0}", t.throttled_units),
                ]
            })
            .collect();
        out += &output::columns(
            &["POLICY", "COST $", "VS ACTUAL", "THROTTLED UNITS"],
            &rows,
            &[1, 2, 3],
        );
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
