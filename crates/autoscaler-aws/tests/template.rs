//! Checks on `template.yaml` (the SAM template at the repository root) that cfn-lint and
//! `sam validate --lint` do not make:
//! - every schedule expression (literal, or a parameter's `Default` and `AllowedValues` when the
//!   schedule is a `!Ref`) is valid EventBridge `rate(...)` / `cron(...)` syntax;
//! - both functions get exactly the environment variables of `autoscaler_aws::env::ENV_VARS`,
//!   each defaulting to the value the code assumes;
//! - every stack parameter behind an environment variable accepts exactly the values the code
//!   accepts for that variable (its `AllowedPattern`, `AllowedValues`, type and bounds against
//!   `RunConfig::from_lookup`, on the same values: listed near misses and random strings);
//! - the schedules are EventBridge Scheduler's (UTC, no flexible window, no retries, 60 s event
//!   age, the scheduled time in their Input); scheduled runs are never retried, never overlap,
//!   and the role grants exactly the API calls the pipeline makes (with `UpdateTable` limited to
//!   opted-in tables, `UpdateItem` to the lease table, `PutEvents` to the default bus and our
//!   source);
//! - the dashboard names only metrics the functions write (`autoscaler_aws::emf`) and the
//!   README lists its widgets; the silence alarms treat missing data as breaching.
//!
//! The YAML is read with yaml-rust2's event parser into `serde_json::Value`, turning
//! CloudFormation's short-form tags into their long form (`!Ref X` -> `{"Ref": "X"}`,
//! `!GetAtt a.b` -> `{"Fn::GetAtt": ["a", "b"]}`, `!Sub s` -> `{"Fn::Sub": "s"}`, ...). Every scalar
//! becomes a JSON string: the checks compare text, as CloudFormation passes it to Lambda.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// YAML with CloudFormation tags -> serde_json::Value
// ---------------------------------------------------------------------------------------------

mod cfn_yaml {
    use serde_json::{Map, Value};
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
    use yaml_rust2::scanner::Marker;

    enum Frame {
        Seq(Vec<Value>, Option<Tag>),
        Map(Map<String, Value>, Option<String>, Option<Tag>),
    }

    #[derive(Default)]
    struct Builder {
        stack: Vec<Frame>,
        docs: Vec<Value>,
        error: Option<String>,
    }

    /// `!Ref X` -> `{"Ref": X}`, `!Condition X` -> `{"Condition": X}`, `!GetAtt a.b` ->
    /// `{"Fn::GetAtt": [a, b]}`, any other local tag `!Name v` -> `{"Fn::Name": v}`.
    /// Core-schema tags (`!!str`, ...) leave the value as it is.
    fn apply_tag(tag: Option<Tag>, value: Value) -> Result<Value, String> {
        let Some(tag) = tag else { return Ok(value) };
        if tag.handle != "!" {
            return Ok(value);
        }
        let name = tag.suffix.as_str();
        let (key, value) = match name {
            "Ref" | "Condition" => (name.to_string(), value),
            "GetAtt" => {
                let value = match value {
                    Value::String(s) => {
                        let (resource, attribute) = s
                            .split_once('.')
                            .ok_or_else(|| format!("!GetAtt {s:?} has no '.'"))?;
                        Value::Array(vec![resource.into(), attribute.into()])
                    }
                    other => other,
                };
                ("Fn::GetAtt".to_string(), value)
            }
            "" => return Err("empty tag '!'".into()),
            _ => (format!("Fn::{name}"), value),
        };
        let mut map = Map::new();
        map.insert(key, value);
        Ok(Value::Object(map))
    }

    impl Builder {
        fn push_value(&mut self, value: Value) -> Result<(), String> {
            match self.stack.last_mut() {
                None => self.docs.push(value),
                Some(Frame::Seq(items, _)) => items.push(value),
                Some(Frame::Map(map, pending_key, _)) => match pending_key.take() {
                    None => match value {
                        Value::String(key) => *pending_key = Some(key),
                        other => return Err(format!("unsupported mapping key {other}")),
                    },
                    Some(key) => {
                        if map.insert(key.clone(), value).is_some() {
                            return Err(format!("duplicate mapping key {key:?}"));
                        }
                    }
                },
            }
            Ok(())
        }

        fn handle(&mut self, ev: Event) -> Result<(), String> {
            match ev {
                Event::Scalar(text, _style, _anchor, tag) => {
                    let value = apply_tag(tag, Value::String(text))?;
                    self.push_value(value)
                }
                Event::SequenceStart(_, tag) => {
                    self.stack.push(Frame::Seq(Vec::new(), tag));
                    Ok(())
                }
                Event::MappingStart(_, tag) => {
                    self.stack.push(Frame::Map(Map::new(), None, tag));
                    Ok(())
                }
                Event::SequenceEnd => match self.stack.pop() {
                    Some(Frame::Seq(items, tag)) => {
                        let value = apply_tag(tag, Value::Array(items))?;
                        self.push_value(value)
                    }
                    _ => Err("unbalanced sequence".into()),
                },
                Event::MappingEnd => match self.stack.pop() {
                    Some(Frame::Map(map, None, tag)) => {
                        let value = apply_tag(tag, Value::Object(map))?;
                        self.push_value(value)
                    }
                    _ => Err("unbalanced mapping".into()),
                },
                Event::Alias(_) => Err("YAML aliases are not used in CloudFormation".into()),
                Event::Nothing
                | Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart
                | Event::DocumentEnd => Ok(()),
            }
        }
    }

    impl MarkedEventReceiver for Builder {
        fn on_event(&mut self, ev: Event, mark: Marker) {
            if self.error.is_none()
                && let Err(e) = self.handle(ev)
            {
                self.error = Some(format!("line {}: {e}", mark.line()));
            }
        }
    }

