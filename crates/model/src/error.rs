//! Errors raised while describing or building a network.

use thiserror::Error;

/// Something about a network description that cannot be built.
///
/// Each message names the offending parameter or key, so the caller only has to add the
/// file and line it came from.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// A network larger than the configured limit (or than memory could ever hold).
    #[error(
        "the network has {count} parameters, more than max_params = {max}; raise `[model] max_params` to train it (each parameter takes 4 bytes in f32, and as many again for its gradient and for each optimizer state)"
    )]
    TooManyParams {
        /// Parameters the widths make.
        count: u128,
        /// The limit.
        max: u64,
    },
    /// Widths whose parameters could not even be counted in memory.
    #[error("the network would have {count} parameters, more than this machine can address")]
    Unaddressable {
        /// Parameters the widths make (saturated at `u128::MAX`).
        count: u128,
    },
    /// A parameter name that is neither a lesson name, a tensor path nor an element of one.
    #[error("unknown parameter `{name}`; expected one of {expected}")]
    UnknownParam {
        /// The name as written.
        name: String,
        /// A comma-separated list of the accepted names.
        expected: String,
    },
    /// An element index outside its tensor, such as `output.bias[3]` with one output.
    #[error("parameter `{name}` is out of range: `{path}` has shape {shape:?}")]
    IndexOutOfRange {
        /// The name as written.
        name: String,
        /// The tensor path it indexes.
        path: String,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// Initial values whose nesting does not match the tensor they are meant for.
    #[error("`{name}` needs {expected}, got {got}")]
    ShapeMismatch {
        /// The name as written.
        name: String,
        /// What the parameter needs, in words (`a number`, `an array of shape [1, 2]`).
        expected: String,
        /// What was given, in words.
        got: String,
    },
    /// A non-finite initial value.
    #[error("`{name}` must be a finite number, got {value}")]
    NonFinite {
        /// The name as written.
        name: String,
        /// The value given.
        value: f64,
    },
    /// A layer of width zero, or zero inputs or outputs.
    #[error("`{what}` must be at least 1, got 0")]
    ZeroWidth {
        /// Which width (`inputs`, `outputs`, `hidden[1]`).
        what: String,
    },
}

/// A tensor that could not be read back from its device: a failing GPU driver, a lost device.
///
/// Not the user's input: commands report it as a failed run (exit 1).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("could not read {what} back from the device: {reason}")]
pub struct ReadBack {
    /// What was being read (`the loss`, `the parameters`).
    pub what: &'static str,
    /// The backend's explanation.
    pub reason: String,
}
