//! The fused kernels against Burn's autodiff of the module, in f32, through the very
//! functions training calls (`Params::forward`, `LossKind::compute`, `backward`): the forward
//! pass, the loss and the gradient of every activation × loss × shape × row count, on one
//! thread and on all of them.
//!
//! # The bound
//! The reference is Burn's autodiff of the module in f64, itself held to the chain rule done by
//! hand on the host in f64 (to 1e-7: Burn's softplus is `z` above 20, e⁻²⁰ from ln(1 + eᶻ)).
//! The kernels compute in f32, so neither is exact; how far each may be is bounded by a running
//! error analysis of the host's pass (Wilkinson's): every value carries, besides itself, a
//! bound `s` on its error in units of `u = 2⁻²⁴` (f32's unit roundoff), to first order —
//! - a sum or product adds the errors its operands pass on (`|b|·s_a + |a|·s_b` for `a·b`)
//!   and its own rounding (`|result|`; a sum of `k` products in f32 `k` times the sum of their
//!   sizes);
//! - a function adds `|f′|·s` and 8 of its own ulps (libm's and the fused kernels' own
//!   polynomials are within 3; on a GPU more, as Vulkan allows: see [`GPU`]); the slopes
//!   `1 − tanh²` and `σ·(1 − σ)`, made from the rounded function, keep an error of its
//!   square's size however small the slope;
//! - a subtraction that cancels, as cross entropy's `ln Σ eᶻ − z_true`, keeps the error of its
//!   large operands.
//!
//! Adding up the rows' terms `t_r` of a loss or a gradient component adds more:
//! - the fused kernels sum rows in f64 blocks, or in f32 blocks inside a matmul, whose
//!   rounding errors add up like a random walk: about `√n·u·Σ|t_r|`;
//! - Burn's operations add rows one after another in f32, which can drift further (they do, on
//!   40,000 rows): at most `(n − 1)·u·Σ|t_r|`, the classic bound for recursive summation.
//!
//! A value is then within `2·(s + summing)·u`, plus 1e-5 of itself (and 1e-30, below which
//! f32 holds 0), of the exact one. A wrong kernel misses by a whole term or more: a
//! row left out at a block edge (127/128/129 rows), another activation's slope, a wrong
//! reduction, a race between threads (40,000 rows spread over the cores); each is far beyond
//! (see `a_wrong_gradient_is_beyond_the_bound`).

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use squiggle_model::{Activation, Architecture, Named, Precision, read, standard_normal_values};

use crate::engine::kernels::Kernels;
use crate::engine::loss::LossKind;
use crate::engine::params::Params;
use crate::engine::trainer::backward;

/// `(inputs, hidden, outputs)` of the shapes checked.
const SHAPES: [(usize, &[usize], usize); 6] = [
    (1, &[1], 1),
    (1, &[2], 1),
    (1, &[64], 1),
    (2, &[3, 2], 2),
    (10, &[4], 1),
    (4, &[8, 8, 8], 3),
];

/// Row counts: one, either side of the fused kernels' 128-row blocks, and enough to spread
/// over the cores (the fused kernels go parallel from two blocks with work enough).
const ROWS: [usize; 5] = [1, 127, 128, 129, 40_000];

/// f32's unit roundoff.
const U: f64 = f32::EPSILON as f64 / 2.0;

/// What f32 cannot tell from 0 (a SoftMax probability of e⁻¹⁴⁰, say): far below any value
/// these networks compute otherwise.
const UNDERFLOW: f64 = 1e-30;

/// One case's data: inputs and targets, row-major, and the parameters.
struct Case {
    arch: Architecture,
    loss: LossKind,
    x: Vec<f64>,
    y: Vec<f64>,
    values: Vec<f64>,
}

impl Case {
    fn new(arch: Architecture, loss: LossKind, rows: usize, seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let (inputs, outputs) = (arch.inputs, arch.outputs);
        let mut x: Vec<f64> = (0..rows * inputs)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let mut y: Vec<f64> = if loss.is_cross_entropy() {
            (0..rows)
                .flat_map(|_| {
                    let class = rng.random_range(0..outputs);
                    (0..outputs).map(move |c| f64::from(u8::from(c == class)))
                })
                .collect()
        } else {
            (0..rows * outputs)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect()
        };
        let mut values = standard_normal_values(&arch, seed);
        for v in values.iter_mut() {
            *v += rng.random_range(-0.5..0.5);
        }
        // The values as f32 holds them, so the host reference starts from the same numbers.
        for v in values.iter_mut().chain(x.iter_mut()).chain(y.iter_mut()) {
            *v = Precision::F32.round(*v);
        }
        Self {
            arch,
            loss,
            x,
            y,
            values,
        }
    }

