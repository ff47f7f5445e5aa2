//! The layout of a run folder's `metrics.csv` (one row per epoch) and `confusion.csv` (a
//! classifier's confusion matrices), written and read back.

use std::path::Path;

use anyhow::bail;
use squiggle_train::{Confusion, EpochReport, Metrics};

use super::*;

pub(super) const METRICS_HEADER: &str = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second,train_accuracy,valid_accuracy";

/// The header before classifiers (no accuracy columns): such runs still resume and plot.
pub(super) const METRICS_HEADER_V1: &str = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second";

/// `epoch,split,class,rows,precision,recall,predicted_<class>…`: the layout of
/// `confusion.csv`, one row per true class (long, so any tool can filter it by epoch).
pub(super) fn confusion_header(c: &Confusion) -> String {
    let mut header = "epoch,split,class,rows,precision,recall".to_string();
    for name in &c.classes {
        header += &format!(",{}", field(&format!("predicted_{name}")));
    }
    header
}

/// `text` as one CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line
/// break, as a class label read from a quoted cell may.
pub(super) fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The rows of `confusion.csv` for one split of one epoch: each true class, its row count,
/// precision and recall (empty when undefined), and how its rows were predicted.
pub(super) fn confusion_rows(epoch: usize, split: &str, c: &Confusion) -> Vec<String> {
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    c.classes
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let counts: Vec<String> = c.counts[k].iter().map(u64::to_string).collect();
            format!(
                "{epoch},{split},{},{},{},{},{}",
                field(name),
                c.counts[k].iter().sum::<u64>(),
                opt(c.precision(k)),
                opt(c.recall(k)),
                counts.join(",")
            )
        })
        .collect()
}

pub(super) fn metrics_row(r: &EpochReport) -> String {
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let valid = r.valid.as_ref();
    [
        r.epoch.to_string(),
        r.learning_rate.to_string(),
        r.train_loss.to_string(),
        opt(r.valid_loss),
        r.train.mse.to_string(),
        r.train.rmse.to_string(),
        r.train.mae.to_string(),
        r.train.r2.to_string(),
        opt(valid.map(|m| m.mse)),
        opt(valid.map(|m| m.rmse)),
        opt(valid.map(|m| m.mae)),
        opt(valid.map(|m| m.r2)),
        format!("{:.6}", r.seconds),
        format!("{:.0}", r.rows_per_second),
        opt(r.train.accuracy),
        opt(valid.and_then(|m| m.accuracy)),
    ]
    .join(",")
}

/// Reads the epoch reports of a run's `metrics.csv` back (for plots of a finished run).
///
/// # Errors
/// A missing file, or a row that is not one squiggle wrote, naming the file and line.
pub fn read_metrics(dir: &Path) -> anyhow::Result<Vec<EpochReport>> {
    let path = dir.join(METRICS);
    parse_metrics(&path, &read_run_file(&path)?)
}

/// The epochs of the metrics file `path` whose text is `text`.
///
/// # Errors
/// See [`read_metrics`].
pub fn parse_metrics(path: &Path, text: &str) -> anyhow::Result<Vec<EpochReport>> {
    let mut lines = text.lines();
    let columns = match lines.next() {
        Some(METRICS_HEADER) => METRICS_HEADER.split(',').count(),
        Some(METRICS_HEADER_V1) => METRICS_HEADER_V1.split(',').count(),
        _ => bail!(
            "{}:1: not a squiggle metrics file (unexpected header)",
            path.display()
        ),
    };
    let mut reports: Vec<EpochReport> = Vec::new();
    for (i, line) in lines.enumerate() {
        let bad = || anyhow::anyhow!("{}:{}: not a metrics row", path.display(), i + 2);
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != columns {
            return Err(bad());
        }
        let number = |k: usize| cells[k].parse::<f64>().map_err(|_| bad());
        let optional = |k: usize| -> anyhow::Result<Option<f64>> {
            if cells[k].is_empty() {
                Ok(None)
            } else {
                number(k).map(Some)
            }
        };
        // The accuracy of the train (0) or validation (1) rows, when the file has it.
        let accuracy = |which: usize| match columns > 14 {
            true => optional(14 + which),
            false => Ok(None),
        };
        let metrics = |k: usize, which: usize| -> anyhow::Result<Option<Metrics>> {
            Ok(
                match (
                    optional(k)?,
                    optional(k + 1)?,
                    optional(k + 2)?,
                    optional(k + 3)?,
                ) {
                    (Some(mse), Some(rmse), Some(mae), Some(r2)) => Some(Metrics {
                        mse,
                        rmse,
                        mae,
                        r2,
                        accuracy: accuracy(which)?,
                    }),
                    _ => None,
                },
            )
        };
        reports.push(EpochReport {
            epoch: cells[0].parse().map_err(|_| bad())?,
            epochs: 0,
            learning_rate: number(1)?,
            train_loss: number(2)?,
            valid_loss: optional(3)?,
            train: metrics(4, 0)?.ok_or_else(bad)?,
            valid: metrics(8, 1)?,
            train_confusion: None,
            valid_confusion: None,
            seconds: number(12)?,
            rows_per_second: number(13)?,
            best: false,
            stop: None,
        });
    }
    let epochs = reports.last().map_or(0, |r| r.epoch);
    for r in &mut reports {
        r.epochs = epochs;
    }
    Ok(reports)
}
