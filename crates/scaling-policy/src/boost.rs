//! Boosts: announced events ("we launch at 14:00, hold 2,000 WCU from 13:45 to 16:00"), kept
//! as tags on the table, and the capacity floor they ask for at a given `now`.
//!
//! **The model.** A [`Boost`] asks for at least `read` and/or `write` units on the table or on
//! one GSI (`index`) from `from` until `until`. It is in force from [`LEAD_SECS`] before `from`
//! (five minutes: an increase takes seconds to minutes to be in force, and the table must be
//! ready when the traffic comes) until `until` ([`Boost::is_active`]); after that it is expired
//! and normal rules apply. Several boosts on the same part and dimension ask for the highest of
//! their units ([`floor`]). The floor is passed to the rules as
//! [`DimensionInput::boost`](crate::DimensionInput::boost): scale-up raises to it, scale-down
//! never lowers below it, both within the dimension's min and max.
//!
//! **The tag encoding.** One tag per boost, key `<prefix>:boost:<id>` ([`tag_key`]), value
//! words `read=<units> write=<units> from=<RFC 3339> until=<RFC 3339> index=<GSI> note=<text>`
//! ([`Boost::tag_value`]), where `read`/`write` (at least one) and `index` may be left out and
//! `note` comes last and runs to the end of the value, spaces included. Every character is one
//! DynamoDB allows in tags (letters, digits, spaces and `_ . : / = + - @`, never `,;"{}`): ids
//! are lowercase letters and digits, times are UTC (`2026-12-01T13:45:00Z`), GSI names use
//! letters, digits and `_ . -`, and notes are restricted to ASCII letters, digits, spaces and
//! those symbols. A key has at most [`MAX_TAG_KEY_CHARS`] characters and a value at most
//! [`MAX_TAG_VALUE_CHARS`]; a boost that would not fit is refused when created. A tag that
//! does not parse is an error naming it ([`Boost::parse`]), like a malformed override.
//!
//! **Limits.** At most [`MAX_BOOSTS_PER_TABLE`] boosts per table that have not expired, and
//! DynamoDB's [`MAX_TAGS_PER_TABLE`] tags per table ([`check_room`]); a boost never asks for
//! more than the part's max or the account's limit ([`Boost::check_limits`]).

use crate::ConfigError;
use crate::config::Dimension;
use crate::time::Timestamp;

/// A boost is in force this many seconds before its `from`.
pub const LEAD_SECS: i64 = 300;
/// Boosts that have not expired, per table.
pub const MAX_BOOSTS_PER_TABLE: usize = 5;
/// DynamoDB's limit of tags per table.
pub const MAX_TAGS_PER_TABLE: usize = 50;
/// DynamoDB's limit on the length of a tag key.
pub const MAX_TAG_KEY_CHARS: usize = 128;
/// DynamoDB's limit on the length of a tag value.
pub const MAX_TAG_VALUE_CHARS: usize = 256;
/// The longest note a boost keeps.
pub const MAX_NOTE_CHARS: usize = 100;
/// The longest boost id.
pub const MAX_ID_CHARS: usize = 16;

/// The word between the prefix and the id in a boost's tag key.
const KEY_WORD: &str = "boost";

/// One announced event: a timed capacity floor on the table or one GSI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Boost {
    /// Lowercase letters and digits, unique among the table's boosts.
    pub id: String,
    /// `None` for the table itself, else the GSI.
    pub index: Option<String>,
    /// Read units asked for, if any.
    pub read: Option<u64>,
    /// Write units asked for, if any.
    pub write: Option<u64>,
    /// When the traffic comes (the floor is in force [`LEAD_SECS`] earlier).
    pub from: Timestamp,
    /// When the floor ends.
    pub until: Timestamp,
    /// What it is for (may be empty).
    pub note: String,
}

/// Where a boost stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not in force yet (before `from` minus [`LEAD_SECS`]).
    Scheduled,
    /// In force.
    Active,
    /// Over (`until` has passed): ignored, and its tag is removed by the next scale-up run.
    Expired,
}

impl State {
    /// `scheduled`, `active` or `expired`.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Scheduled => "scheduled",
            State::Active => "active",
            State::Expired => "expired",
        }
    }
}

