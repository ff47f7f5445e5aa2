//! Standardisation: every column shifted and scaled to mean 0 and standard deviation 1,
//! with statistics of the training rows only, and undone for predictions and reports.
//!
//! Softplus units saturate or go linear when their inputs are large, and the diabetes
//! columns range from 1 (sex) to 300 (cholesterol): without scaling, one learning rate
//! cannot suit every weight.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;

/// How one column is shifted and scaled: by its mean and standard deviation (`standardize`),
/// or by its minimum and range (`rescale`, where `mean` holds the minimum and `std` the range).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnScale {
    /// The column's mean over the training rows.
    pub mean: f64,
    /// Its (population) standard deviation; 1 for a constant column so nothing divides by 0.
    pub std: f64,
}

impl ColumnScale {
    /// Shift by `mean`, scale by `std` (a population standard deviation); a constant column
    /// (or one whose deviation is not finite) is only shifted, so nothing divides by 0.
    pub fn standard(mean: f64, std: f64) -> Self {
        Self {
            mean,
            std: if std > 0.0 && std.is_finite() {
                std
            } else {
                1.0
            },
        }
    }

    /// Shift by the minimum, scale by the range `max − min` (a constant column only shifted;
    /// a column with no finite minimum left at 0).
    pub fn range(min: f64, max: f64) -> Self {
        let range = max - min;
        Self {
            mean: if min.is_finite() { min } else { 0.0 },
            std: if range > 0.0 && range.is_finite() {
                range
            } else {
                1.0
            },
        }
    }

    /// `(value − mean) / std`.
    pub fn scale(&self, value: f64) -> f64 {
        (value - self.mean) / self.std
    }

    /// `value × std + mean`: back to original units.
    pub fn unscale(&self, value: f64) -> f64 {
        value * self.std + self.mean
    }
}

/// The statistics of every input and target column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// One per input column.
    pub inputs: Vec<ColumnScale>,
    /// One per target column.
    pub targets: Vec<ColumnScale>,
}

impl Scaling {
    /// Statistics of the rows `rows` of `data` (the training split), in f64.
    pub fn fit(data: &Dataset, rows: &[u32]) -> Self {
        // One-hot class targets stay 0 and 1: cross entropy compares them with probabilities.
        let targets = match data.classes() {
            Some(_) => unscaled(data.outputs()),
            None => column_stats(&data.output_values(), data.outputs(), rows),
        };
        Self {
            inputs: column_stats(data.input_values(), data.inputs(), rows),
            targets,
        }
    }

    /// The inputs' minimum and maximum over the rows `rows`: scaled inputs run from 0 to 1 on
    /// those rows ("shift" the minimum, "scale" the range; a constant column is only shifted).
    /// Targets are left as they are.
    pub fn fit_range(data: &Dataset, rows: &[u32]) -> Self {
        let width = data.inputs();
        let x = data.input_values();
        let (mut min, mut max) = (vec![f64::INFINITY; width], vec![f64::NEG_INFINITY; width]);
        // Row by row, as the values lie in memory (a column at a time touched a new cache
        // line for every value: most of the set-up of a wide data set).
        for &r in rows {
            let row = &x[r as usize * width..(r as usize + 1) * width];
            for ((lo, hi), &v) in min.iter_mut().zip(&mut max).zip(row) {
                let v = f64::from(v);
                *lo = lo.min(v);
                *hi = hi.max(v);
            }
        }
        let inputs = min
            .into_iter()
            .zip(max)
            .map(|(lo, hi)| ColumnScale::range(lo, hi))
            .collect();
        Self {
            inputs,
            targets: unscaled(data.outputs()),
        }
    }

    /// Scales every row of `data` in place (train and validation rows alike, with the
    /// training statistics).
    pub fn apply(&self, data: &mut Dataset) {
        let (x, y) = data.values_mut();
        scale_in_place(x, &self.inputs);
        scale_in_place(y, &self.targets);
    }

