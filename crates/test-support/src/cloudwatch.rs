//! A fast stand-in for CloudWatch's `GetMetricData`, for the 2,500-table scale run: moto keeps
//! every datapoint in one list and scans it for each query, which is minutes at that size. The
//! stand-in computes each series from a function of the test ([`Series`]) instead of storing
//! datapoints, and answers in CloudWatch's query protocol (the `~1.99` SDK's), every series
//! `Complete`. It counts calls and queries, and refuses any other action.

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use capacity_sim::trace::parse_timestamp;
use scaling_policy::Timestamp;

use crate::http::{form, read_message, reply};

/// One series a query asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SeriesId {
    /// The `TableName` dimension.
    pub table: String,
    /// The `GlobalSecondaryIndexName` dimension, if any.
    pub index: Option<String>,
    /// The metric name.
    pub metric: String,
}

/// The value of a series for the period starting at an instant (`None`: no datapoint).
pub type Series = Arc<dyn Fn(&SeriesId, Timestamp) -> Option<f64> + Send + Sync>;

struct Shared {
    series: Series,
    calls: AtomicUsize,
    queries: AtomicUsize,
}

/// A running stand-in; it serves until the process ends.
pub struct CloudWatchStandIn {
    url: String,
    shared: Arc<Shared>,
}

impl CloudWatchStandIn {
    /// Starts one on a free port of 127.0.0.1.
    pub fn start(series: Series) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Arc::new(Shared {
            series,
            calls: AtomicUsize::new(0),
            queries: AtomicUsize::new(0),
        });
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Self { url, shared }
    }

    /// Its endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GetMetricData` calls so far.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Metric queries so far (what CloudWatch bills).
    pub fn queries(&self) -> usize {
        self.shared.queries.load(Ordering::SeqCst)
    }
}

fn error(code: &str) -> Vec<u8> {
    reply(
        "400 Bad Request",
        &[],
        "text/xml",
        format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>the stand-in only answers GetMetricData</Message></Error><RequestId>standin</RequestId></ErrorResponse>").as_bytes(),
    )
}

fn serve(stream: TcpStream, s: &Shared) {
    use std::io::Write;
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    while let Some(req) = read_message(&mut reader, false) {
        let answer = answer(&form(&req.body), s);
        if out.write_all(&answer).and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

/// One query of the request.
#[derive(Default)]
struct Query {
    id: String,
    table: String,
    index: Option<String>,
    metric: String,
    period: i64,
}

fn answer(pairs: &[(String, String)], s: &Shared) -> Vec<u8> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("Action") != Some("GetMetricData") {
        return error("InvalidAction");
    }
    let (Some(start), Some(end)) = (
        get("StartTime").and_then(|t| parse_timestamp(t).ok()),
        get("EndTime").and_then(|t| parse_timestamp(t).ok()),
    ) else {
        return error("MissingParameter");
    };
    let mut queries: std::collections::BTreeMap<usize, Query> = Default::default();
    let mut dimensions: std::collections::BTreeMap<(usize, usize), (String, String)> =
        Default::default();
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix("MetricDataQueries.member.") else {
            continue;
        };
        let Some((n, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        let q = queries.entry(n).or_default();
        match field {
            "Id" => q.id = v.clone(),
            "MetricStat.Metric.MetricName" => q.metric = v.clone(),
            "MetricStat.Period" => q.period = v.parse().unwrap_or(60),
            f => {
                if let Some(d) = f.strip_prefix("MetricStat.Metric.Dimensions.member.")
                    && let Some((m, which)) = d.split_once('.')
                    && let Ok(m) = m.parse::<usize>()
                {
                    let entry = dimensions.entry((n, m)).or_default();
                    match which {
                        "Name" => entry.0 = v.clone(),
                        "Value" => entry.1 = v.clone(),
                        _ => {}
                    }
                }
            }
        }
    }
    for ((n, _), (name, value)) in dimensions {
        let q = queries.entry(n).or_default();
        match name.as_str() {
            "TableName" => q.table = value,
            "GlobalSecondaryIndexName" => q.index = Some(value),
            _ => {}
        }
    }
    s.calls.fetch_add(1, Ordering::SeqCst);
    s.queries.fetch_add(queries.len(), Ordering::SeqCst);
    let mut xml = String::from(
        r#"<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults>"#,
    );
    for q in queries.values() {
        let id = SeriesId {
            table: q.table.clone(),
            index: q.index.clone(),
            metric: q.metric.clone(),
        };
        let period = q.period.max(1);
        let (mut timestamps, mut values) = (String::new(), String::new());
        let mut t = start;
        while t < end {
            if let Some(v) = (s.series)(&id, t) {
                timestamps.push_str(&format!("<member>{t}</member>"));
                values.push_str(&format!("<member>{v}</member>"));
            }
            t = t.plus_secs(period);
        }
        xml.push_str(&format!(
            "<member><Id>{}</Id><Label>{}</Label><StatusCode>Complete</StatusCode><Timestamps>{timestamps}</Timestamps><Values>{values}</Values></member>",
            q.id, q.metric
        ));
    }
    xml.push_str("</MetricDataResults><Messages/></GetMetricDataResult><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></GetMetricDataResponse>");
    reply("200 OK", &[], "text/xml", xml.as_bytes())
}
