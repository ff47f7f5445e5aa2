//! The validated description of a run: what to minimise, how to step, when to stop.
//!
//! A [`TrainPlan`] is only built by [`TrainPlan::new`], which checks a [`Settings`] (the
//! settings as a config or a flag gives them) and returns a typed [`PlanError`](crate::PlanError)
//! naming the setting at fault. The training core trusts it.

mod check;
pub(crate) mod error;
mod schedule;
pub(crate) mod settings;
mod stop;

pub use check::CheckedSettings;
pub use error::{PlanError, Problem};
pub(crate) use schedule::Rates;
pub use schedule::{Schedule, ScheduleKind};
pub use settings::{ModeKind, Setting, Settings};
pub use stop::StopRules;

use squiggle_model::{Architecture, Named, Precision};

use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::engine::optim::Optimizer;
use crate::inspect::PREDICT_CHUNK;

/// Everything a run needs besides the network, the data and the device.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainPlan {
    loss: LossKind,
    learning_rate: f64,
    optimizer: Optimizer,
    trainable: Vec<bool>,
    precision: Precision,
    kernels: Kernels,
    seed: u64,
    schedule: Schedule,
    mode: Mode,
}

/// How a run is organised.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Full-batch steps until a stopping rule fires, as in the lessons.
    Steps(StopRules),
    /// Epochs of mini-batches.
    Epochs(EpochPlan),
}

impl Mode {
    /// The periods of the learning-rate schedule: steps step by step, epochs by epochs.
    fn periods(&self) -> usize {
        match self {
            Mode::Steps(rules) => rules.max_steps,
            Mode::Epochs(plan) => plan.epochs,
        }
    }
}

squiggle_model::named_enum! {
    /// How training by epochs measures the training rows for each epoch's line, its row of
    /// `metrics.csv` and, without validation rows, early stopping and the best checkpoint.
    /// Validation rows are always measured in full after the epoch.
    #[derive(Default)]
    pub enum TrainMetrics as "train_metrics" {
        /// From the predictions the epoch's training steps made anyway, each batch as it was
        /// before its update (as Keras and PyTorch Lightning report training metrics): no
        /// extra pass over the data. The default.
        #[default]
        Running = "running",
        /// A full pass over the training rows at the parameters after the epoch: exact for
        /// those parameters, at the cost of a forward pass over every training row.
        Full = "full",
    }
}

/// How training by epochs goes.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct EpochPlan {
    /// Total epochs of the run (a resumed run continues up to this many).
    pub epochs: usize,
    /// Rows per mini-batch; `None` for the whole training split at once.
    pub batch_size: Option<usize>,
    /// Visit the training rows in a new random order every epoch.
    pub shuffle: bool,
    /// Stop after this many epochs without a new best early-stopping loss.
    pub patience: Option<usize>,
    /// How the training rows are measured after each epoch.
    pub train_metrics: TrainMetrics,
    /// Hold out this fraction of the rows (drawn with the seed) for validation.
    pub valid_fraction: Option<f64>,
    /// Standardise every column with the training rows' statistics.
    pub standardize: bool,
    /// Rescale every input column to 0..1 by the training rows' minimum and maximum.
    pub rescale: bool,
}

impl TrainPlan {
    /// Which loss is minimised.
    pub fn loss(&self) -> LossKind {
        self.loss
    }

    /// The (initial) learning rate.
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    /// How derivatives become steps.
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// One entry per scalar parameter (flat order): true for those that learn.
    pub fn trainable(&self) -> &[bool] {
        &self.trainable
    }

    /// Flat indices of the trainable parameters, in order.
    pub fn trainable_indices(&self) -> Vec<usize> {
        (0..self.trainable.len())
            .filter(|&i| self.trainable[i])
            .collect()
    }

    /// Float precision of every tensor.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// What computes the forward and backward passes.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The same plan computed by `kernels` (for a command that compares them).
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    /// Seed of the validation split and the shuffles.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Step by step or by epochs.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// About how many bytes a run holds at once beyond its data and parameters: the layer
    /// outputs of the rows that one step trains on (a mini-batch; every row in a run of
    /// steps), or of one chunk of rows measured, with their gradients. At its peak Burn's
    /// autodiff was measured holding 4.1 copies of a step's layer outputs (inputs, every
    /// hidden layer and the outputs) and the fused kernels 3.4 (a 1-[256, 256]-1 network on
    /// batches of 200,000 rows: 1.72 and 1.42 GB; a `1-[2]-1` network on 3,000,000 rows: 3.3
    /// and 2.0). Five copies: with 4.6 (1.89 GB) a limit of 1.9 GB of address space still
    /// let Burn's autodiff start that run and abort in its first batch; a run the memory
    /// cannot hold is refused before it starts, at the price of refusing some that would
    /// just have fitted.
    pub fn working_bytes(&self, arch: &Architecture, rows: usize) -> f64 {
        let widths: usize = arch.inputs + arch.hidden.iter().sum::<usize>() + arch.outputs;
        const COPIES: f64 = 5.0;
        COPIES
            * self.rows_at_once(rows) as f64
            * widths as f64
            * self.precision.dtype().size() as f64
    }

