//! Training settings as a config gives them, and their check into a [`TrainPlan`].
//!
//! This is where every value check about training lives (ranges, which settings belong to
//! which mode, optimizer or schedule), so that any front end — the TOML config, flags, a
//! browser — gets the same rules and messages. Each setting has a [`Setting`] name, and the
//! mode that reads it is written once, in [`Setting::mode`].

use squiggle_model::{Architecture, Precision};

use super::{EpochPlan, Mode, Schedule, ScheduleKind, StopRules, TrainMetrics, TrainPlan};
use crate::engine::kernels::Kernels;
use crate::engine::loss::{LossKind, Reduction};
use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::error::{PlanError, Problem};

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
/// [`TrainPlan::new`] and stated in each field's documentation.
///
/// A library user builds them as a struct (`Settings { epochs: Some(50), ..Default::default() }`)
/// or reads them from a table with serde — in TOML, a config's `[train]` keys (`trainable`
/// aside: it names parameters, which [`CheckedSettings::into_plan`] takes as a mask) plus
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

/// `Err` at `setting` with `problem`.
fn fail<T>(setting: Setting, problem: Problem) -> Result<T, PlanError> {
    Err(PlanError { setting, problem })
}

/// A finite number satisfying `ok`, or `OutOfRange` naming `wanted`.
fn number(
    value: Option<f64>,
    setting: Setting,
    ok: impl Fn(f64) -> bool,
    wanted: &'static str,
) -> Result<Option<f64>, PlanError> {
    match value {
        Some(x) if !(x.is_finite() && ok(x)) => {
            fail(setting, Problem::OutOfRange { wanted, got: x })
        }
        other => Ok(other),
    }
}

/// A count of at least 1.
fn count(value: Option<usize>, setting: Setting) -> Result<Option<usize>, PlanError> {
    match value {
        Some(0) => fail(setting, Problem::Zero),
        other => Ok(other),
    }
}

/// Refuses `settings` given for another choice than `chosen`.
fn only_for<K: Copy + PartialEq>(
    given: &[Setting],
    settings: &[Setting],
    applies: K,
    chosen: K,
    problem: impl Fn(K) -> Problem,
) -> Result<(), PlanError> {
    if applies == chosen {
        return Ok(());
    }
    match given.iter().find(|s| settings.contains(s)) {
        Some(&setting) => fail(setting, problem(applies)),
        None => Ok(()),
    }
}

/// Settings that passed every check that does not need the network: what remains is the
/// `trainable` mask (see [`CheckedSettings::into_plan`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedSettings {
    loss: LossKind,
    learning_rate: f64,
    optimizer: Optimizer,
    precision: Precision,
    kernels: Kernels,
    seed: u64,
    schedule: Schedule,
    mode: Mode,
}

