//! Reading a data set from a CSV file with a header row.
//!
//! Every problem is reported as `file:line: column `name`: reason` (or `file:line: reason`
//! when no single column is at fault), with 1-based line numbers as an editor shows them.

mod chunks;
pub(crate) mod error;
mod input;
mod labels;
#[cfg(feature = "parquet")]
mod parquet;
mod records;
mod windows;

pub use self::error::{CsvError, CsvProblem, UnknownLabel};
pub use self::input::STDIN;
pub use self::windows::{CsvWindows, Discovered};

use std::io::Read;
use std::path::Path;

use self::labels::{ClassBuilder, Kind, Known};
use crate::data::{Classes, Dataset, Encoding, Gaps};
use crate::foreign::Foreign;

/// Which columns are inputs and which are targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Columns {
    /// Input columns by header name; `None`: every column but the last.
    pub inputs: Option<Vec<String>>,
    /// Target columns by header name; `None`: the last column.
    pub targets: Option<Vec<String>>,
    /// For classification: the one target column holds class labels (names or integers).
    pub labels: Option<Labels>,
    /// Columns that are never inputs by default (an ID, a date), by header name.
    pub exclude: Vec<String>,
    /// Inputs whose cells are names, one-hot encoded: one input per category.
    pub categorical: Vec<Categorical>,
}

/// A categorical input: a column of names (a colour, a town) that becomes one input per
/// category, 1 for the row's category and 0 for the others.
#[derive(Clone, Debug, PartialEq)]
pub struct Categorical {
    /// The column, by header name.
    pub column: String,
    /// Its categories: the training file's own, sorted (numerically when all are integers);
    /// a run's for new rows, where any other name is an error naming its line.
    pub categories: Labels,
}

/// How a data file is written, beyond its columns, and what to do with its gaps.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// The byte between fields: `,` unless the file uses another (`;`, a tab).
    pub delimiter: u8,
    /// Rows with a missing value in a chosen column.
    pub missing: Missing,
    /// With [`Missing::Mean`]: the values to fill each input column's gaps with (a trained
    /// run's, for its predictions and its validation file); `None`: the means of this file.
    pub fill: Option<Vec<f32>>,
    /// The memory the rows may take (`[data] memory_limit`, or what the process may still
    /// allocate): a file whose rows would need more is refused with the estimate before they
    /// are read (counted first) or as soon as they pass it (a stream). `None`: no limit
    /// beyond the allocator's.
    pub memory_limit: Option<u64>,
    /// Data files compiled into the program, read in place of the disk.
    pub compiled_in: CompiledIn,
}

/// Data files compiled into the program (path, text), read in place of the disk: so a host
/// without files (the playground's WebAssembly page) can open the lesson presets that read
/// data, and the server never writes them out. Paths as a config's data paths resolve
/// (`configs/data/iris.csv`: joined onto the config's folder); any other path is read from
/// the disk as usual.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompiledIn(pub Vec<(std::path::PathBuf, &'static str)>);

impl CompiledIn {
    /// The text compiled in for `path`, if any.
    pub fn text_of(&self, path: &Path) -> Option<&'static str> {
        self.0
            .iter()
            .find(|(p, _)| p == path)
            .map(|&(_, text)| text)
    }
}

/// Bytes a data set takes per row beyond its values: the row's index in a split or a shuffle
/// (4 bytes) and a classifier's class index (4 bytes).
const ROW_OVERHEAD_BYTES: u64 = 8;

/// Bytes a row of `inputs` inputs and `value_targets` targets (a classifier's label column is
/// none: its class index is in the overhead) takes held: what memory limits count.
pub(crate) fn row_bytes(inputs: usize, value_targets: usize) -> u64 {
    ((inputs + value_targets) * 4) as u64 + ROW_OVERHEAD_BYTES
}

impl CsvOptions {
    /// The options that read new rows for a run whose training file's gaps were filled with
    /// `fill` (its [`Gaps::fill`]): theirs are filled with the same values; without a fill, a
    /// missing value is an error. The rows may take `memory_limit`.
    pub fn filled_as(fill: Option<&Vec<f32>>, memory_limit: Option<u64>) -> Self {
        Self {
            memory_limit,
            missing: match fill {
                Some(_) => Missing::Mean,
                None => Missing::Error,
            },
            fill: fill.cloned(),
            ..Self::default()
        }
    }
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            missing: Missing::Error,
            fill: None,
            memory_limit: None,
            compiled_in: CompiledIn::default(),
        }
    }
}

/// What a row with a missing value (an empty cell, `NA`, `NaN`, `null`, …) in a chosen
/// column does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Missing {
    /// Stops the read at the first one, counting every row that has one (the default: a gap
    /// in the data is a question for the user, not for squiggle).
    #[default]
    Error,
    /// Leaves such rows out (counted in [`Dataset::dropped`]).
    Drop,
    /// Fills a missing input with its column's mean over the training file (counted in
    /// [`Gaps::filled`](crate::Gaps)); a row whose target is missing is left out.
    Mean,
}

impl Missing {
    /// The config's word for it.
    pub fn name(self) -> &'static str {
        match self {
            Missing::Error => "error",
            Missing::Drop => "drop",
            Missing::Mean => "mean",
        }
    }
}

/// Which classes a classification file's labels may name.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels {
    /// The file's own distinct labels, sorted (numerically when every label is an integer),
    /// so the same data gives the same output order whatever its row order.
    Found,
    /// These classes in this order; any other label is an error naming the line.
    Known {
        /// The class names.
        names: Vec<String>,
        /// Whose classes they are, for the message (`label … is not one of the {from} classes`):
        /// `[data]`, `training data's`, `run's`.
        from: &'static str,
    },
}

/// Reads `path`: a header row naming the columns, then one row per data point.
///
/// Only the chosen columns are kept, as f32. The file is read in blocks parsed in parallel on
/// the compute threads (never held whole in memory); the value vectors are sized once from a
/// first pass counting lines.
///
/// # Errors
/// A [`CsvError`] naming the line and column: a missing or unreadable file, no header, an
/// unknown column, a cell that is not a finite number, a row with the wrong number of
/// fields, or no data rows.
pub fn read_csv(path: &Path, columns: &Columns, options: &CsvOptions) -> Result<Dataset, CsvError> {
    read(path, columns, options, false)
}

/// Reads only the named input columns of `path` (for predictions: no targets needed), with
/// the same checks and messages as [`read_csv`]; `categorical` names those of them that are
/// categorical. The result has no output columns.
///
/// # Errors
/// As [`read_csv`].
pub fn read_inputs(
    path: &Path,
    inputs: &[String],
    categorical: &[Categorical],
    options: &CsvOptions,
) -> Result<Dataset, CsvError> {
    let columns = Columns {
        inputs: Some(inputs.to_vec()),
        targets: Some(Vec::new()),
        categorical: categorical.to_vec(),
        ..Columns::default()
    };
    read(path, &columns, options, true)
}

