//! `hammer --check -s FILE`: the smoke test before the load. Every request
//! of the mix runs once, in scenario order, then every flow (those on VUs
//! of their own too; a repeating WebSocket send goes once), for the first
//! user, and
//! each request step gets a PASS or FAIL line with its reason; exit 1 if
//! anything failed. The requests are real (a DELETE deletes); a request
//! that picks from a list takes its newest value, so a delete after a create
//! removes what the check made, not the seeded data the load will use.
//! Events are written only with `-o FILE`.

use std::io::Write;
use std::sync::mpsc;
use std::sync::Arc;

use records::event::StreamRecord;
use records::units::format_ns;
use records::{Event, Exit};

use crate::mix::Entry;
use crate::sink;
use crate::vu::{Plan, SharedUser, Vu};

/// What the check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

/// Runs the check for `user` and prints its lines to stderr; `events`
/// receives the raw lines when asked for.
pub fn run(
    plan: &Arc<Plan>,
    user: Arc<SharedUser>,
    mut events: Option<Box<dyn Write + Send>>,
) -> anyhow::Result<Exit> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    sink::install(tx);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut tally = Tally::default();
    let mut vu: Vu = Vu::new(1, user, 1, 1, &plan.control);
    // A delete takes the newest ID (one the check itself created, where a
    // create came before it), so the users file still lists what exists.
    vu.newest = true;
    // A repeating WebSocket send goes once, so a subscriber's flow ends.
    vu.once = true;
    let flows = plan.mix.entries.iter().filter_map(|e| match e {
        Entry::Flow(flow) => Some(flow),
        Entry::Request(_) => None,
    });
    let requests = plan.mix.entries.iter().filter_map(|e| match e {
        Entry::Request(p) => Some(p),
        Entry::Flow(_) => None,
    });
    let steps = requests
        .map(Ok)
        .chain(flows.chain(&plan.dedicated).map(Err));
    for step in steps {
        match step {
            Ok(p) => {
                runtime.block_on(vu.request_step(plan, p, None, None));
            }
            Err(flow) => {
                eprintln!("flow {}:", flow.name);
                runtime.block_on(vu.run_flow(plan, flow, None));
            }
        }
        sink::flush();
        for batch in rx.try_iter() {
            if let Some(out) = events.as_mut() {
                out.write_all(&batch)?;
            }
            report(&batch, &mut tally);
        }
    }
    runtime.block_on(vu.close_sockets());
    sink::uninstall();
    if let Some(out) = events.as_mut() {
        out.flush()?;
    }
    eprintln!(
        "hammer: check: {} passed, {} failed",
        tally.passed, tally.failed
    );
    Ok(if tally.failed > 0 {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

/// Prints a line per event (a request step) and per flow iteration.
fn report(batch: &[u8], tally: &mut Tally) {
    for line in String::from_utf8_lossy(batch).lines() {
        if let Ok(e) = serde_json::from_str::<Event>(line) {
            let verdict = match &e.error {
                None => {
                    tally.passed += 1;
                    "PASS".to_string()
                }
                Some(kind) => {
                    tally.failed += 1;
                    let detail = e.detail.as_deref().unwrap_or_default();
                    format!("FAIL  {kind}: {detail}")
                }
            };
            let status = if e.status == 0 {
                "-".to_string()
            } else {
                e.status.to_string()
            };
            eprintln!(
                "  {:<44} {status:>4} {:>9}  {verdict}",
                e.name,
                format_ns(e.latency_ns as f64)
            );
        } else if let Ok(StreamRecord::Iteration(it)) = serde_json::from_str(line) {
            let verdict = match &it.failed_step {
                None => "PASS".to_string(),
                Some(step) => format!("FAIL  stopped at {step}"),
            };
            eprintln!(
                "  flow {} ({} requests, {})  {verdict}",
                it.flow,
                it.requests,
                format_ns(it.duration_ns as f64)
            );
        }
    }
}
