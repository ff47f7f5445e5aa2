//! Run folders and outputs are safe: one writer at a time, never the user's own files, no
//! stray temporary files after a killed run, and no output written over an input or a run.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A config training by epochs on `rows` generated rows, `epochs` epochs of 16-row batches.
fn long_run(dir: &Path, rows: u64, epochs: u64) -> String {
    generate(dir, rows, "d.csv", &[]);
    write(
        dir,
        "c.toml",
        &format!(
            "[model]\nhidden = [8]\n[data]\ncsv = \"d.csv\"\n[train]\nbatch_size = 16\nepochs = {epochs}\n"
        ),
    )
}

/// Starts `squiggle ARGS` in `dir` without waiting; stdout and stderr as given.
fn start(dir: &Path, args: &[&str], stdout: Stdio, stderr: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_squiggle"))
        .args(args)
        .current_dir(dir)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Whether process `pid` has a file open in `dir` (a nameless temporary file shows there as
/// `dir/#123 (deleted)`).
fn writes_into(pid: u32, dir: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let dir = std::fs::canonicalize(dir).unwrap();
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| target.starts_with(&dir))
}

/// Polls `ready` until it gives a value (at most `seconds`, failing with `what`).
fn wait_for<T>(what: &str, seconds: u64, mut ready: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(seconds), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_second_writer_is_refused_naming_the_first() {
    let dir = scratch();
    let config = long_run(dir.path(), 100_000, 1000);
    let mut first = start(
        dir.path(),
        &["train", &config, "--run-dir", "run"],
        Stdio::null(),
        Stdio::null(),
    );
    let marker = dir.path().join("run/.squiggle-run");
    let pid = wait_for("the first run never locked", 30, || {
        let text = std::fs::read_to_string(&marker).unwrap_or_default();
        (!text.trim().is_empty()).then(|| text.trim().to_string())
    });
    assert_eq!(pid, first.id().to_string());
    let second = squiggle_in(dir.path(), &["train", &config, "--run-dir", "run"]);
    let resumed = squiggle_in(dir.path(), &["train", &config, "--resume", "run"]);
    first.kill().unwrap();
    first.wait().unwrap();
    let in_use = format!(
        "squiggle: `run` is in use: squiggle process {pid} is training into it; wait for it to finish or choose another folder"
    );
    second.fails_with(2, &in_use);
    // (`--resume` either finds no checkpoint yet or the folder in use: never a second writer.)
    assert_eq!(resumed.status, 2, "{resumed}");
}

#[test]
fn a_folder_squiggle_did_not_make_is_used_only_when_empty() {
    let dir = scratch();
    let config = long_run(dir.path(), 200, 1);
    // The user's own folder (here: the working folder) keeps its files.
    std::fs::write(dir.path().join("metrics.csv"), "mine\n").unwrap();
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "."]).fails_with(
        2,
        "squiggle: `.` holds files squiggle did not write; --run-dir writes config.toml, metrics.csv and checkpoints there, so it takes a new or empty folder",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap(),
        "mine\n"
    );
    assert!(!dir.path().join("config.toml").exists());
    // An empty folder is taken, and marked as squiggle's.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "empty"]).success();
    assert!(dir.path().join("empty/last.ckpt").is_file());
    assert!(dir.path().join("empty/.squiggle-run").is_file());
    // A file is not a folder.
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "d.csv"]).fails_with(
        2,
        "squiggle: cannot use `d.csv` as a run folder: it is a file",
    );
}

#[test]
fn a_killed_runs_temporary_files_are_removed_when_the_run_goes_on() {
    let dir = scratch();
    let config = long_run(dir.path(), 200, 1);
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "run"]).success();
    // What a run killed in the middle of writing a checkpoint leaves.
    let stray = dir.path().join("run/.tmpAbC123");
    std::fs::write(&stray, b"half a checkpoint").unwrap();
    squiggle_in(
        dir.path(),
        &["train", &config, "--resume", "run", "--epochs", "2"],
    )
    .success();
    assert!(!stray.exists(), "the stray temporary file is gone");
    assert!(dir.path().join("run/last.ckpt").is_file());
}

