//! Changes people ask for, written as tags: a table's overrides (replaced or merged) and its
//! boosts (added, removed). The management API and the CLI's `boost` both call these, so both
//! refuse and accept exactly the same things.
//!
//! Rules, for every change:
//! - only a table that has opted in (`on` or `dry-run`) may be changed ([`Error::NotOptedIn`]);
//! - the opt-in tag itself is never written nor removed here, and a settings change never
//!   touches a boost tag (or the other way round);
//! - the whole new set of tags is validated before anything is written, by the parser the
//!   functions use (`TableTags::parse`, `check_indexes`, `resolve` for the table and each GSI),
//!   so the errors read as the functions' would ([`Error::Config`]); a boost is also checked
//!   against the max of its part (within the table quota) and the account limit
//!   (`DescribeLimits`), and against the room left (5 boosts, 50 tags);
//! - every change is logged (`tags changed`) with `changed_by`, the caller's identity.

use scaling_policy::boost::{self, Boost};
use scaling_policy::{ConfigError, Dimension, TableTags, Timestamp};

use crate::aws::{self, Clients};
use crate::env::RunConfig;
use crate::error::Error;
use crate::outlook::{mode, tagged_table};
use crate::table::{TableDescription, TaggedTable};
use crate::tags;

/// A change of one override tag: its key, and its new value or `None` to remove it.
pub type OverrideChange = (String, Option<String>);

/// What a settings change wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Tags set (key, value), new or changed.
    pub set: Vec<(String, String)>,
    /// Tag keys removed.
    pub removed: Vec<String>,
}

/// Whether `key` is one of the table's override tags under `prefix` (not the opt-in tag, not a
/// boost).
pub fn is_override(prefix: &str, key: &str) -> bool {
    key.strip_prefix(prefix).is_some_and(|r| r.starts_with(':'))
        && boost::id_of_key(prefix, key).is_none()
}

fn config_error(table: &str, source: ConfigError) -> Error {
    Error::Config {
        table: table.to_owned(),
        source,
    }
}

/// The table `name` with all its tags, refused unless it has opted in.
async fn opted_in(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
) -> Result<(TaggedTable, TableDescription), Error> {
    let (table, description) = tagged_table(clients, name).await?;
    mode(config, &table)?;
    Ok((table, description))
}

/// The tags the table would carry after `changes` (`replace`: every current override that
/// `changes` does not name is removed too), and what to write to get there.
pub fn plan_settings(
    prefix: &str,
    current: &[(String, String)],
    changes: &[OverrideChange],
    replace: bool,
) -> Result<(Vec<(String, String)>, Written), ConfigError> {
    for (key, _) in changes {
        if !is_override(prefix, key) {
            return Err(ConfigError::UnknownTag {
                key: key.clone(),
                hint: format!(
                    "settings are tags under {prefix}: (not the opt-in tag, not a boost)"
                ),
            });
        }
    }
    let mut after: Vec<(String, String)> = current
        .iter()
        .filter(|(k, _)| !(replace && is_override(prefix, k)))
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    let mut written = Written::default();
    for (key, value) in changes {
        if let Some(v) = value {
            after.push((key.clone(), v.clone()));
            if !current.iter().any(|(k, cv)| k == key && cv == v) {
                written.set.push((key.clone(), v.clone()));
            }
        }
    }
    written.removed = current
        .iter()
        .filter(|(k, _)| is_override(prefix, k) && !after.iter().any(|(a, _)| a == k))
        .map(|(k, _)| k.clone())
        .collect();
    Ok((after, written))
}

