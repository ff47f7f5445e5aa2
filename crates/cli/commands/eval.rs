//! `squiggle eval`: a forward pass, as in "Neural Networks Pt. 1: Inside the Black Box"; for
//! a config that trains by epochs, the loss and metrics of the training and validation rows
//! as training measures them.

use std::path::Path;

use serde_json::json;
use squiggle_model::{Named, Network};
use squiggle_train::{
    Backprop, Columns, Confusion, CsvOptions, Labels, LossKind, Measured, Metrics, Predictor,
    argmax, confusion, measure, read_csv, softmax,
};

use crate::args::{EvalArgs, RunArgs};
use crate::backend::{Backend, Open};
use crate::exit::CheckFailed;
use crate::output::classes;
use crate::output::epochs::metrics_json;
use crate::output::{print_json, print_lines};
use crate::run_dir;
use crate::session::Session;
use squiggle_config::Overrides;
use squiggle_train::format::{cell, elision, exact, num, plural, shown_rows};

/// Rows printed before the elision in long tables, and after it.
const HEAD_ROWS: usize = 10;
const TAIL_ROWS: usize = 5;

/// Prints each data point with its prediction, then the loss (by epochs: the metrics); with
/// `--run DIR --data FILE.csv`, the run's metrics on that file.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let config = match (&args.config, &args.select.dir, &args.data) {
        (_, Some(dir), Some(file)) => return labelled_file(args, dir, file),
        (Some(config), _, _) => config.clone(),
        (None, Some(dir), None) => run_dir::config_path(dir)?,
        (None, None, _) => anyhow::bail!("eval needs a config, or a run folder with --run"),
    };
    let run = RunArgs {
        config,
        flags: args.flags.clone(),
    };
    let session = Session::open(&run, &args.select, Overrides::default())?;
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
    let kernels = config.plan.kernels();
    let probe = Backprop::new(
        &config.arch,
        data,
        loss,
        &session.device,
        precision,
        kernels,
    );
    let eval = probe.evaluate(&session.params)?;
    if let Some(classes) = data.classes() {
        return classified_points(args, session, &eval.predictions, eval.loss, &classes.names);
    }
    if args.flags.json {
        let predictions: Vec<Vec<f64>> = eval
            .predictions
            .iter()
            .map(|row| row.iter().map(|&p| exact(p, precision)).collect())
            .collect();
        print_json(&json!({
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "kernels": kernels.name(),
            "loss_function": loss.name(),
            "predictions": predictions,
            "loss": exact(eval.loss, precision),
        }))?;
        return finite(eval.loss);
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
    print_lines(&lines)?;
    finite(eval.loss)
}

fn by_epochs(args: &EvalArgs, session: &Session) -> anyhow::Result<()> {
    let config = &session.config;
    let data = &session.data;
    let precision = config.plan.precision();
    let net = Network::from_values(&config.arch, &session.params, &session.device, precision);
    let predictor = Predictor {
        net: &net,
        kernels: config.plan.kernels(),
    };
    // A split's rows, loss and metrics, and a classifier's confusion matrix (measured once,
    // as training measures an epoch).
    type Split = (usize, Measured, Option<Confusion>);
    let on = |rows_of, rows: &[u32]| -> anyhow::Result<Split> {
        let loss = config.plan.loss();
        if loss.is_cross_entropy() {
            let c = confusion(predictor, rows_of, rows, precision, &session.device)?;
            return Ok((rows.len(), c.measured(loss), Some(c)));
        }
        let measured = measure(
            predictor,
            rows_of,
            rows,
            data.scaling(),
            loss,
            precision,
            &session.device,
        )?;
        Ok((rows.len(), measured, None))
    };
    let train = on(data.data(), data.train_rows())?;
    let valid = data.valid().map(|(d, rows)| on(d, rows)).transpose()?;
    let symbol = config.plan.loss().symbol();
    if args.flags.json {
        let split = |(rows, m, c): &Split| {
            let mut v = metrics_json(&m.metrics);
            v["rows"] = json!(rows);
            v["loss"] = json!(m.loss);
            if let Some(c) = c {
                v["confusion"] = classes::json(c);
            }
            v
        };
        print_json(&json!({
            "backend": config.backend.name(),
            "kernels": config.plan.kernels().name(),
            "dtype": precision.name(),
            "loss_function": config.plan.loss().name(),
            "train": split(&train),
            "valid": valid.as_ref().map(split),
        }))?;
        finite(train.1.loss)?;
        return valid.as_ref().map_or(Ok(()), |v| finite(v.1.loss));
    }
    let mut lines = vec![
        format!("Evaluating {}.", session.describe()),
        if data.data().classes().is_some() {
            format!(
                "The loss ({symbol}) is the cross entropy the network trains on; accuracy is the share of rows whose ArgMax is their class."
            )
        } else {
            format!(
                "The loss ({symbol}) is in the units the network trains in; MSE, RMSE, MAE and R² in the data's own."
            )
        },
        String::new(),
    ];
    let splits = [("train", Some(&train)), ("valid", valid.as_ref())];
    let rows: Vec<MetricsRow> = splits
        .into_iter()
        .filter_map(|(split, measured)| {
            let (rows, m, _) = measured?;
            Some(MetricsRow {
                label: format!("{split} ({})", plural(*rows, "row")),
                loss: Some(m.loss),
                metrics: &m.metrics,
            })
        })
        .collect();
    lines.extend(metrics_table(Some(symbol), &rows));
    for (split, measured) in [("train", Some(&train)), ("valid", valid.as_ref())] {
        if let Some((_, _, Some(c))) = measured {
            lines.push(String::new());
            lines.extend(classes::table(split, c));
        }
    }
    print_lines(&lines)?;
    finite(train.1.loss)?;
    valid.as_ref().map_or(Ok(()), |v| finite(v.1.loss))
}

