fn main() -> std::process::ExitCode {
    let args: tasktracker::Args = records::parse_args("tasktracker");
    records::finish("tasktracker", tasktracker::run(args))
}
