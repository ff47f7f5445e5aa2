//! Checkpoints: everything a run needs to continue exactly where it stopped, in one file.
//!
//! The model and the optimizer state are Burn's own burnpack records (which keep the
//! parameter ids the optimizer's momentum is keyed by); the progress counters, the
//! standardisation statistics and the caller's description of the run travel beside them as
//! JSON. One file, not three, so that writing it atomically (temp file, then rename) swaps
//! the whole state at once, and a checksum so a damaged file is refused instead of resumed.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::Scaling;

const MAGIC: &[u8] = b"SQUIGGLE-CHECKPOINT 1\n";

/// A checkpoint that cannot be read back.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{0}")]
pub struct CheckpointError(String);

/// Where a run stands after some whole epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs completed.
    pub epoch: usize,
    /// The lowest early-stopping loss seen so far (validation loss, or the training loss when
    /// there is no validation data), and the epoch (1-based) that reached it.
    pub best: Option<(f64, usize)>,
    /// Epochs since the best one.
    pub since_best: usize,
}

/// A run's complete state after a whole epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Epoch counters and the early-stopping state.
    pub progress: Progress,
    /// Every parameter, flat order (the values the model record holds).
    pub params: Vec<f64>,
    /// The standardisation the network was trained with, if any.
    pub scaling: Option<Scaling>,
    /// The caller's description of the run (shape, columns, precision): opaque here.
    pub meta: serde_json::Value,
    /// The model as a burnpack record.
    pub(crate) model: Vec<u8>,
    /// The optimizer state as a burnpack record.
    pub(crate) optimizer: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    progress: Progress,
    params: Vec<f64>,
    scaling: Option<Scaling>,
    meta: serde_json::Value,
}

impl Checkpoint {
    /// The file's bytes: magic line, three length-prefixed sections, FNV-1a checksum.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&Header {
            progress: self.progress.clone(),
            params: self.params.clone(),
            scaling: self.scaling.clone(),
            meta: self.meta.clone(),
        })
        .expect("a checkpoint header is plain JSON");
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
    /// A [`CheckpointError`] saying what is wrong: not a checkpoint, truncated, or corrupt.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let fail = |what: &str| Err(CheckpointError(what.to_string()));
        if !bytes.starts_with(MAGIC) {
            return fail("not a squiggle checkpoint");
        }
        if bytes.len() < MAGIC.len() + 8 {
            return fail("the checkpoint is truncated");
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return fail("the checkpoint is corrupt (checksum mismatch)");
        }
        let mut rest = &body[MAGIC.len()..];
        let mut sections = Vec::new();
        for _ in 0..3 {
            let Some((len, tail)) = rest.split_first_chunk::<8>() else {
                return fail("the checkpoint is truncated");
            };
            let len = u64::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return fail("the checkpoint is truncated");
            }
            sections.push(&tail[..len]);
            rest = &tail[len..];
        }
        let header: Header = serde_json::from_slice(sections[0])
            .map_err(|e| CheckpointError(format!("the checkpoint header is unreadable: {e}")))?;
        Ok(Self {
            progress: header.progress,
            params: header.params,
            scaling: header.scaling,
            meta: header.meta,
            model: sections[1].to_vec(),
            optimizer: sections[2].to_vec(),
        })
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
            progress: Progress {
                epoch: 3,
                best: Some((0.25, 2)),
                since_best: 1,
            },
            params: vec![1.5, -2.0],
            scaling: None,
            meta: serde_json::json!({"hidden": [2]}),
            model: vec![1, 2, 3],
            optimizer: vec![],
        }
    }

    #[test]
    fn bytes_round_trip() {
        let c = sample();
        assert_eq!(Checkpoint::from_bytes(&c.to_bytes()).unwrap(), c);
    }

    #[test]
    fn damage_is_detected() {
        let bytes = sample().to_bytes();
        let err = |b: &[u8]| Checkpoint::from_bytes(b).unwrap_err().to_string();
        assert_eq!(err(b"hello"), "not a squiggle checkpoint");
        assert_eq!(
            err(&bytes[..bytes.len() - 3]),
            "the checkpoint is corrupt (checksum mismatch)"
        );
        let mut flipped = bytes.clone();
        flipped[MAGIC.len() + 10] ^= 1;
        assert_eq!(
            err(&flipped),
            "the checkpoint is corrupt (checksum mismatch)"
        );
    }
}
