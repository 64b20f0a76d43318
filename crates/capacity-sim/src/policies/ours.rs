//! Ours: the real `scaling-policy` crate, called as the Lambda functions call it. This adapter
//! stays thin: it builds the policy's inputs from the [`View`], polls as the cadence says
//! ([`crate::cadence::Meter`], which also keeps the CloudWatch bill) and passes the decision
//! through.

use scaling_policy::cadence::{Cadence, HISTORY_REFRESH_MINUTES};
use scaling_policy::window::GROWTH_MINUTES;
use scaling_policy::{
    Decision, Dimension, DimensionInput, DimensionState, Settings, Timestamp, Usage, scale_down,
    seasonal,
};

use crate::cadence::{Bill, Meter};
use crate::model::{Policy, Request, View};

/// `scaling_policy::scale_up` whenever the cadence says a poll is due (every minute with
/// [`Cadence::EVERY_MINUTE`]; see [`crate::cadence`]) and `scaling_policy::scale_down` at the
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
    /// The seasonal history, refreshed at a poll when six hours old, as the functions refresh
    /// theirs.
    history: Option<Usage>,
    /// The cadence's state and the CloudWatch bill (see [`crate::cadence`]).
    meter: Meter,
}

impl Default for Ours {
    fn default() -> Self {
        Self::new(Settings::default())
    }
}

impl Ours {
    /// Ours with the given settings and the shipped cadence.
    pub fn new(settings: Settings) -> Self {
        Self::with_cadence(settings, Cadence::default())
    }

    /// Ours with the shipped settings, polling every series every minute
    /// ([`Cadence::EVERY_MINUTE`]), named `ours-every-minute`.
    pub fn every_minute() -> Self {
        Self::with_cadence(Settings::default(), Cadence::EVERY_MINUTE)
    }

    /// Ours with the given settings, polling as `cadence` says ([`Cadence::EVERY_MINUTE`]: every
    /// minute).
    pub fn with_cadence(settings: Settings, cadence: Cadence) -> Self {
        Self {
            settings,
            dimension: Dimension::Read,
            history: None,
            meter: Meter::new(cadence),
        }
    }

    /// The CloudWatch bill of the run so far (one series).
    pub fn bill(&self) -> Bill {
        self.meter.bill()
    }

    /// The cadence's state and bill.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }
}

/// What the functions fetch for the seasonal floor at `view.now`: both lags' windows, from what
/// CloudWatch has published (history is days old, so all of it).
fn history(view: &View<'_>, ahead: u32) -> Usage {
    let (start, end) = seasonal::history_range(view.now, ahead, HISTORY_REFRESH_MINUTES);
    let minute_of = |t: Timestamp| view.t() + t.secs_since(view.now.floor_minute()) / 60;
    let span = u32::try_from(end.secs_since(start) / 60).unwrap_or(0);
    view.metrics.usage(minute_of(end), span)
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
        if self.meter.cadence == Cadence::EVERY_MINUTE {
            "ours-every-minute".into()
        } else {
            "ours".into()
        }
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        self.meter.tick(view.now);
        if view.updating {
            return None;
        }
        let plan = self.meter.plan(&self.settings, view.provisioned, view.now);
        let scale_down_time = view.is_scale_down_time();
        if plan.is_none() && !scale_down_time {
            return None;
        }
        let ahead = self.settings.seasonal_ahead_minutes;
        if ahead > 0 && (self.history.is_none() || self.meter.history_stale(view.now)) {
            let h = history(view, ahead);
            if plan.is_some() {
                self.meter.history_fetched(&h, view.now);
            }
            self.history = Some(h);
        }
        let window = plan
            .map_or(0, |p| p.fetch_minutes)
            .max(self.settings.down_window_minutes)
            .max(GROWTH_MINUTES);
        let usage = view.metrics.usage(view.t(), window);
        let state = DimensionState {
            provisioned: view.provisioned,
            budget: view.budget,
            last_increase: view.last_increase,
        };
        if let Some(plan) = plan {
            let up = self.meter.poll(
                &plan,
                &self.settings,
                &state,
                &usage,
                self.history.as_ref(),
                view.now,
            );
            if up.changes() {
                return request(&up);
            }
        }
        if scale_down_time {
            let down_window = view
                .metrics
                .usage(view.t(), self.settings.down_window_minutes);
            let own_history = (ahead > 0).then(|| history(view, ahead));
            self.meter
                .scale_down_run(&down_window, own_history.as_ref(), view.now);
            let mut input = DimensionInput::new(self.dimension, &state, &usage);
            if let Some(h) = &self.history {
                input = input.with_history(h);
            }
            return request(&scale_down(&self.settings, input, view.now));
        }
        None
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
