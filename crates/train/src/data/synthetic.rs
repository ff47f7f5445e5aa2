//! Synthetic data: the lesson's dosage curve with noise, for examples and benchmarks that
//! need nothing downloaded.

use std::io::{self, Write};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use squiggle_model::{Architecture, lesson};

/// The efficacy the lesson's fitted network ("Backpropagation Main Ideas" with b3 = 2.61)
/// predicts for `dosage`: about 0 at dosage 0 and 1, about 1 at dosage 0.5.
pub fn dosage_curve(dosage: f64) -> f64 {
    Architecture::statquest()
        .forward_host(&lesson::pt2_fitted(), &[dosage])
        .prediction()[0]
}

/// Writes `rows` rows of `dosage,efficacy` under a header: dosages uniform in [0, 1],
/// efficacy the lesson's curve plus Gaussian noise of standard deviation `noise`, all drawn
/// from a generator seeded with `seed` (same seed, same file). Streams; holds no rows.
pub fn write_dosage(out: &mut impl Write, rows: u64, noise: f64, seed: u64) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    writeln!(out, "dosage,efficacy")?;
    for _ in 0..rows {
        let dosage: f64 = rng.random_range(0.0..=1.0);
        let jitter: f64 = StandardNormal.sample(&mut rng);
        let efficacy = dosage_curve(dosage) + noise * jitter;
        writeln!(out, "{},{}", dosage as f32, efficacy as f32)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_is_low_at_the_ends_and_high_in_the_middle() {
        assert!(dosage_curve(0.0).abs() < 0.02);
        assert!((dosage_curve(0.5) - 1.0).abs() < 0.02);
        assert!(dosage_curve(1.0).abs() < 0.02);
    }

    #[test]
    fn same_seed_same_rows() {
        let run = |seed| {
            let mut out = Vec::new();
            write_dosage(&mut out, 50, 0.1, seed).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        assert_eq!(run(3).lines().count(), 51);
        assert!(run(3).starts_with("dosage,efficacy\n"));
    }
}
