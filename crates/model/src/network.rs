//! The network as a Burn module: its forward pass is Burn's tensor operations and activation
//! functions, so Burn's autodiff differentiates it operation by operation. This is squiggle's
//! reference network; the fused kernels (crate `squiggle-fused`) are checked against it.

use burn::module::Param;
use burn::prelude::*;

use crate::{Activation, Architecture, Precision, ReadBack, TensorKind};

/// One fully connected layer: `y = activation(x·W + b)`.
#[derive(Module, Debug)]
pub struct Layer {
    /// Weights, shape `[fan_in, fan_out]` (Burn's row layout, not PyTorch's `[out, in]`).
    pub weight: Param<Tensor<2>>,
    /// Biases, shape `[fan_out]`.
    pub bias: Param<Tensor<1>>,
}

impl Layer {
    /// `x·W + b`, the weighted sum plus bias of every unit, before any activation.
    ///
    /// # Shapes
    /// - `x`: `[rows, fan_in]`
    /// - output: `[rows, fan_out]`
    pub fn affine(&self, x: Tensor<2>) -> Tensor<2> {
        let [fan_in, _] = self.weight.dims();
        let weighted = if fan_in == 1 {
            // One input column: x·W is the outer product of the column and W's one row, which
            // Burn's broadcasting multiply computes (and differentiates) about ten times faster
            // than a matmul with an inner dimension of 1 on its CPU backends.
            x * self.weight.val()
        } else {
            x.matmul(self.weight.val())
        };
        weighted + self.bias.val().unsqueeze::<2>()
    }
}

/// A fully connected network: hidden layers with an activation, then a linear output layer.
///
/// For the lesson's `1-[2]-1` shape this computes
/// `prediction(x) = w3·softplus(w1·x + b1) + w4·softplus(w2·x + b2) + b3`.
///
/// Parameter paths are `hidden.{i}.weight`, `hidden.{i}.bias`, `output.weight` and
/// `output.bias`; [`ParamNames`](crate::ParamNames) maps the lesson's names onto them.
#[derive(Module, Debug)]
pub struct Network {
    /// Hidden layers, in order from the input.
    pub hidden: Vec<Layer>,
    /// The output layer (no activation).
    pub output: Layer,
    /// Activation applied after every hidden layer.
    #[module(skip)]
    pub activation: Activation,
}

impl Network {
    /// Builds a network from a flat parameter vector (layer by layer, weight before bias,
    /// row-major; see [`Architecture::tensors`]).
    ///
    /// Values are given in f64 and stored at `precision` on `device`.
    ///
    /// # Panics
    /// If `values.len()` differs from [`Architecture::num_params`]: callers build the vector
    /// from the same architecture.
    pub fn from_values(
        arch: &Architecture,
        values: &[f64],
        device: &Device,
        precision: Precision,
    ) -> Self {
        assert_eq!(
            values.len(),
            arch.num_params(),
            "the parameter vector should match the architecture"
        );
        let options = (device, precision.dtype());
        let mut layers: Vec<Layer> = Vec::new();
        let mut weight = None;
        for spec in arch.tensors() {
            let data = values[spec.range()].to_vec();
            match spec.kind {
                TensorKind::Weight => {
                    let tensor = Tensor::<2>::from_data(TensorData::new(data, spec.shape), options);
                    weight = Some(Param::from_tensor(tensor));
                }
                TensorKind::Bias => {
                    let tensor = Tensor::<1>::from_data(TensorData::new(data, spec.shape), options);
                    layers.push(Layer {
                        weight: weight.take().expect("a weight tensor precedes its bias"),
                        bias: Param::from_tensor(tensor),
                    });
                }
            }
        }
        let output = layers.pop().expect("a network has an output layer");
        Self {
            hidden: layers,
            output,
            activation: arch.activation,
        }
    }

