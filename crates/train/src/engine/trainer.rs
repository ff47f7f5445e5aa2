//! The training core's state: one network on an autodiff device, its optimizer and its
//! freezing, held for the plan's [`Kernels`]. Both modes take their steps through it.
//!
//! The network stays on the device for the whole run: a step is a forward and backward pass
//! ([`Trainer::pass`]) and an update ([`Trainer::apply`]), and nothing comes back to the host
//! unless the caller reads it (the lesson's table reads the loss, the derivatives and the
//! values of every step; training by epochs reads nothing per batch).

use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Gradients};
use squiggle_model::{Architecture, Network, Precision, ReadBack, read};

use crate::engine::checkpoint::error::CheckpointError;
use crate::engine::error::TrainError;
use crate::engine::freeze::Freeze;
use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::engine::optim::Optimizer;
use crate::engine::params::Params;
use crate::engine::record::{ParamStep, StepRecord, Update};
use crate::engine::updater::Updater;
use crate::foreign::Foreign;
use crate::plan::TrainPlan;

/// A network in training.
pub(crate) struct Trainer {
    arch: Architecture,
    device: Device,
    autodiff: Device,
    precision: Precision,
    loss: LossKind,
    optimizer: Optimizer,
    params: Params,
    freeze: Freeze,
    updater: Updater,
    trainable: Vec<usize>,
}

/// A forward and backward pass: the loss and the gradient of every tracked parameter.
pub(crate) struct Pass {
    /// The loss, a one-element tensor on the device.
    pub(crate) loss: Tensor<1>,
    /// The gradients, read by parameter.
    pub(crate) grads: Gradients,
    /// The predictions the loss was computed from, and the targets, on the device.
    prediction: Tensor<2>,
    target: Tensor<2>,
    kernels: Kernels,
}

impl Pass {
    /// Per target column, the sum of squared and of absolute residuals of this pass's rows
    /// (`[2, outputs]`, on the device): what running training metrics are made of.
    pub(crate) fn residual_sums(&self) -> Tensor<2> {
        self.kernels
            .residual_sums(self.prediction.clone(), self.target.clone())
    }

    /// For a classifier, this pass's [`Kernels::class_sums`]: what running training metrics
    /// of a classifier are made of (a confusion matrix and a loss, nothing read per batch).
    pub(crate) fn class_sums(&self) -> Tensor<2> {
        self.kernels
            .class_sums(self.prediction.clone(), self.target.clone())
    }
}

/// The loss of the network `params` (of shape `arch`) on `x` and `y`, and its gradients,
/// computed by the kernels `params` are held for. The one forward-backward pass of the crate:
/// training and the inspection tools both call it.
pub(crate) fn backward(
    arch: &Architecture,
    params: &Params,
    x: Tensor<2>,
    y: Tensor<2>,
    loss: LossKind,
) -> Pass {
    let kernels = params.kernels();
    let prediction = params.forward(arch, x);
    let loss = loss.compute(kernels, prediction.clone(), y.clone());
    let grads = loss.backward();
    Pass {
        loss,
        grads,
        prediction,
        target: y,
        kernels,
    }
}

/// A one-element tensor's value.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand it back.
pub(crate) fn scalar(t: Tensor<1>, what: &'static str) -> Result<f64, ReadBack> {
    Ok(read(t, what)?[0])
}

impl Trainer {
    /// A network with the parameters `values` (flat order), ready to train by `plan`.
    pub(crate) fn new(
        arch: &Architecture,
        values: &[f64],
        plan: &TrainPlan,
        device: &Device,
    ) -> Self {
        let autodiff = device.clone().autodiff();
        let params = Params::from_values(plan.kernels(), arch, values, &autodiff, plan.precision());
        let updater = plan.optimizer().updater(plan.kernels());
        Self::with_params(arch, params, plan, device, updater)
    }

