//! Training by epochs on rows held in memory, one mini-batch at a time: [`EpochRunner`], the
//! epochs' counterpart of the [`Stepper`](crate::Stepper).

use std::time::Instant;

use burn::prelude::*;
use squiggle_model::{Architecture, Network};

use super::runner::{Runner, Running, Step};
use crate::data::dataset::HostRows;
use crate::data::{Dataset, Prepared, shuffle_for_epoch};
use crate::engine::Outcome;
use crate::engine::checkpoint::{Start, Within};
use crate::engine::error::TrainError;
use crate::engine::observer::Observer;
use crate::inspect::{Confusion, Measured, Predictor, Tally};
use crate::plan::TrainPlan;

/// Trains by epochs of mini-batches until `epochs.epochs` or early stopping: an
/// [`EpochRunner`] run to its end.
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
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    let mut runner = EpochRunner::new(arch, start, data, plan, device)?;
    loop {
        match runner.next_batch(observer)? {
            BatchStep::Stepped => {}
            BatchStep::EpochDone if runner.finish_epoch(observer)? => {}
            BatchStep::EpochDone | BatchStep::Stopped | BatchStep::Finished => break,
        }
    }
    Ok(runner.outcome()?)
}

/// What [`EpochRunner::next_batch`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStep {
    /// It trained on the next mini-batch of the epoch.
    Stepped,
    /// Every mini-batch of the epoch is trained on: [`EpochRunner::finish_epoch`] measures
    /// it.
    EpochDone,
    /// The observer stopped the run inside the epoch, after its `paused` had the state to
    /// resume from.
    Stopped,
    /// The run is over (its epochs are done, it stopped early or diverged): nothing was
    /// trained.
    Finished,
}

/// The epoch in progress.
struct Epoch {
    learning_rate: f64,
    /// Where a resumed run stopped inside it (nothing for a fresh epoch).
    within: Within,
    running: Running,
    started: Instant,
    /// The next mini-batch.
    next: usize,
}

/// Training by epochs, one mini-batch at a time: the state of [`train`](crate::train)'s
/// mode by epochs between two mini-batches, for a caller that decides when the next one
/// happens, as [`Stepper`](crate::Stepper) is for training step by step.
///
/// [`next_batch`](EpochRunner::next_batch) trains on the next mini-batch (starting an epoch
/// when none is under way: its learning rate and shuffle), until it says the epoch is done;
/// [`finish_epoch`](EpochRunner::finish_epoch) then measures it, reports it and decides
/// whether the run goes on; [`outcome`](EpochRunner::outcome) says how the run ended. Each
/// call tells an [`Observer`] what it told `train`'s, so running an `EpochRunner` to its end
/// gives the numbers of `train`, and a checkpoint taken from it resumes it exactly.
///
/// It holds `data`'s training rows while it runs (shuffling them in place) and hands them
/// back, in the order of the last epoch, when it is dropped.
pub struct EpochRunner<'a> {
    runner: Runner<'a>,
    data: &'a mut Prepared,
    order: Vec<u32>,
    /// Rows per mini-batch, and mini-batches per epoch.
    batch: usize,
    batches: usize,
    /// The denominators of the running R² (a regression's, with running metrics).
    column_totals: Option<Vec<f64>>,
    epoch: Option<Epoch>,
    over: bool,
    /// Whether the next mini-batch is gathered while one trains: with a thread to spare, for
    /// batches whose rows are worth copying on it ([`PREFETCH_VALUES`]).
    prefetch: bool,
    /// The next mini-batch (by its index in the epoch), gathered already.
    prefetched: Option<(usize, HostRows)>,
}

/// Values in a mini-batch from which gathering the next one on another thread pays (waking
/// a thread costs about as much as copying this many).
const PREFETCH_VALUES: usize = 1 << 15;