    fn rows(&self) -> usize {
        self.x.len() / self.arch.inputs
    }

    /// Predictions (row-major), loss and gradient (flat order) computed by `kernels` in f32
    /// on flex.
    fn computed(&self, kernels: Kernels) -> (Vec<f64>, f64, Vec<f64>) {
        self.computed_at(&Device::flex(), kernels, Precision::F32)
    }

    /// The same on `device` at `precision`.
    fn computed_at(
        &self,
        device: &Device,
        kernels: Kernels,
        precision: Precision,
    ) -> (Vec<f64>, f64, Vec<f64>) {
        let device = device.clone().autodiff();
        let tensor = |values: &[f64], width: usize| {
            Tensor::<2>::from_data(
                TensorData::new(values.to_vec(), [values.len() / width, width]),
                (&device, precision.dtype()),
            )
        };
        let (x, y) = (
            tensor(&self.x, self.arch.inputs),
            tensor(&self.y, self.arch.outputs),
        );
        let params = Params::from_values(kernels, &self.arch, &self.values, &device, precision);
        let predicted = params.forward(&self.arch, x.clone()).detach();
        let pass = backward(&self.arch, &params, x, y, self.loss);
        let loss = read(pass.loss.clone(), "the loss").unwrap()[0];
        let gradient = params.gradient(&pass.grads).unwrap();
        (read(predicted, "predictions").unwrap(), loss, gradient)
    }

    /// The host's f64 reference with its error bounds (see the module's documentation): each
    /// prediction as `[value, bound]`, the loss and each gradient component as sums over the
    /// rows.
    fn reference(&self, fx: Functions) -> (Vec<[f64; 2]>, Sum, Vec<Sum>) {
        let arch = &self.arch;
        let (inputs, outputs) = (arch.inputs, arch.outputs);
        let rows = self.rows();
        let scale = self.loss.scale(rows, outputs);
        let specs = arch.tensors();
        let layers = specs.len() / 2;
        let act = arch.activation;
        let w = |layer: usize, j: usize, k: usize| {
            let spec = &specs[2 * layer];
            self.values[spec.offset + j * spec.shape[1] + k]
        };
        let b = |layer: usize, k: usize| self.values[specs[2 * layer + 1].offset + k];
        let mut predictions = Vec::with_capacity(rows * outputs);
        // Per sum (the loss, each gradient component): Σ t_r, Σ s_r, Σ |t_r|.
        let mut loss = Sum::default();
        let mut gradient = vec![Sum::default(); self.values.len()];
        for r in 0..rows {
            // Forward: each layer's input a (with errors) and pre-activation z.
            let mut a: Vec<E> = self.x[r * inputs..][..inputs]
                .iter()
                .map(|&v| E::exact(v))
                .collect();
            let mut trace: Vec<(Vec<E>, Vec<E>)> = Vec::with_capacity(layers);
            for layer in 0..layers {
                let fan_out = specs[2 * layer].shape[1];
                let z: Vec<E> = (0..fan_out)
                    .map(|k| {
                        let terms: Vec<E> = a
                            .iter()
                            .enumerate()
                            .map(|(j, &aj)| aj.scaled(w(layer, j, k)))
                            .collect();
                        E::sum(&terms).plus(E::exact(b(layer, k)))
                    })
                    .collect();
                let next = if layer + 1 < layers {
                    z.iter()
                        .map(|z| z.through(act.apply_scalar(z.v), act.derivative_scalar(z.v), fx))
                        .collect()
                } else {
                    z.clone()
                };
                trace.push((a, z));
                a = next;
            }
            let prediction = a;
            predictions.extend(prediction.iter().map(|p| [p.v, p.s]));
            let observed = &self.y[r * outputs..][..outputs];
            // The loss's row and its gradient by the raw outputs.
            let raw: Vec<f64> = prediction.iter().map(|p| p.v).collect();
            let (row_loss, mut delta) = match self.loss {
                LossKind::Ssr | LossKind::Mse => {
                    let residuals: Vec<E> = prediction
                        .iter()
                        .zip(observed)
                        .map(|(p, &o)| p.plus(E::exact(-o)))
                        .collect();
                    let squares: Vec<E> = residuals.iter().map(|d| d.times(*d)).collect();
                    let delta: Vec<E> = residuals.iter().map(|d| d.scaled(2.0 * scale)).collect();
                    (E::sum(&squares).scaled(scale), delta)
                }
                LossKind::CrossEntropy | LossKind::MeanCrossEntropy => {
                    let lse = crate::engine::loss::log_sum_exp(&raw);
                    let lse_error = prediction.iter().map(|p| p.s).fold(0.0, f64::max)
                        + 8.0 * (lse.abs() + raw.iter().fold(0.0f64, |m, z| m.max(z.abs())));
                    let lse = E {
                        v: lse,
                        s: lse_error,
                    };
                    let mut row = E::exact(0.0);
                    let delta = prediction
                        .iter()
                        .zip(observed)
                        .map(|(z, &o)| {
                            let log_p = z.plus(lse.scaled(-1.0));
                            if o != 0.0 {
                                row = row.plus(log_p.scaled(-o));
                            }
                            let p = log_p.through(log_p.v.exp(), log_p.v.exp(), fx);
                            p.plus(E::exact(-o)).scaled(scale)
                        })
                        .collect();
                    (row.scaled(scale), delta)
                }
            };
            loss.add(row_loss);
            // Backward, from the output layer down.
            for layer in (0..layers).rev() {
                let (a, _) = &trace[layer];
                let spec = &specs[2 * layer];
                let fan_out = spec.shape[1];
                for (k, d) in delta.iter().enumerate() {
                    for (j, aj) in a.iter().enumerate() {
                        gradient[spec.offset + j * fan_out + k].add(aj.times(*d));
                    }
                    gradient[specs[2 * layer + 1].offset + k].add(*d);
                }
                if layer > 0 {
                    let below = &trace[layer - 1].1;
                    delta = (0..a.len())
                        .map(|j| {
                            let terms: Vec<E> = delta
                                .iter()
                                .enumerate()
                                .map(|(k, d)| d.scaled(w(layer, j, k)))
                                .collect();
                            E::sum(&terms).times(slope(act, below[j], fx))
                        })
                        .collect();
                }
            }
        }
        let predictions = predictions
            .into_iter()
            .map(|[v, s]| [v, 2.0 * s * U + 1e-5 * v.abs() + UNDERFLOW])
            .collect();
        (predictions, loss, gradient)
    }
}

