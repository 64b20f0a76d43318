//! The baselines of DESIGN.md section 5. Notation: `P` provisioned units/s, `C` consumed
//! units/s (a published one-minute Sum / 60), `T` throttle events (a one-minute Sum). Each looks
//! only at published datapoints, leaves an `UPDATING` table alone, and is held to the decrease
//! quota by the model (a refused decrease is simply retried at its next run).

use scaling_policy::Timestamp;
use scaling_policy::time::DAY_SECS;

use super::units;
use crate::model::{Policy, Request, View};
use crate::trace::Trace;

/// AWS Application Auto Scaling target tracking (target `t`, default 70%).
///
/// Two CloudWatch alarms per dimension on `Consumed*CapacityUnits` (Sum, 60 s), evaluated every
/// minute on the newest published datapoints:
/// - high: the 2 newest datapoints both above `t * P * 60` -> `P = ceil(C / t)`, `C` the larger
///   of the two (never lower);
/// - low: the 15 newest datapoints all below `(t - 0.20) * P * 60` -> `P = ceil(C / t)`, `C`
///   the largest of the 15 (never higher), at least `min`.
///
/// A missing datapoint breaks the run of breaching datapoints (the alarms treat missing data as
/// missing). Since consumption is capped by `P` plus burst, it under-scales while throttling:
/// at most about `P / t` per step. No cooldowns (DynamoDB's defaults are 0).
#[derive(Clone, Debug)]
pub struct TargetTracking {
    target: f64,
    min: u64,
    max: u64,
}

impl TargetTracking {
    /// Target tracking at `target` (fraction) within `min..=max`.
    pub fn new(target: f64, min: u64, max: u64) -> Self {
        Self { target, min, max }
    }
}

impl Policy for TargetTracking {
    fn name(&self) -> String {
        if (self.target - 0.7).abs() < 1e-9 {
            "aws-target-tracking".into()
        } else {
            format!("aws-target-tracking:{}", (self.target * 100.0).round())
        }
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        if view.updating {
            return None;
        }
        let p = view.provisioned;
        let newest = view.metrics.visible() as i64;
        let all_below = |n: i64, limit: f64| -> Option<f64> {
            let mut peak: f64 = 0.0;
            for m in view.metrics.range(newest - n, newest) {
                let c = m.consumed?;
                if c >= limit || c.is_nan() {
                    return None;
                }
                peak = peak.max(c);
            }
            Some(peak)
        };
        // High alarm: 2 of 2 above.
        let high = self.target * p as f64 * 60.0;
        if newest >= 2 {
            let pts: Vec<Option<f64>> = view
                .metrics
                .range(newest - 2, newest)
                .map(|m| m.consumed)
                .collect();
            if pts.iter().all(|c| c.is_some_and(|c| c > high)) {
                let c = pts.iter().flatten().fold(0.0_f64, |a, b| a.max(*b)) / 60.0;
                let want = units(c / self.target, self.min, self.max);
                return (want > p).then_some(Request::new(want));
            }
        }
        // Low alarm: 15 of 15 below (target - 20 points).
        let low = (self.target - 0.20) * p as f64 * 60.0;
        if newest >= 15
            && let Some(peak) = all_below(15, low)
        {
            let want = units(peak / 60.0 / self.target, self.min, self.max);
            return (want < p).then_some(Request::new(want));
        }
        None
    }
}

/// Trek10's 2017 Lambda.
///
/// - Scale-up run every minute: `C` = average consumption over the last 5 minutes; if
///   `C >= 0.8 P`: `P = max(P + 10, C + 10)`.
/// - Scale-down run every 6 hours (at [`crate::ModelParams::scale_down`]), skipped
///   within 30 minutes of an increase: `P = C / 0.8 - 10` with `C` the 30-minute average, at
///   least `min`, only if lower.
///
/// Both averages divide the sum of the datapoints by the window length, counting missing
/// datapoints (including the newest ones CloudWatch has not published yet) as zero: the bug we
/// must not copy, reproduced here because it is what that tool does.
#[derive(Clone, Debug)]
pub struct Trek10 {
    min: u64,
    max: u64,
}

impl Trek10 {
    /// Trek10's rules within `min..=max`.
    pub fn new(min: u64, max: u64) -> Self {
        Self { min, max }
    }
}

/// Average consumption (units/s) over minutes `t - n .. t`, missing datapoints counted as 0.
fn average_missing_as_zero(view: &View<'_>, n: i64) -> f64 {
    let t = view.t();
    view.metrics
        .range(t - n, t)
        .map(|m| m.consumed.unwrap_or(0.0))
        .sum::<f64>()
        / (n as f64 * 60.0)
}

impl Policy for Trek10 {
    fn name(&self) -> String {
        "trek10-2017".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        if view.updating {
            return None;
        }
        let p = view.provisioned;
        let c5 = average_missing_as_zero(view, 5);
        if c5 >= 0.8 * p as f64 {
            let want = units((p as f64 + 10.0).max(c5 + 10.0), self.min, self.max);
            return (want > p).then_some(Request::new(want));
        }
        if view.is_scale_down_time() {
            let recent_increase = view
                .last_increase
                .is_some_and(|t| view.now.secs_since(t) < 30 * 60);
            if !recent_increase {
                let c30 = average_missing_as_zero(view, 30);
                let want = units(c30 / 0.8 - 10.0, self.min, self.max);
                return (want < p).then_some(Request::new(want));
            }
        }
        None
    }
}

