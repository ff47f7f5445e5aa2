//! Predictions and metrics of a network on rows of a data set, in the data's original units,
//! a chunk at a time.

use burn::prelude::*;
use squiggle_model::{Network, Precision, ReadBack, read};

use crate::data::{Dataset, Scaling};
use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::engine::metrics::{MetricSums, Metrics};

/// A network ready to predict: the module, and the kernels that compute its forward pass.
#[derive(Clone, Copy, Debug)]
pub struct Predictor<'a> {
    /// The network (on a device without autodiff).
    pub net: &'a Network,
    /// What computes its forward pass.
    pub kernels: Kernels,
}

/// Rows per forward pass: large enough to keep the device busy, small enough that the
/// activations of ten million rows never exist at once.
pub const PREDICT_CHUNK: usize = 1 << 16;

/// Runs the predictor's network (on `device`, without autodiff) over every row of `inputs`, in
/// order, and
/// hands `sink` each chunk's predictions (row-major) with the index of the chunk's first row.
///
/// `inputs` are given as the network saw them in training (already standardised with
/// [`Scaling::apply`] when `scaling` is set, so the very same f32 arithmetic is used); the
/// predictions come back in original units.
///
/// # Errors
/// Whatever `sink` returns, or a device failure.
pub fn predict<E: From<ReadBack>>(
    predictor: Predictor<'_>,
    inputs: &Dataset,
    scaling: Option<&Scaling>,
    device: &Device,
    precision: Precision,
    mut sink: impl FnMut(usize, &[f64]) -> Result<(), E>,
) -> Result<(), E> {
    let mut rows: Vec<u32> = Vec::with_capacity(PREDICT_CHUNK);
    for start in (0..inputs.len()).step_by(PREDICT_CHUNK) {
        let end = (start + PREDICT_CHUNK).min(inputs.len());
        rows.clear();
        rows.extend(start as u32..end as u32);
        let mut predicted = forward_rows(predictor, inputs, &rows, device, precision)?;
        if let Some(s) = scaling {
            s.unscale_targets(&mut predicted);
        }
        sink(start, &predicted)?;
    }
    Ok(())
}

/// The predictions of the predictor's network for the rows `rows` of `data` (row-major, in the units the network
/// works in): one forward pass, read back to the host. Callers keep `rows` to at most
/// [`PREDICT_CHUNK`] so activations stay small.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the predictions back.
pub(crate) fn forward_rows(
    predictor: Predictor<'_>,
    data: &Dataset,
    rows: &[u32],
    device: &Device,
    precision: Precision,
) -> Result<Vec<f64>, ReadBack> {
    read(
        predictor
            .kernels
            .forward(predictor.net, data.gather_inputs(rows, device, precision)),
        "predictions",
    )
}

/// `f(predicted, observed)` for the rows `rows` of `data` a chunk of at most
/// [`PREDICT_CHUNK`] rows at a time, row-major, in the units the network works in: what every
/// measure of a network on rows is built from.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the predictions back.
fn each_chunk(
    predictor: Predictor<'_>,
    data: &Dataset,
    rows: &[u32],
    device: &Device,
    precision: Precision,
    mut f: impl FnMut(Vec<f64>, Vec<f64>),
) -> Result<(), ReadBack> {
    for chunk in rows.chunks(PREDICT_CHUNK) {
        let predicted = forward_rows(predictor, data, chunk, device, precision)?;
        f(predicted, data.outputs_of(chunk));
    }
    Ok(())
}

/// `(observed, predicted)` for every target of the rows `rows` of `data`, in original units
/// (undoing `scaling`), from the predictor's network on `device` (without autodiff).
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the predictions back.
pub fn observed_and_predicted(
    predictor: Predictor<'_>,
    data: &Dataset,
    rows: &[u32],
    scaling: Option<&Scaling>,
    precision: Precision,
    device: &Device,
) -> Result<Vec<(f64, f64)>, ReadBack> {
    let mut pairs = Vec::with_capacity(rows.len() * data.outputs());
    each_chunk(predictor, data, rows, device, precision, |mut p, mut o| {
        if let Some(s) = scaling {
            s.unscale_targets(&mut p);
            s.unscale_targets(&mut o);
        }
        pairs.extend(o.into_iter().zip(p));
    })?;
    Ok(pairs)
}

