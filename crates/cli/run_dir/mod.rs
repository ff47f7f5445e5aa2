//! Run folders (`--run-dir`): the resolved config, `metrics.csv`, and the last and best
//! checkpoints, every file replaced atomically so that a crash at any moment leaves a
//! folder a run can resume from.
//!
//! This module opens, writes and reads run folders; [`formats`] holds the layout of
//! `metrics.csv` and `confusion.csv`, [`lock`](mod@lock) the one-writer lock and its marker file, and
//! [`resume`] the checks that a resume continues the run the folder holds.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use squiggle_train::{Checkpoint, EpochReport};

use crate::files::{AtomicFile, TEMP_PREFIX, same_file};
use squiggle_config::Config;

mod formats;
mod lock;
mod resume;

use formats::*;
pub use formats::{parse_metrics, read_metrics};
use lock::*;
use resume::*;
pub use resume::{check_history, check_same_run};

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
    let checkpoint = Checkpoint::from_bytes(&bytes).with_context(|| path.display().to_string())?;
    Ok((path, checkpoint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use squiggle_train::Metrics;

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
