//! Run folders (`--run-dir`): the resolved config, `metrics.csv`, and the last and best
//! checkpoints, every file replaced atomically so that a crash at any moment leaves a
//! folder a run can resume from.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use squiggle_train::{Checkpoint, Confusion, EpochReport, Metrics};

use crate::config::Config;
use crate::files::{AtomicFile, TEMP_PREFIX, same_file};

/// The resolved config of the run.
pub const CONFIG: &str = "config.toml";
/// One row per epoch.
pub const METRICS: &str = "metrics.csv";
/// The checkpoint after the latest epoch.
pub const LAST: &str = "last.ckpt";
/// A classifier's confusion matrices, one row per epoch, split and true class.
pub const CONFUSION: &str = "confusion.csv";
/// The checkpoint of the epoch with the best early-stopping loss.
pub const BEST: &str = "best.ckpt";
/// Marks a folder squiggle made, and is locked while a run writes there; it holds the
/// writer's process id.
pub const LOCK: &str = ".squiggle-run";

const METRICS_HEADER: &str = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second,train_accuracy,valid_accuracy";

/// The header before classifiers (no accuracy columns): such runs still resume and plot.
const METRICS_HEADER_V1: &str = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second";

/// Where a resumed run comes from: its folder and the epoch of its checkpoint.
#[derive(Clone, Copy)]
pub struct Resuming<'a> {
    /// The folder of the checkpoint.
    pub from: &'a Path,
    /// The checkpoint's epoch.
    pub epoch: usize,
}

/// An open run folder, locked for this process until it is dropped (or the process ends).
pub struct RunDir {
    path: PathBuf,
    metrics: Vec<String>,
    /// A classifier's `confusion.csv` rows (without the header).
    confusion: Vec<String>,
    /// The locked marker file: the lock lasts as long as this handle.
    _lock: std::fs::File,
}