/// How accurately a device computes exponentials, logarithms and the activations: relative
/// ulps, more ulps per unit of the argument's size, and an absolute error (all in units of `u`).
#[derive(Clone, Copy, Debug)]
struct Functions {
    ulps: f64,
    per_input: f64,
    absolute: f64,
}

/// The CPU backends: libm and the fused kernels' polynomials, within 8 ulps.
const CPU: Functions = Functions {
    ulps: 8.0,
    per_input: 0.0,
    absolute: 0.0,
};

/// A GPU through Vulkan (used by the wgpu variant of the property test), which promises less (SPIR-V's GLSL.std.450 rules): `exp` within
/// `3 + 2|x|` ulps, `log` within 2⁻²¹ absolute near 1 (that is 8 `u`).
#[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
const GPU: Functions = Functions {
    ulps: 8.0,
    per_input: 2.0,
    absolute: 8.0,
};

/// A value and a bound on its f32 error in units of `u`, to first order.
#[derive(Clone, Copy, Debug)]
struct E {
    v: f64,
    s: f64,
}

impl E {
    /// An input or parameter: exactly what f32 holds.
    fn exact(v: f64) -> Self {
        Self { v, s: 0.0 }
    }

    fn plus(self, other: E) -> E {
        let v = self.v + other.v;
        E {
            v,
            s: self.s + other.s + v.abs(),
        }
    }

    fn times(self, other: E) -> E {
        let v = self.v * other.v;
        E {
            v,
            s: other.v.abs() * self.s + self.v.abs() * other.s + v.abs(),
        }
    }

    /// Times an exact number.
    fn scaled(self, by: f64) -> E {
        self.times(E::exact(by))
    }

    /// A function of this value, computed as accurately as `fx` says: its value `f` and slope
    /// `df` here.
    fn through(self, f: f64, df: f64, fx: Functions) -> E {
        E {
            v: f,
            s: df.abs() * self.s + (fx.ulps + fx.per_input * self.v.abs()) * f.abs() + fx.absolute,
        }
    }

