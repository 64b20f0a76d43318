//! Demand traces: per-minute demand in capacity units per second, loaded from CSV files of
//! request counts or made in code ([`crate::synthetic`]).
//!
//! **CSV layouts.** One header line, then one row per step, comma-separated:
//! - a timestamp column, found by name (`timestamp`, `period`, `time`, `datetime`, `date`,
//!   `ts`), else the first column;
//! - one value column: the one named with [`TraceOptions::column`], else the first of `value`,
//!   `count`, `request_count`, `requests`, `invocations`, `rate`, else the only other column of a
//!   two-column file. So `timestamp,value` (NAB), `period,count` (WorldCup98) and the NASA file's
//!   `timestamp,request_count,total_bytes,...` all load without options.
//!
//! **Timestamps** are `YYYY-MM-DD[ T]HH:MM[:SS[.fff]]` with an optional UTC offset (`Z`, `UTC`,
//! `+02:00`, `-0400`...), or Unix seconds. Times are converted to UTC as written: one without an
//! offset is taken to be UTC already. Minute 0 of the trace starts at the first timestamp
//! rounded down to the minute.
//!
//! **Step and gaps.** The step is the most common spacing between rows and must be a whole
//! number of minutes (the real traces use 1 and 5; 30 works too). A larger spacing that is a
//! multiple of the step means missing steps; an empty value cell is a missing step too. A
//! missing step is **no data**, not zero and not the previous rate: the simulator runs such
//! minutes with no traffic and publishes no CloudWatch datapoint for them, so each policy's
//! handling of missing data is exercised. A run of exact zeros at least
//! [`TraceOptions::zero_run_gap_minutes`] long (default 6 h) is treated as missing too: a web
//! log with hours of exactly nothing is a hole in the logs (the NASA trace has 3.4 days of such
//! unflagged zeros), not an idle service.
//!
//! **Rates and scale.** Each step's count is turned into a rate per second held constant over
//! the step's minutes, and the whole trace is scaled so that the median of its non-zero values
//! is [`TraceOptions::target_median`] units/s (default 100). Spacing that is not a multiple of
//! the step, timestamps that go backwards, and unparsable cells are errors naming the file and
//! the line; so is a file spanning more than [`MAX_TRACE_MINUTES`] (every minute is held in
//! memory).
//!
//! **Repeated timestamps** (a local-time export across a daylight-saving change repeats an
//! hour) are an error by default, which names the choice: [`TraceOptions::duplicates`] =
//! [`Duplicates::Sum`] adds the repeated rows' counts into one step, [`Duplicates::Last`] keeps
//! the last row. A row may repeat any earlier timestamp (the whole repeated hour comes again);
//! a row earlier than the latest one that repeats none is still out of order.

use std::collections::HashMap;
use std::path::Path;

use scaling_policy::Timestamp;
use scaling_policy::time::DAY_SECS;
use serde::Serialize;

use crate::Error;

/// Default median of the non-zero demand after scaling, units/s.
pub const DEFAULT_TARGET_MEDIAN: f64 = 100.0;
/// Default minimum run of exact zeros treated as missing data, minutes.
pub const DEFAULT_ZERO_RUN_GAP_MINUTES: u32 = 360;

/// The longest span a trace may have, in minutes (four years): every minute of a trace is held
/// in memory, so a file whose rows lie millennia apart is refused rather than allocated.
pub const MAX_TRACE_MINUTES: i64 = 4 * 366 * 24 * 60;

/// How to read a trace.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceOptions {
    /// The median of the non-zero values is scaled to this many units/s.
    pub target_median: f64,
    /// The value column's name, when the defaults do not find it.
    pub column: Option<String>,
    /// Runs of exact zeros at least this many minutes long are missing data; 0 disables.
    pub zero_run_gap_minutes: u32,
    /// What a repeated timestamp means (default: an error).
    pub duplicates: Duplicates,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            target_median: DEFAULT_TARGET_MEDIAN,
            column: None,
            zero_run_gap_minutes: DEFAULT_ZERO_RUN_GAP_MINUTES,
            duplicates: Duplicates::Error,
        }
    }
}

/// How to read rows whose timestamp an earlier row already has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Duplicates {
    /// The file is rejected, naming both lines and the other choices.
    #[default]
    Error,
    /// The rows' counts are added into one step (an empty cell adds nothing).
    Sum,
    /// The last row's value is kept.
    Last,
}

