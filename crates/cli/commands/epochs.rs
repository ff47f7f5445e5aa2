//! `squiggle train` for configs with `[train] epochs`: mini-batches, validation, metrics,
//! run folders, checkpoints and resuming.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use serde_json::json;
use squiggle_train::{
    EpochReport, FitObserver, FitOutcome, FitPlan, FitState, FitStop, Metrics, Rows, Scaling,
    Split, Splits, Start, fit,
};

use super::print_json;
use crate::args::TrainArgs;
use crate::config::{Config, Valid};
use crate::format::{num, param_lines, params_json};
use crate::run_dir::{self, RunDir};

/// Trains by epochs, printing one line per epoch (and a progress bar on a terminal).
pub fn run(args: &TrainArgs, mut config: Config, plan: FitPlan) -> anyhow::Result<()> {
    let device = super::device(&config)?;
    let resumed = match &args.resume {
        Some(dir) => Some(run_dir::load_checkpoint(dir, false)?),
        None => None,
    };
    if let Some((path, checkpoint)) = &resumed {
        run_dir::check_compatible(path, checkpoint, &config)?;
    }
    let dir = match (&args.run_dir, &args.resume) {
        (Some(dir), _) | (None, Some(dir)) => Some(RunDir::open(
            dir,
            &config,
            resumed.as_ref().map(|(_, c)| c.progress.epoch),
        )?),
        (None, None) => None,
    };

    // Split, then standardise with statistics of the training rows only.
    let Split {
        train,
        valid: held_out,
    } = match &config.valid {
        Valid::Fraction(f) => Split::random(config.data.len(), *f, config.seed),
        _ => Split::all(config.data.len()),
    };
    let scaling = match (&resumed, config.standardize) {
        (Some((_, c)), _) => c.scaling.clone(),
        (None, true) => Some(Scaling::fit(&config.data, &train)),
        (None, false) => None,
    };
    if let Some(s) = &scaling {
        s.apply(&mut config.data);
        if let Valid::Data(valid, _) = &mut config.valid {
            s.apply(valid);
        }
    }
    let valid = match &config.valid {
        Valid::None => None,
        Valid::Fraction(_) => Some(Rows {
            data: &config.data,
            rows: held_out,
        }),
        Valid::Data(valid, _) => Some(Rows {
            data: valid,
            rows: Split::all(valid.len()).train,
        }),
    };
    let train_rows = train.len();
    let valid_rows = valid.as_ref().map_or(0, |v| v.rows.len());
    let start = match resumed {
        Some((_, checkpoint)) => Start::Resume(Box::new(checkpoint)),
        None => Start::Fresh(config.initial.clone()),
    };
    let mut observer = Observer {
        config: &config,
        json: args.run.json,
        dir,
        bar: (!args.run.json && std::io::stderr().is_terminal()).then(Bar::new),
    };
    if !args.run.json {
        observer.print_intro(&plan, train_rows, valid_rows, &start)?;
    }
    let splits = Splits {
        train: Rows {
            data: &config.data,
            rows: train,
        },
        valid,
        scaling: scaling.as_ref(),
    };
    let outcome = fit(&config.arch, start, splits, &plan, &device, &mut observer)?;
    if args.run.json {
        print_json(&summary_json(&config, &plan, &outcome))
    } else {
        observer.print_summary(&plan, &outcome)
    }
}

/// Writes what each epoch produced: the line, the metrics row, the checkpoints.
struct Observer<'a> {
    config: &'a Config,
    json: bool,
    dir: Option<RunDir>,
    bar: Option<Bar>,
}

