//! Command-line arguments. The doc comments are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use squiggle_model::Precision;
use squiggle_train::Kernels;

use crate::backend::{Backend, named_flag};
use squiggle_config::Overrides;

/// Backpropagation, step by step: StatQuest's neural-network lessons on Burn.
///
/// Exit codes: 0 success, 1 the run diverged, 2 bad input (config, flags, files).
#[derive(Debug, Parser)]
#[command(name = "squiggle", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Compute threads for the CPU backends and the CSV reader (default: one per core, or
    /// RAYON_NUM_THREADS when set).
    #[arg(long, global = true, value_name = "N", value_parser = thread_count)]
    pub threads: Option<usize>,
}

/// `--threads`: a whole number from 1 up.
fn thread_count(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) if n <= 4096 => Ok(n),
        Ok(n) => Err(format!("{n} threads is more than 4096")),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train the configured network with gradient descent and print the step table.
    Train(TrainArgs),
    /// Run the configured network forward on its data: predictions and loss, no training;
    /// with --run, a trained run's metrics on its data or (--data) on a labelled file.
    Eval(EvalArgs),
    /// Break one step's derivatives into their chain-rule factors, and check them against
    /// Burn's autodiff and finite differences.
    Explain(ExplainArgs),
    /// Compare Burn's autodiff with central finite differences for every parameter.
    /// Exit 0 when the worst error is within the tolerance, 1 otherwise.
    Gradcheck(GradcheckArgs),
    /// Train, then draw the fit, the loss landscape and the loss curve (SVG and PNG); for a
    /// config that trains by epochs, the loss and R² per epoch and predicted against observed.
    Plot(PlotArgs),
    /// Write a synthetic CSV data set.
    Generate(GenerateArgs),
    /// Predict with a trained run: its best checkpoint (else its last) on new rows.
    Predict(PredictArgs),
    /// Write a trained run's network for other tools: safetensors in PyTorch's layout (an
    /// `nn.Sequential` of `nn.Linear` layers) with its columns' scaling, or plain JSON.
    Export(ExportArgs),
    /// List the backends compiled into this binary and, for wgpu, the adapters found.
    Backends,
    /// Serve the playground (the lesson live in the browser: step, freeze, drag points) and,
    /// with --run, a dashboard of training runs, at http://127.0.0.1:8000/.
    Serve(ServeArgs),
    /// Time training on fixed work (the lesson step, mini-batch SGD on the dosage data set)
    /// on every compiled backend, beside a plain-Rust baseline doing the same work.
    Bench(BenchArgs),
}

/// `squiggle serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The config a new playground opens on (one input, one output, trained step by step);
    /// default: the built-in configs/statquest-pt2.toml.
    pub config: Option<PathBuf>,
    /// The port to listen on; 0 picks a free one (the URL is printed).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// The address to listen on: 127.0.0.1 serves this machine only; 0.0.0.0 serves every
    /// machine that can reach this one (the API has no authentication).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Open the page in the desktop's browser.
    #[arg(long)]
    pub open: bool,
    /// A run folder written by `squiggle train --run-dir`, or a folder of them: served as
    /// live curves at /runs.
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Compute on this backend instead of the config's.
    #[arg(long, value_parser = named_flag::<Backend>())]
    pub backend: Option<Backend>,
}

/// `squiggle bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A backend to time (repeat the flag for several; default: every compiled backend).
    #[arg(long = "backend", value_name = "BACKEND", value_parser = named_flag::<Backend>())]
    pub backends: Vec<Backend>,
    /// Kernels to time on each backend: `burn` (Burn's autodiff of the module) or `fused`
    /// (squiggle's hand-written kernels); repeat for both (the default).
    #[arg(long = "kernels", value_name = "KERNELS", value_parser = named_flag::<Kernels>())]
    pub kernels: Vec<Kernels>,
    /// Runs of each case; the table shows the median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeats: u64,
    /// Rows of the dosage data set the three mini-batch cases train on.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub rows: u64,
    /// Rows of the large case's data set (held in memory, 8 bytes a row).
    #[arg(long, default_value_t = 10_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub large_rows: u64,
    /// Steps of the lesson case.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(2..=100_000_000))]
    pub lesson_steps: u64,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `squiggle predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder written by `squiggle train --run-dir`.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Rows to predict: a CSV file (plain, gzip or zstd) with (at least) the run's input
    /// columns.
    #[arg(long, value_name = "X.csv")]
    pub input: PathBuf,
    /// Where to write the input columns followed by the predicted targets.
    #[arg(long, value_name = "Y.csv")]
    pub output: PathBuf,
    /// The character between the input's fields (default `,`; `;`, `\t`, …); the output
    /// uses it too.
    #[arg(long, value_parser = delimiter_flag, value_name = "CHAR")]
    pub delimiter: Option<u8>,
    /// Where the tensors live (default: flex).
    #[arg(long, value_parser = named_flag::<Backend>())]
    pub backend: Option<Backend>,
    /// What computes the forward pass: `fused` (squiggle's kernels, default) or `burn`
    /// (Burn's operations on the module).
    #[arg(long, value_parser = named_flag::<Kernels>())]
    pub kernels: Option<Kernels>,
    /// Use the last checkpoint even when the run kept a best one.
    #[arg(long)]
    pub last: bool,
}

/// `squiggle export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run folder written by `squiggle train --run-dir`.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Where to write the network.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// `safetensors` (PyTorch's layout; the default) or `json` (the default for an --out
    /// ending in `.json`).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Use the last checkpoint even when the run kept a best one.
    #[arg(long)]
    pub last: bool,
}