/// A demand trace: one entry per minute, in capacity units per second.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// A name for reports (the file's path relative to the benchmark folder, or a synthetic
    /// trace's name).
    pub name: String,
    /// Start of minute 0, UTC.
    pub start: Timestamp,
    /// Demand of each minute, units/s; `None` where the trace has no data.
    pub demand: Vec<Option<f64>>,
    /// The trace's original step, minutes.
    pub step_minutes: u32,
    /// Units/s per original request per second: how the trace was scaled.
    pub scale: f64,
    /// A hot key carrying part of the demand (synthetic scenarios only: a request-rate trace
    /// cannot tell; `None` for every loaded file).
    pub hot_key: Option<HotKey>,
    /// Capacity in force at the start when the scenario fixes it (a synthetic trace's starting
    /// point), unless [`crate::ModelParams::initial_capacity`] overrides it; `None`: the
    /// model's default.
    pub initial_capacity: Option<u64>,
}

/// One partition key that carries a fixed share of a table's demand and is refused beyond a
/// limit of its own, which more table capacity does not raise (DynamoDB's per-partition maximum
/// is 3,000 RCU and 1,000 WCU; a scenario may set it lower to exercise small tables). Its
/// refusals are key-range throttles (`{Read,Write}KeyRangeThroughputThrottleEvents`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HotKey {
    /// Share of each minute's demand on the key, `0..=1`.
    pub share: f64,
    /// Units/s the key can serve at most.
    pub limit: f64,
}

impl HotKey {
    /// Units/s of `demand` (units/s) the key refuses: `max(0, share x demand - limit)`.
    pub fn refused(&self, demand: f64) -> f64 {
        (self.share * demand - self.limit).max(0.0)
    }
}

impl Trace {
    /// A trace of one-minute demand as it is (no scaling, no hot key): what a backtest builds
    /// from CloudWatch.
    pub fn per_minute(name: String, start: Timestamp, demand: Vec<Option<f64>>) -> Self {
        Self {
            name,
            start: start.floor_minute(),
            demand,
            step_minutes: 1,
            scale: 1.0,
            hot_key: None,
            initial_capacity: None,
        }
    }

    /// Number of minutes.
    pub fn len(&self) -> usize {
        self.demand.len()
    }

    /// Whether the trace has no minutes.
    pub fn is_empty(&self) -> bool {
        self.demand.is_empty()
    }

    /// Start of minute `i`.
    pub fn time_of(&self, i: usize) -> Timestamp {
        self.start.plus_secs(60 * i as i64)
    }

    /// Demand of minute `i` in units/s, 0 for a gap.
    pub fn demand_at(&self, i: usize) -> f64 {
        self.demand.get(i).copied().flatten().unwrap_or(0.0)
    }

    /// Minutes without data.
    pub fn gap_minutes(&self) -> usize {
        self.demand.iter().filter(|d| d.is_none()).count()
    }

    /// Highest demand, units/s.
    pub fn peak(&self) -> f64 {
        self.demand.iter().flatten().fold(0.0, |a, b| a.max(*b))
    }

    /// Median of the non-zero per-minute demand, units/s (0 if there is none).
    pub fn median_nonzero(&self) -> f64 {
        let mut v: Vec<f64> = self
            .demand
            .iter()
            .flatten()
            .copied()
            .filter(|d| *d > 0.0)
            .collect();
        median(&mut v).unwrap_or(0.0)
    }

    /// Total demanded units (`sum(60 D)`).
    pub fn total_units(&self) -> f64 {
        self.demand.iter().flatten().map(|d| 60.0 * d).sum()
    }

