//! The fused kernels on flex, Burn's CPU backend: loops over the tensors' memory in f32, one
//! pass where Burn's operations take several, softplus vectorised. Other element types (f64 for
//! gradient checks) take the composed path: exact, and not where time goes.
//!
//! Rows are processed in fixed blocks of [`BLOCK_ROWS`] (fewer rows would make gemm pack a
//! wide layer's weights once per handful of rows: measured slower on every wide case); a
//! batch with enough work spreads the blocks over the cores (the [`Team`]'s threads, which
//! wait for the next kernel spinning).
//! Sums over rows are taken per block in f64 and the blocks' sums added in block order, so the
//! numbers do not depend on how many cores there are or which finished first: the same run
//! gives the same bits on any machine.

use std::borrow::Cow;
use std::ops::Range;

use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;
use std::sync::Mutex;

use squiggle_model::Activation;

use crate::kernels::{FusedKernels, LayerState};
use crate::team::Team;
use crate::{classes, compose, math};

/// Rows per block: the unit of work a core takes, and of the partial sums.
const BLOCK_ROWS: usize = 128;
/// Below this much work (values computed, times the inputs each one takes) a batch stays on one
/// core. Handing blocks to the team's spinning threads costs about a microsecond, so a batch
/// of two blocks of a 64-unit layer already pays: work, not the batch's size, decides.
const PARALLEL_WORK: usize = 1 << 13;
/// From this many multiply-adds, a batch of one block computes its products in two pieces
/// (see [`parts_of_one_block`]).
const SPLIT_WORK: usize = 1 << 20;

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

/// Whether `rows` rows of `work` multiply-adds each are worth spreading over the team's
/// threads. (Only where blocks run depends on it, never their size, so the partial sums, and
/// the bits, are the same on any machine.)
fn spread(rows: usize, work: usize) -> bool {
    rows > BLOCK_ROWS && rows.saturating_mul(work) >= PARALLEL_WORK && Team::get().threads() > 1
}

/// `f(block)` for each of `count` blocks, on the team's threads when `spread`.
fn each_block(count: usize, spread: bool, f: &(dyn Fn(usize) + Sync)) {
    match spread {
        true => Team::get().run(count, f),
        false => (0..count).for_each(f),
    }
}

