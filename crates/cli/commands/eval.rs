//! `squiggle eval`: a forward pass, as in "Neural Networks Pt. 1: Inside the Black Box"; for
//! a config that trains by epochs, the loss and metrics of the training and validation rows
//! as training measures them.

use serde_json::json;
use squiggle_model::{Named, Network};
use squiggle_train::{Backprop, Measured, measure};

use crate::args::EvalArgs;
use crate::config::Overrides;
use crate::output::epochs::metrics_json;
use crate::output::format::{cell, elision, exact, num, plural, shown_rows};
use crate::output::{print_json, print_lines};
use crate::session::Session;

/// Rows printed before the elision in long tables, and after it.
const HEAD_ROWS: usize = 10;
const TAIL_ROWS: usize = 5;

/// Prints each data point with its prediction, then the loss (by epochs: the metrics).
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.run, &args.select, Overrides::default())?;
    if session.config.by_epochs() {
        by_epochs(args, &session)
    } else {
        points(args, &session)
    }
}

fn points(args: &EvalArgs, session: &Session) -> anyhow::Result<()> {
    let config = &session.config;
    let data = session.data.data();
    let loss = config.plan.loss();
    let precision = config.plan.precision();
    let probe = Backprop::new(&config.arch, data, loss, &session.device, precision);
    let eval = probe.evaluate(&session.params)?;
    if args.run.json {
        let predictions: Vec<Vec<f64>> = eval
            .predictions
            .iter()
            .map(|row| row.iter().map(|&p| exact(p, precision)).collect())
            .collect();
        return print_json(&json!({
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "loss_function": loss.name(),
            "predictions": predictions,
            "loss": exact(eval.loss, precision),
        }));
    }
    let mut lines = vec![format!("Evaluating {}.", session.describe()), String::new()];
    let (inputs, outputs) = (data.inputs(), data.outputs());
    let mut header: Vec<String> = column_names("input", inputs);
    for kind in ["observed", "predicted", "residual"] {
        header.extend(column_names(kind, outputs));
    }
    lines.push(row(&header));
    let (shown, hidden) = shown_rows(data.len(), HEAD_ROWS, TAIL_ROWS, args.all_rows);
    for (k, &i) in shown.iter().enumerate() {
        if hidden > 0 && k == HEAD_ROWS {
            lines.push(elision(hidden, "row", "--all-rows"));
        }
        let predicted = &eval.predictions[i];
        let observed = data.output_row(i);
        let mut cells: Vec<String> = data.input_row(i).iter().map(|x| num(*x)).collect();
        cells.extend(observed.iter().map(|x| num(*x)));
        cells.extend(predicted.iter().map(|x| num(*x)));
        cells.extend(observed.iter().zip(predicted).map(|(o, p)| num(o - p)));
        lines.push(row(&cells));
    }
    lines.push(String::new());
    lines.push(format!("{} = {}", loss.symbol(), num(eval.loss)));
    print_lines(&lines)
}

fn by_epochs(args: &EvalArgs, session: &Session) -> anyhow::Result<()> {
    let config = &session.config;
    let data = &session.data;
    let precision = config.plan.precision();
    let net = Network::from_values(&config.arch, &session.params, &session.device, precision);
    let on = |rows_of, rows: &[u32]| -> anyhow::Result<(usize, Measured)> {
        let measured = measure(
            &net,
            rows_of,
            rows,
            data.scaling(),
            config.plan.loss(),
            precision,
            &session.device,
        )?;
        Ok((rows.len(), measured))
    };
    let train = on(data.data(), data.train_rows())?;
    let valid = data.valid().map(|(d, rows)| on(d, rows)).transpose()?;
    let symbol = config.plan.loss().symbol();
    if args.run.json {
        let split = |(rows, m): &(usize, Measured)| {
            let mut v = metrics_json(&m.metrics);
            v["rows"] = json!(rows);
            v["loss"] = json!(m.loss);
            v
        };
        return print_json(&json!({
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "loss_function": config.plan.loss().name(),
            "train": split(&train),
            "valid": valid.as_ref().map(split),
        }));
    }
    let mut lines = vec![
        format!("Evaluating {}.", session.describe()),
        format!(
            "The loss ({symbol}) is in the units the network trains in; MSE, RMSE, MAE and R² in the data's own."
        ),
        String::new(),
        format!(
            "{:<20}{}{}{}{}{}",
            "",
            cell(&format!("loss ({symbol})")),
            cell("MSE"),
            cell("RMSE"),
            cell("MAE"),
            cell("R²")
        ),
    ];
    for (split, measured) in [("train", Some(&train)), ("valid", valid.as_ref())] {
        let Some((rows, m)) = measured else { continue };
        let label = format!("{split} ({})", plural(*rows, "row"));
        let metrics = &m.metrics;
        lines.push(format!(
            "{label:<20}{}{}{}{}{}",
            cell(&num(m.loss)),
            cell(&num(metrics.mse)),
            cell(&num(metrics.rmse)),
            cell(&num(metrics.mae)),
            cell(&num(metrics.r2))
        ));
    }
    print_lines(&lines)
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
