//! `squiggle`: backpropagation, step by step.
//!
//! The command-line front end: it reads a TOML config, picks the Burn backend the user asked
//! for, runs the model and training crates, and prints what happened. Exit codes: 0 success,
//! 1 a run that started but failed (divergence), 2 bad input (config, flags, files).

mod args;
mod backend;
mod commands;
mod config;
mod files;
mod format;
mod plot;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version: print them as clap renders them.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "squiggle: {}",
                one_line(&err.to_string())
            );
            return ExitCode::from(2);
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "squiggle: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}

/// clap's report on one line, like every other squiggle error: the message, possible values
/// and tips, without the usage block (`--help` shows that).
fn one_line(report: &str) -> String {
    let kept: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    let joined = kept.join(" ");
    joined
        .strip_prefix("error: ")
        .unwrap_or(&joined)
        .to_string()
}

/// A check that ran and found a problem (a gradient check, an explanation whose three
/// derivatives disagree): exit code 1, like a diverged run.
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl std::fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

/// 1 for a run that started and failed, 2 for everything a user can fix in their input.
fn exit_code(err: &anyhow::Error) -> u8 {
    let failed_run = err.downcast_ref::<squiggle_train::TrainError>().is_some()
        || err.downcast_ref::<CheckFailed>().is_some();
    if failed_run { 1 } else { 2 }
}

/// A closed pipe on stdout (`squiggle train … | head`) is not an error, as in other Unix tools.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
