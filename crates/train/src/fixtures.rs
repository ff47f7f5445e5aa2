//! Test fixtures shared by this crate's unit tests.

use burn::prelude::Device;

use crate::Dataset;

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