#[test]
fn predict_never_writes_over_its_input_or_the_run() {
    let dir = scratch();
    let config = long_run(dir.path(), 200, 1);
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "run"]).success();
    std::fs::write(dir.path().join("x.csv"), "dosage\n0.5\n").unwrap();
    let before = std::fs::read(dir.path().join("run/last.ckpt")).unwrap();
    let predict = |output: &str| {
        squiggle_in(
            dir.path(),
            &[
                "predict", "--run", "run", "--input", "x.csv", "--output", output,
            ],
        )
    };
    predict("x.csv").fails_with(
        2,
        "squiggle: --output `x.csv` is the --input file; write to another file",
    );
    predict("./x.csv").fails_with(
        2,
        "squiggle: --output `./x.csv` is the --input file; write to another file",
    );
    predict("run/last.ckpt").fails_with(
        2,
        "squiggle: --output `run/last.ckpt` is inside the run folder `run`, which holds the run's own files; write elsewhere",
    );
    predict("run/predictions.csv").fails_with(
        2,
        "squiggle: --output `run/predictions.csv` is inside the run folder `run`, which holds the run's own files; write elsewhere",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("x.csv")).unwrap(),
        "dosage\n0.5\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join("run/last.ckpt")).unwrap(),
        before
    );
    predict("y.csv").success();
    assert!(
        std::fs::read_to_string(dir.path().join("y.csv"))
            .unwrap()
            .starts_with("dosage,predicted_efficacy\n0.5,")
    );
}

#[test]
fn a_trace_never_writes_over_the_config_or_its_data() {
    let dir = scratch();
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "20", "--out", "d.csv"],
    )
    .success();
    let config = write(
        dir.path(),
        "c.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"d.csv\"\n[train]\nmax_steps = 2\n",
    );
    let data = std::fs::read(dir.path().join("d.csv")).unwrap();
    squiggle_in(dir.path(), &["train", &config, "--trace", "d.csv"]).fails_with(
        2,
        "squiggle: --trace `d.csv` is the data file; write to another file",
    );
    squiggle_in(dir.path(), &["train", &config, "--trace", "c.toml"]).fails_with(
        2,
        "squiggle: --trace `c.toml` is the config file; write to another file",
    );
    assert_eq!(std::fs::read(dir.path().join("d.csv")).unwrap(), data);
    squiggle_in(dir.path(), &["train", &config, "--trace", "t.csv"]).success();
    assert!(dir.path().join("t.csv").is_file());
}

#[test]
fn a_closed_stdout_never_stops_training() {
    use std::io::BufRead;
    let dir = scratch();
    // Long enough (about half a second) that the pipe closes while it trains.
    let config = long_run(dir.path(), 2000, 200);
    let mut child = start(
        dir.path(),
        &["train", &config, "--run-dir", "run"],
        Stdio::piped(),
        Stdio::null(),
    );
    // `| head -1`: read one line, then close the pipe.
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("Training a 1-[8]-1"), "{first}");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let metrics = std::fs::read_to_string(dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(
        metrics.lines().count(),
        201,
        "every epoch trained and recorded"
    );
}

