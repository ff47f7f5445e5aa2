//! An optimizer's running state between steps ([`Updater`]): the lessons' rule, or Burn's
//! optimizer with its per-parameter state, and that state in a checkpoint.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Bytes, Gradients};

use crate::engine::checkpoint::error::CheckpointError;
use crate::engine::error::TrainError;
use crate::engine::kernels::Kernels;
use crate::engine::optim::Optimizer;
use crate::engine::optim_record;
use crate::engine::params::Params;
use crate::foreign::Foreign;

impl Optimizer {
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
            // The lessons' rule: `new = old − lr × gradient`, on the device, in one pass.
            Updater::Plain => params.map(Some(&grads), |value, grad, _| match grad {
                Some(grad) => squiggle_fused::descend(value, grad, lr),
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
        let snapshot = |cause: Foreign| TrainError::Snapshot {
            part: "optimizer",
            cause,
        };
        match self {
            Updater::Burn(optim) if !optimizer.is_gradient_descent() => {
                let bytes = optim.into_bytes().map_err(|e| snapshot(Foreign::new(e)))?;
                match params {
                    Params::Fused(_) => Ok(bytes.to_vec()),
                    Params::Burn(_) => optim_record::join(bytes, &params.pieces())
                        .map_err(|e| snapshot(Foreign::new(e))),
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
        let bad = |cause: Foreign| CheckpointError::Record {
            part: "optimizer",
            cause,
        };
        match self {
            // A checkpoint whose optimizer kept no state (the lessons' rule): this one starts
            // its state afresh (see `Checkpoint::optimizer_state_carries`).
            Updater::Burn(optim) if bytes.is_empty() => Ok(Updater::Burn(optim)),
            Updater::Burn(optim) if !optimizer.is_gradient_descent() => {
                let bytes = match params {
                    Params::Fused(_) => Bytes::from_bytes_vec(bytes),
                    Params::Burn(_) => optim_record::split(bytes, &params.pieces())
                        .map_err(|e| bad(Foreign::new(e)))?,
                };
                optim
                    .from_bytes(bytes)
                    .map(Updater::Burn)
                    .map_err(|e| bad(Foreign::new(e)))
            }
            other => Ok(other),
        }
    }
}
