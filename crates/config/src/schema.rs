//! The TOML schema as written: one struct per section, nothing validated.
//!
//! Every field is optional and `Spanned`, so checks can point at the offending value; named
//! choices (activation, loss, dtype, …) deserialize through their [`Named`](squiggle_model::Named)
//! enums, so an unknown word gets the one message shape
//! ``unknown loss `mae`; expected one of ssr, mse, cross_entropy, mean_cross_entropy`` at its position. The same structs
//! serialize the resolved config of a run folder (absent fields are left out).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use squiggle_model::{Activation, Initializer};
use toml::Spanned;

use crate::backend::Backend;

/// A config as written.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSection,
    /// `[data]`; absent means the lesson's three points.
    pub data: Option<Spanned<DataSection>>,
    /// `[train]`; absent in a config that only describes a network to evaluate.
    pub train: Option<TrainSection>,
}

/// The three sections that hold settings: each its own keys as written here, then the
/// training settings a config file writes in it, from `squiggle_train`'s one table
/// ([`squiggle_train::for_each_setting!`]).
macro_rules! sections {
    (model { $($m:tt)* } data { $($d:tt)* } train { $($t:tt)* } rows: $($rows:tt)*) => {
        sections!(@sort [$($m)*] [$($d)*] [$($t)*] $($rows)*);
    };
    (@sort [$($m:tt)*] [$($d:tt)*] [$($t:tt)*]
        $(#[$doc:meta])* $f:ident : $ty:ty = $v:ident $k:literal model $mode:ident $kind:ident;
        $($rest:tt)*) => {
        sections!(@sort [$($m)* $(#[$doc])* #[serde(rename = $k)] pub $f: Option<Spanned<$ty>>,]
            [$($d)*] [$($t)*] $($rest)*);
    };
    (@sort [$($m:tt)*] [$($d:tt)*] [$($t:tt)*]
        $(#[$doc:meta])* $f:ident : $ty:ty = $v:ident $k:literal data $mode:ident $kind:ident;
        $($rest:tt)*) => {
        sections!(@sort [$($m)*]
            [$($d)* $(#[$doc])* #[serde(rename = $k)] pub $f: Option<Spanned<$ty>>,]
            [$($t)*] $($rest)*);
    };
    (@sort [$($m:tt)*] [$($d:tt)*] [$($t:tt)*]
        $(#[$doc:meta])* $f:ident : $ty:ty = $v:ident $k:literal train $mode:ident $kind:ident;
        $($rest:tt)*) => {
        sections!(@sort [$($m)*] [$($d)*]
            [$($t)* $(#[$doc])* #[serde(rename = $k)] pub $f: Option<Spanned<$ty>>,]
            $($rest)*);
    };
    (@sort [$($m:tt)*] [$($d:tt)*] [$($t:tt)*]) => {
        /// `[model]`.
        #[derive(Debug, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct ModelSection { $($m)* }

        /// `[data]`: `points` or `csv` (with optional columns), and the validation and scaling
        /// of training by epochs.
        #[derive(Debug, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct DataSection { $($d)* }

        /// `[train]`.
        #[derive(Debug, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct TrainSection { $($t)* }
    };
}

squiggle_train::for_each_setting!(sections! {
    model {
    /// Input columns (default 1, or the CSV's).
    pub inputs: Option<Spanned<usize>>,
    /// Hidden layer widths (default `[2]`).
    pub hidden: Option<Spanned<Vec<usize>>>,
    /// Output columns (default 1, or the CSV's).
    pub outputs: Option<Spanned<usize>>,
    /// The hidden units' activation (default softplus).
    pub activation: Option<Spanned<Activation>>,
    /// How random weights are scaled (default normal).
    pub initializer: Option<Spanned<Initializer>>,
    /// The most parameters the network may have (default 1,000,000).
    pub max_params: Option<Spanned<u64>>,
    /// `[model.init]`: initial values by parameter name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub init: BTreeMap<String, Spanned<toml::Value>>,
    }
    data {
    /// Rows of inputs then outputs.
    pub points: Option<Spanned<Vec<Spanned<Vec<f64>>>>>,
    /// A CSV file, relative to the config's folder.
    pub csv: Option<Spanned<String>>,
    /// Input columns of the CSV file.
    pub inputs: Option<Spanned<Vec<String>>>,
    /// Target columns of the CSV file.
    pub targets: Option<Spanned<Vec<String>>>,
    /// Columns of the CSV file that are not inputs when `inputs` is not given.
    pub exclude: Option<Spanned<Vec<String>>>,
    /// Input columns of names, one-hot encoded (one input per category).
    pub categorical: Option<Spanned<Vec<String>>>,
    /// The character between a CSV file's fields (default `,`).
    pub delimiter: Option<Spanned<String>>,
    /// A missing value: `error` (default), `drop` or `mean`.
    pub missing: Option<Spanned<String>>,
    /// The memory the rows may take (`"8 GB"`, `"512 MiB"`); default: what the process may
    /// still allocate.
    pub memory_limit: Option<Spanned<String>>,
    /// Train by reading the file once per epoch instead of holding it (`true`), or never
    /// (`false`); not given: when its rows would pass `memory_limit`.
    pub stream: Option<Spanned<bool>>,
    /// Rows of a streamed file's shuffle buffer.
    pub shuffle_buffer: Option<Spanned<u64>>,
    /// Cross entropy: the class names in output order (a CSV file's labels must be among
    /// them; each row of `points` ends with an index into them).
    pub classes: Option<Spanned<Vec<String>>>,
    }
    train {
    /// Parameters that learn (default: all).
    pub trainable: Option<Spanned<Vec<Spanned<String>>>>,
    /// Where the tensors live.
    pub backend: Option<Spanned<Backend>>,
    }
});

/// Which of the sections `model`, `data` and `train` (given as their variables) holds a
/// setting of the table's section `$section`.
macro_rules! in_section {
    (model, $m:ident, $d:ident, $t:ident) => {
        $m
    };
    (data, $m:ident, $d:ident, $t:ident) => {
        $d
    };
    (train, $m:ident, $d:ident, $t:ident) => {
        $t
    };
}
pub(super) use in_section;

/// A value for a resolved config, which has no position in any file.
pub fn resolved<T>(value: T) -> Option<Spanned<T>> {
    Some(Spanned::new(0..0, value))
}
