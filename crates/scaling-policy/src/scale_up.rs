//! The scale-up rule (the function that runs every minute): raise before requests are
//! throttled, and at once when they are; never lower.
//!
//! Per dimension, on the last `up_window_minutes` complete minutes (see [`crate::window`]):
//! 1. **Demand** in a minute is consumed units plus the throttle events more capacity would have
//!    served (provisioned-throughput ones; every event when the causes are unknown), per second.
//!    Key-range throttling (a hot partition) and account-limit throttling are counted apart:
//!    more table capacity does not cure them, so they never buy capacity on their own
//!    ([`Reason::KeyRangeThrottling`]). That is what stops the hot-key ratchet: a table
//!    throttled by one hot key keeps its capacity instead of gaining a unit every few minutes.
//! 2. **Growth.** When demand has been rising over the last twelve minutes
//!    ([`crate::window::growth`]), the peak is multiplied by its extrapolation over
//!    `growth_horizon_minutes` (at most `growth_cap`): a ramp is answered before it reaches
//!    capacity, not after. Steady or noisy demand gets no growth.
//! 3. **Fire** when requests were throttled for lack of capacity in a settled minute (one that
//!    started at least a minute after the last increase, so that it was served at the new
//!    capacity) or when predicted demand reaches `scale_up_trigger` x provisioned. Then raise to
//!    `ceil(predicted demand / target)`, never above max, and at least one unit more than now
//!    (throttling at a capacity that demand / target says is enough means sub-minute bursts:
//!    more capacity helps).
//! 4. **Seasonal floor.** With history, the demand that came at this time of day both yesterday
//!    and a week ago within `seasonal_ahead_minutes` ([`crate::seasonal`]) is a floor: the
//!    capacity is raised to `ceil(expected / target)` ahead of it when that is more than 10%
//!    above what is provisioned (smaller steps would only hold the table `UPDATING`).
//! 5. Below min it raises to min. Throttling that happened only before the last increase took
//!    effect is [`Reason::Settling`]: the increase already answers it.
//! 6. **Boost.** An announced event (the caller passes the capacity it asks for now) is a
//!    floor on top of everything: below it, capacity is raised to it ([`Reason::Boost`]).
//!
//! Missing data keeps capacity as it is: a window without datapoints is [`Reason::NoData`].

use crate::config::Settings;
use crate::decision::{Decision, DimensionInput, Numbers, Reason};
use crate::seasonal;
use crate::time::Timestamp;
use crate::units::ceil_units;
use crate::window::{Known, WindowSummary, growth};

/// A seasonal raise must lift capacity by more than this fraction.
pub const SEASONAL_STEP: f64 = 0.10;

/// The scale-up decision for one dimension. Never lowers capacity.
pub fn scale_up(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> Decision {
    let d = scale_up_on_demand(settings, input, now);
    let b = settings.bounds(input.dimension);
    match input.boost.map(|u| u.clamp(b.min, b.max)) {
        Some(floor) if floor > d.to => {
            let mut numbers = d.numbers;
            numbers.boost = Some(floor);
            numbers.wanted = Some(numbers.wanted.unwrap_or(0).max(floor));
            Decision::new(&input, floor, Reason::Boost, numbers)
        }
        Some(floor) => Decision {
            numbers: Numbers {
                boost: Some(floor),
                ..d.numbers
            },
            ..d
        },
        None => d,
    }
}

/// Scale-up from demand, seasonality and min alone (a boost is applied on top).
fn scale_up_on_demand(settings: &Settings, input: DimensionInput<'_>, now: Timestamp) -> Decision {
    let p = input.state.provisioned;
    let b = settings.bounds(input.dimension);
    let settled_from = input.state.last_increase.map(|t| t.plus_secs(60));
    let w = WindowSummary::of(
        input.usage,
        now,
        settings.up_window_minutes,
        settled_from,
        Known::AnyDatapoint,
    );
    let mut numbers = numbers(settings, input.dimension, p, &w);
    let expected = input
        .history
        .and_then(|h| seasonal::expected_peak(h, now, settings.seasonal_ahead_minutes));
    numbers.seasonal_demand = expected;
    let seasonal_want = expected
        .map(|e| ceil_units(e / settings.target).min(b.max))
        .filter(|want| *want as f64 > p as f64 * (1.0 + SEASONAL_STEP));

    let Some(peak) = w.peak_demand else {
        return match seasonal_want {
            Some(want) if want > p.max(b.min) => {
                numbers.wanted = Some(want);
                Decision::new(&input, want, Reason::Seasonal, numbers)
            }
            _ if p < b.min => {
                numbers.wanted = Some(b.min);
                Decision::new(&input, b.min, Reason::BelowMin, numbers)
            }
            _ => Decision::new(&input, p, Reason::NoData, numbers),
        };
    };
    let g = growth(
        input.usage,
        now,
        settings.growth_horizon_minutes,
        settings.growth_cap,
    );
    numbers.growth = g;
    let predicted = peak * g;
    let wanted = ceil_units(predicted / settings.target).clamp(b.min, b.max);
    numbers.wanted = Some(wanted.max(seasonal_want.unwrap_or(0)));
    let throttled = w.settled_capacity_events > 0.0;
    let above_trigger = peak >= settings.scale_up_trigger * p as f64;
    let rising = predicted >= settings.scale_up_trigger * p as f64;
    if throttled || rising {
        let floor = if throttled || above_trigger {
            p.saturating_add(1)
        } else {
            p
        };
        let to = wanted
            .max(floor)
            .max(seasonal_want.unwrap_or(0))
            .min(b.max)
            .max(p);
        let reason = if to == p {
            Reason::AtMax
        } else if throttled {
            Reason::Throttled
        } else if above_trigger {
            Reason::AboveTrigger
        } else {
            Reason::Rising
        };
        return Decision::new(&input, to, reason, numbers);
    }
    if let Some(want) = seasonal_want
        && want > p.max(b.min)
    {
        return Decision::new(&input, want, Reason::Seasonal, numbers);
    }
    if p < b.min {
        return Decision::new(&input, b.min, Reason::BelowMin, numbers);
    }
    let reason = if w.throttle_events > w.key_range_events && w.settled_capacity_events == 0.0 {
        Reason::Settling
    } else if w.key_range_events > 0.0 {
        Reason::KeyRangeThrottling
    } else {
        Reason::BelowTrigger
    };
    Decision::new(&input, p, reason, numbers)
}

/// The numbers of a window, before the rule-specific fields.
pub(crate) fn numbers(
    s: &Settings,
    dim: crate::config::Dimension,
    provisioned: u64,
    w: &WindowSummary,
) -> Numbers {
    let b = s.bounds(dim);
    Numbers {
        window_minutes: w.minutes,
        known_minutes: w.known,
        peak_demand: w.peak_demand,
        peak_consumed: w.peak_consumed,
        throttle_events: w.throttle_events,
        key_range_events: w.key_range_events,
        utilisation: w.peak_demand.map(|d| d / provisioned.max(1) as f64),
        growth: 1.0,
        seasonal_demand: None,
        boost: None,
        target: s.target,
        trigger: s.scale_up_trigger,
        min: b.min,
        max: b.max,
        wanted: None,
        next_decrease_at: None,
    }
}
