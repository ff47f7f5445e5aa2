//! The yardstick: a `1-[H]-1` softplus network trained by plain SGD with its gradients written
//! out in closed form, in plain Rust, no Burn. It does what the training core does on the
//! bench's work (the same parameters, rows, batches and updates), as fast as a short program
//! can: each mini-batch is laid out unit by unit so every loop runs over contiguous rows and
//! vectorises, softplus and its slope come from the same vectorised kernel as the core's,
//! and sums use eight accumulators. A figure of the core divided by this one says what Burn's
//! generality (tensors, autodiff graph, optimizer) costs on that work.

use squiggle_fused::softplus_in_place;

/// A `1-[H]-1` softplus network's parameters and the scratch space of one mini-batch.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Input → hidden weights, one per unit.
    w1: Vec<f32>,
    /// Hidden biases.
    b1: Vec<f32>,
    /// Hidden → output weights.
    w2: Vec<f32>,
    /// Output bias.
    b2: f32,
    /// Unit-major `[H][B]`: pre-activations, then softplus of them.
    z: Vec<f32>,
    /// Unit-major `[H][B]`: sigmoid of the pre-activations (softplus' slope).
    slope: Vec<f32>,
    /// Per row: the prediction, then `∂loss/∂prediction`.
    residual: Vec<f32>,
    /// The mini-batch's inputs and targets, gathered.
    x: Vec<f32>,
    y: Vec<f32>,
}

impl Baseline {
    /// A network with `values` in squiggle's flat order for a `1-[H]-1` network: the H
    /// input weights, the H hidden biases, the H output weights, the output bias.
    ///
    /// # Panics
    /// When `values` is not `3H + 1` long for some H ≥ 1.
    pub fn new(values: &[f64]) -> Self {
        assert!(
            values.len() >= 4 && (values.len() - 1).is_multiple_of(3),
            "a 1-[H]-1 network has 3H + 1 values, got {}",
            values.len()
        );
        let h = (values.len() - 1) / 3;
        let part = |k: usize| {
            values[k * h..(k + 1) * h]
                .iter()
                .map(|&v| v as f32)
                .collect()
        };
        Self {
            w1: part(0),
            b1: part(1),
            w2: part(2),
            b2: values[3 * h] as f32,
            z: Vec::new(),
            slope: Vec::new(),
            residual: Vec::new(),
            x: Vec::new(),
            y: Vec::new(),
        }
    }

    /// The parameters in squiggle's flat order.
    pub fn values(&self) -> Vec<f64> {
        self.w1
            .iter()
            .chain(&self.b1)
            .chain(&self.w2)
            .chain(std::iter::once(&self.b2))
            .map(|&v| f64::from(v))
            .collect()
    }

    /// One gradient-descent step on the rows `x → y`, of the loss `scale · Σ (prediction −
    /// y)²` (`scale` 1: SSR; `1 / rows`: MSE).
    pub fn step(&mut self, x: &[f32], y: &[f32], learning_rate: f32, scale: f32) {
        let rows = x.len();
        let h = self.w1.len();
        self.z.resize(h * rows, 0.0);
        self.slope.resize(h * rows, 0.0);
        for (j, z) in self.z.chunks_exact_mut(rows).enumerate() {
            let (w, b) = (self.w1[j], self.b1[j]);
            for (z, &x) in z.iter_mut().zip(x) {
                *z = x * w + b;
            }
        }
        softplus_in_place(&mut self.z, Some(&mut self.slope));
        self.residual.clear();
        self.residual.resize(rows, self.b2);
        for (j, a) in self.z.chunks_exact(rows).enumerate() {
            let w = self.w2[j];
            for (p, &a) in self.residual.iter_mut().zip(a) {
                *p += w * a;
            }
        }
        let twice = 2.0 * scale;
        for (r, &y) in self.residual.iter_mut().zip(y) {
            *r = twice * (*r - y);
        }
        let r = &self.residual;
        self.b2 -= learning_rate * sum(r);
        for (j, (a, s)) in self
            .z
            .chunks_exact(rows)
            .zip(self.slope.chunks_exact(rows))
            .enumerate()
        {
            // ∂loss/∂z_ij = r_i · w2_j · s_ij, so the hidden gradients share Σ r·s (·x).
            let w = self.w2[j];
            let (rs, rsx) = dot_pair(r, s, x);
            self.w2[j] -= learning_rate * dot(r, a);
            self.w1[j] -= learning_rate * w * rsx;
            self.b1[j] -= learning_rate * w * rs;
        }
    }