    /// Loads a CSV trace file.
    pub fn load(path: &Path, options: &TraceOptions) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: shown.clone(),
            source,
        })?;
        Self::parse_csv(&shown, &text, options)
    }

    /// Parses CSV text; `source` names it in errors (a path, or anything for tests).
    pub fn parse_csv(source: &str, text: &str, options: &TraceOptions) -> Result<Self, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let bad_trace = |message: String| Error::BadTrace {
            path: source.to_owned(),
            message,
        };
        let malformed = |line: usize, message: String| Error::Malformed {
            path: source.to_owned(),
            line,
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.trim().is_empty());
        let (header_line, header) = lines
            .next()
            .ok_or_else(|| bad_trace("the file is empty".into()))?;
        let columns: Vec<String> = split_fields(header).map(str::to_owned).collect();
        if timestamp_or_reason(&columns[0]).is_ok() {
            return Err(malformed(
                header_line,
                "expected a header line naming the columns (e.g. `timestamp,value`)".into(),
            ));
        }
        let (ts_col, val_col) = pick_columns(&columns, options.column.as_deref())
            .map_err(|m| malformed(header_line, m))?;
        let needed = ts_col.max(val_col) + 1;

        let mut rows: Vec<(usize, i64, Option<f64>)> = Vec::new();
        // Each timestamp's row index, for repeats.
        let mut seen: HashMap<i64, usize> = HashMap::new();
        for (line, text) in lines {
            let fields: Vec<&str> = split_fields(text).collect();
            if fields.len() < needed {
                return Err(malformed(
                    line,
                    format!(
                        "expected at least {needed} columns, found {}: {text:?}",
                        fields.len()
                    ),
                ));
            }
            let ts = timestamp_or_reason(fields[ts_col]).map_err(|m| {
                malformed(
                    line,
                    format!(
                        "bad timestamp {:?} in column {:?}: {m}",
                        fields[ts_col], columns[ts_col]
                    ),
                )
            })?;
            let raw = fields[val_col];
            let value = if raw.is_empty() {
                None
            } else {
                let v: f64 = raw.parse().map_err(|_| {
                    malformed(
                        line,
                        format!(
                            "value {raw:?} in column {:?} is not a number",
                            columns[val_col]
                        ),
                    )
                })?;
                if !v.is_finite() || v < 0.0 {
                    return Err(malformed(
                        line,
                        format!(
                            "value {raw:?} in column {:?} must be a finite count >= 0",
                            columns[val_col]
                        ),
                    ));
                }
                Some(v)
            };
            if let Some(&at) = seen.get(&ts.unix()) {
                let (first_line, _, kept) = &mut rows[at];
                match options.duplicates {
                    Duplicates::Error => {
                        return Err(malformed(
                            line,
                            format!(
                                "timestamp {ts} repeats the one on line {first_line} (a local-time \
                                 export across a daylight-saving change?); choose how to read \
                                 repeated timestamps: duplicates sum (add their counts) or last \
                                 (keep the last row), e.g. `--duplicates sum`"
                            ),
                        ));
                    }
                    Duplicates::Sum => {
                        *kept = match (*kept, value) {
                            (Some(a), Some(b)) => Some(a + b),
                            (a, b) => a.or(b),
                        };
                    }
                    Duplicates::Last => *kept = value,
                }
                continue;
            }
            if let Some((prev_line, prev, _)) = rows.last()
                && ts.unix() <= *prev
            {
                return Err(malformed(
                    line,
                    format!(
                        "timestamp {} is not after the one on line {prev_line} ({})",
                        ts,
                        Timestamp::from_unix(*prev)
                    ),
                ));
            }
            seen.insert(ts.unix(), rows.len());
            rows.push((line, ts.unix(), value));
        }
        if rows.len() < 2 {
            return Err(bad_trace(format!(
                "needs at least two data rows to tell the step, found {}",
                rows.len()
            )));
        }

        // The step: the most common spacing, a whole number of minutes.
        let mut spacing: HashMap<i64, usize> = HashMap::new();
        for w in rows.windows(2) {
            *spacing.entry(w[1].1 - w[0].1).or_default() += 1;
        }
        let step_secs = spacing
            .iter()
            .max_by_key(|(gap, count)| (**count, std::cmp::Reverse(**gap)))
            .map(|(gap, _)| *gap)
            .unwrap_or(60);
        if step_secs % 60 != 0 {
            return Err(bad_trace(format!(
                "the most common spacing between rows, {step_secs} s, is not a whole number of minutes"
            )));
        }
        for w in rows.windows(2) {
            let gap = w[1].1 - w[0].1;
            if gap % step_secs != 0 {
                return Err(malformed(
                    w[1].0,
                    format!(
                        "{gap} s after the previous row is not a multiple of the {}-minute step",
                        step_secs / 60
                    ),
                ));
            }
        }
        let step_minutes = (step_secs / 60) as usize;
        let first = rows[0].1;
        let span = (rows[rows.len() - 1].1 - first) / 60 + step_secs / 60;
        if span > MAX_TRACE_MINUTES {
            return Err(bad_trace(format!(
                "the rows span {span} minutes, more than the {MAX_TRACE_MINUTES} (four years) a trace may"
            )));
        }
        let start = Timestamp::from_unix(first).floor_minute();
        let minutes = ((rows[rows.len() - 1].1 - first) / 60) as usize + step_minutes;
        let mut per_step: Vec<Option<f64>> = vec![None; minutes];
        for (_, ts, value) in &rows {
            let at = ((ts - first) / 60) as usize;
            let rate = value.map(|v| v / step_secs as f64);
            per_step[at..at + step_minutes].fill(rate);
        }
        let name = source.to_owned();
        Self::from_rates(name, start, step_minutes as u32, per_step, options)
    }

    /// Builds a trace from per-minute rates (any unit per second): applies the zero-run rule
    /// and scales the median of the non-zero values to `options.target_median`.
    pub fn from_rates(
        name: String,
        start: Timestamp,
        step_minutes: u32,
        mut rates: Vec<Option<f64>>,
        options: &TraceOptions,
    ) -> Result<Self, Error> {
        if !(options.target_median.is_finite() && options.target_median > 0.0) {
            return Err(Error::BadParam(format!(
                "the target median {} must be a positive number",
                options.target_median
            )));
        }
        if options.zero_run_gap_minutes > 0 {
            blank_zero_runs(&mut rates, options.zero_run_gap_minutes as usize);
        }
        let mut nonzero: Vec<f64> = rates
            .iter()
            .flatten()
            .copied()
            .filter(|r| *r > 0.0)
            .collect();
        let med = median(&mut nonzero).ok_or_else(|| Error::BadTrace {
            path: name.clone(),
            message: "the trace has no non-zero value to scale".into(),
        })?;
        let scale = options.target_median / med;
        for r in rates.iter_mut().flatten() {
            *r *= scale;
        }
        Ok(Self {
            name,
            start: start.floor_minute(),
            demand: rates,
            step_minutes,
            scale,
            hot_key: None,
            initial_capacity: None,
        })
    }
}

