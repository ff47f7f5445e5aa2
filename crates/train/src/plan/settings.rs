//! Training settings as a config gives them ([`Settings`]), and their names ([`Setting`]):
//! what a front end fills in. Their check into a [`TrainPlan`](crate::TrainPlan) is
//! `check.rs`'s. Each setting has a [`Setting`] name, and the mode that reads it is written
//! once, in [`Setting::mode`].

use squiggle_model::Precision;

use super::{ScheduleKind, TrainMetrics};
use crate::engine::kernels::Kernels;
use crate::engine::loss::{LossKind, Reduction};
use crate::engine::optim::OptimizerKind;

squiggle_model::named_enum! {
    /// A training setting, by the key that names it in a config file.
    pub enum Setting as "setting" {
        /// `[train] trainable`.
        Trainable = "trainable",
        /// `[train] loss`.
        Loss = "loss",
        /// `[train] reduction`.
        Reduction = "reduction",
        /// `[train] learning_rate`.
        LearningRate = "learning_rate",
        /// `[train] optimizer`.
        Optimizer = "optimizer",
        /// `[train] momentum`.
        Momentum = "momentum",
        /// `[train] weight_decay`.
        WeightDecay = "weight_decay",
        /// `[train] beta1`.
        Beta1 = "beta1",
        /// `[train] beta2`.
        Beta2 = "beta2",
        /// `[train] epsilon`.
        Epsilon = "epsilon",
        /// `[train] max_steps`.
        MaxSteps = "max_steps",
        /// `[train] min_step_size`.
        MinStepSize = "min_step_size",
        /// `[train] target_loss`.
        TargetLoss = "target_loss",
        /// `[train] epochs`.
        Epochs = "epochs",
        /// `[train] batch_size`.
        BatchSize = "batch_size",
        /// `[train] shuffle`.
        Shuffle = "shuffle",
        /// `[train] schedule`.
        Schedule = "schedule",
        /// `[train] step_every`.
        StepEvery = "step_every",
        /// `[train] step_gamma`.
        StepGamma = "step_gamma",
        /// `[train] min_learning_rate`.
        MinLearningRate = "min_learning_rate",
        /// `[train] patience`.
        Patience = "patience",
        /// `[train] train_metrics`.
        TrainMetrics = "train_metrics",
        /// `[data] valid_fraction`.
        ValidFraction = "valid_fraction",
        /// `[data] valid_csv`.
        ValidCsv = "valid_csv",
        /// `[data] standardize`.
        Standardize = "standardize",
        /// `[data] rescale`.
        Rescale = "rescale",
        /// `[train] dtype`.
        Dtype = "dtype",
        /// `[train] kernels`.
        Kernels = "kernels",
        /// `[model] seed`.
        Seed = "seed",
    }
}

/// The two ways to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    /// Full-batch gradient descent, step by step, as in the lessons.
    Steps,
    /// Epochs of mini-batches.
    Epochs,
}

impl Setting {
    /// The only mode that reads this setting, or `None` for settings of both modes.
    pub fn mode(self) -> Option<ModeKind> {
        match self {
            Setting::MaxSteps | Setting::MinStepSize | Setting::TargetLoss => Some(ModeKind::Steps),
            Setting::BatchSize
            | Setting::Shuffle
            | Setting::Patience
            | Setting::TrainMetrics
            | Setting::ValidFraction
            | Setting::ValidCsv
            | Setting::Standardize
            | Setting::Rescale => Some(ModeKind::Epochs),
            Setting::Trainable
            | Setting::Loss
            | Setting::Reduction
            | Setting::LearningRate
            | Setting::Optimizer
            | Setting::Momentum
            | Setting::WeightDecay
            | Setting::Beta1
            | Setting::Beta2
            | Setting::Epsilon
            | Setting::Schedule
            | Setting::StepEvery
            | Setting::StepGamma
            | Setting::MinLearningRate
            | Setting::Epochs
            | Setting::Dtype
            | Setting::Kernels
            | Setting::Seed => None,
        }
    }

    /// The key as written in a config file.
    pub fn key(self) -> &'static str {
        squiggle_model::Named::name(self)
    }
}

