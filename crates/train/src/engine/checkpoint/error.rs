//! A checkpoint that cannot be read back ([`CheckpointError`]), or that belongs to another
//! run than the one asked for ([`ResumeError`]).

use squiggle_model::{Named, Precision};
use thiserror::Error;

use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::foreign::Foreign;

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
    /// The JSON header cannot be parsed, or describes no network.
    #[error("the checkpoint header is unreadable")]
    Header {
        /// serde's error, or the network's.
        #[source]
        cause: Foreign,
    },
    /// A Burn record that does not load into the network or the optimizer it describes.
    #[error("the checkpoint's {part} record does not load")]
    Record {
        /// `model` or `optimizer`.
        part: &'static str,
        /// Burn's error (or the device's, reading the values back).
        #[source]
        cause: Foreign,
    },
    /// A model record too short for the values of the network its header describes.
    #[error(
        "the checkpoint's model record does not load: it holds {bytes} bytes, fewer than the {values} values of the header's {network} network"
    )]
    ShortRecord {
        /// Bytes it holds.
        bytes: usize,
        /// Values the network has.
        values: usize,
        /// The network, `1-[2]-1 softplus`.
        network: String,
    },
    /// A model record whose tensors are not what the network holds (integers where floats
    /// belong), on which Burn panics rather than erring.
    #[error(
        "the checkpoint's model record does not load: a tensor of the record is not what the network holds"
    )]
    RecordTensors,
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