impl<'a> EpochRunner<'a> {
    /// Ready to train `arch` from `start` on `data`'s training rows, by epochs as `plan`
    /// says.
    ///
    /// # Errors
    /// [`TrainError::NotByEpochs`] when the plan trains step by step; [`TrainError::Resume`]
    /// for a checkpoint that does not fit the plan, the network or the data.
    pub fn new(
        arch: &Architecture,
        start: Start,
        data: &'a mut Prepared,
        plan: &'a TrainPlan,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let epochs = plan.epoch_plan().ok_or(TrainError::NotByEpochs)?;
        let runner = Runner::new(arch, start, data.data(), None, plan, epochs, device)?;
        let mut order = data.take_train_rows();
        // Replay the shuffles of the epochs done, only when there are epochs left to train
        // (a finished run has nothing to shuffle for, whatever its checkpoint claims).
        if epochs.shuffle && runner.epochs_left() {
            for epoch in 0..runner.progress.epoch {
                shuffle_for_epoch(&mut order, plan.seed(), epoch);
            }
        }
        let batch = epochs
            .batch_size
            .unwrap_or(order.len())
            .clamp(1, order.len().max(1));
        let column_totals =
            (runner.running && !runner.classifier).then(|| column_totals(data.data(), &order));
        let width = data.data().inputs() + data.data().outputs();
        let prefetch =
            rayon::current_num_threads() > 1 && batch.saturating_mul(width) >= PREFETCH_VALUES;
        Ok(Self {
            batches: order.len().div_ceil(batch),
            batch,
            order,
            column_totals,
            runner,
            data,
            prefetch,
            prefetched: None,
            epoch: None,
            over: false,
        })
    }

    /// Epochs finished so far (a resumed run's count from its start).
    pub fn epochs_done(&self) -> usize {
        self.runner.progress.epoch
    }

    /// Trains on the next mini-batch, starting the next epoch when none is under way.
    ///
    /// # Errors
    /// A device failure, or the observer's own error.
    pub fn next_batch<O: Observer>(&mut self, observer: &mut O) -> Result<BatchStep, O::Error> {
        if self.over || (self.epoch.is_none() && !self.runner.epochs_left()) {
            return Ok(BatchStep::Finished);
        }
        let seed = self.runner.plan.seed();
        let (runner, order) = (&mut self.runner, &mut self.order);
        let epoch = self.epoch.get_or_insert_with(|| {
            let learning_rate = runner.next_rate();
            if runner.shuffle() {
                shuffle_for_epoch(order, seed, runner.progress.epoch);
            }
            let (within, running) = runner.enter_epoch();
            Epoch {
                learning_rate,
                next: within.batches,
                within,
                running,
                started: Instant::now(),
            }
        });
        let index = epoch.next;
        if index >= self.batches {
            return Ok(BatchStep::EpochDone);
        }
        let (data, precision) = (self.data.data(), self.runner.plan.precision());
        let rows_of =
            |k: usize| &self.order[k * self.batch..((k + 1) * self.batch).min(self.order.len())];
        let chunk = rows_of(index);
        let host = match self.prefetched.take() {
            Some((at, rows)) if at == index => rows,
            _ => data.gather_host(chunk),
        };
        // The next mini-batch's rows are copied out on another of the pool's threads while
        // this one trains (a wide batch's rows, gathered at random from memory, were an
        // eighth of a 784-[128]-10 epoch).
        let next = (self.prefetch && index + 1 < self.batches).then(|| rows_of(index + 1));
        let device = self.runner.trainer.autodiff().clone();
        let done = (index * self.batch + chunk.len()).min(self.order.len());
        let at = Step {
            epoch: self.runner.progress.epoch,
            index,
            batches: self.batches,
            done,
            total: self.order.len(),
        };
        let (lr, running) = (epoch.learning_rate, &mut epoch.running);
        let (runner, mut fetched) = (&mut self.runner, None);
        let going = rayon::in_place_scope(|scope| {
            if let Some(rows) = next {
                scope.spawn(|_| fetched = Some(data.gather_host(rows)));
            }
            let tensors = host.upload(&device, precision);
            runner.step(observer, tensors, lr, at, || chunk.to_vec(), running)
        })?;
        self.prefetched = fetched.map(|rows| (index + 1, rows));
        epoch.next += 1;
        if going {
            return Ok(BatchStep::Stepped);
        }
        self.over = true;
        let seconds = epoch.within.seconds + epoch.started.elapsed().as_secs_f64();
        let (rows, scaling) = (self.data.data(), self.data.scaling());
        let paused = (index + 1, done, seconds);
        self.runner
            .pause(observer, paused, &mut epoch.running, rows, scaling)?;
        Ok(BatchStep::Stopped)
    }

