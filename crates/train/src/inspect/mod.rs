//! Looking inside a network without training it: the loss and gradient at any parameters
//! ([`Backprop`]), the chain rule written out by hand ([`chain_rules`]), finite-difference
//! checks ([`check_gradients`]), the three side by side ([`explain`]), and predictions and
//! metrics ([`predict`], [`measure`]).

mod chain;
mod explain;
mod gradcheck;
mod predict;
mod probe;

pub use chain::{ChainRule, Factor, chain_rules};
pub use explain::{Explained, explain, tolerance};
pub use gradcheck::{GradCheck, central_difference, check_gradients, kinks, relative_error};
pub(crate) use predict::Tally;
pub use predict::{
    Confusion, Measured, PREDICT_CHUNK, Predictor, Residuals, confusion, measure,
    observed_and_predicted, predict,
};
pub use probe::{Backprop, Evaluation};
