//! The fused operations composed of Burn's own operations, for any backend: what ndarray and
//! wgpu run, and what flex falls back to for element types its loops do not cover.

use burn::backend::tensor::FloatTensor;
use burn::backend::tensor::IndexingUpdateOp;
use burn::backend::{Backend, IntDType, Scalar, TensorMetadata};
use burn::tensor::Shape;

use squiggle_model::Activation;

fn scalar(value: f64) -> Scalar {
    Scalar::Float(value)
}

/// See [`FusedKernels::dense_forward`](crate::ops::FusedKernels::dense_forward).
pub(super) fn dense_forward<B: Backend>(
    x: FloatTensor<B>,
    w: FloatTensor<B>,
    b: FloatTensor<B>,
    activation: Activation,
    slope: bool,
) -> (FloatTensor<B>, Option<FloatTensor<B>>) {
    let shape = [x.shape()[0], w.shape()[1]];
    let bias = B::float_expand(B::float_reshape(b, [1, shape[1]].into()), shape.into());
    let z = B::float_add(B::float_matmul(x, w), bias);
    let one = |t: &FloatTensor<B>| B::float_ones(t.shape(), &t.device(), t.dtype().into());
    match activation {
        Activation::Identity => (z, None),
        Activation::Softplus => {
            // max(z, 0) + ln(1 + e^−|z|): no overflow for large |z|.
            let tail = B::float_log1p(B::float_exp(B::float_neg(B::float_abs(z.clone()))));
            let y = B::float_add(B::relu(z.clone()), tail);
            (y, slope.then(|| B::sigmoid(z)))
        }
        Activation::Relu => {
            let y = B::relu(z);
            // 1 above 0, 0 at and below it, as Burn's own relu takes it.
            let s = slope.then(|| B::float_sign(y.clone()));
            (y, s)
        }
        Activation::Sigmoid => {
            let y = B::sigmoid(z);
            let s = slope.then(|| {
                let rest = B::float_sub(one(&y), y.clone());
                B::float_mul(y.clone(), rest)
            });
            (y, s)
        }
        Activation::Tanh => {
            let y = B::float_tanh(z);
            let s = slope.then(|| B::float_sub(one(&y), B::float_mul(y.clone(), y.clone())));
            (y, s)
        }
    }
}

/// See [`FusedKernels::dense_backward`](crate::ops::FusedKernels::dense_backward).
pub(super) fn dense_backward<B: Backend>(
    x: FloatTensor<B>,
    w: FloatTensor<B>,
    slope: Option<FloatTensor<B>>,
    grad: FloatTensor<B>,
    input: bool,
) -> (Option<FloatTensor<B>>, FloatTensor<B>, FloatTensor<B>) {
    let dz = match slope {
        Some(s) => B::float_mul(grad, s),
        None => grad,
    };
    let fan_out = dz.shape()[1];
    let dw = B::float_matmul(B::float_transpose(x), dz.clone());
    let db = B::float_reshape(B::float_sum_dim(dz.clone(), 0), [fan_out].into());
    let dx = input.then(|| B::float_matmul(dz, B::float_transpose(w)));
    (dx, dw, db)
}

/// See [`FusedKernels::squared_error`](crate::ops::FusedKernels::squared_error).
pub(super) fn squared_error<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
    scale: f64,
) -> FloatTensor<B> {
    let d = B::float_sub(prediction, target);
    let sum = B::float_sum(B::float_mul(d.clone(), d));
    B::float_reshape(B::float_mul_scalar(sum, scalar(scale)), [1].into())
}

/// See [`FusedKernels::residual_sums`](crate::ops::FusedKernels::residual_sums).
pub(super) fn residual_sums<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
) -> FloatTensor<B> {
    let d = B::float_sub(prediction, target);
    let squared = B::float_sum_dim(B::float_mul(d.clone(), d.clone()), 0);
    let absolute = B::float_sum_dim(B::float_abs(d), 0);
    B::float_cat(vec![squared, absolute], 0)
}