/// `--run DIR --data FILE.csv`: the run's checkpoint on a labelled file of its columns, in the
/// data's own units. Only the checkpoint is read, as `predict` does: the run's training data
/// may be gone.
fn labelled_file(args: &EvalArgs, dir: &Path, file: &Path) -> anyhow::Result<()> {
    let (path, checkpoint) = run_dir::load_checkpoint(dir, !args.select.last)?;
    let network = &checkpoint.meta.network;
    let backend = args.flags.backend.unwrap_or(Backend::Flex);
    let kernels = args.flags.kernels.unwrap_or_default();
    let device = backend.device()?;
    let net = checkpoint
        .network(&device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (inputs, categorical) = network.input_columns();
    let columns = match &network.classes {
        Some(classes) => Columns {
            inputs: Some(inputs),
            categorical,
            targets: Some(vec![classes.column.clone()]),
            labels: Some(Labels::Known {
                names: classes.names.clone(),
                from: "run's",
            }),
            ..Columns::default()
        },
        None => Columns {
            inputs: Some(inputs),
            categorical,
            targets: Some(network.targets.clone()),
            ..Columns::default()
        },
    };
    let options = CsvOptions {
        delimiter: args.delimiter.unwrap_or(b','),
        ..CsvOptions::filled_as(network.fill.as_ref(), crate::memory::available())
    };
    let mut data = read_csv(file, &columns, &options)?;
    let scaling = checkpoint.meta.scaling.as_ref();
    if let Some(s) = scaling {
        s.apply(&mut data);
    }
    let rows: Vec<u32> = (0..data.len() as u32).collect();
    let epoch = checkpoint.meta.progress.epoch;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // What is scored: a classifier's confusion matrix, or the regression metrics (in original
    // units whatever the loss; the loss itself is not shown).
    let (mut scored, what, table, value) = if network.classes.is_some() {
        let predictor = Predictor { net: &net, kernels };
        let c = confusion(predictor, &data, &rows, network.precision, &device)?;
        let mut table = classes::table(&name, &c);
        // The loss beside the counts: how sure the right answers were, not only how often.
        let mean = c.cross_entropy / rows.len().max(1) as f64;
        table.push(format!(
            "cross entropy {} a row ({} over {})",
            num(mean),
            num(c.cross_entropy),
            plural(rows.len(), "row")
        ));
        let mut scored = classes::json(&c);
        scored["mean_cross_entropy"] = json!(mean);
        (scored, "classifier", table, c.cross_entropy)
    } else {
        let predictor = Predictor { net: &net, kernels };
        let measured = measure(
            predictor,
            &data,
            &rows,
            scaling,
            LossKind::Mse,
            network.precision,
            &device,
        )?;
        let mut scored = metrics_json(&measured.metrics);
        scored["rows"] = json!(rows.len());
        let mut table = vec![
            "MSE, RMSE, MAE and R² in the data's own units.".to_string(),
            String::new(),
        ];
        table.extend(metrics_table(
            None,
            &[MetricsRow {
                label: format!("{name} ({})", plural(rows.len(), "row")),
                loss: None,
                metrics: &measured.metrics,
            }],
        ));
        (scored, "network", table, measured.metrics.mse)
    };
    if args.flags.json {
        scored["file"] = json!(file.display().to_string());
        print_json(&json!({
            "backend": backend.name(),
            "dtype": network.precision.name(),
            "kernels": kernels.name(),
            "checkpoint": path.display().to_string(),
            "epoch": epoch,
            "data": scored,
        }))?;
        return finite(value);
    }
    let mut lines = vec![format!(
        "Scoring the {} {what} of {} (epoch {epoch}) on {} ({}, {}, {}).",
        network.architecture()?.describe(),
        path.display(),
        file.display(),
        backend,
        network.precision,
        kernels.label()
    )];
    if network.classes.is_some() {
        lines.push(String::new());
    }
    lines.extend(table);
    print_lines(&lines)?;
    finite(value)
}

/// Fails (exit 1, after the numbers were shown) when a loss is not a number: the network's
/// outputs overflowed, which no caller should take for a result.
fn finite(loss: f64) -> anyhow::Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    Err(CheckFailed(format!(
        "the loss is {loss}: the network's outputs are not finite numbers on these rows (check its parameters)"
    ))
    .into())
}

