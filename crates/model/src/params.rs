//! Parameter names: the one place that maps the lesson's w1..w4, b1..b3 and Burn's tensor
//! paths onto positions in the flat parameter vector.
//!
//! Three kinds of name are accepted everywhere a parameter is named (config keys, `trainable`,
//! `--param`):
//! - a **lesson name** for `1-[H]-1` networks: `w1..wH` are the input→hidden weights,
//!   `b1..bH` the hidden biases, `w(H+1)..w(2H)` the hidden→output weights and `b(H+1)` the
//!   output bias. For the lesson's `1-[2]-1` network that is exactly w1, w2, b1, b2, w3, w4, b3;
//! - a **tensor path** naming a whole tensor: `hidden.0.weight`, `hidden.0.bias`, …,
//!   `output.weight`, `output.bias`;
//! - an **element** of a tensor: `hidden.0.weight[0][1]`, `output.bias[0]`.

use std::ops::Range;

use crate::{Activation, Architecture, ModelError, TensorKind, TensorSpec};

/// What a parameter name refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamTarget {
    /// One scalar, by its index in the flat parameter vector.
    Scalar(usize),
    /// A whole tensor, by its index in [`Architecture::tensors`].
    Tensor(usize),
}

/// Where hidden unit `k` of a `1-[H]-1` network keeps its parameters, in the lesson's terms:
/// `x_k = w_k·input + b_k`, `y_k = activation(x_k)`, and `w_(H+k)` scales `y_k` into the
/// prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LessonUnit {
    /// Flat index of the input weight `w_k`.
    pub weight: usize,
    /// Flat index of the hidden bias `b_k`.
    pub bias: usize,
    /// Flat index of the output weight `w_(H+k)`.
    pub output_weight: usize,
}

impl LessonUnit {
    /// What the unit adds to the prediction at input `x`: `w_(H+k)·act(w_k·x + b_k)`, the
    /// lesson's blue and orange curves.
    pub fn contribution(&self, activation: Activation, values: &[f64], x: f64) -> f64 {
        let z = values[self.weight] * x + values[self.bias];
        values[self.output_weight] * activation.apply_scalar(z)
    }

    /// `w3·softplus(w1·x + b1)`: the contribution written with the parameters' names.
    pub fn label(&self, names: &ParamNames, activation: Activation) -> String {
        format!(
            "{}·{}({}·x + {})",
            names.name(self.output_weight),
            activation,
            names.name(self.weight),
            names.name(self.bias)
        )
    }
}

/// Names of every parameter of one architecture, precomputed.
#[derive(Clone, Debug)]
pub struct ParamNames {
    tensors: Vec<TensorSpec>,
    names: Vec<String>,
    lesson: bool,
    /// Every scalar has a name of its own (the lessons' w1…b3, a line's slope and intercept).
    scalar: bool,
}

impl ParamNames {
    /// Computes the display name of every scalar of `arch`.
    pub fn new(arch: &Architecture) -> Self {
        let tensors = arch.tensors();
        let lesson = arch.has_lesson_names();
        let mut names = Vec::with_capacity(arch.num_params());
        for spec in &tensors {
            for element in 0..spec.len() {
                names.push(match lesson_name(arch, spec, element) {
                    Some(name) => name,
                    None => element_name(spec, element),
                });
            }
        }
        Self {
            tensors,
            names,
            lesson,
            scalar: lesson || arch.is_line(),
        }
    }

    /// Display name of every scalar, in flat order (lesson names where they apply).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Display name of the scalar at flat index `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// The tensor path of the scalar at flat index `i` (`hidden.0.bias[2]`), lesson names or
    /// not: where it sits, whatever it is called.
    pub fn place(&self, i: usize) -> String {
        let (t, element) = self.locate(i);
        element_name(&self.tensors[t], element)
    }

