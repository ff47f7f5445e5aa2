//! Output files, written so that a reader never sees half of one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tempfile::NamedTempFile;

/// Where `path` is, with links resolved, for comparing places: the file itself when it
/// exists, else its (existing) folder joined with its name.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

/// Whether `a` and `b` name the same file or folder (through links too); one that does not
/// exist yet is compared by where it would be.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    matches!((resolved(a), resolved(b)), (Some(a), Some(b)) if a == b)
}

/// Refuses an output file that is one of the command's inputs, or lies in a run folder:
/// an output never replaces what the command reads or a run's own files.
///
/// # Errors
/// One line naming the flag (`flag`), the file and what it would destroy.
pub fn refuse_destroying(
    flag: &str,
    output: &Path,
    inputs: &[(&str, &Path)],
    run_folder: Option<&Path>,
) -> anyhow::Result<()> {
    for (what, input) in inputs {
        if same_file(output, input) {
            anyhow::bail!(
                "{flag} `{}` is the {what} file; write to another file",
                output.display()
            );
        }
    }
    if let Some(folder) = run_folder {
        let inside = match (resolved(output), std::fs::canonicalize(folder)) {
            (Some(out), Ok(folder)) => out.starts_with(folder),
            _ => false,
        };
        if inside {
            anyhow::bail!(
                "{flag} `{}` is inside the run folder `{}`, which holds the run's own files; write elsewhere",
                output.display(),
                folder.display()
            );
        }
    }
    Ok(())
}

/// Checks that `path` is a regular file (links followed) before it is read: a device such as
/// `/dev/zero` would never end, a FIFO can be read only once.
///
/// # Errors
/// A missing file, or one that is not a regular file, naming `what` it should be.
pub fn regular_file(path: &Path, what: &str) -> anyhow::Result<()> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    if !metadata.is_file() {
        anyhow::bail!(
            "failed to read `{}`: not a regular file (a {what} must be a file)",
            path.display()
        );
    }
    Ok(())
}

/// Bytes free for this user on the file system that holds `dir`, where the system says.
pub fn free_space(dir: &Path) -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `path` is a NUL-terminated string and `stats` a valid out-parameter.
        if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
            return None;
        }
        Some(stats.f_bavail.saturating_mul(stats.f_frsize))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = dir;
        None
    }
}

/// How the temporary files of writes in progress begin.
pub const TEMP_PREFIX: &str = ".tmp";

/// A file being written: the data goes to a temporary file in the same folder, which
/// replaces the target only on [`AtomicFile::commit`]. Dropping it uncommitted (an error, a
/// diverged run) leaves the target untouched and removes the temporary file.
pub struct AtomicFile {
    path: PathBuf,
    writer: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    /// Creates the temporary file next to `path`.
    ///
    /// # Errors
    /// When the folder does not exist or cannot be written, naming `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            anyhow::bail!(
                "cannot write `{}`: folder `{}` does not exist",
                path.display(),
                dir.display()
            );
        }
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(dir)
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: BufWriter::new(temp),
        })
    }

    /// Flushes the data and moves it into place.
    ///
    /// # Errors
    /// When the data cannot be flushed or the rename fails, naming the file.
    pub fn commit(self) -> anyhow::Result<()> {
        let context = || format!("cannot write `{}`", self.path.display());
        let path = self.path.clone();
        let temp = self
            .writer
            .into_inner()
            .map_err(|e| naming(&path, e.into_error()))?;
        // Temporary files are private (0600); the result gets the permissions of the file it
        // replaces, or the usual 0644.
        let permissions = match std::fs::metadata(&self.path) {
            Ok(existing) => existing.permissions(),
            Err(_) => default_permissions(),
        };
        temp.as_file()
            .set_permissions(permissions)
            .with_context(context)?;
        temp.as_file().sync_all().with_context(context)?;
        let _: File = temp
            .persist(&self.path)
            .map_err(|e| e.error)
            .with_context(context)?;
        Ok(())
    }
}

#[cfg(unix)]
fn default_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> std::fs::Permissions {
    let mut permissions = tempfile::tempfile()
        .and_then(|f| f.metadata())
        .map(|m| m.permissions())
        .expect("a temporary file can be created");
    permissions.set_readonly(false);
    permissions
}

/// `error` of writing the temporary file of `target`, told as an error writing `target`
/// (the hidden temporary name means nothing to the user; `File too large`, `No space left
/// on device` keep their wording).
fn naming(target: &Path, error: std::io::Error) -> std::io::Error {
    let plain = error.raw_os_error().map_or_else(
        || error.kind().to_string(),
        |code| std::io::Error::from_raw_os_error(code).to_string(),
    );
    std::io::Error::new(
        error.kind(),
        format!("cannot write `{}`: {plain}", target.display()),
    )
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf).map_err(|e| naming(&self.path, e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush().map_err(|e| naming(&self.path, e))
    }
}
