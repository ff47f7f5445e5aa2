//! Seeded initial values.

use rand::SeedableRng;
use rand::rngs::StdRng;
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
    }
}

/// The lessons' initialiser: every weight drawn from a standard normal distribution, every
/// bias 0. Same as [`initial_values`] with [`Initializer::Normal`].
pub fn standard_normal_values(arch: &Architecture, seed: u64) -> Vec<f64> {
    initial_values(arch, seed, Initializer::Normal)
}

/// Seeded initial values: weights drawn from a normal distribution scaled by `init`, biases 0.
///
/// The draws come from a ChaCha-based `StdRng` seeded with `seed`, on the host, in flat
/// parameter order, so the same seed gives the same network on every backend. One number is
/// drawn for every weight even when the config then overrides it, so naming one initial value
/// never shifts the random values of the others.
pub fn initial_values(arch: &Architecture, seed: u64, init: Initializer) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(arch.num_params());
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