    /// Parse one YAML document, keeping CloudFormation's short-form tags as long-form intrinsics.
    pub fn parse(text: &str) -> Result<Value, String> {
        let mut builder = Builder::default();
        Parser::new_from_str(text)
            .load(&mut builder, false)
            .map_err(|e| e.to_string())?;
        if let Some(e) = builder.error {
            return Err(e);
        }
        match builder.docs.len() {
            1 => Ok(builder.docs.remove(0)),
            n => Err(format!("expected one YAML document, found {n}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// EventBridge schedule expressions
// ---------------------------------------------------------------------------------------------

/// Validators for the recurring schedule expressions of EventBridge Scheduler (the same syntax as
/// the classic rules'): `rate(value unit)` and the six-field `cron(minutes hours day-of-month
/// month day-of-week year)`, following the EventBridge documentation ("Cron expressions
/// reference", "Rate expressions"). Deliberately strict: anything the documentation does not
/// describe is rejected, and so are Scheduler's one-time `at(...)` expressions, which a function
/// that must run again and again never wants.
///
/// Written here, not taken from a crate: the cron crates of the ecosystem (`cron`, `croner`,
/// `saffron`) parse Unix or Quartz dialects (a seconds field, Sunday as 0, no year, `?` optional)
/// and would accept expressions EventBridge rejects, or the reverse.
mod schedule {
    /// Check one schedule expression.
    pub fn validate(expr: &str) -> Result<(), String> {
        if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
            rate(inner)
        } else if let Some(inner) = expr.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
            cron(inner)
        } else {
            Err(format!(
                "{expr:?} is neither rate(value unit) nor cron(6 fields)"
            ))
        }
    }

    /// A positive whole number without sign or leading zero.
    fn whole(s: &str) -> Option<u32> {
        let ok = !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        if ok { s.parse().ok() } else { None }
    }

    fn rate(inner: &str) -> Result<(), String> {
        let (value, unit) = inner.split_once(' ').ok_or_else(|| {
            format!("rate({inner}): expected 'value unit' separated by one space")
        })?;
        let n = whole(value)
            .ok_or_else(|| format!("rate({inner}): {value:?} is not a whole number"))?;
        if n == 0 {
            return Err(format!("rate({inner}): the value must be positive"));
        }
        let singular = ["minute", "hour", "day"];
        let plural = ["minutes", "hours", "days"];
        if n == 1 && !singular.contains(&unit) {
            return Err(format!(
                "rate({inner}): a value of 1 takes a singular unit (minute, hour or day)"
            ));
        }
        if n > 1 && !plural.contains(&unit) {
            return Err(format!(
                "rate({inner}): a value above 1 takes a plural unit (minutes, hours or days)"
            ));
        }
        Ok(())
    }

    #[derive(Clone, Copy)]
    struct Field {
        name: &'static str,
        min: u32,
        max: u32,
        names: &'static [&'static str],
        step: bool,
        question: bool,
        last: bool,
        weekday: bool,
        hash: bool,
    }

    const MONTHS: &[&str] = &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    const DAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    const PLAIN: Field = Field {
        name: "",
        min: 0,
        max: 0,
        names: &[],
        step: true,
        question: false,
        last: false,
        weekday: false,
        hash: false,
    };
    const FIELDS: [Field; 6] = [
        Field {
            name: "minutes",
            min: 0,
            max: 59,
            ..PLAIN
        },
        Field {
            name: "hours",
            min: 0,
            max: 23,
            ..PLAIN
        },
        Field {
            name: "day-of-month",
            min: 1,
            max: 31,
            question: true,
            last: true,
            weekday: true,
            ..PLAIN
        },
        Field {
            name: "month",
            min: 1,
            max: 12,
            names: MONTHS,
            ..PLAIN
        },
        Field {
            name: "day-of-week",
            min: 1,
            max: 7,
            names: DAYS,
            step: false,
            question: true,
            last: true,
            hash: true,
            ..PLAIN
        },
        Field {
            name: "year",
            min: 1970,
            max: 2199,
            ..PLAIN
        },
    ];

    fn cron(inner: &str) -> Result<(), String> {
        let parts: Vec<&str> = inner.split(' ').collect();
        if parts.len() != 6 || parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "cron({inner}): expected 6 fields separated by single spaces \
                 (minutes hours day-of-month month day-of-week year), found {}",
                parts.iter().filter(|p| !p.is_empty()).count()
            ));
        }
        for (field, text) in FIELDS.iter().zip(&parts) {
            check_field(field, text).map_err(|e| format!("cron({inner}): {}: {e}", field.name))?;
        }
        let (dom, dow) = (parts[2], parts[4]);
        if (dom == "?") == (dow == "?") {
            return Err(format!(
                "cron({inner}): exactly one of day-of-month ({dom}) and day-of-week ({dow}) must be '?'"
            ));
        }
        Ok(())
    }

    /// A single value: a number in range, or (month, day-of-week) a three-letter name.
    fn value(f: &Field, s: &str) -> Result<u32, String> {
        if let Some(n) = whole(s) {
            return if (f.min..=f.max).contains(&n) {
                Ok(n)
            } else {
                Err(format!("{n} is outside {}-{}", f.min, f.max))
            };
        }
        let upper = s.to_ascii_uppercase();
        match f.names.iter().position(|n| *n == upper) {
            Some(i) => Ok(f.min + i as u32),
            None => Err(format!("{s:?} is not a value")),
        }
    }

    /// `a` or `a-b` (with a <= b).
    fn range(f: &Field, s: &str) -> Result<(), String> {
        match s.split_once('-') {
            None => value(f, s).map(|_| ()),
            Some((a, b)) => {
                let (a, b) = (value(f, a)?, value(f, b)?);
                if a > b {
                    Err(format!("range {s:?} runs backwards"))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn check_field(f: &Field, text: &str) -> Result<(), String> {
        // Special characters that must stand alone in the field.
        match text {
            "*" => return Ok(()),
            "?" if f.question => return Ok(()),
            "?" => return Err("'?' is only allowed in day-of-month and day-of-week".into()),
            "L" if f.last => return Ok(()),
            _ => {}
        }
        if f.weekday
            && let Some(day) = text.strip_suffix('W')
        {
            // nW: the weekday nearest to day n of the month.
            return value(f, day).map(|_| ());
        }
        if f.last
            && f.hash
            && let Some(day) = text.strip_suffix('L')
        {
            // nL: the last such day of the week in the month.
            return value(f, day).map(|_| ());
        }
        if f.hash && text.contains('#') {
            let (day, nth) = text.split_once('#').ok_or("bad '#'")?;
            value(f, day)?;
            return match whole(nth) {
                Some(1..=5) => Ok(()),
                _ => Err(format!("{text:?}: the nth day of the month must be 1-5")),
            };
        }
        for item in text.split(',') {
            if item.is_empty() {
                return Err(format!("{text:?} has an empty list item"));
            }
            // Special characters (L, W, #, ?) never appear inside a list; a stray "15W" or "6L"
            // is then caught as "not a value" below.
            if ["*", "?", "L"].contains(&item) || item.contains(['#', '?']) {
                return Err(format!("{item:?} cannot be part of a list"));
            }
            match item.split_once('/') {
                None => range(f, item)?,
                Some((base, step)) => {
                    if !f.step {
                        return Err(format!("'/' is not allowed in {}", f.name));
                    }
                    if base != "*" {
                        range(f, base)?;
                    }
                    match whole(step) {
                        Some(n) if n >= 1 && n <= f.max - f.min + 1 => {}
                        _ => return Err(format!("{item:?}: bad increment {step:?}")),
                    }
                }
            }
        }
        Ok(())
    }
}

#[test]
fn valid_schedule_expressions_pass() {
    for expr in [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "cron(0 0,6,12,18 * * ? *)",
        "cron(0 * * * ? *)",
        "cron(0 */3 * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(15 10 ? * 6L 2002-2005)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0 10 ? * 2#1 *)",
        "cron(0 10 ? * MON#3 *)",
        "cron(0 12 L * ? *)",
        "cron(0 12 15W * ? *)",
        "cron(5,35 14 * JAN-MAR ? 2030)",
        "cron(0 9-17/2 ? * * *)",
        "cron(0 0 1 jan ? *)",
        "cron(0 6 ? * MON,WED,FRI *)",
        "cron(0/10 * ? * MON-FRI *)",
    ] {
        assert_eq!(schedule::validate(expr), Ok(()), "{expr} should be valid");
    }
}

#[test]
fn invalid_schedule_expressions_fail() {
    for expr in [
        "",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(-1 minutes)",
        "rate(01 minute)",
        "rate(1.5 hours)",
        "rate(1  minute)",
        "rate(1 second)",
        "rate(2 weeks)",
        "rate(minute)",
        "Rate(1 minute)",
        " rate(1 minute)",
        "rate(1 minute",
        "cron(0 * * * *)",
        "cron(0 0 * * ? * *)",
        "cron(* * * * * *)",
        "cron(0 0 * * * *)",
        "cron(0 0 ? * ? *)",
        "cron(0  0 * * ? *)",
        "cron(60 * * * ? *)",
        "cron(0 24 * * ? *)",
        "cron(0 0 0 * ? *)",
        "cron(0 0 32 * ? *)",
        "cron(0 0 * 13 ? *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 ? * 0 *)",
        "cron(0 0 * * ? 1969)",
        "cron(0 0 * * ? 2200)",
        "cron(0 18-9 * * ? *)",
        "cron(0 */0 * * ? *)",
        "cron(0 */25 * * ? *)",
        "cron(0 0 ? * MON/2 *)",
        "cron(0 0 ? * 2#6 *)",
        "cron(0 0 ? * 2#0 *)",
        "cron(0 0 L,5 * ? *)",
        "cron(0 0 ? * MON,6L *)",
        "cron(0 0 1,15W * ? *)",
        "cron(0 0 * FOO ? *)",
        "cron(0 0 1,,2 * ? *)",
        "cron(0 0 ?W * ? *)",
        "cron(0 L * * ? *)",
        "cron(0 0 15W ? * *)",
        "cron(? 0 * * ? *)",
        "cron(0 0 * * ? *) ",
        "at(2030-01-01T00:00:00)",
    ] {
        assert!(
            schedule::validate(expr).is_err(),
            "{expr:?} should be rejected"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The template
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/autoscaler-aws is two levels below the repository root")
        .to_path_buf()
}

fn template() -> Value {
    let path = repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    cfn_yaml::parse(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

fn object<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} should be a mapping, is {v}"))
}

fn resources_of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    object(&t["Resources"], "Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

fn functions(t: &Value) -> Vec<(&String, &Value)> {
    let fns = resources_of_type(t, "AWS::Serverless::Function");
    assert_eq!(
        fns.len(),
        3,
        "expected the scale-up and scale-down functions and the management API"
    );
    fns
}

/// The functions that run on a schedule (scale-up and scale-down).
fn scheduled_functions(t: &Value) -> Vec<(&String, &Value)> {
    let fns: Vec<_> = functions(t)
        .into_iter()
        .filter(|(_, f)| {
            f["Properties"]["Events"].as_object().is_some_and(|e| {
                e.values()
                    .any(|ev| ev["Type"] == "Schedule" || ev["Type"] == "ScheduleV2")
            })
        })
        .collect();
    assert_eq!(fns.len(), 2, "scale-up and scale-down run on a schedule");
    fns
}

/// A property of a function, from its own Properties or else from Globals.Function.
fn function_property<'a>(t: &'a Value, f: &'a Value, name: &str) -> &'a Value {
    match &f["Properties"][name] {
        Value::Null => &t["Globals"]["Function"][name],
        v => v,
    }
}

/// The string values a template value can take: itself when literal; a parameter's Default and
/// AllowedValues when it is a `!Ref` to a parameter; the empty string (the code's "no default:
/// the stack sets it") for a `!Ref` to one of the stack's resources.
fn possible_values(t: &Value, v: &Value, what: &str) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            let name = m["Ref"].as_str().expect("Ref takes a name");
            if t["Resources"][name].is_object() {
                return vec![String::new()];
            }
            let p = &t["Parameters"][name];
            assert!(
                p.is_object(),
                "{what} refers to {name}, which is not a parameter"
            );
            let mut values: Vec<String> = p["Default"]
                .as_str()
                .map(String::from)
                .into_iter()
                .collect();
            assert!(
                !values.is_empty(),
                "parameter {name} ({what}) needs a Default"
            );
            // Schedule expressions the parameter's Description offers as examples.
            if let Some(description) = p["Description"].as_str() {
                values.extend(quoted_schedules(description));
            }
            if let Some(allowed) = p["AllowedValues"].as_array() {
                values.extend(
                    allowed
                        .iter()
                        .map(|a| a.as_str().expect("string").to_string()),
                );
                assert!(
                    allowed
                        .iter()
                        .any(|a| a.as_str() == Some(values[0].as_str())),
                    "parameter {name}: Default is not among AllowedValues"
                );
            }
            values
        }
        other => panic!("{what}: cannot check the value {other} (only literals and !Ref)"),
    }
}

/// Every `rate(...)` or `cron(...)` written in `text`.
fn quoted_schedules(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for start in ["rate(", "cron("] {
        let mut rest = text;
        while let Some(at) = rest.find(start) {
            let tail = &rest[at..];
            match tail.find(')') {
                Some(end) => {
                    found.push(tail[..=end].to_string());
                    rest = &tail[end + 1..];
                }
                None => break,
            }
        }
    }
    found
}

#[test]
fn the_scale_down_schedule_is_any_expression_and_its_examples_are_valid() {
    let t = template();
    let p = &t["Parameters"]["ScaleDownSchedule"];
    assert!(
        p["AllowedValues"].is_null(),
        "the run times are a free parameter (issue 8), not a short list"
    );
    assert_eq!(
        p["AllowedPattern"].as_str(),
        Some(r"^(rate|cron)\([^()]{1,200}\)$")
    );
    let examples = quoted_schedules(p["Description"].as_str().expect("a description"));
    assert!(examples.len() >= 4, "{examples:?}");
    for expr in examples {
        schedule::validate(&expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

#[test]
fn every_schedule_expression_in_the_template_is_valid() {
    let t = template();
    let mut checked = Vec::new();
    for (name, f) in functions(&t) {
        let events = object(&f["Properties"]["Events"], "Events");
        for (event_name, ev) in events {
            let prop = match ev["Type"].as_str() {
                Some("Schedule") => "Schedule",
                Some("ScheduleV2") => "ScheduleExpression",
                _ => continue,
            };
            let what = format!("{name}.Events.{event_name}.{prop}");
            for expr in possible_values(&t, &ev["Properties"][prop], &what) {
                if let Err(e) = schedule::validate(&expr) {
                    panic!("{what}: {e}");
                }
                checked.push(expr);
            }
        }
    }
    for ty in ["AWS::Events::Rule", "AWS::Scheduler::Schedule"] {
        for (name, r) in resources_of_type(&t, ty) {
            if r["Properties"]["ScheduleExpression"].is_null() {
                // An event-pattern rule (the notification rule), not a schedule.
                continue;
            }
            assert_ne!(ty, "AWS::Events::Rule", "{name}: a classic scheduled rule");
            let what = format!("{name}.ScheduleExpression");
            for expr in possible_values(&t, &r["Properties"]["ScheduleExpression"], &what) {
                if let Err(e) = schedule::validate(&expr) {
                    panic!("{what}: {e}");
                }
                checked.push(expr);
            }
        }
    }
    assert!(
        checked.contains(&"rate(1 minute)".to_string()),
        "scale-up runs every minute"
    );
    assert!(
        checked.contains(&"cron(0 0,6,12,18 * * ? *)".to_string()),
        "scale-down runs four times a day (UTC) by default"
    );
}

#[test]
fn both_functions_get_exactly_the_environment_variables_the_code_reads() {
    let t = template();
    let expected: BTreeMap<&str, &str> = autoscaler_aws::env::ENV_VARS.iter().copied().collect();
    assert_eq!(
        expected.len(),
        autoscaler_aws::env::ENV_VARS.len(),
        "ENV_VARS lists a name twice"
    );
    for (name, f) in functions(&t) {
        // SAM merges Globals.Function.Environment.Variables with the function's own.
        let mut vars = Map::new();
        for source in [
            &t["Globals"]["Function"]["Environment"]["Variables"],
            &f["Properties"]["Environment"]["Variables"],
        ] {
            if let Some(m) = source.as_object() {
                vars.extend(m.clone());
            }
        }
        let got: BTreeSet<&str> = vars.keys().map(String::as_str).collect();
        let want: BTreeSet<&str> = expected.keys().copied().collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: environment differs from autoscaler_aws::env::ENV_VARS; \
             missing from the template: {missing:?}; not read by the code: {extra:?}"
        );
        // Each variable defaults to what the code assumes (a parameter's Default counts).
        for (var, value) in &vars {
            let default = possible_values(&t, value, &format!("{name}.{var}"))[0].clone();
            assert_eq!(
                default,
                expected[var.as_str()],
                "{name}: {var} defaults to {default:?} in the template but {:?} in env.rs",
                expected[var.as_str()]
            );
        }
    }
}

#[test]
fn functions_are_built_from_their_own_binaries() {
    let t = template();
    for (name, f) in functions(&t) {
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        let binary = f["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: Metadata.BuildProperties.Binary"));
        let code_uri = f["Properties"]["CodeUri"].as_str().expect("CodeUri");
        let manifest = repo_root().join(code_uri).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{name}: {}: {e}", manifest.display()));
        assert!(
            text.contains(&format!("name = \"{binary}\"")),
            "{name}: {} defines no binary {binary:?}",
            manifest.display()
        );
        assert_eq!(function_property(&t, f, "Handler"), "bootstrap", "{name}");
        assert_eq!(
            function_property(&t, f, "Runtime"),
            "provided.al2023",
            "{name}"
        );
    }
}

#[test]
fn scheduled_runs_are_never_retried_and_never_overlap() {
    let t = template();
    for (name, f) in scheduled_functions(&t) {
        let config = function_property(&t, f, "EventInvokeConfig");
        assert_eq!(
            config["MaximumRetryAttempts"], "0",
            "{name}: a failed run must not be retried by Lambda"
        );
        assert_eq!(
            function_property(&t, f, "ReservedConcurrentExecutions"),
            "1",
            "{name}: one run at a time"
        );
        let timeout: u32 = function_property(&t, f, "Timeout")
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name}: Timeout"));
        assert!(
            timeout < 60,
            "{name}: timeout {timeout} s is not shorter than a minute"
        );
        let logging = &f["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{name}: JSON logs");
    }
}

/// Every IAM statement of the role `role`: its own policies and those of the `AWS::IAM::Policy`
/// resources attached to it, with JSON-string policy documents (built with `Fn::Sub`) parsed;
/// `Fn::If` branches are all included.
fn role_statements(t: &Value, role: &str) -> Vec<Value> {
    fn policies(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| policies(i, out)),
            Value::Object(m) if m.contains_key("Fn::If") => {
                let branches = m["Fn::If"].as_array().expect("Fn::If takes a list");
                branches[1..].iter().for_each(|b| policies(b, out));
            }
            Value::Object(m) if m.contains_key("Ref") => {
                assert_eq!(m["Ref"], "AWS::NoValue");
            }
            Value::Object(m) => {
                let mut documents = Vec::new();
                document(&m["PolicyDocument"], &mut documents);
                for doc in documents {
                    out.extend(doc["Statement"].as_array().expect("Statement list").clone());
                }
            }
            other => panic!("unexpected policy entry {other}"),
        }
    }
    /// A policy document: literal, a JSON string built with `Fn::Sub`, or either branch of an
    /// `Fn::If`.
    fn document(d: &Value, out: &mut Vec<Value>) {
        match d {
            Value::Object(m) if m.contains_key("Fn::If") => {
                let branches = m["Fn::If"].as_array().expect("Fn::If takes a list");
                branches[1..].iter().for_each(|b| document(b, out));
            }
            Value::Object(m) if m.contains_key("Fn::Sub") => {
                let text = m["Fn::Sub"].as_str().expect("Fn::Sub of a string");
                out.push(
                    serde_json::from_str(text)
                        .unwrap_or_else(|e| panic!("a policy is not valid JSON: {e}\n{text}")),
                );
            }
            other => out.push(other.clone()),
        }
    }
    let resource = &t["Resources"][role];
    assert_eq!(resource["Type"], "AWS::IAM::Role", "{role} is a role");
    let mut out = Vec::new();
    policies(&resource["Properties"]["Policies"], &mut out);
    for (_, p) in resources_of_type(t, "AWS::IAM::Policy") {
        let attached = p["Properties"]["Roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["Ref"] == role));
        if attached {
            policies(&Value::Array(vec![p["Properties"].clone()]), &mut out);
        }
    }
    out
}

fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(a) => vec![a.clone()],
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().expect("action").to_string())
            .collect(),
        other => panic!("Action {other}"),
    }
}

