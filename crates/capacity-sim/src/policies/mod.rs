//! The policies a benchmark compares: ours, the baselines of DESIGN.md section 5, and the
//! reference points. Each simulated one implements [`Policy`]; `on-demand`, `ideal` and
//! `clairvoyant` are computed by [`crate::reference`] and [`crate::clairvoyant`] (the
//! clairvoyant schedule is then replayed through the model as a [`Scheduled`] policy).
//!
//! Every baseline sees what it would see in production: CloudWatch datapoints after the
//! publication delay, the table's status and its decrease quota; the model refuses what DynamoDB
//! would refuse. Names and parameters: `NAME` or `NAME:PARAM` (only `aws-target-tracking` takes
//! one, the target utilisation in percent, e.g. `aws-target-tracking:50`).

mod baselines;
mod ours;

pub use baselines::{DynamicDynamodb, LambdaAutoscale, StaticPeak, TargetTracking, Trek10};
pub use ours::Ours;

use serde::Serialize;

use crate::model::{Policy, Request, View};
use crate::trace::Trace;
use crate::{Error, ModelParams};

/// A policy by name, with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PolicySpec {
    /// The real `scaling-policy` crate with default settings, polling as the shipped cadence
    /// says.
    Ours,
    /// The same, polling every series every minute (as before the cadence).
    OursEveryMinute,
    /// AWS Application Auto Scaling target tracking, target as a fraction (default 0.7).
    AwsTargetTracking {
        /// Target utilisation, 0.2..=0.9.
        target: f64,
    },
    /// Trek10's 2017 Lambda.
    Trek10,
    /// Dynamic DynamoDB.
    DynamicDynamodb,
    /// dynamodb-lambda-autoscale.
    DynamodbLambdaAutoscale,
    /// Provisioned once for the trace's peak, never changed.
    StaticPeak,
    /// On-demand capacity mode.
    OnDemand,
    /// Capacity = demand every minute.
    Ideal,
    /// The cheapest quota-respecting schedule with perfect foresight.
    Clairvoyant,
}

impl PolicySpec {
    /// Every policy, in report order (`ours-every-minute`, ours before the cadence, is run only
    /// when asked for).
    pub fn all() -> Vec<PolicySpec> {
        vec![
            PolicySpec::Ours,
            PolicySpec::AwsTargetTracking { target: 0.7 },
            PolicySpec::Trek10,
            PolicySpec::DynamicDynamodb,
            PolicySpec::DynamodbLambdaAutoscale,
            PolicySpec::StaticPeak,
            PolicySpec::OnDemand,
            PolicySpec::Clairvoyant,
            PolicySpec::Ideal,
        ]
    }

    /// The names accepted by [`PolicySpec::parse`].
    pub const NAMES: [&'static str; 10] = [
        "ours",
        "ours-every-minute",
        "aws-target-tracking",
        "trek10-2017",
        "dynamic-dynamodb",
        "dynamodb-lambda-autoscale",
        "static-peak",
        "on-demand",
        "clairvoyant",
        "ideal",
    ];

