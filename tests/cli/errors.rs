//! Bad input: every message is one line naming the file, line and column (or the flag), and
//! the exit code is 2; a run that diverges exits 1. No panics, no half-written files.

use std::process::Command;

use crate::util::*;

/// Writes `text` as `bad.toml` in a scratch folder, runs `squiggle train bad.toml ARGS` there
/// and checks the exact error.
#[track_caller]
fn rejects(text: &str, args: &[&str], status: i32, stderr: &str) {
    let dir = scratch();
    write(dir.path(), "bad.toml", text);
    let mut all = vec!["train", "bad.toml"];
    all.extend_from_slice(args);
    squiggle_in(dir.path(), &all).fails_with(status, stderr);
}

#[test]
fn missing_config_file_is_named() {
    squiggle(&["train", "configs/nope.toml"]).fails_with(
        2,
        "squiggle: failed to read `configs/nope.toml`: No such file or directory (os error 2)",
    );
}

#[test]
fn toml_syntax_errors_point_at_the_character() {
    rejects(
        "[model\nhidden = [2]\n",
        &[],
        2,
        "squiggle: bad.toml:1:7: unclosed table, expected `]`",
    );
}

#[test]
fn unknown_keys_are_rejected_with_the_accepted_ones() {
    rejects(
        "[train]\nlearning_rat = 0.1\n",
        &[],
        2,
        "squiggle: bad.toml:2:1: unknown field `learning_rat`: did you mean `learning_rate`? (expected one of `trainable`, \
         `backend`, `loss`, `reduction`, `learning_rate`, `optimizer`, `momentum`, `weight_decay`, `beta1`, `beta2`, `epsilon`, `max_steps`, `min_step_size`, `target_loss`, `epochs`, `batch_size`, `shuffle`, `schedule`, `step_every`, `step_gamma`, `min_learning_rate`, `patience`, `train_metrics`, `dtype`, `kernels`)",
    );
    rejects(
        "[modle]\nhidden = [2]\n",
        &[],
        2,
        "squiggle: bad.toml:1:2: unknown field `modle`: did you mean `model`? (expected one of `model`, `data`, `train`)",
    );
    // Nothing close: the accepted ones alone.
    rejects(
        "[plot]\n",
        &[],
        2,
        "squiggle: bad.toml:1:2: unknown field `plot`, expected one of `model`, `data`, `train`",
    );
    // A value too.
    rejects(
        "[model]\nactivation = \"rellu\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:14: unknown activation `rellu`: did you mean `relu`? (expected one of softplus, relu, sigmoid, tanh, identity)",
    );
}

#[test]
fn wrong_types_are_rejected() {
    rejects(
        "[train]\nlearning_rate = \"fast\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:17: invalid type: string \"fast\", expected f64",
    );
    rejects(
        "[model]\nhidden = 2\n",
        &[],
        2,
        "squiggle: bad.toml:2:10: invalid type: integer `2`, expected a sequence",
    );
}

#[test]
fn non_positive_learning_rates_are_rejected_in_files_and_flags() {
    rejects(
        "[train]\nlearning_rate = 0\n",
        &[],
        2,
        "squiggle: bad.toml:2:17: `learning_rate` must be a positive number, got 0",
    );
    rejects(
        "[train]\nlearning_rate = -0.1\n",
        &[],
        2,
        "squiggle: bad.toml:2:17: `learning_rate` must be a positive number, got -0.1",
    );
    rejects(
        "",
        &["--learning-rate=0"],
        2,
        "squiggle: invalid value '0' for '--learning-rate <LEARNING_RATE>': must be a positive number, got 0",
    );
}

#[test]
fn unknown_parameter_names_list_the_accepted_ones() {
    rejects(
        "[train]\ntrainable = [\"b3\", \"w5\"]\n",
        &[],
        2,
        "squiggle: bad.toml:2:20: [train] trainable: unknown parameter `w5`; expected one of \
         w1, w2, w3, w4, b1, b2, b3, hidden.0.weight, hidden.0.bias, output.weight, output.bias \
         (or an element such as output.bias[0])",
    );
    rejects(
        "[model.init]\nw9 = 1.0\n",
        &[],
        2,
        "squiggle: bad.toml:2:6: [model.init] unknown parameter `w9`; expected one of \
         w1, w2, w3, w4, b1, b2, b3, hidden.0.weight, hidden.0.bias, output.weight, output.bias \
         (or an element such as output.bias[0])",
    );
}

