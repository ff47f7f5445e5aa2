//! One module per subcommand; [`run`] dispatches.

mod backends;
mod epochs;
mod eval;
mod explain;
mod generate;
mod gradcheck;
mod plot;
mod predict;
mod train;

use std::io::Write;

use crate::args::{Cli, Command, RunArgs};
use crate::config::{self, Config, Overrides};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Gradcheck(args) => gradcheck::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Backends => backends::run(),
    }
}

/// Loads the config named by `args`, with the shared overrides and any extra ones.
fn load(args: &RunArgs, extra: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides {
        dtype: args.dtype.or(extra.dtype),
        seed: args.seed.or(extra.seed),
        backend: args.backend,
        ..extra
    };
    config::load(&args.config, &overrides)
}

/// Trains the configured network on its data with `plan` (the config's own, or a variation
/// of it) on `device`, showing every step to `on_step`.
fn train(
    config: &Config,
    plan: &squiggle_train::TrainPlan,
    device: &burn::prelude::Device,
    on_step: impl FnMut(&squiggle_train::StepRecord),
) -> Result<squiggle_train::Outcome, squiggle_train::TrainError> {
    squiggle_train::train(
        &config.arch,
        &config.initial,
        &config.data,
        plan,
        device,
        on_step,
    )
}

/// The device of the config's backend, checked to compute at the config's precision.
fn device(config: &Config) -> anyhow::Result<burn::prelude::Device> {
    use crate::backend::Backend;
    let device = config.backend.device()?;
    if config.plan.precision == squiggle_model::Precision::F64 {
        if !Backend::supports_f64(&device) {
            anyhow::bail!(
                "backend `{}` cannot compute in f64 on this device (no SHADER_F64); use `--dtype f32` or `--backend flex`",
                config.backend
            );
        }
        // An adapter may claim f64 and still compute it wrongly (Mesa's lavapipe does):
        // check the lesson's network against the host before trusting it.
        if config.backend != Backend::Flex
            && config.backend != Backend::Ndarray
            && !crate::backend::computes_f64_correctly(&device)
        {
            anyhow::bail!(
                "backend `{}` claims f64 on this device but computes it wrongly (checked on the lesson's network); use `--dtype f32` or `--backend flex`",
                config.backend
            );
        }
    }
    Ok(device)
}

/// Writes `value` as one line of JSON on stdout.
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    Ok(())
}

/// `a 1-[2]-1 softplus network on 3 data points (flex, f32)`.
fn describe_run(config: &Config) -> String {
    let rows = config.data.len();
    format!(
        "a {} network on {rows} data point{} ({}, {})",
        config.arch.describe(),
        if rows == 1 { "" } else { "s" },
        config.backend,
        config.plan.precision
    )
}
