//! Synthetic data: the lesson's dosage curve with noise, for examples and benchmarks that
//! need nothing downloaded.

use std::io::{self, Write};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use squiggle_model::{Architecture, lesson};

use crate::data::Dataset;

/// The efficacy the lesson's fitted network ("Backpropagation Main Ideas" with b3 = 2.61)
/// predicts for `dosage`: about 0 at dosage 0 and 1, about 1 at dosage 0.5.
pub fn dosage_curve(dosage: f64) -> f64 {
    Architecture::statquest()
        .forward_host(&lesson::pt2_fitted(), &[dosage])
        .prediction()[0]
}

/// `rows` rows of the dosage data set: dosages uniform in [0, 1], efficacy the lesson's curve
/// plus Gaussian noise of standard deviation `noise`, all drawn from a generator seeded with
/// `seed`, as f32 (what a file of them holds).
fn dosage_rows(rows: u64, noise: f64, seed: u64) -> impl Iterator<Item = (f32, f32)> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..rows).map(move |_| {
        let dosage: f64 = rng.random_range(0.0..=1.0);
        let jitter: f64 = StandardNormal.sample(&mut rng);
        let efficacy = dosage_curve(dosage) + noise * jitter;
        (dosage as f32, efficacy as f32)
    })
}

/// Writes `rows` rows of `dosage,efficacy` under a header (see [`dosage_dataset`]): the same
/// seed writes the same file. Streams; holds no rows.
pub fn write_dosage(out: &mut impl Write, rows: u64, noise: f64, seed: u64) -> io::Result<()> {
    writeln!(out, "dosage,efficacy")?;
    for (dosage, efficacy) in dosage_rows(rows, noise, seed) {
        writeln!(out, "{dosage},{efficacy}")?;
    }
    Ok(())
}

/// The rows [`write_dosage`] writes with the same arguments, held in memory: dosages uniform
/// in [0, 1], efficacy the lesson's curve plus Gaussian noise of standard deviation `noise`.
pub fn dosage_dataset(rows: u64, noise: f64, seed: u64) -> Dataset {
    let (x, y) = dosage_rows(rows, noise, seed).unzip();
    Dataset::from_columns(x, y, 1, 1).with_names(vec!["dosage".into()], vec!["efficacy".into()])
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

    #[test]
    fn the_data_set_in_memory_holds_the_rows_of_the_file() {
        let mut out = Vec::new();
        write_dosage(&mut out, 40, 0.1, 5).unwrap();
        let data = dosage_dataset(40, 0.1, 5);
        let text = String::from_utf8(out).unwrap();
        for (i, line) in text.lines().skip(1).enumerate() {
            let (x, y) = line.split_once(',').unwrap();
            assert_eq!(data.input_values()[i], x.parse::<f32>().unwrap());
            assert_eq!(data.output_values()[i], y.parse::<f32>().unwrap());
        }
        assert_eq!(data.len(), 40);
        assert_eq!(data.input_names(), ["dosage"]);
    }
}
