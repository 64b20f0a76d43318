//! Tag overrides under random input (issue 9, "Prove it"): arbitrary strings and near-valid
//! keys and values never panic; a tag under the prefix that is refused is refused with an error
//! that names it and its value; what parses resolves to valid settings or to an error saying
//! which tags contradict each other. (The pipeline's side, "a table with a bad tag is left
//! untouched", is `crates/autoscaler-aws/tests/parsers.rs`.)
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use scaling_policy::config::{Origin, Setting, validate};
use scaling_policy::{ConfigError, Settings, TableTags};

const PREFIX: &str = "ddb-autoscaler";

/// A key under the prefix: a setting, an index's setting, or a near miss of either.
fn key() -> impl Strategy<Value = String> {
    let setting = prop::sample::select(Setting::ALL.map(Setting::tag_name).to_vec());
    prop_oneof![
        setting.clone().prop_map(|s| format!("{PREFIX}:{s}")),
        (setting.clone(), "[a-z-]{0,8}").prop_map(|(s, i)| format!("{PREFIX}:index:{i}:{s}")),
        (setting, "[ -~]{0,3}").prop_map(|(s, junk)| format!("{PREFIX}:{s}{junk}")),
        "[ -~]{0,20}".prop_map(|k| format!("{PREFIX}:{k}")),
        "[ -~]{0,30}",
        Just(PREFIX.to_owned()),
    ]
}

/// A value: numbers of every shape, percentages, and anything at all.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..100_000).prop_map(|n| n.to_string()),
        "[0-9]{1,25}",
        "-?[0-9]{0,4}(\\.[0-9]{0,3})?%?",
        " ?[0-9]{1,3} ?",
        Just("on".to_owned()),
        Just("dry-run".to_owned()),
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_tags_parse_or_name_the_tag_at_fault(
        tags in prop::collection::vec((key(), value()), 0..8),
    ) {
        let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        match TableTags::parse(PREFIX, pairs) {
            Err(e) => {
                let message = e.to_string();
                match &e {
                    ConfigError::BadTagValue { key, value, .. } => {
                        prop_assert!(tags.iter().any(|(k, v)| k == key && v == value));
                        prop_assert!(message.contains(&format!("{key:?}")) && message.contains(&format!("{value:?}")), "{message}");
                    }
                    ConfigError::UnknownTag { key, .. } => {
                        prop_assert!(tags.iter().any(|(k, _)| k == key));
                        prop_assert!(message.contains(&format!("{key:?}")), "{message}");
                    }
                    other => prop_assert!(false, "parse gives only tag errors: {other:?}"),
                }
            }
            Ok(parsed) => {
                for index in [None, Some("by-user")] {
                    match parsed.resolve(&Settings::default(), index) {
                        Ok(s) => {
                            // What resolves is valid, by the same rules as the defaults.
                            prop_assert_eq!(validate(&s, |_| Origin::Default), Ok(s.clone()));
                        }
                        Err(ConfigError::Contradiction { problem, .. }) => {
                            prop_assert!(!problem.is_empty());
                        }
                        Err(other) => prop_assert!(false, "resolve gives contradictions: {other:?}"),
                    }
                }
            }
        }
    }
}
