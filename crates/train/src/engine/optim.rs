//! Optimizers: how a derivative becomes a step, as settings ([`Optimizer`]); their running
//! state is `updater.rs`'s. This is the one place that owns the update rule; training (both
//! modes) and `explain` go through it.
//!
//! To add an optimizer: a variant of [`OptimizerKind`] (its config name), a variant of
//! [`Optimizer`] with its settings, their [`Setting`](crate::Setting)s and checks in
//! `plan/settings.rs`, and its Burn configuration in `Optimizer::updater` (`updater.rs`).

use serde::{Deserialize, Serialize};

squiggle_model::named_enum! {
    /// The optimizers a config can name with `[train] optimizer`.
    #[derive(Default)]
    pub enum OptimizerKind as "optimizer" {
        /// Stochastic gradient descent: the lessons' rule, optionally with momentum and weight
        /// decay. The default.
        #[default]
        Sgd = "sgd",
        /// Adam: steps scaled by running averages of the gradient and its square.
        Adam = "adam",
    }
}

/// An optimizer with its settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    /// The lessons' rule, written by squiggle: `step size = derivative × learning rate`,
    /// `new value = old value − step size`. What `sgd` is without momentum and weight decay.
    GradientDescent,
    /// Burn's SGD: velocity `v ← momentum·v + (g + weight_decay·θ)` (PyTorch's convention,
    /// no dampening), then `θ ← θ − lr·v`.
    Sgd {
        /// In [0, 1); 0 for none.
        momentum: f64,
        /// L2 penalty added to the gradient; 0 for none.
        weight_decay: f64,
    },
    /// Burn's Adam: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`, then
    /// `θ ← θ − lr·m̂ / (√v̂ + ε)` with the bias-corrected `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`.
    Adam {
        /// Decay of the gradient's running average (0.9 by default).
        beta1: f64,
        /// Decay of the squared gradient's running average (0.999 by default).
        beta2: f64,
        /// Added to √v̂ so that a zero gradient divides safely (1e-8 by default, as PyTorch).
        epsilon: f64,
        /// L2 penalty added to the gradient; 0 for none.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// The name a config gives it.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Optimizer::GradientDescent | Optimizer::Sgd { .. } => OptimizerKind::Sgd,
            Optimizer::Adam { .. } => OptimizerKind::Adam,
        }
    }

    /// Returns true if and only if this is the lessons' plain rule, whose step size is the
    /// derivative times the learning rate.
    pub fn is_gradient_descent(&self) -> bool {
        matches!(self, Optimizer::GradientDescent)
    }

    /// The lessons' step size for one parameter: `derivative × learning rate`.
    ///
    /// ```
    /// use squiggle_train::Optimizer;
    /// // "Backpropagation Main Ideas", step 0: dSSR/db3 = -15.6551, learning rate 0.1.
    /// assert!((Optimizer::gradient_descent_step(-15.6551, 0.1) + 1.56551).abs() < 1e-12);
    /// ```
    pub fn gradient_descent_step(derivative: f64, learning_rate: f64) -> f64 {
        derivative * learning_rate
    }
}

impl std::fmt::Display for Optimizer {
    /// `gradient descent`, `sgd with momentum 0.9 and weight decay 0.03`,
    /// `adam (β1 0.9, β2 0.999, ε 1e-8)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Optimizer::GradientDescent => f.write_str("gradient descent"),
            Optimizer::Sgd {
                momentum,
                weight_decay,
            } => {
                let mut parts = Vec::new();
                if momentum > 0.0 {
                    parts.push(format!("momentum {momentum}"));
                }
                if weight_decay > 0.0 {
                    parts.push(format!("weight decay {weight_decay}"));
                }
                write!(f, "sgd with {}", parts.join(" and "))
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => {
                write!(f, "adam (β1 {beta1}, β2 {beta2}, ε {epsilon:e}")?;
                if weight_decay > 0.0 {
                    write!(f, ", weight decay {weight_decay}")?;
                }
                f.write_str(")")
            }
        }
    }
}
