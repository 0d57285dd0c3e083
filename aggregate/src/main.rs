use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = aggregate::cli::Args::parse();
    records::finish("aggregate", aggregate::run(args))
}
