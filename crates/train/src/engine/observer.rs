//! Watching a run: one fallible observer for both modes.
//!
//! The training core calls the observer after every step, mini-batch and epoch; the observer
//! writes tables, traces, progress bars and checkpoints, and can stop the run. Its errors
//! (a file that cannot be written) end the run and come back to the caller unchanged.

use crate::engine::error::TrainError;
use crate::engine::record::StepRecord;
use crate::engine::report::{EpochReport, RunState};

/// Whether the run goes on after an observer has seen a step, a mini-batch or an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop now (the run ends with [`StopReason::Stopped`](crate::StopReason::Stopped)).
    Stop,
}

/// Progress within an epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchProgress {
    /// The epoch, 0-based.
    pub epoch: usize,
    /// Epochs in the run.
    pub epochs: usize,
    /// Training rows seen so far in this epoch.
    pub done: usize,
    /// Training rows per epoch.
    pub total: usize,
    /// The loss of the mini-batch just taken (before its step), when the observer asked for
    /// it with [`Observer::wants_batch_loss`].
    pub loss: Option<f64>,
}

/// Watches a run. Every method has a default that does nothing and goes on.
pub trait Observer {
    /// What the observer's own failures become; training failures convert into it.
    type Error: From<TrainError>;

    /// Whether training by epochs should record every mini-batch step (each costs a read of
    /// the loss, the gradient and the parameters). Step by step, every step is recorded.
    fn wants_steps(&self) -> bool {
        false
    }

    /// Whether the next mini-batch's loss should be read back (a sync with the device, so a
    /// progress bar asks only when it is about to redraw).
    fn wants_batch_loss(&mut self) -> bool {
        false
    }

    /// After each step.
    ///
    /// # Errors
    /// Whatever the observer could not do; the run stops.
    fn step(&mut self, _record: &StepRecord) -> Result<Flow, Self::Error> {
        Ok(Flow::Continue)
    }

    /// After each mini-batch of training by epochs.
    ///
    /// # Errors
    /// Whatever the observer could not do; the run stops.
    fn batch(&mut self, _progress: &BatchProgress) -> Result<Flow, Self::Error> {
        Ok(Flow::Continue)
    }

    /// After each epoch, with the state a checkpoint can be taken from.
    ///
    /// # Errors
    /// Whatever the observer could not do; the run stops.
    fn epoch(&mut self, _report: &EpochReport, _state: &RunState<'_>) -> Result<Flow, Self::Error> {
        Ok(Flow::Continue)
    }

    /// When the observer stopped a run by epochs inside an epoch (after a mini-batch), with
    /// the state a checkpoint can be taken from: resuming from it continues the epoch with its
    /// next batch, and the run ends as though it had never stopped.
    ///
    /// # Errors
    /// Whatever the observer could not do.
    fn paused(&mut self, _state: &RunState<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Keeps every step record and epoch report, and never stops a run.
#[derive(Clone, Debug, Default)]
pub struct Collect {
    /// Every step (step by step; by epochs only when [`Collect::steps_by_epochs`] is set).
    pub steps: Vec<StepRecord>,
    /// Every epoch's report.
    pub epochs: Vec<EpochReport>,
    /// Record mini-batch steps when training by epochs.
    pub steps_by_epochs: bool,
}

impl Observer for Collect {
    type Error = TrainError;

    fn wants_steps(&self) -> bool {
        self.steps_by_epochs
    }

    fn step(&mut self, record: &StepRecord) -> Result<Flow, TrainError> {
        self.steps.push(record.clone());
        Ok(Flow::Continue)
    }

    fn epoch(&mut self, report: &EpochReport, _: &RunState<'_>) -> Result<Flow, TrainError> {
        self.epochs.push(report.clone());
        Ok(Flow::Continue)
    }
}