/// What `squiggle export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The weights as safetensors, keyed as an `nn.Sequential`'s `state_dict`, the columns
    /// and their scaling in the metadata key `squiggle`.
    Safetensors,
    /// One JSON object: `squiggle` (the same description) and `layers` (`weight` as
    /// `[out][in]` rows, `bias`).
    Json,
}

/// The synthetic data sets `squiggle generate` can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Synthetic {
    /// `dosage,efficacy`: the lesson's curve (low and high doses ineffective, the middle
    /// effective) plus Gaussian noise; dosages uniform in [0, 1].
    Dosage,
}

/// `squiggle generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Which data set.
    #[arg(value_enum)]
    pub kind: Synthetic,
    /// Number of rows.
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,
    /// Standard deviation of the noise added to the efficacy.
    #[arg(long, default_value_t = 0.1, value_parser = non_negative_number)]
    pub noise: f64,
    /// Seed of the generator: the same seed writes the same file.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The CSV file to write.
    #[arg(long, value_name = "FILE.csv")]
    pub out: PathBuf,
}

/// A config and the options every command that reads one shares.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// The TOML config (see configs/ and docs/config.md).
    pub config: PathBuf,
    #[command(flatten)]
    pub flags: ConfigFlags,
}

/// The options every command that reads a config shares.
#[derive(Clone, Debug, Args)]
pub struct ConfigFlags {
    /// Where the tensors live: `flex` (pure-Rust CPU, default), `ndarray` (deprecated
    /// upstream) or `wgpu` (GPU); overrides `[train] backend`. See `squiggle backends`.
    #[arg(long, value_parser = named_flag::<Backend>())]
    pub backend: Option<Backend>,
    /// Float precision; overrides `[train] dtype`.
    #[arg(long, value_parser = named_flag::<Precision>())]
    pub dtype: Option<Precision>,
    /// What computes the forward and backward passes: `fused` (squiggle's hand-written
    /// kernels, default) or `burn` (Burn's autodiff of the module, the reference); overrides
    /// `[train] kernels`.
    #[arg(long, value_parser = named_flag::<Kernels>())]
    pub kernels: Option<Kernels>,
    /// Seed of the initialiser, the validation split and the shuffles; overrides `[model]
    /// seed`. At most 9223372036854775807, the largest integer a TOML file holds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Set any config key, checked as if the file said it (repeatable):
    /// `--set train.batch_size=64`, `--set model.hidden=[8,8]`, `--set model.activation=relu`.
    /// A path is relative to the working folder. The flags above take precedence.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print one JSON object on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// The flags that change how a config trains, shared by every command that trains
/// (`train`, `plot`).
#[derive(Debug, Args)]
pub struct TrainingFlags {
    /// Learning rate; overrides `[train] learning_rate`.
    #[arg(long, value_parser = positive_number)]
    pub learning_rate: Option<f64>,
    /// Maximum number of steps; overrides `[train] max_steps`.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Number of epochs; overrides `[train] epochs` (and trains by epochs).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: Option<u64>,
}

impl TrainingFlags {
    /// The config overrides these flags make.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            learning_rate: self.learning_rate,
            max_steps: self.max_steps,
            epochs: self.epochs.map(|e| e as usize),
            ..Overrides::default()
        }
    }
}