impl RunDir {
    /// Creates (or, when resuming, reopens) the folder, locks it, and writes the resolved
    /// config.
    ///
    /// A folder that already holds a run is only reused by `--resume`, never overwritten; a
    /// folder squiggle did not make is used only when it is empty (the user's own files are
    /// never replaced); a folder another squiggle is writing to is refused, naming its process.
    /// Temporary files a killed run left behind are removed once the folder is locked.
    ///
    /// # Errors
    /// The folder cannot be created, locked or written, holds another run, holds other files,
    /// or is in use.
    pub fn open(
        path: &Path,
        config: &Config,
        resuming: Option<Resuming<'_>>,
    ) -> anyhow::Result<Self> {
        // A run continued into another folder takes that folder as a new run would, and
        // carries its history there.
        let continued_here = resuming.is_some_and(|r| same_file(r.from, path));
        let refuse_existing_run = || {
            if !continued_here && path.join(LAST).exists() {
                bail!(
                    "`{}` already holds a run; continue it with `--resume {}` or choose another folder",
                    path.display(),
                    path.display()
                );
            }
            Ok(())
        };
        if path.exists() && !path.is_dir() {
            bail!(
                "cannot use `{}` as a run folder: it is a file",
                path.display()
            );
        }
        // A folder another squiggle is writing to is named as such, whatever it holds yet.
        let early_lock = match path.join(LOCK).exists() {
            true => Some(lock(path)?),
            false => None,
        };
        refuse_existing_run()?;
        if !continued_here && !path.join(LOCK).exists() && !is_empty(path)? {
            bail!(
                "`{}` holds files squiggle did not write; --run-dir writes config.toml, metrics.csv and checkpoints there, so it takes a new or empty folder",
                path.display()
            );
        }
        std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create the run folder `{}`", path.display()))?;
        let lock = match early_lock {
            Some(lock) => lock,
            None => lock(path)?,
        };
        // Another run may have finished in the folder while this one waited to look.
        refuse_existing_run()?;
        let lock = claim(lock, path)?;
        remove_stray_temp_files(path)?;
        // A resumed run keeps the rows of the epochs its checkpoint holds; rows written after
        // that checkpoint (a crash between the two writes) are recomputed.
        let (metrics, confusion) = match resuming {
            Some(r) => (
                kept_metrics(r.from, r.epoch)?,
                kept_confusion(r.from, r.epoch),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let mut file = AtomicFile::create(&path.join(CONFIG))?;
        file.write_all(config.resolved_toml().as_bytes())?;
        file.commit()?;
        Ok(Self {
            path: path.to_path_buf(),
            metrics,
            confusion,
            _lock: lock,
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
    pub fn record(&mut self, report: &EpochReport, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        self.metrics.push(metrics_row(report));
        let mut file = AtomicFile::create(&self.path.join(METRICS))?;
        writeln!(file, "{METRICS_HEADER}")?;
        for row in &self.metrics {
            writeln!(file, "{row}")?;
        }
        file.commit()?;
        let confusions = crate::output::classes::of_report(report);
        for (split, c) in &confusions {
            self.confusion
                .extend(confusion_rows(report.epoch, split, c));
        }
        if let Some((_, c)) = confusions.first() {
            let header = confusion_header(c);
            let mut file = AtomicFile::create(&self.path.join(CONFUSION))?;
            writeln!(file, "{header}")?;
            for row in &self.confusion {
                writeln!(file, "{row}")?;
            }
            file.commit()?;
        }
        let names: &[&str] = if report.best { &[BEST, LAST] } else { &[LAST] };
        self.write_checkpoint(checkpoint, names)
    }

    /// Keeps the state of a run stopped inside an epoch as its last checkpoint (no metrics
    /// row: the epoch has not ended), so that `--resume` finishes that epoch.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub fn pause(&mut self, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        self.write_checkpoint(checkpoint, &[LAST])
    }

    fn write_checkpoint(&self, checkpoint: &Checkpoint, names: &[&str]) -> anyhow::Result<()> {
        let bytes = checkpoint.to_bytes();
        for name in names {
            let mut file = AtomicFile::create(&self.path.join(name))?;
            file.write_all(&bytes)?;
            file.commit()?;
        }
        Ok(())
    }
}

/// The settings that make a run what it is, as keys of its resolved config: resuming with
/// other values would not continue the run but start another one on its checkpoint (another
/// split, other units, other data, another network or precision). Epochs, learning rates and
/// the other training settings may change.
const IDENTITY: [&str; 16] = [
    "model.inputs",
    "model.hidden",
    "model.outputs",
    "model.activation",
    "model.seed",
    "model.initializer",
    "model.init",
    "data.csv",
    "data.inputs",
    "data.targets",
    "data.valid_fraction",
    "data.valid_csv",
    "data.standardize",
    "data.rescale",
    "data.classes",
    "train.dtype",
];

/// Refuses to resume the run in `dir` with a config whose [`IDENTITY`] settings differ from
/// the run's own `config.toml`, listing every difference (a long value, as the initial
/// weights, by its key alone).
///
/// # Errors
/// The differences, or a run config that cannot be read.
pub fn check_same_run(dir: &Path, config: &Config) -> anyhow::Result<()> {
    let path = dir.join(CONFIG);
    let Ok(text) = read_run_file(&path) else {
        return Ok(());
    };
    let run: toml::Table = text
        .parse()
        .with_context(|| format!("{}: not a run config", path.display()))?;
    let now: toml::Table = config
        .resolved_toml()
        .parse()
        .expect("a resolved config parses back");
    let get = |table: &toml::Table, key: &str| {
        let (section, name) = key.split_once('.').expect("a dotted key");
        table
            .get(section)
            .and_then(|s| s.get(name))
            .map_or_else(|| "(unset)".to_string(), ToString::to_string)
    };
    // The initial weights follow from the seed and the initializer: named only when those
    // stayed the same.
    let drawn_anew = ["model.seed", "model.initializer"]
        .iter()
        .any(|key| get(&run, key) != get(&now, key));
    let run_init = run
        .get("model")
        .and_then(|m| m.get("init"))
        .and_then(toml::Value::as_table);
    let changed: Vec<String> = IDENTITY
        .iter()
        .filter(|key| !(drawn_anew && **key == "model.init"))
        .filter_map(|key| {
            // The start is compared by its values: a run folder may write it another way.
            if *key == "model.init" {
                return (!config.starts_from(run_init)).then(|| format!("{key} changed"));
            }
            let (was, is) = (get(&run, key), get(&now, key));
            let short = was.len() + is.len() <= 80;
            (was != is).then(|| match short {
                true => format!("{key} {was} → {is}"),
                false => format!("{key} changed"),
            })
        })
        .collect();
    if !changed.is_empty() {
        bail!(
            "cannot resume `{}`: the config changes what the run is ({}); resume with the run's own config (`{}`) or train a new run",
            dir.display(),
            changed.join("; "),
            path.display()
        );
    }
    Ok(())
}

/// Refuses a run whose `metrics.csv` does not hold a row for each of the `epoch` epochs its
/// checkpoint says it trained, and no more than one beyond (a history cut short or edited,
/// or a checkpoint header that claims another epoch than its run reached).
///
/// # Errors
/// See [`kept_metrics`].
pub fn check_history(dir: &Path, epoch: usize) -> anyhow::Result<()> {
    kept_metrics(dir, epoch).map(|_| ())
}

/// The rows of `metrics.csv` for epochs 1 to `epoch` (the checkpoint's), which must all be
/// there, in order: a history cut short would otherwise be lost for good when the resumed
/// run rewrites the file.
///
/// # Errors
/// A missing file or a missing, repeated or out-of-order epoch, naming the file.
fn kept_metrics(dir: &Path, epoch: usize) -> anyhow::Result<Vec<String>> {
    let path = dir.join(METRICS);
    let text = read_run_file(&path)
        .with_context(|| format!("cannot resume: cannot read `{}`", path.display()))?;
    let mut lines = text.lines();
    let columns = match lines.next() {
        Some(header @ (METRICS_HEADER | METRICS_HEADER_V1)) => header.split(',').count(),
        _ => bail!(
            "cannot resume: `{}` is not a squiggle metrics file (unexpected header)",
            path.display()
        ),
    };
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.split(',').count() != columns {
            bail!(
                "cannot resume: `{}`:{}: the row is cut short or edited ({} fields, the header has {columns}); restore the file, or train a new run",
                path.display(),
                i + 2,
                line.split(',').count()
            );
        }
        rows.push((
            line.split(',').next().and_then(|e| e.parse::<usize>().ok()),
            line,
        ));
    }
    // The epochs 1, 2, …, and at most one row past the checkpoint (written just before a
    // crash kept the checkpoint from following).
    let in_order = rows.iter().enumerate().all(|(i, (e, _))| *e == Some(i + 1));
    if !in_order || rows.len() < epoch || rows.len() > epoch + 1 {
        bail!(
            "cannot resume: `{}` holds {} where the checkpoint says {epoch} (the history was cut or edited, or the checkpoint's header was); restore them, or train a new run",
            path.display(),
            crate::output::format::plural(rows.len(), "epoch")
        );
    }
    Ok(rows
        .into_iter()
        .take(epoch)
        .map(|(_, l)| l.to_string())
        .collect())
}

/// The text of a run's own file, read as a regular file (no link followed, no FIFO waited on):
/// a run folder holds only files squiggle wrote.
///
/// # Errors
/// A missing file, a link, a FIFO or device, or unreadable text.
pub fn read_run_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    crate::files::open_regular_no_follow(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    Ok(text)
}

/// `epoch,split,class,rows,precision,recall,predicted_<class>…`: the layout of
/// `confusion.csv`, one row per true class (long, so any tool can filter it by epoch).
fn confusion_header(c: &Confusion) -> String {
    let mut header = "epoch,split,class,rows,precision,recall".to_string();
    for name in &c.classes {
        header += &format!(",{}", field(&format!("predicted_{name}")));
    }
    header
}

/// `text` as one CSV field: quoted (quotes doubled) when it holds a comma, a quote or a line
/// break, as a class label read from a quoted cell may.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The rows of `confusion.csv` for one split of one epoch: each true class, its row count,
/// precision and recall (empty when undefined), and how its rows were predicted.
fn confusion_rows(epoch: usize, split: &str, c: &Confusion) -> Vec<String> {
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

/// The rows of a resumed run's `confusion.csv` for epochs 1 to `epoch` (none when the run has
/// no such file: a regression, or a classifier from before it). Only a history to show, so
/// a cut file is carried as it is rather than refused (`metrics.csv` is the run's record).
fn kept_confusion(dir: &Path, epoch: usize) -> Vec<String> {
    let Ok(text) = read_run_file(&dir.join(CONFUSION)) else {
        return Vec::new();
    };
    text.lines()
        .skip(1)
        .filter(|l| {
            l.split(',')
                .next()
                .and_then(|e| e.parse::<usize>().ok())
                .is_some_and(|e| e <= epoch)
        })
        .map(str::to_string)
        .collect()
}

/// Whether `path` is missing or an empty folder.
fn is_empty(path: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => {
            Err(e).with_context(|| format!("cannot read the run folder `{}`", path.display()))
        }
    }
}

/// Takes the folder's lock (creating its marker), or says which process holds it.
fn lock(path: &Path) -> anyhow::Result<std::fs::File> {
    let marker = path.join(LOCK);
    let cannot = || format!("cannot lock the run folder `{}`", path.display());
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&marker)
        .with_context(cannot)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&marker).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another squiggle process".to_string()
            } else {
                format!("squiggle process {holder}")
            };
            bail!(
                "`{}` is in use: {who} is training into it; wait for it to finish or choose another folder",
                path.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(cannot),
    }
    Ok(file)
}

