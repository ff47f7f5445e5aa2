//! Rows that cannot be trained on: rows written in a config ([`DataError`]), or either kind
//! of source ([`LoadError`]).

use thiserror::Error;

use crate::data::csv::error::CsvError;

/// A problem with the rows given as training data.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum DataError {
    /// No rows at all.
    #[error("no data rows")]
    Empty,
    /// A row whose length is not `inputs + outputs`.
    #[error("row {} has {got} values; expected {expected} ({inputs} inputs then {outputs} outputs)", Nth(*row))]
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
    #[error("row {} value {} is {value}; data must be finite f32 numbers (|x| < 3.4e38)", Nth(*row), Nth(*column))]
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
    #[error("row {} class {value} is not a class index: expected a whole number from 0 to {}", Nth(*row), LastIndex(*classes))]
    Class {
        /// 0-based row index.
        row: usize,
        /// The value.
        value: f64,
        /// Number of classes.
        classes: usize,
    },
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

/// Class names that cannot name a classifier's outputs (see
/// [`Classes::check_names`](crate::Classes::check_names)).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClassNamesError {
    /// More than a classifier takes.
    #[error("{given} classes; a classifier takes at most {max}")]
    TooMany {
        /// Names given.
        given: usize,
        /// The limit.
        max: usize,
    },
    /// Fewer than two.
    #[error("classification needs at least two classes; {given} given")]
    TooFew {
        /// Names given.
        given: usize,
    },
    /// A name listed twice.
    #[error("`{0}` is listed twice")]
    Twice(String),
}

/// A 0-based position as messages count it, from 1.
struct Nth(usize);

impl std::fmt::Display for Nth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0 + 1)
    }
}

/// The last index of `n` things (0-based): `n − 1`.
struct LastIndex(usize);

impl std::fmt::Display for LastIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.saturating_sub(1))
    }
}
