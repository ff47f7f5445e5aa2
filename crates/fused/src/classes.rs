//! Cross entropy of raw class scores and a classifier's per-class sums, row by row over f32
//! memory with f64 arithmetic: flex's kernels for [`cross_entropy`](crate::cross_entropy) and
//! [`class_sums`](crate::class_sums).
//!
//! Why: built from Burn's operations, a batch's cross entropy is a log-SoftMax (a maximum, a
//! subtraction, an exponential, a sum, a logarithm, another subtraction), a product with the
//! targets, a sum and a scale, each an autodiff node with its own tensor, and the running
//! metrics' class sums a dozen more (ArgMax, one-hot, two matrix products, a concatenation).
//! On a 784-[128]-10 batch of 128 rows those ~25 small operations were a fifth of a training
//! step; here each is one pass over the `[rows, classes]` scores.
//!
//! Every row is taken about its maximum (`ln Σ eᶻ = m + ln Σ e^(z − m)`), as Burn's
//! log-SoftMax does, so no exponential overflows; the exponentials are f32 (as Burn's), and
//! everything after them f64: sums over a row's classes and over the rows are taken in f64 in
//! row order and rounded once, so the numbers do not depend on the number of threads.

use crate::math::exp_nonpositive;

/// One row of scores taken about its maximum: `e^(z_j − max)` (f32, Cephes' `expf` as
/// softplus's, within 2 ulps), their sum in f64 and `ln Σ eᶻ = max + ln Σ e^(z − max)` (NaN
/// when any score is NaN).
struct Row<'a> {
    z: &'a [f32],
    t: &'a [f32],
    exps: &'a [f32],
    sum: f64,
    lse: f64,
}

impl Row<'_> {
    /// The row's cross entropy `Σ_j t_j · (ln Σ eᶻ − z_j)`, that is `−Σ_j t_j · ln SoftMax(z)_j`.
    fn entropy(&self) -> f64 {
        self.z
            .iter()
            .zip(self.t)
            .map(|(&z, &t)| f64::from(t) * (self.lse - f64::from(z)))
            .sum()
    }
}

/// `f` on each row of `z` and `t` (`width` values each, row-major), one exponential per score.
fn each_row(z: &[f32], t: &[f32], width: usize, mut f: impl FnMut(Row)) {
    let mut exps = vec![0.0f32; width];
    for (z, t) in z
        .chunks_exact(width.max(1))
        .zip(t.chunks_exact(width.max(1)))
    {
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        for (e, &v) in exps.iter_mut().zip(z) {
            *e = exp_nonpositive(v - max);
        }
        let sum: f64 = exps.iter().map(|&e| f64::from(e)).sum();
        let lse = f64::from(max) + sum.ln();
        f(Row {
            z,
            t,
            exps: &exps,
            sum,
            lse,
        });
    }
}

/// `scale · Σ_rows −Σ_j t_j · ln SoftMax(z)_j` for scores `z` and targets `t` (`width` classes a
/// row, row-major), summed in f64 and rounded once.
pub(crate) fn loss(z: &[f32], t: &[f32], width: usize, scale: f64) -> f32 {
    let mut sum = 0.0f64;
    each_row(z, t, width, |row| sum += row.entropy());
    (sum * scale) as f32
}

/// The gradients of [`loss`] times `factor` (`scale` times the loss's incoming gradient): by
/// the scores, `factor · (SoftMax(z)_j · Σ t − t_j)` (the identity of "Neural Networks Pt. 7",
/// for targets that need not sum to one), and by the targets when `target` asks for it,
/// `factor · (ln Σ eᶻ − z_j)`. Each element computed in f64 and rounded once.
pub(crate) fn gradients(
    z: &[f32],
    t: &[f32],
    width: usize,
    factor: f64,
    target: bool,
) -> (Vec<f32>, Option<Vec<f32>>) {
    let mut by_z = Vec::with_capacity(z.len());
    let mut by_t = target.then(|| Vec::with_capacity(t.len()));
    each_row(z, t, width, |row| {
        let total: f64 = row.t.iter().map(|&t| f64::from(t)).sum();
        let share = factor * total / row.sum;
        for ((&e, &t), &z) in row.exps.iter().zip(row.t).zip(row.z) {
            by_z.push((share * f64::from(e) - factor * f64::from(t)) as f32);
            if let Some(by_t) = by_t.as_mut() {
                by_t.push((factor * (row.lse - f64::from(z))) as f32);
            }
        }
    });
    (by_z, by_t)
}

