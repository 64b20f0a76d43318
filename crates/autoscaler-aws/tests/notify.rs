//! Sending notifications (`autoscaler_aws::notify::Notifier`) against a mocked EventBridge
//! (`aws-smithy-mocks`): what the emulator cannot make it answer. Events go ten to a call, each
//! entry carries our source, detail-type and detail; entries EventBridge refuses, and a refused
//! call, are one error that counts the events not delivered and says why. (What the events hold
//! is tested against the README in `src/notify.rs`; that the emulator takes them, in
//! `functions/scale-up/tests/lambda.rs`.)
#![allow(clippy::unwrap_used)] // tests: a panic with the value is the failure report

use std::sync::{Arc, Mutex};

use autoscaler_aws::notify::{self, Detail, Event, Notifier};
use autoscaler_aws::{Direction, Error};
use aws_sdk_eventbridge::operation::put_events::{PutEventsError, PutEventsInput, PutEventsOutput};
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_eventbridge::types::error::InternalException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

fn event(table: &str) -> Event {
    Event {
        detail_type: notify::TABLE_FAILED,
        detail: Detail {
            version: notify::SCHEMA_VERSION,
            table: table.to_owned(),
            direction: Direction::Up,
            run_at: "2026-12-02T10:00:07Z".to_owned(),
            message: format!("{table} (up): failed: boom"),
            changes: None,
            error: Some("boom".to_owned()),
        },
    }
}

fn notifier(rules: &[&Rule]) -> Notifier {
    Notifier::from_client(mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, rules))
}

type Calls = Arc<Mutex<Vec<PutEventsInput>>>;

/// PutEvents accepts every entry, except those of tables named in `refuse`; calls are recorded.
fn put_events(refuse: &'static [&'static str]) -> (Rule, Calls) {
    let calls: Calls = Arc::default();
    let seen = Arc::clone(&calls);
    let rule = mock!(aws_sdk_eventbridge::Client::put_events).then_compute_output(move |req| {
        seen.lock().unwrap().push(req.clone());
        let mut out = PutEventsOutput::builder();
        let mut failed = 0;
        for e in req.entries() {
            let detail: serde_json::Value = serde_json::from_str(e.detail().unwrap()).unwrap();
            let entry = if refuse.contains(&detail["table"].as_str().unwrap()) {
                failed += 1;
                PutEventsResultEntry::builder()
                    .error_code("ThrottlingException")
                    .error_message("Rate exceeded")
                    .build()
            } else {
                PutEventsResultEntry::builder().event_id("id").build()
            };
            out = out.entries(entry);
        }
        out.failed_entry_count(failed).build()
    });
    (rule, calls)
}

#[tokio::test]
async fn events_go_ten_to_a_call_with_our_source() {
    let (rule, calls) = put_events(&[]);
    let events: Vec<Event> = (0..12).map(|i| event(&format!("t{i}"))).collect();
    let sent = notifier(&[&rule]).send(&events).await.unwrap();
    assert_eq!(sent, 12);
    let calls = calls.lock().unwrap();
    let sizes: Vec<usize> = calls.iter().map(|c| c.entries().len()).collect();
    assert_eq!(sizes, [notify::MAX_ENTRIES_PER_CALL, 2]);
    for e in calls.iter().flat_map(|c| c.entries()) {
        assert_eq!(e.source(), Some(notify::SOURCE));
        assert_eq!(e.detail_type(), Some(notify::TABLE_FAILED));
        assert!(e.event_bus_name().is_none(), "the default bus");
        let detail: serde_json::Value = serde_json::from_str(e.detail().unwrap()).unwrap();
        assert_eq!(detail["version"], notify::SCHEMA_VERSION);
    }
}

#[tokio::test]
async fn refused_entries_are_counted_and_named_and_the_others_delivered() {
    let (rule, _) = put_events(&["t3", "t11"]);
    let events: Vec<Event> = (0..12).map(|i| event(&format!("t{i}"))).collect();
    let err = notifier(&[&rule]).send(&events).await.unwrap_err();
    let Error::Notify { count, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*count, 2, "{err}");
    let text = autoscaler_aws::error::chain(&err);
    assert!(
        text.contains("2 notification(s)") && text.contains("ThrottlingException"),
        "{text}"
    );
}

#[tokio::test]
async fn a_refused_call_fails_every_event_it_carried() {
    let rule = mock!(aws_sdk_eventbridge::Client::put_events)
        .then_error(|| PutEventsError::InternalException(InternalException::builder().build()));
    let events: Vec<Event> = (0..3).map(|i| event(&format!("t{i}"))).collect();
    let n = Notifier::from_client(mock_client!(
        aws_sdk_eventbridge,
        RuleMode::MatchAny,
        &[&rule],
        |c| c.retry_config(aws_sdk_eventbridge::config::retry::RetryConfig::disabled())
    ));
    let err = n.send(&events).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Notify {
                count: 3,
                operation: "PutEvents",
                ..
            }
        ),
        "{err:?}"
    );
}
