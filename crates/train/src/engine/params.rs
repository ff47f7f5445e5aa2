//! What training updates: every parameter of the network in one tracked tensor.
//!
//! The network is one operation on this vector ([`network_forward`]), so a step registers one
//! tracked tensor with Burn's autodiff instead of two per layer, and its gradient comes back
//! in one read (see `squiggle_model`'s `fused/network.rs` for what that saves). The per-layer
//! [`Network`] module is a view of it ([`Network::from_flat`]) wherever one is needed:
//! evaluation, checkpoints' model records.

use burn::module::{Param, ParamId};
use burn::prelude::*;
use burn::tensor::Gradients;
use squiggle_model::{Architecture, Network, Precision, ReadBack, network_forward, read};

/// The id of the one parameter, the same in every process: optimizer state is keyed by it, so
/// a checkpoint's momentum or Adam moments find their parameter again when a run resumes.
const THETA: u64 = 0;

/// Every parameter of a network, flat order, as a Burn module (which Burn's optimizers step).
#[derive(Module, Debug)]
pub(crate) struct Flat {
    theta: Param<Tensor<1>>,
}

impl Flat {
    /// `theta` (a tensor on an autodiff device) as the trained parameter.
    pub(crate) fn new(theta: Tensor<1>) -> Self {
        let leaf = theta.detach().set_require_grad(false).require_grad();
        Self {
            theta: Param::initialized(ParamId::from(THETA), leaf),
        }
    }

    /// `values` (flat order) at `precision` on `device` (an autodiff device).
    pub(crate) fn from_values(values: &[f64], device: &Device, precision: Precision) -> Self {
        let data = TensorData::new(values.to_vec(), [values.len()]);
        Self::new(Tensor::<1>::from_data(data, (device, precision.dtype())))
    }

    /// The parameters of `net` (on an autodiff device).
    pub(crate) fn of(net: &Network) -> Self {
        Self::new(net.flat())
    }

    /// The parameter vector, tracked.
    pub(crate) fn theta(&self) -> Tensor<1> {
        self.theta.val()
    }

    /// The prediction for `x` of the network of shape `arch` with these parameters.
    pub(crate) fn forward(&self, arch: &Architecture, x: Tensor<2>) -> Tensor<2> {
        network_forward(x, self.theta(), arch)
    }

    /// The per-layer module with these values on the same device (untracked).
    pub(crate) fn network(&self, arch: &Architecture) -> Network {
        Network::from_flat(arch, self.theta())
    }

    /// The per-layer module on the device without autodiff, for evaluation.
    pub(crate) fn inference(&self, arch: &Architecture) -> Network {
        Network::from_flat(arch, Tensor::from_inner(self.theta().inner()))
    }

    /// Every value, flat order.
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the values back.
    pub(crate) fn values(&self) -> Result<Vec<f64>, ReadBack> {
        read(self.theta(), "the parameters")
    }

    /// Every parameter's derivative in `grads`, flat order (0 where there is none).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the gradient back.
    pub(crate) fn gradient(&self, grads: &Gradients) -> Result<Vec<f64>, ReadBack> {
        match self.theta.grad(grads) {
            Some(g) => read(g, "a gradient"),
            None => Ok(vec![0.0; self.theta.dims()[0]]),
        }
    }

    /// `f` applied to the parameter vector's value (an inner tensor, no autodiff), tracked
    /// again afterwards: how updates and restores write new values.
    pub(crate) fn map(self, f: impl FnOnce(Tensor<1>) -> Tensor<1>) -> Self {
        Self {
            theta: self
                .theta
                .map(|value| Tensor::from_inner(f(value.inner())).require_grad()),
        }
    }
}
