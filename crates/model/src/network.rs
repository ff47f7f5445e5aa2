//! The network as a Burn module.

use burn::module::Param;
use burn::prelude::*;

use crate::fused::forward_layers;
use crate::{Activation, Architecture, Precision, ReadBack, TensorKind};

/// One fully connected layer: `y = activation(x·W + b)`.
#[derive(Module, Debug)]
pub struct Layer {
    /// Weights, shape `[fan_in, fan_out]` (Burn's row layout, not PyTorch's `[out, in]`).
    pub weight: Param<Tensor<2>>,
    /// Biases, shape `[fan_out]`.
    pub bias: Param<Tensor<1>>,
}

/// A fully connected network: hidden layers with an activation, then a linear output layer.
///
/// For the lesson's 1-[2]-1 shape this computes
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

    /// The prediction for each row of `x`.
    ///
    /// # Shapes
    /// - `x`: `[batch, inputs]`
    /// - output: `[batch, outputs]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        // The one network operation training runs, on these layers' values.
        let layers = self
            .layers()
            .map(|layer| {
                let [fan_in, fan_out] = layer.weight.dims();
                (fan_in, fan_out)
            })
            .collect();
        forward_layers(x, self.flat(), layers, self.activation)
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

    /// The flat view and the whole-network operation are the layers themselves: the same
    /// values, and the predictions and (through autodiff) gradients, in flat order, of the
    /// layers built from Burn's own operations.
    #[test]
    fn the_flat_network_is_the_layered_one() {
        let arch = Architecture::new(2, vec![3, 2], 2, Activation::Softplus).unwrap();
        let values: Vec<f64> = (0..arch.num_params())
            .map(|i| ((i * 7) % 11) as f64 * 0.2 - 1.0)
            .collect();
        let ad = device().autodiff();
        let options = (&ad, Precision::F64.dtype());
        let rows = TensorData::new(vec![0.5, -1.0, 2.0, 0.25, -0.75, 1.5], [3, 2]);
        let target = TensorData::new(vec![1.0, 0.0, -0.5, 2.0, 0.3, 0.1], [3, 2]);
        let x = Tensor::<2>::from_data(rows, options);
        let y = Tensor::<2>::from_data(target, options);
        let net = Network::from_values(&arch, &values, &ad, Precision::F64);
        assert_eq!(read(net.flat(), "flat").unwrap(), values);
        let theta =
            Tensor::<1>::from_data(TensorData::new(values.clone(), [values.len()]), options)
                .require_grad();
        assert_eq!(
            Network::from_flat(&arch, theta.clone()).values().unwrap(),
            values
        );
        // The reference: each layer from Burn's own operations (matmul, bias, activation).
        let last = arch.hidden.len();
        let layered = net.layers().enumerate().fold(x.clone(), |h, (i, layer)| {
            let z = h.matmul(layer.weight.val()) + layer.bias.val().unsqueeze::<2>();
            if i == last {
                z
            } else {
                arch.activation.apply(z)
            }
        });
        let flat = crate::network_forward(x.clone(), theta.clone(), &arch);
        assert_eq!(
            read(net.forward(x), "forward").unwrap(),
            read(flat.clone(), "flat").unwrap(),
            "the module's forward pass is the network operation"
        );
        let (a, b) = (
            read(layered.clone(), "layered").unwrap(),
            read(flat.clone(), "flat").unwrap(),
        );
        assert!(
            a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-12),
            "{a:?} {b:?}"
        );
        let loss = |p: Tensor<2>| (p - y.clone()).powi_scalar(2).sum();
        let layered_grads = loss(layered).backward();
        let flat_grads = loss(flat).backward();
        let mut want = Vec::new();
        for layer in net.layers() {
            want.extend(read(layer.weight.grad(&layered_grads).unwrap(), "dw").unwrap());
            want.extend(read(layer.bias.grad(&layered_grads).unwrap(), "db").unwrap());
        }
        let got = read(theta.grad(&flat_grads).unwrap(), "dtheta").unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
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
