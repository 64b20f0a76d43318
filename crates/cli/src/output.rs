//! Output: the comparison table (Markdown, aligned) and the per-trace plot (PNG).

use std::path::Path;
use std::sync::OnceLock;

use capacity_sim::{Evaluation, Trace};
use plotters::prelude::*;

use crate::common::Error;

/// The rows of `evals` as an aligned Markdown table.
pub fn table(evals: &[Evaluation]) -> String {
    let header = [
        "trace",
        "policy",
        "unit-hours",
        "cost $",
        "x clairvoyant",
        "throttled %",
        "increases",
        "decreases",
        "throttled min",
    ];
    let mut rows: Vec<[String; 9]> = Vec::new();
    for row in evals.iter().flat_map(|e| &e.rows) {
        let counts = !matches!(row.policy.as_str(), "ideal" | "on-demand");
        let count = |n: u32| if counts { n.to_string() } else { "-".into() };
        rows.push([
            row.trace.clone(),
            row.policy.clone(),
            format!("{:.0}", row.cost_unit_hours),
            format!("{:.2}", row.cost_usd),
            format!("{:.2}", row.cost_vs_clairvoyant),
            format!("{:.3}", row.throttled_pct),
            count(row.increases),
            count(row.decreases),
            row.throttled_minutes.to_string(),
        ]);
    }
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::from("|");
        for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
            if i < 2 {
                s += &format!(" {cell:<w$} |");
            } else {
                s += &format!(" {cell:>w$} |");
            }
        }
        s + "\n"
    };
    let mut out = line(&header.map(String::from));
    let mut rule = String::from("|");
    for (i, w) in width.iter().enumerate() {
        rule += &if i < 2 {
            format!("{}|", "-".repeat(w + 2))
        } else {
            format!("{}:|", "-".repeat(w + 1))
        };
    }
    out += &rule;
    out.push('\n');
    for r in &rows {
        out += &line(r);
    }
    out
}

/// A file name for the plot of the trace named `name` (`nab/x.csv` -> `nab__x.png`).
pub fn plot_file_name(name: &str) -> String {
    let stem = name.strip_suffix(".csv").unwrap_or(name).replace('/', "__");
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.png")
}

/// Registers the embedded font once (plotters' `ab_glyph` text rendering needs no system fonts).
fn register_font() -> Result<(), Error> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, ttf_noto_sans::REGULAR)
            .is_ok()
    });
    if *ok {
        Ok(())
    } else {
        Err("the embedded font could not be loaded".into())
    }
}

const DEMAND: RGBColor = RGBColor(110, 110, 110);
const OURS: RGBColor = RGBColor(31, 119, 180);
const TRACKING: RGBColor = RGBColor(230, 110, 20);

/// One policy's lines on the plot.
struct Series {
    name: &'static str,
    color: RGBColor,
    capacity: Vec<(f64, f64)>,
    throttled: Vec<(f64, f64)>,
}

/// Per-bucket maxima of `values` (`bucket` minutes each), as `(day, value)` points.
fn downsample(values: impl Iterator<Item = f64>, bucket: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut peak = f64::NEG_INFINITY;
    let mut start = 0;
    let mut i = 0;
    for v in values {
        peak = peak.max(v);
        i += 1;
        if i % bucket == 0 {
            out.push((start as f64 / 1440.0, peak));
            peak = f64::NEG_INFINITY;
            start = i;
        }
    }
    if i % bucket != 0 {
        out.push((start as f64 / 1440.0, peak));
    }
    out
}

/// Draws demand, the capacity of ours and of AWS target tracking, and their throttling.
pub fn plot(path: &Path, trace: &Trace, eval: &Evaluation) -> Result<(), Error> {
    register_font()?;
    let n = trace.len().max(1);
    let bucket = n.div_ceil(1400).max(1);
    let days = n as f64 / 1440.0;
    let demand = downsample((0..n).map(|i| trace.demand_at(i)), bucket);
    // Target tracking first, so that ours is drawn on top.
    let lines: Vec<Series> = [("aws-target-tracking", TRACKING), ("ours", OURS)]
        .into_iter()
        .filter_map(|(name, color)| {
            let run = eval.run(name)?;
            Some(Series {
                name,
                color,
                capacity: downsample(run.provisioned.iter().map(|p| *p as f64), bucket),
                throttled: downsample(run.refused.iter().map(|r| r / 60.0), bucket),
            })
        })
        .collect();
    let top = lines
        .iter()
        .flat_map(|l| l.capacity.iter())
        .chain(&demand)
        .fold(1.0_f64, |a, (_, v)| a.max(*v))
        * 1.05;
    let throttle_top = lines
        .iter()
        .flat_map(|l| l.throttled.iter())
        .fold(1.0_f64, |a, (_, v)| a.max(*v))
        * 1.1;

    let root = BitMapBackend::new(path, (1600, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let (upper, lower) = root.split_vertically(620);
    let resolution = if bucket == 1 {
        "per minute".to_owned()
    } else {
        format!("max per {bucket} min")
    };
    let mut chart = ChartBuilder::on(&upper)
        .caption(
            format!(
                "{}: demand and provisioned capacity (units/s, {resolution}), from {}",
                trace.name, trace.start
            ),
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..days, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("days")
        .y_desc("units/s")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 15))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            demand.iter().copied(),
            DEMAND.stroke_width(1),
        ))?
        .label("demand")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], DEMAND.stroke_width(3)));
    for Series {
        name,
        color,
        capacity,
        ..
    } in &lines
    {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                capacity.iter().copied(),
                color.stroke_width(2),
            ))?
            .label(format!("provisioned: {name}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    let mut chart = ChartBuilder::on(&lower)
        .caption("throttled units/s", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..days, 0.0..throttle_top)?;
    chart
        .configure_mesh()
        .x_desc("days")
        .y_desc("units/s")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 15))
        .draw()?;
    for Series {
        name,
        color,
        throttled,
        ..
    } in &lines
    {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                throttled.iter().copied(),
                color.stroke_width(1),
            ))?
            .label(format!("throttled: {name}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
