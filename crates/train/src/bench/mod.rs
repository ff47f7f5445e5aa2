//! Benchmarks: the training core timed on fixed work, with either [`Kernels`], beside a
//! plain-Rust [`Baseline`] doing the same work, so each figure is also a ratio measured in the
//! same run.
//!
//! The work is what users compare squiggle with NumPy and JAX on (the peers' harness runs the
//! same cases through the binary): the lesson's seven-parameter step, and mini-batch SGD of a
//! `1-[H]-1` softplus network on the dosage data set. The core is timed in process, between
//! observer calls, so start-up and data loading are left out and everything training does
//! per step or per epoch (records, metrics, shuffles) is in.

mod baseline;

use std::time::Instant;

use burn::prelude::Device;
use squiggle_model::{Activation, Architecture, Initializer, initial_values, lesson};

pub use baseline::Baseline;

use thiserror::Error;

use crate::data::{Dataset, Prepared, dosage_dataset, shuffle_for_epoch};
use crate::engine::checkpoint::Start;
use crate::engine::error::TrainError;
use crate::engine::kernels::Kernels;
use crate::engine::observer::{Flow, Observer};
use crate::engine::record::StepRecord;
use crate::engine::report::{EpochReport, RunState};
use crate::plan::Settings;
use crate::plan::error::PlanError;
use crate::run::train;

/// A benchmark's work that could not be done.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum BenchError {
    /// The work's settings do not make a plan (a benchmark of zero rows, say).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Training failed or diverged.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The run ended before its work was done.
    #[error("the benchmark's run stopped after {periods} of its steps or epochs")]
    Stopped {
        /// Steps or epochs done.
        periods: usize,
    },
}

/// The seed of the bench's data set, initial parameters and shuffles.
const SEED: u64 = 0;
/// The noise of the bench's dosage data set (`squiggle generate`'s default).
const NOISE: f64 = 0.1;
/// The lesson's learning rate in "Backpropagation Details Pt. 2".
const LESSON_RATE: f64 = 0.01;
/// The mini-batch cases' learning rate.
const EPOCH_RATE: f64 = 0.1;

/// What a case trains and how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// "Backpropagation Details Pt. 2": all seven parameters of the lesson's network from the
    /// video's start, full-batch SSR steps on its three points at learning rate 0.01.
    /// Measured per step, after the first.
    Lesson {
        /// Steps taken (≥ 2).
        steps: usize,
    },
    /// Mini-batch SGD (MSE of each batch, learning rate 0.1, a new shuffle every epoch) of a
    /// `1-[hidden]-1` softplus network on `rows` rows of the dosage data set, from the uniform
    /// initialiser. One epoch warms up; the `epochs` after it are timed.
    Epochs {
        /// Hidden units.
        hidden: usize,
        /// Rows per mini-batch.
        batch: usize,
        /// Rows of the data set.
        rows: usize,
        /// Timed epochs (≥ 1).
        epochs: usize,
    },
}

impl Work {
    /// What one unit of work is: a step (lesson) or a sample (mini-batch cases).
    pub fn unit(&self) -> Unit {
        match self {
            Work::Lesson { .. } => Unit::Step,
            Work::Epochs { .. } => Unit::Sample,
        }
    }

    /// The cases `squiggle bench` runs: the lesson step, the three mini-batch cases of the
    /// peers' harness on `rows` rows, and a large one on `large_rows` rows.
    pub fn cases(rows: usize, large_rows: usize, lesson_steps: usize) -> Vec<Work> {
        let epochs = |hidden, batch, rows, epochs| Work::Epochs {
            hidden,
            batch,
            rows,
            epochs,
        };
        vec![
            Work::Lesson {
                steps: lesson_steps,
            },
            epochs(64, 1024, rows, 3),
            epochs(2, 32, rows, 3),
            epochs(2, 1024, rows, 3),
            epochs(2, 1024, large_rows, 1),
        ]
    }