/// Validates the tags a table would carry, as the functions would read them: every override
/// parses, names an existing index, and resolves to consistent settings for the table and each
/// GSI; and the table keeps within DynamoDB's tag limit.
pub fn validate_tags(
    config: &RunConfig,
    description: &TableDescription,
    tags: &[(String, String)],
) -> Result<TableTags, ConfigError> {
    boost::check_tag_count(tags.len())?;
    let parsed = TableTags::parse(
        &config.tag_key,
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let indexes = || {
        description
            .table_and_indexes
            .iter()
            .filter_map(|t| t.index.as_deref())
    };
    parsed.check_indexes(indexes())?;
    parsed.resolve(&config.defaults, None)?;
    for index in indexes() {
        parsed.resolve(&config.defaults, Some(index))?;
    }
    Ok(parsed)
}

/// Changes the overrides of `name` (see [`plan_settings`]) after validating the result in full;
/// returns what was written. Nothing is written when validation fails.
pub async fn change_settings(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
    changes: &[OverrideChange],
    replace: bool,
    changed_by: &str,
) -> Result<Written, Error> {
    let (table, description) = opted_in(clients, config, name).await?;
    let (after, written) = plan_settings(&config.tag_key, &table.tags, changes, replace)
        .map_err(|e| config_error(name, e))?;
    validate_tags(config, &description, &after).map_err(|e| config_error(name, e))?;
    let result = tags::change(clients, name, &table.arn, &written.set, &written.removed).await;
    log_change(name, changed_by, &written.set, &written.removed, &result);
    result.map(|()| written)
}

fn log_change(
    table: &str,
    changed_by: &str,
    set: &[(String, String)],
    removed: &[String],
    result: &Result<(), Error>,
) {
    match result {
        Ok(()) => tracing::info!(table, changed_by, set = ?set, removed = ?removed, "tags changed"),
        Err(e) => tracing::error!(
            table,
            changed_by,
            set = ?set,
            removed = ?removed,
            error = %crate::error::chain(e),
            "tags change failed"
        ),
    }
}

/// The boosts of `name` (expired ones included until the scale-up run removes them), by id.
pub async fn boosts(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
) -> Result<Vec<Boost>, Error> {
    let (table, _) = opted_in(clients, config, name).await?;
    parsed_boosts(config, &table)
}

fn parsed_boosts(config: &RunConfig, table: &TaggedTable) -> Result<Vec<Boost>, Error> {
    let mut boosts: Vec<Boost> = table
        .tags
        .iter()
        .filter_map(|(k, v)| boost::id_of_key(&config.tag_key, k).map(|id| Boost::parse(k, id, v)))
        .collect::<Result<_, _>>()
        .map_err(|e| config_error(&table.name, e))?;
    boosts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(boosts)
}

/// One boost of `name`, or [`Error::UnknownBoost`].
pub async fn boost(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
    id: &str,
) -> Result<Boost, Error> {
    boosts(clients, config, name)
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Error::UnknownBoost {
            table: name.to_owned(),
            id: id.to_owned(),
        })
}

/// A new random boost id: 8 lowercase hexadecimal digits, from the standard library's randomly
/// keyed hasher (no random-number crate for one id per change).
pub fn new_boost_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:08x}", h.finish() as u32)
}

/// Adds `new` (whose id the caller chose, unique among the table's boosts) to `name` at `now`,
/// after checking it: its fields ([`Boost::check_new`]), its index, the room left, and its units
/// against the max of its part and the account limit.
pub async fn add_boost(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
    new: &Boost,
    now: Timestamp,
    changed_by: &str,
) -> Result<(), Error> {
    let (table, description) = opted_in(clients, config, name).await?;
    let invalid = |e| config_error(name, e);
    new.check_new(&config.tag_key, now).map_err(invalid)?;
    let parsed = validate_tags(config, &description, &table.tags).map_err(invalid)?;
    if let Some(index) = &new.index
        && !description
            .table_and_indexes
            .iter()
            .any(|t| t.index.as_deref() == Some(index))
    {
        return Err(invalid(ConfigError::Boost {
            field: "index",
            problem: format!("the table has no index {index:?}"),
        }));
    }
    if parsed.boosts.iter().any(|b| b.id == new.id) {
        return Err(invalid(ConfigError::Boost {
            field: "id",
            problem: format!("the table already has a boost {:?}", new.id),
        }));
    }
    boost::check_room(&parsed.boosts, table.tags.len(), now).map_err(invalid)?;
    let settings = parsed
        .resolve(&config.defaults, new.index.as_deref())
        .map_err(invalid)?;
    let quota = aws::limits(clients).await;
    let max = |d: Dimension| {
        let m = settings.bounds(d).max;
        match (quota, d) {
            (Some(l), Dimension::Read) => m.min(l.table_read),
            (Some(l), Dimension::Write) => m.min(l.table_write),
            (None, _) => m,
        }
    };
    new.check_limits(max, tags::account_limits(clients).await)
        .map_err(invalid)?;
    let set = [(boost::tag_key(&config.tag_key, &new.id), new.tag_value())];
    let result = tags::tag(clients, name, &table.arn, &set).await;
    log_change(name, changed_by, &set, &[], &result);
    result
}

