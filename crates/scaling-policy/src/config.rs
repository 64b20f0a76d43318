//! Configuration: deployment defaults, per-table and per-index overrides from tags, validation.
//!
//! A table opts in with the tag `<prefix>` = `on` (or `dry-run`). Overrides are further tags
//! under the same prefix:
//!
//! | tag key                                  | meaning                                  |
//! |------------------------------------------|------------------------------------------|
//! | `<prefix>:read-min`, `<prefix>:read-max`   | read capacity bounds (units/s)         |
//! | `<prefix>:write-min`, `<prefix>:write-max` | write capacity bounds (units/s)        |
//! | `<prefix>:target`                        | target utilisation, percent, 20-90       |
//! | `<prefix>:scale-up-trigger`              | utilisation that triggers a scale-up, percent, above the target, at most 100 |
//! | `<prefix>:cooldown-minutes`              | no decrease this long after an increase  |
//! | `<prefix>:up-window-minutes`             | look-back of the scale-up decision       |
//! | `<prefix>:down-window-minutes`           | look-back of the scale-down decision     |
//! | `<prefix>:max-increases-per-hour`        | runaway guard: increases of the table in an hour before it is held (table only) |
//! | `<prefix>:index:<IndexName>:<setting>`   | any of the above but the last, for one GSI only |
//! | `<prefix>:boost:<id>`                    | an announced event (see [`crate::boost`]) |
//!
//! Each tag value is parsed once, into the type of the [`Settings`] field it sets (whole units,
//! a fraction, minutes): no value passes through a float on its way. An index inherits the
//! table's settings, then applies its own. Every value is checked, and so is the merged result: an error names the tag (or default) and the value at fault, and the
//! caller leaves that table alone.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ConfigError;
use crate::boost::{self, Boost};

/// Read or write capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Read capacity units.
    Read,
    /// Write capacity units.
    Write,
}

impl Dimension {
    /// Both dimensions, reads first.
    pub const BOTH: [Dimension; 2] = [Dimension::Read, Dimension::Write];

    /// `"read"` or `"write"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Dimension::Read => "read",
            Dimension::Write => "write",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lowest and highest provisioned capacity the autoscaler may set, in units per second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bounds {
    /// Never go below this (at least 1, DynamoDB's own minimum).
    pub min: u64,
    /// Never go above this.
    pub max: u64,
}

/// The fully resolved settings for one table or one GSI.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Read capacity bounds.
    pub read: Bounds,
    /// Write capacity bounds.
    pub write: Bounds,
    /// Desired utilisation after a change, as a fraction (0.2 ..= 0.9).
    pub target: f64,
    /// Utilisation (of provisioned capacity, by estimated demand) that triggers a scale-up, as a
    /// fraction above `target` and at most 1.0.
    pub scale_up_trigger: f64,
    /// No decrease within this many seconds after the last increase.
    pub cooldown_secs: i64,
    /// Minutes of datapoints the scale-up decision looks at.
    pub up_window_minutes: u32,
    /// Minutes of datapoints the scale-down decision looks at.
    pub down_window_minutes: u32,
    /// A decrease must lower capacity by at least this fraction to be worth one of the day's
    /// scarce decreases (a decrease that rides along in the same call is free; see
    /// `scale_down`).
    pub min_decrease_fraction: f64,
    /// Minutes ahead that scale-up extrapolates a rising demand (the time a new capacity takes
    /// to be in force and checked again); 0 switches the growth rule off.
    pub growth_horizon_minutes: u32,
    /// The most the growth rule multiplies the peak demand by (1 switches it off).
    pub growth_cap: f64,
    /// Minutes of the seasonal look-ahead (the demand of yesterday's and last week's same
    /// minutes, see `seasonal`); 0 switches the seasonal floor off.
    pub seasonal_ahead_minutes: u32,
    /// A decrease the quota allows only this many seconds from now is still decided, to be made
    /// then (scheduled runs start a few seconds late or early against `LastDecreaseDateTime`).
    pub quota_grace_secs: i64,
    /// A decrease less than an hour after the previous one spends one of the day's four
    /// spacing-free decreases: it must save at least this fraction (0: no pacing).
    pub pacing_decrease_fraction: f64,
    /// The runaway guard ([`crate::runaway`]): at most this many increases of one table (its
    /// `UpdateTable` calls that raise anything) in an hour; past it the table is held.
    pub max_increases_per_hour: u32,
}

