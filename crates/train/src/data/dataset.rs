//! Training data: rows of inputs followed by outputs, held on the host in f32.

use crate::data::error::{ClassNamesError, DataError};
use burn::prelude::*;
use squiggle_model::Precision;

/// Inputs and observed outputs, row-major, in f32 on the host.
///
/// Kept on the host so the same data can be uploaded to any device at any precision, and kept
/// in f32 (the default precision of every run) so that ten million rows cost only their f32
/// size: f64 runs widen the values when they upload them. A classifier's targets are kept as
/// class indices (4 bytes a row, whatever the number of classes) and become one-hot rows only
/// as a batch is uploaded or a row is asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    inputs: usize,
    outputs: usize,
    x: Vec<f32>,
    /// Regression targets (empty for a classifier).
    y: Vec<f32>,
    /// A classifier's class per row (empty otherwise).
    labels: Vec<u32>,
    input_names: Vec<String>,
    output_names: Vec<String>,
    classes: Option<Classes>,
    /// A hash of the values as they were read (before any scaling in place): what a resumed
    /// run checks to know it has the data it started on.
    fingerprint: u64,
    /// What was done about missing values as the rows were read.
    gaps: Gaps,
    /// How the file's input columns became these inputs, when some are categorical.
    encoding: Option<Box<Encoding>>,
    /// The identity of the file a streamed run reads by epochs, for the rows of it held here
    /// (a mini-batch, the shuffle buffer): the run is checked against the whole file.
    streamed: Option<DataIdentity>,
}

/// How a file's input columns became a network's inputs when some of them are categorical:
/// what a run keeps so that new rows are encoded as its training rows were.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Encoding {
    /// The file's input columns, in order (each categorical one becomes one input per
    /// category, named `column=category`).
    pub columns: Vec<String>,
    /// The categorical columns and their categories, in order.
    pub categorical: Vec<Classes>,
}

impl Encoding {
    /// The file columns of inputs named `inputs` and encoded by `encoding` (none: every input
    /// is a column of numbers), and the categorical ones restricted to their categories.
    pub fn input_columns(
        encoding: Option<&Encoding>,
        inputs: &[String],
        from: &'static str,
    ) -> (Vec<String>, Vec<crate::data::Categorical>) {
        match encoding {
            None => (inputs.to_vec(), Vec::new()),
            Some(e) => (e.columns.clone(), e.known(from)),
        }
    }

    /// The categorical columns, each restricted to its categories (`from`: whose they are,
    /// for the message about any other).
    pub fn known(&self, from: &'static str) -> Vec<crate::data::Categorical> {
        self.categorical
            .iter()
            .map(|c| crate::data::Categorical {
                column: c.column.clone(),
                categories: crate::data::Labels::Known {
                    names: c.names.clone(),
                    from,
                },
            })
            .collect()
    }
}

/// What reading did about missing values (`[data] missing`): rows left out, and input cells
/// filled with their column's mean.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gaps {
    /// Rows of the file left out for a missing value (`drop`, or a missing target).
    pub dropped: u64,
    /// Input cells filled (`mean`).
    pub filled: u64,
    /// The value each input column's gaps were filled with (`mean`: the means of the training
    /// file's values), kept with the run so its predictions fill their gaps the same way.
    pub fill: Option<Vec<f32>>,
}

/// A hash of the values `x` and `y` (their bits), one multiply per value.
fn fingerprint_of(x: &[f32], y: impl Iterator<Item = f32>) -> u64 {
    x.iter()
        .copied()
        .chain(y)
        .fold(0xcbf2_9ce4_8422_2325, |h: u64, v| {
            (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3)
        })
}

/// The one-hot rows of `labels` over `width` classes, value by value (never held whole).
fn one_hot(labels: &[u32], width: usize) -> impl Iterator<Item = f32> + '_ {
    labels
        .iter()
        .flat_map(move |&l| (0..width).map(move |c| f32::from(u8::from(c == l as usize))))
}

/// Which data a run read: the number of rows and a hash of their values, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataIdentity {
    /// Rows.
    pub rows: u64,
    /// The hash of every value.
    pub fingerprint: u64,
}

impl std::fmt::Display for DataIdentity {
    /// `2,000 rows (fingerprint 1a2b3c4d5e6f7a8b)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = if self.rows == 1 { "" } else { "s" };
        write!(
            f,
            "{} row{plural} (fingerprint {:016x})",
            crate::bytes::Thousands(self.rows),
            self.fingerprint
        )
    }
}

