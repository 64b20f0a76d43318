//! The scale run (issue 9, "Prove it"): one scale-up and one scale-down run over 2,500 tables (a
//! third with two GSIs), moto for DynamoDB and the fast stand-in for `GetMetricData`, every call
//! counted by the proxy in front of both. Asserts the calls per API (discovery in pages of 100,
//! `GetMetricData` in batches of 500 metrics and of CloudWatch's datapoint limit, one describe
//! per table plus one per change, one update per change) and the changes. Memory and time are
//! measured in a release build by `examples/scale_run.rs` (`scripts/bench-scale`), not here.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use autoscaler_aws::poll::CALM_SERIES_PER_RUN;
use autoscaler_aws::{Direction, RunConfig, run};
use test_support::cloudwatch::CloudWatchStandIn;
use test_support::emulator::{clients_at, endpoint, lease_table};
use test_support::proxy::Proxy;
use test_support::scale;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_2500_tables_makes_the_calls_it_should() {
    let setup = clients_at(endpoint(), "us-east-1", Duration::from_secs(30)).await;
    let key = "scale-run";
    scale::create(&setup, key).await;
    let leases = lease_table(&setup).await;
    let standin = CloudWatchStandIn::start(scale::series());
    let config = RunConfig {
        tag_key: key.to_owned(),
        lease_table: Some(leases.to_owned()),
        ..RunConfig::default()
    };
    for direction in [Direction::Up, Direction::Down] {
        let proxy = Proxy::start(endpoint(), Some(standin.url()), Duration::from_secs(60));
        let c = clients_at(proxy.url(), "us-east-1", Duration::from_secs(30)).await;
        let s = run(&c, &config, direction, autoscaler_aws::now())
            .await
            .unwrap();
        assert_eq!(s.tables_managed, scale::TABLES);
        assert!(
            s.failed.is_empty() && s.skipped.is_empty(),
            "{:?} {:?}",
            s.failed,
            s.skipped
        );
        assert_eq!(s.tables_changed, scale::CHANGED_PER_RUN, "{direction}");
        let counts: BTreeMap<String, usize> = proxy.counts();
        // A cold scale-up reads the calm wait of at most CALM_SERIES_PER_RUN series and the
        // recent window of the rest; scale-down reads its window for every series.
        let series = scale::targets() * 2;
        let settings = &config.defaults;
        let windows = match direction {
            Direction::Up => {
                let cold = config
                    .cadence
                    .plan(settings, None, 100, autoscaler_aws::now())
                    .unwrap();
                // A cold poll reads the throttle events too: `expected_calls` chunks as
                // `fetch_usage` does.
                assert!(cold.throttles, "a cold poll reads the throttle events");
                let long = if cold.calm {
                    series.min(CALM_SERIES_PER_RUN)
                } else {
                    0
                };
                vec![
                    (cold.fetch_minutes, long),
                    (cold.without_calm(settings).fetch_minutes, series - long),
                ]
            }
            Direction::Down => vec![(settings.down_window_minutes, series)],
        };
        let expected: BTreeMap<String, usize> = scale::expected_calls(&windows)
            .into_iter()
            .map(|(api, n)| (api.to_owned(), n))
            .collect();
        assert_eq!(counts, expected, "{direction}: calls per API");
        let json = serde_json::to_vec(&s).unwrap().len();
        // The summary is the invocation's result: Lambda refuses one over 6 MB.
        assert!(json < 6 * 1024 * 1024, "{direction}: a {json}-byte summary");
        let _ = std::io::Write::write_all(
            &mut std::io::stderr().lock(),
            format!("scale run, {direction}: {counts:?}; summary {json} bytes\n").as_bytes(),
        );
    }
}
