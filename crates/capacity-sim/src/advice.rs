//! # Advice: the arithmetic behind `ddb-autoscaler advise`
//!
//! `advise` replays a table's own traffic through the simulator (ours, target tracking,
//! on-demand) and turns the runs into decisions: the capacity mode and table class, the
//! reserved capacity, the `read-min`/`write-min` tags that go with it, and the requirement the
//! scale-down times are chosen on. Every decision is a pure function here; the CLI fetches,
//! simulates and renders.
//!
//! **Prices** ([`Prices`]). Each is a named constant below with its date and source, and can be
//! overridden by name ([`Prices::set`], the CLI's `--price NAME=USD`): the defaults are
//! us-east-1 list prices, other regions differ.
//!
//! **Capacity mode and table class** ([`options`], [`recommend`]). A table has four ways to run:
//! Standard or Standard-IA, provisioned (with ours) or on-demand. From one set of runs:
//! - provisioned: ours' simulated unit-hours at the class's unit-hour price (ours' capacity does
//!   not depend on the price, so the same run prices both classes);
//! - on-demand: the request units the on-demand model served (its 2x-previous-peak rule refuses
//!   the rest, unbilled) at the class's request price;
//! - storage: `TableSizeBytes` plus each GSI's `IndexSizeBytes` at the class's GB-month price
//!   (GB = 2^30 bytes; the free tier is not counted).
//!
//! The recommendation is the cheapest of the four, unless it saves less than `min_saving`
//! dollars a month over the table's current class and mode (run as advise would run it: with
//! ours when provisioned): a switch is not worth pennies, and both switches are rationed
//! ([`MODE_SWITCH_RULE`], [`CLASS_SWITCH_RULE`]). GSIs always share their table's mode and class,
//! so the decision is per table. **Break-even utilisation** ([`break_even_utilisation`]): the
//! average utilisation of provisioned capacity (demand / capacity) below which on-demand costs
//! less, `unit-hour price / (3600 x price per request unit)`: 28.9% at us-east-1 prices, for
//! reads and writes alike.
//!
//! **Reserved capacity** ([`reserve`]). Reservations are bought in blocks of [`BLOCK_UNITS`]
//! units per dimension, for one or three years, and apply to the *sum* of the provisioned
//! capacity of the account's Standard-class tables in the region (so the input is that sum,
//! minute by minute). One reserved unit costs `upfront / term hours + hourly` per hour whether
//! used or not, and saves the standard unit-hour price in every hour the capacity reaches it: it
//! pays off when the capacity is at or above it for more than `effective price / standard price`
//! of the time (the **break-even share**: 45.6% for one year, 22.9% for three at us-east-1
//! prices). The level the capacity stays at or above for that share of the time is the
//! **pay-off level**; reservations come in blocks, so a block is bought when the capacity it
//! covers is worth more at standard prices than the block costs (the block's average share
//! above the break-even share), block after block from the existing reservations up. The shares
//! fall block by block, so the first block that does not pay ends the count. A block pays as a
//! whole, so the reserved level can end above the pay-off level, and even above the peak (units
//! 400-489 of a peak of 489 held often enough pay for the block of 400-500): each block bought
//! saves, which a level rounded down to the pay-off level would forgo. Savings are per month
//! ([`HOURS_PER_MONTH`] hours), the upfront fee spread over the term.
//!
//! **Shares** ([`shares`]). A reserved level split among the tables and GSIs whose capacity
//! makes it up, for their `read-min`/`write-min` tags: below its share a table's decrease saves
//! nothing (the reserved units are paid anyway) and spends one of the day's scarce decreases.
//! Each gets a share in proportion to its capacity in the minutes when the sum is at or below
//! the level (when it never is, in the minutes it is lowest): the minutes in which a floor binds.
//!
//! **What ours can lower to** ([`lowerable`]). The scale-down times are chosen by perfect
//! foresight on a schedule ([`crate::schedule::choose_daily_runs`]), which drops capacity at a
//! run to what the next minute needs. Ours cannot: at a run it lowers to the peak demand of its
//! look-back window over its target. So the requirement handed to the chooser is that: each
//! minute's sliding maximum over the look-back, over the target. Without it the chooser picks
//! the minute a peak ends, when ours still sees the peak and lowers nothing.

use scaling_policy::{Dimension, Timestamp};
use serde::Serialize;

use crate::Error;
use crate::params::{
    READ_ON_DEMAND_PER_MILLION, READ_PRICE_PER_UNIT_HOUR, WRITE_ON_DEMAND_PER_MILLION,
    WRITE_PRICE_PER_UNIT_HOUR,
};

/// Hours in a month, as AWS's pricing pages count them.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Hours in a year of a reservation's term.
pub const HOURS_PER_YEAR: f64 = 8_760.0;
/// Bytes in a GB of storage as DynamoDB bills it.
pub const BYTES_PER_GB: f64 = 1_073_741_824.0;
/// Units in one block of reserved capacity (RCU or WCU).
pub const BLOCK_UNITS: u64 = 100;

