//! Optimizers: how a derivative becomes a step. This is the one place that owns the update
//! rule; training (both modes) and `explain` go through it.
//!
//! To add an optimizer: a variant of [`OptimizerKind`] (its config name), a variant of
//! [`Optimizer`] with its settings, their [`Setting`](crate::Setting)s and checks in
//! `plan/settings.rs`, and its Burn configuration in [`Optimizer::updater`].

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Bytes, Gradients};
use serde::{Deserialize, Serialize};

use crate::engine::kernels::Kernels;
use crate::engine::optim_record;
use crate::engine::params::Params;
use crate::error::{CheckpointError, TrainError};

squiggle_model::named_enum! {
    /// The optimizers a config can name with `[train] optimizer`.
    #[derive(Default)]
    pub enum OptimizerKind as "optimizer" {
        /// Stochastic gradient descent: the lessons' rule, optionally with momentum and weight
        /// decay. The default.
        #[default]
        Sgd = "sgd",
        /// Adam: steps scaled by running averages of the gradient and its square.
        Adam = "adam",
    }
}

/// An optimizer with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// The lessons' rule, written by squiggle: `step size = derivative × learning rate`,
    /// `new value = old value − step size`. What `sgd` is without momentum and weight decay.
    GradientDescent,
    /// Burn's SGD: velocity `v ← momentum·v + (g + weight_decay·θ)` (PyTorch's convention,
    /// no dampening), then `θ ← θ − lr·v`.
    Sgd {
        /// In [0, 1); 0 for none.
        momentum: f64,
        /// L2 penalty added to the gradient; 0 for none.
        weight_decay: f64,
    },
    /// Burn's Adam: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
    /// `θ ← θ − lr·m̂ / (√v̂ + ε)` with the bias-corrected `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`.
    Adam {
        /// Decay of the gradient's running average (0.9 by default).
        beta1: f64,
        /// Decay of the squared gradient's running average (0.999 by default).
        beta2: f64,
        /// Added to √v̂ so that a zero gradient divides safely (1e-8 by default, as PyTorch).
        epsilon: f64,
        /// L2 penalty added to the gradient; 0 for none.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// The name a config gives it.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Optimizer::GradientDescent | Optimizer::Sgd { .. } => OptimizerKind::Sgd,
            Optimizer::Adam { .. } => OptimizerKind::Adam,
        }
    }

    /// Returns true if and only if this is the lessons' plain rule, whose step size is the
    /// derivative times the learning rate.
    pub fn is_gradient_descent(&self) -> bool {
        matches!(self, Optimizer::GradientDescent)
    }

    /// The lessons' step size for one parameter: `derivative × learning rate`.
    ///
    /// ```
    /// use squiggle_train::Optimizer;
    /// // "Backpropagation Main Ideas", step 0: dSSR/db3 = -15.6551, learning rate 0.1.
    /// assert!((Optimizer::gradient_descent_step(-15.6551, 0.1) + 1.56551).abs() < 1e-12);
    /// ```
    pub fn gradient_descent_step(derivative: f64, learning_rate: f64) -> f64 {
        derivative * learning_rate
    }

    /// The state this optimizer keeps between steps, for parameters held for `kernels`: the
    /// lessons' rule written by squiggle for the fused kernels, Burn's SGD (the same rule,
    /// without state) for Burn's.
    pub(crate) fn updater(&self, kernels: Kernels) -> Updater {
        match *self {
            Optimizer::GradientDescent => match kernels {
                Kernels::Fused => Updater::Plain,
                Kernels::Burn => Updater::Burn(SgdConfig::new().init()),
            },
            Optimizer::Sgd {
                momentum,
                weight_decay,
            } => {
                let mut config = SgdConfig::new();
                if momentum > 0.0 {
                    config = config.with_momentum(Some(
                        MomentumConfig::new()
                            .with_momentum(momentum)
                            .with_dampening(0.0),
                    ));
                }
                if weight_decay > 0.0 {
                    config =
                        config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
                }
                Updater::Burn(config.init())
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => {
                let mut config = AdamConfig::new()
                    .with_beta_1(beta1 as f32)
                    .with_beta_2(beta2 as f32)
                    .with_epsilon(epsilon as f32);
                if weight_decay > 0.0 {
                    config =
                        config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
                }
                Updater::Burn(config.init())
            }
        }
    }
}

