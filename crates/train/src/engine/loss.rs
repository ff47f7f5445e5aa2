//! Loss functions: how far the predictions are from the observations.

use burn::nn::loss::{MseLoss, Reduction as BurnReduction};
use burn::prelude::*;
use squiggle_model::Architecture;

use crate::data::Dataset;
use crate::engine::kernels::Kernels;

squiggle_model::named_enum! {
    /// Which loss gradient descent minimises. Add a loss here: every method below matches
    /// every variant, so the compiler lists what a new one needs (its formula on the device
    /// for each kernels, on the host in f64, its reduction, its symbol); its first chain-rule
    /// factor comes from [`LossKind::row_gradient_host`].
    #[derive(Default)]
    pub enum LossKind as "loss" {
        /// Sum of squared residuals, `SSR = Σ (observed − predicted)²`: what the lessons use, so
        /// the default. Its gradient grows with the number of rows.
        #[default]
        Ssr = "ssr",
        /// Mean squared error, `SSR / (rows × outputs)`: the same minimum, a gradient that does
        /// not grow with the data set.
        Mse = "mse",
        /// Total cross entropy, `Σ −ln(SoftMax(raw)[true class])` over the rows: the outputs
        /// are one raw score per class and the targets one-hot rows. Summed as the lessons sum
        /// it ("Neural Networks Pt. 6 and 7"); what `loss = "cross_entropy"` means step by step.
        CrossEntropy = "cross_entropy",
        /// Cross entropy averaged over the rows (`reduction = "mean"`): what
        /// `loss = "cross_entropy"` means by epochs, so the learning rate does not depend on
        /// the batch size.
        MeanCrossEntropy = "mean_cross_entropy",
    }
}

squiggle_model::named_enum! {
    /// How cross entropy adds up its rows (`[train] reduction`).
    pub enum Reduction as "reduction" {
        /// The sum over the rows, as the lesson's "total cross entropy".
        Sum = "sum",
        /// The mean over the rows.
        Mean = "mean",
    }
}

impl LossKind {
    /// The loss of `predicted` against `observed`, as a one-element tensor, computed by
    /// `kernels`: Burn's own loss functions and log-SoftMax, or squiggle's fused squared
    /// error and cross entropy (one autodiff node each).
    ///
    /// # Shapes
    /// - `predicted`, `observed`: `[batch, outputs]`
    /// - output: `[1]`
    pub fn compute(self, kernels: Kernels, predicted: Tensor<2>, observed: Tensor<2>) -> Tensor<1> {
        let [rows, width] = observed.shape().dims();
        let scale = self.scale(rows, width);
        match (self, kernels) {
            (LossKind::Ssr | LossKind::Mse, Kernels::Fused) => {
                squiggle_fused::squared_error(predicted, observed, scale)
            }
            (LossKind::CrossEntropy | LossKind::MeanCrossEntropy, Kernels::Fused) => {
                squiggle_fused::cross_entropy(predicted, observed, scale)
            }
            (LossKind::Ssr, Kernels::Burn) => {
                MseLoss::new().forward(predicted, observed, BurnReduction::Sum)
            }
            (LossKind::Mse, Kernels::Burn) => {
                MseLoss::new().forward(predicted, observed, BurnReduction::Mean)
            }
            (LossKind::CrossEntropy | LossKind::MeanCrossEntropy, Kernels::Burn) => {
                // Burn's log-SoftMax subtracts each row's maximum before exponentiating (the
                // log-sum-exp trick), so large raw outputs neither overflow nor lose the
                // gradient; autodiff differentiates through it.
                let log_p = burn::tensor::activation::log_softmax(predicted, 1);
                (log_p * observed).sum().neg().mul_scalar(scale)
            }
        }
    }

    /// Whether the loss is cross entropy: outputs are raw class scores, targets one-hot rows.
    pub fn is_cross_entropy(self) -> bool {
        match self {
            LossKind::Ssr | LossKind::Mse => false,
            LossKind::CrossEntropy | LossKind::MeanCrossEntropy => true,
        }
    }

    /// Cross entropy with `reduction`, or this loss unchanged when it is not cross entropy.
    pub fn reduced(self, reduction: Reduction) -> Self {
        match (self, reduction) {
            (LossKind::Ssr | LossKind::Mse, _) => self,
            (LossKind::CrossEntropy | LossKind::MeanCrossEntropy, Reduction::Sum) => {
                LossKind::CrossEntropy
            }
            (LossKind::CrossEntropy | LossKind::MeanCrossEntropy, Reduction::Mean) => {
                LossKind::MeanCrossEntropy
            }
        }
    }

