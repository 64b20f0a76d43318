//! Run configuration from the environment: the deployment defaults (stack parameters become
//! environment variables in `template.yaml`). Every value is validated at cold start; a bad one
//! is an error naming the variable. [`ENV_VARS`] is the one list of the variables and their
//! defaults: the template (`tests/template.rs`) and the README's Parameters section (this
//! module's tests) are checked against it.
//!
//! **One grammar per variable, the template's.** Each value is accepted exactly when the stack
//! parameter behind it would accept it (`tests/template.rs` compares the two on the same
//! values): whole numbers in plain decimal (no sign, no leading zero, no `%`, at most nine
//! digits), `true`/`false`, a tag key of DynamoDB's characters. Nothing is trimmed or
//! lower-cased. An unset variable takes its default; a variable set to the empty string is
//! refused like any other bad value. The one constraint the template cannot express is
//! between two parameters: a `MinCapacity` above `MaxCapacity` fails the cold start.

use scaling_policy::Settings;
use scaling_policy::cadence::Cadence;
use scaling_policy::config::{Origin, validate};

use crate::Error;

/// Every environment variable the Lambda functions read, with its default.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("AUTOSCALER_TAG_KEY", "ddb-autoscaler"),
    ("AUTOSCALER_DRY_RUN", "false"),
    ("AUTOSCALER_TARGET_PERCENT", "80"),
    ("AUTOSCALER_SCALE_UP_TRIGGER_PERCENT", "90"),
    ("AUTOSCALER_MIN_CAPACITY", "1"),
    ("AUTOSCALER_MAX_CAPACITY", "40000"),
    ("AUTOSCALER_COOLDOWN_MINUTES", "15"),
    ("AUTOSCALER_UP_WINDOW_MINUTES", "5"),
    ("AUTOSCALER_DOWN_WINDOW_MINUTES", "20"),
    ("AUTOSCALER_MIN_DECREASE_PERCENT", "10"),
    ("AUTOSCALER_CONCURRENCY", "8"),
    ("AUTOSCALER_MAX_INCREASES_PER_HOUR", "30"),
    // No default: the stack sets it to its lease table. Unset, runs are not serialised.
    ("AUTOSCALER_LEASE_TABLE", ""),
    // What the functions report besides their logs (`emf.rs`, `notify.rs`).
    ("AUTOSCALER_METRICS_NAMESPACE", "ddb-autoscaler"),
    ("AUTOSCALER_TABLE_METRICS", "false"),
    ("AUTOSCALER_NOTIFICATIONS", "none"),
    // The scale-up function's cadence (`poll.rs`).
    ("AUTOSCALER_MAX_POLL_MINUTES", "10"),
];

/// The longest `AUTOSCALER_MAX_POLL_MINUTES` accepted: an hour.
pub const MAX_POLL_MINUTES: u64 = 60;

/// The characters of a tag key this deployment accepts: DynamoDB's, less the space.
pub const TAG_KEY_CHARS: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/=+@-";

/// The longest opt-in tag key: DynamoDB's 128 less room for the override suffixes
/// (`:index:<IndexName>:down-window-minutes`).
pub const MAX_TAG_KEY_LEN: usize = 100;

/// The most digits a whole number may have.
const MAX_DIGITS: usize = 9;

/// Whether `key` is a usable opt-in tag key: 1 to [`MAX_TAG_KEY_LEN`] of [`TAG_KEY_CHARS`], not
/// starting with `aws:` in any case (reserved by AWS).
pub fn valid_tag_key(key: &str) -> bool {
    (1..=MAX_TAG_KEY_LEN).contains(&key.len())
        && key.chars().all(|c| TAG_KEY_CHARS.contains(c))
        && !key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// A whole number in plain decimal (`0`, or digits not starting with 0), at most nine digits.
fn plain_whole(text: &str) -> Option<u64> {
    let plain = !text.is_empty()
        && text.len() <= MAX_DIGITS
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if plain { text.parse().ok() } else { None }
}

/// Whether `name` is a DynamoDB table name: 3 to 255 of letters, digits, `_`, `-` and `.`.
fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// The value of the variable `name` through `lookup` (as written: the template's constraints
/// allow no surrounding spaces, so neither does the code), or its default from [`ENV_VARS`]
/// when it is unset, as (name, value).
pub(crate) fn setting(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> (&'static str, String) {
    let default = ENV_VARS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .unwrap_or_default();
    let value = lookup(name).unwrap_or_else(|| default.to_owned());
    (name, value)
}

/// A true/false setting (exactly `true` or `false`, as the template's `AllowedValues`), or an
/// error naming the variable.
pub(crate) fn flag((name, value): (&'static str, String)) -> Result<bool, Error> {
    match value.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::Env {
            name,
            value,
            reason: "expected true or false".to_owned(),
        }),
    }
}

/// Everything a run needs besides the AWS clients.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The opt-in tag key, also the prefix of override tags.
    pub tag_key: String,
    /// Decide and report, but never call `UpdateTable` on any table.
    pub dry_run: bool,
    /// Defaults for every table, before tag overrides.
    pub defaults: Settings,
    /// How many tables are described and updated at once.
    pub concurrency: usize,
    /// The stack's lease table (`AUTOSCALER_LEASE_TABLE`), which serialises the two functions
    /// per table ([`crate::lease`]). `None`: no lease is taken and no increase history is kept
    /// (the CLI, which never applies; a single function in tests).
    pub lease_table: Option<String>,
    /// How often the scale-up function reads each series (`AUTOSCALER_MAX_POLL_MINUTES` sets the
    /// longest interval; the default 10 reads a series every minute while it is hot, throttled,
    /// just raised or jumped within 6 hours, and otherwise as late as the guarantee allows; 1
    /// reads consumed capacity every minute and the throttle events every 10 minutes while
    /// nothing is throttled).
    pub cadence: Cadence,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            tag_key: "ddb-autoscaler".to_owned(),
            dry_run: false,
            defaults: Settings::default(),
            concurrency: 8,
            lease_table: None,
            cadence: Cadence::default(),
        }
    }
}

