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

use burn::backend::Backend;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, Slice};

use squiggle_model::Activation;

use crate::kernels::{FusedKernels, LayerState};

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
