//! One module per subcommand; [`run`] dispatches. Commands share loading
//! ([`crate::session`]) and output ([`crate::output`]), never each other.

mod backends;
mod bench;
mod eval;
mod explain;
mod export;
mod generate;
mod gradcheck;
mod plot;
mod predict;
mod serve;
mod train;

use crate::args::{Cli, Command};

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
        Command::Export(args) => export::run(&args),
        Command::Backends => backends::run(),
        Command::Bench(args) => bench::run(&args),
        Command::Serve(args) => serve::run(&args),
    }
}
