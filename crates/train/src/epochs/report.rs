//! What an epoch reports.

use crate::{Confusion, Metrics, StopReason};

/// One epoch's results.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch just finished, 1-based.
    pub epoch: usize,
    /// Total epochs planned.
    pub epochs: usize,
    /// The learning rate it used.
    pub learning_rate: f64,
    /// The loss on the training split after the epoch (the plan's loss, in the units the
    /// network trains in).
    pub train_loss: f64,
    /// The same on the validation split.
    pub valid_loss: Option<f64>,
    /// Metrics on the training split, in original units.
    pub train: Metrics,
    /// Metrics on the validation split, in original units.
    pub valid: Option<Metrics>,
    /// A classifier's confusion matrix on the training split after the epoch.
    pub train_confusion: Option<Confusion>,
    /// The same on the validation split.
    pub valid_confusion: Option<Confusion>,
    /// Seconds spent on the epoch's updates (evaluation excluded).
    pub seconds: f64,
    /// Training rows per second over those updates.
    pub rows_per_second: f64,
    /// Whether this epoch has the best early-stopping loss so far.
    pub best: bool,
    /// Set on the last epoch of the run.
    pub stop: Option<StopReason>,
}