    /// Measures the epoch whose mini-batches are done (the training rows, running or in full,
    /// and the validation rows), reports it, and says whether the run goes on (false: its
    /// epochs are done, it stops early, it diverged, or the observer stopped it).
    ///
    /// # Errors
    /// A device failure, or the observer's own error.
    pub fn finish_epoch<O: Observer>(&mut self, observer: &mut O) -> Result<bool, O::Error> {
        let Some(epoch) = self.epoch.take() else {
            return Ok(!self.over && self.runner.epochs_left());
        };
        let seconds = epoch.within.seconds + epoch.started.elapsed().as_secs_f64();
        // One network without autodiff measures both splits.
        let eval = self.runner.trainer.inference();
        let train = self.measure_train(&eval, epoch.running)?;
        let valid = self
            .data
            .valid()
            .map(|v| self.measure(&eval, v))
            .transpose()?;
        let (data, scaling) = (self.data.data(), self.data.scaling());
        let rows = self.order.len();
        let going = self.runner.end_epoch(
            observer,
            epoch.learning_rate,
            train,
            valid,
            seconds,
            rows,
            data,
            scaling,
        )?;
        self.over = !going;
        Ok(going)
    }

    /// How the run ended (so far, for a run stopped before its end).
    ///
    /// # Errors
    /// A device that cannot hand the parameters back.
    pub fn outcome(mut self) -> Result<Outcome, TrainError> {
        self.runner.outcome()
    }

    /// The training rows' loss and metrics for the epoch: summed while it ran, or measured
    /// now in full.
    fn measure_train(
        &self,
        eval: &Network,
        running: Running,
    ) -> Result<(Measured, Option<Confusion>), TrainError> {
        let (data, rows) = (self.data.data(), self.order.len());
        match &self.column_totals {
            None if self.runner.running && self.runner.classifier => {
                self.runner.running_train(running, rows, &[], data, None)
            }
            None => self.measure(eval, (data, &self.order)),
            Some(totals) => {
                let scaling = self.data.scaling();
                self.runner
                    .running_train(running, rows, totals, data, scaling)
            }
        }
    }

    /// The loss and metrics of `eval` (the network now) on the rows `which` of `rows`; a
    /// classifier's through its confusion matrix, which the report keeps.
    fn measure(
        &self,
        eval: &Network,
        (rows, which): (&Dataset, &[u32]),
    ) -> Result<(Measured, Option<Confusion>), TrainError> {
        let (trainer, plan) = (&self.runner.trainer, self.runner.plan);
        let predictor = Predictor {
            net: eval,
            kernels: trainer.kernels(),
        };
        let (device, scaling, loss) = (trainer.device(), self.data.scaling(), plan.loss());
        let mut tally = Tally::new(rows.outputs(), loss);
        tally.add(predictor, rows, which, scaling, plan.precision(), device)?;
        Ok(tally.measured(loss))
    }
}

/// The training rows go back to the data, in the order of the last epoch, however the run
/// ended.
impl Drop for EpochRunner<'_> {
    fn drop(&mut self) {
        self.data.put_train_rows(std::mem::take(&mut self.order));
    }
}

/// The targets' total squares over the training rows `order`, in index order (so that a
/// resumed run computes the same numbers), found through a bitset of them rather than a
/// sorted copy of the row list (which would add 4 bytes a row to the peak memory).
fn column_totals(data: &Dataset, order: &[u32]) -> Vec<f64> {
    let mut training = vec![0u64; data.len().div_ceil(64)];
    for &r in order {
        training[r as usize / 64] |= 1 << (r % 64);
    }
    let rows = (0..data.len() as u32).filter(|&r| training[r as usize / 64] & (1 << (r % 64)) != 0);
    data.column_total_squares(rows)
}
