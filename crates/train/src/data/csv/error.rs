//! A CSV (or Parquet) file that cannot be read: [`CsvError`] names the file, line and
//! column, [`CsvProblem`] says what is wrong.

use std::path::PathBuf;

use thiserror::Error;

use crate::bytes::{Bytes, Thousands};
use crate::foreign::Foreign;

/// A problem with a CSV data file: `file:line: column `name`: reason`, with 1-based line
/// numbers as an editor shows them (the line is left out when the file itself cannot be
/// read, the column when no single column is at fault).
#[derive(Debug, Clone, PartialEq)]
pub struct CsvError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (1 is the header); `None` when the file itself cannot be read.
    pub line: Option<u64>,
    /// The column at fault, if one is.
    pub column: Option<String>,
    /// What is wrong.
    pub problem: CsvProblem,
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(column) = &self.column {
            write!(f, "column `{}`: ", Escaped(column))?;
        }
        write!(f, "{}", self.problem)
    }
}

/// The problem is part of the message; what caused it (a foreign error) is the source.
impl std::error::Error for CsvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.problem)
    }
}

/// A label that is not one of the known classes (boxed in [`CsvProblem::UnknownLabel`], so
/// that every CSV error stays small).
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownLabel {
    /// The cell as written.
    pub label: String,
    /// Whose classes: `[data]`, `training data's`, `run's`.
    pub which: &'static str,
    /// The known classes.
    pub known: Vec<String>,
    /// A categorical input's category rather than a class label.
    pub category: bool,
}

impl std::fmt::Display for UnknownLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known: Vec<String> = self.known.iter().map(|c| Escaped(c).to_string()).collect();
        let (what, whole) = match self.category {
            true => ("category", "categories"),
            false => ("label", "classes"),
        };
        write!(
            f,
            "{what} {} is not one of the {} {whole} ({})",
            Shown(&self.label),
            self.which,
            known.join(", ")
        )
    }
}

