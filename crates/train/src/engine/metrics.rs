//! Regression metrics in the data's original units: MSE, RMSE, MAE and R²; for classifiers
//! the accuracy as well.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use squiggle_model::{ReadBack, read};

use crate::data::Scaling;
use crate::engine::loss::LossKind;

/// How well predictions match observations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error, in the target's units.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, `1 − SSR/SST` (SST around each target column's mean;
    /// summed over columns). 1 is a perfect fit, 0 is no better than predicting the mean.
    /// NaN for classifiers (a one-hot target has no variance worth explaining).
    pub r2: f64,
    /// Classifiers: the share of rows whose ArgMax is their class. `None` for regression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
}

/// Running sums from which [`Metrics`] are computed, fed one chunk of rows at a time so no
/// pass ever holds every prediction.
#[derive(Clone, Debug)]
pub struct MetricSums {
    width: usize,
    rows: usize,
    squared: f64,
    absolute: f64,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl MetricSums {
    /// Empty sums for `width` target columns.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            rows: 0,
            squared: 0.0,
            absolute: 0.0,
            sum: vec![0.0; width],
            sum_sq: vec![0.0; width],
        }
    }

    /// Adds rows of predictions and observations (row-major, `width` values per row).
    pub fn add(&mut self, predicted: &[f64], observed: &[f64]) {
        debug_assert_eq!(predicted.len(), observed.len());
        for (p_row, o_row) in predicted
            .chunks(self.width)
            .zip(observed.chunks(self.width))
        {
            for (c, (p, o)) in p_row.iter().zip(o_row).enumerate() {
                let r = o - p;
                self.squared += r * r;
                self.absolute += r.abs();
                self.sum[c] += o;
                self.sum_sq[c] += o * o;
            }
            self.rows += 1;
        }
    }

    /// The metrics of everything added.
    pub fn finish(&self) -> Metrics {
        let n = self.rows as f64;
        let count = n * self.width as f64;
        let mse = self.squared / count;
        let total: f64 = self
            .sum
            .iter()
            .zip(&self.sum_sq)
            .map(|(s, sq)| (sq - s * s / n).max(0.0))
            .sum();
        Metrics {
            mse,
            rmse: mse.sqrt(),
            mae: self.absolute / count,
            r2: r_squared(self.squared, total),
            accuracy: None,
        }
    }
}

/// The running training sums of the batches read back so far, as a checkpoint keeps them
/// when a run stops inside an epoch: f64 bit patterns, so that the resumed epoch adds its
/// next batches to exactly the values the stopped one had (NaN included).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningSums {
    /// A regression's squared residuals per target column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    squared: Vec<u64>,
    /// A regression's absolute residuals per target column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    absolute: Vec<u64>,
    /// A classifier's `counts[true][predicted]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    counts: Vec<Vec<u64>>,
    /// A classifier's summed cross entropy.
    #[serde(default)]
    cross_entropy: u64,
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(bits: &[u64]) -> Vec<f64> {
    bits.iter().map(|&b| f64::from_bits(b)).collect()
}

/// A classifier's running training metrics: each batch's [`class_sums`] kept on the device
/// and read once, when the epoch ends.
///
/// [`class_sums`]: crate::engine::trainer::Pass::class_sums
pub(crate) struct RunningConfusion {
    batches: Pending,
    /// The batches read so far: `counts[true][predicted]` and the summed cross entropy.
    counts: Vec<Vec<u64>>,
    cross_entropy: f64,
}

/// Batches whose sums wait on the device before they are read and added up: few enough that
/// a long epoch (a streamed file's) keeps its memory flat, many enough that reading costs
/// nothing beside the batches.
const READ_EVERY: usize = 1024;

/// Batches' sums read back: their values in batch order, and the shape of one batch's.
type ReadSums = (Vec<f64>, [usize; 2]);

/// Batches' sums (each tensor of one shape) waiting on the device to be read back together.
struct Pending {
    batches: Vec<Tensor<2>>,
    /// What they are, for a read-back error.
    what: &'static str,
}

