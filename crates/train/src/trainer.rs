//! The gradient-descent loop of the lessons.

use burn::prelude::*;
use squiggle_model::{Architecture, ParamNames};

use crate::{Backprop, Dataset, StopReason, TrainError, TrainPlan};

/// What happened to one trainable parameter in one step.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamStep {
    /// Flat index of the parameter.
    pub index: usize,
    /// Its value before the step.
    pub value: f64,
    /// The derivative of the loss with respect to it, from Burn's autodiff.
    pub derivative: f64,
    /// `derivative × learning_rate`.
    pub step: f64,
    /// `value − step`, stored at the run's precision.
    pub new_value: f64,
}

/// One row of the lesson's step table.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    /// 0-based step number.
    pub step: usize,
    /// The loss before the step (at `value` of every parameter).
    pub loss: f64,
    /// Every trainable parameter, in flat order.
    pub params: Vec<ParamStep>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Number of steps taken (updates applied).
    pub steps: usize,
    /// The rule that ended the run.
    pub stop_reason: StopReason,
    /// The loss at the initial parameters.
    pub initial_loss: f64,
    /// The loss at the final parameters.
    pub final_loss: f64,
    /// Every parameter at the end, flat order (frozen ones unchanged).
    pub params: Vec<f64>,
}

/// Runs gradient descent from `initial` until a stopping rule fires.
///
/// Each step computes the loss and its derivatives with Burn's autodiff on
/// `device.autodiff()`, then applies the lesson's rule to every trainable parameter:
/// `step size = derivative × learning rate`, `new value = old value − step size`.
/// Frozen parameters never move. `on_step` sees every step as it happens.
///
/// # Errors
/// [`TrainError::NonFinite`] as soon as the loss or a derivative stops being a finite number.
pub fn train(
    arch: &Architecture,
    initial: &[f64],
    data: &Dataset,
    plan: &TrainPlan,
    device: &Device,
    mut on_step: impl FnMut(&StepRecord),
) -> Result<Outcome, TrainError> {
    let backprop =
        Backprop::new(arch, data, plan.loss, device, plan.precision).wanting(&plan.trainable);
    let names = ParamNames::new(arch);
    let trainable = plan.trainable_indices();
    let mut values: Vec<f64> = initial.iter().map(|&v| plan.precision.round(v)).collect();
    let mut initial_loss = None;
    let mut steps = 0;
    let stop_reason = loop {
        if steps >= plan.stop.max_steps {
            break StopReason::MaxSteps;
        }
        let (loss, gradient) = backprop.loss_and_gradient(&values);
        ensure_finite(loss, steps, || "the loss".to_string())?;
        initial_loss.get_or_insert(loss);
        if plan.stop.loss_is_low_enough(loss) {
            break StopReason::TargetLoss;
        }
        let mut record = StepRecord {
            step: steps,
            loss,
            params: Vec::with_capacity(trainable.len()),
        };
        for &i in &trainable {
            let derivative = gradient[i];
            ensure_finite(derivative, steps, || {
                format!("d{}/d{}", plan.loss.symbol(), names.name(i))
            })?;
            let step = derivative * plan.learning_rate;
            let new_value = plan.precision.round(values[i] - step);
            record.params.push(ParamStep {
                index: i,
                value: values[i],
                derivative,
                step,
                new_value,
            });
            values[i] = new_value;
        }
        on_step(&record);
        steps += 1;
        if plan
            .stop
            .steps_are_small(record.params.iter().map(|p| p.step))
        {
            break StopReason::MinStepSize;
        }
    };
    let final_loss = backprop.loss(&values);
    ensure_finite(final_loss, steps, || "the loss".to_string())?;
    Ok(Outcome {
        steps,
        stop_reason,
        initial_loss: initial_loss.unwrap_or(final_loss),
        final_loss,
        params: values,
    })
}

