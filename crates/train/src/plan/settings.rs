//! Training settings as a config gives them ([`Settings`]), and their names ([`Setting`]):
//! what a front end fills in, all declared once, in [`for_each_setting!`](crate::for_each_setting)'s
//! table. Their check into a [`TrainPlan`](crate::TrainPlan) is `check.rs`'s.

/// The one table of training settings: each row is a setting's documentation, its field in
/// [`Settings`] with the type a config gives it, its [`Setting`] and key, the section of a
/// squiggle config file that holds it, the mode that reads it (`any`, `steps`, `epochs`), and
/// whether [`Settings`] holds its value (`value`) or only that it was given (`given`: a
/// validation file, which the caller reads).
///
/// [`Setting`], [`Settings`] and [`Settings::given`] follow from it here; the CLI's TOML
/// schema, its mapping from the file and the flags, and its write-back of a run's resolved
/// config follow from it through this macro, which hands the rows to `$then!` after
/// `$pass`. So a new setting is one row here and its check in `check.rs`.
#[macro_export]
macro_rules! for_each_setting {
    ($then:ident ! { $($pass:tt)* }) => {
        $then! {
            $($pass)*
            rows:
            /// Which loss to minimise. Defaults to SSR step by step (as the lessons) and MSE by
            /// epochs (a mini-batch SSR would grow with the batch).
            loss: $crate::LossKind = Loss "loss" train any value;
            /// Cross entropy: the sum over the rows or their mean. Defaults to the sum step by
            /// step (the lesson's total cross entropy) and the mean by epochs.
            reduction: $crate::Reduction = Reduction "reduction" train any value;
            /// The step-size multiplier, > 0. Defaults to 0.1.
            learning_rate: f64 = LearningRate "learning_rate" train any value;
            /// Defaults to `sgd` (without momentum and weight decay: the lessons' rule).
            optimizer: $crate::OptimizerKind = Optimizer "optimizer" train any value;
            /// SGD momentum in [0, 1). Defaults to 0.
            momentum: f64 = Momentum "momentum" train any value;
            /// L2 penalty ≥ 0 (SGD and Adam). Defaults to 0.
            weight_decay: f64 = WeightDecay "weight_decay" train any value;
            /// Adam's β1 in [0, 1). Defaults to 0.9.
            beta1: f64 = Beta1 "beta1" train any value;
            /// Adam's β2 in [0, 1). Defaults to 0.999.
            beta2: f64 = Beta2 "beta2" train any value;
            /// Adam's ε > 0. Defaults to 1e-8.
            epsilon: f64 = Epsilon "epsilon" train any value;
            /// Step by step: stop after this many steps. Defaults to 1000.
            max_steps: usize = MaxSteps "max_steps" train steps value;
            /// Step by step: stop when every |step size| is below this (0 disables it).
            /// Defaults to 0.001.
            min_step_size: f64 = MinStepSize "min_step_size" train steps value;
            /// Step by step: stop once the loss is at or below this. Off by default.
            target_loss: f64 = TargetLoss "target_loss" train steps value;
            /// Train by this many epochs (≥ 1) instead of step by step.
            epochs: usize = Epochs "epochs" train any value;
            /// By epochs: rows per mini-batch (≥ 1). Defaults to the whole training split.
            batch_size: usize = BatchSize "batch_size" train epochs value;
            /// By epochs: a new order every epoch. Defaults to true.
            shuffle: bool = Shuffle "shuffle" train epochs value;
            /// The learning-rate schedule, moved once per epoch (by epochs) or per step (step
            /// by step, where a cosine runs over `max_steps`). Defaults to constant.
            schedule: $crate::ScheduleKind = Schedule "schedule" train any value;
            /// `schedule = "step"`: epochs (step by step: steps) between decays (≥ 1);
            /// required.
            step_every: usize = StepEvery "step_every" train any value;
            /// `schedule = "step"`: the decay factor in (0, 1). Defaults to 0.1.
            step_gamma: f64 = StepGamma "step_gamma" train any value;
            /// `schedule = "cosine"`: the final rate ≥ 0. Defaults to 0.
            min_learning_rate: f64 = MinLearningRate "min_learning_rate" train any value;
            /// By epochs: stop after this many epochs (≥ 1) without a better loss. Off by
            /// default.
            patience: usize = Patience "patience" train epochs value;
            /// By epochs: how the training rows are measured after each epoch. Defaults to
            /// running.
            train_metrics: $crate::TrainMetrics = TrainMetrics "train_metrics" train epochs value;
            /// By epochs: hold out this fraction of the rows, in [0, 1) (0: none).
            valid_fraction: f64 = ValidFraction "valid_fraction" data epochs value;
            /// By epochs: validation rows from a file of their own (a CSV file, relative to the
            /// config's folder), which the caller reads.
            valid_csv: String = ValidCsv "valid_csv" data epochs given;
            /// By epochs: scale columns with the training rows' statistics. Defaults to false.
            standardize: bool = Standardize "standardize" data epochs value;
            /// By epochs: scale input columns to 0..1 by the training rows' minimum and maximum
            /// (as the lessons' Iris data). Defaults to false; not with `standardize`.
            rescale: bool = Rescale "rescale" data epochs value;
            /// Float precision (key `dtype`). Defaults to f32.
            precision: ::squiggle_model::Precision = Dtype "dtype" train any value;
            /// What computes the passes. Defaults to squiggle's fused kernels.
            kernels: $crate::Kernels = Kernels "kernels" train any value;
            /// Seed of the initial weights, the split and the shuffles. Defaults to 0.
            seed: u64 = Seed "seed" model any value;
        }
    };
}

