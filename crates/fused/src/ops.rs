//! The fused operations as a Burn backend extension ([`FusedOps`]): the operations Burn
//! dispatches to the tensors' backend, which each backend computes with its
//! [`FusedKernels`]; the autodiff device wraps them in one node each (`autodiff.rs`).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use squiggle_model::Activation;

use crate::kernels::{FusedKernels, LayerSizes};
use crate::network;

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

    /// See [`cross_entropy`](crate::cross_entropy).
    fn cross_entropy(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self>;

    /// See [`class_sums`](crate::class_sums); never tracked by autodiff.
    fn class_sums(prediction: FloatTensor<Self>, target: FloatTensor<Self>) -> FloatTensor<Self>;

    /// See [`descend`](crate::descend); never tracked by autodiff.
    fn descend(theta: FloatTensor<Self>, grad: FloatTensor<Self>, lr: f64) -> FloatTensor<Self>;
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

            fn cross_entropy(
                prediction: FloatTensor<Self>,
                target: FloatTensor<Self>,
                scale: f64,
            ) -> FloatTensor<Self> {
                <Self as FusedKernels>::cross_entropy(prediction, target, scale)
            }

            fn class_sums(
                prediction: FloatTensor<Self>,
                target: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                <Self as FusedKernels>::class_sums(prediction, target)
            }

            fn descend(
                theta: FloatTensor<Self>,
                grad: FloatTensor<Self>,
                lr: f64,
            ) -> FloatTensor<Self> {
                <Self as FusedKernels>::descend(theta, grad, lr)
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
