//! `squiggle`, the binary of the root package: its manifest is the workspace's root
//! `Cargo.toml` (ripgrep's layout), whose `[[bin]]` points here.
//!
//! The command-line front end: it reads a TOML config, picks the Burn backend the user asked
//! for, runs the model and training crates, and prints what happened. Exit codes: 0 success,
//! 1 a run that started but failed (divergence, a failed check, a device that stopped
//! answering), 2 bad input (config, flags, files).
//!
//! - `args`: the command line (clap derive; the doc comments are the help);
//! - `config/`: the TOML schema, its checks and positions;
//! - `session`: loading a config, its device, and what the inspecting commands look at;
//! - `commands/`: one module per subcommand;
//! - `output/`: everything printed and drawn (tables, traces, epoch lines, JSON, plots);
//! - `run_dir`, `files`: run folders and atomic files;
//! - `serve/`: the playground and run dashboard server (`squiggle serve`);
//! - `backend`: the only place a Burn device is chosen.

mod args;
mod backend;
mod commands;
mod exit;
mod files;
mod interrupt;
mod memory;
mod output;
mod run_dir;
mod serve;
mod session;

use exit::{ThreadsUnavailable, exit_code, is_broken_pipe};
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// Training allocates tensors of the same few sizes every batch. glibc serves blocks above
/// 128 KiB (a `[1024, 64]` f32 batch is 256 KiB) with fresh `mmap`s and returns them on
/// free, so every batch paid page faults for memory it had just given back (a quarter of an
/// epoch's time with the fused kernels on two cores); keeping blocks up to 4 MiB in the heap,
/// and at most 16 MiB of freed memory at its top, lets the next batch reuse them while peak
/// memory stays bounded (the 10-million-row memory budget is unchanged).
fn keep_freed_memory_for_reuse() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only tunes the allocator, before any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
        // glibc gives each new thread an arena that reserves 64 MiB of address space. Under
        // an address-space limit (`ulimit -v`) that reservation fails, and glibc then retried
        // it and fell back to a system call on every small allocation: reading a CSV file
        // spun at full CPU for minutes. One arena, shared by the threads, reserves nothing.
        if memory::address_space_limit().is_some() {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

/// Runs `work` on a thread of the pool that the CPU kernels split their rows over (one
/// thread per core), so that each parallel kernel is shared between that thread and the
/// others, instead of being handed over by a third thread that waits for it: on two cores
/// that third thread, and the workers spinning while it ran Burn's bookkeeping between
/// kernels, competed for the cores (a quarter of an epoch's time went to scheduling).
///
/// # Errors
/// One line when the threads cannot be started (a memory or process limit too small for
/// them), instead of the panic of the first kernel that would look for the pool.
fn on_the_compute_threads<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    start_compute_threads(threads)?;
    rayon::scope(|_| work())
}

