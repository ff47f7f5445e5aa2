//! `squiggle generate`: synthetic CSV data sets.

use crate::args::{GenerateArgs, Synthetic};
use crate::files::AtomicFile;
use crate::output::format::plural;

/// Writes the data set to `--out` (atomically: a temporary file renamed at the end).
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let mut file = AtomicFile::create(&args.out)?;
    match args.kind {
        Synthetic::Dosage => {
            squiggle_train::write_dosage(&mut file, args.rows, args.noise, args.seed)?;
        }
    }
    file.commit()?;
    eprintln!(
        "squiggle: wrote {} to {}",
        plural(args.rows as usize, "row"),
        args.out.display()
    );
    Ok(())
}