#[test]
fn the_role_allows_exactly_the_calls_the_pipeline_makes() {
    let t = template();
    for (name, f) in scheduled_functions(&t) {
        assert_eq!(
            f["Properties"]["Role"]["Fn::GetAtt"][0], "AutoscalerRole",
            "{name} uses the shared role"
        );
        assert!(
            f["Properties"]["Policies"].is_null(),
            "{name}: no extra policies"
        );
    }
    let statements = role_statements(&t, "AutoscalerRole");
    let granted: BTreeSet<String> = statements.iter().flat_map(actions).collect();
    let expected: BTreeSet<String> = [
        "tag:GetResources",
        "dynamodb:ListTables",
        "dynamodb:ListTagsOfResource",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeLimits",
        "dynamodb:UpdateTable",
        "dynamodb:UntagResource",
        "dynamodb:UpdateItem",
        "cloudwatch:GetMetricData",
        "application-autoscaling:DescribeScalableTargets",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "events:PutEvents",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(granted, expected);
    for s in &statements {
        assert_eq!(s["Effect"], "Allow");
        assert!(
            actions(s).iter().all(|a| !a.contains('*')),
            "no wildcard actions: {s}"
        );
    }
    // UpdateTable: by default only on tables tagged <TagKey>=on (the tag key is a parameter).
    let updates: Vec<&Value> = statements
        .iter()
        .filter(|s| actions(s).contains(&"dynamodb:UpdateTable".to_string()))
        .collect();
    assert!(
        updates.iter().any(|s| {
            actions(s).len() == 1
                && s["Condition"]["StringEquals"]["aws:ResourceTag/${TagKey}"] == "on"
                && s["Resource"]
                    == "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"
        }),
        "UpdateTable should be limited to tables tagged <TagKey>=on: {updates:?}"
    );
    // UpdateItem: the lease table only.
    let leases: Vec<&Value> = statements
        .iter()
        .filter(|s| actions(s).contains(&"dynamodb:UpdateItem".to_string()))
        .collect();
    assert_eq!(leases.len(), 1, "{leases:?}");
    assert_eq!(actions(leases[0]), vec!["dynamodb:UpdateItem".to_owned()]);
    assert_eq!(
        leases[0]["Resource"]["Fn::GetAtt"],
        serde_json::json!(["LeaseTable", "Arn"]),
        "UpdateItem on the lease table only"
    );
    for s in updates {
        let resource = match &s["Resource"] {
            Value::Object(m) => m["Fn::Sub"].clone(),
            other => other.clone(),
        };
        assert_eq!(
            resource, "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*",
            "UpdateTable stays within this account and region"
        );
    }
}

#[test]
fn the_functions_may_untag_only_boost_keys() {
    let t = template();
    let untags: Vec<Value> = role_statements(&t, "AutoscalerRole")
        .into_iter()
        .filter(|s| actions(s).contains(&"dynamodb:UntagResource".to_owned()))
        .collect();
    assert!(!untags.is_empty());
    for s in untags {
        assert_eq!(actions(&s), ["dynamodb:UntagResource"], "{s}");
        assert_eq!(
            s["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"],
            serde_json::json!(["${TagKey}:boost:*"]),
            "{s}"
        );
        assert_eq!(s["Condition"]["Null"]["aws:TagKeys"], "false", "{s}");
    }
}

#[test]
fn the_api_may_tag_only_opted_in_tables_and_never_the_opt_in_key() {
    let t = template();
    let api = &t["Resources"]["ApiFunction"]["Properties"];
    assert_eq!(
        api["Role"]["Fn::GetAtt"][0], "ApiRole",
        "the API has its own role"
    );
    let auth = &t["Resources"]["ManagementApi"]["Properties"]["Auth"];
    assert_eq!(
        auth["DefaultAuthorizer"], "AWS_IAM",
        "every route needs SigV4"
    );
    assert_eq!(auth["EnableIamAuthorizer"], "true");
    let statements = role_statements(&t, "ApiRole");
    let granted: BTreeSet<String> = statements.iter().flat_map(actions).collect();
    assert!(
        !granted.contains("dynamodb:UpdateTable"),
        "the API writes tags, never capacity"
    );
    let writes: Vec<&Value> = statements
        .iter()
        .filter(|s| actions(s).iter().any(|a| a.ends_with("TagResource")))
        .collect();
    assert_eq!(
        writes.len(),
        2,
        "both branches of RestrictUpdatesToTaggedTables"
    );
    for s in &writes {
        assert_eq!(
            actions(s),
            ["dynamodb:TagResource", "dynamodb:UntagResource"],
            "{s}"
        );
        // Keys under "<TagKey>:" only: the opt-in key "<TagKey>" itself matches no pattern.
        assert_eq!(
            s["Condition"]["ForAllValues:StringLike"]["aws:TagKeys"],
            serde_json::json!(["${TagKey}:*"]),
            "{s}"
        );
        assert_eq!(s["Condition"]["Null"]["aws:TagKeys"], "false", "{s}");
    }
    assert!(
        writes.iter().any(
            |s| s["Condition"]["StringEquals"]["aws:ResourceTag/${TagKey}"]
                == serde_json::json!(["on", "dry-run"])
        ),
        "by default only on tables tagged on or dry-run: {writes:?}"
    );
}

#[test]
fn the_lease_table_is_the_stack_s_own_on_demand_table_with_a_ttl() {
    let t = template();
    let lease = &t["Resources"]["LeaseTable"];
    assert_eq!(lease["Type"], "AWS::DynamoDB::Table");
    let p = &lease["Properties"];
    assert_eq!(
        p["BillingMode"], "PAY_PER_REQUEST",
        "idle stacks pay nothing"
    );
    assert_eq!(p["KeySchema"][0]["AttributeName"], "table_name");
    assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], "ttl");
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], "true");
    assert_eq!(
        t["Globals"]["Function"]["Environment"]["Variables"]["AUTOSCALER_LEASE_TABLE"]["Ref"],
        "LeaseTable"
    );
}

