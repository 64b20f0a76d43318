//! `ddb-autoscaler advise`: per table, the cheapest way to run it, from its own traffic replayed
//! through the simulator.
//!
//! The command reuses `backtest`'s stages: for each table (every table carrying the opt-in tag
//! `on` or `dry-run`, or the `--table`s named) and each of its GSIs, both dimensions' CloudWatch
//! history over the last `--days` days (`history.rs`), its demand trace from the first minute
//! with data on (`demand.rs`; with less history than asked for it advises from what there is and
//! says how much that was), and its replay (`replay.rs`), every simulated policy starting
//! settled (at the capacity ours would set for the first minutes' peak, not at the table's
//! current one: the months after a change matter, not the hours spent lowering an
//! over-provisioned table): ours with the table's settings at the
//! deployed scale-down times (`--scale-down-hours`, default the template's 0,6,12,18 UTC) and at
//! the quota's pace (hourly), AWS target tracking (70%), on-demand with DynamoDB's
//! 2x-previous-peak rule (credited with the previous peak DynamoDB documents for a table that
//! switches: [`capacity_sim::advice::on_demand_initial_peak`]), and the clairvoyant bound. The
//! decisions are `capacity_sim::advice`'s; this module fetches and wires (`wire.rs`), and
//! renders (`render.rs`). In that order:
//! 1. **Table class and capacity mode**, per table (its GSIs share them): the cheapest of
//!    Standard or Standard-IA, provisioned with ours or on-demand, from the runs above and
//!    `DescribeTable`'s `TableSizeBytes` (plus each GSI's `IndexSizeBytes`), unless it saves less
//!    than `--min-saving` dollars a month over the table's current class and mode. The saving is
//!    also given against what the table actually cost (`actual`, as `backtest` computes it).
//!    DynamoDB's limits on switching modes and classes are checked and cited in
//!    `capacity_sim::advice` ([`capacity_sim::advice::MODE_SWITCH_RULE`]).
//! 2. **Scale-down schedule**, for the opted-in tables advised onto provisioned, together (the
//!    schedule is the stack's): the best four whole UTC hours a day by perfect foresight on what
//!    ours can lower to ([`capacity_sim::advice::lowerable`],
//!    [`capacity_sim::schedule::choose_daily_runs`], each dimension weighted by its price), then
//!    ours replayed at those times against the deployed ones and the hourly, quota-paced ones.
//!    The times are chosen on the same history they are scored on.
//! 3. **Reserved capacity**, for the tables advised onto Standard and provisioned: per dimension,
//!    ours' simulated capacity at the deployed times summed minute by minute over those tables
//!    (a reservation applies to the account's region as a whole), in the window they all have
//!    history for, above the existing reservations (`--reserved-rcu`, `--reserved-wcu`: no API
//!    we use can read them), for one and three years ([`capacity_sim::advice::reserve`]); and a
//!    `read-min`/`write-min` tag at each table's share of the 1-year reserved level where that is
//!    above its current minimum ([`capacity_sim::advice::shares`]).
//!
//! Prices are `capacity_sim::advice`'s named, dated constants (us-east-1), each overridable with
//! `--price NAME=USD`. Dollars are per month (730 hours) at the traffic of the history.
//!
//! Errors are `backtest`'s: no credentials or region, an unknown table, a named table that has not
//! opted in (`--ignore-opt-in` advises it with the deployment's defaults), no datapoint at all. A
//! table whose override tags are malformed is listed as failed and the command exits with status 1
//! after printing the rest.
//!
//! ## JSON (`--json`)
//! One object:
//! - `region`, `tag_key`, `start`, `end` (RFC 3339: the period asked for), `days` (asked for),
//!   `history_days` (the longest history found), `deployed_schedule` (`00:00, 06:00, ... UTC`),
//!   `min_saving_usd_month`, `prices` (name -> dollars, the names `--price` takes),
//!   `fetch` (`calls`, `datapoints`);
//! - `tables`: per table, `table`, `mode` (`on`, `dry-run`, `null` when not opted in), `billing`
//!   and `table_class` now (`provisioned`/`on-demand`, `STANDARD`/`STANDARD_INFREQUENT_ACCESS`),
//!   `size_bytes` (table and GSIs), `history_days`, `actual_usd_month`, `targets`, `options`,
//!   `recommendation`, `saving_vs_actual_usd_month`, `reservation_eligible`, `switch_note`;
//!   - `targets`: per table or GSI (`index`, `null` for the table) and `dimension`:
//!     `current_provisioned`, `min`, `max` (ours' bounds), `start`, `minutes` (the history
//!     used), `demand` (`total_units`, `peak`, `mean`, `known_minutes`, `gap_minutes`),
//!     `actual_source` (as `backtest`'s), `usd_month` and `throttled_pct`, each with `actual`,
//!     `on_demand`, `ours`, `ours_quota_paced`, `target_tracking`, `clairvoyant`;
//!     `ours_utilisation` (demand over ours' capacity), `break_even_utilisation` (below it
//!     on-demand is cheaper), `ours_capacity` (`min`, `max`, `last` units);
//!   - `options`: the four ways to run the table, each `class`, `mode`, `throughput_usd_month`,
//!     `storage_usd_month`, `usd_month`;
//!   - `recommendation`: `choice`, `current`, `cheapest` (options) and `saving_usd_month`
//!     (current - choice);
//! - `schedule` (`null` when no opted-in table is advised onto provisioned): `tables`,
//!   `targets`, `deployed`, `best_four`, `quota_paced`, each `schedule`, `cron`, `usd_month`,
//!   `saving_usd_month` (against the deployed times), `throttled_pct`; and `advice`;
//! - `reservations`: per dimension, `dimension`, `tables`, `start`, `minutes` (the window),
//!   `peak_units`, `mean_units`, and `terms`: one per term (1 and 3 years), each `years`,
//!   `existing_units`, `break_even_share`, `pay_off_level_units`, `blocks`, `units` (to buy),
//!   `held_share`, `upfront_usd`, `hourly_usd`, `without_usd_month`, `with_usd_month`,
//!   `saving_usd_month`;
//! - `min_tags`: `table`, `index`, `dimension`, `key`, `value`, `current_min`;
//! - `notes`: what a reader should know (fallbacks, shorter histories, skipped tables, rules).

