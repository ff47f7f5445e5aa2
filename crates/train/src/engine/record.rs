//! What one update did: a row of the lesson's step table.

/// What happened to one trainable parameter in one step.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamStep {
    /// Flat index of the parameter.
    pub index: usize,
    /// Its value before the step.
    pub value: f64,
    /// The derivative of the loss with respect to it, from Burn's autodiff.
    pub derivative: f64,
    /// How far it moved: `derivative × learning_rate` under the lessons' plain rule (as the
    /// lesson defines the step size), `value − new_value` under other optimizers.
    pub step: f64,
    /// Its value after the step, as the device holds it.
    pub new_value: f64,
}

/// One update: the loss it started from and what it did to every trainable parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRecord {
    /// 0-based number of the update within this run.
    pub step: usize,
    /// The loss before the step, on the rows the step learnt from.
    pub loss: f64,
    /// The learning rate of the step (a schedule changes it from step or epoch to the next).
    pub learning_rate: f64,
    /// Every trainable parameter, in flat order.
    pub params: Vec<ParamStep>,
    /// The mini-batch the step learnt from, when training by epochs (step by step, every
    /// step sees every row).
    pub batch: Option<Batch>,
}

/// Where a step of training by epochs took its rows from.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The epoch, 0-based.
    pub epoch: usize,
    /// The mini-batch within the epoch, 0-based.
    pub index: usize,
    /// How many mini-batches the epoch has.
    pub count: usize,
    /// The training rows of the mini-batch, as indices into the training data.
    pub rows: Vec<u32>,
}

/// Which update a [`StepRecord`] describes, besides what the optimizer did: its number, the
/// loss it started from and its mini-batch. ([`Trainer::apply_recorded`] builds every
/// record from it: both modes' records come from one place.)
///
/// [`Trainer::apply_recorded`]: crate::engine::trainer::Trainer::apply_recorded
pub(crate) struct Update {
    /// 0-based number of the update within the run.
    pub(crate) step: usize,
    /// The loss before the step.
    pub(crate) loss: f64,
    /// Its mini-batch, when training by epochs.
    pub(crate) batch: Option<Batch>,
}
