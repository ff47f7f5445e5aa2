//! One module per subcommand; [`run`] dispatches.

mod eval;
mod explain;
mod generate;
mod gradcheck;
mod plot;
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
    }
}

/// Loads the config named by `args`, with the shared overrides and any extra ones.
fn load(args: &RunArgs, extra: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides {
        dtype: args.dtype.or(extra.dtype),
        seed: args.seed.or(extra.seed),
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

/// Writes `value` as one line of JSON on stdout.
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    Ok(())
}

/// `a 1-[2]-1 softplus network on 3 data points (flex, f32)`.
fn describe_run(config: &Config, args: &RunArgs) -> String {
    let rows = config.data.len();
    format!(
        "a {} network on {rows} data point{} ({}, {})",
        config.arch.describe(),
        if rows == 1 { "" } else { "s" },
        args.backend,
        config.plan.precision
    )
}
