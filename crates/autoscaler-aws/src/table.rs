//! The pipeline's own picture of a table, converted from SDK types at the edge (`aws.rs`).
//!
//! A table and each of its GSIs carry their own capacity, status and decrease quota: each is a
//! [`TableOrIndex`] (not to be confused with the *target* utilisation of the settings).

use std::fmt;

use scaling_policy::{DimensionState, Timestamp};

/// A table that carries the opt-in tag key (whatever its value).
#[derive(Clone, Debug, PartialEq)]
pub struct TaggedTable {
    /// Table name.
    pub name: String,
    /// Table ARN.
    pub arn: String,
    /// All its tags, as (key, value).
    pub tags: Vec<(String, String)>,
}

/// How the table is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Billing {
    /// Provisioned capacity: ours to manage.
    Provisioned,
    /// On-demand: nothing to manage.
    OnDemand,
}

/// The status of a table or GSI, as `DescribeTable` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// `ACTIVE`: its capacity can be changed.
    Active,
    /// Anything else (`CREATING`, `UPDATING`, `DELETING`, ...), as DynamoDB spells it;
    /// `UNKNOWN` when the response has none.
    Inactive(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Active => f.write_str("ACTIVE"),
            Status::Inactive(status) => f.write_str(status),
        }
    }
}

/// The table itself or one of its GSIs: its status and the state of both dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct TableOrIndex {
    /// `None` for the table itself, the index name for a GSI.
    pub index: Option<String>,
    /// Whether its capacity can be changed now.
    pub status: Status,
    /// Read capacity state.
    pub read: DimensionState,
    /// Write capacity state.
    pub write: DimensionState,
}

/// What `DescribeTable` says, converted.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDescription {
    /// Table name.
    pub name: String,
    /// Table ARN (empty if the response had none).
    pub arn: String,
    /// Billing mode.
    pub billing: Billing,
    /// The table first, then each GSI.
    pub table_and_indexes: Vec<TableOrIndex>,
    /// A global table's replicas in other regions (region names; the version alone, such as
    /// `2017.11.29`, when `DescribeTable` names no replica). Empty for a table of this region
    /// only.
    pub replicas: Vec<String>,
}

impl TableDescription {
    /// The table itself or the GSI `index`.
    pub fn target(&self, index: Option<&str>) -> Option<&TableOrIndex> {
        self.table_and_indexes
            .iter()
            .find(|t| t.index.as_deref() == index)
    }
}

/// The per-table and per-account capacity quotas of `DescribeLimits`. The per-table maximum
/// counts a table and its GSIs together, per dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `TableMaxReadCapacityUnits`: reads of a table and its GSIs together.
    pub table_read: u64,
    /// `TableMaxWriteCapacityUnits`: writes of a table and its GSIs together.
    pub table_write: u64,
    /// `AccountMaxReadCapacityUnits`: reads of every provisioned table of the account and region.
    pub account_read: u64,
    /// `AccountMaxWriteCapacityUnits`: writes of every provisioned table of the account and region.
    pub account_write: u64,
}

/// The new capacity of one table or GSI (both dimensions, as `UpdateTable` requires).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityChange {
    /// `None` for the table, else the index.
    pub index: Option<String>,
    /// New read capacity.
    pub read: u64,
    /// New write capacity.
    pub write: u64,
}

/// Converts an SDK timestamp to the policy's.
pub(crate) fn timestamp(t: &aws_smithy_types::DateTime) -> Timestamp {
    Timestamp::from_unix(t.secs())
}
