//! `squiggle eval`: a forward pass, as in "Neural Networks Pt. 1: Inside the Black Box".

use std::io::Write;

use serde_json::json;
use squiggle_train::Backprop;

use super::{describe_run, load, print_json};
use crate::args::EvalArgs;
use crate::config::Overrides;
use crate::format::{cell, exact, num};

/// Prints each data point with its prediction, then the loss.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let config = load(&args.run, Overrides::default())?;
    let device = super::device(&config)?;
    let loss_kind = config.plan.loss;
    let backprop = Backprop::new(
        &config.arch,
        &config.data,
        loss_kind,
        &device,
        config.plan.precision,
    );
    let eval = backprop.evaluate(&config.initial);
    if args.run.json {
        let precision = config.plan.precision;
        let predictions: Vec<Vec<f64>> = eval
            .predictions
            .iter()
            .map(|row| row.iter().map(|&p| exact(p, precision)).collect())
            .collect();
        return print_json(&json!({
            "backend": config.backend.name(),
            "dtype": config.plan.precision.name(),
            "loss_function": loss_kind.name(),
            "predictions": predictions,
            "loss": exact(eval.loss, precision),
        }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "Evaluating {}.", describe_run(&config))?;
    writeln!(out)?;
    let (inputs, outputs) = (config.data.inputs(), config.data.outputs());
    let mut header: Vec<String> = column_names("input", inputs);
    for kind in ["observed", "predicted", "residual"] {
        header.extend(column_names(kind, outputs));
    }
    writeln!(out, "{}", row(&header))?;
    for (i, predicted) in eval.predictions.iter().enumerate() {
        let observed = config.data.output_row(i);
        let mut cells: Vec<String> = config.data.input_row(i).iter().map(|x| num(*x)).collect();
        cells.extend(observed.iter().map(|x| num(*x)));
        cells.extend(predicted.iter().map(|x| num(*x)));
        cells.extend(observed.iter().zip(predicted).map(|(o, p)| num(o - p)));
        writeln!(out, "{}", row(&cells))?;
    }
    writeln!(out)?;
    writeln!(out, "{} = {}", loss_kind.symbol(), num(eval.loss))?;
    Ok(())
}

/// `input` for one column, `input1`, `input2`, … for several.
fn column_names(kind: &str, count: usize) -> Vec<String> {
    if count == 1 {
        vec![kind.to_string()]
    } else {
        (1..=count).map(|i| format!("{kind}{i}")).collect()
    }
}

fn row(cells: &[String]) -> String {
    cells.iter().map(|c| cell(c)).collect()
}
