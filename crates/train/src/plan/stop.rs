//! When step-by-step training stops.

/// The stopping rules of "Gradient Descent, Step-by-Step"; any combination may be active.
///
/// Rules are checked in this order at each step:
/// 1. `max_steps`: stop once this many steps have been taken;
/// 2. `target_loss`: stop *before* stepping when the current loss is at or below it (the
///    parameters are already good enough);
/// 3. `min_step_size`: stop *after* a step in which every trainable parameter moved by less
///    than this (the small final step is applied, so the lesson's b3 ends at 2.6089).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StopRules {
    /// Maximum number of steps. Defaults to 1000, as in the lesson.
    pub max_steps: usize,
    /// Stop when every |step size| is below this. Defaults to 0.001, as in the lesson; 0
    /// disables the rule.
    pub min_step_size: f64,
    /// Stop when the loss reaches this. Off by default.
    pub target_loss: Option<f64>,
}

impl Default for StopRules {
    fn default() -> Self {
        Self {
            max_steps: 1000,
            min_step_size: 0.001,
            target_loss: None,
        }
    }
}

impl StopRules {
    /// The defaults for data sets: 10,000 steps, `min_step_size` off. An absolute step size
    /// says little about a data set's loss; the verdict (converged, stalled, finished) says
    /// where the run ended instead.
    pub fn for_data_sets() -> Self {
        Self {
            max_steps: 10_000,
            min_step_size: 0.0,
            target_loss: None,
        }
    }

    /// Returns true if and only if every step size is below `min_step_size` (never, when the
    /// rule is disabled with 0).
    pub fn steps_are_small(&self, steps: impl IntoIterator<Item = f64>) -> bool {
        self.min_step_size > 0.0 && steps.into_iter().all(|s| s.abs() < self.min_step_size)
    }

    /// Returns true if and only if a target loss is set and `loss` is at or below it.
    pub fn loss_is_low_enough(&self, loss: f64) -> bool {
        self.target_loss.is_some_and(|t| loss <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_steps_need_every_parameter_below_the_threshold() {
        let rules = StopRules::default();
        assert!(rules.steps_are_small([0.0004, -0.0009]));
        assert!(!rules.steps_are_small([0.0004, -0.001]));
        let disabled = StopRules {
            min_step_size: 0.0,
            ..StopRules::default()
        };
        assert!(!disabled.steps_are_small([0.0]));
    }

    #[test]
    fn target_loss_is_inclusive_and_optional() {
        assert!(!StopRules::default().loss_is_low_enough(0.0));
        let rules = StopRules {
            target_loss: Some(0.5),
            ..StopRules::default()
        };
        assert!(rules.loss_is_low_enough(0.5));
        assert!(!rules.loss_is_low_enough(0.51));
    }
}
