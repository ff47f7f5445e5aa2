//! The state of a run by epochs that both holders of its rows share (in memory,
//! `memory.rs`; a stream read by epochs, `stream.rs`): the trainer and its progress, one
//! batch's step, a pause inside an epoch, and an epoch's end with its report.

use burn::prelude::*;
use squiggle_model::Architecture;

use crate::data::Scaling;
use crate::engine::checkpoint::{Progress, Start, Within};
use crate::engine::error::TrainError;
use crate::engine::metrics::{RunningConfusion, RunningResiduals, RunningSums};
use crate::engine::observer::{BatchProgress, Flow, Observer};
use crate::engine::record::{Batch, Update};
use crate::engine::report::{EpochReport, RunState};
use crate::engine::trainer::Trainer;
use crate::engine::{EpochDivergence, EpochsSummary, Outcome, StopReason, Summary, Verdict};
use crate::inspect::Measured;
use crate::plan::{EpochPlan, TrainMetrics, TrainPlan};

/// The state of a run by epochs between batches and epochs, whatever holds its rows (a
/// [`Prepared`] data set in memory, or a [`Stream`] read by epochs): the trainer, the
/// progress, the schedule and what the run has seen so far.
pub(super) struct Runner<'a> {
    pub(super) trainer: Trainer,
    pub(super) progress: Progress,
    pub(super) plan: &'a TrainPlan,
    epochs: &'a EpochPlan,
    rates: Box<dyn Iterator<Item = f64> + 'a>,
    last: Option<EpochReport>,
    best_report: Option<EpochReport>,
    stop: StopReason,
    steps: usize,
    /// The network after the last epoch whose loss was finite (its start before any), for a
    /// run that diverges: a handle on the device, not a copy.
    last_finite: squiggle_model::Network,
    divergence: Option<EpochDivergence>,
    pub(super) running: bool,
    pub(super) classifier: bool,
    /// Where a resumed run stopped inside its next epoch.
    within: Option<Within>,
    /// What makes the epochs' batches ([`TrainPlan::batch_order`]).
    order: String,
}

/// One epoch's running sums of the training batches, each before its update.
pub(super) struct Running {
    residuals: RunningResiduals,
    confusion: RunningConfusion,
}

/// A mini-batch as the runner steps it.
pub(super) struct Step {
    pub(super) epoch: usize,
    pub(super) index: usize,
    pub(super) batches: usize,
    /// Training rows done in the epoch after this batch, of `total`.
    pub(super) done: usize,
    pub(super) total: usize,
}

impl<'a> Runner<'a> {
    /// A fresh or resumed run, its data described by `data` (checked against a checkpoint).
    /// `buffer`: a streamed run's shuffle buffer ([`Stream::buffered`]).
    pub(super) fn new(
        arch: &Architecture,
        start: Start,
        data: &crate::data::Dataset,
        buffer: Option<u64>,
        plan: &'a TrainPlan,
        epochs: &'a EpochPlan,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let (trainer, mut progress) = match start {
            Start::Fresh(values) => (
                Trainer::new(arch, &values, plan, device),
                Progress::default(),
            ),
            Start::Resume(checkpoint) => {
                checkpoint.check_resumable(arch, data, plan, buffer)?;
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
    pub(super) fn enter_epoch(&mut self) -> (Within, Running) {
        let within = self.within.take().unwrap_or_default();
        let mut running = Running::new();
        running.residuals.resume(&within.sums);
        running.confusion.resume(&within.sums);
        (within, running)
    }

    /// Hands the observer the state of a run stopped inside its current epoch after
    /// `batches` batches of `rows` rows in `seconds`, from which a checkpoint resumes it at the
    /// next batch.
    pub(super) fn pause<O: Observer>(
        &mut self,
        observer: &mut O,
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
        observer.paused(&state)
    }

    /// True while epochs are left to train.
    pub(super) fn epochs_left(&self) -> bool {
        self.progress.epoch < self.epochs.epochs
    }

    /// Whether every epoch visits the training rows in a new order.
    pub(super) fn shuffle(&self) -> bool {
        self.epochs.shuffle
    }

    /// The next epoch's learning rate.
    pub(super) fn next_rate(&mut self) -> f64 {
        self.rates
            .next()
            .expect("a schedule has a rate for every epoch")
    }

    /// One step on the batch `x`, `y`; false when the observer stops the run.
    pub(super) fn step<O: Observer>(
        &mut self,
        observer: &mut O,
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
            let batch = Batch {
                epoch: at.epoch,
                index: at.index,
                count: at.batches,
                rows: rows(),
            };
            let update = Update {
                step: self.steps,
                loss,
                batch: Some(batch),
            };
            let (record, _) = trainer.apply_recorded(pass, lr, update, &before, &derivatives)?;
            flow = observer.step(&record)?;
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
        if flow == Flow::Stop || observer.batch(&progress)? == Flow::Stop {
            self.stop = StopReason::Stopped;
            return Ok(false);
        }
        Ok(true)
    }

    /// The running training loss and metrics of an epoch's `rows` rows, whose targets'
    /// total squares are `totals` (a regression's).
    pub(super) fn running_train(
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
    pub(super) fn end_epoch<O: Observer>(
        &mut self,
        observer: &mut O,
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
        let flow = observer.epoch(&report, &state)?;
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
    pub(super) fn outcome(&mut self) -> Result<Outcome, TrainError> {
        // How much better than the mean the fit is: R², or a classifier's gain over always
        // predicting its most common class.
        let watched_r2 = self.last.as_ref().and_then(|r: &EpochReport| {
            match r.valid_confusion.as_ref().or(r.train_confusion.as_ref()) {
                Some(c) => Some(c.gain()),
                None => Some(r.valid.unwrap_or(r.train).r2).filter(|r2| r2.is_finite()),
            }
        });
        let params = if self.divergence.is_some() {
            self.last_finite.values()?
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
                last: self.last.take(),
                best: self.progress.best,
                best_report: self.best_report.take(),
                divergence: self.divergence.take(),
            })),
        })
    }
}

impl Running {
    pub(super) fn new() -> Self {
        Self {
            residuals: RunningResiduals::new(),
            confusion: RunningConfusion::new(),
        }
    }
}
