//! The loss and its gradient at any parameter vector: the probe that explanations, gradient
//! checks and evaluations look through.

use burn::prelude::*;
use squiggle_model::{Architecture, Network, Precision, ReadBack, read};

use crate::data::Dataset;
use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::engine::params::Params;
use crate::engine::trainer::{backward, scalar};

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
/// The data is uploaded once to `device.autodiff()`; parameters come from the host and are
/// uploaded at each call, every one of them tracked, so the derivative of every parameter —
/// frozen or not — comes through the same forward and backward pass the training core takes
/// with `kernels`: Burn's autodiff of the module, or the fused backward.
pub struct Backprop {
    arch: Architecture,
    device: Device,
    precision: Precision,
    kernels: Kernels,
    loss: LossKind,
    x: Tensor<2>,
    y: Tensor<2>,
}

impl Backprop {
    /// Uploads `data` to `device.autodiff()`, to compute with `kernels`.
    pub fn new(
        arch: &Architecture,
        data: &Dataset,
        loss: LossKind,
        device: &Device,
        precision: Precision,
        kernels: Kernels,
    ) -> Self {
        let device = device.clone().autodiff();
        let rows: Vec<u32> = (0..data.len() as u32).collect();
        let (x, y) = data.gather(&rows, &device, precision);
        Self {
            arch: arch.clone(),
            device,
            precision,
            kernels,
            loss,
            x,
            y,
        }
    }

    /// The precision the loss is computed at.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// How many rows the loss sums.
    pub fn rows(&self) -> usize {
        self.x.dims()[0]
    }

    /// What computes the passes.
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The same probe computing with `kernels` (the data stays where it is).
    pub fn with_kernels(&self, kernels: Kernels) -> Self {
        Self {
            arch: self.arch.clone(),
            device: self.device.clone(),
            precision: self.precision,
            kernels,
            loss: self.loss,
            x: self.x.clone(),
            y: self.y.clone(),
        }
    }

    /// The loss at `values` and its derivative with respect to every parameter (flat order).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand a value back.
    pub fn loss_and_gradient(&self, values: &[f64]) -> Result<(f64, Vec<f64>), ReadBack> {
        let params = Params::from_values(
            self.kernels,
            &self.arch,
            values,
            &self.device,
            self.precision,
        );
        let pass = backward(
            &self.arch,
            &params,
            self.x.clone(),
            self.y.clone(),
            self.loss,
        );
        let gradient = params.gradient(&pass.grads)?;
        Ok((scalar(pass.loss, "the loss")?, gradient))
    }

    /// The loss at `values`, without derivatives.
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the loss back.
    pub fn loss(&self, values: &[f64]) -> Result<f64, ReadBack> {
        scalar(
            self.loss
                .compute(self.kernels, self.forward(values), self.y.clone()),
            "the loss",
        )
    }

    /// The predictions and the loss at `values` (a forward pass only).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand a value back.
    pub fn evaluate(&self, values: &[f64]) -> Result<Evaluation, ReadBack> {
        let predicted = self.forward(values);
        let loss = scalar(
            self.loss
                .compute(self.kernels, predicted.clone(), self.y.clone()),
            "the loss",
        )?;
        let flat = read(predicted, "predictions")?;
        Ok(Evaluation {
            loss,
            predictions: flat
                .chunks(self.arch.outputs)
                .map(<[f64]>::to_vec)
                .collect(),
        })
    }

    /// The untracked forward pass at `values`.
    fn forward(&self, values: &[f64]) -> Tensor<2> {
        let net = Network::from_values(&self.arch, values, &self.device, self.precision).no_grad();
        self.kernels.forward(&net, self.x.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{device, lesson_data};
    use squiggle_model::lesson;

    #[test]
    fn evaluate_reproduces_the_black_box_predictions() {
        let probe = Backprop::new(
            &Architecture::statquest(),
            &lesson_data(),
            LossKind::Ssr,
            &device(),
            Precision::F64,
            Kernels::Burn,
        );
        let eval = probe.evaluate(&lesson::PT1).unwrap();
        for (p, want) in eval.predictions.iter().zip([-0.0110, 1.0348, 0.0046]) {
            assert!((p[0] - want).abs() < 5e-5, "{:?}", eval.predictions);
        }
        assert!((eval.loss - 0.00136).abs() < 1e-5);
        assert_eq!(eval.loss, probe.loss(&lesson::PT1).unwrap());
    }
}