mod render;
mod report;
mod wire;

use std::path::PathBuf;

use autoscaler_aws::aws::MAX_DATAPOINTS_PER_CALL;
use autoscaler_aws::table::{TableDescription, TaggedTable};
use capacity_sim::ScaleDownSchedule;
use capacity_sim::advice::{Prices, TableClass};
use scaling_policy::time::DAY_SECS;
use scaling_policy::{Dimension, TableTags, Timestamp};

use crate::account::{self, Aws, AwsArgs};
use crate::common::Error;
use crate::history::{self, History, MAX_DAYS};
use crate::output;

/// Arguments of `advise`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A table to advise (repeat for more); default: every table that opted in.
    #[arg(long = "table", value_name = "NAME")]
    tables: Vec<String>,
    /// Days of history, ending at the last complete minute (CloudWatch keeps 455).
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_DAYS)))]
    days: u32,
    /// Print JSON instead of the tables (stable fields, documented in crates/cli/src/advise/mod.rs).
    #[arg(long)]
    json: bool,
    /// Also draw demand, ours' simulated capacity and the reserved levels to this PNG file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Advise a named table that has not opted in, with the deployment's default settings.
    #[arg(long)]
    ignore_opt_in: bool,
    /// UTC hours of the deployed scale-down runs, comma-separated (the stack's ScaleDownSchedule).
    #[arg(long, value_delimiter = ',', default_value = "0,6,12,18",
          value_parser = clap::value_parser!(u32).range(0..=23))]
    scale_down_hours: Vec<u32>,
    /// RCU already reserved in this account and region (no API we use can read them).
    #[arg(long, value_name = "UNITS", default_value_t = 0)]
    reserved_rcu: u64,
    /// WCU already reserved in this account and region.
    #[arg(long, value_name = "UNITS", default_value_t = 0)]
    reserved_wcu: u64,
    /// Recommend switching a table's class or mode only when that saves at least this many
    /// dollars a month.
    #[arg(long, value_name = "USD", default_value_t = 1.0)]
    min_saving: f64,
    /// A price other than us-east-1's list price, in dollars (repeat for more): rcu-hour,
    /// wcu-hour, read-million, write-million, storage-gb-month, the same with ia- for
    /// Standard-IA, and reserved-1y-rcu-upfront, reserved-1y-rcu-hour, reserved-1y-wcu-upfront,
    /// reserved-1y-wcu-hour and the same with 3y (per block of 100 units).
    #[arg(long = "price", value_name = "NAME=USD", value_parser = parse_price)]
    prices: Vec<(String, f64)>,
    /// Datapoints one GetMetricData call may return (CloudWatch: 100,800); lower only to test
    /// the windowing.
    #[arg(long, hide = true, default_value_t = MAX_DATAPOINTS_PER_CALL)]
    max_datapoints_per_call: usize,
    #[command(flatten)]
    aws: AwsArgs,
}

