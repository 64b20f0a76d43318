//! The report of `advise`: what was advised as the stable JSON the module documentation lists
//! (`--json`), which the text and the plot are rendered from too.

use std::collections::BTreeMap;

use capacity_sim::advice::{
    CapacityMode, Choice, ClassPrices, Recommendation, Reservation, TableClass,
    break_even_utilisation,
};
use scaling_policy::{Dimension, Mode};
use serde::Serialize;

use super::wire::{self, Advised, Period, Priced, ReplayedSeries, Setup};
use capacity_sim::report::percent_of;

/// One figure per policy.
#[derive(Clone, Debug, Serialize)]
pub(super) struct PerPolicy {
    pub actual: f64,
    pub on_demand: f64,
    pub ours: f64,
    pub ours_quota_paced: f64,
    pub target_tracking: f64,
    pub clairvoyant: f64,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct DemandStats {
    pub total_units: f64,
    pub peak: f64,
    pub mean: Option<f64>,
    pub known_minutes: usize,
    pub gap_minutes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct CapacityStats {
    pub min: u64,
    pub max: u64,
    pub last: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct SeriesReport {
    pub index: Option<String>,
    pub dimension: Dimension,
    pub current_provisioned: u64,
    pub min: u64,
    pub max: u64,
    pub start: String,
    pub minutes: usize,
    pub demand: DemandStats,
    pub actual_source: &'static str,
    pub usd_month: PerPolicy,
    pub throttled_pct: PerPolicy,
    pub ours_utilisation: Option<f64>,
    pub break_even_utilisation: f64,
    pub ours_capacity: CapacityStats,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct TableReport {
    pub table: String,
    pub mode: Option<Mode>,
    pub billing: CapacityMode,
    pub table_class: TableClass,
    pub size_bytes: u64,
    pub history_days: f64,
    pub actual_usd_month: f64,
    pub targets: Vec<SeriesReport>,
    pub options: Vec<Choice>,
    pub recommendation: Recommendation,
    pub saving_vs_actual_usd_month: f64,
    pub reservation_eligible: bool,
    pub switch_note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct ScheduleCost {
    pub schedule: String,
    pub cron: String,
    pub usd_month: f64,
    pub saving_usd_month: f64,
    pub throttled_pct: f64,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct ScheduleReport {
    pub tables: Vec<String>,
    pub targets: usize,
    pub deployed: ScheduleCost,
    pub best_four: ScheduleCost,
    pub quota_paced: ScheduleCost,
    pub advice: String,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct ReservedReport {
    pub dimension: Dimension,
    pub tables: Vec<String>,
    pub start: String,
    pub minutes: usize,
    pub peak_units: u64,
    pub mean_units: f64,
    pub terms: Vec<Reservation>,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct MinTagReport {
    pub table: String,
    pub index: Option<String>,
    pub dimension: Dimension,
    pub key: String,
    pub value: u64,
    pub current_min: u64,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct Fetch {
    pub calls: usize,
    pub datapoints: usize,
}

#[derive(Clone, Debug, Serialize)]
pub(super) struct Report {
    pub region: String,
    pub tag_key: String,
    pub start: String,
    pub end: String,
    pub days: u32,
    pub history_days: f64,
    pub deployed_schedule: String,
    pub min_saving_usd_month: f64,
    pub prices: BTreeMap<&'static str, f64>,
    pub fetch: Fetch,
    pub tables: Vec<TableReport>,
    pub schedule: Option<ScheduleReport>,
    pub reservations: Vec<ReservedReport>,
    pub min_tags: Vec<MinTagReport>,
    pub notes: Vec<String>,
}

/// `cron(0 h,h,... * * ? *)` for whole-hour runs, `cron(m h ...)` runs otherwise one per line
/// of minutes; hourly is `cron(0 * * * ? *)`.
pub(super) fn cron(schedule: &capacity_sim::ScaleDownSchedule) -> String {
    if schedule.step() == Some(60) {
        return "cron(0 * * * ? *)".to_owned();
    }
    let minutes = schedule.minutes();
    if minutes.iter().all(|m| m % 60 == 0) {
        let hours: Vec<String> = minutes.iter().map(|m| (m / 60).to_string()).collect();
        return format!("cron(0 {} * * ? *)", hours.join(","));
    }
    let each: Vec<String> = minutes
        .iter()
        .map(|m| format!("cron({} {} * * ? *)", m % 60, m / 60))
        .collect();
    each.join(" + ")
}

fn series_report(t: &ReplayedSeries, prices: &ClassPrices) -> SeriesReport {
    let usd = |policy: &str| t.month(t.row(policy).map_or(0.0, |r| r.cost_usd));
    let pct = |policy: &str| t.row(policy).map_or(0.0, |r| r.throttled_pct);
    let demanded = t.trace.total_units();
    let known = t.trace.len() - t.trace.gap_minutes();
    let ours_units = t.ours.unit_hours() * 3_600.0;
    let bounds = t.settings.bounds(t.dimension);
    SeriesReport {
        index: t.index.clone(),
        dimension: t.dimension,
        current_provisioned: t.current,
        min: bounds.min,
        max: bounds.max,
        start: t.trace.start.to_string(),
        minutes: t.trace.len(),
        demand: DemandStats {
            total_units: demanded,
            peak: t.trace.peak(),
            mean: (known > 0).then(|| t.trace.demand.iter().flatten().sum::<f64>() / known as f64),
            known_minutes: known,
            gap_minutes: t.trace.gap_minutes(),
        },
        actual_source: t.actual.source,
        usd_month: PerPolicy {
            actual: t.month(t.actual.usd),
            on_demand: usd("on-demand"),
            ours: usd("ours"),
            ours_quota_paced: t.month(t.run_usd(&t.hourly)),
            target_tracking: usd("aws-target-tracking"),
            clairvoyant: usd("clairvoyant"),
        },
        throttled_pct: PerPolicy {
            actual: percent_of(t.observed_throttles, demanded),
            on_demand: pct("on-demand"),
            ours: pct("ours"),
            ours_quota_paced: percent_of(t.hourly.refused_units(), demanded),
            target_tracking: pct("aws-target-tracking"),
            clairvoyant: pct("clairvoyant"),
        },
        ours_utilisation: (ours_units > 0.0).then(|| demanded / ours_units),
        break_even_utilisation: break_even_utilisation(prices, t.dimension),
        ours_capacity: CapacityStats {
            min: t.ours.provisioned.iter().copied().min().unwrap_or(0),
            max: t.ours.provisioned.iter().copied().max().unwrap_or(0),
            last: t.ours.provisioned.last().copied().unwrap_or(0),
        },
    }
}

fn schedule_cost(p: &Priced, deployed_usd: f64) -> ScheduleCost {
    ScheduleCost {
        schedule: p.schedule.to_string(),
        cron: cron(&p.schedule),
        usd_month: p.usd_month,
        saving_usd_month: deployed_usd - p.usd_month,
        throttled_pct: percent_of(p.refused_units, p.demanded_units),
    }
}

/// What to do about the schedule: a saving under half a percent (or a cent) is none.
fn schedule_advice(s: &wire::Schedule) -> String {
    let saving = s.deployed.usd_month - s.best.usd_month;
    let noise = (0.005 * s.deployed.usd_month).max(0.01);
    if s.best.schedule == s.deployed.schedule {
        "the deployed times are already the best four".to_owned()
    } else if saving > noise {
        format!(
            "deploy ScaleDownSchedule={}: ${saving:.2} a month less than the deployed times (chosen on the same history it is scored on)",
            cron(&s.best.schedule)
        )
    } else if saving < -noise {
        "keep the deployed times: the four that perfect foresight prefers cost ours more in the replay".to_owned()
    } else {
        "keep the deployed times: moving them saves nothing to speak of".to_owned()
    }
}

/// The report of everything advised.
pub(super) fn report(
    setup: &Setup<'_>,
    advised: &Advised,
    found: &[super::Found],
    period: Period,
    notes: Vec<String>,
) -> Report {
    let tables: Vec<TableReport> = advised
        .tables
        .iter()
        .map(|t| TableReport {
            table: t.name.clone(),
            mode: t.mode,
            billing: t.billing,
            table_class: t.storage.class,
            size_bytes: t.storage.bytes,
            history_days: t.history_days(),
            actual_usd_month: t.actual_usd_month,
            targets: t
                .targets
                .iter()
                .map(|g| series_report(g, setup.prices.class(t.storage.class)))
                .collect(),
            options: t.options.clone(),
            recommendation: t.recommendation,
            saving_vs_actual_usd_month: t.actual_usd_month - t.recommendation.choice.usd_month,
            reservation_eligible: t.reservation_eligible(),
            switch_note: (!t.switch_notes.is_empty()).then(|| t.switch_notes.join("; ")),
        })
        .collect();
    let schedule = advised.schedule.as_ref().map(|s| ScheduleReport {
        tables: s.tables.clone(),
        targets: s.targets,
        deployed: schedule_cost(&s.deployed, s.deployed.usd_month),
        best_four: schedule_cost(&s.best, s.deployed.usd_month),
        quota_paced: schedule_cost(&s.hourly, s.deployed.usd_month),
        advice: schedule_advice(s),
    });
    let reservations = advised
        .reservations
        .iter()
        .map(|r| ReservedReport {
            dimension: r.dimension,
            tables: r.tables.clone(),
            start: r.start.to_string(),
            minutes: r.capacity.len(),
            peak_units: r.capacity.iter().copied().max().unwrap_or(0),
            mean_units: if r.capacity.is_empty() {
                0.0
            } else {
                r.capacity.iter().sum::<u64>() as f64 / r.capacity.len() as f64
            },
            terms: r.terms.clone(),
        })
        .collect();
    let min_tags = advised
        .min_tags
        .iter()
        .map(|m| MinTagReport {
            table: m.table.clone(),
            index: m.index.clone(),
            dimension: m.dimension,
            key: m.key.clone(),
            value: m.value,
            current_min: m.current_min,
        })
        .collect();
    let (calls, datapoints) = found
        .iter()
        .flat_map(|f| &f.histories)
        .fold((0, 0), |(c, d), (_, h)| (c + h.calls, d + h.datapoints));
    Report {
        region: period.region,
        tag_key: setup.tag_key.to_owned(),
        start: period.start.to_string(),
        end: period.end.to_string(),
        days: period.days,
        history_days: tables.iter().map(|t| t.history_days).fold(0.0, f64::max),
        deployed_schedule: setup.deployed.to_string(),
        min_saving_usd_month: setup.min_saving,
        prices: setup.prices.entries().into_iter().collect(),
        fetch: Fetch { calls, datapoints },
        tables,
        schedule,
        reservations,
        min_tags,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capacity_sim::ScaleDownSchedule;

    #[test]
    fn cron_expressions_of_schedules() {
        let s = |h: &[u32]| ScaleDownSchedule::at_hours(h).unwrap();
        assert_eq!(cron(&s(&[0, 6, 12, 18])), "cron(0 0,6,12,18 * * ? *)");
        assert_eq!(cron(&s(&[4, 11, 17, 22])), "cron(0 4,11,17,22 * * ? *)");
        assert_eq!(
            cron(&ScaleDownSchedule::every(60).unwrap()),
            "cron(0 * * * ? *)"
        );
    }
}
