//! The table output, pinned. After an intended change, regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p aggregate --test snapshot` and review the diff.

mod common;

use common::*;
use records::Event;

/// Two endpoints, a few errors, some late sends (so both the corrected
/// response time and the service time are shown), a broken threshold.
fn events() -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..200u64 {
        let mut e = event(
            T0 + i * 20_000_000,
            "GET /api/v1/tasks/{id}",
            800_000 + (i * 7919 % 100) * 40_000,
        );
        e.vu = (i % 10) as u32;
        if i % 50 == 0 {
            e.lag_ns = 30_000_000;
        }
        events.push(e);
        if i % 4 == 0 {
            let mut p = event(
                T0 + i * 20_000_000 + 5,
                "POST /api/v1/tasks",
                600_000_000 + (i * 104_729 % 50) * 4_000_000,
            );
            p.status = 201;
            p.vu = (i % 10) as u32;
            if i % 40 == 0 {
                p.error = Some("timeout".into());
                p.status = 0;
            }
            events.push(p);
        }
    }
    events
}

#[test]
fn table_output_is_pinned() {
    let out = run(
        &[
            "--format",
            "table",
            "--label",
            "snapshot",
            "--threshold",
            "p95<500ms",
            "--threshold",
            "error_rate<5%",
        ],
        &to_ndjson(&events()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/table.txt");
    records::testkit::assert_snapshot(&path, &table);
}
