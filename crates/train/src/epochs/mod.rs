//! Training by epochs: the path from the lesson's three points to millions of CSV rows.
//!
//! Each epoch visits the training rows in mini-batches, one step of the training core per
//! batch, then measures the training and validation rows. Around the steps squiggle adds what
//! its users need: rows named by index so that a split or a shuffle never copies the data, a
//! shuffle that depends only on the seed and the epoch (so a resumed run is the same run),
//! learning rates from Burn's schedulers, metrics in the data's original units, early
//! stopping, and checkpoints.

#[cfg(test)]
mod stream_tests;

use std::time::Instant;

use burn::prelude::*;
use squiggle_model::Architecture;

use crate::data::{Prepared, Stream};
use crate::data::{Scaling, shuffle_for_epoch};
use crate::engine::checkpoint::Start;
use crate::engine::checkpoint::{Progress, Within};
use crate::engine::error::TrainError;
use crate::engine::metrics::{RunningConfusion, RunningResiduals, RunningSums};
use crate::engine::observer::Observer;
use crate::engine::observer::{BatchProgress, Flow};
use crate::engine::record::{Batch, StepRecord};
use crate::engine::report::{EpochReport, RunState};
use crate::engine::trainer::Trainer;
use crate::engine::{EpochDivergence, Verdict};
use crate::engine::{EpochsSummary, Outcome, StopReason, Summary};
use crate::inspect::{Measured, Tally};
use crate::plan::TrainPlan;
use crate::plan::{EpochPlan, TrainMetrics};

/// The state of a run by epochs between batches and epochs, whatever holds its rows (a
/// [`Prepared`] data set in memory, or a [`Stream`] read by epochs): the trainer, the
/// progress, the schedule and what the run has seen so far.
struct Runner<'a, O: Observer> {
    trainer: Trainer,
    progress: Progress,
    plan: &'a TrainPlan,
    epochs: &'a EpochPlan,
    observer: &'a mut O,
    rates: Box<dyn Iterator<Item = f64> + 'a>,
    last: Option<EpochReport>,
    best_report: Option<EpochReport>,
    stop: StopReason,
    steps: usize,
    /// The network after the last epoch whose loss was finite (its start before any), for a
    /// run that diverges: a handle on the device, not a copy.
    last_finite: squiggle_model::Network,
    divergence: Option<EpochDivergence>,
    running: bool,
    classifier: bool,
    /// Where a resumed run stopped inside its next epoch.
    within: Option<Within>,
    /// What makes the epochs' batches ([`TrainPlan::batch_order`]).
    order: String,
}

/// One epoch's running sums of the training batches, each before its update.
struct Running {
    residuals: RunningResiduals,
    confusion: RunningConfusion,
}

/// A mini-batch as the runner steps it.
struct Step {
    epoch: usize,
    index: usize,
    batches: usize,
    /// Training rows done in the epoch after this batch, of `total`.
    done: usize,
    total: usize,
}

impl<'a, O: Observer> Runner<'a, O> {
    /// A fresh or resumed run, its data described by `data` (checked against a checkpoint).
    /// `buffer`: a streamed run's shuffle buffer ([`Stream::buffered`]).
    #[allow(clippy::too_many_arguments)]
    fn new(
        arch: &Architecture,
        start: Start,
        data: &crate::data::Dataset,
        buffer: Option<u64>,
        plan: &'a TrainPlan,
        epochs: &'a EpochPlan,
        device: &Device,
        observer: &'a mut O,
    ) -> Result<Self, O::Error> {
        let (trainer, mut progress) = match start {
            Start::Fresh(values) => (
                Trainer::new(arch, &values, plan, device),
                Progress::default(),
            ),
            Start::Resume(checkpoint) => {
                checkpoint
                    .check_resumable(arch, data, plan, buffer)
                    .map_err(TrainError::from)?;
                let (meta, model, optimizer) = checkpoint.into_parts();
                let trainer = Trainer::restore(arch, model, optimizer, plan, device)
                    .map_err(|e| TrainError::Resume(e.into()))?;
                (trainer, meta.progress)
            }
        };
        let last_finite = trainer.inference();
        let within = progress.within.take();
        Ok(Self {
            rates: Box::new(plan.rates().skip(progress.epoch)),
            trainer,
            progress,
            plan,
            epochs,
            observer,
            last: None,
            best_report: None,
            stop: StopReason::Epochs,
            steps: 0,
            last_finite,
            divergence: None,
            running: epochs.train_metrics == TrainMetrics::Running,
            classifier: plan.loss().is_cross_entropy(),
            within,
            order: plan.batch_order(buffer),
        })
    }

