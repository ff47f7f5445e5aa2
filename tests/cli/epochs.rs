//! Training by epochs: mini-batches, splits, standardisation, run folders, resume, predict,
//! memory, and the diabetes data.

use std::path::Path;

use crate::util::*;

/// Writes `rows` generated dosage rows (seed 7, noise 0.05) to `dir/dosage.csv`.
fn dosage(dir: &Path, rows: u64) {
    generate(dir, rows, "dosage.csv", &["--noise", "0.05", "--seed", "7"]);
}

/// A config training the lesson's shape on `dosage.csv` by epochs; `extra` lines go in [train].
fn config(dir: &Path, name: &str, data: &str, train: &str) -> String {
    write(
        dir,
        name,
        &format!(
            "[model]\nhidden = [3]\nseed = 4\n[data]\ncsv = \"dosage.csv\"\n{data}\n[train]\nlearning_rate = 0.05\nbatch_size = 16\n{train}\n"
        ),
    )
}

fn params(v: &serde_json::Value) -> String {
    v["params"].to_string()
}

#[test]
fn same_seed_same_numbers_other_seed_other_numbers() {
    let dir = scratch();
    dosage(dir.path(), 200);
    let c = config(
        dir.path(),
        "c.toml",
        "valid_fraction = 0.25",
        "epochs = 3\nmomentum = 0.9",
    );
    let run = |seed: &str| squiggle_in(dir.path(), &["train", &c, "--json", "--seed", seed]).json();
    let (a, b, other) = (run("1"), run("1"), run("2"));
    assert_eq!(params(&a), params(&b));
    assert_eq!(a["valid"], b["valid"]);
    assert_ne!(params(&a), params(&other));
    assert_eq!(a["epochs"], 3);
    assert_eq!(a["stop_reason"], "epochs");
    for key in ["mse", "rmse", "mae", "r2"] {
        assert!(number(&a["valid"], key).is_finite(), "{a}");
    }
}

