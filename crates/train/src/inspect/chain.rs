//! The chain rule written out: every derivative as a sum over the data points of a product of
//! factors, computed by hand in f64 on the host.
//!
//! This is backpropagation as the lesson draws it, independent of Burn's autodiff: `explain`
//! shows these factors and checks their sum against autodiff and finite differences.
//!
//! For the lesson's `1-[H]-1` networks the factors use the lesson's notation (for w1:
//! `dSSR/dpredicted × dpredicted/dy1 × dy1/dx1 × dx1/dw1`). For other shapes each hidden layer's
//! error signal `δ = dLoss/dz` is shown as it reaches the parameter: the signal arriving from the
//! layer above (`Σ w·δ`), times the activation's derivative, times the value the parameter
//! multiplies.

use squiggle_model::{Architecture, ParamNames, RowPass, TensorKind};

use crate::data::Dataset;
use crate::engine::loss::LossKind;

/// One factor of the chain rule, for every data point.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// The derivative it is, e.g. `dy1/dx1`.
    pub name: String,
    /// What it equals, e.g. `sigmoid(x1)`.
    pub meaning: String,
    /// Its value at each data point.
    pub values: Vec<f64>,
}

/// A derivative of the loss with respect to one parameter, broken into chain-rule factors.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainRule {
    /// Flat index of the parameter.
    pub param: usize,
    /// The factors, multiplied left to right.
    pub factors: Vec<Factor>,
    /// The product of the factors at each data point.
    pub products: Vec<f64>,
    /// The sum of the products: the derivative.
    pub total: f64,
}

/// Everything backpropagation computes for a data set, per row.
struct Backward {
    passes: Vec<RowPass>,
    /// `deltas[row][l][k]`: dLoss/dz of unit `k` of layer `l`.
    deltas: Vec<Vec<Vec<f64>>>,
    /// `upstream[row][l][k]`: `Σ_m W[l+1][k][m] · δ[l+1][m]`, the signal reaching hidden unit `k`.
    upstream: Vec<Vec<Vec<f64>>>,
}

fn backward(arch: &Architecture, values: &[f64], data: &Dataset, loss: LossKind) -> Backward {
    let tensors = arch.tensors();
    let layers = arch.layer_sizes().len();
    let scale = loss.scale(data.len(), data.outputs());
    let mut out = Backward {
        passes: Vec::new(),
        deltas: Vec::new(),
        upstream: Vec::new(),
    };
    for i in 0..data.len() {
        let pass = arch.forward_host(values, &data.input_row(i));
        let mut deltas = vec![Vec::new(); layers];
        let mut upstream = vec![Vec::new(); layers];
        deltas[layers - 1] = loss
            .row_gradient_host(pass.prediction(), &data.output_row(i))
            .into_iter()
            .map(|g| g * scale)
            .collect();
        for l in (0..layers - 1).rev() {
            let w = &tensors[2 * (l + 1)];
            let fan_out = w.shape[1];
            let up: Vec<f64> = (0..w.shape[0])
                .map(|k| {
                    (0..fan_out)
                        .map(|m| values[w.offset + k * fan_out + m] * deltas[l + 1][m])
                        .sum()
                })
                .collect();
            deltas[l] = up
                .iter()
                .zip(&pass.pre[l])
                .map(|(u, &z)| u * arch.activation.derivative_scalar(z))
                .collect();
            upstream[l] = up;
        }
        out.passes.push(pass);
        out.deltas.push(deltas);
        out.upstream.push(upstream);
    }
    out
}

/// The chain-rule breakdown of the derivative of the loss with respect to each of `params`.
pub fn chain_rules(
    arch: &Architecture,
    names: &ParamNames,
    values: &[f64],
    data: &Dataset,
    loss: LossKind,
    params: &[usize],
) -> Vec<ChainRule> {
    let back = backward(arch, values, data, loss);
    params
        .iter()
        .map(|&p| {
            let factors = if names.has_lesson_names() {
                lesson_factors(arch, names, values, data, &back, loss, p)
            } else {
                layer_factors(arch, names, data, &back, loss, p)
            };
            let products: Vec<f64> = (0..data.len())
                .map(|i| factors.iter().map(|f| f.values[i]).product())
                .collect();
            ChainRule {
                param: p,
                total: products.iter().sum(),
                products,
                factors,
            }
        })
        .collect()
}

