//! The one training core: [`train`] runs a [`TrainPlan`] in either mode through the same
//! trainer (`trainer.rs`: network on the device, optimizer, freezing), reports to one
//! [`Observer`], and ends with one [`Outcome`] vocabulary.
//!
//! The two modes are two schedules over the same step: `steps/` takes full-batch steps until
//! a stopping rule fires (the lessons), `epochs/` takes mini-batch steps epoch after epoch.

pub(crate) mod freeze;
pub(crate) mod loss;
pub(crate) mod observer;
pub(crate) mod optim;
pub(crate) mod record;
pub(crate) mod trainer;

use std::fmt;

use burn::prelude::Device;
use squiggle_model::Architecture;

use crate::data::Prepared;
use crate::epochs::{Checkpoint, EpochReport};
use crate::plan::Mode;
use crate::{Observer, ResumeError, TrainError, TrainPlan};

/// Where training starts from.
#[derive(Clone, Debug)]
pub enum Start {
    /// Initial parameters, flat order.
    Fresh(Vec<f64>),
    /// A checkpoint of an earlier run with the same plan (training by epochs only).
    Resume(Box<Checkpoint>),
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// Step by step: `max_steps` steps were taken.
    MaxSteps,
    /// Step by step: every step size fell below `min_step_size`.
    MinStepSize,
    /// Step by step: the loss reached `target_loss`.
    TargetLoss,
    /// By epochs: every planned epoch ran.
    Epochs,
    /// By epochs: `patience` epochs passed without a better early-stopping loss.
    EarlyStopping {
        /// The epoch (1-based) with the best loss.
        best_epoch: usize,
    },
    /// The observer stopped the run.
    Stopped,
}

impl StopReason {
    /// The rule's name, as in config files and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::MaxSteps => "max_steps",
            StopReason::MinStepSize => "min_step_size",
            StopReason::TargetLoss => "target_loss",
            StopReason::Epochs => "epochs",
            StopReason::EarlyStopping { .. } => "early_stopping",
            StopReason::Stopped => "stopped",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The rule that ended the run.
    pub stop: StopReason,
    /// Updates applied by this run.
    pub steps: usize,
    /// Every parameter at the end, flat order (frozen ones unchanged).
    pub params: Vec<f64>,
    /// What the mode adds.
    pub summary: Summary,
}

/// The losses a run reports, by mode.
#[derive(Clone, Debug, PartialEq)]
pub enum Summary {
    /// Step by step: the loss on all the data before the first step and after the last.
    Steps {
        /// At the initial parameters.
        initial_loss: f64,
        /// At the final parameters.
        final_loss: f64,
    },
    /// By epochs.
    Epochs(Box<EpochsSummary>),
}

/// The end of a run by epochs.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochsSummary {
    /// Epochs completed in all (including those before a resume).
    pub epochs: usize,
    /// The last epoch's report (`None` when a resumed run had nothing left to do).
    pub last: Option<EpochReport>,
    /// The best early-stopping loss and its epoch (1-based).
    pub best: Option<(f64, usize)>,
    /// The report of that epoch, when this run ran it (its parameters are the ones the best
    /// checkpoint holds).
    pub best_report: Option<EpochReport>,
}

impl Outcome {
    /// The step-by-step losses, when the run trained step by step.
    pub fn losses(&self) -> Option<(f64, f64)> {
        match self.summary {
            Summary::Steps {
                initial_loss,
                final_loss,
            } => Some((initial_loss, final_loss)),
            Summary::Epochs(_) => None,
        }
    }

    /// The epoch summary, when the run trained by epochs.
    pub fn epochs(&self) -> Option<&EpochsSummary> {
        match &self.summary {
            Summary::Steps { .. } => None,
            Summary::Epochs(summary) => Some(summary),
        }
    }
}

/// Trains `arch` on `data` as `plan` says, on `device` (the core calls `.autodiff()` on it),
/// from `start`, telling `observer` about every step, mini-batch and epoch.
///
/// The gradients always come from Burn's autodiff; the same start, data, plan and backend
/// give the same numbers. Training by epochs leaves `data`'s training rows in the order of
/// the last epoch.
///
/// # Errors
/// [`TrainError::NonFinite`] or [`TrainError::Diverged`] when the loss or a derivative stops
/// being finite, [`TrainError::Resume`] for a checkpoint that does not fit the plan (or a
/// resume step by step, which keeps no checkpoints), a device failure, or the observer's own
/// error.
pub fn train<O: Observer>(
    arch: &Architecture,
    start: Start,
    data: &mut Prepared,
    plan: &TrainPlan,
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    match plan.mode() {
        Mode::Steps(rules) => {
            let Start::Fresh(values) = start else {
                return Err(TrainError::Resume(ResumeError::StepByStep).into());
            };
            crate::steps::run(arch, &values, data, plan, rules, device, observer)
        }
        Mode::Epochs(epochs) => {
            crate::epochs::run(arch, start, data, plan, epochs, device, observer)
        }
    }
}
