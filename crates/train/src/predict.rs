//! Predictions for new rows, in the data's original units, a chunk at a time.

use burn::prelude::*;
use squiggle_model::{Architecture, Network, Precision};

use crate::{Dataset, Scaling};

/// Rows per forward pass: large enough to keep the device busy, small enough that the
/// activations of ten million rows never exist at once.
pub const PREDICT_CHUNK: usize = 1 << 16;

/// Runs the network with `params` over every row of `inputs`, in order, and hands `sink`
/// each chunk's predictions (row-major) with the index of the chunk's first row.
///
/// `inputs` are given as the network saw them in training (already standardised with
/// [`Scaling::apply`] when `scaling` is set, so the very same f32 arithmetic is used); the
/// predictions come back in original units.
///
/// # Errors
/// Whatever `sink` returns.
pub fn predict<E>(
    arch: &Architecture,
    params: &[f64],
    inputs: &Dataset,
    scaling: Option<&Scaling>,
    device: &Device,
    precision: Precision,
    mut sink: impl FnMut(usize, &[f64]) -> Result<(), E>,
) -> Result<(), E> {
    let net = Network::from_values(arch, params, device, precision);
    let mut rows: Vec<u32> = Vec::with_capacity(PREDICT_CHUNK);
    for start in (0..inputs.len()).step_by(PREDICT_CHUNK) {
        let end = (start + PREDICT_CHUNK).min(inputs.len());
        rows.clear();
        rows.extend(start as u32..end as u32);
        let mut predicted = forward_rows(&net, inputs, &rows, device, precision);
        if let Some(s) = scaling {
            s.unscale_targets(&mut predicted);
        }
        sink(start, &predicted)?;
    }
    Ok(())
}

/// The predictions of `net` for the rows `rows` of `data` (row-major, in the units the network
/// works in): one forward pass, read back to the host. Callers keep `rows` to at most
/// [`PREDICT_CHUNK`] so activations stay small.
pub(crate) fn forward_rows(
    net: &Network,
    data: &Dataset,
    rows: &[u32],
    device: &Device,
    precision: Precision,
) -> Vec<f64> {
    net.forward(data.gather_inputs(rows, device, precision))
        .try_into_vec_as::<f64>()
        .expect("reading predictions back from the device should succeed")
}
