//! Finite-difference gradient checks: the independent witness that backprop is right.
//!
//! A central difference can only be as good as the losses it subtracts. Each parameter is
//! therefore nudged by a step that grows with its size (`h·max(1, |θ|)`), and its error is
//! allowed to reach what rounding in the loss alone would cause at that step, when that is
//! more than the tolerance asked for. So a correct gradient passes at any scale of data and
//! parameters, while a wrong one is still caught wherever the difference can resolve it.

use squiggle_model::{Activation, Architecture, Precision, ReadBack};

use crate::data::Dataset;
use crate::engine::kernels::Kernels;
use crate::inspect::Backprop;

/// The most forward passes (parameters² × rows) spent looking for kinks; larger networks are
/// not searched, and a kink there can show as a failure.
const KINK_SEARCH_BUDGET: usize = 50_000_000;

/// How many machine epsilons of relative rounding error a loss over `rows` rows may carry:
/// a few for each row's own arithmetic, and for the sum of the rows a growth with the square
/// root of their number (what naive summation shows in practice), twice over.
fn loss_rounding(rows: usize) -> f64 {
    4.0 * (1.0 + (rows as f64).sqrt())
}

/// Burn's autodiff of the module and the fused backward next to central finite differences of
/// Burn's forward pass, for every parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// The loss at the checked point (Burn's forward pass).
    pub loss: f64,
    /// Derivatives from Burn's autodiff of the module, flat order.
    pub burn_autodiff: Vec<f64>,
    /// Derivatives from squiggle's fused backward, flat order.
    pub fused_backward: Vec<f64>,
    /// `(L(θ + hᵢ·eᵢ) − L(θ − hᵢ·eᵢ)) / 2hᵢ` of Burn's forward pass, flat order.
    pub numeric: Vec<f64>,
    /// The step `hᵢ` of each difference.
    pub steps: Vec<f64>,
    /// Per parameter, the errors of Burn's autodiff and of the fused backward against the
    /// difference: `|d − numeric| / max(|d|, |numeric|, 1e-3)`, relative above 1e-3 in size,
    /// scaled-absolute below, where finite differences cannot resolve relative error.
    pub errors: Vec<[f64; 2]>,
    /// The largest error accepted for each parameter: the tolerance, or the error that
    /// rounding in the loss causes at its step, whichever is larger.
    pub allowed: Vec<f64>,
    /// Parameters whose nudge moves a ReLU unit across its kink on some row: the derivative
    /// is not defined there (autodiff takes ReLU′(0) = 0), the difference measures an average
    /// of the two slopes, so they are reported but not judged.
    pub kinks: Vec<bool>,
    tolerance: f64,
    /// The loss's relative rounding: machine epsilons times [`loss_rounding`].
    rounding: f64,
}

/// Which derivative a [`GradCheck`] error belongs to: `[Burn, fused]`, as in
/// [`GradCheck::errors`].
const COMPUTED_BY: [Kernels; 2] = [Kernels::Burn, Kernels::Fused];

impl GradCheck {
    /// Pairs both derivatives with the numeric ones taken with `steps`, and judges them
    /// against `tolerance` and the rounding of a loss over `rows` rows computed at `precision`.
    pub fn new(
        loss: f64,
        [burn_autodiff, fused_backward]: [Vec<f64>; 2],
        numeric: Vec<f64>,
        steps: Vec<f64>,
        tolerance: f64,
        (precision, rows): (Precision, usize),
    ) -> Self {
        let epsilon = match precision {
            Precision::F32 => f64::from(f32::EPSILON),
            Precision::F64 => f64::EPSILON,
        };
        let mut check = Self {
            loss,
            burn_autodiff,
            fused_backward,
            numeric,
            steps,
            errors: Vec::new(),
            allowed: Vec::new(),
            kinks: Vec::new(),
            tolerance,
            rounding: epsilon * loss_rounding(rows),
        };
        check.judge();
        check
    }

    /// The same check, not judging the parameters marked in `kinks`.
    pub fn with_kinks(mut self, kinks: Vec<bool>) -> Self {
        self.kinks = kinks;
        self
    }

    /// Returns true if and only if parameter `i` sits at a kink (see [`GradCheck::kinks`]).
    pub fn at_kink(&self, i: usize) -> bool {
        self.kinks.get(i).copied().unwrap_or(false)
    }

