//! Backpropagation and gradient descent for [`squiggle_model::Network`]s.
//!
//! This crate owns the training loop of the lessons: full-batch gradient descent on an
//! autodiff [`Device`](burn::prelude::Device), with any subset of parameters frozen (down to a
//! single scalar inside a tensor), three stopping rules, and one [`StepRecord`] per step
//! carrying every number the lesson's step table shows. It also owns the finite-difference
//! gradient check that proves the autodiff derivatives right.
//!
//! For data sets beyond the lessons, [`fit`] trains by epochs of shuffled mini-batches with
//! Burn's SGD (momentum, weight decay, learning-rate schedules), validation metrics, early
//! stopping and checkpoints that resume exactly.
//!
//! It never chooses a backend: callers pass the device, and the loop calls `.autodiff()` on
//! it. Config files, output formats and flags belong to the CLI.

mod backprop;
mod chain;
mod checkpoint;
mod csv_file;
mod data;
mod error;
mod fit;
mod gradcheck;
mod loss;
mod metrics;
mod plan;
mod predict;
mod scaling;
mod split;
mod stopping;
mod synthetic;
mod trainer;

pub use backprop::{Backprop, Evaluation};
pub use chain::{ChainRule, Factor, chain_rules};
pub use checkpoint::{Checkpoint, CheckpointError, Progress};
pub use csv_file::{Columns, CsvError, read_csv, read_inputs};
pub use data::{DataError, Dataset};
pub use error::TrainError;
pub use fit::{
    EpochReport, FitObserver, FitOutcome, FitPlan, FitState, FitStop, Rows, Schedule, Splits,
    Start, fit,
};
pub use gradcheck::{GradCheck, central_difference, check_gradients, relative_error};
pub use loss::LossKind;
pub use metrics::{MetricSums, Metrics};
pub use plan::TrainPlan;
pub use predict::{PREDICT_CHUNK, predict};
pub use scaling::{ColumnScale, Scaling};
pub use split::{Split, shuffle_for_epoch};
pub use stopping::{StopReason, StopRules};
pub use synthetic::{dosage_curve, write_dosage};
pub use trainer::{Outcome, ParamStep, StepRecord, train};

#[cfg(test)]
mod fixtures;