/// [`Settings`] from the table: each setting's field, by its kind, its value as a config
/// gives it (`value`), or whether it was given (`given`: not read from a table, the caller
/// knows); then the fields that are not settings (`$extra`).
macro_rules! settings_struct {
    ([$($fields:tt)*] [$($extra:tt)*]) => {
        /// Training settings as given: every one optional, nothing checked. Defaults are filled
        /// in by [`TrainPlan::new`](crate::TrainPlan::new) and stated in each field's
        /// documentation.
        ///
        /// A library user builds them as a struct (`Settings { epochs: Some(50),
        /// ..Default::default() }`) or reads them from a table with serde — in TOML, a config's
        /// `[train]` keys (`trainable` aside: it names parameters, which
        /// [`CheckedSettings::into_plan`](crate::CheckedSettings::into_plan) takes as a mask)
        /// plus `valid_fraction`, `standardize`, `rescale` and `seed`, which a squiggle config
        /// file puts under `[data]` and `[model]`. Unknown keys are refused, so a misspelt one
        /// is not ignored.
        #[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Settings { $($fields)* $($extra)* }
    };
    ([$($fields:tt)*] [$($extra:tt)*]
        $(#[$doc:meta])* $field:ident : $ty:ty = $variant:ident $key:literal $section:ident $mode:ident value;
        $($rest:tt)*) => {
        settings_struct!([$($fields)* $(#[$doc])* #[serde(rename = $key)] pub $field: Option<$ty>,]
            [$($extra)*] $($rest)*);
    };
    ([$($fields:tt)*] [$($extra:tt)*]
        $(#[$doc:meta])* $field:ident : $ty:ty = $variant:ident $key:literal $section:ident $mode:ident given;
        $($rest:tt)*) => {
        settings_struct!([$($fields)* $(#[$doc])* #[serde(skip)] pub $field: bool,]
            [$($extra)*] $($rest)*);
    };
}

/// Whether a setting of each kind was given.
macro_rules! is_given {
    (value $e:expr) => {
        $e.is_some()
    };
    (given $e:expr) => {
        $e
    };
}

/// The mode that reads a setting, as [`Setting::mode`] says it.
macro_rules! mode_of {
    (any) => {
        None
    };
    (steps) => {
        Some(ModeKind::Steps)
    };
    (epochs) => {
        Some(ModeKind::Epochs)
    };
}

/// [`Setting`], [`Settings`], [`Settings::given`] and [`Setting::mode`] from the table.
macro_rules! define_settings {
    (rows: $( $(#[$doc:meta])* $field:ident : $ty:ty = $variant:ident $key:literal $section:ident $mode:ident $kind:ident; )*) => {
        squiggle_model::named_enum! {
            /// A training setting, by the key that names it in a config file.
            pub enum Setting as "setting" {
                /// `[train] trainable`: the parameters that learn (a mask over the network,
                /// which [`CheckedSettings::into_plan`](crate::CheckedSettings::into_plan)
                /// takes).
                Trainable = "trainable",
                $(
                    #[doc = concat!("`[", stringify!($section), "] ", $key, "`.")]
                    $variant = $key,
                )*
            }
        }

        impl Setting {
            /// The only mode that reads this setting, or `None` for settings of both modes.
            pub fn mode(self) -> Option<ModeKind> {
                match self {
                    Setting::Trainable => None,
                    $( Setting::$variant => mode_of!($mode), )*
                }
            }

            /// The section of a squiggle config file that holds this setting: `model`, `data`
            /// or `train`.
            pub fn section(self) -> &'static str {
                match self {
                    Setting::Trainable => "train",
                    $( Setting::$variant => stringify!($section), )*
                }
            }
        }

        settings_struct! {
            []
            [
                /// The rows are a data set (a CSV file), not the lessons' points: the defaults
                /// then suit data sets — MSE instead of SSR (a sum grows with the rows, and so
                /// do its steps), and step by step 10,000 steps with `min_step_size` off (the
                /// lesson's absolute 0.001 stops data-set runs at a flat line after a few
                /// steps).
                #[serde(skip)]
                pub data_set: bool,
            ]
            $( $(#[$doc])* $field : $ty = $variant $key $section $mode $kind; )*
        }

        impl Settings {
            /// The settings that were given, in [`Setting`] order.
            pub fn given(&self) -> Vec<Setting> {
                [$( (Setting::$variant, is_given!($kind self.$field)), )*]
                    .into_iter()
                    .filter_map(|(setting, given)| given.then_some(setting))
                    .collect()
            }
        }
    };
}

for_each_setting!(define_settings! {});

/// The two ways to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeKind {
    /// Full-batch gradient descent, step by step, as in the lessons.
    Steps,
    /// Epochs of mini-batches.
    Epochs,
}

impl Setting {
    /// The key as written in a config file.
    pub fn key(self) -> &'static str {
        squiggle_model::Named::name(self)
    }
}
