//! Boosts in the pipeline: the floor each decision takes, and the removal of expired boost tags.
//!
//! The boosts come from the tags the run already has (discovery returns every tag of a table;
//! `TableTags` parses the boost tags with the overrides, so a malformed one fails its table like
//! a malformed override). [`floor`] hands the policy what the active ones ask for at `now`
//! ([`scaling_policy::boost::floor`]): scale-up raises to it, scale-down never lowers below it.
//!
//! After `until` a boost is ignored, and the scale-up run (every minute) removes its tag
//! ([`remove_expired`]), so that expired boosts neither count against the five a table may have
//! nor fill its 50 tags. This is housekeeping: a failure is logged (`boost cleanup failed`) and
//! retried by the next run, never a failed table. It runs on `on` and `dry-run` tables alike
//! (the tag is ours, not the table's capacity), but not in a dry-run deployment, whose role may
//! change nothing. IAM allows the functions `dynamodb:UntagResource` only for keys under
//! `<TagKey>:boost:` on opted-in tables (`template.yaml`, policy `remove-expired-boosts`).

use scaling_policy::{Dimension, Timestamp};

use crate::aws::Clients;
use crate::env::RunConfig;
use crate::run::Prepared;
use crate::tags;

/// The capacity the active boosts of `p` ask for on `index` (`None`: the table) in `dimension`
/// at `now`.
pub fn floor(
    p: &Prepared,
    index: Option<&str>,
    dimension: Dimension,
    now: Timestamp,
) -> Option<u64> {
    scaling_policy::boost::floor(&p.tags.boosts, index, dimension, now)
}

/// The tag keys of the boosts of `p` that are over at `now`.
pub fn expired_keys(config: &RunConfig, p: &Prepared, now: Timestamp) -> Vec<String> {
    p.tags
        .boosts
        .iter()
        .filter(|b| b.is_expired(now))
        .map(|b| scaling_policy::boost::tag_key(&config.tag_key, &b.id))
        .collect()
}

/// Removes the tags of the boosts that are over at `now`, one `UntagResource` per table that
/// has any. Failures are logged and left for the next run.
pub async fn remove_expired(
    clients: &Clients,
    config: &RunConfig,
    prepared: &[Prepared],
    now: Timestamp,
) {
    for p in prepared {
        let keys = expired_keys(config, p, now);
        if keys.is_empty() {
            continue;
        }
        let table = &p.description.name;
        match tags::untag(clients, table, &p.tagged.arn, &keys).await {
            Ok(()) => tracing::info!(table, keys = ?keys, "expired boosts removed"),
            Err(e) => tracing::warn!(
                table,
                keys = ?keys,
                error = %crate::error::chain(&e),
                "boost cleanup failed; the next run retries"
            ),
        }
    }
}
