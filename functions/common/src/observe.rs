//! What a scheduled function reports after a run besides its result and its logs: the run's
//! metrics as EMF lines on stdout (`autoscaler_aws::emf`) and, when the deployment asks for
//! them, its notifications (`autoscaler_aws::notify`). Both come from the run summary, after the
//! run, and before the invocation answers (Lambda may freeze the process once it has).
//!
//! Neither fails the run: notifications that cannot be sent are logged (`notifications failed`,
//! ERROR, saying how many and why); the changes they were about are made either way.

use std::io::Write as _;
use std::time::Duration;

use autoscaler_aws::emf::{Emitter, MetricsConfig, RunFacts};
use autoscaler_aws::notify::{self, Notifications, Notifier};
use autoscaler_aws::{Direction, RunSummary};

/// The function's metrics and notifications, set up at cold start.
pub struct Observer {
    emitter: Option<Emitter>,
    notifier: Option<Notifier>,
}

impl Observer {
    /// From the environment (`AUTOSCALER_METRICS_NAMESPACE`, `AUTOSCALER_TABLE_METRICS`,
    /// `AUTOSCALER_NOTIFICATIONS`): installs the metrics recorder (once per process).
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, autoscaler_aws::Error> {
        let metrics = MetricsConfig::from_env()?;
        let notifications = Notifications::from_env()?;
        Ok(Self {
            emitter: Emitter::install(&metrics)?,
            notifier: notifications.enabled().then(|| Notifier::new(sdk)),
        })
    }

    /// Reports a run that produced `summary` in `duration`.
    pub async fn after_run(&self, summary: &RunSummary, duration: Duration) {
        if let Some(notifier) = &self.notifier {
            let events = notify::events(summary);
            if !events.is_empty() {
                match notifier.send(&events).await {
                    Ok(sent) => tracing::info!(sent, "notifications sent"),
                    Err(e) => tracing::error!(
                        error = %autoscaler_aws::error::chain(&e),
                        "notifications failed"
                    ),
                }
            }
        }
        if let Some(emitter) = &self.emitter {
            let facts = RunFacts { duration };
            print(&emitter.lines(summary, &facts));
        }
    }

    /// Reports a scheduled run dropped for being late.
    pub fn late_run(&self, direction: Direction) {
        if let Some(emitter) = &self.emitter {
            print(&emitter.late_run(direction));
        }
    }
}

/// Writes the lines to stdout (where Lambda takes the logs from), each in one write.
fn print(lines: &[String]) {
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = out.write_all(format!("{line}\n").as_bytes());
    }
    let _ = out.flush();
}
