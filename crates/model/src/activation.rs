//! Activation functions applied by the hidden layers.

use burn::prelude::*;
use burn::tensor::activation;

crate::named_enum! {
    /// The non-linearity applied to every hidden unit.
    ///
    /// The lessons use [`Activation::Softplus`]; the others are there so a learner can compare
    /// the shapes they produce. `Identity` turns every network into a linear model.
    #[derive(Default)]
    pub enum Activation as "activation" {
        /// `softplus(z) = ln(1 + e^z)`, whose derivative is `sigmoid(z)`. The default, as in the lessons.
        #[default]
        Softplus = "softplus",
        /// `relu(z) = max(0, z)`.
        Relu = "relu",
        /// `sigmoid(z) = 1 / (1 + e^-z)`.
        Sigmoid = "sigmoid",
        /// `tanh(z)`.
        Tanh = "tanh",
        /// `identity(z) = z`.
        Identity = "identity",
    }
}

impl Activation {
    /// Applies the activation element-wise.
    ///
    /// Softplus uses Burn's `softplus` with `beta = 1` (which switches to `z` above 20 to
    /// avoid overflow), so its autodiff derivative is `sigmoid(z)` as in the lesson.
    pub fn apply<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Softplus => activation::softplus(z, 1.0),
            Activation::Relu => activation::relu(z),
            Activation::Sigmoid => activation::sigmoid(z),
            Activation::Tanh => activation::tanh(z),
            Activation::Identity => z,
        }
    }

    /// Applies the activation to one number, in double precision.
    ///
    /// Used where a reference value is needed without a device (tests, plots, explanations).
    pub fn apply_scalar(self, z: f64) -> f64 {
        match self {
            Activation::Softplus => {
                // ln(1 + e^z) without overflow: max(z, 0) + ln(1 + e^-|z|).
                z.max(0.0) + (-z.abs()).exp().ln_1p()
            }
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Tanh => z.tanh(),
            Activation::Identity => z,
        }
    }
}

impl Activation {
    /// The derivative at one number, in double precision: what backpropagation multiplies by
    /// when the error signal passes back through a hidden unit.
    ///
    /// Softplus' derivative is the sigmoid; ReLU's is taken as 0 at 0, as Burn does.
    pub fn derivative_scalar(self, z: f64) -> f64 {
        match self {
            Activation::Softplus => Activation::Sigmoid.apply_scalar(z),
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => {
                let s = Activation::Sigmoid.apply_scalar(z);
                s * (1.0 - s)
            }
            Activation::Tanh => 1.0 - z.tanh().powi(2),
            Activation::Identity => 1.0,
        }
    }

    /// How the derivative is written in explanations, for the pre-activation `z`
    /// (`sigmoid(x1)` for softplus, as in the lesson).
    pub fn derivative_label(self, z: &str) -> String {
        match self {
            Activation::Softplus => format!("sigmoid({z})"),
            Activation::Relu => format!("step({z})"),
            Activation::Sigmoid => format!("σ'({z})"),
            Activation::Tanh => format!("1−tanh²({z})"),
            Activation::Identity => "1".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Named;

    #[test]
    fn softplus_scalar_matches_its_definition() {
        // softplus(1) = ln(1 + e) ≈ 1.3132616875
        assert!((Activation::Softplus.apply_scalar(1.0) - 1.313_261_687_518_223).abs() < 1e-15);
        // Large arguments do not overflow: softplus(800) = 800 to double precision.
        assert_eq!(Activation::Softplus.apply_scalar(800.0), 800.0);
    }

    #[test]
    fn derivatives_match_central_differences() {
        for &a in Activation::ALL {
            for z in [-2.5, -0.3, 0.7, 3.0] {
                let h = 1e-6;
                let numeric = (a.apply_scalar(z + h) - a.apply_scalar(z - h)) / (2.0 * h);
                assert!(
                    (a.derivative_scalar(z) - numeric).abs() < 1e-8,
                    "{a} at {z}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for &a in Activation::ALL {
            assert_eq!(a.name().parse::<Activation>().unwrap(), a);
        }
        assert_eq!(
            "swish".parse::<Activation>().unwrap_err().to_string(),
            "unknown activation `swish`; expected one of softplus, relu, sigmoid, tanh, identity"
        );
    }
}