// ---------------------------------------------------------------------------------------------
// Parameter constraints against the code's validation
// ---------------------------------------------------------------------------------------------

/// Whether CloudFormation accepts `value` for parameter `p`: `AllowedValues` (exact), then
/// `AllowedPattern` (matched against the whole value, as CloudFormation's Java regex does),
/// `MinLength`/`MaxLength`, and for `Number` a number within `MinValue`/`MaxValue`.
fn parameter_accepts(p: &Value, value: &str) -> bool {
    if let Some(allowed) = p["AllowedValues"].as_array() {
        return allowed.iter().any(|a| a == value);
    }
    let length = value.chars().count();
    let bound = |k: &str| p[k].as_str().and_then(|v| v.parse::<f64>().ok());
    if bound("MinLength").is_some_and(|m| (length as f64) < m)
        || bound("MaxLength").is_some_and(|m| (length as f64) > m)
    {
        return false;
    }
    if let Some(pattern) = p["AllowedPattern"].as_str() {
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$"))
            .unwrap_or_else(|e| panic!("AllowedPattern {pattern:?}: {e}"));
        if !re.is_match(value) {
            return false;
        }
    }
    if p["Type"] == "Number" {
        let Ok(n) = value.parse::<f64>() else {
            return false;
        };
        if bound("MinValue").is_some_and(|m| n < m) || bound("MaxValue").is_some_and(|m| n > m) {
            return false;
        }
    }
    true
}

