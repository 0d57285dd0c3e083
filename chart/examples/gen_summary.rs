//! Writes a synthetic summary for `bench.sh` and for trying `chart` by hand.
//!
//! `cargo run --release -p chart --example gen_summary -- OUT.ndjson [INTERVALS] [ENDPOINTS] [LABEL] [SLOWER_MS] [NAME_LEN] [--pg]`
//!
//! With `--pg`, also writes matching PgSamples to `OUT.ndjson.pg.ndjson`.
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let pg = args.iter().any(|a| a == "--pg");
    args.retain(|a| a != "--pg");
    let Some(out) = args.first() else {
        eprintln!("usage: gen_summary OUT.ndjson [INTERVALS=3600] [ENDPOINTS=50] [LABEL] [SLOWER_MS=0] [NAME_LEN=0] [--pg]");
        std::process::exit(2);
    };
    let num =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let spec = common::Spec {
        intervals: num(1, 3600),
        endpoints: num(2, 50),
        label: args.get(3).cloned(),
        slower_ms: args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0.0),
        name_len: num(5, 0),
        requests: 20_000,
        ..common::Spec::default()
    };
    common::write(std::path::Path::new(out), &common::summary(&spec));
    if pg {
        let pg = format!("{out}.pg.ndjson");
        common::write(
            std::path::Path::new(&pg),
            &common::pg_samples(spec.intervals),
        );
    }
}