    /// One row's share of the loss before the reduction, in f64: its squared residuals, or
    /// its cross entropy `ln Σ exp(raw) − raw[true]` (computed about the row's maximum, so no
    /// exponential overflows).
    pub fn row_host(self, predicted: &[f64], observed: &[f64]) -> f64 {
        match self {
            LossKind::Ssr | LossKind::Mse => predicted
                .iter()
                .zip(observed)
                .map(|(p, o)| (o - p) * (o - p))
                .sum(),
            LossKind::CrossEntropy | LossKind::MeanCrossEntropy => {
                let lse = log_sum_exp(predicted);
                predicted
                    .iter()
                    .zip(observed)
                    .map(|(z, o)| o * (lse - z))
                    .sum()
            }
        }
    }

    /// The loss of row sums `sum` (of [`LossKind::row_host`]) over `rows` rows of `width`
    /// outputs each.
    pub fn reduce(self, sum: f64, rows: usize, width: usize) -> f64 {
        match self {
            LossKind::Ssr | LossKind::CrossEntropy => sum,
            LossKind::Mse => sum / (rows * width).max(1) as f64,
            LossKind::MeanCrossEntropy => sum / rows.max(1) as f64,
        }
    }

    /// The same loss in double precision on the host, for reference computations (`width`
    /// values a row, row-major).
    pub fn compute_host(self, predicted: &[f64], observed: &[f64], width: usize) -> f64 {
        let sum: f64 = predicted
            .chunks(width)
            .zip(observed.chunks(width))
            .map(|(p, o)| self.row_host(p, o))
            .sum();
        self.reduce(sum, observed.len() / width.max(1), width)
    }

    /// The loss of `arch` with parameters `values` on `data`, computed on the host in f64
    /// (for pictures that sample it at many parameter values: landscapes, contours).
    pub fn on_host(self, arch: &Architecture, values: &[f64], data: &Dataset) -> f64 {
        let observed = data.observed();
        let mut predicted = Vec::with_capacity(observed.len());
        for i in 0..data.len() {
            predicted.extend_from_slice(arch.forward_host(values, &data.input_row(i)).prediction());
        }
        self.compute_host(&predicted, &observed, data.outputs())
    }

    /// dLoss/draw for one row's outputs, before the reduction's scale: `−2(observed −
    /// predicted)` for squared errors, `SoftMax(raw) − one-hot` for cross entropy (the
    /// identity of "Neural Networks Pt. 7").
    pub fn row_gradient_host(self, predicted: &[f64], observed: &[f64]) -> Vec<f64> {
        match self {
            LossKind::Ssr | LossKind::Mse => predicted
                .iter()
                .zip(observed)
                .map(|(p, o)| -2.0 * (o - p))
                .collect(),
            LossKind::CrossEntropy | LossKind::MeanCrossEntropy => softmax(predicted)
                .iter()
                .zip(observed)
                .map(|(p, o)| p - o)
                .collect(),
        }
    }

    /// The factor [`LossKind::reduce`] scales a row's gradient by.
    pub fn scale(self, rows: usize, width: usize) -> f64 {
        self.reduce(1.0, rows, width)
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
            LossKind::CrossEntropy | LossKind::MeanCrossEntropy => return None,
        };
        (total > 0.0).then(|| 1.0 - ssr / total)
    }

    /// The loss of predictions whose squared residuals sum to `ssr` over `values` observed
    /// values (rows × outputs); only for the squared-error losses.
    pub fn of_squared_residuals(self, ssr: f64, values: usize) -> f64 {
        debug_assert!(!self.is_cross_entropy());
        self.reduce(ssr, values, 1)
    }

    /// The symbol used in tables and derivative names (`SSR`, `MSE`, `CE`).
    pub fn symbol(self) -> &'static str {
        match self {
            LossKind::Ssr => "SSR",
            LossKind::Mse => "MSE",
            LossKind::CrossEntropy => "CE",
            LossKind::MeanCrossEntropy => "meanCE",
        }
    }
}

/// `ln Σ exp(z)`, computed about the largest `z`.
pub fn log_sum_exp(z: &[f64]) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// SoftMax of raw outputs: `exp(z) / Σ exp(z)`, in f64, computed about the largest `z`.
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let lse = log_sum_exp(z);
    z.iter().map(|v| (v - lse).exp()).collect()
}