/// What is wrong in a CSV file (see [`CsvError`]).
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CsvProblem {
    /// The file cannot be opened or read: the file system's error, or the decompressor's or
    /// the Parquet reader's (`via`).
    #[error("cannot read the file{}", Via(*via))]
    Unreadable {
        /// The reader that failed, `zstd` or `parquet`, when not the file system.
        via: Option<&'static str>,
        /// Its error.
        #[source]
        cause: Foreign,
    },
    /// No memory for the buffer a chunk of the file is read into.
    #[error("cannot read the file: out of memory for the read buffer")]
    ReadBuffer(#[source] Foreign),
    /// More rows than the memory the process may take can hold.
    #[error(
        "its {rows} lines need about {} of memory, more than this process can allocate",
        Bytes(*bytes)
    )]
    OutOfMemory {
        /// Lines of the file.
        rows: u64,
        /// Bytes their values take in f32.
        bytes: f64,
    },
    /// The memory the process may take filled up while rows were read (from a source whose
    /// length is not known beforehand).
    #[error(
        "after {rows} rows ({} of values) this process can allocate no more memory",
        Bytes(*bytes)
    )]
    MemoryFull {
        /// Rows read.
        rows: u64,
        /// Bytes their values take in f32.
        bytes: f64,
    },
    /// More rows than the memory limit holds (`[data] memory_limit`, or what the process may
    /// take).
    #[error(
        "{} {} rows need about {} of memory, more than the {} it may take ([data] memory_limit)",
        Counted(*counted),
        Thousands(*rows),
        Bytes(*bytes),
        Bytes(*limit as f64)
    )]
    OverLimit {
        /// Whether the file's rows were counted (its data lines, an upper bound), rather than
        /// read up to the limit from a stream.
        counted: bool,
        /// Rows counted, or read so far.
        rows: u64,
        /// What they would take.
        bytes: f64,
        /// The limit.
        limit: u64,
    },
    /// A streamed file's shuffle buffer over the memory limit.
    #[error(
        "a shuffle buffer of {} rows needs about {} of memory, more than the {} it may take ([data] memory_limit): lower [data] shuffle_buffer",
        Thousands(*rows),
        Bytes(*bytes),
        Bytes(*limit as f64)
    )]
    BufferOverLimit {
        /// Rows the buffer would hold.
        rows: u64,
        /// Bytes they take.
        bytes: f64,
        /// The limit.
        limit: u64,
    },
    /// A Parquet file's column that is a list, map or struct.
    #[error("column `{column}` is nested (a list, map or struct); squiggle reads flat columns")]
    NestedColumn {
        /// Its path in the schema, `a.b`.
        column: String,
    },
    /// A Parquet file from standard input or a pipe (its footer, at the end, is read first).
    #[error("a Parquet file is read from its end first: give a file, not a pipe or standard input")]
    ParquetNeedsAFile,
    /// A Parquet file, and a build without the reader.
    #[error(
        "a Parquet file, and this squiggle was built without Parquet: build it with `cargo build --release --features parquet`, or write the table as CSV"
    )]
    ParquetNotBuilt,
    /// A device or folder where a data file is needed (reading `/dev/zero` would never end).
    #[error("not a regular file or a pipe; data must come from one")]
    NotAFile,
    /// Two columns of the header with the same name (which one would be read?).
    #[error("the header names this column twice")]
    DuplicateHeader,
    /// A column listed twice among the inputs or the targets.
    #[error("chosen twice")]
    ChosenTwice,
    /// A column that is both an input and a target (the network would be given its answer).
    #[error("is both an input and a target")]
    InputAndTarget,
    /// A line longer than [`MAX_LINE_BYTES`](crate::MAX_LINE_BYTES), which no data set of
    /// numbers has (and reading on would hold the whole line in memory).
    #[error(
        "a line is longer than {} bytes; is this a CSV file?",
        crate::data::MAX_LINE_BYTES
    )]
    LineTooLong,
    /// A class label that is not UTF-8 text.
    #[error("a label that is not UTF-8 text")]
    NotText,
    /// A header that is not UTF-8 text: a binary file.
    #[error("the header is not UTF-8 text; is this a CSV file (plain, gzip or zstd)?")]
    BinaryHeader,
    /// No header row.
    #[error("missing header row naming the columns")]
    NoHeader,
    /// The first row holds numbers.
    #[error("missing header row: the first row holds numbers, not column names")]
    NumericHeader,
    /// A chosen column that the header does not name.
    #[error("not in the header (columns: {})", List(columns))]
    UnknownColumn {
        /// The header's columns.
        columns: Vec<String>,
    },
    /// `targets = []`.
    #[error("no target columns chosen")]
    NoTargets,
    /// Class labels come from one target column.
    #[error("classification reads its labels from one target column; {got} are chosen")]
    LabelColumns {
        /// The columns chosen.
        got: usize,
    },
    /// A label that is not one of the known classes (those of `[data] classes`, or of the
    /// training data for validation rows).
    #[error("{0}")]
    UnknownLabel(Box<UnknownLabel>),
    /// More distinct labels than [`MAX_CLASSES`](crate::MAX_CLASSES).
    #[error(
        "more than {max} distinct labels; a classifier takes at most {max} classes (is this column of numbers a class column?)"
    )]
    TooManyClasses {
        /// The limit.
        max: usize,
    },
    /// More distinct values than [`MAX_CLASSES`](crate::MAX_CLASSES) in a categorical input.
    #[error(
        "more than {max} distinct categories; a categorical input takes at most {max} (is this column of numbers categorical?)"
    )]
    TooManyCategories {
        /// The limit.
        max: usize,
    },
    /// A categorical input that is not an input (`inputs = […]` leaves it out).
    #[error("is categorical but not one of the inputs")]
    CategoricalNotInput,
    /// Fewer than two classes in the labels.
    #[error(
        "classification needs at least two classes; the labels have {}",
        Found(found)
    )]
    OneClass {
        /// The classes found.
        found: Vec<String>,
    },
    /// Nothing left to be an input.
    #[error("no input columns{}", NoInputsHint(*delimiter))]
    NoInputs {
        /// Another delimiter the one-column header holds, when it does.
        delimiter: Option<char>,
    },
    /// A column both chosen and in `exclude`.
    #[error("is both chosen and excluded")]
    ChosenAndExcluded,
    /// A row with another number of fields than the header.
    #[error("the row has {got} fields; the header has {header}")]
    Fields {
        /// Fields in the row.
        got: usize,
        /// Fields in the header.
        header: usize,
    },
    /// A cell that is not a number.
    #[error("{} is not a number", Shown(cell))]
    NotANumber {
        /// The cell as written (empty for an empty cell).
        cell: String,
    },
    /// A word in an input column of the training file: perhaps a column of names, which
    /// `categorical` makes into inputs.
    #[error(
        "{} is not a number (a column of names can be inputs, one per category: [data] categorical = [{column:?}])",
        Shown(cell)
    )]
    WordInInput {
        /// The cell as written.
        cell: String,
        /// The column's name.
        column: String,
    },
    /// NaN or an infinity.
    #[error("{value} is not allowed; values must be finite")]
    NonFinite {
        /// The value.
        value: f64,
    },
    /// A number beyond f32's range (written out, however long).
    #[error("{} is too large for f32 (|x| < 3.4e38)", Shown(cell))]
    TooLarge {
        /// The cell as written.
        cell: String,
    },
    /// More rows than training can index.
    #[error("more than {} rows; squiggle trains on at most that many", Thousands(*max))]
    TooManyRows {
        /// The limit.
        max: u64,
    },
    /// A missing value (with `missing = "error"`).
    #[error(
        "{} is a missing value; {} {} one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)",
        Shown(cell),
        RowsOf(*rows),
        Has(*rows)
    )]
    Missing {
        /// The first one as written.
        cell: String,
        /// Rows that have one.
        rows: u64,
    },
    /// Every row has a missing value (with `missing = "drop"`).
    #[error("every row has a missing value ({} left out), the first here", RowsOf(*rows))]
    AllMissing {
        /// Rows left out.
        rows: u64,
    },
    /// A header and nothing else.
    #[error("no data rows after the header")]
    NoRows,
    /// Standard input for a streamed run, which reads its file once per epoch.
    #[error("a streamed run reads its data once per epoch: give a file, not standard input")]
    StreamNeedsAFile,
    /// An input column with no value at all, whose gaps `missing = "mean"` cannot fill.
    #[error("no value in any of the {} rows: there is no mean to fill its gaps with", Thousands(*rows))]
    NoMean {
        /// Rows read.
        rows: u64,
    },
}

