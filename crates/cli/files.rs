//! Output files, written so that a reader never sees half of one.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

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
        // SAFETY: `statvfs` is a plain C struct of integers, for which all zero bits are a
        // valid value; `statvfs` below fills it in.
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

/// How the temporary files of writes in progress begin. Named ones (where the system cannot
/// keep them nameless) continue with `-squiggle-<process id>-`, so that a later writer can tell
/// one whose process is gone and remove it.
pub const TEMP_PREFIX: &str = ".tmp";

/// The most links followed to find what an output path names (as the kernel's limit).
const MAX_LINKS: usize = 40;

/// A file being written, so that a reader never sees half of it and nothing but the target
/// changes: a regular file (new, or existing, or what a symbolic link points to — the link
/// stays) is replaced atomically on [`AtomicFile::commit`], from a temporary file beside it;
/// a FIFO, a device or a terminal (`/dev/null`, `/dev/stdout`, a named pipe) is written
/// through as the data comes, never renamed over. Dropping it uncommitted (an error, a signal,
/// a diverged run) leaves the target untouched and removes the temporary file.
///
/// On Linux the temporary file has no name until it is complete (`O_TMPFILE`), so even a
/// killed process leaves nothing behind; elsewhere (or on a file system without it) it is
/// named `.tmp-squiggle-<pid>-…`, removed when dropped, and swept by the next writer in the
/// folder once its process is gone.
pub struct AtomicFile {
    /// The path as the user gave it, for messages.
    path: PathBuf,
    sink: Sink,
}

/// Where the data goes.
enum Sink {
    /// A temporary file beside `place`, moved there on commit.
    Replace {
        place: PathBuf,
        temp: Temporary,
        writer: BufWriter<File>,
    },
    /// Straight to a FIFO, a device or a terminal.
    Through(BufWriter<File>),
}

/// The temporary file of a replacement.
enum Temporary {
    /// Nameless until linked into place (Linux's `O_TMPFILE`).
    #[cfg(target_os = "linux")]
    Unnamed,
    /// Named, removed when dropped unless persisted.
    Named(tempfile::TempPath),
}

impl AtomicFile {
    /// Opens `path` for writing: a temporary file beside the regular file it names (following
    /// links), or the FIFO or device itself.
    ///
    /// # Errors
    /// When the folder does not exist or cannot be written, the path is a folder, or links
    /// lead nowhere, naming `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let cannot = || format!("cannot write `{}`", path.display());
        let (place, through) = destination(path)?;
        if through {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&place)
                .with_context(cannot)?;
            return Ok(Self {
                path: path.to_path_buf(),
                sink: Sink::Through(BufWriter::new(file)),
            });
        }
        let dir = folder_of(&place);
        if !dir.is_dir() {
            anyhow::bail!(
                "cannot write `{}`: folder `{}` does not exist",
                path.display(),
                dir.display()
            );
        }
        sweep_stale_temporaries(dir);
        let (temp, file) = temporary_in(dir).with_context(cannot)?;
        Ok(Self {
            path: path.to_path_buf(),
            sink: Sink::Replace {
                place,
                temp,
                writer: BufWriter::new(file),
            },
        })
    }

    /// Flushes the data and, for a replacement, moves it into place.
    ///
    /// # Errors
    /// When the data cannot be flushed or moved, naming the file.
    pub fn commit(self) -> anyhow::Result<()> {
        let context = || format!("cannot write `{}`", self.path.display());
        let path = self.path.clone();
        let (place, temp, writer) = match self.sink {
            Sink::Through(mut writer) => {
                writer.flush().map_err(|e| naming(&path, e))?;
                return Ok(());
            }
            Sink::Replace {
                place,
                temp,
                writer,
            } => (place, temp, writer),
        };
        let file = writer
            .into_inner()
            .map_err(|e| naming(&path, e.into_error()))?;
        // Temporary files are private (0600); the result gets the permissions of the file it
        // replaces, or the usual 0644.
        let permissions = match std::fs::metadata(&place) {
            Ok(existing) => existing.permissions(),
            Err(_) => default_permissions(),
        };
        file.set_permissions(permissions).with_context(context)?;
        file.sync_all().with_context(context)?;
        match temp {
            #[cfg(target_os = "linux")]
            Temporary::Unnamed => link_into_place(&file, &place).with_context(context),
            Temporary::Named(named) => named
                .persist(&place)
                .map(drop)
                .map_err(|e| e.error)
                .with_context(context),
        }
    }
}

/// Where data for `path` goes, and whether it is written through: the file that `path` names
/// after following its links, written through when that is not a regular file (a FIFO, a
/// device) or when the links pass through `/dev` or `/proc` (`/dev/stdout` is the process's
/// own output, whatever it points to); otherwise replaced.
///
/// # Errors
/// A folder, or a chain of links that does not end.
fn destination(path: &Path) -> anyhow::Result<(PathBuf, bool)> {
    let mut place = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if is_special(&place) {
            // The kernel follows these names itself (`/proc/self/fd/1` may lead to a pipe
            // that has no path): opened as given.
            return Ok((path.to_path_buf(), true));
        }
        match std::fs::symlink_metadata(&place) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&place)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                place = folder_of(&place).join(target);
            }
            Ok(meta) if meta.is_dir() => {
                anyhow::bail!("cannot write `{}`: it is a folder", path.display())
            }
            Ok(meta) => return Ok((place, !meta.is_file())),
            // A new file, or a link to one that does not exist yet: created there.
            Err(_) => return Ok((place, false)),
        }
    }
    anyhow::bail!(
        "cannot write `{}`: too many levels of symbolic links",
        path.display()
    )
}

