//! The entry point of training: [`train`] runs a [`TrainPlan`] in its mode, step by step
//! (`steps/`) or by epochs (`epochs/`), both on the core in `engine/`.

use burn::prelude::Device;
use squiggle_model::Architecture;

use crate::data::Prepared;
use crate::engine::Outcome;
use crate::engine::checkpoint::Start;
use crate::engine::checkpoint::error::ResumeError;
use crate::engine::error::TrainError;
use crate::engine::observer::Observer;
use crate::plan::{Mode, TrainPlan};

/// Trains `arch` on `data` as `plan` says, on `device` (the core calls `.autodiff()` on it),
/// from `start`, telling `observer` about every step, mini-batch and epoch.
///
/// The gradients come from Burn's autodiff of the module, or from squiggle's fused backward
/// registered as one node of Burn's autodiff graph, as the plan's [`Kernels`](crate::Kernels)
/// say; the same start, data, plan and backend give the same numbers. Training by epochs leaves `data`'s training rows in the order of
/// the last epoch.
///
/// A divergence ends the run with [`StopReason::Diverged`](crate::StopReason::Diverged) and the last finite state (so that
/// its trace, metrics and plots can show the blow-up), never with an error; see
/// [`Outcome::divergence_error`].
///
/// # Errors
/// [`TrainError::Resume`] for a checkpoint that does not fit the plan (or a
/// resume step by step, which keeps no checkpoints), a device failure, or the observer's own
/// error.
pub fn train<O: Observer>(
    arch: &Architecture,
    start: Start,
    data: &mut Prepared,
    plan: &TrainPlan,
    device: &Device,
    observer: &mut O,
) -> Result<Outcome, O::Error> {
    match plan.mode() {
        Mode::Steps(_) => {
            let Start::Fresh(values) = start else {
                return Err(TrainError::Resume(ResumeError::StepByStep).into());
            };
            crate::steps::run(arch, &values, data, plan, device, observer)
        }
        Mode::Epochs(_) => crate::epochs::run(arch, start, data, plan, device, observer),
    }
}
