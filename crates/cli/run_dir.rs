//! Run folders (`--run-dir`): the resolved config, `metrics.csv`, and the last and best
//! checkpoints, every file replaced atomically so that a crash at any moment leaves a
//! folder a run can resume from.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::json;
use squiggle_model::{Activation, Architecture, Precision};
use squiggle_train::{Checkpoint, EpochReport};

use crate::config::Config;
use crate::files::AtomicFile;

/// The resolved config of the run.
pub const CONFIG: &str = "config.toml";
/// One row per epoch.
pub const METRICS: &str = "metrics.csv";
/// The checkpoint after the latest epoch.
pub const LAST: &str = "last.ckpt";
/// The checkpoint of the epoch with the best early-stopping loss.
pub const BEST: &str = "best.ckpt";

const METRICS_HEADER: &str = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second";

/// An open run folder.
pub struct RunDir {
    path: PathBuf,
    metrics: Vec<String>,
}

impl RunDir {
    /// Creates (or, when resuming, reopens) the folder and writes the resolved config.
    ///
    /// A folder that already holds a run is only reused by `--resume`, never overwritten.
    ///
    /// # Errors
    /// The folder cannot be created or written, or holds another run.
    pub fn open(path: &Path, config: &Config, resuming: Option<usize>) -> anyhow::Result<Self> {
        if resuming.is_none() && path.join(LAST).exists() {
            bail!(
                "`{}` already holds a run; continue it with `--resume {}` or choose another folder",
                path.display(),
                path.display()
            );
        }
        std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create the run folder `{}`", path.display()))?;
        let mut file = AtomicFile::create(&path.join(CONFIG))?;
        file.write_all(config.resolved_toml().as_bytes())?;
        file.commit()?;
        // A resumed run keeps the rows of the epochs its checkpoint holds; rows written after
        // that checkpoint (a crash between the two writes) are recomputed.
        let metrics = match resuming {
            Some(epoch) => std::fs::read_to_string(path.join(METRICS))
                .unwrap_or_default()
                .lines()
                .skip(1)
                .filter(|l| {
                    l.split(',')
                        .next()
                        .and_then(|e| e.parse::<usize>().ok())
                        .is_some_and(|e| e <= epoch)
                })
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        Ok(Self {
            path: path.to_path_buf(),
            metrics,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records an epoch: its metrics row first, then the best checkpoint (if it is the best
    /// so far), then the last one.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn record(
        &mut self,
        report: &EpochReport,
        checkpoint: impl FnOnce() -> Checkpoint,
    ) -> anyhow::Result<()> {
        self.metrics.push(metrics_row(report));
        let mut file = AtomicFile::create(&self.path.join(METRICS))?;
        writeln!(file, "{METRICS_HEADER}")?;
        for row in &self.metrics {
            writeln!(file, "{row}")?;
        }
        file.commit()?;
        let bytes = checkpoint().to_bytes();
        let names: &[&str] = if report.best { &[BEST, LAST] } else { &[LAST] };
        for name in names {
            let mut file = AtomicFile::create(&self.path.join(name))?;
            file.write_all(&bytes)?;
            file.commit()?;
        }
        Ok(())
    }
}

fn metrics_row(r: &EpochReport) -> String {
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
    ]
    .join(",")
}

/// Reads the run's best checkpoint (when `best` and there is one) or its last one.
///
/// # Errors
/// No checkpoint, or one that is damaged, naming the file.
pub fn load_checkpoint(dir: &Path, best: bool) -> anyhow::Result<(PathBuf, Checkpoint)> {
    let path = if best && dir.join(BEST).exists() {
        dir.join(BEST)
    } else {
        dir.join(LAST)
    };
    if !dir.is_dir() {
        bail!("`{}` is not a run folder (no such folder)", dir.display());
    }
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "`{}` holds no checkpoint (`{LAST}`); was it written by `squiggle train --run-dir`?",
            dir.display()
        )
    })?;
    let checkpoint =
        Checkpoint::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((path, checkpoint))
}

/// What a checkpoint says about the run besides its numbers: enough to rebuild the network
/// and read new rows without the config or the training data.
pub fn meta(config: &Config) -> serde_json::Value {
    json!({
        "inputs": config.data.input_names(),
        "targets": config.data.output_names(),
        "hidden": config.arch.hidden,
        "activation": config.arch.activation.name(),
        "dtype": config.plan.precision.name(),
    })
}

/// The network, column names and precision a checkpoint was trained with.
pub struct Described {
    /// The network's shape.
    pub arch: Architecture,
    /// Input column names.
    pub inputs: Vec<String>,
    /// Target column names.
    pub targets: Vec<String>,
    /// The precision it trained at.
    pub precision: Precision,
}

/// Reads [`meta`] back.
///
/// # Errors
/// A description that is missing or malformed, naming the file.
pub fn describe(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<Described> {
    let bad = || {
        anyhow::anyhow!(
            "{}: the checkpoint does not describe its network",
            path.display()
        )
    };
    let m = &checkpoint.meta;
    let strings = |key: &str| -> Option<Vec<String>> {
        m.get(key)?
            .as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let inputs = strings("inputs").ok_or_else(bad)?;
    let targets = strings("targets").ok_or_else(bad)?;
    let hidden: Vec<usize> = m
        .get("hidden")
        .and_then(|h| h.as_array())
        .and_then(|h| h.iter().map(|v| v.as_u64().map(|x| x as usize)).collect())
        .ok_or_else(bad)?;
    let activation: Activation = m
        .get("activation")
        .and_then(|a| a.as_str())
        .and_then(|a| a.parse().ok())
        .ok_or_else(bad)?;
    let precision = match m.get("dtype").and_then(|d| d.as_str()) {
        Some("f64") => Precision::F64,
        Some("f32") => Precision::F32,
        _ => return Err(bad()),
    };
    let arch =
        Architecture::new(inputs.len(), hidden, targets.len(), activation).map_err(|_| bad())?;
    if arch.num_params() != checkpoint.params.len() {
        return Err(bad());
    }
    Ok(Described {
        arch,
        inputs,
        targets,
        precision,
    })
}

/// Refuses to resume a run whose network or columns differ from the config's.
///
/// # Errors
/// The difference, naming both.
pub fn check_compatible(
    path: &Path,
    checkpoint: &Checkpoint,
    config: &Config,
) -> anyhow::Result<()> {
    let described = describe(path, checkpoint)?;
    if described.arch != config.arch
        || described.inputs != config.data.input_names()
        || described.targets != config.data.output_names()
    {
        bail!(
            "{}: the run trained a {} network on columns {} → {}; `{}` describes a {} network on {} → {}",
            path.display(),
            described.arch.describe(),
            described.inputs.join(","),
            described.targets.join(","),
            config.path.display(),
            config.arch.describe(),
            config.data.input_names().join(","),
            config.data.output_names().join(","),
        );
    }
    Ok(())
}
