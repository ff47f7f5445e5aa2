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

/// 1 for a run that started and failed, 2 for everything a user can fix in their input.
fn exit_code(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<squiggle_train::TrainError>().is_some() {
        1
    } else {
        2
    }
}

/// A closed pipe on stdout (`squiggle train … | head`) is not an error, as in other Unix tools.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
