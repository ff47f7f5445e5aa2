//! What training updates: every parameter of the network, held the way the chosen
//! [`Kernels`] compute with it.
//!
//! - Burn's kernels train the module itself ([`Network`]): a tracked tensor per weight matrix
//!   and bias vector, the forward pass in Burn's operations, Burn's optimizers stepping the
//!   module.
//! - The fused kernels train every parameter in one tracked vector ([`Flat`]): the network is
//!   one operation on it (`squiggle_fused::network_forward`), so a step registers one tracked
//!   tensor with Burn's autodiff instead of two per layer, and its gradient comes back in one
//!   read. The per-layer module is a view of it ([`Network::from_flat`]) wherever one is
//!   needed: evaluation, checkpoints' model records.
//!
//! Either way the parameters are visited in flat order (layer by layer, weight before bias,
//! row-major), so everything that reads, updates or freezes them ([`Params::pieces`],
//! [`Params::map`]) works the same on both.

use std::ops::Range;

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use burn::tensor::Gradients;
use squiggle_model::{Architecture, Network, Precision, ReadBack, read};

use crate::engine::kernels::Kernels;

/// The id of the fused kernels' one parameter, the same in every process: optimizer state is
/// keyed by it, so a checkpoint's momentum or Adam moments find their parameter again when a
/// run resumes. It is also the layout checkpoints store optimizer state in, whichever kernels
/// trained (see `optim_record.rs`).
pub(crate) const THETA: u64 = 0;

/// Every parameter of a network, flat order, as one Burn module parameter.
#[derive(Module, Debug)]
pub(crate) struct Flat {
    theta: Param<Tensor<1>>,
}

impl Flat {
    /// `theta` (a tensor on an autodiff device) as the trained parameter.
    fn new(theta: Tensor<1>) -> Self {
        let leaf = theta.detach().set_require_grad(false).require_grad();
        Self {
            theta: Param::initialized(ParamId::from(THETA), leaf),
        }
    }
}

/// The parameters in training.
#[derive(Clone, Debug)]
pub(crate) enum Params {
    /// For the fused kernels: one vector.
    Fused(Flat),
    /// For Burn's kernels: the module.
    Burn(Network),
}

/// One parameter tensor of [`Params`]: its id (what optimizer state is keyed by), where its
/// values sit in flat order, and its shape.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Piece {
    pub(crate) id: u64,
    pub(crate) range: Range<usize>,
    pub(crate) shape: Vec<usize>,
}

impl Params {
    /// `values` (flat order) at `precision` on `device` (an autodiff device), held for
    /// `kernels`.
    pub(crate) fn from_values(
        kernels: Kernels,
        arch: &Architecture,
        values: &[f64],
        device: &Device,
        precision: Precision,
    ) -> Self {
        match kernels {
            Kernels::Fused => {
                let data = TensorData::new(values.to_vec(), [values.len()]);
                Params::Fused(Flat::new(Tensor::<1>::from_data(
                    data,
                    (device, precision.dtype()),
                )))
            }
            Kernels::Burn => Params::Burn(Network::from_values(arch, values, device, precision)),
        }
    }

    /// The values of `net` (on an autodiff device) as fresh trained parameters for
    /// `kernels`, without a copy through the host.
    pub(crate) fn of(kernels: Kernels, arch: &Architecture, net: &Network) -> Self {
        match kernels {
            Kernels::Fused => Params::Fused(Flat::new(net.flat())),
            Kernels::Burn => Params::Burn(Network::from_flat(arch, net.flat())),
        }
    }

    /// The kernels these parameters are held for.
    pub(crate) fn kernels(&self) -> Kernels {
        match self {
            Params::Fused(_) => Kernels::Fused,
            Params::Burn(_) => Kernels::Burn,
        }
    }

    /// The prediction for `x` of the network of shape `arch` with these parameters.
    pub(crate) fn forward(&self, arch: &Architecture, x: Tensor<2>) -> Tensor<2> {
        match self {
            Params::Fused(flat) => squiggle_fused::network_forward(x, flat.theta.val(), arch),
            Params::Burn(net) => net.forward(x),
        }
    }