/// A network's loss and metrics on some rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// The loss, in the units the network trains in.
    pub loss: f64,
    /// MSE, RMSE, MAE and R² in original units.
    pub metrics: Metrics,
}

/// The loss (training units) and the metrics (original units, undoing `scaling`) of the predictor's network
/// (on `device`, without autodiff) on the rows `rows` of `data`, a chunk at a time. The
/// targets are taken from the host table, never uploaded.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the predictions back.
pub fn measure(
    predictor: Predictor<'_>,
    data: &Dataset,
    rows: &[u32],
    scaling: Option<&Scaling>,
    loss: LossKind,
    precision: Precision,
    device: &Device,
) -> Result<Measured, ReadBack> {
    let mut tally = Tally::new(data.outputs(), loss);
    tally.add(predictor, data, rows, scaling, precision, device)?;
    Ok(tally.measured(loss).0)
}

/// A network's loss and metrics on rows added a set at a time (one data set, or the windows
/// of a streamed file in order): a regression's residuals, or a classifier's confusion
/// matrix, which the epoch reports keep.
pub(crate) enum Tally {
    Residuals(Residuals),
    Classes(Option<Confusion>),
}

impl Tally {
    /// No rows yet, of `outputs` targets measured for `loss`.
    pub(crate) fn new(outputs: usize, loss: LossKind) -> Self {
        match loss.is_cross_entropy() {
            true => Tally::Classes(None),
            false => Tally::Residuals(Residuals::new(outputs)),
        }
    }

    /// Adds the rows `rows` of `data` (see [`Residuals::add`] and [`confusion`]).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the predictions back.
    pub(crate) fn add(
        &mut self,
        predictor: Predictor<'_>,
        data: &Dataset,
        rows: &[u32],
        scaling: Option<&Scaling>,
        precision: Precision,
        device: &Device,
    ) -> Result<(), ReadBack> {
        match self {
            Tally::Residuals(r) => r.add(predictor, data, rows, scaling, precision, device),
            Tally::Classes(c) => {
                let more = confusion(predictor, data, rows, precision, device)?;
                match c {
                    Some(c) => c.merge(&more),
                    None => *c = Some(more),
                }
                Ok(())
            }
        }
    }

    /// The loss and metrics of the rows added, and a classifier's confusion matrix. Rows
    /// (none, perhaps) must have been added once at least.
    pub(crate) fn measured(self, loss: LossKind) -> (Measured, Option<Confusion>) {
        match self {
            Tally::Residuals(r) => (r.measured(loss), None),
            Tally::Classes(c) => {
                let c = c.expect("rows were added");
                (c.measured(loss), Some(c))
            }
        }
    }
}

/// A regression network's residuals summed over rows added a set at a time (one data set, or
/// the windows of a streamed file in order): the squared residuals in training units and the
/// metrics' sums in original units.
#[derive(Clone, Debug)]
pub struct Residuals {
    sums: MetricSums,
    squared: f64,
    values: usize,
}

impl Residuals {
    /// No rows yet, of `outputs` targets.
    pub fn new(outputs: usize) -> Self {
        Self {
            sums: MetricSums::new(outputs),
            squared: 0.0,
            values: 0,
        }
    }

    /// Adds the rows `rows` of `data`, predicted a chunk at a time (the targets are taken from
    /// the host table, never uploaded).
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the predictions back.
    pub fn add(
        &mut self,
        predictor: Predictor<'_>,
        data: &Dataset,
        rows: &[u32],
        scaling: Option<&Scaling>,
        precision: Precision,
        device: &Device,
    ) -> Result<(), ReadBack> {
        each_chunk(predictor, data, rows, device, precision, |mut p, mut o| {
            self.squared += p
                .iter()
                .zip(&o)
                .map(|(p, o)| (o - p) * (o - p))
                .sum::<f64>();
            if let Some(s) = scaling {
                s.unscale_targets(&mut p);
                s.unscale_targets(&mut o);
            }
            self.sums.add(&p, &o);
        })?;
        self.values += rows.len() * data.outputs();
        Ok(())
    }

