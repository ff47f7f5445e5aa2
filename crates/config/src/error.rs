//! Why a config cannot be used: one line that names the file and position (or the flag or
//! `--set` edit) of the first problem.

use std::path::PathBuf;

use squiggle_train::{CsvError, Foreign, LoadError};

/// A config that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is wrong where it was given: `at` is `path:line:column`, a flag (`--epochs`)
    /// or an edit (`--set train.loss=mae`).
    #[error("{at}: {message}")]
    At {
        /// Where the value came from.
        at: String,
        /// What is wrong with it.
        message: String,
    },
    /// The config file cannot be read.
    #[error("failed to read `{}`", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Foreign,
    },
    /// The config file is not a regular file (a folder, a device).
    #[error("failed to read `{}`: not a regular file (a config must be a file)", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// The rows the config names cannot be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A data file cannot be read.
    #[error(transparent)]
    Csv(Box<CsvError>),
    /// A data file is over the memory limit and the config does not stream it: `advice`
    /// says which setting would.
    #[error("{error}; {advice}")]
    OverLimit {
        /// The reader's refusal.
        error: Box<CsvError>,
        /// The setting that trains on it without holding it.
        advice: String,
    },
}

impl From<CsvError> for ConfigError {
    fn from(e: CsvError) -> Self {
        ConfigError::Csv(Box::new(e))
    }
}
