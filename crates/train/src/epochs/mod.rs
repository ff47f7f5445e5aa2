//! Training by epochs: the path from the lesson's three points to millions of CSV rows.
//!
//! Each epoch visits the training rows in mini-batches, one step of the training core per
//! batch, then measures the training and validation rows. Around the steps squiggle adds what
//! its users need: rows named by index so that a split or a shuffle never copies the data, a
//! shuffle that depends only on the seed and the epoch (so a resumed run is the same run),
//! learning rates from Burn's schedulers, metrics in the data's original units, early
//! stopping, and checkpoints.

mod memory;
mod runner;
mod stream;
#[cfg(test)]
mod stream_tests;

pub(crate) use memory::run;
pub use memory::{BatchStep, EpochRunner};
pub use stream::train_stream;

#[cfg(test)]
mod tests {
    use crate::data::Dataset;
    use crate::data::Prepared;
    use crate::engine::checkpoint::Checkpoint;
    use crate::engine::checkpoint::Start;
    use crate::engine::error::TrainError;
    use crate::engine::kernels::Kernels;
    use crate::engine::loss::LossKind;
    use crate::engine::observer::{Flow, Observer};
    use crate::engine::optim::{Optimizer, OptimizerKind};
    use crate::engine::report::{EpochReport, RunState};
    use crate::engine::{EpochsSummary, Outcome, StopReason, Verdict};
    use crate::epochs::{BatchStep, EpochRunner};
    use crate::fixtures::{PT2, device, lesson_data, plan_with, random_data};
    use crate::plan::{ScheduleKind, Settings};
    use crate::plan::{TrainMetrics, TrainPlan};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use squiggle_model::Architecture;
    use squiggle_model::{Activation, Precision};

    /// Records reports and checkpoints, fails nothing.
    #[derive(Debug, Default)]
    struct Keep {
        reports: Vec<EpochReport>,
        checkpoints: Vec<Checkpoint>,
    }

    impl Observer for Keep {
        type Error = TrainError;
        fn epoch(
            &mut self,
            report: &EpochReport,
            state: &RunState<'_>,
        ) -> Result<Flow, TrainError> {
            self.reports.push(report.clone());
            self.checkpoints.push(state.checkpoint()?);
            Ok(Flow::Continue)
        }
    }

    /// Full batch, no shuffle, SSR, f64, learning rate 0.1: the lessons' settings by epochs.
    fn settings(epochs: usize) -> Settings {
        Settings {
            epochs: Some(epochs),
            shuffle: Some(false),
            loss: Some(LossKind::Ssr),
            precision: Some(Precision::F64),
            ..Settings::default()
        }
    }

    /// Shuffled mini-batches of `batch` rows under MSE: [`settings`] for a data set.
    fn mini_batches(epochs: usize, batch: usize) -> Settings {
        Settings {
            batch_size: Some(batch),
            shuffle: Some(true),
            loss: Some(LossKind::Mse),
            ..settings(epochs)
        }
    }

    fn run(
        arch: &Architecture,
        start: Start,
        data: &Dataset,
        valid: Option<&Dataset>,
        plan: &TrainPlan,
    ) -> Result<(Outcome, Keep), TrainError> {
        let mut keep = Keep::default();
        let mut prepared = Prepared::new(data.clone(), valid.cloned(), plan);
        let outcome = crate::run::train(arch, start, &mut prepared, plan, &device(), &mut keep)?;
        Ok((outcome, keep))
    }

    /// Stops the run after `after` mini-batches, keeping the state it was paused with.
    #[derive(Default)]
    struct StopAfter {
        after: usize,
        batches: usize,
        paused: Option<Checkpoint>,
    }

    impl Observer for StopAfter {
        type Error = TrainError;
        fn batch(
            &mut self,
            _: &crate::engine::observer::BatchProgress,
        ) -> Result<Flow, TrainError> {
            self.batches += 1;
            Ok(match self.batches >= self.after {
                true => Flow::Stop,
                false => Flow::Continue,
            })
        }
        fn paused(&mut self, state: &RunState<'_>) -> Result<(), TrainError> {
            self.paused = Some(state.checkpoint()?);
            Ok(())
        }
    }