impl Settings {
    /// The bounds of one dimension.
    pub const fn bounds(&self, dimension: Dimension) -> Bounds {
        match dimension {
            Dimension::Read => self.read,
            Dimension::Write => self.write,
        }
    }
}

impl Default for Settings {
    /// The shipped defaults (the deployment can change each of them).
    fn default() -> Self {
        Self {
            read: Bounds {
                min: 1,
                max: 40_000,
            },
            write: Bounds {
                min: 1,
                max: 40_000,
            },
            // Tuned with the simulator on the real traces (README, "Simulator and benchmark"):
            // against 70/80/30 min/30 min/20%, these cut cost by about a quarter and still
            // throttle less than AWS target tracking on every trace.
            target: 0.80,
            scale_up_trigger: 0.90,
            cooldown_secs: 15 * 60,
            up_window_minutes: 5,
            down_window_minutes: 20,
            min_decrease_fraction: 0.10,
            growth_horizon_minutes: 5,
            growth_cap: 1.5,
            seasonal_ahead_minutes: 60,
            quota_grace_secs: 45,
            pacing_decrease_fraction: 0.5,
            max_increases_per_hour: crate::runaway::DEFAULT_MAX_INCREASES_PER_HOUR,
        }
    }
}

/// Longest look-back window accepted (one day).
pub const MAX_WINDOW_MINUTES: u32 = 1_440;

/// Highest runaway-guard setting accepted (more than one increase a minute is no guard).
pub const MAX_INCREASES_PER_HOUR: u32 = 60;

/// Where a setting's value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The deployment default.
    Default,
    /// A tag on the table.
    Tag {
        /// The tag key.
        key: String,
        /// The tag value as written.
        value: String,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the deployment default"),
            Origin::Tag { key, value } => write!(f, "tag {key:?} = {value:?}"),
        }
    }
}

/// One setting that a tag may override.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Setting {
    /// `read-min`
    ReadMin,
    /// `read-max`
    ReadMax,
    /// `write-min`
    WriteMin,
    /// `write-max`
    WriteMax,
    /// `target`
    Target,
    /// `scale-up-trigger`
    ScaleUpTrigger,
    /// `cooldown-minutes`
    CooldownMinutes,
    /// `up-window-minutes`
    UpWindowMinutes,
    /// `down-window-minutes`
    DownWindowMinutes,
    /// `max-increases-per-hour` (the table only, not an index)
    MaxIncreasesPerHour,
}

impl Setting {
    /// Every setting, in tag-name order of the docs.
    pub const ALL: [Setting; 10] = [
        Setting::ReadMin,
        Setting::ReadMax,
        Setting::WriteMin,
        Setting::WriteMax,
        Setting::Target,
        Setting::ScaleUpTrigger,
        Setting::CooldownMinutes,
        Setting::UpWindowMinutes,
        Setting::DownWindowMinutes,
        Setting::MaxIncreasesPerHour,
    ];

    /// The name used in tag keys.
    pub const fn tag_name(self) -> &'static str {
        match self {
            Setting::ReadMin => "read-min",
            Setting::ReadMax => "read-max",
            Setting::WriteMin => "write-min",
            Setting::WriteMax => "write-max",
            Setting::Target => "target",
            Setting::ScaleUpTrigger => "scale-up-trigger",
            Setting::CooldownMinutes => "cooldown-minutes",
            Setting::UpWindowMinutes => "up-window-minutes",
            Setting::DownWindowMinutes => "down-window-minutes",
            Setting::MaxIncreasesPerHour => "max-increases-per-hour",
        }
    }

    fn from_tag_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.tag_name() == name)
    }

    /// Whether a GSI may override it (`<prefix>:index:<IndexName>:<setting>`): all but the
    /// runaway guard, which counts the table's increases, GSIs included.
    pub const fn per_index(self) -> bool {
        !matches!(self, Setting::MaxIncreasesPerHour)
    }
}

