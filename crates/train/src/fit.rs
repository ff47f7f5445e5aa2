//! Mini-batch training by epochs: the path from the lesson's three points to millions of
//! CSV rows.
//!
//! The update itself is Burn's: [`SgdConfig`] (with momentum and weight decay) driven by a
//! [`ModuleOptimizer`], learning rates from Burn's schedulers, and checkpoints as Burn
//! burnpack records. squiggle adds what its users need around them: rows named by index so
//! that a split or a shuffle never copies the data, a shuffle that depends only on the seed
//! and the epoch (so a resumed run is the same run), freezing down to one scalar inside a
//! tensor, metrics in the data's original units, and early stopping.

use std::time::Instant;

use burn::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::lr_scheduler::step::StepLrSchedulerConfig;
use burn::module::{Module, Param};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use squiggle_model::{Architecture, Network, Precision};

use crate::checkpoint::{Checkpoint, Progress};
use crate::predict::{PREDICT_CHUNK, forward_rows};
use crate::split::shuffle_for_epoch;
use crate::{Dataset, LossKind, MetricSums, Metrics, Scaling, TrainError};

/// How the learning rate changes from epoch to epoch (Burn's schedulers, stepped once per
/// epoch).
#[derive(Clone, Copy, Debug, PartialEq)]
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
    /// Half a cosine from the initial rate down to `min_lr` over the run's epochs.
    Cosine {
        /// The rate the curve ends at.
        min_lr: f64,
    },
}

impl Schedule {
    /// The learning rate of every epoch, from Burn's scheduler for this schedule.
    ///
    /// # Errors
    /// Burn's message when the scheduler refuses its settings (a cosine schedule needs an
    /// initial rate in (0, 1] and `min_lr` at most that).
    pub fn learning_rates(&self, initial: f64, epochs: usize) -> Result<Vec<f64>, String> {
        let mut scheduler = match *self {
            Schedule::Constant => ModuleLrScheduler::new(initial),
            Schedule::Step { every, gamma } => StepLrSchedulerConfig::new(initial, every)
                .with_gamma(gamma)
                .init()?,
            Schedule::Cosine { min_lr } => {
                CosineAnnealingLrSchedulerConfig::new(initial, epochs.max(1))
                    .with_min_lr(min_lr)
                    .init()?
            }
        };
        Ok((0..epochs).map(|_| scheduler.step().base()).collect())
    }
}

/// Everything the epoch loop needs besides the network and the data; checked by the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct FitPlan {
    /// The loss minimised on each mini-batch.
    pub loss: LossKind,
    /// Total epochs of the run (a resumed run continues up to this many).
    pub epochs: usize,
    /// Rows per mini-batch; `None` for the whole training split at once.
    pub batch_size: Option<usize>,
    /// Visit the training rows in a new random order every epoch.
    pub shuffle: bool,
    /// Seed of the shuffles.
    pub seed: u64,
    /// The initial learning rate.
    pub learning_rate: f64,
    /// How it changes per epoch.
    pub schedule: Schedule,
    /// SGD momentum (0 for plain SGD); PyTorch's convention, no dampening.
    pub momentum: f64,
    /// L2 penalty added to the gradient (0 for none).
    pub weight_decay: f64,
    /// Stop after this many epochs without a new best early-stopping loss.
    pub patience: Option<usize>,
    /// One entry per scalar parameter (flat order): true for those that learn.
    pub trainable: Vec<bool>,
    /// Float precision of every tensor.
    pub precision: Precision,
}

impl FitPlan {
    fn optimizer(&self) -> ModuleOptimizer {
        let mut config = SgdConfig::new();
        if self.momentum > 0.0 {
            config = config.with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(self.momentum)
                    .with_dampening(0.0),
            ));
        }
        if self.weight_decay > 0.0 {
            config =
                config.with_weight_decay(Some(WeightDecayConfig::new(self.weight_decay as f32)));
        }
        config.init()
    }
}

/// Some rows of a data set.
#[derive(Clone, Debug)]
pub struct Rows<'a> {
    /// The data set.
    pub data: &'a Dataset,
    /// Which of its rows, by index.
    pub rows: Vec<u32>,
}

/// The rows a run learns from and is measured on.
#[derive(Clone, Debug)]
pub struct Splits<'a> {
    /// The training rows, visited in mini-batches.
    pub train: Rows<'a>,
    /// The validation rows, measured after each epoch (and watched by early stopping).
    pub valid: Option<Rows<'a>>,
    /// The standardisation already applied to both, undone for the metrics.
    pub scaling: Option<&'a Scaling>,
}

