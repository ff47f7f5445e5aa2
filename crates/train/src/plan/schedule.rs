//! How the learning rate changes from epoch to epoch (or step to step): Burn's schedulers.

use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use serde::{Deserialize, Serialize};

squiggle_model::named_enum! {
    /// The kinds of [`Schedule`], as `[train] schedule` names them.
    #[derive(Default)]
    pub enum ScheduleKind as "schedule" {
        /// The same rate every epoch. The default.
        #[default]
        Constant = "constant",
        /// Multiplied by `step_gamma` every `step_every` epochs (steps, step by step).
        Step = "step",
        /// Half a cosine down to `min_learning_rate`.
        Cosine = "cosine",
    }
}

/// A learning-rate schedule with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    /// The same rate every epoch.
    Constant,
    /// Multiplied by `gamma` every `every` epochs.
    Step {
        /// Epochs between decays.
        every: usize,
        /// The factor applied at each decay.
        gamma: f64,
    },
    /// Half a cosine from the initial rate down to `min_lr` over the run's epochs (its `max_steps`, step by step).
    Cosine {
        /// The rate the curve ends at.
        min_lr: f64,
    },
}

impl Schedule {
    /// Which kind of schedule this is.
    pub fn kind(&self) -> ScheduleKind {
        match self {
            Schedule::Constant => ScheduleKind::Constant,
            Schedule::Step { .. } => ScheduleKind::Step,
            Schedule::Cosine { .. } => ScheduleKind::Cosine,
        }
    }

    /// Burn's scheduler for this schedule over `epochs` epochs from `initial`.
    ///
    /// # Errors
    /// Burn's message when it refuses the settings (a cosine schedule needs an initial rate in
    /// (0, 1] and `min_lr` at most that).
    pub(crate) fn scheduler(
        &self,
        initial: f64,
        epochs: usize,
    ) -> Result<ModuleLrScheduler, String> {
        Ok(match *self {
            Schedule::Constant => ModuleLrScheduler::new(initial),
            Schedule::Step { every, gamma } => StepLrSchedulerConfig::new(initial, every)
                .with_gamma(gamma)
                .init()?,
            Schedule::Cosine { min_lr } => {
                CosineAnnealingLrSchedulerConfig::new(initial, epochs.max(1))
                    .with_min_lr(min_lr)
                    .init()?
            }
        })
    }
}

/// The learning rate of each epoch in turn, from a schedule the plan has checked.
pub(crate) struct Rates(ModuleLrScheduler);

impl Rates {
    /// The rates of `schedule` from `initial` over `epochs` epochs.
    ///
    /// # Panics
    /// If Burn refuses the schedule, which [`TrainPlan::new`](crate::TrainPlan::new) has
    /// already ruled out.
    pub(crate) fn new(schedule: &Schedule, initial: f64, epochs: usize) -> Self {
        Self(
            schedule
                .scheduler(initial, epochs)
                .expect("the plan checked the schedule with Burn when it was built"),
        )
    }
}

impl Iterator for Rates {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        Some(self.0.step().base())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_come_from_burn() {
        let step = Schedule::Step {
            every: 2,
            gamma: 0.1,
        };
        let rates: Vec<f64> = Rates::new(&step, 1.0, 5).take(5).collect();
        assert!((rates[2] - 0.1).abs() < 1e-12 && (rates[4] - 0.01).abs() < 1e-12);
        let cosine: Vec<f64> = Rates::new(&Schedule::Cosine { min_lr: 0.0 }, 0.5, 4)
            .take(4)
            .collect();
        let want = [
            0.5,
            0.25 * (1.0 + (std::f64::consts::PI / 4.0).cos()),
            0.25,
            0.25 * (1.0 + (3.0 * std::f64::consts::PI / 4.0).cos()),
        ];
        for (got, want) in cosine.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!(Schedule::Cosine { min_lr: 0.0 }.scheduler(2.0, 4).is_err());
        let constant: Vec<f64> = Rates::new(&Schedule::Constant, 0.3, 2).take(2).collect();
        assert_eq!(constant, [0.3, 0.3]);
    }
}
