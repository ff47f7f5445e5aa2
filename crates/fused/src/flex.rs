//! The fused kernels on flex, Burn's CPU backend: loops over the tensors' memory in f32, one
//! pass where Burn's operations take several, softplus vectorised. Other element types (f64 for
//! gradient checks) take the composed path: exact, and not where time goes.
//!
//! Rows are processed in fixed blocks of [`BLOCK_ROWS`]; large batches spread the blocks over
//! the CPU's cores. Sums over rows are taken per block in f64 and the blocks' sums added in
//! block order, so the numbers do not depend on how many cores there are or which finished
//! first: the same run gives the same bits on any machine.

use std::borrow::Cow;
use std::ops::Range;

use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;
use rayon::prelude::*;

use squiggle_model::Activation;

use crate::network::LayerState;
use crate::ops::FusedKernels;
use crate::{compose, math};

/// Rows per block: the unit of work a core takes, and of the partial sums.
const BLOCK_ROWS: usize = 128;
/// Below this many elements a batch stays on one core (handing blocks out costs more).
const PARALLEL_ELEMENTS: usize = 1 << 15;

/// Compiles `body` twice, for the x86-64 baseline (`portable`) and for AVX2 (`avx2`), in a
/// module of the kernel's name whose `call` runs the version the CPU has. Only IEEE additions,
/// multiplications and divisions are written (no fused multiply-adds are formed), so both
/// versions give the same bits (tested for every kernel).
macro_rules! with_avx2 {
    (fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[inline(always)]
            pub(super) fn portable($($arg: $ty),*) $(-> $ret)? $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            pub(super) fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }

            pub(super) fn call($($arg: $ty),*) $(-> $ret)? {
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above; `avx2` needs nothing else.
                    return unsafe { avx2($($arg),*) };
                }
                portable($($arg),*)
            }
        }
    };
}

/// The tensor's values, copied into contiguous memory first if its layout is strided.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap_or(&[]).to_vec()),
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn is_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

fn parallel(elements: usize) -> bool {
    elements >= PARALLEL_ELEMENTS
}

/// `f` on every block of rows, in parallel for large batches; results in block order.
fn per_block<T: Send>(rows: usize, width: usize, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    let blocks: Vec<Range<usize>> = (0..rows)
        .step_by(BLOCK_ROWS)
        .map(|start| start..(start + BLOCK_ROWS).min(rows))
        .collect();
    if parallel(rows * width) {
        blocks.into_par_iter().map(&f).collect()
    } else {
        blocks.into_iter().map(f).collect()
    }
}

/// `f(first row, rows)` on every block of `out` (`width` values a row), in parallel for large
/// batches.
fn for_blocks(out: &mut [f32], width: usize, f: impl Fn(usize, &mut [f32]) + Sync) {
    let chunk = BLOCK_ROWS * width.max(1);
    if parallel(out.len()) {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(k, block)| f(k * BLOCK_ROWS, block));
    } else {
        out.chunks_mut(chunk)
            .enumerate()
            .for_each(|(k, block)| f(k * BLOCK_ROWS, block));
    }
}

/// The sum of per-block sums, in block order.
fn add_blocks(blocks: Vec<Vec<f64>>, len: usize) -> Vec<f32> {
    let mut total = vec![0.0f64; len];
    for block in blocks {
        for (t, v) in total.iter_mut().zip(block) {
            *t += v;
        }
    }
    total.into_iter().map(|v| v as f32).collect()
}

with_avx2! {
    fn outer_affine(x: &[f32], w: &[f32], b: &[f32], z: &mut [f32]) {
        // x·w + b for one input column: an outer product, the same roundings as a broadcast.
        for (row, &xi) in z.chunks_exact_mut(w.len()).zip(x) {
            for ((zj, &wj), &bj) in row.iter_mut().zip(w).zip(b) {
                *zj = xi * wj + bj;
            }
        }
    }
}

with_avx2! {
    fn add_bias(z: &mut [f32], b: &[f32]) {
        for row in z.chunks_exact_mut(b.len()) {
            for (zj, &bj) in row.iter_mut().zip(b) {
                *zj += bj;
            }
        }
    }
}

