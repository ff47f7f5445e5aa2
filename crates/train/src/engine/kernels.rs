//! Which code computes a network's forward and backward passes: Burn's, or squiggle's own.
//!
//! Burn's autodiff of the Burn module ([`Network`]) is the reference. The fused kernels
//! (crate `squiggle_fused`) are a hand-written forward and backward of the whole network,
//! registered as one node of Burn's autodiff graph: much faster on small networks and batches,
//! checked against the reference in tests, and named in every output that they computed.

use burn::prelude::*;
use squiggle_model::Network;

squiggle_model::named_enum! {
    /// What computes the network's predictions and gradients (`[train] kernels`,
    /// `--kernels`).
    #[derive(Default)]
    pub enum Kernels as "kernels" {
        /// squiggle's fused kernels: the whole network as one operation whose backward pass is
        /// written by hand, and each loss likewise (squared errors, cross entropy). The
        /// default: the same numbers within f32 rounding, several times faster on the lessons
        /// and on small batches.
        #[default]
        Fused = "fused",
        /// Burn's own: the module's forward pass in Burn's tensor operations and activation
        /// functions, Burn's losses, gradients from Burn's autodiff operation by operation, and
        /// Burn's optimizers on the module. The reference the fused kernels are checked
        /// against.
        Burn = "burn",
    }
}

impl Kernels {
    /// What computed the numbers, for the first lines of outputs: `fused kernels` or
    /// `Burn autodiff`.
    pub fn label(self) -> &'static str {
        match self {
            Kernels::Fused => "fused kernels",
            Kernels::Burn => "Burn autodiff",
        }
    }

    /// Whose derivatives these are: `fused backward` or `Burn's autodiff`.
    pub fn derivative_label(self) -> &'static str {
        match self {
            Kernels::Fused => "fused backward",
            Kernels::Burn => "Burn's autodiff",
        }
    }

    /// The prediction of `net` for the rows of `x`, computed by these kernels.
    ///
    /// # Shapes
    /// - `x`: `[rows, inputs]`
    /// - output: `[rows, outputs]`
    pub fn forward(self, net: &Network, x: Tensor<2>) -> Tensor<2> {
        match self {
            Kernels::Fused => squiggle_fused::forward(net, x),
            Kernels::Burn => net.forward(x),
        }
    }

    /// Per target column, `Σ (prediction − target)²` (row 0) and `Σ |prediction − target|`
    /// (row 1) over the rows, a `[2, outputs]` tensor on the device, never tracked by autodiff:
    /// what running training metrics add up batch by batch without reading predictions back.
    /// The fused kernel sums in f64; Burn's operations in the tensors' precision.
    pub fn residual_sums(self, prediction: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
        match self {
            Kernels::Fused => squiggle_fused::residual_sums(prediction, target),
            Kernels::Burn => {
                let d = prediction.detach() - target.detach();
                let squared = d.clone().powi_scalar(2).sum_dim(0);
                Tensor::cat(vec![squared, d.abs().sum_dim(0)], 0)
            }
        }
    }

    /// For a classifier's raw scores `prediction` and one-hot `target` rows, per true class:
    /// the rows predicted as each class (by ArgMax, the lowest class on a tie, as
    /// [`argmax`](crate::argmax)) and their summed cross entropy, `[classes, classes + 1]` on
    /// the device, never tracked by autodiff: what a classifier's running training metrics
    /// (a confusion matrix and a loss) add up batch by batch without reading predictions
    /// back. The fused kernel sums in f64; Burn's operations in the tensors' precision.
    pub fn class_sums(self, prediction: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
        let (raw, truth) = (prediction.detach(), target.detach());
        match self {
            Kernels::Fused => squiggle_fused::class_sums(raw, truth),
            Kernels::Burn => {
                let [rows, classes] = raw.dims();
                let predicted = raw
                    .clone()
                    .argmax(1)
                    .reshape([rows])
                    .one_hot::<2>(classes)
                    .float()
                    .cast(truth.dtype());
                let entropy = (burn::tensor::activation::log_softmax(raw, 1) * truth.clone())
                    .sum_dim(1)
                    .neg();
                let by_class = truth.transpose();
                Tensor::cat(
                    vec![by_class.clone().matmul(predicted), by_class.matmul(entropy)],
                    1,
                )
            }
        }
    }
}

#[cfg(test)]
#[path = "kernels_tests.rs"]
mod tests;