/// The longest line a data file may have: far beyond any row of numbers, small enough that a
/// file that is not CSV is refused before it fills memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The text of the data file `path`, decompressed (a Parquet file as CSV text with
/// `delimiter` between fields): for reading it again as it is written (predictions pass every
/// input column through).
///
/// # Errors
/// One line naming the file, as [`read_csv`]'s.
pub fn open_text(path: &Path, delimiter: u8) -> Result<Box<dyn Read + Send>, CsvError> {
    input::open(path, delimiter, None)
        .map(|input| input.reader)
        .map_err(|problem| CsvError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            problem,
        })
}

/// The first column that is chosen as an input or a target and also excluded.
fn chosen_and_excluded<'a>(
    inputs: &'a [usize],
    targets: &'a [usize],
    excluded: &[usize],
) -> Option<&'a usize> {
    inputs.iter().chain(targets).find(|i| excluded.contains(i))
}

/// The most classes a label column may have: more than any class column of a data set
/// squiggle trains on, and a bound on the one-hot targets (4 bytes × rows × classes) when a
/// column of numbers is read as labels by mistake.
pub const MAX_CLASSES: usize = 1000;

/// The header's fields, and the text read past it. `buffer` holds the start of the input.
fn header(
    reader: &mut (dyn Read + Send),
    delimiter: u8,
) -> Result<(Vec<String>, Vec<u8>, u64), CsvProblem> {
    let mut buffer = Vec::new();
    let unreadable = |e: std::io::Error| CsvProblem::Unreadable {
        via: None,
        cause: Foreign::new(e),
    };
    let end = loop {
        if let Some(end) = records::Ends::new(&buffer).next() {
            break end;
        }
        if buffer.len() > MAX_LINE_BYTES {
            return Err(CsvProblem::LineTooLong);
        }
        let before = buffer.len();
        reader
            .take(1 << 16)
            .read_to_end(&mut buffer)
            .map_err(unreadable)?;
        if buffer.len() == before {
            break buffer.len();
        }
    };
    if end > MAX_LINE_BYTES {
        return Err(CsvProblem::LineTooLong);
    }
    let text = buffer[..end]
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&buffer[..end]);
    let mut fields = Vec::new();
    records::split(text, delimiter, &mut fields);
    let names = fields
        .iter()
        .map(|f| std::str::from_utf8(f).map(str::to_string))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| CsvProblem::BinaryHeader)?;
    let lines = memchr::memchr_iter(b'\n', &buffer[..end]).count() as u64;
    Ok((names, buffer[end..].to_vec(), lines))
}

/// A data file with its header read and its chosen columns found: what reading it whole and
/// reading it window by window ([`CsvWindows`]) share.
struct Opened {
    path: std::path::PathBuf,
    header: Vec<String>,
    inputs: Vec<usize>,
    /// The chosen target columns (a classifier's label column among them).
    targets: Vec<usize>,
    label: Option<usize>,
    categorical: Vec<usize>,
    reader: Box<dyn Read + Send>,
    /// Text read past the header.
    rest: Vec<u8>,
    /// Lines the header took.
    header_lines: u64,
    /// The file's newline count, where it could be counted first.
    lines: Option<u64>,
    inputs_only: bool,
}

