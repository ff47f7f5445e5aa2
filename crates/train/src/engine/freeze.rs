//! Freezing: which parameters learn, down to one scalar.
//!
//! One mechanism for every optimizer and both modes. The parameters are one vector (see
//! `params.rs`); when some of them are frozen, the vector trains as a whole and after every
//! update its frozen entries are put back to the values they had at the start (weight decay,
//! momentum or Adam would otherwise move them). Frozen values never change, so they are
//! captured once, on the device; nothing is copied per step, and a run that trains every
//! parameter pays nothing.

use burn::prelude::*;

use crate::engine::params::Flat;

/// The frozen entries of the parameter vector, if any.
pub(crate) struct Freeze {
    partial: Option<Partial>,
}

/// Which entries are frozen, and their values.
struct Partial {
    frozen: Tensor<1, Bool>,
    start: Tensor<1>,
}

impl Freeze {
    /// Captures the frozen entries (`trainable[i]` false) of `params` as they are now.
    pub(crate) fn new(params: &Flat, trainable: &[bool]) -> Self {
        if trainable.iter().all(|&t| t) {
            return Self { partial: None };
        }
        let start = params.theta().inner();
        let device = start.device();
        let frozen: Vec<bool> = trainable.iter().map(|&t| !t).collect();
        let frozen =
            Tensor::<1, Bool>::from_data(TensorData::new(frozen, [trainable.len()]), &device);
        Self {
            partial: Some(Partial { frozen, start }),
        }
    }

    /// `params` with every frozen entry back at its start value.
    pub(crate) fn restore(&self, params: Flat) -> Flat {
        match &self.partial {
            None => params,
            Some(p) => params.map(|value| value.mask_where(p.frozen.clone(), p.start.clone())),
        }
    }
}
