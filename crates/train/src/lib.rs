//! Backpropagation and gradient descent for [`squiggle_model::Network`]s.
//!
//! One training core ([`train`]) runs both ways to train through the same step — a forward
//! and backward pass on Burn's autodiff, then the [`Optimizer`]'s update with frozen scalars
//! kept — and reports to one [`Observer`]. [`Kernels`] say what computes the passes: Burn's
//! autodiff of the module (the reference), or squiggle's fused kernels (the default, checked
//! against it):
//! - **step by step** (the lessons): full-batch steps until a [`StopRules`] rule fires, one
//!   [`StepRecord`] per step carrying every number of the lesson's table;
//! - **by epochs** (data sets): shuffled mini-batches, validation, learning-rate schedules,
//!   early stopping, metrics in original units and checkpoints that resume exactly.
//!
//! The folders follow that design:
//! - `plan/`: [`Settings`] as a config gives them, checked into a [`TrainPlan`];
//! - `engine/`: the training core both modes build on: the trainer, [`Optimizer`]s,
//!   freezing, losses, the [`Observer`] and what it is told (step records, [`EpochReport`]s,
//!   the [`RunState`] and its [`Checkpoint`]s, metrics), and outcomes;
//! - `steps/` and `epochs/`: the two modes, on the engine;
//! - `run.rs`: the [`train`] entry point above both, which picks the plan's mode;
//! - `data/`: [`DataSource`]s, [`Dataset`]s, splits, standardisation, [`Prepared`] data;
//! - `inspect/`: the gradient probe, the chain rule written out, gradient checks,
//!   predictions and metrics;
//! - [`export`]: a trained network as safetensors (PyTorch's layout) or JSON;
//! - [`format`](mod@format): numbers and parameter listings as every output writes them (the CLI's
//!   tables, the playground's page);
//! - [`bench`](mod@bench): the core timed on fixed work beside a plain-Rust baseline;
//! - [`fuzz`]: seeded mutated inputs for the robustness tests of every reader;
//! - [`panics`]: the panics a call expects, caught as errors and kept quiet.
//!
//! Modules import each other by their paths (`crate::engine::loss::LossKind`), never through
//! the re-exports below, which are the crate's public face: so the imports show which way the
//! layers depend, and no two modules import each other.
//!
//! It never chooses a backend: callers pass the device, and the core calls `.autodiff()` on
//! it. Config files belong to `squiggle-config`, flags and output to the CLI.

#![forbid(unsafe_code)]

pub mod bench;
mod bytes;
mod data;
mod engine;
mod epochs;
pub mod export;
mod foreign;
pub mod format;
pub mod fuzz;
mod inspect;
pub mod panics;
mod plan;
mod run;
mod steps;

pub use steps::Stepper;

pub use crate::bench::BenchError;
pub use crate::bytes::{Bytes, Thousands};
pub use crate::engine::checkpoint::{CheckpointError, ResumeError};
pub use crate::engine::error::{Quantity, TrainError};
pub use crate::engine::kernels::Kernels;
pub use crate::engine::loss::{LossKind, Reduction, argmax, log_sum_exp, softmax};
pub use crate::engine::observer::{BatchProgress, Collect, Flow, Observer};
pub use crate::engine::optim::{Optimizer, OptimizerKind};
pub use crate::engine::record::{Batch, ParamStep, StepRecord};
pub use crate::engine::{
    Cause, Divergence, EXPLOSION, EpochDivergence, EpochsSummary, Outcome, STALLED_R2,
    StepsSummary, StopReason, Summary, Verdict,
};
pub use crate::foreign::{Foreign, full_message};
pub use crate::run::train;
pub use data::{
    Categorical, ClassNamesError, Classes, ColumnScale, Columns, CompiledIn, CsvError, CsvOptions,
    CsvProblem, CsvWindows, DataError, DataIdentity, DataSource, Dataset, Discovered, Encoding,
    Gaps, Labels, LoadError, MAX_CLASSES, MAX_LINE_BYTES, Missing, Prepared, STDIN, Scaling,
    ShuffleBuffer, Split, Stream, StreamScaling, UnknownLabel, dosage_curve, dosage_dataset,
    open_text, read_csv, read_inputs, shuffle_for_epoch, write_dosage,
};
pub use engine::checkpoint::{Checkpoint, CheckpointMeta, NetworkMeta, Progress, Start, Within};
pub use engine::metrics::{MetricSums, Metrics, RunningSums};
pub use engine::report::{EpochReport, RunState};
pub use epochs::{BatchStep, EpochRunner, train_stream};
pub use inspect::{
    Backprop, ChainRule, Confusion, Evaluation, Explained, Factor, GradCheck, Measured,
    PREDICT_CHUNK, Predictor, Residuals, central_difference, chain_rules, check_gradients,
    confusion, explain, kinks, measure, observed_and_predicted, predict, relative_error, tolerance,
};
pub use plan::{
    CheckedSettings, EpochPlan, Mode, ModeKind, PlanError, Problem, Schedule, ScheduleKind,
    Setting, Settings, StopRules, TrainMetrics, TrainPlan,
};

#[cfg(test)]
mod fixtures;
