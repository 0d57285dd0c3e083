fn main() -> std::process::ExitCode {
    let args: pgwatch::Args = records::parse_args("pgwatch");
    records::finish("pgwatch", pgwatch::run(args))
}
