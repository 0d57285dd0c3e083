//! Drive a realistic HTTP load from seeded users; one Event per request.
use clap::Parser;

fn main() -> std::process::ExitCode {
    records::finish("hammer", hammer::run(hammer::cli::Args::parse()))
}