    /// The network and optimizer state of a checkpoint's records, whichever kernels wrote
    /// them.
    ///
    /// # Errors
    /// A record that does not load into this network or this optimizer.
    pub(crate) fn restore(
        arch: &Architecture,
        model: Vec<u8>,
        optimizer: Vec<u8>,
        plan: &TrainPlan,
        device: &Device,
    ) -> Result<Self, CheckpointError> {
        let autodiff = device.clone().autodiff();
        let net = load_network(arch, model, &autodiff, plan.precision())?;
        let params = Params::of(plan.kernels(), arch, &net);
        let updater = plan.optimizer().updater(plan.kernels()).with_bytes(
            optimizer,
            plan.optimizer(),
            &params,
        )?;
        Ok(Self::with_params(arch, params, plan, device, updater))
    }

    fn with_params(
        arch: &Architecture,
        params: Params,
        plan: &TrainPlan,
        device: &Device,
        updater: Updater,
    ) -> Self {
        let (freeze, params) = Freeze::new(params, plan.trainable());
        Self {
            arch: arch.clone(),
            device: device.clone(),
            autodiff: device.clone().autodiff(),
            precision: plan.precision(),
            loss: plan.loss(),
            optimizer: *plan.optimizer(),
            params,
            freeze,
            updater,
            trainable: plan.trainable_indices(),
        }
    }

    /// The network's shape.
    pub(crate) fn arch(&self) -> &Architecture {
        &self.arch
    }

    /// The device without autodiff, where evaluation runs.
    pub(crate) fn device(&self) -> &Device {
        &self.device
    }

    /// The autodiff device training runs on.
    pub(crate) fn autodiff(&self) -> &Device {
        &self.autodiff
    }

    /// The float precision of every tensor.
    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// The optimizer.
    pub(crate) fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// Flat indices of the trainable parameters, in order.
    pub(crate) fn trainable(&self) -> &[usize] {
        &self.trainable
    }

    /// A forward and backward pass on `x` (`[rows, inputs]`) and `y` (`[rows, outputs]`),
    /// both on the autodiff device.
    pub(crate) fn pass(&self, x: Tensor<2>, y: Tensor<2>) -> Pass {
        backward(&self.arch, &self.params, x, y, self.loss)
    }

    /// The loss of a pass.
    ///
    /// # Errors
    /// [`TrainError::ReadBack`] when the device cannot hand it back.
    pub(crate) fn loss_of(&self, pass: &Pass) -> Result<f64, TrainError> {
        Ok(scalar(pass.loss.clone(), "the loss")?)
    }

    /// The derivatives of the trainable parameters (in [`Trainer::trainable`] order).
    ///
    /// # Errors
    /// [`TrainError::ReadBack`] when the device cannot hand a gradient back.
    pub(crate) fn derivatives(&self, pass: &Pass) -> Result<Vec<f64>, TrainError> {
        let all = self.params.gradient(&pass.grads)?;
        Ok(self.trainable.iter().map(|&i| all[i]).collect())
    }

    /// The optimizer's step at learning rate `lr`, frozen scalars kept.
    pub(crate) fn apply(&mut self, pass: Pass, lr: f64) {
        // The pass's predictions and the parameters' own handle are let go first, so that the
        // update holds the only handle to the parameters' values.
        let Pass { grads, .. } = pass;
        let params = self.params.take(&self.autodiff);
        let params = self.updater.apply(params, grads, lr);
        self.params = self.freeze.restore(params);
    }

