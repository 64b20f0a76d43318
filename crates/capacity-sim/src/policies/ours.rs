//! Ours: the real `scaling-policy` crate, called as the Lambda functions call it.

use scaling_policy::window::GROWTH_MINUTES;
use scaling_policy::{
    Dimension, DimensionInput, DimensionState, Settings, Timestamp, Usage, scale_down, scale_up,
    seasonal,
};

use crate::model::{Policy, View};

/// `scaling_policy::scale_up` every minute and `scaling_policy::scale_down` at the scale-down
/// cron ([`crate::ModelParams::scale_down_hours`], default 00, 06, 12, 18 UTC), with
/// [`Settings::default`].
///
/// The Lambda functions call `scale_down_pair` on a table's read and write dimensions together,
/// so that a dimension whose own saving is too small rides along (free) when the other is
/// lowered. The simulator models one dimension with no partner, so it calls `scale_down`
/// directly: for a single dimension `scale_down_pair(x, x)` decides exactly the same (both
/// halves are identical: either both are lowered by their own rule or neither is). This slightly
/// understates ours on real tables, where the ride-along saves capacity for free.
///
/// Like the real functions, it leaves a table that is `UPDATING` alone, and it feeds
/// `scaling-policy` only the datapoints CloudWatch has published (the newest
/// `publish_delay` minutes are gaps, as they are in production).
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

impl Policy for Ours {
    fn name(&self) -> String {
        "ours".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<u64> {
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
        let up = scale_up(&self.settings, input, view.now);
        if up.changes() {
            return Some(up.to);
        }
        if view.is_scale_down_time() {
            let down = scale_down(&self.settings, input, view.now);
            if down.changes() {
                return Some(down.to);
            }
        }
        None
    }
}
