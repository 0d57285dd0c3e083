fn main() -> std::process::ExitCode {
    let args: aggregate::cli::Args = records::parse_args("aggregate");
    records::finish("aggregate", aggregate::run(args))
}
