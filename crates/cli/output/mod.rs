//! Everything the commands print and draw: number formats, the step table, trace files, the
//! epoch lines and progress bar, JSON summaries, and plots. Commands call into here; no
//! command imports another.

pub mod epochs;
pub mod format;
pub mod plot;
pub mod steps;
pub mod trace;

use std::io::Write;

/// Writes `value` as one line of JSON on stdout.
///
/// # Errors
/// Stdout cannot be written (a closed pipe is reported as such, and treated as success).
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    Ok(())
}

/// Writes `lines` on stdout.
///
/// # Errors
/// Stdout cannot be written.
pub fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}