    /// The most rows of `rows` that go through the network at once: every row for a run of
    /// steps; for epochs, a mini-batch or a chunk of rows measured, whichever is larger.
    pub fn rows_at_once(&self, rows: usize) -> usize {
        match &self.mode {
            Mode::Steps(_) => rows,
            Mode::Epochs(plan) => plan
                .batch_size
                .unwrap_or(rows)
                .min(rows)
                .max(rows.min(PREDICT_CHUNK)),
        }
    }

    /// How the learning rate changes: per epoch by epochs, per step step by step.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// How many times the schedule moves over the whole run: its epochs, or its `max_steps`.
    pub fn periods(&self) -> usize {
        self.mode.periods()
    }

    /// The learning rate of each epoch (by epochs) or step (step by step) in turn.
    pub(crate) fn rates(&self) -> Rates {
        Rates::new(&self.schedule, self.learning_rate, self.periods())
    }

    /// The stopping rules, when training step by step.
    pub fn stop_rules(&self) -> Option<&StopRules> {
        match &self.mode {
            Mode::Steps(rules) => Some(rules),
            Mode::Epochs(_) => None,
        }
    }

    /// The epoch settings, when training by epochs.
    pub fn epoch_plan(&self) -> Option<&EpochPlan> {
        match &self.mode {
            Mode::Steps(_) => None,
            Mode::Epochs(plan) => Some(plan),
        }
    }

    /// The settings that make this plan again, every default stated: what a run's resolved
    /// config writes back (the settings of the other mode, optimizers and schedules left out,
    /// as is the sum or mean of cross entropy, which the mode decides, and `rescale` when off,
    /// so that runs from before the key resume unchanged; a validation file is the caller's).
    pub fn resolved_settings(&self) -> Settings {
        let mut settings = Settings {
            loss: Some(self.loss()),
            learning_rate: Some(self.learning_rate()),
            optimizer: Some(self.optimizer().kind()),
            schedule: Some(self.schedule().kind()),
            precision: Some(self.precision()),
            kernels: Some(self.kernels()),
            seed: Some(self.seed()),
            ..Settings::default()
        };
        match *self.optimizer() {
            Optimizer::GradientDescent => {}
            Optimizer::Sgd {
                momentum,
                weight_decay,
            } => {
                settings.momentum = Some(momentum);
                settings.weight_decay = Some(weight_decay);
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => {
                settings.beta1 = Some(beta1);
                settings.beta2 = Some(beta2);
                settings.epsilon = Some(epsilon);
                settings.weight_decay = Some(weight_decay);
            }
        }
        match self.mode() {
            Mode::Steps(stop) => {
                settings.max_steps = Some(stop.max_steps);
                settings.min_step_size = Some(stop.min_step_size);
                settings.target_loss = stop.target_loss;
            }
            Mode::Epochs(epochs) => {
                settings.epochs = Some(epochs.epochs);
                settings.batch_size = epochs.batch_size;
                settings.shuffle = Some(epochs.shuffle);
                settings.patience = epochs.patience;
                settings.train_metrics = Some(epochs.train_metrics);
                settings.valid_fraction = epochs.valid_fraction;
                settings.standardize = Some(epochs.standardize);
                settings.rescale = epochs.rescale.then_some(true);
            }
        }
        match *self.schedule() {
            Schedule::Constant => {}
            Schedule::Step { every, gamma } => {
                settings.step_every = Some(every);
                settings.step_gamma = Some(gamma);
            }
            Schedule::Cosine { min_lr } => settings.min_learning_rate = Some(min_lr),
        }
        settings
    }

    /// The settings besides the seed and the rows that decide an epoch's batches and its
    /// running sums, as a config says them: a run stopped inside an epoch finishes it only with
    /// the same. `buffer`: a streamed run's shuffle buffer when it holds fewer than all the
    /// training rows ([`Stream::buffered`](crate::Stream::buffered); one that holds them all
    /// gives the in-memory order).
    pub fn batch_order(&self, buffer: Option<u64>) -> String {
        let Some(epochs) = self.epoch_plan() else {
            return String::new();
        };
        let mut order = match epochs.batch_size {
            Some(rows) => format!("batch_size = {rows}"),
            None => "no batch_size".to_string(),
        };
        order += &format!(
            ", shuffle = {}, train_metrics = \"{}\"",
            epochs.shuffle,
            epochs.train_metrics.name()
        );
        if let Some(rows) = buffer {
            order += &format!(", shuffle_buffer = {rows}");
        }
        order
    }
}
