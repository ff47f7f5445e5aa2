//! A hand-written forward and backward of a whole squiggle network, registered as one node in
//! Burn's autodiff graph, checked against Burn's autodiff of the module.
//!
//! [`squiggle_model::Network`] is the reference: a Burn module whose forward pass is Burn's
//! tensor operations and activation functions, differentiated operation by operation by Burn's
//! autodiff. This crate is an optimisation beside it, chosen with `[train] kernels = "fused"`
//! (squiggle's default) and never silently: every output of squiggle says which of the two
//! computed its numbers.
//!
//! Why it exists: built from Burn's own operations, a hidden layer is a matmul, a bias add and
//! an activation (Burn's softplus alone is seven operations), and a squared-error loss a
//! subtraction, a square, a sum and a scale: dozens of autodiff nodes per step, each with its
//! bookkeeping (about 4 µs on the CPU backends), its temporary tensor and, for
//! transcendental functions, scalar libm calls. For the lessons' seven parameters or a
//! 32-row batch that bookkeeping, not the arithmetic, is most of a step. Here:
//! - [`network_forward`]: every layer, `activation(x·W + b)`, on one flat parameter vector, as
//!   one operation. The forward pass keeps each layer's input and `activation'(x·W + b)`; the
//!   backward pass, written by hand, computes from the output down `dz = grad ⊙ activation'`,
//!   `dW = xᵀ·dz`, `db = Σ dz` and `dx = dz·Wᵀ` for the layer below. A step registers one
//!   tracked tensor and two nodes (this and the loss) whatever the depth, and reads its
//!   gradient back in one piece;
//! - [`squared_error`]: `scale · Σ (prediction − target)²` (SSR with scale 1, MSE with
//!   `1 / values`), whose backward pass is `2 · scale · (prediction − target) · grad`;
//! - [`cross_entropy`]: `scale · Σ −target · ln SoftMax(prediction)`, whose backward pass is
//!   `scale · (SoftMax(prediction) − target) · grad` for one-hot targets;
//! - [`residual_sums`] and [`class_sums`]: a regression's and a classifier's running training
//!   metrics' sums, summed in f64, not differentiable;
//! - [`descend`]: the lessons' gradient-descent update `θ − lr·g` on the flat vector, one pass.
//!
//! The nodes are registered with Burn's autodiff engine through Burn's backend-extension
//! mechanism, so Burn still routes gradients between them. On flex in f32 the kernels are loops over the tensors'
//! memory with softplus vectorised (AVX2 where the CPU has it, bit-equal to the scalar path)
//! and row blocks spread over the cores; other element types and backends compose Burn's
//! backend operations. Tests hold the forward pass, the loss and the gradient of every
//! activation, loss and a range of shapes, row counts and thread counts to Burn's autodiff of
//! the module.
//!
//! Every `unsafe` block of squiggle's libraries is in this crate (the AVX2 entry points, and
//! writing a kernel's blocks into memory not yet initialised).

mod autodiff;
#[cfg(feature = "flex")]
mod classes;
mod compose;
#[cfg(feature = "flex")]
mod flex;
mod kernels;
mod math;
mod network;
#[cfg(feature = "flex")]
mod team;
// ndarray is deprecated upstream but still offered: its kernels are named there. Built with
// no backend (a library check), the extension has nothing to run on.
#[allow(deprecated)]
#[cfg_attr(
    not(any(feature = "flex", feature = "ndarray", feature = "wgpu")),
    allow(unused)
)]
mod ops;

pub use kernels::LayerSizes;
pub use math::softplus_in_place;

use burn::backend::Dispatch;
use burn::prelude::*;
use squiggle_model::{Activation, Architecture, Network};

use crate::ops::FusedOps;

/// The prediction of the network of shape `arch` whose parameters are `theta` (every
/// parameter in flat order, see [`Architecture::tensors`]) for the rows of `x`, as one
/// operation: one autodiff node, and one tracked tensor when `theta` is trained. The same
/// function as [`Network::forward`] on those values, computed by squiggle's own kernels.
///
/// # Shapes
/// - `x`: `[rows, inputs]`, `theta`: `[parameters]`
/// - output: `[rows, outputs]`
pub fn network_forward(x: Tensor<2>, theta: Tensor<1>, arch: &Architecture) -> Tensor<2> {
    run(x, theta, arch.layer_sizes(), arch.activation)
}

/// [`network_forward`] on the values of `net`: the fused kernels' prediction of a module
/// (evaluation and prediction with `kernels = "fused"`).
pub fn forward(net: &Network, x: Tensor<2>) -> Tensor<2> {
    run(x, net.flat(), net.layer_sizes(), net.activation)
}

/// The network operation on layers of these sizes.
fn run(x: Tensor<2>, theta: Tensor<1>, layers: LayerSizes, activation: Activation) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::network(
        x.into_dispatch(),
        theta.into_dispatch(),
        layers,
        activation,
    ))
}

/// Per target column, `Σ (prediction − target)²` (row 0) and `Σ |prediction − target|`
/// (row 1) over the rows, summed in f64: a `[2, outputs]` tensor from which training metrics
/// are accumulated batch by batch without reading predictions back. Not differentiable.
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

/// `scale · Σ −target · ln SoftMax(prediction)` over the rows (SoftMax along each row) as one
/// operation (one autodiff node when training): total cross entropy with `scale = 1`, its mean
/// with `1 / rows`. Its backward pass is `scale · (SoftMax(prediction) · Σ target − target) ·
/// grad` row by row ("Neural Networks Pt. 7"'s `SoftMax − one-hot` for one-hot targets).
///
/// # Shapes
/// - `prediction`, `target`: `[rows, classes]`
/// - output: `[1]`
pub fn cross_entropy(prediction: Tensor<2>, target: Tensor<2>, scale: f64) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::cross_entropy(
        prediction.into_dispatch(),
        target.into_dispatch(),
        scale,
    ))
}

/// A classifier's running training sums for a batch of raw class scores `prediction` and
/// one-hot `target` rows, `[classes, classes + 1]`: row `c` counts the rows of true class `c`
/// predicted as each class (by ArgMax, the lowest class on a tie) and, in its last column,
/// sums their cross entropy. A confusion matrix and a loss added up batch by batch without
/// reading predictions back; summed in f64 on flex. Not differentiable.
pub fn class_sums(prediction: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::class_sums(
        prediction.into_dispatch(),
        target.into_dispatch(),
    ))
}

/// `theta − lr · grad` in one pass: a step of gradient descent on a flat parameter vector (the
/// lessons' rule for the fused kernels' one tensor), the same roundings as Burn's
/// `theta − grad · lr` (a product, then a difference, in the tensors' precision). On flex in
/// f32 it writes into `theta`'s memory when no other tensor shares it, where Burn's two
/// operations take two passes over the parameters. Not differentiable.
pub fn descend(theta: Tensor<1>, grad: Tensor<1>, lr: f64) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::descend(
        theta.into_dispatch(),
        grad.into_dispatch(),
        lr,
    ))
}
