//! Freezing: which parameters learn, down to one scalar.
//!
//! One mechanism for every optimizer, both modes and both kernels. A tensor whose every entry
//! is frozen is not tracked by autodiff (Burn's own freezing: no gradient, no backward work, no
//! optimizer step); for Burn's kernels that is each weight matrix or bias vector that does not
//! train, while the fused kernels' one vector always trains as a whole. When some entries of a
//! trained tensor are frozen, they are put back to the values they had at the start after
//! every update (weight decay, momentum or Adam would otherwise move them). Frozen values
//! never change, so they are captured once, on the device; nothing is copied per step, and a
//! tensor with nothing frozen pays nothing.

use burn::prelude::*;

use crate::engine::params::Params;

/// The frozen entries of each parameter tensor (flat order).
pub(crate) struct Freeze {
    tensors: Vec<Frozen>,
}

/// What is frozen of one tensor.
enum Frozen {
    /// Nothing: it trains whole.
    Nothing,
    /// Every entry: the tensor is not tracked.
    Whole,
    /// Some entries, put back after every update.
    Some(Box<Partial>),
}

/// Which entries of one tensor (flattened) are frozen, and their values.
struct Partial {
    frozen: Tensor<1, Bool>,
    start: Tensor<1>,
}

impl Freeze {
    /// Freezes the entries of `params` whose `trainable[i]` is false (flat order) at their
    /// values now: the tensors frozen whole stop being tracked, the others' frozen entries are
    /// captured for [`Freeze::restore`].
    pub(crate) fn new(params: Params, trainable: &[bool]) -> (Self, Params) {
        if trainable.iter().all(|&t| t) {
            return (
                Self {
                    tensors: Vec::new(),
                },
                params,
            );
        }
        let tensors: Vec<Frozen> = params
            .tensors()
            .into_iter()
            .map(|(value, piece)| {
                let mask = &trainable[piece.range.clone()];
                if mask.iter().all(|&t| t) {
                    return Frozen::Nothing;
                }
                if mask.iter().all(|&t| !t) {
                    return Frozen::Whole;
                }
                let frozen: Vec<bool> = mask.iter().map(|&t| !t).collect();
                let device = value.device();
                Frozen::Some(Box::new(Partial {
                    frozen: Tensor::from_data(TensorData::new(frozen, [mask.len()]), &device),
                    start: value,
                }))
            })
            .collect();
        let whole: Vec<bool> = tensors.iter().map(|t| matches!(t, Frozen::Whole)).collect();
        let params = params.untrack(&whole);
        (Self { tensors }, params)
    }

    /// `params` with every frozen entry of a trained tensor back at its start value.
    pub(crate) fn restore(&self, params: Params) -> Params {
        if !self.tensors.iter().any(|t| matches!(t, Frozen::Some(_))) {
            return params;
        }
        let mut k = 0;
        params.map(None, |value, _, _| {
            let out = match &self.tensors[k] {
                Frozen::Nothing | Frozen::Whole => value,
                Frozen::Some(p) => value.mask_where(p.frozen.clone(), p.start.clone()),
            };
            k += 1;
            out
        })
    }
}
