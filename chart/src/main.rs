use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = chart::Args::parse();
    records::finish("chart", chart::run(args))
}
