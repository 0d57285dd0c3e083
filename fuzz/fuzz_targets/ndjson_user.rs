//! Users (seed → hammer) through the NDJSON reader, with and without
//! `--skip-invalid`: every line is a record or a line-numbered error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use records::{LineReader, User};

fuzz_target!(|data: &[u8]| {
    for skip in [false, true] {
        let mut reader = LineReader::new(data, "fuzz")
            .skip_invalid(skip)
            .max_line(4096);
        while let Some(item) = reader.next_record::<User>() {
            match item {
                Ok(user) => {
                    let _ = format!("{user:?}");
                }
                Err(err) => {
                    assert!(!skip, "skip_invalid returned an error: {err}");
                    let _ = err.to_string();
                    break;
                }
            }
        }
        let _ = (reader.line_number(), reader.skipped(), reader.first_skip());
    }
});