fn ensure_finite(value: f64, step: usize, what: impl FnOnce() -> String) -> Result<(), TrainError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(TrainError::NonFinite {
            step,
            what: what(),
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{PT2, device, lesson_data};
    use crate::{LossKind, StopRules};
    use squiggle_model::{Activation, Precision, standard_normal_values};

    fn plan(trainable: &[usize], lr: f64, precision: Precision) -> TrainPlan {
        let mut trainable_mask = vec![false; 7];
        for &i in trainable {
            trainable_mask[i] = true;
        }
        TrainPlan {
            learning_rate: lr,
            trainable: trainable_mask,
            precision,
            ..TrainPlan::all_trainable(7)
        }
    }

    fn run(
        arch: &Architecture,
        initial: &[f64],
        data: &Dataset,
        plan: &TrainPlan,
    ) -> (Outcome, Vec<StepRecord>) {
        let mut records = Vec::new();
        let outcome = train(arch, initial, data, plan, &device(), |r| {
            records.push(r.clone())
        })
        .expect("training should not diverge");
        (outcome, records)
    }

    /// The step table of "Backpropagation Main Ideas" (shared/statquest.md): b3 only,
    /// learning rate 0.1, stop when |step size| < 0.001.
    #[test]
    fn b3_only_training_matches_the_lesson_step_table() {
        for precision in [Precision::F32, Precision::F64] {
            let plan = plan(&[6], 0.1, precision);
            let (outcome, records) = run(&Architecture::statquest(), &PT2, &lesson_data(), &plan);
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
            assert_eq!(outcome.stop_reason, StopReason::MinStepSize);
            // The final small step is applied: 2.608911 (2.6085 before it).
            assert!((outcome.params[6] - 2.608911).abs() < 1e-4);
            assert!((outcome.initial_loss - 20.423598).abs() < 1e-4);
            assert!(outcome.final_loss < 1e-4);
            assert_eq!(
                &outcome.params[..6],
                &PT2[..6]
                    .iter()
                    .map(|&v| precision.round(v))
                    .collect::<Vec<_>>()[..]
            );
        }
    }

    /// "Backpropagation Details Pt. 1": w3, w4 and b3 from 0.36, 0.63, 0; one step.
    #[test]
    fn w3_w4_b3_first_step_matches_the_lesson() {
        let mut start = PT2;
        start[4] = 0.36;
        start[5] = 0.63;
        let mut plan = plan(&[4, 5, 6], 0.1, Precision::F64);
        plan.stop.max_steps = 1;
        let (outcome, records) = run(&Architecture::statquest(), &start, &lesson_data(), &plan);
        let r = &records[0];
        assert!((r.loss - 1.39767).abs() < 1e-5);
        let derivatives: Vec<f64> = r.params.iter().map(|p| p.derivative).collect();
        for (d, want) in derivatives.iter().zip([2.5761, 1.2568, 1.8996]) {
            assert!((d - want).abs() < 1e-4, "{derivatives:?}");
        }
        for (v, want) in outcome.params[4..].iter().zip([0.1024, 0.5043, -0.1900]) {
            assert!((v - want).abs() < 1e-4, "{:?}", outcome.params);
        }
        assert_eq!(outcome.stop_reason, StopReason::MaxSteps);
    }

    #[test]
    fn frozen_parameters_never_move_even_inside_a_trained_tensor() {
        // Train w3 but not w4, although both live in `output.weight`.
        let mut plan = plan(&[0, 4, 6], 0.05, Precision::F32);
        plan.stop.max_steps = 25;
        let (outcome, records) = run(&Architecture::statquest(), &PT2, &lesson_data(), &plan);
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
    fn zero_learning_rate_changes_nothing() {
        let mut plan = plan(&[0, 1, 2, 3, 4, 5, 6], 0.0, Precision::F64);
        plan.stop.max_steps = 5;
        let (outcome, _) = run(&Architecture::statquest(), &PT2, &lesson_data(), &plan);
        assert_eq!(outcome.params, PT2);
        assert_eq!(outcome.stop_reason, StopReason::MinStepSize);
        assert_eq!(outcome.steps, 1);
        assert_eq!(outcome.initial_loss, outcome.final_loss);
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
        let data = Dataset::from_rows(&rows, 2, 1).unwrap();
        let initial = standard_normal_values(&arch, 42);
        let mut plan = TrainPlan::all_trainable(arch.num_params());
        plan.learning_rate = 0.01;
        plan.stop.max_steps = 50;
        let (a, ra) = run(&arch, &initial, &data, &plan);
        let (b, rb) = run(&arch, &initial, &data, &plan);
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        assert!(a.final_loss < a.initial_loss);
    }

    #[test]
    fn target_loss_stops_before_stepping_and_max_steps_caps_the_run() {
        let mut plan = plan(&[6], 0.1, Precision::F64);
        plan.stop = StopRules {
            max_steps: 1000,
            min_step_size: 0.0,
            target_loss: Some(0.1),
        };
        let (outcome, records) = run(&Architecture::statquest(), &PT2, &lesson_data(), &plan);
        // SSR is 0.5229 before step 2 and 0.0837 before step 3: three steps were taken.
        assert_eq!(outcome.stop_reason, StopReason::TargetLoss);
        assert_eq!(outcome.steps, 3);
        assert_eq!(records.len(), 3);
        assert!((outcome.final_loss - 0.083718).abs() < 1e-5);

        plan.stop = StopRules {
            max_steps: 2,
            min_step_size: 0.0,
            target_loss: None,
        };
        let (outcome, _) = run(&Architecture::statquest(), &PT2, &lesson_data(), &plan);
        assert_eq!(outcome.stop_reason, StopReason::MaxSteps);
        assert_eq!(outcome.steps, 2);
    }

    #[test]
    fn divergence_is_reported_with_the_step() {
        let mut plan = plan(&[0, 1, 2, 3, 4, 5, 6], 1e6, Precision::F32);
        plan.stop.max_steps = 100;
        let err = train(
            &Architecture::statquest(),
            &PT2,
            &lesson_data(),
            &plan,
            &device(),
            |_| {},
        )
        .unwrap_err();
        let TrainError::NonFinite { step, .. } = &err else {
            panic!("expected NonFinite, got {err:?}");
        };
        assert!(*step > 0 && *step < 100, "{err}");
        assert!(
            err.to_string().ends_with("; try a smaller learning_rate"),
            "{err}"
        );
    }

    #[test]
    fn evaluate_reproduces_the_black_box_predictions() {
        let values = [-34.4, -2.52, 2.14, 1.29, -1.30, 2.28, -0.58];
        let arch = Architecture::statquest();
        let backprop = Backprop::new(
            &arch,
            &lesson_data(),
            LossKind::Ssr,
            &device(),
            Precision::F64,
        );
        let eval = backprop.evaluate(&values);
        for (p, want) in eval.predictions.iter().zip([-0.0110, 1.0348, 0.0046]) {
            assert!((p[0] - want).abs() < 5e-5, "{:?}", eval.predictions);
        }
        assert!((eval.loss - 0.00136).abs() < 1e-5);
        assert_eq!(eval.loss, backprop.loss(&values));
    }
}