impl Opened {
    /// Opens `path`, reads its header and finds the chosen columns, refusing any choice the
    /// header cannot satisfy.
    fn new(
        path: &Path,
        columns: &Columns,
        options: &CsvOptions,
        inputs_only: bool,
    ) -> Result<Self, CsvError> {
        let error = |line: Option<u64>, column: Option<&str>, problem: CsvProblem| CsvError {
            path: path.to_path_buf(),
            line,
            column: column.map(str::to_string),
            problem,
        };
        let header_error = |problem| error(Some(1), None, problem);
        let input::Input { mut reader, lines } =
            input::open(path, options.delimiter, options.compiled_in.text_of(path))
                .map_err(|p| error(None, None, p))?;
        let (header, rest, header_lines) =
            header(&mut reader, options.delimiter).map_err(|p| error(Some(1), None, p))?;
        if header.is_empty() || header.iter().all(String::is_empty) {
            return Err(header_error(CsvProblem::NoHeader));
        }
        if header.iter().all(|h| h.parse::<f64>().is_ok()) {
            return Err(header_error(CsvProblem::NumericHeader));
        }
        let find = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                let columns = header.clone();
                error(Some(1), Some(name), CsvProblem::UnknownColumn { columns })
            })
        };
        let last = header.len() - 1;
        let targets: Vec<usize> = match &columns.targets {
            Some(names) => names.iter().map(|n| find(n)).collect::<Result<_, _>>()?,
            None => vec![last],
        };
        let excluded: Vec<usize> = columns
            .exclude
            .iter()
            .map(|n| find(n))
            .collect::<Result<_, _>>()?;
        let inputs: Vec<usize> = match &columns.inputs {
            Some(names) => names.iter().map(|n| find(n)).collect::<Result<_, _>>()?,
            None => (0..header.len())
                .filter(|i| !targets.contains(i) && !excluded.contains(i))
                .collect(),
        };
        if let Some(&i) = chosen_and_excluded(&inputs, &targets, &excluded) {
            return Err(error(
                Some(1),
                Some(&header[i]),
                CsvProblem::ChosenAndExcluded,
            ));
        }
        let column = |problem, i: usize| error(Some(1), Some(&header[i]), problem);
        let chosen = || inputs.iter().chain(&targets).copied();
        // A chosen column whose name is in the header twice: which one was meant?
        if let Some(i) = chosen().find(|&i| header.iter().filter(|h| **h == header[i]).count() > 1)
        {
            return Err(column(CsvProblem::DuplicateHeader, i));
        }
        for list in [&inputs, &targets] {
            if let Some(k) = (1..list.len()).find(|&k| list[..k].contains(&list[k])) {
                return Err(column(CsvProblem::ChosenTwice, list[k]));
            }
        }
        if let Some(&i) = inputs.iter().find(|i| targets.contains(i)) {
            return Err(column(CsvProblem::InputAndTarget, i));
        }
        if targets.is_empty() && !inputs_only {
            return Err(header_error(CsvProblem::NoTargets));
        }
        if inputs.is_empty() {
            // One column whose name holds another common delimiter: the file is not split on
            // commas.
            let other = [b';', b'\t', b'|'].into_iter().find(|&d| {
                d != options.delimiter && header.len() == 1 && header[0].contains(d as char)
            });
            return Err(header_error(CsvProblem::NoInputs {
                delimiter: other.map(char::from),
            }));
        }
        if columns.labels.is_some() && targets.len() != 1 {
            return Err(header_error(CsvProblem::LabelColumns {
                got: targets.len(),
            }));
        }
        let categorical: Vec<usize> = columns
            .categorical
            .iter()
            .map(|c| find(&c.column))
            .collect::<Result<_, _>>()?;
        if let Some(&i) = categorical.iter().find(|i| !inputs.contains(i)) {
            return Err(column(CsvProblem::CategoricalNotInput, i));
        }
        let label = columns.labels.as_ref().map(|_| targets[0]);
        Ok(Self {
            path: path.to_path_buf(),
            header,
            inputs,
            targets,
            label,
            categorical,
            reader,
            rest,
            header_lines,
            lines,
            inputs_only,
        })
    }

    fn error(&self, line: Option<u64>, column: Option<usize>, problem: CsvProblem) -> CsvError {
        CsvError {
            path: self.path.clone(),
            line,
            column: column.map(|i| self.header[i].clone()),
            problem,
        }
    }

    /// The value targets: none for a classifier, whose label column is read as labels.
    fn value_targets(&self) -> &[usize] {
        if self.label.is_some() {
            &[]
        } else {
            &self.targets
        }
    }

    /// How records are parsed, with `known` classes and `known_categories`.
    fn layout<'a>(
        &'a self,
        options: &CsvOptions,
        known: Option<&'a Known<'a>>,
        known_categories: &'a [Option<Known<'a>>],
    ) -> chunks::Layout<'a> {
        let mut layout = chunks::Layout::new(
            options.delimiter,
            self.header.len(),
            &self.inputs,
            self.value_targets(),
            self.label,
            known,
        );
        layout.fill_inputs = options.missing == Missing::Mean;
        layout.categories = self
            .categorical
            .iter()
            .zip(known_categories)
            .map(|(&i, known)| (i, known.as_ref()))
            .collect();
        layout
    }

    /// Bytes one row takes held with `width` inputs.
    fn per_row(&self, width: usize) -> u64 {
        row_bytes(width, self.value_targets().len())
    }

    /// Refuses `rows` rows of `per_row` bytes over the memory limit.
    fn within_limit(&self, options: &CsvOptions, rows: u64, per_row: u64) -> Result<(), CsvError> {
        match options.memory_limit {
            Some(limit) if rows.saturating_mul(per_row) > limit => {
                let bytes = rows as f64 * per_row as f64;
                let problem = CsvProblem::OverLimit {
                    counted: true,
                    rows,
                    bytes,
                    limit,
                };
                Err(self.error(None, None, problem))
            }
            _ => Ok(()),
        }
    }

    /// A parse fault as the error a user reads.
    fn fault(&self, f: chunks::Fault) -> CsvError {
        let problem = match (f.problem, f.column) {
            // A word among a training file's inputs: say how a column of names is read.
            (CsvProblem::NotANumber { cell }, Some(i))
                if !self.inputs_only
                    && self.inputs.contains(&i)
                    && cell.chars().any(char::is_alphabetic) =>
            {
                CsvProblem::WordInInput {
                    cell,
                    column: self.header[i].clone(),
                }
            }
            (problem, _) => problem,
        };
        self.error((f.line > 0).then_some(f.line), f.column, problem)
    }

    /// The first missing value of `sink` as the error `options` make of it, if any.
    fn missing(&self, sink: &mut chunks::Sink, options: &CsvOptions) -> Result<(), CsvError> {
        if let Some((line, i, cell)) = sink.first_missing.take() {
            let rows = sink.missing_rows;
            if options.missing == Missing::Error || sink.rows == 0 {
                let problem = match options.missing {
                    Missing::Error => CsvProblem::Missing { cell, rows },
                    Missing::Drop | Missing::Mean => CsvProblem::AllMissing { rows },
                };
                return Err(self.error(Some(line), Some(i), problem));
            }
        }
        Ok(())
    }

    /// The rows of `sink` (at least one) as a data set: gaps filled, categorical inputs one
    /// per category, labels as classes.
    fn finish(&self, mut sink: chunks::Sink, options: &CsvOptions) -> Result<Dataset, CsvError> {
        let width = self.inputs.len();
        let gaps = Gaps {
            dropped: sink.missing_rows,
            filled: sink.filled,
            fill: match options.missing {
                Missing::Mean => Some(
                    fill_gaps(&mut sink.x, width, options.fill.as_deref()).map_err(|k| {
                        let rows = sink.rows;
                        self.error(None, Some(self.inputs[k]), CsvProblem::NoMean { rows })
                    })?,
                ),
                Missing::Error | Missing::Drop => None,
            },
        };
        let names = |cols: &[usize]| {
            cols.iter()
                .map(|&i| self.header[i].clone())
                .collect::<Vec<_>>()
        };
        let mut input_names = names(&self.inputs);
        let mut encoding = None;
        if !self.categorical.is_empty() {
            let mut found = Vec::with_capacity(self.categorical.len());
            for (builder, &i) in std::mem::take(&mut sink.categories)
                .into_iter()
                .zip(&self.categorical)
            {
                let (names, ids) = builder
                    .finish()
                    .map_err(|p| self.error(Some(1), Some(i), p))?;
                found.push((
                    Classes {
                        column: self.header[i].clone(),
                        names,
                    },
                    ids,
                ));
            }
            let slots: Vec<Option<usize>> = self
                .inputs
                .iter()
                .map(|i| self.categorical.iter().position(|c| c == i))
                .collect();
            // Each category is an input: the limit applies to the rows as they will be held.
            let width: usize = slots
                .iter()
                .map(|s| s.map_or(1, |c| found[c].0.names.len()))
                .sum();
            self.within_limit(options, sink.rows, self.per_row(width))?;
            sink.x = one_hot_inputs(&sink.x, &slots, width, &found).map_err(|bytes| {
                let rows = sink.rows;
                self.error(None, None, CsvProblem::OutOfMemory { rows, bytes })
            })?;
            input_names = self
                .inputs
                .iter()
                .zip(&slots)
                .flat_map(|(&i, slot)| match slot {
                    None => vec![self.header[i].clone()],
                    Some(c) => found[*c]
                        .0
                        .names
                        .iter()
                        .map(|n| format!("{}={n}", self.header[i]))
                        .collect(),
                })
                .collect();
            encoding = Some(Encoding {
                columns: names(&self.inputs),
                categorical: found.into_iter().map(|(classes, _)| classes).collect(),
            });
        }
        if let Some(builder) = sink.classes {
            let column = self.targets[0];
            let (names_of, labels) = builder
                .finish()
                .map_err(|problem| self.error(Some(1), Some(column), problem))?;
            let classes = crate::data::Classes {
                column: self.header[column].clone(),
                names: names_of,
            };
            return Ok(Dataset::from_labels(sink.x, &labels, input_names, classes)
                .with_gaps(gaps)
                .with_encoding(encoding));
        }
        let width = input_names.len();
        Ok(
            Dataset::from_columns(sink.x, sink.y, width, self.targets.len())
                .with_names(input_names, names(&self.targets))
                .with_gaps(gaps)
                .with_encoding(encoding),
        )
    }
}

