//! One writer per run folder: the marker file squiggle creates, locked while a run writes,
//! holding the writer's process id; and the temporary files a killed writer left behind.

use std::path::Path;

use anyhow::{Context, bail};

use super::*;

/// Takes the folder's lock (creating its marker), or says which process holds it.
pub(super) fn lock(path: &Path) -> anyhow::Result<std::fs::File> {
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
pub(super) fn claim(mut file: std::fs::File, path: &Path) -> anyhow::Result<std::fs::File> {
    let cannot = || format!("cannot lock the run folder `{}`", path.display());
    file.set_len(0).with_context(cannot)?;
    writeln!(file, "{}", std::process::id()).with_context(cannot)?;
    Ok(file)
}

/// Removes the temporary files of writes a killed run did not finish (only ever called with
/// the folder locked, so no write is in progress).
pub(super) fn remove_stray_temp_files(path: &Path) -> anyhow::Result<()> {
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
