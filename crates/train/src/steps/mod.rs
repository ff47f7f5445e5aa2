//! Training step by step, as in the lessons: full-batch gradient descent until a stopping
//! rule fires, with one [`StepRecord`](crate::StepRecord) per step carrying every number the lesson's table shows.

use burn::prelude::*;
use squiggle_model::{Architecture, ParamNames};

use crate::data::Prepared;
use crate::engine::error::{Quantity, TrainError};
use crate::engine::observer::Flow;
use crate::engine::observer::Observer;
use crate::engine::record::Update;
use crate::engine::trainer::Trainer;
use crate::engine::{Cause, Divergence, EXPLOSION, StepsSummary, Verdict};
use crate::engine::{Outcome, StopReason, Summary};
use crate::plan::Rates;
use crate::plan::{StopRules, TrainPlan};

/// Runs gradient descent from `initial` until a stopping rule of the plan fires.
///
/// Each step computes the loss and its derivatives with Burn's autodiff, then lets the plan's
/// optimizer move every trainable parameter; under the lessons' plain rule that is
/// `step size = derivative × learning rate`, `new value = old value − step size`. Frozen
/// parameters never move.
///
/// A run that diverges — a loss or derivative that is not finite, or a loss
/// [`EXPLOSION`]-fold its start — ends with [`StopReason::Diverged`], the last parameters
/// whose loss was finite, and a [`Divergence`] saying what happened.
pub(crate) fn run<O: Observer>(
    arch: &Architecture,
    initial: &[f64],
    data: &Prepared,
    plan: &TrainPlan,
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    let mut stepper = Stepper::new(arch, initial, data, plan, device)?;
    while stepper.step(observer)?.is_none() {}
    Ok(stepper.outcome()?)
}

/// Training step by step, one step at a time: the state of [`train`](crate::train)'s
/// step-by-step mode between two steps, for a caller that decides when the next one happens
/// (the playground of `squiggle serve` steps it as its page asks).
///
/// Every step is the core's own: a forward and backward pass on Burn's autodiff and the
/// plan's optimizer update, with the same stopping rules and divergence checks as a whole
/// run, so stepping a `Stepper` to its end gives the numbers of `train`.
pub struct Stepper {
    trainer: Trainer,
    names: ParamNames,
    rules: StopRules,
    loss_kind: crate::engine::loss::LossKind,
    rates: Rates,
    x: Tensor<2>,
    y: Tensor<2>,
    /// The training targets' squares about their mean, and how many values there are: R².
    total_squares: f64,
    values_count: usize,
    values: Vec<f64>,
    /// The state before the last update, for a run whose next loss is not finite.
    previous: Option<(Vec<f64>, f64)>,
    initial_loss: Option<f64>,
    best: Option<(f64, usize)>,
    peak: Option<(f64, usize)>,
    divergence: Option<Divergence>,
    diverged_at: Option<f64>,
    steps: usize,
    stop: Option<StopReason>,
}

impl Stepper {
    /// Ready to train `arch` from `initial` (flat order) on `data`'s training rows, step by
    /// step as `plan` says.
    ///
    /// # Errors
    /// [`TrainError::NotStepByStep`] when the plan trains by epochs; a device that cannot hand the parameters back.
    pub fn new(
        arch: &Architecture,
        initial: &[f64],
        data: &Prepared,
        plan: &TrainPlan,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let Some(rules) = plan.stop_rules().cloned() else {
            return Err(TrainError::NotStepByStep);
        };
        let trainer = Trainer::new(arch, initial, plan, device);
        let rows = data.train_rows();
        let (x, y) = data
            .data()
            .gather(rows, trainer.autodiff(), plan.precision());
        let values = trainer.values()?;
        Ok(Self {
            names: ParamNames::new(arch),
            rules,
            loss_kind: plan.loss(),
            rates: plan.rates(),
            x,
            y,
            total_squares: data.data().total_squares(rows),
            values_count: rows.len() * data.data().outputs(),
            values,
            previous: None,
            initial_loss: None,
            best: None,
            peak: None,
            divergence: None,
            diverged_at: None,
            steps: 0,
            stop: None,
            trainer,
        })
    }

