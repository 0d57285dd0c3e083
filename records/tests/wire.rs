//! Pins the wire format: the DESIGN.md examples parse, every record type
//! round-trips, and what we write has exactly the documented field names
//! (re-declared here with `deny_unknown_fields`, so a renamed or added field
//! breaks this test until DESIGN.md and every reader agree).

use std::collections::BTreeMap;

use records::ndjson::{read_from, LineReader, Writer};
use records::testkit::WireEvent;
use records::{
    CoreSample, CoreSummary, DiskSample, Event, HostSample, HostSummary, NetSample, PgSample,
    ProcessExit, ProcessSample, ProcessSummary, Shard, ShardRun, Stats, Summary, User, Var,
};
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
        Summary::Host(host_sample()),
        Summary::Process(process_sample()),
        Summary::HostSummary(host_summary()),
        Summary::Shard(ShardRun {
            shard: Some(Shard { index: 1, count: 4 }),
            source: "shard-1.ndjson".into(),
            count: 3,
            ..ShardRun::default()
        }),
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
        "host",
        "process",
        "host_summary",
        "shard",
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

fn host_sample() -> HostSample {
    HostSample {
        ts: 1_764_000_001_000_000_000,
        interval_ns: 1_000_000_000,
        cpus: 2,
        cpu_permille: 415,
        cpu_user_permille: 300,
        cpu_system_permille: 110,
        cpu_iowait_permille: 5,
        cpu_steal_permille: 0,
        cores: vec![CoreSample {
            core: 0,
            cpu_permille: 830,
            ..CoreSample::default()
        }],
        load1_milli: 520,
        mem_total_bytes: 8 << 30,
        mem_available_bytes: 6 << 30,
        net: vec![NetSample {
            iface: "lo".into(),
            rx_bytes: 100,
            tx_bytes: 100,
            rx_packets: 1,
            tx_packets: 1,
        }],
        disks: vec![DiskSample {
            device: "vda".into(),
            write_bytes: 4096,
            writes: 1,
            ..DiskSample::default()
        }],
        ..HostSample::default()
    }
}

fn process_sample() -> ProcessSample {
    ProcessSample {
        ts: 1_764_000_001_000_000_000,
        interval_ns: 1_000_000_000,
        watch: "tasktracker".into(),
        pid: 4242,
        ppid: 1,
        name: "tasktracker".into(),
        cpu_permille: 1830,
        rss_bytes: 31_457_280,
        threads: 5,
        fds: Some(42),
    }
}

