//! `squiggle export`: a trained run's network as a file other tools read.

use std::io::Write;

use anyhow::Context;

use squiggle_train::export::{self, ExportMeta};

use crate::args::{ExportArgs, ExportFormat};
use crate::backend::{Backend, Open};
use crate::files::{AtomicFile, refuse_destroying};
use crate::run_dir;
use squiggle_train::format::plural;

/// Reads the run's checkpoint (best, else last; `--last`: last) and writes its network in
/// the chosen format, replacing `--out` only once the whole file is written.
pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    refuse_destroying("--out", &args.out, &[], Some(&args.run))?;
    let format = args.format.unwrap_or_else(|| {
        let json = args
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            ExportFormat::Json
        } else {
            ExportFormat::Safetensors
        }
    });
    let (path, checkpoint) = run_dir::load_checkpoint(&args.run, !args.last)?;
    // The weights are read back on the CPU: an export computes nothing.
    let device = Backend::Flex.device()?;
    let net = checkpoint
        .network(&device)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let described = &checkpoint.meta.network;
    let meta = ExportMeta::new(described, checkpoint.meta.scaling.as_ref());
    let (bytes, what) = match format {
        ExportFormat::Safetensors => (
            export::safetensors(&net, &meta)?,
            "safetensors, PyTorch's layout",
        ),
        ExportFormat::Json => (
            export::json(&net, &meta, described.precision)?.into_bytes(),
            "JSON, PyTorch's layout",
        ),
    };
    let mut out = AtomicFile::create(&args.out)?;
    out.write_all(&bytes)
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    out.commit()?;
    let arch = described.architecture()?;
    eprintln!(
        "squiggle: wrote the {} network ({}, {}) to {} ({what}; from {})",
        arch.describe(),
        described.columns(),
        plural(arch.num_params(), "parameter"),
        args.out.display(),
        path.display()
    );
    Ok(())
}
