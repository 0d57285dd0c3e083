//! Pins the wire format: the DESIGN.md examples parse, every record type
//! round-trips, and what we write has exactly the documented field names
//! (re-declared here with `deny_unknown_fields`, so a renamed or added field
//! breaks this test until DESIGN.md and every reader agree).

use std::collections::BTreeMap;

use records::ndjson::{read_from, LineReader, Writer};
use records::testkit::WireEvent;
use records::{Event, PgSample, Stats, Summary, User, Var};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireUser {
    user: String,
    password: Option<String>,
    token: Option<String>,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    vars: Option<BTreeMap<String, serde_json::Value>>,
    cookies: Option<BTreeMap<String, String>>,
}

const DESIGN_USER: &str = r#"{"user":"loadtest1@example.com","password":"pw","token":"eyJ","refresh_token":"r","expires_at":1764000000,"vars":{"task_ids":["17","18"]},"cookies":{"session":"abc"}}"#;
const DESIGN_EVENT: &str = r#"{"ts":1764000000000000000, "name":"GET /api/v1/tasks/{id}", "method":"GET", "status":200, "latency_ns":1843000, "lag_ns":0, "bytes_in":512, "bytes_out":0, "vu":17, "error":null}"#;

#[test]
fn design_examples_parse_and_round_trip() {
    let user: User = serde_json::from_str(DESIGN_USER).unwrap();
    assert_eq!(
        user.vars["task_ids"],
        Var::List(vec!["17".into(), "18".into()])
    );
    let text = serde_json::to_string(&user).unwrap();
    serde_json::from_str::<WireUser>(&text).unwrap();
    assert_eq!(serde_json::from_str::<User>(&text).unwrap(), user);

    let event: Event = serde_json::from_str(DESIGN_EVENT).unwrap();
    assert_eq!(event.latency_ns, 1_843_000);
    let text = serde_json::to_string(&event).unwrap();
    serde_json::from_str::<WireEvent>(&text).unwrap();
    assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let user: User = serde_json::from_str(DESIGN_USER).unwrap();
    let shown = format!("{user:?}");
    assert!(
        !shown.contains("eyJ") && !shown.contains("\"pw\"") && !shown.contains("abc"),
        "{shown}"
    );
}

#[test]
fn summary_records_round_trip_by_kind() {
    let mut h = records::hist::new_histogram();
    records::hist::record(&mut h, 1_000_000);
    let stats = Stats {
        name: "GET /health".into(),
        count: 1,
        rps: 1.0,
        hist: records::hist::encode(&h),
        ..Stats::default()
    };
    let pg = PgSample {
        ts: 1,
        datname: "test".into(),
        ..PgSample::default()
    };
    let all = vec![
        Summary::Run(Default::default()),
        Summary::Endpoint(stats.clone()),
        Summary::Total(stats),
        Summary::Interval(Default::default()),
        Summary::Threshold(Default::default()),
        Summary::Comparison(Default::default()),
        Summary::Pg(pg),
    ];
    let mut out = Writer::new(Vec::new());
    for record in &all {
        out.write(record).unwrap();
    }
    out.flush().unwrap();
    let bytes = out.get_mut().clone();
    let text = String::from_utf8(bytes.clone()).unwrap();
    for (line, kind) in text.lines().zip([
        "run",
        "endpoint",
        "total",
        "interval",
        "threshold",
        "comparison",
        "pg",
    ]) {
        assert!(
            line.starts_with(&format!("{{\"kind\":\"{kind}\"")),
            "{line}"
        );
    }
    let back: Vec<Summary> = read_from(&bytes[..], "mem").unwrap();
    assert_eq!(back, all);
    // A kind this version does not know is skipped over, not an error.
    let future: Vec<Summary> = read_from(&br#"{"kind":"spectrum","x":1}"#[..], "mem").unwrap();
    assert_eq!(future, vec![Summary::Unknown]);
}

#[test]
fn malformed_lines_name_their_line_and_can_be_skipped() {
    let input = format!("{DESIGN_EVENT}\n\n{{\"ts\":1}}\nnot json\n{DESIGN_EVENT}\n");
    let err = read_from::<Event>(input.as_bytes(), "events.ndjson")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("events.ndjson:3: "), "{err}");
    assert!(err.contains("missing field `name`"), "{err}");

    let mut reader = LineReader::new(input.as_bytes(), "events.ndjson").skip_invalid(true);
    let mut good = 0;
    while let Some(record) = reader.next_record::<Event>() {
        record.unwrap();
        good += 1;
    }
    assert_eq!((good, reader.skipped()), (2, 2));
    assert!(reader.first_skip().unwrap().starts_with("events.ndjson:3:"));
}

#[test]
fn an_overlong_line_is_refused_and_reading_goes_on() {
    let input = format!("{}\n{DESIGN_EVENT}\n", "x".repeat(5000));
    let mut reader = LineReader::new(input.as_bytes(), "big").max_line(1000);
    let err = reader
        .next_record::<Event>()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("big:1: line is longer"), "{err}");
    assert_eq!(reader.next_record::<Event>().unwrap().unwrap().vu, 17);
}
