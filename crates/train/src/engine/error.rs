//! The error of a run that started and could not finish ([`TrainError`]), and the quantity
//! a step computes that it names ([`Quantity`]).

use squiggle_model::ReadBack;
use thiserror::Error;

use crate::data::csv::error::CsvError;
use crate::engine::checkpoint::error::ResumeError;
use crate::foreign::Foreign;

/// A run that started but could not finish.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The loss or a derivative became NaN or infinite: gradient descent diverged (or, at
    /// step 0, before any update, the initial parameters were already out of range).
    #[error("{}", non_finite(*step, what, *value))]
    NonFinite {
        /// The step at which it was seen.
        step: usize,
        /// What became non-finite.
        what: Quantity,
        /// The value (NaN, inf or -inf).
        value: f64,
    },
    /// The loss rose a thousandfold while staying finite: gradient descent diverged.
    #[error(
        "the loss rose from {} to {} by step {step} (more than a thousandfold): gradient descent diverged; try a smaller learning_rate",
        Short(*from),
        Short(*to)
    )]
    Exploded {
        /// The step at which it was seen.
        step: usize,
        /// The loss before the first step.
        from: f64,
        /// The loss then.
        to: f64,
    },
    /// The loss on the training or validation rows became NaN or infinite during an epoch.
    #[error("the loss became {value} in epoch {epoch}; try a smaller learning_rate")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The value.
        value: f64,
    },
    /// A [`Stepper`](crate::Stepper) was asked to step a plan that trains by epochs.
    #[error("this plan trains by epochs; only a plan that trains step by step can be stepped")]
    NotStepByStep,
    /// An [`EpochRunner`](crate::EpochRunner) was asked to run a plan that trains step by
    /// step.
    #[error("this plan trains step by step; only a plan that trains by epochs runs by epochs")]
    NotByEpochs,
    /// A checkpoint could not be continued from.
    #[error("cannot resume: {0}")]
    Resume(#[from] ResumeError),
    /// A streamed file could not be read through in an epoch (it changed since training
    /// began, or a disk failed).
    #[error(transparent)]
    Stream(CsvError),
    /// A streamed run was asked of a plan that trains step by step.
    #[error("a streamed file trains by epochs; this plan trains step by step")]
    StreamByEpochs,
    /// The device could not hand a value back.
    #[error(transparent)]
    ReadBack(#[from] ReadBack),
    /// Burn could not serialise the model or the optimizer state into a checkpoint.
    #[error("cannot take a checkpoint: the {part} record does not serialise")]
    Snapshot {
        /// `model` or `optimizer`.
        part: &'static str,
        /// Burn's error.
        #[source]
        cause: Foreign,
    },
}

/// A number in a message: six significant digits, scientific beyond a million.
struct Short(f64);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
            write!(f, "{x:.5e}")
        } else {
            let digits = 5usize.saturating_sub(x.abs().log10().max(0.0) as usize);
            write!(f, "{x:.digits$}")
        }
    }
}

/// A quantity a step computes, named as the lesson's table names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantity {
    /// The loss.
    Loss,
    /// The derivative of the loss (`symbol`, e.g. `SSR`) with respect to one parameter.
    Derivative {
        /// The loss's symbol.
        loss: &'static str,
        /// The parameter's name.
        param: String,
    },
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quantity::Loss => f.write_str("the loss"),
            Quantity::Derivative { loss, param } => write!(f, "d{loss}/d{param}"),
        }
    }
}

/// The message of [`TrainError::NonFinite`]: at step 0 nothing has been updated yet, so the
/// learning rate cannot be at fault; the starting point is.
fn non_finite(step: usize, what: &Quantity, value: f64) -> String {
    if step == 0 {
        format!(
            "{what} is {value} at step 0, before any update: the initial parameters give it; check [model.init] and the initializer"
        )
    } else {
        format!("{what} became {value} at step {step}; try a smaller learning_rate")
    }
}
