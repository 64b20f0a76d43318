//! Ours: the real `scaling-policy` crate, called as the Lambda functions call it. This adapter
//! stays thin: it builds the policy's inputs from the [`View`] and passes its decision through.

use scaling_policy::window::GROWTH_MINUTES;
use scaling_policy::{
    Decision, Dimension, DimensionInput, DimensionState, Settings, Timestamp, Usage, scale_down,
    scale_up, seasonal,
};

use crate::model::{Policy, Request, View};

/// `scaling_policy::scale_up` every minute and `scaling_policy::scale_down` at the scale-down
/// schedule ([`crate::ModelParams::scale_down`], default 00, 06, 12, 18 UTC), with
/// [`Settings::default`], both at the run's `now` (late runs included).
///
/// The Lambda functions call `scale_down_pair` on a table's read and write dimensions together,
/// so that a dimension whose own saving is too small rides along (free) when the other is
/// lowered. The simulator models one dimension with no partner, so it calls `scale_down`
/// directly: for a single dimension `scale_down_pair(x, x)` decides exactly the same (both
/// halves are identical: either both are lowered by their own rule or neither is). This slightly
/// understates ours on real tables, where the ride-along saves capacity for free.
///
/// Like the real functions, it leaves a table that is `UPDATING` alone, it feeds
/// `scaling-policy` only the datapoints CloudWatch has published (the newest `publish_delay`
/// minutes are gaps, as they are in production), and it makes a change at the decision's
/// `not_before` when it has one.
#[derive(Clone, Debug)]
pub struct Ours {
    settings: Settings,
    dimension: Dimension,
    /// The seasonal history and the hour it was fetched for, refreshed hourly as the functions
    /// refresh theirs.
    history: Option<(i64, Usage)>,
}

impl Default for Ours {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl Ours {
    /// Ours with the given settings.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            dimension: Dimension::Read,
            history: None,
        }
    }
}

/// The request a changing decision makes.
fn request(decision: &Decision) -> Option<Request> {
    decision.changes().then_some(Request {
        capacity: decision.to,
        not_before: decision.not_before,
    })
}

impl Policy for Ours {
    fn name(&self) -> String {
        "ours".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        if view.updating {
            return None;
        }
        let window = self
            .settings
            .up_window_minutes
            .max(self.settings.down_window_minutes)
            .max(GROWTH_MINUTES);
        let usage = view.metrics.usage(view.t(), window);
        let ahead = self.settings.seasonal_ahead_minutes;
        if ahead > 0 {
            let hour = view.now.unix().div_euclid(3_600);
            if self.history.as_ref().is_none_or(|(h, _)| *h != hour) {
                // What the functions fetch once an hour: both lags' windows, from what
                // CloudWatch has published (history is days old, so all of it).
                let (start, end) =
                    seasonal::history_range(view.now, ahead, seasonal::HISTORY_VALID_MINUTES);
                let minute_of =
                    |t: Timestamp| view.t() + t.secs_since(view.now.floor_minute()) / 60;
                let span = u32::try_from(end.secs_since(start) / 60).unwrap_or(0);
                self.history = Some((hour, view.metrics.usage(minute_of(end), span)));
            }
        }
        let state = DimensionState {
            provisioned: view.provisioned,
            budget: view.budget,
            last_increase: view.last_increase,
        };
        let mut input = DimensionInput::new(self.dimension, &state, &usage);
        if let Some((_, history)) = &self.history {
            input = input.with_history(history);
        }
        let up = request(&scale_up(&self.settings, input, view.now));
        if up.is_some() || !view.is_scale_down_time() {
            return up;
        }
        request(&scale_down(&self.settings, input, view.now))
    }
}

#[cfg(test)]
mod tests {
    use scaling_policy::{Timestamp, Usage};

    use super::*;

    #[test]
    fn a_decisions_not_before_is_the_requests() {
        let state = DimensionState {
            provisioned: 100,
            budget: Default::default(),
            last_increase: None,
        };
        let usage = Usage::empty(Timestamp::from_unix(0));
        let input = DimensionInput::new(Dimension::Read, &state, &usage);
        let mut decision = scale_down(&Settings::default(), input, Timestamp::from_unix(600));
        assert_eq!(request(&decision), None, "no data: keep");
        decision.to = 40;
        decision.not_before = Some(Timestamp::from_unix(615));
        assert_eq!(
            request(&decision),
            Some(Request {
                capacity: 40,
                not_before: Some(Timestamp::from_unix(615)),
            })
        );
    }
}