/// The classes of a classification data set: the outputs are one raw score per class and the
/// targets one-hot rows (1 for the row's class, 0 elsewhere), so splitting, shuffling and
/// batching treat them as any other target columns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Classes {
    /// The column the labels were read from (`species`); `class` for points in a config.
    pub column: String,
    /// The class names in output order.
    pub names: Vec<String>,
}

impl Classes {
    /// Checks class names as a config lists them: two at least, at most [`MAX_CLASSES`],
    /// none twice (which output would it name?).
    ///
    /// # Errors
    /// The first [`ClassNamesError`].
    ///
    /// [`MAX_CLASSES`]: crate::MAX_CLASSES
    pub fn check_names(names: &[String]) -> Result<(), ClassNamesError> {
        let max = crate::data::csv::MAX_CLASSES;
        if names.len() > max {
            return Err(ClassNamesError::TooMany {
                given: names.len(),
                max,
            });
        }
        if names.len() < 2 {
            return Err(ClassNamesError::TooFew { given: names.len() });
        }
        match (1..names.len()).find(|&k| names[..k].contains(&names[k])) {
            Some(k) => Err(ClassNamesError::Twice(names[k].clone())),
            None => Ok(()),
        }
    }
}

impl Dataset {
    /// Builds a data set from rows of `inputs` values followed by `outputs` values (the
    /// config's `points = [[dosage, efficacy], …]`).
    ///
    /// # Errors
    /// [`DataError`] for no rows, rows of the wrong width and values that are not finite
    /// in f32.
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
            if let Some((column, &value)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| !(**v as f32).is_finite())
            {
                return Err(DataError::NonFinite { row, column, value });
            }
            x.extend(values[..inputs].iter().map(|&v| v as f32));
            y.extend(values[inputs..].iter().map(|&v| v as f32));
        }
        Ok(Self::from_columns(x, y, inputs, outputs))
    }

    /// Builds a classification data set from rows of `inputs` values followed by a class
    /// index (the config's `points = [[petal, sepal, class], …]` with `classes = […]`).
    ///
    /// # Errors
    /// As [`Dataset::from_rows`], and [`DataError::Class`] for a class index that is not a
    /// whole number below the number of classes.
    pub fn from_labelled_rows(
        rows: &[Vec<f64>],
        inputs: usize,
        classes: Classes,
    ) -> Result<Self, DataError> {
        let count = classes.names.len();
        let plain = Self::from_rows(rows, inputs, 1)?;
        let mut labels = Vec::with_capacity(rows.len());
        for (row, &value) in plain.y.iter().enumerate() {
            let index = value as usize;
            if value < 0.0 || value.fract() != 0.0 || index >= count {
                return Err(DataError::Class {
                    row,
                    value: f64::from(value),
                    classes: count,
                });
            }
            labels.push(index as u32);
        }
        let names = default_names("x", inputs);
        Ok(Self::from_labels(plain.x, &labels, names, classes))
    }

    /// A classification data set from row-major inputs (named `input_names`) and one class
    /// index per row (already checked: whole rows, at least one, indices below the number of
    /// classes). Its output names are the class names.
    pub(crate) fn from_labels(
        x: Vec<f32>,
        labels: &[u32],
        input_names: Vec<String>,
        classes: Classes,
    ) -> Self {
        let width = classes.names.len();
        Self {
            inputs: input_names.len(),
            input_names,
            output_names: classes.names.clone(),
            outputs: width,
            // The hash of the one-hot rows, as when they were stored.
            fingerprint: fingerprint_of(&x, one_hot(labels, width)),
            gaps: Gaps::default(),
            encoding: None,
            streamed: None,
            x,
            y: Vec::new(),
            labels: labels.to_vec(),
            classes: Some(classes),
        }
    }

    /// The classes, for a classification data set.
    pub fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }

    /// The class of row `i` (the one-hot target's 1), for a classification data set.
    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// Appends the observed outputs of row `r` to `out` (a classifier's as its one-hot row).
    fn push_targets<T: From<f32>>(&self, r: usize, out: &mut Vec<T>) {
        match self.classes {
            Some(_) => out.extend(
                (0..self.outputs).map(|c| T::from(f32::from(c == self.labels[r] as usize))),
            ),
            None => out.extend(
                self.y[r * self.outputs..(r + 1) * self.outputs]
                    .iter()
                    .map(|&v| T::from(v)),
            ),
        }
    }

    /// Names the columns (a CSV file's header); the defaults are `x`/`y`, or `x1`, `x2`, …
    /// when there are several.
    pub fn with_names(mut self, inputs: Vec<String>, outputs: Vec<String>) -> Self {
        debug_assert_eq!((inputs.len(), outputs.len()), (self.inputs, self.outputs));
        self.input_names = inputs;
        self.output_names = outputs;
        self
    }

    /// The same rows, noting what reading did about missing values.
    pub(crate) fn with_gaps(mut self, gaps: Gaps) -> Self {
        self.gaps = gaps;
        self
    }

    /// Rows of the file left out for a missing value.
    pub fn dropped(&self) -> u64 {
        self.gaps.dropped
    }

    /// What reading did about missing values.
    pub fn gaps(&self) -> &Gaps {
        &self.gaps
    }

    /// The same rows, noting how categorical columns became inputs.
    pub(crate) fn with_encoding(mut self, encoding: Option<Encoding>) -> Self {
        self.encoding = encoding.map(Box::new);
        self
    }

    /// How the file's columns became the inputs, when some are categorical.
    pub fn encoding(&self) -> Option<&Encoding> {
        self.encoding.as_deref()
    }

    /// The file columns the inputs were read from, and the categorical ones restricted to
    /// their categories (`from`: whose they are): how more rows are read to be encoded as
    /// these were.
    pub fn input_columns(
        &self,
        from: &'static str,
    ) -> (Vec<String>, Vec<crate::data::Categorical>) {
        Encoding::input_columns(self.encoding(), &self.input_names, from)
    }

    /// Names of the input columns.
    pub fn input_names(&self) -> &[String] {
        &self.input_names
    }

    /// Names of the output (target) columns.
    pub fn output_names(&self) -> &[String] {
        &self.output_names
    }

    /// Builds a data set from row-major inputs and outputs that are already checked (finite,
    /// whole rows, at least one).
    pub(crate) fn from_columns(x: Vec<f32>, y: Vec<f32>, inputs: usize, outputs: usize) -> Self {
        debug_assert!(!x.is_empty() && x.len() / inputs * outputs == y.len());
        Self {
            input_names: default_names("x", inputs),
            output_names: default_names("y", outputs),
            inputs,
            outputs,
            fingerprint: fingerprint_of(&x, y.iter().copied()),
            gaps: Gaps::default(),
            encoding: None,
            streamed: None,
            x,
            y,
            labels: Vec::new(),
            classes: None,
        }
    }

    /// What the rows were when they were read: their count and a hash of their values (a
    /// streamed file's, for rows of one).
    pub fn identity(&self) -> DataIdentity {
        if let Some(identity) = self.streamed {
            return identity;
        }
        DataIdentity {
            rows: self.len() as u64,
            fingerprint: self.fingerprint,
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

    /// Inputs of row `i`, widened to f64 for host-side arithmetic.
    pub fn input_row(&self, i: usize) -> Vec<f64> {
        widen(&self.x[i * self.inputs..(i + 1) * self.inputs])
    }

    /// Observed outputs of row `i`, widened to f64.
    pub fn output_row(&self, i: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.outputs);
        self.push_targets(i, &mut out);
        out
    }

    /// Every observed output, row-major, widened to f64.
    pub fn observed(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len() * self.outputs);
        for r in 0..self.len() {
            self.push_targets(r, &mut out);
        }
        out
    }

    /// Observed outputs of the rows `rows`, in that order, row-major, widened to f64.
    pub fn outputs_of(&self, rows: &[u32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(rows.len() * self.outputs);
        for &r in rows {
            self.push_targets(r as usize, &mut out);
        }
        out
    }

    /// `Σ (observed − column mean)²` over the rows `rows`, summed over the target columns:
    /// the denominator of R².
    pub fn total_squares(&self, rows: &[u32]) -> f64 {
        self.column_total_squares(rows.iter().copied()).iter().sum()
    }

    /// `Σ (observed − column mean)²` over the rows `rows`, one sum per target column, in the
    /// order the rows come (an iterator, so a caller can name rows without listing them).
    pub fn column_total_squares(&self, rows: impl Iterator<Item = u32> + Clone) -> Vec<f64> {
        let width = self.outputs;
        let n = rows.clone().count().max(1) as f64;
        (0..width)
            .map(|c| {
                let column = || {
                    rows.clone().map(|r| match self.classes {
                        Some(_) => f64::from(u8::from(self.labels[r as usize] as usize == c)),
                        None => f64::from(self.y[r as usize * width + c]),
                    })
                };
                let mean = column().sum::<f64>() / n;
                column().map(|v| (v - mean) * (v - mean)).sum::<f64>()
            })
            .collect()
    }

    /// Inputs, row-major, as stored.
    pub fn input_values(&self) -> &[f32] {
        &self.x
    }

    /// Observed outputs, row-major: as stored, or a classifier's one-hot rows built.
    pub fn output_values(&self) -> std::borrow::Cow<'_, [f32]> {
        match self.classes {
            Some(_) => one_hot(&self.labels, self.outputs).collect(),
            None => std::borrow::Cow::Borrowed(&self.y),
        }
    }

    /// Mutable access to the inputs and the regression targets (none for a classifier, whose
    /// one-hot targets are never scaled), for scaling in place (no second copy of the data).
    pub(crate) fn values_mut(&mut self) -> (&mut [f32], &mut [f32]) {
        (&mut self.x, &mut self.y)
    }

    /// The rows `rows` (in that order) as a data set of their own, with the same names.
    pub fn subset(&self, rows: &[u32]) -> Dataset {
        let mut x = Vec::with_capacity(rows.len() * self.inputs);
        let mut y = Vec::new();
        for &r in rows {
            let r = r as usize;
            x.extend_from_slice(&self.x[r * self.inputs..(r + 1) * self.inputs]);
            if self.classes.is_none() {
                y.extend_from_slice(&self.y[r * self.outputs..(r + 1) * self.outputs]);
            }
        }
        let labels: Vec<u32> = match self.classes {
            Some(_) => rows.iter().map(|&r| self.labels[r as usize]).collect(),
            None => Vec::new(),
        };
        let fingerprint = match self.classes {
            Some(_) => fingerprint_of(&x, one_hot(&labels, self.outputs)),
            None => fingerprint_of(&x, y.iter().copied()),
        };
        Self {
            inputs: self.inputs,
            outputs: self.outputs,
            fingerprint,
            // The fill travels with the rows (a validation subset predicts as its run does).
            gaps: Gaps {
                fill: self.gaps.fill.clone(),
                ..Gaps::default()
            },
            encoding: self.encoding.clone(),
            streamed: self.streamed,
            x,
            y,
            labels,
            input_names: self.input_names.clone(),
            output_names: self.output_names.clone(),
            classes: self.classes.clone(),
        }
    }

    /// No rows, with room for `capacity`, and everything else of this data set (names,
    /// classes, encoding, fill): a shuffle buffer or a mini-batch of a streamed file.
    pub(crate) fn empty_like(&self, capacity: usize) -> Dataset {
        let labelled = self.classes.is_some();
        Self {
            x: Vec::with_capacity(capacity * self.inputs),
            y: Vec::with_capacity(if labelled { 0 } else { capacity * self.outputs }),
            labels: Vec::with_capacity(if labelled { capacity } else { 0 }),
            fingerprint: 0,
            gaps: Gaps {
                fill: self.gaps.fill.clone(),
                ..Gaps::default()
            },
            ..self.clone_header()
        }
    }

    /// The names, classes, encoding and identity, without rows.
    fn clone_header(&self) -> Dataset {
        Self {
            inputs: self.inputs,
            outputs: self.outputs,
            x: Vec::new(),
            y: Vec::new(),
            labels: Vec::new(),
            input_names: self.input_names.clone(),
            output_names: self.output_names.clone(),
            classes: self.classes.clone(),
            fingerprint: self.fingerprint,
            gaps: self.gaps.clone(),
            encoding: self.encoding.clone(),
            streamed: self.streamed,
        }
    }

    /// Marks these rows as read from a streamed file of identity `identity`.
    pub(crate) fn with_identity(mut self, identity: DataIdentity) -> Self {
        self.streamed = Some(identity);
        self
    }

    /// Appends row `r` of `from` (a data set of the same columns).
    pub(crate) fn push_row(&mut self, from: &Dataset, r: usize) {
        self.x
            .extend_from_slice(&from.x[r * self.inputs..(r + 1) * self.inputs]);
        match self.classes {
            Some(_) => self.labels.push(from.labels[r]),
            None => self
                .y
                .extend_from_slice(&from.y[r * self.outputs..(r + 1) * self.outputs]),
        }
    }

    /// Overwrites row `i` with row `r` of `from` (a data set of the same columns).
    pub(crate) fn set_row(&mut self, i: usize, from: &Dataset, r: usize) {
        let (w, o) = (self.inputs, self.outputs);
        self.x[i * w..(i + 1) * w].copy_from_slice(&from.x[r * w..(r + 1) * w]);
        match self.classes {
            Some(_) => self.labels[i] = from.labels[r],
            None => self.y[i * o..(i + 1) * o].copy_from_slice(&from.y[r * o..(r + 1) * o]),
        }
    }

    /// Drops every row, keeping the room they took.
    pub(crate) fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.labels.clear();
    }

    /// Uploads the rows listed in `rows` (in that order) as a mini-batch: `[n, inputs]` and
    /// `[n, outputs]` tensors.
    pub fn gather(
        &self,
        rows: &[u32],
        device: &Device,
        precision: Precision,
    ) -> (Tensor<2>, Tensor<2>) {
        self.gather_host(rows).upload(device, precision)
    }

    /// The rows listed in `rows` (in that order) copied out on the host, to be uploaded as a
    /// mini-batch: the part of [`Dataset::gather`] another thread can do.
    pub(crate) fn gather_host(&self, rows: &[u32]) -> HostRows {
        let targets = match self.classes {
            Some(_) => {
                let mut out: Vec<f32> = Vec::with_capacity(rows.len() * self.outputs);
                for &r in rows {
                    self.push_targets(r as usize, &mut out);
                }
                out
            }
            None => pick(&self.y, self.outputs, rows),
        };
        HostRows {
            rows: rows.len(),
            inputs: (pick(&self.x, self.inputs, rows), self.inputs),
            targets: (targets, self.outputs),
        }
    }

    /// Uploads every row, in order, as a mini-batch (a streamed file's, gathered already).
    pub(crate) fn gather_all(
        &self,
        device: &Device,
        precision: Precision,
    ) -> (Tensor<2>, Tensor<2>) {
        let targets = match self.classes {
            Some(_) => one_hot(&self.labels, self.outputs).collect(),
            None => self.y.clone(),
        };
        HostRows {
            rows: self.len(),
            inputs: (self.x.clone(), self.inputs),
            targets: (targets, self.outputs),
        }
        .upload(device, precision)
    }

    /// Uploads the inputs of the rows listed in `rows` as an `[n, inputs]` tensor.
    pub fn gather_inputs(&self, rows: &[u32], device: &Device, precision: Precision) -> Tensor<2> {
        upload(
            pick(&self.x, self.inputs, rows),
            rows.len(),
            self.inputs,
            device,
            precision,
        )
    }
}