    /// The data set the work trains on.
    pub fn data(&self) -> Dataset {
        match *self {
            Work::Lesson { .. } => Dataset::from_rows(&lesson::points(), 1, 1)
                .expect("the lesson's points are a data set"),
            Work::Epochs { rows, .. } => dosage_dataset(rows as u64, NOISE, SEED),
        }
    }

    fn arch(&self) -> Architecture {
        match *self {
            Work::Lesson { .. } => Architecture::statquest(),
            Work::Epochs { hidden, .. } => {
                Architecture::new(1, vec![hidden], 1, Activation::Softplus)
                    .expect("a 1-[H]-1 network with H ≥ 1")
            }
        }
    }

    /// The parameters the work starts from, flat order.
    pub fn start(&self) -> Vec<f64> {
        match self {
            Work::Lesson { .. } => lesson::DETAILS_PT2_START.to_vec(),
            Work::Epochs { .. } => initial_values(&self.arch(), SEED, Initializer::Uniform),
        }
    }

    /// Steps (lesson) or epochs (mini-batch cases) run, the first one untimed.
    fn periods(&self) -> usize {
        match *self {
            Work::Lesson { steps } => steps.max(2),
            Work::Epochs { epochs, .. } => epochs.max(1) + 1,
        }
    }

    /// Units of work in the timed part.
    fn timed_units(&self) -> usize {
        match *self {
            Work::Lesson { steps } => steps.max(2) - 1,
            Work::Epochs { rows, epochs, .. } => rows * epochs.max(1),
        }
    }

    fn settings(&self, kernels: Kernels) -> Settings {
        match *self {
            Work::Lesson { .. } => Settings {
                learning_rate: Some(LESSON_RATE),
                max_steps: Some(self.periods()),
                min_step_size: Some(0.0),
                kernels: Some(kernels),
                ..Settings::default()
            },
            Work::Epochs { batch, .. } => Settings {
                learning_rate: Some(EPOCH_RATE),
                epochs: Some(self.periods()),
                batch_size: Some(batch),
                kernels: Some(kernels),
                data_set: true,
                ..Settings::default()
            },
        }
    }
}

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Training steps (reported as µs per step).
    Step,
    /// Training samples (reported as samples per second).
    Sample,
}

/// How long some work took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Units of work done in the timed part.
    pub units: usize,
    /// Seconds it took.
    pub seconds: f64,
}

impl Timing {
    /// Units per second.
    pub fn per_second(&self) -> f64 {
        self.units as f64 / self.seconds
    }

    /// Microseconds per unit.
    pub fn micros_per_unit(&self) -> f64 {
        self.seconds * 1e6 / self.units as f64
    }
}

/// Notes when each step or epoch ended.
#[derive(Default)]
struct Clock {
    marks: Vec<Instant>,
}

impl Observer for Clock {
    type Error = TrainError;

    fn step(&mut self, _: &StepRecord) -> Result<Flow, TrainError> {
        self.marks.push(Instant::now());
        Ok(Flow::Continue)
    }

    fn epoch(&mut self, _: &EpochReport, _: &RunState<'_>) -> Result<Flow, TrainError> {
        self.marks.push(Instant::now());
        Ok(Flow::Continue)
    }
}

/// The training core doing `work` on `data` (from [`Work::data`]) on `device` with
/// `kernels`: the time from the end of the first step or epoch to the end of the last, and the
/// parameters it ends with.
///
/// # Errors
/// A device failure, or a run that diverged (the bench's work never does).
pub fn run_core(
    work: Work,
    data: &Dataset,
    device: &Device,
    kernels: Kernels,
) -> Result<(Timing, Vec<f64>), BenchError> {
    let arch = work.arch();
    let plan = work
        .settings(kernels)
        .check()?
        .into_plan(&arch, vec![true; arch.num_params()])?;
    let mut prepared = Prepared::new(data.clone(), None, &plan);
    let mut clock = Clock::default();
    let outcome = train(
        &arch,
        Start::Fresh(work.start()),
        &mut prepared,
        &plan,
        device,
        &mut clock,
    )?;
    if let Some(error) = outcome.divergence_error() {
        return Err(error.into());
    }
    let (first, last) = match (clock.marks.first(), clock.marks.last()) {
        (Some(first), Some(last)) if clock.marks.len() == work.periods() => (*first, *last),
        _ => {
            return Err(BenchError::Stopped {
                periods: clock.marks.len(),
            });
        }
    };
    let timing = Timing {
        units: work.timed_units(),
        seconds: (last - first).as_secs_f64(),
    };
    Ok((timing, outcome.params))
}