/// `squiggle train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The TOML config (see configs/ and docs/config.md); with --resume it defaults to the config
    /// the run resolved (DIR/config.toml).
    #[arg(required_unless_present = "resume")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: ConfigFlags,
    #[command(flatten)]
    pub training: TrainingFlags,
    /// Keep the run in this folder: the resolved config, metrics.csv, and the last and best
    /// checkpoints (training by epochs only).
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Add the process's peak memory (`peak_memory_mb`, Linux only) to the `--json` summary.
    #[arg(long)]
    pub report_memory: bool,
    /// Continue the run kept in this folder from its last checkpoint, up to the configured
    /// epochs (it keeps writing there unless --run-dir says otherwise).
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Write every step to this file: CSV for `.csv` (step, loss, then value, derivative and
    /// step size of each trainable parameter), JSON Lines for `.jsonl`.
    #[arg(long, value_name = "FILE.csv|FILE.jsonl")]
    pub trace: Option<PathBuf>,
    /// Print every step instead of the first and last ones.
    #[arg(long)]
    pub all_steps: bool,
    /// Also draw the plots of `squiggle plot` into this folder (SVG and PNG).
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    #[command(flatten)]
    pub plots: PlotOptions,
}

/// Options of the plots (`squiggle plot`, `squiggle train --plot`).
#[derive(Debug, Args)]
pub struct PlotOptions {
    /// The parameter on the x axis of the loss landscape (default: the first trainable one);
    /// name two (`--param w3 w4`) to also draw `contour`: the loss over both, with the path.
    #[arg(long = "param", value_name = "NAME", num_args = 1..=2)]
    pub landscape_params: Vec<String>,
    /// Also write `animation.gif`: the fit and the landscape, one frame per step (at most 60,
    /// evenly sampled).
    #[arg(long)]
    pub animate: bool,
}

/// `--run DIR [--last]`: look at a trained run instead of the config's initial parameters.
#[derive(Debug, Args)]
pub struct RunSelect {
    /// Look at this run folder (written by `squiggle train --run-dir`) at its best
    /// checkpoint, with the data prepared as that run prepared it (training by epochs only).
    #[arg(long = "run", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// With --run: the last checkpoint instead of the best one.
    #[arg(long, requires = "dir")]
    pub last: bool,
}

/// `squiggle plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub training: TrainingFlags,
    #[command(flatten)]
    pub select: RunSelect,
    /// The folder to write fit, landscape and loss plots into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub plots: PlotOptions,
}

/// `squiggle explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub select: RunSelect,
    /// Print every data row of the factor tables (long tables show their first and last rows).
    #[arg(long)]
    pub all_rows: bool,
    /// Which step of the configured training to explain (0 = the first; by epochs, steps
    /// count mini-batches). Not with --run, which explains the run's checkpoint.
    #[arg(long, default_value_t = 0, conflicts_with = "dir")]
    pub step: usize,
    /// Parameters to explain (names or tensor paths; default: every trainable one).
    /// `--param w1 b3` and `--param w1 --param b3` are the same.
    #[arg(long = "param", value_name = "NAME", num_args = 1..)]
    pub params: Vec<String>,
}

/// `squiggle gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub select: RunSelect,
    /// Largest accepted error |autodiff − numeric| / max(|autodiff|, |numeric|, 1e-3), or
    /// what rounding in the loss allows where that is more. Defaults to 1e-6 in f64 and 1e-2
    /// in f32 (finite differences are coarse in f32).
    #[arg(long, value_parser = positive_number)]
    pub tolerance: Option<f64>,
    /// Test hook: multiply the autodiff derivative of this parameter by 1.01 before
    /// comparing, to prove the check fails on a wrong gradient.
    #[arg(long, hide = true, value_name = "NAME")]
    pub perturb: Option<String>,
}

/// `squiggle eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The TOML config (see configs/ and docs/config.md); with --run it defaults to the config
    /// the run resolved (DIR/config.toml).
    #[arg(required_unless_present = "dir")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: ConfigFlags,
    #[command(flatten)]
    pub select: RunSelect,
    /// With --run: score the run on this labelled CSV file (with the run's input and target
    /// columns), in the data's own units as the epoch lines report it: MSE, RMSE, MAE, R².
    #[arg(
        long,
        value_name = "FILE.csv",
        requires = "dir",
        conflicts_with_all = ["config", "dtype", "seed", "set"]
    )]
    pub data: Option<PathBuf>,
    /// With --data: the character between the file's fields (default `,`; `;`, `\t`, …).
    #[arg(long, requires = "data", value_parser = delimiter_flag, value_name = "CHAR")]
    pub delimiter: Option<u8>,
    /// Print every data row (long tables show their first and last rows).
    #[arg(long)]
    pub all_rows: bool,
}

/// `--delimiter`: one character, as `[data] delimiter` takes it; `\t` spelled out is a tab.
fn delimiter_flag(s: &str) -> Result<u8, String> {
    squiggle_config::delimiter(if s == "\\t" { "\t" } else { s })
}

fn non_negative_number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a number ≥ 0, got {x}")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

fn positive_number(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("must be a positive number, got {x}")),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}