    /// The derivatives `kernels` computed, flat order.
    pub fn derivatives(&self, kernels: Kernels) -> &[f64] {
        match kernels {
            Kernels::Burn => &self.burn_autodiff,
            Kernels::Fused => &self.fused_backward,
        }
    }

    /// The same check with other derivatives for `kernels` (to show that a wrong one fails).
    pub fn with_derivatives(mut self, kernels: Kernels, derivatives: Vec<f64>) -> Self {
        match kernels {
            Kernels::Burn => self.burn_autodiff = derivatives,
            Kernels::Fused => self.fused_backward = derivatives,
        }
        self.judge();
        self
    }

    fn judge(&mut self) {
        let pairs = self
            .burn_autodiff
            .iter()
            .zip(&self.fused_backward)
            .zip(&self.numeric)
            .zip(&self.steps);
        (self.errors, self.allowed) = pairs
            .map(|(((&b, &f), &n), &h)| {
                let noise = self.rounding * self.loss.abs() / h;
                let scale = b.abs().max(f.abs()).max(n.abs()).max(1e-3);
                let errors = [relative_error(b, n), relative_error(f, n)];
                (errors, self.tolerance.max(noise / scale))
            })
            .unzip();
    }

    /// The tolerance asked for.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// The judged parameter furthest beyond (or closest to) its allowance (parameters at a
    /// kink are not judged): its flat index, its error and whose derivative that is.
    pub fn worst(&self) -> (usize, f64, Kernels) {
        let mut worst = (0, 0.0, Kernels::Burn);
        let mut worst_ratio = -1.0;
        for (i, errors) in self.errors.iter().enumerate() {
            for (&error, kernels) in errors.iter().zip(COMPUTED_BY) {
                let ratio = if self.at_kink(i) {
                    0.0
                } else {
                    error / self.allowed[i]
                };
                if ratio > worst_ratio || ratio.is_nan() && !f64::is_nan(worst_ratio) {
                    (worst, worst_ratio) = ((i, error, kernels), ratio);
                }
            }
        }
        worst
    }

    /// Returns true if and only if every judged error, of both derivatives, is within its
    /// allowance.
    pub fn passed(&self) -> bool {
        (0..self.errors.len())
            .all(|i| self.at_kink(i) || self.errors[i].iter().all(|&e| e <= self.allowed[i]))
    }
}

/// Compares Burn's autodiff of the module and the fused backward with central differences of
/// Burn's forward pass (at `backprop`'s precision, on its device), nudging parameter `i` by
/// `h·max(1, |θᵢ|)`, and accepts errors up to `tolerance` (or the loss's rounding, see
/// [`GradCheck::allowed`]).
///
/// In f64 the differences resolve errors around 1e-9; in f32 they carry errors around 1e-4
/// themselves, so an f32 check takes a larger step and tolerance.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand a value back.
pub fn check_gradients(
    backprop: &Backprop,
    values: &[f64],
    h: f64,
    tolerance: f64,
) -> Result<GradCheck, ReadBack> {
    let burn = backprop.with_kernels(Kernels::Burn);
    let (loss, burn_autodiff) = burn.loss_and_gradient(values)?;
    let (_, fused_backward) = backprop
        .with_kernels(Kernels::Fused)
        .loss_and_gradient(values)?;
    let steps: Vec<f64> = values.iter().map(|v| h * v.abs().max(1.0)).collect();
    let numeric = (0..values.len())
        .map(|i| central_difference(&burn, values, i, steps[i]))
        .collect::<Result<_, _>>()?;
    Ok(GradCheck::new(
        loss,
        [burn_autodiff, fused_backward],
        numeric,
        steps,
        tolerance,
        (backprop.precision(), backprop.rows()),
    ))
}

/// Which parameters move a ReLU unit across its kink (0) on some row of `data` when nudged by
/// `±steps[i]`: there the loss has no derivative, and a central difference averages the two
/// one-sided slopes. All false for smooth activations, and for networks too large to search
/// (over `KINK_SEARCH_BUDGET`, 50,000,000, forward passes).
pub fn kinks(arch: &Architecture, values: &[f64], data: &Dataset, steps: &[f64]) -> Vec<bool> {
    let n = values.len();
    if arch.activation != Activation::Relu
        || arch.hidden.is_empty()
        || n.saturating_mul(n).saturating_mul(data.len()) > KINK_SEARCH_BUDGET
    {
        return vec![false; n];
    }
    // The side of the kink of every hidden unit on every row at `v`.
    let sides = |v: &[f64]| -> Vec<bool> {
        (0..data.len())
            .flat_map(|r| {
                let pass = arch.forward_host(v, &data.input_row(r));
                let hidden = pass.pre.len() - 1;
                pass.pre[..hidden]
                    .iter()
                    .flatten()
                    .map(|&z| z > 0.0)
                    .collect::<Vec<bool>>()
            })
            .collect()
    };
    let here = sides(values);
    let mut nudged = values.to_vec();
    (0..n)
        .map(|i| {
            let crosses = [values[i] + steps[i], values[i] - steps[i]]
                .into_iter()
                .any(|x| {
                    nudged[i] = x;
                    sides(&nudged) != here
                });
            nudged[i] = values[i];
            crosses
        })
        .collect()
}