fn factor(name: impl Into<String>, meaning: impl Into<String>, values: Vec<f64>) -> Factor {
    Factor {
        name: name.into(),
        meaning: meaning.into(),
        values,
    }
}

/// The first factors, from the loss to the output `output`: `dSSR/dpredicted`; for cross
/// entropy `dCE/dp_true × dp_true/draw[k]`, the SoftMax probability of each point's true class
/// and its derivative, whose product is `p[k] − [k is true]` (scaled by the mean's `1/n`).
fn loss_factors(
    back: &Backward,
    loss: LossKind,
    data: &Dataset,
    output: usize,
    suffix: &str,
) -> Vec<Factor> {
    let s = loss.symbol();
    let delta = |d: &Vec<Vec<f64>>| d.last().expect("a network has an output layer")[output];
    if !loss.is_cross_entropy() {
        let meaning = match loss {
            LossKind::Mse => "−2(observed − predicted)/n",
            _ => "−2(observed − predicted)",
        };
        let values = back.deltas.iter().map(delta).collect();
        return vec![factor(format!("d{s}/dpredicted{suffix}"), meaning, values)];
    }
    let scale = loss.scale(data.len(), data.outputs());
    let mut dce = Vec::new();
    let mut dp = Vec::new();
    for (i, pass) in back.passes.iter().enumerate() {
        let p = crate::engine::loss::softmax(pass.prediction());
        let truth = crate::engine::loss::argmax(&data.output_row(i));
        let p_true = p[truth];
        dce.push(-scale / p_true);
        let own = f64::from(u8::from(output == truth));
        dp.push(p_true * (own - p[output]));
    }
    let over_n = if scale == 1.0 { "" } else { "/n" };
    vec![
        factor(format!("d{s}/dp_true"), format!("−1/p_true{over_n}"), dce),
        factor(
            format!("dp_true/draw{suffix}"),
            "p_true·([class is true] − p)",
            dp,
        ),
    ]
}

/// The lesson's notation for `1-[H]-1` networks: x_k = w_k·input + b_k, y_k = act(x_k),
/// predicted = Σ w_{H+k}·y_k + b_{H+1}.
fn lesson_factors(
    arch: &Architecture,
    names: &ParamNames,
    values: &[f64],
    data: &Dataset,
    back: &Backward,
    loss: LossKind,
    p: usize,
) -> Vec<Factor> {
    let name = names.name(p);
    let (t, element) = names.locate(p);
    let spec = &names.tensors()[t];
    let rows = back.passes.len();
    let mut factors = loss_factors(back, loss, data, 0, "");
    if spec.layer == 1 {
        // Output layer: w3, w4 multiply y1, y2; b3 is added.
        factors.push(match spec.kind {
            TensorKind::Weight => factor(
                format!("dpredicted/d{name}"),
                format!("y{}", element + 1),
                back.passes.iter().map(|p| p.inputs[1][element]).collect(),
            ),
            TensorKind::Bias => factor(format!("dpredicted/d{name}"), "1", vec![1.0; rows]),
        });
        return factors;
    }
    // Hidden layer: the signal goes back through w_{H+k} and the activation.
    let k = element;
    let unit = names.lesson_units()[k];
    let (x, y) = (format!("x{}", k + 1), format!("y{}", k + 1));
    factors.push(factor(
        format!("dpredicted/d{y}"),
        names.name(unit.output_weight),
        vec![values[unit.output_weight]; rows],
    ));
    factors.push(factor(
        format!("d{y}/d{x}"),
        arch.activation.derivative_label(&x),
        back.passes
            .iter()
            .map(|p| arch.activation.derivative_scalar(p.pre[0][k]))
            .collect(),
    ));
    factors.push(match spec.kind {
        TensorKind::Weight => factor(
            format!("d{x}/d{name}"),
            "input",
            back.passes.iter().map(|p| p.inputs[0][0]).collect(),
        ),
        TensorKind::Bias => factor(format!("d{x}/d{name}"), "1", vec![1.0; rows]),
    });
    factors
}

