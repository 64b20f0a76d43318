//! The JSON the API answers with (the schemas of `openapi.yaml`), built from what
//! `autoscaler_aws` computed: a table's view ([`TableView`]: mode, each part's capacities with
//! min, max and the active boost floor, what scale-up and scale-down would decide now, the
//! decrease quota, the override tags and the boosts), a boost ([`BoostView`]) and what a settings
//! change wrote ([`WrittenView`]). Times are RFC 3339 in UTC.

use std::collections::BTreeMap;

use autoscaler_aws::RunConfig;
use autoscaler_aws::manage::{self, Written};
use autoscaler_aws::outlook::{self, TableOutlook};
use autoscaler_aws::run::Outcome;
use scaling_policy::{Action, Boost, Decision, Dimension, Mode, Reason, Timestamp, boost};
use serde::Serialize;

/// `GET /tables`.
#[derive(Debug, Serialize)]
pub struct TablesView {
    /// The `now` of every decision.
    pub at: String,
    /// The opt-in tag key of the deployment.
    pub tag_key: String,
    /// Every opted-in table, by name.
    pub tables: Vec<TableView>,
}

/// One opted-in table (`GET /tables/{name}`, and each element of `GET /tables`).
#[derive(Debug, Serialize)]
pub struct TableView {
    /// The table.
    pub table: String,
    /// `on` or `dry-run`.
    pub mode: Option<Mode>,
    /// `decided` (the functions would decide as `parts` says), `skipped` or `failed`.
    pub status: &'static str,
    /// Why it is skipped or failed (`null` when decided).
    pub reason: Option<String>,
    /// The table, then each GSI (empty unless decided).
    pub parts: Vec<PartView>,
    /// The table's override tags (key to value), as written.
    pub overrides: BTreeMap<String, String>,
    /// Its boosts, by id.
    pub boosts: Vec<BoostView>,
}

/// The table itself or one GSI.
#[derive(Debug, Serialize)]
pub struct PartView {
    /// `null` for the table, else the GSI.
    pub index: Option<String>,
    /// Decreases DynamoDB counts for this part in the current UTC day.
    pub decreases_today: u32,
    /// When the next decrease is allowed (equal to `at` when allowed now).
    pub next_decrease_at: String,
    /// Whether a decrease is allowed now.
    pub decrease_allowed_now: bool,
    /// Reads.
    pub read: DimensionView,
    /// Writes.
    pub write: DimensionView,
}

/// One dimension of a part.
#[derive(Debug, Serialize)]
pub struct DimensionView {
    /// Provisioned units/s now.
    pub provisioned: u64,
    /// Min after overrides.
    pub min: u64,
    /// Max after overrides and the table quota.
    pub max: u64,
    /// The floor the active boosts ask for (within min and max), `null` when none is active.
    pub boost: Option<u64>,
    /// What scale-up would decide now.
    pub scale_up: Verdict,
    /// What scale-down would decide now.
    pub scale_down: Verdict,
}

/// One function's decision.
#[derive(Debug, Serialize)]
pub struct Verdict {
    /// `keep`, `increase` or `decrease`.
    pub action: Action,
    /// Capacity after it.
    pub to: u64,
    /// Why, as in the functions' logs.
    pub reason: Reason,
}

impl From<&Decision> for Verdict {
    fn from(d: &Decision) -> Self {
        Self {
            action: d.action,
            to: d.to,
            reason: d.reason,
        }
    }
}

/// One boost.
#[derive(Debug, Serialize)]
pub struct BoostView {
    /// Its id.
    pub id: String,
    /// Its table.
    pub table: String,
    /// `null` for the table itself, else the GSI.
    pub index: Option<String>,
    /// Read units asked for.
    pub read: Option<u64>,
    /// Write units asked for.
    pub write: Option<u64>,
    /// When the traffic comes.
    pub from: String,
    /// When the floor ends.
    pub until: String,
    /// When the floor is in force from (`from` minus 5 minutes).
    pub active_from: String,
    /// `scheduled`, `active` or `expired` at the time of the answer.
    pub state: &'static str,
    /// What it is for.
    pub note: String,
    /// The tag that keeps it.
    pub tag: TagView,
}

