//! Writes a synthetic summary for `bench.sh` and for trying `chart` by hand.
//!
//! `cargo run --release -p chart --example gen_summary -- OUT.ndjson [INTERVALS] [ENDPOINTS] [LABEL] [SLOWER_MS]`
#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen_summary OUT.ndjson [INTERVALS=3600] [ENDPOINTS=50] [LABEL] [SLOWER_MS=0]");
        std::process::exit(2);
    };
    let num = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let spec = common::Spec {
        intervals: num(1, 3600),
        endpoints: num(2, 50),
        label: args.get(3).cloned(),
        slower_ms: args.get(4).and_then(|s| s.parse().ok()).unwrap_or(0.0),
        requests: 20_000,
        ..common::Spec::default()
    };
    common::write(std::path::Path::new(out), &common::summary(&spec));
    if args.get(5).is_some_and(|s| s == "--pg") {
        let pg = format!("{out}.pg.ndjson");
        common::write(std::path::Path::new(&pg), &common::pg_samples(spec.intervals));
    }
}