impl Settings {
    /// Checks every setting that does not need the network, so that a front end can report
    /// them before it reads any data.
    ///
    /// # Errors
    /// A [`PlanError`] naming the first setting that cannot be run: a value out of its range,
    /// a setting of the other mode or of another optimizer or schedule, a schedule Burn
    /// refuses.
    pub fn check(&self) -> Result<CheckedSettings, PlanError> {
        let given = self.given();
        let epochs = count(self.epochs, Setting::Epochs)?;
        let mode = if epochs.is_some() {
            ModeKind::Epochs
        } else {
            ModeKind::Steps
        };
        for &setting in &given {
            match (setting.mode(), mode) {
                (Some(ModeKind::Epochs), ModeKind::Steps) => {
                    return fail(setting, Problem::NeedsEpochs);
                }
                (Some(ModeKind::Steps), ModeKind::Epochs) => {
                    return fail(setting, Problem::StepsOnly);
                }
                _ => {}
            }
        }
        let loss = self.loss.unwrap_or(match mode {
            ModeKind::Steps if !self.data_set => LossKind::Ssr,
            _ => LossKind::Mse,
        });
        let loss = match (loss, self.reduction) {
            (LossKind::CrossEntropy, Some(r)) => loss.reduced(r),
            (LossKind::CrossEntropy, None) if mode == ModeKind::Epochs => {
                loss.reduced(Reduction::Mean)
            }
            (_, Some(_)) => return fail(Setting::Reduction, Problem::ReductionNeedsCrossEntropy),
            (_, None) => loss,
        };
        let learning_rate = number(
            self.learning_rate,
            Setting::LearningRate,
            |x| x > 0.0,
            "a positive number",
        )?
        .unwrap_or(0.1);
        let optimizer = optimizer(self, &given)?;
        let mode = match epochs {
            None => Mode::Steps(stop_rules(self)?),
            Some(epochs) => Mode::Epochs(epoch_plan(self, epochs)?),
        };
        let schedule = schedule(self, &given)?;
        if let Err(reason) = schedule.scheduler(learning_rate, mode.periods()) {
            let at = if given.contains(&Setting::Schedule) {
                Setting::Schedule
            } else {
                Setting::LearningRate
            };
            return fail(at, Problem::Schedule(reason));
        }
        Ok(CheckedSettings {
            loss,
            learning_rate,
            optimizer,
            precision: self.precision.unwrap_or_default(),
            kernels: self.kernels.unwrap_or_default(),
            seed: self.seed.unwrap_or(0),
            schedule,
            mode,
        })
    }
}

impl CheckedSettings {
    /// The loss, reduction applied.
    pub fn loss(&self) -> LossKind {
        self.loss
    }

    /// Step by step or by epochs.
    pub fn mode(&self) -> ModeKind {
        match self.mode {
            Mode::Steps(_) => ModeKind::Steps,
            Mode::Epochs(_) => ModeKind::Epochs,
        }
    }

    /// The plan for `arch`, where `trainable` marks (in flat order) the parameters that learn.
    ///
    /// # Errors
    /// A `trainable` mask of the wrong length or with nothing to train.
    pub fn into_plan(
        self,
        arch: &Architecture,
        trainable: Vec<bool>,
    ) -> Result<TrainPlan, PlanError> {
        if trainable.len() != arch.num_params() {
            let (got, want) = (trainable.len(), arch.num_params());
            return fail(Setting::Trainable, Problem::MaskLength { got, want });
        }
        if !trainable.iter().any(|&t| t) {
            return fail(Setting::Trainable, Problem::NothingTrainable);
        }
        let CheckedSettings {
            loss,
            learning_rate,
            optimizer,
            precision,
            kernels,
            seed,
            schedule,
            mode,
        } = self;
        Ok(TrainPlan {
            loss,
            learning_rate,
            optimizer,
            trainable,
            precision,
            kernels,
            seed,
            schedule,
            mode,
        })
    }
}

impl TrainPlan {
    /// Checks `settings` and builds the plan for `arch`, where `trainable` marks (in flat
    /// order) the parameters that learn: [`Settings::check`], then
    /// [`CheckedSettings::into_plan`].
    ///
    /// # Errors
    /// A [`PlanError`] naming the first setting that cannot be run.
    pub fn new(
        settings: &Settings,
        arch: &Architecture,
        trainable: Vec<bool>,
    ) -> Result<TrainPlan, PlanError> {
        settings.check()?.into_plan(arch, trainable)
    }
}

