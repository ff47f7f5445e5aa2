//! Initial values as written in a config: a number, or nested arrays of numbers.

use crate::{ModelError, ParamNames, ParamTarget};

/// A number or a (nested) array of numbers, as a config gives it for one parameter name.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// A single number, for a lesson name or a tensor element.
    Number(f64),
    /// An array; nest them for matrices (`[[3.34, -3.53]]` is a `[1, 2]` weight).
    List(Vec<Values>),
}

impl Values {
    /// The shape of this value: `[]` for a number, `[2]` for `[1, 2]`, `[1, 2]` for
    /// `[[1, 2]]`; `None` for ragged arrays.
    pub fn shape(&self) -> Option<Vec<usize>> {
        match self {
            Values::Number(_) => Some(Vec::new()),
            Values::List(items) => {
                let mut inner = match items.first() {
                    Some(first) => first.shape()?,
                    None => Vec::new(),
                };
                if items
                    .iter()
                    .skip(1)
                    .any(|v| v.shape().as_ref() != Some(&inner))
                {
                    return None;
                }
                inner.insert(0, items.len());
                Some(inner)
            }
        }
    }

    /// The numbers in row-major order.
    pub fn flatten(&self) -> Vec<f64> {
        match self {
            Values::Number(x) => vec![*x],
            Values::List(items) => items.iter().flat_map(Values::flatten).collect(),
        }
    }
}

impl ParamNames {
    /// Writes `value` into `params` at the place `name` refers to, and returns the flat
    /// indices it wrote.
    ///
    /// A scalar name takes a number; a tensor path takes an array of exactly the tensor's
    /// shape.
    ///
    /// # Errors
    /// Unknown names, shapes that do not match, non-finite numbers.
    pub fn assign(
        &self,
        params: &mut [f64],
        name: &str,
        value: &Values,
    ) -> Result<std::ops::Range<usize>, ModelError> {
        let target = self.resolve(name)?;
        let wanted: Vec<usize> = match &target {
            ParamTarget::Scalar(_) => Vec::new(),
            ParamTarget::Tensor(t) => self.tensors()[*t].shape.clone(),
        };
        let got = value.shape();
        if got.as_ref() != Some(&wanted) {
            return Err(ModelError::ShapeMismatch {
                name: name.to_string(),
                expected: describe_shape(Some(&wanted)),
                got: describe_shape(got.as_ref()),
            });
        }
        let numbers = value.flatten();
        if let Some(&bad) = numbers.iter().find(|x| !x.is_finite()) {
            return Err(ModelError::NonFinite {
                name: name.to_string(),
                value: bad,
            });
        }
        let range = self.indices(&target);
        params[range.clone()].copy_from_slice(&numbers);
        Ok(range)
    }
}

fn describe_shape(shape: Option<&Vec<usize>>) -> String {
    match shape {
        None => "a ragged array".to_string(),
        Some(s) if s.is_empty() => "a number".to_string(),
        Some(s) => format!("an array of shape {s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Architecture;

    fn list(xs: &[f64]) -> Values {
        Values::List(xs.iter().map(|&x| Values::Number(x)).collect())
    }

    #[test]
    fn assigns_lesson_names_and_whole_tensors() {
        let names = ParamNames::new(&Architecture::statquest());
        let mut params = vec![0.0; 7];
        names
            .assign(&mut params, "b3", &Values::Number(2.61))
            .unwrap();
        let range = names
            .assign(
                &mut params,
                "hidden.0.weight",
                &Values::List(vec![list(&[3.34, -3.53])]),
            )
            .unwrap();
        assert_eq!(range, 0..2);
        assert_eq!(params, [3.34, -3.53, 0.0, 0.0, 0.0, 0.0, 2.61]);
    }

    #[test]
    fn wrong_shapes_are_described() {
        let names = ParamNames::new(&Architecture::statquest());
        let mut params = vec![0.0; 7];
        let err = names
            .assign(&mut params, "hidden.0.weight", &list(&[3.34, -3.53]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`hidden.0.weight` needs an array of shape [1, 2], got an array of shape [2]"
        );
        let err = names.assign(&mut params, "w1", &list(&[1.0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`w1` needs a number, got an array of shape [1]"
        );
        let ragged = Values::List(vec![list(&[1.0]), list(&[1.0, 2.0])]);
        let err = names
            .assign(&mut params, "output.weight", &ragged)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`output.weight` needs an array of shape [2, 1], got a ragged array"
        );
        assert_eq!(params, [0.0; 7]);
    }
}
