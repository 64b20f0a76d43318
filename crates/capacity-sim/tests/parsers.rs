//! Trace CSVs and timestamps under random input (issue 9, "Prove it"): arbitrary bytes and
//! near-valid files never panic (nor exhaust memory), and every refusal names the file (and the
//! line, for a bad row).
#![allow(clippy::unwrap_used)]

use capacity_sim::trace::parse_timestamp;
use capacity_sim::{Trace, TraceOptions};
use proptest::prelude::*;

const SOURCE: &str = "fuzz.csv";

/// A timestamp cell: valid ones of every accepted form, and their near misses.
fn timestamp() -> impl Strategy<Value = String> {
    prop_oneof![
        (1970i64..2200, 1u32..13, 1u32..29, 0u32..24, 0u32..60)
            .prop_map(|(y, m, d, h, min)| { format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:00Z") }),
        (0i64..4_102_444_800).prop_map(|s| s.to_string()),
        "[0-9]{1,20}(\\.[0-9]{0,3})?",
        "[0-9]{4}-[0-9]{1,3}-[0-9]{1,3}[ T][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3})?(Z|UTC|[+-][0-9]{2}:?[0-9]{0,2})?",
        "[ -~]{0,25}",
    ]
}

/// A value cell: counts, and what a count is not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|v| v.to_string()),
        Just(String::new()),
        "-?[0-9]{0,6}(\\.[0-9]{0,4})?(e[+-]?[0-9]{1,3})?",
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        "[ -~]{0,8}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("timestamp,value".to_owned()),
        Just("period,count".to_owned()),
        Just("timestamp,request_count,total_bytes".to_owned()),
        Just("value".to_owned()),
        "[a-z_,]{0,30}",
    ]
}

fn near_valid_csv() -> impl Strategy<Value = String> {
    (
        header(),
        prop::collection::vec((timestamp(), value(), "(,[0-9]{0,4}){0,2}"), 0..12),
        prop::bool::ANY,
    )
        .prop_map(|(h, rows, crlf)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = h;
            for (t, v, extra) in rows {
                text.push_str(nl);
                text.push_str(&format!("{t},{v}{extra}"));
            }
            text
        })
}

fn check(text: &str) {
    match Trace::parse_csv(SOURCE, text, &TraceOptions::default()) {
        Ok(trace) => {
            assert!(!trace.is_empty());
            assert!((0..trace.len()).all(|i| trace.demand_at(i).is_finite()));
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with(SOURCE), "names the file: {message}");
            assert!(message.len() > SOURCE.len() + 2, "says why: {message}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn near_valid_files_load_or_say_why(text in near_valid_csv()) {
        check(&text);
    }

    #[test]
    fn timestamps_parse_or_say_why(text in timestamp()) {
        if let Err(e) = parse_timestamp(&text) {
            prop_assert!(e.to_string().contains(&format!("{text:?}")), "{e}");
        }
    }
}

#[test]
fn a_trace_spanning_millennia_is_refused_not_allocated() {
    // Two rows eight thousand years apart: the step is their spacing, and the trace would have
    // billions of minutes.
    let text = "timestamp,value\n1970-01-01T00:00:00Z,1\n9999-01-01T00:00:00Z,1\n";
    let err = Trace::parse_csv(SOURCE, text, &TraceOptions::default()).unwrap_err();
    assert!(err.to_string().contains("minutes, more than"), "{err}");
    let text = "timestamp,value\n0,1\n99999999999999999999,1\n";
    assert!(Trace::parse_csv(SOURCE, text, &TraceOptions::default()).is_err());
}
