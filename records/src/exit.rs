//! Exit codes and the one place that turns a tool's result into one.

use std::io;

/// What a tool's exit status means (DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything fine.
    Ok = 0,
    /// The run worked but a check failed: a threshold broken, a regression found.
    CheckFailed = 1,
    /// Bad usage or bad input.
    BadInput = 2,
    /// The target or the database could not be reached.
    Unreachable = 3,
    /// The tool could not finish its own work: its output could not be
    /// written (disk full, no permission) or an internal fault (a worker
    /// thread died, a chart could not be drawn).
    Fault = 4,
}

/// The exit-status section every tool's `--help` ends with.
#[macro_export]
macro_rules! exit_status_help {
    () => {
        "Exit status (the same for every loadpipe tool):
  0    done; also after SIGINT/SIGTERM, or when stdout is closed (`| head`)
  1    the run worked but a check failed: a threshold, a regression, users not made
  2    bad usage or bad input; the message names the file, line and field
  3    the target or the database could not be reached
  4    the tool could not finish: its output could not be written (disk full, no
       permission) or an internal fault
  130  a second SIGINT stopped it at once"
    };
}

/// The exit-status section, for code that wants it as a value.
pub const EXIT_STATUS_HELP: &str = exit_status_help!();

/// An error that carries the exit code it should end the tool with.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

/// An `anyhow` error for bad usage or input (exit 2).
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    Failure::new(Exit::BadInput, message).into()
}

/// An `anyhow` error for a fault of the tool's own (exit 4).
pub fn fault(message: impl Into<String>) -> anyhow::Error {
    Failure::new(Exit::Fault, message).into()
}

/// An `anyhow` error for an unreachable target or database (exit 3).
pub fn unreachable(message: impl Into<String>) -> anyhow::Error {
    Failure::new(Exit::Unreachable, message).into()
}

/// Parses the command line, a mistake reported in the tools' one error
/// style, `TOOL: error: …` (exit 2), like every other error they print;
/// `--help` and `--version` print as usual.
pub fn parse_args<T: clap::Parser>(tool: &str) -> T {
    T::try_parse().unwrap_or_else(|e| usage_error(tool, e))
}

/// [`parse_args`] for a tool that builds its `clap::Command` by hand.
pub fn get_matches(tool: &str, command: clap::Command) -> clap::ArgMatches {
    command
        .try_get_matches()
        .unwrap_or_else(|e| usage_error(tool, e))
}

fn usage_error(tool: &str, e: clap::Error) -> ! {
    if !e.use_stderr() {
        e.exit();
    }
    // clap's text starts with `error: `, and ends with its `--help` hint.
    eprint!("{tool}: {}", e.render());
    std::process::exit(Exit::BadInput as i32)
}

/// Whether the error is, somewhere in its chain, a closed output pipe: a normal end.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit code an error chain asks for: a [`Failure`]'s own code; bad
/// input (2) for an input error; a fault (4) for a failed write (an I/O
/// error that is not about input: input errors carry theirs as text); and
/// bad input (2) for any other plain error, as those describe usage.
pub fn exit_of(err: &anyhow::Error) -> Exit {
    if is_broken_pipe(err) {
        return Exit::Ok;
    }
    err.chain()
        .find_map(|cause| {
            if let Some(f) = cause.downcast_ref::<Failure>() {
                Some(f.exit)
            } else if cause.downcast_ref::<crate::InputError>().is_some() {
                Some(Exit::BadInput)
            } else if cause.downcast_ref::<io::Error>().is_some() {
                Some(Exit::Fault)
            } else {
                None
            }
        })
        .unwrap_or(Exit::BadInput)
}

/// Ends a tool: prints the error (if any) on stderr as `tool: message` and
/// returns the matching exit code. A closed stdout ends quietly with 0.
pub fn finish(tool: &str, result: anyhow::Result<Exit>) -> std::process::ExitCode {
    let code = match result {
        Ok(exit) => exit,
        Err(err) => {
            let exit = exit_of(&err);
            if exit != Exit::Ok {
                eprintln!("{tool}: error: {err:#}");
            }
            exit
        }
    };
    std::process::ExitCode::from(code as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_a_normal_end() {
        let err =
            anyhow::Error::from(io::Error::from(io::ErrorKind::BrokenPipe)).context("writing");
        assert_eq!(exit_of(&err), Exit::Ok);
    }

    #[test]
    fn failures_keep_their_code_under_context() {
        let err = unreachable("no server at 127.0.0.1:9").context("seeding");
        assert_eq!(exit_of(&err), Exit::Unreachable);
        assert_eq!(exit_of(&anyhow::anyhow!("plain")), Exit::BadInput);
    }

    #[test]
    fn a_failed_write_is_a_fault_and_bad_input_stays_bad_input() {
        let full = anyhow::Error::from(io::Error::from_raw_os_error(28)).context("writing x");
        assert_eq!(exit_of(&full), Exit::Fault);
        let missing = crate::InputError::Io {
            source_name: "x".into(),
            err: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(exit_of(&anyhow::Error::from(missing)), Exit::BadInput);
        assert_eq!(exit_of(&fault("a worker died")), Exit::Fault);
        assert!(EXIT_STATUS_HELP.contains("\n  4 "));
    }
}
