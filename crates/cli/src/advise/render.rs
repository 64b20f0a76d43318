//! What `advise` shows: the report as aligned tables (billing mode per table, GSI and dimension;
//! the recommendation per table; the scale-down schedule; reserved capacity and the min tags)
//! followed by the notes, and with `--plot FILE` a PNG through [`output::plot_charts`]: per
//! dimension, the demand and ours' simulated capacity summed over the tables a reservation
//! would cover (over every advised table when none would), and the reserved levels.

use std::fmt::Write as _;

use capacity_sim::advice::{BYTES_PER_GB, CapacityMode, Prices, TableClass};
use capacity_sim::params::PRICES_CHECKED_ON;

use super::report::Report;
use super::wire::{self, Advised};
use crate::common::Error;
use crate::output::{self, Chart, DEMAND, Line, OURS, RESERVED_1Y, RESERVED_3Y, dollars, percent};

/// `n thing` or `n things`.
fn plural(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// Days with one decimal.
fn days(d: f64) -> String {
    format!("{d:.1}")
}

/// The report as text.
pub(super) fn text(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "advice for {} in {} (opt-in tag {}): {} to {}",
        plural(r.tables.len(), "table"),
        r.region,
        r.tag_key,
        r.start,
        r.end
    );
    let history = if r.history_days + 1.0 / 24.0 < f64::from(r.days) {
        format!(
            "{} days of the {} asked for (CloudWatch has nothing older)",
            days(r.history_days),
            r.days
        )
    } else {
        format!("{} days", days(r.history_days))
    };
    let _ = writeln!(
        out,
        "history: {history}; dollars are a month (730 hours) at that traffic, {} GetMetricData call(s)",
        r.fetch.calls
    );
    let _ = writeln!(
        out,
        "ours simulated with each table's settings, scale-down at {} (deployed); on-demand with DynamoDB's 2x-previous-peak rule",
        r.deployed_schedule
    );
    let list = Prices::default().entries();
    let changed: Vec<String> = list
        .iter()
        .filter_map(|(name, usd)| {
            let given = *r.prices.get(name)?;
            (given != *usd).then(|| format!("{name}={given}"))
        })
        .collect();
    let _ = writeln!(
        out,
        "prices: us-east-1 list prices checked {PRICES_CHECKED_ON}{} (--price NAME=USD to change one; --json lists them)\n",
        if changed.is_empty() {
            String::new()
        } else {
            format!(", except {} (--price)", changed.join(", "))
        }
    );

    let _ = writeln!(out, "billing mode, $ a month");
    let mut rows = Vec::new();
    for t in &r.tables {
        for g in &t.targets {
            let u = &g.usd_month;
            let p = &g.throttled_pct;
            rows.push(vec![
                t.table.clone(),
                g.index.clone().unwrap_or_else(|| "-".into()),
                g.dimension.to_string(),
                g.current_provisioned.to_string(),
                format!("{:.2}", g.demand.peak),
                output::decimal(g.demand.mean),
                dollars(u.actual),
                dollars(u.on_demand),
                dollars(u.ours),
                dollars(u.ours_quota_paced),
                dollars(u.target_tracking),
                format!("{:.3}/{:.3}/{:.3}", p.on_demand, p.ours, p.target_tracking),
                percent(g.ours_utilisation),
                percent(Some(g.break_even_utilisation)),
            ]);
        }
    }
    out += &output::columns(
        &[
            "TABLE",
            "INDEX",
            "DIM",
            "PROV",
            "PEAK/S",
            "MEAN/S",
            "ACTUAL",
            "ON-DEMAND",
            "OURS",
            "OURS HOURLY",
            "TRACKING",
            "THROTTLED % OD/OURS/TT",
            "OURS UTIL",
            "BREAK-EVEN",
        ],
        &rows,
        &[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    );
    out.push('\n');

    let _ = writeln!(
        out,
        "recommendation per table (its GSIs share its class and mode), $ a month"
    );
    let mut rows = Vec::new();
    let mut why = Vec::new();
    for t in &r.tables {
        let rec = &t.recommendation;
        let choice = &rec.choice;
        rows.push(vec![
            t.table.clone(),
            format!("{}", t.table_class),
            t.billing.to_string(),
            format!("{:.2}", t.size_bytes as f64 / BYTES_PER_GB),
            format!(
                "{}, {}",
                choice.class,
                match choice.mode {
                    CapacityMode::Provisioned => "provisioned (ours)",
                    CapacityMode::OnDemand => "on-demand",
                }
            ),
            dollars(choice.usd_month),
            dollars(
                t.options
                    .iter()
                    .find(|o| o.class == TableClass::StandardIa && o.mode == choice.mode)
                    .map_or(0.0, |o| o.usd_month),
            ),
            dollars(t.actual_usd_month),
            dollars(t.saving_vs_actual_usd_month),
            dollars(rec.saving_usd_month),
        ]);
        let cheapest = &rec.cheapest;
        if (cheapest.class, cheapest.mode) != (choice.class, choice.mode) {
            why.push(format!(
                "{}: {}, {} would save only ${:.2} a month (less than --min-saving {}): kept as it is",
                t.table,
                cheapest.class,
                cheapest.mode,
                rec.current.usd_month - cheapest.usd_month,
                r.min_saving_usd_month
            ));
        }
        if let Some(n) = &t.switch_note {
            why.push(format!("{}: {n}", t.table));
        }
    }
    out += &output::columns(
        &[
            "TABLE",
            "CLASS",
            "MODE",
            "STORAGE GB",
            "RECOMMENDED",
            "$ A MONTH",
            "IN STANDARD-IA",
            "ACTUAL $",
            "SAVES VS ACTUAL",
            "SAVES VS NOW (OURS)",
        ],
        &rows,
        &[3, 5, 6, 7, 8, 9],
    );
    for w in why {
        let _ = writeln!(out, "  {w}");
    }
    out.push('\n');

    match &r.schedule {
        None => {
            let _ = writeln!(
                out,
                "scale-down schedule: no opted-in table is advised onto provisioned capacity\n"
            );
        }
        Some(s) => {
            let _ = writeln!(
                out,
                "scale-down schedule, for the opted-in tables advised onto provisioned together ({}: {})",
                s.tables.join(", "),
                plural(s.targets, "table or GSI dimension")
            );
            let rows: Vec<Vec<String>> = [
                ("deployed", &s.deployed),
                ("best four", &s.best_four),
                ("quota-paced", &s.quota_paced),
            ]
            .iter()
            .map(|(name, c)| {
                vec![
                    format!("{name}: {}", c.schedule),
                    c.cron.clone(),
                    dollars(c.usd_month),
                    if *name == "deployed" {
                        "-".to_owned()
                    } else {
                        dollars(c.saving_usd_month)
                    },
                    format!("{:.3}", c.throttled_pct),
                ]
            })
            .collect();
            out += &output::columns(
                &[
                    "SCHEDULE",
                    "CRON",
                    "OURS $ A MONTH",
                    "SAVES $ A MONTH",
                    "THROTTLED %",
                ],
                &rows,
                &[2, 3, 4],
            );
            let _ = writeln!(out, "  {}\n", s.advice);
        }
    }

    for res in &r.reservations {
        if res.tables.is_empty() {
            let _ = writeln!(
                out,
                "reserved capacity, {}: no table is advised onto Standard and provisioned",
                res.dimension
            );
            continue;
        }
        let _ = writeln!(
            out,
            "reserved capacity, {}: ours' capacity summed per minute over {} ({} days, peak {}, mean {:.1} units)",
            res.dimension,
            res.tables.join(", "),
            days(res.minutes as f64 / 1440.0),
            res.peak_units,
            res.mean_units
        );
        let _ = writeln!(
            out,
            "  (a reservation covers every provisioned Standard table of the region together: \
             tables not listed here are not counted; name them all with --table for the account's level)"
        );
        let rows: Vec<Vec<String>> = res
            .terms
            .iter()
            .map(|t| {
                vec![
                    format!("{}y", t.years),
                    t.existing_units.to_string(),
                    percent(Some(t.break_even_share)),
                    t.pay_off_level_units.to_string(),
                    format!("{} ({})", t.units, t.blocks),
                    if t.blocks == 0 {
                        "-".to_owned()
                    } else {
                        percent(Some(t.held_share))
                    },
                    dollars(t.upfront_usd),
                    format!("{:.4}", t.hourly_usd),
                    dollars(t.without_usd_month),
                    dollars(t.with_usd_month),
                    dollars(t.saving_usd_month),
                ]
            })
            .collect();
        out += &output::columns(
            &[
                "TERM",
                "EXISTING",
                "BREAK-EVEN",
                "PAY-OFF LEVEL",
                "BUY (BLOCKS)",
                "HELD",
                "UPFRONT $",
                "HOURLY $",
                "WITHOUT $/MONTH",
                "WITH $/MONTH",
                "SAVES $/MONTH",
            ],
            &rows,
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
    }
    if r.min_tags.is_empty() {
        let _ = writeln!(out, "min tags: none to add");
    } else {
        let _ = writeln!(
            out,
            "min tags at each table's share of the 1-year reserved level (below it a decrease saves nothing and spends one of the day's decreases):"
        );
        for m in &r.min_tags {
            let _ = writeln!(
                out,
                "  {}: {}={} (now {})",
                m.table, m.key, m.value, m.current_min
            );
        }
    }
    out.push('\n');
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// Writes the PNG.
pub(super) fn plot(path: &std::path::Path, r: &Report, advised: &Advised) -> Result<(), Error> {
    let mut charts = Vec::new();
    let mut minutes = 0;
    for (res, shown) in advised.reservations.iter().zip(&r.reservations) {
        let (caption, demand, capacity) = if res.tables.is_empty() {
            let all = wire::everything(advised, res.dimension, res.start);
            (
                format!(
                    "{}: every advised table (none advised onto Standard, provisioned) from {}",
                    res.dimension, all.start
                ),
                all.demand,
                all.capacity,
            )
        } else {
            (
                format!(
                    "{}: {} from {}",
                    res.dimension,
                    res.tables.join(", "),
                    res.start
                ),
                res.demand.clone(),
                res.capacity.clone(),
            )
        };
        let n = demand.len();
        minutes = minutes.max(n);
        let mut lines = vec![
            Line {
                name: "demand (consumed + throttled)".into(),
                color: DEMAND,
                width: 1,
                values: demand,
            },
            Line {
                name: "provisioned: ours (simulated, deployed times)".into(),
                color: OURS,
                width: 2,
                values: capacity.iter().map(|c| *c as f64).collect(),
            },
        ];
        if !res.tables.is_empty() {
            for (t, color) in shown.terms.iter().zip([RESERVED_1Y, RESERVED_3Y]) {
                let level = t.existing_units + t.units;
                lines.push(Line {
                    name: format!("reserved, {}-year advice: {level} units", t.years),
                    color,
                    width: 2,
                    values: vec![level as f64; n],
                });
            }
        }
        charts.push(Chart {
            caption,
            y_desc: "units/s".into(),
            height: 520,
            lines,
        });
    }
    output::plot_charts(path, minutes, &charts)
        .map_err(|e| format!("cannot write the plot {}: {e}", path.display()).into())
}