    /// One epoch of mini-batch SGD with the MSE of each batch: the rows of `order` in
    /// batches of `batch`, gathered from the row-major `inputs` and `targets`.
    pub fn epoch(
        &mut self,
        inputs: &[f32],
        targets: &[f32],
        order: &[u32],
        batch: usize,
        learning_rate: f32,
    ) {
        let (mut x, mut y) = (std::mem::take(&mut self.x), std::mem::take(&mut self.y));
        for chunk in order.chunks(batch.max(1)) {
            x.clear();
            y.clear();
            x.extend(chunk.iter().map(|&i| inputs[i as usize]));
            y.extend(chunk.iter().map(|&i| targets[i as usize]));
            self.step(&x, &y, learning_rate, 1.0 / chunk.len() as f32);
        }
        (self.x, self.y) = (x, y);
    }
}

/// `Σ a`, in eight lanes.
fn sum(a: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = a.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            lanes[k] += c[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `Σ a·b`, in eight lanes.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += a[k] * b[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// `(Σ a·b, Σ a·b·c)`, in eight lanes each.
fn dot_pair(a: &[f32], b: &[f32], c: &[f32]) -> (f32, f32) {
    let (mut ab, mut abc) = ([0.0f32; 8], [0.0f32; 8]);
    let (ca, cb, cc) = (a.chunks_exact(8), b.chunks_exact(8), c.chunks_exact(8));
    let (mut tail_ab, mut tail_abc) = (0.0f32, 0.0f32);
    for ((a, b), c) in ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .zip(cc.remainder())
    {
        tail_ab += a * b;
        tail_abc += a * b * c;
    }
    for ((a, b), c) in ca.zip(cb).zip(cc) {
        for k in 0..8 {
            let p = a[k] * b[k];
            ab[k] += p;
            abc[k] += p * c[k];
        }
    }
    (
        ab.iter().sum::<f32>() + tail_ab,
        abc.iter().sum::<f32>() + tail_abc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use squiggle_model::{Architecture, lesson};

    /// The closed-form gradient of one SSR step is the host's chain rule: after one step at
    /// learning rate 1 the change of each parameter is minus its derivative.
    #[test]
    fn one_step_moves_each_parameter_by_its_derivative() {
        let start = lesson::DETAILS_PT2_START;
        let mut net = Baseline::new(&start);
        net.step(&[0.0, 0.5, 1.0], &[0.0, 1.0, 0.0], 1.0, 1.0);
        // Details Pt. 2's derivatives at the start (the reference the gradient checks use),
        // in flat order w1, w2, b1, b2, w3, w4, b3.
        let want = [
            0.76094, 0.33228, 0.96729, 0.73223, 7.14231, 1.48728, 3.45945,
        ];
        for ((after, before), want) in net.values().iter().zip(start).zip(want) {
            let moved = before - after;
            assert!(
                (moved - want).abs() < 1e-4,
                "moved {moved}, derivative {want}"
            );
        }
        assert_eq!(Architecture::statquest().num_params(), net.values().len());
    }

    #[test]
    fn the_lanes_add_up_like_a_plain_sum() {
        let a: Vec<f32> = (0..21).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..21).map(|i| 1.0 - i as f32 * 0.25).collect();
        let c: Vec<f32> = (0..21).map(|i| (i % 3) as f32).collect();
        let plain = |f: &dyn Fn(usize) -> f32| (0..21).map(f).sum::<f32>();
        assert_eq!(sum(&a), plain(&|i| a[i]));
        assert!((dot(&a, &b) - plain(&|i| a[i] * b[i])).abs() < 1e-4);
        let (ab, abc) = dot_pair(&a, &b, &c);
        assert!((ab - plain(&|i| a[i] * b[i])).abs() < 1e-4);
        assert!((abc - plain(&|i| a[i] * b[i] * c[i])).abs() < 1e-4);
    }
}