#[test]
fn k_epochs_then_resume_equals_n_epochs_in_one_go() {
    let dir = scratch();
    dosage(dir.path(), 150);
    let c = config(
        dir.path(),
        "c.toml",
        "valid_fraction = 0.2\nstandardize = true",
        "epochs = 6\nmomentum = 0.9\nweight_decay = 0.001\nschedule = \"step\"\nstep_every = 2\nstep_gamma = 0.5",
    );
    let whole = squiggle_in(dir.path(), &["train", &c, "--json", "--run-dir", "whole"]).json();
    squiggle_in(
        dir.path(),
        &["train", &c, "--epochs", "2", "--run-dir", "parts"],
    )
    .success();
    let resumed = squiggle_in(dir.path(), &["train", &c, "--json", "--resume", "parts"]).json();
    assert_eq!(params(&resumed), params(&whole));
    assert_eq!(resumed["epochs"], 6);
    // metrics.csv holds every epoch once, in order, with the header.
    let metrics = std::fs::read_to_string(dir.path().join("parts/metrics.csv")).unwrap();
    let epochs: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(epochs, ["1", "2", "3", "4", "5", "6"]);
    let whole_metrics = std::fs::read_to_string(dir.path().join("whole/metrics.csv")).unwrap();
    let strip = |m: &str| -> Vec<String> {
        // everything but the timing columns
        m.lines()
            .map(|l| l.split(',').take(12).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(strip(&metrics), strip(&whole_metrics));
    assert!(metrics.starts_with("epoch,learning_rate,train_loss,valid_loss,train_mse,train_rmse,train_mae,train_r2,valid_mse,valid_rmse,valid_mae,valid_r2,"));
    let rates: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        rates,
        ["0.05", "0.05", "0.025", "0.025", "0.0125", "0.0125"]
    );
}

#[test]
fn a_run_folder_holds_a_config_that_reruns_the_run() {
    let dir = scratch();
    dosage(dir.path(), 100);
    let c = config(
        dir.path(),
        "c.toml",
        "valid_fraction = 0.3",
        "epochs = 2\nshuffle = true",
    );
    let first = squiggle_in(dir.path(), &["train", &c, "--json", "--run-dir", "run"]).json();
    for file in ["config.toml", "metrics.csv", "last.ckpt", "best.ckpt"] {
        assert!(
            dir.path().join("run").join(file).is_file(),
            "missing {file}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("run"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.') && n != ".squiggle-run")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    assert!(
        dir.path().join("run/.squiggle-run").is_file(),
        "the folder is marked as squiggle's"
    );
    let again = squiggle_in(dir.path(), &["train", "run/config.toml", "--json"]).json();
    assert_eq!(params(&again), params(&first));
    // The folder is never overwritten by a new run.
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"])
        .fails_with(2, "squiggle: `run` already holds a run; continue it with `--resume run` or choose another folder");
    // Following the advice: the run is complete, and that message's own advice goes on.
    let resumed = squiggle_in(dir.path(), &["train", &c, "--resume", "run"]);
    assert!(
        resumed.success().contains(
            "Nothing to do: the run already has 2 of 2 epochs (pass a larger --epochs to go on)."
        ),
        "{resumed}"
    );
    assert!(!resumed.stdout.contains("Resuming"), "{resumed}");
    // One epoch, in the singular.
    let one = squiggle_in(dir.path(), &["train", &c, "--epochs", "1"]);
    assert!(
        one.success().contains("\nStopped after 1 epoch.\n"),
        "{one}"
    );
    let more = squiggle_in(
        dir.path(),
        &["train", &c, "--resume", "run", "--epochs", "3", "--json"],
    )
    .json();
    assert_eq!(more["epochs"], 3, "{more}");
}

#[test]
fn predict_writes_original_units_in_the_input_order() {
    let dir = scratch();
    // Targets in the thousands: only standardisation makes one learning rate work, and only
    // undoing it gives predictions in these units.
    let mut scaled = String::from("dosage,efficacy\n");
    for i in 0..120 {
        let d = f64::from(i) / 119.0;
        scaled += &format!("{d},{}\n", 5000.0 + 3000.0 * d + 800.0 * (6.0 * d).sin());
    }
    std::fs::write(dir.path().join("dosage.csv"), &scaled).unwrap();
    // The lessons' normal draw: with three units, this seed's uniform draw settles on a
    // plateau (R² 0.53) that would test the optimiser rather than predict.
    let c = config(
        dir.path(),
        "c.toml",
        "standardize = true",
        "epochs = 40\nmomentum = 0.9\ntrain_metrics = \"full\"",
    );
    let model = std::fs::read_to_string(&c).unwrap();
    std::fs::write(
        &c,
        model.replace("seed = 4\n", "seed = 4\ninitializer = \"normal\"\n"),
    )
    .unwrap();
    let v = squiggle_in(dir.path(), &["train", &c, "--json", "--run-dir", "run"]).json();
    let train_mse = number(&v["train"], "mse");
    assert!(number(&v["train"], "r2") > 0.9, "{v}");

    // The input needs only the input column; the others pass through.
    let mut input = String::from("note,dosage\n");
    let mut targets = Vec::new();
    for (i, line) in scaled.lines().skip(1).enumerate() {
        let (d, e) = line.split_once(',').unwrap();
        input += &format!("{i},{d}\n");
        targets.push(e.parse::<f64>().unwrap());
    }
    std::fs::write(dir.path().join("x.csv"), &input).unwrap();
    squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "x.csv", "--output", "y.csv",
        ],
    )
    .success();
    let out = std::fs::read_to_string(dir.path().join("y.csv")).unwrap();
    let mut lines = out.lines();
    // Every input column, as written, then the predictions under their own name.
    assert_eq!(lines.next(), Some("note,dosage,predicted_efficacy"));
    let rows: Vec<(f64, f64)> = lines
        .zip(input.lines().skip(1))
        .map(|(l, given)| {
            let (kept, p) = l.rsplit_once(',').unwrap();
            assert_eq!(kept, given, "the input row, exactly as written");
            let d = kept.split_once(',').unwrap().1;
            (d.parse().unwrap(), p.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 120);
    let mse = rows
        .iter()
        .zip(&targets)
        .map(|((_, p), t)| (p - t) * (p - t))
        .sum::<f64>()
        / 120.0;
    close(
        "MSE of the predictions vs the reported train MSE",
        mse,
        train_mse,
        train_mse * 1e-3,
    );
}

#[test]
fn eval_scores_a_saved_run_on_a_labelled_file() {
    let dir = scratch();
    let curve = |d: f64| 5000.0 + 3000.0 * d + 800.0 * (6.0 * d).sin();
    let mut train = String::from("dosage,efficacy\n");
    for i in 0..120 {
        let d = f64::from(i) / 119.0;
        train += &format!("{d},{}\n", curve(d));
    }
    std::fs::write(dir.path().join("dosage.csv"), &train).unwrap();
    let c = config(
        dir.path(),
        "c.toml",
        "standardize = true\nvalid_fraction = 0.25",
        "epochs = 30\nmomentum = 0.9",
    );
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"]).success();
    // New labelled rows, between the training dosages, with an extra column and the columns
    // in another order.
    let mut labelled = String::from("id,efficacy,dosage\n");
    let mut truth = Vec::new();
    for i in 0..60 {
        let d = (f64::from(i) + 0.5) / 60.0;
        let e = curve(d) + if i % 2 == 0 { 40.0 } else { -40.0 };
        labelled += &format!("r{i},{e},{d}\n");
        truth.push(e);
    }
    std::fs::write(dir.path().join("new.csv"), &labelled).unwrap();
    let v = squiggle_in(
        dir.path(),
        &["eval", "--run", "run", "--data", "new.csv", "--json"],
    )
    .json();
    assert_eq!(v["data"]["rows"], 60, "{v}");
    assert_eq!(v["checkpoint"], "run/best.ckpt", "{v}");
    // The same numbers, computed here from predict's output in the data's units.
    squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "new.csv", "--output", "p.csv",
        ],
    )
    .success();
    let predicted: Vec<f64> = std::fs::read_to_string(dir.path().join("p.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit_once(',').unwrap().1.parse().unwrap())
        .collect();
    let n = truth.len() as f64;
    let mean = truth.iter().sum::<f64>() / n;
    let sse: f64 = truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| (t - p) * (t - p))
        .sum();
    let sst: f64 = truth.iter().map(|t| (t - mean) * (t - mean)).sum();
    let mae = truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| (t - p).abs())
        .sum::<f64>()
        / n;
    let scored = &v["data"];
    close("MSE", number(scored, "mse"), sse / n, sse / n * 1e-4);
    close("RMSE", number(scored, "rmse"), (sse / n).sqrt(), 1e-3);
    close("MAE", number(scored, "mae"), mae, mae * 1e-4);
    close("R²", number(scored, "r2"), 1.0 - sse / sst, 1e-5);
    let text = squiggle_in(dir.path(), &["eval", "--run", "run", "--data", "new.csv"]);
    let shown = text.success();
    assert!(
        shown.starts_with("Scoring the 1-[3]-1 softplus network of run/best.ckpt (epoch ")
            && shown.contains(
                " on new.csv (flex, f32, fused kernels).\nMSE, RMSE, MAE and R² in the data's own units.\n"
            ),
        "{text}"
    );
    let row = shown.lines().last().unwrap();
    assert!(row.starts_with("new.csv (60 rows)"), "{text}");
    let cells: Vec<f64> = row["new.csv (60 rows)".len()..]
        .split_whitespace()
        .map(|c| c.parse().unwrap())
        .collect();
    close("printed R²", cells[3], number(scored, "r2"), 1e-6);
    // Without --data, the run's own config (run/config.toml) and data, as with the config.
    let own = squiggle_in(dir.path(), &["eval", "--run", "run", "--json"]).json();
    let with = squiggle_in(dir.path(), &["eval", &c, "--run", "run", "--json"]).json();
    assert_eq!(own, with);
    assert_eq!(own["valid"]["rows"], 30, "{own}");
    // Wrong columns and folders are one-line errors.
    std::fs::write(dir.path().join("bad.csv"), "dosage,y\n0.5,1\n").unwrap();
    squiggle_in(dir.path(), &["eval", "--run", "run", "--data", "bad.csv"]).fails_with(
        2,
        "squiggle: bad.csv:1: column `efficacy`: not in the header (columns: dosage, y)",
    );
    squiggle_in(
        dir.path(),
        &["eval", "--run", "nowhere", "--data", "new.csv"],
    )
    .fails_with(
        2,
        "squiggle: `nowhere` is not a run folder (no such folder)",
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    squiggle_in(dir.path(), &["eval", "--run", "empty"]).fails_with(
        2,
        "squiggle: `empty` holds no run config (`config.toml`); was it written by `squiggle train --run-dir`?",
    );
}

#[test]
fn predict_and_resume_errors_are_one_line() {
    let dir = scratch();
    dosage(dir.path(), 50);
    let c = config(dir.path(), "c.toml", "", "epochs = 1");
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"]).success();
    write(dir.path(), "x.csv", "dose\n0.5\n");
    squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "x.csv", "--output", "y.csv",
        ],
    )
    .fails_with(
        2,
        "squiggle: x.csv:1: column `dosage`: not in the header (columns: dose)",
    );
    assert!(!dir.path().join("y.csv").exists());
    squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "nope", "--input", "x.csv", "--output", "y.csv",
        ],
    )
    .fails_with(2, "squiggle: `nope` is not a run folder (no such folder)");
    // A damaged checkpoint is refused, not resumed.
    let ckpt = dir.path().join("run/last.ckpt");
    let mut bytes = std::fs::read(&ckpt).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&ckpt, bytes).unwrap();
    std::fs::remove_file(dir.path().join("run/best.ckpt")).unwrap();
    squiggle_in(dir.path(), &["train", &c, "--resume", "run"]).fails_with(
        2,
        "squiggle: run/last.ckpt: the checkpoint is corrupt (checksum mismatch)",
    );
    // A run of another network.
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run2"]).success();
    let other = write(
        dir.path(),
        "other.toml",
        "[model]\nhidden = [5]\n[data]\ncsv = \"dosage.csv\"\n[train]\nepochs = 2\n",
    );
    let out = squiggle_in(dir.path(), &["train", &other, "--resume", "run2"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .contains("the run trained a 1-[3]-1 softplus network"),
        "{out}"
    );
}