/// Where training starts from.
#[derive(Clone, Debug)]
pub enum Start {
    /// Initial parameters, flat order.
    Fresh(Vec<f64>),
    /// A checkpoint of an earlier run with the same plan.
    Resume(Box<Checkpoint>),
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitStop {
    /// It ran every epoch.
    Epochs,
    /// `patience` epochs passed without a better early-stopping loss.
    EarlyStopping {
        /// The epoch (1-based) with the best loss.
        best_epoch: usize,
    },
}

/// One epoch's results.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch just finished, 1-based.
    pub epoch: usize,
    /// Total epochs planned.
    pub epochs: usize,
    /// The learning rate it used.
    pub learning_rate: f64,
    /// The loss on the training split after the epoch (the plan's loss, in the units the
    /// network trains in).
    pub train_loss: f64,
    /// The same on the validation split.
    pub valid_loss: Option<f64>,
    /// Metrics on the training split, in original units.
    pub train: Metrics,
    /// Metrics on the validation split, in original units.
    pub valid: Option<Metrics>,
    /// Seconds spent on the epoch's updates (evaluation excluded).
    pub seconds: f64,
    /// Training rows per second over those updates.
    pub rows_per_second: f64,
    /// Whether this epoch has the best early-stopping loss so far.
    pub best: bool,
    /// Set on the last epoch of the run.
    pub stop: Option<FitStop>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FitOutcome {
    /// Epochs completed in all (including those before a resume).
    pub epochs: usize,
    /// Why it stopped.
    pub stop: FitStop,
    /// Every parameter at the end, flat order.
    pub params: Vec<f64>,
    /// The last epoch's report (`None` when a resumed run had nothing left to do).
    pub last: Option<EpochReport>,
    /// The best early-stopping loss and its epoch.
    pub best: Option<(f64, usize)>,
    /// The report of that epoch, when this invocation ran it (its parameters are the ones
    /// the best checkpoint holds).
    pub best_report: Option<EpochReport>,
}

/// The state of the run after an epoch, from which the observer can take a checkpoint.
pub struct FitState<'a> {
    net: &'a Network,
    optim: &'a ModuleOptimizer,
    progress: Progress,
    scaling: Option<&'a Scaling>,
}

impl FitState<'_> {
    /// A checkpoint of the run as it stands, carrying `meta` (the caller's description).
    pub fn checkpoint(&self, meta: serde_json::Value) -> Checkpoint {
        let model = self
            .net
            .clone()
            .into_record()
            .into_bytes()
            .expect("a module record serialises to memory");
        let optimizer = self
            .optim
            .into_bytes()
            .expect("an optimizer record serialises to memory");
        Checkpoint {
            progress: self.progress.clone(),
            params: self.net.values(),
            scaling: self.scaling.cloned(),
            meta,
            model: model.to_vec(),
            optimizer: optimizer.to_vec(),
        }
    }
}

/// Watches a run: progress within an epoch, then each finished epoch.
pub trait FitObserver {
    /// What the observer's own failures (writing files) become.
    type Error: From<TrainError>;

    /// After each mini-batch: `done` of `total` training rows of `epoch` (0-based) seen.
    fn batch(&mut self, _epoch: usize, _done: usize, _total: usize) {}

