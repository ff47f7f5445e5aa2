//! The only place squiggle chooses a Burn backend.

use std::fmt;

use anyhow::bail;
use burn::prelude::Device;

/// A backend the user can name with `--backend`.
///
/// Every variant exists whatever the cargo features, so the flag's help and errors are the
/// same everywhere; naming one that was not compiled in is a clear error, not a parse error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Burn's maintained pure-Rust CPU backend (SIMD, multi-threaded). The default.
    Flex,
    /// The ndarray CPU backend. Deprecated in Burn 0.22 and removed in 0.23.
    Ndarray,
}

impl Backend {
    /// The name used on the command line and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
        }
    }

    /// The (non-autodiff) device of this backend; training calls `.autodiff()` on it.
    pub fn device(self) -> anyhow::Result<Device> {
        match self {
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // offered on request; flex is the default
            Backend::Ndarray => Ok(Device::ndarray()),
            #[allow(unreachable_patterns)]
            other => bail!(
                "backend `{other}` is not compiled into this binary; rebuild with `cargo build --release --features {other}`"
            ),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
