//! Every error this crate returns, as closed enums carrying the data their messages need.
//!
//! - [`PlanError`]: a training setting that cannot be run (checked before anything runs);
//! - [`DataError`], [`CsvError`]: data that cannot be trained on;
//! - [`CheckpointError`], [`ResumeError`]: a checkpoint that cannot be read or continued;
//! - [`TrainError`]: a run that started and could not finish;
//! - [`BenchError`]: a benchmark whose work could not be done.
//!
//! Messages are one line and name what is wrong; callers add the file (and line) they know.

use std::path::PathBuf;

use squiggle_model::{Named, Precision, ReadBack};
use thiserror::Error;

use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::plan::{ScheduleKind, Setting};

/// A run that started but could not finish.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainError {
    /// The loss or a derivative became NaN or infinite: gradient descent diverged (or, at
    /// step 0, before any update, the initial parameters were already out of range).
    #[error("{}", non_finite(*step, what, *value))]
    NonFinite {
        /// The step at which it was seen.
        step: usize,
        /// What became non-finite.
        what: Quantity,
        /// The value (NaN, inf or -inf).
        value: f64,
    },
    /// The loss rose a thousandfold while staying finite: gradient descent diverged.
    #[error(
        "the loss rose from {} to {} by step {step} (more than a thousandfold): gradient descent diverged; try a smaller learning_rate",
        Short(*from),
        Short(*to)
    )]
    Exploded {
        /// The step at which it was seen.
        step: usize,
        /// The loss before the first step.
        from: f64,
        /// The loss then.
        to: f64,
    },
    /// The loss on the training or validation rows became NaN or infinite during an epoch.
    #[error("the loss became {value} in epoch {epoch}; try a smaller learning_rate")]
    Diverged {
        /// The epoch (1-based).
        epoch: usize,
        /// The value.
        value: f64,
    },
    /// A [`Stepper`](crate::Stepper) was asked to step a plan that trains by epochs.
    #[error("this plan trains by epochs; only a plan that trains step by step can be stepped")]
    NotStepByStep,
    /// A checkpoint could not be continued from.
    #[error("cannot resume: {0}")]
    Resume(#[from] ResumeError),
    /// A streamed file could not be read through in an epoch (it changed since training
    /// began, or a disk failed).
    #[error(transparent)]
    Stream(CsvError),
    /// A streamed run was asked of a plan that trains step by step.
    #[error("a streamed file trains by epochs; this plan trains step by step")]
    StreamByEpochs,
    /// The device could not hand a value back.
    #[error(transparent)]
    ReadBack(#[from] ReadBack),
    /// Burn could not serialise the model or the optimizer state into a checkpoint.
    #[error("cannot take a checkpoint: the {part} record does not serialise: {reason}")]
    Snapshot {
        /// `model` or `optimizer`.
        part: &'static str,
        /// Burn's explanation.
        reason: String,
    },
}

/// A number in a message: six significant digits, scientific beyond a million.
struct Short(f64);

impl std::fmt::Display for Short {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
            write!(f, "{x:.5e}")
        } else {
            let digits = 5usize.saturating_sub(x.abs().log10().max(0.0) as usize);
            write!(f, "{x:.digits$}")
        }
    }
}

/// A quantity a step computes, named as the lesson's table names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quantity {
    /// The loss.
    Loss,
    /// The derivative of the loss (`symbol`, e.g. `SSR`) with respect to one parameter.
    Derivative {
        /// The loss's symbol.
        loss: &'static str,
        /// The parameter's name.
        param: String,
    },
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quantity::Loss => f.write_str("the loss"),
            Quantity::Derivative { loss, param } => write!(f, "d{loss}/d{param}"),
        }
    }
}

/// A training setting that cannot be run, and which one.
///
/// The caller knows where the setting came from (a file position, a flag) and prefixes it.
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{}", self.message())]
pub struct PlanError {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong with it.
    pub problem: Problem,
}

impl PlanError {
    fn message(&self) -> String {
        let key = self.setting.key();
        match &self.problem {
            Problem::OutOfRange { wanted, got } => format!("`{key}` must be {wanted}, got {got}"),
            Problem::Zero => format!("`{key}` must be at least 1"),
            Problem::NeedsEpochs => {
                format!("`{key}` needs `epochs` in [train]: it applies to training by epochs")
            }
            Problem::StepsOnly => format!(
                "`{key}` is a rule of step-by-step training; with `epochs`, use `patience` to stop early"
            ),
            Problem::NeedsSchedule(kind) => {
                format!("`{key}` applies to `schedule = \"{}\"`", kind.name())
            }
            Problem::NeedsOptimizer(kind) => {
                format!("`{key}` applies to `optimizer = \"{}\"`", kind.name())
            }
            Problem::StepScheduleNeedsEvery => {
                "`schedule = \"step\"` needs `step_every` (epochs, or steps step by step, between decays)".to_string()
            }
            Problem::Schedule(reason) => format!("learning-rate schedule: {reason}"),
            Problem::TwoValidations => {
                "[data] takes `valid_fraction` or `valid_csv`, not both".to_string()
            }
            Problem::NothingTrainable => "`trainable` is empty; name at least one parameter (use `squiggle eval` to run without training)".to_string(),
            Problem::TwoScalings => {
                "[data] takes `standardize` or `rescale`, not both".to_string()
            }
            Problem::ReductionNeedsCrossEntropy => {
                format!("`{key}` applies to `loss = \"cross_entropy\"`")
            }
            Problem::MaskLength { got, want } => {
                format!("`{key}` has {got} entries; the network has {want} parameters")
            }
        }
    }
}