/// Any shape: the error signal of the parameter's unit, and the value the parameter multiplies.
fn layer_factors(
    arch: &Architecture,
    names: &ParamNames,
    data: &Dataset,
    back: &Backward,
    loss: LossKind,
    p: usize,
) -> Vec<Factor> {
    let (t, j, k) = names.connection(p);
    let spec = &names.tensors()[t];
    let l = spec.layer;
    let output_layer = l == arch.hidden.len();
    let mut factors = Vec::new();
    if output_layer {
        let suffix = if arch.outputs > 1 {
            format!("[{k}]")
        } else {
            String::new()
        };
        factors.extend(loss_factors(back, loss, data, k, &suffix));
    } else {
        let unit = format!("z{l}[{k}]");
        let s = loss.symbol();
        factors.push(factor(
            format!("d{s}/dh{l}[{k}]"),
            format!("Σ w·δ from layer {}", l + 1),
            back.upstream.iter().map(|u| u[l][k]).collect(),
        ));
        factors.push(factor(
            format!("dh{l}[{k}]/d{unit}"),
            arch.activation.derivative_label(&unit),
            back.passes
                .iter()
                .map(|pass| arch.activation.derivative_scalar(pass.pre[l][k]))
                .collect(),
        ));
    }
    let target = if output_layer && loss.is_cross_entropy() {
        "raw".to_string()
    } else if output_layer {
        "predicted".to_string()
    } else {
        format!("z{l}[{k}]")
    };
    factors.push(match spec.kind {
        TensorKind::Weight => {
            let source = if l == 0 {
                format!("input[{j}]")
            } else {
                format!("h{}[{j}]", l - 1)
            };
            factor(
                format!("d{target}/dw"),
                source,
                back.passes.iter().map(|pass| pass.inputs[l][j]).collect(),
            )
        }
        TensorKind::Bias => factor(format!("d{target}/db"), "1", vec![1.0; back.passes.len()]),
    });
    factors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kernels::Kernels;
    use crate::fixtures::{PT2, alternate_loss, device, lesson_data, random_data};
    use crate::inspect::Backprop;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};
    use squiggle_model::{Activation, Named, Precision, standard_normal_values};

    #[test]
    fn lesson_factors_multiply_to_the_lesson_gradient() {
        let arch = Architecture::statquest();
        let names = ParamNames::new(&arch);
        let all: Vec<usize> = (0..7).collect();
        let rules = chain_rules(&arch, &names, &PT2, &lesson_data(), LossKind::Ssr, &all);
        // w1, w2, b1, b2, w3, w4, b3 (shared/statquest.md lists them as w1, b1, w2, b2, …).
        let want = [
            7.33892, 1.98696, 10.34723, 11.03170, -16.10875, -6.94630, -15.65511,
        ];
        for (rule, want) in rules.iter().zip(want) {
            assert!((rule.total - want).abs() < 1e-5, "{rule:?}");
        }
        let w1: Vec<&str> = rules[0].factors.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            w1,
            ["dSSR/dpredicted", "dpredicted/dy1", "dy1/dx1", "dx1/dw1"]
        );
        assert_eq!(rules[0].factors[1].meaning, "w3");
        assert_eq!(rules[0].factors[2].meaning, "sigmoid(x1)");
        let b3: Vec<&str> = rules[6].factors.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(b3, ["dSSR/dpredicted", "dpredicted/db3"]);
        // dSSR/db3 = Σ −2(observed − predicted) × 1, with predicted = -2.6037, -1.6090, -2.6149.
        let d = &rules[6].factors[0].values;
        for (got, want) in d
            .iter()
            .zip([2.0 * -2.6037, 2.0 * (-1.6090 - 1.0), 2.0 * -2.6149])
        {
            assert!((got - want).abs() < 1e-3, "{d:?}");
        }
    }

    /// Property: on random shapes (lesson-shaped and not), the factor products sum to Burn's
    /// autodiff derivative.
    #[test]
    fn factor_products_sum_to_the_autodiff_derivative_on_random_networks() {
        let mut rng = StdRng::seed_from_u64(99);
        for case in 0..16 {
            let (inputs, hidden, outputs) = if case % 3 == 0 {
                (1, vec![rng.random_range(1..=4)], 1)
            } else {
                let depth = rng.random_range(0..=3);
                (
                    rng.random_range(1..=3),
                    (0..depth).map(|_| rng.random_range(1..=4)).collect(),
                    rng.random_range(1..=2),
                )
            };
            let activation = Activation::ALL[case % 5];
            let arch = Architecture::new(inputs, hidden, outputs, activation).unwrap();
            let values = standard_normal_values(&arch, case as u64 + 1);
            let data = random_data(&mut rng, 4, inputs, outputs);
            let loss = alternate_loss(case);
            same_as_autodiff(&arch, &values, &data, loss, case);
        }
    }

    /// Every parameter's chain rule, each checked against Burn's autodiff in f64.
    fn same_as_autodiff(
        arch: &Architecture,
        values: &[f64],
        data: &Dataset,
        loss: LossKind,
        case: usize,
    ) -> Vec<ChainRule> {
        let names = ParamNames::new(arch);
        let all: Vec<usize> = (0..arch.num_params()).collect();
        let rules = chain_rules(arch, &names, values, data, loss, &all);
        let backprop = Backprop::new(arch, data, loss, &device(), Precision::F64, Kernels::Burn);
        let (_, autodiff) = backprop.loss_and_gradient(values).unwrap();
        for (rule, a) in rules.iter().zip(&autodiff) {
            let err = (rule.total - a).abs() / a.abs().max(1e-3);
            assert!(
                err < 1e-8,
                "case {case} {}: {} factors {} autodiff {a}",
                arch.describe(),
                names.name(rule.param),
                rule.total
            );
        }
        rules
    }

    /// Property: for cross entropy (summed and averaged) on random classifiers, the factor
    /// products sum to autodiff's derivative, and an output bias's first two factors multiply
    /// to `p − one-hot` (scaled by 1/n for the mean).
    #[test]
    fn cross_entropy_factors_match_autodiff_and_the_softmax_identity() {
        let mut rng = StdRng::seed_from_u64(7);
        for case in 0..12 {
            let classes = rng.random_range(2..=4);
            let inputs = rng.random_range(1..=3);
            let hidden: Vec<usize> = (0..case % 3).map(|_| rng.random_range(1..=4)).collect();
            let activation = Activation::ALL[case % 5];
            let arch = Architecture::new(inputs, hidden, classes, activation).unwrap();
            let names = ParamNames::new(&arch);
            let values = standard_normal_values(&arch, case as u64 + 11);
            let rows: Vec<Vec<f64>> = (0..5)
                .map(|r| {
                    let mut row: Vec<f64> =
                        (0..inputs).map(|_| rng.random_range(-2.0..2.0)).collect();
                    row.push((r % classes) as f64);
                    row
                })
                .collect();
            let class_names = (0..classes).map(|c| format!("c{c}")).collect();
            let data = Dataset::from_labelled_rows(
                &rows,
                inputs,
                crate::data::Classes {
                    column: "class".into(),
                    names: class_names,
                },
            )
            .unwrap();
            let loss = if case % 2 == 0 {
                LossKind::CrossEntropy
            } else {
                LossKind::MeanCrossEntropy
            };
            let rules = same_as_autodiff(&arch, &values, &data, loss, case);
            let bias = names.tensors().last().unwrap();
            let scale = loss.scale(data.len(), classes);
            for k in 0..classes {
                let rule = &rules[bias.offset + k];
                for i in 0..data.len() {
                    let raw = arch.forward_host(&values, &data.input_row(i));
                    let p = crate::engine::loss::softmax(raw.prediction());
                    let own = f64::from(u8::from(data.label(i) == k));
                    let product = rule.factors[0].values[i] * rule.factors[1].values[i];
                    assert!((product - scale * (p[k] - own)).abs() < 1e-12);
                }
            }
        }
    }
}