    /// The start of the next epoch: how far a stopped run got into it (the batches to pass
    /// over, their rows and seconds; nothing for a fresh epoch), and its running sums so far.
    fn enter_epoch(&mut self) -> (Within, Running) {
        let within = self.within.take().unwrap_or_default();
        let mut running = Running::new();
        running.residuals.resume(&within.sums);
        running.confusion.resume(&within.sums);
        (within, running)
    }

    /// Hands the observer the state of a run stopped inside its current epoch after
    /// `batches` batches of `rows` rows in `seconds`, from which a checkpoint resumes it at the
    /// next batch.
    fn pause(
        &mut self,
        (batches, rows, seconds): (usize, usize, f64),
        running: &mut Running,
        data: &crate::data::Dataset,
        scaling: Option<&Scaling>,
    ) -> Result<(), O::Error> {
        let mut sums = RunningSums::default();
        running
            .residuals
            .save(&mut sums)
            .map_err(TrainError::from)?;
        running
            .confusion
            .save(&mut sums)
            .map_err(TrainError::from)?;
        let mut progress = self.progress.clone();
        progress.within = Some(Within {
            order: self.order.clone(),
            batches,
            rows: rows as u64,
            seconds,
            sums,
        });
        let state = RunState {
            trainer: &self.trainer,
            progress,
            data,
            scaling,
        };
        self.observer.paused(&state)
    }

    /// True while epochs are left to train.
    fn epochs_left(&self) -> bool {
        self.progress.epoch < self.epochs.epochs
    }

    /// The next epoch's learning rate.
    fn next_rate(&mut self) -> f64 {
        self.rates
            .next()
            .expect("a schedule has a rate for every epoch")
    }

    /// One step on the batch `x`, `y`; false when the observer stops the run.
    fn step(
        &mut self,
        (x, y): (Tensor<2>, Tensor<2>),
        lr: f64,
        at: Step,
        rows: impl FnOnce() -> Vec<u32>,
        running: &mut Running,
    ) -> Result<bool, O::Error> {
        let trainer = &mut self.trainer;
        let pass = trainer.pass(x, y);
        match (self.running, self.classifier) {
            (true, false) => running
                .residuals
                .push(pass.residual_sums())
                .map_err(TrainError::from)?,
            (true, true) => running
                .confusion
                .push(pass.class_sums())
                .map_err(TrainError::from)?,
            (false, _) => {}
        }
        let batch_loss = if self.observer.wants_batch_loss() {
            Some(trainer.loss_of(&pass)?)
        } else {
            None
        };
        let mut flow = Flow::Continue;
        if self.observer.wants_steps() {
            let loss = match batch_loss {
                Some(loss) => loss,
                None => trainer.loss_of(&pass)?,
            };
            let before = trainer.values()?;
            let derivatives = trainer.derivatives(&pass)?;
            let (params, _) = trainer.apply_recorded(pass, lr, &before, &derivatives)?;
            let record = StepRecord {
                step: self.steps,
                loss,
                learning_rate: lr,
                params,
                batch: Some(Batch {
                    epoch: at.epoch,
                    index: at.index,
                    count: at.batches,
                    rows: rows(),
                }),
            };
            flow = self.observer.step(&record)?;
        } else {
            trainer.apply(pass, lr);
        }
        self.steps += 1;
        let progress = BatchProgress {
            epoch: at.epoch,
            epochs: self.epochs.epochs,
            done: at.done,
            total: at.total,
            loss: batch_loss,
        };
        if flow == Flow::Stop || self.observer.batch(&progress)? == Flow::Stop {
            self.stop = StopReason::Stopped;
            return Ok(false);
        }
        Ok(true)
    }