/// Writes this process's id into the locked marker `file` of the folder `path`: done once the
/// run is sure to go ahead, so that a refused one leaves the marker as it was.
fn claim(mut file: std::fs::File, path: &Path) -> anyhow::Result<std::fs::File> {
    let cannot = || format!("cannot lock the run folder `{}`", path.display());
    file.set_len(0).with_context(cannot)?;
    writeln!(file, "{}", std::process::id()).with_context(cannot)?;
    Ok(file)
}

/// Removes the temporary files of writes a killed run did not finish (only ever called with
/// the folder locked, so no write is in progress).
fn remove_stray_temp_files(path: &Path) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot read the run folder `{}`", path.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) && entry.path().is_file() {
            std::fs::remove_file(entry.path()).with_context(|| {
                format!(
                    "cannot remove the stray temporary file `{}`",
                    entry.path().display()
                )
            })?;
        }
    }
    Ok(())
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
        opt(r.train.accuracy),
        opt(valid.and_then(|m| m.accuracy)),
    ]
    .join(",")
}

/// The resolved config of the run in `dir`, for commands that look at a run without a config.
///
/// # Errors
/// No such folder, or one without a run's config.
pub fn config_path(dir: &Path) -> anyhow::Result<PathBuf> {
    existing_folder(dir)?;
    let path = dir.join(CONFIG);
    if !path.is_file() {
        bail!(
            "`{}` holds no run config (`{CONFIG}`); was it written by `squiggle train --run-dir`?",
            dir.display()
        );
    }
    Ok(path)
}