impl Pending {
    fn new(what: &'static str) -> Self {
        Self {
            batches: Vec::new(),
            what,
        }
    }

    /// Keeps a batch's sums; true once [`READ_EVERY`] wait.
    fn push(&mut self, sums: Tensor<2>) -> bool {
        self.batches.push(sums);
        self.batches.len() >= READ_EVERY
    }

    /// The waiting batches' values, in batch order, and the shape of one; `None` when none
    /// wait.
    fn take(&mut self) -> Result<Option<ReadSums>, ReadBack> {
        let Some(first) = self.batches.first() else {
            return Ok(None);
        };
        let dims = first.dims();
        let all = Tensor::cat(std::mem::take(&mut self.batches), 0);
        Ok(Some((read(all, self.what)?, dims)))
    }
}

impl RunningConfusion {
    pub(crate) fn new() -> Self {
        Self {
            batches: Pending::new("the training class sums"),
            counts: Vec::new(),
            cross_entropy: 0.0,
        }
    }

    /// The sums of every batch pushed, read back, into `sums`.
    pub(crate) fn save(&mut self, sums: &mut RunningSums) -> Result<(), ReadBack> {
        self.read()?;
        sums.counts.clone_from(&self.counts);
        sums.cross_entropy = self.cross_entropy.to_bits();
        Ok(())
    }

    /// Carries on from the sums a stopped epoch saved.
    pub(crate) fn resume(&mut self, sums: &RunningSums) {
        self.counts.clone_from(&sums.counts);
        self.cross_entropy = f64::from_bits(sums.cross_entropy);
    }

    /// Keeps a batch's `[classes, classes + 1]` sums (on the device: read every
    /// [`READ_EVERY`] batches).
    pub(crate) fn push(&mut self, sums: Tensor<2>) -> Result<(), ReadBack> {
        match self.batches.push(sums) {
            true => self.read(),
            false => Ok(()),
        }
    }

    /// Adds up the batches waiting, in batch order, in f64.
    fn read(&mut self) -> Result<(), ReadBack> {
        let Some((all, [width, _])) = self.batches.take()? else {
            return Ok(());
        };
        if self.counts.is_empty() {
            self.counts = vec![vec![0u64; width]; width];
        }
        for block in all.chunks_exact(width * (width + 1)) {
            for (truth, row) in block.chunks_exact(width + 1).enumerate() {
                for (predicted, &n) in row[..width].iter().enumerate() {
                    self.counts[truth][predicted] += n.round() as u64;
                }
                self.cross_entropy += row[width];
            }
        }
        Ok(())
    }

    /// The epoch's confusion matrix and summed cross entropy over its batches, each taken
    /// before its update; sums in f64 in batch order.
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the sums back.
    pub(crate) fn finish(
        mut self,
        classes: Vec<String>,
    ) -> Result<crate::inspect::Confusion, ReadBack> {
        self.read()?;
        let width = classes.len();
        if self.counts.is_empty() {
            self.counts = vec![vec![0u64; width]; width];
        }
        Ok(crate::inspect::Confusion {
            classes,
            counts: self.counts,
            cross_entropy: self.cross_entropy,
        })
    }
}

/// The training metrics of an epoch from the residual sums of its batches ([`Pass`]'s
/// predictions, each made before its batch's update): no pass over the data of its own.
///
/// [`Pass`]: crate::engine::trainer::Pass
pub(crate) struct RunningResiduals {
    batches: Pending,
    /// The batches read so far: squared and absolute residuals per column.
    squared: Vec<f64>,
    absolute: Vec<f64>,
}

impl RunningResiduals {
    pub(crate) fn new() -> Self {
        Self {
            batches: Pending::new("the training residuals"),
            squared: Vec::new(),
            absolute: Vec::new(),
        }
    }

    /// The sums of every batch pushed, read back, into `sums`.
    pub(crate) fn save(&mut self, sums: &mut RunningSums) -> Result<(), ReadBack> {
        self.read()?;
        (sums.squared, sums.absolute) = (bits(&self.squared), bits(&self.absolute));
        Ok(())
    }

