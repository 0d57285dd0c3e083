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
}

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

/// An `anyhow` error for an unreachable target or database (exit 3).
pub fn unreachable(message: impl Into<String>) -> anyhow::Error {
    Failure::new(Exit::Unreachable, message).into()
}

/// Whether the error is, somewhere in its chain, a closed output pipe: a normal end.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit code an error chain asks for; plain errors are bad input (2).
pub fn exit_of(err: &anyhow::Error) -> Exit {
    if is_broken_pipe(err) {
        return Exit::Ok;
    }
    err.chain()
        .find_map(|cause| {
            if let Some(f) = cause.downcast_ref::<Failure>() {
                Some(f.exit)
            } else {
                cause
                    .downcast_ref::<crate::InputError>()
                    .map(|_| Exit::BadInput)
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
}
