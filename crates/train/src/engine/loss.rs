//! Loss functions: how far the predictions are from the observations.

use burn::prelude::*;
use squiggle_model::{Architecture, squared_error};

use crate::Dataset;

squiggle_model::named_enum! {
    /// Which loss gradient descent minimises. Add a loss here: its formula in
    /// [`LossKind::compute`] (Burn) and [`LossKind::compute_host`] (f64), its symbol, and its
    /// first chain-rule factor in `inspect/chain.rs`.
    #[derive(Default)]
    pub enum LossKind as "loss" {
        /// Sum of squared residuals, `SSR = Σ (observed − predicted)²`: what the lessons use, so
        /// the default. Its gradient grows with the number of rows.
        #[default]
        Ssr = "ssr",
        /// Mean squared error, `SSR / (rows × outputs)`: the same minimum, a gradient that does
        /// not grow with the data set.
        Mse = "mse",
    }
}

impl LossKind {
    /// The loss of `predicted` against `observed`, as a one-element tensor.
    ///
    /// # Shapes
    /// - `predicted`, `observed`: `[batch, outputs]`
    /// - output: `[1]`
    pub fn compute(self, predicted: Tensor<2>, observed: Tensor<2>) -> Tensor<1> {
        let scale = match self {
            LossKind::Ssr => 1.0,
            LossKind::Mse => 1.0 / observed.shape().num_elements() as f64,
        };
        squared_error(predicted, observed, scale)
    }

    /// The same loss in double precision on the host, for reference computations.
    pub fn compute_host(self, predicted: &[f64], observed: &[f64]) -> f64 {
        let ssr: f64 = predicted
            .iter()
            .zip(observed)
            .map(|(p, o)| (o - p) * (o - p))
            .sum();
        self.of_squared_residuals(ssr, observed.len())
    }

    /// The loss of `arch` with parameters `values` on `data`, computed on the host in f64
    /// (for pictures that sample it at many parameter values: landscapes, contours).
    pub fn on_host(self, arch: &Architecture, values: &[f64], data: &Dataset) -> f64 {
        let observed = data.observed();
        let mut predicted = Vec::with_capacity(observed.len());
        for i in 0..data.len() {
            predicted.extend_from_slice(arch.forward_host(values, &data.input_row(i)).prediction());
        }
        self.compute_host(&predicted, &observed)
    }

    /// R² of predictions whose loss is `loss` over `values` observed values whose squares
    /// about their column means sum to `total` (see [`Dataset::total_squares`]); `None` when
    /// the targets do not vary.
    ///
    /// [`Dataset::total_squares`]: crate::Dataset::total_squares
    pub fn r_squared(self, loss: f64, values: usize, total: f64) -> Option<f64> {
        let ssr = match self {
            LossKind::Ssr => loss,
            LossKind::Mse => loss * values as f64,
        };
        (total > 0.0).then(|| 1.0 - ssr / total)
    }

    /// The loss of predictions whose squared residuals sum to `ssr` over `values` observed
    /// values (rows × outputs).
    pub fn of_squared_residuals(self, ssr: f64, values: usize) -> f64 {
        match self {
            LossKind::Ssr => ssr,
            LossKind::Mse => ssr / values.max(1) as f64,
        }
    }

    /// The symbol used in tables and derivative names (`SSR`, `MSE`).
    pub fn symbol(self) -> &'static str {
        match self {
            LossKind::Ssr => "SSR",
            LossKind::Mse => "MSE",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssr_sums_and_mse_averages() {
        let device = Device::flex();
        let p = Tensor::<2>::from_floats([[1.0], [2.0], [3.0]], &device);
        let o = Tensor::<2>::from_floats([[1.0], [0.0], [0.0]], &device);
        // residuals 0, -2, -3 → squares 0, 4, 9
        let ssr: f32 = LossKind::Ssr.compute(p.clone(), o.clone()).into_scalar();
        let mse: f32 = LossKind::Mse.compute(p, o).into_scalar();
        assert_eq!(ssr, 13.0);
        assert!((mse - 13.0 / 3.0).abs() < 1e-6);
        assert_eq!(
            LossKind::Ssr.compute_host(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0]),
            13.0
        );
        // Observed 1, 0, 0: mean 1/3, total squares 2/3; SSR 13 → R² = 1 − 13/(2/3).
        let total = 2.0 / 3.0;
        assert_eq!(LossKind::Ssr.r_squared(13.0, 3, total), Some(1.0 - 19.5));
        assert_eq!(
            LossKind::Mse.r_squared(13.0 / 3.0, 3, total),
            Some(1.0 - 19.5)
        );
        assert_eq!(LossKind::Ssr.r_squared(1.0, 3, 0.0), None);
    }
}
