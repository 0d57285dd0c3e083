//! Summary records (every kind, `pg` samples included) through the NDJSON
//! reader, their histograms decoded, then aggregate's `--merge` reader.
#![no_main]

use aggregate::tally::Tally;
use libfuzzer_sys::fuzz_target;
use records::{LineReader, Summary};

fuzz_target!(|data: &[u8]| {
    for skip in [false, true] {
        let mut reader = LineReader::new(data, "fuzz")
            .skip_invalid(skip)
            .max_line(4096);
        while let Some(item) = reader.next_record::<Summary>() {
            match item {
                Ok(Summary::Endpoint(stats)) | Ok(Summary::Total(stats)) => {
                    let _ = records::hist::decode(&stats.hist);
                    if let Some(h) = &stats.service_hist {
                        let _ = records::hist::decode(h);
                    }
                    let _ = stats.error_rate();
                }
                Ok(Summary::Interval(i)) => {
                    if let Some(h) = &i.hist {
                        let _ = records::hist::decode(h);
                    }
                }
                Ok(other) => {
                    let _ = format!("{other:?}");
                }
                Err(err) => {
                    assert!(!skip, "skip_invalid returned an error: {err}");
                    break;
                }
            }
        }
        let mut reader = LineReader::new(data, "fuzz")
            .skip_invalid(skip)
            .max_line(4096);
        let mut tally = Tally::new(1_000_000_000);
        let mut interval_from_input = true;
        let mut shards = aggregate::merge::Shards::default();
        let _ = aggregate::merge::read_summaries(
            &mut reader,
            &mut tally,
            &mut shards,
            &mut interval_from_input,
        );
        let _ = shards.check(None);
    }
});
