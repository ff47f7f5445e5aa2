//! Finite-difference gradient checks: the independent witness that backprop is right.

use crate::Backprop;

/// Autodiff derivatives next to central finite differences, for every parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheck {
    /// The loss at the checked point.
    pub loss: f64,
    /// Derivatives from Burn's autodiff, flat order.
    pub autodiff: Vec<f64>,
    /// `(L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h`, flat order.
    pub numeric: Vec<f64>,
    /// `|autodiff − numeric| / max(|autodiff|, |numeric|, 1e-3)`: relative above 1e-3 in
    /// size, scaled-absolute below, where finite differences cannot resolve relative error.
    pub errors: Vec<f64>,
}

impl GradCheck {
    /// Pairs autodiff and numeric derivatives and computes their errors.
    pub fn new(loss: f64, autodiff: Vec<f64>, numeric: Vec<f64>) -> Self {
        let errors = autodiff
            .iter()
            .zip(&numeric)
            .map(|(&a, &n)| relative_error(a, n))
            .collect();
        Self {
            loss,
            autodiff,
            numeric,
            errors,
        }
    }

    /// The flat index and size of the largest error.
    pub fn worst(&self) -> (usize, f64) {
        self.errors
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, 0.0),
                |w, (i, e)| if e > w.1 || e.is_nan() { (i, e) } else { w },
            )
    }
}

/// Compares autodiff with central differences of step `h` for every parameter.
///
/// Run it in f64: in f32 the differences themselves carry errors around 1e-3.
pub fn check_gradients(backprop: &Backprop, values: &[f64], h: f64) -> GradCheck {
    let (loss, autodiff) = backprop.loss_and_gradient(values);
    let numeric = (0..values.len())
        .map(|i| central_difference(backprop, values, i, h))
        .collect();
    GradCheck::new(loss, autodiff, numeric)
}

/// `(L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h`: the derivative with respect to parameter `i` measured
/// by nudging it, with no calculus at all.
pub fn central_difference(backprop: &Backprop, values: &[f64], i: usize, h: f64) -> f64 {
    let mut shifted = values.to_vec();
    shifted[i] = values[i] + h;
    let up = backprop.loss(&shifted);
    shifted[i] = values[i] - h;
    let down = backprop.loss(&shifted);
    (up - down) / (2.0 * h)
}

/// The error measure of [`GradCheck::errors`] for one pair of derivatives.
pub fn relative_error(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LossKind;
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
        )
    }

    /// Asserts the loss and the gradient at `values`, the gradient given in the lesson's
    /// order w1, b1, w2, b2, w3, w4, b3 (shared/statquest.md).
    #[track_caller]
    fn assert_lesson_gradient(values: &[f64], loss: f64, lesson_order: [f64; 7]) {
        let (got_loss, g) = lesson_backprop().loss_and_gradient(values);
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
        let start = [2.74, -1.13, 0.0, 0.0, 0.36, 0.63, 0.0];
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
            let backprop = Backprop::new(&arch, &data, loss, &device(), Precision::F64);
            let check = check_gradients(&backprop, &values, 1e-6);
            let (worst, error) = check.worst();
            assert!(
                error < 1e-6,
                "case {case} ({}): parameter {worst} autodiff {} numeric {} error {error}",
                arch.describe(),
                check.autodiff[worst],
                check.numeric[worst]
            );
        }
    }

    #[test]
    fn a_wrong_gradient_is_caught() {
        let check = check_gradients(&lesson_backprop(), &PT2, 1e-6);
        assert!(check.worst().1 < 1e-6);
        // Perturb one autodiff derivative by 0.1 % and compare again.
        let mut wrong = check.autodiff.clone();
        wrong[3] *= 1.001;
        let check = GradCheck::new(check.loss, wrong, check.numeric);
        assert_eq!(check.worst().0, 3);
        assert!(check.worst().1 > 1e-4);
    }
}