/// How the opt-in tag asks the autoscaler to treat a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Manage the table: decide and apply.
    On,
    /// Decide and report, never call `UpdateTable`.
    DryRun,
}

impl Mode {
    /// `"on"` or `"dry-run"`: the opt-in tag's value, as in the JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::DryRun => "dry-run",
        }
    }

    /// The mode an opt-in tag value asks for: exactly `on` or `dry-run`, case and spaces
    /// included, as the IAM condition of the template (`StringEquals`) compares it. Anything
    /// else is not opted in.
    pub fn from_tag_value(value: &str) -> Option<Self> {
        match value {
            "on" => Some(Mode::On),
            "dry-run" => Some(Mode::DryRun),
            _ => None,
        }
    }

    /// The mode a value that is *not* exactly `on` or `dry-run` looks like it meant (`On`,
    /// `ON`, `on `, ` Dry-Run`...): it differs only in case or surrounding spaces. Such a table
    /// is not managed (IAM would refuse its `UpdateTable`), but it is worth saying so.
    pub fn near_miss(value: &str) -> Option<Self> {
        if Self::from_tag_value(value).is_some() {
            return None;
        }
        Self::from_tag_value(value.trim().to_ascii_lowercase().as_str())
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overrides of one table (or of one of its indexes): each tag parsed once into the type of
/// the [`Settings`] field it sets, with the tag it came from.
///
/// Adding a setting: a [`Setting`] variant, a field here, one arm in `Overrides::set` and one
/// line in `Overrides::apply`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    read_min: Option<u64>,
    read_max: Option<u64>,
    write_min: Option<u64>,
    write_max: Option<u64>,
    /// A fraction, like [`Settings::target`].
    target: Option<f64>,
    /// A fraction, like [`Settings::scale_up_trigger`].
    scale_up_trigger: Option<f64>,
    /// Seconds, like [`Settings::cooldown_secs`] (the tag gives minutes).
    cooldown_secs: Option<i64>,
    up_window_minutes: Option<u32>,
    down_window_minutes: Option<u32>,
    max_increases_per_hour: Option<u32>,
    /// The tag behind each value that is set.
    origins: BTreeMap<Setting, Origin>,
}

impl Overrides {
    /// Parses the tag `key` = `value` for `setting` and checks what can be checked on the value
    /// alone. A later tag for the same setting replaces an earlier one.
    fn set(&mut self, setting: Setting, key: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |reason: &str| ConfigError::BadTagValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let text = value.trim();
        match setting {
            Setting::ReadMin => self.read_min = Some(parse_units(text).map_err(bad)?),
            Setting::ReadMax => self.read_max = Some(parse_units(text).map_err(bad)?),
            Setting::WriteMin => self.write_min = Some(parse_units(text).map_err(bad)?),
            Setting::WriteMax => self.write_max = Some(parse_units(text).map_err(bad)?),
            Setting::Target => self.target = Some(parse_fraction(text).map_err(bad)?),
            Setting::ScaleUpTrigger => {
                self.scale_up_trigger = Some(parse_fraction(text).map_err(bad)?);
            }
            Setting::CooldownMinutes => {
                self.cooldown_secs = Some(i64::from(parse_minutes(text).map_err(bad)?) * 60);
            }
            Setting::UpWindowMinutes => {
                self.up_window_minutes = Some(parse_minutes(text).map_err(bad)?);
            }
            Setting::DownWindowMinutes => {
                self.down_window_minutes = Some(parse_minutes(text).map_err(bad)?);
            }
            Setting::MaxIncreasesPerHour => {
                self.max_increases_per_hour = Some(
                    text.parse()
                        .map_err(|_| bad("expected a whole number of increases"))?,
                );
            }
        }
        self.origins.insert(
            setting,
            Origin::Tag {
                key: key.to_owned(),
                value: value.to_owned(),
            },
        );
        Ok(())
    }

