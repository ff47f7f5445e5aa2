//! Checkpoints: everything a run by epochs needs to continue exactly where it stopped, in one
//! file.
//!
//! The model and the optimizer state are Burn's own burnpack records (the optimizer's
//! momentum or moments are keyed by the id of the one parameter vector training updates, the
//! same in every process); a typed JSON header beside them says
//! what the run was (network, columns, precision, optimizer), how far it got and how its
//! data was scaled. The weights live only in the model record. One file, not three, so that
//! writing it atomically (temp file, then rename) swaps the whole state at once, and a
//! checksum so a damaged file is refused instead of resumed.

pub(crate) mod error;

pub use error::{CheckpointError, ResumeError};

use burn::prelude::Device;
use serde::{Deserialize, Serialize};
use squiggle_model::{Activation, Architecture, Network, Precision};

use crate::data::{DataIdentity, Dataset, Scaling};
use crate::engine::optim::Optimizer;
use crate::engine::trainer::Trainer;
use crate::engine::trainer::load_network;
use crate::foreign::Foreign;
use crate::plan::TrainPlan;

/// Where training starts from: fresh values, or a checkpoint (the core's vocabulary, taken
/// by [`train`](crate::train) and by the epochs that resume).
#[derive(Clone, Debug)]
pub enum Start {
    /// Initial parameters, flat order.
    Fresh(Vec<f64>),
    /// A checkpoint of an earlier run with the same plan (training by epochs only).
    Resume(Box<Checkpoint>),
}

/// The first line of every checkpoint; the number changes with the layout.
const MAGIC: &[u8] = b"SQUIGGLE-CHECKPOINT 3\n";
/// Format 2, written before training kept every parameter in one vector: the same sections,
/// and the same model record, but an optimizer state keyed by per-layer parameters that
/// training no longer has. Its model still serves `predict` and `eval`; a run whose optimizer
/// kept state (momentum, Adam) cannot continue from it.
const MAGIC_2: &[u8] = b"SQUIGGLE-CHECKPOINT 2\n";

/// Where a run stands after some whole epochs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs completed.
    pub epoch: usize,
    /// The lowest early-stopping loss seen so far (validation loss, or the training loss when
    /// there is no validation data), and the epoch (1-based) that reached it.
    pub best: Option<(f64, usize)>,
    /// Epochs since the best one.
    pub since_best: usize,
    /// How far the run got into the next epoch when it was stopped inside it (a checkpoint
    /// of an interrupted run); `None` at the end of an epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Within>,
}

/// How far a run got into an epoch it did not finish. Resuming replays the epoch's batches
/// without stepping until it has passed `batches` of them (the order depends only on the
/// seed, the epoch and the rows, in memory and streamed alike), then carries on with the
/// next one and the epoch's running sums: the run ends exactly as an uninterrupted one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Within {
    /// The settings that made the epoch's batches ([`TrainPlan::batch_order`]):
    /// the rest of the epoch needs the same.
    pub order: String,
    /// Mini-batches stepped.
    pub batches: usize,
    /// Training rows they held.
    pub rows: u64,
    /// Seconds spent stepping them (so the epoch's rows per second count them).
    pub seconds: f64,
    /// The running training sums of those batches.
    pub sums: crate::engine::metrics::RunningSums,
}

/// The network a checkpoint holds, and the columns it reads and predicts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkMeta {
    /// Input column names.
    pub inputs: Vec<String>,
    /// Target column names.
    pub targets: Vec<String>,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// The hidden units' activation.
    pub activation: Activation,
    /// The precision it trained at.
    pub precision: Precision,
    /// For a classifier: the label column and the classes its outputs score, in order (the
    /// targets are then the class names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<crate::data::Classes>,
    /// The value each input's gaps were filled with (`[data] missing = "mean"`: the training
    /// file's means), so that predictions fill theirs the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Vec<f32>>,
    /// How the file's input columns became `inputs`, when some are categorical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<crate::data::Encoding>,
}

impl NetworkMeta {
    /// The file columns new rows must have, and which of them are categorical (with the
    /// run's categories): what `predict` and `eval --data` read.
    pub fn input_columns(&self) -> (Vec<String>, Vec<crate::data::Categorical>) {
        crate::data::Encoding::input_columns(self.encoding.as_ref(), &self.inputs, "run's")
    }

    /// The description of `arch` trained on `data`'s columns at `precision`.
    pub fn new(arch: &Architecture, data: &Dataset, precision: Precision) -> Self {
        Self {
            inputs: data.input_names().to_vec(),
            targets: data.output_names().to_vec(),
            hidden: arch.hidden.clone(),
            activation: arch.activation,
            precision,
            classes: data.classes().cloned(),
            fill: data.gaps().fill.clone(),
            encoding: data.encoding().cloned(),
        }
    }

