//! Fused operations: the whole network, and the squared-error loss, each one node of Burn's
//! autodiff graph with its backward pass written once.
//!
//! Built from Burn's own operations, a hidden layer is a matmul, a bias add and an activation
//! (softplus alone is four operations), and the loss a subtraction, a square, a sum and a
//! scale: about a dozen autodiff nodes per step, each with its bookkeeping (about 4 µs on the
//! CPU backends) and its temporary tensor. Here each is one node:
//! - [`network_forward`]: every layer, `activation(x·W + b)`, on one flat parameter vector.
//!   The forward pass keeps each layer's input and `activation'(x·W + b)`; the backward pass
//!   computes, from the output down, `dz = grad ⊙ activation'`, `dW = xᵀ·dz`, `db = Σ dz` and
//!   `dx = dz·Wᵀ` for the layer below;
//! - [`squared_error`]: `scale · Σ (prediction − target)²` (SSR with scale 1, MSE with
//!   `1 / values`), whose backward pass is `2 · scale · (prediction − target) · grad`.
//!
//! Gradients still come from Burn's autodiff engine: these nodes are registered with it
//! (Burn's backend-extension mechanism) like any built-in operation, and `gradcheck` and
//! `explain` compare them with finite differences and the hand-written chain rule.
//!
//! Each backend computes them with [`FusedKernels`]: on flex, loops over the tensors' memory,
//! softplus vectorised ([`math`]); elsewhere, compositions of Burn's operations.

// ndarray is deprecated upstream but still offered: its kernels are named here.
#![allow(deprecated)]

mod autodiff;
mod compose;
#[cfg(feature = "flex")]
mod flex;
mod math;
mod network;

pub use math::softplus_in_place;
pub use network::{LayerSizes, LayerState};

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::prelude::*;

use crate::Activation;

/// The kernels of the fused operations on one backend, without autodiff: the forward pass
/// with or without the slope the backward pass needs, and the backward pass.
///
/// The default bodies compose Burn's operations, so any backend has them; flex overrides them
/// with loops over its memory.
pub trait FusedKernels: Backend {
    /// `activation(x·w + b)` for `x` `[rows, fan_in]`, `w` `[fan_in, fan_out]`, `b`
    /// `[fan_out]`; with `slope`, also `activation'(x·w + b)` (none for the identity, whose
    /// slope is 1).
    fn dense_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        activation: Activation,
        slope: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>) {
        compose::dense_forward::<Self>(x, w, b, activation, slope)
    }

    /// The gradients of a dense layer from the gradient of its output: `(dx, dw, db)`, `dx`
    /// only when `input` asks for it.
    fn dense_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        slope: Option<FloatTensor<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (
        Option<FloatTensor<Self>>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        compose::dense_backward::<Self>(x, w, slope, grad, input)
    }

    /// The gradient of a whole network's parameters (flat order) and, when `input` asks for
    /// it, of its input, from the gradient of its prediction and the layers' states of the
    /// forward pass. By default each layer's [`FusedKernels::dense_backward`] in turn; a
    /// backend may go through the whole network at once.
    fn network_backward(
        states: Vec<LayerState<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>) {
        network::layer_by_layer::<Self>(states, grad, input)
    }

    /// `scale · Σ (prediction − target)²`, a one-element tensor.
    fn squared_error(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        compose::squared_error::<Self>(prediction, target, scale)
    }

    /// Per target column, `Σ (prediction − target)²` (row 0) and `Σ |prediction − target|`
    /// (row 1) over the rows: a `[2, outputs]` tensor, summed in f64.
    fn residual_sums(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        compose::residual_sums::<Self>(prediction, target)
    }

    /// The gradient of [`FusedKernels::squared_error`] with respect to the prediction, times
    /// `grad` (a one-element tensor): `2 · scale · (prediction − target) · grad`.
    fn squared_error_backward(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        compose::squared_error_backward::<Self>(prediction, target, scale, grad)
    }
}