    #[test]
    fn an_epoch_runner_stepped_by_hand_trains_as_train_does() {
        let mut rng = StdRng::seed_from_u64(11);
        let data = random_data(&mut rng, 70, 1, 1);
        let arch = Architecture::statquest();
        let mut s = settings(4);
        s.batch_size = Some(16);
        s.shuffle = Some(true);
        s.valid_fraction = Some(0.2);
        s.loss = Some(LossKind::Mse);
        s.learning_rate = Some(0.05);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let (whole, keep) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &plan).unwrap();

        let mut prepared = Prepared::new(data.clone(), None, &plan);
        let rows_before = prepared.train_rows().len();
        let mut by_hand = Keep::default();
        let mut runner = EpochRunner::new(
            &arch,
            Start::Fresh(PT2.to_vec()),
            &mut prepared,
            &plan,
            &device(),
        )
        .unwrap();
        let (mut stepped, mut epochs) = (0, 0);
        loop {
            match runner.next_batch(&mut by_hand).unwrap() {
                BatchStep::Stepped => stepped += 1,
                BatchStep::EpochDone => {
                    epochs += 1;
                    assert_eq!(runner.epochs_done() + 1, epochs);
                    if !runner.finish_epoch(&mut by_hand).unwrap() {
                        break;
                    }
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            runner.next_batch(&mut by_hand).unwrap(),
            BatchStep::Finished
        );
        let outcome = runner.outcome().unwrap();
        assert_eq!(outcome.stop, StopReason::Epochs);
        assert!(outcome.params.iter().all(|v| v.is_finite()));
        // 56 training rows in batches of 16: 4 a epoch.
        assert_eq!((stepped, epochs), (16, 4));
        assert_eq!(outcome.params, whole.params);
        assert_eq!(by_hand.reports.len(), keep.reports.len());
        for (a, b) in by_hand.reports.iter().zip(&keep.reports) {
            assert_eq!((a.train_loss, a.valid_loss), (b.train_loss, b.valid_loss));
        }
        assert_eq!(
            prepared.train_rows().len(),
            rows_before,
            "the rows are handed back"
        );
    }

    #[test]
    fn an_epoch_runner_stopped_inside_an_epoch_resumes_where_it_stopped() {
        let mut rng = StdRng::seed_from_u64(12);
        let data = random_data(&mut rng, 50, 1, 1);
        let arch = Architecture::statquest();
        let mut s = mini_batches(3, 8);
        s.learning_rate = Some(0.05);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let (whole, _) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &plan).unwrap();

        let mut prepared = Prepared::new(data.clone(), None, &plan);
        let mut stop = StopAfter {
            after: 9,
            ..StopAfter::default()
        };
        let mut runner = EpochRunner::new(
            &arch,
            Start::Fresh(PT2.to_vec()),
            &mut prepared,
            &plan,
            &device(),
        )
        .unwrap();
        let mut last = BatchStep::Stepped;
        while last == BatchStep::Stepped {
            last = runner.next_batch(&mut stop).unwrap();
            if last == BatchStep::EpochDone {
                assert!(runner.finish_epoch(&mut stop).unwrap());
                last = BatchStep::Stepped;
            }
        }
        assert_eq!(last, BatchStep::Stopped);
        assert_eq!(runner.next_batch(&mut stop).unwrap(), BatchStep::Finished);
        drop(runner);
        let paused = stop.paused.expect("a checkpoint inside the second epoch");
        assert_eq!(paused.meta.progress.epoch, 1);
        let (resumed, _) = run(&arch, Start::Resume(Box::new(paused)), &data, None, &plan).unwrap();
        assert!(whole.params.iter().all(|v| v.is_finite()));
        assert_eq!(resumed.params, whole.params);
    }

