//! A whole network as one operation on one flat parameter vector: the layers' fused kernels
//! run in a loop, forward and then backward, inside a single autodiff node.
//!
//! Why: Burn's autodiff spends microseconds on every tracked tensor it registers (each
//! parameter tensor becomes a graph of its own, merged into the step's graph) and on every
//! node; for the lesson's seven parameters or a 32-row batch that bookkeeping, not the
//! arithmetic, was most of a step. With every parameter in one vector and the network in one
//! node, a training step registers one tracked tensor and two nodes (this and the loss)
//! whatever the depth, and reads its gradient back in one piece. The arithmetic is the
//! layers' own kernels, so the numbers are those of [`Network::forward`](squiggle_model::Network::forward).

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::{Shape, Slice};

use squiggle_model::Activation;

use crate::ops::FusedKernels;

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

/// The layers' weights (`[fan_in, fan_out]`) and biases (`[fan_out]`) as views of `theta`
/// (flat order: layer by layer, weight row-major before bias).
fn split<B: Backend>(
    theta: &FloatTensor<B>,
    layers: &[(usize, usize)],
) -> Vec<(FloatTensor<B>, FloatTensor<B>)> {
    let mut at = 0;
    let mut take = |len: usize| {
        let range = Slice::new(at as isize, Some((at + len) as isize), 1);
        at += len;
        B::float_slice(theta.clone(), &[range])
    };
    layers
        .iter()
        .map(|&(fan_in, fan_out)| {
            let weight = B::float_reshape(take(fan_in * fan_out), Shape::new([fan_in, fan_out]));
            (weight, take(fan_out))
        })
        .collect()
}

/// The prediction of the network `theta` for `x`: every layer but the last followed by
/// `activation`. With `track`, also each layer's state for [`backward`].
pub(crate) fn forward<B: FusedKernels>(
    x: FloatTensor<B>,
    theta: &FloatTensor<B>,
    layers: &[(usize, usize)],
    activation: Activation,
    track: bool,
) -> (FloatTensor<B>, Vec<LayerState<B>>) {
    let last = layers.len() - 1;
    let mut states = Vec::with_capacity(if track { layers.len() } else { 0 });
    let mut h = x;
    for (i, (weight, bias)) in split::<B>(theta, layers).into_iter().enumerate() {
        let act = if i == last {
            Activation::Identity
        } else {
            activation
        };
        let (out, slope) = B::dense_forward(h.clone(), weight.clone(), bias, act, track);
        if track {
            states.push(LayerState {
                input: h,
                weight,
                slope,
            });
        }
        h = out;
    }
    (h, states)
}

/// From the gradient of the prediction, the gradient of `theta` (flat order) and, when
/// `input` asks for it, of `x`: each layer's backward kernel, from the output down.
pub(crate) fn layer_by_layer<B: FusedKernels>(
    states: Vec<LayerState<B>>,
    grad: FloatTensor<B>,
    input: bool,
) -> (Option<FloatTensor<B>>, FloatTensor<B>) {
    let mut pieces = Vec::with_capacity(2 * states.len());
    let mut delta = Some(grad);
    let count = states.len();
    for (i, state) in states.into_iter().enumerate().rev() {
        let wants_dx = i > 0 || input;
        let grad = delta.take().expect("every layer passes a gradient down");
        let (dx, dw, db) =
            B::dense_backward(state.input, state.weight, state.slope, grad, wants_dx);
        let len = dw.shape().num_elements();
        pieces.push(db);
        pieces.push(B::float_reshape(dw, Shape::new([len])));
        delta = dx;
    }
    debug_assert_eq!(pieces.len(), 2 * count);
    pieces.reverse();
    (delta, B::float_cat(pieces, 0))
}