/// One row of a metrics table: a label, the loss in training units if shown, the metrics.
struct MetricsRow<'a> {
    label: String,
    loss: Option<f64>,
    metrics: &'a Metrics,
}

/// The header and rows of a metrics table; with `loss` (its symbol), a loss column first.
fn metrics_table(loss: Option<&str>, rows: &[MetricsRow]) -> Vec<String> {
    let width = rows
        .iter()
        .map(|r| r.label.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .max(20);
    let mut header = format!("{:<width$}", "");
    if let Some(symbol) = loss {
        header += &cell(&format!("loss ({symbol})"));
    }
    let classifier = rows.iter().any(|r| r.metrics.accuracy.is_some());
    let titles: &[&str] = if classifier {
        &["accuracy"]
    } else {
        &["MSE", "RMSE", "MAE", "R²"]
    };
    for title in titles {
        header += &cell(title);
    }
    let mut lines = vec![header];
    for row in rows {
        let mut line = format!("{:<width$}", row.label);
        if let Some(l) = row.loss {
            line += &cell(&num(l));
        }
        let m = row.metrics;
        if classifier {
            line += &cell(&classes::share(m.accuracy));
        } else {
            for x in [m.mse, m.rmse, m.mae, m.r2] {
                line += &cell(&num(x));
            }
        }
        lines.push(line);
    }
    lines
}

/// A classifier's points: each one's inputs, true class, SoftMax probability of every class
/// and the ArgMax ("Neural Networks Pt. 5"), then the cross entropy and the accuracy.
fn classified_points(
    args: &EvalArgs,
    session: &Session,
    raw: &[Vec<f64>],
    loss: f64,
    names: &[String],
) -> anyhow::Result<()> {
    let config = &session.config;
    let data = session.data.data();
    let precision = config.plan.precision();
    let probabilities: Vec<Vec<f64>> = raw.iter().map(|z| softmax(z)).collect();
    let predicted: Vec<usize> = raw.iter().map(|z| argmax(z)).collect();
    let right = (0..data.len())
        .filter(|&i| predicted[i] == data.label(i))
        .count();
    let accuracy = right as f64 / data.len().max(1) as f64;
    if args.flags.json {
        let points: Vec<serde_json::Value> = (0..data.len())
            .map(|i| {
                json!({
                    "inputs": data.input_row(i),
                    "class": names[data.label(i)],
                    "raw": raw[i].iter().map(|&z| exact(z, precision)).collect::<Vec<_>>(),
                    "probabilities": probabilities[i],
                    "predicted": names[predicted[i]],
                })
            })
            .collect();
        print_json(&json!({
            "backend": config.backend.name(),
            "kernels": config.plan.kernels().name(),
            "dtype": precision.name(),
            "loss_function": config.plan.loss().name(),
            "classes": names,
            "points": points,
            "loss": exact(loss, precision),
            "accuracy": accuracy,
        }))?;
        return finite(loss);
    }
    let mut lines = vec![format!("Evaluating {}.", session.describe()), String::new()];
    let mut header: Vec<String> = column_names("input", data.inputs());
    header.push("class".to_string());
    header.extend(names.iter().map(|n| format!("p({n})")));
    header.push("ArgMax".to_string());
    lines.push(row(&header));
    let (shown, hidden) = shown_rows(data.len(), HEAD_ROWS, TAIL_ROWS, args.all_rows);
    for (k, &i) in shown.iter().enumerate() {
        if hidden > 0 && k == HEAD_ROWS {
            lines.push(elision(hidden, "row", "--all-rows"));
        }
        let mut cells: Vec<String> = data.input_row(i).iter().map(|x| num(*x)).collect();
        cells.push(names[data.label(i)].clone());
        cells.extend(probabilities[i].iter().map(|p| num(*p)));
        cells.push(names[predicted[i]].clone());
        lines.push(row(&cells));
    }
    lines.push(String::new());
    lines.push(format!(
        "{} = {}   accuracy {} ({right} of {})",
        config.plan.loss().symbol(),
        num(loss),
        classes::share(Some(accuracy)),
        data.len()
    ));
    print_lines(&lines)?;
    finite(loss)
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
