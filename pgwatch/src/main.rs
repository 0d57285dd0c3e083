use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = pgwatch::Args::parse();
    records::finish("pgwatch", pgwatch::run(args))
}