    /// Every parameter tensor, in flat order.
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }

    /// The shortest list of names that covers exactly the flat `indices` (sorted): every
    /// scalar by name where each has one (w1…b3, a line's slope and intercept), else each
    /// tensor whose every element is listed by its path (`hidden.0.weight`) and the others'
    /// listed elements one by one. A config's `trainable` written this way reads back to the
    /// same parameters, in a few names however wide the network is.
    pub fn covering(&self, indices: &[usize]) -> Vec<String> {
        if self.scalar {
            return indices.iter().map(|&i| self.names[i].clone()).collect();
        }
        let mut out = Vec::new();
        for spec in &self.tensors {
            let inside: Vec<usize> = indices
                .iter()
                .copied()
                .filter(|i| spec.range().contains(i))
                .collect();
            if inside.len() == spec.len() {
                out.push(spec.path.clone());
            } else {
                out.extend(inside.iter().map(|&i| self.names[i].clone()));
            }
        }
        out
    }

    /// Whether every scalar has a name of its own (w1…b3 of a `1-[H]-1` network, `slope` and
    /// `intercept` of a line), so outputs list the scalars by name rather than the tensors.
    pub fn names_scalars(&self) -> bool {
        self.scalar
    }

    /// Returns true if and only if the lesson's names (w1, b1, …) are in use.
    pub fn has_lesson_names(&self) -> bool {
        self.lesson
    }

    /// The hidden units of a network with lesson names, each with its parameters' flat
    /// indices; empty for every other shape.
    pub fn lesson_units(&self) -> Vec<LessonUnit> {
        if !self.lesson {
            return Vec::new();
        }
        // A 1-[H]-1 network has four tensors: hidden.0.weight [1, H], hidden.0.bias [H],
        // output.weight [H, 1] and output.bias [1].
        let (weight, bias, output) = (&self.tensors[0], &self.tensors[1], &self.tensors[2]);
        (0..bias.len())
            .map(|k| LessonUnit {
                weight: weight.offset + k,
                bias: bias.offset + k,
                output_weight: output.offset + k,
            })
            .collect()
    }

    /// Which tensor holds flat index `i`, and its row-major position inside it.
    pub fn locate(&self, i: usize) -> (usize, usize) {
        let t = self
            .tensors
            .iter()
            .position(|s| s.range().contains(&i))
            .expect("flat index should be smaller than the number of parameters");
        (t, i - self.tensors[t].offset)
    }

    /// Where flat index `i` sits in the network: its tensor, and the units it joins — for a
    /// weight, unit `from` of the layer below and unit `to` of its own layer; for a bias,
    /// unit `to` (and `from` 0).
    pub fn connection(&self, i: usize) -> (usize, usize, usize) {
        let (t, element) = self.locate(i);
        let spec = &self.tensors[t];
        match spec.kind {
            TensorKind::Weight => {
                let fan_out = *spec.shape.last().expect("tensors have a shape");
                (t, element / fan_out, element % fan_out)
            }
            TensorKind::Bias => (t, 0, element),
        }
    }

    /// The flat indices a target covers.
    pub fn indices(&self, target: &ParamTarget) -> Range<usize> {
        match *target {
            ParamTarget::Scalar(i) => i..i + 1,
            ParamTarget::Tensor(t) => self.tensors[t].range(),
        }
    }

    /// Resolves a name as written by a user.
    ///
    /// # Errors
    /// [`ModelError::UnknownParam`] for names that match nothing, and
    /// [`ModelError::IndexOutOfRange`] for element indices outside their tensor.
    pub fn resolve(&self, name: &str) -> Result<ParamTarget, ModelError> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return Ok(ParamTarget::Scalar(i));
        }
        if let Some(t) = self.tensors.iter().position(|s| s.path == name) {
            return Ok(ParamTarget::Tensor(t));
        }
        if let Some((path, index)) = parse_element(name)
            && let Some(spec) = self.tensors.iter().find(|s| s.path == path)
        {
            let in_range = index.len() == spec.shape.len()
                && index.iter().zip(&spec.shape).all(|(i, n)| i < n);
            if !in_range {
                return Err(ModelError::IndexOutOfRange {
                    name: name.to_string(),
                    path: spec.path.clone(),
                    shape: spec.shape.clone(),
                });
            }
            let element = index
                .iter()
                .zip(&spec.shape)
                .fold(0, |acc, (i, n)| acc * n + i);
            return Ok(ParamTarget::Scalar(spec.offset + element));
        }
        Err(ModelError::UnknownParam {
            name: name.to_string(),
            expected: self.expected(),
        })
    }

    /// The accepted names, for error messages: lesson names (weights first) then tensor paths.
    fn expected(&self) -> String {
        let mut list: Vec<&str> = Vec::new();
        if self.lesson {
            let mut lesson: Vec<&str> = self.names.iter().map(String::as_str).collect();
            lesson.sort_by_key(|n| (!n.starts_with('w'), n[1..].parse::<usize>().unwrap_or(0)));
            list.extend(lesson);
        }
        list.extend(self.tensors.iter().map(|s| s.path.as_str()));
        let example = element_name(self.tensors.last().expect("a network has tensors"), 0);
        format!("{} (or an element such as {example})", list.join(", "))
    }
}