/// Per true class `c` (row `c` of a row-major `[width, width + 1]` result): `Σ_rows t_c` over
/// the rows whose largest score is class `p` (column `p`; the lowest class on a tie, a NaN
/// never largest), and `Σ_rows t_c · entropy` (column `width`): a confusion matrix and the
/// summed cross entropy by true class, summed in f64 and rounded once.
pub(crate) fn class_sums(z: &[f32], t: &[f32], width: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; width * (width + 1)];
    each_row(z, t, width, |row| {
        let entropy = row.entropy();
        let mut predicted = 0;
        for (j, &v) in row.z.iter().enumerate() {
            if v > row.z[predicted] {
                predicted = j;
            }
        }
        for (sums, &t) in sums.chunks_exact_mut(width + 1).zip(row.t) {
            let t = f64::from(t);
            sums[predicted] += t;
            sums[width] += t * entropy;
        }
    });
    sums.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formulas on rows worked by hand: scores (1, 2, 3) of class 2, and (5, 5, −1) of
    /// class 0 (a tie, so predicted as class 0).
    #[test]
    fn the_rows_are_the_formulas() {
        let z = [1.0f32, 2.0, 3.0, 5.0, 5.0, -1.0];
        let t = [0.0f32, 0.0, 1.0, 1.0, 0.0, 0.0];
        let lse1 = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        let lse2 = (2.0 * 5f64.exp() + (-1f64).exp()).ln();
        let (ce1, ce2) = (lse1 - 3.0, lse2 - 5.0);
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() <= 1e-6 * b.abs().max(1.0);
        assert!(close(loss(&z, &t, 3, 0.5), 0.5 * (ce1 + ce2)));
        let (by_z, by_t) = gradients(&z, &t, 3, 2.0, true);
        for (i, &g) in by_z.iter().enumerate() {
            let lse = if i < 3 { lse1 } else { lse2 };
            let want = 2.0 * ((f64::from(z[i]) - lse).exp() - f64::from(t[i]));
            assert!(close(g, want), "dz {i}: {g} vs {want}");
        }
        let by_t = by_t.expect("asked for");
        assert!(close(by_t[2], 2.0 * ce1) && close(by_t[3], 2.0 * ce2));
        let sums = class_sums(&z, &t, 3);
        // Class 0's row: one row predicted 0 (the tie) of entropy ce2; class 2's: predicted 2.
        let want = [1.0, 0.0, 0.0, ce2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, ce1];
        for (i, (&got, &want)) in sums.iter().zip(&want).enumerate() {
            assert!(close(got, want), "class sums {i}: {got} vs {want}");
        }
    }

    /// Large scores neither overflow nor lose the gradient; a NaN score makes the loss NaN.
    #[test]
    fn large_scores_stay_finite_and_nan_shows() {
        let z = [1000.0f32, 0.0, -1000.0];
        let t = [0.0f32, 1.0, 0.0];
        assert!((loss(&z, &t, 3, 1.0) - 1000.0).abs() < 1e-3);
        let (by_z, _) = gradients(&z, &t, 3, 1.0, false);
        assert_eq!(by_z, vec![1.0, -1.0, 0.0]);
        assert!(loss(&[f32::NAN, 0.0], &[1.0, 0.0], 2, 1.0).is_nan());
        assert!(class_sums(&[], &[], 0).is_empty());
        assert_eq!(loss(&[], &[], 0, 1.0), 0.0);
    }
}