/// The fused operations as Burn operations: dispatched to the tensors' backend, and one
/// autodiff node each on an autodiff device. List every backend squiggle compiles: calling an
/// extension on a backend it does not list panics.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    Cube: cfg(feature = "wgpu"),
    Autodiff
)]
pub trait FusedOps: Backend {
    /// See [`squared_error`].
    fn squared_error(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self>;

    /// See [`network_forward`].
    fn network(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        layers: LayerSizes,
        activation: Activation,
    ) -> FloatTensor<Self>;

    /// See [`residual_sums`]; never tracked by autodiff.
    fn residual_sums(prediction: FloatTensor<Self>, target: FloatTensor<Self>)
    -> FloatTensor<Self>;
}

/// A concrete backend runs the kernels directly (no slope: nothing will go backwards).
macro_rules! concrete_backend {
    ($backend:ty) => {
        impl FusedOps for $backend {
            fn squared_error(
                prediction: FloatTensor<Self>,
                target: FloatTensor<Self>,
                scale: f64,
            ) -> FloatTensor<Self> {
                <Self as FusedKernels>::squared_error(prediction, target, scale)
            }

            fn network(
                x: FloatTensor<Self>,
                theta: FloatTensor<Self>,
                layers: LayerSizes,
                activation: Activation,
            ) -> FloatTensor<Self> {
                network::forward::<Self>(x, &theta, &layers, activation, false).0
            }

            fn residual_sums(
                prediction: FloatTensor<Self>,
                target: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                <Self as FusedKernels>::residual_sums(prediction, target)
            }
        }
    };
}

#[cfg(feature = "flex")]
concrete_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
impl FusedKernels for burn::backend::NdArray {}
#[cfg(feature = "ndarray")]
concrete_backend!(burn::backend::NdArray);
#[cfg(feature = "wgpu")]
impl FusedKernels for burn::backend::Cube {}
#[cfg(feature = "wgpu")]
concrete_backend!(burn::backend::Cube);

/// The prediction of the network of shape `arch` whose parameters are `theta` (every
/// parameter in flat order, see [`Architecture::tensors`]) for the rows of `x`, as one
/// operation: one autodiff node, and one tracked tensor when `theta` is trained. The same
/// numbers as [`Network::forward`](crate::Network::forward) on those values.
///
/// # Shapes
/// - `x`: `[rows, inputs]`, `theta`: `[parameters]`
/// - output: `[rows, outputs]`
///
/// [`Architecture::tensors`]: crate::Architecture::tensors
pub fn network_forward(x: Tensor<2>, theta: Tensor<1>, arch: &crate::Architecture) -> Tensor<2> {
    forward_layers(x, theta, arch.layer_sizes(), arch.activation)
}

/// [`network_forward`] for layers of these sizes: what [`Network::forward`] runs.
///
/// [`Network::forward`]: crate::Network::forward
pub(crate) fn forward_layers(
    x: Tensor<2>,
    theta: Tensor<1>,
    layers: LayerSizes,
    activation: Activation,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::network(
        x.into_dispatch(),
        theta.into_dispatch(),
        layers,
        activation,
    ))
}

/// Per target column, `Σ (prediction − target)²` (row 0) and `Σ |prediction − target|`
/// (row 1) over the rows, summed in f64: a `[2, outputs]` tensor from which training metrics are
/// accumulated batch by batch without reading predictions back. Not differentiable.
pub fn residual_sums(prediction: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::residual_sums(
        prediction.into_dispatch(),
        target.into_dispatch(),
    ))
}

/// `scale · Σ (prediction − target)²` as one operation (one autodiff node when training):
/// SSR with `scale = 1`, MSE with `scale = 1 / (rows × outputs)`.
pub fn squared_error(prediction: Tensor<2>, target: Tensor<2>, scale: f64) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::squared_error(
        prediction.into_dispatch(),
        target.into_dispatch(),
        scale,
    ))
}