    /// The network's shape.
    ///
    /// # Errors
    /// [`CheckpointError::Header`] for a description no network has (a zero width).
    pub fn architecture(&self) -> Result<Architecture, CheckpointError> {
        Architecture::new(
            self.inputs.len(),
            self.hidden.clone(),
            self.targets.len(),
            self.activation,
        )
        .map_err(|e| CheckpointError::Header {
            cause: Foreign::new(e),
        })
    }

    /// The columns, `dosage → efficacy`.
    pub fn columns(&self) -> String {
        format!("{} → {}", self.inputs.join(","), self.targets.join(","))
    }
}

/// What a checkpoint says besides the weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Epoch counters and the early-stopping state.
    pub progress: Progress,
    /// The network and its columns.
    pub network: NetworkMeta,
    /// The optimizer whose state the checkpoint holds.
    pub optimizer: Optimizer,
    /// The standardisation the network was trained with, if any.
    pub scaling: Option<Scaling>,
    /// The data the run read (checkpoints of earlier versions did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataIdentity>,
}

/// A run's complete state after a whole epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Everything but the weights and the optimizer state.
    pub meta: CheckpointMeta,
    /// The model as a burnpack record.
    pub(crate) model: Vec<u8>,
    /// The optimizer state as a burnpack record.
    pub(crate) optimizer: Vec<u8>,
    /// The optimizer state is format 2's (see [`MAGIC_2`]), which this version cannot use.
    pub(crate) stale_optimizer_state: bool,
}

impl Checkpoint {
    /// The file's bytes: magic line, three length-prefixed sections (JSON header, model
    /// record, optimizer record), FNV-1a checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.meta).expect("a checkpoint header is plain JSON");
        let mut out = MAGIC.to_vec();
        for section in [&header, &self.model, &self.optimizer] {
            out.extend_from_slice(&(section.len() as u64).to_le_bytes());
            out.extend_from_slice(section);
        }
        let sum = fnv1a(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads bytes written by [`Checkpoint::to_bytes`].
    ///
    /// # Errors
    /// A [`CheckpointError`] saying what is wrong: not a checkpoint, truncated, corrupt, or a
    /// header that does not describe a run.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let format_2 = bytes.starts_with(MAGIC_2);
        if !bytes.starts_with(MAGIC) && !format_2 {
            return Err(CheckpointError::NotACheckpoint);
        }
        if bytes.len() < MAGIC.len() + 8 {
            return Err(CheckpointError::Truncated);
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return Err(CheckpointError::Corrupt);
        }
        let mut rest = &body[MAGIC.len()..];
        let mut sections = Vec::new();
        for _ in 0..3 {
            let Some((len, tail)) = rest.split_first_chunk::<8>() else {
                return Err(CheckpointError::Truncated);
            };
            let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
            if tail.len() < len {
                return Err(CheckpointError::Truncated);
            }
            sections.push(&tail[..len]);
            rest = &tail[len..];
        }
        let meta: CheckpointMeta =
            serde_json::from_slice(sections[0]).map_err(|e| CheckpointError::Header {
                cause: Foreign::new(e),
            })?;
        Ok(Self {
            meta,
            model: sections[1].to_vec(),
            optimizer: sections[2].to_vec(),
            stale_optimizer_state: format_2 && !sections[2].is_empty(),
        })
    }