#[test]
fn a_resume_compares_the_start_by_its_values_not_how_it_is_written() {
    let dir = scratch();
    crate::util::generate(dir.path(), 60, "d.csv", &[]);
    let body = "[data]\ncsv = \"d.csv\"\n\n[train]\nepochs = 1\nbatch_size = 20\n";
    let lesson = write(
        dir.path(),
        "a.toml",
        &format!("[model]\nseed = 5\n\n[model.init]\nw1 = 3.34\nw2 = -3.53\n\n{body}"),
    );
    squiggle_in(dir.path(), &["train", &lesson, "--run-dir", "run"]).success();
    // The same start written by tensor path: the same run.
    let paths = write(
        dir.path(),
        "b.toml",
        &format!(
            "[model]\nseed = 5\n\n[model.init]\n\"hidden.0.weight\" = [[3.34, -3.53]]\n\n{body}"
        ),
    );
    let resumed = squiggle_in(
        dir.path(),
        &["train", &paths, "--resume", "run", "--epochs", "2"],
    );
    assert!(
        resumed.success().contains("Resuming after epoch 1 of 2."),
        "{resumed}"
    );
    // Every drawn value written out, as run folders of earlier versions did: the same start.
    // (The drawn values in f64: the same network, seed and initializer, not trained.)
    let same_draw = write(
        dir.path(),
        "draw.toml",
        "[model]\nseed = 5\ninitializer = \"uniform\"\n\n[model.init]\nw1 = 3.34\nw2 = -3.53\n",
    );
    let drawn = squiggle_in(
        dir.path(),
        &[
            "train",
            &same_draw,
            "--max-steps",
            "0",
            "--dtype",
            "f64",
            "--json",
        ],
    )
    .json();
    let values: Vec<String> = ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]
        .iter()
        .map(|n| format!("{n} = {}", drawn["params"][n]))
        .collect();
    let run_config = dir.path().join("run/config.toml");
    let text = std::fs::read_to_string(&run_config).unwrap();
    // (The resume wrote b.toml's form; the table ends at the next blank line.)
    let (head, rest) = text
        .split_once("[model.init]\n")
        .expect("a [model.init] table");
    let (_, tail) = rest.split_once("\n\n").expect("a blank line after it");
    let old = format!("{head}[model.init]\n{}\n\n{tail}", values.join("\n"));
    assert_ne!(old, text, "the run's config has the table:\n{text}");
    std::fs::write(&run_config, old).unwrap();
    let resumed = squiggle_in(
        dir.path(),
        &["train", &lesson, "--resume", "run", "--epochs", "3"],
    );
    assert!(
        resumed.success().contains("Resuming after epoch 2 of 3."),
        "{resumed}"
    );
    // Another start is another run.
    let other = write(
        dir.path(),
        "c.toml",
        &format!("[model]\nseed = 5\n\n[model.init]\nw1 = 3.34\nw2 = -3.5\n\n{body}"),
    );
    squiggle_in(dir.path(), &["train", &other, "--resume", "run", "--epochs", "4"]).fails_with(
        2,
        "squiggle: cannot resume `run`: the config changes what the run is (model.init changed); resume with the run's own config (`run/config.toml`) or train a new run",
    );
}

#[test]
fn a_resume_refuses_what_would_change_the_run_and_writes_nothing_when_done() {
    let dir = scratch();
    let config = root().join("configs/diabetes.toml");
    let config = config.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", config];
        args.extend_from_slice(extra);
        squiggle_in(dir.path(), &args)
    };
    train(&["--epochs", "2", "--run-dir", "run"]).success();
    let run_config = || std::fs::read(dir.path().join("run/config.toml")).unwrap();
    let before = run_config();
    train(&["--epochs", "4", "--resume", "run", "--seed", "3"]).fails_with(
        2,
        "squiggle: cannot resume `run`: the config changes what the run is (model.seed 7 → 3); resume with the run's own config (`run/config.toml`) or train a new run",
    );
    let out = train(&[
        "--epochs",
        "4",
        "--resume",
        "run",
        "--set",
        "data.valid_fraction=0.3",
        "--set",
        "data.standardize=false",
    ]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .contains("(data.valid_fraction 0.2 → 0.3; data.standardize true → false)"),
        "{out}"
    );
    // Nothing to do: nothing is written (the run keeps its planned epochs).
    let done = train(&["--epochs", "1", "--resume", "run"]);
    assert!(done.success().contains("Nothing to do"), "{done}");
    assert_eq!(run_config(), before);
    // A history cut short is not resumed over.
    let metrics = dir.path().join("run/metrics.csv");
    let full = std::fs::read_to_string(&metrics).unwrap();
    let cut: String = full.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&metrics, &cut).unwrap();
    train(&["--epochs", "4", "--resume", "run"]).fails_with(
        2,
        "squiggle: cannot resume: `run/metrics.csv` holds 1 epoch where the checkpoint says 2 (the history was cut or edited, or the checkpoint's header was); restore them, or train a new run",
    );
    assert_eq!(run_config(), before);
    // What may change does: more epochs, another learning rate.
    std::fs::write(&metrics, &full).unwrap();
    train(&[
        "--epochs",
        "3",
        "--resume",
        "run",
        "--learning-rate",
        "0.005",
    ])
    .success();
    assert_eq!(
        std::fs::read_to_string(&metrics).unwrap().lines().count(),
        4
    );
}

