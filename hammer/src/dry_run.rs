//! `hammer --dry-run -s FILE`: the scenario checked without a target
//! ([`records::lint`]); with `--users-file FILE`, the vars those users carry count
//! as made.

use std::collections::BTreeSet;

use records::{bad_input, lint, Exit, Scenario, User};

use crate::cli::Args;

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let file = args
        .scenario
        .as_ref()
        .expect("clap requires -s with --dry-run");
    let scenario = Scenario::load(file).map_err(|e| bad_input(e.to_string()))?;
    let mut known = BTreeSet::new();
    if let Some(path) = &args.users_file {
        let mut reader = records::ndjson::open(path)?;
        while let Some(user) = reader.next_record::<User>() {
            known.extend(user?.vars.into_keys());
        }
    }
    let problems = lint::check(&scenario, &known);
    if let Some(message) = lint::report(&scenario, &problems) {
        return Err(bad_input(message));
    }
    let what = lint::inventory(&scenario);
    if !args.quiet {
        eprintln!(
            "hammer: {}: OK: {} request{}, {} flow{} ({} steps), teardown {} step{}; every template renders",
            scenario.file,
            what.requests,
            plural(what.requests),
            what.flows,
            plural(what.flows),
            what.flow_steps,
            what.teardown_steps,
            plural(what.teardown_steps),
        );
    }
    Ok(Exit::Ok)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