// Storage and Standard-IA, us-east-1, as listed on aws.amazon.com/dynamodb/pricing/on-demand/
// and .../provisioned/ (checked 2026-12-01; AWS's table-class guide describes Standard-IA as
// about 60% cheaper storage and about 25% dearer reads and writes, which these match).
/// Standard storage, dollars per GB-month (the first 25 GB a month are free, not counted here).
pub const STANDARD_STORAGE_GB_MONTH: f64 = 0.25;
/// Standard-IA storage, dollars per GB-month.
pub const IA_STORAGE_GB_MONTH: f64 = 0.10;
/// Standard-IA provisioned price per RCU-hour.
pub const IA_READ_PRICE_PER_UNIT_HOUR: f64 = 0.000_16;
/// Standard-IA provisioned price per WCU-hour.
pub const IA_WRITE_PRICE_PER_UNIT_HOUR: f64 = 0.000_81;
/// Standard-IA on-demand price per million read request units (after the November 2024 cut).
pub const IA_READ_ON_DEMAND_PER_MILLION: f64 = 0.155;
/// Standard-IA on-demand price per million write request units (after the November 2024 cut).
pub const IA_WRITE_ON_DEMAND_PER_MILLION: f64 = 0.78;

// Reserved capacity, us-east-1, per block of 100 units, partial upfront (the only option), as
// listed on aws.amazon.com/dynamodb/pricing/provisioned/ (checked 2026-12-01). The one-year
// rates are also the AWS Price List API's (AmazonDynamoDB, LeaseContractLength=1yr: $0.30
// upfront and $0.000025 an hour per RCU, $1.50 and $0.000128 per WCU); the three-year ones are
// only on the pricing page, and match its "up to 77%" saving. Reserved capacity applies to the
// Standard table class and provisioned mode only.
/// One-year reservation of 100 RCU: upfront dollars.
pub const RESERVED_1Y_RCU_UPFRONT: f64 = 30.0;
/// One-year reservation of 100 RCU: dollars an hour.
pub const RESERVED_1Y_RCU_HOUR: f64 = 0.0025;
/// One-year reservation of 100 WCU: upfront dollars.
pub const RESERVED_1Y_WCU_UPFRONT: f64 = 150.0;
/// One-year reservation of 100 WCU: dollars an hour.
pub const RESERVED_1Y_WCU_HOUR: f64 = 0.0128;
/// Three-year reservation of 100 RCU: upfront dollars.
pub const RESERVED_3Y_RCU_UPFRONT: f64 = 36.0;
/// Three-year reservation of 100 RCU: dollars an hour.
pub const RESERVED_3Y_RCU_HOUR: f64 = 0.0016;
/// Three-year reservation of 100 WCU: upfront dollars.
pub const RESERVED_3Y_WCU_UPFRONT: f64 = 180.0;
/// Three-year reservation of 100 WCU: dollars an hour.
pub const RESERVED_3Y_WCU_HOUR: f64 = 0.0081;

/// DynamoDB's limit on switching capacity modes, as its developer guide states it (checked
/// 2026-12-01 at
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/switching.capacitymode.html>).
/// The rule has changed over the years ("once every 24 hours"; then any time back to
/// provisioned, and to on-demand only 24 hours after the last switch to it): this is the
/// current one. It never forbids the one switch advise recommends unless the table was switched
/// to on-demand four times in the last 24 hours, which `DescribeTable` cannot tell (it has only
/// the last switch, `LastUpdateToPayPerRequestDateTime`): [`mode_switch_note`] says when the
/// last one was recent.
pub const MODE_SWITCH_RULE: &str = "DynamoDB allows switching a table from provisioned to \
on-demand up to four times in a 24-hour rolling window, and from on-demand to provisioned at \
any time";
/// Switches from provisioned to on-demand allowed in a rolling 24 hours.
pub const SWITCHES_TO_ON_DEMAND_PER_DAY: u32 = 4;
/// DynamoDB's limit on changing a table's class, per its table-class guide (checked 2026-12-01 at
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.tableclasses.html>).
pub const CLASS_SWITCH_RULE: &str = "DynamoDB allows changing a table's class twice in a \
trailing 30-day period";

/// The previous peak DynamoDB credits a table with when it becomes on-demand, in units/s per
/// dimension: a new on-demand table's (2,000 write and 6,000 read request units, so that it
/// serves twice that at once), or half the highest capacity a provisioned table ever had,
/// whichever is higher ("Initial throughput for on-demand capacity mode",
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html>,
/// checked 2026-12-01). The on-demand model starts from it: without it a small table would be
/// throttled at twice its median traffic, which DynamoDB does not do.
pub fn on_demand_initial_peak(dimension: Dimension, highest_provisioned: Option<f64>) -> f64 {
    let new_table = match dimension {
        Dimension::Read => 6_000.0,
        Dimension::Write => 2_000.0,
    };
    highest_provisioned.map_or(new_table, |p| new_table.max(p / 2.0))
}

/// How a table is billed for throughput.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CapacityMode {
    /// Provisioned capacity (run by ours).
    Provisioned,
    /// On-demand: per request.
    OnDemand,
}

impl std::fmt::Display for CapacityMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CapacityMode::Provisioned => "provisioned",
            CapacityMode::OnDemand => "on-demand",
        })
    }
}

/// A table's class (it applies to its GSIs too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TableClass {
    /// `STANDARD`, the default.
    #[serde(rename = "STANDARD")]
    Standard,
    /// `STANDARD_INFREQUENT_ACCESS`: cheaper storage, dearer throughput.
    #[serde(rename = "STANDARD_INFREQUENT_ACCESS")]
    StandardIa,
}

