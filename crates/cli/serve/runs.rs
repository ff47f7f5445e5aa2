//! The run dashboard's data: the run folders under the served directory, each one's
//! `metrics.csv` and config, read again at every request so that a run still training shows
//! its new epochs.
//!
//! A client names a run only by a name this module listed itself: the name is looked up
//! among the folder's entries, never joined onto a path, so no request reaches a file
//! outside the served directory.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::limits::{MAX_METRICS_BYTES, MAX_RUNS};
use super::playground::Refusal;
use crate::run_dir::{self, CONFIG, LOCK, METRICS};

/// What `squiggle serve --run DIR` serves: one run folder, or a folder of them.
#[derive(Clone, Debug)]
pub struct Runs {
    root: PathBuf,
}

impl Runs {
    /// The runs at `root`.
    ///
    /// # Errors
    /// `root` is not a folder.
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        if !root.is_dir() {
            anyhow::bail!(
                "--run: `{}` is not a folder; give a run folder written by `squiggle train --run-dir`, or a folder of them",
                root.display()
            );
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The run folders: the served folder itself when it is one, else its subfolders that
    /// are (newest first), at most [`MAX_RUNS`].
    pub fn list(&self) -> Vec<(String, PathBuf)> {
        if is_run(&self.root) {
            let name = std::path::absolute(&self.root)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "run".into());
            return vec![(name, self.root.clone())];
        }
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut runs: Vec<(SystemTime, String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let name = e.file_name().to_str()?.to_string();
                is_run(&path).then(|| (modified(&path), name, path))
            })
            .collect();
        runs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        runs.truncate(MAX_RUNS);
        runs.into_iter()
            .map(|(_, name, path)| (name, path))
            .collect()
    }

    /// The list as JSON.
    pub fn list_json(&self) -> Value {
        let runs: Vec<Value> = self
            .list()
            .into_iter()
            .map(|(name, path)| {
                json!({"name": name, "training": writer_alive(&path), "epochs": epochs(&path)})
            })
            .collect();
        json!({"root": self.root.display().to_string(), "runs": runs})
    }

    /// Run `name`: its config and its metrics from epoch row `since` on.
    ///
    /// # Errors
    /// [`Refusal::NotFound`] for a name that is not a listed run, [`Refusal::Conflict`] for a
    /// metrics file squiggle did not write or one too large to read.
    pub fn run_json(&self, name: &str, since: usize) -> Result<Value, Refusal> {
        let Some((name, path)) = self.list().into_iter().find(|(n, _)| n == name) else {
            return Err(Refusal::NotFound(format!("no run `{name}` here")));
        };
        let config = std::fs::read_to_string(path.join(CONFIG)).unwrap_or_default();
        let metrics_path = path.join(METRICS);
        let size = std::fs::metadata(&metrics_path).map_or(0, |m| m.len());
        if size > MAX_METRICS_BYTES {
            return Err(Refusal::Conflict(format!(
                "{}: {size} bytes, more than the dashboard reads ({MAX_METRICS_BYTES})",
                metrics_path.display()
            )));
        }
        let reports = if size == 0 {
            Vec::new()
        } else {
            run_dir::read_metrics(&path).map_err(|e| Refusal::Conflict(crate::message(&e)))?
        };
        let rows: Vec<Value> = reports
            .iter()
            .skip(since)
            .map(|r| {
                json!({
                    "epoch": r.epoch,
                    "learning_rate": r.learning_rate,
                    "train_loss": r.train_loss,
                    "valid_loss": r.valid_loss,
                    "train_r2": r.train.r2,
                    "valid_r2": r.valid.map(|v| v.r2),
                    "train_accuracy": r.train.accuracy,
                    "valid_accuracy": r.valid.and_then(|v| v.accuracy),
                })
            })
            .collect();
        Ok(json!({
            "name": name,
            "training": writer_alive(&path),
            "config": config,
            "total": reports.len(),
            "since": since.min(reports.len()),
            "rows": rows,
        }))
    }
}

/// A folder `squiggle train --run-dir` made.
fn is_run(path: &Path) -> bool {
    path.is_dir() && path.join(LOCK).is_file()
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path.join(METRICS))
        .or_else(|_| std::fs::metadata(path))
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Rows of a run's metrics file (its lines less the header), counted without parsing.
fn epochs(path: &Path) -> usize {
    std::fs::read_to_string(path.join(METRICS)).map_or(0, |t| t.lines().count().saturating_sub(1))
}

/// Whether the process that last wrote the run (its id is in the marker) is still running:
/// a run in progress. Checked without taking the folder's lock, so a dashboard never keeps
/// a run from starting; `None` where processes cannot be looked up.
fn writer_alive(path: &Path) -> Option<bool> {
    let pid = std::fs::read_to_string(path.join(LOCK)).ok()?;
    let pid: u32 = pid.trim().parse().ok()?;
    if cfg!(target_os = "linux") {
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}
