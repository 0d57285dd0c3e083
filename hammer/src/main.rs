//! Drive a realistic HTTP load from seeded users; one Event per request.

fn main() -> std::process::ExitCode {
    records::finish("hammer", hammer::run(records::parse_args("hammer")))
}