#[test]
fn duplicate_parameters_are_rejected() {
    rejects(
        "[train]\ntrainable = [\"b3\", \"b3\"]\n",
        &[],
        2,
        "squiggle: bad.toml:2:20: [train] trainable: duplicate parameter: `b3` is listed twice",
    );
    rejects(
        "[train]\ntrainable = [\"w3\", \"output.weight\"]\n",
        &[],
        2,
        "squiggle: bad.toml:2:20: [train] trainable: duplicate parameter: `output.weight` covers \
         w3 again (already listed as `w3`)",
    );
    rejects(
        "[model.init]\nw1 = 1.0\n\"hidden.0.weight\" = [[1.0, 2.0]]\n",
        &[],
        2,
        "squiggle: bad.toml:3:21: [model.init] `hidden.0.weight` sets w1 again (already set by `w1`)",
    );
}

#[test]
fn init_arrays_of_the_wrong_shape_are_rejected() {
    rejects(
        "[model.init]\n\"hidden.0.weight\" = [3.34, -3.53]\n",
        &[],
        2,
        "squiggle: bad.toml:2:21: [model.init] `hidden.0.weight` needs an array of shape [1, 2], \
         got an array of shape [2]",
    );
    rejects(
        "[model.init]\nw1 = \"x\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:6: [model.init] `w1` must be a number or an array of numbers",
    );
}

#[test]
fn data_rows_of_the_wrong_width_and_empty_data_are_rejected() {
    rejects(
        "[data]\npoints = [[0.0, 0.0],\n  [0.5, 1.0, 2.0]]\n",
        &[],
        2,
        "squiggle: bad.toml:3:3: [data] points: row 2 has 3 values; expected 2 (1 inputs then 1 outputs)",
    );
    rejects(
        "[data]\npoints = []\n",
        &[],
        2,
        "squiggle: bad.toml:2:10: [data] points: no data rows",
    );
    rejects(
        "[data]\n",
        &[],
        2,
        "squiggle: bad.toml:1:1: [data] needs `points = [[input…, output…], …]` or `csv = \"file.csv\"`",
    );
}

#[test]
fn other_bad_values_name_what_is_accepted() {
    rejects(
        "[model]\nhidden = [2, 0]\n",
        &[],
        2,
        "squiggle: bad.toml:2:10: `hidden[1]` must be at least 1, got 0",
    );
    rejects(
        "[model]\nactivation = \"swish\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:14: unknown activation `swish`; expected one of softplus, relu, \
         sigmoid, tanh, identity",
    );
    rejects(
        "[train]\nloss = \"mae\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:8: unknown loss `mae`; expected one of ssr, mse, cross_entropy, mean_cross_entropy",
    );
    rejects(
        "[model]\ninitializer = \"he\"\n",
        &[],
        2,
        "squiggle: bad.toml:2:15: unknown initializer `he`; expected one of normal, glorot, uniform",
    );
    // Every named choice gets the same message shape.
    for (key, given, expected) in [
        ("dtype", "f16", "f32, f64"),
        ("schedule", "linear", "constant, step, cosine"),
        ("optimizer", "lbfgs", "sgd, adam"),
        ("backend", "tpu", "flex, ndarray, wgpu"),
    ] {
        rejects(
            &format!("[train]\n{key} = \"{given}\"\n"),
            &[],
            2,
            &format!(
                "squiggle: bad.toml:2:{}: unknown {key} `{given}`; expected one of {expected}",
                key.len() + 4
            ),
        );
    }
    rejects(
        "[train]\ntrainable = []\n",
        &[],
        2,
        "squiggle: bad.toml:2:13: `trainable` is empty; name at least one parameter (use \
         `squiggle eval` to run without training)",
    );
    rejects(
        "[train]\nmin_step_size = -1\n",
        &[],
        2,
        "squiggle: bad.toml:2:17: `min_step_size` must be a number ≥ 0 (0 disables it), got -1",
    );
}