/// Every (environment variable, parameter) pair the template wires with `!Ref`.
fn parameters_behind_variables(t: &Value) -> Vec<(String, String)> {
    object(
        &t["Globals"]["Function"]["Environment"]["Variables"],
        "Globals.Function.Environment.Variables",
    )
    .iter()
    .filter_map(|(var, v)| {
        let name = v["Ref"].as_str()?;
        t["Parameters"][name]
            .is_object()
            .then(|| (var.clone(), name.to_owned()))
    })
    .collect()
}

/// Whether the code accepts `value` for `var`, every other variable set as the template sets
/// it by default (the bounds of a pair of parameters opened up, so that only `var`'s own
/// constraint is tested: `MaxCapacity` at its largest while `MinCapacity` varies, and the
/// reverse).
fn code_accepts(t: &Value, var: &str, value: &str) -> bool {
    let vars = object(
        &t["Globals"]["Function"]["Environment"]["Variables"],
        "variables",
    );
    let lookup = |name: &str| -> Option<String> {
        if name == var {
            return Some(value.to_owned());
        }
        match name {
            "AUTOSCALER_MAX_CAPACITY" => return Some("999999999".to_owned()),
            "AUTOSCALER_MIN_CAPACITY" => return Some("1".to_owned()),
            _ => {}
        }
        let v = vars.get(name)?;
        let default = possible_values(t, v, name).remove(0);
        (!default.is_empty()).then_some(default)
    };
    // Every reader of the variables the functions validate at cold start.
    autoscaler_aws::RunConfig::from_lookup(lookup).is_ok()
        && autoscaler_aws::emf::MetricsConfig::from_lookup(lookup).is_ok()
        && autoscaler_aws::notify::Notifications::from_lookup(lookup).is_ok()
}

