//! Backpropagation and gradient descent for [`squiggle_model::Network`]s.
//!
//! This crate owns the training loop of the lessons: full-batch gradient descent on an
//! autodiff [`Device`](burn::prelude::Device), with any subset of parameters frozen (down to a
//! single scalar inside a tensor), three stopping rules, and one [`StepRecord`] per step
//! carrying every number the lesson's step table shows. It also owns the finite-difference
//! gradient check that proves the autodiff derivatives right.
//!
//! It never chooses a backend: callers pass the device, and the loop calls `.autodiff()` on
//! it. Config files, output formats and flags belong to the CLI.

mod backprop;
mod chain;
mod csv_file;
mod data;
mod error;
mod gradcheck;
mod loss;
mod plan;
mod stopping;
mod synthetic;
mod trainer;

pub use backprop::{Backprop, Evaluation};
pub use chain::{ChainRule, Factor, chain_rules};
pub use csv_file::{Columns, CsvError, read_csv};
pub use data::{DataError, Dataset};
pub use error::TrainError;
pub use gradcheck::{GradCheck, central_difference, check_gradients, relative_error};
pub use loss::LossKind;
pub use plan::TrainPlan;
pub use stopping::{StopReason, StopRules};
pub use synthetic::{dosage_curve, write_dosage};
pub use trainer::{Outcome, ParamStep, StepRecord, train};

#[cfg(test)]
mod fixtures;
