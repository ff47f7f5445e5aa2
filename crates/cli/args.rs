//! Command-line arguments. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::backend::Backend;
use crate::config::Dtype;

/// Backpropagation, step by step: StatQuest's neural-network lessons on Burn.
///
/// Exit codes: 0 success, 1 the run diverged, 2 bad input (config, flags, files).
#[derive(Debug, Parser)]
#[command(name = "squiggle", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train the configured network with gradient descent and print the step table.
    Train(TrainArgs),
    /// Run the configured network forward on its data: predictions and loss, no training.
    Eval(EvalArgs),
}

/// Options every command that reads a config shares.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML config (see configs/ and README.md).
    pub config: PathBuf,
    /// Where the tensors live: `flex` (pure-Rust CPU, default) or `ndarray` (deprecated upstream).
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    pub backend: Backend,
    /// Float precision; overrides `[train] dtype`.
    #[arg(long, value_enum)]
    pub dtype: Option<Dtype>,
    /// Seed of the initialiser; overrides `[model] seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print one JSON object on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// `squiggle train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Learning rate; overrides `[train] learning_rate`.
    #[arg(long, value_parser = positive_number)]
    pub learning_rate: Option<f64>,
    /// Maximum number of steps; overrides `[train] max_steps`.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Write every step to this CSV file (step, loss, then value, derivative and step size of
    /// each trainable parameter).
    #[arg(long, value_name = "FILE.csv")]
    pub trace: Option<PathBuf>,
    /// Print every step instead of the first and last ones.
    #[arg(long)]
    pub all_steps: bool,
}

/// `squiggle eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

fn positive_number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a positive number, got {x}")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}
