//! A trained network for other tools: safetensors in PyTorch's layout, or plain JSON.
//!
//! Checkpoints are burnpack records only squiggle reads; an export is what another program
//! needs to reproduce `squiggle predict` without squiggle: the weights of every layer as a
//! PyTorch `nn.Linear` holds them (`[out, in]`), keyed as the layers of an `nn.Sequential`
//! that puts an activation module between them (`0.weight`, `0.bias`, `2.weight`, …), and one
//! JSON description ([`ExportMeta`]) of the activation, the columns and how each was scaled.
//!
//! The safetensors file is written by Burn's own store (burn-store's safetensors writer and
//! its Burn-to-PyTorch adapter, which transposes `Linear` weights), not by a hand-written
//! encoder: the layers are handed to it as Burn `Linear` modules.

use burn::module::Module;
use burn::nn::Linear;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};
use squiggle_model::{Named, Network, Precision, ReadBack};
use thiserror::Error;

use crate::data::{ColumnScale, Scaling};
use crate::engine::checkpoint::NetworkMeta;
use crate::foreign::Foreign;

/// The metadata key of a safetensors export that holds the [`ExportMeta`] JSON.
pub const META_KEY: &str = "squiggle";

/// An export that could not be made.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum ExportError {
    /// The device could not hand the weights back.
    #[error(transparent)]
    ReadBack(#[from] ReadBack),
    /// Burn's safetensors store refused the network.
    #[error("the safetensors writer failed")]
    Safetensors {
        /// burn-store's error.
        #[source]
        cause: Foreign,
    },
}

/// One column the network reads or predicts, and how squiggle scaled it: the network sees
/// `(value - mean) / std` and its outputs are `output * std + mean` in the column's units.
/// A run that did not scale a column says mean 0 and std 1; `rescale = true` (min-max)
/// says mean = the minimum and std = the range, the same formula.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportColumn {
    /// The column's name (`dosage`; `colour=blue` for one category of a categorical input,
    /// which is 1 for rows of that category and 0 otherwise).
    pub name: String,
    /// Subtracted before the network (inputs) or added after it (targets).
    pub mean: f64,
    /// Divided by before the network (inputs) or multiplied by after it (targets).
    pub std: f64,
}

/// What an export says besides the weights (the safetensors metadata key [`META_KEY`], or
/// the `squiggle` member of a JSON export).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportMeta {
    /// The activation between layers (`softplus`, `relu`, `sigmoid`, `tanh`, `identity`).
    pub activation: String,
    /// The input columns in the order the network reads them.
    pub inputs: Vec<ExportColumn>,
    /// The outputs in order: the target columns, or a classifier's classes (unscaled: the
    /// outputs are logits, whose SoftMax gives each class's probability).
    pub targets: Vec<ExportColumn>,
    /// A classifier's class names in output order; `null` for a regression.
    pub classes: Option<Vec<String>>,
}

impl ExportMeta {
    /// The description of a run's network trained with `scaling`.
    pub fn new(network: &NetworkMeta, scaling: Option<&Scaling>) -> Self {
        let columns = |names: &[String], scales: Option<&Vec<ColumnScale>>| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let scale = scales.and_then(|s| s.get(i));
                    ExportColumn {
                        name: name.clone(),
                        mean: scale.map_or(0.0, |s| s.mean),
                        std: scale.map_or(1.0, |s| s.std),
                    }
                })
                .collect()
        };
        Self {
            activation: network.activation.name().to_string(),
            inputs: columns(&network.inputs, scaling.map(|s| &s.inputs)),
            targets: columns(&network.targets, scaling.map(|s| &s.targets)),
            classes: network.classes.as_ref().map(|c| c.names.clone()),
        }
    }
}

/// One layer in PyTorch's layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportLayer {
    /// `[out][in]`: row `j` holds the weights into unit `j` (PyTorch's `nn.Linear.weight`).
    pub weight: Vec<Vec<f64>>,
    /// One per unit.
    pub bias: Vec<f64>,
}

/// The plain JSON export: the description and every layer, input to output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportJson {
    /// The columns, their scaling and the activation.
    pub squiggle: ExportMeta,
    /// The layers; an activation follows every one but the last.
    pub layers: Vec<ExportLayer>,
}

/// The layers as Burn `Linear` modules in a `Vec`, which Burn's store names
/// `layers.{i}.weight`/`layers.{i}.bias` and its PyTorch adapter transposes.
#[derive(Module, Debug)]
struct Sequential {
    layers: Vec<Linear>,
}

/// `net` as a safetensors file: Burn's store writes it in memory (PyTorch layout, the
/// keys of an `nn.Sequential` whose odd places hold the activation modules: `0.weight`, `0.bias`, `2.weight`, …, [`META_KEY`] in the metadata), at the
/// precision the network holds (f32, or f64 for a run at f64).
///
/// # Errors
/// [`ExportError::Safetensors`] when Burn's store refuses the network.
pub fn safetensors(net: &Network, meta: &ExportMeta) -> Result<Vec<u8>, ExportError> {
    let layers: Vec<Linear> = net
        .layers()
        .map(|layer| Linear {
            weight: layer.weight.clone(),
            bias: Some(layer.bias.clone()),
        })
        .collect();
    let count = layers.len();
    let sequential = Sequential { layers };
    let meta = serde_json::to_string(meta).expect("the export's description is plain JSON");
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata(META_KEY, meta);
    for index in 0..count {
        store = store.with_key_remapping(format!(r"^layers\.{index}\."), format!("{}.", 2 * index));
    }
    let failed = |e: burn::store::SafetensorsStoreError| ExportError::Safetensors {
        cause: Foreign::new(e),
    };
    sequential.save_into(&mut store).map_err(failed)?;
    store.get_bytes().map_err(failed)
}

/// `net` as plain JSON ([`ExportJson`]): the weights in PyTorch's layout, numbers written
/// as short as they read back at the network's precision (`0.1`, not `0.10000000149`).
///
/// # Errors
/// [`ExportError::ReadBack`] when the device cannot hand the weights back.
pub fn json(net: &Network, meta: &ExportMeta, precision: Precision) -> Result<String, ExportError> {
    let values = net.values()?;
    let round = |v: f64| match precision {
        // The shortest decimal that reads back as the same f32, as an f64.
        Precision::F32 => (v as f32).to_string().parse().unwrap_or(v),
        Precision::F64 => v,
    };
    let mut at = 0;
    let mut layers = Vec::new();
    for (fan_in, fan_out) in net.layer_sizes() {
        let weights = &values[at..at + fan_in * fan_out];
        let weight = (0..fan_out)
            .map(|j| {
                (0..fan_in)
                    .map(|i| round(weights[i * fan_out + j]))
                    .collect()
            })
            .collect();
        at += fan_in * fan_out;
        let bias = values[at..at + fan_out].iter().map(|&v| round(v)).collect();
        at += fan_out;
        layers.push(ExportLayer { weight, bias });
    }
    let export = ExportJson {
        squiggle: meta.clone(),
        layers,
    };
    Ok(serde_json::to_string_pretty(&export).expect("an export is plain JSON") + "\n")
}