#[test]
fn bad_flags_get_one_line_with_the_accepted_values() {
    rejects(
        "",
        &["--backend", "tpu"],
        2,
        "squiggle: invalid value 'tpu' for '--backend <BACKEND>' [possible values: flex, ndarray, wgpu] tip: a similar value exists: 'wgpu'",
    );
}

#[test]
fn an_unwritable_trace_fails_before_training() {
    rejects(
        "[train]\n",
        &["--trace", "missing/steps.csv"],
        2,
        "squiggle: cannot write `missing/steps.csv`: folder `missing` does not exist",
    );
}

#[test]
fn divergence_exits_1_after_writing_the_steps_up_to_it() {
    let dir = scratch();
    write(dir.path(), "fast.toml", "[train]\nlearning_rate = 1000\n");
    let out = squiggle_in(
        dir.path(),
        &["train", "fast.toml", "--json", "--trace", "t.csv"],
    );
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stderr.trim_end(),
        "squiggle: the loss rose from 17.8411 to 2.08533e15 by step 1 (more than a thousandfold): gradient descent diverged; try a smaller learning_rate"
    );
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (&v["stop_reason"], &v["verdict"]),
        (&"diverged".into(), &"diverged".into())
    );
    // The blow-up is the lesson: the trace holds the step that led to it.
    let trace = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert_eq!(trace.lines().count(), 2, "{trace}");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

#[test]
fn a_run_by_epochs_that_diverges_keeps_and_draws_every_finite_epoch_then_exits_1() {
    // The shipped diabetes settings at ten times their learning rate: finite for 15 epochs,
    // NaN in the 16th.
    let dir = scratch();
    let c = root().join("configs/diabetes.toml");
    let c = c.to_str().unwrap();
    let args = [
        "train",
        c,
        "--learning-rate",
        "0.1",
        "--run-dir",
        "run",
        "--plot",
        "plots",
    ];
    let out = squiggle_in(dir.path(), &args);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stderr.trim_end(),
        "squiggle: the loss became inf in epoch 16; try a smaller learning_rate"
    );
    assert!(
        out.stdout.contains(
            "Diverged in epoch 16: the loss became inf. Try a smaller learning_rate.\nStopped after 15 epochs.\n"
        ),
        "{out}"
    );
    assert!(out.stdout.contains("  valid, epoch 15 "), "{out}");
    assert!(out.stdout.contains("Run kept in run ("), "{out}");
    // The run folder holds the finite epochs and resumes from the last one.
    let metrics = std::fs::read_to_string(dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 16, "{metrics}");
    assert!(!metrics.contains("NaN"), "{metrics}");
    let fit = std::fs::read_to_string(dir.path().join("plots/fit.svg")).unwrap();
    assert!(
        fit.contains("after epoch 15, the last with a finite loss"),
        "fit title"
    );
    assert!(dir.path().join("plots/loss.png").exists());
    // JSON says so too, and plot draws it the same way.
    let out = squiggle_in(
        dir.path(),
        &["train", c, "--learning-rate", "0.1", "--json"],
    );
    assert_eq!(out.status, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(
        (&v["stop_reason"], &v["epochs"]),
        (&"diverged".into(), &15.into())
    );
    let out = squiggle_in(
        dir.path(),
        &["plot", c, "--learning-rate", "0.1", "--out", "p"],
    );
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("wrote p/fit.png"), "{out}");
}

#[test]
fn networks_too_large_are_refused_before_anything_is_allocated() {
    let dir = scratch();
    let big = write(
        dir.path(),
        "big.toml",
        "[model]\nhidden = [100000, 100000]\n",
    );
    squiggle_in(dir.path(), &["train", &big]).fails_with(
        2,
        &format!("squiggle: {big}:2:10: the network has 10000400001 parameters, more than max_params = 1000000; raise `[model] max_params` to train it (each parameter takes 4 bytes in f32, and as many again for its gradient and for each optimizer state)"),
    );
    let huge = write(
        dir.path(),
        "huge.toml",
        "[model]\nhidden = [18446744073709551615]\n",
    );
    squiggle_in(dir.path(), &["eval", &huge]).fails_with(
        2,
        &format!("squiggle: {huge}:2:10: the network would have 55340232221128654846 parameters, more than this machine can address"),
    );
    // The limit is the config's to raise, and a run folder keeps it.
    let raised = write(
        dir.path(),
        "raised.toml",
        "[model]\nhidden = [4000]\n[train]\nmax_steps = 1\n",
    );
    squiggle_in(dir.path(), &["train", &raised, "--set", "model.max_params=12000"]).fails_with(
        2,
        &format!("squiggle: {raised}:2:10: the network has 12001 parameters, more than max_params = 12000; raise `[model] max_params` to train it (each parameter takes 4 bytes in f32, and as many again for its gradient and for each optimizer state)"),
    );
    squiggle_in(
        dir.path(),
        &["train", &raised, "--set", "model.max_params=12001"],
    )
    .success();
}

