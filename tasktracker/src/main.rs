use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = tasktracker::Args::parse();
    records::finish("tasktracker", tasktracker::run(args))
}