    /// The running training loss and metrics of an epoch's `rows` rows, whose targets'
    /// total squares are `totals` (a regression's).
    fn running_train(
        &self,
        running: Running,
        rows: usize,
        totals: &[f64],
        data: &crate::data::Dataset,
        scaling: Option<&Scaling>,
    ) -> Result<(Measured, Option<crate::inspect::Confusion>), TrainError> {
        if self.classifier {
            let classes = data
                .classes()
                .map_or_else(|| data.output_names().to_vec(), |c| c.names.clone());
            let c = running.confusion.finish(classes)?;
            return Ok((c.measured(self.plan.loss()), Some(c)));
        }
        let (loss, metrics) = running
            .residuals
            .finish(rows, totals, self.plan.loss(), scaling)?;
        Ok((Measured { loss, metrics }, None))
    }

    /// Ends an epoch measured as `train` and `valid` after `seconds` over `rows` training
    /// rows: the report, early stopping, divergence, the observer; false when the run ends.
    #[allow(clippy::too_many_arguments)]
    fn end_epoch(
        &mut self,
        lr: f64,
        (train, train_confusion): (Measured, Option<crate::inspect::Confusion>),
        valid: Option<(Measured, Option<crate::inspect::Confusion>)>,
        seconds: f64,
        rows: usize,
        data: &crate::data::Dataset,
        scaling: Option<&Scaling>,
    ) -> Result<bool, O::Error> {
        let epoch = self.progress.epoch;
        let eval = self.trainer.inference();
        let (valid, valid_confusion) = match valid {
            Some((measured, c)) => (Some(measured), c),
            None => (None, None),
        };
        // Running metrics describe the parameters before each update: the last update
        // may still have produced non-finite parameters.
        let parameters = if self.running {
            self.trainer.values()?.into_iter().find(|v| !v.is_finite())
        } else {
            None
        };
        let losses = [Some(train.loss), valid.as_ref().map(|m| m.loss), parameters];
        if let Some(value) = losses.into_iter().flatten().find(|l| !l.is_finite()) {
            self.divergence = Some(EpochDivergence {
                epoch: epoch + 1,
                value,
            });
            self.stop = StopReason::Diverged;
            return Ok(false);
        }
        self.last_finite = eval;
        let progress = &mut self.progress;
        progress.epoch += 1;
        let watched = valid.as_ref().map_or(train.loss, |m| m.loss);
        let best = progress.best.is_none_or(|(b, _)| watched < b);
        if best {
            progress.best = Some((watched, progress.epoch));
            progress.since_best = 0;
        } else {
            progress.since_best += 1;
        }
        // The planned last epoch ends the run as planned, whatever the patience says.
        let finished = if progress.epoch >= self.epochs.epochs {
            Some(StopReason::Epochs)
        } else if self
            .epochs
            .patience
            .is_some_and(|p| progress.since_best >= p)
        {
            let best_epoch = progress.best.map_or(progress.epoch, |(_, e)| e);
            Some(StopReason::EarlyStopping { best_epoch })
        } else {
            None
        };
        let report = EpochReport {
            epoch: progress.epoch,
            epochs: self.epochs.epochs,
            learning_rate: lr,
            train_loss: train.loss,
            valid_loss: valid.map(|m| m.loss),
            train: train.metrics,
            valid: valid.map(|m| m.metrics),
            train_confusion,
            valid_confusion,
            seconds,
            rows_per_second: rows as f64 / seconds.max(1e-9),
            best,
            stop: finished,
        };
        let state = RunState {
            trainer: &self.trainer,
            progress: progress.clone(),
            data,
            scaling,
        };
        let flow = self.observer.epoch(&report, &state)?;
        if best {
            self.best_report = Some(report.clone());
        }
        self.last = Some(report);
        if let Some(s) = finished {
            self.stop = s;
            return Ok(false);
        }
        if flow == Flow::Stop {
            self.stop = StopReason::Stopped;
            return Ok(false);
        }
        Ok(true)
    }

