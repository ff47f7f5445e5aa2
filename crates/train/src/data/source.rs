//! Where a run's rows come from. Add a data source here: a variant of [`DataSource`] and how
//! [`DataSource::load`] reads it.

use std::path::PathBuf;

use squiggle_model::lesson;

use crate::data::error::LoadError;
use crate::data::{Columns, CsvOptions, Dataset, read_csv};

/// Where the training rows come from.
///
/// A config is checked before any of these is read, so that a mistake in the config is
/// reported before a large file is touched.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// The lessons' three points, dosage 0, 0.5, 1 → efficacy 0, 1, 0, for a network of
    /// `inputs` inputs and `outputs` outputs (which must be one each).
    Lesson {
        /// The network's inputs.
        inputs: usize,
        /// The network's outputs.
        outputs: usize,
    },
    /// Rows written out in the config: each row its inputs, then its outputs.
    Points {
        /// The rows.
        rows: Vec<Vec<f64>>,
        /// Values per row that are inputs.
        inputs: usize,
        /// Values per row that are outputs.
        outputs: usize,
        /// For classification: the class names; each row ends with its class index instead
        /// of output values.
        classes: Option<Vec<String>>,
    },
    /// A CSV file with a header row; the chosen columns decide the network's widths.
    Csv {
        /// The file.
        path: PathBuf,
        /// Which columns are inputs and targets.
        columns: Columns,
        /// How the file is written.
        options: CsvOptions,
    },
}

impl DataSource {
    /// Reads the rows.
    ///
    /// # Errors
    /// [`LoadError::Rows`] for rows of the wrong width or non-finite values,
    /// [`LoadError::Csv`] for a CSV file that cannot be read (naming the line and column).
    pub fn load(&self) -> Result<Dataset, LoadError> {
        match self {
            DataSource::Lesson { inputs, outputs } => {
                Ok(Dataset::from_rows(&lesson::points(), *inputs, *outputs)?)
            }
            DataSource::Points {
                rows,
                inputs,
                classes: Some(names),
                ..
            } => {
                let classes = crate::data::Classes {
                    column: "class".to_string(),
                    names: names.clone(),
                };
                Ok(Dataset::from_labelled_rows(rows, *inputs, classes)?)
            }
            DataSource::Points {
                rows,
                inputs,
                outputs,
                classes: None,
            } => Ok(Dataset::from_rows(rows, *inputs, *outputs)?),
            DataSource::Csv {
                path,
                columns,
                options,
            } => Ok(read_csv(path, columns, options)?),
        }
    }

    /// The CSV file, when the rows come from one.
    pub fn csv_path(&self) -> Option<&std::path::Path> {
        match self {
            DataSource::Csv { path, .. } => Some(path),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::error::DataError;

    #[test]
    fn the_lesson_points_fit_only_the_lesson_widths() {
        let data = DataSource::Lesson {
            inputs: 1,
            outputs: 1,
        }
        .load()
        .unwrap();
        assert_eq!(data.observed(), [0.0, 1.0, 0.0]);
        let err = DataSource::Lesson {
            inputs: 2,
            outputs: 1,
        }
        .load()
        .unwrap_err();
        assert!(
            matches!(err, LoadError::Rows(DataError::Width { .. })),
            "{err}"
        );
    }

    #[test]
    fn points_and_files_load_their_rows() {
        let points = DataSource::Points {
            rows: vec![vec![1.0, 2.0, 3.0]],
            inputs: 2,
            outputs: 1,
            classes: None,
        };
        assert_eq!(points.load().unwrap().input_row(0), [1.0, 2.0]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let csv = DataSource::Csv {
            path: path.clone(),
            columns: Columns::default(),
            options: CsvOptions::default(),
        };
        assert_eq!(csv.load().unwrap().observed(), [2.0]);
        let labelled = DataSource::Points {
            rows: vec![vec![0.5, 1.0], vec![0.1, 0.0]],
            inputs: 1,
            outputs: 2,
            classes: Some(vec!["no".into(), "yes".into()]),
        };
        let data = labelled.load().unwrap();
        assert_eq!(data.observed(), [0.0, 1.0, 1.0, 0.0]);
        let bad = DataSource::Points {
            rows: vec![vec![0.5, 2.0]],
            inputs: 1,
            outputs: 2,
            classes: Some(vec!["no".into(), "yes".into()]),
        };
        assert_eq!(
            bad.load().unwrap_err().to_string(),
            "row 1 class 2 is not a class index: expected a whole number from 0 to 1"
        );
        assert_eq!(csv.csv_path(), Some(path.as_path()));
    }
}
