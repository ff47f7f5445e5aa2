//! Test fixtures shared by this crate's unit tests.

use burn::prelude::Device;
use rand::RngExt;
use rand::rngs::StdRng;
use squiggle_model::{Architecture, lesson};

use crate::data::{Dataset, Prepared};
use crate::engine::Outcome;
use crate::engine::checkpoint::Start;
use crate::engine::error::TrainError;
use crate::engine::loss::LossKind;
use crate::engine::observer::Collect;
use crate::plan::{Settings, TrainPlan};

/// The lesson's network from "Backpropagation Main Ideas" with b3 = 0, flat order
/// w1, w2, b1, b2, w3, w4, b3.
pub const PT2: [f64; 7] = lesson::PT2;

/// Dosage 0, 0.5, 1 → efficacy 0, 1, 0.
pub fn lesson_data() -> Dataset {
    Dataset::from_rows(&lesson::points(), 1, 1).unwrap()
}

/// The device unit tests run on.
pub fn device() -> Device {
    Device::flex()
}

/// A plan for the lesson's network training the parameters at flat indices `trainable`.
pub fn plan_with(settings: Settings, trainable: &[usize]) -> TrainPlan {
    let mut mask = vec![false; 7];
    for &i in trainable {
        mask[i] = true;
    }
    TrainPlan::new(&settings, &Architecture::statquest(), mask).unwrap()
}

/// Trains `arch` from `start` on `data` (validating on `valid` when given), collecting every
/// step and epoch.
pub fn run(
    arch: &Architecture,
    start: Start,
    data: Dataset,
    valid: Option<Dataset>,
    plan: &TrainPlan,
) -> Result<(Outcome, Collect), TrainError> {
    let mut prepared = Prepared::new(data, valid, plan);
    let mut collect = Collect::default();
    let outcome = crate::run::train(arch, start, &mut prepared, plan, &device(), &mut collect)?;
    Ok((outcome, collect))
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