    /// The per-layer module with these values on the same device (for records).
    pub(crate) fn network(&self, arch: &Architecture) -> Network {
        match self {
            Params::Fused(flat) => Network::from_flat(arch, flat.theta.val()),
            Params::Burn(net) => net.clone(),
        }
    }

    /// The per-layer module on the device without autodiff, for evaluation.
    pub(crate) fn inference(&self, arch: &Architecture) -> Network {
        match self {
            Params::Fused(flat) => Network::from_flat(arch, flat.theta.val().inner()),
            Params::Burn(net) => net.valid(),
        }
    }

    /// Every parameter tensor, flat order, with its place in the flat vector.
    pub(crate) fn pieces(&self) -> Vec<Piece> {
        self.tensors().into_iter().map(|(_, piece)| piece).collect()
    }

    /// Every parameter tensor's value, flattened (on the device, untracked), with its piece.
    pub(crate) fn tensors(&self) -> Vec<(Tensor<1>, Piece)> {
        let mut collect = Collect {
            at: 0,
            pieces: Vec::new(),
            grads: None,
            values: Vec::new(),
        };
        self.visit(&mut collect);
        collect.values.into_iter().zip(collect.pieces).collect()
    }

    /// Every value, flat order (one read from the device).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the values back.
    pub(crate) fn values(&self) -> Result<Vec<f64>, ReadBack> {
        self.read_all(None, "the parameters")
    }

    /// Every parameter's derivative in `grads`, flat order (0 where there is none; one read
    /// from the device).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the gradient back.
    pub(crate) fn gradient(&self, grads: &Gradients) -> Result<Vec<f64>, ReadBack> {
        self.read_all(Some(grads), "a gradient")
    }

    /// The values (or, given `grads`, the gradients) of every tensor, flattened and joined on
    /// the device, then read in one piece.
    fn read_all(
        &self,
        grads: Option<&Gradients>,
        what: &'static str,
    ) -> Result<Vec<f64>, ReadBack> {
        if let Params::Fused(flat) = self {
            // One tensor already: read it as it is (the lessons read every step).
            let theta = flat.theta.val();
            return match grads {
                None => read(theta, what),
                Some(grads) => match theta.grad(grads) {
                    Some(grad) => read(grad, what),
                    None => Ok(vec![0.0; theta.dims()[0]]),
                },
            };
        }
        let mut collect = Collect {
            at: 0,
            pieces: Vec::new(),
            grads,
            values: Vec::new(),
        };
        self.visit(&mut collect);
        let joined = match collect.values.len() {
            1 => collect.values.pop().expect("one tensor"),
            _ => Tensor::cat(collect.values, 0),
        };
        read(joined, what)
    }

    fn visit<V: ModuleVisitor>(&self, visitor: &mut V) {
        match self {
            Params::Fused(flat) => flat.visit(visitor),
            Params::Burn(net) => net.visit(visitor),
        }
    }

    /// These parameters, moved out of `self`, which holds an empty vector on `device` until
    /// it is given new ones: an update that holds the only handle to the values lets the fused
    /// descent write into their memory (see `squiggle_fused::descend`) instead of into a copy,
    /// a pass over every parameter a step (101,770 of them in a 784-[128]-10 network).
    pub(crate) fn take(&mut self, device: &Device) -> Params {
        let empty = Flat {
            theta: Param::initialized(ParamId::from(THETA), Tensor::empty([0], device)),
        };
        std::mem::replace(self, Params::Fused(empty))
    }

    /// `f` applied to every parameter tensor's value (an inner tensor, no autodiff, flattened
    /// to one dimension) with its range in flat order, each tracked again afterwards if it was
    /// (a wholly frozen tensor stays untracked): how updates and restores write new values.
    /// `f` also receives the tensor's gradient in `grads`, when given and there is one.
    pub(crate) fn map(
        self,
        grads: Option<&Gradients>,
        f: impl FnMut(Tensor<1>, Option<Tensor<1>>, Range<usize>) -> Tensor<1>,
    ) -> Self {
        match self {
            Params::Fused(flat) => {
                // One tensor, always tracked, already flat: no visiting, no reshaping.
                let mut f = f;
                // The value's handle is let go before `f` takes it, so that `f` may write into
                // its memory when nothing else holds it (see `squiggle_fused::descend`).
                let (grad, range) = {
                    let theta = flat.theta.val();
                    (
                        grads.and_then(|grads| theta.grad(grads)),
                        0..theta.dims()[0],
                    )
                };
                Params::Fused(Flat {
                    theta: flat.theta.map(|value| {
                        Tensor::from_inner(f(value.inner(), grad, range)).require_grad()
                    }),
                })
            }
            Params::Burn(net) => Params::Burn(net.map(&mut Map { at: 0, grads, f })),
        }
    }

