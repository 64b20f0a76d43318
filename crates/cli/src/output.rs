//! Output: the comparison table (Markdown, aligned), plain aligned columns for the operator
//! commands and the formatting of their cells, the per-trace plot (PNG) and stacked charts over
//! one time axis (PNG, `backtest`).
//!
//! **What is ours and why.** The charts are drawn by `plotters` (bitmap backend, `ab_glyph`
//! text); what is written here is the glue it leaves to its users: registering the embedded
//! font once (its `ab_glyph` feature has no system-font lookup, and a CI machine has no fonts),
//! bucketing a series of weeks of minutes to about one point per pixel column (keeping each
//! bucket's maximum, so a one-minute spike stays visible: plotters draws every point it is
//! given and has no downsampling), and one stacked layout over a shared time axis. The aligned
//! text columns stay ours as well: `comfy-table` and `tabled` draw boxed or padded tables whose
//! shape differs from the plain, grep-friendly columns the README's examples, the scripts that
//! regenerate them and the tests read, for about sixty lines saved.

use std::path::Path;
use std::sync::OnceLock;

use capacity_sim::{Evaluation, Trace};
use plotters::prelude::*;

use crate::common::Error;

/// The rows of `evals` as an aligned Markdown table; each trace of `failed` (name, error) gets a
/// `failed` row, and the errors are listed below the table.
pub fn table(evals: &[Evaluation], failed: &[(String, String)]) -> String {
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
    let mut rows: Vec<Vec<String>> = Vec::new();
    for row in evals.iter().flat_map(|e| &e.rows) {
        let counts = !matches!(row.policy.as_str(), "ideal" | "on-demand");
        let count = |n: u32| if counts { n.to_string() } else { "-".into() };
        rows.push(vec![
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
    for (trace, _) in failed {
        let mut cells = vec!["-".to_owned(); header.len()];
        cells[0] = trace.clone();
        cells[1] = "failed (below)".into();
        rows.push(cells);
    }
    let mut out = markdown(&header, &rows, 2);
    if !failed.is_empty() {
        out += "\nfailed traces:\n";
        for (trace, error) in failed {
            out += &format!("- {trace}: {error}\n");
        }
    }
    out
}

/// An aligned Markdown table: the first `left` columns left-aligned (names), the others
/// right-aligned (numbers).
pub fn markdown(header: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in width.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::from("|");
        for (i, (cell, w)) in cells.zip(&width).enumerate() {
            let pad = " ".repeat(w.saturating_sub(cell.chars().count()));
            if i < left {
                s += &format!(" {cell}{pad} |");
            } else {
                s += &format!(" {pad}{cell} |");
            }
        }
        s + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    out.push('|');
    for (i, w) in width.iter().enumerate() {
        out += &if i < left {
            format!("{}|", "-".repeat(w + 2))
        } else {
            format!("{}:|", "-".repeat(w + 1))
        };
    }
    out.push('\n');
    for r in rows {
        out += &line(&mut r.iter().map(String::as_str));
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

/// Demand (grey).
pub const DEMAND: RGBColor = RGBColor(110, 110, 110);
/// Ours (blue).
pub const OURS: RGBColor = RGBColor(31, 119, 180);
/// AWS target tracking (orange).
pub const TRACKING: RGBColor = RGBColor(230, 110, 20);
/// What actually happened on a real table (dark green).
pub const ACTUAL: RGBColor = RGBColor(30, 120, 50);
/// A one-year reserved level (purple).
pub const RESERVED_1Y: RGBColor = RGBColor(148, 103, 189);
/// A three-year reserved level (red).
pub const RESERVED_3Y: RGBColor = RGBColor(200, 40, 40);

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

/// Draws demand, the capacity of ours and of AWS target tracking, and their throttling, as two
/// [`plot_charts`] charts.
pub fn plot(path: &Path, trace: &Trace, eval: &Evaluation) -> Result<(), Error> {
    // Target tracking first, so that ours is drawn on top.
    let runs: Vec<(&str, RGBColor, &capacity_sim::Run)> =
        [("aws-target-tracking", TRACKING), ("ours", OURS)]
            .into_iter()
            .filter_map(|(name, color)| Some((name, color, eval.run(name)?)))
            .collect();
    let mut capacity = vec![Line {
        name: "demand".into(),
        color: DEMAND,
        width: 1,
        values: (0..trace.len()).map(|i| trace.demand_at(i)).collect(),
    }];
    let mut throttled = Vec::new();
    for (name, color, run) in runs {
        capacity.push(Line {
            name: format!("provisioned: {name}"),
            color,
            width: 2,
            values: run.provisioned.iter().map(|p| *p as f64).collect(),
        });
        throttled.push(Line {
            name: format!("throttled: {name}"),
            color,
            width: 1,
            values: run.refused.iter().map(|r| r / 60.0).collect(),
        });
    }
    let charts = [
        Chart {
            caption: format!(
                "{}: demand and provisioned capacity (units/s), from {}",
                trace.name, trace.start
            ),
            y_desc: "units/s".into(),
            height: 620,
            lines: capacity,
        },
        Chart {
            caption: "throttled units/s".into(),
            y_desc: "units/s".into(),
            height: 280,
            lines: throttled,
        },
    ];
    plot_charts(path, trace.len(), &charts)
}

/// Plain aligned columns (two spaces apart): the header, then the rows. Columns whose index is
/// in `right` are right-aligned (numbers); trailing spaces are trimmed.
pub fn columns(header: &[&str], rows: &[Vec<String>], right: &[usize]) -> String {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            if let Some(w) = width.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.zip(&width).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w.saturating_sub(cell.chars().count());
            if right.contains(&i) {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&mut header.iter().copied());
    for r in rows {
        out += &line(&mut r.iter().map(String::as_str));
    }
    out
}

/// One line of a [`Chart`]: a per-minute series.
pub struct Line {
    /// Legend text.
    pub name: String,
    /// Colour.
    pub color: RGBColor,
    /// Stroke width in pixels.
    pub width: u32,
    /// One value per minute from the plot's start.
    pub values: Vec<f64>,
}

/// One chart of [`plot_charts`]: lines drawn in order (the last on top).
pub struct Chart {
    /// Title above the chart.
    pub caption: String,
    /// Unit of the y axis.
    pub y_desc: String,
    /// Height in pixels.
    pub height: u32,
    /// The lines.
    pub lines: Vec<Line>,
}

/// Draws `charts` stacked top to bottom over one time axis (days from the start, `minutes`
/// long), 1600 pixels wide, to a PNG file. Long series are drawn as per-bucket maxima, as
/// [`plot`] does, so that short peaks stay visible.
pub fn plot_charts(path: &Path, minutes: usize, charts: &[Chart]) -> Result<(), Error> {
    register_font()?;
    let n = minutes.max(1);
    let bucket = n.div_ceil(1400).max(1);
    let days = n as f64 / 1440.0;
    let height: u32 = charts.iter().map(|c| c.height).sum::<u32>().max(1);
    let root = BitMapBackend::new(path, (1600, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let resolution = if bucket == 1 {
        "per minute".to_owned()
    } else {
        format!("max per {bucket} min")
    };
    let mut rest = root.clone();
    for (i, c) in charts.iter().enumerate() {
        let (area, below) = if i + 1 < charts.len() {
            rest.split_vertically(c.height)
        } else {
            (rest.clone(), rest.clone())
        };
        let lines: Vec<(&Line, Vec<(f64, f64)>)> = c
            .lines
            .iter()
            .map(|l| (l, downsample(l.values.iter().copied(), bucket)))
            .collect();
        let top = lines
            .iter()
            .flat_map(|(_, pts)| pts.iter())
            .fold(1.0_f64, |a, (_, v)| a.max(*v))
            * 1.08;
        let mut chart = ChartBuilder::on(&area)
            .caption(format!("{} ({resolution})", c.caption), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..days, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("days")
            .y_desc(c.y_desc.as_str())
            .y_label_formatter(&|v| {
                if top < 10.0 {
                    format!("{v:.1}")
                } else {
                    format!("{v:.0}")
                }
            })
            .x_label_formatter(&|v| format!("{v:.1}"))
            .label_style(("sans-serif", 15))
            .draw()?;
        for (line, points) in &lines {
            let color = line.color;
            let width = line.width;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(width),
                ))?
                .label(line.name.as_str())
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
        rest = below;
    }
    root.present()?;
    Ok(())
}

/// Writes `text` to stdout. A closed pipe (`ddb-autoscaler status --json | head`) is not an
/// error: the reader has what it wanted.
pub fn emit(text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}").into())
        }
        _ => Ok(()),
    }
}

/// Two decimals (units/s, ratios), `-` when unknown.
pub fn decimal(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"))
}

/// A fraction as a whole percentage, `-` when unknown.
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// Dollars: whole ones from 100, cents from 1, four decimals below.
pub fn dollars(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// A count, `-` when it does not apply.
pub fn count(v: Option<u32>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}
