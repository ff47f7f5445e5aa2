//! Training by epochs as the terminal shows it: the first line, one line per epoch, a
//! progress bar on stderr when it is a terminal, the summary table, and `--json`.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use serde_json::json;
use squiggle_model::Named;
use squiggle_train::{
    BatchProgress, EpochReport, Metrics, Outcome, Progress, STALLED_R2, StopReason, TrainMetrics,
    Verdict,
};

use super::classes::share;
use super::print_lines;
use squiggle_config::{Config, DataRead};
use squiggle_train::format::{num, param_lines, params_json, plural};

/// `Streaming d.csv by epochs (read once per epoch, not held): a shuffle buffer of 100,000
/// rows, validation rows held out row by row.`
pub fn streaming(stream: &squiggle_train::Stream) -> String {
    let valid = if stream.valid_len() > 0 {
        ", validation rows held out row by row (a hash of the row's number and the seed)"
    } else {
        ""
    };
    format!(
        "Streaming {} by epochs (read once per epoch, not held): a shuffle buffer of {} rows{valid}.",
        stream.path().display(),
        squiggle_train::format::thousands(stream.shuffle_buffer()),
    )
}

/// `Training a 10-[4]-1 softplus network on 354 rows (88 validation) by epochs, …`, how long
/// reading the data took, and a line about the resume when there is one.
pub fn intro(
    config: &Config,
    train_rows: usize,
    valid_rows: usize,
    read: Option<DataRead>,
    resumed: Option<&Progress>,
) -> Vec<String> {
    let plan = config
        .plan
        .epoch_plan()
        .expect("the epoch lines show training by epochs");
    let batch = plan
        .batch_size
        .map_or_else(|| "full batch".to_string(), |b| format!("batches of {b}"));
    let mut lines = vec![format!(
        "Training a {} network on {} ({} validation) by epochs, {batch}, {} loss, {} {}.",
        config.arch.describe(),
        match train_rows {
            1 => "1 row".to_string(),
            n => format!("{} rows", squiggle_train::format::thousands(n)),
        },
        squiggle_train::format::thousands(valid_rows),
        config.plan.loss().symbol(),
        config.plan.optimizer(),
        crate::session::computed_by(config),
    )];
    lines.extend(read.as_ref().map(read_line));
    lines.push(match plan.train_metrics {
        TrainMetrics::Running => "Training metrics are running averages over each epoch's batches (each before its update); train_metrics = \"full\" measures the parameters after the epoch.".to_string(),
        TrainMetrics::Full => "Training metrics are measured on every training row after each epoch.".to_string(),
    });
    // A resume with nothing left to do says so in its summary instead.
    match resumed.filter(|p| p.epoch < plan.epochs) {
        Some(Progress {
            epoch,
            within: Some(within),
            ..
        }) => lines.push(format!(
            "Resuming inside epoch {} of {}, after {} of its rows.",
            epoch + 1,
            plan.epochs,
            squiggle_train::format::thousands(within.rows as usize)
        )),
        Some(p) => lines.push(format!(
            "Resuming after epoch {} of {}.",
            p.epoch, plan.epochs
        )),
        None => {}
    }
    lines
}

/// `Read 196 rows in 0.01 s (…); left out 4 with a missing value.`: how long reading took,
/// and what was done about missing values.
pub fn read_line(read: &DataRead) -> String {
    let mut dropped = match read.dropped {
        0 => String::new(),
        n => format!(
            "; left out {} with a missing value",
            squiggle_train::format::thousands(n as usize)
        ),
    };
    if read.filled > 0 {
        dropped += &format!(
            "; filled {} missing input{} with {} column's mean",
            squiggle_train::format::thousands(read.filled as usize),
            if read.filled == 1 { "" } else { "s" },
            if read.filled == 1 { "its" } else { "their" },
        );
    }
    format!(
        "Read {} row{} in {:.2} s ({} rows/s){dropped}.",
        squiggle_train::format::thousands(read.rows),
        if read.rows == 1 { "" } else { "s" },
        read.seconds,
        rate(read.rows as f64 / read.seconds.max(1e-9))
    )
}