impl TableClass {
    /// The class `DescribeTable` spells `name` (absent: Standard).
    pub fn from_api(name: Option<&str>) -> Self {
        match name {
            Some("STANDARD_INFREQUENT_ACCESS") => TableClass::StandardIa,
            _ => TableClass::Standard,
        }
    }
}

impl std::fmt::Display for TableClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TableClass::Standard => "Standard",
            TableClass::StandardIa => "Standard-IA",
        })
    }
}

/// The prices of one table class.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClassPrices {
    /// Provisioned, dollars per RCU-hour.
    pub rcu_hour: f64,
    /// Provisioned, dollars per WCU-hour.
    pub wcu_hour: f64,
    /// On-demand, dollars per million read request units.
    pub read_per_million: f64,
    /// On-demand, dollars per million write request units.
    pub write_per_million: f64,
    /// Storage, dollars per GB-month.
    pub storage_gb_month: f64,
}

impl ClassPrices {
    /// Provisioned price per unit-hour of `dimension`.
    pub const fn unit_hour(&self, dimension: Dimension) -> f64 {
        match dimension {
            Dimension::Read => self.rcu_hour,
            Dimension::Write => self.wcu_hour,
        }
    }

    /// On-demand price per million request units of `dimension`.
    pub const fn per_million(&self, dimension: Dimension) -> f64 {
        match dimension {
            Dimension::Read => self.read_per_million,
            Dimension::Write => self.write_per_million,
        }
    }
}

/// The prices of one reservation term, per block of [`BLOCK_UNITS`] units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ReservedPrices {
    /// The term, years.
    pub years: u32,
    /// 100 RCU: upfront dollars.
    pub rcu_upfront: f64,
    /// 100 RCU: dollars an hour.
    pub rcu_hour: f64,
    /// 100 WCU: upfront dollars.
    pub wcu_upfront: f64,
    /// 100 WCU: dollars an hour.
    pub wcu_hour: f64,
}

impl ReservedPrices {
    /// Hours in the term.
    pub fn term_hours(&self) -> f64 {
        f64::from(self.years) * HOURS_PER_YEAR
    }

    /// Upfront dollars of one block of `dimension`.
    pub const fn upfront(&self, dimension: Dimension) -> f64 {
        match dimension {
            Dimension::Read => self.rcu_upfront,
            Dimension::Write => self.wcu_upfront,
        }
    }

    /// Dollars an hour of one block of `dimension`.
    pub const fn hourly(&self, dimension: Dimension) -> f64 {
        match dimension {
            Dimension::Read => self.rcu_hour,
            Dimension::Write => self.wcu_hour,
        }
    }

    /// What one reserved unit of `dimension` costs an hour, the upfront fee spread over the term.
    pub fn effective_unit_hour(&self, dimension: Dimension) -> f64 {
        (self.upfront(dimension) / self.term_hours() + self.hourly(dimension)) / BLOCK_UNITS as f64
    }
}

/// Every price `advise` uses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prices {
    /// The Standard class.
    pub standard: ClassPrices,
    /// The Standard-IA class.
    pub standard_ia: ClassPrices,
    /// Reserved capacity: the one-year term, then the three-year one.
    pub reserved: [ReservedPrices; 2],
}

impl Default for Prices {
    /// us-east-1 list prices (the constants of this module and of [`crate::params`]).
    fn default() -> Self {
        Self {
            standard: ClassPrices {
                rcu_hour: READ_PRICE_PER_UNIT_HOUR,
                wcu_hour: WRITE_PRICE_PER_UNIT_HOUR,
                read_per_million: READ_ON_DEMAND_PER_MILLION,
                write_per_million: WRITE_ON_DEMAND_PER_MILLION,
                storage_gb_month: STANDARD_STORAGE_GB_MONTH,
            },
            standard_ia: ClassPrices {
                rcu_hour: IA_READ_PRICE_PER_UNIT_HOUR,
                wcu_hour: IA_WRITE_PRICE_PER_UNIT_HOUR,
                read_per_million: IA_READ_ON_DEMAND_PER_MILLION,
                write_per_million: IA_WRITE_ON_DEMAND_PER_MILLION,
                storage_gb_month: IA_STORAGE_GB_MONTH,
            },
            reserved: [
                ReservedPrices {
                    years: 1,
                    rcu_upfront: RESERVED_1Y_RCU_UPFRONT,
                    rcu_hour: RESERVED_1Y_RCU_HOUR,
                    wcu_upfront: RESERVED_1Y_WCU_UPFRONT,
                    wcu_hour: RESERVED_1Y_WCU_HOUR,
                },
                ReservedPrices {
                    years: 3,
                    rcu_upfront: RESERVED_3Y_RCU_UPFRONT,
                    rcu_hour: RESERVED_3Y_RCU_HOUR,
                    wcu_upfront: RESERVED_3Y_WCU_UPFRONT,
                    wcu_hour: RESERVED_3Y_WCU_HOUR,
                },
            ],
        }
    }
}

impl Prices {
    /// The prices of `class`.
    pub const fn class(&self, class: TableClass) -> &ClassPrices {
        match class {
            TableClass::Standard => &self.standard,
            TableClass::StandardIa => &self.standard_ia,
        }
    }