/// Values near the edges of every parameter's grammar.
fn near_misses() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "0",
        "1",
        "01",
        "+1",
        "-1",
        "1.5",
        "1.0",
        "20.0",
        "1e2",
        "19",
        "20",
        "21",
        "59",
        "60",
        "61",
        "80",
        "80%",
        " 80",
        "80 ",
        "88",
        "89",
        "90",
        "99",
        "100",
        "101",
        "999999999",
        "1000000000",
        "0999",
        "true",
        "false",
        "TRUE",
        "True",
        "yes",
        "no",
        "on",
        "aws",
        "aws:",
        "aws:x",
        "AWS:x",
        "aWs:x",
        "awsx",
        "aws_x",
        "awsa",
        "aw",
        "a",
        "ab",
        "abc",
        "abcd",
        "a b",
        "é",
        "key%",
        "key#",
        "key\t",
        ":x",
        "ddb-autoscaler",
        "team/scaler=1+2@x.y_z-",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for n in [96, 99, 100, 101, 127, 128, 129] {
        v.push("k".repeat(n));
        v.push(format!("aws:{}", "k".repeat(n.saturating_sub(4))));
    }
    for c in autoscaler_aws::env::TAG_KEY_CHARS
        .chars()
        .chain([' ', '%', '*', '\n'])
    {
        v.push(format!("key{c}"));
        v.push(format!("{c}key"));
    }
    v
}

fn assert_agree(t: &Value, var: &str, parameter: &str, value: &str) {
    let p = &t["Parameters"][parameter];
    assert_eq!(
        parameter_accepts(p, value),
        code_accepts(t, var, value),
        "{parameter} = {value:?}: the template {} it but the code {} it ({var})",
        if parameter_accepts(p, value) {
            "accepts"
        } else {
            "refuses"
        },
        if code_accepts(t, var, value) {
            "accepts"
        } else {
            "refuses"
        },
    );
}

#[test]
fn every_parameter_accepts_exactly_what_the_code_accepts() {
    let t = template();
    let pairs = parameters_behind_variables(&t);
    let names: BTreeSet<&str> = pairs.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        names,
        [
            "DryRun",
            "MaxCapacity",
            "MaxPollMinutes",
            "MetricsNamespace",
            "MinCapacity",
            "Notifications",
            "TableMetrics",
            "TagKey",
            "TargetUtilisationPercent"
        ]
        .into(),
        "the parameters behind variables"
    );
    for (var, parameter) in &pairs {
        let p = &t["Parameters"][parameter.as_str()];
        let mut values = near_misses();
        values.extend(possible_values(
            &t,
            &serde_json::json!({ "Ref": parameter }),
            var,
        ));
        let mut accepted = 0;
        for value in &values {
            assert_agree(&t, var, parameter, value);
            accepted += usize::from(parameter_accepts(p, value));
        }
        assert!(accepted > 0, "{parameter} accepts none of the probes");
    }
}

