//! The network of StatQuest's "Neural Networks" lessons as a Burn [`Module`](burn::module::Module).
//!
//! The lesson's network takes a dosage, feeds it to two softplus hidden units and adds their
//! weighted outputs to a final bias: `w3·softplus(w1·x + b1) + w4·softplus(w2·x + b2) + b3`.
//! This crate generalises it to `inputs → hidden layers → outputs` while keeping the lesson's
//! names (w1..w4, b1..b3) as public vocabulary for the shapes where they make sense.
//!
//! What lives here:
//! - [`Architecture`]: the shape of a network (widths and activation), independent of any device;
//! - [`Network`]: the Burn module, built from a flat list of values and read back into one;
//! - [`ParamNames`]: the one place that maps lesson names and tensor paths onto parameters,
//!   and the one rule for when the lesson's names apply;
//! - [`lesson`]: the lessons' data points and fitted networks;
//! - [`Activation`]: the hidden units' non-linearities (add one there);
//! - [`initial_values`]: the seeded initialisers;
//! - [`named_enum!`]: how every named choice (activation, loss, optimizer, …) is declared.
//!
//! Nothing here chooses a backend: every function takes the [`Device`](burn::prelude::Device)
//! it should work on, so the same code runs on flex, ndarray or a GPU.

#![forbid(unsafe_code)]

mod activation;
mod architecture;
mod error;
mod host;
mod init;
pub mod lesson;
mod named;
mod network;
mod params;
mod precision;
mod values;

pub use activation::Activation;
pub use architecture::{Architecture, DEFAULT_MAX_PARAMS, TensorKind, TensorSpec};
pub use error::{ModelError, ReadBack};
pub use host::RowPass;
pub use init::{Initializer, initial_values, standard_normal_values};
#[doc(hidden)]
pub use named::__serde;
pub use named::{Named, UnknownName, closest};
pub use network::{Layer, Network, read};
pub use params::{LessonUnit, ParamNames, ParamTarget};
pub use precision::Precision;
pub use values::Values;