/// See [`FusedKernels::squared_error_backward`](crate::ops::FusedKernels::squared_error_backward).
pub(super) fn squared_error_backward<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
    scale: f64,
    grad: FloatTensor<B>,
) -> FloatTensor<B> {
    let shape = prediction.shape();
    let d = B::float_sub(prediction, target);
    B::float_mul(d, spread_grad::<B>(grad, 2.0 * scale, shape))
}

/// `ln SoftMax(z)` along each row of `z` `[rows, classes]`, about each row's maximum (as Burn's
/// log-SoftMax), so no exponential overflows.
fn log_softmax<B: Backend>(z: FloatTensor<B>) -> FloatTensor<B> {
    let shape = z.shape();
    let max = B::float_max_dim(z.clone(), 1);
    let shifted = B::float_sub(z, B::float_expand(max, shape.clone()));
    let lse = B::float_log(B::float_sum_dim(B::float_exp(shifted.clone()), 1));
    B::float_sub(shifted, B::float_expand(lse, shape))
}

/// `grad` (a one-element tensor) times `scale`, spread over `shape`.
fn spread_grad<B: Backend>(grad: FloatTensor<B>, scale: f64, shape: Shape) -> FloatTensor<B> {
    let ones = vec![1; shape.num_dims()];
    let grad = B::float_mul_scalar(B::float_reshape(grad, ones.into()), scalar(scale));
    B::float_expand(grad, shape)
}

/// See [`FusedKernels::cross_entropy`](crate::kernels::FusedKernels::cross_entropy).
pub(super) fn cross_entropy<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
    scale: f64,
) -> FloatTensor<B> {
    let sum = B::float_sum(B::float_mul(log_softmax::<B>(prediction), target));
    B::float_reshape(B::float_mul_scalar(sum, scalar(-scale)), [1].into())
}

/// See [`FusedKernels::cross_entropy_backward`](crate::kernels::FusedKernels::cross_entropy_backward).
pub(super) fn cross_entropy_backward<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
    scale: f64,
    grad: FloatTensor<B>,
    target_too: bool,
) -> (FloatTensor<B>, Option<FloatTensor<B>>) {
    let shape = prediction.shape();
    let log_p = log_softmax::<B>(prediction);
    let total = B::float_expand(B::float_sum_dim(target.clone(), 1), shape.clone());
    let p = B::float_mul(B::float_exp(log_p.clone()), total);
    let factor = spread_grad::<B>(grad, scale, shape);
    let by_target = target_too.then(|| B::float_neg(B::float_mul(log_p, factor.clone())));
    (B::float_mul(B::float_sub(p, target), factor), by_target)
}

/// See [`FusedKernels::class_sums`](crate::kernels::FusedKernels::class_sums).
pub(super) fn class_sums<B: Backend>(
    prediction: FloatTensor<B>,
    target: FloatTensor<B>,
) -> FloatTensor<B> {
    let shape = prediction.shape();
    let (rows, dtype, device) = (shape[0], prediction.dtype(), prediction.device());
    let entropy = B::float_neg(B::float_sum_dim(
        B::float_mul(log_softmax::<B>(prediction.clone()), target.clone()),
        1,
    ));
    // ArgMax takes the first of equal maxima, so a tie counts as the lowest class.
    let predicted = B::float_argmax(prediction, 1, IntDType::I32);
    let ones = B::float_ones([rows, 1].into(), &device, dtype.into());
    let zeros = B::float_zeros(shape, &device, dtype.into());
    let one_hot = B::float_scatter(1, zeros, predicted, ones, IndexingUpdateOp::Assign);
    let by_class = B::float_transpose(target);
    B::float_cat(
        vec![
            B::float_matmul(by_class.clone(), one_hot),
            B::float_matmul(by_class, entropy),
        ],
        1,
    )
}

/// See [`FusedKernels::descend`](crate::kernels::FusedKernels::descend).
pub(super) fn descend<B: Backend>(
    theta: FloatTensor<B>,
    grad: FloatTensor<B>,
    lr: f64,
) -> FloatTensor<B> {
    B::float_sub(theta, B::float_mul_scalar(grad, scalar(lr)))
}
