fn main() -> std::process::ExitCode {
    let args: hostwatch::Args = records::parse_args("hostwatch");
    records::finish("hostwatch", hostwatch::run(args))
}
