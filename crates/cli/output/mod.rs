//! Everything the commands print and draw: the step table, trace files, the
//! epoch lines and progress bar, JSON summaries, and plots. Commands call into here; no
//! command imports another.

pub mod classes;
pub mod epochs;
pub mod plot;
pub mod steps;
pub mod trace;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once stdout's reader has gone (`squiggle train … | head -1`): later output is dropped,
/// so the work goes on — a run keeps training and writing its run folder, trace and plots —
/// instead of stopping at its next line.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Runs `write` on stdout (flushed), unless its reader has gone; a closed pipe is not an error.
fn to_stdout(
    write: impl FnOnce(&mut std::io::StdoutLock<'_>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_GONE.store(true, Ordering::Relaxed);
            Ok(())
        }
        // Named, so `train > /dev/full` says where it could not write.
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to standard output")),
        Ok(()) => Ok(()),
    }
}

/// Writes `value` as one line of JSON on stdout.
///
/// # Errors
/// Stdout cannot be written (a closed pipe is not an error: see [`STDOUT_GONE`]).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    to_stdout(|out| writeln!(out, "{value}"))
}

/// Writes `lines` on stdout.
///
/// # Errors
/// Stdout cannot be written (a closed pipe is not an error: see [`STDOUT_GONE`]).
pub fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    to_stdout(|out| {
        for line in lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    })
}
