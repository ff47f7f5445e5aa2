//! Seeded initial values.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Architecture, TensorKind};

/// The lessons' initialiser: every weight drawn from a standard normal distribution, every
/// bias 0.
///
/// The draws come from a ChaCha-based `StdRng` seeded with `seed`, on the host, in flat
/// parameter order, so the same seed gives the same network on every backend. One number is
/// drawn for every weight even when the config then overrides it, so naming one initial value
/// never shifts the random values of the others.
pub fn standard_normal_values(arch: &Architecture, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(arch.num_params());
    for spec in arch.tensors() {
        for _ in 0..spec.len() {
            values.push(match spec.kind {
                TensorKind::Weight => StandardNormal.sample(&mut rng),
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
}
