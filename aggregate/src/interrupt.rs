//! SIGINT and SIGTERM while reading. In `seed | hammer | aggregate` a Ctrl-C
//! reaches all three; hammer then writes the events still in flight and
//! closes its stdout. Dying at once would lose the whole summary, so the
//! first signal is only noted and aggregate reads on to the end of its input
//! (which upstream is about to close); a second one ends it at once (130),
//! for an upstream that never closes.

use anyhow::Context as _;
use tokio::signal::unix::{signal, SignalKind};

/// Catches SIGINT/SIGTERM from now on (on return the handlers are installed).
pub fn watch() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal watcher")?;
    let (mut interrupt, mut terminate) = {
        let _inside = runtime.enter();
        (
            signal(SignalKind::interrupt()).context("cannot watch SIGINT")?,
            signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
        )
    };
    std::thread::spawn(move || {
        runtime.block_on(async {
            for n in 0.. {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
                if n > 0 {
                    std::process::exit(130);
                }
                eprintln!(
                    "aggregate: stopping: reading the events still coming \
                     (a second signal stops at once, without output)"
                );
            }
        });
    });
    Ok(())
}
