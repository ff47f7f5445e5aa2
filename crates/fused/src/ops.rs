//! The fused operations as a Burn backend extension: the kernels every backend runs
//! ([`FusedKernels`]) and the operations Burn dispatches ([`FusedOps`]).
//!
//! Each backend computes them with [`FusedKernels`]: on flex, loops over the tensors' memory,
//! softplus vectorised (`math.rs`); elsewhere, compositions of Burn's operations (`compose.rs`).
//! The autodiff device wraps them in one node each (`autodiff.rs`).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use squiggle_model::Activation;

use crate::compose;
use crate::network::{self, LayerSizes, LayerState};

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
    /// See [`squared_error`](crate::squared_error).
    fn squared_error(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self>;

    /// See [`network_forward`](crate::network_forward).
    fn network(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        layers: LayerSizes,
        activation: Activation,
    ) -> FloatTensor<Self>;

    /// See [`residual_sums`](crate::residual_sums); never tracked by autodiff.
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
