//! Training by epochs on a [`Stream`]: a file read through once per epoch.

use std::time::Instant;

use burn::prelude::*;
use squiggle_model::Architecture;

use super::runner::{Runner, Step};
use crate::data::Stream;
use crate::data::csv::error::CsvError;
use crate::engine::Outcome;
use crate::engine::checkpoint::Start;
use crate::engine::error::TrainError;
use crate::engine::observer::Observer;
use crate::inspect::Tally;
use crate::plan::TrainPlan;

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
    let mut runner = Runner::new(arch, start, data, buffer, plan, epochs, device)?;
    let precision = plan.precision();
    let total = usize::try_from(stream.train_len()).unwrap_or(usize::MAX);
    let batch = epochs.batch_size.unwrap_or(total).clamp(1, total.max(1));
    let batches = total.div_ceil(batch);
    let mut carried = stream.carried_order(epochs.shuffle, runner.progress.epoch);
    let csv = |e: CsvError| O::Error::from(TrainError::Stream(e));
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
                let going = runner.step(observer, tensors, lr, at, Vec::new, &mut running);
                if !going.map_err(StreamStop::Observer)? {
                    let seconds = within.seconds + started.elapsed().as_secs_f64();
                    let paused = (index, done, seconds);
                    runner
                        .pause(observer, paused, &mut running, data, stream.scaling())
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
        let scaling = stream.scaling();
        if !runner.end_epoch(observer, lr, train, valid, seconds, total, data, scaling)? {
            break;
        }
    }
    Ok(runner.outcome()?)
}

/// Why a streamed epoch stopped early: the file, or the observer.
enum StreamStop<E> {
    Csv(CsvError),
    Observer(E),
}

impl<E> From<CsvError> for StreamStop<E> {
    fn from(e: CsvError) -> Self {
        StreamStop::Csv(e)
    }
}