/// A checkpoint file's three sections (header, model, optimizer).
fn sections(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let magic_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut rest = &bytes[magic_end..bytes.len() - 8];
    let mut parts = Vec::new();
    for _ in 0..3 {
        let len = u64::from_le_bytes(rest[..8].try_into().unwrap()) as usize;
        parts.push(rest[8..8 + len].to_vec());
        rest = &rest[8 + len..];
    }
    (bytes[..magic_end].to_vec(), parts)
}

/// The file of a checkpoint with these sections, its checksum valid (what a forger writes).
fn checkpoint_file(magic: &[u8], parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = magic.to_vec();
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_le_bytes());
        out.extend_from_slice(part);
    }
    let sum = out.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

#[test]
fn a_forged_checkpoint_is_refused_not_spun_on_or_predicted_from() {
    let dir = scratch();
    let config = long_run(dir.path(), 200, 2);
    let v = squiggle_in(
        dir.path(),
        &["train", &config, "--run-dir", "run", "--json"],
    )
    .json();
    let last = dir.path().join("run/last.ckpt");
    let (magic, parts) = sections(&std::fs::read(&last).unwrap());
    // A header claiming 2^64 − 1 epochs, with a valid checksum.
    let header = String::from_utf8(parts[0].clone()).unwrap();
    assert!(header.contains("\"epoch\":2"), "{header}");
    let forged = header.replacen("\"epoch\":2", "\"epoch\":18446744073709551615", 1);
    let mut absurd = parts.clone();
    absurd[0] = forged.into_bytes();
    std::fs::write(&last, checkpoint_file(&magic, &absurd)).unwrap();
    squiggle_in(dir.path(), &["train", &config, "--resume", "run", "--epochs", "4"]).fails_with(
        2,
        "squiggle: cannot resume: `run/metrics.csv` holds 2 epochs where the checkpoint says 18446744073709551615 (the history was cut or edited, or the checkpoint's header was); restore them, or train a new run",
    );
    // Weights that are not numbers are never predicted from.
    let w1 = number(&v["params"], "w1") as f32;
    let pattern = w1.to_le_bytes();
    let mut nan = parts.clone();
    let at = nan[1]
        .windows(4)
        .position(|w| w == pattern)
        .expect("the first weight in the model record");
    nan[1][at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(&last, checkpoint_file(&magic, &nan)).unwrap();
    std::fs::write(dir.path().join("x.csv"), "dosage\n0.5\n").unwrap();
    squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--last", "--input", "x.csv", "--output", "y.csv",
        ],
    )
    .fails_with(
        2,
        "squiggle: run/last.ckpt: the checkpoint's weights are not all finite (parameter 0 is NaN)",
    );
    assert!(!dir.path().join("y.csv").exists());
}

#[test]
fn a_run_continued_into_another_folder_carries_its_history_there() {
    let dir = scratch();
    let config = long_run(dir.path(), 200, 2);
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "a"]).success();
    let continue_into_b = |epochs: &str| {
        let args = [
            "train",
            &config,
            "--resume",
            "a",
            "--run-dir",
            "b",
            "--epochs",
            epochs,
        ];
        squiggle_in(dir.path(), &args)
    };
    continue_into_b("3").success();
    let rows = |folder: &str| {
        std::fs::read_to_string(dir.path().join(folder).join("metrics.csv"))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(
        (rows("a"), rows("b")),
        (3, 4),
        "a untouched, b with every epoch"
    );
    // The other folder now holds a run of its own, which is never overwritten.
    continue_into_b("4").fails_with(
        2,
        "squiggle: `b` already holds a run; continue it with `--resume b` or choose another folder",
    );
}

