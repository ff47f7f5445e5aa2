//! One derivative four ways: the chain rule by hand, Burn's autodiff of the module, squiggle's
//! fused backward, and a central finite difference — what `squiggle explain` prints and the
//! playground of `squiggle serve` shows.
//!
//! The chain rule and the finite difference are computed on the host in f64, so they are the
//! same on every backend (and right where a device's own f64 is not, as on Mesa's lavapipe);
//! Burn's autodiff and the fused backward run on the device being explained, at the run's
//! precision.

use burn::prelude::Device;
use squiggle_model::{Architecture, ParamNames, Precision, ReadBack};

use crate::data::Dataset;
use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::inspect::{Backprop, ChainRule, chain_rules, relative_error};

/// Step of the central differences, taken in f64 and scaled by `max(1, |θ|)`.
const FD_STEP: f64 = 1e-6;

/// The derivative of the loss with respect to one parameter, computed four ways.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    /// The chain rule written out, factor by factor per data point (its `total` is the sum).
    pub rule: ChainRule,
    /// What Burn's autodiff of the module computes at the run's precision.
    pub burn_autodiff: f64,
    /// What squiggle's fused backward computes at the run's precision.
    pub fused_backward: f64,
    /// A central difference of the loss, computed on the host in f64.
    pub finite_difference: f64,
    /// Whether nudging the parameter by the difference's step moves a ReLU unit across its
    /// kink on some row: the loss has no derivative there, the difference averages the two
    /// one-sided slopes, and only the chain rule and the two backward passes are compared.
    pub at_kink: bool,
}

impl Explained {
    /// The chain rule's sum.
    pub fn chain_rule(&self) -> f64 {
        self.rule.total
    }

    /// The derivative `kernels` computed.
    pub fn computed_by(&self, kernels: Kernels) -> f64 {
        match kernels {
            Kernels::Burn => self.burn_autodiff,
            Kernels::Fused => self.fused_backward,
        }
    }

    /// The largest relative difference between the chain rule and the other three (the two
    /// backward passes alone at a kink).
    pub fn spread(&self) -> f64 {
        let total = self.rule.total;
        let computed = relative_error(total, self.burn_autodiff)
            .max(relative_error(total, self.fused_backward));
        if self.at_kink {
            return computed;
        }
        computed.max(relative_error(total, self.finite_difference))
    }

    /// Returns true if and only if the three agree within [`tolerance`] for `precision`.
    pub fn agrees(&self, precision: Precision) -> bool {
        self.spread() <= tolerance(precision)
    }
}

/// How far the four derivatives may differ: f32 backward passes carry about 1e-7 relative
/// rounding per operation, which the sums over the rows compound.
pub fn tolerance(precision: Precision) -> f64 {
    match precision {
        Precision::F32 => 1e-3,
        Precision::F64 => 1e-6,
    }
}

/// The derivatives of `loss` over `rows` with respect to each of `params` at `values`: the
/// chain rule on the host, Burn's autodiff and the fused backward on `device` at `precision`,
/// finite differences of the host's f64 forward pass.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand a value back.
#[allow(clippy::too_many_arguments)]
pub fn explain(
    arch: &Architecture,
    names: &ParamNames,
    values: &[f64],
    rows: &Dataset,
    loss: LossKind,
    device: &Device,
    precision: Precision,
    params: &[usize],
) -> Result<Vec<Explained>, ReadBack> {
    let rules = chain_rules(arch, names, values, rows, loss, params);
    let probe = Backprop::new(arch, rows, loss, device, precision, Kernels::Burn);
    let (_, burn) = probe.loss_and_gradient(values)?;
    let (_, fused) = probe
        .with_kernels(Kernels::Fused)
        .loss_and_gradient(values)?;
    let at = |i: usize, x: f64| {
        let mut v = values.to_vec();
        v[i] = x;
        loss.on_host(arch, &v, rows)
    };
    let step = |x: f64| FD_STEP * x.abs().max(1.0);
    let steps: Vec<f64> = values.iter().map(|&x| step(x)).collect();
    let kinks = crate::inspect::kinks(arch, values, rows, &steps);
    Ok(rules
        .into_iter()
        .map(|rule| {
            let (i, x) = (rule.param, values[rule.param]);
            let h = step(x);
            Explained {
                burn_autodiff: burn[i],
                fused_backward: fused[i],
                finite_difference: (at(i, x + h) - at(i, x - h)) / (2.0 * h),
                at_kink: kinks[i],
                rule,
            }
        })
        .collect())
}
