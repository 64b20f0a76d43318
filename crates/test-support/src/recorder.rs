//! What the emulator received: moto's request recorder (`/moto-api/recorder/...`), and the
//! `GetMetricData` queries in the recording, each with the table it names, so that a test can
//! count the metrics a run requested the way CloudWatch bills them (one per query).
//!
//! The recorder is one per moto server and records every request while it is on: a test that
//! uses it must be alone in its test binary (each binary starts its own server). The recording
//! goes to a file of this test process ([`recording_file`], set when the server is started by
//! [`crate::emulator`]) and is removed with the server.
//!
//! The SDK sends CloudWatch requests in the Query protocol: a form-encoded body with
//! `Action=GetMetricData` and `MetricDataQueries.member.N.MetricStat.Metric...` fields.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use base64::Engine as _;

use crate::emulator::endpoint;
use crate::http::{Message, form, read_message};

/// Where the emulator started by this process records requests.
pub fn recording_file() -> PathBuf {
    std::env::temp_dir().join(format!(
        "ddb-autoscaler-moto-recording-{}",
        std::process::id()
    ))
}

/// A request to the emulator's own API (`path` under the endpoint), the response body; panics
/// with a message when the emulator does not answer 200.
fn moto_api(method: &str, path: &str) -> String {
    let address = endpoint()
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http endpoint: {}", endpoint()));
    let mut stream =
        TcpStream::connect(address).unwrap_or_else(|e| panic!("connect to {address}: {e}"));
    let request = Message {
        start: format!("{method} {path} HTTP/1.1"),
        headers: vec![("host".to_owned(), address.to_owned())],
        body: Vec::new(),
    };
    stream
        .write_all(&request.to_bytes())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let response = read_message(&mut BufReader::new(stream), true)
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP response"));
    assert_eq!(
        response.status(),
        200,
        "{method} {path}: {}",
        response.start
    );
    String::from_utf8_lossy(&response.body).into_owned()
}

/// Clears the recording and starts recording every request.
pub fn start() {
    moto_api("POST", "/moto-api/recorder/reset-recording");
    moto_api("POST", "/moto-api/recorder/start-recording");
}

/// Stops recording.
pub fn stop() {
    moto_api("POST", "/moto-api/recorder/stop-recording");
}

/// One metric query of a recorded `GetMetricData` request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Query {
    /// The `TableName` dimension.
    pub table: String,
    /// The `GlobalSecondaryIndexName` dimension, if any.
    pub index: Option<String>,
    /// The metric name.
    pub metric: String,
}

/// The metric queries of every `GetMetricData` request recorded so far, in order.
pub fn metric_queries() -> Vec<Query> {
    let recording = moto_api("GET", "/moto-api/recorder/download-recording");
    let mut out = Vec::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("recording line {line}: {e}"));
        let raw = entry["body"].as_str().unwrap_or_default();
        let body = if entry["body_encoded"].as_bool() == Some(true) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .unwrap_or_else(|e| panic!("recorded body is not base64: {e}"));
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            raw.to_owned()
        };
        out.extend(get_metric_data_queries(&body));
    }
    out
}

/// The metric queries of a form-encoded `GetMetricData` body (none for any other action).
pub fn get_metric_data_queries(body: &str) -> Vec<Query> {
    let fields: BTreeMap<String, String> = form(body.as_bytes()).into_iter().collect();
    if fields.get("Action").map(String::as_str) != Some("GetMetricData") {
        return Vec::new();
    }
    // member number -> (metric, dimension name -> value)
    let mut members: BTreeMap<u32, (String, BTreeMap<String, String>)> = BTreeMap::new();
    let mut names: BTreeMap<(u32, u32), String> = BTreeMap::new();
    let mut values: BTreeMap<(u32, u32), String> = BTreeMap::new();
    for (key, value) in &fields {
        let Some(rest) = key.strip_prefix("MetricDataQueries.member.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse::<u32>() else { continue };
        let entry = members.entry(n).or_default();
        if field == "MetricStat.Metric.MetricName" {
            entry.0 = value.clone();
        } else if let Some(d) = field.strip_prefix("MetricStat.Metric.Dimensions.member.")
            && let Some((i, part)) = d.split_once('.')
            && let Ok(i) = i.parse::<u32>()
        {
            match part {
                "Name" => names.insert((n, i), value.clone()),
                "Value" => values.insert((n, i), value.clone()),
                _ => None,
            };
        }
    }
    for ((n, i), name) in names {
        if let (Some(value), Some(m)) = (values.get(&(n, i)), members.get_mut(&n)) {
            m.1.insert(name, value.clone());
        }
    }
    members
        .into_values()
        .map(|(metric, dims)| Query {
            table: dims.get("TableName").cloned().unwrap_or_default(),
            index: dims.get("GlobalSecondaryIndexName").cloned(),
            metric,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_read_from_a_query_protocol_body() {
        let body = "Action=GetMetricData&Version=2010-08-01\
            &MetricDataQueries.member.1.Id=c0\
            &MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FDynamoDB\
            &MetricDataQueries.member.1.MetricStat.Metric.MetricName=ConsumedReadCapacityUnits\
            &MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=TableName\
            &MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=orders\
            &MetricDataQueries.member.2.Id=t0\
            &MetricDataQueries.member.2.MetricStat.Metric.MetricName=ReadThrottleEvents\
            &MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name=TableName\
            &MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value=orders\
            &MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.2.Name=GlobalSecondaryIndexName\
            &MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.2.Value=by-day";
        let q = get_metric_data_queries(body);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].table, "orders");
        assert_eq!(q[0].index, None);
        assert_eq!(q[0].metric, "ConsumedReadCapacityUnits");
        assert_eq!(q[1].index.as_deref(), Some("by-day"));
        assert!(get_metric_data_queries("Action=PutMetricData&Namespace=x").is_empty());
    }
}