    /// A sum of products in f32: the errors passed on, and each partial sum's rounding (at most
    /// the number of terms times their sizes).
    fn sum(terms: &[E]) -> E {
        let v: f64 = terms.iter().map(|t| t.v).sum();
        let size: f64 = terms.iter().map(|t| t.v.abs()).sum();
        E {
            v,
            s: terms.iter().map(|t| t.s).sum::<f64>() + terms.len() as f64 * size,
        }
    }
}

/// An activation's slope at `z`, with its error: what `z`'s error passes on (through the
/// second derivative) and the function's own; tanh's `1 − tanh²` and sigmoid's `σ·(1 − σ)`
/// are computed from the rounded function, whose error (of the function's size, squared and
/// doubled) does not shrink with the slope.
fn slope(act: Activation, z: E, fx: Functions) -> E {
    let h = 1e-4 * z.v.abs().max(1.0);
    let second = (act.derivative_scalar(z.v + h) - act.derivative_scalar(z.v - h)) / (2.0 * h);
    let v = act.derivative_scalar(z.v);
    let cancels = match act {
        Activation::Tanh | Activation::Sigmoid => act.apply_scalar(z.v).powi(2),
        Activation::Softplus | Activation::Relu | Activation::Identity => 0.0,
    };
    let own = fx.ulps + fx.per_input * z.v.abs();
    E {
        v,
        s: second.abs() * z.s + own * v.abs() + 2.0 * own * cancels + fx.absolute,
    }
}

/// A sum over the rows: its value, its terms' errors and their sizes, and how many.
#[derive(Clone, Default)]
struct Sum {
    value: f64,
    error: f64,
    size: f64,
    terms: usize,
}

impl Sum {
    fn add(&mut self, term: E) {
        self.value += term.v;
        self.error += term.s;
        self.size += term.v.abs();
        self.terms += 1;
    }

    /// How far an f32 computation of this sum by `kernels` may be from its value.
    fn bound(&self, kernels: Kernels) -> f64 {
        let n = self.terms as f64;
        let summing = match kernels {
            Kernels::Fused => n.sqrt(),
            Kernels::Burn => (n - 1.0).max(0.0),
        } * self.size;
        2.0 * (self.error + summing) * U + 1e-5 * self.value.abs() + UNDERFLOW
    }
}

/// `f` on a pool of `threads` threads (flex and the fused kernels spread work over the pool
/// they run on).
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

/// Compares the fused kernels and Burn's on `device` in f32 (on flex, on one thread and on all
/// of them) with Burn's autodiff of the module in f64 on flex; returns the fused kernels'
/// largest difference as a share of its bound, with functions computed as `fx` says.
fn compare(case: &Case, what: &str, device: &Device, fx: Functions) -> f64 {
    let on_flex = *device == Device::flex();
    let all = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2);
    let f32_on = |kernels, threads| {
        on_threads(threads, || {
            case.computed_at(device, kernels, Precision::F32)
        })
    };
    let fused = f32_on(Kernels::Fused, 1);
    let mut runs = vec![
        (Kernels::Fused, fused.clone()),
        (Kernels::Burn, f32_on(Kernels::Burn, 1)),
    ];
    if on_flex {
        let fused_all = f32_on(Kernels::Fused, all);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            (bits(&fused.0), fused.1.to_bits(), bits(&fused.2)),
            (
                bits(&fused_all.0),
                fused_all.1.to_bits(),
                bits(&fused_all.2)
            ),
            "{what}: the fused kernels give the same bits on 1 and {all} threads"
        );
        runs.push((Kernels::Burn, f32_on(Kernels::Burn, all)));
    }
    let reference = case.computed_at(&Device::flex(), Kernels::Burn, Precision::F64);
    let (predictions, loss, gradient) = case.reference(fx);
    // The reference itself: Burn's autodiff in f64 is the chain rule done by hand.
    let close = |a: f64, sum: &Sum| (a - sum.value).abs() <= 1e-7 * (sum.error + sum.size);
    assert!(close(reference.1, &loss), "{what}: f64 loss");
    for (j, (&r, g)) in reference.2.iter().zip(&gradient).enumerate() {
        assert!(
            close(r, g),
            "{what}: f64 dL/dθ{j}: Burn {r}, by hand {}",
            g.value
        );
    }
    let mut worst: f64 = 0.0;
    for (kernels, computed) in &runs {
        let kernels = *kernels;
        let mut check = |label: String, got: f64, want: f64, bound: f64| {
            let share = (got - want).abs() / bound.max(f64::MIN_POSITIVE);
            assert!(
                share <= 1.0,
                "{what}: {label} by {kernels}: {got} vs {want} in f64 differ by {:e}, beyond the bound {bound:e}",
                (got - want).abs()
            );
            if kernels == Kernels::Fused {
                worst = worst.max(share);
            }
        };
        for (i, (&got, p)) in computed.0.iter().zip(&predictions).enumerate() {
            check(format!("prediction {i}"), got, reference.0[i], p[1]);
        }
        check(
            "the loss".to_string(),
            computed.1,
            reference.1,
            loss.bound(kernels),
        );
        for (j, (&got, g)) in computed.2.iter().zip(&gradient).enumerate() {
            check(format!("dL/dθ{j}"), got, reference.2[j], g.bound(kernels));
        }
    }
    worst
}