/// `f` on every block of rows (`work` per row), in parallel when it pays; results in block
/// order.
fn per_block<T: Send>(rows: usize, work: usize, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    let count = rows.div_ceil(BLOCK_ROWS);
    let results: Vec<Mutex<Option<T>>> = (0..count).map(|_| Mutex::new(None)).collect();
    each_block(count, spread(rows, work), &|k| {
        let rows = k * BLOCK_ROWS..((k + 1) * BLOCK_ROWS).min(rows);
        *lock(&results[k]) = Some(f(rows));
    });
    results
        .into_iter()
        .filter_map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// A matrix over a slice: element (i, j) at `i · row_stride + j · col_stride`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// `data` as a row-major `rows × cols` matrix.
    fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of `data` read as a row-major `rows × cols` matrix: `cols × rows`.
    fn transposed(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows: cols,
            cols: rows,
            row_stride: 1,
            col_stride: cols,
        }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `out = a · b` (`out` row-major, `a.rows × b.cols`), by gemm on the calling thread alone:
/// the team spreads the blocks, so a product of one block never wakes another pool's threads.
fn matmul_into(out: &mut [f32], a: View, b: View) {
    assert!(
        a.cols == b.rows && out.len() == a.rows * b.cols && a.fits() && b.fits(),
        "matmul_into: shapes {}×{} · {}×{} into {}",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        out.len()
    );
    if out.is_empty() {
        return;
    }
    if a.cols == 0 {
        out.fill(0.0);
        return;
    }
    // SAFETY: the assertion above keeps every element gemm reads (i·row_stride + j·col_stride
    // for i < rows, j < cols) inside `a.data` and `b.data`, and every element it writes (row
    // i, column j at i·b.cols + j) inside `out`, which is borrowed mutably and so aliases
    // neither. With `read_dst` false, `out`'s old values are not read.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            out.as_mut_ptr(),
            1,
            b.cols as isize,
            false,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            0.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A product's output and, beside it, a second output of its shape (an activation's slopes).
type Outputs<'a> = (&'a mut [f32], Option<&'a mut [f32]>);

/// `out = a · b` as [`matmul_into`], its output's rows in `parts` pieces that the team may
/// compute at once (each piece's rows of `a` times all of `b`): the second core's share of a
/// batch of one block (a 784-[128]-10 batch of 128 rows). Each piece is then handed to
/// `finish` on the thread that computed it, while it is in that core's cache, with the same
/// rows of `side` when given (a second output of `out`'s shape: an activation's slopes), so
/// an elementwise pass after the product is shared too. The pieces are the same whatever the
/// number of threads, so the bits are too.
fn matmul_in_parts(
    (out, side): Outputs,
    a: View,
    b: View,
    parts: usize,
    finish: &(dyn Fn(Outputs) + Sync),
) {
    if parts < 2 {
        matmul_into(out, a, b);
        return finish((out, side));
    }
    let per = a.rows.div_ceil(parts).max(1);
    let len = per * b.cols;
    let mut sides: Vec<Option<&mut [f32]>> = match side {
        Some(side) => side.chunks_mut(len).map(Some).collect(),
        None => Vec::new(),
    };
    let pieces: Vec<Mutex<Outputs>> = out
        .chunks_mut(len)
        .enumerate()
        .map(|(k, piece)| Mutex::new((piece, sides.get_mut(k).and_then(Option::take))))
        .collect();
    Team::get().run(pieces.len(), &|k| {
        let first = k * per;
        let rows = per.min(a.rows - first);
        let a_part = View {
            data: &a.data[first * a.row_stride..],
            rows,
            ..a
        };
        let mut piece = lock(&pieces[k]);
        let (out, side) = &mut *piece;
        matmul_into(out, a_part, b);
        finish((out, side.as_deref_mut()));
    });
}

/// How many pieces a product of one block of `rows` rows and `products` multiply-adds a row is
/// computed in: two when the batch is that one block and the product is large enough to
/// share, one otherwise (many blocks are spread over the team block by block).
fn parts_of_one_block(rows: usize, products: usize) -> usize {
    match rows <= BLOCK_ROWS && rows.saturating_mul(products) >= SPLIT_WORK {
        true => 2,
        false => 1,
    }
}

/// The sum of per-block partial results in f32, added in block order in f64 and rounded once
/// into `out`.
fn add_partials(partials: Vec<Vec<f32>>, out: &mut [f32]) {
    let mut total = vec![0.0f64; out.len()];
    for part in &partials {
        for (t, &v) in total.iter_mut().zip(part) {
            *t += f64::from(v);
        }
    }
    for (o, t) in out.iter_mut().zip(total) {
        *o = t as f32;
    }
}

/// Adds +0 to every value: a −0 becomes +0 and nothing else changes, as when a sum in f64
/// that starts at +0 takes it. A one-block batch's weight gradient passes through it so that
/// it has the bits of the f64 sum of blocks it replaces (an f32 through f64 and back is
/// itself).
fn plus_zero((values, _): Outputs) {
    for v in values {
        *v += 0.0;
    }
}

/// `N` outputs of `len` values each, computed block by block (`chunk` values of each output a
/// block, on the team's threads when `spread`): each block's values are zeroed first and then
/// handed to `f(block, outputs)`, in the same pass, so the zeroing costs no pass of its own (a
/// serial zeroing of a whole batch's output cost a tenth of a step on two cores; a parallel
/// pass of its own, a hand-over to the team and back).
fn computed<const N: usize>(
    len: usize,
    chunk: usize,
    spread: bool,
    f: impl Fn(usize, [&mut [f32]; N]) + Sync,
) -> [Vec<f32>; N] {
    let mut outputs: [Vec<f32>; N] = std::array::from_fn(|_| Vec::with_capacity(len));
    {
        let mut spares: Vec<_> = outputs
            .iter_mut()
            .map(|v| v.spare_capacity_mut()[..len].chunks_mut(chunk.max(1)))
            .collect();
        let count = len.div_ceil(chunk.max(1));
        let blocks: Vec<Mutex<Vec<&mut [std::mem::MaybeUninit<f32>]>>> = (0..count)
            .map(|_| Mutex::new(spares.iter_mut().filter_map(Iterator::next).collect()))
            .collect();
        each_block(count, spread, &|k| {
            let mut block = lock(&blocks[k]);
            let written = std::array::from_fn(|i| {
                let values: &mut [std::mem::MaybeUninit<f32>] = block[i];
                for value in values.iter_mut() {
                    value.write(0.0);
                }
                // SAFETY: every value of the slice was written just above, and
                // `MaybeUninit<f32>` has the layout of `f32`.
                unsafe { &mut *(std::ptr::from_mut(values) as *mut [f32]) }
            });
            f(k, written);
        });
    }
    for v in &mut outputs {
        // SAFETY: each of the first `len` values was written above (every block ran before
        // `each_block` returned, and the blocks cover `len`), within the capacity reserved.
        unsafe { v.set_len(len) };
    }
    outputs
}

/// A block's lock: each is taken by one thread, once, so it is never contended or poisoned
/// by another block.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
    fn one_output_affine(x: &[f32], w: &[f32], b: f32, z: &mut [f32]) {
        // x·w + b for one output column: each row's dot product in 8 interleaved partial sums
        // (lane j takes the products k ≡ j mod 8) added in a fixed order, so that it
        // vectorises across the lanes and gives the same bits on every path.
        let n = w.len();
        let whole = n - n % 8;
        let (w_head, w_tail) = w.split_at(whole);
        for (zr, row) in z.iter_mut().zip(x.chunks_exact(n)) {
            let (head, tail) = row.split_at(whole);
            let mut acc = [0.0f32; 8];
            for (xc, wc) in head.as_chunks::<8>().0.iter().zip(w_head.as_chunks::<8>().0) {
                for j in 0..8 {
                    acc[j] += xc[j] * wc[j];
                }
            }
            // Halves added lane by lane (one vector addition each), then the last four.
            let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
            let (b0, b1, b2, b3) = (a0 + a4, a1 + a5, a2 + a6, a3 + a7);
            let mut sum = (b0 + b2) + (b1 + b3);
            for (&xv, &wv) in tail.iter().zip(w_tail) {
                sum += xv * wv;
            }
            *zr = sum + b;
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

with_avx2! {
    fn descend_in_place(theta: &mut [f32], g: &[f32], lr: f32) {
        // Burn's `theta − grad · lr`: the product rounded, then the difference.
        for (t, &g) in theta.iter_mut().zip(g) {
            *t -= g * lr;
        }
    }
}

/// Parameters from which a step of gradient descent is shared by the team: a pass over a
/// 784-[128]-10 network's 101,770 parameters and their gradient takes tens of microseconds
/// from memory, and each core then updates the half of the weights whose gradient it computed
/// (the pieces of `matmul_in_parts`), while it is in its cache.
const PARALLEL_DESCENT: usize = 1 << 16;

/// `theta −= lr · g`, in pieces the team shares for a large vector (elementwise, so the bits
/// are the same whoever computes a piece).
fn descend_in_parts(theta: &mut [f32], g: &[f32], lr: f32) {
    let threads = Team::get().threads();
    if theta.len() < PARALLEL_DESCENT || threads < 2 {
        return descend_in_place::call(theta, g, lr);
    }
    let per = theta.len().div_ceil(threads);
    let pieces: Vec<Mutex<&mut [f32]>> = theta.chunks_mut(per).map(Mutex::new).collect();
    Team::get().run(pieces.len(), &|k| {
        let start = k * per;
        let mut piece = lock(&pieces[k]);
        let end = start + piece.len();
        descend_in_place::call(&mut piece, &g[start..end], lr);
    });
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

/// The backward pass of a `1-[H]-1` network (one input, one hidden layer with an activation, one
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
    let blocks = per_block(rows, 4 * width, |r| {
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
    /// In f32, every layer's backward pass by [`dense_backward_into`]; other element types
    /// layer by layer through the composed `dense_backward`.
    fn network_backward(
        states: Vec<LayerState<Self>>,
        grad: FloatTensor<Self>,
        input: bool,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>) {
        if let Some(theta) = one_hidden_layer_backward(&states, &grad, input) {
            return (None, theta);
        }
        let typed = states.iter().all(|l| {
            is_f32(&[&l.input, &l.weight]) && l.slope.as_ref().is_none_or(|s| is_f32(&[s]))
        });
        if !typed || !is_f32(&[&grad]) {
            return Self::layers_backward(states, grad, input);
        }
        // Every layer's gradient written in place in the flat vector (weights row-major, then
        // bias, layer by layer), from the output layer down: no piece copied into it after.
        let sizes: Vec<(usize, usize)> = states
            .iter()
            .map(|l| (l.weight.shape()[0], l.weight.shape()[1]))
            .collect();
        let total = sizes.iter().map(|(i, o)| i * o + o).sum();
        let mut flat = vec![0.0f32; total];
        let mut regions = Vec::with_capacity(sizes.len());
        let mut rest = flat.as_mut_slice();
        for &(fan_in, fan_out) in &sizes {
            let (layer, tail) = rest.split_at_mut(fan_in * fan_out + fan_out);
            regions.push(layer.split_at_mut(fan_in * fan_out));
            rest = tail;
        }
        let mut delta = values(&grad).into_owned();
        let mut dx = None;
        for (i, (state, (dw, db))) in states.iter().zip(regions).enumerate().rev() {
            let (xs, ws) = (values(&state.input), values(&state.weight));
            let s = state.slope.as_ref().map(|s| values(s));
            let layer = Layer {
                x: &xs,
                w: &ws,
                s: s.as_deref(),
                fan_in: sizes[i].0,
                fan_out: sizes[i].1,
            };
            // A layer above the first always passes its input's gradient down.
            let below = dense_backward_into(&layer, &delta, i > 0 || input, dw, db);
            if i == 0 {
                dx = below;
            } else if let Some(below) = below {
                delta = below;
            }
        }
        let rows = grad.shape()[0];
        let dx = dx.map(|dx| tensor(dx, vec![rows, sizes[0].0]));
        (dx, tensor(flat, vec![total]))
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
        // Per row: the products computed here (a matmul's are Burn's) and the activation's
        // cost per value, in multiply-adds (softplus: two polynomials and two divisions).
        let work = fan_out * (fan_in + 16);
        let spread = spread(rows, work);
        let bias = values(&b);
        let shape = vec![rows, fan_out];
        let (xs, ws) = (values(&x), values(&w));
        let block = |first: usize, z: &mut [f32], s: Option<&mut [f32]>| {
            let n = z.len() / fan_out;
            if fan_in == 1 {
                outer_affine::call(&xs[first..first + n], &ws, &bias, z);
            } else if fan_out == 1 {
                let x = &xs[first * fan_in..(first + n) * fan_in];
                one_output_affine::call(x, &ws, bias[0], z);
            } else {
                let x = View::rows(&xs[first * fan_in..(first + n) * fan_in], n, fan_in);
                let w = View::rows(&ws, fan_in, fan_out);
                let parts = parts_of_one_block(rows, fan_in * fan_out);
                // The bias and the activation on each piece, by the thread that computed it.
                return matmul_in_parts((z, s), x, w, parts, &|(z, s)| {
                    add_bias::call(z, &bias);
                    activate(z, activation, s);
                });
            }
            activate(z, activation, s);
        };
        let (len, chunk) = (rows * fan_out, BLOCK_ROWS * fan_out);
        if slope && activation != Activation::Identity {
            let [z, s] = computed(len, chunk, spread, |k, [z, s]| {
                block(k * BLOCK_ROWS, z, Some(s));
            });
            return (tensor(z, shape.clone()), Some(tensor(s, shape)));
        }
        let [z] = computed(len, chunk, spread, |k, [z]| block(k * BLOCK_ROWS, z, None));
        (tensor(z, shape), None)
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

    fn cross_entropy(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        if !is_f32(&[&prediction, &target]) {
            return compose::cross_entropy::<Self>(prediction, target, scale);
        }
        let width = prediction.shape()[1];
        let (z, t) = (values(&prediction), values(&target));
        tensor(vec![classes::loss(&z, &t, width, scale)], vec![1])
    }

    fn cross_entropy_backward(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
        grad: FloatTensor<Self>,
        target_too: bool,
    ) -> (FloatTensor<Self>, Option<FloatTensor<Self>>) {
        if !is_f32(&[&prediction, &target, &grad]) {
            return compose::cross_entropy_backward::<Self>(
                prediction, target, scale, grad, target_too,
            );
        }
        let shape = prediction.shape().to_vec();
        let factor = scale * f64::from(values(&grad)[0]);
        let (z, t) = (values(&prediction), values(&target));
        let (by_z, by_t) = classes::gradients(&z, &t, shape[1], factor, target_too);
        (tensor(by_z, shape.clone()), by_t.map(|d| tensor(d, shape)))
    }

    fn class_sums(prediction: FloatTensor<Self>, target: FloatTensor<Self>) -> FloatTensor<Self> {
        if !is_f32(&[&prediction, &target]) {
            return compose::class_sums::<Self>(prediction, target);
        }
        let width = prediction.shape()[1];
        let (z, t) = (values(&prediction), values(&target));
        tensor(classes::class_sums(&z, &t, width), vec![width, width + 1])
    }

    fn descend(
        mut theta: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        lr: f64,
    ) -> FloatTensor<Self> {
        let len = theta.shape().num_elements();
        if !is_f32(&[&theta, &grad]) || grad.shape().num_elements() != len {
            return compose::descend::<Self>(theta, grad, lr);
        }
        let g = values(&grad);
        // In place only where the tensor is all of its memory, and that memory its own.
        let whole = theta.layout().contiguous_offsets() == Some((0, len))
            && theta.storage::<f32>().len() == len;
        if whole && let Some(values) = theta.try_storage_mut::<f32>() {
            descend_in_parts(values, &g, lr as f32);
            return theta;
        }
        let mut values = values(&theta).into_owned();
        descend_in_parts(&mut values, &g, lr as f32);
        tensor(values, theta.shape().to_vec())
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

/// A dense layer's values for its backward pass: its input, its weights and its
/// activation's slope (none for the identity).
struct Layer<'a> {
    x: &'a [f32],
    w: &'a [f32],
    s: Option<&'a [f32]>,
    fan_in: usize,
    fan_out: usize,
}

/// The gradients of a dense layer from the gradient `g` of its output, written into `dw`
/// (weights, row-major) and `db` (bias); `dx` when `input` asks for it. Writing into the
/// caller's memory lets a whole network's gradient be written in place in its flat vector
/// (see `network_backward`), with no copy of the layers' pieces into it.
fn dense_backward_into(
    layer: &Layer,
    g: &[f32],
    input: bool,
    dw: &mut [f32],
    db: &mut [f32],
) -> Option<Vec<f32>> {
    let Layer {
        x: xs,
        w: ws,
        s,
        fan_in,
        fan_out,
    } = *layer;
    let rows = g.len() / fan_out.max(1);
    // dz = grad ⊙ slope is formed in f64 where it is only summed: the sums over the rows are
    // taken in f64 and rounded once.
    if fan_in == 1 {
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
        dw.copy_from_slice(&sums[fan_out..]);
        db.copy_from_slice(&sums[..fan_out]);
    } else if fan_out == 1 {
        let blocks = per_block(rows, fan_in, |r| {
            let mut sums = vec![0.0f64; 1 + fan_in];
            let dz = dz_f64(g, s, r.clone(), 1);
            one_output_sums::call(&xs[r.start * fan_in..r.end * fan_in], &dz, &mut sums);
            sums
        });
        let sums = add_blocks(blocks, 1 + fan_in);
        dw.copy_from_slice(&sums[1..]);
        db.copy_from_slice(&sums[..1]);
    } else {
        let (dz, sums) = dz_and_sums(g, s, rows, fan_out);
        db.copy_from_slice(&sums);
        let work = fan_in * fan_out;
        let x_t = |r: &Range<usize>| {
            View::transposed(&xs[r.start * fan_in..r.end * fan_in], r.len(), fan_in)
        };
        let dz_rows = |r: &Range<usize>| {
            View::rows(&dz[r.start * fan_out..r.end * fan_out], r.len(), fan_out)
        };
        if rows <= BLOCK_ROWS {
            // dW = xᵀ·dz of the one block, straight into `dw`, in pieces the team shares.
            let parts = parts_of_one_block(rows, work);
            matmul_in_parts(
                (dw, None),
                x_t(&(0..rows)),
                dz_rows(&(0..rows)),
                parts,
                &plus_zero,
            );
        } else {
            // Block by block (each block's product on one thread), the blocks' products added
            // in block order in f64.
            let partials = per_block(rows, work, |r| {
                let mut part = vec![0.0f32; work];
                matmul_into(&mut part, x_t(&r), dz_rows(&r));
                part
            });
            add_partials(partials, dw);
        }
        // dx = dz·Wᵀ, block by block.
        return input.then(|| {
            let (len, chunk) = (rows * fan_in, BLOCK_ROWS * fan_in);
            let [dx] = computed(len, chunk, spread(rows, work), |k, [block]| {
                let (first, n) = (k * BLOCK_ROWS, block.len() / fan_in);
                let dz = View::rows(&dz[first * fan_out..(first + n) * fan_out], n, fan_out);
                matmul_into(block, dz, View::transposed(ws, fan_in, fan_out));
            });
            dx
        });
    }
    input.then(|| {
        if fan_out == 1 {
            // dz·wᵀ is an outer product.
            let spread = spread(rows, fan_in);
            let [dx] = computed(rows * fan_in, BLOCK_ROWS * fan_in, spread, |k, [block]| {
                let (first, n) = (k * BLOCK_ROWS, block.len() / fan_in);
                let dz = dz_f64(g, s, first..first + n, 1);
                outer_product::call(&dz, ws, block);
            });
            dx
        } else {
            // One input (the network's): dz·Wᵀ has one column.
            let (dz, _) = dz_and_sums(g, s, rows, fan_out);
            let [dx] = computed(rows, BLOCK_ROWS, spread(rows, fan_out), |k, [block]| {
                let (first, n) = (k * BLOCK_ROWS, block.len());
                let dz = View::rows(&dz[first * fan_out..(first + n) * fan_out], n, fan_out);
                matmul_into(block, dz, View::transposed(ws, 1, fan_out));
            });
            dx
        }
    })
}

/// `grad ⊙ slope` for every row rounded to f32, for the matmuls (the f32 product is the exact
/// f64 product rounded), and its column sums in f64 of the exact products, `db`: one pass,
/// block by block on the team's threads.
fn dz_and_sums(g: &[f32], s: Option<&[f32]>, rows: usize, width: usize) -> (Vec<f32>, Vec<f32>) {
    let spread = spread(rows, width);
    let chunk = BLOCK_ROWS * width;
    let sums: Vec<Mutex<Vec<f64>>> = (0..rows.div_ceil(BLOCK_ROWS))
        .map(|_| Mutex::new(Vec::new()))
        .collect();
    let [dz] = computed(rows * width, chunk, spread, |k, [out]| {
        let first = k * chunk;
        let exact = dz_f64(
            g,
            s,
            first / width..first / width + out.len() / width,
            width,
        );
        let mut db = vec![0.0f64; width];
        for (out_row, row) in out.chunks_exact_mut(width).zip(exact.chunks_exact(width)) {
            for ((o, d), &v) in out_row.iter_mut().zip(db.iter_mut()).zip(row) {
                *o = v as f32;
                *d += v;
            }
        }
        *lock(&sums[k]) = db;
    });
    let sums = sums
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    (dz, add_blocks(sums, width))
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

    #[test]
    fn a_product_in_pieces_is_the_product_whatever_the_threads() {
        let mut rng = StdRng::seed_from_u64(10);
        for (m, k, n) in [(128, 784, 128), (100, 300, 40), (7, 3, 5)] {
            let (a, b) = (random(&mut rng, m * k), random(&mut rng, k * n));
            let mut whole = vec![f32::NAN; m * n];
            matmul_into(&mut whole, View::rows(&a, m, k), View::rows(&b, k, n));
            // The transposed case of a weight gradient: xᵀ·dz, split by x's columns.
            let mut whole_t = vec![f32::NAN; k * n];
            let g = random(&mut rng, m * n);
            let (a_t, dz) = (View::transposed(&a, m, k), View::rows(&g, m, n));
            matmul_into(&mut whole_t, a_t, dz);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let (mut parts, mut parts_t) = (vec![f32::NAN; m * n], vec![f32::NAN; k * n]);
                pool.install(|| {
                    let (a, b) = (View::rows(&a, m, k), View::rows(&b, k, n));
                    matmul_in_parts((&mut parts, None), a, b, 2, &|_| {});
                    matmul_in_parts((&mut parts_t, None), a_t, dz, 2, &|_| {});
                });
                assert_eq!(bits(&parts), bits(&whole), "{m}×{k}×{n}, {threads} threads");
                assert_eq!(
                    bits(&parts_t),
                    bits(&whole_t),
                    "{m}×{k}×{n}ᵀ, {threads} threads"
                );
            }
        }
    }

    /// A step of gradient descent gives the bits of Burn's `theta − grad · lr`, in place (the
    /// parameters' memory their own) or not (shared with another tensor, which keeps its
    /// values), on a vector small enough for one thread and one the team shares, on one
    /// thread and on three.
    #[test]
    fn a_descent_is_burns_theta_minus_grad_times_lr() {
        use burn::prelude::{Device, Tensor, TensorData};
        let mut rng = StdRng::seed_from_u64(12);
        let device = Device::flex();
        let lr = 0.1;
        for len in [7, PARALLEL_DESCENT + 13] {
            let (theta, grad) = (random(&mut rng, len), random(&mut rng, len));
            let vector =
                |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [len]), &device);
            let read = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
            let want = read(vector(&theta) - vector(&grad).mul_scalar(lr));
            for threads in [1, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let own = pool.install(|| crate::descend(vector(&theta), vector(&grad), lr));
                assert_eq!(
                    bits(&read(own)),
                    bits(&want),
                    "{len} values, {threads} threads"
                );
                let shared = vector(&theta);
                let kept = shared.clone();
                let moved = pool.install(|| crate::descend(shared, vector(&grad), lr));
                assert_eq!(
                    bits(&read(moved)),
                    bits(&want),
                    "{len} shared, {threads} threads"
                );
                assert_eq!(
                    bits(&read(kept)),
                    bits(&theta),
                    "the other handle keeps its values"
                );
            }
        }
    }

    /// gemm on views: a product, a transposed left and a transposed right, against the sums
    /// written out (in f64, within f32's rounding).
    #[test]
    fn views_multiply_as_their_matrices() {
        let mut rng = StdRng::seed_from_u64(9);
        for (m, k, n) in [(1, 1, 1), (3, 5, 2), (17, 9, 33), (128, 20, 64)] {
            let a = random(&mut rng, m * k);
            let b = random(&mut rng, k * n);
            let exact = |i: usize, j: usize| -> f64 {
                (0..k)
                    .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                    .sum()
            };
            let close = |out: &[f32], at: &dyn Fn(usize, usize) -> f64, rows, cols| {
                for i in 0..rows {
                    for j in 0..cols {
                        let (got, want) = (f64::from(out[i * cols + j]), at(i, j));
                        assert!(
                            (got - want).abs() <= 1e-5 * (k as f64) * 9.0,
                            "{m}×{k}×{n} ({i}, {j}): {got} vs {want}"
                        );
                    }
                }
            };
            let mut out = vec![f32::NAN; m * n];
            matmul_into(&mut out, View::rows(&a, m, k), View::rows(&b, k, n));
            close(&out, &exact, m, n);
            // (Aᵀ)ᵀ·B with A stored transposed, and Bᵀ's transpose.
            let a_t: Vec<f32> = (0..k * m).map(|q| a[(q % m) * k + q / m]).collect();
            let b_t: Vec<f32> = (0..n * k).map(|q| b[(q % k) * n + q / k]).collect();
            let mut out = vec![f32::NAN; m * n];
            matmul_into(
                &mut out,
                View::transposed(&a_t, k, m),
                View::transposed(&b_t, n, k),
            );
            close(&out, &exact, m, n);
        }
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

                let (mut a, mut b2) = (vec![0.0f32; rows], vec![0.0f32; rows]);
                one_output_affine::portable(&h, &w, b[0], &mut a);
                // SAFETY: as above.
                unsafe { one_output_affine::avx2(&h, &w, b[0], &mut b2) };
                assert_eq!(bits(&a), bits(&b2), "one_output_affine {rows}×{width}");

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