    /// After each epoch. An error stops the run.
    ///
    /// # Errors
    /// Whatever the observer could not do.
    fn epoch(&mut self, report: &EpochReport, state: &FitState<'_>) -> Result<(), Self::Error>;
}

/// Trains by epochs of mini-batches with Burn's SGD until `plan.epochs` or early stopping.
///
/// Metrics are reported with the splits' standardisation undone. The same start, data, plan
/// and backend give the same parameters, and a run resumed from the checkpoint of epoch k
/// ends where the uninterrupted run ends.
///
/// Resuming hands the optimizer state to Burn, which materialises it on `Device::default()`
/// before moving it to the parameters' device; in a build with a GPU backend compiled in,
/// that default is a GPU device even where none exists, so pin it (`BURN_DEVICE=flex`, as
/// the squiggle binary and this workspace's `.cargo/config.toml` do).
///
/// # Errors
/// [`TrainError::Diverged`] when the loss stops being finite, [`TrainError::Resume`] when the
/// checkpoint does not fit, or the observer's error.
pub fn fit<O: FitObserver>(
    arch: &Architecture,
    start: Start,
    splits: Splits<'_>,
    plan: &FitPlan,
    device: &Device,
    observer: &mut O,
) -> Result<FitOutcome, O::Error> {
    let Splits {
        train,
        valid,
        scaling,
    } = splits;
    let autodiff = device.clone().autodiff();
    let rates = plan
        .schedule
        .learning_rates(plan.learning_rate, plan.epochs)
        .map_err(TrainError::Schedule)?;
    let mut optim = plan.optimizer();
    let (net, mut progress) = match start {
        Start::Fresh(values) => (
            Network::from_values(arch, &values, &autodiff, plan.precision),
            Progress {
                epoch: 0,
                best: None,
                since_best: 0,
            },
        ),
        Start::Resume(checkpoint) => {
            let (net, progress, restored) =
                restore(arch, *checkpoint, &autodiff, plan.precision, optim)?;
            optim = restored;
            (net, progress)
        }
    };
    let (mut net, masks) = freeze(net, arch, &plan.trainable, &autodiff, plan.precision);
    let Rows {
        data,
        rows: mut order,
    } = train;
    if plan.shuffle {
        for epoch in 0..progress.epoch {
            shuffle_for_epoch(&mut order, plan.seed, epoch);
        }
    }
    let batch = plan
        .batch_size
        .unwrap_or(order.len())
        .clamp(1, order.len().max(1));
    let mut last = None;
    let mut best_report = None;
    let mut stop = FitStop::Epochs;
    while progress.epoch < plan.epochs {
        let epoch = progress.epoch;
        let lr = rates[epoch];
        if plan.shuffle {
            shuffle_for_epoch(&mut order, plan.seed, epoch);
        }
        let started = Instant::now();
        for (i, chunk) in order.chunks(batch).enumerate() {
            let (x, y) = data.gather(chunk, &autodiff, plan.precision);
            let loss = plan.loss.compute(net.forward(x), y);
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let before = masks.snapshot(&net);
            net = optim.step(lr, net, grads);
            net = masks.restore(net, before);
            observer.batch(
                epoch,
                (i * batch + chunk.len()).min(order.len()),
                order.len(),
            );
        }
        let seconds = started.elapsed().as_secs_f64();
        let eval = net.valid();
        let (train_loss, train_metrics) =
            measure(&eval, data, &order, scaling, plan, device, epoch)?;
        let valid_measure = match &valid {
            Some(v) => Some(measure(
                &eval, v.data, &v.rows, scaling, plan, device, epoch,
            )?),
            None => None,
        };
        progress.epoch += 1;
        let watched = valid_measure.as_ref().map_or(train_loss, |(loss, _)| *loss);
        let best = progress.best.is_none_or(|(b, _)| watched < b);
        if best {
            progress.best = Some((watched, progress.epoch));
            progress.since_best = 0;
        } else {
            progress.since_best += 1;
        }
        let finished = if plan.patience.is_some_and(|p| progress.since_best >= p) {
            let best_epoch = progress.best.map_or(progress.epoch, |(_, e)| e);
            Some(FitStop::EarlyStopping { best_epoch })
        } else if progress.epoch >= plan.epochs {
            Some(FitStop::Epochs)
        } else {
            None
        };
        let report = EpochReport {
            epoch: progress.epoch,
            epochs: plan.epochs,
            learning_rate: lr,
            train_loss,
            valid_loss: valid_measure.as_ref().map(|(l, _)| *l),
            train: train_metrics,
            valid: valid_measure.map(|(_, m)| m),
            seconds,
            rows_per_second: order.len() as f64 / seconds.max(1e-9),
            best,
            stop: finished,
        };
        let state = FitState {
            net: &net,
            optim: &optim,
            progress: progress.clone(),
            scaling,
        };
        observer.epoch(&report, &state)?;
        if best {
            best_report = Some(report.clone());
        }
        last = Some(report);
        if let Some(s) = finished {
            stop = s;
            break;
        }
    }
    Ok(FitOutcome {
        epochs: progress.epoch,
        stop,
        params: net.values(),
        last,
        best: progress.best,
        best_report,
    })
}

/// The loss (training units) and the metrics (original units) of `net` on `rows`.
fn measure(
    net: &Network,
    data: &Dataset,
    rows: &[u32],
    scaling: Option<&Scaling>,
    plan: &FitPlan,
    device: &Device,
    epoch: usize,
) -> Result<(f64, Metrics), TrainError> {
    let mut sums = MetricSums::new(data.outputs());
    let mut squared = 0.0;
    for chunk in rows.chunks(PREDICT_CHUNK) {
        let mut predicted = forward_rows(net, data, chunk, device, plan.precision);
        // The targets are already on the host: no need to upload them and read them back.
        let mut observed = data.outputs_of(chunk);
        squared += predicted
            .iter()
            .zip(&observed)
            .map(|(p, o)| (o - p) * (o - p))
            .sum::<f64>();
        if let Some(s) = scaling {
            s.unscale_targets(&mut predicted);
            s.unscale_targets(&mut observed);
        }
        sums.add(&predicted, &observed);
    }
    let loss = match plan.loss {
        LossKind::Ssr => squared,
        LossKind::Mse => squared / (rows.len() * data.outputs()).max(1) as f64,
    };
    if !loss.is_finite() {
        return Err(TrainError::Diverged {
            epoch: epoch + 1,
            value: loss,
        });
    }
    Ok((loss, sums.finish()))
}

/// The network, progress and optimizer state of a checkpoint.
fn restore(
    arch: &Architecture,
    checkpoint: Checkpoint,
    device: &Device,
    precision: Precision,
    optim: ModuleOptimizer,
) -> Result<(Network, Progress, ModuleOptimizer), TrainError> {
    let bad = |e: burn::store::RecordError| TrainError::Resume(e.to_string());
    if checkpoint.params.len() != arch.num_params() {
        return Err(TrainError::Resume(format!(
            "the checkpoint holds {} parameters; this network has {}",
            checkpoint.params.len(),
            arch.num_params()
        )));
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(checkpoint.model)).map_err(bad)?;
    let net = Network::from_values(arch, &checkpoint.params, device, precision)
        .try_load_record(record)
        .map_err(bad)?;
    let optim = optim
        .from_bytes(Bytes::from_bytes_vec(checkpoint.optimizer))
        .map_err(bad)?;
    Ok((net, checkpoint.progress, optim))
}

/// Per-tensor freezing: tensors with no trainable scalar stop requiring gradients (Burn's
/// optimizer then leaves them alone); tensors with some get a 0/1 mask so the frozen
/// scalars are put back after each step.
fn freeze(
    mut net: Network,
    arch: &Architecture,
    trainable: &[bool],
    device: &Device,
    precision: Precision,
) -> (Network, Masks) {
    let specs = arch.tensors();
    let mut masks = Masks(Vec::new());
    let layers = net
        .hidden
        .iter_mut()
        .chain(std::iter::once(&mut net.output));
    for (layer, pair) in layers.zip(specs.chunks(2)) {
        let (w, b) = (&trainable[pair[0].range()], &trainable[pair[1].range()]);
        layer.weight = freeze_param(layer.weight.clone(), w);
        layer.bias = freeze_param(layer.bias.clone(), b);
        let mask = |m: &[bool]| {
            (m.iter().any(|&t| t) && !m.iter().all(|&t| t)).then(|| {
                let values: Vec<f32> = m.iter().map(|&t| f32::from(u8::from(t))).collect();
                Tensor::<1>::from_data(
                    TensorData::new(values, [m.len()]),
                    (device, precision.dtype()),
                )
            })
        };
        masks.0.push(LayerMask {
            weight: mask(w),
            bias: mask(b),
            weight_shape: [pair[0].shape[0], pair[0].shape[1]],
        });
    }
    (net, masks)
}

fn freeze_param<const D: usize>(param: Param<Tensor<D>>, mask: &[bool]) -> Param<Tensor<D>> {
    if mask.iter().any(|&t| t) {
        param
    } else {
        param.set_require_grad(false)
    }
}

/// The scalar-level freezing masks of each layer (`None`: the tensor is all one way).
struct Masks(Vec<LayerMask>);

struct LayerMask {
    weight: Option<Tensor<1>>,
    bias: Option<Tensor<1>>,
    weight_shape: [usize; 2],
}

impl Masks {
    /// The current values of the partly frozen tensors, flattened.
    fn snapshot(&self, net: &Network) -> Vec<(Option<Tensor<1>>, Option<Tensor<1>>)> {
        net.layers()
            .zip(&self.0)
            .map(|(layer, m)| {
                (
                    m.weight
                        .as_ref()
                        .map(|_| layer.weight.val().detach().flatten(0, 1)),
                    m.bias.as_ref().map(|_| layer.bias.val().detach()),
                )
            })
            .collect()
    }

