//! The kernels of the fused operations on one backend ([`FusedKernels`]) and the per-layer
//! state their backward pass takes: the layer below the network operation and the autodiff
//! node, which both call them.
//!
//! Each backend computes them: on flex, loops over the tensors' memory, softplus vectorised
//! (`flex.rs`, `math.rs`); elsewhere, compositions of Burn's operations (`compose.rs`, the
//! default bodies).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::Shape;
use squiggle_model::Activation;

use crate::compose;

/// `(fan_in, fan_out)` of each layer, input to output.
pub type LayerSizes = Vec<(usize, usize)>;

/// What the backward pass needs of one layer: its input, its weights and its activation's
/// slope.
#[derive(Clone, Debug)]
pub struct LayerState<B: Backend> {
    pub(crate) input: FloatTensor<B>,
    pub(crate) weight: FloatTensor<B>,
    pub(crate) slope: Option<FloatTensor<B>>,
}

/// The kernels of the fused operations on one backend, without autodiff: the forward pass
/// with or without the slope the backward pass needs, and the backward pass.
///
/// The default bodies compose Burn's operations, so any backend has them; flex overrides them
/// with loops over its memory (its backward pass as a whole network's, which writes each
/// layer's gradient into the flat vector, so it leaves `dense_backward` composed: what its
/// other element types take, layer by layer).
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
        Self::layers_backward(states, grad, input)
    }

    /// [`FusedKernels::network_backward`] layer by layer: each layer's
    /// [`FusedKernels::dense_backward`], from the output down (what a backend that goes
    /// through the whole network at once falls back to for networks it does not cover).
    fn layers_backward(
        states: Vec<LayerState<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>) {
        let mut pieces = Vec::with_capacity(2 * states.len());
        let mut delta = Some(grad);
        let count = states.len();
        for (i, state) in states.into_iter().enumerate().rev() {
            let wants_dx = i > 0 || input;
            let grad = delta.take().expect("every layer passes a gradient down");
            let (dx, dw, db) =
                Self::dense_backward(state.input, state.weight, state.slope, grad, wants_dx);
            let len = dw.shape().num_elements();
            pieces.push(db);
            pieces.push(Self::float_reshape(dw, Shape::new([len])));
            delta = dx;
        }
        debug_assert_eq!(pieces.len(), 2 * count);
        pieces.reverse();
        (delta, Self::float_cat(pieces, 0))
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

    /// `scale · Σ −target · ln SoftMax(prediction)` over the rows (SoftMax along each row), a
    /// one-element tensor.
    fn cross_entropy(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        compose::cross_entropy::<Self>(prediction, target, scale)
    }

    /// The gradients of [`FusedKernels::cross_entropy`] times `grad` (a one-element tensor):
    /// by the prediction, `scale · grad · (SoftMax(prediction) · Σ target − target)` row by
    /// row; by the target, when `target_too` asks for it, `−scale · grad · ln SoftMax`.
    fn cross_entropy_backward(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
        grad: FloatTensor<Self>,
        target_too: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>) {
        compose::cross_entropy_backward::<Self>(prediction, target, scale, grad, target_too)
    }

    /// A classifier's running sums, `[classes, classes + 1]`: per true class (weighted by the
    /// target), the rows predicted as each class by ArgMax (the lowest class on a tie) and
    /// their summed cross entropy.
    fn class_sums(prediction: FloatTensor<Self>, target: FloatTensor<Self>) -> FloatTensor<Self> {
        compose::class_sums::<Self>(prediction, target)
    }

    /// `theta − lr · grad`: a step of gradient descent.
    fn descend(theta: FloatTensor<Self>, grad: FloatTensor<Self>, lr: f64) -> FloatTensor<Self> {
        compose::descend::<Self>(theta, grad, lr)
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