/// Sends `signal` (a `kill` name: INT, TERM) to `child`.
fn send(child: &std::process::Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

#[test]
fn a_signal_stops_training_at_a_safe_point_and_the_run_resumes_exactly() {
    interrupt_and_resume("");
}

#[test]
fn a_streamed_run_stopped_inside_an_epoch_resumes_at_its_next_batch_exactly() {
    // The buffer holds fewer rows than the file, so the rows come in the stream's own order,
    // replayed up to the stop on resume.
    interrupt_and_resume("stream = true\nshuffle_buffer = 500\nvalid_fraction = 0.1\n");
}

/// Interrupts a long run (its `[data]` given `data`) inside an epoch, resumes it, and
/// compares it with the run never interrupted.
fn interrupt_and_resume(data: &str) {
    let dir = scratch();
    let config = long_run(dir.path(), 20_000, 1000);
    let text = std::fs::read_to_string(dir.path().join(&config)).unwrap();
    let text = text.replace("[train]", &format!("{data}[train]"));
    std::fs::write(dir.path().join(&config), text).unwrap();
    let child = start(
        dir.path(),
        &["train", &config, "--run-dir", "run"],
        Stdio::null(),
        Stdio::piped(),
    );
    let metrics = dir.path().join("run/metrics.csv");
    wait_for("no epoch finished", 60, || {
        let rows = std::fs::read_to_string(&metrics).map_or(0, |t| t.lines().count());
        (rows >= 3).then_some(())
    });
    send(&child, "INT");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // `interrupted in epoch 4 after 1,616 of 20,000 rows; `run` keeps epoch 3 and 1,616 rows
    // of epoch 4: resume with --resume run`
    let words: Vec<&str> = stderr.split_whitespace().collect();
    assert!(
        stderr.starts_with("squiggle: interrupted in epoch ")
            && stderr.trim_end().ends_with("resume with --resume run"),
        "{stderr}"
    );
    let after = |word: &str, n: usize| words[words.iter().position(|w| *w == word).unwrap() + n];
    let rows = after("after", 1);
    assert_eq!(after("keeps", 4), rows, "{stderr}");
    let kept: usize = after("keeps", 2)
        .parse()
        .unwrap_or_else(|_| panic!("{stderr}"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Resumed, it finishes the epoch it stopped in and is the run that was never
    // interrupted: the same parameters and the same last epoch's figures.
    let epochs = (kept + 2).to_string();
    let resume = ["train", &config, "--resume", "run", "--epochs", &epochs];
    let shown = squiggle_in(dir.path(), &resume);
    assert!(
        shown.success().contains(&format!(
            "Resuming inside epoch {} of {epochs}, after {rows} of its rows.",
            kept + 1
        )),
        "{}",
        shown.stdout
    );
    let resumed_rows = std::fs::read_to_string(&metrics).unwrap();
    let whole = squiggle_in(
        dir.path(),
        &["train", &config, "--epochs", &epochs, "--run-dir", "whole"],
    );
    whole.success();
    let whole_rows = std::fs::read_to_string(dir.path().join("whole/metrics.csv")).unwrap();
    // Every column but the seconds and rows per second.
    let figures = |csv: &str| -> Vec<Vec<String>> {
        csv.lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                [&cells[..12], &cells[14..]]
                    .concat()
                    .iter()
                    .map(|c| c.to_string())
                    .collect()
            })
            .collect()
    };
    assert_eq!(figures(&resumed_rows), figures(&whole_rows));
    // The last parameters, through every row's prediction to f64's last digit.
    let scored = |run: &str| {
        squiggle_in(dir.path(), &["eval", "--run", run, "--last", "--json"]).json()["train"].clone()
    };
    assert_eq!(scored("run"), scored("whole"));
}

#[test]
fn a_signal_during_generate_leaves_no_file() {
    let dir = scratch();
    let child = start(
        dir.path(),
        &[
            "generate", "dosage", "--rows", "20000000", "--out", "big.csv",
        ],
        Stdio::inherit(),
        Stdio::piped(),
    );
    // Wait for it to write into the folder (its temporary file has no name: look at its
    // open files), then interrupt.
    wait_for("generate never started", 30, || {
        writes_into(child.id(), dir.path()).then_some(())
    });
    send(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "squiggle: interrupted; `big.csv` was not written\n"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A run of `long_run`'s config kept in `dir/run` (2 epochs of 200 rows) and the path of the
/// input file `x.csv` of three rows to predict.
fn trained(dir: &Path) -> String {
    let config = long_run(dir, 200, 2);
    squiggle_in(dir, &["train", &config, "--run-dir", "run"]).success();
    std::fs::write(dir.join("x.csv"), "dosage\n0.1\n0.5\n0.9\n").unwrap();
    config
}

fn predict_to(dir: &Path, output: &str) -> Output {
    squiggle_in(
        dir,
        &[
            "predict", "--run", "run", "--input", "x.csv", "--output", output,
        ],
    )
}

#[test]
fn outputs_write_through_devices_and_fifos_and_at_a_links_target() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch();
    trained(dir.path());
    // A device is written, never replaced: /dev/full says it is full, and stays a device.
    predict_to(dir.path(), "/dev/full").fails_with(
        2,
        "squiggle: cannot write `/dev/full`: no space left on device",
    );
    let full = std::fs::metadata("/dev/full").unwrap();
    assert!(
        full.file_type().is_char_device(),
        "/dev/full is still a device"
    );
    assert!(predict_to(dir.path(), "/dev/null").success().is_empty());
    // /dev/stdout is this process's output, whatever it is (here a pipe).
    let out = predict_to(dir.path(), "/dev/stdout");
    let text = out.success();
    assert!(text.starts_with("dosage,predicted_efficacy\n0.1,"), "{out}");
    assert_eq!(text.lines().count(), 4);
    // A link: the file it points to is written, the link stays.
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    std::os::unix::fs::symlink("shared/out.csv", dir.path().join("out.csv")).unwrap();
    predict_to(dir.path(), "out.csv").success();
    let link = std::fs::symlink_metadata(dir.path().join("out.csv")).unwrap();
    assert!(link.file_type().is_symlink(), "the link stays a link");
    let written = std::fs::read_to_string(dir.path().join("shared/out.csv")).unwrap();
    assert_eq!(written.lines().count(), 4, "{written}");
    // A FIFO is written through to its reader and stays a FIFO.
    let fifo = dir.path().join("pipe");
    crate::util::mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    predict_to(dir.path(), "pipe").success();
    assert_eq!(reader.join().unwrap().lines().count(), 4);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // Nothing else was left in the folder.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "c.toml", "d.csv", "out.csv", "pipe", "run", "shared", "x.csv"
        ]
    );
}

