//! Scenario files (TOML) on arbitrary UTF-8: parsed or refused with a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use records::Scenario;

fuzz_target!(|text: &str| {
    match Scenario::parse(text, "fuzz.toml") {
        Ok(scenario) => {
            let _ = scenario.target(None);
            let _ = scenario.target(Some("http://127.0.0.1:1"));
            let _ = format!("{scenario:?}");
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
});