/// Applies `activation` to every element of `z` in place, writing the slopes when given.
fn activate(z: &mut [f32], activation: Activation, slopes: Option<&mut [f32]>) {
    match activation {
        Activation::Identity => {}
        Activation::Softplus => math::softplus_in_place(z, slopes),
        Activation::Relu => elementwise(z, slopes, |v| if v > 0.0 { (v, 1.0) } else { (0.0, 0.0) }),
        Activation::Sigmoid => elementwise(z, slopes, |v| {
            let y = 1.0 / (1.0 + (-v).exp());
            (y, y * (1.0 - y))
        }),
        Activation::Tanh => elementwise(z, slopes, |v| {
            let y = v.tanh();
            (y, 1.0 - y * y)
        }),
    }
}

fn elementwise(z: &mut [f32], slopes: Option<&mut [f32]>, f: impl Fn(f32) -> (f32, f32)) {
    match slopes {
        Some(slopes) => {
            for (v, s) in z.iter_mut().zip(slopes.iter_mut()) {
                (*v, *s) = f(*v);
            }
        }
        None => z.iter_mut().for_each(|v| *v = f(*v).0),
    }
}

with_avx2! {
    fn one_input_sums(x: &[f32], g: &[f32], s: Option<&[f32]>, sums: &mut [f64]) {
        // For one input column: Σ dz into sums[..width], Σ x·dz into sums[width..].
        let width = sums.len() / 2;
        let (db, dw) = sums.split_at_mut(width);
        for (i, g_row) in g.chunks_exact(width).enumerate() {
            let xi = f64::from(x[i]);
            match s {
                Some(s) => {
                    let s_row = &s[i * width..(i + 1) * width];
                    for j in 0..width {
                        let d = f64::from(g_row[j]) * f64::from(s_row[j]);
                        db[j] += d;
                        dw[j] += xi * d;
                    }
                }
                None => {
                    for j in 0..width {
                        let d = f64::from(g_row[j]);
                        db[j] += d;
                        dw[j] += xi * d;
                    }
                }
            }
        }
    }
}

with_avx2! {
    fn one_output_sums(x: &[f32], dz: &[f64], sums: &mut [f64]) {
        // For one output column: Σ dz into sums[0], Σ x·dz into sums[1..].
        let fan_in = sums.len() - 1;
        let (db, dw) = sums.split_at_mut(1);
        for (x_row, &d) in x.chunks_exact(fan_in).zip(dz) {
            db[0] += d;
            for (w, &xk) in dw.iter_mut().zip(x_row) {
                *w += f64::from(xk) * d;
            }
        }
    }
}

with_avx2! {
    fn outer_product(dz: &[f64], w: &[f32], dx: &mut [f32]) {
        for (row, &d) in dx.chunks_exact_mut(w.len()).zip(dz) {
            let d = d as f32;
            for (v, &wk) in row.iter_mut().zip(w) {
                *v = d * wk;
            }
        }
    }
}

/// `grad ⊙ slope` of rows `rows`, in f64 (the slope is 1 for the identity).
fn dz_f64(g: &[f32], s: Option<&[f32]>, rows: Range<usize>, width: usize) -> Vec<f64> {
    let range = rows.start * width..rows.end * width;
    match s {
        Some(s) => g[range.clone()]
            .iter()
            .zip(&s[range])
            .map(|(&g, &s)| f64::from(g) * f64::from(s))
            .collect(),
        None => g[range].iter().map(|&g| f64::from(g)).collect(),
    }
}

with_avx2! {
    fn one_hidden_layer_sums(
        x: &[f32],
        h: &[f32],
        s: &[f32],
        w2: &[f32],
        g: &[f32],
        sums: &mut [f64],
    ) {
        // One pass over a block of a 1-[H]-1 network's rows, the same roundings as the layer
        // by layer kernels: the output layer's sums (Σ g into sums[0], Σ h·g into sums[1..=H]),
        // then the hidden layer's from its input gradient g·w2 rounded to f32 (Σ dz into
        // sums[H+1..=2H], Σ x·dz into sums[2H+1..]).
        let width = w2.len();
        let (out, hidden) = sums.split_at_mut(1 + width);
        let (db2, dw2) = out.split_at_mut(1);
        let (db1, dw1) = hidden.split_at_mut(width);
        for (i, (&gi, &xi)) in g.iter().zip(x).enumerate() {
            let (h_row, s_row) = (&h[i * width..(i + 1) * width], &s[i * width..(i + 1) * width]);
            let d = f64::from(gi);
            db2[0] += d;
            for (w, &hk) in dw2.iter_mut().zip(h_row) {
                *w += f64::from(hk) * d;
            }
            let xi = f64::from(xi);
            for j in 0..width {
                let dz = f64::from(gi * w2[j]) * f64::from(s_row[j]);
                db1[j] += dz;
                dw1[j] += xi * dz;
            }
        }
    }
}

