//! The test servers speak what the SDK speaks: the CloudWatch stand-in answers `fetch_usage`, and
//! the fault proxy forwards to moto, counts, and answers each fault as documented.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use autoscaler_aws::aws::{SeriesKey, fetch_usage};
use scaling_policy::{Dimension, Timestamp};
use test_support::cloudwatch::CloudWatchStandIn;
use test_support::emulator::{clients_at, endpoint, table};
use test_support::proxy::{Fault, Proxy, Rule};

#[tokio::test]
async fn the_stand_in_answers_get_metric_data_as_cloudwatch_does() {
    let standin = CloudWatchStandIn::start(Arc::new(|id, t: Timestamp| {
        (id.metric == "ConsumedReadCapacityUnits" && id.index.is_none())
            .then(|| (t.unix() / 60 % 7) as f64 + if id.table == "b" { 100.0 } else { 0.0 })
    }));
    let c = clients_at(standin.url(), "us-east-1", Duration::from_secs(2)).await;
    let end = Timestamp::from_unix(1_796_206_680);
    let start = end.plus_secs(-300);
    let keys: Vec<SeriesKey> = ["a", "b"]
        .iter()
        .map(|t| SeriesKey {
            table: (*t).to_owned(),
            index: None,
            dimension: Dimension::Read,
        })
        .collect();
    let usage = fetch_usage(&c, &keys, start, end).await;
    let b = usage[&keys[1]].as_ref().unwrap();
    assert_eq!(b.minutes.len(), 5);
    let expected: Vec<Option<f64>> = (0..5)
        .map(|i| Some(((start.unix() / 60 + i) % 7) as f64 + 100.0))
        .collect();
    let got: Vec<Option<f64>> = b.minutes.iter().map(|m| m.consumed).collect();
    assert_eq!(got, expected);
    assert!(b.minutes.iter().all(|m| m.throttled.is_none()));
    assert_eq!((standin.calls(), standin.queries()), (1, 4));
}

#[tokio::test]
async fn the_proxy_forwards_counts_and_injects_faults() {
    let proxy = Proxy::start(endpoint(), None, Duration::from_millis(1_500));
    let c = clients_at(proxy.url(), "us-east-1", Duration::from_millis(500)).await;
    table(&c, "proxied-a", Some((5, 5)), &[], &[]).await;
    table(&c, "proxied-b", Some((5, 5)), &[], &[]).await;
    assert!(autoscaler_aws::aws::describe(&c, "proxied-a").await.is_ok());
    assert_eq!(proxy.counts()["DescribeTable"], 1);

    for fault in Fault::ALL {
        proxy.clear();
        proxy.add(Rule {
            api: "DescribeTable".into(),
            table: Some("proxied-a".into()),
            fault,
            times: None,
        });
        let before = proxy.counts()["DescribeTable"];
        let a = autoscaler_aws::aws::describe(&c, "proxied-a").await;
        let attempts = proxy.counts()["DescribeTable"] - before;
        match fault {
            Fault::Slow => assert!(a.is_ok(), "{fault:?}: {a:?}"),
            Fault::Malformed => {
                assert!(a.is_err(), "{fault:?}");
                assert_eq!(attempts, 1, "a body that does not parse is not retried");
            }
            _ => {
                assert!(a.is_err(), "{fault:?}");
                assert_eq!(attempts, 3, "{fault:?} is retried up to 3 attempts");
            }
        }
        // The other table is not concerned.
        assert!(autoscaler_aws::aws::describe(&c, "proxied-b").await.is_ok());
    }

    // A transient fault: the retry gets through.
    proxy.clear();
    proxy.add(Rule {
        api: "DescribeTable".into(),
        table: None,
        fault: Fault::ServerError,
        times: Some(1),
    });
    assert!(autoscaler_aws::aws::describe(&c, "proxied-a").await.is_ok());
    let seen = proxy.seen();
    let last: Vec<Option<Fault>> = seen[seen.len() - 2..].iter().map(|s| s.fault).collect();
    assert_eq!(last, vec![Some(Fault::ServerError), None]);
    assert_eq!(seen.last().unwrap().tables, vec!["proxied-a".to_owned()]);
}
