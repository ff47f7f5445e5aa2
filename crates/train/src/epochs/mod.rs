//! Training by epochs: the path from the lesson's three points to millions of CSV rows.
//!
//! Each epoch visits the training rows in mini-batches, one step of the training core per
//! batch, then measures the training and validation rows. Around the steps squiggle adds what
//! its users need: rows named by index so that a split or a shuffle never copies the data, a
//! shuffle that depends only on the seed and the epoch (so a resumed run is the same run),
//! learning rates from Burn's schedulers, metrics in the data's original units, early
//! stopping, and checkpoints.

mod checkpoint;
mod metrics;
mod report;

pub use checkpoint::{Checkpoint, CheckpointMeta, NetworkMeta, Progress};
pub use metrics::{MetricSums, Metrics};
use metrics::{RunningConfusion, RunningResiduals};
pub use report::EpochReport;

use std::time::Instant;

use burn::prelude::*;
use squiggle_model::Architecture;

use crate::data::Prepared;
use crate::engine::observer::{BatchProgress, Flow};
use crate::engine::record::{Batch, StepRecord};
use crate::engine::trainer::Trainer;
use crate::engine::{EpochDivergence, Verdict};
use crate::inspect::{Measured, measure};
use crate::plan::{EpochPlan, TrainMetrics};
use crate::{
    EpochsSummary, Observer, Outcome, Scaling, Start, StopReason, Summary, TrainError, TrainPlan,
    shuffle_for_epoch,
};

/// The state of a run after an epoch, from which the observer can take a checkpoint.
pub struct RunState<'a> {
    trainer: &'a Trainer,
    progress: Progress,
    data: &'a crate::Dataset,
    scaling: Option<&'a Scaling>,
}

impl RunState<'_> {
    /// A checkpoint of the run as it stands.
    ///
    /// # Errors
    /// A device that cannot hand the parameters back, or a record Burn cannot serialise.
    pub fn checkpoint(&self) -> Result<Checkpoint, TrainError> {
        let (model, optimizer) = self.trainer.records()?;
        Ok(Checkpoint {
            meta: CheckpointMeta {
                progress: self.progress.clone(),
                network: NetworkMeta::new(self.trainer.arch(), self.data, self.trainer.precision()),
                optimizer: *self.trainer.optimizer(),
                scaling: self.scaling.cloned(),
                data: Some(self.data.identity()),
            },
            model,
            optimizer,
            stale_optimizer_state: false,
        })
    }
}