/// Removes the boost `id` from `name`; returns it.
pub async fn remove_boost(
    clients: &Clients,
    config: &RunConfig,
    name: &str,
    id: &str,
    changed_by: &str,
) -> Result<Boost, Error> {
    let (table, _) = opted_in(clients, config, name).await?;
    let found = parsed_boosts(config, &table)?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| Error::UnknownBoost {
            table: name.to_owned(),
            id: id.to_owned(),
        })?;
    let keys = [boost::tag_key(&config.tag_key, id)];
    let result = tags::untag(clients, name, &table.arn, &keys).await;
    log_change(name, changed_by, &[], &keys, &result);
    result.map(|()| found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const P: &str = "ddb-autoscaler";

    #[test]
    fn put_replaces_overrides_but_keeps_the_opt_in_boosts_and_other_tags() {
        let current = tags(&[
            (P, "on"),
            ("team", "payments"),
            ("ddb-autoscaler:read-max", "500"),
            ("ddb-autoscaler:target", "60"),
            ("ddb-autoscaler:boost:b1", "write=5 from=x"),
        ]);
        let changes = vec![("ddb-autoscaler:read-max".to_owned(), Some("800".to_owned()))];
        let (after, written) = plan_settings(P, &current, &changes, true).unwrap();
        assert_eq!(
            after,
            tags(&[
                (P, "on"),
                ("team", "payments"),
                ("ddb-autoscaler:boost:b1", "write=5 from=x"),
                ("ddb-autoscaler:read-max", "800"),
            ])
        );
        assert_eq!(written.set, tags(&[("ddb-autoscaler:read-max", "800")]));
        assert_eq!(written.removed, ["ddb-autoscaler:target"]);
    }

    #[test]
    fn patch_merges_and_null_removes() {
        let current = tags(&[
            (P, "on"),
            ("ddb-autoscaler:read-max", "500"),
            ("ddb-autoscaler:target", "60"),
        ]);
        let changes = vec![
            ("ddb-autoscaler:target".to_owned(), None),
            ("ddb-autoscaler:read-max".to_owned(), Some("500".to_owned())),
            ("ddb-autoscaler:write-max".to_owned(), Some("9".to_owned())),
        ];
        let (after, written) = plan_settings(P, &current, &changes, false).unwrap();
        assert_eq!(
            after,
            tags(&[
                (P, "on"),
                ("ddb-autoscaler:read-max", "500"),
                ("ddb-autoscaler:write-max", "9"),
            ])
        );
        assert_eq!(
            written.set,
            tags(&[("ddb-autoscaler:write-max", "9")]),
            "unchanged values are not rewritten"
        );
        assert_eq!(written.removed, ["ddb-autoscaler:target"]);
    }

    #[test]
    fn ids_are_valid_boost_ids() {
        let a = new_boost_id();
        assert!(boost::valid_id(&a) && a.len() == 8, "{a}");
        assert_ne!(a, new_boost_id());
    }

    #[test]
    fn the_opt_in_tag_and_boosts_are_not_settings() {
        for key in [P, "ddb-autoscaler:boost:b1", "team"] {
            let changes = vec![(key.to_owned(), Some("off".to_owned()))];
            let err = plan_settings(P, &[], &changes, false).unwrap_err();
            assert!(err.to_string().contains(key), "{err}");
        }
    }
}