/// The tag key of the boost `id` under `prefix`: `<prefix>:boost:<id>`.
pub fn tag_key(prefix: &str, id: &str) -> String {
    format!("{prefix}:{KEY_WORD}:{id}")
}

/// The boost id a tag key names under `prefix`, if it is a boost's key.
pub fn id_of_key<'a>(prefix: &str, key: &'a str) -> Option<&'a str> {
    key.strip_prefix(prefix)?
        .strip_prefix(':')?
        .strip_prefix(KEY_WORD)?
        .strip_prefix(':')
}

/// Whether `c` may appear in a note: ASCII letters and digits, spaces, and the other
/// characters DynamoDB allows in tags.
fn note_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)
}

/// Whether `id` is a valid boost id.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Whether `name` is a valid DynamoDB table or index name (3-255 of `a-z A-Z 0-9 _ - .`).
pub fn valid_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

impl Boost {
    /// The units asked for in `dimension`.
    pub const fn units(&self, dimension: Dimension) -> Option<u64> {
        match dimension {
            Dimension::Read => self.read,
            Dimension::Write => self.write,
        }
    }

    /// The first instant the floor is in force: [`LEAD_SECS`] before `from`.
    pub const fn active_from(&self) -> Timestamp {
        self.from.plus_secs(-LEAD_SECS)
    }

