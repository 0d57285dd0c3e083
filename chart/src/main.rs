fn main() -> std::process::ExitCode {
    let args: chart::Args = records::parse_args("chart");
    records::finish("chart", chart::run(args))
}
