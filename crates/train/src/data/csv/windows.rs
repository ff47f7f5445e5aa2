//! Reading a data file window by window, for data sets larger than memory: each window is a
//! few megabytes of whole records parsed in parallel like a whole file, so memory stays
//! bounded by the window whatever the file's size.

use std::path::Path;

use super::chunks::{self, Sink};
use super::labels::{ClassBuilder, Kind};
use super::{Columns, CsvOptions, Labels, MAX_LINE_BYTES, Missing, Opened, builders};
use crate::data::Dataset;
use crate::data::csv::error::{CsvError, CsvProblem};

/// Text per window: large enough that parsing it keeps every core busy, small enough that
/// the window is a small share of the memory a streamed run takes.
const WINDOW_BYTES: usize = 8 << 20;

/// The rows of a data file, a window at a time ([`CsvWindows::next_window`]), with classes,
/// categories and gap fills already known ([`CsvWindows::discover`] finds them), so that
/// every window is encoded alike.
pub struct CsvWindows {
    opened: Opened,
    columns: Columns,
    options: CsvOptions,
    /// Text read past the last window's last record.
    carry: Vec<u8>,
    /// The line the next window starts on.
    line: u64,
    eof: bool,
    /// Rows left out or filled for missing values so far.
    dropped: u64,
    filled: u64,
}

/// What a first pass over a data file found: the columns and options that read it window by
/// window as a whole read would (classes, categories and gap fills fixed), and its rows.
#[derive(Clone, Debug)]
pub struct Discovered {
    /// `columns` with the file's classes and categories.
    pub columns: Columns,
    /// `options` with the file's means as the fill of its gaps, and no memory limit (a
    /// window is small).
    pub options: CsvOptions,
    /// The rows kept.
    pub rows: u64,
}

impl CsvWindows {
    /// Opens `path` to read it window by window as [`CsvWindows::discover`] found it.
    ///
    /// # Errors
    /// As [`read_csv`](super::read_csv) for the header and the columns.
    pub fn open(path: &Path, discovered: &Discovered) -> Result<Self, CsvError> {
        Self::start(path, &discovered.columns, &discovered.options)
    }

    /// Opens `path` with `columns` and `options`; a standard input is refused, since a
    /// streamed run reads its file more than once.
    fn start(path: &Path, columns: &Columns, options: &CsvOptions) -> Result<Self, CsvError> {
        if path == Path::new(super::STDIN) {
            return Err(CsvError {
                path: path.to_path_buf(),
                line: None,
                column: None,
                problem: CsvProblem::StreamNeedsAFile,
            });
        }
        let mut opened = Opened::new(path, columns, options, false)?;
        let carry = std::mem::take(&mut opened.rest);
        let line = opened.header_lines + 1;
        Ok(Self {
            opened,
            columns: columns.clone(),
            options: options.clone(),
            carry,
            line,
            eof: false,
            dropped: 0,
            filled: 0,
        })
    }

    /// Reads `path` once, window by window, for what reading it whole would decide from all
    /// its rows: its classes (when found, not given), its categories, and its columns' means
    /// (`missing = "mean"`). Holds one window at a time.
    ///
    /// # Errors
    /// As [`read_csv`](super::read_csv): a bad cell, a missing value where the options refuse
    /// one, one class, a column with no value to take a mean of, no rows.
    pub fn discover(
        path: &Path,
        columns: &Columns,
        options: &CsvOptions,
    ) -> Result<Discovered, CsvError> {
        let mut windows = Self::start(path, columns, options)?;
        let (known, known_categories) = builders(columns);
        let mut classes = windows
            .opened
            .label
            .map(|_| ClassBuilder::new(known.as_ref(), Kind::Class));
        let mut categories: Vec<ClassBuilder> = known_categories
            .iter()
            .map(|k| ClassBuilder::new(k.as_ref(), Kind::Category))
            .collect();
        let width = windows.opened.inputs.len();
        let mut sums = vec![(0.0f64, 0u64); width];
        let mut rows = 0u64;
        // With `missing = "error"`, the first gap of the file and how many rows have one: the
        // refusal counts the whole file's, as a whole read does.
        let (mut first_gap, mut gap_rows) = (None, 0u64);
        while let Some(text) = windows.next_text()? {
            let mut sink = Sink {
                classes: classes.take(),
                categories: std::mem::take(&mut categories),
                ..Sink::default()
            };
            windows.parse(text, &mut sink, false)?;
            if windows.options.missing == Missing::Error {
                gap_rows += sink.missing_rows;
                first_gap = first_gap.or(sink.first_missing.take());
            }
            // The sums of each column's values, in file order, as a whole read takes its means.
            for row in sink.x.chunks_exact(width) {
                for (sum, &v) in sums.iter_mut().zip(row) {
                    if !v.is_nan() {
                        *sum = (sum.0 + f64::from(v), sum.1 + 1);
                    }
                }
            }
            rows += sink.rows;
            classes = sink.classes.take().map(|mut b| {
                b.labels.clear();
                b
            });
            categories = std::mem::take(&mut sink.categories)
                .into_iter()
                .map(|mut b| {
                    b.labels.clear();
                    b
                })
                .collect();
        }
        if let Some((line, column, cell)) = first_gap {
            let problem = CsvProblem::Missing {
                cell,
                rows: gap_rows,
            };
            return Err(windows.opened.error(Some(line), Some(column), problem));
        }
        if rows == 0 {
            return Err(windows.opened.error(Some(2), None, CsvProblem::NoRows));
        }
        let opened = &windows.opened;
        let mut columns = columns.clone();
        if let Some(builder) = classes {
            let column = opened.targets[0];
            let (names, _) = builder
                .finish()
                .map_err(|problem| opened.error(Some(1), Some(column), problem))?;
            columns.labels = Some(Labels::Known {
                names,
                from: "training data's",
            });
        }
        for ((builder, c), &i) in categories
            .into_iter()
            .zip(&mut columns.categorical)
            .zip(&opened.categorical)
        {
            let (names, _) = builder
                .finish()
                .map_err(|p| opened.error(Some(1), Some(i), p))?;
            c.categories = Labels::Known {
                names,
                from: "training data's",
            };
        }
        let mut options = options.clone();
        options.memory_limit = None;
        if options.missing == Missing::Mean && options.fill.is_none() {
            let fill = sums
                .iter()
                .enumerate()
                .map(|(k, &(sum, n))| match n {
                    0 => {
                        Err(opened.error(None, Some(opened.inputs[k]), CsvProblem::NoMean { rows }))
                    }
                    n => Ok((sum / n as f64) as f32),
                })
                .collect::<Result<_, _>>()?;
            options.fill = Some(fill);
        }
        Ok(Discovered {
            columns,
            options,
            rows,
        })
    }

