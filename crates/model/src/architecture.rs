//! The shape of a network: how many inputs, hidden units and outputs, and which activation.

use crate::{Activation, ModelError};

/// Whether a parameter tensor multiplies its inputs or is added to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// A weight matrix of shape `[fan_in, fan_out]` (Burn's row layout: `y = x·W + b`).
    Weight,
    /// A bias vector of shape `[fan_out]`.
    Bias,
}

/// One parameter tensor of a network, as it is laid out in the flat parameter vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// The Burn module path, e.g. `hidden.0.weight` or `output.bias`.
    pub path: String,
    /// Its shape: `[fan_in, fan_out]` for weights, `[fan_out]` for biases.
    pub shape: Vec<usize>,
    /// Weight or bias.
    pub kind: TensorKind,
    /// Index of its first element in the flat parameter vector.
    pub offset: usize,
    /// Which layer it belongs to: `0..hidden.len()` for hidden layers, `hidden.len()` for the
    /// output layer.
    pub layer: usize,
}

impl TensorSpec {
    /// Number of scalars in the tensor.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Returns true if and only if the tensor holds no scalars (never, for a valid network).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The flat indices this tensor occupies.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// The shape of a fully connected network: `inputs → hidden[0] → … → outputs`.
///
/// Every hidden layer applies [`Activation`]; the output layer is linear, as in the lessons
/// (the green squiggle is a weighted sum plus a bias). `hidden = []` is linear regression.
///
/// Parameters are ordered layer by layer, weight before bias, each tensor row-major. That
/// order defines the flat parameter vector used for initial values, gradients and checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Architecture {
    /// Number of input columns. The lessons use 1 (the dosage).
    pub inputs: usize,
    /// Width of each hidden layer. The lessons use `[2]`.
    pub hidden: Vec<usize>,
    /// Number of outputs. The lessons use 1 (the efficacy).
    pub outputs: usize,
    /// Activation of the hidden units.
    pub activation: Activation,
}

/// The most parameters a network may have unless the config raises it (`[model]
/// max_params`): far more than the lessons and small data sets need, few enough that a step
/// stays fast and small (4 MB of f32 values, as much again per gradient and optimizer state;
/// step by step, every parameter is also recorded each step). A typo such as `hidden =
/// [100000, 100000]` is refused before anything is allocated.
pub const DEFAULT_MAX_PARAMS: u64 = 1_000_000;

impl Architecture {
    /// Checks the widths and returns the architecture.
    ///
    /// # Errors
    /// [`ModelError::ZeroWidth`] if any width is zero, [`ModelError::Unaddressable`] if the
    /// parameters could not even be counted in memory.
    pub fn new(
        inputs: usize,
        hidden: Vec<usize>,
        outputs: usize,
        activation: Activation,
    ) -> Result<Self, ModelError> {
        let zero = |what: String| Err(ModelError::ZeroWidth { what });
        if inputs == 0 {
            return zero("inputs".into());
        }
        if outputs == 0 {
            return zero("outputs".into());
        }
        if let Some(i) = hidden.iter().position(|&w| w == 0) {
            return zero(format!("hidden[{i}]"));
        }
        let arch = Self {
            inputs,
            hidden,
            outputs,
            activation,
        };
        let count = arch.count_params();
        if count > usize::MAX as u128 {
            return Err(ModelError::Unaddressable { count });
        }
        Ok(arch)
    }

    /// The number of parameters, counted without overflow.
    fn count_params(&self) -> u128 {
        self.layer_sizes()
            .iter()
            .map(|&(i, o)| (i as u128 + 1).saturating_mul(o as u128))
            .fold(0u128, u128::saturating_add)
    }

    /// Refuses a network of more than `max_params` parameters, before anything is allocated.
    ///
    /// # Errors
    /// [`ModelError::TooManyParams`] with the count and the limit.
    pub fn check_size(&self, max_params: u64) -> Result<(), ModelError> {
        let count = self.count_params();
        if count > u128::from(max_params) {
            return Err(ModelError::TooManyParams {
                count,
                max: max_params,
            });
        }
        Ok(())
    }

    /// The lesson's network: one input, two softplus hidden units, one output.
    pub fn statquest() -> Self {
        Self {
            inputs: 1,
            hidden: vec![2],
            outputs: 1,
            activation: Activation::Softplus,
        }
    }