/// Training settings as given: every one optional, nothing checked. Defaults are filled in by
/// [`TrainPlan::new`](crate::TrainPlan::new) and stated in each field's documentation.
///
/// A library user builds them as a struct (`Settings { epochs: Some(50), ..Default::default() }`)
/// or reads them from a table with serde — in TOML, a config's `[train]` keys (`trainable`
/// aside: it names parameters, which [`CheckedSettings::into_plan`](crate::CheckedSettings::into_plan) takes as a mask) plus
/// `valid_fraction`, `standardize`, `rescale` and `seed`, which a squiggle config file puts
/// under `[data]` and `[model]`. Unknown keys are refused, so a misspelt one is not ignored.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Which loss to minimise. Defaults to SSR step by step (as the lessons) and MSE by epochs
    /// (a mini-batch SSR would grow with the batch).
    pub loss: Option<LossKind>,
    /// Cross entropy: the sum over the rows or their mean. Defaults to the sum step by step
    /// (the lesson's total cross entropy) and the mean by epochs.
    pub reduction: Option<Reduction>,
    /// The step-size multiplier, > 0. Defaults to 0.1.
    pub learning_rate: Option<f64>,
    /// Defaults to `sgd` (without momentum and weight decay: the lessons' rule).
    pub optimizer: Option<OptimizerKind>,
    /// SGD momentum in [0, 1). Defaults to 0.
    pub momentum: Option<f64>,
    /// L2 penalty ≥ 0 (SGD and Adam). Defaults to 0.
    pub weight_decay: Option<f64>,
    /// Adam's β1 in [0, 1). Defaults to 0.9.
    pub beta1: Option<f64>,
    /// Adam's β2 in [0, 1). Defaults to 0.999.
    pub beta2: Option<f64>,
    /// Adam's ε > 0. Defaults to 1e-8.
    pub epsilon: Option<f64>,
    /// Step by step: stop after this many steps. Defaults to 1000.
    pub max_steps: Option<usize>,
    /// Step by step: stop when every |step size| is below this (0 disables it). Defaults to 0.001.
    pub min_step_size: Option<f64>,
    /// Step by step: stop once the loss is at or below this. Off by default.
    pub target_loss: Option<f64>,
    /// Train by this many epochs (≥ 1) instead of step by step.
    pub epochs: Option<usize>,
    /// By epochs: rows per mini-batch (≥ 1). Defaults to the whole training split.
    pub batch_size: Option<usize>,
    /// By epochs: a new order every epoch. Defaults to true.
    pub shuffle: Option<bool>,
    /// The learning-rate schedule, moved once per epoch (by epochs) or per step (step by
    /// step, where a cosine runs over `max_steps`). Defaults to constant.
    pub schedule: Option<ScheduleKind>,
    /// `schedule = "step"`: epochs (step by step: steps) between decays (≥ 1); required.
    pub step_every: Option<usize>,
    /// `schedule = "step"`: the decay factor in (0, 1). Defaults to 0.1.
    pub step_gamma: Option<f64>,
    /// `schedule = "cosine"`: the final rate ≥ 0. Defaults to 0.
    pub min_learning_rate: Option<f64>,
    /// By epochs: stop after this many epochs (≥ 1) without a better loss. Off by default.
    pub patience: Option<usize>,
    /// By epochs: how the training rows are measured after each epoch. Defaults to running.
    pub train_metrics: Option<TrainMetrics>,
    /// By epochs: hold out this fraction of the rows, in [0, 1) (0: none).
    pub valid_fraction: Option<f64>,
    /// By epochs: validation rows come from a file of their own (which the caller reads).
    #[serde(skip)]
    pub valid_csv: bool,
    /// By epochs: scale columns with the training rows' statistics. Defaults to false.
    pub standardize: Option<bool>,
    /// By epochs: scale input columns to 0..1 by the training rows' minimum and maximum (as
    /// the lessons' Iris data). Defaults to false; not with `standardize`.
    pub rescale: Option<bool>,
    /// Float precision (key `dtype`). Defaults to f32.
    #[serde(rename = "dtype")]
    pub precision: Option<Precision>,
    /// What computes the passes. Defaults to squiggle's fused kernels.
    pub kernels: Option<Kernels>,
    /// Seed of the split and the shuffles. Defaults to 0.
    pub seed: Option<u64>,
    /// The rows are a data set (a CSV file), not the lessons' points: the defaults then suit
    /// data sets — MSE instead of SSR (a sum grows with the rows, and so do its steps), and
    /// step by step 10,000 steps with `min_step_size` off (the lesson's absolute 0.001 stops
    /// data-set runs at a flat line after a few steps).
    #[serde(skip)]
    pub data_set: bool,
}

impl Settings {
    /// The settings that were given, in [`Setting`] order.
    pub fn given(&self) -> Vec<Setting> {
        // Destructured without `..`, so that a new field cannot be forgotten here.
        let Settings {
            loss,
            reduction,
            learning_rate,
            optimizer,
            momentum,
            weight_decay,
            beta1,
            beta2,
            epsilon,
            max_steps,
            min_step_size,
            target_loss,
            epochs,
            batch_size,
            shuffle,
            schedule,
            step_every,
            step_gamma,
            min_learning_rate,
            patience,
            train_metrics,
            valid_fraction,
            valid_csv,
            standardize,
            rescale,
            precision,
            kernels,
            seed,
            data_set: _,
        } = self;
        [
            (Setting::Loss, loss.is_some()),
            (Setting::Reduction, reduction.is_some()),
            (Setting::LearningRate, learning_rate.is_some()),
            (Setting::Optimizer, optimizer.is_some()),
            (Setting::Momentum, momentum.is_some()),
            (Setting::WeightDecay, weight_decay.is_some()),
            (Setting::Beta1, beta1.is_some()),
            (Setting::Beta2, beta2.is_some()),
            (Setting::Epsilon, epsilon.is_some()),
            (Setting::MaxSteps, max_steps.is_some()),
            (Setting::MinStepSize, min_step_size.is_some()),
            (Setting::TargetLoss, target_loss.is_some()),
            (Setting::Epochs, epochs.is_some()),
            (Setting::BatchSize, batch_size.is_some()),
            (Setting::Shuffle, shuffle.is_some()),
            (Setting::Schedule, schedule.is_some()),
            (Setting::StepEvery, step_every.is_some()),
            (Setting::StepGamma, step_gamma.is_some()),
            (Setting::MinLearningRate, min_learning_rate.is_some()),
            (Setting::Patience, patience.is_some()),
            (Setting::TrainMetrics, train_metrics.is_some()),
            (Setting::ValidFraction, valid_fraction.is_some()),
            (Setting::ValidCsv, *valid_csv),
            (Setting::Standardize, standardize.is_some()),
            (Setting::Rescale, rescale.is_some()),
            (Setting::Dtype, precision.is_some()),
            (Setting::Kernels, kernels.is_some()),
            (Setting::Seed, seed.is_some()),
        ]
        .into_iter()
        .filter_map(|(setting, given)| given.then_some(setting))
        .collect()
    }
}
