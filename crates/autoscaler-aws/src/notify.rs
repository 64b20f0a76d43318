//! # notify: an EventBridge event for each applied change and each failed table
//!
//! Optional (`AUTOSCALER_NOTIFICATIONS`, the stack's `Notifications` parameter). After a run,
//! every table whose capacity was changed gives one `Capacity changed` event, and every table
//! that failed one `Table failed` event, put on the account's default event bus with source
//! [`SOURCE`]. Users route them with EventBridge rules (Slack through AWS Chatbot, e-mail,
//! a queue, another account's bus) without this code knowing; with `sns` the stack's own rule
//! forwards them to its notification topic, so the functions only ever call `PutEvents` (and the
//! SNS SDK is not linked). The README documents the events' schema; the tests build them from a
//! run and compare with it.
//!
//! **Model.** [`events`] turns a [`RunSummary`] into [`Event`]s (pure); [`Notifier::send`] puts
//! them, at most [`MAX_ENTRIES_PER_CALL`] a call. A notification that cannot be sent never
//! fails the run (the change is made; the error is logged and counted); dry-run changes are not
//! notified (nothing changed).

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Serialize;

use crate::error::{BoxError, Error};
use crate::run::{Direction, Outcome, RunSummary, TableOrIndexDecision, TableReport};

/// The events' `source`.
pub const SOURCE: &str = "ddb-autoscaler";
/// The `detail-type` of a table whose capacity was changed.
pub const CAPACITY_CHANGED: &str = "Capacity changed";
/// The `detail-type` of a table that failed in a run.
pub const TABLE_FAILED: &str = "Table failed";
/// The version of the `detail` schema; raised when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;
/// The most entries one `PutEvents` call accepts.
pub const MAX_ENTRIES_PER_CALL: usize = 10;

/// Where notifications go (`AUTOSCALER_NOTIFICATIONS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notifications {
    /// `none`: no notifications.
    None,
    /// `eventbridge`: events on the default bus.
    EventBridge,
    /// `sns`: events on the default bus, which the stack's rule forwards to its topic.
    Sns,
}

impl Notifications {
    /// Reads the setting from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the setting through `lookup`; a bad value is an error naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let (name, value) = crate::env::setting(&lookup, "AUTOSCALER_NOTIFICATIONS");
        // Exactly the template's AllowedValues.
        match value.as_str() {
            "none" => Ok(Self::None),
            "eventbridge" => Ok(Self::EventBridge),
            "sns" => Ok(Self::Sns),
            _ => Err(Error::Env {
                name,
                value,
                reason: "expected none, eventbridge or sns".to_owned(),
            }),
        }
    }

    /// Whether any event is sent.
    pub fn enabled(self) -> bool {
        self != Self::None
    }
}

/// One change in a `Capacity changed` event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The GSI, `null` for the table itself.
    pub index: Option<String>,
    /// `read` or `write`.
    pub dimension: String,
    /// Capacity units before.
    pub from: u64,
    /// Capacity units after.
    pub to: u64,
    /// `increase` or `decrease`.
    pub action: &'static str,
    /// The decision's reason (see the README's reasons).
    pub reason: &'static str,
    /// Peak demand in the decision's window, units/s (`null` when unknown).
    pub peak_demand: Option<f64>,
    /// Throttle events in the window.
    pub throttle_events: f64,
}

/// The `detail` of an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Detail {
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// The table.
    pub table: String,
    /// The function that ran: `up` or `down`.
    pub direction: Direction,
    /// The run's time (RFC 3339).
    pub run_at: String,
    /// One line for people (e-mail, chat).
    pub message: String,
    /// `Capacity changed`: what changed, one entry per table or GSI dimension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Change>>,
    /// `Table failed`: the error and its causes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One event, before `PutEvents`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// [`CAPACITY_CHANGED`] or [`TABLE_FAILED`].
    pub detail_type: &'static str,
    /// Its detail.
    pub detail: Detail,
}