#[test]
fn endless_or_odd_inputs_are_refused_before_they_are_read() {
    let dir = scratch();
    let zero = write(dir.path(), "zero.toml", "[data]\ncsv = \"/dev/zero\"\n");
    squiggle_in(dir.path(), &["train", &zero]).fails_with(
        2,
        "squiggle: /dev/zero: not a regular file or a pipe; data must come from one",
    );
    squiggle_in(dir.path(), &["train", "/dev/zero"]).fails_with(
        2,
        "squiggle: failed to read `/dev/zero`: not a regular file (a config must be a file)",
    );
    // A FIFO is read once, as it is written (data.rs trains from one); `predict`, which reads
    // its input twice, refuses one before opening it.
    let fifo = dir.path().join("fifo.csv");
    crate::util::mkfifo(&fifo);
    // A line no data set has is refused before it fills memory.
    let long = format!("x,y\n{}\n", "1".repeat(2 << 20));
    std::fs::write(dir.path().join("long.csv"), long).unwrap();
    let long = write(dir.path(), "long.toml", "[data]\ncsv = \"long.csv\"\n");
    squiggle_in(dir.path(), &["train", &long]).fails_with(
        2,
        &format!(
            "squiggle: {}: a line is longer than 1048576 bytes; is this a CSV file?",
            dir.path().join("long.csv").display()
        )
        .replace(": a line", ":2: a line"),
    );
    // A run's checkpoint linked to a device, and predictions from a device.
    let data = write(
        dir.path(),
        "d.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"d.csv\"\n[train]\nepochs = 1\n",
    );
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "50", "--out", "d.csv"],
    )
    .success();
    squiggle_in(dir.path(), &["train", &data, "--run-dir", "run"]).success();
    std::fs::write(dir.path().join("x.csv"), "dosage\n0.5\n").unwrap();
    let predict = |input: &str| {
        squiggle_in(
            dir.path(),
            &[
                "predict", "--run", "run", "--last", "--input", input, "--output", "y.csv",
            ],
        )
    };
    predict("/dev/zero").fails_with(
        2,
        "squiggle: --input /dev/zero: predict reads its input twice (the values, then every column to copy), so it must be a regular file",
    );
    predict("fifo.csv").fails_with(
        2,
        "squiggle: --input fifo.csv: predict reads its input twice (the values, then every column to copy), so it must be a regular file",
    );
    predict("-").fails_with(
        2,
        "squiggle: --input -: predict reads its input twice (the values, then every column to copy), so it must be a regular file",
    );
    std::fs::remove_file(dir.path().join("run/last.ckpt")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("run/last.ckpt")).unwrap();
    predict("x.csv").fails_with(
        2,
        "squiggle: failed to read `run/last.ckpt`: not a regular file (a checkpoint must be a file)",
    );
}

