//! Freezing: which parameters learn, down to one scalar inside a tensor.
//!
//! One mechanism for every optimizer and both modes. A tensor with no trainable scalar stops
//! requiring gradients, so autodiff does no work for it and no optimizer touches it. A tensor
//! with some frozen scalars trains as a whole, and after every update its frozen scalars are
//! put back to the values they had at the start (weight decay or momentum would otherwise
//! move them). Frozen values never change, so they are captured once, on the device; nothing
//! is copied per step, and tensors that are all one way cost nothing.

use burn::module::Param;
use burn::prelude::*;
use squiggle_model::{Architecture, Network};

/// The frozen scalars of each partly trainable tensor.
pub(crate) struct Freeze {
    /// One entry per tensor, in flat order: `None` for tensors that are all one way.
    partial: Vec<Option<Partial>>,
}

/// A tensor with some frozen scalars.
struct Partial {
    /// True where the scalar is frozen (flattened, row-major).
    frozen: Tensor<1, Bool>,
    /// The tensor's values at the start (flattened); only the frozen ones are used.
    start: Tensor<1>,
}

impl Freeze {
    /// Freezes the parameters of `net` that `trainable` (one entry per scalar, flat order)
    /// marks false, and returns the network with its fully frozen tensors untracked.
    pub(crate) fn new(
        mut net: Network,
        arch: &Architecture,
        trainable: &[bool],
    ) -> (Network, Self) {
        let specs = arch.tensors();
        let mut partial = Vec::with_capacity(specs.len());
        for (layer, pair) in net.layers_mut().zip(specs.chunks(2)) {
            let (weight, bias) = (&trainable[pair[0].range()], &trainable[pair[1].range()]);
            let (param, frozen) = freeze(layer.weight.clone(), weight);
            layer.weight = param;
            partial.push(frozen);
            let (param, frozen) = freeze(layer.bias.clone(), bias);
            layer.bias = param;
            partial.push(frozen);
        }
        (net, Self { partial })
    }

    /// Returns true if and only if no tensor is partly frozen (updates need no restoring).
    pub(crate) fn is_whole(&self) -> bool {
        self.partial.iter().all(Option::is_none)
    }

    /// Puts the frozen scalars of partly trainable tensors back after an update.
    pub(crate) fn restore(&self, mut net: Network) -> Network {
        if self.is_whole() {
            return net;
        }
        let mut partial = self.partial.iter();
        for layer in net.layers_mut() {
            if let Some(Some(p)) = partial.next() {
                layer.weight = p.restore(layer.weight.clone());
            }
            if let Some(Some(p)) = partial.next() {
                layer.bias = p.restore(layer.bias.clone());
            }
        }
        net
    }
}

/// Untracks a tensor with no trainable scalar; remembers the frozen ones of a mixed tensor.
fn freeze<const D: usize>(
    param: Param<Tensor<D>>,
    trainable: &[bool],
) -> (Param<Tensor<D>>, Option<Partial>) {
    if !trainable.iter().any(|&t| t) {
        return (param.set_require_grad(false), None);
    }
    if trainable.iter().all(|&t| t) {
        return (param, None);
    }
    let value = param.val().detach().inner();
    let device = value.device();
    let start = value.reshape([trainable.len()]);
    let frozen: Vec<bool> = trainable.iter().map(|&t| !t).collect();
    let frozen = Tensor::<1, Bool>::from_data(TensorData::new(frozen, [trainable.len()]), &device);
    (param, Some(Partial { frozen, start }))
}

impl Partial {
    fn restore<const D: usize>(&self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|value| {
            let dims = value.dims();
            let flat = value.inner().reshape([self.start.dims()[0]]);
            let kept = flat.mask_where(self.frozen.clone(), self.start.clone());
            Tensor::from_inner(kept.reshape(dims)).require_grad()
        })
    }
}