    /// Carries on from the sums a stopped epoch saved.
    pub(crate) fn resume(&mut self, sums: &RunningSums) {
        (self.squared, self.absolute) = (floats(&sums.squared), floats(&sums.absolute));
    }

    /// Keeps a batch's `[2, outputs]` residual sums (on the device: read every
    /// [`READ_EVERY`] batches).
    pub(crate) fn push(&mut self, sums: Tensor<2>) -> Result<(), ReadBack> {
        match self.batches.push(sums) {
            true => self.read(),
            false => Ok(()),
        }
    }

    /// Adds up the batches waiting, in batch order, in f64.
    fn read(&mut self) -> Result<(), ReadBack> {
        let Some((all, [_, width])) = self.batches.take()? else {
            return Ok(());
        };
        if self.squared.is_empty() {
            (self.squared, self.absolute) = (vec![0.0; width], vec![0.0; width]);
        }
        for batch in all.chunks_exact(2 * width) {
            for c in 0..width {
                self.squared[c] += batch[c];
                self.absolute[c] += batch[width + c];
            }
        }
        Ok(())
    }

    /// The epoch's loss (training units) and metrics (original units) over its `rows`
    /// training rows, whose total squares about their column means are `column_totals`
    /// (training units); sums in f64 in batch order.
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the sums back.
    pub(crate) fn finish(
        mut self,
        rows: usize,
        column_totals: &[f64],
        loss: LossKind,
        scaling: Option<&Scaling>,
    ) -> Result<(f64, Metrics), ReadBack> {
        self.read()?;
        let width = column_totals.len();
        if self.squared.is_empty() {
            (self.squared, self.absolute) = (vec![0.0; width], vec![0.0; width]);
        }
        let (squared, absolute) = (&self.squared, &self.absolute);
        // Standardised residuals are the original ones divided by the column's deviation.
        let std = |c: usize| scaling.map_or(1.0, |s| s.targets[c].std);
        let values = (rows * width) as f64;
        let squared_original: f64 = (0..width).map(|c| squared[c] * std(c).powi(2)).sum();
        let total_original: f64 = (0..width).map(|c| column_totals[c] * std(c).powi(2)).sum();
        let mse = squared_original / values;
        let metrics = Metrics {
            mse,
            rmse: mse.sqrt(),
            mae: (0..width).map(|c| absolute[c] * std(c)).sum::<f64>() / values,
            r2: r_squared(squared_original, total_original),
            accuracy: None,
        };
        let train_loss = loss.of_squared_residuals(squared.iter().sum(), rows * width);
        Ok((train_loss, metrics))
    }
}

/// `1 − SSR / total`, the share of the targets' variance the fit explains; NaN (undefined, not
/// −inf) where the targets do not vary, as with a single row.
fn r_squared(squared: f64, total: f64) -> f64 {
    if total > 0.0 {
        1.0 - squared / total
    } else {
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_their_definitions() {
        let mut sums = MetricSums::new(1);
        sums.add(&[1.0, 2.0], &[1.0, 4.0]);
        sums.add(&[3.0], &[1.0]);
        let m = sums.finish();
        // residuals 0, 2, -2; observed mean 2, SST = 1 + 4 + 1 = 6
        assert!((m.mse - 8.0 / 3.0).abs() < 1e-12);
        assert!((m.rmse - (8.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.mae - 4.0 / 3.0).abs() < 1e-12);
        assert!((m.r2 - (1.0 - 8.0 / 6.0)).abs() < 1e-12);
    }

    #[test]
    fn a_perfect_fit_has_r2_one() {
        let mut sums = MetricSums::new(2);
        sums.add(&[1.0, 5.0, 2.0, 7.0], &[1.0, 5.0, 2.0, 7.0]);
        let m = sums.finish();
        assert_eq!((m.mse, m.mae, m.r2), (0.0, 0.0, 1.0));
    }
}