/// Median of a slice (average of the two middle values for an even count).
fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Turns runs of exact zeros at least `min_len` minutes long into missing data.
fn blank_zero_runs(rates: &mut [Option<f64>], min_len: usize) {
    let mut i = 0;
    while i < rates.len() {
        if rates[i] == Some(0.0) {
            let mut j = i;
            while j < rates.len() && rates[j] == Some(0.0) {
                j += 1;
            }
            if j - i >= min_len {
                rates[i..j].fill(None);
            }
            i = j;
        } else {
            i += 1;
        }
    }
}

/// Splits a CSV line on commas, trimming spaces and one pair of surrounding double quotes.
fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|f| {
        let f = f.trim();
        f.strip_prefix('"')
            .and_then(|g| g.strip_suffix('"'))
            .unwrap_or(f)
            .trim()
    })
}

const TIME_COLUMNS: [&str; 6] = ["timestamp", "period", "time", "datetime", "date", "ts"];
const VALUE_COLUMNS: [&str; 6] = [
    "value",
    "count",
    "request_count",
    "requests",
    "invocations",
    "rate",
];

/// Finds the timestamp and value columns of a header.
fn pick_columns(columns: &[String], wanted: Option<&str>) -> Result<(usize, usize), String> {
    let find = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let ts = TIME_COLUMNS.iter().find_map(|n| find(n)).unwrap_or(0);
    let value = match wanted {
        Some(name) => find(name).ok_or_else(|| {
            format!(
                "no column named {name:?}; the columns are {}",
                columns.join(", ")
            )
        })?,
        None => match VALUE_COLUMNS.iter().find_map(|n| find(n)) {
            Some(v) => v,
            None if columns.len() == 2 => 1 - ts,
            None => {
                return Err(format!(
                    "cannot tell which column holds the values (columns: {}); name it with --column",
                    columns.join(", ")
                ));
            }
        },
    };
    if value == ts {
        return Err(format!(
            "the value column {:?} is also the timestamp column",
            columns[value]
        ));
    }
    Ok((ts, value))
}