/// Every activation × loss × shape × row count of the module-level documentation on `device`.
fn every_case_on(
    device: &Device,
    shapes: &[(usize, &[usize], usize)],
    rows: &[usize],
    fx: Functions,
) {
    let mut worst: (f64, String) = (0.0, String::new());
    let mut seed = 0;
    for &activation in Activation::ALL {
        for &loss in LossKind::ALL {
            for &(inputs, hidden, outputs) in shapes {
                let arch = Architecture::new(inputs, hidden.to_vec(), outputs, activation)
                    .expect("a valid shape");
                for &rows in rows {
                    seed += 1;
                    let what = format!("{} {loss}, {rows} rows", arch.describe());
                    let case = Case::new(arch.clone(), loss, rows, seed);
                    let share = compare(&case, &what, device, fx);
                    if share > worst.0 {
                        worst = (share, what);
                    }
                }
            }
        }
    }
    eprintln!(
        "largest difference of the fused kernels: {:.2} of its bound ({})",
        worst.0, worst.1
    );
}

#[test]
fn the_fused_kernels_are_burns_autodiff_of_the_module() {
    every_case_on(&Device::flex(), &SHAPES, &ROWS, CPU);
}

/// A batch of one block whose products are large enough for the fused kernels to compute them
/// in two pieces the team shares (as a 784-[128]-10 batch of 128 rows), on two threads.
#[test]
fn a_wide_block_in_pieces_is_burns_autodiff_of_the_module() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool of two threads");
    pool.install(|| every_case_on(&Device::flex(), &[(300, &[64], 10)], &[100, 128], CPU));
}

/// The cross-backend suite: the same on ndarray, whose fused kernels compose Burn's backend
/// operations.
#[test]
#[cfg_attr(
    not(feature = "ndarray"),
    ignore = "needs `--features ndarray`; .ci/run runs it with --include-ignored"
)]
fn the_fused_kernels_are_burns_autodiff_of_the_module_on_ndarray() {
    #[cfg(feature = "ndarray")]
    {
        #[allow(deprecated)]
        let device = Device::ndarray();
        every_case_on(&device, &SHAPES, &[1, 129], CPU);
        class_sums_on(&device, &[Precision::F32]);
    }
    #[cfg(not(feature = "ndarray"))]
    panic!("this build has no ndarray backend (build with `--features ndarray`)");
}

/// The same on wgpu (Mesa's software Vulkan driver in CI): fewer shapes, every activation and
/// loss.
#[test]
#[ignore = "needs `--features wgpu` and a Vulkan driver; .ci/run runs it with --include-ignored"]
fn the_fused_kernels_are_burns_autodiff_of_the_module_on_wgpu() {
    #[cfg(feature = "wgpu")]
    {
        let device = Device::wgpu_options().init().expect("a wgpu adapter");
        every_case_on(&device, &[SHAPES[1], SHAPES[3], SHAPES[5]], &[1, 129], GPU);
        class_sums_on(&device, &[Precision::F32]);
    }
    #[cfg(not(feature = "wgpu"))]
    panic!("this build has no wgpu backend (build with `--features wgpu`)");
}

