//! `squiggle backends`: what this binary can run on.

use std::io::Write;

use squiggle_model::Named;

use crate::backend::{Backend, Open};

/// Prints each backend, whether it is compiled in, and the wgpu adapters found.
pub fn run() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for &backend in Backend::ALL {
        let status = if backend.compiled() {
            "compiled in"
        } else {
            "not compiled in (cargo feature `"
        };
        if backend.compiled() {
            writeln!(out, "{:<8} {status}", backend.name())?;
        } else {
            writeln!(out, "{:<8} {status}{}`)", backend.name(), backend.name())?;
        }
        #[cfg(feature = "wgpu")]
        if backend == Backend::Wgpu {
            let adapters = crate::backend::gpu::adapters();
            if adapters.is_empty() {
                writeln!(
                    out,
                    "         no adapter found: install a Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers libvulkan1`)"
                )?;
            }
            for (i, a) in adapters.iter().enumerate() {
                let f64_note = match (
                    crate::backend::supports_f64(&a.device),
                    crate::backend::computes_f64_correctly(&a.device),
                ) {
                    (true, true) => "f32, f64",
                    (true, false) => "f32; its f64 computes wrongly, so squiggle refuses it",
                    (false, _) => "f32 only",
                };
                let chosen = if i == 0 {
                    "  <- used by --backend wgpu"
                } else {
                    ""
                };
                writeln!(out, "         {}: {} ({f64_note}){chosen}", a.kind, a.name)?;
            }
        }
    }
    Ok(())
}