/// The plain-Rust [`Baseline`] doing `work` on `data`, timed the same way as [`run_core`],
/// and the parameters it ends with.
pub fn run_baseline(work: Work, data: &Dataset) -> (Timing, Vec<f64>) {
    let mut net = Baseline::new(&work.start());
    let outputs = data.output_values();
    let (x, y) = (data.input_values(), &outputs[..]);
    let mut first = None;
    match work {
        Work::Lesson { .. } => {
            for _ in 0..work.periods() {
                net.step(x, y, LESSON_RATE as f32, 1.0);
                first.get_or_insert_with(Instant::now);
            }
        }
        Work::Epochs { batch, .. } => {
            let mut order: Vec<u32> = (0..data.len() as u32).collect();
            for epoch in 0..work.periods() {
                shuffle_for_epoch(&mut order, SEED, epoch);
                net.epoch(x, y, &order, batch, EPOCH_RATE as f32);
                first.get_or_insert_with(Instant::now);
            }
        }
    }
    let seconds = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let timing = Timing {
        units: work.timed_units(),
        seconds,
    };
    (timing, net.values())
}

#[cfg(test)]
mod tests {
    use super::*;
    use squiggle_model::Named;

    fn assert_close(core: &[f64], baseline: &[f64], tolerance: f64) {
        assert_eq!(core.len(), baseline.len());
        for (i, (a, b)) in core.iter().zip(baseline).enumerate() {
            assert!(
                (a - b).abs() <= tolerance * b.abs().max(1.0),
                "parameter {i}: core {a}, baseline {b}"
            );
        }
    }

    /// The baseline is a yardstick only if it does the core's work: the same steps from the
    /// same start give the same parameters.
    #[test]
    fn the_baseline_takes_the_lessons_steps() {
        let work = Work::Lesson { steps: 300 };
        let data = work.data();
        let (base_timing, base) = run_baseline(work, &data);
        for kernels in Kernels::ALL.iter().copied() {
            let (timing, core) = run_core(work, &data, &Device::flex(), kernels).unwrap();
            assert_close(&core, &base, 1e-4);
            assert_ne!(core, work.start(), "the steps moved the parameters");
            assert_eq!((timing.units, base_timing.units), (299, 299));
            assert!(timing.seconds > 0.0 && base_timing.seconds > 0.0);
        }
    }

    #[test]
    fn the_baseline_takes_the_epochs_mini_batches() {
        for (hidden, batch) in [(3, 16), (2, 1000)] {
            let work = Work::Epochs {
                hidden,
                batch,
                rows: 700,
                epochs: 2,
            };
            let data = work.data();
            let (_, base) = run_baseline(work, &data);
            for kernels in Kernels::ALL.iter().copied() {
                let (timing, core) = run_core(work, &data, &Device::flex(), kernels).unwrap();
                assert_close(&core, &base, 1e-4);
                assert_eq!(timing.units, 1400);
            }
        }
    }

    #[test]
    fn the_cases_are_the_harness_cases_and_a_large_one() {
        let cases = Work::cases(100_000, 10_000_000, 2000);
        let epochs = |hidden, batch, rows, epochs| Work::Epochs {
            hidden,
            batch,
            rows,
            epochs,
        };
        assert_eq!(
            cases,
            [
                Work::Lesson { steps: 2000 },
                epochs(64, 1024, 100_000, 3),
                epochs(2, 32, 100_000, 3),
                epochs(2, 1024, 100_000, 3),
                epochs(2, 1024, 10_000_000, 1),
            ]
        );
        assert_eq!(cases[0].unit(), Unit::Step);
        assert!(cases[1..].iter().all(|c| c.unit() == Unit::Sample));
    }
}