impl Observer<'_> {
    fn print_intro(
        &self,
        plan: &FitPlan,
        train_rows: usize,
        valid_rows: usize,
        start: &Start,
    ) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        let batch = plan
            .batch_size
            .map_or_else(|| "full batch".to_string(), |b| format!("batches of {b}"));
        writeln!(
            out,
            "Training a {} network on {train_rows} rows ({valid_rows} validation) by epochs, {batch}, {} loss ({}, {}).",
            self.config.arch.describe(),
            plan.loss.symbol(),
            self.config.backend,
            plan.precision,
        )?;
        if let Start::Resume(c) = start {
            writeln!(
                out,
                "Resuming after epoch {} of {}.",
                c.progress.epoch, plan.epochs
            )?;
        }
        Ok(())
    }

    fn print_summary(&self, plan: &FitPlan, outcome: &FitOutcome) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if outcome.last.is_none() {
            writeln!(
                out,
                "Nothing to do: the run already has {} of {} epochs (pass a larger --epochs to go on).",
                outcome.epochs, plan.epochs
            )?;
            return Ok(());
        }
        match outcome.stop {
            FitStop::Epochs => writeln!(out, "Stopped after {} epochs.", outcome.epochs)?,
            FitStop::EarlyStopping { best_epoch } => writeln!(
                out,
                "Stopped early after epoch {}: no better {} loss for {} epochs (best: epoch {best_epoch}).",
                outcome.epochs,
                if self.config.valid.is_none() {
                    "training"
                } else {
                    "validation"
                },
                plan.patience.unwrap_or(0),
            )?,
        }
        let best = outcome
            .best_report
            .as_ref()
            .filter(|b| outcome.last.as_ref().is_some_and(|l| l.epoch != b.epoch));
        writeln!(
            out,
            "                    MSE          RMSE         MAE          R²"
        )?;
        for (when, report) in [("last", outcome.last.as_ref()), ("best", best)] {
            let Some(r) = report else { continue };
            for (split, m) in [("train", Some(&r.train)), ("valid", r.valid.as_ref())] {
                if let Some(m) = m {
                    let label = format!("{split} ({when} {})", r.epoch);
                    writeln!(
                        out,
                        "  {label:<17} {:<12} {:<12} {:<12} {}",
                        num(m.mse),
                        num(m.rmse),
                        num(m.mae),
                        num(m.r2)
                    )?;
                }
            }
        }
        if self.config.arch.num_params() <= 32 {
            writeln!(out, "Final parameters:")?;
            let frozen: Vec<bool> = plan.trainable.iter().map(|t| !t).collect();
            for line in param_lines(&self.config.names, &outcome.params, &frozen) {
                writeln!(out, "  {line}")?;
            }
        }
        if let Some(dir) = &self.dir {
            writeln!(
                out,
                "Run kept in {} (config.toml, metrics.csv, last.ckpt{}).",
                dir.path().display(),
                if dir.path().join(run_dir::BEST).exists() {
                    ", best.ckpt"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

impl FitObserver for Observer<'_> {
    type Error = anyhow::Error;

    fn batch(&mut self, epoch: usize, done: usize, total: usize) {
        if let Some(bar) = &mut self.bar {
            bar.draw(
                epoch,
                self.config.fit.as_ref().map_or(0, |p| p.epochs),
                done,
                total,
            );
        }
    }

    fn epoch(&mut self, report: &EpochReport, state: &FitState<'_>) -> anyhow::Result<()> {
        if let Some(bar) = &mut self.bar {
            bar.clear();
            bar.loss = Some(report.train_loss);
        }
        if let Some(dir) = &mut self.dir {
            dir.record(report, || state.checkpoint(run_dir::meta(self.config)))?;
        }
        if !self.json {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", epoch_line(report))?;
            out.flush()?;
        }
        Ok(())
    }
}

/// `epoch  3/20  lr 0.1  train 0.01234  valid 0.0145  R² 0.512  1.2M rows/s *`
fn epoch_line(r: &EpochReport) -> String {
    let width = r.epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{}  lr {}  train loss {}",
        r.epoch,
        r.epochs,
        num(r.learning_rate),
        num(r.train_loss)
    );
    match (r.valid_loss, &r.valid) {
        (Some(loss), Some(m)) => {
            line += &format!("  valid loss {}  valid R² {}", num(loss), num(m.r2))
        }
        _ => line += &format!("  R² {}", num(r.train.r2)),
    }
    line += &format!("  {} rows/s", rate(r.rows_per_second));
    if r.best {
        line += "  *";
    }
    line
}

fn rate(x: f64) -> String {
    match x {
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

fn metrics_json(m: &Metrics) -> serde_json::Value {
    json!({"mse": m.mse, "rmse": m.rmse, "mae": m.mae, "r2": m.r2})
}

fn summary_json(config: &Config, plan: &FitPlan, outcome: &FitOutcome) -> serde_json::Value {
    let last = outcome.last.as_ref();
    json!({
        "epochs": outcome.epochs,
        "stop_reason": match outcome.stop {
            FitStop::Epochs => "epochs",
            FitStop::EarlyStopping { .. } => "early_stopping",
        },
        "best_epoch": outcome.best.map(|(_, e)| e),
        "best": outcome.best_report.as_ref().map(|r| json!({
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
        "dtype": plan.precision.name(),
        "loss_function": plan.loss.name(),
        "peak_memory_mb": peak_memory_mb(),
        "params": params_json(&config.arch, &config.names, &outcome.params, plan.precision),
    })
}

/// The process's peak resident memory in MiB (Linux's VmHWM), if the system reports it.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

/// A one-line progress bar on stderr, redrawn at most ten times a second: the epoch, the
/// rows done, the speed, and the training loss after the previous epoch.
struct Bar {
    last: Option<Instant>,
    started: Instant,
    epoch: usize,
    loss: Option<f64>,
}

impl Bar {
    fn new() -> Self {
        Self {
            last: None,
            started: Instant::now(),
            epoch: usize::MAX,
            loss: None,
        }
    }

    fn draw(&mut self, epoch: usize, epochs: usize, done: usize, total: usize) {
        if epoch != self.epoch {
            self.epoch = epoch;
            self.started = Instant::now();
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t).as_millis() < 100)
            && done < total
        {
            return;
        }
        self.last = Some(now);
        const WIDTH: usize = 30;
        let filled = WIDTH * done / total.max(1);
        let speed = done as f64 / now.duration_since(self.started).as_secs_f64().max(1e-9);
        let loss = self
            .loss
            .map_or_else(String::new, |l| format!("  loss {}", num(l)));
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2Kepoch {}/{epochs} [{}{}] {done}/{total} rows  {} rows/s{loss}",
            epoch + 1,
            "#".repeat(filled),
            ".".repeat(WIDTH - filled),
            rate(speed)
        );
    }

    fn clear(&mut self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}
