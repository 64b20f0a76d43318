//! Helpers shared by the integration tests: crafted traces and scripted policies.
#![allow(dead_code)]

use capacity_sim::{ModelParams, Policy, Request, Trace, View, simulate};
use scaling_policy::{Minute, Timestamp};

/// 2024-01-01T00:00:00Z, a Monday.
pub const DAY0: i64 = 1_704_067_200;

/// A trace of per-minute demand (units/s) starting `offset_secs` after 2024-01-01 00:00 UTC.
pub fn trace(offset_secs: i64, demand: Vec<Option<f64>>) -> Trace {
    Trace::per_minute(
        "crafted".into(),
        Timestamp::from_unix(DAY0 + offset_secs),
        demand,
    )
}

/// `minutes` minutes of constant demand.
pub fn flat(offset_secs: i64, rate: f64, minutes: usize) -> Trace {
    trace(offset_secs, vec![Some(rate); minutes])
}

/// Parameters for readable tests: the given delays, no warm-up, a fixed initial capacity, and
/// runs exactly on the minute (tests of late runs switch them on).
pub fn params(publish_delay: u32, update_delay: u32, initial: u64) -> ModelParams {
    ModelParams {
        publish_delay,
        update_delay,
        warmup_minutes: 0,
        initial_capacity: Some(initial),
        late_runs_max_secs: 0,
        ..ModelParams::default()
    }
}

/// A policy driven by a closure that names the capacity it wants now.
pub struct Scripted<F: FnMut(&View<'_>) -> Option<u64>>(pub F);

impl<F: FnMut(&View<'_>) -> Option<u64>> Policy for Scripted<F> {
    fn name(&self) -> String {
        "scripted".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        (self.0)(view).map(Request::new)
    }
}

/// A policy driven by a closure that makes whole requests (with `not_before`).
pub struct Requesting<F: FnMut(&View<'_>) -> Option<Request>>(pub F);

impl<F: FnMut(&View<'_>) -> Option<Request>> Policy for Requesting<F> {
    fn name(&self) -> String {
        "requesting".into()
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        (self.0)(view)
    }
}

/// A policy that never changes anything.
pub fn idle() -> Scripted<impl FnMut(&View<'_>) -> Option<u64>> {
    Scripted(|_: &View<'_>| None)
}

/// Minutes where the capacity in force changed, with the new value.
pub fn changes(provisioned: &[u64]) -> Vec<(usize, u64)> {
    provisioned
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] != w[1])
        .map(|(i, w)| (i + 1, w[1]))
        .collect()
}

/// What each minute's run saw as the previous minute's datapoint (a gap until it is
/// published), with nothing ever changed.
pub fn previous_minutes(trace: &Trace, params: &ModelParams) -> Vec<Minute> {
    let mut seen = Vec::new();
    let mut policy = Scripted(|v: &View<'_>| {
        seen.push(v.metrics.get(v.t() - 1));
        None
    });
    simulate(trace, params, &mut policy);
    seen
}