    /// Updates applied so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Every parameter now, flat order; after a divergence, the last finite ones.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The rule that ended the run, once one has.
    pub fn stopped(&self) -> Option<StopReason> {
        self.stop
    }

    /// How the run diverged, if it did.
    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// Takes the next step (checking the stopping rules first, as a whole run does) and shows
    /// it to `observer`. Returns the rule that ended the run, when one did; after that, no
    /// step is taken and the same rule comes back.
    ///
    /// # Errors
    /// A device failure, or the observer's own error.
    pub fn step<O: Observer>(&mut self, observer: &mut O) -> Result<Option<StopReason>, O::Error> {
        if self.stop.is_none() {
            self.stop = self.advance(observer)?;
        }
        Ok(self.stop)
    }

    fn advance<O: Observer>(&mut self, observer: &mut O) -> Result<Option<StopReason>, O::Error> {
        let steps = self.steps;
        if steps >= self.rules.max_steps {
            return Ok(Some(StopReason::MaxSteps));
        }
        let pass = self.trainer.pass(self.x.clone(), self.y.clone());
        let loss = self.trainer.loss_of(&pass)?;
        if !loss.is_finite() {
            let what = Quantity::Loss;
            self.divergence = Some(Divergence {
                step: steps,
                cause: Cause::NonFinite { what, value: loss },
            });
            if let Some((last, last_loss)) = self.previous.take() {
                self.values = last;
                self.diverged_at = Some(last_loss);
            }
            return Ok(Some(StopReason::Diverged));
        }
        let start = *self.initial_loss.get_or_insert(loss);
        if self.best.is_none_or(|(b, _)| loss < b) {
            self.best = Some((loss, steps));
        }
        if self.peak.is_none_or(|(p, _)| loss > p) {
            self.peak = Some((loss, steps));
        }
        if start > 0.0 && loss > EXPLOSION * start {
            self.divergence = Some(Divergence {
                step: steps,
                cause: Cause::Exploded {
                    from: start,
                    to: loss,
                },
            });
            self.diverged_at = Some(loss);
            return Ok(Some(StopReason::Diverged));
        }
        if self.rules.loss_is_low_enough(loss) {
            return Ok(Some(StopReason::TargetLoss));
        }
        let derivatives = self.trainer.derivatives(&pass)?;
        let bad = self
            .trainer
            .trainable()
            .iter()
            .zip(&derivatives)
            .find(|(_, d)| !d.is_finite());
        if let Some((&i, &value)) = bad {
            let what = Quantity::Derivative {
                loss: self.loss_kind.symbol(),
                param: self.names.name(i).to_string(),
            };
            self.divergence = Some(Divergence {
                step: steps,
                cause: Cause::NonFinite { what, value },
            });
            self.diverged_at = Some(loss);
            return Ok(Some(StopReason::Diverged));
        }
        self.previous = Some((self.values.clone(), loss));
        let lr = self
            .rates
            .next()
            .expect("a schedule has a rate for every step");
        let update = Update {
            step: steps,
            loss,
            batch: None,
        };
        let (record, after) =
            self.trainer
                .apply_recorded(pass, lr, update, &self.values, &derivatives)?;
        self.values = after;
        let flow = observer.step(&record)?;
        self.steps += 1;
        if self
            .rules
            .steps_are_small(record.params.iter().map(|p| p.step))
        {
            return Ok(Some(StopReason::MinStepSize));
        }
        Ok((flow == Flow::Stop).then_some(StopReason::Stopped))
    }

    /// The loss at the parameters now ([`Stepper::values`]): after a divergence, the loss
    /// it was seen at.
    ///
    /// # Errors
    /// A device that cannot hand the loss back.
    pub fn loss(&self) -> Result<f64, TrainError> {
        match self.diverged_at {
            Some(loss) => Ok(loss),
            None if self.divergence.is_some() => Ok(f64::NAN),
            None => self.trainer.loss_on(self.x.clone(), self.y.clone()),
        }
    }

