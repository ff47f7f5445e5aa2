//! The run dashboard's data: the run folders under the served directory, each one's
//! `metrics.csv` and config, read again at every request so that a run still training shows
//! its new epochs.
//!
//! A client names a run only by a name this module listed itself: the name is looked up
//! among the folder's entries, never joined onto a path, so no request reaches a file
//! outside the served directory. Run folders and their files are read only as what they are:
//! a symbolic link is not followed (a link to `/etc/passwd` or `/dev/zero` is refused, not
//! read), a FIFO or a device is refused without waiting on it, and every read is bounded (the
//! run list reads only the end of each `metrics.csv`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use super::limits::{MAX_CONFIG_BYTES, MAX_METRICS_BYTES, MAX_RUNS, METRICS_TAIL_BYTES};
use crate::files::{open_regular_no_follow, read_tail};
use crate::run_dir::{self, CONFIG, LOCK, METRICS};
use squiggle_playground::Refusal;

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
        let config = read_small(&path.join(CONFIG), MAX_CONFIG_BYTES)?.unwrap_or_default();
        let metrics_path = path.join(METRICS);
        let text = read_small(&metrics_path, MAX_METRICS_BYTES)?.unwrap_or_default();
        let reports = if text.is_empty() {
            Vec::new()
        } else {
            run_dir::parse_metrics(&metrics_path, &text)
                .map_err(|e| Refusal::Conflict(crate::message(&e)))?
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

/// The text of the run file `path`, read as a regular file (no link followed, no FIFO or
/// device waited on) of at most `limit` bytes; `None` when it is missing.
///
/// # Errors
/// [`Refusal::Conflict`] for a link, a file that is not a regular one, or one too large.
fn read_small(path: &Path, limit: u64) -> Result<Option<String>, Refusal> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    let refused = |why: String| Refusal::Conflict(format!("{}: {why}", path.display()));
    let file = open_regular_no_follow(path).map_err(|e| {
        refused(format!(
            "not read ({e}); the dashboard reads only the run's own regular files"
        ))
    })?;
    let size = file.metadata().map_err(|e| refused(e.to_string()))?.len();
    if size > limit {
        return Err(refused(format!(
            "{size} bytes, more than the dashboard reads ({limit})"
        )));
    }
    read_tail(&file, size, limit)
        .map(Some)
        .map_err(|e| refused(e.to_string()))
}

/// A folder `squiggle train --run-dir` made: a real folder (not a link to one) holding the
/// marker as a regular file.
fn is_run(path: &Path) -> bool {
    let real_folder = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    real_folder && open_regular_no_follow(&path.join(LOCK)).is_ok()
}

fn modified(path: &Path) -> SystemTime {
    std::fs::symlink_metadata(path.join(METRICS))
        .or_else(|_| std::fs::symlink_metadata(path))
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The epochs a run's metrics file holds: the epoch of its last row, read from the file's
/// last bytes only (rows are epochs 1, 2, … in order), so that listing runs costs the same
/// whatever their length.
fn epochs(path: &Path) -> usize {
    let Ok(file) = open_regular_no_follow(&path.join(METRICS)) else {
        return 0;
    };
    let len = file.metadata().map_or(0, |m| m.len());
    read_tail(&file, len, METRICS_TAIL_BYTES)
        .ok()
        .and_then(|tail| {
            tail.lines()
                .rev()
                .find_map(|l| l.split(',').next()?.parse::<usize>().ok())
        })
        .unwrap_or(0)
}

/// Whether the process that last wrote the run (its id is in the marker) is still running:
/// a run in progress. Checked without taking the folder's lock, so a dashboard never keeps
/// a run from starting; `None` where processes cannot be looked up.
fn writer_alive(path: &Path) -> Option<bool> {
    let pid = read_small(&path.join(LOCK), 64).ok()??;
    let pid: u32 = pid.trim().parse().ok()?;
    if cfg!(target_os = "linux") {
        Some(Path::new("/proc").join(pid.to_string()).exists())
    } else {
        None
    }
}

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    /// Mutated run files (metrics, config, marker) in a run folder are listed and read, or
    /// refused with a 4xx, never a panic or an unbounded read (a bounded pass;
    /// `SQUIGGLE_FUZZ_SECONDS=600` for a long one).
    #[test]
    fn fuzzed_run_folders_give_an_answer() {
        let metrics = "epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,seconds,rows_per_second,train_accuracy,valid_accuracy\n1,0.1,0.5,0.6,0.5,0.7,0.6,0.2,0.6,0.77,0.65,0.1,0.01,20000,,\n2,0.1,0.4,0.5,0.4,0.63,0.5,0.3,0.5,0.7,0.6,0.2,0.01,21000,,\n";
        let seeds: Vec<Vec<u8>> = [
            format!("{METRICS}\n{metrics}"),
            format!("{CONFIG}\n[model]\nhidden = [2]\n[train]\nepochs = 2\n"),
            format!("{LOCK}\n12345\n"),
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        let runs = Runs::new(dir.path()).unwrap();
        let budget = squiggle_train::fuzz::Budget::from_env(300);
        let ran = squiggle_train::fuzz::run(&seeds, budget, |input| {
            // The seed's first line names the file, the rest is its text.
            let split = input
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(input.len());
            let name = String::from_utf8_lossy(&input[..split]).into_owned();
            let body = input.get(split + 1..).unwrap_or_default();
            std::fs::write(run.join(LOCK), b"1\n").unwrap();
            std::fs::write(run.join(METRICS), metrics).unwrap();
            if [METRICS, CONFIG, LOCK].contains(&name.as_str()) {
                std::fs::write(run.join(&name), body).unwrap();
            }
            let listed = runs.list_json();
            assert!(listed["runs"].is_array());
            match runs.run_json("run", 0) {
                Ok(v) => assert!(v["rows"].is_array()),
                Err(Refusal::Conflict(m) | Refusal::NotFound(m)) => {
                    assert!(!m.contains('\n'), "one line: {m}");
                }
                Err(other) => panic!("{other:?}"),
            }
        });
        eprintln!("run folders: {ran} fuzzed files");
        assert!(ran >= 300);
    }
}
