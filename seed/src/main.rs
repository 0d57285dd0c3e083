//! `seed`: create, log in and set up test users; print one User record each.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = seed::Args::parse();
    records::finish("seed", seed::run(args))
}