/// Whether `path` lies in `/dev` or `/proc`, where names stand for devices and the process's
/// own files.
fn is_special(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// The folder `path` is in (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temporary file in `dir`: nameless where the system allows it, else named after this
/// process.
fn temporary_in(dir: &Path) -> std::io::Result<(Temporary, File)> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let unnamed = std::fs::OpenOptions::new()
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(dir);
        if let Ok(file) = unnamed {
            return Ok((Temporary::Unnamed, file));
        }
    }
    let named = tempfile::Builder::new()
        .prefix(&named_prefix(std::process::id()))
        .tempfile_in(dir)?;
    let (file, path) = named.into_parts();
    Ok((Temporary::Named(path), file))
}

/// `.tmp-squiggle-<pid>-`: how a named temporary file of process `pid` begins.
fn named_prefix(pid: u32) -> String {
    format!("{TEMP_PREFIX}-squiggle-{pid}-")
}

/// Gives the nameless temporary `file` the name `place`: linked under a temporary name of its
/// own (a link cannot replace a file) and renamed over `place`, so that `place` is the old
/// file or the new one at every moment. Only between the two calls does a name exist that a
/// killed process would leave; the next writer in the folder sweeps it.
#[cfg(target_os = "linux")]
fn link_into_place(file: &File, place: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let dir = folder_of(place);
    let source = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .map_err(std::io::Error::other)?;
    for attempt in 0..100u32 {
        let name = dir.join(format!("{}{}", named_prefix(std::process::id()), attempt));
        let target =
            std::ffi::CString::new(name.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
        // SAFETY: both paths are NUL-terminated strings that live through the call; linkat
        // only reads them.
        let linked = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                source.as_ptr(),
                libc::AT_FDCWD,
                target.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if linked == 0 {
            return std::fs::rename(&name, place).inspect_err(|_| {
                let _ = std::fs::remove_file(&name);
            });
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(error);
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

/// Removes named temporary files that writers in `dir` left behind when killed: those of
/// processes that no longer run (looked up in `/proc`; where there is none, nothing is
/// removed). Failures are ignored: sweeping is housekeeping, never a reason to refuse a write.
fn sweep_stale_temporaries(dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{TEMP_PREFIX}-squiggle-");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !alive && is_file {
            let _ = std::fs::remove_file(entry.path());
        }
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
    let plain = match error.raw_os_error() {
        // The system's own words, as a sentence continues them: `file too large`.
        Some(code) => {
            let text = std::io::Error::from_raw_os_error(code).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            let mut chars = text.chars();
            chars.next().map_or(text.clone(), |first| {
                first.to_lowercase().chain(chars).collect()
            })
        }
        None => error.kind().to_string(),
    };
    std::io::Error::new(
        error.kind(),
        format!("cannot write `{}`: {plain}", target.display()),
    )
}

/// The writer data goes to.
fn writer_of(sink: &mut Sink) -> &mut BufWriter<File> {
    match sink {
        Sink::Replace { writer, .. } | Sink::Through(writer) => writer,
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Self { path, sink } = self;
        writer_of(sink).write(buf).map_err(|e| naming(path, e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let Self { path, sink } = self;
        writer_of(sink).flush().map_err(|e| naming(path, e))
    }
}

/// Opens `path` for reading only if it is a regular file itself: a symbolic link is not
/// followed (a run folder's file linked to `/etc/passwd` is refused, not read), and a FIFO or
/// a device is refused without waiting for a writer (the open does not block).
///
/// # Errors
/// A missing file, a link, or anything but a regular file.
pub fn open_regular_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(std::io::Error::other("a symbolic link"));
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// At most the last `limit` bytes of `file`, whose length is `len`: a bounded read of a file
/// that grows (a run's metrics), starting at a line boundary when it does not start at 0.
///
/// # Errors
/// The file cannot be read.
pub fn read_tail(mut file: &File, len: u64, limit: u64) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let start = len.saturating_sub(limit);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(match (start, text.find('\n')) {
        (0, _) => text.into_owned(),
        (_, Some(newline)) => text[newline + 1..].to_string(),
        (_, None) => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A named temporary file of a process that is gone is removed by the next writer in the
    /// folder; one of a live process (this one) is left alone.
    #[test]
    fn stale_temporaries_of_dead_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!("{}7", named_prefix(u32::MAX - 1)));
        let alive = dir
            .path()
            .join(format!("{}7", named_prefix(std::process::id())));
        std::fs::write(&dead, b"half").unwrap();
        std::fs::write(&alive, b"half").unwrap();
        let mut file = AtomicFile::create(&dir.path().join("out.csv")).unwrap();
        file.write_all(b"whole\n").unwrap();
        file.commit().unwrap();
        assert!(!dead.exists(), "a dead writer's file is swept");
        assert!(alive.exists(), "a live writer's file is kept");
        assert_eq!(
            std::fs::read(dir.path().join("out.csv")).unwrap(),
            b"whole\n"
        );
    }

    /// Dropped uncommitted, a write leaves the target as it was and nothing beside it.
    #[test]
    fn an_unfinished_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, b"before\n").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"after\n").unwrap();
        drop(file);
        assert_eq!(std::fs::read(&target).unwrap(), b"before\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