    #[test]
    fn wide_batches_gathered_ahead_on_another_thread_train_as_on_one() {
        // 128 rows of 300 inputs: past PREFETCH_VALUES, so two threads gather the next batch
        // while one trains; one thread gathers each in turn.
        let mut rng = StdRng::seed_from_u64(13);
        let data = random_data(&mut rng, 300, 300, 1);
        let arch = Architecture::new(300, vec![4], 1, Activation::Relu).unwrap();
        let mut s = mini_batches(2, 128);
        s.learning_rate = Some(0.001);
        let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let initial =
                squiggle_model::initial_values(&arch, 1, squiggle_model::Initializer::Uniform);
            pool.install(|| run(&arch, Start::Fresh(initial), &data, None, &plan).unwrap())
        };
        let (one, two) = (on(1).0, on(2).0);
        assert!(one.params.iter().all(|v| v.is_finite()));
        assert_eq!(one.params, two.params);
        let last = |o: &Outcome| summary(o).last.as_ref().map(|r| (r.train_loss, r.train));
        assert_eq!(last(&one), last(&two));
    }

    #[test]
    fn an_epoch_runner_refuses_a_plan_that_trains_step_by_step() {
        let plan = plan_with(Settings::default(), &[6]);
        let mut prepared = Prepared::new(lesson_data(), None, &plan);
        let start = Start::Fresh(PT2.to_vec());
        let refused = EpochRunner::new(
            &Architecture::statquest(),
            start,
            &mut prepared,
            &plan,
            &device(),
        );
        assert!(matches!(refused, Err(TrainError::NotByEpochs)));
    }

    fn summary(outcome: &Outcome) -> &EpochsSummary {
        outcome.epochs().expect("a run by epochs")
    }

    #[test]
    fn momentum_and_weight_decay_follow_their_definitions() {
        // Full batch on the lesson, only b3 learning: v ← 0.9·v + (g + λ·b3), b3 ← b3 − lr·v.
        let arch = Architecture::statquest();
        let data = lesson_data();
        let mut s = settings(3);
        s.momentum = Some(0.9);
        s.weight_decay = Some(0.05);
        let plan = plan_with(s, &[6]);
        let (outcome, _) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &plan).unwrap();

        let probe = crate::inspect::Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            crate::engine::kernels::Kernels::Burn,
        );
        let (mut values, mut velocity) = (PT2.to_vec(), 0.0);
        for step in 0..3 {
            let (_, g) = probe.loss_and_gradient(&values).unwrap();
            let g = g[6] + 0.05 * values[6];
            velocity = if step == 0 { g } else { 0.9 * velocity + g };
            values[6] -= 0.1 * velocity;
        }
        assert!(
            (outcome.params[6] - values[6]).abs() < 1e-5,
            "{} vs {}",
            outcome.params[6],
            values[6]
        );
        assert_eq!(outcome.params[..6], PT2[..6], "frozen tensors never move");
    }

    /// Adam's first two steps on the lesson's b3, by hand: with m₀ = v₀ = 0,
    /// `m_t = β1·m + (1−β1)·g`, `v_t = β2·v + (1−β2)·g²`, `θ ← θ − lr·m̂/(√v̂ + ε)`,
    /// `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`. The first step is therefore lr·g/(|g| + ε).
    #[test]
    fn adam_takes_the_hand_computed_first_two_steps() {
        let arch = Architecture::statquest();
        let data = lesson_data();
        let (beta1, beta2, epsilon, lr) = (0.8, 0.99, 1e-6, 0.5);
        let mut s = settings(2);
        s.optimizer = Some(OptimizerKind::Adam);
        s.beta1 = Some(beta1);
        s.beta2 = Some(beta2);
        s.epsilon = Some(epsilon);
        s.learning_rate = Some(lr);
        let plan = plan_with(s, &[6]);
        assert_eq!(plan.optimizer().kind(), OptimizerKind::Adam);
        let (outcome, keep) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &plan).unwrap();
        assert_eq!(summary(&outcome).epochs, 2);

        // dSSR/db3 = 6·b3 − 15.6551 at the lesson's values (shared/statquest.md); the
        // hyperparameters are f32 in Burn, so use their f32 values here too.
        let (b1, b2, eps) = (
            beta1 as f32 as f64,
            beta2 as f32 as f64,
            epsilon as f32 as f64,
        );
        let probe = crate::inspect::Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            crate::engine::kernels::Kernels::Burn,
        );
        let (mut b3, mut m, mut v) = (0.0, 0.0, 0.0);
        let mut after = Vec::new();
        for t in 1..=2 {
            let mut values = PT2.to_vec();
            values[6] = b3;
            let g = probe.loss_and_gradient(&values).unwrap().1[6];
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let (m_hat, v_hat) = (m / (1.0 - b1.powi(t)), v / (1.0 - b2.powi(t)));
            b3 -= lr * m_hat / (v_hat.sqrt() + eps);
            after.push(b3);
        }
        // The first step: lr·g/(|g| + ε) ≈ lr for a negative gradient of size 15.7.
        assert!(
            (after[0] - lr * 15.6551 / (15.6551 + eps)).abs() < 1e-6,
            "{after:?}"
        );
        let first = keep.checkpoints[0]
            .network(&device())
            .unwrap()
            .values()
            .unwrap();
        // Burn keeps β1, β2 and ε in f32 and computes the bias corrections in f32: agreement
        // to 1e-6 here, while a wrong formula would be off by more than 1e-2.
        assert!(
            (first[6] - after[0]).abs() < 1e-6,
            "{} vs {}",
            first[6],
            after[0]
        );
        assert!(
            (outcome.params[6] - after[1]).abs() < 1e-6,
            "{} vs {}",
            outcome.params[6],
            after[1]
        );
    }

    #[test]
    fn a_frozen_scalar_inside_a_trained_tensor_stays_put() {
        // w3 and w4 share output.weight; train w3 (and b3) only.
        let arch = Architecture::statquest();
        for optimizer in [None, Some(OptimizerKind::Adam)] {
            let mut s = settings(5);
            s.optimizer = optimizer;
            s.weight_decay = Some(0.1);
            if optimizer.is_none() {
                s.momentum = Some(0.5);
            }
            let plan = plan_with(s, &[4, 6]);
            let (outcome, _) = run(
                &arch,
                Start::Fresh(PT2.to_vec()),
                &lesson_data(),
                None,
                &plan,
            )
            .unwrap();
            assert_eq!(outcome.params[5], PT2[5], "w4 is frozen");
            assert_ne!(outcome.params[4], PT2[4], "w3 learns");
            assert_ne!(outcome.params[6], PT2[6], "b3 learns");
        }
    }

    #[test]
    fn resuming_from_epoch_k_ends_where_the_full_run_ends() {
        let mut rng = StdRng::seed_from_u64(3);
        let data = random_data(&mut rng, 40, 2, 1);
        let valid = random_data(&mut rng, 10, 2, 1);
        let arch = Architecture::new(2, vec![3], 1, Activation::Softplus).unwrap();
        let initial = squiggle_model::standard_normal_values(&arch, 5);
        let cases = [OptimizerKind::Sgd, OptimizerKind::Adam]
            .into_iter()
            .flat_map(|o| [(o, Kernels::Fused), (o, Kernels::Burn)]);
        for (optimizer, kernels) in cases {
            let s = Settings {
                kernels: Some(kernels),
                epochs: Some(6),
                batch_size: Some(7),
                seed: Some(11),
                momentum: (optimizer == OptimizerKind::Sgd).then_some(0.9),
                optimizer: Some(optimizer),
                learning_rate: Some(0.01),
                valid_csv: true,
                schedule: Some(ScheduleKind::Step),
                step_every: Some(2),
                step_gamma: Some(0.5),
                ..Settings::default()
            };
            let plan = TrainPlan::new(&s, &arch, vec![true; arch.num_params()]).unwrap();
            let (full, keep) = run(
                &arch,
                Start::Fresh(initial.clone()),
                &data,
                Some(&valid),
                &plan,
            )
            .unwrap();
            let third = keep.checkpoints[2].clone();
            let checkpoint = Checkpoint::from_bytes(&third.to_bytes()).unwrap();
            let (resumed, rest) = run(
                &arch,
                Start::Resume(Box::new(checkpoint)),
                &data,
                Some(&valid),
                &plan,
            )
            .unwrap();
            assert_eq!(rest.reports.len(), 3);
            assert_eq!(resumed.params, full.params, "bit for bit");
            let timing = |r: &EpochReport| EpochReport {
                seconds: 0.0,
                rows_per_second: 0.0,
                ..r.clone()
            };
            assert_eq!(
                summary(&resumed).last.as_ref().map(timing),
                summary(&full).last.as_ref().map(timing)
            );
            let rates: Vec<f64> = keep.reports.iter().map(|r| r.learning_rate).collect();
            assert_eq!(rates, [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]);
        }
    }

    /// A checkpoint written by one kernels resumes with the other: the optimizer's state
    /// (momentum's velocity, Adam's moments and step count) carries over, so the resumed run
    /// ends where a whole run with the second kernels ends (within f32 rounding).
    #[test]
    fn checkpoints_are_interchangeable_between_the_kernels() {
        let mut rng = StdRng::seed_from_u64(8);
        let data = random_data(&mut rng, 40, 2, 2);
        let arch = Architecture::new(2, vec![3, 2], 2, Activation::Tanh).unwrap();
        let initial = squiggle_model::standard_normal_values(&arch, 6);
        let optimizers = [
            (OptimizerKind::Sgd, None, None),
            (OptimizerKind::Sgd, Some(0.9), Some(0.01)),
            (OptimizerKind::Adam, None, Some(0.01)),
        ];
        for (optimizer, momentum, weight_decay) in optimizers {
            for (first, second) in [
                (Kernels::Fused, Kernels::Burn),
                (Kernels::Burn, Kernels::Fused),
            ] {
                let plan = |kernels| {
                    let s = Settings {
                        kernels: Some(kernels),
                        epochs: Some(6),
                        batch_size: Some(8),
                        optimizer: Some(optimizer),
                        momentum,
                        weight_decay,
                        learning_rate: Some(0.05),
                        ..Settings::default()
                    };
                    let mut trainable = vec![true; arch.num_params()];
                    trainable[3] = false;
                    TrainPlan::new(&s, &arch, trainable).unwrap()
                };
                let start = || Start::Fresh(initial.clone());
                let (_, earlier) = run(&arch, start(), &data, None, &plan(first)).unwrap();
                let (whole, _) = run(&arch, start(), &data, None, &plan(second)).unwrap();
                let checkpoint =
                    Checkpoint::from_bytes(&earlier.checkpoints[2].to_bytes()).unwrap();
                let (resumed, rest) = run(
                    &arch,
                    Start::Resume(Box::new(checkpoint)),
                    &data,
                    None,
                    &plan(second),
                )
                .unwrap();
                assert_eq!(rest.reports.len(), 3);
                let case =
                    format!("{optimizer} {momentum:?} {weight_decay:?}, {first} then {second}");
                let frozen = Precision::F32.round(initial[3]);
                assert_eq!(resumed.params[3], frozen, "{case}: frozen stays frozen");
                for (r, w) in resumed.params.iter().zip(&whole.params) {
                    assert!(
                        (r - w).abs() <= 1e-5 * w.abs().max(1.0),
                        "{case}: {r} vs {w}"
                    );
                }
                assert_ne!(whole.params, initial);
            }
        }
    }

    #[test]
    fn a_checkpoint_of_another_run_is_refused() {
        let arch = Architecture::statquest();
        let data = lesson_data();
        let plan = plan_with(settings(1), &[6]);
        let (_, keep) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &plan).unwrap();
        let checkpoint = Box::new(keep.checkpoints[0].clone());
        let mut f32 = settings(2);
        f32.precision = Some(Precision::F32);
        let err = run(
            &arch,
            Start::Resume(checkpoint.clone()),
            &data,
            None,
            &plan_with(f32, &[6]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume: the run trained in f64; continuing it in f32 would change every number (use --dtype f64)"
        );
        let mut adam = settings(2);
        adam.optimizer = Some(OptimizerKind::Adam);
        let err = run(
            &arch,
            Start::Resume(checkpoint.clone()),
            &data,
            None,
            &plan_with(adam, &[6]),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume: the run trained with optimizer `sgd`; the config asks for `adam`"
        );
        let wide = Architecture::new(1, vec![3], 1, Activation::Softplus).unwrap();
        let plan = TrainPlan::new(&settings(2), &wide, vec![true; 10]).unwrap();
        let err = run(&wide, Start::Resume(checkpoint), &data, None, &plan).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot resume: the run trained a 1-[2]-1 softplus network on columns x → y; \
             the config describes a 1-[3]-1 softplus network on x → y"
        );
    }

    #[test]
    fn early_stopping_waits_patience_epochs_after_the_best() {
        // Validation targets are the negated training targets: fitting one unfits the other.
        let data = lesson_data();
        let negated =
            Dataset::from_rows(&[vec![0.0, 0.0], vec![0.5, -1.0], vec![1.0, 0.0]], 1, 1).unwrap();
        let arch = Architecture::statquest();
        let mut s = settings(50);
        s.patience = Some(3);
        s.valid_csv = true;
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let (outcome, keep) = run(
            &arch,
            Start::Fresh(PT2.to_vec()),
            &data,
            Some(&negated),
            &plan,
        )
        .unwrap();
        let StopReason::EarlyStopping { best_epoch } = outcome.stop else {
            panic!("expected early stopping, got {:?}", outcome.stop);
        };
        assert_eq!(summary(&outcome).epochs, best_epoch + 3);
        assert!(keep.reports[best_epoch - 1].best);
        assert!(keep.reports[best_epoch..].iter().all(|r| !r.best));
        // Planned to end just there, the run ends as planned, not early.
        let mut s = settings(best_epoch + 3);
        s.patience = Some(3);
        s.valid_csv = true;
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let start = Start::Fresh(PT2.to_vec());
        let (outcome, _) = run(&arch, start, &data, Some(&negated), &plan).unwrap();
        assert_eq!(outcome.stop, StopReason::Epochs);
        assert_eq!(summary(&outcome).epochs, best_epoch + 3);
    }

    #[test]
    fn recorded_steps_name_their_mini_batch() {
        let mut rng = StdRng::seed_from_u64(8);
        let data = random_data(&mut rng, 10, 1, 1);
        let arch = Architecture::statquest();
        let s = mini_batches(2, 4);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let mut collect = crate::engine::observer::Collect {
            steps_by_epochs: true,
            ..crate::engine::observer::Collect::default()
        };
        let mut prepared = Prepared::new(data, None, &plan);
        let outcome = crate::run::train(
            &arch,
            Start::Fresh(PT2.to_vec()),
            &mut prepared,
            &plan,
            &device(),
            &mut collect,
        )
        .unwrap();
        assert_eq!(outcome.steps, 6);
        let batches: Vec<(usize, usize, usize)> = collect
            .steps
            .iter()
            .map(|r| {
                let b = r.batch.as_ref().unwrap();
                (b.epoch, b.index, b.rows.len())
            })
            .collect();
        assert_eq!(
            batches,
            [
                (0, 0, 4),
                (0, 1, 4),
                (0, 2, 2),
                (1, 0, 4),
                (1, 1, 4),
                (1, 2, 2)
            ]
        );
        // Each epoch's batches cover every row once.
        let mut rows: Vec<u32> = collect.steps[..3]
            .iter()
            .flat_map(|r| r.batch.as_ref().unwrap().rows.clone())
            .collect();
        rows.sort_unstable();
        assert_eq!(rows, (0..10).collect::<Vec<u32>>());
        assert_eq!(plan.optimizer(), &Optimizer::GradientDescent);
        let p = &collect.steps[0].params[6];
        assert!((p.value - p.step - p.new_value).abs() < 1e-12);
    }

    /// The epoch reports of full-batch, unshuffled f32 runs with `settings`, with running and
    /// with full training metrics.
    fn running_and_full(
        arch: &Architecture,
        initial: &[f64],
        data: &Dataset,
        settings: Settings,
    ) -> (Vec<EpochReport>, Vec<EpochReport>) {
        let reports = |metrics: TrainMetrics| {
            let plan = TrainPlan::new(
                &Settings {
                    shuffle: Some(false),
                    train_metrics: Some(metrics),
                    precision: Some(Precision::F32),
                    ..settings.clone()
                },
                arch,
                vec![true; arch.num_params()],
            )
            .unwrap();
            run(arch, Start::Fresh(initial.to_vec()), data, None, &plan)
                .unwrap()
                .1
                .reports
        };
        (reports(TrainMetrics::Running), reports(TrainMetrics::Full))
    }

    #[test]
    fn running_metrics_describe_each_batch_before_its_update() {
        // Full batches: one update per epoch, so epoch k + 1's running metrics are those of the
        // parameters after epoch k, which the full pass measures. Two targets on different
        // scales, standardised: the running sums must be turned back into original units.
        let arch = Architecture::new(2, vec![3], 2, Activation::Softplus).unwrap();
        let mut rng = StdRng::seed_from_u64(5);
        let mut data = random_data(&mut rng, 40, 2, 2);
        let (x, y) = data.values_mut();
        for v in x.iter_mut().chain(y.iter_mut().step_by(2)) {
            *v = *v * 30.0 + 100.0;
        }
        let initial = squiggle_model::standard_normal_values(&arch, 3);
        let settings = Settings {
            epochs: Some(4),
            learning_rate: Some(0.05),
            standardize: Some(true),
            valid_fraction: Some(0.25),
            ..Settings::default()
        };
        let (running, full) = running_and_full(&arch, &initial, &data, settings);
        for (r, f) in running[1..].iter().zip(&full) {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
            assert!(close(r.train_loss, f.train_loss), "{r:?} vs {f:?}");
            let (rm, fm) = (r.train, f.train);
            for (a, b) in [
                (rm.mse, fm.mse),
                (rm.rmse, fm.rmse),
                (rm.mae, fm.mae),
                (rm.r2, fm.r2),
            ] {
                assert!(close(a, b), "{rm:?} vs {fm:?}");
            }
        }
        // Validation is measured in full either way.
        for (r, f) in running.iter().zip(&full) {
            assert_eq!((r.valid_loss, r.valid), (f.valid_loss, f.valid));
        }
    }

    #[test]
    fn running_sums_read_back_in_rounds_add_up_every_batch() {
        // 2,100 batches of one row, with next to nothing trained (one bias, at a rate of
        // 1e-9): the running sums are read back after 1,024 and 2,048 batches and at the end,
        // and must count every batch once, so they measure what the full pass measures.
        let arch = Architecture::new(2, vec![3], 1, Activation::Softplus).unwrap();
        let data = random_data(&mut StdRng::seed_from_u64(8), 2100, 2, 1);
        let initial = squiggle_model::standard_normal_values(&arch, 4);
        let reports = |metrics: TrainMetrics| {
            let settings = Settings {
                epochs: Some(1),
                batch_size: Some(1),
                learning_rate: Some(1e-9),
                train_metrics: Some(metrics),
                ..Settings::default()
            };
            let mut trainable = vec![false; arch.num_params()];
            trainable[arch.num_params() - 1] = true;
            let plan = TrainPlan::new(&settings, &arch, trainable).unwrap();
            run(&arch, Start::Fresh(initial.clone()), &data, None, &plan)
                .unwrap()
                .1
                .reports
        };
        let (running, full) = (reports(TrainMetrics::Running), reports(TrainMetrics::Full));
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        let (r, f) = (&running[0], &full[0]);
        assert!(close(r.train_loss, f.train_loss), "{r:?} vs {f:?}");
        assert!(close(r.train.mae, f.train.mae), "{r:?} vs {f:?}");
    }

    #[test]
    fn a_classifiers_running_metrics_add_up_its_batches_before_their_updates() {
        // Full batches, as above: epoch k + 1's running confusion matrix and cross entropy are
        // those of the parameters after epoch k, which the full pass measures.
        let arch = Architecture::new(2, vec![4], 3, Activation::Softplus).unwrap();
        let mut rng = StdRng::seed_from_u64(9);
        let plain = random_data(&mut rng, 60, 2, 1);
        let labels: Vec<u32> = (0..60)
            .map(|r| {
                let row = plain.input_row(r);
                u32::from(row[0] > 0.0) + u32::from(row[1] > 0.5)
            })
            .collect();
        let classes = crate::data::Classes {
            column: "class".into(),
            names: vec!["a".into(), "b".into(), "c".into()],
        };
        let data = Dataset::from_labels(
            plain.input_values().to_vec(),
            &labels,
            vec!["x1".into(), "x2".into()],
            classes,
        );
        let initial = squiggle_model::standard_normal_values(&arch, 4);
        let settings = Settings {
            epochs: Some(5),
            learning_rate: Some(0.5),
            loss: Some(LossKind::CrossEntropy),
            valid_fraction: Some(0.2),
            ..Settings::default()
        };
        let (running, full) = running_and_full(&arch, &initial, &data, settings);
        assert_eq!(running.len(), 5);
        for (r, f) in running[1..].iter().zip(&full) {
            let close = (r.train_loss - f.train_loss).abs() <= 1e-5 * f.train_loss.max(1.0);
            assert!(close, "{r:?} vs {f:?}");
            let (rc, fc) = (r.train_confusion.as_ref(), f.train_confusion.as_ref());
            assert_eq!(rc.map(|c| &c.counts), fc.map(|c| &c.counts));
            assert_eq!(r.train.accuracy, f.train.accuracy);
        }
        for (r, f) in running.iter().zip(&full) {
            assert_eq!(
                (r.valid_loss, &r.valid_confusion),
                (f.valid_loss, &f.valid_confusion)
            );
        }
    }

    #[test]
    fn divergence_ends_the_run_at_the_last_finite_epoch_not_a_nan_model() {
        let arch = Architecture::statquest();
        let mut s = settings(30);
        s.learning_rate = Some(50.0);
        s.precision = Some(Precision::F32);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let (outcome, keep) = run(
            &arch,
            Start::Fresh(PT2.to_vec()),
            &lesson_data(),
            None,
            &plan,
        )
        .unwrap();
        assert_eq!(
            (outcome.stop, outcome.verdict),
            (StopReason::Diverged, Verdict::Diverged)
        );
        let summary = summary(&outcome);
        let divergence = summary.divergence.expect("a divergence");
        assert!(!divergence.value.is_finite());
        // Every epoch before it was reported (and checkpointed); none after.
        assert_eq!(keep.reports.len(), divergence.epoch - 1);
        assert!(outcome.params.iter().all(|p| p.is_finite()), "{outcome:?}");
        match keep.checkpoints.last() {
            Some(last) => {
                let net = last.network(&device()).unwrap();
                assert_eq!(net.values().unwrap(), outcome.params);
            }
            None => assert_eq!(outcome.params, PT2.map(|v| v as f32 as f64)),
        }
        assert!(matches!(
            outcome.divergence_error(),
            Some(TrainError::Diverged { .. })
        ));
    }
}