#[test]
fn messages_blame_what_is_at_fault() {
    let dir = scratch();
    // No command: the usage as clap lays it out, not one flattened line.
    let bare = squiggle(&[]);
    assert_eq!(bare.status, 2, "{bare}");
    assert!(
        bare.stderr
            .contains("\nUsage: squiggle [OPTIONS] <COMMAND>\n\nCommands:\n"),
        "{bare}"
    );
    // Parameters that overflow before any update are not the learning rate's fault.
    let huge = write(
        dir.path(),
        "huge.toml",
        "[model]\nhidden = [2]\n[model.init]\nw1 = 1e38\nw3 = 1e38\n[train]\nmax_steps = 3\n",
    );
    let out = squiggle_in(dir.path(), &["train", &huge]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("Diverged at step 0: the loss is inf before any update. Check [model.init] and the initializer."), "{out}");
    assert_eq!(
        out.stderr,
        "squiggle: the loss is inf at step 0, before any update: the initial parameters give it; check [model.init] and the initializer\n"
    );
    // Evaluating it shows the numbers, then fails.
    let out = squiggle_in(dir.path(), &["eval", &huge]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stdout.contains("SSR = inf"), "{out}");
    assert_eq!(
        out.stderr,
        "squiggle: the loss is inf: the network's outputs are not finite numbers on these rows (check its parameters)\n"
    );
    // A NUL byte is shown, not printed as nothing.
    std::fs::write(dir.path().join("nul.csv"), "x,y\n0.4\0,1\n0.5,2\n").unwrap();
    let nul = write(dir.path(), "nul.toml", "[data]\ncsv = \"nul.csv\"\n");
    squiggle_in(dir.path(), &["train", &nul]).fails_with(
        2,
        &format!(
            "squiggle: {}:2: column `x`: `0.4\\0` is not a number",
            dir.path().join("nul.csv").display()
        ),
    );
    // Columns chosen twice, named twice, or both input and target.
    std::fs::write(dir.path().join("c.csv"), "x,x2,y\n1,2,3\n4,5,6\n").unwrap();
    std::fs::write(dir.path().join("twice.csv"), "x,x,y\n1,2,3\n4,5,6\n").unwrap();
    let csv = dir.path().join("c.csv").display().to_string();
    for (columns, file, want) in [
        (
            "inputs = [\"x\", \"x\"]",
            "c.csv",
            format!("squiggle: {csv}:1: column `x`: chosen twice"),
        ),
        (
            "inputs = [\"x\", \"y\"]\ntargets = [\"y\"]",
            "c.csv",
            format!("squiggle: {csv}:1: column `y`: is both an input and a target"),
        ),
        (
            "",
            "twice.csv",
            format!(
                "squiggle: {}:1: column `x`: the header names this column twice",
                dir.path().join("twice.csv").display()
            ),
        ),
    ] {
        let c = write(
            dir.path(),
            "cols.toml",
            &format!("[data]\ncsv = \"{file}\"\n{columns}\n"),
        );
        squiggle_in(dir.path(), &["train", &c]).fails_with(2, &want);
    }
    // R² of one row is undefined, not −inf.
    std::fs::write(dir.path().join("one.csv"), "x,y\n0.5,1\n").unwrap();
    let one = write(
        dir.path(),
        "one.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"one.csv\"\n[train]\nepochs = 1\n",
    );
    let out = squiggle_in(dir.path(), &["train", &one]);
    let text = out.success();
    assert!(
        text.contains("on 1 row (0 validation)") && text.contains("R² n/a"),
        "{out}"
    );
    assert!(!text.contains("inf"), "{out}");
}

#[test]
fn predictions_that_overflow_are_never_written() {
    let dir = scratch();
    generate(dir.path(), 100, "d.csv", &[]);
    let c = write(
        dir.path(),
        "c.toml",
        "[model]\nhidden = [2]\n[model.init]\nw1 = 10.0\nw2 = 10.0\n[data]\ncsv = \"d.csv\"\n[train]\nepochs = 1\nlearning_rate = 0.0001\n",
    );
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"]).success();
    std::fs::write(dir.path().join("x.csv"), "dosage\n0.5\n3e38\n").unwrap();
    let out = squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "x.csv", "--output", "y.csv",
        ],
    );
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stderr
            .starts_with("squiggle: x.csv:3: the network predicts ")
            && out.stderr.ends_with(
                " for this row (its output overflows f32); no predictions were written\n"
            ),
        "{out}"
    );
    assert!(!dir.path().join("y.csv").exists());
}