    /// How the run ended.
    fn outcome(self) -> Result<Outcome, O::Error> {
        // How much better than the mean the fit is: R², or a classifier's gain over always
        // predicting its most common class.
        let watched_r2 = self.last.as_ref().and_then(|r: &EpochReport| {
            match r.valid_confusion.as_ref().or(r.train_confusion.as_ref()) {
                Some(c) => Some(c.gain()),
                None => Some(r.valid.unwrap_or(r.train).r2).filter(|r2| r2.is_finite()),
            }
        });
        let params = if self.divergence.is_some() {
            self.last_finite.values().map_err(TrainError::from)?
        } else {
            self.trainer.values()?
        };
        Ok(Outcome {
            stop: self.stop,
            verdict: Verdict::of(self.stop, watched_r2),
            steps: self.steps,
            params,
            summary: Summary::Epochs(Box::new(EpochsSummary {
                epochs: self.progress.epoch,
                last: self.last,
                best: self.progress.best,
                best_report: self.best_report,
                divergence: self.divergence,
            })),
        })
    }
}

impl Running {
    fn new() -> Self {
        Self {
            residuals: RunningResiduals::new(),
            confusion: RunningConfusion::new(),
        }
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
    let mut runner = Runner::new(
        arch,
        start,
        data.data(),
        None,
        plan,
        epochs,
        device,
        observer,
    )?;
    let precision = plan.precision();
    let mut order = data.take_train_rows();
    // Replay the shuffles of the epochs done, only when there are epochs left to train (a
    // finished run has nothing to shuffle for, whatever its checkpoint claims).
    if epochs.shuffle && runner.epochs_left() {
        for epoch in 0..runner.progress.epoch {
            shuffle_for_epoch(&mut order, plan.seed(), epoch);
        }
    }
    let batch = epochs
        .batch_size
        .unwrap_or(order.len())
        .clamp(1, order.len().max(1));
    let batches = order.len().div_ceil(batch);
    // The denominators of the running R², over the training rows in index order (so that a
    // resumed run computes the same numbers), found through a bitset of them rather than a
    // sorted copy of the row list (which would add 4 bytes a row to the peak memory).
    let column_totals = (runner.running && !runner.classifier).then(|| {
        let mut training = vec![0u64; data.data().len().div_ceil(64)];
        for &r in &order {
            training[r as usize / 64] |= 1 << (r % 64);
        }
        let rows = (0..data.data().len() as u32)
            .filter(|&r| training[r as usize / 64] & (1 << (r % 64)) != 0);
        data.data().column_total_squares(rows)
    });
    let result = (|| -> Result<(), O::Error> {
        while runner.epochs_left() {
            let epoch = runner.progress.epoch;
            let lr = runner.next_rate();
            if epochs.shuffle {
                shuffle_for_epoch(&mut order, plan.seed(), epoch);
            }
            let (within, mut running) = runner.enter_epoch();
            let started = Instant::now();
            let chunks = order.chunks(batch).enumerate().skip(within.batches);
            for (index, chunk) in chunks {
                let tensors = data
                    .data()
                    .gather(chunk, runner.trainer.autodiff(), precision);
                let done = (index * batch + chunk.len()).min(order.len());
                let at = Step {
                    epoch,
                    index,
                    batches,
                    done,
                    total: order.len(),
                };
                if !runner.step(tensors, lr, at, || chunk.to_vec(), &mut running)? {
                    let seconds = within.seconds + started.elapsed().as_secs_f64();
                    let (rows, scaling) = (data.data(), data.scaling());
                    runner.pause((index + 1, done, seconds), &mut running, rows, scaling)?;
                    return Ok(());
                }
            }
            let seconds = within.seconds + started.elapsed().as_secs_f64();
            let eval = runner.trainer.inference();
            let predictor = crate::inspect::Predictor {
                net: &eval,
                kernels: runner.trainer.kernels(),
            };
            // A classifier is measured through its confusion matrix, which the report keeps
            // (running: summed over the epoch's batches, each before its update).
            let on = |(rows, which): (&crate::data::Dataset, &[u32])| {
                let (device, scaling) = (runner.trainer.device(), data.scaling());
                let mut tally = Tally::new(rows.outputs(), plan.loss());
                tally.add(predictor, rows, which, scaling, precision, device)?;
                Ok::<_, TrainError>(tally.measured(plan.loss()))
            };
            let train = match &column_totals {
                None if runner.running && runner.classifier => {
                    runner.running_train(running, order.len(), &[], data.data(), None)?
                }
                None => on((data.data(), &order))?,
                Some(totals) => runner.running_train(
                    running,
                    order.len(),
                    totals,
                    data.data(),
                    data.scaling(),
                )?,
            };
            let valid = data.valid().map(on).transpose()?;
            if !runner.end_epoch(
                lr,
                train,
                valid,
                seconds,
                order.len(),
                data.data(),
                data.scaling(),
            )? {
                return Ok(());
            }
        }
        Ok(())
    })();
    data.put_train_rows(order);
    result?;
    runner.outcome()
}

/// Trains by epochs on a [`Stream`]: each epoch reads the file through, training on its
/// training rows as the shuffle buffer hands them out, then reads it again to measure the
/// validation rows (and, with `train_metrics = "full"`, the training rows); `valid`: rows of
/// a validation file of their own, scaled as the stream is. As in memory, the observer gets
/// a checkpoint at the end of each epoch, and one inside an epoch when it stops the run there
/// ([`Observer::paused`]), from which the run resumes at its next batch.
///
/// # Errors
/// As [`train`](crate::train), and the file's first problem (it may have changed since the
/// passes before training).
pub fn train_stream<O: Observer>(
    arch: &Architecture,
    start: Start,
    stream: &Stream,
    valid: Option<&crate::data::Dataset>,
    plan: &TrainPlan,
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    let Some(epochs) = plan.epoch_plan() else {
        return Err(TrainError::StreamByEpochs.into());
    };
    let data = stream.template();
    let buffer = stream.buffered();
    let mut runner = Runner::new(arch, start, data, buffer, plan, epochs, device, observer)?;
    let precision = plan.precision();
    let total = usize::try_from(stream.train_len()).unwrap_or(usize::MAX);
    let batch = epochs.batch_size.unwrap_or(total).clamp(1, total.max(1));
    let batches = total.div_ceil(batch);
    let mut carried = stream.carried_order(epochs.shuffle, runner.progress.epoch);
    let csv = |e: crate::data::csv::error::CsvError| O::Error::from(TrainError::Stream(e));
    while runner.epochs_left() {
        let epoch = runner.progress.epoch;
        let lr = runner.next_rate();
        let (within, mut running) = runner.enter_epoch();
        let started = Instant::now();
        let (mut index, mut done) = (0, 0);
        let going = stream.epoch(
            epoch,
            epochs.shuffle,
            batch,
            carried.as_mut(),
            |rows: &crate::data::Dataset| -> Result<bool, StreamStop<O::Error>> {
                done += rows.len();
                index += 1;
                // The batches a stopped run stepped already are read again, not stepped.
                if index <= within.batches {
                    return Ok(true);
                }
                let tensors = rows.gather_all(runner.trainer.autodiff(), precision);
                let at = Step {
                    epoch,
                    index: index - 1,
                    batches,
                    done,
                    total,
                };
                let going = runner.step(tensors, lr, at, Vec::new, &mut running);
                if !going.map_err(StreamStop::Observer)? {
                    let seconds = within.seconds + started.elapsed().as_secs_f64();
                    runner
                        .pause((index, done, seconds), &mut running, data, stream.scaling())
                        .map_err(StreamStop::Observer)?;
                    return Ok(false);
                }
                Ok(true)
            },
        );
        match going {
            Ok(true) => {}
            Ok(false) => break,
            Err(StreamStop::Csv(e)) => return Err(csv(e)),
            Err(StreamStop::Observer(e)) => return Err(e),
        }
        let seconds = within.seconds + started.elapsed().as_secs_f64();
        let eval = runner.trainer.inference();
        let predictor = crate::inspect::Predictor {
            net: &eval,
            kernels: runner.trainer.kernels(),
        };
        let full = !runner.running;
        let want_valid = stream.valid_len() > 0 || valid.is_some();
        let (mut train_tally, mut valid_tally) = (
            Tally::new(data.outputs(), plan.loss()),
            Tally::new(data.outputs(), plan.loss()),
        );
        if let Some(file) = valid {
            let rows: Vec<u32> = (0..file.len() as u32).collect();
            let (scaling, device) = (stream.scaling(), runner.trainer.device());
            valid_tally
                .add(predictor, file, &rows, scaling, precision, device)
                .map_err(TrainError::from)?;
        }
        if full || stream.valid_len() > 0 {
            // Rows are measured in whole chunks gathered across windows, as an in-memory run
            // measures them (the same chunks, and a handful of tensor shapes).
            let chunk = crate::inspect::PREDICT_CHUNK;
            let (scaling, device) = (stream.scaling(), runner.trainer.device());
            let mut pending = [data.empty_like(chunk), data.empty_like(chunk)];
            let mut tallies = [&mut train_tally, &mut valid_tally];
            let mut flush = |k: usize, pending: &mut crate::data::Dataset| {
                let rows: Vec<u32> = (0..pending.len() as u32).collect();
                let tally = &mut tallies[k];
                let added = tally.add(predictor, pending, &rows, scaling, precision, device);
                pending.clear();
                added.map_err(TrainError::from)
            };
            let mut windows = stream.windows().map_err(csv)?;
            while let Some((window, first)) = windows.next().map_err(csv)? {
                for r in 0..window.len() {
                    let k = usize::from(stream.is_valid(first + r as u64));
                    if k == 0 && !full {
                        continue;
                    }
                    pending[k].push_row(&window, r);
                    if pending[k].len() == chunk {
                        flush(k, &mut pending[k])?;
                    }
                }
            }
            for (k, rest) in pending.iter_mut().enumerate() {
                if !rest.is_empty() {
                    flush(k, rest)?;
                }
            }
        }
        let train = match full {
            true => train_tally.measured(plan.loss()),
            false => {
                runner.running_train(running, total, stream.totals(), data, stream.scaling())?
            }
        };
        let valid = want_valid.then(|| valid_tally.measured(plan.loss()));
        if !runner.end_epoch(lr, train, valid, seconds, total, data, stream.scaling())? {
            break;
        }
    }
    runner.outcome()
}

/// Why a streamed epoch stopped early: the file, or the observer.
enum StreamStop<E> {
    Csv(crate::data::csv::error::CsvError),
    Observer(E),
}

impl<E> From<crate::data::csv::error::CsvError> for StreamStop<E> {
    fn from(e: crate::data::csv::error::CsvError) -> Self {
        StreamStop::Csv(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::engine::checkpoint::Checkpoint;
    use crate::engine::kernels::Kernels;
    use crate::engine::loss::LossKind;
    use crate::engine::optim::{Optimizer, OptimizerKind};
    use crate::fixtures::{PT2, device, lesson_data, plan_with, random_data};
    use crate::plan::{ScheduleKind, Settings};
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
        let outcome = crate::run::train(arch, start, &mut prepared, plan, &device(), &mut keep)?;
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
        let mut s = settings(2);
        s.batch_size = Some(4);
        s.shuffle = Some(true);
        s.loss = Some(LossKind::Mse);
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