/// The class and category builders of `columns`, for one read.
fn builders<'a>(columns: &'a Columns) -> (Option<Known<'a>>, Vec<Option<Known<'a>>>) {
    let known = columns
        .labels
        .as_ref()
        .and_then(|l| Known::new(l, Kind::Class));
    let categories = columns
        .categorical
        .iter()
        .map(|c| Known::new(&c.categories, Kind::Category))
        .collect();
    (known, categories)
}

fn read(
    path: &Path,
    columns: &Columns,
    options: &CsvOptions,
    inputs_only: bool,
) -> Result<Dataset, CsvError> {
    let mut opened = Opened::new(path, columns, options, inputs_only)?;
    let (known, known_categories) = builders(columns);
    // Reserve the exact size up front where the file can be counted first (one newline per
    // row is an upper bound), so that growing the vectors never holds two copies of a large
    // file's values at once; other inputs grow as they are read.
    let rows = opened.lines.unwrap_or(0);
    let per_row = opened.per_row(opened.inputs.len());
    opened.within_limit(
        options,
        rows.saturating_sub(opened.header_lines.max(1)),
        per_row,
    )?;
    let values = (opened.inputs.len() + opened.value_targets().len()) as f64;
    // Reserved fallibly: a file larger than the memory the process may take is refused with
    // its size, never an abort.
    let reserve = |width: usize| {
        let mut v: Vec<f32> = Vec::new();
        let count = usize::try_from(rows.saturating_mul(width as u64)).unwrap_or(usize::MAX);
        v.try_reserve_exact(count).map(|()| v).map_err(|_| {
            let bytes = rows as f64 * values * 4.0;
            opened.error(None, None, CsvProblem::OutOfMemory { rows, bytes })
        })
    };
    let mut sink = chunks::Sink {
        x: reserve(opened.inputs.len())?,
        y: reserve(opened.value_targets().len())?,
        classes: opened
            .label
            .map(|_| ClassBuilder::new(known.as_ref(), Kind::Class)),
        limit: options.memory_limit.map(|limit| (limit, per_row)),
        categories: known_categories
            .iter()
            .map(|known| ClassBuilder::new(known.as_ref(), Kind::Category))
            .collect(),
        ..chunks::Sink::default()
    };
    let mut reader = std::mem::replace(&mut opened.reader, Box::new(std::io::empty()));
    let rest = std::mem::take(&mut opened.rest);
    let layout = opened.layout(options, known.as_ref(), &known_categories);
    chunks::parse_rows(
        &mut reader,
        rest,
        opened.header_lines + 1,
        &layout,
        &mut sink,
    )
    .map_err(|f| opened.fault(f))?;
    opened.missing(&mut sink, options)?;
    if sink.rows == 0 {
        return Err(opened.error(Some(2), None, CsvProblem::NoRows));
    }
    opened.finish(sink, options)
}

/// The rows of `x` (one value per input column) with each categorical input (`slots`: its
/// index into `found`) replaced by one value per category, 1 for the row's: `width` values a
/// row. The error is the size that could not be allocated.
fn one_hot_inputs(
    x: &[f32],
    slots: &[Option<usize>],
    width: usize,
    found: &[(Classes, Vec<u32>)],
) -> Result<Vec<f32>, f64> {
    let rows = x.len() / slots.len().max(1);
    let mut out = Vec::new();
    out.try_reserve_exact(rows * width)
        .map_err(|_| (rows * width * 4) as f64)?;
    for (r, row) in x.chunks_exact(slots.len()).enumerate() {
        for (&value, slot) in row.iter().zip(slots) {
            match slot {
                None => out.push(value),
                Some(c) => {
                    let (classes, ids) = &found[*c];
                    let id = ids[r] as usize;
                    out.extend((0..classes.names.len()).map(|k| f32::from(u8::from(k == id))));
                }
            }
        }
    }
    Ok(out)
}

