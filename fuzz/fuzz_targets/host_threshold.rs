//! hostwatch's `--threshold` expressions: parsed or refused, and a parsed
//! one checked against an empty run and a run of extreme samples.
#![no_main]

use hostwatch::tally::Tally;
use hostwatch::threshold::Threshold;
use libfuzzer_sys::fuzz_target;
use records::{HostSample, ProcessSample};

fuzz_target!(|text: &str| {
    if let Ok(t) = Threshold::parse(text) {
        let label = t.process.clone().unwrap_or_default();
        let mut tally = Tally::new(vec![label.clone()], None);
        let _ = t.check(&tally);
        for i in 0..4u64 {
            let host = HostSample {
                ts: u64::MAX - i,
                interval_ns: u64::MAX,
                cpu_permille: u32::MAX,
                mem_available_bytes: u64::MAX,
                ..HostSample::default()
            };
            let p = ProcessSample {
                ts: host.ts,
                watch: label.clone(),
                cpu_permille: u32::MAX,
                rss_bytes: u64::MAX / (i + 1),
                fds: Some(u32::MAX),
                ..ProcessSample::default()
            };
            tally.add(&host, &[p.clone(), p]);
        }
        let _ = t.check(&tally);
    }
});
