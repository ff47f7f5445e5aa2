//! A data file larger than memory, trained on by reading it once per epoch (`[data] stream`).
//!
//! What an in-memory run decides from all its rows is found in passes over the file before
//! training: its classes, categories and gap fills ([`CsvWindows::discover`]), then the
//! training rows' statistics (standardisation, in f64). Each epoch then reads the file window
//! by window and hands the training rows to the trainer in mini-batches through a bounded,
//! seeded shuffle buffer; validation rows are held out by a rule on the row's number alone, so
//! no list of all rows is ever kept. Memory is bounded by the buffer, a window and the model.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::data::csv::error::CsvError;
use crate::data::{
    Columns, CsvOptions, CsvWindows, DataIdentity, Dataset, Discovered, Scaling, shuffle_for_epoch,
};

/// How many rows a streamed file's shuffle buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShuffleBuffer {
    /// This many (`[data] shuffle_buffer`): refused when they would pass the memory limit.
    Rows(usize),
    /// This many (the default), or as many as half the memory limit holds when fewer.
    AtMost(usize),
}

/// Statistics of each column over the rows added, in f64, one pass (Welford's update, in row
/// order): the mean, the sum of squared deviations, the minimum and the maximum.
#[derive(Clone, Debug)]
struct Moments {
    n: u64,
    mean: Vec<f64>,
    m2: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Moments {
    fn new(width: usize) -> Self {
        Self {
            n: 0,
            mean: vec![0.0; width],
            m2: vec![0.0; width],
            min: vec![f64::INFINITY; width],
            max: vec![f64::NEG_INFINITY; width],
        }
    }

    fn add(&mut self, row: impl Iterator<Item = f64>) {
        self.n += 1;
        let n = self.n as f64;
        for (c, v) in row.enumerate() {
            let delta = v - self.mean[c];
            self.mean[c] += delta / n;
            self.m2[c] += delta * (v - self.mean[c]);
            self.min[c] = self.min[c].min(v);
            self.max[c] = self.max[c].max(v);
        }
    }

    /// Mean and population standard deviation (1 for a constant column), as
    /// [`Scaling::fit`] gives them.
    fn standardized(&self) -> Vec<crate::data::ColumnScale> {
        let n = self.n.max(1) as f64;
        self.mean
            .iter()
            .zip(&self.m2)
            .map(|(&mean, &m2)| crate::data::ColumnScale::standard(mean, (m2 / n).sqrt()))
            .collect()
    }

    /// Minimum and range (a constant column only shifted), as [`Scaling::fit_range`] gives
    /// them.
    fn ranged(&self) -> Vec<crate::data::ColumnScale> {
        self.min
            .iter()
            .zip(&self.max)
            .map(|(&min, &max)| crate::data::ColumnScale::range(min, max))
            .collect()
    }
}

/// How a streamed run's rows are scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamScaling {
    /// As read.
    None,
    /// Mean 0 and standard deviation 1 over the training rows (`standardize`).
    Standardize,
    /// Inputs from 0 to 1 over the training rows (`rescale`).
    Rescale,
}

/// A data file read by epochs: its statistics, and how each epoch's rows are drawn.
#[derive(Clone, Debug)]
pub struct Stream {
    path: PathBuf,
    discovered: Discovered,
    scaling: Option<Scaling>,
    /// The share of rows held out for validation, and the seed of the rule.
    valid_fraction: Option<f64>,
    seed: u64,
    shuffle_buffer: usize,
    /// One row of the file, with its names, classes, encoding and identity.
    template: Dataset,
    train_rows: u64,
    valid_rows: u64,
    /// `Σ (observed − mean)²` of the training rows' targets as read, per column.
    squares: Vec<f64>,
    /// The same in training units: the running R²'s denominators.
    totals: Vec<f64>,
    /// Rows left out and input cells filled for missing values.
    gaps: (u64, u64),
}

/// Separates the validation rule's hash from the other streams of the seed.
const VALID_STREAM: u64 = 0x5EED_0F5B_11D0_0002;