    /// The trained network, on `device` (without autodiff), at the precision it trained in.
    ///
    /// # Errors
    /// A header that describes no network, a model record that does not fit it, or weights
    /// that are not finite.
    pub fn network(&self, device: &Device) -> Result<Network, CheckpointError> {
        let arch = self.meta.network.architecture()?;
        // The record holds every value (4 or 8 bytes each): a header claiming more than the
        // file could hold is refused before anything that size is allocated.
        let bytes = arch
            .num_params()
            .saturating_mul(self.meta.network.precision.dtype().size());
        if bytes > self.model.len() {
            return Err(CheckpointError::ShortRecord {
                bytes: self.model.len(),
                values: arch.num_params(),
                network: arch.describe(),
            });
        }
        self.check_scaling()?;
        let net = load_network(
            &arch,
            self.model.clone(),
            device,
            self.meta.network.precision,
        )?;

        let values = net.values().map_err(|e| CheckpointError::Record {
            part: "model",
            cause: Foreign::new(e),
        })?;
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(CheckpointError::NonFinite { index, value });
        }
        Ok(net)
    }

    /// Refuses a standardisation that does not fit the network's columns (one scale per input
    /// and per target).
    ///
    /// # Errors
    /// [`CheckpointError::Mismatch`] naming the counts.
    fn check_scaling(&self) -> Result<(), CheckpointError> {
        let Some(scaling) = &self.meta.scaling else {
            return Ok(());
        };
        let network = &self.meta.network;
        let (inputs, targets) = (network.inputs.len(), network.targets.len());
        if scaling.inputs.len() != inputs || scaling.targets.len() != targets {
            return Err(CheckpointError::Mismatch {
                reason: format!(
                    "its standardisation has {} input and {} target columns, the network {inputs} and {targets}",
                    scaling.inputs.len(),
                    scaling.targets.len()
                ),
            });
        }
        Ok(())
    }

    /// Whether the optimizer's state carries over to `plan`'s optimizer: false when the run's
    /// optimizer kept none (the lessons' plain rule) while `plan`'s keeps some (momentum,
    /// Adam), which then starts its state afresh from the checkpoint's weights.
    pub fn optimizer_state_carries(&self, plan: &TrainPlan) -> bool {
        !self.optimizer.is_empty() || plan.optimizer().is_gradient_descent()
    }

    /// Loads the checkpoint into the network and the optimizer `plan` trains with, on
    /// `device`, and drops them: what a resume does first, done before anything of the run is
    /// written, so that a checkpoint that cannot continue the run is refused with every file
    /// left as it was.
    ///
    /// # Errors
    /// A record that does not load into this network or this optimizer.
    pub fn check_restore(
        &self,
        arch: &Architecture,
        plan: &TrainPlan,
        device: &Device,
    ) -> Result<(), ResumeError> {
        self.check_scaling()?;
        Trainer::restore(
            arch,
            self.model.clone(),
            self.optimizer.clone(),
            plan,
            device,
        )?;
        Ok(())
    }

    /// Refuses a network or columns other than the checkpoint's: `arch` reading and
    /// predicting `data`'s columns.
    ///
    /// # Errors
    /// [`ResumeError::Network`] naming both.
    pub fn check_network(&self, arch: &Architecture, data: &Dataset) -> Result<(), ResumeError> {
        let run = &self.meta.network;
        let config = NetworkMeta::new(arch, data, run.precision);
        if *run == config {
            return Ok(());
        }
        Err(ResumeError::Network {
            run: run.architecture()?.describe(),
            run_columns: run.columns(),
            config: arch.describe(),
            config_columns: config.columns(),
        })
    }

    /// Refuses to continue this run as `plan` on `arch` and `data`'s columns when that is
    /// another run: another network or columns, precision, or optimizer.
    ///
    /// # Errors
    /// The [`ResumeError`] naming the difference.
    pub fn check_resumable(
        &self,
        arch: &Architecture,
        data: &Dataset,
        plan: &TrainPlan,
        buffer: Option<u64>,
    ) -> Result<(), ResumeError> {
        self.check_network(arch, data)?;
        if let Some(within) = &self.meta.progress.within {
            let now = plan.batch_order(buffer);
            if within.order != now {
                return Err(ResumeError::StoppedWithin {
                    epoch: self.meta.progress.epoch + 1,
                    run: within.order.clone(),
                    now,
                });
            }
        }
        if let Some(run) = self.meta.data
            && run != data.identity()
        {
            return Err(ResumeError::Data {
                run: run.to_string(),
                now: data.identity().to_string(),
            });
        }
        let run = &self.meta.network;
        if run.precision != plan.precision() {
            return Err(ResumeError::Precision {
                run: run.precision,
                config: plan.precision(),
            });
        }
        let (run, config) = (self.meta.optimizer.kind(), plan.optimizer().kind());
        if run != config {
            return Err(ResumeError::Optimizer { run, config });
        }
        if self.stale_optimizer_state {
            return Err(ResumeError::OlderOptimizerState {
                optimizer: self.meta.optimizer,
            });
        }
        Ok(())
    }

    /// The meta and the two records.
    pub(crate) fn into_parts(self) -> (CheckpointMeta, Vec<u8>, Vec<u8>) {
        (self.meta, self.model, self.optimizer)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            meta: CheckpointMeta {
                progress: Progress {
                    epoch: 3,
                    best: Some((0.25, 2)),
                    since_best: 1,
                    within: None,
                },
                network: NetworkMeta {
                    inputs: vec!["dosage".into()],
                    targets: vec!["efficacy".into()],
                    hidden: vec![2],
                    activation: Activation::Softplus,
                    precision: Precision::F32,
                    classes: None,
                    fill: Some(vec![0.5]),
                    encoding: None,
                },
                optimizer: Optimizer::Sgd {
                    momentum: 0.9,
                    weight_decay: 0.0,
                },
                scaling: None,
                data: None,
            },
            model: vec![1, 2, 3],
            optimizer: vec![],
            stale_optimizer_state: false,
        }
    }

    /// A format-2 checkpoint still loads (its model serves predict and eval), and says
    /// whether its optimizer state can continue the run: not when it holds any.
    #[test]
    fn format_2_loads_and_its_optimizer_state_is_marked() {
        let with_state = |optimizer: Vec<u8>| {
            let mut c = sample();
            c.optimizer = optimizer;
            let mut bytes = c.to_bytes();
            bytes[..MAGIC_2.len()].copy_from_slice(MAGIC_2);
            let body = bytes.len() - 8;
            let sum = fnv1a(&bytes[..body]);
            bytes[body..].copy_from_slice(&sum.to_le_bytes());
            Checkpoint::from_bytes(&bytes).unwrap()
        };
        let old = with_state(vec![7, 7]);
        assert!(old.stale_optimizer_state);
        assert_eq!(old.model, vec![1, 2, 3]);
        assert!(!with_state(vec![]).stale_optimizer_state);
        assert!(
            !Checkpoint::from_bytes(&sample().to_bytes())
                .unwrap()
                .stale_optimizer_state
        );
        let err = ResumeError::OlderOptimizerState {
            optimizer: old.meta.optimizer,
        };
        assert_eq!(
            err.to_string(),
            "the checkpoint was written by an earlier squiggle (checkpoint format 2), whose sgd with momentum 0.9 state this version cannot continue; its model still serves predict and eval (to train further, start the run again)"
        );
    }

    /// A real checkpoint of a short run, as bytes.
    fn trained() -> Vec<u8> {
        use crate::engine::observer::Observer;
        struct Keep(Option<Vec<u8>>);
        impl Observer for Keep {
            type Error = crate::engine::error::TrainError;
            fn epoch(
                &mut self,
                _: &crate::engine::report::EpochReport,
                state: &crate::engine::report::RunState<'_>,
            ) -> Result<crate::engine::observer::Flow, Self::Error> {
                self.0 = Some(state.checkpoint()?.to_bytes());
                Ok(crate::engine::observer::Flow::Continue)
            }
        }
        let arch = Architecture::statquest();
        let settings = crate::plan::Settings {
            epochs: Some(1),
            momentum: Some(0.9),
            ..crate::plan::Settings::default()
        };
        let plan = crate::plan::TrainPlan::new(&settings, &arch, vec![true; 7]).unwrap();
        let mut prepared = crate::data::Prepared::new(crate::fixtures::lesson_data(), None, &plan);
        let mut keep = Keep(None);
        let start = Start::Fresh(crate::fixtures::PT2.to_vec());
        crate::run::train(
            &arch,
            start,
            &mut prepared,
            &plan,
            &crate::fixtures::device(),
            &mut keep,
        )
        .unwrap();
        keep.0.unwrap()
    }

    /// Mutated checkpoints (half of them with a valid checksum, so the header and records
    /// are parsed) are read back or refused with a message, never a panic or an allocation
    /// beyond their size.
    #[test]
    fn fuzzed_checkpoints_give_an_answer() {
        let seed = trained();
        let budget = crate::fuzz::Budget::from_env(300);
        let mut k = 0;
        let ran = crate::fuzz::run(&[seed], budget, |input| {
            k += 1;
            let mut bytes = input.to_vec();
            if k % 2 == 0 && bytes.len() > 8 {
                let body = bytes.len() - 8;
                let sum = fnv1a(&bytes[..body]);
                bytes[body..].copy_from_slice(&sum.to_le_bytes());
            }
            if let Ok(c) = Checkpoint::from_bytes(&bytes) {
                let _ = c.network(&crate::fixtures::device());
            }
        });
        eprintln!("checkpoint: {ran} fuzzed files");
        assert!(ran >= 300);
    }

    #[test]
    fn bytes_round_trip() {
        let c = sample();
        assert_eq!(Checkpoint::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn the_header_is_typed_json() {
        let bytes = sample().to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        for field in [
            "\"activation\":\"softplus\"",
            "\"precision\":\"f32\"",
            "\"inputs\":[\"dosage\"]",
        ] {
            assert!(text.contains(field), "{text}");
        }
        assert!(
            !text.contains("\"params\""),
            "the weights live only in the model record"
        );
    }

    #[test]
    fn damage_is_detected() {
        let bytes = sample().to_bytes();
        let err = |b: &[u8]| Checkpoint::from_bytes(b).unwrap_err();
        assert_eq!(err(b"hello"), CheckpointError::NotACheckpoint);
        assert_eq!(err(&bytes[..bytes.len() - 3]), CheckpointError::Corrupt);
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 10] ^= 1;
        assert_eq!(
            err(&flipped).to_string(),
            "the checkpoint is corrupt (checksum mismatch)"
        );
    }
}