/// `NAME=USD`.
fn parse_price(text: &str) -> Result<(String, f64), String> {
    let (name, usd) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=USD, got {text:?}"))?;
    let usd: f64 = usd
        .trim()
        .parse()
        .map_err(|_| format!("{usd:?} is not a number of dollars"))?;
    Ok((name.trim().to_owned(), usd))
}

/// What `DescribeTable` says about a table's storage and switches, beyond what the pipeline
/// reads (`autoscaler_aws::table::TableDescription` has neither; this is the adapter edge for
/// them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Storage {
    /// `TableSizeBytes` plus each GSI's `IndexSizeBytes` (updated by DynamoDB about every six
    /// hours).
    pub bytes: u64,
    /// `TableClassSummary.TableClass` (absent: Standard).
    pub class: TableClass,
    /// `BillingModeSummary.LastUpdateToPayPerRequestDateTime`.
    pub last_to_on_demand: Option<Timestamp>,
}

async fn storage(aws: &Aws, name: &str) -> Result<Storage, Error> {
    let out = aws
        .clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| account::aws_error(&e))?;
    let Some(table) = out.table() else {
        return Err(format!("DescribeTable of {name:?} returned no table").into());
    };
    let bytes = |b: Option<i64>| b.and_then(|b| u64::try_from(b).ok()).unwrap_or(0);
    let indexes: u64 = table
        .global_secondary_indexes()
        .iter()
        .map(|g| bytes(g.index_size_bytes()))
        .sum();
    Ok(Storage {
        bytes: bytes(table.table_size_bytes()) + indexes,
        class: TableClass::from_api(
            table
                .table_class_summary()
                .and_then(|c| c.table_class())
                .map(|c| c.as_str()),
        ),
        last_to_on_demand: table
            .billing_mode_summary()
            .and_then(|b| b.last_update_to_pay_per_request_date_time())
            .map(|t| Timestamp::from_unix(t.secs())),
    })
}

/// One table to advise, as found.
pub(crate) struct Found {
    pub name: String,
    pub description: TableDescription,
    pub storage: Storage,
    pub tags: TableTags,
    /// Its history: one per table or GSI, the table first.
    pub histories: Vec<(Option<String>, History)>,
}

/// The tables to advise: the named ones (each must exist and, unless `ignore_opt_in`, have
/// opted in), or every table that opted in. Tables skipped on the way are noted.
async fn select(
    aws: &Aws,
    args: &Args,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, Vec<(String, String)>)>, Error> {
    let key = &aws.config.tag_key;
    let discovered = autoscaler_aws::aws::discover(&aws.clients, key)
        .await
        .map_err(|e| account::aws_error(&e))?;
    for (name, e) in &discovered.failed {
        notes.push(format!(
            "{name}: could not tell whether it opted in: {}",
            autoscaler_aws::error::chain(e)
        ));
    }
    let tagged: Vec<TaggedTable> = discovered.tables;
    let mode_of =
        |tags: &[(String, String)]| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if args.tables.is_empty() {
        let mut chosen = Vec::new();
        for t in tagged {
            match mode_of(&t.tags).as_deref() {
                Some("on" | "dry-run") => chosen.push((t.name, t.tags)),
                value => notes.push(format!(
                    "skipped {}: not opted in (tag {key} = {:?})",
                    t.name,
                    value.unwrap_or_default()
                )),
            }
        }
        if chosen.is_empty() {
            return Err(format!(
                "no table in region {} has opted in (tag {key}=on or {key}=dry-run): pass --table NAME, with --ignore-opt-in for a table that has not",
                aws.region
            )
            .into());
        }
        return Ok(chosen);
    }
    let mut chosen = Vec::new();
    for name in &args.tables {
        if chosen.iter().any(|(n, _)| n == name) {
            continue;
        }
        let tags = tagged
            .iter()
            .find(|t| t.name == *name)
            .map(|t| t.tags.clone())
            .unwrap_or_default();
        if !matches!(mode_of(&tags).as_deref(), Some("on" | "dry-run")) {
            // Unknown tables are errors of their own, before the opt-in.
            if let Err(e) = autoscaler_aws::aws::describe(&aws.clients, name).await {
                return Err(if e.kind() == autoscaler_aws::ErrorKind::NotFound {
                    account::unknown_table(name, &aws.region)
                } else {
                    account::aws_error(&e)
                });
            }
            if !args.ignore_opt_in {
                return Err(format!(
                    "{}; to advise it anyway, with the default settings, pass --ignore-opt-in",
                    account::not_opted_in(name, key, mode_of(&tags).as_deref())
                )
                .into());
            }
        }
        chosen.push((name.clone(), tags));
    }
    Ok(chosen)
}