mod random_values {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_values_are_accepted_by_both_or_neither(
            digits in "[0-9%.+ -]{0,11}",
            key in "[A-Za-z0-9_.:/=+@ %*-]{0,130}",
            prefixed in "(aws|AWS|aWs|aw|a)[:sx]?[a-z0-9:]{0,4}",
            word in "[a-zA-Z]{0,6}",
        ) {
            let t = template();
            for (var, parameter) in parameters_behind_variables(&t) {
                for value in [&digits, &key, &prefixed, &word] {
                    assert_agree(&t, &var, &parameter, value);
                }
            }
        }
    }
}

mod random_schedules {
    //! Schedule expressions under random input: the validator never panics, refuses with a
    //! message that quotes the expression, and accepts every expression built by the grammar.
    use super::schedule;
    use proptest::prelude::*;

    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            Just("?".to_owned()),
            Just("L".to_owned()),
            "[0-9]{1,4}",
            "[0-9]{1,2}-[0-9]{1,2}",
            "(\\*|[0-9]{1,2})/[0-9]{1,2}",
            "[0-9]{1,2}(,[0-9]{1,2}){1,3}",
            "[0-9]{1,2}[LW#][0-9]?",
            "(MON|FRI|SUN|JAN|DEC|FOO)(-(MON|FRI|DEC))?",
            "[ -~]{0,4}",
        ]
    }

    fn near_valid() -> impl Strategy<Value = String> {
        prop_oneof![
            (
                "[0-9-]{0,3}",
                "( |  )?",
                "(minute|minutes|hour|hours|day|days|week|[a-z]{0,6})"
            )
                .prop_map(|(n, s, u)| format!("rate({n}{s}{u})")),
            prop::collection::vec(token(), 4..8).prop_map(|f| format!("cron({})", f.join(" "))),
            "[ -~]{0,30}",
        ]
    }

    /// A valid cron expression, field by field.
    fn valid_cron() -> impl Strategy<Value = String> {
        let minutes = prop_oneof![
            Just("*".to_owned()),
            (0u32..60).prop_map(|m| m.to_string()),
            (1u32..60).prop_map(|k| format!("*/{k}")),
            (0u32..30, 30u32..60).prop_map(|(a, b)| format!("{a}-{b}")),
        ];
        let hours = prop_oneof![
            Just("*".to_owned()),
            (0u32..24).prop_map(|h| h.to_string()),
            prop::collection::btree_set(0u32..24, 1..4).prop_map(|s| s
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")),
        ];
        let day = prop_oneof![
            Just(("*".to_owned(), "?".to_owned())),
            (1u32..32).prop_map(|d| (d.to_string(), "?".to_owned())),
            Just(("?".to_owned(), "MON-FRI".to_owned())),
            (1u32..8).prop_map(|d| ("?".to_owned(), d.to_string())),
        ];
        let month = prop_oneof![
            Just("*".to_owned()),
            (1u32..13).prop_map(|m| m.to_string()),
            Just("JAN-MAR".to_owned()),
        ];
        let year = prop_oneof![
            Just("*".to_owned()),
            (1970u32..2200).prop_map(|y| y.to_string())
        ];
        (minutes, hours, day, month, year)
            .prop_map(|(m, h, (dom, dow), mon, y)| format!("cron({m} {h} {dom} {mon} {dow} {y})"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn random_expressions_are_refused_with_a_message_or_accepted(expr in near_valid()) {
            if let Err(message) = schedule::validate(&expr) {
                prop_assert!(!message.is_empty());
                let inner = expr
                    .strip_prefix("rate(")
                    .or_else(|| expr.strip_prefix("cron("))
                    .map(|s| s.strip_suffix(')').unwrap_or(s));
                prop_assert!(
                    message.contains(inner.unwrap_or(&expr)) || message.contains(&format!("{expr:?}")),
                    "{expr:?}: {message}"
                );
            }
        }

        #[test]
        fn expressions_built_by_the_grammar_are_accepted(expr in valid_cron()) {
            prop_assert_eq!(schedule::validate(&expr), Ok(()), "{}", expr);
        }
    }
}

#[test]
fn the_schedules_are_scheduler_schedules_in_utc_that_never_retry_and_carry_their_time() {
    let t = template();
    for (name, f) in scheduled_functions(&t) {
        let events = object(&f["Properties"]["Events"], "Events");
        assert_eq!(events.len(), 1, "{name}: one schedule");
        for (event, ev) in events {
            let what = format!("{name}.Events.{event}");
            assert_eq!(
                ev["Type"], "ScheduleV2",
                "{what}: EventBridge Scheduler, not a classic rule"
            );
            let p = &ev["Properties"];
            assert_eq!(p["ScheduleExpressionTimezone"], "UTC", "{what}");
            assert_eq!(p["FlexibleTimeWindow"]["Mode"], "OFF", "{what}");
            assert_eq!(p["RetryPolicy"]["MaximumRetryAttempts"], "0", "{what}");
            assert_eq!(
                p["RetryPolicy"]["MaximumEventAgeInSeconds"], "60",
                "{what}: Scheduler's minimum event age"
            );
            assert_eq!(
                p["OmitName"], "true",
                "{what}: a generated name, unique per stack"
            );
            // The handler reads the scheduled time from this field (functions/common/src/
            // schedule.rs, SCHEDULED_TIME_FIELD) and drops a run more than 60 s late.
            let input: Value = serde_json::from_str(p["Input"].as_str().expect("Input"))
                .unwrap_or_else(|e| panic!("{what}: Input is not JSON: {e}"));
            assert_eq!(
                input,
                serde_json::json!({"scheduled_time": "<aws.scheduler.scheduled-time>"}),
                "{what}"
            );
        }
        let config = function_property(&t, f, "EventInvokeConfig");
        assert_eq!(config["MaximumEventAgeInSeconds"], "60", "{name}");
    }
}

#[test]
fn notifications_may_only_put_our_events_on_the_default_bus() {
    let t = template();
    let puts: Vec<Value> = role_statements(&t, "AutoscalerRole")
        .into_iter()
        .filter(|s| actions(s).contains(&"events:PutEvents".to_owned()))
        .collect();
    assert_eq!(puts.len(), 1, "{puts:?}");
    let s = &puts[0];
    assert_eq!(actions(s), ["events:PutEvents"]);
    assert_eq!(
        s["Condition"]["StringEquals"]["events:source"],
        autoscaler_aws::notify::SOURCE
    );
    assert_eq!(
        s["Resource"]["Fn::Sub"],
        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"
    );
    let policy = &t["Resources"]["NotifyPolicy"];
    assert_eq!(
        policy["Condition"], "Notifies",
        "only when notifications are on"
    );
    // With Notifications=sns, the stack's rule forwards exactly our events to its topic.
    let rule = &t["Resources"]["NotificationRule"]["Properties"];
    assert_eq!(
        rule["EventPattern"]["source"],
        serde_json::json!([autoscaler_aws::notify::SOURCE])
    );
    assert_eq!(
        rule["Targets"][0]["Arn"]["Ref"], "NotificationTopic",
        "{rule}"
    );
    let allowed = &t["Parameters"]["Notifications"]["AllowedValues"];
    assert_eq!(allowed, &serde_json::json!(["none", "eventbridge", "sns"]));
}

#[test]
fn the_silence_alarms_fire_on_missing_invocations() {
    let t = template();
    for (alarm, function) in [
        ("ScaleUpSilentAlarm", "ScaleUpFunction"),
        ("ScaleDownSilentAlarm", "ScaleDownFunction"),
    ] {
        let p = &t["Resources"][alarm]["Properties"];
        assert_eq!(
            (&p["Namespace"], &p["MetricName"]),
            (&"AWS/Lambda".into(), &"Invocations".into()),
            "{alarm}"
        );
        assert_eq!(p["Dimensions"][0]["Value"]["Ref"], function, "{alarm}");
        assert_eq!(p["ComparisonOperator"], "LessThanThreshold", "{alarm}");
        assert_eq!(
            p["TreatMissingData"], "breaching",
            "{alarm}: no invocation publishes no datapoint"
        );
        assert_eq!(p["AlarmActions"][0]["Ref"], "AlarmTopic", "{alarm}");
        let period: u64 = p["Period"].as_str().unwrap().parse().unwrap();
        let evaluations: u64 = p["EvaluationPeriods"].as_str().unwrap().parse().unwrap();
        assert!(
            period * evaluations <= 86_400,
            "{alarm}: CloudWatch evaluates at most a day"
        );
    }
    // Scale-up runs every minute: the threshold is below the runs expected in the period.
    let up = &t["Resources"]["ScaleUpSilentAlarm"]["Properties"];
    let expected_runs: u64 = up["Period"].as_str().unwrap().parse::<u64>().unwrap() / 60;
    let threshold: u64 = up["Threshold"].as_str().unwrap().parse().unwrap();
    assert!(threshold > 0 && threshold < expected_runs);
}

/// The dashboard's body, with every `${...}` of its `Fn::Sub` replaced by a placeholder.
fn dashboard(t: &Value) -> Value {
    let d = &t["Resources"]["Dashboard"];
    assert_eq!(d["Type"], "AWS::CloudWatch::Dashboard");
    let body = d["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_str()
        .expect("the body is an Fn::Sub string");
    let mut text = String::new();
    let mut rest = body;
    while let Some(at) = rest.find("${") {
        text.push_str(&rest[..at]);
        let end = rest[at..].find('}').expect("a closed ${...}") + at;
        text.push_str(&format!("<{}>", &rest[at + 2..end]));
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the dashboard is not JSON: {e}\n{text}"))
}

#[test]
fn the_dashboard_shows_only_metrics_the_functions_write_and_the_readme_lists_its_widgets() {
    use autoscaler_aws::emf;
    let t = template();
    let d = dashboard(&t);
    let ours: BTreeSet<&str> = emf::RUN_METRICS
        .iter()
        .chain(&emf::TABLE_METRICS)
        .copied()
        .chain([emf::DECISIONS, emf::LATE_RUNS_DROPPED])
        .collect();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let mut titles = Vec::new();
    let mut named = BTreeSet::new();
    for w in d["widgets"].as_array().expect("widgets") {
        let p = &w["properties"];
        if w["type"] == "text" {
            continue;
        }
        let title = p["title"]
            .as_str()
            .expect("every metric widget has a title");
        assert_eq!(p["region"], "<AWS::Region>", "{title}");
        titles.push(title.to_owned());
        for m in p["metrics"].as_array().expect("metrics") {
            let m = m.as_array().expect("a metric row");
            if let Some(e) = m[0]["expression"].as_str() {
                // SEARCH('{"<MetricsNamespace>",dims...} MetricName="Name"', ...)
                assert!(e.contains("{\"<MetricsNamespace>\","), "{title}: {e}");
                let name = e
                    .split("MetricName=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .expect("a metric name");
                named.insert(name.to_owned());
                continue;
            }
            let (namespace, name) = (m[0].as_str().unwrap(), m[1].as_str().unwrap());
            match namespace {
                "AWS/Lambda" => assert!(
                    ["Invocations", "Errors", "Duration", "Throttles"].contains(&name),
                    "{title}: {name}"
                ),
                "<MetricsNamespace>" => {
                    named.insert(name.to_owned());
                }
                other => panic!("{title}: namespace {other}"),
            }
        }
        assert!(
            readme.contains(&format!("**{title}**")),
            "the README's dashboard section lists the widget **{title}**"
        );
    }
    for name in &named {
        assert!(
            ours.contains(name.as_str()),
            "the dashboard shows {name}, which the functions never write"
        );
    }
    for required in [
        "Increases",
        "Decreases",
        "TablesThrottled",
        "MetricsRequested",
        "Decisions",
        "TablesFailed",
    ] {
        assert!(named.contains(required), "the dashboard shows {required}");
    }
    assert!(titles.len() >= 8, "{titles:?}");
    assert_eq!(t["Resources"]["Dashboard"]["Condition"], "HasMetrics");
}

#[test]
fn metrics_need_a_log_level_that_keeps_info_lines() {
    let t = template();
    let rule = &t["Rules"]["MetricsNeedInfoLogs"];
    assert_eq!(
        rule["Assertions"][0]["Assert"]["Fn::Contains"],
        serde_json::json!([["TRACE", "DEBUG", "INFO"], {"Ref": "LogLevel"}])
    );
    assert_eq!(
        rule["RuleCondition"]["Fn::Not"][0]["Fn::Equals"],
        serde_json::json!([{"Ref": "MetricsNamespace"}, autoscaler_aws::emf::OFF])
    );
}