/// The backward pass of a 1-[H]-1 network (one input, one hidden layer with an activation, one
/// output) in one pass over the rows, without the `[rows, H]` input gradient of the output
/// layer the layer-by-layer path writes and reads back: the parameters' gradient in flat
/// order, `None` for any other network (or element type, or when the input's gradient is
/// wanted).
fn one_hidden_layer_backward(
    states: &[LayerState<Flex>],
    grad: &FlexTensor,
    input: bool,
) -> Option<FlexTensor> {
    let [hidden, output] = states else {
        return None;
    };
    let slope = hidden.slope.as_ref()?;
    let (w1, w2) = (&hidden.weight, &output.weight);
    let width = w1.shape()[1];
    let shaped = w1.shape()[0] == 1 && w2.shape()[1] == 1 && !input;
    if !shaped || !is_f32(&[&hidden.input, w1, slope, &output.input, w2, grad]) {
        return None;
    }
    let (x, h, s, w2, g) = (
        values(&hidden.input),
        values(&output.input),
        values(slope),
        values(w2),
        values(grad),
    );
    let rows = g.len();
    let blocks = per_block(rows, width, |r| {
        let mut sums = vec![0.0f64; 1 + 3 * width];
        let range = r.start * width..r.end * width;
        one_hidden_layer_sums::call(
            &x[r.clone()],
            &h[range.clone()],
            &s[range],
            &w2,
            &g[r],
            &mut sums,
        );
        sums
    });
    let sums = add_blocks(blocks, 1 + 3 * width);
    // Flat order: w1, b1, w2, b2.
    let (out, hidden) = sums.split_at(1 + width);
    let (db1, dw1) = hidden.split_at(width);
    let theta: Vec<f32> = dw1
        .iter()
        .chain(db1)
        .chain(&out[1..])
        .chain(&out[..1])
        .copied()
        .collect();
    Some(tensor(theta, vec![3 * width + 1]))
}

impl FusedKernels for Flex {
    fn network_backward(
        states: Vec<LayerState<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>) {
        match one_hidden_layer_backward(&states, &grad, input) {
            Some(theta) => (None, theta),
            None => crate::network::layer_by_layer::<Self>(states, grad, input),
        }
    }

