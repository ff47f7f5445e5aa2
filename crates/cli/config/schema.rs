//! The TOML schema as written: one struct per section, nothing validated.
//!
//! Every field is optional and `Spanned`, so checks can point at the offending value; named
//! choices (activation, loss, dtype, …) deserialize through their [`Named`](squiggle_model::Named)
//! enums, so an unknown word gets the one message shape
//! ``unknown loss `mae`; expected one of ssr, mse, cross_entropy, mean_cross_entropy`` at its position. The same structs
//! serialize the resolved config of a run folder (absent fields are left out).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use squiggle_model::{Activation, Initializer, Precision};
use squiggle_train::{Kernels, LossKind, OptimizerKind, Reduction, ScheduleKind, TrainMetrics};
use toml::Spanned;

use crate::backend::Backend;

/// A config as written.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSection,
    /// `[data]`; absent means the lesson's three points.
    pub data: Option<Spanned<DataSection>>,
    /// `[train]`; absent in a config that only describes a network to evaluate.
    pub train: Option<TrainSection>,
}

/// `[model]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Input columns (default 1, or the CSV's).
    pub inputs: Option<Spanned<usize>>,
    /// Hidden layer widths (default `[2]`).
    pub hidden: Option<Spanned<Vec<usize>>>,
    /// Output columns (default 1, or the CSV's).
    pub outputs: Option<Spanned<usize>>,
    /// The hidden units' activation (default softplus).
    pub activation: Option<Spanned<Activation>>,
    /// Seed of the initial weights, the split and the shuffles (default 0).
    pub seed: Option<Spanned<u64>>,
    /// How random weights are scaled (default normal).
    pub initializer: Option<Spanned<Initializer>>,
    /// The most parameters the network may have (default 1,000,000).
    pub max_params: Option<Spanned<u64>>,
    /// `[model.init]`: initial values by parameter name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub init: BTreeMap<String, Spanned<toml::Value>>,
}

/// `[data]`: `points` or `csv` (with optional columns), and the validation and scaling of
/// training by epochs.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Rows of inputs then outputs.
    pub points: Option<Spanned<Vec<Spanned<Vec<f64>>>>>,
    /// A CSV file, relative to the config's folder.
    pub csv: Option<Spanned<String>>,
    /// Input columns of the CSV file.
    pub inputs: Option<Spanned<Vec<String>>>,
    /// Target columns of the CSV file.
    pub targets: Option<Spanned<Vec<String>>>,
    /// Columns of the CSV file that are not inputs when `inputs` is not given.
    pub exclude: Option<Spanned<Vec<String>>>,
    /// Input columns of names, one-hot encoded (one input per category).
    pub categorical: Option<Spanned<Vec<String>>>,
    /// The character between a CSV file's fields (default `,`).
    pub delimiter: Option<Spanned<String>>,
    /// A missing value: `error` (default), `drop` or `mean`.
    pub missing: Option<Spanned<String>>,
    /// The memory the rows may take (`"8 GB"`, `"512 MiB"`); default: what the process may
    /// still allocate.
    pub memory_limit: Option<Spanned<String>>,
    /// Train by reading the file once per epoch instead of holding it (`true`), or never
    /// (`false`); not given: when its rows would pass `memory_limit`.
    pub stream: Option<Spanned<bool>>,
    /// Rows of a streamed file's shuffle buffer.
    pub shuffle_buffer: Option<Spanned<u64>>,
    /// Cross entropy: the class names in output order (a CSV file's labels must be among
    /// them; each row of `points` ends with an index into them).
    pub classes: Option<Spanned<Vec<String>>>,
    /// Fraction of rows held out for validation.
    pub valid_fraction: Option<Spanned<f64>>,
    /// A CSV file of validation rows.
    pub valid_csv: Option<Spanned<String>>,
    /// Standardise with the training rows' statistics.
    pub standardize: Option<Spanned<bool>>,
    /// Rescale the inputs to 0..1 by the training rows' minimum and maximum.
    pub rescale: Option<Spanned<bool>>,
}

/// `[train]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// Parameters that learn (default: all).
    pub trainable: Option<Spanned<Vec<Spanned<String>>>>,
    /// The loss.
    pub loss: Option<Spanned<LossKind>>,
    /// Cross entropy: `sum` or `mean` over the rows.
    pub reduction: Option<Spanned<Reduction>>,
    /// The step-size multiplier.
    pub learning_rate: Option<Spanned<f64>>,
    /// Step by step: at most this many steps.
    pub max_steps: Option<Spanned<usize>>,
    /// Step by step: stop when every |step size| is below this.
    pub min_step_size: Option<Spanned<f64>>,
    /// Step by step: stop once the loss is at or below this.
    pub target_loss: Option<Spanned<f64>>,
    /// Float precision.
    pub dtype: Option<Spanned<Precision>>,
    /// Where the tensors live.
    pub backend: Option<Spanned<Backend>>,
    /// What computes the passes: squiggle's fused kernels or Burn's autodiff of the module.
    pub kernels: Option<Spanned<Kernels>>,
    /// Train by this many epochs.
    pub epochs: Option<Spanned<usize>>,
    /// Rows per mini-batch.
    pub batch_size: Option<Spanned<usize>>,
    /// A new row order every epoch.
    pub shuffle: Option<Spanned<bool>>,
    /// SGD momentum.
    pub momentum: Option<Spanned<f64>>,
    /// L2 penalty.
    pub weight_decay: Option<Spanned<f64>>,
    /// Learning-rate schedule.
    pub schedule: Option<Spanned<ScheduleKind>>,
    /// `schedule = "step"`: epochs (steps, step by step) between decays.
    pub step_every: Option<Spanned<usize>>,
    /// `schedule = "step"`: decay factor.
    pub step_gamma: Option<Spanned<f64>>,
    /// `schedule = "cosine"`: final rate.
    pub min_learning_rate: Option<Spanned<f64>>,
    /// Early stopping.
    pub patience: Option<Spanned<usize>>,
    /// How the training rows are measured after each epoch.
    pub train_metrics: Option<Spanned<TrainMetrics>>,
    /// The optimizer.
    pub optimizer: Option<Spanned<OptimizerKind>>,
    /// Adam's β1.
    pub beta1: Option<Spanned<f64>>,
    /// Adam's β2.
    pub beta2: Option<Spanned<f64>>,
    /// Adam's ε.
    pub epsilon: Option<Spanned<f64>>,
}

/// A value for a resolved config, which has no position in any file.
pub fn resolved<T>(value: T) -> Option<Spanned<T>> {
    Some(Spanned::new(0..0, value))
}