/// The events of one run: each table changed, then each table failed, in table order.
pub fn events(summary: &RunSummary) -> Vec<Event> {
    let detail = |t: &TableReport, message: String| Detail {
        version: SCHEMA_VERSION,
        table: t.table.clone(),
        direction: summary.direction,
        run_at: summary.at.clone(),
        message,
        changes: None,
        error: None,
    };
    let mut out = Vec::new();
    for t in summary
        .tables
        .iter()
        .filter(|t| t.outcome == Outcome::Changed)
    {
        let changed: Vec<&TableOrIndexDecision> = t
            .decisions
            .iter()
            .filter(|d| d.decision.changes())
            .collect();
        let message = format!(
            "{} ({}): {}",
            t.table,
            summary.direction.as_str(),
            changed
                .iter()
                .map(|d| {
                    let part = d
                        .index
                        .as_deref()
                        .map_or_else(String::new, |i| format!("index {i} "));
                    let dec = &d.decision;
                    format!(
                        "{part}{} {} -> {} ({})",
                        dec.dimension,
                        dec.from,
                        dec.to,
                        dec.reason.as_str()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        let changes = changed
            .iter()
            .map(|d| Change {
                index: d.index.clone(),
                dimension: d.decision.dimension.to_string(),
                from: d.decision.from,
                to: d.decision.to,
                action: d.decision.action.as_str(),
                reason: d.decision.reason.as_str(),
                peak_demand: d.decision.numbers.peak_demand,
                throttle_events: d.decision.numbers.throttle_events,
            })
            .collect();
        out.push(Event {
            detail_type: CAPACITY_CHANGED,
            detail: Detail {
                changes: Some(changes),
                ..detail(t, message)
            },
        });
    }
    for t in &summary.tables {
        if let Outcome::Failed { error } = &t.outcome {
            let error = error.to_string();
            out.push(Event {
                detail_type: TABLE_FAILED,
                detail: Detail {
                    error: Some(error.clone()),
                    ..detail(
                        t,
                        format!(
                            "{} ({}): failed: {error}",
                            t.table,
                            summary.direction.as_str()
                        ),
                    )
                },
            });
        }
    }
    out
}

/// Puts events on the default bus.
#[derive(Clone, Debug)]
pub struct Notifier {
    client: aws_sdk_eventbridge::Client,
}

impl Notifier {
    /// A notifier on the SDK configuration the functions share.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_eventbridge::Client::new(config),
        }
    }

    /// A notifier with its own client (tests with a mocked client).
    pub fn from_client(client: aws_sdk_eventbridge::Client) -> Self {
        Self { client }
    }

    /// Puts `events`, [`MAX_ENTRIES_PER_CALL`] a call; returns how many were accepted, or the
    /// first failure (a refused call, or entries EventBridge did not take) with the number of
    /// events not delivered.
    pub async fn send(&self, events: &[Event]) -> Result<usize, Error> {
        let mut sent = 0;
        let mut failure: Option<(usize, &'static str, BoxError)> = None;
        for batch in events.chunks(MAX_ENTRIES_PER_CALL) {
            let mut request = self.client.put_events();
            for e in batch {
                request = request.entries(entry(e)?);
            }
            match request.send().await {
                Ok(out) => {
                    let failed: Vec<String> = out
                        .entries()
                        .iter()
                        .filter_map(|r| {
                            r.error_code().map(|code| {
                                format!("{code}: {}", r.error_message().unwrap_or_default())
                            })
                        })
                        .collect();
                    let refused = usize::try_from(out.failed_entry_count())
                        .unwrap_or(0)
                        .max(failed.len());
                    sent += batch.len().saturating_sub(refused);
                    if refused > 0 {
                        let (count, ..) = failure.get_or_insert((
                            0,
                            "PutEvents entries",
                            failed.join("; ").into(),
                        ));
                        *count += refused;
                    }
                }
                Err(e) => {
                    let (count, ..) =
                        failure.get_or_insert((0, "PutEvents", Box::new(e.into_service_error())));
                    *count += batch.len();
                }
            }
        }
        match failure {
            None => Ok(sent),
            Some((count, operation, source)) => Err(Error::Notify {
                count,
                operation,
                source,
            }),
        }
    }
}

/// The `PutEvents` entry of one event.
fn entry(e: &Event) -> Result<PutEventsRequestEntry, Error> {
    let detail = serde_json::to_string(&e.detail).map_err(|source| Error::Notify {
        count: 1,
        operation: "serialising the detail",
        source: source.into(),
    })?;
    Ok(PutEventsRequestEntry::builder()
        .source(SOURCE)
        .detail_type(e.detail_type)
        .detail(detail)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{readme_section, summary};
    use serde_json::{Value, json};

    /// The events the README documents (section "Notifications"), as EventBridge delivers them.
    fn documented() -> Vec<Value> {
        readme_section("<!-- events:start -->", "<!-- events:end -->")
            .split("```json")
            .skip(1)
            .map(|block| {
                let json = block.split("```").next().unwrap_or_default();
                serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("a documented event is not JSON ({e}):\n{json}"))
            })
            .collect()
    }

    /// What `PutEvents` is given, as the event EventBridge delivers (envelope fields that
    /// EventBridge adds left out).
    fn as_delivered(e: &Event) -> Value {
        let entry = entry(e).unwrap();
        json!({
            "source": entry.source().unwrap(),
            "detail-type": entry.detail_type().unwrap(),
            "detail": serde_json::from_str::<Value>(entry.detail().unwrap()).unwrap(),
        })
    }

    #[test]
    fn the_events_are_built_as_the_readme_documents_them() {
        let documented = documented();
        assert_eq!(documented.len(), 2, "one example of each detail-type");
        let built: Vec<Value> = events(&summary()).iter().map(as_delivered).collect();
        assert_eq!(
            built.len(),
            2,
            "orders changed, payments failed: {built:#?}"
        );
        for (doc, got) in documented.iter().zip(&built) {
            for field in ["source", "detail-type", "detail"] {
                assert_eq!(doc[field], got[field], "{field}: README vs built\n{got:#}");
            }
            // The envelope EventBridge adds around what PutEvents is given.
            for field in ["version", "id", "account", "time", "region", "resources"] {
                assert!(!doc[field].is_null(), "the README's example shows {field}");
            }
        }
    }

    #[test]
    fn only_applied_changes_and_failures_are_notified() {
        let events = events(&summary());
        let tables: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e.detail_type, e.detail.table.as_str()))
            .collect();
        // clicks' change was held back by dry-run, quiet kept its capacity, legacy is skipped.
        assert_eq!(
            tables,
            [(CAPACITY_CHANGED, "orders"), (TABLE_FAILED, "payments")]
        );
        let changes = events[0].detail.changes.as_ref().unwrap();
        assert_eq!(
            changes.len(),
            2,
            "the two targets that changed, not the two kept"
        );
    }

    #[test]
    fn the_setting_comes_from_the_environment() {
        let with = |v: &str| {
            let v = v.to_owned();
            Notifications::from_lookup(move |_| Some(v.clone()))
        };
        assert_eq!(with("none").unwrap(), Notifications::None);
        assert_eq!(with("eventbridge").unwrap(), Notifications::EventBridge);
        assert_eq!(with("sns").unwrap(), Notifications::Sns);
        assert_eq!(
            Notifications::from_lookup(|_| None).unwrap(),
            Notifications::None,
            "unset: the default"
        );
        for near in ["", "EventBridge", " sns"] {
            assert!(
                with(near).is_err(),
                "{near:?} is not one of the template's values"
            );
        }
        let err = with("slack").unwrap_err().to_string();
        assert!(
            err.contains("AUTOSCALER_NOTIFICATIONS") && err.contains("slack"),
            "{err}"
        );
    }
}