    /// Writes every value that is set into `settings`, and its tag into `origins`.
    fn apply(&self, settings: &mut Settings, origins: &mut BTreeMap<Setting, Origin>) {
        fn put<T: Copy>(field: &mut T, value: Option<T>) {
            if let Some(value) = value {
                *field = value;
            }
        }
        put(&mut settings.read.min, self.read_min);
        put(&mut settings.read.max, self.read_max);
        put(&mut settings.write.min, self.write_min);
        put(&mut settings.write.max, self.write_max);
        put(&mut settings.target, self.target);
        put(&mut settings.scale_up_trigger, self.scale_up_trigger);
        put(&mut settings.cooldown_secs, self.cooldown_secs);
        put(&mut settings.up_window_minutes, self.up_window_minutes);
        put(&mut settings.down_window_minutes, self.down_window_minutes);
        put(
            &mut settings.max_increases_per_hour,
            self.max_increases_per_hour,
        );
        origins.extend(self.origins.iter().map(|(s, o)| (*s, o.clone())));
    }
}

/// What the tags of one table say: whether it is managed, and its overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct TableTags {
    /// `None` when the table is not opted in (no opt-in tag, or a value other than exactly `on`
    /// or `dry-run`, such as `off` or `On`).
    pub mode: Option<Mode>,
    /// The opt-in tag's value as written, when the table carries the tag.
    pub opt_in_value: Option<String>,
    /// Overrides for the table itself (and, by inheritance, its indexes).
    pub table: Overrides,
    /// Overrides for single indexes, by index name.
    pub indexes: BTreeMap<String, Overrides>,
    /// The table's boosts (expired ones included: the caller decides what to do with them).
    pub boosts: Vec<Boost>,
}

impl TableTags {
    /// Parses a table's tags. `prefix` is the opt-in tag key (default `ddb-autoscaler`).
    ///
    /// Tags outside the prefix are ignored. A tag under the prefix that names no setting, or
    /// whose value does not parse, is an error naming the tag. The opt-in tag's own value is
    /// not an error: anything but exactly `on`/`dry-run` ([`Mode::from_tag_value`]) means "not
    /// managed"; [`Mode::near_miss`] tells a typo such as `On` from a deliberate `off`.
    pub fn parse<'a, I>(prefix: &str, tags: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut parsed = TableTags {
            mode: None,
            opt_in_value: None,
            table: Overrides::default(),
            indexes: BTreeMap::new(),
            boosts: Vec::new(),
        };
        for (key, value) in tags {
            if key == prefix {
                parsed.mode = Mode::from_tag_value(value);
                parsed.opt_in_value = Some(value.to_owned());
                continue;
            }
            if let Some(id) = boost::id_of_key(prefix, key) {
                parsed.boosts.push(Boost::parse(key, id, value)?);
                continue;
            }
            let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix(':')) else {
                continue;
            };
            let (index, name) = match rest.strip_prefix("index:") {
                Some(idx) => match idx.rsplit_once(':') {
                    Some((index, name)) if !index.is_empty() => (Some(index), name),
                    _ => {
                        return Err(ConfigError::UnknownTag {
                            key: key.to_owned(),
                            hint: format!(
                                "index overrides look like {prefix}:index:<IndexName>:read-max"
                            ),
                        });
                    }
                },
                None => (None, rest),
            };
            let setting = Setting::from_tag_name(name).ok_or_else(|| ConfigError::UnknownTag {
                key: key.to_owned(),
                hint: format!(
                    "known settings: {}",
                    Setting::ALL.map(Setting::tag_name).join(", ")
                ),
            })?;
            if index.is_some() && !setting.per_index() {
                return Err(ConfigError::UnknownTag {
                    key: key.to_owned(),
                    hint: format!(
                        "the runaway guard counts the table's increases, GSIs included: tag \
                         {prefix}:max-increases-per-hour on the table"
                    ),
                });
            }
            let overrides = match index {
                Some(index) => parsed.indexes.entry(index.to_owned()).or_default(),
                None => &mut parsed.table,
            };
            overrides.set(setting, key, value)?;
        }
        Ok(parsed)
    }

    /// The opt-in mode the tags give, read from the opt-in tag alone: what a table whose other
    /// tags do not parse asked for.
    pub fn mode_of<'a, I>(prefix: &str, tags: I) -> Option<Mode>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        tags.into_iter()
            .filter(|(k, _)| *k == prefix)
            .last()
            .and_then(|(_, v)| Mode::from_tag_value(v))
    }

    /// Index names that carry overrides or boosts but are not among `existing`: an error for
    /// the first.
    pub fn check_indexes<'a, I>(&self, existing: I) -> Result<(), ConfigError>
    where
        I: IntoIterator<Item = &'a str> + Clone,
    {
        for b in &self.boosts {
            if let Some(index) = &b.index
                && !existing.clone().into_iter().any(|e| e == index)
            {
                return Err(ConfigError::UnknownIndex {
                    index: index.clone(),
                    origin: format!("boost {}", b.id),
                });
            }
        }
        for (name, overrides) in &self.indexes {
            if !existing.clone().into_iter().any(|e| e == name) {
                let key = overrides
                    .origins
                    .values()
                    .next()
                    .map(Origin::to_string)
                    .unwrap_or_default();
                return Err(ConfigError::UnknownIndex {
                    index: name.clone(),
                    origin: key,
                });
            }
        }
        Ok(())
    }

    /// The settings of the table (`index` = `None`) or of one of its indexes: `defaults`, then
    /// the table's overrides, then the index's. The result is validated as a whole.
    pub fn resolve(
        &self,
        defaults: &Settings,
        index: Option<&str>,
    ) -> Result<Settings, ConfigError> {
        let mut settings = defaults.clone();
        let mut origins = BTreeMap::new();
        self.table.apply(&mut settings, &mut origins);
        if let Some(overrides) = index.and_then(|i| self.indexes.get(i)) {
            overrides.apply(&mut settings, &mut origins);
        }
        validate(&settings, |s| {
            origins.get(&s).cloned().unwrap_or(Origin::Default)
        })
    }
}