/// `epoch  3/20  lr 0.1  train loss 0.01234  valid loss 0.0145  valid R² 0.512  1.2M rows/s *`
pub fn line(r: &EpochReport) -> String {
    let width = r.epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{}  lr {}  train loss {}",
        r.epoch,
        r.epochs,
        num(r.learning_rate),
        num(r.train_loss)
    );
    match (r.valid_loss, &r.valid, r.train.accuracy) {
        (Some(loss), Some(m), Some(accuracy)) => {
            line += &format!(
                "  accuracy {}  valid loss {}  valid accuracy {}",
                share(Some(accuracy)),
                num(loss),
                share(m.accuracy)
            )
        }
        (_, _, Some(accuracy)) => line += &format!("  accuracy {}", share(Some(accuracy))),
        (Some(loss), Some(m), None) => {
            line += &format!("  valid loss {}  valid R² {}", num(loss), r2(m.r2))
        }
        _ => line += &format!("  R² {}", r2(r.train.r2)),
    }
    line += &format!("  {} rows/s", rate(r.rows_per_second));
    if r.best {
        line += "  *";
    }
    line
}

/// `1.2M`, `84.0k`, `950`.
/// R² as printed: `n/a` where it is undefined (targets that do not vary, as in one row).
fn r2(x: f64) -> String {
    if x.is_nan() {
        "n/a".to_string()
    } else {
        num(x)
    }
}

