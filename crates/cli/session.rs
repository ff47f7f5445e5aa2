//! Loading what a command works on: the config (with the flags that override it), the
//! device, and — for the commands that look at a network rather than train it (`eval`,
//! `explain`, `gradcheck`, `plot --run`) — the data prepared exactly as training prepares it,
//! at the config's initial parameters or at a trained run's checkpoint.

use std::path::PathBuf;

use anyhow::{Context, bail};
use burn::prelude::Device;
use squiggle_model::Precision;
use squiggle_train::Prepared;

use crate::args::{RunArgs, RunSelect};
use crate::backend::{self, Backend, Open};
use crate::run_dir;
use squiggle_config::{self as config, Config, Data, Overrides};
use squiggle_train::format::plural;

/// Loads the config named by `args`, with the shared flags and any command-specific ones.
///
/// # Errors
/// A one-line error naming the file and position of the first problem.
pub fn load(args: &RunArgs, extra: Overrides) -> anyhow::Result<(Config, Data)> {
    let overrides = Overrides {
        precision: args.flags.dtype.or(extra.precision),
        kernels: args.flags.kernels.or(extra.kernels),
        seed: args.flags.seed.or(extra.seed),
        backend: args.flags.backend,
        set: args.flags.set.clone(),
        memory: Some(crate::memory::available),
        ..extra
    };
    Ok(config::load(&args.config, &overrides)?)
}

/// [`device`] as a playground asks for it ([`squiggle_playground::DeviceOf`]).
pub fn playground_device(config: &Config) -> Result<Device, String> {
    device(config).map_err(|e| crate::message(&e))
}

/// The device of the config's backend, checked to compute at the config's precision.
///
/// # Errors
/// A backend that is not compiled in or has no adapter, or one that cannot compute in f64
/// (or claims to and computes it wrongly).
pub fn device(config: &Config) -> anyhow::Result<Device> {
    let device = config.backend.device()?;
    if config.plan.precision() == Precision::F64 {
        if !crate::backend::supports_f64(&device) {
            bail!(
                "backend `{}` cannot compute in f64 on this device (no SHADER_F64); use `--dtype f32` or `--backend flex`",
                config.backend
            );
        }
        // An adapter may claim f64 and still compute it wrongly (Mesa's lavapipe does):
        // check the lesson's network against the host before trusting it.
        if config.backend != Backend::Flex
            && config.backend != Backend::Ndarray
            && !backend::computes_f64_correctly(&device)
        {
            bail!(
                "backend `{}` claims f64 on this device but computes it wrongly (checked on the lesson's network); use `--dtype f32` or `--backend flex`",
                config.backend
            );
        }
    }
    Ok(device)
}

/// `a 1-[2]-1 softplus network on 3 data points (flex, f32, fused kernels)`: what a run step
/// by step works on, as the first lines of `train`, `eval` and `explain` say it.
pub fn describe(config: &Config, rows: usize) -> String {
    format!(
        "a {} network on {} {}",
        config.arch.describe(),
        plural(rows, "data point"),
        computed_by(config)
    )
}

/// `(flex, f32, fused kernels)`: where and how a config's numbers are computed.
pub fn computed_by(config: &Config) -> String {
    format!(
        "({}, {}, {})",
        config.backend,
        config.plan.precision(),
        config.plan.kernels().label()
    )
}

/// Which parameters a session looks at.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamsAt {
    /// The config's initial parameters.
    Initial,
    /// A run's checkpoint.
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// Epochs it had completed.
        epoch: usize,
    },
}

/// A config's network and data as its training sees them, at some parameters.
pub struct Session {
    /// The config.
    pub config: Config,
    /// The data, split and standardised as training does.
    pub data: Prepared,
    /// Where the tensors live.
    pub device: Device,
    /// The parameters looked at, flat order.
    pub params: Vec<f64>,
    /// Where they come from.
    pub at: ParamsAt,
}

impl Session {
    /// Loads the config of `args` and, with `--run`, the run's checkpoint (best, or last with
    /// `--last`), whose standardisation then prepares the data.
    ///
    /// # Errors
    /// A bad config, an unavailable device, `--run` with a config that trains step by step,
    /// a missing or damaged checkpoint, or one of another network.
    pub fn open(args: &RunArgs, select: &RunSelect, extra: Overrides) -> anyhow::Result<Self> {
        let (config, data) = load(args, extra)?;
        let device = device(&config)?;
        let Some(dir) = &select.dir else {
            return Ok(Self {
                data: data.prepare(&config.plan),
                params: config.initial.clone(),
                at: ParamsAt::Initial,
                config,
                device,
            });
        };
        if !config.by_epochs() {
            bail!(
                "--run looks at runs trained by epochs; `{}` trains step by step (it has no `[train] epochs`)",
                config.path.display()
            );
        }
        let (path, checkpoint) = run_dir::load_checkpoint(dir, !select.last)?;
        // The file, then the error with its chain (a record that does not load says why).
        let in_file = || path.display().to_string();
        checkpoint
            .check_network(&config.arch, &data.train)
            .with_context(in_file)?;
        let params = checkpoint
            .network(&device)
            .with_context(in_file)?
            .values()?;
        let prepared = Prepared::resumed(
            data.train,
            data.valid,
            &config.plan,
            checkpoint.meta.scaling.clone(),
        );
        Ok(Self {
            at: ParamsAt::Checkpoint {
                path,
                epoch: checkpoint.meta.progress.epoch,
            },
            data: prepared,
            params,
            config,
            device,
        })
    }

    /// What the command looks at, for its first line: step by step `a 1-[2]-1 softplus
    /// network on 3 data points (flex, f32)`; by epochs the network, the training rows with
    /// what training did to them, and the parameters.
    pub fn describe(&self) -> String {
        if !self.config.by_epochs() {
            return describe(&self.config, self.data.train_rows().len());
        }
        format!(
            "a {} network on {}, at {} {}",
            self.config.arch.describe(),
            self.rows(),
            self.at(),
            computed_by(&self.config)
        )
    }

    /// By epochs, the training rows with what training did to them.
    fn rows(&self) -> String {
        let train = self.data.train_rows().len();
        let mut notes = Vec::new();
        if self.data.valid_len() > 0 {
            notes.push(format!(
                "{} held out for validation",
                plural(self.data.valid_len(), "row")
            ));
        }
        if self.data.scaling().is_some() {
            notes.push("standardised as training does".to_string());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        format!("the {} training rows{notes}", train)
    }

    /// `its initial parameters`, or `the parameters of run/best.ckpt (epoch 131)`.
    fn at(&self) -> String {
        match &self.at {
            ParamsAt::Initial => "its initial parameters".to_string(),
            ParamsAt::Checkpoint { path, epoch } => {
                format!("the parameters of {} (epoch {epoch})", path.display())
            }
        }
    }
}