    /// How the run went so far: what [`train`](crate::train) returns when the run ends here
    /// (a run no rule has stopped yet ends as [`StopReason::Stopped`]).
    ///
    /// # Errors
    /// A device that cannot hand the loss back.
    pub fn outcome(&self) -> Result<Outcome, TrainError> {
        let stop = self.stop.unwrap_or(StopReason::Stopped);
        let final_loss = self.loss()?;
        let r2 = self
            .loss_kind
            .r_squared(final_loss, self.values_count, self.total_squares)
            .filter(|r2| r2.is_finite());
        Ok(Outcome {
            stop,
            verdict: Verdict::of(stop, r2),
            steps: self.steps,
            params: self.values.clone(),
            summary: Summary::Steps(StepsSummary {
                initial_loss: self.initial_loss.unwrap_or(final_loss),
                final_loss,
                best: self.best,
                peak: self.peak,
                r2,
                divergence: self.divergence.clone(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::checkpoint::Start;
    use crate::engine::error::TrainError;
    use crate::engine::record::StepRecord;
    use crate::fixtures::{PT2, lesson_data, plan_with, run};
    use crate::plan::Settings;
    use squiggle_model::{Activation, Precision, standard_normal_values};

    fn settings(lr: f64, precision: Precision) -> Settings {
        Settings {
            learning_rate: Some(lr),
            precision: Some(precision),
            ..Settings::default()
        }
    }

    /// Trains the lesson's network from `initial` on the three points.
    fn lesson(initial: &[f64], plan: &TrainPlan) -> (Outcome, Vec<StepRecord>) {
        let (outcome, collect) = run(
            &Architecture::statquest(),
            Start::Fresh(initial.to_vec()),
            lesson_data(),
            None,
            plan,
        )
        .expect("training should not diverge");
        (outcome, collect.steps)
    }

    fn losses(outcome: &Outcome) -> (f64, f64) {
        outcome.losses().expect("a run step by step")
    }

    /// The step table of "Backpropagation Main Ideas" (shared/statquest.md): b3 only,
    /// learning rate 0.1, stop when |step size| < 0.001.
    #[test]
    fn b3_only_training_matches_the_lesson_step_table() {
        for precision in [Precision::F32, Precision::F64] {
            let plan = plan_with(settings(0.1, precision), &[6]);
            let (outcome, records) = lesson(&PT2, &plan);
            let table = [
                (0.000000, -15.655108, -1.565511, 20.423598),
                (1.565511, -6.262043, -0.626204, 3.267828),
                (2.191715, -2.504817, -0.250482, 0.522905),
                (2.442197, -1.001927, -0.100193, 0.083718),
            ];
            for (record, (b3, d, step, ssr)) in records.iter().zip(table) {
                let p = &record.params[0];
                assert!((p.value - b3).abs() < 1e-4, "{record:?}");
                assert!((p.derivative - d).abs() < 1e-4, "{record:?}");
                assert!((p.step - step).abs() < 1e-5, "{record:?}");
                assert!((record.loss - ssr).abs() < 1e-4, "{record:?}");
            }
            let last = records.last().unwrap();
            assert_eq!(last.step, 9);
            assert!((last.params[0].value - 2.608501).abs() < 1e-4);
            assert!((last.params[0].step + 0.000410).abs() < 1e-5);
            assert_eq!(outcome.steps, 10);
            assert_eq!(outcome.stop, StopReason::MinStepSize);
            // The final small step is applied: 2.608911 (2.6085 before it).
            assert!((outcome.params[6] - 2.608911).abs() < 1e-4);
            let (initial_loss, final_loss) = losses(&outcome);
            assert!((initial_loss - 20.423598).abs() < 1e-4);
            assert!(final_loss < 1e-4);
            assert_eq!(
                &outcome.params[..6],
                &PT2[..6]
                    .iter()
                    .map(|&v| precision.round(v))
                    .collect::<Vec<_>>()[..]
            );
            // Each step starts where the previous one ended.
            for pair in records.windows(2) {
                assert_eq!(pair[0].params[0].new_value, pair[1].params[0].value);
            }
        }
    }

    /// "Backpropagation Details Pt. 1": w3, w4 and b3 from 0.36, 0.63, 0; one step.
    #[test]
    fn w3_w4_b3_first_step_matches_the_lesson() {
        let mut start = PT2;
        start[4] = 0.36;
        start[5] = 0.63;
        let mut s = settings(0.1, Precision::F64);
        s.max_steps = Some(1);
        let (outcome, records) = lesson(&start, &plan_with(s, &[4, 5, 6]));
        let r = &records[0];
        assert!((r.loss - 1.39767).abs() < 1e-5);
        let derivatives: Vec<f64> = r.params.iter().map(|p| p.derivative).collect();
        for (d, want) in derivatives.iter().zip([2.5761, 1.2568, 1.8996]) {
            assert!((d - want).abs() < 1e-4, "{derivatives:?}");
        }
        for (v, want) in outcome.params[4..].iter().zip([0.1024, 0.5043, -0.1900]) {
            assert!((v - want).abs() < 1e-4, "{:?}", outcome.params);
        }
        assert_eq!(outcome.stop, StopReason::MaxSteps);
    }

    #[test]
    fn frozen_parameters_never_move_even_inside_a_trained_tensor() {
        // Train w3 but not w4, although both live in `output.weight`.
        let mut s = settings(0.05, Precision::F32);
        s.max_steps = Some(25);
        let (outcome, records) = lesson(&PT2, &plan_with(s, &[0, 4, 6]));
        assert_eq!(records.len(), 25);
        for i in [1, 2, 3, 5] {
            assert_eq!(
                outcome.params[i], PT2[i] as f32 as f64,
                "parameter {i} moved"
            );
        }
        for i in [0, 4, 6] {
            assert_ne!(
                outcome.params[i], PT2[i] as f32 as f64,
                "parameter {i} did not train"
            );
        }
        assert!(
            records
                .iter()
                .all(|r| r.params.iter().map(|p| p.index).eq([0, 4, 6]))
        );
    }

    #[test]
    fn zero_steps_change_nothing() {
        // A learning rate of 0 is refused by the plan; a run of no steps is the same thing.
        let mut s = settings(0.1, Precision::F64);
        s.max_steps = Some(0);
        let (outcome, records) = lesson(&PT2, &plan_with(s, &[0, 1, 2, 3, 4, 5, 6]));
        assert_eq!(outcome.params, PT2);
        assert!(records.is_empty());
        assert_eq!(outcome.stop, StopReason::MaxSteps);
        let (initial_loss, final_loss) = losses(&outcome);
        assert_eq!(initial_loss, final_loss);
    }

    #[test]
    fn same_seed_gives_identical_runs() {
        let arch = Architecture::new(2, vec![3, 2], 1, Activation::Tanh).unwrap();
        let rows: Vec<Vec<f64>> = (0..12)
            .map(|i| {
                let a = i as f64 / 6.0 - 1.0;
                vec![a, a * a, (3.0 * a).sin()]
            })
            .collect();
        let data = crate::data::Dataset::from_rows(&rows, 2, 1).unwrap();
        let initial = standard_normal_values(&arch, 42);
        let plan = TrainPlan::new(
            &Settings {
                learning_rate: Some(0.01),
                max_steps: Some(50),
                ..Settings::default()
            },
            &arch,
            vec![true; arch.num_params()],
        )
        .unwrap();
        let go = || {
            run(
                &arch,
                Start::Fresh(initial.clone()),
                data.clone(),
                None,
                &plan,
            )
            .unwrap()
        };
        let ((a, ra), (b, rb)) = (go(), go());
        assert_eq!(a, b);
        assert_eq!(ra.steps, rb.steps);
        let (initial_loss, final_loss) = losses(&a);
        assert!(final_loss < initial_loss);
    }

    #[test]
    fn target_loss_stops_before_stepping_and_max_steps_caps_the_run() {
        let mut s = settings(0.1, Precision::F64);
        s.min_step_size = Some(0.0);
        s.target_loss = Some(0.1);
        let (outcome, records) = lesson(&PT2, &plan_with(s.clone(), &[6]));
        // SSR is 0.5229 before step 2 and 0.0837 before step 3: three steps were taken.
        assert_eq!(outcome.stop, StopReason::TargetLoss);
        assert_eq!(outcome.steps, 3);
        assert_eq!(records.len(), 3);
        assert!((losses(&outcome).1 - 0.083718).abs() < 1e-5);

        s.target_loss = None;
        s.max_steps = Some(2);
        let (outcome, _) = lesson(&PT2, &plan_with(s, &[6]));
        assert_eq!(outcome.stop, StopReason::MaxSteps);
        assert_eq!(outcome.steps, 2);
    }

    #[test]
    fn an_observer_can_stop_the_run_after_any_step() {
        struct StopAt(usize);
        impl Observer for StopAt {
            type Error = TrainError;
            fn step(&mut self, record: &StepRecord) -> Result<Flow, TrainError> {
                Ok(if record.step == self.0 {
                    Flow::Stop
                } else {
                    Flow::Continue
                })
            }
        }
        let plan = plan_with(settings(0.1, Precision::F32), &[6]);
        let mut data = Prepared::new(lesson_data(), None, &plan);
        let outcome = crate::run::train(
            &Architecture::statquest(),
            Start::Fresh(PT2.to_vec()),
            &mut data,
            &plan,
            &crate::fixtures::device(),
            &mut StopAt(2),
        )
        .unwrap();
        assert_eq!((outcome.stop, outcome.steps), (StopReason::Stopped, 3));
        assert!((outcome.params[6] - 2.442197).abs() < 1e-4);
    }

    #[test]
    fn divergence_ends_the_run_at_the_last_finite_state() {
        let mut s = settings(1e6, Precision::F32);
        s.max_steps = Some(100);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let (outcome, records) = lesson(&PT2, &plan);
        assert_eq!(
            (outcome.stop, outcome.verdict),
            (StopReason::Diverged, Verdict::Diverged)
        );
        let summary = outcome.steps_summary().unwrap();
        let divergence = summary.divergence.as_ref().unwrap();
        assert!(
            divergence.step > 0 && divergence.step < 100,
            "{divergence:?}"
        );
        assert!(
            summary.final_loss.is_finite(),
            "the last finite state: {summary:?}"
        );
        assert!(outcome.params.iter().all(|p| p.is_finite()));
        // Every step taken is recorded, so its trace and plots can show the blow-up.
        assert_eq!(records.len(), outcome.steps);
        assert!(
            divergence
                .error()
                .to_string()
                .ends_with("; try a smaller learning_rate")
        );
    }

    /// Pt. 2 with learning rate 0.34: each step overshoots b3's minimum by more than the
    /// last, so the SSR grows (20.4 → 2.4e35 in 1000 steps) while staying finite.
    #[test]
    fn a_loss_that_rises_a_thousandfold_has_diverged() {
        let plan = plan_with(settings(0.34, Precision::F32), &[6]);
        let (outcome, records) = lesson(&PT2, &plan);
        assert_eq!(outcome.stop, StopReason::Diverged);
        let summary = outcome.steps_summary().unwrap();
        let Some(Divergence {
            step,
            cause: Cause::Exploded { from, to },
        }) = summary.divergence
        else {
            panic!("{summary:?}");
        };
        assert!((from - 20.423598).abs() < 1e-4 && to > 1e3 * from);
        assert_eq!(step, records.len());
        assert_eq!(summary.final_loss, to);
        assert_eq!(
            summary.best.map(|(_, s)| s),
            Some(0),
            "every step made it worse"
        );
    }

    #[test]
    fn stopping_at_small_steps_without_a_fit_is_a_stall() {
        // A sine the network cannot follow at this learning rate: the steps shrink below
        // min_step_size long before the fit beats the mean.
        let rows: Vec<Vec<f64>> = (0..40)
            .map(|i| {
                let x = f64::from(i) / 39.0;
                vec![x, (12.0 * x).sin()]
            })
            .collect();
        let data = crate::data::Dataset::from_rows(&rows, 1, 1).unwrap();
        let arch = Architecture::statquest();
        let plan = TrainPlan::new(
            &Settings {
                loss: Some(crate::engine::loss::LossKind::Mse),
                learning_rate: Some(0.01),
                ..Settings::default()
            },
            &arch,
            vec![true; 7],
        )
        .unwrap();
        let (outcome, _) = run(&arch, Start::Fresh(PT2.to_vec()), data, None, &plan).unwrap();
        let r2 = outcome.steps_summary().unwrap().r2.unwrap();
        assert_eq!(outcome.stop, StopReason::MinStepSize, "{outcome:?}");
        assert!(r2 < crate::engine::STALLED_R2, "{r2}");
        assert_eq!(outcome.verdict, Verdict::Stalled);
        // The lesson itself converges.
        let (lesson_run, _) = lesson(&PT2, &plan_with(settings(0.1, Precision::F32), &[6]));
        assert_eq!(lesson_run.verdict, Verdict::Converged);
        assert!(lesson_run.steps_summary().unwrap().r2.unwrap() > 0.999);
    }

    #[test]
    fn a_stepper_stepped_to_its_end_is_the_whole_run() {
        for optimizer in [None, Some(crate::engine::optim::OptimizerKind::Adam)] {
            let mut s = settings(0.05, Precision::F32);
            s.optimizer = optimizer;
            s.max_steps = Some(40);
            let plan = plan_with(s, &[0, 4, 6]);
            let (whole, records) = lesson(&PT2, &plan);
            let data = Prepared::new(lesson_data(), None, &plan);
            let arch = Architecture::statquest();
            let mut stepper =
                Stepper::new(&arch, &PT2, &data, &plan, &crate::fixtures::device()).unwrap();
            let mut collect = crate::engine::observer::Collect::default();
            let mut calls = 0;
            while stepper.step(&mut collect).unwrap().is_none() {
                calls += 1;
                assert_eq!(stepper.steps(), calls);
                for p in &records[calls - 1].params {
                    assert_eq!(stepper.values()[p.index], p.new_value);
                }
            }
            assert_eq!(collect.steps, records);
            assert_eq!(stepper.outcome().unwrap(), whole);
            // Once a rule has fired, no step is taken and the same rule comes back.
            assert_eq!(
                stepper.step(&mut collect).unwrap(),
                Some(StopReason::MaxSteps)
            );
            assert_eq!(stepper.steps(), 40);
            assert_eq!(collect.steps.len(), 40);
        }
        // A plan by epochs is not stepped.
        let epochs = TrainPlan::new(
            &Settings {
                epochs: Some(2),
                ..Settings::default()
            },
            &Architecture::statquest(),
            vec![true; 7],
        )
        .unwrap();
        let data = Prepared::new(lesson_data(), None, &epochs);
        let refused = Stepper::new(
            &Architecture::statquest(),
            &PT2,
            &data,
            &epochs,
            &crate::fixtures::device(),
        );
        assert!(matches!(refused, Err(TrainError::NotStepByStep)));
    }

    #[test]
    fn momentum_and_adam_work_step_by_step_too() {
        for optimizer in [
            Settings {
                momentum: Some(0.9),
                ..settings(0.05, Precision::F64)
            },
            Settings {
                optimizer: Some(crate::engine::optim::OptimizerKind::Adam),
                ..settings(0.05, Precision::F64)
            },
        ] {
            let mut s = optimizer;
            s.max_steps = Some(300);
            s.min_step_size = Some(0.0);
            let (outcome, records) = lesson(&PT2, &plan_with(s, &[6]));
            let (initial_loss, final_loss) = losses(&outcome);
            assert!(final_loss < initial_loss * 1e-3, "{outcome:?}");
            // Not the plain rule: the step is what the optimizer moved.
            let p = &records[1].params[0];
            assert!((p.value - p.step - p.new_value).abs() < 1e-12);
        }
    }
}
