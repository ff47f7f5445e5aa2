//! Optimizer state in checkpoints: one layout, whichever kernels trained.
//!
//! Burn keys an optimizer's state by parameter id, tensor by tensor: the fused kernels train one
//! vector (id [`THETA`]), Burn's kernels a tensor per weight matrix and bias vector. Since
//! optimizers such as momentum and Adam work element by element, the state of the layers laid
//! end to end in flat order *is* the state of the vector. Checkpoints store it in the vector's
//! layout (the one they always had), so a run trained with one kernels resumes with the other
//! and older checkpoints still load; Burn's kernels convert on the way out ([`join`]) and in
//! ([`split`]).
//!
//! The conversion knows nothing of a particular optimizer: a state is a set of named tensors
//! (`"{id}.{field}"`, each the shape of its parameter) and scalars (`"{id}.{field}"`, such as
//! Adam's step count), which is how Burn's optimizer records are written.

use std::collections::BTreeMap;

use burn::tensor::{Bytes, DType};
use burn_pack::{Reader, Scalar, Writer};

use crate::engine::params::{Piece, THETA};

/// The scalar Burn writes for each parameter's rank.
const RANK: &str = "__rank";

/// What makes a record impossible to convert.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordLayoutError {
    /// Burn's burnpack format could not be read or written.
    #[error(transparent)]
    Pack(#[from] burn_pack::Error),
    /// The record holds state for a parameter the network does not have, or of the wrong size.
    #[error("optimizer state `{name}` does not fit the network's parameters")]
    Mismatch {
        /// The state tensor's name in the record.
        name: String,
    },
}

/// `name` as `(parameter id, field)`.
fn split_name(name: &str) -> Option<(u64, &str)> {
    let (id, field) = name.split_once('.')?;
    Some((id.parse().ok()?, field))
}

/// A record keyed by the tensors `pieces` (flat order) as one keyed by the vector [`THETA`]:
/// each field's tensors laid end to end (zeros for a tensor without state), each scalar from
/// the first tensor that has it.
///
/// # Errors
/// A record Burn cannot read, or one whose state does not fit `pieces`.
pub(crate) fn join(bytes: Bytes, pieces: &[Piece]) -> Result<Vec<u8>, RecordLayoutError> {
    let reader = Reader::from_bytes(bytes)?;
    let scalars = reader.scalars().clone();
    let total = pieces.last().map_or(0, |p| p.range.end);
    let slot = |id: u64| pieces.iter().position(|p| p.id == id);
    // Field → (element type, each piece's bytes).
    let mut fields: BTreeMap<String, (DType, Vec<Option<Bytes>>)> = BTreeMap::new();
    for tensor in reader.into_tensors()? {
        let (name, dtype, shape, _, data) = tensor.into_parts()?;
        let mismatch = || RecordLayoutError::Mismatch { name: name.clone() };
        let (id, field) = split_name(&name).ok_or_else(mismatch)?;
        let k = slot(id).ok_or_else(mismatch)?;
        let len = pieces[k].range.len();
        if shape.num_elements() != len || data.len() != len * dtype.size() {
            return Err(mismatch());
        }
        let entry = fields
            .entry(field.to_string())
            .or_insert_with(|| (dtype, vec![None; pieces.len()]));
        if entry.0 != dtype {
            return Err(mismatch());
        }
        entry.1[k] = Some(data);
    }
    let tensors = fields
        .into_iter()
        .map(|(field, (dtype, parts))| {
            let mut joined = Vec::with_capacity(total * dtype.size());
            for (piece, part) in pieces.iter().zip(parts) {
                match part {
                    Some(data) => joined.extend_from_slice(&data),
                    None => joined.resize(joined.len() + piece.range.len() * dtype.size(), 0),
                }
            }
            burn_pack::Tensor::new(
                format!("{THETA}.{field}"),
                dtype,
                [total],
                Some(THETA),
                Bytes::from_bytes_vec(joined),
            )
        })
        .collect();
    let mut writer = Writer::new(tensors);
    let mut taken: BTreeMap<&str, (usize, Scalar)> = BTreeMap::new();
    for (name, &value) in &scalars {
        let mismatch = || RecordLayoutError::Mismatch { name: name.clone() };
        let (id, field) = split_name(name).ok_or_else(mismatch)?;
        let k = slot(id).ok_or_else(mismatch)?;
        if taken.get(field).is_none_or(|&(first, _)| k < first) {
            taken.insert(field, (k, value));
        }
    }
    for (field, (_, value)) in taken {
        let value = if field == RANK {
            Scalar::from(1usize)
        } else {
            value
        };
        writer = writer.with_scalar(&format!("{THETA}.{field}"), value);
    }
    Ok(writer.into_bytes()?.to_vec())
}

/// A record keyed by the vector [`THETA`] as one keyed by the tensors `pieces`: each field cut
/// into the tensors' shapes, each scalar given to every tensor.
///
/// # Errors
/// A record Burn cannot read, or one whose state does not fit `pieces`.
pub(crate) fn split(bytes: Vec<u8>, pieces: &[Piece]) -> Result<Bytes, RecordLayoutError> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes))?;
    let scalars = reader.scalars().clone();
    let total = pieces.last().map_or(0, |p| p.range.end);
    let mut tensors = Vec::new();
    for tensor in reader.into_tensors()? {
        let (name, dtype, shape, _, data) = tensor.into_parts()?;
        let field = match split_name(&name) {
            Some((THETA, field)) if shape.num_elements() == total => field,
            _ => return Err(RecordLayoutError::Mismatch { name: name.clone() }),
        };
        if data.len() != total * dtype.size() {
            return Err(RecordLayoutError::Mismatch { name: name.clone() });
        }
        for piece in pieces {
            let bytes = &data[piece.range.start * dtype.size()..piece.range.end * dtype.size()];
            tensors.push(burn_pack::Tensor::new(
                format!("{}.{field}", piece.id),
                dtype,
                piece.shape.clone(),
                Some(piece.id),
                Bytes::from_bytes_vec(bytes.to_vec()),
            ));
        }
    }
    let mut writer = Writer::new(tensors);
    for (name, &value) in &scalars {
        let field = match split_name(name) {
            Some((THETA, field)) => field,
            _ => {
                return Err(RecordLayoutError::Mismatch {
                    name: name.to_string(),
                });
            }
        };
        for piece in pieces {
            let value = if field == RANK {
                Scalar::from(piece.shape.len())
            } else {
                value
            };
            writer = writer.with_scalar(&format!("{}.{field}", piece.id), value);
        }
    }
    Ok(writer.into_bytes()?)
}