/// The lesson name of an element of a `1-[H]-1` network, if the network has that shape.
fn lesson_name(arch: &Architecture, spec: &TensorSpec, element: usize) -> Option<String> {
    if arch.is_line() {
        // "Gradient Descent, Step-by-Step" fits a line: its two numbers are a slope and an
        // intercept, not a 1×1 weight matrix and a bias vector.
        return Some(
            match spec.kind {
                TensorKind::Weight => "slope",
                TensorKind::Bias => "intercept",
            }
            .to_string(),
        );
    }
    if !arch.has_lesson_names() {
        return None;
    }
    let h = arch.hidden[0];
    let output_layer = spec.layer == 1;
    Some(match (spec.kind, output_layer) {
        (TensorKind::Weight, false) => format!("w{}", element + 1),
        (TensorKind::Bias, false) => format!("b{}", element + 1),
        (TensorKind::Weight, true) => format!("w{}", h + element + 1),
        (TensorKind::Bias, true) => format!("b{}", h + 1),
    })
}

/// `path[i][j]` for weights, `path[i]` for biases.
fn element_name(spec: &TensorSpec, element: usize) -> String {
    match spec.kind {
        TensorKind::Weight => {
            let cols = spec.shape[1];
            format!("{}[{}][{}]", spec.path, element / cols, element % cols)
        }
        TensorKind::Bias => format!("{}[{element}]", spec.path),
    }
}