/// Parses `YYYY-MM-DD[ T]HH:MM[:SS[.fff]][offset]` (offset `Z`, `UTC`, `GMT`, `+HH:MM`,
/// `-HHMM`, `+HH`), a bare date, or Unix seconds, into UTC. No offset means UTC.
///
/// # Errors
/// [`Error::BadTimestamp`] naming the text and what is wrong with it.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, Error> {
    timestamp_or_reason(text).map_err(|reason| Error::BadTimestamp {
        text: text.to_owned(),
        reason,
    })
}

/// [`parse_timestamp`]'s parser; the reason is a phrase for this module's error messages.
fn timestamp_or_reason(text: &str) -> Result<Timestamp, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|b| *b == b'.').count() <= 1
    {
        let secs: f64 = s
            .parse()
            .map_err(|_| "not a number of seconds".to_owned())?;
        return Ok(Timestamp::from_unix(secs.floor() as i64));
    }
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let year = c.number(4, 4, "year")?;
    c.expect(b'-')?;
    let month = c.number(1, 2, "month")?;
    c.expect(b'-')?;
    let day = c.number(1, 2, "day")?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is not 1-12"));
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(format!("day {day} does not exist in {year:04}-{month:02}"));
    }
    let (mut hour, mut minute, mut second) = (0, 0, 0);
    if c.peek()
        .is_some_and(|b| b == b' ' || b == b'T' || b == b't')
    {
        c.i += 1;
        hour = c.number(1, 2, "hour")?;
        c.expect(b':')?;
        minute = c.number(2, 2, "minute")?;
        if c.peek() == Some(b':') {
            c.i += 1;
            second = c.number(2, 2, "second")?;
            if c.peek() == Some(b'.') {
                c.i += 1;
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.i += 1;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(format!(
                "time {hour:02}:{minute:02}:{second:02} is out of range"
            ));
        }
    }
    while c.peek() == Some(b' ') {
        c.i += 1;
    }
    let rest = &s[c.i..];
    let offset_secs = match rest {
        "" | "Z" | "z" | "UTC" | "GMT" => 0,
        _ => {
            let sign = match c.peek() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return Err(format!("unexpected {rest:?} after the time")),
            };
            c.i += 1;
            let oh = c.number(2, 2, "offset hours")?;
            let mut om = 0;
            if c.peek() == Some(b':') {
                c.i += 1;
            }
            if c.peek().is_some() {
                om = c.number(2, 2, "offset minutes")?;
            }
            if c.peek().is_some() {
                return Err(format!("unexpected {:?} after the offset", &s[c.i..]));
            }
            if oh > 18 || om > 59 {
                return Err(format!("offset {rest:?} is out of range"));
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let local = days * DAY_SECS + hour * 3600 + minute * 60 + second;
    Ok(Timestamp::from_unix(local - offset_secs))
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), String> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at character {}",
                b as char,
                self.i + 1
            ))
        }
    }

    fn number(&mut self, min: usize, max: usize, what: &str) -> Result<i64, String> {
        let begin = self.i;
        while self.i - begin < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        if self.i - begin < min {
            return Err(format!("expected the {what} at character {}", begin + 1));
        }
        let digits = &self.s[begin..self.i];
        Ok(digits
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        let t = |s: &str| parse_timestamp(s).unwrap().to_string();
        assert_eq!(t("1998-04-30 21:30:00"), "1998-04-30T21:30:00Z");
        assert_eq!(t("1995-07-01 00:00:00-04:00"), "1995-07-01T04:00:00Z");
        assert_eq!(t("2015-02-26T21:42:53Z"), "2015-02-26T21:42:53Z");
        assert_eq!(t("2015-02-26 21:42:53+0130"), "2015-02-26T20:12:53Z");
        assert_eq!(t("2000-02-29"), "2000-02-29T00:00:00Z");
        assert_eq!(t("2024-01-01 00:00:00.250 UTC"), "2024-01-01T00:00:00Z");
        assert_eq!(t("86400"), "1970-01-02T00:00:00Z");
        for bad in [
            "2001-02-29 00:00",
            "1998-13-01",
            "1998-04-30 25:00",
            "1998-04-30 10:00 x",
            "yesterday",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1000, 0, 10_956, 18_000, 20_000] {
            let s = Timestamp::from_unix(days * DAY_SECS).to_string();
            let back = parse_timestamp(&s).unwrap();
            assert_eq!(back.unix(), days * DAY_SECS, "{s}");
        }
    }
}