/// Dynamic DynamoDB (default configuration, throttle thresholds off).
///
/// Every 5 minutes (at minutes divisible by 5), on the average consumption of the 5-minute
/// window that ended 10 minutes ago (its known datapoints; none known: nothing happens):
/// utilisation above 90% -> `P * 1.5`; below 30% -> `P * 0.5`, never below that consumption,
/// at least `min`.
#[derive(Clone, Debug)]
pub struct DynamicDynamodb {
    min: u64,
    max: u64,
}

impl DynamicDynamodb {
    /// Dynamic DynamoDB within `min..=max`.
    pub fn new(min: u64, max: u64) -> Self {
        Self { min, max }
    }
}

impl Policy for DynamicDynamodb {
    fn name(&self) -> String {
        "dynamic-dynamodb".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        if view.updating || view.scheduled.unix().rem_euclid(300) != 0 {
            return None;
        }
        let t = view.t();
        let known: Vec<f64> = view
            .metrics
            .range(t - 15, t - 10)
            .filter_map(|m| m.consumed)
            .collect();
        if known.is_empty() {
            return None;
        }
        let c = known.iter().sum::<f64>() / known.len() as f64 / 60.0;
        let p = view.provisioned;
        let utilisation = c / p as f64;
        if utilisation > 0.9 {
            let want = units(p as f64 * 1.5, self.min, self.max)
                .max(p + 1)
                .min(self.max);
            return (want > p).then_some(Request::new(want));
        }
        if utilisation < 0.3 {
            let want = units(p as f64 * 0.5, self.min, self.max).max(units(c, self.min, self.max));
            return (want < p).then_some(Request::new(want));
        }
        None
    }
}

/// dynamodb-lambda-autoscale (its default provisioner).
///
/// Every minute: `C` = the largest one-minute average among the datapoints of the last 5
/// minutes (0 when there is none, as the tool does), `T` = throttle events of the last minute.
/// - Up when `C / P > 75%` or `T > 25`: `P = max(1.3 P, P + 3, 1.3 C) + 0.7 T`.
/// - Down when `C / P < 30%`: `P = C` (at least `min`), only if it lowers by more than 5 units
///   (or it is past 23:30 UTC), and only once the tool's spreading allows: at most 4 decreases
///   per UTC day, the next one at `last + (23:30 - last) / (5 - decreases today)` after the
///   last decrease (or midnight), and 60 minutes after any increase or decrease.
///
/// "The last minute" is the minute before now, whose datapoint CloudWatch has not published
/// yet with the default delay: so `T` is 0 in practice and the tool is blind to throttles,
/// exactly as in production.
#[derive(Clone, Debug)]
pub struct LambdaAutoscale {
    min: u64,
    max: u64,
}

impl LambdaAutoscale {
    /// dynamodb-lambda-autoscale within `min..=max`.
    pub fn new(min: u64, max: u64) -> Self {
        Self { min, max }
    }

    /// The tool's earliest time for the next decrease.
    fn next_decrease(view: &View<'_>) -> Timestamp {
        let now = view.now;
        let day_start = now.start_of_utc_day();
        let used = view.budget.used_today(now);
        if used >= 4 {
            return day_start.plus_secs(DAY_SECS);
        }
        let last_allowed = day_start.plus_secs(23 * 3600 + 30 * 60);
        let base = view
            .budget
            .last_decrease
            .filter(|t| *t >= day_start)
            .unwrap_or(day_start);
        let spread = last_allowed.secs_since(base) / i64::from(5 - used);
        let mut next = base.plus_secs(spread);
        for grace in [view.last_increase, view.last_decrease]
            .into_iter()
            .flatten()
        {
            next = next.max(grace.plus_secs(60 * 60));
        }
        next
    }
}

impl Policy for LambdaAutoscale {
    fn name(&self) -> String {
        "dynamodb-lambda-autoscale".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        if view.updating {
            return None;
        }
        let t = view.t();
        let c = view
            .metrics
            .range(t - 5, t)
            .filter_map(|m| m.consumed)
            .fold(0.0_f64, |a, b| a.max(b / 60.0));
        let throttles: f64 = view
            .metrics
            .range(t - 1, t)
            .filter_map(|m| m.throttled)
            .sum();
        let p = view.provisioned;
        let pf = p as f64;
        if c / pf > 0.75 || throttles > 25.0 {
            let want = units(
                (1.3 * pf).max(pf + 3.0).max(1.3 * c) + 0.7 * throttles,
                self.min,
                self.max,
            );
            return (want > p).then_some(Request::new(want));
        }
        if c / pf < 0.3 {
            let want = units(c, self.min, self.max);
            let late = view.now >= view.now.start_of_utc_day().plus_secs(23 * 3600 + 30 * 60);
            if want < p && (p - want > 5 || late) && Self::next_decrease(view) <= view.now {
                return Some(Request::new(want));
            }
        }
        None
    }
}

/// Provisioned once at `ceil(peak demand)` of the whole trace (hindsight), never changed.
#[derive(Clone, Debug)]
pub struct StaticPeak {
    capacity: u64,
}

impl StaticPeak {
    /// Sized for `trace`'s peak.
    pub fn for_trace(trace: &Trace, max: u64) -> Self {
        Self {
            capacity: units(trace.peak(), 1, max),
        }
    }
}

impl Policy for StaticPeak {
    fn name(&self) -> String {
        "static-peak".into()
    }

    fn initial_capacity(&self) -> Option<u64> {
        Some(self.capacity)
    }

    fn decide(&mut self, _view: &View<'_>) -> Option<Request> {
        None
    }
}
