//! What the functions would decide now, without applying anything: the building blocks of a run
//! ([`run::discover_and_prepare`], [`aws::fetch_usage`], [`run::decisions`]) put together for
//! the views that show decisions: the management API's `GET /tables` and `GET /tables/{name}`,
//! and the CLI's `status` ([`measure`]).
//!
//! The functions keep no state, so a view computes the decisions exactly as a run would at
//! `now`, in both directions, from one `GetMetricData` window long enough for either.

use scaling_policy::{Decision, Dimension, Mode, TableTags, Timestamp};

use crate::aws::{self, Clients, Measured};
use crate::env::RunConfig;
use crate::error::Error;
use crate::run::{
    self, Direction, Discovery, Outcome, Prepared, TableOrIndexDecision, TableReport,
};
use crate::table::TaggedTable;

/// One opted-in table as the functions see it now.
#[derive(Clone, Debug)]
pub enum TableOutlook {
    /// Ready for decisions, with what scale-up and scale-down would decide now.
    Decided {
        /// The table, described and with its settings and boosts.
        prepared: Box<Prepared>,
        /// Scale-up's decisions (table, then each GSI; read, then write).
        up: Vec<TableOrIndexDecision>,
        /// Scale-down's decisions, in the same order.
        down: Vec<TableOrIndexDecision>,
    },
    /// Skipped (on-demand, not `ACTIVE`...) or failed (bad tags, AWS errors): its report says
    /// why.
    Undecided(TableReport),
}

impl TableOutlook {
    /// The table's name.
    pub fn table(&self) -> &str {
        match self {
            TableOutlook::Decided { prepared, .. } => &prepared.description.name,
            TableOutlook::Undecided(r) => &r.table,
        }
    }
}

/// The decision about `index` (`None`: the table) in `dimension` among `decisions`.
pub fn decision<'a>(
    decisions: &'a [TableOrIndexDecision],
    index: Option<&str>,
    dimension: Dimension,
) -> Option<&'a Decision> {
    decisions
        .iter()
        .find(|d| d.index.as_deref() == index && d.decision.dimension == dimension)
        .map(|d| &d.decision)
}

/// The usage every decision about `prepared` needs at `now`: one fetch over the longest window
/// of either direction, and at least `at_least_minutes` (for figures of their own).
pub async fn measure(
    clients: &Clients,
    prepared: &[Prepared],
    at_least_minutes: u32,
    now: Timestamp,
) -> Measured {
    let window = prepared
        .iter()
        .flat_map(|p| &p.settings)
        .map(|s| s.up_window_minutes.max(s.down_window_minutes))
        .fold(at_least_minutes.max(1), u32::max);
    let keys = run::series_keys(prepared);
    if keys.is_empty() {
        return Measured::new();
    }
    let end = now.floor_minute();
    aws::fetch_usage(clients, &keys, end.plus_secs(-60 * i64::from(window)), end).await
}

fn decide(p: Prepared, usage: &Measured, now: Timestamp) -> TableOutlook {
    let both = run::decisions(&p, usage, Direction::Up, now)
        .and_then(|up| Ok((up, run::decisions(&p, usage, Direction::Down, now)?)));
    match both {
        Ok((up, down)) => TableOutlook::Decided {
            prepared: Box::new(p),
            up,
            down,
        },
        Err(e) => TableOutlook::Undecided(TableReport {
            table: p.description.name.clone(),
            mode: Some(p.mode),
            outcome: Outcome::Failed { error: e.into() },
            decisions: Vec::new(),
            left_alone: Vec::new(),
        }),
    }
}

/// Every opted-in table (`on` or `dry-run`), by name. Errors only when the tables cannot be
/// discovered at all.
pub async fn all(
    clients: &Clients,
    config: &RunConfig,
    now: Timestamp,
) -> Result<Vec<TableOutlook>, Error> {
    let Discovery { prepared, reports } = run::discover_and_prepare(clients, config).await?;
    let usage = measure(clients, &prepared, 1, now).await;
    let mut out: Vec<TableOutlook> = prepared
        .into_iter()
        .map(|p| decide(p, &usage, now))
        .chain(
            reports
                .into_iter()
                .filter(|r| r.mode.is_some())
                .map(TableOutlook::Undecided),
        )
        .collect();
    out.sort_by(|a, b| a.table().cmp(b.table()));
    Ok(out)
}

/// A table with all its tags, by name: an error of kind [`crate::ErrorKind::NotFound`] when it does
/// not exist.
pub async fn tagged_table(
    clients: &Clients,
    name: &str,
) -> Result<(TaggedTable, crate::table::TableDescription), Error> {
    let description = aws::describe(clients, name).await?;
    let tags = crate::tags::list(clients, name, &description.arn).await?;
    Ok((
        TaggedTable {
            name: name.to_owned(),
            arn: description.arn.clone(),
            tags,
        },
        description,
    ))
}

/// The opt-in mode of `table`, or [`Error::NotOptedIn`].
pub fn mode(config: &RunConfig, table: &TaggedTable) -> Result<Mode, Error> {
    let tags = table.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    TableTags::mode_of(&config.tag_key, tags).ok_or_else(|| Error::NotOptedIn {
        table: table.name.clone(),
        tag_key: config.tag_key.clone(),
        value: table
            .tags
            .iter()
            .find(|(k, _)| *k == config.tag_key)
            .map(|(_, v)| v.clone()),
    })
}

/// One table, by name. Errors when it does not exist (kind [`crate::ErrorKind::NotFound`]) or has
/// not opted in ([`Error::NotOptedIn`]); a table the functions would skip or fail on is an
/// [`TableOutlook::Undecided`] instead.
pub async fn one(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
    now: Timestamp,
) -> Result<TableOutlook, Error> {
    let (table, description) = tagged_table(clients, name).await?;
    let mode = mode(config, &table)?;
    let tags = TableTags::parse(
        &config.tag_key,
        table.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let tags = match tags {
        Ok(tags) => tags,
        Err(source) => {
            return Ok(TableOutlook::Undecided(TableReport {
                table: name.to_owned(),
                mode: Some(mode),
                outcome: Outcome::Failed {
                    error: Error::Config {
                        table: name.to_owned(),
                        source,
                    }
                    .into(),
                },
                decisions: Vec::new(),
                left_alone: Vec::new(),
            }));
        }
    };
    // What the functions would know: the quotas, and which parts Application Auto Scaling
    // manages (unknown: decided on, as the functions do, and flagged).
    let (limits, autoscaling) = tokio::join!(aws::limits(clients), aws::scalable_targets(clients));
    let (autoscaled, unknown): (Vec<Option<String>>, _) = match autoscaling {
        Ok(targets) => (
            description
                .table_and_indexes
                .iter()
                .filter(|t| targets.contains(&(name.to_owned(), t.index.clone())))
                .map(|t| t.index.clone())
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(std::sync::Arc::new(e))),
    };
    let candidate = run::Candidate {
        table,
        tags,
        mode,
        description,
        autoscaled: &autoscaled,
        autoscaling_unknown: unknown,
    };
    match run::prepare(config, limits, candidate) {
        Ok(p) => {
            let usage = measure(clients, std::slice::from_ref(&p), 1, now).await;
            Ok(decide(p, &usage, now))
        }
        Err(report) => Ok(TableOutlook::Undecided(report)),
    }
}