/// A 64-bit mix of `x` (SplitMix64's finaliser): neighbouring rows get unrelated values.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Stream {
    /// Reads `path` through (once, or twice when classes, categories or gap fills must be
    /// found first) for what training needs before its first epoch.
    ///
    /// # Errors
    /// As [`read_csv`](crate::read_csv): the file's first problem, naming its line.
    pub fn open(
        path: &Path,
        columns: &Columns,
        options: &CsvOptions,
        valid_fraction: Option<f64>,
        seed: u64,
        shuffle_buffer: ShuffleBuffer,
        scale: StreamScaling,
    ) -> Result<Self, CsvError> {
        let discovered = CsvWindows::discover(path, columns, options)?;
        let mut windows = CsvWindows::open(path, &discovered)?;
        let mut inputs: Option<Moments> = None;
        let mut targets: Option<Moments> = None;
        let mut fingerprint = 0xcbf2_9ce4_8422_2325u64;
        let (mut row, mut train_rows, mut valid_rows) = (0u64, 0u64, 0u64);
        let mut template = None;
        while let Some(window) = windows.next_window()? {
            let (width, o) = (window.inputs(), window.outputs());
            let inputs = inputs.get_or_insert_with(|| Moments::new(width));
            let targets = targets.get_or_insert_with(|| Moments::new(o));
            let x = window.input_values();
            let y = window.output_values();
            for r in 0..window.len() {
                if held_out(row + r as u64, valid_fraction, seed) {
                    valid_rows += 1;
                    continue;
                }
                train_rows += 1;
                inputs.add(x[r * width..(r + 1) * width].iter().map(|&v| f64::from(v)));
                targets.add(y[r * o..(r + 1) * o].iter().map(|&v| f64::from(v)));
            }
            // The file's identity: the windows' hashes chained in order.
            fingerprint =
                (fingerprint ^ window.identity().fingerprint).wrapping_mul(0x0100_0000_01b3);
            row += window.len() as u64;
            if template.is_none() {
                let mut first = window.empty_like(1);
                first.push_row(&window, 0);
                template = Some(first);
            }
        }
        let (Some(template), Some(inputs), Some(targets)) = (template, inputs, targets) else {
            unreachable!("discover refuses a file without rows")
        };
        // The shuffle buffer holds up to this many rows at once: a default one takes at most
        // half the memory limit; a given one is refused over the limit (one line, before any
        // epoch), never an allocation that aborts.
        let value_targets = match template.classes() {
            Some(_) => 0,
            None => template.outputs(),
        };
        let per_row = super::csv::row_bytes(template.inputs(), value_targets);
        let shuffle_buffer = match (shuffle_buffer, options.memory_limit) {
            (ShuffleBuffer::Rows(rows), _) | (ShuffleBuffer::AtMost(rows), None) => rows,
            (ShuffleBuffer::AtMost(rows), Some(limit)) => {
                let fits = usize::try_from(limit / 2 / per_row).unwrap_or(usize::MAX);
                rows.min(fits.max(1))
            }
        };
        let buffered = (shuffle_buffer as u64).min(train_rows);
        if let Some(limit) = options.memory_limit
            && buffered.saturating_mul(per_row) > limit
        {
            return Err(CsvError {
                path: path.to_path_buf(),
                line: None,
                column: None,
                problem: crate::data::csv::error::CsvProblem::BufferOverLimit {
                    rows: buffered,
                    bytes: buffered as f64 * per_row as f64,
                    limit,
                },
            });
        }
        let classifier = template.classes().is_some();
        let scaling = match scale {
            StreamScaling::None => None,
            StreamScaling::Standardize => Some(Scaling {
                inputs: inputs.standardized(),
                targets: if classifier {
                    vec![unscaled(); template.outputs()]
                } else {
                    targets.standardized()
                },
            }),
            StreamScaling::Rescale => Some(Scaling {
                inputs: inputs.ranged(),
                targets: vec![unscaled(); template.outputs()],
            }),
        };
        let stream = Self {
            path: path.to_path_buf(),
            discovered,
            scaling: None,
            valid_fraction,
            seed,
            shuffle_buffer: shuffle_buffer.max(1),
            template: template.with_identity(DataIdentity {
                rows: row,
                fingerprint,
            }),
            train_rows,
            valid_rows,
            squares: targets.m2,
            totals: Vec::new(),
            gaps: windows.gaps(),
        };
        Ok(stream.rescaled(scaling))
    }

    /// The stream scaled by `scaling` instead (a resumed run keeps training in the units it
    /// started in).
    pub fn rescaled(mut self, scaling: Option<Scaling>) -> Self {
        // The targets' squared deviations in the units training sees them in.
        let stds = scaling.iter().flat_map(|s| s.targets.iter().map(|t| t.std));
        self.totals = self
            .squares
            .iter()
            .zip(stds.chain(std::iter::repeat(1.0)))
            .map(|(&m2, std)| m2 / (std * std))
            .collect();
        self.scaling = scaling;
        self
    }

    /// True for row `row` (0-based, in file order, after any left out) held out for
    /// validation: a hash of the row's number and the seed below the fraction.
    pub fn is_valid(&self, row: u64) -> bool {
        held_out(row, self.valid_fraction, self.seed)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One row of the file, carrying its columns' names, classes, encoding, gap fills and
    /// the whole file's identity: what a checkpoint records of the data.
    pub fn template(&self) -> &Dataset {
        &self.template
    }

    /// Rows that train.
    pub fn train_len(&self) -> u64 {
        self.train_rows
    }

    /// Rows held out for validation.
    pub fn valid_len(&self) -> u64 {
        self.valid_rows
    }

    /// Rows left out for a missing value, and input cells filled with their column's mean.
    pub fn gaps(&self) -> (u64, u64) {
        self.gaps
    }

    /// The scaling every window is given.
    pub fn scaling(&self) -> Option<&Scaling> {
        self.scaling.as_ref()
    }

    /// The shuffle buffer's rows.
    pub fn shuffle_buffer(&self) -> usize {
        self.shuffle_buffer
    }

    /// The shuffle buffer when it holds fewer than all the training rows: the rows then come
    /// in an order of their own; a buffer that holds them all gives the in-memory order.
    pub fn buffered(&self) -> Option<u64> {
        let rows = self.shuffle_buffer as u64;
        (rows < self.train_rows).then_some(rows)
    }

    /// The training targets' `Σ (observed − mean)²` per column, in training units.
    pub(crate) fn totals(&self) -> &[f64] {
        &self.totals
    }

    /// The file's windows in order, scaled, each with the number of its first row.
    pub(crate) fn windows(&self) -> Result<Windows, CsvError> {
        Ok(Windows {
            inner: CsvWindows::open(&self.path, &self.discovered)?,
            scaling: self.scaling.clone(),
            identity: self.template.identity(),
            row: 0,
        })
    }

    /// An epoch's order, for [`Stream::epoch`]: the order carried from epoch to epoch when
    /// every training row fits the shuffle buffer (so that the run draws exactly the batches
    /// an in-memory run draws), replayed to the start of epoch `epoch`.
    pub(crate) fn carried_order(&self, shuffle: bool, epoch: usize) -> Option<Vec<u32>> {
        let fits = self.train_rows <= self.shuffle_buffer as u64;
        (shuffle && fits).then(|| {
            let mut order: Vec<u32> = (0..self.train_rows as u32).collect();
            for e in 0..epoch {
                shuffle_for_epoch(&mut order, self.seed, e);
            }
            order
        })
    }

    /// Epoch `epoch`'s training rows in mini-batches of `batch` rows, each handed to `each`
    /// (which may stop the epoch by returning false).
    /// Rows go through the shuffle buffer: once it is full, each row read takes the place of
    /// one drawn at random, which is emitted; at the end of the file the rest are emitted in
    /// a random order. `carried`: the order of [`Stream::carried_order`], shuffled here.
    pub(crate) fn epoch<E>(
        &self,
        epoch: usize,
        shuffle: bool,
        batch: usize,
        carried: Option<&mut Vec<u32>>,
        mut each: impl FnMut(&Dataset) -> Result<bool, E>,
    ) -> Result<bool, E>
    where
        E: From<CsvError>,
    {
        let stream = self
            .seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(epoch as u64 + 1);
        let mut rng = StdRng::seed_from_u64(stream);
        let capacity = self.shuffle_buffer.min(self.train_rows as usize);
        let mut buffer = self.template.empty_like(if shuffle { capacity } else { 0 });
        let mut out = self.template.empty_like(batch);
        let mut emit = |from: &Dataset, r: usize, out: &mut Dataset| -> Result<bool, E> {
            out.push_row(from, r);
            if out.len() == batch {
                let go = each(out)?;
                out.clear();
                return Ok(go);
            }
            Ok(true)
        };
        let mut windows = self.windows()?;
        while let Some((window, first)) = windows.next()? {
            for r in 0..window.len() {
                if self.is_valid(first + r as u64) {
                    continue;
                }
                if !shuffle {
                    if !emit(&window, r, &mut out)? {
                        return Ok(false);
                    }
                } else if buffer.len() < capacity {
                    buffer.push_row(&window, r);
                } else {
                    let j = rng.random_range(0..capacity);
                    let go = emit(&buffer, j, &mut out)?;
                    buffer.set_row(j, &window, r);
                    if !go {
                        return Ok(false);
                    }
                }
            }
        }
        if shuffle {
            let order = match carried {
                Some(order) => {
                    shuffle_for_epoch(order, self.seed, epoch);
                    order.clone()
                }
                None => {
                    let mut order: Vec<u32> = (0..buffer.len() as u32).collect();
                    order.shuffle(&mut rng);
                    order
                }
            };
            for r in order {
                if !emit(&buffer, r as usize, &mut out)? {
                    return Ok(false);
                }
            }
        }
        if !out.is_empty() {
            return each(&out);
        }
        Ok(true)
    }
}

