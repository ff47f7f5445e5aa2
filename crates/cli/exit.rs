//! How a command's error ends the process: 1 for a run that started and failed (it
//! diverged, a check found a problem, the device or the system let it down), 2 for anything
//! the user can fix in their input, and success for a closed pipe on stdout.

/// A check that ran and found a problem (a gradient check, an explanation whose three
/// derivatives disagree): exit code 1, like a diverged run.
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl std::fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// The compute threads could not be started (the system's reason): a run that failed
/// (exit 1), not bad input.
#[derive(Debug)]
pub struct ThreadsUnavailable(pub String);

impl std::fmt::Display for ThreadsUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot start the compute threads ({}); is a memory or process limit (ulimit -v, ulimit -u) too small?",
            self.0
        )
    }
}

impl std::error::Error for ThreadsUnavailable {}

/// 1 for a run that started and failed (divergence, a failed check, a device that could not
/// hand values back), 2 for everything a user can fix in their input.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    use squiggle_model::ReadBack;
    use squiggle_train::TrainError;
    if let Some(interrupted) = err.downcast_ref::<crate::interrupt::Interrupted>() {
        return interrupted.exit_code();
    }
    let failed_run = err.chain().any(|e| {
        // Every training error is a run that failed, but a checkpoint that does not fit the
        // config, which the user fixes.
        e.downcast_ref::<TrainError>()
            .is_some_and(|t| !matches!(t, TrainError::Resume(_)))
            || e.is::<ReadBack>()
            || e.is::<CheckFailed>()
            || e.is::<ThreadsUnavailable>()
    });
    if failed_run { 1 } else { 2 }
}

/// A closed pipe on stdout (`squiggle train … | head`) is not an error, as in other Unix tools.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_that_stops_answering_is_a_failed_run_not_bad_input() {
        let lost = squiggle_model::ReadBack {
            what: "the loss",
            reason: "device lost".into(),
        };
        assert_eq!(exit_code(&anyhow::Error::new(lost.clone())), 1);
        let wrapped = squiggle_train::TrainError::from(lost);
        assert_eq!(
            exit_code(&anyhow::Error::new(wrapped).context("training")),
            1
        );
        assert_eq!(exit_code(&anyhow::anyhow!("bad.toml:1:1: nope")), 2);
    }
}