fn host_summary() -> HostSummary {
    HostSummary {
        start: 1,
        end: 2,
        samples: 1,
        cores: vec![CoreSummary::default()],
        processes: vec![ProcessSummary {
            watch: "tasktracker".into(),
            pids: vec![4242],
            rss_growth_bytes_per_h: Some(-3),
            exited: vec![ProcessExit::default()],
            ..ProcessSummary::default()
        }],
        ..HostSummary::default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireHost {
    kind: String,
    ts: u64,
    interval_ns: u64,
    cpus: u32,
    cpu_permille: u32,
    cpu_user_permille: u32,
    cpu_system_permille: u32,
    cpu_iowait_permille: u32,
    cpu_steal_permille: u32,
    cores: Vec<WireCore>,
    load1_milli: u64,
    load5_milli: u64,
    load15_milli: u64,
    mem_total_bytes: u64,
    mem_used_bytes: u64,
    mem_available_bytes: u64,
    mem_cached_bytes: u64,
    swap_total_bytes: u64,
    swap_used_bytes: u64,
    net: Vec<WireNet>,
    disks: Vec<WireDisk>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireCore {
    core: u32,
    cpu_permille: u32,
    cpu_user_permille: u32,
    cpu_system_permille: u32,
    cpu_iowait_permille: u32,
    cpu_steal_permille: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireNet {
    iface: String,
    rx_bytes: u64,
    tx_bytes: u64,
    rx_packets: u64,
    tx_packets: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireDisk {
    device: String,
    read_bytes: u64,
    write_bytes: u64,
    reads: u64,
    writes: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireProcess {
    kind: String,
    ts: u64,
    interval_ns: u64,
    watch: String,
    pid: u32,
    ppid: u32,
    name: String,
    cpu_permille: u32,
    rss_bytes: u64,
    threads: u32,
    fds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireHostSummary {
    kind: String,
    start: u64,
    end: u64,
    samples: u64,
    cpu_avg_permille: u32,
    cpu_peak_permille: u32,
    cores: Vec<WireCoreSummary>,
    mem_used_peak_bytes: u64,
    mem_available_min_bytes: u64,
    swap_used_peak_bytes: u64,
    processes: Vec<WireProcessSummary>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireCoreSummary {
    core: u32,
    cpu_avg_permille: u32,
    cpu_peak_permille: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireProcessSummary {
    watch: String,
    pids: Vec<u32>,
    samples: u64,
    cpu_avg_permille: u32,
    cpu_peak_permille: u32,
    rss_peak_bytes: u64,
    rss_growth_bytes_per_h: Option<i64>,
    exited: Option<Vec<WireProcessExit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireProcessExit {
    pid: u32,
    name: String,
    ts: u64,
}

/// The lib.rs examples of hostwatch's records, as they are documented.
const DOC_HOST: &str = r#"{"kind":"host","ts":1764000001000000000,"interval_ns":1000000000,"cpus":2,"cpu_permille":415,"cpu_user_permille":300,"cpu_system_permille":110,"cpu_iowait_permille":5,"cpu_steal_permille":0,"cores":[{"core":0,"cpu_permille":830,"cpu_user_permille":600,"cpu_system_permille":220,"cpu_iowait_permille":10,"cpu_steal_permille":0}],"load1_milli":520,"load5_milli":410,"load15_milli":300,"mem_total_bytes":8331034624,"mem_used_bytes":1503238553,"mem_available_bytes":6442450944,"mem_cached_bytes":2147483648,"swap_total_bytes":0,"swap_used_bytes":0,"net":[{"iface":"lo","rx_bytes":52428800,"tx_bytes":52428800,"rx_packets":812,"tx_packets":812}],"disks":[{"device":"vda","read_bytes":0,"write_bytes":40960,"reads":0,"writes":3}]}"#;
const DOC_PROCESS: &str = r#"{"kind":"process","ts":1764000001000000000,"interval_ns":1000000000,"watch":"tasktracker","pid":4242,"ppid":1,"name":"tasktracker","cpu_permille":1830,"rss_bytes":31457280,"threads":5,"fds":42}"#;

#[test]
fn hostwatch_records_have_exactly_the_documented_fields() {
    for (doc, record) in [
        (DOC_HOST, Summary::Host(host_sample())),
        (DOC_PROCESS, Summary::Process(process_sample())),
    ] {
        let parsed: Summary = serde_json::from_str(doc).unwrap();
        let kind = |s: &Summary| std::mem::discriminant(s);
        assert_eq!(kind(&parsed), kind(&record), "{doc}");
        let text = serde_json::to_string(&parsed).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            serde_json::from_str::<serde_json::Value>(doc).unwrap()
        );
    }
    let host = serde_json::to_string(&Summary::Host(host_sample())).unwrap();
    serde_json::from_str::<WireHost>(&host).unwrap();
    let process = serde_json::to_string(&Summary::Process(process_sample())).unwrap();
    serde_json::from_str::<WireProcess>(&process).unwrap();
    let summary = serde_json::to_string(&Summary::HostSummary(host_summary())).unwrap();
    serde_json::from_str::<WireHostSummary>(&summary).unwrap();
    // Without fds (another user's process), the field is left out.
    let mut hidden = process_sample();
    hidden.fds = None;
    let text = serde_json::to_string(&Summary::Process(hidden)).unwrap();
    assert!(!text.contains("fds"), "{text}");
    serde_json::from_str::<WireProcess>(&text).unwrap();
}

#[test]
fn shards_are_named_where_they_are_and_old_records_still_read() {
    use records::event::StreamRecord;
    let old: StreamRecord = serde_json::from_str(r#"{"kind":"load","start":1,"end":2}"#).unwrap();
    let StreamRecord::Load(load) = old else {
        panic!("a load record")
    };
    assert_eq!(load.shard, None);
    let line = serde_json::to_string(&StreamRecord::Load(records::Load {
        shard: Some(Shard { index: 2, count: 3 }),
        ..load
    }))
    .unwrap();
    assert!(line.ends_with(r#","shard":"2/3"}"#), "{line}");
    // A whole run writes neither field, so its run record is what it was.
    let run = serde_json::to_string(&Summary::Run(Default::default())).unwrap();
    assert!(!run.contains("shard"), "{run}");
    let shard: Summary =
        serde_json::from_str(r#"{"kind":"run","start":1,"end":2,"duration_ns":1,"shard":"0/2"}"#)
            .unwrap();
    let Summary::Run(info) = shard else { panic!() };
    assert_eq!(info.shard, Some(Shard { index: 0, count: 2 }));
    assert!(serde_json::from_str::<Summary>(
        r#"{"kind":"run","start":1,"end":2,"duration_ns":1,"shard":"2/2"}"#
    )
    .is_err());
}

/// A flow's `iteration` record, as hammer writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct WireIteration {
    kind: String,
    ts: u64,
    flow: String,
    duration_ns: u64,
    lag_ns: u64,
    requests: u32,
    vu: u32,
    error: Option<String>,
    failed_step: Option<String>,
}

#[test]
fn iteration_records_have_exactly_their_documented_fields() {
    use records::event::StreamRecord;
    let doc = r#"{"kind":"iteration","ts":1764000000000000000,"flow":"login flow","duration_ns":48000000,"lag_ns":0,"requests":3,"vu":2,"error":"status","failed_step":"GET /dashboard"}"#;
    let record: StreamRecord = serde_json::from_str(doc).unwrap();
    let StreamRecord::Iteration(it) = &record else {
        panic!("an iteration record")
    };
    assert_eq!(it.response_ns(), 48_000_000);
    let line = String::from_utf8(record.line()).unwrap();
    assert!(line.ends_with('\n'));
    serde_json::from_str::<WireIteration>(line.trim_end()).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&line).unwrap(),
        serde_json::from_str::<serde_json::Value>(doc).unwrap()
    );
    // A flow's summary record is an endpoint's shape under its own kind.
    let flow: Summary = serde_json::from_str(
        &serde_json::to_string(&Summary::Endpoint(Stats::default()))
            .unwrap()
            .replace(r#""kind":"endpoint""#, r#""kind":"flow""#),
    )
    .unwrap();
    assert!(matches!(flow, Summary::Flow(_)));
}
