//! The pipeline's own picture of a table, converted from SDK types at the edge (`aws.rs`).

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

/// One table or GSI: its status and the state of both dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// `None` for the table itself, the index name for a GSI.
    pub index: Option<String>,
    /// `ACTIVE`, `UPDATING`, `CREATING`...
    pub status: String,
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
    /// Billing mode.
    pub billing: Billing,
    /// The table first, then each GSI.
    pub targets: Vec<Target>,
}

impl TableDescription {
    /// The table itself.
    pub fn table(&self) -> Option<&Target> {
        self.targets.iter().find(|t| t.index.is_none())
    }
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
