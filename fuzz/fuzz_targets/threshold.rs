//! aggregate's `--threshold` expressions: parsed or refused, and a parsed
//! one checked against statistics.
#![no_main]

use aggregate::threshold::Threshold;
use libfuzzer_sys::fuzz_target;
use records::Stats;

fuzz_target!(|text: &str| {
    if let Ok(t) = Threshold::parse(text) {
        let total = Stats::default();
        let _ = t.check(&[], &[], &total);
        let _ = t.check(std::slice::from_ref(&total), &[], &total);
        // A name may be a flow's.
        let _ = t.check(&[], std::slice::from_ref(&total), &total);
    }
});