#[test]
fn epoch_keys_need_epochs_and_step_keys_refuse_them() {
    let dir = scratch();
    dosage(dir.path(), 20);
    let c = write(
        dir.path(),
        "a.toml",
        "[data]\ncsv = \"dosage.csv\"\n[train]\nbatch_size = 8\n",
    );
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!("squiggle: {c}:4:14: `batch_size` needs `epochs` in [train]: it applies to training by epochs"),
    );
    let c = write(
        dir.path(),
        "b.toml",
        "[data]\ncsv = \"dosage.csv\"\n[train]\nepochs = 2\nmax_steps = 8\n",
    );
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!("squiggle: {c}:5:13: `max_steps` is a rule of step-by-step training; with `epochs`, use `patience` to stop early"),
    );
    let c = write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"dosage.csv\"\n[train]\nepochs = 2\nschedule = \"cosine\"\nlearning_rate = 2.0\n",
    );
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!("squiggle: {c}:5:12: learning-rate schedule: Initial learning rate must be greater than 0 and at most 1"),
    );
    let c = write(
        dir.path(),
        "d.toml",
        "[data]\ncsv = \"dosage.csv\"\n[train]\nepochs = 2\nschedule = \"step\"\n",
    );
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!(
            "squiggle: {c}:5:12: `schedule = \"step\"` needs `step_every` (epochs, or steps step by step, between decays)"
        ),
    );
    let c = write(
        dir.path(),
        "e.toml",
        "[data]\ncsv = \"dosage.csv\"\nvalid_fraction = 1.5\n[train]\nepochs = 2\n",
    );
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!("squiggle: {c}:3:18: `valid_fraction` must be in [0, 1), got 1.5"),
    );
    squiggle_in(dir.path(), &["train", &c, "--resume", "x", "--epochs", "0"]).fails_with(
        2,
        "squiggle: invalid value '0' for '--epochs <EPOCHS>': 0 is not in 1..18446744073709551615",
    );
    let pt2 = root().join("configs/statquest-pt2.toml");
    squiggle_in(dir.path(), &["train", pt2.to_str().unwrap(), "--run-dir", "r"]).fails_with(
        2,
        &format!("squiggle: --run-dir keeps runs that train by epochs; `{}` trains step by step (in [train], replace `max_steps`, `min_step_size` with `epochs = N`)", pt2.display()),
    );
}