    /// `(fan_in, fan_out)` of each layer, hidden layers first, the output layer last.
    pub fn layer_sizes(&self) -> Vec<(usize, usize)> {
        let mut widths = Vec::with_capacity(self.hidden.len() + 2);
        widths.push(self.inputs);
        widths.extend(&self.hidden);
        widths.push(self.outputs);
        widths.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Every parameter tensor, in flat-vector order.
    pub fn tensors(&self) -> Vec<TensorSpec> {
        let sizes = self.layer_sizes();
        let last = sizes.len() - 1;
        let mut offset = 0;
        let mut specs = Vec::with_capacity(2 * sizes.len());
        for (layer, &(fan_in, fan_out)) in sizes.iter().enumerate() {
            let prefix = if layer == last {
                "output".to_string()
            } else {
                format!("hidden.{layer}")
            };
            for (kind, shape) in [
                (TensorKind::Weight, vec![fan_in, fan_out]),
                (TensorKind::Bias, vec![fan_out]),
            ] {
                let suffix = match kind {
                    TensorKind::Weight => "weight",
                    TensorKind::Bias => "bias",
                };
                let spec = TensorSpec {
                    path: format!("{prefix}.{suffix}"),
                    shape,
                    kind,
                    offset,
                    layer,
                };
                offset += spec.len();
                specs.push(spec);
            }
        }
        specs
    }

    /// Total number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.layer_sizes().iter().map(|(i, o)| (i + 1) * o).sum()
    }

    /// Returns true if and only if the lesson's names apply: one input, one hidden layer,
    /// one output (a `1-[H]-1` network; the lesson itself is `1-[2]-1`).
    pub fn has_lesson_names(&self) -> bool {
        self.inputs == 1 && self.outputs == 1 && self.hidden.len() == 1
    }

    /// Whether the network is a straight line, `output = slope·input + intercept` (one input,
    /// one output, no hidden layer), as in "Gradient Descent, Step-by-Step".
    pub fn is_line(&self) -> bool {
        self.inputs == 1 && self.outputs == 1 && self.hidden.is_empty()
    }

    /// A short description such as `1-[2]-1 softplus`, or `2-[]-1 linear` for a network
    /// without hidden layers (whose activation never applies).
    pub fn describe(&self) -> String {
        if self.hidden.is_empty() {
            return format!("{}-[]-{} linear", self.inputs, self.outputs);
        }
        let hidden: Vec<String> = self.hidden.iter().map(ToString::to_string).collect();
        format!(
            "{}-[{}]-{} {}",
            self.inputs,
            hidden.join(", "),
            self.outputs,
            self.activation
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lesson_network_has_seven_parameters_in_four_tensors() {
        let arch = Architecture::statquest();
        let specs = arch.tensors();
        let paths: Vec<_> = specs.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "hidden.0.weight",
                "hidden.0.bias",
                "output.weight",
                "output.bias"
            ]
        );
        assert_eq!(specs[0].shape, [1, 2]);
        assert_eq!(specs[2].shape, [2, 1]);
        assert_eq!(specs[3].range(), 6..7);
        assert_eq!(arch.num_params(), 7);
        assert_eq!(arch.describe(), "1-[2]-1 softplus");
    }

    #[test]
    fn linear_regression_has_only_the_output_layer() {
        let arch = Architecture::new(1, vec![], 1, Activation::Softplus).unwrap();
        let paths: Vec<_> = arch.tensors().into_iter().map(|s| s.path).collect();
        assert_eq!(paths, ["output.weight", "output.bias"]);
        assert_eq!(arch.num_params(), 2);
        assert!(!arch.has_lesson_names());
        assert_eq!(arch.describe(), "1-[]-1 linear");
    }

    #[test]
    fn zero_widths_are_rejected() {
        let err = Architecture::new(1, vec![3, 0], 1, Activation::Relu).unwrap_err();
        assert_eq!(err.to_string(), "`hidden[1]` must be at least 1, got 0");
        let err = Architecture::new(0, vec![], 1, Activation::Relu).unwrap_err();
        assert_eq!(err.to_string(), "`inputs` must be at least 1, got 0");
    }

    #[test]
    fn deep_network_counts_every_weight_and_bias() {
        let arch = Architecture::new(3, vec![4, 5], 2, Activation::Tanh).unwrap();
        // (3+1)*4 + (4+1)*5 + (5+1)*2 = 16 + 25 + 12
        assert_eq!(arch.num_params(), 53);
        let last = arch.tensors().pop().unwrap();
        assert_eq!(last.path, "output.bias");
        assert_eq!(last.range(), 51..53);
    }
}
