//! What an epoch reports to the [`Observer`](crate::Observer): its results, and the run's
//! state from which a checkpoint can be taken.

use crate::data::{Dataset, Scaling};
use crate::engine::StopReason;
use crate::engine::checkpoint::{Checkpoint, CheckpointMeta, NetworkMeta, Progress};
use crate::engine::error::TrainError;
use crate::engine::metrics::Metrics;
use crate::engine::trainer::Trainer;
use crate::inspect::Confusion;

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

/// The state of a run after an epoch, from which the observer can take a checkpoint.
pub struct RunState<'a> {
    pub(crate) trainer: &'a Trainer,
    pub(crate) progress: Progress,
    pub(crate) data: &'a Dataset,
    pub(crate) scaling: Option<&'a Scaling>,
}

impl RunState<'_> {
    /// A checkpoint of the run as it stands.
    ///
    /// # Errors
    /// A device that cannot hand the parameters back, or a record Burn cannot serialise.
    pub fn checkpoint(&self) -> Result<Checkpoint, TrainError> {
        let (model, optimizer) = self.trainer.records()?;
        Ok(Checkpoint {
            meta: CheckpointMeta {
                progress: self.progress.clone(),
                network: NetworkMeta::new(self.trainer.arch(), self.data, self.trainer.precision()),
                optimizer: *self.trainer.optimizer(),
                scaling: self.scaling.cloned(),
                data: Some(self.data.identity()),
            },
            model,
            optimizer,
            stale_optimizer_state: false,
        })
    }
}
