//! `squiggle generate`: synthetic CSV data sets.

use crate::args::{GenerateArgs, Synthetic};
use std::io::Write;

use crate::files::AtomicFile;
use crate::interrupt::{self, Interrupted};
use crate::output::format::plural;

/// Writes the data set to `--out` (atomically: a temporary file renamed at the end).
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    interrupt::install()?;
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