/// A tag.
#[derive(Debug, Serialize)]
pub struct TagView {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// `GET /tables/{name}/boosts`.
#[derive(Debug, Serialize)]
pub struct BoostList {
    /// The boosts, by id.
    pub boosts: Vec<BoostView>,
}

/// What a settings change wrote.
#[derive(Debug, Serialize)]
pub struct WrittenView {
    /// The table.
    pub table: String,
    /// Tags set (new or changed values), key to value.
    pub set: BTreeMap<String, String>,
    /// Tag keys removed.
    pub removed: Vec<String>,
}

/// The view of a boost of `table` at `now`.
pub fn boost(config: &RunConfig, table: &str, b: &Boost, now: Timestamp) -> BoostView {
    BoostView {
        id: b.id.clone(),
        table: table.to_owned(),
        index: b.index.clone(),
        read: b.read,
        write: b.write,
        from: b.from.to_string(),
        until: b.until.to_string(),
        active_from: b.active_from().to_string(),
        state: b.state(now).as_str(),
        note: b.note.clone(),
        tag: TagView {
            key: boost::tag_key(&config.tag_key, &b.id),
            value: b.tag_value(),
        },
    }
}

/// The view of one table at `now`.
pub fn table(config: &RunConfig, now: Timestamp, t: &TableOutlook) -> TableView {
    match t {
        TableOutlook::Undecided(report) => {
            let (status, reason) = match &report.outcome {
                Outcome::Skipped { reason, detail } => {
                    ("skipped", format!("{}: {detail}", reason.as_str()))
                }
                Outcome::Failed { error } => ("failed", error.to_string()),
                _ => ("skipped", String::new()),
            };
            TableView {
                table: report.table.clone(),
                mode: report.mode,
                status,
                reason: Some(reason),
                parts: Vec::new(),
                overrides: BTreeMap::new(),
                boosts: Vec::new(),
            }
        }
        TableOutlook::Decided { prepared, up, down } => {
            let p = prepared;
            let mut parts = Vec::new();
            for (part, settings) in p.description.table_and_indexes.iter().zip(&p.settings) {
                let index = part.index.as_deref();
                let dimension = |d: Dimension| {
                    let state = match d {
                        Dimension::Read => &part.read,
                        Dimension::Write => &part.write,
                    };
                    let bounds = settings.bounds(d);
                    let up = outlook::decision(up, index, d);
                    let down = outlook::decision(down, index, d);
                    DimensionView {
                        provisioned: state.provisioned,
                        min: bounds.min,
                        max: bounds.max,
                        boost: up.and_then(|u| u.numbers.boost),
                        scale_up: up.map_or(
                            Verdict {
                                action: Action::Keep,
                                to: state.provisioned,
                                reason: Reason::NoData,
                            },
                            Verdict::from,
                        ),
                        scale_down: down.map_or(
                            Verdict {
                                action: Action::Keep,
                                to: state.provisioned,
                                reason: Reason::NoData,
                            },
                            Verdict::from,
                        ),
                    }
                };
                let budget = part.read.budget;
                let next = budget.next_allowed(now);
                parts.push(PartView {
                    index: part.index.clone(),
                    decreases_today: budget.used_today(now),
                    next_decrease_at: next.max(now).to_string(),
                    decrease_allowed_now: next <= now,
                    read: dimension(Dimension::Read),
                    write: dimension(Dimension::Write),
                });
            }
            let prefix = &config.tag_key;
            let overrides = p
                .tagged
                .tags
                .iter()
                .filter(|(k, _)| manage::is_override(prefix, k))
                .cloned()
                .collect();
            let mut boosts: Vec<BoostView> = p
                .tags
                .boosts
                .iter()
                .map(|b| boost(config, &p.description.name, b, now))
                .collect();
            boosts.sort_by(|a, b| a.id.cmp(&b.id));
            TableView {
                table: p.description.name.clone(),
                mode: Some(p.mode),
                status: "decided",
                reason: None,
                parts,
                overrides,
                boosts,
            }
        }
    }
}

/// The view of every opted-in table at `now`.
pub fn tables(config: &RunConfig, now: Timestamp, all: &[TableOutlook]) -> TablesView {
    TablesView {
        at: now.to_string(),
        tag_key: config.tag_key.clone(),
        tables: all.iter().map(|t| table(config, now, t)).collect(),
    }
}

/// What a settings change of `table` wrote.
pub fn written(table: &str, w: &Written) -> WrittenView {
    WrittenView {
        table: table.to_owned(),
        set: w.set.iter().cloned().collect(),
        removed: w.removed.clone(),
    }
}
