//! Compare load-test summaries with sound statistics; fail CI on a real regression.

fn main() -> std::process::ExitCode {
    let matches = records::get_matches("compare", compare::cli::command());
    records::finish("compare", compare::run(&matches))
}
