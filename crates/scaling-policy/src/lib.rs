//! # scaling-policy: every decision ddb-autoscaler makes, and nothing else
//!
//! The functional core of ddb-autoscaler. It has no I/O, no async runtime, no AWS types and no
//! clock: the AWS layer (and the simulator) fetch the facts, pass them in with `now`, and apply
//! the [`Decision`]s that come out. That is what lets the Lambda functions, the command line and
//! the simulator share one implementation, and lets the tests pin every rule down.
//!
//! The model, per dimension (read or write) of a table or a GSI:
//! - [`config`]: validated [`Settings`] made of deployment defaults plus tag overrides
//!   ([`TableTags`]); contradictions are errors that name the tag and the value.
//! - [`usage`]: per-minute consumed and throttle datapoints ([`Usage`], throttle events by cause
//!   when known) where a gap is unknown, never zero; and the [`DimensionState`] from
//!   `DescribeTable`.
//! - [`window`]: a look-back window summarised (peak demand, throttling by cause, growth).
//! - [`seasonal`]: the demand that came at this time of day yesterday and a week ago.
//! - [`quota`]: DynamoDB's decrease quota ([`DecreaseBudget`]).
//! - [`boost`]: announced events kept as tags ([`Boost`]) and the capacity floor they ask for
//!   at `now`, which the rules take as [`DimensionInput::boost`].
//! - [`cadence`]: how often scale-up polls each series ([`Cadence`], [`Polled`]): every minute
//!   only while a minute may matter, with a reaction guarantee, to keep the CloudWatch bill low.
//! - [`mod@scale_up`] (raise before throttling, never lower) and [`mod@scale_down`]
//!   ([`scale_down()`], [`scale_down_pair`]: lower when worth a scarce decrease, never raise),
//!   each returning a [`decision::Decision`]. Missing data keeps capacity as it is.
//! - [`coupling`]: a table and its GSIs together (a write-throttled GSI holds the table's writes
//!   up; the per-table quota is shared, write-throttled GSIs served first).
//! - [`runaway`]: the runaway guard, a cap on a table's increases per hour.
//!
//! Key decisions: demand is consumed *plus* the throttled units more capacity would serve,
//! because consumption is capped by capacity, while a hot key's throttling never buys capacity;
//! capacity is a whole number of units ([`ceil_units`]); every decision carries a
//! machine-readable [`Reason`] and the [`Numbers`] it was based on, so a log line explains itself.

pub mod boost;
pub mod cadence;
pub mod config;
pub mod coupling;
pub mod decision;
pub mod quota;
pub mod runaway;
pub mod scale_down;
pub mod scale_up;
pub mod seasonal;
pub mod time;
pub mod units;
pub mod usage;
pub mod window;

pub use boost::Boost;
pub use cadence::{Cadence, Polled};
pub use config::{Bounds, Dimension, Mode, Settings, TableTags};
pub use decision::{Action, Decision, DimensionInput, Numbers, Reason};
pub use quota::DecreaseBudget;
pub use scale_down::{scale_down, scale_down_pair};
pub use scale_up::scale_up;
pub use time::Timestamp;
pub use units::ceil_units;
pub use usage::{DimensionState, Minute, ThrottleCauses, Usage};

/// A configuration problem. Each names the tag (or default) and the value at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// A tag under the prefix has a value that does not parse or is out of range on its own.
    #[error("tag {key:?} has the invalid value {value:?}: {reason}")]
    BadTagValue {
        /// The tag key.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tag under the prefix names no known setting.
    #[error("tag {key:?} is not a ddb-autoscaler setting ({hint})")]
    UnknownTag {
        /// The tag key.
        key: String,
        /// What would be valid.
        hint: String,
    },
    /// Overrides for an index the table does not have.
    #[error("the table has no index {index:?}, but {origin} configures it")]
    UnknownIndex {
        /// The index named in the tag.
        index: String,
        /// The tag that names it.
        origin: String,
    },
    /// Settings that are valid alone but not together (min above max, target out of range...).
    #[error("{problem}")]
    Contradiction {
        /// What contradicts what, with the origins.
        problem: String,
        /// The tag keys of the settings involved (those that came from tags, not defaults).
        keys: Vec<String>,
    },
    /// A boost that cannot be kept as asked; `field` is the one at fault (`read`, `write`,
    /// `until`, `note`, `index`, `id`).
    #[error("boost {field}: {problem}")]
    Boost {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The table already has as many boosts as allowed.
    #[error(
        "the table already has {max} boosts that have not expired (at most {max}): delete one first"
    )]
    TooManyBoosts {
        /// The limit.
        max: usize,
    },
    /// The change would leave the table with more tags than DynamoDB allows.
    #[error("the table would carry {count} tags, and DynamoDB allows at most {max} per table")]
    TooManyTags {
        /// The tags it would carry.
        count: usize,
        /// DynamoDB's limit.
        max: usize,
    },
}
