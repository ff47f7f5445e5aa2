//! One forward and backward pass: the loss and its derivative with respect to every parameter.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Gradients;
use squiggle_model::{Architecture, Network, Precision};

use crate::{Dataset, LossKind};

/// Predictions and loss of a network on a data set (a forward pass only).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// One row per data row, `outputs` values each.
    pub predictions: Vec<Vec<f64>>,
    /// The loss of those predictions.
    pub loss: f64,
}

/// The loss of a network shape on a data set, ready to evaluate and differentiate at any
/// parameter vector.
///
/// The data is uploaded once to `device.autodiff()`; parameters live on the host (as the
/// lesson's table does) and are uploaded at each call. Tensors holding no parameter whose
/// derivative is wanted are not tracked, so frozen parts of the network cost no backward work.
pub struct Backprop {
    arch: Architecture,
    device: Device,
    precision: Precision,
    loss: LossKind,
    x: Tensor<2>,
    y: Tensor<2>,
    tracked: Vec<bool>,
}

impl Backprop {
    /// Uploads `data` to `device.autodiff()`; derivatives of every parameter are wanted.
    pub fn new(
        arch: &Architecture,
        data: &Dataset,
        loss: LossKind,
        device: &Device,
        precision: Precision,
    ) -> Self {
        let device = device.clone().autodiff();
        let (x, y) = data.to_tensors(&device, precision);
        Self {
            tracked: vec![true; arch.tensors().len()],
            arch: arch.clone(),
            device,
            precision,
            loss,
            x,
            y,
        }
    }

    /// Restricts derivatives to the tensors holding at least one `true` in `wanted` (one
    /// entry per scalar parameter); the others come back as 0.
    pub fn wanting(mut self, wanted: &[bool]) -> Self {
        self.tracked = self
            .arch
            .tensors()
            .iter()
            .map(|spec| wanted[spec.range()].iter().any(|&w| w))
            .collect();
        self
    }

    /// The loss at `values` and its derivative with respect to every parameter (flat order).
    ///
    /// Derivatives of untracked tensors are reported as 0.
    pub fn loss_and_gradient(&self, values: &[f64]) -> (f64, Vec<f64>) {
        let mut net = Network::from_values(&self.arch, values, &self.device, self.precision);
        let mut tracked = self.tracked.iter().copied();
        for layer in net
            .hidden
            .iter_mut()
            .chain(std::iter::once(&mut net.output))
        {
            freeze_unless(&mut layer.weight, tracked.next());
            freeze_unless(&mut layer.bias, tracked.next());
        }
        let loss = self
            .loss
            .compute(net.forward(self.x.clone()), self.y.clone());
        let grads = loss.backward();
        let mut gradient = Vec::with_capacity(values.len());
        for (layer, specs) in net.layers().zip(self.arch.tensors().chunks(2)) {
            gradient.extend(read_grad(&layer.weight, &grads, specs[0].len()));
            gradient.extend(read_grad(&layer.bias, &grads, specs[1].len()));
        }
        (read_scalar(loss), gradient)
    }

    /// The loss at `values`, without derivatives.
    pub fn loss(&self, values: &[f64]) -> f64 {
        read_scalar(self.loss.compute(self.forward(values), self.y.clone()))
    }

    /// The predictions and the loss at `values` (a forward pass only).
    pub fn evaluate(&self, values: &[f64]) -> Evaluation {
        let predicted = self.forward(values);
        let loss = read_scalar(self.loss.compute(predicted.clone(), self.y.clone()));
        let flat = predicted
            .try_into_vec_as::<f64>()
            .expect("reading predictions back from the device should succeed");
        Evaluation {
            loss,
            predictions: flat
                .chunks(self.arch.outputs)
                .map(<[f64]>::to_vec)
                .collect(),
        }
    }

    /// The untracked forward pass at `values`.
    fn forward(&self, values: &[f64]) -> Tensor<2> {
        let net = Network::from_values(&self.arch, values, &self.device, self.precision).no_grad();
        net.forward(self.x.clone())
    }
}

fn freeze_unless<const D: usize>(param: &mut Param<Tensor<D>>, tracked: Option<bool>) {
    if tracked == Some(false) {
        let frozen = param.clone().set_require_grad(false);
        *param = frozen;
    }
}

fn read_grad<const D: usize>(param: &Param<Tensor<D>>, grads: &Gradients, len: usize) -> Vec<f64> {
    match param.grad(grads) {
        Some(g) => g
            .try_into_vec_as::<f64>()
            .expect("reading a gradient back from the device should succeed"),
        None => vec![0.0; len],
    }
}

fn read_scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f64>()
}
