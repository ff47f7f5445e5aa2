//! Output formats: the human step table, JSON, trace files.

use crate::util::*;

#[test]
fn the_step_table_reads_like_the_lesson() {
    let out = squiggle(&["train", "configs/statquest-pt2.toml"]);
    let text = out.success();
    let expected_start = "\
Training b3 of a 1-[2]-1 softplus network on 3 data points (flex, f32, fused kernels).
Loss SSR, learning rate 0.1; stop after 1000 steps or when every |step size| < 0.001.

 step         SSR          b3    dSSR/db3   step size
    0   20.423597    0.000000  -15.655108   -1.565511
    1    3.267828    1.565511   -6.262043   -0.626204
";
    assert!(text.starts_with(expected_start), "{out}");
    assert!(
        text.contains("\nStopped by min_step_size after 10 steps: every |step size| < 0.001.\n"),
        "{out}"
    );
    assert!(text.contains("\n  w1 =    3.340000  (frozen)\n"), "{out}");
    assert!(text.contains("\n  b3 =    2.608911\n"), "{out}");
    // The final SSR, 6.3035e-5 exactly, is a difference of numbers near 1: f32 holds it to
    // a few parts in 10⁴.
    let last = text.lines().last().unwrap();
    let final_ssr: f64 = last
        .strip_prefix("SSR: 20.423597 → ")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    close("final SSR", final_ssr, 6.3035e-5, 1e-8);
}

#[test]
fn long_runs_elide_the_middle_of_the_table() {
    let out = squiggle(&[
        "train",
        "configs/statquest-details-pt1.toml",
        "--max-steps",
        "40",
    ]);
    let text = out.success();
    // 7 parameters' worth of columns would not fit: three trainable → one wide row per step.
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.trim_start()
                .split(' ')
                .next()
                .is_some_and(|w| w.parse::<usize>().is_ok())
        })
        .collect();
    let steps: Vec<usize> = rows
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        steps,
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 35, 36, 37, 38, 39],
        "{out}"
    );
    assert!(
        text.contains("  … 25 steps not shown (--all-steps prints every step) …\n"),
        "{out}"
    );
    let all = squiggle(&[
        "train",
        "configs/statquest-details-pt1.toml",
        "--max-steps",
        "40",
        "--all-steps",
    ]);
    assert!(!all.success().contains("not shown"));
}

#[test]
fn many_trainable_parameters_get_one_row_each() {
    let out = squiggle(&[
        "train",
        "configs/statquest-details-pt2.toml",
        "--max-steps",
        "1",
    ]);
    let text = out.success();
    assert!(
        text.contains(" step         SSR  parameter          value dSSR/dparam   step size\n"),
        "{out}"
    );
    assert!(
        text.contains("    0    1.895878  w1              2.740000    0.760944    0.007609\n"),
        "{out}"
    );
    assert!(
        text.contains("                   b3              0.000000    3.459455    0.034595\n"),
        "{out}"
    );
    assert!(text.contains("stop after 1 step or when"), "{out}");
    assert!(
        text.contains("\nStopped by max_steps after 1 step.\n"),
        "{out}"
    );
}