    /// A network whose parameters are the pieces of `theta`, every parameter in flat order
    /// (the layout of [`Network::from_values`]), on `theta`'s device: the per-layer view of a
    /// flat parameter vector, without a copy through the host. Its parameters are leaves of
    /// their own (`theta` is detached): gradients flow to them, not back to `theta`.
    ///
    /// # Panics
    /// If `theta` does not hold [`Architecture::num_params`] values.
    pub fn from_flat(arch: &Architecture, theta: Tensor<1>) -> Self {
        assert_eq!(
            theta.dims()[0],
            arch.num_params(),
            "the parameter vector should match the architecture"
        );
        let theta = theta.detach().set_require_grad(false);
        let mut layers = Vec::new();
        let mut at = 0;
        for (fan_in, fan_out) in arch.layer_sizes() {
            let weight = theta
                .clone()
                .slice(at..at + fan_in * fan_out)
                .reshape([fan_in, fan_out]);
            at += fan_in * fan_out;
            let bias = theta.clone().slice(at..at + fan_out);
            at += fan_out;
            layers.push(Layer {
                weight: Param::from_tensor(weight),
                bias: Param::from_tensor(bias),
            });
        }
        let output = layers.pop().expect("a network has an output layer");
        Self {
            hidden: layers,
            output,
            activation: arch.activation,
        }
    }

    /// Every parameter in flat order as one tensor on the network's device (the inverse of
    /// [`Network::from_flat`]).
    pub fn flat(&self) -> Tensor<1> {
        let pieces: Vec<Tensor<1>> = self
            .layers()
            .flat_map(|layer| {
                let weight = layer.weight.val();
                let len = weight.shape().num_elements();
                [weight.reshape([len]), layer.bias.val()]
            })
            .collect();
        Tensor::cat(pieces, 0)
    }

    /// Every layer, hidden layers first, the output layer last.
    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.hidden.iter().chain(std::iter::once(&self.output))
    }

    /// Every layer, mutably, in the order of [`Network::layers`].
    pub fn layers_mut(&mut self) -> impl Iterator<Item = &mut Layer> {
        self.hidden
            .iter_mut()
            .chain(std::iter::once(&mut self.output))
    }

    /// Reads every parameter back into a flat f64 vector (the order of
    /// [`Network::from_values`]). Synchronises with the device.
    ///
    /// # Errors
    /// [`ReadBack`] when the device cannot hand the values back.
    pub fn values(&self) -> Result<Vec<f64>, ReadBack> {
        let mut out = Vec::new();
        for layer in self.layers() {
            out.extend(read(layer.weight.val(), "the parameters")?);
            out.extend(read(layer.bias.val(), "the parameters")?);
        }
        Ok(out)
    }

    /// `(fan_in, fan_out)` of each layer, input to output.
    pub fn layer_sizes(&self) -> Vec<(usize, usize)> {
        self.layers()
            .map(|layer| {
                let [fan_in, fan_out] = layer.weight.dims();
                (fan_in, fan_out)
            })
            .collect()
    }

    /// The prediction for each row of `x`: every hidden layer's weighted sum plus bias through
    /// the activation (Burn's own function), then the output layer's, in Burn's tensor
    /// operations. On an autodiff device Burn's autodiff differentiates every one of them.
    ///
    /// # Shapes
    /// - `x`: `[batch, inputs]`
    /// - output: `[batch, outputs]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let hidden = self
            .hidden
            .iter()
            .fold(x, |h, layer| self.activation.apply(layer.affine(h)));
        self.output.affine(hidden)
    }
}