/// The fused kernels' bound is not so loose that a real mistake hides in it: a gradient that
/// misses one row of 129, or whose slope is another activation's, is far outside it.
#[test]
fn a_wrong_gradient_is_beyond_the_bound() {
    let arch = Architecture::new(1, vec![3], 1, Activation::Tanh).unwrap();
    let case = Case::new(arch.clone(), LossKind::Mse, 129, 7);
    let (_, _, gradient) = case.reference(CPU);
    let (_, _, fused) = case.computed(Kernels::Fused);
    let beyond = |got: &[f64]| {
        got.iter()
            .zip(&gradient)
            .any(|(&got, g)| (got - g.value).abs() > g.bound(Kernels::Fused))
    };
    assert!(!beyond(&fused), "the right gradient is within the bound");
    // The same loss (MSE over 129 rows) without row 129's terms.
    let short = Case {
        x: case.x[..128].to_vec(),
        y: case.y[..128].to_vec(),
        values: case.values.clone(),
        arch: arch.clone(),
        loss: LossKind::Ssr,
    };
    let (_, _, mut missing) = short.computed(Kernels::Fused);
    for m in missing.iter_mut() {
        *m /= 129.0;
    }
    assert!(beyond(&missing), "a row left out");
    // Another activation's slope.
    let sigmoid = Case {
        arch: Architecture::new(1, vec![3], 1, Activation::Sigmoid).unwrap(),
        ..case
    };
    let (_, _, other) = sigmoid.computed(Kernels::Fused);
    assert!(beyond(&other), "the wrong activation");
}

/// Each loss trains as itself: the loss and gradient both kernels compute are those of the
/// variant's own definition on the host (a new variant cannot fall through to another's
/// formula).
#[test]
fn every_loss_is_computed_as_itself() {
    let arch = Architecture::new(2, vec![3], 3, Activation::Softplus).unwrap();
    for &loss in LossKind::ALL {
        let case = Case::new(arch.clone(), loss, 5, 11);
        let (_, want, gradient) = case.reference(CPU);
        for &kernels in Kernels::ALL {
            let (_, got, computed) = case.computed(kernels);
            assert!(
                (got - want.value).abs() <= want.bound(kernels),
                "{loss} by {kernels}: {got} vs {}",
                want.value
            );
            for (c, g) in computed.iter().zip(&gradient) {
                assert!(
                    (c - g.value).abs() <= g.bound(kernels),
                    "{loss} by {kernels}: {c} vs {}",
                    g.value
                );
            }
        }
    }
}

/// A classifier's running sums by the fused kernel (flex's loop in f32, and its composition of
/// Burn's backend operations in f64) are those of Burn's tensor operations: the same counts,
/// ties (whole-number scores) counted as the lowest class, and the same summed cross entropy
/// within f32's rounding.
#[test]
fn the_fused_class_sums_are_burns() {
    class_sums_on(&Device::flex(), &[Precision::F32, Precision::F64]);
}

/// [`the_fused_class_sums_are_burns`] on `device` at each of `precisions`.
fn class_sums_on(device: &Device, precisions: &[Precision]) {
    let mut rng = StdRng::seed_from_u64(3);
    for (rows, classes) in [(1, 2), (127, 3), (128, 10), (129, 10), (1000, 4)] {
        let scores: Vec<f64> = (0..rows * classes)
            .map(|i| match i % 3 {
                0 => f64::from(rng.random_range(0..3u8)),
                _ => rng.random_range(-20.0..20.0),
            })
            .collect();
        let truth: Vec<f64> = (0..rows)
            .flat_map(|_| {
                let class = rng.random_range(0..classes);
                (0..classes).map(move |c| f64::from(u8::from(c == class)))
            })
            .collect();
        for &precision in precisions {
            let device = device.clone().autodiff();
            let tensor = |values: &[f64]| {
                Tensor::<2>::from_data(
                    TensorData::new(values.to_vec(), [rows, classes]),
                    (&device, precision.dtype()),
                )
            };
            let sums = |kernels: Kernels| {
                let sums = kernels.class_sums(tensor(&scores), tensor(&truth));
                assert_eq!(sums.dims(), [classes, classes + 1]);
                read(sums, "class sums").unwrap()
            };
            let (fused, burn) = (sums(Kernels::Fused), sums(Kernels::Burn));
            let what = format!("{rows} rows of {classes} classes in {precision:?}");
            for (i, (f, b)) in fused.iter().zip(&burn).enumerate() {
                let entropy = i % (classes + 1) == classes;
                let tolerance = if entropy {
                    1e-5 * b.abs().max(1.0)
                } else {
                    0.0
                };
                assert!((f - b).abs() <= tolerance, "{what}, sum {i}: {f} vs {b}");
            }
            let counted: f64 = fused
                .chunks(classes + 1)
                .map(|row| row[..classes].iter().sum::<f64>())
                .sum();
            assert_eq!(counted, rows as f64, "{what}: every row counted once");
        }
    }
}