    /// The optimizer's step, as [`Trainer::apply`], recorded: what it did to every trainable
    /// parameter given their values `before` (flat order, all parameters) and their
    /// `derivatives` (in [`Trainer::trainable`] order), as the [`StepRecord`] of `update`.
    /// Returns the record and every parameter's new value.
    ///
    /// # Errors
    /// [`TrainError::ReadBack`] when the device cannot hand the new values back.
    pub(crate) fn apply_recorded(
        &mut self,
        pass: Pass,
        lr: f64,
        update: Update,
        before: &[f64],
        derivatives: &[f64],
    ) -> Result<(StepRecord, Vec<f64>), TrainError> {
        self.apply(pass, lr);
        let after = self.values()?;
        let plain = self.optimizer.is_gradient_descent();
        let steps = self
            .trainable
            .iter()
            .zip(derivatives)
            .map(|(&i, &derivative)| ParamStep {
                index: i,
                value: before[i],
                derivative,
                step: if plain {
                    Optimizer::gradient_descent_step(derivative, lr)
                } else {
                    before[i] - after[i]
                },
                new_value: after[i],
            })
            .collect();
        let record = StepRecord {
            step: update.step,
            loss: update.loss,
            learning_rate: lr,
            params: steps,
            batch: update.batch,
        };
        Ok((record, after))
    }

    /// Every parameter, flat order.
    ///
    /// # Errors
    /// [`TrainError::ReadBack`] when the device cannot hand the values back.
    pub(crate) fn values(&self) -> Result<Vec<f64>, TrainError> {
        Ok(self.params.values()?)
    }

    /// The loss on `x` and `y` (autodiff device), a forward pass only.
    ///
    /// # Errors
    /// [`TrainError::ReadBack`] when the device cannot hand the loss back.
    pub(crate) fn loss_on(&self, x: Tensor<2>, y: Tensor<2>) -> Result<f64, TrainError> {
        let prediction = self.params.forward(&self.arch, x);
        Ok(scalar(
            self.loss.compute(self.params.kernels(), prediction, y),
            "the loss",
        )?)
    }

    /// The kernels computing the passes.
    pub(crate) fn kernels(&self) -> Kernels {
        self.params.kernels()
    }

    /// The network without autodiff, for evaluation on [`Trainer::device`].
    pub(crate) fn inference(&self) -> Network {
        self.params.inference(&self.arch)
    }

    /// The model and the optimizer state as bytes, for a checkpoint.
    ///
    /// # Errors
    /// [`TrainError::Snapshot`] when Burn cannot serialise a record.
    pub(crate) fn records(&self) -> Result<(Vec<u8>, Vec<u8>), TrainError> {
        let model = self
            .params
            .network(&self.arch)
            .into_record()
            .into_bytes()
            .map_err(|e| TrainError::Snapshot {
                part: "model",
                cause: Foreign::new(e),
            })?;
        let optimizer = self.updater.to_bytes(&self.optimizer, &self.params)?;
        Ok((model.to_vec(), optimizer))
    }
}

/// A network of shape `arch` with the values of a model record (which also restores the
/// parameter ids an optimizer's state is keyed by).
///
/// # Errors
/// A record that does not load into this shape.
pub(crate) fn load_network(
    arch: &Architecture,
    model: Vec<u8>,
    device: &Device,
    precision: Precision,
) -> Result<Network, CheckpointError> {
    let bad = |e: burn::store::RecordError| CheckpointError::Record {
        part: "model",
        cause: Foreign::new(e),
    };
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(model)).map_err(bad)?;
    let zeros = vec![0.0; arch.num_params()];
    // Burn checks a record's shapes but panics on some damage it does not expect (a tensor of
    // integers where floats belong): a damaged file is an error, never a crash.
    let loaded = crate::panics::catch_expected(|| {
        Network::from_values(arch, &zeros, device, precision).try_load_record(record)
    });
    let net = match loaded {
        Ok(result) => result.map_err(bad)?,
        Err(_) => {
            return Err(CheckpointError::RecordTensors);
        }
    };
    // A record of another precision than the one asked for would compute in a mixture of the
    // two (Burn refuses to multiply them): refused here.
    for layer in net.layers() {
        let dtypes = [layer.weight.val().dtype(), layer.bias.val().dtype()];
        if let Some(dtype) = dtypes.into_iter().find(|&d| d != precision.dtype()) {
            return Err(CheckpointError::Mismatch {
                reason: format!("the header says {precision}, the weights are {dtype:?}"),
            });
        }
    }
    Ok(net)
}