    /// Every price by the name [`Prices::set`] takes.
    fn fields(&mut self) -> [(&'static str, &mut f64); 18] {
        let [r1, r3] = &mut self.reserved;
        let (s, ia) = (&mut self.standard, &mut self.standard_ia);
        [
            ("rcu-hour", &mut s.rcu_hour),
            ("wcu-hour", &mut s.wcu_hour),
            ("read-million", &mut s.read_per_million),
            ("write-million", &mut s.write_per_million),
            ("storage-gb-month", &mut s.storage_gb_month),
            ("ia-rcu-hour", &mut ia.rcu_hour),
            ("ia-wcu-hour", &mut ia.wcu_hour),
            ("ia-read-million", &mut ia.read_per_million),
            ("ia-write-million", &mut ia.write_per_million),
            ("ia-storage-gb-month", &mut ia.storage_gb_month),
            ("reserved-1y-rcu-upfront", &mut r1.rcu_upfront),
            ("reserved-1y-rcu-hour", &mut r1.rcu_hour),
            ("reserved-1y-wcu-upfront", &mut r1.wcu_upfront),
            ("reserved-1y-wcu-hour", &mut r1.wcu_hour),
            ("reserved-3y-rcu-upfront", &mut r3.rcu_upfront),
            ("reserved-3y-rcu-hour", &mut r3.rcu_hour),
            ("reserved-3y-wcu-upfront", &mut r3.wcu_upfront),
            ("reserved-3y-wcu-hour", &mut r3.wcu_hour),
        ]
    }

    /// Every price as (name, dollars), in a fixed order (reserved prices per block of 100).
    pub fn entries(&self) -> Vec<(&'static str, f64)> {
        let mut copy = *self;
        copy.fields().into_iter().map(|(n, v)| (n, *v)).collect()
    }

    /// Sets the price called `name` ([`Prices::entries`]) to `usd`; an unknown name or a price
    /// that is not a positive number is an error naming the known ones.
    pub fn set(&mut self, name: &str, usd: f64) -> Result<(), Error> {
        if !(usd.is_finite() && usd > 0.0) {
            return Err(Error::BadParam(format!(
                "price {name} = {usd}: a price must be a positive number of dollars"
            )));
        }
        let known: Vec<&str> = self.entries().into_iter().map(|(n, _)| n).collect();
        match self.fields().into_iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                *v = usd;
                Ok(())
            }
            None => Err(Error::BadParam(format!(
                "unknown price {name:?}; the prices are {}",
                known.join(", ")
            ))),
        }
    }
}

/// Average utilisation of provisioned capacity (demand / capacity) below which on-demand costs
/// less than provisioned capacity in `class` prices: `unit-hour price / (3600 x request price)`.
pub fn break_even_utilisation(prices: &ClassPrices, dimension: Dimension) -> f64 {
    prices.unit_hour(dimension) / (3_600.0 * prices.per_million(dimension) / 1e6)
}

/// Dollars over `hours` as dollars a month (0 over no time).
pub fn per_month(usd: f64, hours: f64) -> f64 {
    if hours > 0.0 {
        usd * HOURS_PER_MONTH / hours
    } else {
        0.0
    }
}

/// One dimension of a table or GSI over the advised period, as the simulator ran it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Throughput {
    /// Read or write.
    pub dimension: Dimension,
    /// Unit-hours ours provisioned.
    pub provisioned_unit_hours: f64,
    /// Request units the on-demand model served (and would bill).
    pub on_demand_units: f64,
}

/// One way to run a table, in dollars a month.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// The table class.
    pub class: TableClass,
    /// The capacity mode.
    pub mode: CapacityMode,
    /// Reads and writes of the table and its GSIs.
    pub throughput_usd_month: f64,
    /// Storage of the table and its GSIs.
    pub storage_usd_month: f64,
    /// Both.
    pub usd_month: f64,
}

/// The four ways to run a table whose dimensions (table and GSIs) ran as `throughput` over
/// `hours`, storing `storage_bytes`: Standard provisioned, Standard on-demand, Standard-IA
/// provisioned, Standard-IA on-demand, in that order.
pub fn options(
    throughput: &[Throughput],
    storage_bytes: f64,
    hours: f64,
    prices: &Prices,
) -> Vec<Choice> {
    let mut out = Vec::with_capacity(4);
    for class in [TableClass::Standard, TableClass::StandardIa] {
        let p = prices.class(class);
        let storage = storage_bytes / BYTES_PER_GB * p.storage_gb_month;
        for mode in [CapacityMode::Provisioned, CapacityMode::OnDemand] {
            let usd: f64 = throughput
                .iter()
                .map(|t| match mode {
                    CapacityMode::Provisioned => {
                        t.provisioned_unit_hours * p.unit_hour(t.dimension)
                    }
                    CapacityMode::OnDemand => t.on_demand_units * p.per_million(t.dimension) / 1e6,
                })
                .sum();
            let throughput_usd_month = per_month(usd, hours);
            out.push(Choice {
                class,
                mode,
                throughput_usd_month,
                storage_usd_month: storage,
                usd_month: throughput_usd_month + storage,
            });
        }
    }
    out
}

