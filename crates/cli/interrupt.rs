//! Ctrl-C (SIGINT) and SIGTERM while a command writes files over time (`train`, `generate`,
//! `predict`).
//!
//! The first signal asks the work to stop at its next safe point — after the current
//! mini-batch or step, or the next row written — so that nothing is left half-written: a run
//! folder keeps its last whole epoch (and resumes from it exactly), an unfinished trace or
//! generated file is removed, and the command ends with one line and exit code 128 + the
//! signal (130, 143). A second signal exits at once; files are only ever replaced atomically,
//! so even then nothing is corrupted (a run folder's leftover temporary file is removed when
//! the run resumes).

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The signal received, 0 for none; set by the handlers.
static RECEIVED: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Installs the handlers (once; later calls do nothing).
///
/// # Errors
/// The operating system refused a handler.
pub fn install() -> anyhow::Result<()> {
    if RECEIVED.get().is_some() {
        return Ok(());
    }
    let received = Arc::new(AtomicUsize::new(0));
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::flag;
        let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so the first signal finds `seen` unset and only the second
            // exits at once.
            flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&seen))?;
            flag::register(signal, Arc::clone(&seen))?;
            flag::register_usize(signal, Arc::clone(&received), signal as usize)?;
        }
    }
    let _ = RECEIVED.set(received);
    Ok(())
}

/// The signal received since [`install`], if any.
pub fn requested() -> Option<i32> {
    let signal = RECEIVED.get()?.load(Ordering::Relaxed);
    (signal != 0).then_some(signal as i32)
}

/// The work stopped on a signal: `what` says where, and how to go on.
#[derive(Debug)]
pub struct Interrupted {
    /// The signal (2 for SIGINT, 15 for SIGTERM).
    pub signal: i32,
    /// Where the work stopped and what is kept, e.g. `interrupted in epoch 3 …`.
    pub what: String,
}

impl Interrupted {
    /// The exit code: 128 + the signal, as a shell reports a process the signal ended.
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(130)
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Interrupted {}