#[test]
fn killed_writers_leave_no_temporary_file() {
    let dir = scratch();
    let child = start(
        dir.path(),
        &[
            "generate", "dosage", "--rows", "20000000", "--out", "big.csv",
        ],
        Stdio::null(),
        Stdio::null(),
    );
    wait_for("generate never started", 30, || {
        writes_into(child.id(), dir.path()).then_some(())
    });
    send(&child, "KILL");
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "a killed writer left {left:?}");
}

#[test]
fn predict_stops_on_a_signal_and_writes_nothing() {
    let dir = scratch();
    trained(dir.path());
    generate(dir.path(), 3_000_000, "many.csv", &[]);
    let child = start(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "many.csv", "--output", "out.csv",
        ],
        Stdio::null(),
        Stdio::piped(),
    );
    wait_for("predict never started writing", 60, || {
        let run = dir.path().join("run");
        (writes_into(child.id(), dir.path()) && !writes_into(child.id(), &run)).then_some(())
    });
    send(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "squiggle: interrupted; `out.csv` was not written\n"
    );
    assert!(!dir.path().join("out.csv").exists());
}

/// Every file of the run folder, by name, with its bytes.
fn run_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.join("run"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_refused_resume_leaves_the_run_byte_for_byte() {
    let dir = scratch();
    let config = trained(dir.path());
    let before = run_files(dir.path());
    let resume = |extra: &[&str]| {
        let mut args = vec!["train", config.as_str(), "--resume", "run", "--epochs", "4"];
        args.extend(extra);
        squiggle_in(dir.path(), &args)
    };
    // Another way to draw the initial weights is another run.
    resume(&["--set", "model.initializer=\"glorot\""]).fails_with(
        2,
        "squiggle: cannot resume `run`: the config changes what the run is (model.initializer \"uniform\" → \"glorot\"); resume with the run's own config (`run/config.toml`) or train a new run",
    );
    assert_eq!(run_files(dir.path()), before);
    // The data file replaced in place by fewer rows.
    let data = std::fs::read_to_string(dir.path().join("d.csv")).unwrap();
    let fewer: String = data.lines().take(151).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("d.csv"), &fewer).unwrap();
    let out = resume(&[]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .starts_with("squiggle: run/last.ckpt: the run trained on 200 rows (fingerprint ")
            && out
                .stderr
                .contains("; the data now holds 150 rows (fingerprint "),
        "{out}"
    );
    assert_eq!(run_files(dir.path()), before);
    std::fs::write(dir.path().join("d.csv"), &data).unwrap();
    // A last row cut short.
    let metrics = dir.path().join("run/metrics.csv");
    let full = std::fs::read_to_string(&metrics).unwrap();
    let cut = &full[..full.trim_end().len() - 5];
    std::fs::write(&metrics, cut).unwrap();
    let out = resume(&[]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .contains("run/metrics.csv`:3: the row is cut short or edited"),
        "{out}"
    );
    std::fs::write(&metrics, &full).unwrap();
    // A FIFO where the history belongs is refused at once, not waited on.
    std::fs::remove_file(&metrics).unwrap();
    crate::util::mkfifo(&metrics);
    let out = resume(&[]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr.contains("cannot read `run/metrics.csv`"),
        "{out}"
    );
    std::fs::remove_file(&metrics).unwrap();
    std::fs::write(&metrics, &full).unwrap();
    assert_eq!(run_files(dir.path()), before);
    // An optimizer that keeps state, where the run's kept none, starts it afresh and says so.
    let out = resume(&["--set", "train.momentum=0.5"]);
    let text = out.success();
    assert!(text.contains("Resuming after epoch 2 of 4."), "{out}");
    assert_eq!(
        out.stderr,
        "squiggle: note: the run trained with gradient descent, which keeps no optimizer state; sgd with momentum 0.5 starts its state afresh from epoch 2\n"
    );
}

