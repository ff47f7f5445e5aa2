//! The validated description of a training run.

use squiggle_model::Precision;

use crate::{LossKind, StopRules};

/// Everything the training loop needs besides the network and the data.
///
/// Built by the caller after validating its inputs (the CLI turns a config file into one);
/// the loop trusts it: a positive, finite learning rate and a `trainable` mask with one entry
/// per parameter and at least one `true`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainPlan {
    /// Which loss to minimise. Defaults to SSR.
    pub loss: LossKind,
    /// The step-size multiplier: `step size = derivative × learning_rate`. Defaults to 0.1.
    pub learning_rate: f64,
    /// When to stop.
    pub stop: StopRules,
    /// One entry per scalar parameter (flat order): true for those that learn.
    pub trainable: Vec<bool>,
    /// Float precision of every tensor.
    pub precision: Precision,
}

impl TrainPlan {
    /// A plan that trains every one of `num_params` parameters with the lesson's defaults.
    pub fn all_trainable(num_params: usize) -> Self {
        Self {
            loss: LossKind::Ssr,
            learning_rate: 0.1,
            stop: StopRules::default(),
            trainable: vec![true; num_params],
            precision: Precision::F32,
        }
    }

    /// Flat indices of the trainable parameters, in order.
    pub fn trainable_indices(&self) -> Vec<usize> {
        (0..self.trainable.len())
            .filter(|&i| self.trainable[i])
            .collect()
    }
}
