//! `seed`: create, log in and set up test users; print one User record each.

fn main() -> std::process::ExitCode {
    let args: seed::Args = records::parse_args("seed");
    records::finish("seed", seed::run(args))
}