/// What is wrong with a setting (see [`PlanError`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// A number outside its range, e.g. `wanted: "in [0, 1)"`.
    OutOfRange {
        /// The accepted range, in words.
        wanted: &'static str,
        /// The value given.
        got: f64,
    },
    /// A count that must be at least 1 is 0.
    Zero,
    /// A setting of training by epochs, without `epochs`.
    NeedsEpochs,
    /// A stopping rule of step-by-step training, with `epochs`.
    StepsOnly,
    /// A setting of one learning-rate schedule, with another.
    NeedsSchedule(ScheduleKind),
    /// A setting of one optimizer, with another.
    NeedsOptimizer(OptimizerKind),
    /// `schedule = "step"` without `step_every`.
    StepScheduleNeedsEvery,
    /// `standardize` and `rescale` together.
    TwoScalings,
    /// `reduction` with a loss other than `cross_entropy`.
    ReductionNeedsCrossEntropy,
    /// Burn's learning-rate scheduler refused the settings.
    Schedule(String),
    /// Both `valid_fraction` and `valid_csv`.
    TwoValidations,
    /// No parameter trains.
    NothingTrainable,
    /// A trainable mask with the wrong number of entries.
    MaskLength {
        /// Its length.
        got: usize,
        /// The number of parameters.
        want: usize,
    },
}

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
    #[error("row {} value {} is {value}; data must be finite f32 numbers (|x| < 3.4e38)", row + 1, column + 1)]
    NonFinite {
        /// 0-based row index.
        row: usize,
        /// 0-based position within the row.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A class index (the last value of a row of a classification data set) that names no
    /// class.
    #[error("row {} class {value} is not a class index: expected a whole number from 0 to {}", row + 1, classes - 1)]
    Class {
        /// 0-based row index.
        row: usize,
        /// The value.
        value: f64,
        /// Number of classes.
        classes: usize,
    },
}

/// A problem with a CSV data file: `file:line: column `name`: reason`, with 1-based line
/// numbers as an editor shows them (the line is left out when the file itself cannot be
/// read, the column when no single column is at fault).
#[derive(Debug, Error, Clone, PartialEq)]
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
    /// The file cannot be opened or read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// More rows than the memory the process may take can hold.
    #[error(
        "its {rows} lines need about {} of memory, more than this process can allocate",
        crate::bytes::Bytes(*bytes)
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
        crate::bytes::Bytes(*bytes)
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
        if *counted { "its" } else { "the first" },
        crate::bytes::Thousands(*rows),
        crate::bytes::Bytes(*bytes),
        crate::bytes::Bytes(*limit as f64)
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
        crate::bytes::Thousands(*rows),
        crate::bytes::Bytes(*bytes),
        crate::bytes::Bytes(*limit as f64)
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
    #[error("not in the header (columns: {})", columns.iter().map(|c| Escaped(c).to_string()).collect::<Vec<_>>().join(", "))]
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
    #[error("classification needs at least two classes; the labels have {}", match found.as_slice() { [] => "none".to_string(), [one] => format!("only {}", Shown(one)), _ => unreachable!() })]
    OneClass {
        /// The classes found.
        found: Vec<String>,
    },
    /// Nothing left to be an input.
    #[error("no input columns{}", no_inputs_hint(*delimiter))]
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
    #[error("more than {} rows; squiggle trains on at most that many", crate::bytes::Thousands(*max))]
    TooManyRows {
        /// The limit.
        max: u64,
    },
    /// A missing value (with `missing = "error"`).
    #[error(
        "{} is a missing value; {} {} one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)",
        Shown(cell),
        rows_of(*rows),
        if *rows == 1 { "has" } else { "have" }
    )]
    Missing {
        /// The first one as written.
        cell: String,
        /// Rows that have one.
        rows: u64,
    },
    /// Every row has a missing value (with `missing = "drop"`).
    #[error("every row has a missing value ({} left out), the first here", rows_of(*rows))]
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
    #[error("no value in any of the {} rows: there is no mean to fill its gaps with", crate::bytes::Thousands(*rows))]
    NoMean {
        /// Rows read.
        rows: u64,
    },
}

/// `1 row`, `1,234 rows`.
fn rows_of(rows: u64) -> String {
    format!(
        "{} row{}",
        crate::bytes::Thousands(rows),
        if rows == 1 { "" } else { "s" }
    )
}

