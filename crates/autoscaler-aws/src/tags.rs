//! A table's tags, read and written one table at a time: the adapter edge (SDK calls) for the
//! management API, the CLI's `boost` and the removal of expired boosts. The run's discovery
//! reads tags in bulk in [`crate::aws`]; only these calls change them.
//!
//! A change that sets some tags and removes others is two calls, `TagResource` then
//! `UntagResource` ([`change`]): DynamoDB has no call doing both. When the second fails, the
//! error ([`Error::TagsPartlyChanged`]) lists the keys the first one wrote, so the caller can
//! say exactly what happened.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::Tag;

use crate::aws::{Clients, boxed, classify};
use crate::error::{Error, ErrorKind};

fn failed<E>(table: &str, operation: &'static str, e: aws_sdk_dynamodb::error::SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = e
        .as_service_error()
        .map_or(ErrorKind::Other, |s| classify(s, None));
    Error::Aws {
        table: table.to_owned(),
        operation,
        kind,
        source: boxed(e),
    }
}

/// Every tag of the table `arn` (`ListTagsOfResource`, followed page by page).
pub async fn list(
    clients: &Clients,
    table: &str,
    arn: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut tags = Vec::new();
    let mut token = None;
    loop {
        let out = clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| failed(table, "ListTagsOfResource", e))?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(tags);
        }
    }
}

/// Sets the tags `set` (key, value) on the table `arn` (`TagResource`).
pub async fn tag(
    clients: &Clients,
    table: &str,
    arn: &str,
    set: &[(String, String)],
) -> Result<(), Error> {
    let tags = set
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Aws {
            table: table.to_owned(),
            operation: "TagResource",
            kind: ErrorKind::Other,
            source: boxed(e),
        })?;
    clients
        .dynamodb
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failed(table, "TagResource", e))
}

/// Removes the tags `keys` from the table `arn` (`UntagResource`).
pub async fn untag(
    clients: &Clients,
    table: &str,
    arn: &str,
    keys: &[String],
) -> Result<(), Error> {
    clients
        .dynamodb
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| failed(table, "UntagResource", e))
}

/// Sets `set` then removes `remove` (each call only when it has something to do). A failure
/// is [`Error::TagsPartlyChanged`], listing what was written before it.
pub async fn change(
    clients: &Clients,
    table: &str,
    arn: &str,
    set: &[(String, String)],
    remove: &[String],
) -> Result<(), Error> {
    let partly = |written: Vec<String>, source| Error::TagsPartlyChanged {
        table: table.to_owned(),
        written,
        source: Box::new(source),
    };
    if !set.is_empty() {
        tag(clients, table, arn, set)
            .await
            .map_err(|e| partly(Vec::new(), e))?;
    }
    if !remove.is_empty() {
        untag(clients, table, arn, remove)
            .await
            .map_err(|e| partly(set.iter().map(|(k, _)| k.clone()).collect(), e))?;
    }
    Ok(())
}

/// The account's capacity limits from `DescribeLimits` (read, write), if the API answers.
pub async fn account_limits(clients: &Clients) -> Option<(u64, u64)> {
    match clients.dynamodb.describe_limits().send().await {
        Ok(out) => Some((
            out.account_max_read_capacity_units()
                .and_then(|v| u64::try_from(v).ok())?,
            out.account_max_write_capacity_units()
                .and_then(|v| u64::try_from(v).ok())?,
        )),
        Err(e) => {
            tracing::warn!(
                error = %crate::error::chain(&e),
                "DescribeLimits failed; boosts are checked against the table's max only"
            );
            None
        }
    }
}