/// The rows `rows` of a row-major `width`-wide table.
fn pick(values: &[f32], width: usize, rows: &[u32]) -> Vec<f32> {
    match width {
        // One value a row (a lesson's dosage, a single target): a plain indexed load, not a
        // copy call per row.
        1 => rows.iter().map(|&r| values[r as usize]).collect(),
        _ => {
            let mut out = Vec::with_capacity(rows.len() * width);
            for &r in rows {
                let r = r as usize;
                out.extend_from_slice(&values[r * width..(r + 1) * width]);
            }
            out
        }
    }
}

/// `rows` row-major rows of `values`, `width` a row, as a tensor on `device`.
fn upload(
    values: Vec<f32>,
    rows: usize,
    width: usize,
    device: &Device,
    precision: Precision,
) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(values, [rows, width]),
        (device, precision.dtype()),
    )
}

/// A mini-batch's rows copied out on the host ([`Dataset::gather_host`]), not yet uploaded.
pub(crate) struct HostRows {
    rows: usize,
    inputs: (Vec<f32>, usize),
    targets: (Vec<f32>, usize),
}

impl HostRows {
    /// The `[n, inputs]` and `[n, outputs]` tensors on `device`.
    pub(crate) fn upload(self, device: &Device, precision: Precision) -> (Tensor<2>, Tensor<2>) {
        let tensor = |(values, width)| upload(values, self.rows, width, device, precision);
        (tensor(self.inputs), tensor(self.targets))
    }
}