#[test]
fn a_checkpoint_header_that_contradicts_its_records_is_refused() {
    let dir = scratch();
    trained(dir.path());
    let last = dir.path().join("run/last.ckpt");
    let (magic, parts) = sections(&std::fs::read(&last).unwrap());
    let header = String::from_utf8(parts[0].clone()).unwrap();
    let forge = |from: &str, to: &str| {
        assert!(header.contains(from), "{header}");
        let mut forged = parts.clone();
        forged[0] = header.replacen(from, to, 1).into_bytes();
        std::fs::write(&last, checkpoint_file(&magic, &forged)).unwrap();
    };
    let predict = || {
        squiggle_in(
            dir.path(),
            &[
                "predict", "--run", "run", "--last", "--input", "x.csv", "--output", "y.csv",
            ],
        )
    };
    // f64 claimed over f32 weights: refused, not a panic inside Burn.
    forge("\"precision\":\"f32\"", "\"precision\":\"f64\"");
    predict().fails_with(
        2,
        "squiggle: run/last.ckpt: the checkpoint's header does not match its records: the header says f64, the weights are F32",
    );
    // Epoch 0 over the weights of epoch 2: not retrained silently.
    forge("\"epoch\":2", "\"epoch\":0");
    let out = squiggle_in(
        dir.path(),
        &["train", "c.toml", "--resume", "run", "--epochs", "4"],
    );
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .contains("holds 2 epochs where the checkpoint says 0"),
        "{out}"
    );
    assert!(!dir.path().join("y.csv").exists());
}

#[test]
fn resume_without_a_config_continues_with_the_runs_own() {
    let dir = scratch();
    let config = long_run(dir.path(), 300, 2);
    squiggle_in(dir.path(), &["train", &config, "--run-dir", "run"]).success();
    let resumed = squiggle_in(
        dir.path(),
        &["train", "--resume", "run", "--epochs", "3", "--json"],
    )
    .json();
    let whole = squiggle_in(dir.path(), &["train", &config, "--epochs", "3", "--json"]).json();
    assert_eq!(resumed["params"], whole["params"]);
    // Without either, clap names the missing config.
    let out = squiggle_in(dir.path(), &["train"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(out.stderr.contains("<CONFIG>"), "{out}");
}