    /// The next window's rows (a window whose every row was left out is skipped), or `None`
    /// at the end of the file.
    ///
    /// # Errors
    /// As [`read_csv`](super::read_csv), naming the file's line.
    pub fn next_window(&mut self) -> Result<Option<Dataset>, CsvError> {
        while let Some(text) = self.next_text()? {
            let (known, known_categories) = builders(&self.columns);
            let mut sink = Sink {
                classes: self
                    .opened
                    .label
                    .map(|_| ClassBuilder::new(known.as_ref(), Kind::Class)),
                categories: known_categories
                    .iter()
                    .map(|k| ClassBuilder::new(k.as_ref(), Kind::Category))
                    .collect(),
                ..Sink::default()
            };
            self.parse(text, &mut sink, true)?;
            self.dropped += sink.missing_rows;
            self.filled += sink.filled;
            if sink.rows > 0 {
                return self.opened.finish(sink, &self.options).map(Some);
            }
        }
        Ok(None)
    }

    /// Rows left out and input cells filled for missing values, in the windows read so far.
    pub fn gaps(&self) -> (u64, u64) {
        (self.dropped, self.filled)
    }

    /// Parses one window's `text` into `sink`, refusing a missing value as the options say
    /// when `refuse` (the first pass counts them over the whole file first).
    fn parse(&mut self, text: Vec<u8>, sink: &mut Sink, refuse: bool) -> Result<(), CsvError> {
        let (known, known_categories) = builders(&self.columns);
        let layout = self
            .opened
            .layout(&self.options, known.as_ref(), &known_categories);
        self.line = chunks::parse_rows(&mut std::io::empty(), text, self.line, &layout, sink)
            .map_err(|f| self.opened.fault(f))?;
        // Left out or filled as the options say: only a refused gap stops the read.
        if refuse && self.options.missing == Missing::Error {
            self.opened.missing(sink, &self.options)?;
        }
        Ok(())
    }

    /// The next window's text: whole records, about [`WINDOW_BYTES`] of them.
    fn next_text(&mut self) -> Result<Option<Vec<u8>>, CsvError> {
        let mut buffer = std::mem::take(&mut self.carry);
        let mut want = WINDOW_BYTES;
        loop {
            if !self.eof {
                let line = self.line;
                self.eof = chunks::fill(&mut self.opened.reader, &mut buffer, want)
                    .map_err(|p| self.opened.error(Some(line), None, p))?;
            }
            if buffer.is_empty() {
                return Ok(None);
            }
            if self.eof {
                return Ok(Some(buffer));
            }
            match chunks::last_end(&buffer) {
                Some(cut) => {
                    self.carry = buffer.split_off(cut);
                    return Ok(Some(buffer));
                }
                None if buffer.len() > MAX_LINE_BYTES => {
                    let line = self.line;
                    return Err(self.opened.error(Some(line), None, CsvProblem::LineTooLong));
                }
                None => want = buffer.len() + WINDOW_BYTES,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of three windows and more, with a gap in the first and in the last: a streamed
    /// run refuses it at the first gap, counting every row that has one (as a whole read
    /// does), not only the first window's.
    #[test]
    fn a_refused_gap_counts_the_whole_files_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let rows = 3 * WINDOW_BYTES / 16;
        let mut text = String::from("x,y\n");
        for r in 0..rows {
            match r {
                5 | 7 => text.push_str("NA,1.000000\n"),
                r if r == rows - 2 => text.push_str(",2.000000\n"),
                _ => text.push_str(&format!("{:.6},{:.6}\n", (r % 97) as f64, (r % 89) as f64)),
            }
        }
        assert!(text.len() > 3 * WINDOW_BYTES, "{}", text.len());
        std::fs::write(&path, text).unwrap();
        let error = CsvWindows::discover(&path, &Columns::default(), &CsvOptions::default())
            .expect_err("refused");
        assert_eq!((error.line, error.column.as_deref()), (Some(7), Some("x")));
        assert!(
            matches!(error.problem, CsvProblem::Missing { rows: 3, .. }),
            "{error}"
        );
    }
}