/// A capacity tag: a whole number of units, at least 1.
fn parse_units(text: &str) -> Result<u64, &'static str> {
    match text.parse() {
        Ok(0) => Err("capacity must be at least 1 (DynamoDB's minimum)"),
        Ok(n) => Ok(n),
        Err(_) => Err("expected a whole number of capacity units, at least 1"),
    }
}

/// A percentage tag (`70` or `70%`), as a fraction.
fn parse_fraction(text: &str) -> Result<f64, &'static str> {
    const EXPECTED: &str = "expected a percentage such as 70 or 70%";
    let pct: f64 = text
        .strip_suffix('%')
        .unwrap_or(text)
        .trim()
        .parse()
        .map_err(|_| EXPECTED)?;
    if pct.is_finite() {
        Ok(pct / 100.0)
    } else {
        Err(EXPECTED)
    }
}

/// A whole number of minutes.
fn parse_minutes(text: &str) -> Result<u32, &'static str> {
    text.parse()
        .map_err(|_| "expected a whole number of minutes")
}

/// Checks a complete set of settings. `origin` tells where each setting came from, for errors.
pub fn validate(s: &Settings, origin: impl Fn(Setting) -> Origin) -> Result<Settings, ConfigError> {
    let contradiction = |problem: String, settings: &[Setting]| {
        let keys = settings
            .iter()
            .filter_map(|s| match origin(*s) {
                Origin::Tag { key, .. } => Some(key),
                Origin::Default => None,
            })
            .collect();
        Err(ConfigError::Contradiction { problem, keys })
    };
    for (dim, min_s, max_s) in [
        (Dimension::Read, Setting::ReadMin, Setting::ReadMax),
        (Dimension::Write, Setting::WriteMin, Setting::WriteMax),
    ] {
        let b = s.bounds(dim);
        if b.min < 1 {
            return contradiction(
                format!("{dim} min {} from {} is below 1", b.min, origin(min_s)),
                &[min_s],
            );
        }
        if b.min > b.max {
            return contradiction(
                format!(
                    "{dim} min {} (from {}) is greater than {dim} max {} (from {})",
                    b.min,
                    origin(min_s),
                    b.max,
                    origin(max_s)
                ),
                &[min_s, max_s],
            );
        }
    }
    if !(0.2..=0.9).contains(&s.target) {
        return contradiction(
            format!(
                "target utilisation {}% (from {}) is outside 20-90%",
                as_percent(s.target),
                origin(Setting::Target)
            ),
            &[Setting::Target],
        );
    }
    if !(s.scale_up_trigger > s.target && s.scale_up_trigger <= 1.0) {
        return contradiction(
            format!(
                "scale-up trigger {}% (from {}) must be above the target {}% (from {}) and at most 100%",
                as_percent(s.scale_up_trigger),
                origin(Setting::ScaleUpTrigger),
                as_percent(s.target),
                origin(Setting::Target)
            ),
            &[Setting::ScaleUpTrigger, Setting::Target],
        );
    }
    for (minutes, setting) in [
        (s.up_window_minutes, Setting::UpWindowMinutes),
        (s.down_window_minutes, Setting::DownWindowMinutes),
    ] {
        if !(1..=MAX_WINDOW_MINUTES).contains(&minutes) {
            return contradiction(
                format!(
                    "{} {minutes} (from {}) is outside 1-{MAX_WINDOW_MINUTES}",
                    setting.tag_name(),
                    origin(setting)
                ),
                &[setting],
            );
        }
    }
    if s.cooldown_secs < 0 {
        return contradiction(
            format!(
                "cooldown {} s (from {}) is negative",
                s.cooldown_secs,
                origin(Setting::CooldownMinutes)
            ),
            &[Setting::CooldownMinutes],
        );
    }
    if !(0.0..1.0).contains(&s.min_decrease_fraction) {
        return contradiction(
            format!(
                "minimum decrease {}% is outside 0-99%",
                as_percent(s.min_decrease_fraction)
            ),
            &[],
        );
    }
    if s.growth_horizon_minutes > 60 {
        return contradiction(
            format!(
                "growth horizon {} minutes is outside 0-60",
                s.growth_horizon_minutes
            ),
            &[],
        );
    }
    if !(1.0..=4.0).contains(&s.growth_cap) {
        return contradiction(
            format!(
                "growth cap {} is outside 1-4 (1 switches growth off)",
                s.growth_cap
            ),
            &[],
        );
    }
    if s.seasonal_ahead_minutes > 360 {
        return contradiction(
            format!(
                "seasonal look-ahead {} minutes is outside 0-360",
                s.seasonal_ahead_minutes
            ),
            &[],
        );
    }
    if !(0..=55).contains(&s.quota_grace_secs) {
        return contradiction(
            format!("quota grace {} s is outside 0-55", s.quota_grace_secs),
            &[],
        );
    }
    if !(1..=MAX_INCREASES_PER_HOUR).contains(&s.max_increases_per_hour) {
        return contradiction(
            format!(
                "max-increases-per-hour {} (from {}) is outside 1-{MAX_INCREASES_PER_HOUR}",
                s.max_increases_per_hour,
                origin(Setting::MaxIncreasesPerHour)
            ),
            &[Setting::MaxIncreasesPerHour],
        );
    }
    if !(0.0..1.0).contains(&s.pacing_decrease_fraction) {
        return contradiction(
            format!(
                "pacing decrease {}% is outside 0-99%",
                as_percent(s.pacing_decrease_fraction)
            ),
            &[],
        );
    }
    Ok(s.clone())
}

