//! Data: where rows come from ([`DataSource`]: the lesson's points, points in a config, CSV
//! files), how they are held ([`Dataset`]: f32 on the host), split, standardised and
//! [`Prepared`] the way a plan trains on them, and synthetic data sets.

pub(crate) mod csv;
pub(crate) mod dataset;
pub(crate) mod error;
mod prepare;
mod scaling;
mod source;
mod split;
mod stream;
mod synthetic;

pub use self::csv::{
    Categorical, Columns, CompiledIn, CsvError, CsvOptions, CsvProblem, CsvWindows, Discovered,
    Labels, MAX_CLASSES, MAX_LINE_BYTES, Missing, STDIN, UnknownLabel, open_text, read_csv,
    read_inputs,
};
pub use dataset::{Classes, DataIdentity, Dataset, Encoding, Gaps};
pub use error::{ClassNamesError, DataError, LoadError};
pub use prepare::Prepared;
pub use scaling::{ColumnScale, Scaling};
pub use source::DataSource;
pub use split::{Split, shuffle_for_epoch};
pub use stream::{ShuffleBuffer, Stream, StreamScaling};
pub use synthetic::{dosage_curve, dosage_dataset, write_dosage};