#[test]
fn lines_per_epoch_when_not_a_terminal() {
    let dir = scratch();
    dosage(dir.path(), 60);
    let c = config(dir.path(), "c.toml", "valid_fraction = 0.25", "epochs = 3");
    let out = squiggle_in(dir.path(), &["train", &c]);
    let text = out.success();
    let epochs: Vec<&str> = text.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 3, "{out}");
    assert!(
        epochs[0].starts_with("epoch 1/3  lr 0.050000  train loss "),
        "{out}"
    );
    assert!(
        epochs[0].contains("valid R²") && epochs[0].contains("rows/s"),
        "{out}"
    );
    assert!(text.contains("Stopped after 3 epochs."), "{out}");
    assert!(
        out.stderr.is_empty(),
        "no progress bar off a terminal: {out}"
    );
}

#[test]
fn memory_stays_near_the_f32_size_of_the_data() {
    // Peak memory grows with the rows by about their f32 size plus a 4-byte row index, far
    // below the 2× bound (f64 storage alone would already be 2×).
    let dir = scratch();
    let rows: u64 = 2_000_000;
    dosage(dir.path(), rows);
    std::fs::rename(dir.path().join("dosage.csv"), dir.path().join("big.csv")).unwrap();
    dosage(dir.path(), 1000);
    let run = |csv: &str| {
        let c = write(
            dir.path(),
            "m.toml",
            &format!("[data]\ncsv = \"{csv}\"\n[train]\nepochs = 1\nbatch_size = 65536\n"),
        );
        number(
            &squiggle_in(dir.path(), &["train", &c, "--json", "--report-memory"]).json(),
            "peak_memory_mb",
        )
    };
    let small = run("dosage.csv");
    let big = run("big.csv");
    let f32_mb = (rows * 2 * 4) as f64 / (1024.0 * 1024.0);
    let grown = big - small;
    assert!(
        grown < 2.0 * f32_mb,
        "grew {grown:.1} MiB for {f32_mb:.1} MiB of f32 data"
    );
}

