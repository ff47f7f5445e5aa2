//! Every command on every shipped config, as a new user would run them: each gives a
//! sensible result, in both ways to train.

use std::path::Path;

use crate::util::*;

/// Every `configs/*.toml`, sorted.
fn shipped() -> Vec<String> {
    let mut configs: Vec<String> = std::fs::read_dir(root().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| format!("configs/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    configs.sort();
    assert!(configs.len() >= 8, "{configs:?}");
    configs
}

/// Whether `config` trains by epochs.
fn by_epochs(config: &str) -> bool {
    std::fs::read_to_string(root().join(config))
        .unwrap()
        .lines()
        .any(|l| l.trim_start().starts_with("epochs"))
}

/// Whether `config` trains a classifier (cross entropy over class labels).
fn classifies(config: &str) -> bool {
    std::fs::read_to_string(root().join(config))
        .unwrap()
        .contains("loss = \"cross_entropy\"")
}

/// Whether `config` has a `[train]` section.
fn has_train_section(config: &str) -> bool {
    std::fs::read_to_string(root().join(config))
        .unwrap()
        .lines()
        .any(|l| l.trim() == "[train]")
}

fn finite(v: &serde_json::Value, key: &str) -> f64 {
    let x = number(v, key);
    assert!(x.is_finite(), "`{key}` is {x} in {v}");
    x
}

#[test]
fn every_command_understands_every_shipped_config() {
    let dir = scratch();
    for config in shipped() {
        let epochs = by_epochs(&config);
        let trains = has_train_section(&config);
        let classifier = classifies(&config);
        // train: the loss falls and the run converges or finishes (step by step), or the fit
        // beats the mean (by epochs); a config without [train] (Pt. 1) is evaluated instead.
        if !trains {
            let out = squiggle(&["train", &config]);
            assert_eq!(out.status, 2, "{out}");
            assert!(out.stderr.contains("has no [train] section"), "{out}");
        } else if epochs && classifier {
            let v = squiggle(&["train", &config, "--json"]).json();
            let accuracy = finite(&v["valid"], "accuracy");
            assert!(accuracy > 0.85, "{config}: validation accuracy {accuracy}");
        } else if epochs {
            let v = squiggle(&["train", &config, "--json"]).json();
            let r2 = finite(&v["valid"], "r2");
            assert!(r2 > 0.3, "{config}: validation R² {r2}");
        } else {
            let v = squiggle(&["train", &config, "--json"]).json();
            let (start, end) = (finite(&v, "initial_loss"), finite(&v, "final_loss"));
            assert!(end <= start, "{config}: {start} → {end}");
            assert!(
                v["verdict"] == "converged" || v["verdict"] == "finished",
                "{config}: {v}"
            );
        }

        // eval: the same rows and units as training.
        let v = squiggle(&["eval", &config, "--json"]).json();
        if epochs {
            let metric = if classifier { "accuracy" } else { "mse" };
            assert!(finite(&v["train"], metric) > 0.0, "{config}: {v}");
            assert!(v["valid"]["rows"].as_u64().unwrap() > 0, "{config}: {v}");
        } else {
            finite(&v, "loss");
        }
        let text = squiggle(&["eval", &config]);
        let first = text.success().lines().next().unwrap().to_string();
        if epochs {
            assert!(
                first.contains("training rows") && first.contains("standardised as training does"),
                "{config}: {first}"
            );
        }

        // explain: the chain rule, both backward passes and finite differences agree on every
        // parameter.
        let v = squiggle(&["explain", &config, "--json"]).json();
        let params = v["params"].as_array().unwrap();
        assert!(!params.is_empty(), "{config}");
        for p in params {
            assert_eq!(p["agree"], true, "{config}: {p}");
        }

        // gradcheck: a correct gradient passes.
        let v = squiggle(&["gradcheck", &config, "--json"]).json();
        assert_eq!(v["passed"], true, "{config}: {}", v["worst"]);

        // plot: the files of the mode.
        let out = dir.path().join(config.replace(['/', '.'], "_"));
        squiggle(&["plot", &config, "--out", out.to_str().unwrap()]).success();
        let names: &[&str] = match (trains, epochs, classifier) {
            (false, _, _) => &["fit"],
            (true, true, false) => &["loss", "r2", "fit"],
            (true, true, true) => &["loss", "accuracy"],
            (true, false, false) => &["fit", "landscape", "loss"],
            (true, false, true) => &["regions", "landscape", "loss"],
        };
        for name in names {
            for ext in ["svg", "png"] {
                let file = out.join(format!("{name}.{ext}"));
                assert!(file.is_file(), "{config}: no {}", file.display());
            }
        }
    }
}

/// Every shipped config trains to the same result with Burn's autodiff of the module as with
/// the fused kernels: the same stopping rule, a final loss within 1e-3 of it (both compute in
/// f32, and thousands of steps let the last digits drift apart), every parameter within 1e-2
/// (the same minimum).
#[test]
fn every_shipped_config_trains_alike_with_either_kernels() {
    for config in shipped().into_iter().filter(|c| has_train_section(c)) {
        let run = |kernels: &str| {
            let v = squiggle(&["train", &config, "--json", "--kernels", kernels]).json();
            assert_eq!(v["kernels"], kernels, "{config}");
            v
        };
        let (fused, burn) = (run("fused"), run("burn"));
        assert_eq!(fused["stop_reason"], burn["stop_reason"], "{config}");
        let key = if by_epochs(&config) {
            "train_loss"
        } else {
            "final_loss"
        };
        let (f, b) = (finite(&fused, key), finite(&burn, key));
        assert!(
            (f - b).abs() <= 1e-3 * f.abs().max(1e-3),
            "{config}: {key} {f} (fused) vs {b} (Burn)"
        );
        let mut values = Vec::new();
        flatten(&fused["params"], &mut values);
        let mut others = Vec::new();
        flatten(&burn["params"], &mut others);
        assert_eq!(values.len(), others.len(), "{config}");
        for (f, b) in values.iter().zip(&others) {
            assert!(
                (f - b).abs() <= 1e-2 * f.abs().max(1.0),
                "{config}: {f} vs {b}"
            );
        }
    }
}

/// Every number in `v`, in order.
fn flatten(v: &serde_json::Value, out: &mut Vec<f64>) {
    match v {
        serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        serde_json::Value::Object(map) => map.values().for_each(|i| flatten(i, out)),
        _ => {}
    }
}

/// Six epochs of the shipped diabetes config kept in `dir/run`, with `extra` flags.
fn diabetes_run_with(dir: &Path, extra: &[&str]) {
    let config = root().join("configs/diabetes.toml");
    let mut args = vec![
        "train",
        config.to_str().unwrap(),
        "--epochs",
        "6",
        "--run-dir",
        "run",
    ];
    args.extend_from_slice(extra);
    squiggle_in(dir, &args).success();
}

/// The CSV row of `metrics.csv` for `epoch`, as numbers.
fn metrics_row(dir: &Path, epoch: usize) -> Vec<f64> {
    let text = std::fs::read_to_string(dir.join("run/metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|c| c.parse().unwrap_or(f64::NAN))
                .collect::<Vec<f64>>()
        })
        .find(|row| row[0] as usize == epoch)
        .unwrap()
}

#[test]
fn the_inspecting_commands_look_at_a_trained_run_as_training_measured_it() {
    // Full training metrics: every number of metrics.csv describes the parameters after
    // its epoch, as the checkpoints do.
    let dir = scratch();
    diabetes_run_with(dir.path(), &["--set", "train.train_metrics=full"]);
    let config = root().join("configs/diabetes.toml");
    let config = config.to_str().unwrap();
    for (flags, checkpoint) in [
        (&["--run", "run"][..], "best"),
        (&["--run", "run", "--last"][..], "last"),
    ] {
        let mut args = vec!["eval", config, "--json"];
        args.extend_from_slice(flags);
        let v = squiggle_in(dir.path(), &args).json();
        let mut text_args = vec!["eval", config];
        text_args.extend_from_slice(flags);
        let text = squiggle_in(dir.path(), &text_args);
        let first = text.success().lines().next().unwrap();
        let prefix = format!("at the parameters of run/{checkpoint}.ckpt (epoch ");
        assert!(first.contains(&prefix), "{first}");
        let epoch: usize = first
            .split(&prefix)
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap()
            .parse()
            .unwrap();
        // The checkpoint's metrics are the ones the run wrote for its epoch.
        let row = metrics_row(dir.path(), epoch);
        close("train loss", number(&v["train"], "loss"), row[2], 1e-9);
        close("valid loss", number(&v["valid"], "loss"), row[3], 1e-9);
        close("train R²", number(&v["train"], "r2"), row[7], 1e-9);
        close("valid R²", number(&v["valid"], "r2"), row[11], 1e-9);
    }
    let v = squiggle_in(dir.path(), &["gradcheck", config, "--run", "run", "--json"]).json();
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["rows"], 354);
    let v = squiggle_in(dir.path(), &["explain", config, "--run", "run", "--json"]).json();
    assert!(v["step"].is_null(), "no step is taken at a checkpoint: {v}");
    assert_eq!(v["rows"], 354);
    let out = squiggle_in(dir.path(), &["plot", config, "--run", "run", "--out", "p"]);
    assert!(out.success().contains("wrote p/r2.svg"), "{out}");
    let fit = std::fs::read_to_string(dir.path().join("p/fit.svg")).unwrap();
    assert_eq!(
        fit.matches("<circle").count(),
        88,
        "one point per validation row"
    );
    assert!(
        fit.contains("the validation rows (88 rows)"),
        "titled for what it shows"
    );
    let loss = std::fs::read_to_string(dir.path().join("p/loss.svg")).unwrap();
    assert!(loss.contains("validation rows") && loss.contains("MSE per epoch"));
    // A lesson config has no run folders to look at.
    squiggle_in(
        dir.path(),
        &["eval", root().join("configs/statquest-pt2.toml").to_str().unwrap(), "--run", "run"],
    )
    .fails_with(
        2,
        &format!(
            "squiggle: --run looks at runs trained by epochs; `{}` trains step by step (it has no `[train] epochs`)",
            root().join("configs/statquest-pt2.toml").display()
        ),
    );
}

#[test]
fn explain_by_epochs_takes_the_first_mini_batch_of_the_training_rows() {
    let out = squiggle(&[
        "explain",
        "configs/diabetes.toml",
        "--param",
        "output.bias[0]",
    ]);
    let text = out.success();
    assert!(
        text.starts_with(
            "Step 0 (epoch 1, mini-batch 1 of 12: 32 rows drawn from 354 training rows) of training a 10-[4]-1 softplus network"
        ),
        "{out}"
    );
    assert!(
        text.contains("  … 17 rows not shown (--all-rows prints every row) …"),
        "{out}"
    );
    assert!(
        text.contains("what sgd with momentum 0.9 and weight decay 0.03 makes of this derivative"),
        "{out}"
    );
    let all = squiggle(&[
        "explain",
        "configs/diabetes.toml",
        "--param",
        "output.bias[0]",
        "--all-rows",
    ]);
    assert!(!all.success().contains("not shown"), "{all}");
}

#[test]
fn train_can_plot_a_run_by_epochs() {
    let dir = scratch();
    let config = root().join("configs/diabetes-linear.toml");
    let out = squiggle_in(
        dir.path(),
        &[
            "train",
            config.to_str().unwrap(),
            "--epochs",
            "3",
            "--plot",
            "p",
        ],
    );
    let text = out.success();
    for name in ["loss", "r2", "fit"] {
        assert!(text.contains(&format!("wrote p/{name}.png")), "{out}");
    }
    squiggle_in(
        dir.path(),
        &["train", config.to_str().unwrap(), "--plot", "p", "--animate"],
    )
    .fails_with(
        2,
        &format!(
            "squiggle: --animate shows step-by-step training; `{}` trains by epochs (see metrics.csv in --run-dir)",
            config.display()
        ),
    );
}
