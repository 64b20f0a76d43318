//! The per-table lease that serialises the two functions, kept in a small on-demand DynamoDB
//! table of the stack (`AUTOSCALER_LEASE_TABLE`), and the little state that rides along with it.
//!
//! **The race it closes.** Scale-up runs every minute, so it overlaps every scale-down run.
//! `UpdateTable` has no condition and must carry both dimensions of a target: a run that
//! described a table, decided, and then writes its change sends the *other* dimension as it was
//! described. If the other function's update landed in between, it is silently undone
//! (scale-down reverting a fresh increase and spending a decrease on it; scale-up undoing a
//! decrease that already used the quota). Re-reading before the call narrows that window but
//! cannot close it.
//!
//! **The design.** Before changing a table, a run takes the table's lease: one conditional
//! `UpdateItem` on the item keyed by the table's name, which succeeds only when no lease is held
//! or the one held has expired (`attribute_not_exists(owner) OR expires < now`, or it is this
//! run's own: the SDK retries a call whose answer was lost, so both calls are idempotent). Under
//! the lease
//! it describes the table again and decides again on that description (the first, unleased
//! describe only picks the tables worth a lease, so that a run over thousands of unchanged tables
//! writes nothing), sends `UpdateTable`, and releases the lease with a conditional `UpdateItem`
//! (`owner = me`, or no owner: released already) that also records what it wrote. So the describe an update is computed from
//! and the update itself are, for each table, inside one lease: the other function either ran
//! entirely before (and its update is in our describe) or waits for the next run. A run that
//! finds the lease held skips the table (`lease_held`) until its next run.
//!
//! **Why this is as strong as needed.**
//! - *A run that crashes* (killed at its timeout, out of memory) never releases: its lease
//!   expires [`LEASE_SECS`] after it was taken, and the table is skipped until then (at most two
//!   scale-up runs). The DynamoDB TTL on the item (`ttl`) only cleans up idle items days later;
//!   correctness never depends on TTL, whose deletions are not timely.
//! - *The lease expiring mid-run* cannot happen to a live run: a function's timeout (50 s) is far
//!   shorter than [`LEASE_SECS`] (120 s), and before `UpdateTable` the holder checks that at
//!   least [`SAFETY_SECS`] of its lease are left by its own clock (else it skips the table). If it
//!   did happen (a run held up for minutes), the release would find another owner and report
//!   the table failed ([`Error::LeaseLost`]) so that the alarm says so.
//! - *Clock skew.* Expiry is written and compared in each writer's own clock. Another run takes
//!   over only when its clock is past the holder's expiry: with skew `e`, after `LEASE_SECS - e`
//!   real seconds, still after any live holder is done as long as `e` stays under the 70 s
//!   between the timeout and the lease. Lambda's clocks are NTP-synchronised to milliseconds.
//! - *A describe that lags an update.* `DescribeTable` is eventually consistent. The release
//!   records the capacities written and when ([`Written`]); the next holder refuses to act on a
//!   description that shows neither those capacities nor a change made since
//!   ([`is_stale`]: skipped as `stale_description`, retried next run).
//!
//! The item also keeps the table's increases of the last hour, for the runaway guard
//! ([`scaling_policy::runaway`]).
//!
//! Without a lease table (the CLI, which never applies; tests that run one function) runs are
//! not serialised and keep no increase history.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use scaling_policy::Timestamp;

use crate::aws::Clients;
use crate::error::{BoxError, Error};
use crate::table::{CapacityChange, TableDescription};

/// How long a lease lasts: well beyond a function's timeout (see the module header).
pub const LEASE_SECS: i64 = 120;

/// A holder acts only while at least this much of its lease is left.
pub const SAFETY_SECS: i64 = 30;

/// How long an idle item stays before DynamoDB's TTL may delete it (two days).
pub const ITEM_TTL_SECS: i64 = 2 * 86_400;

/// The item's attributes.
mod attr {
    pub const KEY: &str = "table_name";
    pub const OWNER: &str = "owner";
    pub const EXPIRES: &str = "expires";
    pub const TTL: &str = "ttl";
    pub const WRITTEN_AT: &str = "written_at";
    pub const WRITTEN: &str = "written";
    pub const INCREASES: &str = "increases";
}

/// The capacities the last holder wrote, and when it sent them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// When `UpdateTable` was sent.
    pub at: Timestamp,
    /// Every target it changed, both dimensions.
    pub capacities: Vec<CapacityChange>,
}

/// What the lease item keeps besides the lease.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseState {
    /// The last accepted `UpdateTable`, if any.
    pub written: Option<Written>,
    /// The table's increases (start times of the `UpdateTable` calls that raised anything) of
    /// the last hour.
    pub increases: Vec<Timestamp>,
}

/// A lease held by this run.
#[derive(Clone, Debug)]
pub struct Lease {
    /// The lease table.
    pub lease_table: String,
    /// The managed table.
    pub table: String,
    /// This run's id.
    pub owner: String,
    /// When it expires, by this run's clock.
    pub expires: Timestamp,
    /// What the item kept.
    pub state: LeaseState,
}