/// Describes `name` and fetches the history of the table and each GSI.
async fn find(
    aws: &Aws,
    args: &Args,
    name: &str,
    tags: TableTags,
    period: (Timestamp, Timestamp, Timestamp),
) -> Result<Found, Error> {
    let (start, end, now) = period;
    let description = match autoscaler_aws::aws::describe(&aws.clients, name).await {
        Ok(d) => d,
        Err(e) if e.kind() == autoscaler_aws::ErrorKind::NotFound => {
            return Err(account::unknown_table(name, &aws.region));
        }
        Err(e) => return Err(account::aws_error(&e)),
    };
    let storage = storage(aws, name).await?;
    let mut histories = Vec::new();
    for part in &description.table_and_indexes {
        let history = history::fetch(
            &aws.clients,
            &history::Request {
                table: name,
                index: part.index.as_deref(),
                dimensions: &Dimension::BOTH,
                start,
                end,
                now,
                max_datapoints_per_call: args.max_datapoints_per_call,
            },
        )
        .await
        .map_err(|e| account::aws_error(&e))?;
        histories.push((part.index.clone(), history));
    }
    Ok(Found {
        name: name.to_owned(),
        description,
        storage,
        tags,
        histories,
    })
}

/// Runs `advise`.
pub async fn run(args: Args) -> Result<(), Error> {
    let mut prices = Prices::default();
    for (name, usd) in &args.prices {
        prices.set(name, *usd)?;
    }
    if !(args.min_saving.is_finite() && args.min_saving >= 0.0) {
        return Err(format!(
            "--min-saving {}: expected dollars a month, at least 0",
            args.min_saving
        )
        .into());
    }
    let deployed = ScaleDownSchedule::at_hours(&args.scale_down_hours)?;
    let aws = args.aws.connect().await?;
    let now = autoscaler_aws::now();
    let end = now.floor_minute();
    let start = end.plus_secs(-DAY_SECS * i64::from(args.days));

    let mut notes = Vec::new();
    let selected = select(&aws, &args, &mut notes).await?;
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for (name, tags) in &selected {
        // A malformed override is an error for that table alone.
        let parsed = match TableTags::parse(
            &aws.config.tag_key,
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ) {
            Ok(p) => p,
            Err(e) => {
                failed.push(format!("table {name:?}: {e}"));
                continue;
            }
        };
        found.push(find(&aws, &args, name, parsed, (start, end, now)).await?);
    }
    let setup = wire::Setup {
        defaults: &aws.config.defaults,
        tag_key: &aws.config.tag_key,
        prices: &prices,
        deployed: &deployed,
        reserved: [args.reserved_rcu, args.reserved_wcu],
        min_saving: args.min_saving,
        now,
    };
    let advised = wire::advise(&setup, &found, &mut notes, &mut failed)?;
    if advised.tables.is_empty() {
        if !failed.is_empty() {
            return Err(failed.join("; ").into());
        }
        let what = match selected.as_slice() {
            [(name, _)] => name.clone(),
            _ => format!("any of the {} tables", selected.len()),
        };
        return Err(format!(
            "CloudWatch has no consumed-capacity or throttle datapoint for {what} in the last {} days (in region {}): nothing to advise",
            args.days, aws.region
        )
        .into());
    }
    for f in &failed {
        notes.push(format!("failed: {f}"));
    }
    let report = report::report(
        &setup,
        &advised,
        &found,
        wire::Period {
            region: aws.region.clone(),
            start,
            end,
            days: args.days,
        },
        notes,
    );
    if let Some(path) = &args.plot {
        render::plot(path, &report, &advised)?;
    }
    if args.json {
        output::emit(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        output::emit(&render::text(&report))?;
    }
    if let Some(path) = &args.plot {
        eprintln!("plot: {}", path.display());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} table(s) failed: {}", failed.len(), failed.join("; ")).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_as_name_equals_dollars() {
        assert_eq!(
            parse_price("rcu-hour=0.000147"),
            Ok(("rcu-hour".to_owned(), 0.000_147))
        );
        assert!(parse_price("rcu-hour").unwrap_err().contains("NAME=USD"));
        assert!(
            parse_price("rcu-hour=cheap")
                .unwrap_err()
                .contains("dollars")
        );
    }
}