    /// Whether the floor is in force at `now`: from [`Boost::active_from`] until `until`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.active_from() <= now && now < self.until
    }

    /// Whether the boost is over at `now` (its tag may be removed).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.until
    }

    /// Where the boost stands at `now`.
    pub fn state(&self, now: Timestamp) -> State {
        if self.is_expired(now) {
            State::Expired
        } else if self.is_active(now) {
            State::Active
        } else {
            State::Scheduled
        }
    }

    /// The tag value that keeps this boost (see the module docs).
    pub fn tag_value(&self) -> String {
        let mut words = Vec::new();
        if let Some(r) = self.read {
            words.push(format!("read={r}"));
        }
        if let Some(w) = self.write {
            words.push(format!("write={w}"));
        }
        words.push(format!("from={}", self.from));
        words.push(format!("until={}", self.until));
        if let Some(index) = &self.index {
            words.push(format!("index={index}"));
        }
        if !self.note.is_empty() {
            words.push(format!("note={}", self.note));
        }
        words.join(" ")
    }

    /// Reads the boost `id` from its tag `key` = `value`; the error names the tag.
    pub fn parse(key: &str, id: &str, value: &str) -> Result<Self, ConfigError> {
        let bad = |reason: String| ConfigError::BadTagValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason,
        };
        if !valid_id(id) {
            return Err(ConfigError::UnknownTag {
                key: key.to_owned(),
                hint: format!(
                    "boost ids are 1-{MAX_ID_CHARS} lowercase letters and digits: <prefix>:{KEY_WORD}:<id>"
                ),
            });
        }
        let (words, note) = match value.split_once("note=") {
            Some((w, n)) if w.is_empty() || w.ends_with(' ') => (w, n),
            _ => (value, ""),
        };
        let (mut read, mut write, mut from, mut until, mut index) = (None, None, None, None, None);
        for word in words.split_whitespace() {
            let (name, v) = word
                .split_once('=')
                .ok_or_else(|| bad(format!("{word:?} is not name=value")))?;
            let units = || -> Result<u64, ConfigError> {
                match v.parse() {
                    Ok(0) | Err(_) => Err(bad(format!(
                        "{name}={v}: expected a whole number of units, at least 1"
                    ))),
                    Ok(n) => Ok(n),
                }
            };
            let time = || {
                Timestamp::parse_rfc3339(v)
                    .ok_or_else(|| bad(format!("{name}={v}: expected an RFC 3339 time")))
            };
            let slot_taken = match name {
                "read" => read.replace(units()?).is_some(),
                "write" => write.replace(units()?).is_some(),
                "from" => from.replace(time()?).is_some(),
                "until" => until.replace(time()?).is_some(),
                "index" if valid_name(v) => index.replace(v.to_owned()).is_some(),
                "index" => return Err(bad(format!("index={v}: not a GSI name"))),
                _ => {
                    return Err(bad(format!(
                        "unknown word {name:?} (read, write, from, until, index, note)"
                    )));
                }
            };
            if slot_taken {
                return Err(bad(format!("{name} is given twice")));
            }
        }
        if !note.chars().all(note_char) {
            return Err(bad("the note has a character tags do not allow".to_owned()));
        }
        let boost = Boost {
            id: id.to_owned(),
            index,
            read,
            write,
            from: from.ok_or_else(|| bad("from= is missing".to_owned()))?,
            until: until.ok_or_else(|| bad("until= is missing".to_owned()))?,
            note: note.to_owned(),
        };
        if boost.read.is_none() && boost.write.is_none() {
            return Err(bad("neither read= nor write= is given".to_owned()));
        }
        if boost.until <= boost.from {
            return Err(bad("until is not after from".to_owned()));
        }
        Ok(boost)
    }

    /// Checks a boost about to be created under `prefix` at `now`: the error names the field at
    /// fault (`id`, `read`, `write`, `until`, `note`, `index`).
    pub fn check_new(&self, prefix: &str, now: Timestamp) -> Result<(), ConfigError> {
        let err = |field, problem: String| Err(ConfigError::Boost { field, problem });
        if !valid_id(&self.id) {
            return err(
                "id",
                format!(
                    "{:?} is not 1-{MAX_ID_CHARS} lowercase letters and digits",
                    self.id
                ),
            );
        }
        if self.read.is_none() && self.write.is_none() {
            return err("read", "give read or write units (or both)".to_owned());
        }
        for (field, units) in [("read", self.read), ("write", self.write)] {
            if units == Some(0) {
                return err(field, "capacity must be at least 1 unit".to_owned());
            }
        }
        if let Some(index) = &self.index
            && !valid_name(index)
        {
            return err("index", format!("{index:?} is not a GSI name"));
        }
        if self.until <= self.from {
            return err(
                "until",
                format!("until {} is not after from {}", self.until, self.from),
            );
        }
        if self.is_expired(now) {
            return err(
                "until",
                format!(
                    "the boost is in the past: until {} is not after now ({now})",
                    self.until
                ),
            );
        }
        if self.note.chars().count() > MAX_NOTE_CHARS {
            return err("note", format!("at most {MAX_NOTE_CHARS} characters"));
        }
        if !self.note.chars().all(note_char) {
            return err(
                "note",
                "only ASCII letters, digits, spaces and _ . : / = + - @ (what tags allow)"
                    .to_owned(),
            );
        }
        let key = tag_key(prefix, &self.id);
        if key.chars().count() > MAX_TAG_KEY_CHARS {
            return err(
                "id",
                format!(
                    "the tag key {key:?} is longer than DynamoDB's {MAX_TAG_KEY_CHARS} characters"
                ),
            );
        }
        let value = self.tag_value().chars().count();
        if value > MAX_TAG_VALUE_CHARS {
            return err(
                if self.note.is_empty() {
                    "index"
                } else {
                    "note"
                },
                format!(
                    "the boost's tag value would be {value} characters, DynamoDB allows {MAX_TAG_VALUE_CHARS}: shorten the note"
                ),
            );
        }
        Ok(())
    }

    /// Checks the units against the part's max (`max`: the resolved setting, already capped at
    /// the table quota) and the account's limit (`DescribeLimits`, when known), per dimension.
    pub fn check_limits(
        &self,
        max: impl Fn(Dimension) -> u64,
        account: Option<(u64, u64)>,
    ) -> Result<(), ConfigError> {
        let part = self
            .index
            .as_deref()
            .map_or_else(|| "the table".to_owned(), |i| format!("the index {i}"));
        for dimension in Dimension::BOTH {
            let Some(units) = self.units(dimension) else {
                continue;
            };
            let max = max(dimension);
            if units > max {
                return Err(ConfigError::Boost {
                    field: dimension.as_str(),
                    problem: format!(
                        "{units} {dimension} units is above the max of {part}, {max} (its {dimension}-max setting within the table quota)"
                    ),
                });
            }
            let limit = account.map(|(r, w)| match dimension {
                Dimension::Read => r,
                Dimension::Write => w,
            });
            if let Some(limit) = limit
                && units > limit
            {
                return Err(ConfigError::Boost {
                    field: dimension.as_str(),
                    problem: format!(
                        "{units} {dimension} units is above the account's limit of {limit} (DescribeLimits)"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The floor the active boosts of a table ask for on `index` (`None`: the table) in `dimension`
/// at `now`: the highest units among them, `None` when none is active.
pub fn floor(
    boosts: &[Boost],
    index: Option<&str>,
    dimension: Dimension,
    now: Timestamp,
) -> Option<u64> {
    boosts
        .iter()
        .filter(|b| b.index.as_deref() == index && b.is_active(now))
        .filter_map(|b| b.units(dimension))
        .max()
}

/// Whether a table with `boosts` and `tag_count` tags in all has room for one more boost at
/// `now`: fewer than [`MAX_BOOSTS_PER_TABLE`] that have not expired, and at most
/// [`MAX_TAGS_PER_TABLE`] tags with the new one.
pub fn check_room(boosts: &[Boost], tag_count: usize, now: Timestamp) -> Result<(), ConfigError> {
    let live = boosts.iter().filter(|b| !b.is_expired(now)).count();
    if live >= MAX_BOOSTS_PER_TABLE {
        return Err(ConfigError::TooManyBoosts {
            max: MAX_BOOSTS_PER_TABLE,
        });
    }
    check_tag_count(tag_count + 1)
}

/// Whether a table may carry `count` tags ([`MAX_TAGS_PER_TABLE`]).
pub fn check_tag_count(count: usize) -> Result<(), ConfigError> {
    if count > MAX_TAGS_PER_TABLE {
        return Err(ConfigError::TooManyTags {
            count,
            max: MAX_TAGS_PER_TABLE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn launch() -> Boost {
        Boost {
            id: "k3x9".into(),
            index: None,
            read: None,
            write: Some(2000),
            from: at("2026-12-01T13:45:00Z"),
            until: at("2026-12-01T16:00:00Z"),
            note: "launch at 14:00".into(),
        }
    }

    #[test]
    fn tags_round_trip_in_legal_characters() {
        let mut with_index = launch();
        with_index.index = Some("by-customer.v2".into());
        with_index.read = Some(40_000);
        with_index.note = "team X: launch @ 14:00 + promo/2 = big".into();
        let mut no_note = launch();
        no_note.note.clear();
        for b in [launch(), with_index, no_note] {
            let key = tag_key("ddb-autoscaler", &b.id);
            let value = b.tag_value();
            let legal = |c: char| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c);
            assert!(
                key.chars().all(legal) && value.chars().all(legal),
                "{key} = {value}"
            );
            assert_eq!(id_of_key("ddb-autoscaler", &key), Some(b.id.as_str()));
            assert_eq!(Boost::parse(&key, &b.id, &value), Ok(b.clone()), "{value}");
            b.check_new("ddb-autoscaler", at("2026-12-01T00:00:00Z"))
                .unwrap();
        }
        assert_eq!(
            launch().tag_value(),
            "write=2000 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z note=launch at 14:00"
        );
        assert_eq!(id_of_key("ddb-autoscaler", "ddb-autoscaler:read-max"), None);
        assert_eq!(id_of_key("ddb-autoscaler", "other:boost:x"), None);
    }

    #[test]
    fn malformed_tags_name_the_tag() {
        let key = "ddb-autoscaler:boost:b1";
        for value in [
            "",
            "write=2000 from=2026-12-01T13:45:00Z",
            "write=0 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z",
            "from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z",
            "write=2000 from=13:45 until=2026-12-01T16:00:00Z",
            "write=2000 from=2026-12-01T16:00:00Z until=2026-12-01T13:45:00Z",
            "write=2000 write=3 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z",
            "wirte=2000 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z",
            "write=2000 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z index=x",
            "write=2000 from=2026-12-01T13:45:00Z until=2026-12-01T16:00:00Z note={launch}",
        ] {
            let err = Boost::parse(key, "b1", value).unwrap_err();
            assert!(
                matches!(err, ConfigError::BadTagValue { .. }),
                "{value}: {err}"
            );
            assert!(err.to_string().contains(key), "{err}");
        }
        let err = Boost::parse("ddb-autoscaler:boost:B-1", "B-1", "write=1").unwrap_err();
        assert!(matches!(err, ConfigError::UnknownTag { .. }), "{err}");
    }

    #[test]
    fn the_floor_starts_five_minutes_before_from_and_ends_at_until() {
        let b = launch();
        let boosts = [b.clone()];
        let floor_at = |t: Timestamp| floor(&boosts, None, Dimension::Write, t);
        assert_eq!(floor_at(b.from.plus_secs(-LEAD_SECS - 1)), None);
        assert_eq!(floor_at(b.from.plus_secs(-LEAD_SECS)), Some(2000));
        assert_eq!(floor_at(b.until.plus_secs(-1)), Some(2000));
        assert_eq!(floor_at(b.until), None, "over at until");
        assert!(b.is_expired(b.until) && !b.is_expired(b.until.plus_secs(-1)));
        assert_eq!(b.state(b.active_from().plus_secs(-1)), State::Scheduled);
        assert_eq!(b.state(b.active_from()), State::Active);
        assert_eq!(b.state(b.until), State::Expired);
        assert_eq!(
            floor(&boosts, None, Dimension::Read, b.from),
            None,
            "writes only"
        );
        assert_eq!(
            floor(&boosts, Some("gsi"), Dimension::Write, b.from),
            None,
            "table only"
        );
    }

    #[test]
    fn overlapping_boosts_ask_for_the_highest() {
        let mut second = launch();
        second.id = "b2".into();
        second.write = Some(3000);
        second.from = at("2026-12-01T15:00:00Z");
        let boosts = [launch(), second];
        let f = |s| floor(&boosts, None, Dimension::Write, at(s));
        assert_eq!(f("2026-12-01T14:00:00Z"), Some(2000));
        assert_eq!(f("2026-12-01T14:55:00Z"), Some(3000));
    }

    #[test]
    fn new_boosts_are_checked_field_by_field() {
        let now = at("2026-12-01T12:00:00Z");
        let field = |b: Boost| match b.check_new("ddb-autoscaler", now) {
            Err(ConfigError::Boost { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let mut b = launch();
        b.until = now;
        assert_eq!(field(b.clone()), "until", "a boost in the past");
        b.from = at("2026-12-01T17:00:00Z");
        b.until = at("2026-12-01T16:00:00Z");
        assert_eq!(field(b), "until");
        let mut b = launch();
        b.write = None;
        assert_eq!(field(b), "read");
        let mut b = launch();
        b.note = "a;b".into();
        assert_eq!(field(b.clone()), "note");
        b.note = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(field(b), "note");
        let mut b = launch();
        b.id = "Upper".into();
        assert_eq!(field(b), "id");
        let mut b = launch();
        b.index = Some("i".repeat(200));
        assert_eq!(field(b), "note", "too long to encode");
        // Already running (from in the past) is fine while until is ahead.
        let mut b = launch();
        b.from = at("2026-12-01T11:00:00Z");
        assert_eq!(b.check_new("ddb-autoscaler", now), Ok(()));
    }

    #[test]
    fn limits_bound_every_dimension_asked_for() {
        let b = launch();
        let max = |d| if d == Dimension::Write { 1000 } else { 10 };
        let err = b.check_limits(max, None).unwrap_err();
        assert!(
            matches!(&err, ConfigError::Boost { field: "write", problem } if problem.contains("max of the table, 1000")),
            "{err}"
        );
        let err = b
            .check_limits(|_| 40_000, Some((80_000, 1500)))
            .unwrap_err();
        assert!(err.to_string().contains("account's limit of 1500"), "{err}");
        assert_eq!(b.check_limits(|_| 2000, Some((80_000, 2000))), Ok(()));
    }

    #[test]
    fn room_counts_live_boosts_and_every_tag() {
        let now = at("2026-12-01T12:00:00Z");
        let mut boosts: Vec<Boost> = (0..5)
            .map(|i| Boost {
                id: format!("b{i}"),
                ..launch()
            })
            .collect();
        assert_eq!(
            check_room(&boosts, 6, now),
            Err(ConfigError::TooManyBoosts { max: 5 })
        );
        boosts[0].until = now;
        assert_eq!(
            check_room(&boosts, 6, now),
            Ok(()),
            "an expired boost leaves room"
        );
        assert_eq!(
            check_room(&boosts, 50, now),
            Err(ConfigError::TooManyTags { count: 51, max: 50 })
        );
    }
}