/// What [`recommend`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    /// The way to run the table.
    pub choice: Choice,
    /// The table's current class and mode, run as advise would run them.
    pub current: Choice,
    /// The cheapest of the options (differs from `choice` when it saves less than the minimum).
    pub cheapest: Choice,
    /// `current - choice`, dollars a month (0 when nothing changes).
    pub saving_usd_month: f64,
}

impl Recommendation {
    /// Whether the recommendation changes the table's class or mode.
    pub fn switches(&self) -> bool {
        (self.choice.class, self.choice.mode) != (self.current.class, self.current.mode)
    }
}

/// The cheapest of `options`, unless it saves less than `min_saving` dollars a month over the
/// table's `current` class and mode (then those). `options` must hold the current one.
pub fn recommend(
    options: &[Choice],
    current: (TableClass, CapacityMode),
    min_saving: f64,
) -> Result<Recommendation, Error> {
    let Some(now) = options
        .iter()
        .find(|c| (c.class, c.mode) == current)
        .copied()
    else {
        return Err(Error::BadParam(format!(
            "no option for the current {} {} table",
            current.0, current.1
        )));
    };
    let cheapest = options.iter().copied().fold(now, |best, c| {
        if c.usd_month < best.usd_month {
            c
        } else {
            best
        }
    });
    let choice = if now.usd_month - cheapest.usd_month >= min_saving {
        cheapest
    } else {
        now
    };
    Ok(Recommendation {
        choice,
        current: now,
        cheapest,
        saving_usd_month: now.usd_month - choice.usd_month,
    })
}

/// What the rule on switching modes means for a switch `from` -> `to` at `now`, when the table
/// last switched to on-demand at `last_to_on_demand`: `None` when nothing changes.
pub fn mode_switch_note(
    from: CapacityMode,
    to: CapacityMode,
    last_to_on_demand: Option<Timestamp>,
    now: Timestamp,
) -> Option<String> {
    match (from, to) {
        (CapacityMode::Provisioned, CapacityMode::OnDemand) => Some(match last_to_on_demand {
            Some(t) if now.secs_since(t) < 86_400 => format!(
                "{MODE_SWITCH_RULE}; this table last switched to on-demand at {t}, less than 24 hours ago: check it has not done so {SWITCHES_TO_ON_DEMAND_PER_DAY} times since"
            ),
            _ => format!("{MODE_SWITCH_RULE}: one switch now is allowed"),
        }),
        (CapacityMode::OnDemand, CapacityMode::Provisioned) => Some(format!(
            "{MODE_SWITCH_RULE}: switching back is always allowed"
        )),
        _ => None,
    }
}

/// A reservation of one dimension for one term, and what it saves, from [`reserve`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reservation {
    /// The term, years.
    pub years: u32,
    /// Units already reserved (counted from 0, below the new blocks).
    pub existing_units: u64,
    /// Share of the time a unit must be provisioned for its reservation to pay off.
    pub break_even_share: f64,
    /// The highest level the capacity is at or above for at least the break-even share of the
    /// time, units (0 when there is none).
    pub pay_off_level_units: u64,
    /// New blocks to buy.
    pub blocks: u64,
    /// New units to buy (`blocks x 100`).
    pub units: u64,
    /// Share of the time the capacity is at or above the reserved level (existing + new units).
    pub held_share: f64,
    /// Upfront dollars of the new blocks.
    pub upfront_usd: f64,
    /// Dollars an hour of the new blocks.
    pub hourly_usd: f64,
    /// Standard cost of the capacity above the existing reservations, dollars a month.
    pub without_usd_month: f64,
    /// With the new blocks: their fees (upfront spread over the term) plus the standard cost of
    /// the capacity above them, dollars a month.
    pub with_usd_month: f64,
    /// `without - with`, dollars a month: the effective saving.
    pub saving_usd_month: f64,
}

/// The reservation of `dimension` for the `term` that saves most on `capacity` (the sum of the
/// provisioned capacity of the tables it would cover, one value per minute), above `existing`
/// reserved units, at `standard_unit_hour` dollars per unit-hour without it. See the module
/// documentation for the rule.
pub fn reserve(
    capacity: &[u64],
    existing: u64,
    standard_unit_hour: f64,
    term: &ReservedPrices,
    dimension: Dimension,
) -> Reservation {
    let n = capacity.len();
    let hours = n as f64 / 60.0;
    let effective = term.effective_unit_hour(dimension);
    let break_even_share = if standard_unit_hour > 0.0 {
        effective / standard_unit_hour
    } else {
        f64::INFINITY
    };
    // Unit-minutes of `capacity` between `lo` and `lo + width` units.
    let within = |lo: u64, width: u64| -> u64 {
        capacity
            .iter()
            .map(|c| c.saturating_sub(lo).min(width))
            .sum()
    };
    let block_fee = BLOCK_UNITS as f64 * effective * hours;
    let mut blocks = 0;
    if n > 0 {
        let peak = capacity.iter().copied().max().unwrap_or(0);
        loop {
            let lo = existing + blocks * BLOCK_UNITS;
            if lo >= peak {
                break;
            }
            let used_unit_hours = within(lo, BLOCK_UNITS) as f64 / 60.0;
            if used_unit_hours * standard_unit_hour > block_fee {
                blocks += 1;
            } else {
                break;
            }
        }
    }
    let pay_off_level_units = {
        let mut sorted = capacity.to_vec();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let needed = (break_even_share * n as f64).ceil();
        if needed >= 1.0 && needed <= n as f64 {
            sorted[needed as usize - 1]
        } else {
            0
        }
    };
    let units = blocks * BLOCK_UNITS;
    let level = existing + units;
    let held = capacity.iter().filter(|c| **c >= level).count();
    let above = |lo: u64| -> f64 {
        capacity.iter().map(|c| c.saturating_sub(lo)).sum::<u64>() as f64 / 60.0
    };
    let without = above(existing) * standard_unit_hour;
    let with = blocks as f64 * block_fee + above(level) * standard_unit_hour;
    Reservation {
        years: term.years,
        existing_units: existing,
        break_even_share,
        pay_off_level_units,
        blocks,
        units,
        held_share: if n > 0 { held as f64 / n as f64 } else { 0.0 },
        upfront_usd: blocks as f64 * term.upfront(dimension),
        hourly_usd: blocks as f64 * term.hourly(dimension),
        without_usd_month: per_month(without, hours),
        with_usd_month: per_month(with, hours),
        saving_usd_month: per_month(without - with, hours),
    }
}