fn optimizer(settings: &Settings, given: &[Setting]) -> Result<Optimizer, PlanError> {
    let kind = settings.optimizer.unwrap_or_default();
    let adam_only = [Setting::Beta1, Setting::Beta2, Setting::Epsilon];
    let needs = Problem::NeedsOptimizer;
    only_for(given, &[Setting::Momentum], OptimizerKind::Sgd, kind, needs)?;
    only_for(given, &adam_only, OptimizerKind::Adam, kind, needs)?;
    let in_unit = |x: f64| (0.0..1.0).contains(&x);
    let momentum = number(settings.momentum, Setting::Momentum, in_unit, "in [0, 1)")?;
    let weight_decay = number(
        settings.weight_decay,
        Setting::WeightDecay,
        |x| x >= 0.0,
        "a number ≥ 0",
    )?
    .unwrap_or(0.0);
    let momentum = momentum.unwrap_or(0.0);
    Ok(match kind {
        OptimizerKind::Sgd if momentum == 0.0 && weight_decay == 0.0 => Optimizer::GradientDescent,
        OptimizerKind::Sgd => Optimizer::Sgd {
            momentum,
            weight_decay,
        },
        OptimizerKind::Adam => Optimizer::Adam {
            beta1: number(settings.beta1, Setting::Beta1, in_unit, "in [0, 1)")?.unwrap_or(0.9),
            beta2: number(settings.beta2, Setting::Beta2, in_unit, "in [0, 1)")?.unwrap_or(0.999),
            epsilon: number(
                settings.epsilon,
                Setting::Epsilon,
                |x| x > 0.0,
                "a positive number",
            )?
            .unwrap_or(1e-8),
            weight_decay,
        },
    })
}

fn stop_rules(settings: &Settings) -> Result<StopRules, PlanError> {
    let defaults = if settings.data_set {
        StopRules::for_data_sets()
    } else {
        StopRules::default()
    };
    Ok(StopRules {
        max_steps: settings.max_steps.unwrap_or(defaults.max_steps),
        min_step_size: number(
            settings.min_step_size,
            Setting::MinStepSize,
            |x| x >= 0.0,
            "a number ≥ 0 (0 disables it)",
        )?
        .unwrap_or(defaults.min_step_size),
        target_loss: number(
            settings.target_loss,
            Setting::TargetLoss,
            |x| x >= 0.0,
            "a number ≥ 0",
        )?,
    })
}

fn epoch_plan(settings: &Settings, epochs: usize) -> Result<EpochPlan, PlanError> {
    let batch_size = count(settings.batch_size, Setting::BatchSize)?;
    let patience = count(settings.patience, Setting::Patience)?;
    if settings.valid_fraction.is_some() && settings.valid_csv {
        return fail(Setting::ValidFraction, Problem::TwoValidations);
    }
    Ok(EpochPlan {
        epochs,
        batch_size,
        shuffle: settings.shuffle.unwrap_or(true),
        train_metrics: settings.train_metrics.unwrap_or_default(),
        patience,
        // 0 holds nothing out: no validation, as when the key is absent.
        valid_fraction: number(
            settings.valid_fraction,
            Setting::ValidFraction,
            |x| (0.0..1.0).contains(&x),
            "in [0, 1)",
        )?
        .filter(|&f| f > 0.0),
        standardize: settings.standardize.unwrap_or(false),
        rescale: match (settings.standardize, settings.rescale) {
            (Some(true), Some(true)) => return fail(Setting::Rescale, Problem::TwoScalings),
            (_, rescale) => rescale.unwrap_or(false),
        },
    })
}