#[test]
fn a_full_disk_names_the_file_not_its_temporary() {
    // A file-size limit stands in for a full disk (squiggle ignores SIGXFSZ, so writes fail
    // instead of killing it).
    let dir = scratch();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f 8; exec {} generate dosage --rows 100000 --out big.csv",
            env!("CARGO_BIN_EXE_squiggle")
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "squiggle: cannot write `big.csv`: file too large\n"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn generate_refuses_a_file_the_disk_cannot_hold_before_writing() {
    let dir = scratch();
    let out = squiggle_in(
        dir.path(),
        &[
            "generate",
            "dosage",
            "--rows",
            "18446744073709551615",
            "--out",
            "huge.csv",
        ],
    );
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr.starts_with(
            "squiggle: 18446744073709551615 rows need about 5.2e11 GB of disk; `.` has "
        ) && out.stderr.ends_with(" GB free\n"),
        "{out}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_network_larger_than_the_memory_is_refused_before_it_is_allocated() {
    let dir = scratch();
    write(
        dir.path(),
        "huge.toml",
        "[model]\nhidden = [70000, 70000]\nmax_params = 10000000000\n[train]\nmax_steps = 1\n",
    );
    let out = squiggle_in(dir.path(), &["train", "huge.toml"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr.starts_with(
            "squiggle: huge.toml:2:10: a network of 4900280001 parameters needs about 156.8 GB of memory; this process can take about "
        ),
        "{out}"
    );
}

#[test]
fn long_and_huge_numbers_are_told_shortly() {
    let dir = scratch();
    let digits = "1".to_string() + &"0".repeat(399);
    write(dir.path(), "d.csv", &format!("x,y\n1,2\n{digits},3\n"));
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\n[train]\nmax_steps = 3\nmin_step_size = 1e308\n",
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv:3: column `x`: `100000000000000000000000…` (400 characters) is too large for f32 (|x| < 3.4e38)",
    );
    write(dir.path(), "d.csv", "x,y\n1,2\n2,3\n");
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    let text = out.success();
    assert!(
        text.contains("stop after 3 steps or when every |step size| < 1e308.\n"),
        "{out}"
    );
    assert!(text.contains("every |step size| < 1e308.\n"), "{out}");
}

#[test]
fn any_address_space_limit_ends_in_one_line_never_an_abort_or_a_spin() {
    // From too little to start a thread up to enough to train: each limit gives the result,
    // or one line and exit 1 (the threads could not start) or 2 (this data or network needs
    // more memory), within seconds (glibc's per-thread arenas once made the CSV reader spin).
    let dir = scratch();
    crate::util::generate(dir.path(), 300_000, "big.csv", &[]);
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"big.csv\"\n[train]\nmax_steps = 1\n",
    );
    let mut outcomes = std::collections::BTreeSet::new();
    for kernels in ["fused", "burn"] {
        for megabytes in (20..=240).step_by(10) {
            let under_limit = |args: &str| {
                Command::new("sh")
                    .arg("-c")
                    .arg(format!(
                        "ulimit -v {}; exec timeout 60 {} {args}",
                        megabytes * 1024,
                        env!("CARGO_BIN_EXE_squiggle")
                    ))
                    .current_dir(dir.path())
                    .output()
                    .unwrap()
            };
            // Below some limit the kernel cannot map the binary, or the loader its libraries,
            // and squiggle's own code never runs (how low depends on the build): such limits
            // say nothing about squiggle.
            if !under_limit("--version").status.success() {
                continue;
            }
            let started = std::time::Instant::now();
            let out = under_limit(&format!("train c.toml --kernels {kernels}"));
            let stderr = String::from_utf8_lossy(&out.stderr);
            let seconds = started.elapsed().as_secs_f64();
            let code = out.status.code();
            let said = |text: &str| stderr.starts_with("squiggle: ") && stderr.contains(text);
            let outcome = match code {
                Some(0) => "trained",
                Some(1) if said("cannot start the compute threads") => "no threads",
                Some(2) if said(" of memory") => "refused",
                _ => panic!(
                    "{kernels} under {megabytes} MB: {code:?} after {seconds:.1} s\n{stderr}"
                ),
            };
            assert!(code == Some(0) || stderr.lines().count() == 1, "{stderr}");
            assert!(
                seconds < 30.0,
                "{kernels} under {megabytes} MB took {seconds:.1} s"
            );
            outcomes.insert(outcome);
        }
    }
    assert!(
        outcomes.contains("trained") && outcomes.contains("refused"),
        "{outcomes:?}"
    );
}