/// Splits `level` units among `series` (each one capacity per minute, all as long as each
/// other) for their min tags: in proportion to each one's capacity in the minutes when their
/// sum is at or below `level` (when it never is, in the minutes it is lowest), rounded down
/// with the remainder going to the largest fractions, so that the shares add up to `level`.
pub fn shares(series: &[&[u64]], level: u64) -> Vec<u64> {
    let n = series.iter().map(|s| s.len()).min().unwrap_or(0);
    if level == 0 || n == 0 {
        return vec![0; series.len()];
    }
    let total: Vec<u64> = (0..n).map(|i| series.iter().map(|s| s[i]).sum()).collect();
    let lowest = total.iter().copied().min().unwrap_or(0);
    let bound = level.max(lowest);
    let weights: Vec<u64> = series
        .iter()
        .map(|s| (0..n).filter(|i| total[*i] <= bound).map(|i| s[i]).sum())
        .collect();
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![0; series.len()];
    }
    let exact: Vec<f64> = weights
        .iter()
        .map(|w| level as f64 * *w as f64 / sum as f64)
        .collect();
    let mut out: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut rest = level.saturating_sub(out.iter().sum());
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(a.cmp(b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        out[i] += 1;
        rest -= 1;
    }
    out
}

/// What ours' scale-down can lower capacity to at a run in each minute: the highest of
/// `required` over that minute and the `lookback` minutes before it, over `target`, rounded up
/// (at least 1). The requirement to choose ours' scale-down times on (module documentation).
pub fn lowerable(required: &[u64], lookback: usize, target: f64) -> Vec<u64> {
    let mut out = Vec::with_capacity(required.len());
    // Indices of a decreasing run of values: the front is the window's maximum.
    let mut window: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    for (i, r) in required.iter().enumerate() {
        while window.back().is_some_and(|j| required[*j] <= *r) {
            window.pop_back();
        }
        window.push_back(i);
        while window.front().is_some_and(|j| *j + lookback < i) {
            window.pop_front();
        }
        let peak = window.front().map_or(0, |j| required[*j]);
        out.push(scaling_policy::ceil_units(peak as f64 / target).max(1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use scaling_policy::Dimension::{Read, Write};

    fn one_year() -> ReservedPrices {
        Prices::default().reserved[0]
    }

    fn three_years() -> ReservedPrices {
        Prices::default().reserved[1]
    }

    const RCU: f64 = READ_PRICE_PER_UNIT_HOUR;
    const WCU: f64 = WRITE_PRICE_PER_UNIT_HOUR;

    fn flat(units: u64, minutes: usize) -> Vec<u64> {
        vec![units; minutes]
    }

    #[test]
    fn break_even_shares_at_list_prices() {
        let r1 = reserve(&flat(1, 60), 0, RCU, &one_year(), Read);
        // (30 / 8760 + 0.0025) / 100 = 5.925e-5 an RCU-hour, against 1.3e-4.
        assert!((r1.break_even_share - 0.455_77).abs() < 1e-4, "{r1:?}");
        let r3 = reserve(&flat(1, 60), 0, RCU, &three_years(), Read);
        assert!((r3.break_even_share - 0.228_45).abs() < 1e-4, "{r3:?}");
        let w1 = reserve(&flat(1, 60), 0, WCU, &one_year(), Write);
        assert!((w1.break_even_share - 0.460_36).abs() < 1e-4, "{w1:?}");
        assert!((break_even_utilisation(&Prices::default().standard, Read) - 0.2889).abs() < 1e-3);
        assert!((break_even_utilisation(&Prices::default().standard, Write) - 0.2889).abs() < 1e-3);
    }

    #[test]
    fn flat_capacity_just_below_and_above_a_block() {
        // 99 units all the time: the block is 99% used, well above 46%: one block.
        let r = reserve(&flat(99, 1440), 0, RCU, &one_year(), Read);
        assert_eq!((r.blocks, r.units), (1, 100));
        assert_eq!(r.pay_off_level_units, 99);
        assert_eq!(r.held_share, 0.0, "99 never reaches the reserved 100");
        // Exactly a block, and one unit above: the second block would be 1% used.
        for units in [100, 101] {
            let r = reserve(&flat(units, 1440), 0, RCU, &one_year(), Read);
            assert_eq!(r.blocks, 1, "{units}: {r:?}");
            assert_eq!(r.held_share, 1.0);
        }
        // 199 and 201 around the second block's end.
        assert_eq!(
            reserve(&flat(199, 1440), 0, RCU, &one_year(), Read).blocks,
            2
        );
        assert_eq!(
            reserve(&flat(200, 1440), 0, RCU, &one_year(), Read).blocks,
            2
        );
        assert_eq!(
            reserve(&flat(201, 1440), 0, RCU, &one_year(), Read).blocks,
            2
        );
        // 45 units all the time: the block is 45% used, just below the 1-year break-even
        // (45.6%) and above the 3-year one (22.9%).
        assert_eq!(
            reserve(&flat(45, 1440), 0, RCU, &one_year(), Read).blocks,
            0
        );
        assert_eq!(
            reserve(&flat(46, 1440), 0, RCU, &one_year(), Read).blocks,
            1
        );
        assert_eq!(
            reserve(&flat(22, 1440), 0, RCU, &three_years(), Read).blocks,
            0
        );
        assert_eq!(
            reserve(&flat(23, 1440), 0, RCU, &three_years(), Read).blocks,
            1
        );
    }

    #[test]
    fn the_saving_is_the_standard_cost_less_the_fees() {
        let r = reserve(&flat(100, 600), 0, RCU, &one_year(), Read);
        // 100 RCU for 10 h: $0.13 standard; reserved $0.0025 + 30/8760 an hour.
        let hours = 10.0;
        let fee = (0.0025 + 30.0 / 8760.0) * hours;
        assert!((r.without_usd_month - per_month(0.13, hours)).abs() < 1e-9);
        assert!((r.with_usd_month - per_month(fee, hours)).abs() < 1e-9);
        assert!((r.saving_usd_month - per_month(0.13 - fee, hours)).abs() < 1e-9);
        assert_eq!(r.upfront_usd, 30.0);
        assert_eq!(r.hourly_usd, 0.0025);
        // About 54% saved over a month.
        assert!((r.saving_usd_month / r.without_usd_month - 0.544).abs() < 1e-3);
    }

    #[test]
    fn zero_traffic_and_no_minutes_reserve_nothing() {
        // An idle table at its minimum of 1 unit, and nothing at all.
        for capacity in [flat(1, 2880), flat(0, 2880), Vec::new()] {
            for term in [one_year(), three_years()] {
                let r = reserve(&capacity, 0, RCU, &term, Read);
                assert_eq!(r.blocks, 0, "{capacity:?}");
                assert_eq!(r.upfront_usd, 0.0);
                assert_eq!(r.saving_usd_month, 0.0);
                assert!(r.saving_usd_month.is_finite() && r.held_share.is_finite());
            }
        }
    }

    #[test]
    fn a_wave_reserves_its_trough_and_what_it_holds_often_enough() {
        // 300 units 40% of the time, 100 otherwise: the first block is always used, the next two
        // 40% of the time: below the 1-year break-even, above the 3-year one.
        let capacity: Vec<u64> = (0..1000).map(|i| if i < 400 { 300 } else { 100 }).collect();
        let r1 = reserve(&capacity, 0, RCU, &one_year(), Read);
        assert_eq!(r1.blocks, 1);
        assert_eq!(r1.pay_off_level_units, 100);
        let r3 = reserve(&capacity, 0, RCU, &three_years(), Read);
        assert_eq!(r3.blocks, 3);
        assert_eq!(r3.pay_off_level_units, 300);
        assert!((r3.held_share - 0.4).abs() < 1e-12);
        assert!(r3.saving_usd_month > 0.0);
        // A reservation never loses money on the history it was sized on.
        for r in [&r1, &r3] {
            assert!(r.with_usd_month <= r.without_usd_month + 1e-12);
        }
    }

    #[test]
    fn existing_reservations_are_counted_first() {
        // 250 units all the time with 200 already reserved: half a block left, one more.
        let r = reserve(&flat(250, 1440), 200, RCU, &one_year(), Read);
        assert_eq!((r.existing_units, r.blocks), (200, 1));
        // With 300 already reserved, nothing more; and what is above it costs nothing.
        let r = reserve(&flat(250, 1440), 300, RCU, &one_year(), Read);
        assert_eq!(r.blocks, 0);
        assert_eq!(r.without_usd_month, 0.0);
    }

    #[test]
    fn shares_follow_the_minutes_the_floor_binds_and_add_up() {
        // A steady table (100) and a spiky one (1, with 400 now and then): the sum is at its
        // lowest, 101, when the spiky one idles, so the steady one carries the level.
        let steady = vec![100; 10];
        let spiky: Vec<u64> = (0..10).map(|i| if i == 3 { 400 } else { 1 }).collect();
        assert_eq!(shares(&[&steady, &spiky], 100), vec![99, 1]);
        // The shares add up to the level.
        let a = vec![60; 4];
        let b = vec![60, 60, 30, 30];
        let s = shares(&[&a, &b], 100);
        assert_eq!(s.iter().sum::<u64>(), 100);
        // Both bind at 90 (60 + 30): 120 and 60 unit-minutes, so 66.7 and 33.3.
        assert_eq!(s, vec![67, 33]);
        assert_eq!(shares(&[&a], 0), vec![0]);
        assert_eq!(shares(&[], 100), Vec::<u64>::new());
    }

    #[test]
    fn options_price_one_run_in_both_classes_and_modes() {
        let t = [
            Throughput {
                dimension: Read,
                provisioned_unit_hours: 730.0,
                on_demand_units: 1e5,
            },
            Throughput {
                dimension: Write,
                provisioned_unit_hours: 730.0,
                on_demand_units: 1e5,
            },
        ];
        let o = options(&t, 10.0 * BYTES_PER_GB, 730.0, &Prices::default());
        let usd: Vec<f64> = o.iter().map(|c| c.usd_month).collect();
        let expect = [
            730.0 * (0.00013 + 0.00065) + 2.5,
            0.1 * (0.125 + 0.625) + 2.5,
            730.0 * (0.00016 + 0.00081) + 1.0,
            0.1 * (0.155 + 0.78) + 1.0,
        ];
        for (u, e) in usd.iter().zip(expect) {
            assert!((u - e).abs() < 1e-9, "{usd:?} vs {expect:?}");
        }
        // Cheapest: Standard-IA on-demand; from Standard provisioned that saves enough.
        let r = recommend(&o, (TableClass::Standard, CapacityMode::Provisioned), 1.0).unwrap();
        assert_eq!(
            (r.choice.class, r.choice.mode),
            (TableClass::StandardIa, CapacityMode::OnDemand)
        );
        assert!(r.switches());
        assert!((r.saving_usd_month - (expect[0] - expect[3])).abs() < 1e-9);
        // A saving under the minimum keeps the table as it is.
        let r = recommend(&o, (TableClass::StandardIa, CapacityMode::OnDemand), 1.0).unwrap();
        assert!(!r.switches());
        let r = recommend(&o, (TableClass::Standard, CapacityMode::OnDemand), 5.0).unwrap();
        assert!(!r.switches(), "saves {:.2} < 5", expect[1] - expect[3]);
        assert_eq!(r.saving_usd_month, 0.0);
        assert_eq!(r.cheapest.class, TableClass::StandardIa);
    }

    #[test]
    fn prices_are_set_by_name() {
        let mut p = Prices::default();
        p.set("reserved-3y-wcu-hour", 0.01).unwrap();
        assert_eq!(p.reserved[1].wcu_hour, 0.01);
        p.set("ia-storage-gb-month", 0.2).unwrap();
        assert_eq!(p.standard_ia.storage_gb_month, 0.2);
        assert_eq!(p.entries().len(), 18);
        let err = p.set("rcu-hours", 1.0).unwrap_err().to_string();
        assert!(
            err.contains("unknown price \"rcu-hours\"") && err.contains("rcu-hour,"),
            "{err}"
        );
        assert!(p.set("rcu-hour", -1.0).is_err());
        assert!(p.set("rcu-hour", f64::NAN).is_err());
    }

    #[test]
    fn the_readme_lists_every_price_with_its_default() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"));
        let mut listed = Vec::new();
        for line in readme.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let names = cells[1].split(", ").map(|n| n.trim_matches('`'));
            let values = cells[2].split(", ").map(|v| v.parse::<f64>());
            for (name, value) in names.zip(values) {
                if Prices::default().entries().iter().any(|(n, _)| *n == name) {
                    listed.push((name.to_owned(), value.unwrap()));
                }
            }
        }
        let expected: Vec<(String, f64)> = Prices::default()
            .entries()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect();
        assert_eq!(listed, expected);
    }

    #[test]
    fn lowerable_is_the_sliding_peak_over_the_target() {
        let r = [1, 1, 8, 1, 1, 1, 1];
        assert_eq!(lowerable(&r, 2, 0.8), vec![2, 2, 10, 10, 10, 2, 2]);
        assert_eq!(lowerable(&r, 0, 1.0), r.to_vec());
        assert_eq!(lowerable(&[], 5, 0.8), Vec::<u64>::new());
    }

    #[test]
    fn on_demand_starts_from_the_documented_previous_peak() {
        assert_eq!(on_demand_initial_peak(Read, None), 6_000.0);
        assert_eq!(on_demand_initial_peak(Write, Some(100.0)), 2_000.0);
        assert_eq!(on_demand_initial_peak(Write, Some(10_000.0)), 5_000.0);
    }

    #[test]
    fn mode_switch_notes() {
        let now = Timestamp::from_unix(1_800_000_000);
        let p = CapacityMode::Provisioned;
        let o = CapacityMode::OnDemand;
        assert_eq!(mode_switch_note(p, p, None, now), None);
        assert!(
            mode_switch_note(p, o, None, now)
                .unwrap()
                .contains("one switch now")
        );
        let recent = mode_switch_note(p, o, Some(now.plus_secs(-3_600)), now).unwrap();
        assert!(recent.contains("less than 24 hours ago"), "{recent}");
        assert!(
            mode_switch_note(o, p, None, now)
                .unwrap()
                .contains("always allowed")
        );
    }
}
