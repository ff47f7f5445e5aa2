//! Test fixtures shared by this crate's unit tests.

use burn::prelude::Device;
use rand::RngExt;
use rand::rngs::StdRng;

use crate::{Dataset, LossKind};

/// The lesson's network from "Backpropagation Main Ideas" with b3 = 0, flat order
/// w1, w2, b1, b2, w3, w4, b3 (shared/statquest.md).
pub const PT2: [f64; 7] = [3.34, -3.53, -1.43, 0.57, -1.22, -2.30, 0.0];

/// Dosage 0, 0.5, 1 → efficacy 0, 1, 0.
pub fn lesson_data() -> Dataset {
    Dataset::from_rows(&[vec![0.0, 0.0], vec![0.5, 1.0], vec![1.0, 0.0]], 1, 1).unwrap()
}

/// The device unit tests run on.
pub fn device() -> Device {
    Device::flex()
}

/// `rows` random rows of `inputs + outputs` values in [-2, 2).
pub fn random_data(rng: &mut StdRng, rows: usize, inputs: usize, outputs: usize) -> Dataset {
    let rows: Vec<Vec<f64>> = (0..rows)
        .map(|_| {
            (0..inputs + outputs)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect()
        })
        .collect();
    Dataset::from_rows(&rows, inputs, outputs).unwrap()
}

/// SSR for even cases, MSE for odd ones, so property tests cover both.
pub fn alternate_loss(case: usize) -> LossKind {
    if case.is_multiple_of(2) {
        LossKind::Ssr
    } else {
        LossKind::Mse
    }
}
