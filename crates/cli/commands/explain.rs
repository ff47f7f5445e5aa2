//! `squiggle explain`: one step's derivatives, factor by factor, checked three ways.

use std::io::Write;

use anyhow::bail;
use serde_json::{Value, json};
use squiggle_model::Precision;
use squiggle_train::{
    Backprop, ChainRule, StopReason, central_difference, chain_rules, relative_error,
};

use super::{describe_run, load, print_json};
use crate::CheckFailed;
use crate::args::ExplainArgs;
use crate::config::{Config, Overrides};
use crate::format::{cell, exact, num};

/// Step of the central differences, taken in f64.
const FD_STEP: f64 = 1e-6;

/// The three derivatives of one parameter.
struct Derivatives {
    chain_rule: f64,
    autodiff: f64,
    finite_difference: f64,
}

impl Derivatives {
    /// The largest relative difference between the chain rule and the other two.
    fn spread(&self) -> f64 {
        relative_error(self.chain_rule, self.autodiff)
            .max(relative_error(self.chain_rule, self.finite_difference))
    }
}

/// Explains step `--step` of the configured run.
pub fn run(args: &ExplainArgs) -> anyhow::Result<()> {
    let config = load(&args.run, Overrides::default())?;
    let device = super::device(&config)?;
    let params = select_params(&config, &args.params)?;
    let values = values_at_step(&config, &device, args.step)?;
    let rules = chain_rules(
        &config.arch,
        &config.names,
        &values,
        &config.data,
        config.plan.loss,
        &params,
    );
    let (arch, data, loss) = (&config.arch, &config.data, config.plan.loss);
    let precision = config.plan.precision;
    let (_, autodiff) =
        Backprop::new(arch, data, loss, &device, precision).loss_and_gradient(&values);
    let reference = Backprop::new(arch, data, loss, &device, Precision::F64);
    let derivatives: Vec<Derivatives> = rules
        .iter()
        .map(|rule| Derivatives {
            chain_rule: rule.total,
            autodiff: autodiff[rule.param],
            finite_difference: central_difference(&reference, &values, rule.param, FD_STEP),
        })
        .collect();
    // f32 autodiff carries about 1e-7 relative rounding per operation; allow for it.
    let tolerance = match precision {
        Precision::F32 => 1e-3,
        Precision::F64 => 1e-6,
    };
    let predictions: Vec<f64> = (0..data.len())
        .map(|i| arch.forward_host(&values, &data.input_row(i)).prediction()[0])
        .collect();
    if args.run.json {
        let items: Vec<Value> = rules
            .iter()
            .zip(&derivatives)
            .map(|(rule, d)| param_json(&config, &values, rule, d, tolerance))
            .collect();
        print_json(&json!({
            "step": args.step,
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "loss_function": loss.name(),
            "learning_rate": config.plan.learning_rate,
            "tolerance": tolerance,
            "params": items,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Step {} of training {}; learning rate {}.",
            args.step,
            describe_run(&config),
            config.plan.learning_rate
        )?;
        for (rule, d) in rules.iter().zip(&derivatives) {
            writeln!(out)?;
            for line in explain_param(&config, &values, &predictions, rule, d, tolerance) {
                writeln!(out, "{line}")?;
            }
        }
    }
    let disagreeing: Vec<&str> = rules
        .iter()
        .zip(&derivatives)
        .filter(|(_, d)| d.spread() > tolerance)
        .map(|(rule, _)| config.names.name(rule.param))
        .collect();
    if !disagreeing.is_empty() {
        return Err(CheckFailed(format!(
            "the chain rule, autodiff and finite differences disagree for {}",
            disagreeing.join(", ")
        ))
        .into());
    }
    Ok(())
}

/// The flat indices named by `--param`, or every trainable one.
fn select_params(config: &Config, names: &[String]) -> anyhow::Result<Vec<usize>> {
    if names.is_empty() {
        return Ok(config.plan.trainable_indices());
    }
    let mut chosen = Vec::new();
    for name in names {
        let target = config
            .names
            .resolve(name)
            .map_err(|e| anyhow::anyhow!("--param: {e}"))?;
        chosen.extend(config.names.indices(&target));
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen)
}

/// The parameters before step `step` of the configured run.
fn values_at_step(
    config: &Config,
    device: &burn::prelude::Device,
    step: usize,
) -> anyhow::Result<Vec<f64>> {
    let max = config.plan.stop.max_steps;
    if step >= max.max(1) {
        bail!("--step {step} is past the run's last step (max_steps is {max})");
    }
    let mut plan = config.plan.clone();
    plan.stop.max_steps = step;
    let outcome = super::train(config, &plan, device, |_| {})?;
    if outcome.stop_reason != StopReason::MaxSteps {
        bail!(
            "the run stops after {} steps ({}), so it has no step {step}",
            outcome.steps,
            outcome.stop_reason
        );
    }
    Ok(outcome.params)
}

fn explain_param(
    config: &Config,
    values: &[f64],
    predictions: &[f64],
    rule: &ChainRule,
    d: &Derivatives,
    tolerance: f64,
) -> Vec<String> {
    let name = config.names.name(rule.param);
    let s = config.plan.loss.symbol();
    let data = &config.data;
    let mut lines = Vec::new();
    let factor_names: Vec<&str> = rule.factors.iter().map(|f| f.name.as_str()).collect();
    lines.push(format!("d{s}/d{name} = Σ {}", factor_names.join(" × ")));
    let meanings: Vec<String> = rule
        .factors
        .iter()
        .map(|f| format!("{} = {}", f.name, f.meaning))
        .collect();
    lines.push(format!("  where {}", meanings.join(", ")));
    lines.push(String::new());

    let show_points = data.inputs() == 1 && data.outputs() == 1;
    let mut header = vec![format!("{:>5}", "i")];
    if show_points {
        header.extend(["input", "observed", "predicted"].map(cell));
    }
    let widths: Vec<usize> = rule.factors.iter().map(|f| f.name.len().max(11)).collect();
    for (f, w) in rule.factors.iter().zip(&widths) {
        header.push(format!(" {:>w$}", f.name));
    }
    header.push(cell("product"));
    lines.push(header.concat());
    for (i, &predicted) in predictions.iter().enumerate() {
        let mut row = vec![format!("{:>5}", i + 1)];
        if show_points {
            for x in [data.input_row(i)[0], data.output_row(i)[0], predicted] {
                row.push(cell(&num(x)));
            }
        }
        for (f, w) in rule.factors.iter().zip(&widths) {
            row.push(format!(" {:>w$}", num(f.values[i])));
        }
        row.push(cell(&num(rule.products[i])));
        lines.push(row.concat());
    }
    let table_width = lines.last().map_or(0, |l| l.chars().count());
    let sum = num(rule.total);
    lines.push(format!(
        "{:>5}{sum:>width$}",
        "sum",
        width = table_width - 5
    ));
    lines.push(String::new());
    lines.push(format!("  from the chain rule  {:>12}", num(d.chain_rule)));
    lines.push(format!("  Burn's autodiff      {:>12}", num(d.autodiff)));
    lines.push(format!(
        "  finite difference    {:>12}",
        num(d.finite_difference)
    ));
    let spread = d.spread();
    if spread <= tolerance {
        lines.push(format!(
            "  → all three agree (largest relative difference {spread:.1e}, tolerance {tolerance:.0e})"
        ));
    } else {
        lines.push(format!(
            "  → DISAGREE: relative difference {spread:.1e} exceeds the tolerance {tolerance:.0e}"
        ));
    }
    lines.push(String::new());
    if config.plan.trainable[rule.param] {
        let lr = config.plan.learning_rate;
        let step = d.autodiff * lr;
        let old = values[rule.param];
        lines.push(format!(
            "  step size = d{s}/d{name} × learning rate = {} × {lr} = {}",
            num(d.autodiff),
            num(step)
        ));
        lines.push(format!(
            "  new {name} = old − step size = {} − ({}) = {}",
            num(old),
            num(step),
            num(config.plan.precision.round(old - step))
        ));
    } else {
        lines.push(format!(
            "  {name} is frozen: it keeps the value {}.",
            num(values[rule.param])
        ));
    }
    lines
}

fn param_json(
    config: &Config,
    values: &[f64],
    rule: &ChainRule,
    d: &Derivatives,
    tolerance: f64,
) -> Value {
    let i = rule.param;
    let trainable = config.plan.trainable[i];
    let step = trainable.then_some(d.autodiff * config.plan.learning_rate);
    let factors: Vec<Value> = rule
        .factors
        .iter()
        .map(|f| json!({"name": f.name, "meaning": f.meaning, "values": f.values}))
        .collect();
    json!({
        "name": config.names.name(i),
        "value": exact(values[i], config.plan.precision),
        "trainable": trainable,
        "factors": factors,
        "products": rule.products,
        "chain_rule": d.chain_rule,
        "autodiff": d.autodiff,
        "finite_difference": d.finite_difference,
        "agree": d.spread() <= tolerance,
        "step_size": step,
        "new_value": step.map(|s| config.plan.precision.round(values[i] - s)),
    })
}