    /// Scales one row of raw inputs (row-major, `inputs.len()` wide) in place.
    pub fn scale_inputs(&self, x: &mut [f32]) {
        scale_in_place(x, &self.inputs);
    }

    /// Turns scaled inputs (row-major, one value per input column) back into original units.
    pub fn unscale_inputs(&self, x: &mut [f64]) {
        unscale_in_place(x, &self.inputs);
    }

    /// Turns scaled predictions (row-major, one value per target) back into original units.
    pub fn unscale_targets(&self, y: &mut [f64]) {
        unscale_in_place(y, &self.targets);
    }
}

/// `width` columns left as they are (shift 0, scale 1).
fn unscaled(width: usize) -> Vec<ColumnScale> {
    vec![
        ColumnScale {
            mean: 0.0,
            std: 1.0
        };
        width
    ]
}

fn column_stats(values: &[f32], width: usize, rows: &[u32]) -> Vec<ColumnScale> {
    // Row by row, as the values lie in memory; each column's sums still add its values in
    // row order.
    let row = |r: u32| &values[r as usize * width..(r as usize + 1) * width];
    let n = rows.len().max(1) as f64;
    let mut sums = vec![0.0f64; width];
    for &r in rows {
        for (sum, &v) in sums.iter_mut().zip(row(r)) {
            *sum += f64::from(v);
        }
    }
    let means: Vec<f64> = sums.into_iter().map(|s| s / n).collect();
    let mut squares = vec![0.0f64; width];
    for &r in rows {
        for ((sq, &v), mean) in squares.iter_mut().zip(row(r)).zip(&means) {
            let d = f64::from(v) - mean;
            *sq += d * d;
        }
    }
    means
        .into_iter()
        .zip(squares)
        .map(|(mean, sq)| ColumnScale::standard(mean, (sq / n).sqrt()))
        .collect()
}

fn unscale_in_place(values: &mut [f64], scales: &[ColumnScale]) {
    for row in values.chunks_mut(scales.len()) {
        for (v, s) in row.iter_mut().zip(scales) {
            *v = s.unscale(*v);
        }
    }
}

fn scale_in_place(values: &mut [f32], scales: &[ColumnScale]) {
    for row in values.chunks_mut(scales.len()) {
        for (v, s) in row.iter_mut().zip(scales) {
            *v = s.scale(f64::from(*v)) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_come_from_the_training_rows_only() {
        let rows = [vec![1.0, 10.0], vec![3.0, 10.0], vec![100.0, 50.0]];
        let mut data = Dataset::from_rows(&rows, 1, 1).unwrap();
        let scaling = Scaling::fit(&data, &[0, 1]);
        assert_eq!(
            scaling.inputs[0],
            ColumnScale {
                mean: 2.0,
                std: 1.0
            }
        );
        // A constant column keeps std 1 instead of dividing by zero.
        assert_eq!(
            scaling.targets[0],
            ColumnScale {
                mean: 10.0,
                std: 1.0
            }
        );
        scaling.apply(&mut data);
        assert_eq!(data.input_values(), [-1.0, 1.0, 98.0]);
        assert_eq!(&data.output_values()[..], [0.0, 0.0, 40.0]);
    }

    #[test]
    fn unscaling_undoes_scaling() {
        let rows = [vec![1.0, 2.0], vec![5.0, 8.0], vec![3.0, -1.0]];
        let data = Dataset::from_rows(&rows, 1, 1).unwrap();
        let scaling = Scaling::fit(&data, &[0, 1, 2]);
        let mut y: Vec<f64> = data
            .observed()
            .iter()
            .map(|&v| scaling.targets[0].scale(v))
            .collect();
        scaling.unscale_targets(&mut y);
        for (a, b) in y.iter().zip(data.observed()) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
        let mut x = [5.0f32];
        scaling.scale_inputs(&mut x);
        assert!((f64::from(x[0]) - scaling.inputs[0].scale(5.0)).abs() < 1e-6);
        let mut back = [f64::from(x[0])];
        scaling.unscale_inputs(&mut back);
        assert!((back[0] - 5.0).abs() < 1e-5);
    }
}