/// Splits `hidden.0.weight[1][2]` into its path and indices.
fn parse_element(name: &str) -> Option<(&str, Vec<usize>)> {
    let open = name.find('[')?;
    let (path, mut rest) = name.split_at(open);
    let mut index = Vec::new();
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        index.push(inner[..close].trim().parse().ok()?);
        rest = &inner[close + 1..];
    }
    Some((path, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    #[test]
    fn lesson_names_follow_the_video() {
        let names = ParamNames::new(&Architecture::statquest());
        assert_eq!(names.names(), ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]);
        assert_eq!(names.resolve("b3"), Ok(ParamTarget::Scalar(6)));
        assert_eq!(names.resolve("w4"), Ok(ParamTarget::Scalar(5)));
        assert_eq!(names.resolve("output.weight"), Ok(ParamTarget::Tensor(2)));
        assert_eq!(names.indices(&ParamTarget::Tensor(2)), 4..6);
        assert_eq!(
            names.resolve("output.weight[1][0]"),
            Ok(ParamTarget::Scalar(5))
        );
        assert_eq!(
            names.resolve("hidden.0.weight[0][1]"),
            Ok(ParamTarget::Scalar(1))
        );
        let units = names.lesson_units();
        let b1 = names.resolve("b1").unwrap();
        let w4 = names.resolve("w4").unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(ParamTarget::Scalar(units[0].bias), b1);
        assert_eq!(ParamTarget::Scalar(units[1].output_weight), w4);
        assert_eq!(units[1].weight, 1);
    }

    #[test]
    fn a_covering_names_whole_tensors_and_reads_back_to_the_same_indices() {
        let arch = Architecture::new(2, vec![3], 1, Activation::Tanh).unwrap();
        let names = ParamNames::new(&arch);
        let all: Vec<usize> = (0..arch.num_params()).collect();
        assert_eq!(
            names.covering(&all),
            [
                "hidden.0.weight",
                "hidden.0.bias",
                "output.weight",
                "output.bias"
            ]
        );
        // Part of hidden.0.bias, all of output.weight.
        let some = [6, 8, 9, 10, 11];
        let covering = names.covering(&some);
        assert_eq!(
            covering,
            ["hidden.0.bias[0]", "hidden.0.bias[2]", "output.weight"]
        );
        let mut back: Vec<usize> = covering
            .iter()
            .flat_map(|n| names.indices(&names.resolve(n).unwrap()))
            .collect();
        back.sort_unstable();
        assert_eq!(back, some);
        // The lessons keep their names.
        let lesson = ParamNames::new(&Architecture::statquest());
        assert_eq!(lesson.covering(&[6]), ["b3"]);
    }

    #[test]
    fn a_straight_line_is_named_slope_and_intercept() {
        let arch = Architecture::new(1, vec![], 1, Activation::Identity).unwrap();
        let names = ParamNames::new(&arch);
        assert_eq!(names.names(), ["slope", "intercept"]);
        assert_eq!(names.resolve("slope"), Ok(ParamTarget::Scalar(0)));
        assert_eq!(names.resolve("output.bias[0]"), Ok(ParamTarget::Scalar(1)));
        assert_eq!(names.place(1), "output.bias[0]");
        assert!(!names.has_lesson_names() && names.lesson_units().is_empty());
        assert!(names.names_scalars());
        // Two inputs make a plane, whose weights keep their places' names.
        let plane =
            ParamNames::new(&Architecture::new(2, vec![], 1, Activation::Identity).unwrap());
        assert_eq!(plane.name(0), "output.weight[0][0]");
    }

    #[test]
    fn three_hidden_units_extend_the_lesson_names() {
        let arch = Architecture::new(1, vec![3], 1, Activation::Softplus).unwrap();
        let names = ParamNames::new(&arch);
        assert_eq!(
            names.names(),
            ["w1", "w2", "w3", "b1", "b2", "b3", "w4", "w5", "w6", "b4"]
        );
    }

    #[test]
    fn deeper_networks_use_tensor_paths() {
        let arch = Architecture::new(2, vec![2, 1], 1, Activation::Relu).unwrap();
        let names = ParamNames::new(&arch);
        assert_eq!(names.name(0), "hidden.0.weight[0][0]");
        assert_eq!(names.name(3), "hidden.0.weight[1][1]");
        assert_eq!(names.name(4), "hidden.0.bias[0]");
        assert_eq!(names.locate(4), (1, 0));
        assert!(names.resolve("w1").is_err());
        assert!(names.lesson_units().is_empty());
    }

    #[test]
    fn unknown_and_out_of_range_names_say_what_is_accepted() {
        let names = ParamNames::new(&Architecture::statquest());
        assert_eq!(
            names.resolve("w5").unwrap_err().to_string(),
            "unknown parameter `w5`; expected one of w1, w2, w3, w4, b1, b2, b3, \
             hidden.0.weight, hidden.0.bias, output.weight, output.bias \
             (or an element such as output.bias[0])"
        );
        assert_eq!(
            names.resolve("output.bias[1]").unwrap_err().to_string(),
            "parameter `output.bias[1]` is out of range: `output.bias` has shape [1]"
        );
        assert!(names.resolve("output.weight[0]").is_err());
        assert!(names.resolve("output.weight[x][0]").is_err());
    }
}
