//! The only place squiggle chooses a Burn backend.

use anyhow::bail;
use burn::prelude::Device;
use squiggle_model::{Named, lesson};

pub use squiggle_config::Backend;

/// What the CLI does with a backend's name: the only place it opens one.
pub trait Open {
    /// Whether this binary was built with the backend's cargo feature.
    fn compiled(self) -> bool;

    /// The (non-autodiff) device of this backend; training calls `.autodiff()` on it.
    ///
    /// # Errors
    /// A backend not compiled in, or (wgpu) no adapter at all, each with the fix.
    fn device(self) -> anyhow::Result<Device>;
}

impl Open for Backend {
    fn compiled(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    fn device(self) -> anyhow::Result<Device> {
        match self {
            #[cfg(feature = "flex")]
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)] // offered on request; flex is the default
            Backend::Ndarray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => {
                // Chosen once per process: wgpu opens an adapter's device only once, and a
                // server asks for it with every playground.
                static CHOSEN: std::sync::OnceLock<Result<Device, String>> =
                    std::sync::OnceLock::new();
                let chosen = CHOSEN.get_or_init(|| {
                    let adapter = gpu::best_adapter().map_err(|e| e.to_string())?;
                    if adapter.software {
                        eprintln!(
                            "squiggle: wgpu found only a software adapter ({}); it gives the same numbers but runs far slower than --backend flex",
                            adapter.name
                        );
                    }
                    Ok(adapter.device)
                });
                chosen.clone().map_err(|e| anyhow::anyhow!(e))
            }
            #[allow(unreachable_patterns)]
            other => bail!(
                "backend `{other}` is not compiled into this binary; rebuild with `cargo build --release --features {other}`"
            ),
        }
    }
}

/// Whether `device` computes in f64 (every CPU backend does; wgpu needs SHADER_F64).
pub fn supports_f64(device: &Device) -> bool {
    device.supports_dtype(burn::tensor::DType::F64)
}

/// `--backend`, `--dtype` and the other named flags take the words of their [`Named`] enum,
/// with clap's own list of possible values and spelling suggestions.
pub fn named_flag<T: Named + Send + Sync>() -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::names())
        .map(|name| T::from_name(&name).expect("clap accepts only the listed names"))
}

/// Runs Pt. 1's network forward in f64 on `device` and on the host; true when they agree.
pub fn computes_f64_correctly(device: &burn::prelude::Device) -> bool {
    use burn::prelude::*;
    use squiggle_model::{Architecture, Network, Precision};
    let arch = Architecture::statquest();
    let values = lesson::PT1;
    let dosages = [0.0, 0.25, 0.5, 1.0];
    let x = Tensor::<2>::from_data(
        TensorData::new(dosages.to_vec(), [dosages.len(), 1]),
        (device, Precision::F64.dtype()),
    );
    let Ok(got) = Network::from_values(&arch, &values, device, Precision::F64)
        .forward(x)
        .try_into_vec_as::<f64>()
    else {
        return false;
    };
    got.iter().zip(dosages).all(|(g, d)| {
        let want = arch.forward_host(&values, &[d]).prediction()[0];
        (g - want).abs() <= 1e-9 * want.abs().max(1.0)
    })
}

/// wgpu adapters, best first.
#[cfg(feature = "wgpu")]
pub mod gpu {
    use anyhow::anyhow;
    use burn::prelude::{Device, DeviceKind};

    /// An adapter wgpu opened.
    pub struct Adapter {
        /// Its device.
        pub device: Device,
        /// The adapter's name (`NVIDIA H100`, `llvmpipe (LLVM 15.0.6, 256 bits)`).
        pub name: String,
        /// What kind it is, in words.
        pub kind: &'static str,
        /// A software rasterizer (lavapipe), not a GPU.
        pub software: bool,
    }

    /// Kinds in order of preference: a discrete GPU, an integrated one, a virtual one, then a
    /// software adapter.
    const PREFERENCE: [(DeviceKind, &str); 4] = [
        (DeviceKind::DiscreteGpu(0), "discrete GPU"),
        (DeviceKind::IntegratedGpu(0), "integrated GPU"),
        (DeviceKind::VirtualGpu(0), "virtual GPU"),
        (DeviceKind::Cpu, "software adapter"),
    ];

    /// Every kind of adapter that opens, best first.
    pub fn adapters() -> Vec<Adapter> {
        PREFERENCE
            .iter()
            .filter_map(|(kind, label)| open(kind.clone(), label))
            .collect()
    }

    /// The best adapter that opens.
    ///
    /// # Errors
    /// None opens: the message names the fixes.
    pub fn best_adapter() -> anyhow::Result<Adapter> {
        PREFERENCE
            .iter()
            .find_map(|(kind, label)| open(kind.clone(), label))
            .ok_or_else(|| {
                anyhow!(
                    "wgpu found no graphics adapter; install a Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers libvulkan1`) or use `--backend flex`"
                )
            })
    }

    fn open(kind: DeviceKind, label: &'static str) -> Option<Adapter> {
        // Adapter discovery talks to drivers that may panic on a broken install; treat that
        // as "no adapter of this kind" rather than crashing.
        let software = matches!(kind, DeviceKind::Cpu);
        let opened = squiggle_train::panics::catch_expected(|| {
            let device = Device::wgpu_options().device_kind(kind).init().ok()?;
            let name = device
                .identity()
                .map_or_else(|| label.to_string(), |i| i.name);
            Some((device, name))
        });
        let (device, name) = opened.ok().flatten()?;
        Some(Adapter {
            device,
            name,
            kind: label,
            software,
        })
    }
}
