use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = hostwatch::Args::parse();
    records::finish("hostwatch", hostwatch::run(args))
}