    /// Puts the frozen scalars of the snapshot back into `net`.
    fn restore(
        &self,
        mut net: Network,
        before: Vec<(Option<Tensor<1>>, Option<Tensor<1>>)>,
    ) -> Network {
        let layers = net
            .hidden
            .iter_mut()
            .chain(std::iter::once(&mut net.output));
        for ((layer, m), (w_old, b_old)) in layers.zip(&self.0).zip(before) {
            if let (Some(mask), Some(old)) = (&m.weight, w_old) {
                let shape = m.weight_shape;
                layer.weight = layer.weight.clone().map(|new| {
                    blend(new.flatten(0, 1), old, mask)
                        .reshape(shape)
                        .autodiff()
                        .require_grad()
                });
            }
            if let (Some(mask), Some(old)) = (&m.bias, b_old) {
                layer.bias = layer
                    .bias
                    .clone()
                    .map(|new| blend(new, old, mask).autodiff().require_grad());
            }
        }
        net
    }
}

/// `new` where `mask` is 1, `old` where it is 0, computed outside the autodiff graph (the
/// result becomes a fresh leaf parameter).
fn blend(new: Tensor<1>, old: Tensor<1>, mask: &Tensor<1>) -> Tensor<1> {
    let mask = mask.clone().inner();
    new.inner() * mask.clone() + old.inner() * (mask.neg() + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backprop;
    use crate::fixtures::{PT2, device, lesson_data, random_data};
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use squiggle_model::Activation;

    /// Records reports and checkpoints, fails nothing.
    #[derive(Default)]
    struct Keep {
        reports: Vec<EpochReport>,
        checkpoints: Vec<Checkpoint>,
    }

    impl FitObserver for Keep {
        type Error = TrainError;
        fn epoch(&mut self, report: &EpochReport, state: &FitState<'_>) -> Result<(), TrainError> {
            self.reports.push(report.clone());
            self.checkpoints
                .push(state.checkpoint(serde_json::Value::Null));
            Ok(())
        }
    }

    fn plan(num_params: usize, epochs: usize) -> FitPlan {
        FitPlan {
            loss: LossKind::Ssr,
            epochs,
            batch_size: None,
            shuffle: false,
            seed: 0,
            learning_rate: 0.1,
            schedule: Schedule::Constant,
            momentum: 0.0,
            weight_decay: 0.0,
            patience: None,
            trainable: vec![true; num_params],
            precision: Precision::F64,
        }
    }

    fn run(
        arch: &Architecture,
        start: Start,
        data: &Dataset,
        valid: Option<&Dataset>,
        plan: &FitPlan,
    ) -> (FitOutcome, Keep) {
        let mut keep = Keep::default();
        let all = |d: &Dataset| (0..d.len() as u32).collect::<Vec<u32>>();
        let splits = Splits {
            train: Rows {
                data,
                rows: all(data),
            },
            valid: valid.map(|v| Rows {
                data: v,
                rows: all(v),
            }),
            scaling: None,
        };
        let outcome = fit(arch, start, splits, plan, &device(), &mut keep).unwrap();
        (outcome, keep)
    }

    #[test]
    fn momentum_and_weight_decay_follow_their_definitions() {
        // Full batch on the lesson, only b3 learning: v ← 0.9·v + (g + λ·b3), b3 ← b3 − lr·v.
        let arch = Architecture::statquest();
        let data = lesson_data();
        let mut p = plan(7, 3);
        p.momentum = 0.9;
        p.weight_decay = 0.05;
        p.trainable = vec![false, false, false, false, false, false, true];
        let (outcome, _) = run(&arch, Start::Fresh(PT2.to_vec()), &data, None, &p);

        let backprop = Backprop::new(&arch, &data, LossKind::Ssr, &device(), Precision::F64);
        let (mut values, mut velocity) = (PT2.to_vec(), 0.0);
        for step in 0..3 {
            let (_, g) = backprop.loss_and_gradient(&values);
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

    #[test]
    fn a_frozen_scalar_inside_a_trained_tensor_stays_put() {
        // w3 and w4 share output.weight; train w3 (and b3) only.
        let arch = Architecture::statquest();
        let mut p = plan(7, 5);
        p.momentum = 0.5;
        p.weight_decay = 0.1;
        p.trainable = vec![false, false, false, false, true, false, true];
        let (outcome, _) = run(&arch, Start::Fresh(PT2.to_vec()), &lesson_data(), None, &p);
        assert_eq!(outcome.params[5], PT2[5], "w4 is frozen");
        assert_ne!(outcome.params[4], PT2[4], "w3 learns");
        assert_ne!(outcome.params[6], PT2[6], "b3 learns");
    }

    #[test]
    fn resuming_from_epoch_k_ends_where_the_full_run_ends() {
        let mut rng = StdRng::seed_from_u64(3);
        let data = random_data(&mut rng, 40, 2, 1);
        let valid = random_data(&mut rng, 10, 2, 1);
        let arch = Architecture::new(2, vec![3], 1, Activation::Softplus).unwrap();
        let initial = squiggle_model::standard_normal_values(&arch, 5);
        let mut p = plan(arch.num_params(), 6);
        p.batch_size = Some(7);
        p.shuffle = true;
        p.seed = 11;
        p.momentum = 0.9;
        p.learning_rate = 0.01;
        p.loss = LossKind::Mse;
        p.precision = Precision::F32;
        p.schedule = Schedule::Step {
            every: 2,
            gamma: 0.5,
        };
        let (full, keep) = run(&arch, Start::Fresh(initial), &data, Some(&valid), &p);
        let third = keep.checkpoints[2].clone();
        let checkpoint = Checkpoint::from_bytes(&third.to_bytes()).unwrap();
        let (resumed, rest) = run(
            &arch,
            Start::Resume(Box::new(checkpoint)),
            &data,
            Some(&valid),
            &p,
        );
        assert_eq!(rest.reports.len(), 3);
        assert_eq!(resumed.params, full.params, "bit for bit");
        assert_eq!(
            resumed.last,
            full.last.map(|r| EpochReport {
                seconds: rest.reports[2].seconds,
                rows_per_second: rest.reports[2].rows_per_second,
                ..r
            })
        );
        let rates: Vec<f64> = keep.reports.iter().map(|r| r.learning_rate).collect();
        assert_eq!(rates, [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]);
    }

    #[test]
    fn early_stopping_waits_patience_epochs_after_the_best() {
        // Validation targets are the negated training targets: fitting one unfits the other.
        let data = lesson_data();
        let negated =
            Dataset::from_rows(&[vec![0.0, 0.0], vec![0.5, -1.0], vec![1.0, 0.0]], 1, 1).unwrap();
        let arch = Architecture::statquest();
        let mut p = plan(7, 50);
        p.patience = Some(3);
        let (outcome, keep) = run(&arch, Start::Fresh(PT2.to_vec()), &data, Some(&negated), &p);
        let FitStop::EarlyStopping { best_epoch } = outcome.stop else {
            panic!("expected early stopping, got {:?}", outcome.stop);
        };
        assert_eq!(outcome.epochs, best_epoch + 3);
        assert!(keep.reports[best_epoch - 1].best);
        assert!(keep.reports[best_epoch..].iter().all(|r| !r.best));
    }

    #[test]
    fn schedules_come_from_burn() {
        let step = Schedule::Step {
            every: 2,
            gamma: 0.1,
        };
        let rates = step.learning_rates(1.0, 5).unwrap();
        assert_eq!(rates.len(), 5);
        assert!((rates[2] - 0.1).abs() < 1e-12 && (rates[4] - 0.01).abs() < 1e-12);
        let cosine = Schedule::Cosine { min_lr: 0.0 }
            .learning_rates(0.5, 4)
            .unwrap();
        let want = [
            0.5,
            0.25 * (1.0 + (std::f64::consts::PI / 4.0).cos()),
            0.25,
            0.25 * (1.0 + (3.0 * std::f64::consts::PI / 4.0).cos()),
        ];
        for (got, want) in cosine.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        assert!(
            Schedule::Cosine { min_lr: 0.0 }
                .learning_rates(2.0, 4)
                .is_err()
        );
        assert_eq!(
            Schedule::Constant.learning_rates(0.3, 2).unwrap(),
            [0.3, 0.3]
        );
    }

    #[test]
    fn divergence_is_an_error_not_a_nan_model() {
        let arch = Architecture::statquest();
        let mut p = plan(7, 30);
        p.learning_rate = 50.0;
        p.precision = Precision::F32;
        let mut keep = Keep::default();
        let data = lesson_data();
        let splits = Splits {
            train: Rows {
                data: &data,
                rows: vec![0, 1, 2],
            },
            valid: None,
            scaling: None,
        };
        let err = fit(
            &arch,
            Start::Fresh(PT2.to_vec()),
            splits,
            &p,
            &device(),
            &mut keep,
        )
        .unwrap_err();
        assert!(matches!(err, TrainError::Diverged { .. }), "{err}");
    }
}