/// A fraction as a percentage with one decimal, for messages (0.8 -> 80, 0.195 -> 19.5).
fn as_percent(fraction: f64) -> f64 {
    (fraction * 1000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&'static str, &'static str)]) -> Result<TableTags, ConfigError> {
        TableTags::parse("ddb-autoscaler", pairs.iter().copied())
    }

    #[test]
    fn opt_in_values() {
        assert_eq!(
            tags(&[("ddb-autoscaler", "on")]).unwrap().mode,
            Some(Mode::On)
        );
        assert_eq!(
            tags(&[("ddb-autoscaler", "dry-run")]).unwrap().mode,
            Some(Mode::DryRun)
        );
        assert_eq!(tags(&[("ddb-autoscaler", "off")]).unwrap().mode, None);
        assert_eq!(tags(&[("team", "payments")]).unwrap().mode, None);
    }

    #[test]
    fn the_opt_in_value_is_compared_as_iam_compares_it() {
        // The template's IAM condition is a case-sensitive StringEquals "on": a table tagged
        // "On" would be decided on and then refused UpdateTable every minute.
        for near in ["On", "ON", "on ", " on", "Dry-Run", "DRY-RUN", "dry-run\t"] {
            let t = tags(&[("ddb-autoscaler", near)]).unwrap();
            assert_eq!(t.mode, None, "{near:?} is not opted in");
            assert_eq!(t.opt_in_value.as_deref(), Some(near));
            assert!(Mode::near_miss(near).is_some(), "{near:?} is a near miss");
        }
        for other in ["off", "", "yes", "onn", "dryrun"] {
            assert_eq!(tags(&[("ddb-autoscaler", other)]).unwrap().mode, None);
            assert_eq!(Mode::near_miss(other), None, "{other:?} is no near miss");
        }
        assert_eq!(Mode::near_miss("on"), None, "exactly on is no miss at all");
    }

    #[test]
    fn table_and_index_overrides_merge_over_defaults() {
        let t = tags(&[
            ("ddb-autoscaler", "on"),
            ("ddb-autoscaler:read-max", "500"),
            ("ddb-autoscaler:target", "60%"),
            ("ddb-autoscaler:index:by-user:read-max", "50"),
            ("ddb-autoscaler:index:by-user:write-min", "5"),
        ])
        .unwrap();
        let d = Settings::default();
        let table = t.resolve(&d, None).unwrap();
        assert_eq!(table.read, Bounds { min: 1, max: 500 });
        assert_eq!(table.write, d.write);
        assert!((table.target - 0.6).abs() < 1e-9);
        let idx = t.resolve(&d, Some("by-user")).unwrap();
        assert_eq!(idx.read.max, 50);
        assert_eq!(idx.write.min, 5);
        assert!(
            (idx.target - 0.6).abs() < 1e-9,
            "index inherits the table's target"
        );
        let other = t.resolve(&d, Some("by-date")).unwrap();
        assert_eq!(other.read.max, 500);
    }

    #[test]
    fn overrides_keep_their_exact_values() {
        // 2^53 + 1 units is not a float: a value parsed as f64 and cast back loses the last unit.
        let t = tags(&[
            ("ddb-autoscaler:read-max", "9007199254740993"),
            ("ddb-autoscaler:cooldown-minutes", "7"),
            ("ddb-autoscaler:up-window-minutes", "3"),
        ])
        .unwrap();
        let s = t.resolve(&Settings::default(), None).unwrap();
        assert_eq!(s.read.max, 9_007_199_254_740_993);
        assert_eq!(s.cooldown_secs, 7 * 60);
        assert_eq!(s.up_window_minutes, 3);
        let d = Settings {
            cooldown_secs: 61,
            ..Settings::default()
        };
        assert_eq!(
            tags(&[]).unwrap().resolve(&d, None).unwrap().cooldown_secs,
            61,
            "an untagged cooldown keeps the default's exact seconds"
        );
    }

    #[test]
    fn min_above_max_names_both_tags() {
        let t = tags(&[
            ("ddb-autoscaler:read-min", "900"),
            ("ddb-autoscaler:read-max", "100"),
        ])
        .unwrap();
        let err = t
            .resolve(&Settings::default(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"ddb-autoscaler:read-min\" = \"900\""),
            "{err}"
        );
        assert!(
            err.contains("\"ddb-autoscaler:read-max\" = \"100\""),
            "{err}"
        );
    }

    #[test]
    fn min_above_default_max_names_the_default() {
        let t = tags(&[("ddb-autoscaler:write-min", "50000")]).unwrap();
        let err = t
            .resolve(&Settings::default(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("deployment default"), "{err}");
    }

    #[test]
    fn target_out_of_range_is_an_error() {
        for v in ["95", "10", "19.9%"] {
            let t = tags(&[("ddb-autoscaler:target", v)]).unwrap();
            let err = t
                .resolve(&Settings::default(), None)
                .unwrap_err()
                .to_string();
            assert!(err.contains("20-90%") && err.contains(v), "{v}: {err}");
        }
        let t = tags(&[("ddb-autoscaler:target", "90")]).unwrap();
        let err = t
            .resolve(&Settings::default(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("scale-up trigger"),
            "target 90 is not below the trigger 90: {err}"
        );
    }

    #[test]
    fn unparsable_values_name_the_tag() {
        for (k, v) in [
            ("ddb-autoscaler:read-max", "lots"),
            ("ddb-autoscaler:read-max", "0"),
            ("ddb-autoscaler:write-min", "-3"),
            ("ddb-autoscaler:target", "seventy"),
            ("ddb-autoscaler:cooldown-minutes", "1.5"),
        ] {
            let err = TableTags::parse("ddb-autoscaler", [(k, v)]).unwrap_err();
            assert!(matches!(err, ConfigError::BadTagValue { .. }), "{k}={v}");
            let msg = err.to_string();
            assert!(msg.contains(k) && msg.contains(v), "{msg}");
        }
    }

    #[test]
    fn unknown_settings_are_errors_not_silently_ignored() {
        let err = tags(&[("ddb-autoscaler:raed-max", "5")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("raed-max") && err.contains("read-max"),
            "{err}"
        );
        let err = tags(&[("ddb-autoscaler:index:read-max", "5")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("index:<IndexName>"), "{err}");
        // A different prefix that merely starts the same is not ours.
        assert!(tags(&[("ddb-autoscaler-team", "x")]).is_ok());
    }

    #[test]
    fn the_runaway_guard_is_set_on_the_table_only() {
        let t = tags(&[("ddb-autoscaler:max-increases-per-hour", "12")]).unwrap();
        let s = t.resolve(&Settings::default(), None).unwrap();
        assert_eq!(s.max_increases_per_hour, 12);
        let err = tags(&[("ddb-autoscaler:index:by-user:max-increases-per-hour", "12")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("on the table"), "{err}");
        for v in ["0", "61"] {
            let t = tags(&[("ddb-autoscaler:max-increases-per-hour", v)]).unwrap();
            let err = t
                .resolve(&Settings::default(), None)
                .unwrap_err()
                .to_string();
            assert!(err.contains("1-60") && err.contains(v), "{err}");
        }
    }

    #[test]
    fn overrides_for_missing_index_are_reported() {
        let t = tags(&[("ddb-autoscaler:index:gone:read-max", "5")]).unwrap();
        assert!(t.check_indexes(["by-user"]).is_err());
        assert!(t.check_indexes(["by-user", "gone"]).is_ok());
    }

    #[test]
    fn boost_tags_are_parsed_not_taken_for_settings() {
        let t = tags(&[
            ("ddb-autoscaler", "on"),
            (
                "ddb-autoscaler:boost:b1",
                "write=2000 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z index=by-user",
            ),
        ])
        .unwrap();
        assert_eq!(t.boosts.len(), 1);
        assert_eq!(t.boosts[0].write, Some(2000));
        assert!(t.check_indexes(["by-user"]).is_ok());
        let err = t.check_indexes(["other"]).unwrap_err();
        assert!(matches!(err, ConfigError::UnknownIndex { .. }), "{err}");
        let err = tags(&[("ddb-autoscaler:boost:b1", "write=lots")]).unwrap_err();
        assert!(err.to_string().contains("ddb-autoscaler:boost:b1"), "{err}");
    }

    #[test]
    fn contradictions_list_the_tags_involved() {
        let t = tags(&[
            ("ddb-autoscaler:read-min", "900"),
            ("ddb-autoscaler:read-max", "100"),
        ])
        .unwrap();
        match t.resolve(&Settings::default(), None) {
            Err(ConfigError::Contradiction { keys, .. }) => {
                assert_eq!(keys, ["ddb-autoscaler:read-min", "ddb-autoscaler:read-max"])
            }
            other => panic!("{other:?}"),
        }
        let t = tags(&[("ddb-autoscaler:write-min", "50000")]).unwrap();
        match t.resolve(&Settings::default(), None) {
            Err(ConfigError::Contradiction { keys, .. }) => {
                assert_eq!(keys, ["ddb-autoscaler:write-min"], "the default is no tag")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        let d = Settings::default();
        assert_eq!(validate(&d, |_| Origin::Default).unwrap(), d);
    }
}
