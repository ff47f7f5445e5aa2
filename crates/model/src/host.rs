//! The forward pass in f64 on the host, keeping every intermediate value.
//!
//! Burn computes the real thing on a device; this copy exists so explanations and plots can
//! show the values the lesson names (x1,i, y1,i, …) and sample curves without a device. Tests
//! hold it equal to [`Network::forward`](crate::Network::forward).

use crate::{Architecture, TensorKind};

/// Every value of one row's forward pass.
#[derive(Clone, Debug, PartialEq)]
pub struct RowPass {
    /// `inputs[l]` is what layer `l` receives: `inputs[0]` is the data row, `inputs[l + 1]`
    /// the activations of hidden layer `l`.
    pub inputs: Vec<Vec<f64>>,
    /// `pre[l]` is layer `l`'s weighted sum plus bias, `z = a·W + b`, before the activation
    /// (for the lesson's hidden units: x1,i and x2,i). The last entry is the prediction.
    pub pre: Vec<Vec<f64>>,
}

impl RowPass {
    /// The network's outputs for this row.
    pub fn prediction(&self) -> &[f64] {
        self.pre.last().expect("a network has an output layer")
    }
}

impl Architecture {
    /// Runs one data row through the network with parameters `values` (flat order).
    pub fn forward_host(&self, values: &[f64], row: &[f64]) -> RowPass {
        let tensors = self.tensors();
        let layers = self.layer_sizes().len();
        let mut inputs = vec![row.to_vec()];
        let mut pre = Vec::with_capacity(layers);
        for pair in tensors.chunks(2) {
            let (w, b) = (&pair[0], &pair[1]);
            debug_assert!(w.kind == TensorKind::Weight && b.kind == TensorKind::Bias);
            let (fan_in, fan_out) = (w.shape[0], w.shape[1]);
            let a = inputs.last().expect("inputs start with the data row");
            let z: Vec<f64> = (0..fan_out)
                .map(|k| {
                    let weighted: f64 = (0..fan_in)
                        .map(|j| a[j] * values[w.offset + j * fan_out + k])
                        .sum();
                    weighted + values[b.offset + k]
                })
                .collect();
            if w.layer < layers - 1 {
                inputs.push(z.iter().map(|&v| self.activation.apply_scalar(v)).collect());
            }
            pre.push(z);
        }
        RowPass { inputs, pre }
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use crate::{Activation, Architecture, Network, Precision, standard_normal_values};

    #[test]
    fn host_forward_matches_burn() {
        let arch = Architecture::new(2, vec![3, 2], 2, Activation::Softplus).unwrap();
        let values = standard_normal_values(&arch, 11);
        let rows = [[0.5, -1.0], [2.0, 0.25]];
        let device = Device::flex();
        let net = Network::from_values(&arch, &values, &device, Precision::F64);
        let x = Tensor::<2>::from_data(
            TensorData::new(rows.concat(), [2, 2]),
            (&device, Precision::F64.dtype()),
        );
        let burn: Vec<f64> = net.forward(x).try_into_vec_as().unwrap();
        let host: Vec<f64> = rows
            .iter()
            .flat_map(|r| arch.forward_host(&values, r).prediction().to_vec())
            .collect();
        for (b, h) in burn.iter().zip(&host) {
            assert!((b - h).abs() < 1e-12, "{burn:?} vs {host:?}");
        }
    }
}
