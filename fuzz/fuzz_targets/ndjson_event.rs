//! Events (hammer → aggregate) through the NDJSON reader and aggregate's
//! statistics pass, with and without `--skip-invalid`.
#![no_main]

use aggregate::tally::Tally;
use libfuzzer_sys::fuzz_target;
use records::{Event, LineReader};

fuzz_target!(|data: &[u8]| {
    for skip in [false, true] {
        let mut reader = LineReader::new(data, "fuzz")
            .skip_invalid(skip)
            .max_line(4096);
        while let Some(item) = reader.next_record::<Event>() {
            match item {
                Ok(event) => {
                    let _ = format!("{event:?}");
                }
                Err(err) => {
                    assert!(!skip, "skip_invalid returned an error: {err}");
                    break;
                }
            }
        }
        // The real consumer: aggregate's event reader into a tally.
        let mut reader = LineReader::new(data, "fuzz")
            .skip_invalid(skip)
            .max_line(4096);
        let mut tally = Tally::new(1_000_000_000);
        let _ = aggregate::events::read_events(&mut reader, &mut tally);
    }
});