fn rate(x: f64) -> String {
    match x {
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// The lines after the last epoch: why it stopped, the metrics of the last and the best
/// epochs, a classifier's confusion matrices after the last epoch, the final parameters of
/// small networks, and where the run is kept.
pub fn summary(config: &Config, outcome: &Outcome, kept_in: Option<String>) -> Vec<String> {
    let plan = config
        .plan
        .epoch_plan()
        .expect("the epoch summary shows training by epochs");
    let summary = outcome.epochs().expect("a run by epochs");
    let mut lines = Vec::new();
    if let Some(d) = &summary.divergence {
        lines.push(format!(
            "Diverged in epoch {}: the loss became {}. Try a smaller learning_rate.",
            d.epoch, d.value
        ));
    }
    let Some(last) = &summary.last else {
        if summary.divergence.is_some() {
            lines.extend(parameter_lines(
                config,
                outcome,
                "The initial parameters:".into(),
            ));
            lines.extend(kept_in);
            return lines;
        }
        lines.push(format!(
            "Nothing to do: the run already has {} of {} epochs (pass a larger --epochs to go on).",
            summary.epochs, plan.epochs
        ));
        return lines;
    };
    lines.push(match outcome.stop {
        StopReason::Diverged => format!("Stopped after {}.", plural(summary.epochs, "epoch")),
        StopReason::EarlyStopping { best_epoch } => format!(
            "Stopped early after epoch {}: no better {} loss for {} epochs (best: epoch {best_epoch}).",
            summary.epochs,
            if last.valid.is_none() { "training" } else { "validation" },
            plan.patience.unwrap_or(0),
        ),
        _ => format!("Stopped after {}.", plural(summary.epochs, "epoch")),
    });
    let confusions = super::classes::of_report(last);
    // The watched split's (validation, else training) gain over the most common class.
    if let Some((split, c)) = confusions.last()
        && c.gain() < STALLED_R2
        && summary.divergence.is_none()
    {
        let (class, base_share) = c.majority();
        lines.push(format!(
            "{}: the {} accuracy is {}, no better than always predicting `{}` ({}). Try another learning_rate, more epochs, or initializer = \"glorot\".",
            if outcome.verdict == Verdict::Stalled { "Stalled" } else { "Not fitted yet" },
            if *split == "valid" { "validation" } else { "training" },
            share(Some(c.accuracy())),
            c.classes[class],
            share(Some(base_share)),
        ));
    }
    let watched = last.valid.unwrap_or(last.train).r2;
    if watched < STALLED_R2 && summary.divergence.is_none() {
        let which = if last.valid.is_some() {
            "validation"
        } else {
            "training"
        };
        lines.push(format!(
            "{}: the {which} R² is {}, no better than predicting the mean. Try another learning_rate, more epochs, or initializer = \"glorot\".",
            if outcome.verdict == Verdict::Stalled { "Stalled" } else { "Not fitted yet" },
            num(watched)
        ));
    }
    let best = summary
        .best_report
        .as_ref()
        .filter(|b| b.epoch != last.epoch);
    // Rows named by the epoch whose parameters they measure: the last one, and the best one
    // (what best.ckpt holds) when that is another.
    let pad = " ".repeat(27);
    if last.train.accuracy.is_some() {
        lines.push(format!("{pad}loss         accuracy"));
    } else {
        lines.push(format!("{pad}MSE          RMSE         MAE          R²"));
    }
    for (mark, report) in [("", Some(last)), (" (best)", best)] {
        let Some(r) = report else { continue };
        for (split, m) in [("train", Some(&r.train)), ("valid", r.valid.as_ref())] {
            if let Some(m) = m {
                let label = format!("{split}, epoch {}{mark}", r.epoch);
                if let Some(accuracy) = m.accuracy {
                    let loss = if split == "train" {
                        Some(r.train_loss)
                    } else {
                        r.valid_loss
                    };
                    lines.push(format!(
                        "  {label:<24} {:<12} {}",
                        loss.map_or_else(String::new, num),
                        share(Some(accuracy))
                    ));
                    continue;
                }
                lines.push(format!(
                    "  {label:<24} {:<12} {:<12} {:<12} {}",
                    num(m.mse),
                    num(m.rmse),
                    num(m.mae),
                    r2(m.r2)
                ));
            }
        }
    }
    for (split, c) in &confusions {
        lines.push(String::new());
        lines.extend(super::classes::table(split, c));
    }
    if !confusions.is_empty() {
        lines.push(String::new());
    }
    let title = if summary.divergence.is_some() {
        format!(
            "The parameters after epoch {}, the last whose loss was finite:",
            last.epoch
        )
    } else {
        "Final parameters:".to_string()
    };
    lines.extend(parameter_lines(config, outcome, title));
    lines.extend(kept_in);
    lines
}

/// `title` and the run's parameters, for networks small enough to list.
fn parameter_lines(config: &Config, outcome: &Outcome, title: String) -> Vec<String> {
    if config.arch.num_params() > 32 {
        return Vec::new();
    }
    let frozen: Vec<bool> = config.plan.trainable().iter().map(|t| !t).collect();
    let mut lines = vec![title];
    for line in param_lines(&config.names, &outcome.params, &frozen) {
        lines.push(format!("  {line}"));
    }
    lines
}

/// What the fit plot of a finished run shows: the parameters after the last epoch, or
/// after the last finite one.
pub fn fit_label(outcome: &Outcome) -> String {
    let Some(summary) = outcome.epochs() else {
        return "after the last epoch".to_string();
    };
    match (&summary.divergence, &summary.last) {
        (None, _) => "after the last epoch".to_string(),
        (Some(_), Some(last)) => format!("after epoch {}, the last with a finite loss", last.epoch),
        (Some(_), None) => "at the initial parameters (epoch 1 diverged)".to_string(),
    }
}

/// Metrics as a JSON object.
pub fn metrics_json(m: &Metrics) -> serde_json::Value {
    if let Some(accuracy) = m.accuracy {
        return json!({ "accuracy": accuracy });
    }
    json!({"mse": m.mse, "rmse": m.rmse, "mae": m.mae, "r2": m.r2})
}

/// The `--json` summary of a run by epochs; `peak_memory_mb` only when asked for.
pub fn summary_json(config: &Config, outcome: &Outcome, report_memory: bool) -> serde_json::Value {
    let summary = outcome.epochs().expect("a run by epochs");
    let last = summary.last.as_ref();
    let mut value = json!({
        "epochs": summary.epochs,
        "stop_reason": outcome.stop.name(),
        "verdict": outcome.verdict.name(),
        "best_epoch": summary.best.map(|(_, e)| e),
        "best": summary.best_report.as_ref().map(|r| json!({
            "epoch": r.epoch,
            "train_loss": r.train_loss,
            "valid_loss": r.valid_loss,
            "train": metrics_json(&r.train),
            "valid": r.valid.as_ref().map(metrics_json),
        })),
        "train_loss": last.map(|r| r.train_loss),
        "valid_loss": last.and_then(|r| r.valid_loss),
        "train": last.map(|r| metrics_json(&r.train)),
        "valid": last.and_then(|r| r.valid.as_ref().map(metrics_json)),
        "backend": config.backend.name(),
        "kernels": config.plan.kernels().name(),
        "dtype": config.plan.precision().name(),
        "loss_function": config.plan.loss().name(),
        "params": params_json(&config.names, &outcome.params, config.plan.precision()),
    });
    for (split, c) in last.map(super::classes::of_report).unwrap_or_default() {
        value["confusion"][split] = super::classes::json(c);
    }
    if report_memory {
        value["peak_memory_mb"] = json!(peak_memory_mb());
    }
    value
}

/// The process's peak resident memory in MiB (Linux's VmHWM).
#[cfg(target_os = "linux")]
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// Elsewhere the peak is not measured: `null`.
#[cfg(not(target_os = "linux"))]
fn peak_memory_mb() -> Option<f64> {
    None
}

/// How often the progress bar asks for a batch loss (each one is a sync with the device).
const LOSS_EVERY: Duration = Duration::from_millis(100);

/// The progress bar on stderr (a terminal only): the epoch, the rows done, rows per second,
/// the time left in the epoch, and a running average of the batch losses read while it runs.
#[derive(Default)]
pub struct Bar {
    /// The current epoch's bar, created at its first batch.
    bar: Option<ProgressBar>,
    epoch: usize,
    started: Option<Instant>,
    /// Exponential average of the batch losses read in this epoch.
    running: Option<f64>,
    last_read: Option<Instant>,
}

impl Bar {
    /// Returns true when the next batch's loss would be shown (at most ten times a second).
    pub fn wants_loss(&mut self) -> bool {
        let due = self.last_read.is_none_or(|t| t.elapsed() >= LOSS_EVERY);
        if due {
            self.last_read = Some(Instant::now());
        }
        due
    }

    /// Shows `progress`.
    pub fn draw(&mut self, progress: &BatchProgress) {
        if let Some(loss) = progress.loss {
            self.running = Some(self.running.map_or(loss, |r| 0.7 * r + 0.3 * loss));
        }
        let bar = self.bar.get_or_insert_with(|| {
            let style = ProgressStyle::with_template(
                "epoch {prefix} [{bar:24}] {pos}/{len} rows  {msg}  eta {eta}",
            )
            .expect("the bar's template is valid")
            .progress_chars("#>.");
            let bar = ProgressBar::with_draw_target(
                Some(progress.total as u64),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            bar.set_style(style);
            bar.set_prefix(format!("{}/{}", progress.epoch + 1, progress.epochs));
            bar
        });
        self.epoch = progress.epoch;
        let started = *self.started.get_or_insert_with(Instant::now);
        // The speed is shown once there is a tenth of a second to measure it over.
        let seconds = started.elapsed().as_secs_f64();
        let speed = if seconds >= 0.1 {
            format!("{} rows/s", rate(progress.done as f64 / seconds))
        } else {
            "… rows/s".to_string()
        };
        let loss = self
            .running
            .map_or_else(String::new, |l| format!("  batch loss {}", num(l)));
        bar.set_message(format!("{speed}{loss}"));
        bar.set_position(progress.done as u64);
    }

    /// Clears the bar before an epoch's line.
    pub fn finish_epoch(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.started = None;
        self.running = None;
    }
}

/// Prints the lines of [`summary`].
///
/// # Errors
/// Stdout cannot be written.
pub fn print_summary(
    config: &Config,
    outcome: &Outcome,
    kept_in: Option<String>,
) -> anyhow::Result<()> {
    print_lines(&summary(config, outcome, kept_in))
}
