//! Writes synthetic Events for benchmarks and tests: `gen_events COUNT
//! [ENDPOINTS] [SECONDS] [SEED]` → NDJSON on stdout.
//!
//! Latencies are log-normal-ish per endpoint (each endpoint has its own
//! median), 1% of requests fail, and the events are spread evenly over
//! SECONDS (default 600), as hammer would write them.

use std::io::{self, BufWriter, Write};

use rand::{rngs::SmallRng, Rng, SeedableRng};

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut next = |default: u64| {
        args.next()
            .map(|a| a.parse::<u64>().expect("numeric argument"))
            .unwrap_or(default)
    };
    let count = next(1_000_000);
    let endpoints = next(50).max(1);
    let seconds = next(600).max(1);
    let seed = next(1);

    let mut rng = SmallRng::seed_from_u64(seed);
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let names: Vec<(String, &str, f64)> = (0..endpoints)
        .map(|i| {
            let method = methods[i as usize % methods.len()];
            let median_ns = 200_000.0 * (1.0 + (i % 17) as f64);
            (
                format!("{method} /api/v1/resource{i}/{{id}}"),
                method,
                median_ns,
            )
        })
        .collect();
    let start: u64 = 1_764_000_000_000_000_000;
    let step = seconds * 1_000_000_000 / count.max(1);
    let out = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, out.lock());
    for n in 0..count {
        let (name, method, median) = &names[rng.gen_range(0..names.len())];
        // exp(N(0, 0.5)) via a sum of uniforms: cheap and skewed like latencies.
        let z: f64 = (0..4).map(|_| rng.gen::<f64>()).sum::<f64>() - 2.0;
        let latency = (median * (z * 0.87).exp()) as u64;
        let failed = rng.gen_ratio(1, 100);
        let (status, error) = if failed {
            (500, "\"status\"")
        } else {
            (200, "null")
        };
        writeln!(
            out,
            "{{\"ts\":{},\"name\":\"{name}\",\"method\":\"{method}\",\"status\":{status},\"latency_ns\":{latency},\"lag_ns\":0,\"bytes_in\":{},\"bytes_out\":0,\"vu\":{},\"error\":{error}}}",
            start + n * step + rng.gen_range(0..step.max(1)),
            rng.gen_range(200..2000),
            rng.gen_range(1..=100),
        )?;
    }
    out.flush()
}