impl Lease {
    /// Whether enough of the lease is left at `now` to act on it.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.expires.secs_since(now) >= SAFETY_SECS
    }
}

/// The outcome of [`acquire`].
#[derive(Clone, Debug)]
pub enum Acquired {
    /// The lease is ours.
    Ours(Lease),
    /// Another run holds it, until then (as that run wrote it).
    Held {
        /// Its expiry, if the item said.
        until: Option<Timestamp>,
    },
}

fn lease_error(table: &str, operation: &'static str, source: BoxError) -> Error {
    Error::Lease {
        table: table.to_owned(),
        operation,
        source,
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

/// Takes the lease of `table` in `lease_table` for `owner` at `now`, unless another run holds it.
pub async fn acquire(
    clients: &Clients,
    lease_table: &str,
    table: &str,
    owner: &str,
    now: Timestamp,
) -> Result<Acquired, Error> {
    let expires = now.plus_secs(LEASE_SECS);
    let out = clients
        .dynamodb
        .update_item()
        .table_name(lease_table)
        .key(attr::KEY, AttributeValue::S(table.to_owned()))
        .update_expression("SET #owner = :owner, #expires = :expires, #ttl = :ttl")
        // Ours already: an attempt the SDK retried after its answer was lost.
        .condition_expression("attribute_not_exists(#owner) OR #expires < :now OR #owner = :owner")
        .expression_attribute_names("#owner", attr::OWNER)
        .expression_attribute_names("#expires", attr::EXPIRES)
        .expression_attribute_names("#ttl", attr::TTL)
        .expression_attribute_values(":owner", AttributeValue::S(owner.to_owned()))
        .expression_attribute_values(":expires", number(expires.unix()))
        .expression_attribute_values(":ttl", number(now.unix() + ITEM_TTL_SECS))
        .expression_attribute_values(":now", number(now.unix()))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match out {
        Ok(out) => {
            let state = parse_state(out.attributes().unwrap_or(&HashMap::new()))
                .map_err(|what| lease_error(table, "UpdateItem (acquire)", what.into()))?;
            Ok(Acquired::Ours(Lease {
                lease_table: lease_table.to_owned(),
                table: table.to_owned(),
                owner: owner.to_owned(),
                expires,
                state,
            }))
        }
        Err(e) => {
            if let Some(
                aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(held),
            ) = e.as_service_error()
            {
                let until = held
                    .item()
                    .and_then(|item| item.get(attr::EXPIRES))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .map(Timestamp::from_unix);
                return Ok(Acquired::Held { until });
            }
            Err(lease_error(table, "UpdateItem (acquire)", Box::new(e)))
        }
    }
}

/// Releases `lease`, recording `state` in its item (what was written, the increases).
pub async fn release(clients: &Clients, lease: &Lease, state: &LeaseState) -> Result<(), Error> {
    let mut request = clients
        .dynamodb
        .update_item()
        .table_name(&lease.lease_table)
        .key(attr::KEY, AttributeValue::S(lease.table.clone()))
        // Released already: an attempt the SDK retried after its answer was lost.
        .condition_expression("#owner = :owner OR attribute_not_exists(#owner)")
        .expression_attribute_names("#owner", attr::OWNER)
        .expression_attribute_names("#expires", attr::EXPIRES)
        .expression_attribute_names("#increases", attr::INCREASES)
        .expression_attribute_values(":owner", AttributeValue::S(lease.owner.clone()))
        .expression_attribute_values(
            ":increases",
            AttributeValue::L(state.increases.iter().map(|t| number(t.unix())).collect()),
        );
    let mut set = vec!["#increases = :increases"];
    if let Some(w) = &state.written {
        set.push("#written_at = :written_at");
        set.push("#written = :written");
        request = request
            .expression_attribute_names("#written_at", attr::WRITTEN_AT)
            .expression_attribute_names("#written", attr::WRITTEN)
            .expression_attribute_values(":written_at", number(w.at.unix()))
            .expression_attribute_values(":written", written_value(&w.capacities));
    }
    let out = request
        .update_expression(format!("SET {} REMOVE #owner, #expires", set.join(", ")))
        .send()
        .await;
    match out {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Err(Error::LeaseLost {
                table: lease.table.clone(),
            })
        }
        Err(e) => Err(lease_error(
            &lease.table,
            "UpdateItem (release)",
            Box::new(e),
        )),
    }
}

/// The key of the table itself in `written` (an index name cannot contain `#`; DynamoDB does
/// not take an empty one).
const TABLE_KEY: &str = "#table";

/// `written`: a map from target ([`TABLE_KEY`] for the table, else the index) to
/// `[read, write]`.
fn written_value(capacities: &[CapacityChange]) -> AttributeValue {
    AttributeValue::M(
        capacities
            .iter()
            .map(|c| {
                let units = |u: u64| AttributeValue::N(u.to_string());
                (
                    c.index.clone().unwrap_or_else(|| TABLE_KEY.to_owned()),
                    AttributeValue::L(vec![units(c.read), units(c.write)]),
                )
            })
            .collect(),
    )
}

/// The state kept in an item; `Err` says what does not parse.
fn parse_state(item: &HashMap<String, AttributeValue>) -> Result<LeaseState, String> {
    let num = |v: &AttributeValue, what: &str| -> Result<i64, String> {
        v.as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{what} is not a number: {v:?}"))
    };
    let increases = match item.get(attr::INCREASES) {
        None => Vec::new(),
        Some(v) => v
            .as_l()
            .map_err(|_| format!("{} is not a list", attr::INCREASES))?
            .iter()
            .map(|t| num(t, attr::INCREASES).map(Timestamp::from_unix))
            .collect::<Result<_, _>>()?,
    };
    let written = match (item.get(attr::WRITTEN_AT), item.get(attr::WRITTEN)) {
        (Some(at), Some(targets)) => {
            let at = Timestamp::from_unix(num(at, attr::WRITTEN_AT)?);
            let targets = targets
                .as_m()
                .map_err(|_| format!("{} is not a map", attr::WRITTEN))?;
            let mut capacities = Vec::new();
            for (target, units) in targets {
                let units =
                    units.as_l().ok().filter(|l| l.len() == 2).ok_or_else(|| {
                        format!("{}[{target}] is not [read, write]", attr::WRITTEN)
                    })?;
                let unit = |v| {
                    num(v, attr::WRITTEN).and_then(|n| u64::try_from(n).map_err(|e| e.to_string()))
                };
                capacities.push(CapacityChange {
                    index: (target != TABLE_KEY).then(|| target.clone()),
                    read: unit(&units[0])?,
                    write: unit(&units[1])?,
                });
            }
            capacities.sort_by(|a, b| a.index.cmp(&b.index));
            Some(Written { at, capacities })
        }
        _ => None,
    };
    Ok(LeaseState { written, increases })
}

/// Whether `description` may predate the last update written under the lease: some target it
/// changed shows neither the capacities written nor a change (increase or decrease) at or after
/// the moment it was sent. Acting on such a description could write stale values back.
pub fn is_stale(written: &Written, description: &TableDescription) -> bool {
    written.capacities.iter().any(|c| {
        let Some(t) = description.target(c.index.as_deref()) else {
            // The index is gone: nothing of it to write back.
            return false;
        };
        if t.read.provisioned == c.read && t.write.provisioned == c.write {
            return false;
        }
        let changed = [
            t.read.last_increase,
            t.read.budget.last_decrease,
            t.write.last_increase,
            t.write.budget.last_decrease,
        ]
        .into_iter()
        .flatten()
        .max();
        changed.is_none_or(|at| at < written.at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Billing, Status, TableOrIndex};
    use scaling_policy::{DecreaseBudget, DimensionState};

    fn description(read: u64, write: u64, changed: Option<i64>) -> TableDescription {
        let state = |provisioned| DimensionState {
            provisioned,
            budget: DecreaseBudget::default(),
            last_increase: changed.map(Timestamp::from_unix),
        };
        TableDescription {
            name: "orders".into(),
            arn: "arn:aws:dynamodb:us-east-1:123456789012:table/orders".into(),
            billing: Billing::Provisioned,
            table_and_indexes: vec![TableOrIndex {
                index: None,
                status: Status::Active,
                read: state(read),
                write: state(write),
            }],
            replicas: Vec::new(),
        }
    }

    #[test]
    fn a_description_without_the_last_write_is_stale() {
        let written = Written {
            at: Timestamp::from_unix(1_000),
            capacities: vec![CapacityChange {
                index: None,
                read: 20,
                write: 10,
            }],
        };
        assert!(!is_stale(&written, &description(20, 10, None)), "shows it");
        assert!(
            is_stale(&written, &description(10, 10, None)),
            "predates it"
        );
        assert!(is_stale(&written, &description(10, 10, Some(900))));
        assert!(
            !is_stale(&written, &description(30, 10, Some(1_005))),
            "someone changed it since: that is the table's state now"
        );
    }

    #[test]
    fn the_state_round_trips_through_the_item() {
        let capacities = vec![
            CapacityChange {
                index: None,
                read: 20,
                write: 10,
            },
            CapacityChange {
                index: Some("by-user".into()),
                read: 5,
                write: 7,
            },
        ];
        let mut item = HashMap::new();
        item.insert(attr::WRITTEN_AT.to_owned(), number(1_000));
        item.insert(attr::WRITTEN.to_owned(), written_value(&capacities));
        item.insert(
            attr::INCREASES.to_owned(),
            AttributeValue::L(vec![number(900), number(1_000)]),
        );
        let state = parse_state(&item).unwrap();
        assert_eq!(
            state.written,
            Some(Written {
                at: Timestamp::from_unix(1_000),
                capacities
            })
        );
        assert_eq!(
            state.increases,
            vec![Timestamp::from_unix(900), Timestamp::from_unix(1_000)]
        );
        assert_eq!(parse_state(&HashMap::new()).unwrap(), LeaseState::default());
        item.insert(attr::INCREASES.to_owned(), AttributeValue::S("x".into()));
        assert!(parse_state(&item).unwrap_err().contains("increases"));
    }
}
