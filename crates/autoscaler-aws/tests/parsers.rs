//! The pipeline's parsers under random input (issue 9, "Prove it"): environment values never
//! panic and a refusal names the variable and its value; a table whose tags are malformed in any
//! way is left untouched (no `UpdateTable`), and reported (failed, naming the tag) when it is
//! opted in. Tag parsing itself is `crates/scaling-policy/tests/parsers.rs`; trace CSVs
//! `crates/capacity-sim/tests/parsers.rs`; schedule expressions `tests/template.rs`.
#![allow(clippy::unwrap_used)]

use autoscaler_aws::env::ENV_VARS;
use autoscaler_aws::run::Outcome;
use autoscaler_aws::{Direction, RunConfig, SkipReason, run};
use proptest::prelude::*;
use scaling_policy::config::Setting;
use scaling_policy::{Dimension, Mode, TableTags};
use test_support::mock_aws::{World, config, now};

/// A value for an environment variable: near misses of every grammar, and anything.
fn env_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,12}",
        "[-+ ]?[0-9]{1,4}[.%]?[0-9]{0,2} ?",
        "(true|false|TRUE|yes|no|1|0)",
        "[A-Za-z0-9_.:/=+@ %-]{0,120}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn environment_values_parse_or_name_the_variable(
        var in prop::sample::select(ENV_VARS.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
        value in env_value(),
    ) {
        let result = RunConfig::from_lookup(|n| (n == var).then(|| value.clone()));
        if let Err(e) = result {
            let message = e.to_string();
            match e {
                autoscaler_aws::Error::Env { name, .. } => {
                    prop_assert_eq!(name, var);
                    prop_assert!(message.contains(var) && message.contains(&format!("{value:?}")), "{message}");
                }
                // A value valid alone that contradicts another default (a target above 89...).
                autoscaler_aws::Error::Defaults(_) => prop_assert!(message.contains("default")),
                other => prop_assert!(false, "{other}"),
            }
        }
    }
}

fn tag_key() -> impl Strategy<Value = String> {
    let setting = prop::sample::select(Setting::ALL.map(Setting::tag_name).to_vec());
    prop_oneof![
        setting.clone().prop_map(|s| format!("ddb-autoscaler:{s}")),
        setting.prop_map(|s| format!("ddb-autoscaler:index:nope:{s}")),
        "[a-z:-]{0,12}".prop_map(|k| format!("ddb-autoscaler:{k}")),
    ]
}

fn tag_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,6}",
        "-?[0-9]{0,4}(\\.[0-9]{0,2})?%?",
        "[ -~]{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_table_with_a_bad_tag_is_left_untouched(
        opt_in in prop::sample::select(vec!["on", "dry-run", "On", "off"]),
        tags in prop::collection::vec((tag_key(), tag_value()), 1..4),
    ) {
        let mut all: Vec<(&str, &str)> = vec![("ddb-autoscaler", opt_in)];
        all.extend(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let parsed = TableTags::parse("ddb-autoscaler", all.iter().copied());
        let bad = match &parsed {
            Err(_) => true,
            Ok(t) => t.check_indexes(["by-user"]).is_err() || [None, Some("by-user")]
                .iter()
                .any(|i| t.resolve(&scaling_policy::Settings::default(), *i).is_err()),
        };
        prop_assume!(bad);
        let now = now();
        let w = World::new(now);
        w.add_table("tagged", (10, 10), &[("by-user", 5, 5)], &all);
        for dim in Dimension::BOTH {
            w.recent("tagged", None, dim, now, 9.5, 0.0);
        }
        let config = config();
        let s = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(&w.clients("fuzz"), &config, Direction::Up, now))
            .unwrap();
        prop_assert!(
            !w.calls().iter().any(|c| c.operation == "UpdateTable"),
            "a table with a bad tag is never changed: {all:?}"
        );
        prop_assert_eq!(w.capacity("tagged", None), (10, 10));
        let outcome = &s.table("tagged").unwrap().outcome;
        match Mode::from_tag_value(opt_in) {
            Some(_) => {
                let Outcome::Failed { error } = outcome else {
                    return Err(TestCaseError::fail(format!("{all:?}: {outcome:?}")));
                };
                prop_assert!(error.to_string().contains("tagged"), "names the table: {error}");
            }
            None => prop_assert!(matches!(
                outcome,
                Outcome::Skipped { reason: SkipReason::NotOptedIn | SkipReason::OptInNearMiss, .. }
            ), "{outcome:?}"),
        }
    }
}