    /// Parses `NAME` or `aws-target-tracking:PERCENT`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (name, param) = match text.split_once(':') {
            Some((n, p)) => (n.trim(), Some(p.trim())),
            None => (text.trim(), None),
        };
        let spec = match name {
            "ours" => PolicySpec::Ours,
            "ours-every-minute" => PolicySpec::OursEveryMinute,
            "aws-target-tracking" => {
                let target = match param {
                    None => 0.7,
                    Some(p) => {
                        let pct: f64 = p.trim_end_matches('%').parse().map_err(|_| {
                            Error::BadName(format!(
                                "aws-target-tracking takes a target in percent (e.g. aws-target-tracking:70), not {p:?}"
                            ))
                        })?;
                        if !(20.0..=90.0).contains(&pct) {
                            return Err(Error::BadName(format!(
                                "aws-target-tracking's target {pct}% is outside AWS's 20-90%"
                            )));
                        }
                        pct / 100.0
                    }
                };
                return Ok(PolicySpec::AwsTargetTracking { target });
            }
            "trek10-2017" => PolicySpec::Trek10,
            "dynamic-dynamodb" => PolicySpec::DynamicDynamodb,
            "dynamodb-lambda-autoscale" => PolicySpec::DynamodbLambdaAutoscale,
            "static-peak" => PolicySpec::StaticPeak,
            "on-demand" => PolicySpec::OnDemand,
            "ideal" => PolicySpec::Ideal,
            "clairvoyant" => PolicySpec::Clairvoyant,
            _ => {
                return Err(Error::BadName(format!(
                    "no policy {name:?}; known: {}",
                    Self::NAMES.join(", ")
                )));
            }
        };
        if let Some(p) = param {
            return Err(Error::BadName(format!(
                "policy {name} takes no parameter, got {p:?}"
            )));
        }
        Ok(spec)
    }

    /// The name in reports.
    pub fn name(&self) -> String {
        match self {
            PolicySpec::Ours => "ours".into(),
            PolicySpec::OursEveryMinute => "ours-every-minute".into(),
            PolicySpec::AwsTargetTracking { target } => {
                if (target - 0.7).abs() < 1e-9 {
                    "aws-target-tracking".into()
                } else {
                    format!("aws-target-tracking:{}", (target * 100.0).round())
                }
            }
            PolicySpec::Trek10 => "trek10-2017".into(),
            PolicySpec::DynamicDynamodb => "dynamic-dynamodb".into(),
            PolicySpec::DynamodbLambdaAutoscale => "dynamodb-lambda-autoscale".into(),
            PolicySpec::StaticPeak => "static-peak".into(),
            PolicySpec::OnDemand => "on-demand".into(),
            PolicySpec::Ideal => "ideal".into(),
            PolicySpec::Clairvoyant => "clairvoyant".into(),
        }
    }

    /// The policy to run through the simulator, or `None` for the references computed
    /// otherwise (`on-demand`, `ideal`, `clairvoyant`).
    pub fn build(&self, trace: &Trace, params: &ModelParams) -> Option<Box<dyn Policy>> {
        let max = params.max_capacity;
        Some(match self {
            PolicySpec::Ours => Box::new(Ours::default()),
            PolicySpec::OursEveryMinute => Box::new(Ours::every_minute()),
            PolicySpec::AwsTargetTracking { target } => {
                Box::new(TargetTracking::new(*target, 1, max))
            }
            PolicySpec::Trek10 => Box::new(Trek10::new(1, max)),
            PolicySpec::DynamicDynamodb => Box::new(DynamicDynamodb::new(1, max)),
            PolicySpec::DynamodbLambdaAutoscale => Box::new(LambdaAutoscale::new(1, max)),
            PolicySpec::StaticPeak => Box::new(StaticPeak::for_trace(trace, max)),
            PolicySpec::OnDemand | PolicySpec::Ideal | PolicySpec::Clairvoyant => return None,
        })
    }
}

/// A fixed schedule replayed through the model: capacity `schedule[i]` in force in minute `i`,
/// each change requested `update_delay` minutes ahead. A decrease the quota allows only a few
/// seconds after the run started (a late run an hour after a later-stamped decrease) asks for
/// that instant ([`Request::not_before`]), as a real scaler would.
#[derive(Clone, Debug)]
pub struct Scheduled {
    name: String,
    schedule: Vec<u64>,
    lead: usize,
}

impl Scheduled {
    /// A schedule named `name`, requested `params.update_delay` minutes ahead.
    pub fn new(name: impl Into<String>, schedule: Vec<u64>, params: &ModelParams) -> Self {
        Self {
            name: name.into(),
            schedule,
            lead: params.update_delay as usize,
        }
    }
}

impl Policy for Scheduled {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn initial_capacity(&self) -> Option<u64> {
        self.schedule.first().copied()
    }

    fn reads_history(&self) -> bool {
        false
    }

    fn decide(&mut self, view: &View<'_>) -> Option<Request> {
        let last = self.schedule.len().checked_sub(1)?;
        let want = self.schedule[(view.minute + self.lead).min(last)];
        if want == view.provisioned || view.updating {
            return None;
        }
        let not_before = (want < view.provisioned)
            .then(|| view.budget.next_allowed(view.now))
            .filter(|at| *at > view.now);
        Some(Request {
            capacity: want,
            not_before,
        })
    }
}

/// `ceil(x)` as capacity units, ignoring float noise, at least `min`, at most `max`.
pub(crate) fn units(x: f64, min: u64, max: u64) -> u64 {
    scaling_policy::ceil_units(x).clamp(min, max.max(min))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in PolicySpec::NAMES {
            assert_eq!(PolicySpec::parse(name).unwrap().name(), name);
        }
        assert_eq!(
            PolicySpec::parse("aws-target-tracking:50").unwrap(),
            PolicySpec::AwsTargetTracking { target: 0.5 }
        );
        assert_eq!(
            PolicySpec::parse("aws-target-tracking:50").unwrap().name(),
            "aws-target-tracking:50"
        );
        assert!(PolicySpec::parse("aws-target-tracking:95").is_err());
        assert!(PolicySpec::parse("ours:3").is_err());
        let err = PolicySpec::parse("magic").unwrap_err().to_string();
        assert!(
            err.contains("magic") && err.contains("trek10-2017"),
            "{err}"
        );
    }
}
