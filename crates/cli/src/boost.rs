//! `ddb-autoscaler boost`: announce an event on a table (a timed capacity floor), list a table's
//! boosts, remove one. The same thing as the management API's `/tables/{name}/boosts`, through
//! the same code (`autoscaler_aws::manage`: the table must have opted in, the boost is checked
//! against its fields, the table's max and the account limit, the five-boost and 50-tag limits),
//! written as a tag with the credentials of the AWS configuration. Scale-up raises the table (or
//! GSI) to the floor from five minutes before `--from`; scale-down never lowers below it until
//! `--until`; the scale-up run then removes the expired tag.
//!
//! `--json` prints what the API answers (`Boost`, or `{"boosts": [...]}` for `list`, as in
//! `functions/api/openapi.yaml`). Exit status 1 with a message naming the table or the field for
//! anything refused.

use std::fmt::Write as _;

use autoscaler_aws::manage;
use scaling_policy::{Boost, Timestamp};

use crate::account::{self, AwsArgs};
use crate::common::Error;
use crate::output;

/// Arguments of `boost`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// Print JSON (as the management API answers) instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Add a boost: at least --read or --write units from --from until --until (RFC 3339).
    Add {
        /// The table.
        #[arg(long, value_name = "NAME")]
        table: String,
        /// A GSI of the table (default: the table itself).
        #[arg(long, value_name = "GSI")]
        index: Option<String>,
        /// Read units to hold.
        #[arg(long, value_name = "UNITS")]
        read: Option<u64>,
        /// Write units to hold.
        #[arg(long, value_name = "UNITS")]
        write: Option<u64>,
        /// When the traffic comes, e.g. 2026-12-01T14:00:00Z (in force 5 minutes earlier).
        #[arg(long, value_name = "TIME", value_parser = rfc3339)]
        from: Timestamp,
        /// When the floor ends.
        #[arg(long, value_name = "TIME", value_parser = rfc3339)]
        until: Timestamp,
        /// What it is for (letters, digits, spaces and _ . : / = + - @).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List a table's boosts.
    List {
        /// The table.
        #[arg(long, value_name = "NAME")]
        table: String,
    },
    /// Remove a boost.
    Remove {
        /// The table.
        #[arg(long, value_name = "NAME")]
        table: String,
        /// The boost's id (from add or list).
        #[arg(long)]
        id: String,
    },
}

fn rfc3339(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time such as 2026-12-01T14:00:00Z"))
}

/// One boost on a line: `id (GSI x): write 2000 from .. until .. (in force from .., state) - note`
/// (`status` prints its boosts so too).
pub fn describe(b: &Boost, now: Timestamp) -> String {
    let part = b
        .index
        .as_deref()
        .map_or_else(String::new, |i| format!(" (GSI {i})"));
    let units: Vec<String> = [("read", b.read), ("write", b.write)]
        .iter()
        .filter_map(|(d, u)| u.map(|u| format!("{d} {u}")))
        .collect();
    let note = if b.note.is_empty() {
        String::new()
    } else {
        format!(" - {}", b.note)
    };
    format!(
        "{}{part}: {} from {} until {} (in force from {}, {}){note}",
        b.id,
        units.join(", "),
        b.from,
        b.until,
        b.active_from(),
        b.state(now).as_str(),
    )
}

/// Runs `boost`.
pub async fn run(args: Args) -> Result<(), Error> {
    let aws = args.aws.connect().await?;
    let (clients, config) = (&aws.clients, &aws.config);
    let now = autoscaler_aws::now();
    let by = format!("ddb-autoscaler CLI (region {})", aws.region);
    let fail = |e: autoscaler_aws::Error| account::aws_error(&e);
    let (table, boosts, verb) = match args.action {
        Action::Add {
            table,
            index,
            read,
            write,
            from,
            until,
            note,
        } => {
            let b = Boost {
                id: manage::new_boost_id(),
                index,
                read,
                write,
                from,
                until,
                note,
            };
            manage::add_boost(clients, config, &table, &b, now, &by)
                .await
                .map_err(fail)?;
            (table, vec![b], Some("added"))
        }
        Action::List { table } => {
            let boosts = manage::boosts(clients, config, &table)
                .await
                .map_err(fail)?;
            (table, boosts, None)
        }
        Action::Remove { table, id } => {
            let b = manage::remove_boost(clients, config, &table, &id, &by)
                .await
                .map_err(fail)?;
            (table, vec![b], Some("removed"))
        }
    };
    if args.json {
        let views: Vec<_> = boosts
            .iter()
            .map(|b| api::views::boost(config, &table, b, now))
            .collect();
        let text = match (verb, views.as_slice()) {
            (Some(_), [one]) => serde_json::to_string_pretty(one)?,
            _ => serde_json::to_string_pretty(&api::views::BoostList { boosts: views })?,
        };
        return output::emit(&(text + "\n"));
    }
    let mut out = String::new();
    match verb {
        Some(verb) => {
            for b in &boosts {
                let _ = writeln!(out, "{verb} boost on {table}: {}", describe(b, now));
            }
        }
        None if boosts.is_empty() => {
            let _ = writeln!(out, "{table} has no boosts");
        }
        None => {
            let _ = writeln!(out, "boosts of {table} at {now}:");
            for b in &boosts {
                let _ = writeln!(out, "  {}", describe(b, now));
            }
        }
    }
    output::emit(&out)
}
