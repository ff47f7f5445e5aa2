//! The one training core that both modes build on: the trainer (`trainer.rs`: network on the
//! device, optimizer, freezing), losses, the [`Observer`](crate::Observer) and what it is told
//! (step records, epoch reports, the run's state and its checkpoints, metrics), and the one
//! [`Outcome`] vocabulary every run ends with.
//!
//! The two modes are two schedules over the same step, above this folder: `steps/` takes
//! full-batch steps until a stopping rule fires (the lessons), `epochs/` takes mini-batch steps
//! epoch after epoch; `run.rs` ([`train`](crate::train)) picks one.

pub(crate) mod checkpoint;
pub(crate) mod error;
pub(crate) mod freeze;
pub(crate) mod kernels;
pub(crate) mod loss;
pub(crate) mod metrics;
pub(crate) mod observer;
pub(crate) mod optim;
pub(crate) mod optim_record;
pub(crate) mod params;
pub(crate) mod record;
pub(crate) mod report;
pub(crate) mod trainer;
pub(crate) mod updater;

use std::fmt;

use crate::engine::error::{Quantity, TrainError};
use crate::engine::report::EpochReport;

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
    /// Step by step: the loss or a derivative stopped being finite, or the loss rose a
    /// thousandfold ([`Divergence`] says which).
    Diverged,
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
            StopReason::Diverged => "diverged",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Below this R², a fit is no better than predicting each target's mean: a run that stops
/// there has stalled, not converged.
pub const STALLED_R2: f64 = 0.1;

/// A loss this many times its starting value means gradient descent diverged, even while
/// it is still finite.
pub const EXPLOSION: f64 = 1e3;

/// What a run achieved, whatever rule stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A convergence rule fired (`min_step_size`, `target_loss`, early stopping) with a fit
    /// better than the mean.
    Converged,
    /// A convergence rule fired while the fit was no better than the mean (R² below
    /// [`STALLED_R2`]): the steps had become small, not the loss.
    Stalled,
    /// The loss or a derivative stopped being finite, or the loss rose [`EXPLOSION`]-fold.
    Diverged,
    /// Every planned step or epoch ran (or the caller stopped the run).
    Finished,
}

impl Verdict {
    /// Its name in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Converged => "converged",
            Verdict::Stalled => "stalled",
            Verdict::Diverged => "diverged",
            Verdict::Finished => "finished",
        }
    }

    /// The verdict of a run that stopped by `stop` with a final R² of `r2` (when the data
    /// has one).
    pub fn of(stop: StopReason, r2: Option<f64>) -> Self {
        let fitted = r2.is_none_or(|r2| r2 >= STALLED_R2);
        match stop {
            StopReason::Diverged => Verdict::Diverged,
            StopReason::MinStepSize | StopReason::TargetLoss | StopReason::EarlyStopping { .. } => {
                if fitted {
                    Verdict::Converged
                } else {
                    Verdict::Stalled
                }
            }
            StopReason::MaxSteps | StopReason::Epochs | StopReason::Stopped => Verdict::Finished,
        }
    }
}

/// How a run diverged.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The step (0-based) at which it was seen.
    pub step: usize,
    /// What happened.
    pub cause: Cause,
}

/// What diverged.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// The loss or a derivative became NaN or infinite.
    NonFinite {
        /// Which.
        what: Quantity,
        /// The value.
        value: f64,
    },
    /// The loss rose [`EXPLOSION`]-fold from its start while staying finite.
    Exploded {
        /// The loss before the first step.
        from: f64,
        /// The loss at the step it was seen.
        to: f64,
    },
}

impl Divergence {
    /// The error a command reports for it (exit 1).
    pub fn error(&self) -> TrainError {
        match &self.cause {
            Cause::NonFinite { what, value } => TrainError::NonFinite {
                step: self.step,
                what: what.clone(),
                value: *value,
            },
            Cause::Exploded { from, to } => TrainError::Exploded {
                step: self.step,
                from: *from,
                to: *to,
            },
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The rule that ended the run.
    pub stop: StopReason,
    /// What the run achieved.
    pub verdict: Verdict,
    /// Updates applied by this run.
    pub steps: usize,
    /// Every parameter at the end, flat order (frozen ones unchanged); after a divergence,
    /// the last parameters whose loss was finite.
    pub params: Vec<f64>,
    /// What the mode adds.
    pub summary: Summary,
}

/// What a run reports, by mode.
#[derive(Clone, Debug, PartialEq)]
pub enum Summary {
    /// Step by step.
    Steps(StepsSummary),
    /// By epochs.
    Epochs(Box<EpochsSummary>),
}

/// The end of a run step by step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepsSummary {
    /// The loss on all the rows before the first step.
    pub initial_loss: f64,
    /// The loss at the final parameters ([`Outcome::params`]).
    pub final_loss: f64,
    /// The lowest loss seen before a step, and that step (0-based): when it is below the
    /// final loss, the steps have been oscillating or climbing.
    pub best: Option<(f64, usize)>,
    /// The highest loss seen before a step, and that step: above the initial loss, the steps
    /// overshot on the way (which can push units where they stop responding).
    pub peak: Option<(f64, usize)>,
    /// R² of the final parameters on the training rows (`None` when the targets do not vary).
    pub r2: Option<f64>,
    /// How the run diverged, if it did.
    pub divergence: Option<Divergence>,
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
    /// The epoch whose loss stopped being finite, if one did: the run ended before it, at the
    /// parameters of the last epoch ([`EpochsSummary::last`]), or its start.
    pub divergence: Option<EpochDivergence>,
}

/// An epoch after which the loss of the training or validation rows was NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochDivergence {
    /// The epoch (1-based).
    pub epoch: usize,
    /// The loss it ended with.
    pub value: f64,
}

impl Outcome {
    /// The step-by-step summary, when the run trained step by step.
    pub fn steps_summary(&self) -> Option<&StepsSummary> {
        match &self.summary {
            Summary::Steps(summary) => Some(summary),
            Summary::Epochs(_) => None,
        }
    }

    /// The step-by-step losses (initial, final), when the run trained step by step.
    pub fn losses(&self) -> Option<(f64, f64)> {
        self.steps_summary().map(|s| (s.initial_loss, s.final_loss))
    }

    /// The epoch summary, when the run trained by epochs.
    pub fn epochs(&self) -> Option<&EpochsSummary> {
        match &self.summary {
            Summary::Steps { .. } => None,
            Summary::Epochs(summary) => Some(summary),
        }
    }

    /// The error a command reports after showing a run that diverged (exit 1), in either
    /// mode; `None` for a run that did not.
    pub fn divergence_error(&self) -> Option<TrainError> {
        match &self.summary {
            Summary::Steps(s) => s.divergence.as_ref().map(Divergence::error),
            Summary::Epochs(s) => s.divergence.map(|d| TrainError::Diverged {
                epoch: d.epoch,
                value: d.value,
            }),
        }
    }
}
