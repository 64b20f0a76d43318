//! Synthetic traces made in code, deterministic (fixed-seed noise), one-minute steps, starting
//! Monday 2024-01-01 00:00 UTC, scaled like real ones (median of non-zero values = target),
//! except `hot-key`, which is issue 8's example in its own units. Real traces outweigh these in
//! every claim; they exist to exercise one shape at a time.
//!
//! | name           | shape                                                                |
//! |----------------|----------------------------------------------------------------------|
//! | `business-day` | 14 days: quiet nights, a 08:00-18:00 UTC plateau on weekdays, weekends at a third, 10% noise |
//! | `flash-crowd`  | 7 days of a daily cycle; on day 3 at 14:00 demand jumps 10x within one minute, holds 20 min, decays over an hour. The crowd is after one item: a hot key carries 5% of demand and serves at most 30 units/s (scaled with the trace), so only the crowd hits its limit |
//! | `weekly-cycle` | 28 days: smooth daily sine (peak/trough 3) times a weekday/weekend factor (1 vs 0.6) |
//! | `step`         | 4 days: flat, then 4x for a day from day 2, then flat again            |
//! | `ramp`         | 4 days: a linear climb from 1x to 30x over two days and back down     |
//! | `hot-key`      | 24 h at 31 units/s on a table provisioned at 100 at the start; a hot key carries a quarter of it (7.75 units/s) and serves at most 6.75, so 30 units/s are served and 60 key-range throttle events a minute refused whatever the capacity (issue 8's example; not rescaled by the target median) |

use scaling_policy::Timestamp;
use scaling_policy::time::DAY_SECS;

use crate::Error;
use crate::trace::{HotKey, Trace, TraceOptions, days_from_civil};

/// The names of the synthetic traces.
pub const NAMES: [&str; 6] = [
    "business-day",
    "flash-crowd",
    "weekly-cycle",
    "step",
    "ramp",
    "hot-key",
];

/// The hot-key example: demand, its share on the key, the key's limit, the starting capacity.
const HOT_KEY_DEMAND: f64 = 31.0;
const HOT_KEY_SHARE: f64 = 0.25;
const HOT_KEY_LIMIT: f64 = 6.75;
const HOT_KEY_INITIAL_CAPACITY: u64 = 100;
/// The flash crowd's hot key: share, and limit before scaling (units/s).
const CROWD_KEY_SHARE: f64 = 0.05;
const CROWD_KEY_LIMIT: f64 = 30.0;

/// A small deterministic generator (xorshift64*), enough for noise.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A factor in `1 +- amplitude`.
    fn jitter(&mut self, amplitude: f64) -> f64 {
        1.0 + amplitude * (2.0 * self.next() - 1.0)
    }
}

fn start() -> Timestamp {
    Timestamp::from_unix(days_from_civil(2024, 1, 1) * DAY_SECS)
}

/// Builds the synthetic trace `name` (one of [`NAMES`], with or without a `synthetic:` prefix).
pub fn by_name(name: &str, options: &TraceOptions) -> Result<Trace, Error> {
    let short = name.strip_prefix("synthetic:").unwrap_or(name);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let per_minute = |days: usize, f: &mut dyn FnMut(usize) -> f64| -> Vec<Option<f64>> {
        (0..days * 1440).map(|m| Some(f(m).max(0.0))).collect()
    };
    let hour = |m: usize| (m % 1440) as f64 / 60.0;
    let weekday = |m: usize| (m / 1440) % 7 < 5; // day 0 is a Monday
    let mut options = options.clone();
    let rates = match short {
        "business-day" => per_minute(14, &mut |m| {
            let h = hour(m);
            // Smooth shoulders 07-09 and 17-19, plateau in between.
            let ramp = |x: f64| {
                (x.clamp(0.0, 1.0) * std::f64::consts::FRAC_PI_2)
                    .sin()
                    .powi(2)
            };
            let day = ramp((h - 7.0) / 2.0) * (1.0 - ramp((h - 17.0) / 2.0));
            let level = if weekday(m) { 1.0 } else { 0.33 };
            (20.0 + 200.0 * day * level) * noise.jitter(0.10)
        }),
        "flash-crowd" => per_minute(7, &mut |m| {
            let base = 100.0 + 50.0 * (std::f64::consts::TAU * (hour(m) - 9.0) / 24.0).sin();
            let crowd_start = 3 * 1440 + 14 * 60;
            let boost = if m < crowd_start {
                1.0
            } else {
                let since = (m - crowd_start) as f64;
                if since < 20.0 {
                    10.0
                } else {
                    1.0 + 9.0 * (-(since - 20.0) / 20.0).exp()
                }
            };
            base * boost * noise.jitter(0.05)
        }),
        "weekly-cycle" => per_minute(28, &mut |m| {
            let daily = 1.0 + 0.5 * (std::f64::consts::TAU * (hour(m) - 9.0) / 24.0).sin();
            daily * if weekday(m) { 1.0 } else { 0.6 } * 100.0
        }),
        "step" => per_minute(4, &mut |m| {
            if (2 * 1440..3 * 1440).contains(&m) {
                400.0
            } else {
                100.0
            }
        }),
        "ramp" => per_minute(4, &mut |m| {
            let x = m as f64 / (2.0 * 1440.0);
            let up = if x <= 1.0 { x } else { 2.0 - x };
            20.0 * (1.0 + 29.0 * up)
        }),
        "hot-key" => {
            // Issue 8's numbers as they are: no rescaling to the target median.
            options.target_median = HOT_KEY_DEMAND;
            per_minute(1, &mut |_| HOT_KEY_DEMAND)
        }
        _ => {
            return Err(Error::BadName(format!(
                "no synthetic trace {name:?}; known: {}",
                NAMES.map(|n| format!("synthetic:{n}")).join(", ")
            )));
        }
    };
    let mut trace = Trace::from_rates(format!("synthetic:{short}"), start(), 1, rates, &options)?;
    match short {
        "flash-crowd" => {
            trace.hot_key = Some(HotKey {
                share: CROWD_KEY_SHARE,
                limit: CROWD_KEY_LIMIT * trace.scale,
            });
        }
        "hot-key" => {
            trace.hot_key = Some(HotKey {
                share: HOT_KEY_SHARE,
                limit: HOT_KEY_LIMIT,
            });
            trace.initial_capacity = Some(HOT_KEY_INITIAL_CAPACITY);
        }
        _ => {}
    }
    Ok(trace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_synthetic_trace_builds_and_is_scaled() {
        for name in NAMES {
            let t = by_name(name, &TraceOptions::default()).unwrap();
            assert_eq!(t.gap_minutes(), 0, "{name}");
            assert_eq!(t.start.to_string(), "2024-01-01T00:00:00Z");
            if name == "hot-key" {
                assert_eq!(t.len(), 1440);
                assert_eq!(t.demand_at(0), 31.0, "not rescaled");
                let hot = t.hot_key.unwrap();
                assert_eq!(hot.refused(t.demand_at(0)), 1.0, "60 events a minute");
                assert_eq!(t.initial_capacity, Some(100));
            } else {
                assert!(t.len() >= 4 * 1440, "{name}");
                assert!((t.median_nonzero() - 100.0).abs() < 1e-6, "{name}");
            }
        }
        assert!(by_name("nope", &TraceOptions::default()).is_err());
    }
}