#[test]
fn diabetes_network_beats_the_linear_baseline() {
    let run = |config: &str| squiggle(&["train", config, "--json"]).json();
    let net = run("configs/diabetes.toml");
    let linear = run("configs/diabetes-linear.toml");
    let (r2_net, r2_linear) = (number(&net["valid"], "r2"), number(&linear["valid"], "r2"));
    // Ordinary least squares reaches about 0.4–0.55 on held-out fifths of this data.
    assert!(r2_linear > 0.4, "the linear baseline: {r2_linear}");
    assert!(r2_net >= r2_linear, "network {r2_net} < linear {r2_linear}");
}

#[test]
fn a_validation_file_is_read_with_the_training_columns() {
    let dir = scratch();
    dosage(dir.path(), 80);
    squiggle_in(
        dir.path(),
        &[
            "generate",
            "dosage",
            "--rows",
            "20",
            "--seed",
            "9",
            "--out",
            "valid.csv",
        ],
    )
    .success();
    let c = config(
        dir.path(),
        "c.toml",
        "valid_csv = \"valid.csv\"",
        "epochs = 2",
    );
    let out = squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"]);
    assert!(
        out.success().contains("on 80 rows (20 validation)"),
        "{out}"
    );
    assert!(out.stdout.contains("valid R²"), "{out}");
    // Resuming a run that already has every epoch does nothing, and says so.
    let again = squiggle_in(dir.path(), &["train", &c, "--resume", "run"]);
    assert!(
        again
            .success()
            .contains("Nothing to do: the run already has 2 of 2 epochs"),
        "{again}"
    );
    write(dir.path(), "valid.csv", "dose,efficacy\n0.5,1\n");
    squiggle_in(dir.path(), &["train", &c]).fails_with(
        2,
        &format!(
            "squiggle: {}:1: column `dosage`: not in the header (columns: dose, efficacy)",
            dir.path().join("valid.csv").display()
        ),
    );
}