    fn dense_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        b: FloatTensor<Self>,
        activation: Activation,
        slope: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>) {
        if !is_f32(&[&x, &w, &b]) {
            return compose::dense_forward::<Self>(x, w, b, activation, slope);
        }
        let (rows, fan_in, fan_out) = (x.shape()[0], x.shape()[1], w.shape()[1]);
        let bias = values(&b);
        let mut z = if fan_in == 1 {
            vec![0.0f32; rows * fan_out]
        } else {
            values(&Flex::float_matmul(x.clone(), w.clone())).into_owned()
        };
        let mut slopes =
            (slope && activation != Activation::Identity).then(|| vec![0.0f32; rows * fan_out]);
        let (xs, ws) = (values(&x), values(&w));
        let block = |first: usize, z: &mut [f32], s: Option<&mut [f32]>| {
            if fan_in == 1 {
                let n = z.len() / fan_out;
                outer_affine::call(&xs[first..first + n], &ws, &bias, z);
            } else {
                add_bias::call(z, &bias);
            }
            activate(z, activation, s);
        };
        let chunk = BLOCK_ROWS * fan_out;
        match slopes.as_deref_mut() {
            Some(s) if parallel(z.len()) => z
                .par_chunks_mut(chunk)
                .zip(s.par_chunks_mut(chunk))
                .enumerate()
                .for_each(|(k, (z, s))| block(k * BLOCK_ROWS, z, Some(s))),
            Some(s) => z
                .chunks_mut(chunk)
                .zip(s.chunks_mut(chunk))
                .enumerate()
                .for_each(|(k, (z, s))| block(k * BLOCK_ROWS, z, Some(s))),
            None => for_blocks(&mut z, fan_out, |first, z| block(first, z, None)),
        }
        let shape = vec![rows, fan_out];
        (tensor(z, shape.clone()), slopes.map(|s| tensor(s, shape)))
    }

    fn dense_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        slope: Option<FloatTensor<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (
        Option<FloatTensor<Self>>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        let typed = is_f32(&[&x, &w, &grad]) && slope.as_ref().is_none_or(|s| is_f32(&[s]));
        if !typed {
            return compose::dense_backward::<Self>(x, w, slope, grad, input);
        }
        let (fan_in, fan_out) = (w.shape()[0], w.shape()[1]);
        let (xs, ws, g) = (values(&x), values(&w), values(&grad));
        let s = slope.as_ref().map(|s| values(s));
        let s = s.as_deref();
        let rows = g.len() / fan_out;
        // dz = grad ⊙ slope is formed in f64 where it is only summed: the sums over the rows
        // are taken in f64 and rounded once.
        let (dw, db) = if fan_in == 1 {
            let blocks = per_block(rows, fan_out, |r| {
                let mut sums = vec![0.0f64; 2 * fan_out];
                let range = r.start * fan_out..r.end * fan_out;
                one_input_sums::call(
                    &xs[r.clone()],
                    &g[range.clone()],
                    s.map(|s| &s[range]),
                    &mut sums,
                );
                sums
            });
            let sums = add_blocks(blocks, 2 * fan_out);
            (
                tensor(sums[fan_out..].to_vec(), vec![1, fan_out]),
                sums[..fan_out].to_vec(),
            )
        } else if fan_out == 1 {
            let blocks = per_block(rows, fan_in, |r| {
                let mut sums = vec![0.0f64; 1 + fan_in];
                let dz = dz_f64(&g, s, r.clone(), 1);
                one_output_sums::call(&xs[r.start * fan_in..r.end * fan_in], &dz, &mut sums);
                sums
            });
            let sums = add_blocks(blocks, 1 + fan_in);
            (
                tensor(sums[1..].to_vec(), vec![fan_in, 1]),
                sums[..1].to_vec(),
            )
        } else {
            let blocks = per_block(rows, fan_out, |r| {
                let dz = dz_f64(&g, s, r, fan_out);
                let mut db = vec![0.0f64; fan_out];
                for row in dz.chunks_exact(fan_out) {
                    for (d, &v) in db.iter_mut().zip(row) {
                        *d += v;
                    }
                }
                db
            });
            let db = add_blocks(blocks, fan_out);
            let dz = tensor(dz32(&g, s, rows, fan_out), vec![rows, fan_out]);
            (Flex::float_matmul(Flex::float_transpose(x.clone()), dz), db)
        };
        let dx = input.then(|| {
            if fan_out == 1 {
                // dz·wᵀ is an outer product.
                let mut dx = vec![0.0f32; rows * fan_in];
                for_blocks(&mut dx, fan_in, |first, block| {
                    let n = block.len() / fan_in;
                    let dz = dz_f64(&g, s, first..first + n, 1);
                    outer_product::call(&dz, &ws, block);
                });
                tensor(dx, vec![rows, fan_in])
            } else {
                let dz = tensor(dz32(&g, s, rows, fan_out), vec![rows, fan_out]);
                Flex::float_matmul(dz, Flex::float_transpose(w.clone()))
            }
        });
        (dx, dw, tensor(db, vec![fan_out]))
    }

    fn squared_error(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        if !is_f32(&[&prediction, &target]) {
            return compose::squared_error::<Self>(prediction, target, scale);
        }
        let sum: f64 = values(&prediction)
            .iter()
            .zip(values(&target).iter())
            .map(|(p, t)| {
                let d = f64::from(p - t);
                d * d
            })
            .sum();
        tensor(vec![(sum * scale) as f32], vec![1])
    }

    fn residual_sums(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if !is_f32(&[&prediction, &target]) {
            return compose::residual_sums::<Self>(prediction, target);
        }
        let width = prediction.shape()[1];
        let mut sums = vec![0.0f64; 2 * width];
        let (p, t) = (values(&prediction), values(&target));
        for (p_row, t_row) in p.chunks_exact(width).zip(t.chunks_exact(width)) {
            for (c, (p, t)) in p_row.iter().zip(t_row).enumerate() {
                let d = f64::from(p - t);
                sums[c] += d * d;
                sums[width + c] += d.abs();
            }
        }
        tensor(sums.into_iter().map(|v| v as f32).collect(), vec![2, width])
    }

    fn squared_error_backward(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        if !is_f32(&[&prediction, &target, &grad]) {
            return compose::squared_error_backward::<Self>(prediction, target, scale, grad);
        }
        let factor = (2.0 * scale) as f32 * values(&grad)[0];
        let d: Vec<f32> = values(&prediction)
            .iter()
            .zip(values(&target).iter())
            .map(|(p, t)| (p - t) * factor)
            .collect();
        tensor(d, prediction.shape().to_vec())
    }
}

