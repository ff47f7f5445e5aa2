//! What a resume checks before it writes anything: the config describes the run the folder
//! holds, and the folder's history reaches the checkpoint it continues from.

use std::path::Path;

use anyhow::{Context, bail};

use super::*;

/// The settings that make a run what it is, as keys of its resolved config: resuming with
/// other values would not continue the run but start another one on its checkpoint (another
/// split, other units, other data, another network or precision). Epochs, learning rates and
/// the other training settings may change.
pub(super) const IDENTITY: [&str; 16] = [
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
pub(super) fn kept_metrics(dir: &Path, epoch: usize) -> anyhow::Result<Vec<String>> {
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
            squiggle_train::format::plural(rows.len(), "epoch")
        );
    }
    Ok(rows
        .into_iter()
        .take(epoch)
        .map(|(_, l)| l.to_string())
        .collect())
}

/// The rows of a resumed run's `confusion.csv` for epochs 1 to `epoch` (none when the run has
/// no such file: a regression, or a classifier from before it). Only a history to show, so
/// a cut file is carried as it is rather than refused (`metrics.csv` is the run's record).
pub(super) fn kept_confusion(dir: &Path, epoch: usize) -> Vec<String> {
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