#[test]
fn a_terminal_gets_a_progress_bar_with_epoch_rows_per_second_and_loss() {
    // `script` (util-linux) runs the command on a pseudo-terminal and copies what it shows.
    let dir = scratch();
    dosage(dir.path(), 400);
    let c = config(dir.path(), "c.toml", "", "epochs = 2");
    let command = format!("{} train {c}", env!("CARGO_BIN_EXE_squiggle"));
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .output()
        .expect("util-linux `script` runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("\r\x1b[2Kepoch 1/2 ["), "no bar: {shown:?}");
    assert!(
        shown.contains("rows/s") && shown.contains("eta "),
        "{shown:?}"
    );
    assert!(shown.contains("epoch 2/2 ["), "{shown:?}");
    // The running batch loss shows from the first epoch on, before that epoch's line.
    let loss = shown.find("batch loss ").expect("a batch loss on the bar");
    let line = shown.find("epoch 1/2  lr ").expect("the epoch's own line");
    assert!(loss < line, "{shown:?}");
}

#[test]
fn peak_memory_is_reported_only_when_asked_for() {
    let dir = scratch();
    dosage(dir.path(), 50);
    let c = config(dir.path(), "c.toml", "", "epochs = 1");
    let plain = squiggle_in(dir.path(), &["train", &c, "--json"]).json();
    assert!(plain.get("peak_memory_mb").is_none(), "{plain}");
    let asked = squiggle_in(dir.path(), &["train", &c, "--json", "--report-memory"]).json();
    if cfg!(target_os = "linux") {
        assert!(number(&asked, "peak_memory_mb") > 0.0, "{asked}");
    } else {
        assert!(asked["peak_memory_mb"].is_null(), "{asked}");
    }
}

#[test]
fn adam_trains_resumes_and_is_written_into_the_resolved_config() {
    let dir = scratch();
    dosage(dir.path(), 120);
    let c = config(
        dir.path(),
        "c.toml",
        "valid_fraction = 0.25\nstandardize = true",
        "epochs = 4\noptimizer = \"adam\"\nbeta2 = 0.99",
    );
    let whole = squiggle_in(dir.path(), &["train", &c, "--json", "--run-dir", "whole"]).json();
    let resolved = std::fs::read_to_string(dir.path().join("whole/config.toml")).unwrap();
    for line in [
        "optimizer = \"adam\"",
        "beta1 = 0.9",
        "beta2 = 0.99",
        "epsilon = 0.00000001",
    ] {
        assert!(resolved.contains(line), "{line} missing from\n{resolved}");
    }
    let again = squiggle_in(dir.path(), &["train", "whole/config.toml", "--json"]).json();
    assert_eq!(params(&again), params(&whole));
    squiggle_in(
        dir.path(),
        &["train", &c, "--epochs", "2", "--run-dir", "parts"],
    )
    .success();
    let resumed = squiggle_in(dir.path(), &["train", &c, "--json", "--resume", "parts"]).json();
    assert_eq!(
        params(&resumed),
        params(&whole),
        "Adam's state resumes bit for bit"
    );
    // The run's optimizer state belongs to Adam: another optimizer cannot continue it.
    let sgd = config(
        dir.path(),
        "sgd.toml",
        "valid_fraction = 0.25\nstandardize = true",
        "epochs = 6",
    );
    let out = squiggle_in(dir.path(), &["train", &sgd, "--resume", "parts"]);
    out.fails_with(
        2,
        "squiggle: parts/last.ckpt: the run trained with optimizer `adam`; the config asks for `sgd`",
    );
    let wrong = config(
        dir.path(),
        "w.toml",
        "",
        "epochs = 1\noptimizer = \"adam\"\nmomentum = 0.5",
    );
    squiggle_in(dir.path(), &["train", &wrong]).fails_with(
        2,
        &format!("squiggle: {wrong}:12:12: `momentum` applies to `optimizer = \"sgd\"`"),
    );
}

#[test]
fn a_wide_networks_resolved_config_keeps_the_seed_not_its_drawn_weights() {
    let dir = scratch();
    let mut csv = String::from("a,b,c,d,e,f,g,h,y\n");
    for i in 0..64 {
        let row: Vec<String> = (0..8).map(|k| ((i * (k + 3)) % 17).to_string()).collect();
        csv += &format!("{},{}\n", row.join(","), i % 5);
    }
    write(dir.path(), "wide.csv", &csv);
    let c = write(
        dir.path(),
        "wide.toml",
        "[model]\nhidden = [64, 64]\nseed = 11\n\n[model.init]\n\"output.bias\" = [0.5]\n\n\
         [data]\ncsv = \"wide.csv\"\nstandardize = true\n\n[train]\nepochs = 2\nbatch_size = 16\n",
    );
    let first = squiggle_in(dir.path(), &["train", &c, "--json", "--run-dir", "run"]).json();
    let resolved = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    let longest = resolved.lines().map(str::len).max().unwrap();
    assert!(longest < 200, "a {longest}-character line in\n{resolved}");
    assert!(resolved.contains("seed = 11"), "{resolved}");
    assert!(resolved.contains("initializer = \"uniform\""), "{resolved}");
    // What the user wrote stays; the 4,800 other values are the seed's to give, and every
    // parameter trains: six tensor paths, not 4,801 element names.
    assert!(resolved.contains("\"output.bias\" = [0.5]"), "{resolved}");
    assert!(!resolved.contains("\"hidden.0.weight\" ="), "{resolved}");
    assert!(
        resolved
            .contains("trainable = [\"hidden.0.weight\", \"hidden.0.bias\", \"hidden.1.weight\""),
        "{resolved}"
    );
    let again = squiggle_in(dir.path(), &["train", "run/config.toml", "--json"]).json();
    assert_eq!(params(&again), params(&first));
}

#[test]
fn the_largest_seed_a_toml_file_holds_reruns_from_the_run_folder() {
    let dir = scratch();
    dosage(dir.path(), 40);
    let c = config(dir.path(), "c.toml", "", "epochs = 1");
    let max = i64::MAX.to_string();
    let first = squiggle_in(
        dir.path(),
        &["train", &c, "--json", "--seed", &max, "--run-dir", "r"],
    )
    .json();
    let again = squiggle_in(dir.path(), &["train", "r/config.toml", "--json"]).json();
    assert_eq!(params(&again), params(&first));
    let out = squiggle_in(dir.path(), &["train", &c, "--seed", "9223372036854775808"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .starts_with("squiggle: invalid value '9223372036854775808' for '--seed <SEED>'"),
        "{out}"
    );
}

#[test]
fn the_run_dir_suggestions_work_when_followed() {
    let dir = scratch();
    // A config with step-only keys: replacing them with `epochs` keeps a run.
    let pt2 = std::fs::read_to_string(root().join("configs/statquest-pt2.toml")).unwrap();
    let by_epochs: String = pt2
        .lines()
        .filter(|l| !l.starts_with("max_steps") && !l.starts_with("min_step_size"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + "epochs = 2\n";
    write(dir.path(), "pt2.toml", &by_epochs);
    squiggle_in(dir.path(), &["train", "pt2.toml", "--run-dir", "a"]).success();
    // A config without them: `--epochs N` does it.
    write(dir.path(), "plain.toml", "[train]\nlearning_rate = 0.05\n");
    let out = squiggle_in(dir.path(), &["train", "plain.toml", "--run-dir", "b"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(out.stderr.contains("(add it, or pass --epochs N)"), "{out}");
    squiggle_in(
        dir.path(),
        &["train", "plain.toml", "--run-dir", "b", "--epochs", "2"],
    )
    .success();
    assert!(dir.path().join("b/last.ckpt").is_file());
}

#[test]
fn plot_takes_the_training_flags_of_train() {
    let dir = scratch();
    let pt2 = root().join("configs/statquest-pt2.toml");
    let pt2 = pt2.to_str().unwrap();
    let v = squiggle_in(
        dir.path(),
        &["plot", pt2, "--out", "p", "--max-steps", "3", "--json"],
    )
    .json();
    assert_eq!(v["written"].as_array().unwrap().len(), 6, "{v}");
    let landscape = std::fs::read_to_string(dir.path().join("p/landscape.svg")).unwrap();
    assert_eq!(
        landscape.matches("<circle").count(),
        3,
        "three steps, as --max-steps says"
    );
    write(dir.path(), "plain.toml", "[train]\nlearning_rate = 0.5\n");
    squiggle_in(
        dir.path(),
        &[
            "plot",
            "plain.toml",
            "--out",
            "q",
            "--learning-rate",
            "0.05",
            "--epochs",
            "2",
        ],
    )
    .success();
    assert!(
        dir.path().join("q/r2.svg").is_file(),
        "--epochs trains by epochs"
    );
}

#[test]
fn predict_passes_every_column_through_as_written() {
    let dir = scratch();
    dosage(dir.path(), 60);
    let c = config(dir.path(), "c.toml", "", "epochs = 1");
    squiggle_in(dir.path(), &["train", &c, "--run-dir", "run"]).success();
    // An id past f32's integers, a quoted text with a comma, the input spelled its own way.
    write(
        dir.path(),
        "x.csv",
        "id,dosage,note\n16777217,0.50,\"low, then high\"\n",
    );
    let out = squiggle_in(
        dir.path(),
        &[
            "predict", "--run", "run", "--input", "x.csv", "--output", "y.csv",
        ],
    );
    out.success();
    assert!(
        out.stderr
            .starts_with("squiggle: wrote 1 prediction to y.csv"),
        "{out}"
    );
    let y = std::fs::read_to_string(dir.path().join("y.csv")).unwrap();
    let mut lines = y.lines();
    assert_eq!(lines.next(), Some("id,dosage,note,predicted_efficacy"));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("16777217,0.50,\"low, then high\","),
        "{row}"
    );
    // A column of that name already there is refused before anything is written.
    write(dir.path(), "z.csv", "dosage,predicted_efficacy\n0.5,1\n");
    squiggle_in(
        dir.path(),
        &["predict", "--run", "run", "--input", "z.csv", "--output", "w.csv"],
    )
    .fails_with(
        2,
        "squiggle: z.csv:1: column `predicted_efficacy` is already there; predictions would not be told apart from it",
    );
    assert!(!dir.path().join("w.csv").exists());
}

#[test]
fn a_divergence_names_the_unscaled_input_column_that_may_cause_it() {
    let dir = scratch();
    let mut text = String::from("id,x,y\n");
    for i in 0..2000u32 {
        let x = f64::from(i % 97) / 97.0;
        text.push_str(&format!("{},{x:.5},{:.5}\n", i * 100, (3.0 * x).sin()));
    }
    write(dir.path(), "id.csv", &text);
    let config = |data: &str| {
        format!(
            "[model]\nhidden = [4]\n[data]\ncsv = \"id.csv\"\n{data}[train]\nepochs = 5\nbatch_size = 32\nlearning_rate = 0.1\n"
        )
    };
    write(dir.path(), "c.toml", &config(""));
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stderr.starts_with("squiggle: unscaled input column `id` spans 0 to 199,900 (set [data] standardize = true, or leave it out with [data] exclude): the loss became ")
            && out.stderr.trim_end().ends_with("; try a smaller learning_rate"),
        "{out}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    // Following either advice, it trains.
    write(dir.path(), "c.toml", &config("standardize = true\n"));
    squiggle_in(dir.path(), &["train", "c.toml"]).success();
    write(dir.path(), "c.toml", &config("exclude = [\"id\"]\n"));
    squiggle_in(dir.path(), &["train", "c.toml"]).success();
}

#[test]
fn epochs_on_a_lesson_config_train_it_by_epochs_with_its_step_rules_set_aside() {
    let out = squiggle(&["train", "configs/statquest-pt2.toml", "--epochs", "3"]);
    assert_eq!(
        out.stderr.trim_end(),
        "squiggle: note: --epochs trains by epochs, so the config's step-by-step rules are set aside (max_steps, min_step_size)"
    );
    // Full batch: each epoch is one of the lesson's steps (SSR 20.423597, 3.267828, …).
    let shown = out.success();
    assert!(shown.contains("by epochs, full batch, SSR loss"), "{shown}");
    for (epoch, loss) in [(1, "20.423597"), (2, "3.267828"), (3, "0.522905")] {
        assert!(
            shown.contains(&format!(
                "epoch {epoch}/3  lr 0.100000  train loss {loss}  "
            )),
            "{shown}"
        );
    }
    // A step rule given with it is still refused.
    squiggle(&["train", "configs/statquest-pt2.toml", "--epochs", "3", "--max-steps", "4"])
        .fails_with(
            2,
            "squiggle: --max-steps: `max_steps` is a rule of step-by-step training; with `epochs`, use `patience` to stop early",
        );
}
