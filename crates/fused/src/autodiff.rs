//! The fused operations on an autodiff device: each registers one node with Burn's autodiff
//! graph, whose backward step calls the backend's kernels.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Backend};

use squiggle_model::Activation;

use crate::kernels::{FusedKernels, LayerSizes, LayerState};
use crate::network;
use crate::ops::FusedOps;

/// The backward step of a whole network; its state is every layer's input, weights and
/// slope at the forward pass.
#[derive(Debug)]
struct NetworkBackward;

impl<B: Backend + FusedKernels> Backward<B, 2> for NetworkBackward {
    type State = Vec<LayerState<B>>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, theta_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (dx, dtheta) = B::network_backward(ops.state, grad, x_node.is_some());
        if let (Some(node), Some(dx)) = (x_node, dx) {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = theta_node {
            grads.register::<B>(node.id, dtheta);
        }
    }
}

/// The backward step of the squared error; its state is the prediction and the target.
#[derive(Debug)]
struct SquaredErrorBackward {
    scale: f64,
}

impl<B: Backend + FusedKernels> Backward<B, 2> for SquaredErrorBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [prediction_node, target_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (prediction, target) = ops.state;
        let d = B::squared_error_backward(prediction, target, self.scale, grad);
        if let Some(node) = target_node {
            // d/dtarget is the negative of d/dprediction.
            grads.register::<B>(node.id, B::float_neg(d.clone()));
        }
        if let Some(node) = prediction_node {
            grads.register::<B>(node.id, d);
        }
    }
}

/// The backward step of cross entropy; its state is the prediction and the target.
#[derive(Debug)]
struct CrossEntropyBackward {
    scale: f64,
}

impl<B: Backend + FusedKernels> Backward<B, 2> for CrossEntropyBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [prediction_node, target_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (prediction, target) = ops.state;
        let (by_prediction, by_target) =
            B::cross_entropy_backward(prediction, target, self.scale, grad, target_node.is_some());
        if let (Some(node), Some(d)) = (target_node, by_target) {
            grads.register::<B>(node.id, d);
        }
        if let Some(node) = prediction_node {
            grads.register::<B>(node.id, by_prediction);
        }
    }
}

impl<B: Backend + FusedKernels, C: CheckpointStrategy> FusedOps for Autodiff<B, C> {
    fn squared_error(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        let prep = SquaredErrorBackward { scale }
            .prepare::<C>([prediction.node(), target.node()])
            .compute_bound()
            .stateful();
        let (prediction, target) = (prediction.into_primitive(), target.into_primitive());
        let loss = B::squared_error(prediction.clone(), target.clone(), scale);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((prediction, target), loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn cross_entropy(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
        scale: f64,
    ) -> FloatTensor<Self> {
        let prep = CrossEntropyBackward { scale }
            .prepare::<C>([prediction.node(), target.node()])
            .compute_bound()
            .stateful();
        let (prediction, target) = (prediction.into_primitive(), target.into_primitive());
        let loss = B::cross_entropy(prediction.clone(), target.clone(), scale);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((prediction, target), loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn network(
        x: FloatTensor<Self>,
        theta: FloatTensor<Self>,
        layers: LayerSizes,
        activation: Activation,
    ) -> FloatTensor<Self> {
        let prep = NetworkBackward
            .prepare::<C>([x.node(), theta.node()])
            .compute_bound()
            .stateful();
        let (x, theta) = (x.into_primitive(), theta.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, states) = network::forward::<B>(x, &theta, &layers, activation, true);
                prep.finish(states, y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(network::forward::<B>(x, &theta, &layers, activation, false).0)
            }
        }
    }

    fn residual_sums(
        prediction: FloatTensor<Self>,
        target: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(B::residual_sums(
            <Self as AutodiffBackend>::inner(prediction),
            <Self as AutodiffBackend>::inner(target),
        ))
    }

    fn class_sums(prediction: FloatTensor<Self>, target: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(B::class_sums(
            <Self as AutodiffBackend>::inner(prediction),
            <Self as AutodiffBackend>::inner(target),
        ))
    }

    fn descend(theta: FloatTensor<Self>, grad: FloatTensor<Self>, lr: f64) -> FloatTensor<Self> {
        <Self as AutodiffBackend>::from_inner(B::descend(
            <Self as AutodiffBackend>::inner(theta),
            <Self as AutodiffBackend>::inner(grad),
            lr,
        ))
    }
}
