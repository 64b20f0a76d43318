//! Ours: the real `scaling-policy` crate, called as the Lambda functions call it.

use scaling_policy::{Dimension, DimensionInput, DimensionState, Settings, scale_down, scale_up};

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
            .max(self.settings.down_window_minutes);
        let usage = view.metrics.usage(view.t(), window);
        let state = DimensionState {
            provisioned: view.provisioned,
            budget: view.budget,
            last_increase: view.last_increase,
        };
        let input = DimensionInput {
            dimension: self.dimension,
            state: &state,
            usage: &usage,
        };
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