impl RunConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests). Unset
    /// variables take their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &'static str| setting(&lookup, name);
        let bad = |(name, value): (&'static str, String), reason: &str| Error::Env {
            name,
            value,
            reason: reason.to_owned(),
        };
        let tag = get("AUTOSCALER_TAG_KEY");
        if !valid_tag_key(&tag.1) {
            return Err(bad(
                tag,
                "a tag key of 1 to 100 letters, digits and _ . : / = + - @, not starting with aws:",
            ));
        }
        let dry_run = flag(get("AUTOSCALER_DRY_RUN"))?;
        let pct = |name| {
            let v = get(name);
            match plain_whole(&v.1) {
                Some(p) if p <= 100 => Ok(p as f64 / 100.0),
                _ => Err(bad(
                    v,
                    "expected a whole percentage between 0 and 100, such as 80",
                )),
            }
        };
        let whole = |name, min: u64, max: u64| {
            let v = get(name);
            match plain_whole(&v.1) {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad(
                    v,
                    &format!("expected a whole number from {min} to {max}, such as {min}"),
                )),
            }
        };
        const NINE_DIGITS: u64 = 999_999_999;
        let target = pct("AUTOSCALER_TARGET_PERCENT")?;
        let trigger = pct("AUTOSCALER_SCALE_UP_TRIGGER_PERCENT")?;
        let min = whole("AUTOSCALER_MIN_CAPACITY", 1, NINE_DIGITS)?;
        let max = whole("AUTOSCALER_MAX_CAPACITY", 1, NINE_DIGITS)?;
        let cooldown = whole("AUTOSCALER_COOLDOWN_MINUTES", 0, NINE_DIGITS)?;
        let up = whole("AUTOSCALER_UP_WINDOW_MINUTES", 1, NINE_DIGITS)?;
        let down = whole("AUTOSCALER_DOWN_WINDOW_MINUTES", 1, NINE_DIGITS)?;
        let min_decrease = pct("AUTOSCALER_MIN_DECREASE_PERCENT")?;
        let concurrency = whole("AUTOSCALER_CONCURRENCY", 1, 64)?;
        let max_increases = whole("AUTOSCALER_MAX_INCREASES_PER_HOUR", 1, NINE_DIGITS)?;
        let max_poll = whole("AUTOSCALER_MAX_POLL_MINUTES", 1, MAX_POLL_MINUTES)?;
        let lease = get("AUTOSCALER_LEASE_TABLE");
        let lease_table = match lookup("AUTOSCALER_LEASE_TABLE") {
            None => None,
            Some(_) if valid_table_name(&lease.1) => Some(lease.1),
            Some(_) => {
                return Err(bad(
                    lease,
                    "a DynamoDB table name: 3 to 255 letters, digits, _, - and .",
                ));
            }
        };

        let bounds = scaling_policy::Bounds { min, max };
        let settings = Settings {
            read: bounds,
            write: bounds,
            target,
            scale_up_trigger: trigger,
            cooldown_secs: i64::try_from(cooldown.saturating_mul(60)).unwrap_or(i64::MAX),
            up_window_minutes: u32::try_from(up).unwrap_or(u32::MAX),
            down_window_minutes: u32::try_from(down).unwrap_or(u32::MAX),
            min_decrease_fraction: min_decrease,
            max_increases_per_hour: u32::try_from(max_increases).unwrap_or(u32::MAX),
            ..Settings::default()
        };
        let defaults = validate(&settings, |_| Origin::Default).map_err(Error::Defaults)?;
        Ok(Self {
            tag_key: tag.1,
            dry_run,
            defaults,
            concurrency: usize::try_from(concurrency).unwrap_or(64),
            lease_table,
            cadence: Cadence {
                max_interval_minutes: u32::try_from(max_poll).unwrap_or(1),
                ..Cadence::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<RunConfig, Error> {
        RunConfig::from_lookup(|n| {
            pairs
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    /// The variables and defaults the README documents in its "Parameters" section: the table's
    /// `environment variable` column with its `default`, and the `NAME=value` list of the
    /// variables the template sets to the code's defaults.
    fn documented() -> Vec<(String, String)> {
        let section = crate::fixtures::readme_section("\n### Parameters\n", "\n### ");
        let unquote = |cell: &str| cell.trim().trim_matches('`').to_owned();
        let mut out = Vec::new();
        for line in section.lines().filter(|l| l.starts_with('|')) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            if let [_, default, variable, ..] = cells[..]
                && unquote(variable).starts_with("AUTOSCALER_")
            {
                out.push((unquote(variable), unquote(default)));
            }
        }
        for quoted in section.split('`').skip(1).step_by(2) {
            if let Some((name, value)) = quoted.split_once('=')
                && name.starts_with("AUTOSCALER_")
            {
                out.push((name.to_owned(), value.to_owned()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn defaults_match_the_documented_table() {
        let mut code: Vec<(String, String)> = ENV_VARS
            .iter()
            .map(|(n, d)| ((*n).to_owned(), (*d).to_owned()))
            .collect();
        code.sort();
        assert_eq!(
            documented(),
            code,
            "README (Parameters) and ENV_VARS: every variable once, with the same default"
        );
        // And the defaults are what the code runs with when nothing is set.
        let c = with(&[]).unwrap();
        assert_eq!(c, RunConfig::default());
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("AUTOSCALER_TARGET_PERCENT", "high"),
            ("AUTOSCALER_TARGET_PERCENT", "50%"),
            ("AUTOSCALER_TARGET_PERCENT", "50.5"),
            ("AUTOSCALER_MIN_CAPACITY", "0"),
            ("AUTOSCALER_MIN_CAPACITY", " 5"),
            ("AUTOSCALER_MIN_CAPACITY", "05"),
            ("AUTOSCALER_DRY_RUN", "maybe"),
            ("AUTOSCALER_DRY_RUN", "TRUE"),
            ("AUTOSCALER_CONCURRENCY", "-1"),
            ("AUTOSCALER_CONCURRENCY", "65"),
            ("AUTOSCALER_TAG_KEY", "aws:autoscale"),
            ("AUTOSCALER_TAG_KEY", "AWS:autoscale"),
            ("AUTOSCALER_TAG_KEY", "team scaler"),
            ("AUTOSCALER_TAG_KEY", "ddb-autoscaler%"),
            ("AUTOSCALER_TAG_KEY", ""),
            ("AUTOSCALER_LEASE_TABLE", "x"),
            ("AUTOSCALER_MAX_POLL_MINUTES", "0"),
            ("AUTOSCALER_MAX_POLL_MINUTES", "61"),
        ] {
            let err = with(&[(k, v)]).unwrap_err().to_string();
            assert!(err.contains(k) && err.contains(v), "{err}");
        }
    }

    #[test]
    fn contradictory_defaults_are_refused() {
        let err = with(&[
            ("AUTOSCALER_MIN_CAPACITY", "100"),
            ("AUTOSCALER_MAX_CAPACITY", "10"),
        ])
        .unwrap_err();
        assert!(matches!(err, Error::Defaults(_)));
        let err = with(&[("AUTOSCALER_TARGET_PERCENT", "95")]).unwrap_err();
        assert!(matches!(err, Error::Defaults(_)), "{err}");
    }

    #[test]
    fn overrides_apply() {
        let c = with(&[
            ("AUTOSCALER_DRY_RUN", "true"),
            ("AUTOSCALER_TARGET_PERCENT", "50"),
            ("AUTOSCALER_MAX_CAPACITY", "500"),
            ("AUTOSCALER_MAX_INCREASES_PER_HOUR", "12"),
            ("AUTOSCALER_LEASE_TABLE", "ddb-autoscaler-LeaseTable-1A2B3C"),
        ])
        .unwrap();
        assert!(c.dry_run);
        assert!((c.defaults.target - 0.5).abs() < 1e-9);
        assert_eq!(c.defaults.write.max, 500);
        assert_eq!(c.defaults.max_increases_per_hour, 12);
        assert_eq!(
            c.lease_table.as_deref(),
            Some("ddb-autoscaler-LeaseTable-1A2B3C")
        );
        assert_eq!(with(&[]).unwrap().lease_table, None, "unset: no lease");
        let shipped = with(&[]).unwrap().cadence;
        assert_eq!(shipped, Cadence::default());
        assert_eq!(shipped.max_interval_minutes, 10);
        let fast = with(&[("AUTOSCALER_MAX_POLL_MINUTES", "1")]).unwrap();
        assert_eq!(fast.cadence.max_interval_minutes, 1);
        assert_eq!(fast.cadence.throttles_interval_minutes, 10);
    }
}
