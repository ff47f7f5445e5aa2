//! Errors of a training run that started.

use thiserror::Error;

/// A run that started but could not finish.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The loss or a derivative became NaN or infinite: gradient descent diverged.
    #[error("{what} became {value} at step {step}; try a smaller learning_rate")]
    NonFinite {
        /// The step at which it was seen.
        step: usize,
        /// What became non-finite (`the loss`, `dSSR/dw1`).
        what: String,
        /// The value (NaN, inf or -inf).
        value: f64,
    },
    /// The loss on the training or validation rows became NaN or infinite during an epoch.
    #[error("the loss became {value} in epoch {epoch}; try a smaller learning_rate")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The value.
        value: f64,
    },
    /// A checkpoint could not be resumed from.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// Burn refused the learning-rate schedule.
    #[error("learning-rate schedule: {0}")]
    Schedule(String),
}