/// `grad ⊙ slope` for every row, rounded to f32, for the matmuls.
fn dz32(g: &[f32], s: Option<&[f32]>, rows: usize, width: usize) -> Vec<f32> {
    dz_f64(g, s, 0..rows, width)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    fn random(rng: &mut StdRng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-3.0f32..3.0)).collect()
    }

    fn bits<T: Copy + Into<f64>>(v: &[T]) -> Vec<u64> {
        v.iter().map(|&x| x.into().to_bits()).collect()
    }

    /// Every AVX2 kernel gives the bits of its portable twin, on lengths that leave every
    /// remainder of the vector width (1 to 17 units, 1 to 130 rows).
    #[test]
    fn every_avx2_kernel_is_bit_equal_to_its_portable_twin() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut rng = StdRng::seed_from_u64(5);
            for (rows, width) in [(1, 1), (3, 7), (17, 9), (128, 16), (130, 17)] {
                let x = random(&mut rng, rows);
                let (w, b) = (random(&mut rng, width), random(&mut rng, width));
                let g = random(&mut rng, rows * width);
                let s = random(&mut rng, rows * width);
                let h = random(&mut rng, rows * width);
                let dz: Vec<f64> = random(&mut rng, rows).into_iter().map(f64::from).collect();
                let xs = random(&mut rng, rows * width);

                let (mut a, mut b2) = (vec![0.0f32; rows * width], vec![0.0f32; rows * width]);
                outer_affine::portable(&x, &w, &b, &mut a);
                // SAFETY: the CPU has AVX2, checked above.
                unsafe { outer_affine::avx2(&x, &w, &b, &mut b2) };
                assert_eq!(bits(&a), bits(&b2), "outer_affine {rows}×{width}");

                let (mut a, mut b2) = (g.clone(), g.clone());
                add_bias::portable(&mut a, &b);
                // SAFETY: as above.
                unsafe { add_bias::avx2(&mut b2, &b) };
                assert_eq!(bits(&a), bits(&b2), "add_bias {rows}×{width}");

                for slope in [Some(&s[..]), None] {
                    let (mut a, mut b2) = (vec![0.0f64; 2 * width], vec![0.0f64; 2 * width]);
                    one_input_sums::portable(&x, &g, slope, &mut a);
                    // SAFETY: as above.
                    unsafe { one_input_sums::avx2(&x, &g, slope, &mut b2) };
                    assert_eq!(bits(&a), bits(&b2), "one_input_sums {rows}×{width}");
                }

                let (mut a, mut b2) = (vec![0.0f64; 1 + width], vec![0.0f64; 1 + width]);
                one_output_sums::portable(&xs, &dz, &mut a);
                // SAFETY: as above.
                unsafe { one_output_sums::avx2(&xs, &dz, &mut b2) };
                assert_eq!(bits(&a), bits(&b2), "one_output_sums {rows}×{width}");

                let (mut a, mut b2) = (vec![0.0f32; rows * width], vec![0.0f32; rows * width]);
                outer_product::portable(&dz, &w, &mut a);
                // SAFETY: as above.
                unsafe { outer_product::avx2(&dz, &w, &mut b2) };
                assert_eq!(bits(&a), bits(&b2), "outer_product {rows}×{width}");

                let (mut a, mut b2) = (vec![0.0f64; 1 + 3 * width], vec![0.0f64; 1 + 3 * width]);
                one_hidden_layer_sums::portable(&x, &h, &s, &w, &x, &mut a);
                // SAFETY: as above.
                unsafe { one_hidden_layer_sums::avx2(&x, &h, &s, &w, &x, &mut b2) };
                assert_eq!(bits(&a), bits(&b2), "one_hidden_layer_sums {rows}×{width}");
            }
            return;
        }
        eprintln!("this CPU has no AVX2: only the portable kernels run here");
    }
}
