//! A training setting that cannot be run ([`PlanError`]), and what is wrong with it
//! ([`Problem`]).

use squiggle_model::Named;
use thiserror::Error;

use crate::engine::optim::OptimizerKind;
use crate::plan::schedule::ScheduleKind;
use crate::plan::settings::Setting;

/// A training setting that cannot be run, and which one.
///
/// The caller knows where the setting came from (a file position, a flag) and prefixes it.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{}", self.message())]
pub struct PlanError {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong with it.
    pub problem: Problem,
}

impl PlanError {
    fn message(&self) -> String {
        let key = self.setting.key();
        match &self.problem {
            Problem::OutOfRange { wanted, got } => format!("`{key}` must be {wanted}, got {got}"),
            Problem::Zero => format!("`{key}` must be at least 1"),
            Problem::NeedsEpochs => {
                format!("`{key}` needs `epochs` in [train]: it applies to training by epochs")
            }
            Problem::StepsOnly => format!(
                "`{key}` is a rule of step-by-step training; with `epochs`, use `patience` to stop early"
            ),
            Problem::NeedsSchedule(kind) => {
                format!("`{key}` applies to `schedule = \"{}\"`", kind.name())
            }
            Problem::NeedsOptimizer(kind) => {
                format!("`{key}` applies to `optimizer = \"{}\"`", kind.name())
            }
            Problem::StepScheduleNeedsEvery => {
                "`schedule = \"step\"` needs `step_every` (epochs, or steps step by step, between decays)".to_string()
            }
            Problem::Schedule(reason) => format!("learning-rate schedule: {reason}"),
            Problem::TwoValidations => {
                "[data] takes `valid_fraction` or `valid_csv`, not both".to_string()
            }
            Problem::NothingTrainable => "`trainable` is empty; name at least one parameter (use `squiggle eval` to run without training)".to_string(),
            Problem::TwoScalings => {
                "[data] takes `standardize` or `rescale`, not both".to_string()
            }
            Problem::ReductionNeedsCrossEntropy => {
                format!("`{key}` applies to `loss = \"cross_entropy\"`")
            }
            Problem::MaskLength { got, want } => {
                format!("`{key}` has {got} entries; the network has {want} parameters")
            }
        }
    }
}

/// What is wrong with a setting (see [`PlanError`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// A number outside its range, e.g. `wanted: "in [0, 1)"`.
    OutOfRange {
        /// The accepted range, in words.
        wanted: &'static str,
        /// The value given.
        got: f64,
    },
    /// A count that must be at least 1 is 0.
    Zero,
    /// A setting of training by epochs, without `epochs`.
    NeedsEpochs,
    /// A stopping rule of step-by-step training, with `epochs`.
    StepsOnly,
    /// A setting of one learning-rate schedule, with another.
    NeedsSchedule(ScheduleKind),
    /// A setting of one optimizer, with another.
    NeedsOptimizer(OptimizerKind),
    /// `schedule = "step"` without `step_every`.
    StepScheduleNeedsEvery,
    /// `standardize` and `rescale` together.
    TwoScalings,
    /// `reduction` with a loss other than `cross_entropy`.
    ReductionNeedsCrossEntropy,
    /// Burn's learning-rate scheduler refused the settings.
    Schedule(String),
    /// Both `valid_fraction` and `valid_csv`.
    TwoValidations,
    /// No parameter trains.
    NothingTrainable,
    /// A trainable mask with the wrong number of entries.
    MaskLength {
        /// Its length.
        got: usize,
        /// The number of parameters.
        want: usize,
    },
}