    /// These parameters with the tensors marked in `untracked` (flat order of tensors) no
    /// longer tracked by autodiff: Burn's own way to freeze a whole tensor, which then gets no
    /// gradient, no backward work and no optimizer step.
    pub(crate) fn untrack(self, untracked: &[bool]) -> Self {
        let mut mapper = Untrack { k: 0, untracked };
        match self {
            Params::Fused(flat) => Params::Fused(flat.map(&mut mapper)),
            Params::Burn(net) => Params::Burn(net.map(&mut mapper)),
        }
    }
}

/// Collects every parameter tensor, flattened, in visiting (flat) order: its piece, and its
/// value or gradient.
struct Collect<'a> {
    at: usize,
    pieces: Vec<Piece>,
    grads: Option<&'a Gradients>,
    values: Vec<Tensor<1>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let shape = value.dims().to_vec();
        let len: usize = shape.iter().product();
        // On the device without autodiff: reading registers nothing in the graph.
        let flat = match self.grads {
            None => value.inner().reshape([len]),
            Some(grads) => match value.grad(grads) {
                Some(grad) => grad.reshape([len]),
                None => Tensor::zeros([len], (&value.device(), value.dtype())).inner(),
            },
        };
        self.values.push(flat);
        self.pieces.push(Piece {
            id: param.id.val(),
            range: self.at..self.at + len,
            shape,
        });
        self.at += len;
    }
}

/// Replaces every parameter tensor by `f` of its flattened value, gradient and range.
struct Map<'a, F> {
    at: usize,
    grads: Option<&'a Gradients>,
    f: F,
}

impl<F> ModuleMapper for Map<'_, F>
where
    F: FnMut(Tensor<1>, Option<Tensor<1>>, Range<usize>) -> Tensor<1>,
{
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let value = param.val();
        let grad = self.grads.and_then(|grads| value.grad(grads));
        let tracked = value.is_require_grad();
        let shape = value.shape();
        let len = shape.num_elements();
        let range = self.at..self.at + len;
        self.at += len;
        let f = &mut self.f;
        param.map(|value| {
            let flat = value.inner().reshape([len]);
            let out =
                Tensor::from_inner(f(flat, grad.map(|g| g.reshape([len])), range).reshape(shape));
            if tracked { out.require_grad() } else { out }
        })
    }
}

/// Stops tracking the tensors it is told to.
struct Untrack<'a> {
    k: usize,
    untracked: &'a [bool],
}

impl ModuleMapper for Untrack<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let untrack = self.untracked.get(self.k).copied().unwrap_or(false);
        self.k += 1;
        if untrack {
            param.map(|value| value.set_require_grad(false))
        } else {
            param
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{PT2, device};

    /// Evaluation must not run through autodiff: an untracked forward pass on an autodiff
    /// device still keeps what its backward pass would need until the next backward pass,
    /// so measuring rows after an epoch would hold every chunk's activations at once.
    #[test]
    fn the_inference_network_is_off_the_autodiff_device_for_both_kernels() {
        let arch = Architecture::statquest();
        let autodiff = device().autodiff();
        for kernels in [Kernels::Fused, Kernels::Burn] {
            let params = Params::from_values(kernels, &arch, &PT2, &autodiff, Precision::F32);
            let net = params.inference(&arch);
            let weight = net.output.weight.val();
            assert!(!weight.is_autodiff(), "{kernels:?}: the output weights");
            let flat = read(net.flat(), "parameters").unwrap();
            assert_eq!(flat.len(), PT2.len(), "{kernels:?}");
        }
    }
}