/// Reads a tensor of any rank into host memory as f64; `what` names it in the error.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand the values back.
pub fn read<const D: usize>(tensor: Tensor<D>, what: &'static str) -> Result<Vec<f64>, ReadBack> {
    tensor.try_into_vec_as::<f64>().map_err(|e| ReadBack {
        what,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Device {
        Device::flex()
    }

    /// "Neural Networks Pt. 1: Inside the Black Box" (shared/statquest.md): the fitted
    /// network's predictions at dosage 0, 0.5 and 1 are -0.0110, 1.0348 and 0.0046.
    #[test]
    fn pt1_black_box_predictions_match_the_lesson() {
        let values = crate::lesson::PT1;
        let arch = Architecture::statquest();
        for precision in [Precision::F32, Precision::F64] {
            let net = Network::from_values(&arch, &values, &device(), precision);
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![0.0, 0.5, 1.0], [3, 1]),
                (&device(), precision.dtype()),
            );
            let got = read(net.forward(x), "predictions").unwrap();
            for (g, want) in got.iter().zip([-0.0110, 1.0348, 0.0046]) {
                assert!((g - want).abs() < 5e-5, "{got:?}");
            }
        }
    }

    #[test]
    fn values_round_trip_through_the_module() {
        let arch = Architecture::new(3, vec![4, 2], 2, Activation::Tanh).unwrap();
        let values: Vec<f64> = (0..arch.num_params())
            .map(|i| i as f64 * 0.25 - 3.0)
            .collect();
        let net = Network::from_values(&arch, &values, &device(), Precision::F64);
        assert_eq!(net.values().unwrap(), values);
        assert_eq!(net.hidden.len(), 2);
        assert_eq!(net.output.weight.dims(), [2, 2]);
    }

    /// The flat view is the layers' values, in flat order, both ways.
    #[test]
    fn the_flat_view_is_the_layers() {
        let arch = Architecture::new(2, vec![3, 2], 2, Activation::Softplus).unwrap();
        let values: Vec<f64> = (0..arch.num_params())
            .map(|i| ((i * 7) % 11) as f64 * 0.2 - 1.0)
            .collect();
        let net = Network::from_values(&arch, &values, &device(), Precision::F64);
        assert_eq!(read(net.flat(), "flat").unwrap(), values);
        let theta = Tensor::<1>::from_data(
            TensorData::new(values.clone(), [values.len()]),
            (&device(), Precision::F64.dtype()),
        );
        assert_eq!(Network::from_flat(&arch, theta).values().unwrap(), values);
        assert_eq!(net.layer_sizes(), arch.layer_sizes());
    }

    /// Burn's autodiff of the module, checked against the chain rule done by hand for one
    /// row of a `1-[1]-1` network: every operation of the forward pass is one Burn knows how to
    /// differentiate, the one-input broadcast included.
    #[test]
    fn autodiff_of_the_module_is_the_chain_rule() {
        let arch = Architecture::new(1, vec![1], 1, Activation::Tanh).unwrap();
        // w1, b1, w2, b2
        let values = [0.7, -0.2, 1.5, 0.3];
        let ad = device().autodiff();
        let net = Network::from_values(&arch, &values, &ad, Precision::F64);
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![0.8], [1, 1]),
            (&ad, Precision::F64.dtype()),
        );
        let loss = net.forward(x).powi_scalar(2).sum();
        let grads = loss.backward();
        let z = 0.7 * 0.8 - 0.2;
        let (h, slope) = (f64::tanh(z), 1.0 - f64::tanh(z).powi(2));
        let prediction = 1.5 * h + 0.3;
        let d = 2.0 * prediction;
        let want = [d * 1.5 * slope * 0.8, d * 1.5 * slope, d * h, d];
        let got: Vec<f64> = net
            .layers()
            .flat_map(|l| {
                let w = read(l.weight.grad(&grads).unwrap(), "dw").unwrap();
                let b = read(l.bias.grad(&grads).unwrap(), "db").unwrap();
                w.into_iter().chain(b)
            })
            .collect();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn matmul_and_broadcast_layers_agree_with_hand_arithmetic() {
        // 2 inputs, no hidden layer: y = 2·x0 − 1·x1 + 0.5
        let arch = Architecture::new(2, vec![], 1, Activation::Identity).unwrap();
        let net = Network::from_values(&arch, &[2.0, -1.0, 0.5], &device(), Precision::F64);
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0, 1.0, 3.0, -2.0], [2, 2]),
            (&device(), Precision::F64.dtype()),
        );
        assert_eq!(read(net.forward(x), "predictions").unwrap(), [1.5, 8.5]);
    }
}