/// The index of the largest value (the first of equals): ArgMax, the predicted class.
pub fn argmax(z: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in z.iter().enumerate() {
        if *v > z[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use squiggle_model::Named;

    #[test]
    fn ssr_sums_and_mse_averages() {
        let device = Device::flex();
        let p = Tensor::<2>::from_floats([[1.0], [2.0], [3.0]], &device);
        let o = Tensor::<2>::from_floats([[1.0], [0.0], [0.0]], &device);
        // residuals 0, -2, -3 → squares 0, 4, 9
        for kernels in Kernels::ALL.iter().copied() {
            let ssr: f32 = LossKind::Ssr
                .compute(kernels, p.clone(), o.clone())
                .into_scalar();
            let mse: f32 = LossKind::Mse
                .compute(kernels, p.clone(), o.clone())
                .into_scalar();
            assert_eq!(ssr, 13.0, "{kernels}");
            assert!((mse - 13.0 / 3.0).abs() < 1e-6, "{kernels}");
        }
        assert_eq!(
            LossKind::Ssr.compute_host(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0], 1),
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

    /// Three points, three classes, by hand: raw outputs (2, 1, 0) of class 0, (0, 3, 0) of
    /// class 1, (1, 1, 1) of class 2.
    #[test]
    fn cross_entropy_and_its_gradient_match_a_hand_calculation() {
        let raw = [[2.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]];
        let truth = [0usize, 1, 2];
        let mut hand = 0.0;
        let mut hand_grad = [[0.0f64; 3]; 3];
        for (r, row) in raw.iter().enumerate() {
            let total: f64 = row.iter().map(|v: &f64| v.exp()).sum();
            hand -= row[truth[r]] - total.ln();
            for c in 0..3 {
                hand_grad[r][c] = row[c].exp() / total - f64::from(u8::from(c == truth[r]));
            }
        }
        // −ln(e²/(e²+e+1)) − ln(e³/(e³+2)) − ln(1/3)
        let expected = -(2f64.exp() / (2f64.exp() + 1f64.exp() + 1.0)).ln()
            - (3f64.exp() / (3f64.exp() + 2.0)).ln()
            + 3f64.ln();
        assert!((hand - expected).abs() < 1e-12);
        let onehot: Vec<f64> = truth
            .iter()
            .flat_map(|&t| (0..3).map(move |c| f64::from(u8::from(c == t))))
            .collect();
        let flat: Vec<f64> = raw.iter().flatten().copied().collect();
        let host = LossKind::CrossEntropy.compute_host(&flat, &onehot, 3);
        assert!((host - expected).abs() < 1e-12, "{host} vs {expected}");
        let mean = LossKind::MeanCrossEntropy.compute_host(&flat, &onehot, 3);
        assert!((mean - expected / 3.0).abs() < 1e-12);
        // Burn's autodiff through log-SoftMax gives SoftMax − one-hot.
        let device = Device::flex().autodiff();
        let z = Tensor::<2>::from_floats(raw, &device).require_grad();
        let y =
            Tensor::<2>::from_floats([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], &device);
        let loss = LossKind::CrossEntropy.compute(Kernels::Burn, z.clone(), y);
        let value: f32 = loss.clone().into_scalar();
        assert!((f64::from(value) - expected).abs() < 1e-5);
        let grads = loss.backward();
        let grad: Vec<f32> = z.grad(&grads).unwrap().into_data().try_to_vec().unwrap();
        for r in 0..3 {
            let row = &flat[3 * r..3 * r + 3];
            let identity = LossKind::CrossEntropy.row_gradient_host(row, &onehot[3 * r..3 * r + 3]);
            for c in 0..3 {
                assert!((f64::from(grad[3 * r + c]) - hand_grad[r][c]).abs() < 1e-6);
                assert!((identity[c] - hand_grad[r][c]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn cross_entropy_survives_large_raw_outputs() {
        let big = [1000.0, 0.0, -1000.0];
        let loss = LossKind::CrossEntropy.row_host(&big, &[0.0, 1.0, 0.0]);
        assert!((loss - 1000.0).abs() < 1e-9, "{loss}");
        assert_eq!(softmax(&big)[0], 1.0);
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
        let device = Device::flex();
        let z = Tensor::<2>::from_floats([[1000.0, 0.0, -1000.0]], &device);
        let y = Tensor::<2>::from_floats([[0.0, 1.0, 0.0]], &device);
        let value: f32 = LossKind::CrossEntropy
            .compute(Kernels::Fused, z, y)
            .into_scalar();
        assert_eq!(value, 1000.0);
    }
}
