//! The check of [`Settings`] into a [`TrainPlan`]: where every value check about training
//! lives (ranges, which settings belong to which mode, optimizer or schedule), so that any
//! front end — the TOML config, flags, a browser — gets the same rules and messages, as a
//! [`PlanError`] naming the [`Setting`] at fault.

use squiggle_model::{Architecture, Precision};

use super::settings::{ModeKind, Setting, Settings};
use super::{EpochPlan, Mode, Schedule, ScheduleKind, StopRules, TrainPlan};
use crate::engine::kernels::Kernels;
use crate::engine::loss::{LossKind, Reduction};
use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::plan::error::{PlanError, Problem};

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
    use crate::plan::TrainMetrics;

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
