//! `squiggle generate`: synthetic CSV data sets.

use crate::args::{GenerateArgs, Synthetic};
use std::io::Write;

use crate::files::{AtomicFile, free_space};
use crate::interrupt::{self, Interrupted};
use squiggle_train::format::plural;

/// Writes the data set to `--out` (atomically: a temporary file renamed at the end).
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    interrupt::install()?;
    // Checked up front: a file that cannot fit would fill the disk and then be removed.
    let dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let needed = args.rows as f64 * BYTES_PER_ROW;
    if let Some(free) = free_space(dir)
        && needed > free as f64
    {
        anyhow::bail!(
            "{} need about {} of disk; `{}` has {} free",
            plural(usize::try_from(args.rows).unwrap_or(usize::MAX), "row"),
            squiggle_train::Bytes(needed),
            dir.display(),
            squiggle_train::Bytes(free as f64)
        );
    }
    let mut file = StopOnSignal(AtomicFile::create(&args.out)?);
    let written = match args.kind {
        Synthetic::Dosage => {
            squiggle_train::write_dosage(&mut file, args.rows, args.noise, args.seed)
        }
    };
    if let Some(signal) = interrupt::requested() {
        // Dropping the unfinished file removes its temporary file.
        return Err(Interrupted {
            signal,
            what: format!("interrupted; `{}` was not written", args.out.display()),
        }
        .into());
    }
    written?;
    file.0.commit()?;
    eprintln!(
        "squiggle: wrote {} to {}",
        plural(args.rows as usize, "row"),
        args.out.display()
    );
    Ok(())
}

/// The most bytes one generated row takes (`0.123456789,-0.12345678\n` and the like).
const BYTES_PER_ROW: f64 = 28.0;

/// A file being written that fails the next write once a signal arrived, so that a long
/// `generate` stops within a row.
struct StopOnSignal(AtomicFile);

impl Write for StopOnSignal {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if interrupt::requested().is_some() {
            // Not `ErrorKind::Interrupted`, which `write_all` would retry for ever.
            return Err(std::io::Error::other("stopped by a signal"));
        }
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