/// Starts the compute threads: `threads` of them (`--threads`), else rayon's default (one per
/// core, or `RAYON_NUM_THREADS`).
///
/// # Errors
/// As [`on_the_compute_threads`].
fn start_compute_threads(threads: Option<usize>) -> Result<(), ThreadsUnavailable> {
    // A thread that cannot allocate as it starts aborts the whole process, so the threads'
    // stacks and the headroom are checked before any is started.
    let count = threads.unwrap_or_else(|| {
        std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    });
    let needed = (count as u64).saturating_mul(STACK + (64 << 10)) + HEADROOM;
    if let Some(left) = memory::address_space_available()
        && left < needed
    {
        return Err(ThreadsUnavailable(format!(
            "{count} threads need about {} of address space; {} is left",
            squiggle_train::Bytes(needed as f64),
            squiggle_train::Bytes(left as f64)
        )));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(count)
        .stack_size(STACK as usize)
        .build_global()
        .map_err(|e| ThreadsUnavailable(e.to_string()))?;
    // Under an address-space limit just above what the binary and its threads map, the next
    // small allocation (a read buffer, a config's text) would abort the process: too little
    // is left to run any command.
    match memory::address_space_available() {
        Some(left) if left < HEADROOM => Err(ThreadsUnavailable(format!(
            "only {} of address space is left after them",
            squiggle_train::Bytes(left as f64)
        ))),
        _ => Ok(()),
    }
}

/// Each compute thread's stack: the main thread's size.
const STACK: u64 = 8 << 20;

/// The address space a command needs beyond the binary and its threads before anything it
/// reads is sized (what larger needs are checked against, one by one).
const HEADROOM: u64 = 16 << 20;

/// A file-size limit (`ulimit -f`) reached by a write kills the process with SIGXFSZ by
/// default, with no message and a temporary file behind; ignored, the write fails with
/// `EFBIG` instead, which squiggle reports as any write error: one line naming the file
/// (`File too large`), exit 2, the unfinished output removed.
fn report_file_size_limits() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code; it is done
    // before any thread is started.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Keeps the message of a panic the libraries expected and caught (a damaged checkpoint's
/// record, a driver probe; see `squiggle_train::panics`) off stderr: it becomes a one-line
/// error instead. Every other panic still prints.
fn quiet_expected_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !squiggle_train::panics::panic_expected() {
            default(info);
        }
    }));
}

fn main() -> ExitCode {
    if !memory::address_space_left_at_least(HEADROOM) {
        // Nothing that allocates: the first allocation could be the one that fails.
        let _ = std::io::stderr().write_all(
            b"squiggle: cannot start the compute threads (too little address space is left after loading the program); is a memory or process limit (ulimit -v, ulimit -u) too small?\n",
        );
        return ExitCode::from(1);
    }
    quiet_expected_panics();
    report_file_size_limits();
    keep_freed_memory_for_reuse();
    keep_default_device_on_the_cpu();
    quiet_display_probes();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version: print them as clap renders them.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err)
            if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // `squiggle` alone: the usage, as clap lays it out, on stderr (it is not a reply
            // to --help), and the bad-input exit code.
            let _ = err.print();
            return ExitCode::from(2);
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
    // The server computes on its own pool of threads; every other command on the kernels'.
    let threads = cli.threads;
    let done = if matches!(cli.command, args::Command::Serve(_)) {
        start_compute_threads(threads)
            .map_err(anyhow::Error::new)
            .and_then(|()| commands::run(cli))
    } else {
        on_the_compute_threads(threads, || commands::run(cli))
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "squiggle: {}", message(&err));
            ExitCode::from(exit_code(&err))
        }
    }
}

/// An error as one line: its chain joined by `: `, with any control character that came in
/// from a file or a flag (a newline inside a TOML string, a NUL byte) escaped.
pub fn message(err: &anyhow::Error) -> String {
    escape_controls(&format!("{err:#}"))
}

/// `text` with every control character escaped (`\n`, `\0`), so that text that came in from
/// a file, a flag or a request cannot break a one-line message.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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

/// Burn materialises a loaded optimizer state on `Device::default()` before moving it to the
/// parameters' device. With wgpu compiled in, that default would be a GPU device, which
/// fails on machines without one; pin it to flex (the state moves on at the next step
/// either way). Called first thing, before any thread exists.
fn keep_default_device_on_the_cpu() {
    #[cfg(feature = "flex")]
    if std::env::var_os("BURN_DEVICE").is_none() {
        // SAFETY: no other thread runs yet, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("BURN_DEVICE", "flex") };
    }
}

/// Mesa's Vulkan drivers look for a Wayland display when wgpu opens them, and print
/// "XDG_RUNTIME_DIR is invalid or not set" for every probe where that variable is unset (CI,
/// containers, ssh sessions). squiggle draws nothing on screen; giving the probe a folder to
/// look in (where it finds no display) keeps stderr to squiggle's own one line. Called
/// first thing, before any thread exists.
fn quiet_display_probes() {
    #[cfg(all(feature = "wgpu", unix))]
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: no other thread runs yet, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
}