/// `(L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h`: the derivative with respect to parameter `i` measured
/// by nudging it, with no calculus at all.
///
/// # Errors
/// [`ReadBack`] when the device cannot hand a loss back.
pub fn central_difference(
    backprop: &Backprop,
    values: &[f64],
    i: usize,
    h: f64,
) -> Result<f64, ReadBack> {
    let mut shifted = values.to_vec();
    shifted[i] = values[i] + h;
    let up = backprop.loss(&shifted)?;
    shifted[i] = values[i] - h;
    let down = backprop.loss(&shifted)?;
    Ok((up - down) / (2.0 * h))
}

/// The error measure of [`GradCheck::errors`] for one pair of derivatives.
pub fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::loss::LossKind;
    use crate::fixtures::{PT2, alternate_loss, device, lesson_data, random_data};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use squiggle_model::{Activation, Architecture, Precision, standard_normal_values};

    fn lesson_backprop() -> Backprop {
        let arch = Architecture::statquest();
        Backprop::new(
            &arch,
            &lesson_data(),
            LossKind::Ssr,
            &device(),
            Precision::F64,
            Kernels::Burn,
        )
    }

    /// Asserts the loss and the gradient at `values`, the gradient given in the lesson's
    /// order w1, b1, w2, b2, w3, w4, b3 (shared/statquest.md).
    #[track_caller]
    fn assert_lesson_gradient(values: &[f64], loss: f64, lesson_order: [f64; 7]) {
        let (got_loss, g) = lesson_backprop().loss_and_gradient(values).unwrap();
        assert!((got_loss - loss).abs() < 1e-4, "loss {got_loss}");
        let got = [g[0], g[2], g[1], g[3], g[4], g[5], g[6]];
        for (got, want) in got.iter().zip(lesson_order) {
            assert!((got - want).abs() < 1e-5, "{got:?} vs {lesson_order:?}");
        }
    }

    #[test]
    fn full_gradient_at_the_lesson_values_matches_the_reference() {
        let want = [
            7.33892, 10.34723, 1.98696, 11.03170, -16.10875, -6.94630, -15.65511,
        ];
        assert_lesson_gradient(&PT2, 20.423598, want);
    }

    /// "Details Pt. 2": all seven parameters from the lesson's start.
    #[test]
    fn details_pt2_start_gradient_matches_the_reference() {
        let start = squiggle_model::lesson::DETAILS_PT2_START;
        let want = [
            0.76094, 0.96729, 0.33228, 0.73223, 7.14231, 1.48728, 3.45945,
        ];
        assert_lesson_gradient(&start, 1.8959, want);
    }

    /// Property: for seeded random shapes, activations, parameters and data, autodiff agrees
    /// with central differences to a relative error below 1e-6 in f64.
    #[test]
    fn autodiff_matches_central_differences_on_random_networks() {
        let mut rng = StdRng::seed_from_u64(2024);
        for case in 0..24 {
            let inputs = rng.random_range(1..=3);
            let outputs = rng.random_range(1..=2);
            let depth = rng.random_range(0..=3);
            let hidden: Vec<usize> = (0..depth).map(|_| rng.random_range(1..=4)).collect();
            // ReLU's kink makes finite differences wrong within h of 0; smooth activations only.
            let smooth = [
                Activation::Softplus,
                Activation::Sigmoid,
                Activation::Tanh,
                Activation::Identity,
            ];
            let arch = Architecture::new(inputs, hidden, outputs, smooth[case % 4]).unwrap();
            let mut values = standard_normal_values(&arch, case as u64);
            for v in values.iter_mut() {
                *v += rng.random_range(-0.5..0.5); // non-zero biases too
            }
            let rows = rng.random_range(1..=6);
            let data = random_data(&mut rng, rows, inputs, outputs);
            let loss = alternate_loss(case);
            let backprop =
                Backprop::new(&arch, &data, loss, &device(), Precision::F64, Kernels::Burn);
            let check = check_gradients(&backprop, &values, 1e-6, 1e-6).unwrap();
            assert!(check.passed(), "case {case}: {check:?}");
            let (worst, error, by) = check.worst();
            assert!(
                error < 1e-6,
                "case {case} ({}): parameter {worst} {by} {} numeric {} error {error}",
                arch.describe(),
                check.derivatives(by)[worst],
                check.numeric[worst]
            );
        }
    }

    /// The ReLU kink: with zero biases, a row at input 0 puts both hidden units exactly on
    /// their kinks, so the biases' differences straddle it; those are reported, not judged.
    #[test]
    fn parameters_at_a_relu_kink_are_not_judged() {
        let arch = Architecture::new(1, vec![2], 1, Activation::Relu).unwrap();
        let data =
            crate::data::Dataset::from_rows(&[vec![0.0, 0.5], vec![1.0, 1.0]], 1, 1).unwrap();
        // w1, w2, b1, b2, w3, w4, b3
        let values = [0.7, -0.4, 0.0, 0.0, 1.2, 0.9, 0.1];
        let backprop = Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            Kernels::Fused,
        );
        let check = check_gradients(&backprop, &values, 1e-6, 1e-6).unwrap();
        assert!(
            !check.passed(),
            "without the kinks, the biases fail: {check:?}"
        );
        let marked = kinks(&arch, &values, &data, &check.steps);
        assert_eq!(marked, [false, false, true, true, false, false, false]);
        let check = check.with_kinks(marked);
        assert!(check.passed(), "{check:?}");
        assert!(!check.at_kink(0) && check.at_kink(2));
        // Smooth activations have no kinks.
        let smooth = Architecture::new(1, vec![2], 1, Activation::Softplus).unwrap();
        assert!(
            kinks(&smooth, &values, &data, &check.steps)
                .iter()
                .all(|k| !k)
        );
    }

    #[test]
    fn a_wrong_gradient_is_caught() {
        let check = check_gradients(&lesson_backprop(), &PT2, 1e-6, 1e-6).unwrap();
        assert!(check.worst().1 < 1e-6 && check.passed());
        // Perturb one derivative of either kernels by 0.1 % and compare again.
        for kernels in [Kernels::Burn, Kernels::Fused] {
            let mut wrong = check.derivatives(kernels).to_vec();
            wrong[3] *= 1.001;
            let wrong = check.clone().with_derivatives(kernels, wrong);
            assert_eq!((wrong.worst().0, wrong.worst().2), (3, kernels));
            assert!(wrong.worst().1 > 1e-4);
            assert!(!wrong.passed());
        }
        let mut wrong = check.burn_autodiff.clone();
        wrong[3] *= 1.001;
        let check = check.with_derivatives(Kernels::Burn, wrong);
        assert_eq!(check.worst().0, 3);
        assert!(check.worst().1 > 1e-4);
        assert!(!check.passed());
    }

    /// A large loss (unscaled targets in the thousands) makes the differences noisy; the
    /// allowance follows, so a correct gradient passes, and a wrong one still fails.
    #[test]
    fn the_allowance_grows_with_the_loss_but_still_catches_errors() {
        let rows: Vec<Vec<f64>> = (0..50)
            .map(|i| {
                let x = i as f64 * 10.0;
                vec![x, 5000.0 + 3.0 * x]
            })
            .collect();
        let data = crate::data::Dataset::from_rows(&rows, 1, 1).unwrap();
        let arch = Architecture::new(1, vec![3], 1, Activation::Softplus).unwrap();
        let values = standard_normal_values(&arch, 1);
        let backprop = Backprop::new(
            &arch,
            &data,
            LossKind::Ssr,
            &device(),
            Precision::F64,
            Kernels::Fused,
        );
        let check = check_gradients(&backprop, &values, 1e-6, 1e-6).unwrap();
        assert!(check.loss > 1e8, "{}", check.loss);
        assert!(check.passed(), "{check:?}");
        assert!(
            check.allowed.iter().any(|&a| a > 1e-6),
            "{:?}",
            check.allowed
        );
        let mut wrong = check.fused_backward.clone();
        wrong[0] *= 1.01;
        assert!(!check.with_derivatives(Kernels::Fused, wrong).passed());
    }
}