    /// The loss and metrics of the rows added.
    pub fn measured(&self, loss: LossKind) -> Measured {
        Measured {
            loss: loss.of_squared_residuals(self.squared, self.values),
            metrics: self.sums.finish(),
        }
    }
}

/// How a classifier's predictions (ArgMax of its outputs) fall against the true classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    /// The class names, in output order.
    pub classes: Vec<String>,
    /// `counts[true][predicted]`: rows of class `true` predicted as `predicted`.
    pub counts: Vec<Vec<u64>>,
    /// The total cross entropy of the rows (summed, before any mean).
    pub cross_entropy: f64,
}

impl Confusion {
    /// Adds the rows counted in `other` (of the same classes) to these.
    pub fn merge(&mut self, other: &Confusion) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.cross_entropy += other.cross_entropy;
    }

    /// Rows counted.
    pub fn rows(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// The accuracy's share of the way from always predicting the most common class (0) to
    /// every row right (1): a classifier's analogue of R², which a verdict judges the same
    /// way (below [`STALLED_R2`](crate::STALLED_R2) it has not fitted).
    pub fn gain(&self) -> f64 {
        let (_, base) = self.majority();
        (self.accuracy() - base) / (1.0 - base).max(1e-12)
    }

    /// The most common true class and its share of the rows: the accuracy of always
    /// predicting it, which a classifier has to beat.
    pub fn majority(&self) -> (usize, f64) {
        let sizes: Vec<u64> = self.counts.iter().map(|row| row.iter().sum()).collect();
        let mut best = 0;
        for (k, &n) in sizes.iter().enumerate() {
            if n > sizes[best] {
                best = k;
            }
        }
        (best, sizes[best] as f64 / self.rows().max(1) as f64)
    }

    /// The share of rows predicted as their class.
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.counts.len()).map(|k| self.counts[k][k]).sum();
        right as f64 / self.rows().max(1) as f64
    }

    /// Of the rows predicted as class `k`, the share that are `k`; `None` when none are.
    pub fn precision(&self, k: usize) -> Option<f64> {
        let predicted: u64 = self.counts.iter().map(|row| row[k]).sum();
        (predicted > 0).then(|| self.counts[k][k] as f64 / predicted as f64)
    }

    /// Of the rows of class `k`, the share predicted as `k`; `None` when there are none.
    pub fn recall(&self, k: usize) -> Option<f64> {
        let actual: u64 = self.counts[k].iter().sum();
        (actual > 0).then(|| self.counts[k][k] as f64 / actual as f64)
    }

    /// The loss (cross entropy reduced as `loss` reduces it) and metrics of the rows counted.
    pub fn measured(&self, loss: LossKind) -> Measured {
        let rows = self.rows() as usize;
        Measured {
            loss: loss.reduce(self.cross_entropy, rows, self.classes.len()),
            metrics: self.metrics(),
        }
    }

    /// The epoch metrics of a classifier: its accuracy (R² is undefined: NaN; the squared
    /// errors are not measured: NaN).
    pub fn metrics(&self) -> Metrics {
        Metrics {
            mse: f64::NAN,
            rmse: f64::NAN,
            mae: f64::NAN,
            r2: f64::NAN,
            accuracy: Some(self.accuracy()),
        }
    }
}

/// The confusion matrix and total cross entropy of the predictor's network (on `device`, without autodiff) on
/// the rows `rows` of the classification data set `data`, a chunk at a time.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the predictions back.
pub fn confusion(
    predictor: Predictor<'_>,
    data: &Dataset,
    rows: &[u32],
    precision: Precision,
    device: &Device,
) -> Result<Confusion, ReadBack> {
    let width = data.outputs();
    let mut counts = vec![vec![0u64; width]; width];
    let mut cross_entropy = 0.0;
    each_chunk(predictor, data, rows, device, precision, |raw, observed| {
        for (z, o) in raw.chunks(width).zip(observed.chunks(width)) {
            cross_entropy += LossKind::CrossEntropy.row_host(z, o);
            counts[crate::engine::loss::argmax(o)][crate::engine::loss::argmax(z)] += 1;
        }
    })?;
    let classes = data
        .classes()
        .map_or_else(|| data.output_names().to_vec(), |c| c.names.clone());
    Ok(Confusion {
        classes,
        counts,
        cross_entropy,
    })
}
