//! Seeded initial values.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::{Architecture, TensorKind};

crate::named_enum! {
    /// How random initial weights are scaled.
    #[derive(Default)]
    pub enum Initializer as "initializer" {
        /// Standard normal weights, as in the lessons. Fine for one input and two hidden units;
        /// with ten inputs the hidden units start deep in saturation or in their linear part.
        #[default]
        Normal = "normal",
        /// Glorot (Xavier) normal: standard deviation `sqrt(2 / (fan_in + fan_out))`, which keeps
        /// the spread of activations about constant from layer to layer, so wide networks on
        /// many inputs start where gradients are informative.
        Glorot = "glorot",
        /// Uniform in ±1/√fan_in for weights and biases alike: what Burn's `Linear` and
        /// PyTorch's `nn.Linear` start from. Suits networks the lessons do not draw (data sets,
        /// deep or wide networks): every unit starts in its responsive range.
        Uniform = "uniform",
    }
}

/// The lessons' initialiser: every weight drawn from a standard normal distribution, every
/// bias 0. Same as [`initial_values`] with [`Initializer::Normal`].
pub fn standard_normal_values(arch: &Architecture, seed: u64) -> Vec<f64> {
    initial_values(arch, seed, Initializer::Normal)
}

/// Seeded initial values: weights drawn from a normal distribution scaled by `init`, biases 0
/// (`uniform`: weights and biases uniform in ±1/√fan_in).
///
/// The draws come from a ChaCha-based `StdRng` seeded with `seed`, on the host, in flat
/// parameter order, so the same seed gives the same network on every backend. One number is
/// drawn for every weight even when the config then overrides it, so naming one initial value
/// never shifts the random values of the others.
pub fn initial_values(arch: &Architecture, seed: u64, init: Initializer) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(arch.num_params());
    if init == Initializer::Uniform {
        for spec in arch.tensors() {
            let fan_in = match spec.kind {
                TensorKind::Weight => spec.shape[0],
                TensorKind::Bias => arch.layer_sizes()[spec.layer].0,
            };
            let bound = 1.0 / (fan_in as f64).sqrt();
            for _ in 0..spec.len() {
                values.push(rng.random_range(-bound..bound));
            }
        }
        return values;
    }
    for spec in arch.tensors() {
        let scale = match (init, spec.kind) {
            (Initializer::Glorot, TensorKind::Weight) => {
                (2.0 / (spec.shape[0] + spec.shape[1]) as f64).sqrt()
            }
            _ => 1.0,
        };
        for _ in 0..spec.len() {
            values.push(match spec.kind {
                TensorKind::Weight => {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    scale * z
                }
                TensorKind::Bias => 0.0,
            });
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    #[test]
    fn same_seed_same_values_and_biases_start_at_zero() {
        let arch = Architecture::new(2, vec![3], 1, Activation::Softplus).unwrap();
        let a = standard_normal_values(&arch, 7);
        let b = standard_normal_values(&arch, 7);
        let c = standard_normal_values(&arch, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // hidden.0.bias occupies flat indices 6..9, output.bias index 12.
        assert_eq!(&a[6..9], [0.0; 3]);
        assert_eq!(a[12], 0.0);
        assert!(a[..6].iter().all(|w| *w != 0.0 && w.abs() < 6.0));
    }

    #[test]
    fn uniform_draws_weights_and_biases_within_one_over_root_fan_in() {
        let arch = Architecture::new(4, vec![3], 1, Activation::Softplus).unwrap();
        let v = initial_values(&arch, 9, Initializer::Uniform);
        // hidden.0.weight [4, 3] and bias [3]: fan_in 4; output [3, 1] and [1]: fan_in 3.
        assert!(v[..15].iter().all(|x| x.abs() < 0.5), "{v:?}");
        assert!(v[15..].iter().all(|x| x.abs() < 1.0 / 3f64.sqrt()), "{v:?}");
        assert!(v[12..15].iter().any(|&b| b != 0.0), "biases are drawn too");
        assert_eq!(v, initial_values(&arch, 9, Initializer::Uniform));
    }

    #[test]
    fn glorot_scales_the_same_draws() {
        let arch = Architecture::new(10, vec![6], 1, Activation::Softplus).unwrap();
        let normal = standard_normal_values(&arch, 3);
        let glorot = initial_values(&arch, 3, Initializer::Glorot);
        let (hidden, output) = ((2.0f64 / 16.0).sqrt(), (2.0f64 / 7.0).sqrt());
        for i in 0..60 {
            assert!((glorot[i] - hidden * normal[i]).abs() < 1e-15);
        }
        assert!((glorot[66] - output * normal[66]).abs() < 1e-15);
        assert_eq!(glorot[60..66], [0.0; 6]);
    }
}
