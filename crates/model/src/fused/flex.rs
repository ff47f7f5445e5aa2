//! The fused kernels on flex, Burn's CPU backend: loops over the tensors' memory in f32, one
//! pass where Burn's operations take several, softplus vectorised. Other element types (f64 for
//! gradient checks) take the composed path: exact, and not where time goes.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;

use super::{FusedKernels, compose, math};
use crate::Activation;

/// The tensor's values, copied into contiguous memory first if its layout is strided.
fn values(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => {
            std::borrow::Cow::Owned(t.to_contiguous().as_slice::<f32>().unwrap_or(&[]).to_vec())
        }
    }
}

fn tensor(values: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn is_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

/// Applies `activation` to every element of `z` in place; returns the slopes when asked.
fn activate(z: &mut [f32], activation: Activation, slope: bool) -> Option<Vec<f32>> {
    let mut slopes = slope.then(|| vec![0.0f32; z.len()]);
    match activation {
        Activation::Identity => return None,
        Activation::Softplus => math::softplus_in_place(z, slopes.as_deref_mut()),
        Activation::Relu => {
            for (i, v) in z.iter_mut().enumerate() {
                let positive = *v > 0.0;
                *v = if positive { *v } else { 0.0 };
                if let Some(s) = slopes.as_deref_mut() {
                    s[i] = if positive { 1.0 } else { 0.0 };
                }
            }
        }
        Activation::Sigmoid => {
            for (i, v) in z.iter_mut().enumerate() {
                let y = 1.0 / (1.0 + (-*v).exp());
                *v = y;
                if let Some(s) = slopes.as_deref_mut() {
                    s[i] = y * (1.0 - y);
                }
            }
        }
        Activation::Tanh => {
            for (i, v) in z.iter_mut().enumerate() {
                let y = v.tanh();
                *v = y;
                if let Some(s) = slopes.as_deref_mut() {
                    s[i] = 1.0 - y * y;
                }
            }
        }
    }
    slopes
}

impl FusedKernels for Flex {
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
            // An outer product: x·w + b row by row, the same roundings as a broadcast.
            let (x, w) = (values(&x), values(&w));
            let mut z = vec![0.0f32; rows * fan_out];
            for (row, &xi) in z.chunks_exact_mut(fan_out).zip(x.iter()) {
                for ((zj, &wj), &bj) in row.iter_mut().zip(w.iter()).zip(bias.iter()) {
                    *zj = xi * wj + bj;
                }
            }
            z
        } else {
            let mut z = values(&Flex::float_matmul(x, w)).into_owned();
            for row in z.chunks_exact_mut(fan_out) {
                for (zj, &bj) in row.iter_mut().zip(bias.iter()) {
                    *zj += bj;
                }
            }
            z
        };
        let slopes = activate(&mut z, activation, slope);
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
        let g = values(&grad);
        let slope = slope.as_ref().map(|s| values(s));
        // dz = grad ⊙ slope, formed in f64 where it is only summed: the sums over the rows
        // accumulate in f64 and round once, so a gradient is the f32 nearest its exact value
        // far more often than running f32 sums give.
        let dz64 = |i: usize| match &slope {
            Some(s) => f64::from(g[i]) * f64::from(s[i]),
            None => f64::from(g[i]),
        };
        let rows = g.len() / fan_out;
        let mut db = vec![0.0f64; fan_out];
        for i in 0..rows {
            for (j, d) in db.iter_mut().enumerate() {
                *d += dz64(i * fan_out + j);
            }
        }
        let dz32 = || -> Vec<f32> { (0..g.len()).map(|i| dz64(i) as f32).collect() };
        let xs = values(&x);
        let dw = if fan_in == 1 || fan_out == 1 {
            // One input (an outer product forward) or one output (a dot product): the
            // weights' gradient is one pass over the rows.
            let mut dw = vec![0.0f64; fan_in * fan_out];
            for i in 0..rows {
                let x_row = &xs[i * fan_in..(i + 1) * fan_in];
                if fan_in == 1 {
                    let xi = f64::from(x_row[0]);
                    for (j, d) in dw.iter_mut().enumerate() {
                        *d += xi * dz64(i * fan_out + j);
                    }
                } else {
                    let dzi = dz64(i);
                    for (d, &xk) in dw.iter_mut().zip(x_row) {
                        *d += f64::from(xk) * dzi;
                    }
                }
            }
            let dw = dw.into_iter().map(|v| v as f32).collect();
            tensor(dw, vec![fan_in, fan_out])
        } else {
            let dz = tensor(dz32(), vec![rows, fan_out]);
            Flex::float_matmul(Flex::float_transpose(x), dz)
        };
        let dx = input.then(|| {
            if fan_out == 1 {
                // dz·wᵀ is an outer product.
                let ws = values(&w);
                let mut dx = vec![0.0f32; rows * fan_in];
                for (i, row) in dx.chunks_exact_mut(fan_in).enumerate() {
                    let dzi = dz64(i) as f32;
                    for (d, &wk) in row.iter_mut().zip(ws.iter()) {
                        *d = dzi * wk;
                    }
                }
                tensor(dx, vec![rows, fan_in])
            } else {
                let dz = tensor(dz32(), vec![rows, fan_out]);
                Flex::float_matmul(dz, Flex::float_transpose(w))
            }
        });
        let db = db.into_iter().map(|v| v as f32).collect();
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