/// `1 row`, `1,234 rows`.
struct RowsOf(u64);

impl std::fmt::Display for RowsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.0 == 1 { "" } else { "s" };
        write!(f, "{} row{s}", Thousands(self.0))
    }
}

/// `has` for one row, `have` for several.
struct Has(u64);

impl std::fmt::Display for Has {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 == 1 { "has" } else { "have" })
    }
}

/// Whose rows [`CsvProblem::OverLimit`] counts: the file's (`its`), or those read so far.
struct Counted(bool);

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 { "its" } else { "the first" })
    }
}

/// What [`CsvProblem::Unreadable`] adds for a reader that is not the file system's.
struct Via(Option<&'static str>);

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(reader) => write!(f, ": {reader}"),
            None => Ok(()),
        }
    }
}

/// The header's columns, escaped, separated by commas.
struct List<'a>(&'a [String]);

impl std::fmt::Display for List<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, column) in self.0.iter().enumerate() {
            let comma = if i == 0 { "" } else { ", " };
            write!(f, "{comma}{}", Escaped(column))?;
        }
        Ok(())
    }
}

/// The classes [`CsvProblem::OneClass`] found: `none`, or `only `a``.
struct Found<'a>(&'a [String]);

impl std::fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            [] => f.write_str("none"),
            [one, ..] => write!(f, "only {}", Shown(one)),
        }
    }
}

/// What [`CsvProblem::NoInputs`] adds: the delimiter the file seems to use.
struct NoInputsHint(Option<char>);

impl std::fmt::Display for NoInputsHint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(d) => write!(
                f,
                " (the header is one column holding {}: set [data] delimiter = {:?})",
                Shown(&d.to_string()),
                d.to_string()
            ),
            None => f.write_str(" (the header has one column)"),
        }
    }
}

/// A cell as messages show it: quoted, or "an empty cell".
struct Shown<'a>(&'a str);

/// Cells longer than this are shown by their start and their length.
const SHOWN_CHARS: usize = 24;

impl std::fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chars = self.0.chars().count();
        if self.0.is_empty() {
            f.write_str("an empty cell")
        } else if chars > SHOWN_CHARS {
            let start: String = self.0.chars().take(SHOWN_CHARS).collect();
            write!(f, "`{}…` ({chars} characters)", Escaped(&start))
        } else {
            write!(f, "`{}`", Escaped(self.0))
        }
    }
}

/// Text from a file with its control characters (a NUL byte, a newline, a tab) escaped, so
/// that a message stays one line and shows what is there.
struct Escaped<'a>(&'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// A reader's error inside the text the CSV reader reads (a decompressor's, the Parquet
/// reader's): its message names the reader, `gzip`, and its source is the reader's own error,
/// so that the chain reads `gzip: corrupt deflate stream`.
#[derive(Debug, thiserror::Error)]
#[error("{name}")]
pub(crate) struct ReaderError<E: std::error::Error + 'static> {
    name: &'static str,
    #[source]
    source: E,
}

impl<E: std::error::Error + 'static> ReaderError<E> {
    /// `source`, from the reader `name`.
    pub(crate) fn new(name: &'static str, source: E) -> Self {
        ReaderError { name, source }
    }
}
