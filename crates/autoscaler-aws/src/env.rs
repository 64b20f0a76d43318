//! Run configuration from the environment: the deployment defaults (stack parameters become
//! environment variables in `template.yaml`). Every value is validated at cold start; a bad one
//! is an error naming the variable. [`ENV_VARS`] is the one list of the variables and their
//! defaults: the template (`tests/template.rs`) and the README's Parameters section (this
//! module's tests) are checked against it.

use scaling_policy::Settings;
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
    // What the functions report besides their logs (`emf.rs`, `notify.rs`).
    ("AUTOSCALER_METRICS_NAMESPACE", "ddb-autoscaler"),
    ("AUTOSCALER_TABLE_METRICS", "false"),
    ("AUTOSCALER_NOTIFICATIONS", "none"),
];

/// The value of the variable `name` through `lookup` (trimmed), or its default from
/// [`ENV_VARS`] when it is unset or empty, as (name, value).
pub(crate) fn setting(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> (&'static str, String) {
    let default = ENV_VARS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .unwrap_or_default();
    let value = lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned());
    (name, value)
}

/// A true/false setting (`true`, `1`, `yes` / `false`, `0`, `no`, any case), or an error naming
/// the variable.
pub(crate) fn flag((name, value): (&'static str, String)) -> Result<bool, Error> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
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
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            tag_key: "ddb-autoscaler".to_owned(),
            dry_run: false,
            defaults: Settings::default(),
            concurrency: 8,
        }
    }
}

impl RunConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests). Unset or
    /// empty variables take their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |name: &'static str| setting(&lookup, name);
        let bad = |(name, value): (&'static str, String), reason: &str| Error::Env {
            name,
            value,
            reason: reason.to_owned(),
        };
        fn num<T: std::str::FromStr>(v: &(&'static str, String)) -> Option<T> {
            v.1.trim_end_matches('%').trim().parse().ok()
        }

        let tag = get("AUTOSCALER_TAG_KEY");
        if tag.1.len() > 100 || tag.1.starts_with("aws:") || tag.1.contains(char::is_whitespace) {
            return Err(bad(
                tag,
                "a tag key of at most 100 characters, without spaces, not starting with aws:",
            ));
        }
        let dry_run = flag(get("AUTOSCALER_DRY_RUN"))?;
        let pct = |name| {
            let v = get(name);
            match num::<f64>(&v) {
                Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => Ok(p / 100.0),
                _ => Err(bad(v, "expected a percentage between 0 and 100")),
            }
        };
        let whole = |name, min: u64| {
            let v = get(name);
            match num::<u64>(&v) {
                Some(n) if n >= min => Ok(n),
                _ => Err(bad(
                    v,
                    &format!("expected a whole number of at least {min}"),
                )),
            }
        };
        let target = pct("AUTOSCALER_TARGET_PERCENT")?;
        let trigger = pct("AUTOSCALER_SCALE_UP_TRIGGER_PERCENT")?;
        let min = whole("AUTOSCALER_MIN_CAPACITY", 1)?;
        let max = whole("AUTOSCALER_MAX_CAPACITY", 1)?;
        let cooldown = whole("AUTOSCALER_COOLDOWN_MINUTES", 0)?;
        let up = whole("AUTOSCALER_UP_WINDOW_MINUTES", 1)?;
        let down = whole("AUTOSCALER_DOWN_WINDOW_MINUTES", 1)?;
        let min_decrease = pct("AUTOSCALER_MIN_DECREASE_PERCENT")?;
        let concurrency = whole("AUTOSCALER_CONCURRENCY", 1)?;

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
            ..Settings::default()
        };
        let defaults = validate(&settings, |_| Origin::Default).map_err(Error::Defaults)?;
        Ok(Self {
            tag_key: tag.1,
            dry_run,
            defaults,
            concurrency: usize::try_from(concurrency.min(64)).unwrap_or(64),
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
            ("AUTOSCALER_MIN_CAPACITY", "0"),
            ("AUTOSCALER_DRY_RUN", "maybe"),
            ("AUTOSCALER_CONCURRENCY", "-1"),
            ("AUTOSCALER_TAG_KEY", "aws:autoscale"),
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
            ("AUTOSCALER_DRY_RUN", "TRUE"),
            ("AUTOSCALER_TARGET_PERCENT", "50%"),
            ("AUTOSCALER_MAX_CAPACITY", "500"),
        ])
        .unwrap();
        assert!(c.dry_run);
        assert!((c.defaults.target - 0.5).abs() < 1e-9);
        assert_eq!(c.defaults.write.max, 500);
    }
}