/// What [`CsvProblem::NoInputs`] adds: the delimiter the file seems to use.
fn no_inputs_hint(delimiter: Option<char>) -> String {
    match delimiter {
        Some(d) => format!(
            " (the header is one column holding {}: set [data] delimiter = {:?})",
            Shown(&d.to_string()),
            d.to_string()
        ),
        None => " (the header has one column)".to_string(),
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

/// The message of [`TrainError::NonFinite`]: at step 0 nothing has been updated yet, so the
/// learning rate cannot be at fault; the starting point is.
fn non_finite(step: usize, what: &Quantity, value: f64) -> String {
    if step == 0 {
        format!(
            "{what} is {value} at step 0, before any update: the initial parameters give it; check [model.init] and the initializer"
        )
    } else {
        format!("{what} became {value} at step {step}; try a smaller learning_rate")
    }
}

/// A checkpoint file that cannot be read back.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file does not start with squiggle's magic line.
    #[error("not a squiggle checkpoint")]
    NotACheckpoint,
    /// The file ends early.
    #[error("the checkpoint is truncated")]
    Truncated,
    /// The checksum does not match.
    #[error("the checkpoint is corrupt (checksum mismatch)")]
    Corrupt,
    /// The JSON header cannot be parsed.
    #[error("the checkpoint header is unreadable: {reason}")]
    Header {
        /// serde's explanation.
        reason: String,
    },
    /// A Burn record that does not load into the network or the optimizer it describes.
    #[error("the checkpoint's {part} record does not load: {reason}")]
    Record {
        /// `model` or `optimizer`.
        part: &'static str,
        /// Burn's explanation.
        reason: String,
    },
    /// A header that contradicts the records beside it (a checkpoint squiggle never writes:
    /// an edited or forged header).
    #[error("the checkpoint's header does not match its records: {reason}")]
    Mismatch {
        /// What disagrees.
        reason: String,
    },
    /// Weights that are not numbers (a checkpoint squiggle never writes: it stops a run
    /// before its parameters stop being finite).
    #[error("the checkpoint's weights are not all finite (parameter {index} is {value})")]
    NonFinite {
        /// The parameter, flat order.
        index: usize,
        /// Its value.
        value: f64,
    },
}

/// A checkpoint that is fine but belongs to another run than the one asked for.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResumeError {
    /// Another network or other columns.
    #[error(
        "the run trained a {run} network on columns {run_columns}; the config describes a {config} network on {config_columns}"
    )]
    Network {
        /// The run's network, e.g. `1-[3]-1 softplus`.
        run: String,
        /// The run's columns, e.g. `dosage → efficacy`.
        run_columns: String,
        /// The config's network.
        config: String,
        /// The config's columns.
        config_columns: String,
    },
    /// Another precision.
    #[error(
        "the run trained in {run}; continuing it in {config} would change every number (use --dtype {run})"
    )]
    Precision {
        /// The run's precision.
        run: Precision,
        /// The requested precision.
        config: Precision,
    },
    /// Another optimizer, whose state the checkpoint does not hold.
    #[error("the run trained with optimizer `{}`; the config asks for `{}`", run.name(), config.name())]
    Optimizer {
        /// The run's optimizer.
        run: OptimizerKind,
        /// The requested one.
        config: OptimizerKind,
    },
    /// A checkpoint of an earlier format whose optimizer state this version cannot use.
    #[error(
        "the checkpoint was written by an earlier squiggle (checkpoint format 2), whose {optimizer} state this version cannot continue; its model still serves predict and eval (to train further, start the run again)"
    )]
    OlderOptimizerState {
        /// The run's optimizer.
        optimizer: Optimizer,
    },
    /// The data file changed since the run read it.
    #[error(
        "the run trained on {run}; the data now holds {now} (the file changed since): resume on the data the run started with, or train a new run"
    )]
    Data {
        /// The run's data, e.g. `2,000 rows (fingerprint 1a2b…)`.
        run: String,
        /// The data now.
        now: String,
    },
    /// A run stopped inside an epoch, resumed with settings that make other batches.
    #[error(
        "the run stopped inside epoch {epoch}, whose batches were made with {run}; finishing it needs the same settings (the config has {now})"
    )]
    StoppedWithin {
        /// The epoch (1-based).
        epoch: usize,
        /// The run's settings, e.g. `batch_size = 16, shuffle = true, …`.
        run: String,
        /// The config's.
        now: String,
    },
    /// Training step by step keeps no checkpoints to resume from.
    #[error("only training by epochs keeps checkpoints; this plan trains step by step")]
    StepByStep,
    /// The checkpoint itself is unusable.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Rows that cannot be loaded from their source.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum LoadError {
    /// Rows written in the config.
    #[error(transparent)]
    Rows(#[from] DataError),
    /// A CSV file.
    #[error(transparent)]
    Csv(#[from] CsvError),
}

/// A benchmark's work that could not be done.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BenchError {
    /// The work's settings do not make a plan (a benchmark of zero rows, say).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Training failed or diverged.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The run ended before its work was done.
    #[error("the benchmark's run stopped after {periods} of its steps or epochs")]
    Stopped {
        /// Steps or epochs done.
        periods: usize,
    },
}