/// True for row `row` held out by the rule of `fraction` and `seed`: a hash of the two below
/// the fraction, so each row is decided alone and about `fraction` of the rows validate.
fn held_out(row: u64, fraction: Option<f64>, seed: u64) -> bool {
    fraction.is_some_and(|f| {
        let draw = mix(mix(row ^ VALID_STREAM) ^ seed) >> 11;
        (draw as f64) < f * (1u64 << 53) as f64
    })
}

/// A column left as it is.
fn unscaled() -> crate::data::ColumnScale {
    crate::data::ColumnScale {
        mean: 0.0,
        std: 1.0,
    }
}

/// A streamed file's windows, scaled as training sees them.
pub(crate) struct Windows {
    inner: CsvWindows,
    scaling: Option<Scaling>,
    identity: DataIdentity,
    row: u64,
}

impl Windows {
    /// The next window and the number of its first row.
    pub(crate) fn next(&mut self) -> Result<Option<(Dataset, u64)>, CsvError> {
        let Some(window) = self.inner.next_window()? else {
            return Ok(None);
        };
        let mut window = window.with_identity(self.identity);
        if let Some(s) = &self.scaling {
            s.apply(&mut window);
        }
        let first = self.row;
        self.row += window.len() as u64;
        Ok(Some((window, first)))
    }
}