/// Fills the gaps (NaN) of `x`'s `width` columns with `given`, or with each column's mean of
/// its values (summed in f64): the fill of every column. A column with no value to take a mean
/// of is the error, by index.
fn fill_gaps(x: &mut [f32], width: usize, given: Option<&[f32]>) -> Result<Vec<f32>, usize> {
    let fill = match given {
        Some(fill) => fill.to_vec(),
        None => {
            let mut sums = vec![(0.0f64, 0u64); width];
            for row in x.chunks_exact(width) {
                for (sum, &v) in sums.iter_mut().zip(row) {
                    if !v.is_nan() {
                        *sum = (sum.0 + f64::from(v), sum.1 + 1);
                    }
                }
            }
            sums.iter()
                .enumerate()
                .map(|(k, &(sum, n))| match n {
                    0 => Err(k),
                    n => Ok((sum / n as f64) as f32),
                })
                .collect::<Result<_, _>>()?
        }
    };
    for row in x.chunks_exact_mut(width) {
        for (v, &f) in row.iter_mut().zip(&fill) {
            if v.is_nan() {
                *v = f;
            }
        }
    }
    Ok(fill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::foreign::full_message;

    /// Mutated CSV files get a data set or a one-line error, never a panic or a hang (a
    /// bounded pass here; `SQUIGGLE_FUZZ_SECONDS=600` for a long one).
    #[test]
    fn fuzzed_csv_files_give_an_answer() {
        let seeds: Vec<Vec<u8>> = [
            "dosage,efficacy\n0,0\n0.5,1\n1,0\n",
            "a,b,c,target\n1,2,3,4\n-1.5e3,2,\"3\",4\n0.1,0.2,0.3,0.4\n",
            "\"x\",y\r\n1,2\r\n3,4\r\n",
            "p,s,species\n0.2,3.5,setosa\n1.3,2.3,versicolor\n2.5,3.3,virginica\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let budget = crate::fuzz::Budget::from_env(400);
        let ran = crate::fuzz::run(&seeds, budget, |input| {
            std::fs::write(&path, input).unwrap();
            if let Ok(data) = read_csv(&path, &Columns::default(), &CsvOptions::default()) {
                assert!(data.input_values().iter().all(|v| v.is_finite()));
            }
            // The same file read as class labels: every row one-hot, or a one-line error.
            let labels = Columns {
                labels: Some(Labels::Found),
                ..Columns::default()
            };
            if let Ok(data) = read_csv(&path, &labels, &CsvOptions::default()) {
                let classes = data.classes().expect("labels give classes").names.len();
                assert!(classes >= 2);
                for row in data.output_values().chunks(classes) {
                    assert_eq!(row.iter().sum::<f32>(), 1.0);
                }
            }
            let _ = read_inputs(&path, &["x".to_string()], &[], &CsvOptions::default());
        });
        eprintln!("csv: {ran} fuzzed files");
        assert!(ran >= 400);
    }

    #[test]
    fn a_file_compiled_in_is_read_in_place_of_the_disk_with_the_same_checks() {
        let dir = tempfile::tempdir().unwrap();
        let on_disk = dir.path().join("d.csv");
        std::fs::write(&on_disk, "x,y\n9,9\n").unwrap();
        let options = CsvOptions {
            compiled_in: CompiledIn(vec![
                (on_disk.clone(), "x,y\n1,2\n3,4\n"),
                ("nowhere/e.csv".into(), "x,y\n1,oops\n"),
            ]),
            ..CsvOptions::default()
        };
        let data = read_csv(&on_disk, &Columns::default(), &options).unwrap();
        assert_eq!(data.input_values(), [1.0, 3.0], "the compiled-in text wins");
        let bad = read_csv(Path::new("nowhere/e.csv"), &Columns::default(), &options);
        assert_eq!(
            bad.unwrap_err().to_string(),
            "nowhere/e.csv:2: column `y`: `oops` is not a number"
        );
        let other = dir.path().join("other.csv");
        let missing = read_csv(&other, &Columns::default(), &options).unwrap_err();
        assert!(
            matches!(missing.problem, CsvProblem::Unreadable { .. }),
            "{missing}"
        );
    }

    fn read(text: &str, columns: &Columns) -> Result<Dataset, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        read_csv(&path, columns, &CsvOptions::default()).map_err(|e| {
            e.to_string()
                .replace(&format!("{}", path.display()), "d.csv")
        })
    }

    #[test]
    fn default_columns_are_all_inputs_then_the_last_target() {
        let data = read("a,b,y\n1,2,3\n4,5,6\n", &Columns::default()).unwrap();
        assert_eq!((data.inputs(), data.outputs(), data.len()), (2, 1, 2));
        assert_eq!(data.input_row(1), [4.0, 5.0]);
        assert_eq!(data.observed(), [3.0, 6.0]);
    }

    #[test]
    fn named_columns_pick_and_order() {
        let columns = Columns {
            inputs: Some(vec!["c".into(), "a".into()]),
            targets: Some(vec!["b".into()]),
            labels: None,
            ..Columns::default()
        };
        let data = read("a,b,c\n1,2,3\n", &columns).unwrap();
        assert_eq!(data.input_row(0), [3.0, 1.0]);
        assert_eq!(data.observed(), [2.0]);
        assert_eq!(data.input_names(), ["c", "a"]);
        assert_eq!(data.output_names(), ["b"]);
    }

    #[test]
    fn bad_files_name_the_line_and_column() {
        let d = Columns::default();
        assert_eq!(
            read("dosage,efficacy\n0,1\n0.5,x\n", &d).unwrap_err(),
            "d.csv:3: column `efficacy`: `x` is not a number"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1\n,1\n", &d).unwrap_err(),
            "d.csv:3: column `dosage`: an empty cell is a missing value; 1 row has one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)"
        );
        assert_eq!(
            read("dosage,efficacy\n0,NaN\n", &d).unwrap_err(),
            "d.csv:2: column `efficacy`: `NaN` is a missing value; 1 row has one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1e39\n", &d).unwrap_err(),
            "d.csv:2: column `efficacy`: `1e39` is too large for f32 (|x| < 3.4e38)"
        );
        assert_eq!(
            read("dosage,efficacy\n0,1\n0.5\n", &d).unwrap_err(),
            "d.csv:3: the row has 1 fields; the header has 2"
        );
        assert_eq!(
            read("dosage,efficacy\n", &d).unwrap_err(),
            "d.csv:2: no data rows after the header"
        );
        assert_eq!(
            read("", &d).unwrap_err(),
            "d.csv:1: missing header row naming the columns"
        );
        assert_eq!(
            read("0,1\n1,2\n", &d).unwrap_err(),
            "d.csv:1: missing header row: the first row holds numbers, not column names"
        );
        let columns = Columns {
            inputs: Some(vec!["dose".into()]),
            targets: None,
            labels: None,
            ..Columns::default()
        };
        assert_eq!(
            read("dosage,efficacy\n0,1\n", &columns).unwrap_err(),
            "d.csv:1: column `dose`: not in the header (columns: dosage, efficacy)"
        );
        let none = Columns {
            inputs: None,
            targets: Some(vec![]),
            labels: None,
            ..Columns::default()
        };
        assert_eq!(
            read("a,b\n1,2\n", &none).unwrap_err(),
            "d.csv:1: no target columns chosen"
        );
        let missing = full_message(
            &read_csv(Path::new("no/such.csv"), &d, &CsvOptions::default()).unwrap_err(),
        );
        assert!(
            missing.starts_with("no/such.csv: cannot read the file: "),
            "{missing}"
        );
    }

    #[test]
    fn labels_become_one_hot_classes_in_sorted_order() {
        let found = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let data = read(
            "p,s,species\n1,2,virginica\n3,4,setosa\n5,6,virginica\n7,8,versicolor\n",
            &found,
        )
        .unwrap();
        let classes = data.classes().unwrap();
        assert_eq!(classes.names, ["setosa", "versicolor", "virginica"]);
        assert_eq!(classes.column, "species");
        assert_eq!(data.output_names(), classes.names);
        assert_eq!(data.outputs(), 3);
        assert_eq!(data.output_row(0), [0.0, 0.0, 1.0]);
        assert_eq!(data.output_row(1), [1.0, 0.0, 0.0]);
        assert_eq!(
            (0..4).map(|i| data.label(i)).collect::<Vec<_>>(),
            [2, 0, 2, 1]
        );
        // Integers sort as numbers, not as text.
        let numbers = read("a,c\n1,10\n2,9\n3,10\n", &found).unwrap();
        assert_eq!(numbers.classes().unwrap().names, ["9", "10"]);
        let fixed = Columns {
            labels: Some(Labels::Known {
                names: vec!["b".into(), "a".into()],
                from: "[data]",
            }),
            ..Columns::default()
        };
        let data = read("x,y\n1,a\n2,b\n", &fixed).unwrap();
        assert_eq!(data.output_row(0), [0.0, 1.0]);
        assert_eq!(
            read("x,y\n1,a\n2,c\n", &fixed).unwrap_err(),
            "d.csv:3: column `y`: label `c` is not one of the [data] classes (b, a)"
        );
        assert_eq!(
            read("x,y\n1,a\n2,\n", &found).unwrap_err(),
            "d.csv:3: column `y`: an empty cell is a missing value; 1 row has one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)"
        );
        assert_eq!(
            read("x,y\n1,a\n2,a\n", &found).unwrap_err(),
            "d.csv:1: column `y`: classification needs at least two classes; the labels have only `a`"
        );
        let two = Columns {
            targets: Some(vec!["y".into(), "z".into()]),
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        assert_eq!(
            read("x,y,z\n1,a,b\n", &two).unwrap_err(),
            "d.csv:1: classification reads its labels from one target column; 2 are chosen"
        );
        let many: String = (0..=MAX_CLASSES).map(|i| format!("{i},{i}.5\n")).collect();
        assert_eq!(
            read(&format!("x,y\n{many}"), &found).unwrap_err(),
            format!(
                "d.csv:{}: column `y`: more than 1000 distinct labels; a classifier takes at most 1000 classes (is this column of numbers a class column?)",
                MAX_CLASSES + 2
            )
        );
        assert_eq!(
            read("x,y\n1,a\n2,2\n", &fixed).unwrap_err(),
            "d.csv:3: column `y`: label `2` is not one of the [data] classes (b, a)"
        );
    }

    /// `text` read on pools of 1, 2 and 5 threads: the same data set (or error) from each.
    fn on_every_pool(
        text: &[u8],
        columns: &Columns,
        options: &CsvOptions,
    ) -> Result<Dataset, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, text).unwrap();
        chunks::use_small_pieces();
        let results: Vec<Result<Dataset, String>> = [1, 2, 5]
            .iter()
            .map(|&n| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap();
                pool.install(|| read_csv(&path, columns, options))
                    .map_err(|e| full_message(&e).replace(&path.display().to_string(), "d.csv"))
            })
            .collect();
        assert!(results.windows(2).all(|w| w[0] == w[1]), "{results:?}");
        results.into_iter().next().unwrap()
    }

    /// A file of `rows` rows of two inputs and a label, some quoted, one with a newline inside
    /// its quotes, and `\r\n` line ends on odd rows.
    fn many_rows(rows: usize) -> String {
        let mut text = String::from("a,b,label\n");
        for i in 0..rows {
            let label = match i % 7 {
                0 => "\"two\nlines\"".to_string(),
                1 => "\"say \"\"hi\"\"\"".to_string(),
                k => format!("c{k}"),
            };
            let end = if i % 2 == 1 { "\r\n" } else { "\n" };
            text.push_str(&format!(
                "{}, \"{}\" ,{label}{end}",
                i as f32 * 0.5,
                -(i as f64) / 3.0
            ));
        }
        text
    }

    #[test]
    fn pieces_parsed_in_parallel_give_the_rows_in_file_order() {
        let rows = 5000;
        let text = many_rows(rows);
        let labels = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let data = on_every_pool(text.as_bytes(), &labels, &CsvOptions::default()).unwrap();
        assert_eq!(data.len(), rows);
        for i in [0, 1, 2, 777, rows - 1] {
            let expected = [i as f32 * 0.5, (-(i as f64) / 3.0) as f32];
            assert_eq!(data.input_row(i), expected.map(f64::from));
        }
        let classes = &data.classes().unwrap().names;
        assert_eq!(classes.len(), 7);
        assert!(classes.contains(&"two\nlines".to_string()));
        assert!(classes.contains(&"say \"hi\"".to_string()));
        assert_eq!(classes[data.label(0)], "two\nlines");
        assert_eq!(classes[data.label(4997)], "c6");
        // A bad cell far into the file is named at its line, counting the quoted newlines:
        // row i starts on line 2 + i + (the quoted newlines before it).
        let mut bad = text.clone();
        let row: usize = 4321;
        let start = (0..row).fold(bad.find('\n').unwrap() + 1, |at, i| {
            let skip = if i % 7 == 0 {
                bad[at..].find("lines").unwrap() + at
            } else {
                at
            };
            skip + bad[skip..].find('\n').unwrap() + 1
        });
        bad.replace_range(start..start + 1, "x");
        let line = 2 + row + row.div_ceil(7);
        assert_eq!(
            on_every_pool(bad.as_bytes(), &labels, &CsvOptions::default()).unwrap_err(),
            format!(
                "d.csv:{line}: column `a`: `x{}` is not a number (a column of names can be inputs, one per category: [data] categorical = [\"a\"])",
                &text[start + 1..start + text[start..].find(',').unwrap()]
            )
        );
    }

    #[test]
    fn too_many_labels_are_named_at_the_first_line_beyond_the_limit_whatever_the_pieces() {
        let found = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let text: String = std::iter::once("x,y\n".to_string())
            .chain((0..3000).map(|i| format!("{i},{}\n", i / 2)))
            .collect();
        // Label k first appears on row 2k: the 1001st label (1000) on row 2000, line 2002.
        assert_eq!(
            on_every_pool(text.as_bytes(), &found, &CsvOptions::default()).unwrap_err(),
            "d.csv:2002: column `y`: more than 1000 distinct labels; a classifier takes at most 1000 classes (is this column of numbers a class column?)"
        );
    }

    #[test]
    fn rows_beyond_the_memory_limit_are_refused_counted_or_as_they_pass_it() {
        use std::io::Write;
        let text = many_rows(3000);
        // Two inputs, no numeric target (labels): 2 × 4 + 8 bytes a row.
        let labels = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let limit = |bytes| CsvOptions {
            memory_limit: Some(bytes),
            ..CsvOptions::default()
        };
        // A regular file is counted first (its lines: some rows here take two) and refused
        // before any row is read.
        let plain = on_every_pool(text.as_bytes(), &labels, &limit(3429 * 16)).unwrap();
        assert_eq!(plain.len(), 3000);
        assert_eq!(
            on_every_pool(text.as_bytes(), &labels, &limit(3429 * 16 - 1)).unwrap_err(),
            "d.csv: its 3,429 rows need about 54.9 kB of memory, more than the 54.9 kB it may take ([data] memory_limit)"
        );
        // A compressed file cannot be counted: refused as its rows pass the limit.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            on_every_pool(&gz, &labels, &limit(1000)).unwrap_err(),
            "d.csv: the first 63 rows need about 1.0 kB of memory, more than the 1.0 kB it may take ([data] memory_limit)"
        );
        assert_eq!(
            on_every_pool(&gz, &labels, &limit(3000 * 16)).unwrap(),
            plain
        );
    }

    #[test]
    fn compressed_files_read_as_the_plain_text() {
        use std::io::Write;
        let text = many_rows(3000);
        let labels = Columns {
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let plain = on_every_pool(text.as_bytes(), &labels, &CsvOptions::default()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            on_every_pool(&gz, &labels, &CsvOptions::default()).unwrap(),
            plain
        );
        let zst = ruzstd::encoding::compress_to_vec(
            text.as_bytes(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        assert_eq!(
            on_every_pool(&zst, &labels, &CsvOptions::default()).unwrap(),
            plain
        );
        // A damaged stream is one line naming the format.
        let mut broken = gz.clone();
        broken.truncate(gz.len() / 2);
        let message = on_every_pool(&broken, &labels, &CsvOptions::default()).unwrap_err();
        assert!(
            message.starts_with("d.csv:") && message.contains("gzip"),
            "{message}"
        );
        // Binary that is neither: the header is not text.
        assert_eq!(
            read("\u{0}\u{1},\u{2}\n", &Columns::default()).unwrap_err(),
            "d.csv:2: no data rows after the header"
        );
        assert_eq!(
            on_every_pool(
                b"\xff\xfe,\x00\n1,2\n",
                &Columns::default(),
                &CsvOptions::default()
            )
            .unwrap_err(),
            "d.csv:1: the header is not UTF-8 text; is this a CSV file (plain, gzip or zstd)?"
        );
    }

    #[test]
    fn delimiters_and_excluded_columns() {
        let semicolons = CsvOptions {
            delimiter: b';',
            ..CsvOptions::default()
        };
        let data = on_every_pool(
            b"id;x;y\n7;1,5;2\n8;2;3\n",
            &Columns {
                exclude: vec!["id".into()],
                inputs: None,
                ..Columns::default()
            },
            &CsvOptions {
                delimiter: b';',
                ..CsvOptions::default()
            },
        );
        // `1,5` (a decimal comma) is not a number: said at its line and column.
        assert_eq!(
            data.unwrap_err(),
            "d.csv:2: column `x`: `1,5` is not a number"
        );
        let data = on_every_pool(
            b"id;x;y\n7;1.5;2\n8;2;3\n",
            &Columns {
                exclude: vec!["id".into()],
                ..Columns::default()
            },
            &semicolons,
        )
        .unwrap();
        assert_eq!(data.input_names(), ["x"]);
        assert_eq!(data.input_values(), [1.5, 2.0]);
        let tabs = on_every_pool(
            b"x\ty\n1\t2\n",
            &Columns::default(),
            &CsvOptions {
                delimiter: b'\t',
                ..CsvOptions::default()
            },
        )
        .unwrap();
        assert_eq!(tabs.input_values(), [1.0]);
        assert_eq!(tabs.observed(), [2.0]);
        // Read with commas, such a file is one column; the message says what to set.
        assert_eq!(
            read("x;y\n1;2\n", &Columns::default()).unwrap_err(),
            "d.csv:1: no input columns (the header is one column holding `;`: set [data] delimiter = \";\")"
        );
        assert_eq!(
            read("x\ty\n1\t2\n", &Columns::default()).unwrap_err(),
            "d.csv:1: no input columns (the header is one column holding `\\t`: set [data] delimiter = \"\\t\")"
        );
        assert_eq!(
            read("x\n1\n", &Columns::default()).unwrap_err(),
            "d.csv:1: no input columns (the header has one column)"
        );
        let both = Columns {
            inputs: Some(vec!["a".into()]),
            exclude: vec!["a".into()],
            ..Columns::default()
        };
        assert_eq!(
            read("a,b\n1,2\n", &both).unwrap_err(),
            "d.csv:1: column `a`: is both chosen and excluded"
        );
        let unknown = Columns {
            exclude: vec!["id".into()],
            ..Columns::default()
        };
        assert_eq!(
            read("a,b\n1,2\n", &unknown).unwrap_err(),
            "d.csv:1: column `id`: not in the header (columns: a, b)"
        );
    }

    #[test]
    fn lines_longer_than_the_limit_are_refused_wherever_they_are() {
        let long = "1".repeat(MAX_LINE_BYTES + 10);
        assert_eq!(
            read(&format!("x,y\n1,2\n{long},3\n"), &Columns::default()).unwrap_err(),
            format!("d.csv:3: {}", CsvProblem::LineTooLong)
        );
        assert_eq!(
            read(&format!("{long},y\n1,2\n"), &Columns::default()).unwrap_err(),
            format!("d.csv:1: {}", CsvProblem::LineTooLong)
        );
        // Just under the limit is a line like any other.
        let wide = "0".repeat(MAX_LINE_BYTES - 10);
        let data = read(&format!("x,y\n{wide},3\n"), &Columns::default()).unwrap();
        assert_eq!(data.input_values(), [0.0]);
    }

    #[test]
    fn missing_values_are_counted_then_refused_or_left_out() {
        let mut text = String::from("x,y,label\n");
        for i in 0..3000 {
            let (x, label) = match i % 100 {
                7 => ("NA".to_string(), "a"),
                13 => (format!("{i}"), ""),
                42 => ("nan".to_string(), "b"),
                _ => (format!("{i}"), if i % 2 == 0 { "a" } else { "b" }),
            };
            text.push_str(&format!("{x},{},{label}\n", i * 2));
        }
        let numbers = Columns {
            inputs: Some(vec!["x".into()]),
            targets: Some(vec!["y".into()]),
            ..Columns::default()
        };
        // Row 7 (line 9) is the first; rows 7 and 42 of each hundred have one.
        assert_eq!(
            on_every_pool(text.as_bytes(), &numbers, &CsvOptions::default()).unwrap_err(),
            "d.csv:9: column `x`: `NA` is a missing value; 60 rows have one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)"
        );
        let drop = CsvOptions {
            missing: Missing::Drop,
            ..CsvOptions::default()
        };
        let data = on_every_pool(text.as_bytes(), &numbers, &drop).unwrap();
        assert_eq!((data.len(), data.dropped()), (2940, 60));
        assert_eq!(data.input_row(7), [8.0]);
        assert_eq!(data.observed()[7], 16.0);
        // For a classifier an empty label is missing too.
        let labels = Columns {
            inputs: Some(vec!["x".into()]),
            targets: Some(vec!["label".into()]),
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let data = on_every_pool(text.as_bytes(), &labels, &drop).unwrap();
        assert_eq!((data.len(), data.dropped()), (2910, 90));
        assert_eq!(data.classes().unwrap().names, ["a", "b"]);
        assert_eq!(
            on_every_pool(text.as_bytes(), &labels, &CsvOptions::default()).unwrap_err(),
            "d.csv:9: column `x`: `NA` is a missing value; 90 rows have one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)"
        );
        assert_eq!(
            on_every_pool(b"x,y\n,1\nNULL,2\n", &Columns::default(), &drop).unwrap_err(),
            "d.csv:2: column `x`: every row has a missing value (2 rows left out), the first here"
        );
    }

    #[test]
    fn categorical_inputs_become_one_input_per_category() {
        // Categories met in a different order in different pieces; two categorical columns.
        let colours = ["red", "green", "blue"];
        let mut text = String::from("id,colour,size,town,y\n");
        for i in 0..2000 {
            let colour = colours[(i * 7 / 3) % 3];
            let town = if i % 4 == 0 { "10" } else { "9" };
            let size = if i % 500 == 3 {
                "\"2.5\"".to_string()
            } else {
                format!("{i}")
            };
            text.push_str(&format!("{i},{colour},{size},{town},{}\n", i % 3));
        }
        let columns = Columns {
            targets: Some(vec!["y".into()]),
            exclude: vec!["id".into()],
            categorical: ["colour", "town"]
                .iter()
                .map(|c| Categorical {
                    column: c.to_string(),
                    categories: Labels::Found,
                })
                .collect(),
            ..Columns::default()
        };
        let data = on_every_pool(text.as_bytes(), &columns, &CsvOptions::default()).unwrap();
        // Sorted by name, or by value when every category is an integer (9 before 10).
        assert_eq!(
            data.input_names(),
            [
                "colour=blue",
                "colour=green",
                "colour=red",
                "size",
                "town=9",
                "town=10"
            ]
        );
        for i in [0usize, 1, 2, 3, 1999] {
            let mut row = vec![0.0; 6];
            row[match colours[(i * 7 / 3) % 3] {
                "blue" => 0,
                "green" => 1,
                _ => 2,
            }] = 1.0;
            row[3] = if i % 500 == 3 { 2.5 } else { i as f64 };
            row[if i % 4 == 0 { 5 } else { 4 }] = 1.0;
            assert_eq!(data.input_row(i), row, "row {i}");
        }
        // The limit counts every category's input: 6 inputs, 1 target, 8 bytes a row more.
        let held = 2000 * (7 * 4 + 8);
        for (limit, fits) in [(held, true), (held - 1, false)] {
            let options = CsvOptions {
                memory_limit: Some(limit),
                ..CsvOptions::default()
            };
            let got = on_every_pool(text.as_bytes(), &columns, &options).map(|d| d.len());
            match fits {
                true => assert_eq!(got, Ok(2000)),
                false => assert_eq!(
                    got.unwrap_err(),
                    "d.csv: its 2,000 rows need about 72.0 kB of memory, more than the 72.0 kB it may take ([data] memory_limit)"
                ),
            }
        }
        let encoding = data.encoding().unwrap();
        assert_eq!(encoding.columns, ["colour", "size", "town"]);
        assert_eq!(encoding.categorical[0].names, ["blue", "green", "red"]);
        // New rows are encoded with the run's categories: an unseen one names its line.
        let (inputs, categorical) = data.input_columns("run's");
        let new = |text: &str| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("n.csv");
            std::fs::write(&path, text).unwrap();
            read_inputs(&path, &inputs, &categorical, &CsvOptions::default())
                .map_err(|e| e.to_string().replace(&path.display().to_string(), "n.csv"))
        };
        let one = new("town,colour,size\n9,green,1\n").unwrap();
        assert_eq!(one.input_row(0), [0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
        assert_eq!(
            new("town,colour,size\n9,green,1\n10,purple,2\n").unwrap_err(),
            "n.csv:3: column `colour`: category `purple` is not one of the run's categories (blue, green, red)"
        );
        // A missing category is a missing value like any other.
        let gap = "colour,y\nred,1\n,2\nblue,3\n";
        let only = Columns {
            categorical: vec![Categorical {
                column: "colour".into(),
                categories: Labels::Found,
            }],
            ..Columns::default()
        };
        assert!(
            on_every_pool(gap.as_bytes(), &only, &CsvOptions::default())
                .unwrap_err()
                .starts_with(
                    "d.csv:3: column `colour`: an empty cell is a missing value; 1 row has one"
                ),
        );
        for missing in [Missing::Drop, Missing::Mean] {
            let options = CsvOptions {
                missing,
                ..CsvOptions::default()
            };
            let data = on_every_pool(gap.as_bytes(), &only, &options).unwrap();
            assert_eq!((data.len(), data.dropped()), (2, 1));
            assert_eq!(data.input_names(), ["colour=blue", "colour=red"]);
        }
        // A categorical column must be an input.
        let target = Columns {
            targets: Some(vec!["colour".into()]),
            ..only.clone()
        };
        assert_eq!(
            on_every_pool(gap.as_bytes(), &target, &CsvOptions::default()).unwrap_err(),
            "d.csv:1: column `colour`: is categorical but not one of the inputs"
        );
        let mut many = String::from("c,y\n");
        for i in 0..=MAX_CLASSES {
            many.push_str(&format!("k{i},1\n"));
        }
        assert_eq!(
            on_every_pool(many.as_bytes(), &only_c(), &CsvOptions::default()).unwrap_err(),
            format!(
                "d.csv:{}: column `c`: more than 1000 distinct categories; a categorical input takes at most 1000 (is this column of numbers categorical?)",
                MAX_CLASSES + 2
            )
        );
    }

    fn only_c() -> Columns {
        Columns {
            categorical: vec![Categorical {
                column: "c".into(),
                categories: Labels::Found,
            }],
            ..Columns::default()
        }
    }

    #[test]
    fn missing_inputs_are_filled_with_their_columns_mean() {
        let mut text = String::from("x,z,y,label\n");
        for i in 0..3000 {
            let (x, y, label) = match i % 100 {
                7 => ("NA".to_string(), format!("{i}"), "a"),
                13 => (format!("{i}"), String::new(), ""),
                42 => (String::new(), format!("{i}"), "b"),
                _ => (
                    format!("{i}"),
                    format!("{i}"),
                    if i % 2 == 0 { "a" } else { "b" },
                ),
            };
            text.push_str(&format!("{x},1.5,{y},{label}\n"));
        }
        let numbers = Columns {
            inputs: Some(vec!["x".into(), "z".into()]),
            targets: Some(vec!["y".into()]),
            ..Columns::default()
        };
        let mean = CsvOptions {
            missing: Missing::Mean,
            ..CsvOptions::default()
        };
        // Missing targets (row 13 of each hundred) leave their rows out; the mean is over the
        // rows kept, of the values present.
        let data = on_every_pool(text.as_bytes(), &numbers, &mean).unwrap();
        let present: Vec<f64> = (0..3000)
            .filter(|i| ![7, 13, 42].contains(&(i % 100)))
            .map(f64::from)
            .collect();
        let expected = (present.iter().sum::<f64>() / present.len() as f64) as f32;
        let gaps = data.gaps();
        assert_eq!((data.len(), gaps.dropped, gaps.filled), (2970, 30, 60));
        assert_eq!(gaps.fill.as_deref(), Some(&[expected, 1.5][..]));
        assert_eq!(data.input_row(7), [f64::from(expected), 1.5]);
        assert_eq!(data.input_row(8), [8.0, 1.5]);
        // A run's own fill values, for its predictions.
        let given = CsvOptions {
            fill: Some(vec![-1.0, 0.0]),
            ..mean.clone()
        };
        let data = on_every_pool(text.as_bytes(), &numbers, &given).unwrap();
        assert_eq!(data.input_row(7), [-1.0, 1.5]);
        assert_eq!(data.gaps().fill.as_deref(), Some(&[-1.0, 0.0][..]));
        // The same for a classifier, whose empty labels leave their rows out.
        let labels = Columns {
            inputs: Some(vec!["x".into()]),
            targets: Some(vec!["label".into()]),
            labels: Some(Labels::Found),
            ..Columns::default()
        };
        let data = on_every_pool(text.as_bytes(), &labels, &mean).unwrap();
        assert_eq!((data.len(), data.gaps().filled), (2970, 60));
        assert_eq!(
            on_every_pool(b"x,y\n,1\nNULL,2\n", &Columns::default(), &mean).unwrap_err(),
            "d.csv: column `x`: no value in any of the 2 rows: there is no mean to fill its gaps with"
        );
    }
}