fn existing_folder(dir: &Path) -> anyhow::Result<()> {
    if !dir.is_dir() {
        bail!("`{}` is not a run folder (no such folder)", dir.display());
    }
    Ok(())
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
    existing_folder(dir)?;
    if path.exists() {
        crate::files::regular_file(&path, "checkpoint")?;
    }
    let bytes = crate::files::open_regular_no_follow(&path).and_then(|mut f| {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).map(|_| bytes)
    });
    let bytes = bytes.with_context(|| {
        format!(
            "`{}` holds no checkpoint (`{LAST}`); was it written by `squiggle train --run-dir`?",
            dir.display()
        )
    })?;
    let checkpoint =
        Checkpoint::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((path, checkpoint))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_rows_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let report = EpochReport {
            epoch: 1,
            epochs: 1,
            learning_rate: 0.5,
            train_loss: 0.25,
            valid_loss: None,
            train: Metrics {
                mse: 1.0,
                rmse: 1.0,
                mae: 0.5,
                r2: 0.75,
                accuracy: None,
            },
            valid: None,
            train_confusion: None,
            valid_confusion: None,
            seconds: 0.5,
            rows_per_second: 200.0,
            best: true,
            stop: None,
        };
        let row = metrics_row(&report);
        std::fs::write(
            dir.path().join(METRICS),
            format!("{METRICS_HEADER}\n{row}\n"),
        )
        .unwrap();
        let back = read_metrics(dir.path()).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].train, back[0].valid), (report.train, None));
        assert_eq!(back[0].learning_rate, 0.5);
        // A classifier's accuracy columns, and a file from before them, read back.
        let classified = EpochReport {
            train: Metrics {
                accuracy: Some(0.75),
                ..report.train
            },
            ..report.clone()
        };
        std::fs::write(
            dir.path().join(METRICS),
            format!("{METRICS_HEADER}\n{}\n", metrics_row(&classified)),
        )
        .unwrap();
        let back = read_metrics(dir.path()).unwrap();
        assert_eq!(back[0].train.accuracy, Some(0.75));
        let old_row = row.rsplitn(3, ',').nth(2).unwrap();
        std::fs::write(
            dir.path().join(METRICS),
            format!("{METRICS_HEADER_V1}\n{old_row}\n"),
        )
        .unwrap();
        assert_eq!(read_metrics(dir.path()).unwrap()[0].train, report.train);
        std::fs::write(dir.path().join(METRICS), format!("{METRICS_HEADER}\n1,x\n")).unwrap();
        let err = read_metrics(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("metrics.csv:2: not a metrics row"), "{err}");
    }
}