impl std::fmt::Display for Optimizer {
    /// `gradient descent`, `sgd with momentum 0.9 and weight decay 0.03`,
    /// `adam (β1 0.9, β2 0.999, ε 1e-8)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Optimizer::GradientDescent => f.write_str("gradient descent"),
            Optimizer::Sgd {
                momentum,
                weight_decay,
            } => {
                let mut parts = Vec::new();
                if momentum > 0.0 {
                    parts.push(format!("momentum {momentum}"));
                }
                if weight_decay > 0.0 {
                    parts.push(format!("weight decay {weight_decay}"));
                }
                write!(f, "sgd with {}", parts.join(" and "))
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => {
                write!(f, "adam (β1 {beta1}, β2 {beta2}, ε {epsilon:e}")?;
                if weight_decay > 0.0 {
                    write!(f, ", weight decay {weight_decay}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// An optimizer's running state.
#[derive(Clone)]
pub(crate) enum Updater {
    /// The lessons' rule keeps no state.
    Plain,
    /// Burn's optimizer and its per-parameter state.
    Burn(ModuleOptimizer),
}

impl Updater {
    /// Moves every parameter that has a gradient in `grads` by one step at learning rate `lr`.
    pub(crate) fn apply(&mut self, params: Params, grads: Gradients, lr: f64) -> Params {
        match self {
            // The lessons' rule: `new = old − lr × gradient`, on the device.
            Updater::Plain => params.map(Some(&grads), |value, grad, _| match grad {
                Some(grad) => value - grad.mul_scalar(lr),
                None => value,
            }),
            Updater::Burn(optim) => match params {
                Params::Fused(flat) => {
                    let grads = GradientsParams::from_grads(grads, &flat);
                    Params::Fused(optim.step(lr, flat, grads))
                }
                Params::Burn(net) => {
                    let grads = GradientsParams::from_grads(grads, &net);
                    Params::Burn(optim.step(lr, net, grads))
                }
            },
        }
    }

    /// The state as bytes for a checkpoint, in the fused kernels' layout whichever kernels
    /// `params` are held for (see `optim_record.rs`); empty for the lessons' rule, which keeps
    /// none.
    pub(crate) fn to_bytes(
        &self,
        optimizer: &Optimizer,
        params: &Params,
    ) -> Result<Vec<u8>, TrainError> {
        let snapshot = |reason: String| TrainError::Snapshot {
            part: "optimizer",
            reason,
        };
        match self {
            Updater::Burn(optim) if !optimizer.is_gradient_descent() => {
                let bytes = optim.into_bytes().map_err(|e| snapshot(e.to_string()))?;
                match params {
                    Params::Fused(_) => Ok(bytes.to_vec()),
                    Params::Burn(_) => optim_record::join(bytes, &params.pieces())
                        .map_err(|e| snapshot(e.to_string())),
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    /// This updater with the state of a checkpoint (written by [`Updater::to_bytes`]) for
    /// `params`.
    pub(crate) fn with_bytes(
        self,
        bytes: Vec<u8>,
        optimizer: &Optimizer,
        params: &Params,
    ) -> Result<Self, CheckpointError> {
        let bad = |reason: String| CheckpointError::Record {
            part: "optimizer",
            reason,
        };
        match self {
            // A checkpoint whose optimizer kept no state (the lessons' rule): this one starts
            // its state afresh (see `Checkpoint::optimizer_state_carries`).
            Updater::Burn(optim) if bytes.is_empty() => Ok(Updater::Burn(optim)),
            Updater::Burn(optim) if !optimizer.is_gradient_descent() => {
                let bytes = match params {
                    Params::Fused(_) => Bytes::from_bytes_vec(bytes),
                    Params::Burn(_) => optim_record::split(bytes, &params.pieces())
                        .map_err(|e| bad(e.to_string()))?,
                };
                optim
                    .from_bytes(bytes)
                    .map(Updater::Burn)
                    .map_err(|e| bad(e.to_string()))
            }
            other => Ok(other),
        }
    }
}