fn schedule(settings: &Settings, given: &[Setting]) -> Result<Schedule, PlanError> {
    let kind = settings.schedule.unwrap_or_default();
    let needs = Problem::NeedsSchedule;
    let step_only = [Setting::StepEvery, Setting::StepGamma];
    only_for(given, &step_only, ScheduleKind::Step, kind, needs)?;
    only_for(
        given,
        &[Setting::MinLearningRate],
        ScheduleKind::Cosine,
        kind,
        needs,
    )?;
    Ok(match kind {
        ScheduleKind::Constant => Schedule::Constant,
        ScheduleKind::Step => Schedule::Step {
            every: match count(settings.step_every, Setting::StepEvery)? {
                Some(every) => every,
                None => return fail(Setting::Schedule, Problem::StepScheduleNeedsEvery),
            },
            gamma: number(
                settings.step_gamma,
                Setting::StepGamma,
                |x| x > 0.0 && x < 1.0,
                "in (0, 1)",
            )?
            .unwrap_or(0.1),
        },
        ScheduleKind::Cosine => Schedule::Cosine {
            min_lr: number(
                settings.min_learning_rate,
                Setting::MinLearningRate,
                |x| x >= 0.0,
                "a number ≥ 0",
            )?
            .unwrap_or(0.0),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(settings: Settings) -> Result<TrainPlan, PlanError> {
        TrainPlan::new(&settings, &Architecture::statquest(), vec![true; 7])
    }

    fn message(settings: Settings) -> String {
        plan(settings).unwrap_err().to_string()
    }

    #[test]
    fn settings_read_from_a_table_by_their_config_keys_and_refuse_unknown_ones() {
        let read: Settings = serde_json::from_str(
            r#"{"epochs": 30, "batch_size": 16, "learning_rate": 0.05, "optimizer": "adam",
                "schedule": "cosine", "dtype": "f64", "standardize": true, "seed": 9}"#,
        )
        .unwrap();
        assert_eq!(
            read,
            Settings {
                epochs: Some(30),
                batch_size: Some(16),
                learning_rate: Some(0.05),
                optimizer: Some(OptimizerKind::Adam),
                schedule: Some(ScheduleKind::Cosine),
                precision: Some(Precision::F64),
                standardize: Some(true),
                seed: Some(9),
                ..Settings::default()
            }
        );
        let misspelt = serde_json::from_str::<Settings>(r#"{"learnin_rate": 0.1}"#).unwrap_err();
        assert!(
            misspelt
                .to_string()
                .contains("unknown field `learnin_rate`"),
            "{misspelt}"
        );
        let word = serde_json::from_str::<Settings>(r#"{"loss": "mae"}"#).unwrap_err();
        assert!(word.to_string().contains("unknown loss `mae`"), "{word}");
        // What the caller knows, not the table: a validation file and a CSV's defaults.
        for key in ["valid_csv", "data_set", "precision"] {
            let text = format!(r#"{{"{key}": true}}"#);
            assert!(serde_json::from_str::<Settings>(&text).is_err(), "{key}");
        }
    }

    #[test]
    fn cross_entropy_sums_step_by_step_and_averages_by_epochs() {
        let ce = |epochs: Option<usize>, reduction: Option<Reduction>| {
            plan(Settings {
                loss: Some(LossKind::CrossEntropy),
                reduction,
                epochs,
                ..Settings::default()
            })
            .unwrap()
        };
        assert_eq!(ce(None, None).loss(), LossKind::CrossEntropy);
        assert_eq!(ce(Some(2), None).loss(), LossKind::MeanCrossEntropy);
        assert_eq!(
            ce(Some(2), Some(Reduction::Sum)).loss(),
            LossKind::CrossEntropy
        );
        assert_eq!(
            ce(None, Some(Reduction::Mean)).loss(),
            LossKind::MeanCrossEntropy
        );
        let metrics = ce(Some(2), None).epoch_plan().unwrap().train_metrics;
        assert_eq!(
            metrics,
            TrainMetrics::Running,
            "a classifier adds up its batches, as a regression does"
        );
    }

    #[test]
    fn defaults_follow_the_lessons_step_by_step_and_mse_by_epochs() {
        let steps = plan(Settings::default()).unwrap();
        assert_eq!(steps.loss(), LossKind::Ssr);
        assert_eq!(steps.learning_rate(), 0.1);
        assert_eq!(steps.optimizer(), &Optimizer::GradientDescent);
        assert_eq!(steps.stop_rules(), Some(&StopRules::default()));
        let epochs = plan(Settings {
            epochs: Some(3),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(epochs.loss(), LossKind::Mse);
        let e = epochs.epoch_plan().unwrap();
        assert_eq!(
            (e.epochs, e.shuffle, epochs.schedule()),
            (3, true, &Schedule::Constant)
        );
    }

    #[test]
    fn data_sets_get_defaults_of_their_own() {
        let plan = plan(Settings {
            data_set: true,
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(plan.loss(), LossKind::Mse);
        let rules = plan.stop_rules().unwrap();
        assert_eq!((rules.max_steps, rules.min_step_size), (10_000, 0.0));
    }

    #[test]
    fn settings_of_the_other_mode_are_refused_by_name() {
        assert_eq!(
            message(Settings {
                batch_size: Some(8),
                ..Settings::default()
            }),
            "`batch_size` needs `epochs` in [train]: it applies to training by epochs"
        );
        let err = plan(Settings {
            epochs: Some(2),
            max_steps: Some(8),
            ..Settings::default()
        })
        .unwrap_err();
        assert_eq!(err.setting, Setting::MaxSteps);
        assert_eq!(err.problem, Problem::StepsOnly);
    }

    #[test]
    fn optimizers_take_only_their_own_settings() {
        let sgd = plan(Settings {
            momentum: Some(0.9),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            sgd.optimizer(),
            &Optimizer::Sgd {
                momentum: 0.9,
                weight_decay: 0.0
            }
        );
        let adam = plan(Settings {
            optimizer: Some(OptimizerKind::Adam),
            beta2: Some(0.99),
            ..Settings::default()
        })
        .unwrap();
        assert_eq!(
            adam.optimizer(),
            &Optimizer::Adam {
                beta1: 0.9,
                beta2: 0.99,
                epsilon: 1e-8,
                weight_decay: 0.0
            }
        );
        assert_eq!(
            adam.optimizer().to_string(),
            "adam (β1 0.9, β2 0.99, ε 1e-8)"
        );
        assert_eq!(
            sgd.optimizer().to_string(),
            "sgd with momentum 0.9",
            "the lesson's rule is `gradient descent`"
        );
        assert_eq!(
            message(Settings {
                beta1: Some(0.5),
                ..Settings::default()
            }),
            "`beta1` applies to `optimizer = \"adam\"`"
        );
        assert_eq!(
            message(Settings {
                optimizer: Some(OptimizerKind::Adam),
                momentum: Some(0.5),
                ..Settings::default()
            }),
            "`momentum` applies to `optimizer = \"sgd\"`"
        );
        assert_eq!(
            message(Settings {
                optimizer: Some(OptimizerKind::Adam),
                epsilon: Some(0.0),
                ..Settings::default()
            }),
            "`epsilon` must be a positive number, got 0"
        );
    }

    #[test]
    fn ranges_and_schedules_are_checked() {
        assert_eq!(
            message(Settings {
                learning_rate: Some(f64::NAN),
                ..Settings::default()
            }),
            "`learning_rate` must be a positive number, got NaN"
        );
        assert_eq!(
            message(Settings {
                epochs: Some(0),
                ..Settings::default()
            }),
            "`epochs` must be at least 1"
        );
        let cosine = Settings {
            epochs: Some(2),
            schedule: Some(ScheduleKind::Cosine),
            learning_rate: Some(2.0),
            ..Settings::default()
        };
        let err = plan(cosine).unwrap_err();
        assert_eq!(err.setting, Setting::Schedule);
        assert!(
            err.to_string().starts_with("learning-rate schedule: "),
            "{err}"
        );
        assert_eq!(
            message(Settings {
                epochs: Some(2),
                schedule: Some(ScheduleKind::Step),
                ..Settings::default()
            }),
            "`schedule = \"step\"` needs `step_every` (epochs, or steps step by step, between decays)"
        );
        assert_eq!(
            message(Settings {
                epochs: Some(2),
                valid_fraction: Some(0.2),
                valid_csv: true,
                ..Settings::default()
            }),
            "[data] takes `valid_fraction` or `valid_csv`, not both"
        );
    }

    #[test]
    fn trainable_masks_must_fit_the_network_and_train_something() {
        let arch = Architecture::statquest();
        let err = TrainPlan::new(&Settings::default(), &arch, vec![true; 6]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`trainable` has 6 entries; the network has 7 parameters"
        );
        let err = TrainPlan::new(&Settings::default(), &arch, vec![false; 7]).unwrap_err();
        assert_eq!(err.problem, Problem::NothingTrainable);
        let plan = TrainPlan::new(&Settings::default(), &arch, {
            let mut mask = vec![false; 7];
            mask[6] = true;
            mask
        })
        .unwrap();
        assert_eq!(plan.trainable_indices(), [6]);
    }
}
