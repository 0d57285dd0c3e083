//! Compare load-test summaries with sound statistics; fail CI on a real regression.

fn main() -> std::process::ExitCode {
    let matches = compare::cli::command().get_matches();
    records::finish("compare", compare::run(&matches))
}
