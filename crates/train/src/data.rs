//! Training data: rows of inputs followed by outputs, held on the host in f64.

use burn::prelude::*;
use squiggle_model::Precision;
use thiserror::Error;

/// A problem with the rows given as training data.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataError {
    /// No rows at all.
    #[error("no data rows")]
    Empty,
    /// A row whose length is not `inputs + outputs`.
    #[error("row {} has {got} values; expected {expected} ({inputs} inputs then {outputs} outputs)", row + 1)]
    Width {
        /// 0-based row index.
        row: usize,
        /// Its length.
        got: usize,
        /// `inputs + outputs`.
        expected: usize,
        /// Number of inputs.
        inputs: usize,
        /// Number of outputs.
        outputs: usize,
    },
    /// A NaN or infinite value.
    #[error("row {} value {} is {value}; data must be finite", row + 1, column + 1)]
    NonFinite {
        /// 0-based row index.
        row: usize,
        /// 0-based position within the row.
        column: usize,
        /// The value.
        value: f64,
    },
}

/// Inputs and observed outputs, row-major, in f64 on the host.
///
/// Kept on the host so the same data can be uploaded to any device at any precision.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    inputs: usize,
    outputs: usize,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Dataset {
    /// Builds a data set from rows of `inputs` values followed by `outputs` values (the
    /// config's `points = [[dosage, efficacy], …]`).
    ///
    /// # Errors
    /// [`DataError`] for no rows, rows of the wrong width and non-finite values.
    pub fn from_rows(rows: &[Vec<f64>], inputs: usize, outputs: usize) -> Result<Self, DataError> {
        if rows.is_empty() {
            return Err(DataError::Empty);
        }
        let width = inputs + outputs;
        let mut x = Vec::with_capacity(rows.len() * inputs);
        let mut y = Vec::with_capacity(rows.len() * outputs);
        for (row, values) in rows.iter().enumerate() {
            if values.len() != width {
                return Err(DataError::Width {
                    row,
                    got: values.len(),
                    expected: width,
                    inputs,
                    outputs,
                });
            }
            if let Some((column, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite())
            {
                return Err(DataError::NonFinite { row, column, value });
            }
            x.extend_from_slice(&values[..inputs]);
            y.extend_from_slice(&values[inputs..]);
        }
        Ok(Self {
            inputs,
            outputs,
            x,
            y,
        })
    }

    /// Builds a data set from row-major inputs and outputs that are already checked (finite,
    /// whole rows, at least one).
    pub(crate) fn from_columns(x: Vec<f64>, y: Vec<f64>, inputs: usize, outputs: usize) -> Self {
        debug_assert!(!x.is_empty() && x.len() / inputs == y.len() / outputs);
        Self {
            inputs,
            outputs,
            x,
            y,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.x.len() / self.inputs
    }

    /// Returns true if and only if there are no rows (never, for a constructed data set).
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Number of input columns.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of output columns.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Inputs of row `i`.
    pub fn input_row(&self, i: usize) -> &[f64] {
        &self.x[i * self.inputs..(i + 1) * self.inputs]
    }

    /// Observed outputs of row `i`.
    pub fn output_row(&self, i: usize) -> &[f64] {
        &self.y[i * self.outputs..(i + 1) * self.outputs]
    }

    /// Every observed output, row-major.
    pub fn observed(&self) -> &[f64] {
        &self.y
    }

    /// Uploads the inputs and outputs as `[rows, inputs]` and `[rows, outputs]` tensors.
    pub fn to_tensors(&self, device: &Device, precision: Precision) -> (Tensor<2>, Tensor<2>) {
        let options = (device, precision.dtype());
        let x = TensorData::new(self.x.clone(), [self.len(), self.inputs]);
        let y = TensorData::new(self.y.clone(), [self.len(), self.outputs]);
        (Tensor::from_data(x, options), Tensor::from_data(y, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_into_inputs_and_outputs() {
        let data = Dataset::from_rows(&[vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]], 2, 1).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.input_row(1), [3.0, 4.0]);
        assert_eq!(data.output_row(0), [2.0]);
        assert_eq!(data.observed(), [2.0, 5.0]);
    }

    #[test]
    fn bad_rows_are_reported_by_index() {
        assert_eq!(Dataset::from_rows(&[], 1, 1), Err(DataError::Empty));
        let err = Dataset::from_rows(&[vec![0.0, 0.0], vec![1.0]], 1, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 2 has 1 values; expected 2 (1 inputs then 1 outputs)"
        );
        let err = Dataset::from_rows(&[vec![0.0, f64::NAN]], 1, 1).unwrap_err();
        assert_eq!(err.to_string(), "row 1 value 2 is NaN; data must be finite");
    }
}