#[test]
fn json_is_one_object_with_every_documented_key() {
    let v = squiggle(&["train", "configs/statquest-pt2.toml", "--json"]).json();
    for key in [
        "steps",
        "stop_reason",
        "initial_loss",
        "final_loss",
        "backend",
        "params",
    ] {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
    // f32 values print as their shortest decimal.
    assert_eq!(v["params"]["w1"], 3.34);
    let keys: Vec<&String> = v["params"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["w1", "w2", "b1", "b2", "w3", "w4", "b3"]);
}

#[test]
fn other_shapes_report_parameters_by_tensor_path() {
    let dir = scratch();
    write(
        dir.path(),
        "deep.toml",
        "[model]\ninputs = 2\nhidden = [3, 2]\nactivation = \"tanh\"\nseed = 4\n\
         [data]\npoints = [[0, 1, 0.5], [1, 0, 0.2], [1, 1, 0.9]]\n[train]\nmax_steps = 3\n",
    );
    let v = squiggle_in(dir.path(), &["train", "deep.toml", "--json"]).json();
    let params = v["params"].as_object().unwrap();
    let keys: Vec<&String> = params.keys().collect();
    assert_eq!(
        keys,
        [
            "hidden.0.weight",
            "hidden.0.bias",
            "hidden.1.weight",
            "hidden.1.bias",
            "output.weight",
            "output.bias"
        ]
    );
    assert_eq!(params["hidden.0.weight"].as_array().unwrap().len(), 2);
    assert_eq!(params["hidden.0.weight"][0].as_array().unwrap().len(), 3);
    assert_eq!(params["output.bias"].as_array().unwrap().len(), 1);
    assert_eq!(v["steps"], 3);
}

#[test]
fn same_seed_same_numbers_and_the_seed_flag_overrides_the_file() {
    let run = |seed: &str| {
        squiggle(&[
            "train",
            "configs/statquest-details-pt2.toml",
            "--json",
            "--max-steps",
            "20",
            "--seed",
            seed,
        ])
        .json()
    };
    assert_eq!(run("1"), run("1"));
    // Every initial value of that config is given, so the seed changes nothing there;
    // a config without init values draws them from the seed.
    let dir = scratch();
    write(dir.path(), "random.toml", "[train]\nmax_steps = 5\n");
    let draw = |seed: &str| {
        squiggle_in(
            dir.path(),
            &["train", "random.toml", "--json", "--seed", seed],
        )
        .json()
    };
    assert_eq!(draw("3"), draw("3"));
    assert_ne!(draw("3")["params"], draw("4")["params"]);
}

#[test]
fn eval_prints_each_point_and_the_loss() {
    let out = squiggle(&["eval", "configs/statquest-pt1.toml"]);
    assert_eq!(
        out.success(),
        "\
Evaluating a 1-[2]-1 softplus network on 3 data points (flex, f32, fused kernels).

       input    observed   predicted    residual
    0.000000    0.000000   -0.011001    0.011001
    0.500000    1.000000    1.034832   -0.034832
    1.000000    0.000000    0.004633   -0.004633

SSR = 0.001356
"
    );
}

#[test]
fn f64_runs_are_available_on_cpu_backends() {
    let ndarray = cfg!(feature = "ndarray").then_some("ndarray");
    for backend in std::iter::once("flex").chain(ndarray) {
        let v = squiggle(&[
            "train",
            "configs/statquest-pt2.toml",
            "--json",
            "--dtype",
            "f64",
            "--backend",
            backend,
        ])
        .json();
        assert_eq!(v["dtype"], "f64");
        close("b3", number(&v["params"], "b3"), 2.608911, 1e-6);
    }
}

#[cfg(unix)]
#[test]
fn output_files_are_readable_by_everyone_like_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    train_pt2_in(dir.path(), &["--json", "--trace", "t.csv"]).success();
    let mode = std::fs::metadata(dir.path().join("t.csv"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
}

#[test]
fn a_trace_names_every_parameter_the_same_way_in_its_steps_and_its_end() {
    // 1-[3]-1 networks use the lesson's names (w1 … w6, b1 … b4) everywhere.
    let dir = scratch();
    write(
        dir.path(),
        "three.toml",
        "[model]\nhidden = [3]\nseed = 2\n[train]\nmax_steps = 2\n",
    );
    squiggle_in(
        dir.path(),
        &["train", "three.toml", "--json", "--trace", "t.jsonl"],
    )
    .success();
    let text = std::fs::read_to_string(dir.path().join("t.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let step: Vec<&str> = lines[0]["data"]["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let end: Vec<&String> = lines[2]["data"]["params"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(step, end);
    assert_eq!(
        step,
        ["w1", "w2", "w3", "b1", "b2", "b3", "w4", "w5", "w6", "b4"]
    );
}

#[test]
fn adam_steps_name_their_optimizer_and_move_by_what_it_decides() {
    let dir = scratch();
    write(
        dir.path(),
        "adam.toml",
        "[model.init]\nw1 = 3.34\nb1 = -1.43\nw2 = -3.53\nb2 = 0.57\nw3 = -1.22\nw4 = -2.30\nb3 = 0.0\n\
         [train]\ntrainable = [\"b3\"]\noptimizer = \"adam\"\nlearning_rate = 0.5\nmax_steps = 2\n",
    );
    let out = squiggle_in(dir.path(), &["train", "adam.toml"]);
    let text = out.success();
    assert!(
        text.contains(
            "Loss SSR, learning rate 0.5, adam (β1 0.9, β2 0.999, ε 1e-8); stop after 2 steps"
        ),
        "{out}"
    );
    // Adam's first step is lr·g/(|g| + ε): 0.5 for dSSR/db3 = −15.655108.
    assert!(
        text.contains("    0   20.423597    0.000000  -15.655108   -0.500000\n"),
        "{out}"
    );
}

/// A CSV of `rows` points of `f(x)` for x in [0, 1].
fn csv_of(dir: &std::path::Path, name: &str, rows: usize, f: impl Fn(f64) -> f64) {
    let mut text = String::from("x,y\n");
    for i in 0..rows {
        let x = i as f64 / (rows - 1) as f64;
        text += &format!("{x},{}\n", f(x));
    }
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn every_stop_says_whether_the_run_converged_stalled_or_diverged() {
    // Converged: the lesson.
    let text = squiggle(&["train", "configs/statquest-pt2.toml"]);
    assert!(
        text.success()
            .contains("every |step size| < 0.001.\nConverged (R² 0.999905).\n"),
        "{text}"
    );
    // Stalled: a sine the network cannot follow at this learning rate; the steps shrink
    // below the lesson's min_step_size long before the fit beats the mean (data sets turn the
    // rule off by default). R² stands beside the loss.
    let dir = scratch();
    csv_of(dir.path(), "sine.csv", 40, |x| (12.0 * x).sin());
    write(
        dir.path(),
        "sine.toml",
        "[model.init]\nw1 = 3.34\nb1 = -1.43\nw2 = -3.53\nb2 = 0.57\nw3 = -1.22\nw4 = -2.30\nb3 = 0.0\n\
         [data]\ncsv = \"sine.csv\"\n[train]\nlearning_rate = 0.01\nmin_step_size = 0.001\n",
    );
    let out = squiggle_in(dir.path(), &["train", "sine.toml"]);
    let text = out.success();
    assert!(
        text.contains(" step         MSE          R²  parameter"),
        "{out}"
    );
    assert!(
        text.contains(
            ": the steps became small while the fit is no better than predicting the mean. Try a larger learning_rate, or a smaller min_step_size (0 turns it off) with more max_steps.\n"
        ),
        "{out}"
    );
    let v = squiggle_in(dir.path(), &["train", "sine.toml", "--json"]).json();
    assert_eq!(v["verdict"], "stalled");
    assert!(number(&v, "r2") < 0.1, "{v}");
    // Following the advice fits the curve better than the mean.
    let v = squiggle_in(
        dir.path(),
        &["train", "sine.toml", "--json", "--learning-rate", "0.5"],
    )
    .json();
    assert!(number(&v, "r2") > 0.1, "{v}");
    // Stalled after overshooting: the dosage fit at 1.0 throws its units into saturation in
    // the first steps; the advice is then a smaller rate, and following it fits.
    let out = squiggle(&["train", "configs/dosage-csv.toml", "--learning-rate", "1.0"]);
    // (The loss hovers at 100.46 from step 2 on, so where its f32 maximum falls is rounding.)
    let text = out.success();
    let stalled = text
        .lines()
        .find(|l| l.starts_with("Stalled"))
        .unwrap_or_default();
    assert!(
        stalled.contains(
            " the steps became small while the fit is no better than predicting the mean, after the MSE rose to 100.46"
        ) && stalled.ends_with(". Try a smaller learning_rate."),
        "{out}"
    );
    let v = squiggle(&[
        "train",
        "configs/dosage-csv.toml",
        "--learning-rate",
        "0.25",
        "--json",
    ])
    .json();
    assert!(number(&v, "r2") > 0.8, "{v}");
    // Diverged while finite: Pt. 2 at learning rate 0.34 overshoots further every step.
    let out = squiggle(&[
        "train",
        "configs/statquest-pt2.toml",
        "--learning-rate",
        "0.34",
    ]);
    assert_eq!(out.status, 1, "{out}");
    // The SSR at step 89 is 21981.904 in exact arithmetic; 89 amplifying f32 steps hold it to
    // a few parts in 10⁵.
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Diverged"))
        .unwrap_or_default();
    let reached: f64 = line
        .strip_prefix("Diverged at step 89: SSR rose from 20.423597 to ")
        .and_then(|rest| {
            rest.strip_suffix(", more than a thousandfold. Try a smaller learning_rate.")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    close("SSR at step 89", reached, 21981.904, 1.0);
    assert!(out.stdout.contains("The parameters at step 89:"), "{out}");
    let stderr = out.stderr.trim_end();
    assert!(
        stderr.starts_with("squiggle: the loss rose from 20.4236 to 2198")
            && stderr.ends_with(
                " by step 89 (more than a thousandfold): gradient descent diverged; try a smaller learning_rate"
            )
            && stderr.lines().count() == 1,
        "{out}"
    );
}

/// `configs/dosage-csv.toml` without its cosine schedule: at a constant 0.5 the last steps
/// overshoot and the loss oscillates above its best.
fn dosage_at_a_constant_rate(dir: &std::path::Path) -> String {
    let data = root().join("configs/data/dosage.csv");
    let shipped = std::fs::read_to_string(root().join("configs/dosage-csv.toml")).unwrap();
    assert!(shipped.contains("schedule = \"cosine\"\n"), "{shipped}");
    let text = shipped.replace("schedule = \"cosine\"\n", "").replace(
        "\"data/dosage.csv\"",
        &format!("{:?}", data.to_str().unwrap()),
    );
    write(dir, "constant.toml", &text)
}

#[test]
fn a_run_that_ends_above_its_best_loss_says_where_the_best_was() {
    let dir = scratch();
    let c = dosage_at_a_constant_rate(dir.path());
    let v = squiggle(&["train", &c, "--json"]).json();
    let (best, last) = (number(&v, "best_loss"), number(&v, "final_loss"));
    assert!(best < last, "{v}");
    let text = squiggle(&["train", &c]);
    assert!(
        text.success().contains(&format!(
            "The lowest MSE, {:.6}, came before step {}; the last steps oscillate or climb (schedule = \"cosine\" or a smaller learning_rate settles them).",
            best,
            v["best_step"]
        )),
        "{text}"
    );
    // The advice, followed, is the shipped config: it converges at or below that best.
    let v = squiggle(&["train", "configs/dosage-csv.toml", "--json"]).json();
    assert_eq!(v["verdict"], "converged", "{v}");
    assert_eq!(v["stop_reason"], "min_step_size", "{v}");
    assert!(number(&v, "final_loss") <= best * 1.0001, "{v}");
    assert!(number(&v, "final_loss") <= number(&v, "best_loss"), "{v}");
}

#[test]
fn schedules_move_the_rate_from_step_to_step_too() {
    let dir = scratch();
    let out = squiggle_in(
        dir.path(),
        &[
            "train",
            &root().join("configs/statquest-pt2.toml").to_string_lossy(),
            "--trace",
            "t.csv",
        ],
    );
    out.success();
    let plain = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
    assert!(plain.starts_with("step,loss,b3,"), "{plain}");
    // A cosine over max_steps: 0.1 at step 0, 0.05 half way, the table and trace show it.
    let c = write(
        dir.path(),
        "cosine.toml",
        &std::fs::read_to_string(root().join("configs/statquest-pt2.toml"))
            .unwrap()
            .replace(
                "max_steps = 1000\n",
                "max_steps = 40\nschedule = \"cosine\"\n",
            )
            .replace("min_step_size = 0.001\n", "min_step_size = 0\n"),
    );
    let out = squiggle_in(
        dir.path(),
        &["train", &c, "--trace", "c.csv", "--all-steps"],
    );
    let text = out.success();
    assert!(
        text.contains("learning rate 0.1 (a cosine down to 0 over 40 steps); stop after 40 steps."),
        "{text}"
    );
    assert!(text.contains(" step         SSR          lr"), "{text}");
    let trace = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
    let rows: Vec<Vec<f64>> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert!(trace.starts_with("step,loss,learning_rate,b3,"), "{trace}");
    assert_eq!(rows.len(), 40);
    for row in &rows {
        let want = 0.05 * (1.0 + (std::f64::consts::PI * row[0] / 40.0).cos());
        close("learning rate", row[2], want, 1e-6);
        // The lessons' rule with this step's rate: step size = derivative × learning rate.
        close("step size", row[5], row[4] * row[2], 1e-6);
    }
    // A step schedule counts steps.
    let step = write(
        dir.path(),
        "step.toml",
        &std::fs::read_to_string(&c)
            .unwrap()
            .replace("\"cosine\"", "\"step\"\nstep_every = 10\nstep_gamma = 0.5"),
    );
    squiggle_in(dir.path(), &["train", &step, "--trace", "s.jsonl"]).success();
    let rates: Vec<f64> = std::fs::read_to_string(dir.path().join("s.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "step")
        .map(|v| number(&v["data"], "learning_rate"))
        .collect();
    assert_eq!(rates.len(), 40);
    for (k, r) in rates.iter().enumerate() {
        close("learning rate", *r, 0.1 * 0.5f64.powi(k as i32 / 10), 1e-9);
    }
}

#[test]
fn data_sets_train_with_their_defaults() {
    // The shipped dosage config without its loss, rate, stopping and initialiser lines: MSE,
    // 10,000 steps, Burn's uniform draw. It fits, where the lessons' defaults stopped at a
    // flat line after 6 steps (MSE 0.1002 against a variance of 0.0997).
    let dir = scratch();
    let shipped = std::fs::read_to_string(root().join("configs/dosage-csv.toml")).unwrap();
    let bare: String = shipped
        .lines()
        .filter(|l| {
            ![
                "loss",
                "learning_rate",
                "schedule",
                "max_steps",
                "min_step_size",
                "initializer",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(|l| {
            l.replace(
                "data/dosage.csv",
                &root().join("configs/data/dosage.csv").to_string_lossy(),
            ) + "\n"
        })
        .collect();
    let c = write(dir.path(), "bare.toml", &bare);
    let text = squiggle(&["train", &c]);
    assert!(
        text.success()
            .contains("Loss MSE, learning rate 0.1; stop after 10000 steps.\n"),
        "{text}"
    );
    let v = squiggle(&["train", &c, "--json"]).json();
    assert_eq!(
        (v["steps"].as_u64(), &v["verdict"]),
        (Some(10_000), &"finished".into()),
        "{v}"
    );
    assert!(number(&v, "r2") > 0.7, "{v}");
    // 500 fresh rows: the lessons' SSR at 0.1 reached inf by step 7; MSE fits.
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "500", "--out", "d.csv"],
    )
    .success();
    let c = write(
        dir.path(),
        "d.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"d.csv\"\n[train]\n",
    );
    let v = squiggle_in(dir.path(), &["train", &c, "--json"]).json();
    assert!(number(&v, "r2") > 0.7, "{v}");
    // A deeper network on 100,000 rows at 0.1: the lessons' normal draw overflows in epoch 1,
    // Burn's default draw (uniform ±1/√fan_in, what PyTorch does too) trains.
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "100000", "--out", "big.csv"],
    )
    .success();
    let big = |init: &str| {
        write(
            dir.path(),
            "big.toml",
            &format!(
                "[model]\nhidden = [16, 16]\n{init}[data]\ncsv = \"big.csv\"\n[train]\nlearning_rate = 0.1\nbatch_size = 256\nepochs = 12\n"
            ),
        )
    };
    // Three epochs are not enough yet, and the run says so; the advice (more epochs) works.
    let early = squiggle_in(dir.path(), &["train", &big(""), "--epochs", "3"]);
    assert!(
        early.success().contains(
            "Not fitted yet: the training R² is 0.031960, no better than predicting the mean. Try another learning_rate, more epochs, or initializer = \"glorot\".\n"
        ),
        "{early}"
    );
    let v = squiggle_in(dir.path(), &["train", &big(""), "--json"]).json();
    assert!(number(&v["train"], "r2") > 0.8, "{v}");
    let out = squiggle_in(dir.path(), &["train", &big("initializer = \"normal\"\n")]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(
        out.stderr.trim_end(),
        "squiggle: the loss became NaN in epoch 1; try a smaller learning_rate"
    );
}

#[test]
fn a_config_without_training_is_evaluated_and_drawn_as_it_is() {
    let dir = scratch();
    let pt1 = root().join("configs/statquest-pt1.toml");
    let pt1 = pt1.to_str().unwrap();
    squiggle_in(dir.path(), &["train", pt1]).fails_with(
        2,
        &format!(
            "squiggle: `{pt1}` has no [train] section: it describes a network to evaluate (`squiggle eval {pt1}`); add a [train] section to train it"
        ),
    );
    // Both suggestions work when followed.
    squiggle_in(dir.path(), &["eval", pt1]).success();
    let text = std::fs::read_to_string(pt1).unwrap();
    write(
        dir.path(),
        "pt1.toml",
        &format!("{text}\n[train]\ntrainable = [\"b3\"]\n"),
    );
    let v = squiggle_in(dir.path(), &["train", "pt1.toml", "--json"]).json();
    assert_eq!(v["verdict"], "converged", "{v}");
    // The plot is Pt. 1's own network, untrained.
    let out = squiggle_in(dir.path(), &["plot", pt1, "--out", "p"]);
    assert!(out.success().contains("wrote p/fit.svg"), "{out}");
    let svg = std::fs::read_to_string(dir.path().join("p/fit.svg")).unwrap();
    assert!(svg.contains("The network as configured (no training)"));
    assert!(!dir.path().join("p/landscape.svg").exists());
}

#[test]
fn small_things_read_right() {
    // A network without hidden layers is linear, whatever the activation says.
    let v = squiggle(&["train", "configs/gradient-descent.toml"]);
    assert!(
        v.success()
            .starts_with("Training slope and intercept of a 1-[]-1 linear network"),
        "{v}"
    );
    // Long parameter names (`dSSR/dintercept`) widen the table's columns instead of
    // breaking them.
    let lines: Vec<&str> = v.stdout.lines().skip(3).take(3).collect();
    let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{lines:#?}");
    // generate says what it wrote, like plot and predict.
    let dir = scratch();
    let out = squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "1", "--out", "d.csv"],
    );
    out.success();
    assert_eq!(out.stderr.trim_end(), "squiggle: wrote 1 row to d.csv");
    // valid_fraction = 0 holds nothing out.
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "40", "--out", "d.csv"],
    )
    .success();
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nvalid_fraction = 0\n[train]\nepochs = 1\nschedule = \"cosine\"\n",
    );
    let v = squiggle_in(dir.path(), &["train", "c.toml", "--json"]).json();
    assert!(v["valid"].is_null(), "{v}");
    // A learning rate the schedule refuses is blamed on the flag that gave it.
    squiggle_in(dir.path(), &["train", "c.toml", "--learning-rate", "2"]).fails_with(
        2,
        "squiggle: --learning-rate: learning-rate schedule: Initial learning rate must be greater than 0 and at most 1",
    );
}
