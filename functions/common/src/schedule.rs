//! The scheduled event: when the run was scheduled, and whether it started too late to run.
//!
//! The template's EventBridge Scheduler schedules pass `{"scheduled_time":
//! "<aws.scheduler.scheduled-time>"}` as their Input, which Scheduler fills in with the time the
//! run was due (`2026-12-02T10:00:00Z`). A run that starts more than [`MAX_LATENESS_SECS`] after
//! it (Lambda's queue held it, or the previous run was still going) is dropped, never stacked:
//! the next scheduled run is the retry, and two runs never act on the same minute.
//!
//! Any other JSON event is run as it comes: a classic EventBridge rule's "Scheduled Event"
//! (whose `time` is not checked: its sample, `events/scheduled-event.json`, is replayed by hand
//! long after that time), Scheduler's empty input, or a manual invocation. A `scheduled_time`
//! that is not an RFC 3339 time is reported and the run goes ahead: the schedule is then
//! misconfigured, and not scaling would be worse than a late run.

use autoscaler_aws::Direction;
use scaling_policy::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// The Input field that carries the scheduled time.
pub const SCHEDULED_TIME_FIELD: &str = "scheduled_time";

/// How long after its scheduled time a run may start (EventBridge Scheduler's minimum maximum
/// event age, and the scale-up period).
pub const MAX_LATENESS_SECS: i64 = 60;

/// A run dropped because it started too late: the invocation's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LateRun {
    /// Always `"late"`.
    pub dropped: &'static str,
    /// Which function.
    pub direction: Direction,
    /// When the run was due (RFC 3339).
    pub scheduled_time: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How many seconds late it started.
    pub late_by_secs: i64,
}

/// The event carries a scheduled time that is not an RFC 3339 time: the run goes ahead, and the
/// log says why (the crate's error type).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{SCHEDULED_TIME_FIELD} {value} is not an RFC 3339 time; running anyway")]
pub struct UnreadableScheduledTime {
    /// The field's JSON value as given.
    pub value: String,
}

/// Whether the run `event` asks for at `now` must be dropped: `Ok(None)` to run,
/// `Ok(Some(_))` to drop, `Err(_)` when the event's scheduled time cannot be read (run it,
/// and say why).
pub fn late_run(
    event: &Value,
    direction: Direction,
    now: Timestamp,
) -> Result<Option<LateRun>, UnreadableScheduledTime> {
    let Some(field) = event.get(SCHEDULED_TIME_FIELD) else {
        return Ok(None);
    };
    let scheduled = field
        .as_str()
        .and_then(Timestamp::parse_rfc3339)
        .ok_or_else(|| UnreadableScheduledTime {
            value: field.to_string(),
        })?;
    let late_by_secs = now.secs_since(scheduled);
    Ok((late_by_secs > MAX_LATENESS_SECS).then(|| LateRun {
        dropped: "late",
        direction,
        scheduled_time: scheduled.to_string(),
        started_at: now.to_string(),
        late_by_secs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DUE: &str = "2026-12-02T10:00:00Z";

    fn at(secs_after_due: i64) -> Timestamp {
        Timestamp::parse_rfc3339(DUE)
            .map(|t| t.plus_secs(secs_after_due))
            .unwrap_or_default()
    }

    #[test]
    fn a_run_up_to_a_minute_late_runs() {
        let event = json!({ "scheduled_time": DUE });
        for secs in [-5, 0, 1, 30, MAX_LATENESS_SECS] {
            assert_eq!(
                late_run(&event, Direction::Up, at(secs)),
                Ok(None),
                "{secs} s"
            );
        }
    }

    #[test]
    fn a_later_run_is_dropped_and_says_by_how_much() {
        let event = json!({ "scheduled_time": DUE });
        let late = late_run(&event, Direction::Down, at(MAX_LATENESS_SECS + 1))
            .unwrap()
            .unwrap();
        assert_eq!(late.late_by_secs, 61);
        assert_eq!(late.scheduled_time, DUE);
        assert_eq!(late.started_at, "2026-12-02T10:01:01Z");
        assert_eq!(
            serde_json::to_value(&late).unwrap()["direction"],
            "down",
            "{late:?}"
        );
    }

    #[test]
    fn other_events_run_whatever_their_time() {
        let classic: Value =
            serde_json::from_str(include_str!("../../../events/scheduled-event.json")).unwrap();
        assert!(classic["time"].is_string(), "the sample has a time");
        for event in [classic, json!({}), json!(null), json!({"manual": true})] {
            assert_eq!(
                late_run(&event, Direction::Up, at(86_400)),
                Ok(None),
                "{event}"
            );
        }
    }

    #[test]
    fn an_unreadable_scheduled_time_runs_and_names_the_field() {
        for bad in [
            json!("<aws.scheduler.scheduled-time>"),
            json!(12),
            json!("yesterday"),
        ] {
            let err = late_run(&json!({ "scheduled_time": bad }), Direction::Up, at(0))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("scheduled_time") && err.contains(&bad.to_string()),
                "{err}"
            );
        }
    }

    #[test]
    fn both_schedules_of_the_template_pass_the_scheduled_time_in_this_field() {
        let template = include_str!("../../../template.yaml");
        let input =
            format!(r#"Input: '{{"{SCHEDULED_TIME_FIELD}": "<aws.scheduler.scheduled-time>"}}'"#);
        assert_eq!(template.matches(&input).count(), 2, "{input}");
    }
}