fn default_names(stem: &str, count: usize) -> Vec<String> {
    if count == 1 {
        vec![stem.to_string()]
    } else {
        (1..=count).map(|i| format!("{stem}{i}")).collect()
    }
}

fn widen(values: &[f32]) -> Vec<f64> {
    values.iter().map(|&v| f64::from(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_two_to_the_limit_and_each_once() {
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(Classes::check_names(&names(&["cat", "dog"])), Ok(()));
        assert_eq!(
            Classes::check_names(&names(&["cat"])),
            Err(ClassNamesError::TooFew { given: 1 })
        );
        assert_eq!(
            Classes::check_names(&names(&["cat", "dog", "cat"]))
                .unwrap_err()
                .to_string(),
            "`cat` is listed twice"
        );
        let many: Vec<String> = (0..=crate::MAX_CLASSES).map(|i| i.to_string()).collect();
        assert!(matches!(
            Classes::check_names(&many),
            Err(ClassNamesError::TooMany { given, max }) if given == max + 1
        ));
    }

    #[test]
    fn rows_split_into_inputs_and_outputs() {
        let data = Dataset::from_rows(&[vec![0.0, 1.0, 2.0], vec![3.0, 4.0, 5.0]], 2, 1).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.input_row(1), [3.0, 4.0]);
        assert_eq!(data.output_row(0), [2.0]);
        assert_eq!(data.observed(), [2.0, 5.0]);
        // targets 2 and 5: mean 3.5, squares 2.25 + 2.25
        assert_eq!(data.total_squares(&[0, 1]), 4.5);
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
        assert_eq!(
            err.to_string(),
            "row 1 value 2 is NaN; data must be finite f32 numbers (|x| < 3.4e38)"
        );
        let err = Dataset::from_rows(&[vec![1e39, 0.0]], 1, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 1 value 1 is 1000000000000000000000000000000000000000; data must be finite f32 numbers (|x| < 3.4e38)"
        );
    }

    #[test]
    fn subsets_keep_the_rows_asked_for_in_order() {
        let rows = [vec![0.0, 10.0], vec![1.0, 11.0], vec![2.0, 12.0]];
        let data = Dataset::from_rows(&rows, 1, 1).unwrap();
        let sub = data.subset(&[2, 0]);
        assert_eq!((sub.len(), sub.observed()), (2, vec![12.0, 10.0]));
        assert_eq!(sub.input_names(), data.input_names());
    }

    #[test]
    fn gather_picks_rows_in_the_given_order() {
        let rows = [vec![0.0, 10.0], vec![1.0, 11.0], vec![2.0, 12.0]];
        let data = Dataset::from_rows(&rows, 1, 1).unwrap();
        let (x, y) = data.gather(&[2, 0], &Device::flex(), Precision::F32);
        assert_eq!(x.into_data().try_to_vec::<f32>().unwrap(), [2.0, 0.0]);
        assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), [12.0, 10.0]);
    }

    #[test]
    fn class_targets_are_stored_as_indices_and_read_as_one_hot_rows() {
        let classes = Classes {
            column: "digit".into(),
            names: (0..10).map(|d| d.to_string()).collect(),
        };
        let labels: Vec<u32> = (0..1000).map(|r| (r * 7 % 10) as u32).collect();
        let x: Vec<f32> = (0..1000).map(|r| r as f32).collect();
        let data = Dataset::from_labels(x.clone(), &labels, vec!["x".into()], classes.clone());
        // 4 bytes a row for the targets, not 4 × classes.
        assert!(data.y.is_empty());
        assert_eq!(data.labels.len(), 1000);
        let one_hot: Vec<f32> = labels
            .iter()
            .flat_map(|&l| (0..10).map(move |c| if c == l as usize { 1.0 } else { 0.0 }))
            .collect();
        assert_eq!(&data.output_values()[..], &one_hot[..]);
        assert_eq!(
            data.output_row(3),
            one_hot[30..40]
                .iter()
                .map(|&v| f64::from(v))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            data.outputs_of(&[3, 1]),
            [&data.output_row(3)[..], &data.output_row(1)[..]].concat()
        );
        // The identity a run records is the one the one-hot rows had.
        let stored = Dataset::from_columns(x, one_hot.clone(), 1, 10);
        assert_eq!(data.identity(), stored.identity());
        assert_eq!(
            data.column_total_squares(0..1000u32),
            stored.column_total_squares(0..1000u32)
        );
        let (_, y) = data.gather(&[5, 2], &Default::default(), Precision::F32);
        let y: Vec<f32> = y.into_data().try_to_vec().unwrap();
        assert_eq!(y, [&one_hot[50..60], &one_hot[20..30]].concat());
        let part = data.subset(&[9, 4]);
        assert_eq!(
            (part.label(0), part.label(1)),
            (labels[9] as usize, labels[4] as usize)
        );
        assert_eq!(part.identity(), stored.subset(&[9, 4]).identity());
    }
}