/// Trains by epochs of mini-batches until `epochs.epochs` or early stopping.
///
/// Resuming hands the optimizer state to Burn, which materialises it on `Device::default()`
/// before moving it to the parameters' device; in a build with a GPU backend compiled in,
/// that default is a GPU device even where none exists, so pin it (`BURN_DEVICE=flex`, as
/// the squiggle binary and this workspace's `.cargo/config.toml` do).
pub(crate) fn run<O: Observer>(
    arch: &Architecture,
    start: Start,
    data: &mut Prepared,
    plan: &TrainPlan,
    epochs: &EpochPlan,
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    let (mut trainer, mut progress) = match start {
        Start::Fresh(values) => (
            Trainer::new(arch, &values, plan, device),
            Progress::default(),
        ),
        Start::Resume(checkpoint) => {
            checkpoint
                .check_resumable(arch, data.data(), plan)
                .map_err(TrainError::from)?;
            let (meta, model, optimizer) = checkpoint.into_parts();
            let trainer = Trainer::restore(arch, model, optimizer, plan, device)
                .map_err(|e| TrainError::Resume(e.into()))?;
            (trainer, meta.progress)
        }
    };
    let precision = plan.precision();
    let mut order = data.take_train_rows();
    // Replay the shuffles of the epochs done, only when there are epochs left to train (a
    // finished run has nothing to shuffle for, whatever its checkpoint claims).
    if epochs.shuffle && progress.epoch < epochs.epochs {
        for epoch in 0..progress.epoch {
            shuffle_for_epoch(&mut order, plan.seed(), epoch);
        }
    }
    let batch = epochs
        .batch_size
        .unwrap_or(order.len())
        .clamp(1, order.len().max(1));
    let batches = order.len().div_ceil(batch);
    let mut rates = plan.rates().skip(progress.epoch);
    let mut last = None;
    let mut best_report = None;
    let mut stop = StopReason::Epochs;
    let mut steps = 0;
    // The network after the last epoch whose loss was finite (its start before any), for a
    // run that diverges: a handle on the device, not a copy.
    let mut last_finite = trainer.inference();
    let mut divergence = None;
    let running = epochs.train_metrics == TrainMetrics::Running;
    let classifier = plan.loss().is_cross_entropy();
    // The denominators of the running R², over the training rows in index order (so that a
    // resumed run computes the same numbers), found through a bitset of them rather than a
    // sorted copy of the row list (which would add 4 bytes a row to the peak memory).
    let column_totals = (running && !classifier).then(|| {
        let mut training = vec![0u64; data.data().len().div_ceil(64)];
        for &r in &order {
            training[r as usize / 64] |= 1 << (r % 64);
        }
        let rows = (0..data.data().len() as u32)
            .filter(|&r| training[r as usize / 64] & (1 << (r % 64)) != 0);
        data.data().column_total_squares(rows)
    });
    let result = (|| -> Result<(), O::Error> {
        while progress.epoch < epochs.epochs {
            let epoch = progress.epoch;
            let lr = rates.next().expect("a schedule has a rate for every epoch");
            if epochs.shuffle {
                shuffle_for_epoch(&mut order, plan.seed(), epoch);
            }
            let started = Instant::now();
            let mut residuals = RunningResiduals::new();
            let mut confusion = RunningConfusion::new();
            for (index, chunk) in order.chunks(batch).enumerate() {
                let (x, y) = data.data().gather(chunk, trainer.autodiff(), precision);
                let pass = trainer.pass(x, y);
                match (running, classifier) {
                    (true, false) => residuals.push(pass.residual_sums()),
                    (true, true) => confusion.push(pass.class_sums()),
                    (false, _) => {}
                }
                let batch_loss = if observer.wants_batch_loss() {
                    Some(trainer.loss_of(&pass)?)
                } else {
                    None
                };
                let mut flow = Flow::Continue;
                if observer.wants_steps() {
                    let loss = match batch_loss {
                        Some(loss) => loss,
                        None => trainer.loss_of(&pass)?,
                    };
                    let before = trainer.values()?;
                    let derivatives = trainer.derivatives(&pass)?;
                    let (params, _) = trainer.apply_recorded(pass, lr, &before, &derivatives)?;
                    let record = StepRecord {
                        step: steps,
                        loss,
                        learning_rate: lr,
                        params,
                        batch: Some(Batch {
                            epoch,
                            index,
                            count: batches,
                            rows: chunk.to_vec(),
                        }),
                    };
                    flow = observer.step(&record)?;
                } else {
                    trainer.apply(pass, lr);
                }
                steps += 1;
                let done = (index * batch + chunk.len()).min(order.len());
                let progress = BatchProgress {
                    epoch,
                    epochs: epochs.epochs,
                    done,
                    total: order.len(),
                    loss: batch_loss,
                };
                if flow == Flow::Stop || observer.batch(&progress)? == Flow::Stop {
                    stop = StopReason::Stopped;
                    return Ok(());
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            let eval = trainer.inference();
            let predictor = crate::Predictor {
                net: &eval,
                kernels: trainer.kernels(),
            };
            // A classifier is measured through its confusion matrix, which the report keeps
            // (running: summed over the epoch's batches, each before its update).
            let on = |rows: (&crate::Dataset, &[u32])| {
                if !plan.loss().is_cross_entropy() {
                    let measured = measure(
                        predictor,
                        rows.0,
                        rows.1,
                        data.scaling(),
                        plan.loss(),
                        precision,
                        trainer.device(),
                    )?;
                    return Ok::<_, TrainError>((measured, None));
                }
                let c = crate::confusion(predictor, rows.0, rows.1, precision, trainer.device())?;
                Ok((c.measured(plan.loss()), Some(c)))
            };
            let (train, train_confusion) = match &column_totals {
                None if running && classifier => {
                    let classes = data
                        .data()
                        .classes()
                        .map_or_else(|| data.data().output_names().to_vec(), |c| c.names.clone());
                    let c = confusion.finish(classes).map_err(TrainError::from)?;
                    (c.measured(plan.loss()), Some(c))
                }
                None => on((data.data(), &order))?,
                Some(totals) => {
                    let (loss, metrics) = residuals
                        .finish(order.len(), totals, plan.loss(), data.scaling())
                        .map_err(TrainError::from)?;
                    (Measured { loss, metrics }, None)
                }
            };
            let (valid, valid_confusion) = match data.valid().map(on).transpose()? {
                Some((measured, c)) => (Some(measured), c),
                None => (None, None),
            };
            // Running metrics describe the parameters before each update: the last update
            // may still have produced non-finite parameters.
            let parameters = if running {
                trainer.values()?.into_iter().find(|v| !v.is_finite())
            } else {
                None
            };
            let losses = [Some(train.loss), valid.as_ref().map(|m| m.loss), parameters];
            if let Some(value) = losses.into_iter().flatten().find(|l| !l.is_finite()) {
                divergence = Some(EpochDivergence {
                    epoch: epoch + 1,
                    value,
                });
                stop = StopReason::Diverged;
                return Ok(());
            }
            last_finite = eval;
            progress.epoch += 1;
            let watched = valid.as_ref().map_or(train.loss, |m| m.loss);
            let best = progress.best.is_none_or(|(b, _)| watched < b);
            if best {
                progress.best = Some((watched, progress.epoch));
                progress.since_best = 0;
            } else {
                progress.since_best += 1;
            }
            let finished = if epochs.patience.is_some_and(|p| progress.since_best >= p) {
                let best_epoch = progress.best.map_or(progress.epoch, |(_, e)| e);
                Some(StopReason::EarlyStopping { best_epoch })
            } else if progress.epoch >= epochs.epochs {
                Some(StopReason::Epochs)
            } else {
                None
            };
            let report = EpochReport {
                epoch: progress.epoch,
                epochs: epochs.epochs,
                learning_rate: lr,
                train_loss: train.loss,
                valid_loss: valid.map(|m| m.loss),
                train: train.metrics,
                valid: valid.map(|m| m.metrics),
                train_confusion,
                valid_confusion,
                seconds,
                rows_per_second: order.len() as f64 / seconds.max(1e-9),
                best,
                stop: finished,
            };
            let state = RunState {
                trainer: &trainer,
                progress: progress.clone(),
                data: data.data(),
                scaling: data.scaling(),
            };
            let flow = observer.epoch(&report, &state)?;
            if best {
                best_report = Some(report.clone());
            }
            last = Some(report);
            if let Some(s) = finished {
                stop = s;
                return Ok(());
            }
            if flow == Flow::Stop {
                stop = StopReason::Stopped;
                return Ok(());
            }
        }
        Ok(())
    })();
    data.put_train_rows(order);
    result?;
    // How much better than the mean the fit is: R², or a classifier's gain over always
    // predicting its most common class.
    let watched_r2 = last.as_ref().and_then(|r: &EpochReport| {
        match r.valid_confusion.as_ref().or(r.train_confusion.as_ref()) {
            Some(c) => Some(c.gain()),
            None => Some(r.valid.unwrap_or(r.train).r2).filter(|r2| r2.is_finite()),
        }
    });
    let params = if divergence.is_some() {
        last_finite.values().map_err(TrainError::from)?
    } else {
        trainer.values()?
    };
    Ok(Outcome {
        stop,
        verdict: Verdict::of(stop, watched_r2),
        steps,
        params,
        summary: Summary::Epochs(Box::new(EpochsSummary {
            epochs: progress.epoch,
            last,
            best: progress.best,
            best_report,
            divergence,
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{PT2, device, lesson_data, plan_with, random_data};
    use crate::{Dataset, Kernels, LossKind, Optimizer, OptimizerKind, ScheduleKind, Settings};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
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

    fn run(
        arch: &Architecture,
        start: Start,
        data: &Dataset,
        valid: Option<&Dataset>,
        plan: &TrainPlan,
    ) -> Result<(Outcome, Keep), TrainError> {
        let mut keep = Keep::default();
        let mut prepared = Prepared::new(data.clone(), valid.cloned(), plan);
        let outcome = crate::train(arch, start, &mut prepared, plan, &device(), &mut keep)?;
        Ok((outcome, keep))
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

        let probe = crate::Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            crate::Kernels::Burn,
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
        let probe = crate::Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            crate::Kernels::Burn,
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
    }

    #[test]
    fn recorded_steps_name_their_mini_batch() {
        let mut rng = StdRng::seed_from_u64(8);
        let data = random_data(&mut rng, 10, 1, 1);
        let arch = Architecture::statquest();
        let mut s = settings(2);
        s.batch_size = Some(4);
        s.shuffle = Some(true);
        s.loss = Some(LossKind::Mse);
        let plan = plan_with(s, &[0, 1, 2, 3, 4, 5, 6]);
        let mut collect = crate::Collect {
            steps_by_epochs: true,
            ..crate::Collect::default()
        };
        let mut prepared = Prepared::new(data, None, &plan);
        let outcome = crate::train(
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
        let classes = crate::Classes {
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
