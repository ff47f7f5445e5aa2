//! Classification ("Neural Networks Pt. 4–7"): SoftMax, cross entropy, class labels, the
//! confusion matrix, predictions with probabilities, the bias-derivative identity, plots.

use std::path::Path;

use crate::util::*;

const PT7: &str = "configs/statquest-pt7-cross-entropy.toml";
const IRIS: &str = "configs/statquest-pt4-iris.toml";

/// The lesson's Iris network, written out independently of squiggle: two ReLU nodes of petal
/// and sepal width, three raw outputs; `b3` is the Setosa output's bias.
fn lesson_raw(petal: f64, sepal: f64, b3: f64) -> [f64; 3] {
    let top = (-2.5 * petal + 0.6 * sepal + 1.6f64).max(0.0);
    let bottom = (-1.5 * petal + 0.4 * sepal + 0.7f64).max(0.0);
    [
        -0.1 * top + 1.5 * bottom + b3,
        2.4 * top - 5.2 * bottom,
        -2.2 * top + 3.7 * bottom + 1.0,
    ]
}

/// The total cross entropy of Pt. 7's three flowers at `b3`, and its derivative by b3 as the
/// lesson writes it: Σ (p_setosa − [the flower is a setosa]).
fn lesson_ce(b3: f64) -> (f64, f64) {
    let flowers = [(0.04, 0.42, 0), (1.0, 0.54, 2), (0.5, 0.37, 1)];
    let (mut ce, mut derivative) = (0.0, 0.0);
    for (petal, sepal, class) in flowers {
        let raw = lesson_raw(petal, sepal, b3);
        let total: f64 = raw.iter().map(|z| z.exp()).sum();
        let p: Vec<f64> = raw.iter().map(|z| z.exp() / total).collect();
        ce -= p[class].ln();
        derivative += p[0] - if class == 0 { 1.0 } else { 0.0 };
    }
    (ce, derivative)
}

/// The rows of a step table: step, loss, value, derivative, step size.
fn step_rows(table: &str) -> Vec<Vec<f64>> {
    table
        .lines()
        .filter_map(|l| {
            let cells: Vec<f64> = l
                .split_whitespace()
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            (cells.len() == 5).then_some(cells)
        })
        .collect()
}

#[test]
fn pt7_step_table_matches_an_independent_calculation() {
    for kernels in ["fused", "burn"] {
        pt7_step_table_with(kernels);
    }
}

/// Pt. 7's table computed by `kernels`.
fn pt7_step_table_with(kernels: &str) {
    let out = squiggle(&["train", PT7, "--kernels", kernels]);
    let rows = step_rows(out.success());
    assert_eq!(rows.len(), 10, "{out}");
    let (mut b3, lr) = (-2.0, 1.0);
    for (k, row) in rows.iter().enumerate() {
        let (ce, derivative) = lesson_ce(b3);
        assert_eq!(row[0], k as f64);
        close(&format!("CE at step {k}"), row[1], ce, 2e-6);
        close(&format!("b3 at step {k}"), row[2], b3, 2e-6);
        close(&format!("dCE/db3 at step {k}"), row[3], derivative, 2e-6);
        close(
            &format!("step size at step {k}"),
            row[4],
            derivative * lr,
            2e-6,
        );
        b3 -= derivative * lr;
    }
    // The run stops once |step size| < 0.001: the tenth step's.
    assert!(rows[9][4].abs() < 0.001 && rows[8][4].abs() >= 0.001);
    let v = squiggle(&["train", PT7, "--json", "--kernels", kernels]).json();
    assert_eq!(v["loss_function"], "cross_entropy");
    assert_eq!(v["kernels"], kernels);
    close(
        "final b3",
        v["params"]["output.bias"][0].as_f64().unwrap(),
        b3,
        2e-6,
    );
    close("final CE", number(&v, "final_loss"), lesson_ce(b3).0, 2e-6);
}

#[test]
fn explain_shows_the_softmax_identity_for_an_output_bias() {
    let out = squiggle(&["explain", PT7, "--param", "output.bias[0]"]);
    let text = out.success();
    assert!(
        text.contains("dCE/doutput.bias[0] = Σ dCE/dp_true × dp_true/draw[0] × draw/db"),
        "{out}"
    );
    assert!(
        text.contains("dCE/dp_true × dp_true/draw[0] = (p[0] − [class 0 is true]) at every point"),
        "{out}"
    );
    assert!(text.contains("→ all four agree"), "{out}");
    // The identity's values are the lesson's p_setosa − [setosa], flower by flower.
    let flowers = [(0.04, 0.42, 0), (1.0, 0.54, 2), (0.5, 0.37, 1)];
    let expected: Vec<String> = flowers
        .iter()
        .map(|&(petal, sepal, class)| {
            let raw = lesson_raw(petal, sepal, -2.0);
            let total: f64 = raw.iter().map(|z| z.exp()).sum();
            let p = raw[0].exp() / total;
            format!("{:.6}", p - if class == 0 { 1.0 } else { 0.0 })
        })
        .collect();
    assert!(text.contains(&expected.join(", ")), "{expected:?}\n{out}");
    let v = squiggle(&["explain", PT7, "--json"]).json();
    let p = &v["params"][0];
    close(
        "dCE/db3",
        number(p, "burn_autodiff"),
        lesson_ce(-2.0).1,
        1e-5,
    );
    close(
        "dCE/db3",
        number(p, "fused_backward"),
        lesson_ce(-2.0).1,
        1e-5,
    );
    assert_eq!(p["agree"], true);
}

#[test]
fn eval_prints_softmax_probabilities_and_the_argmax() {
    let v = squiggle(&["eval", PT7, "--json"]).json();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for (k, point) in points.iter().enumerate() {
        let p: Vec<f64> = point["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        close("Σ p", p.iter().sum(), 1.0, 1e-9);
        let inputs = point["inputs"].as_array().unwrap();
        let raw = lesson_raw(
            inputs[0].as_f64().unwrap(),
            inputs[1].as_f64().unwrap(),
            -2.0,
        );
        let total: f64 = raw.iter().map(|z| z.exp()).sum();
        for c in 0..3 {
            close(
                &format!("p[{c}] of flower {k}"),
                p[c],
                raw[c].exp() / total,
                1e-6,
            );
        }
        let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(point["predicted"], v["classes"][best]);
    }
    // Flower 1 (a setosa) is called virginica by the untrained b3: two of three are right.
    assert_eq!(points[0]["predicted"], "virginica");
    close("accuracy", number(&v, "accuracy"), 2.0 / 3.0, 1e-12);
    let text = squiggle(&["eval", PT7]);
    assert!(
        text.success()
            .contains("p(setosa) p(versicolor) p(virginica)      ArgMax"),
        "{text}"
    );
}

#[test]
fn iris_is_classified_above_ninety_percent_held_out() {
    let v = squiggle(&["train", IRIS, "--json"]).json();
    assert_eq!(v["loss_function"], "mean_cross_entropy");
    let accuracy = number(&v["valid"], "accuracy");
    assert!(accuracy > 0.9, "held-out accuracy {accuracy}");
    let confusion = &v["confusion"]["valid"];
    assert_eq!(
        confusion["classes"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
    let matrix: Vec<Vec<u64>> = serde_json::from_value(confusion["matrix"].clone()).unwrap();
    let rows: u64 = matrix.iter().flatten().sum();
    assert_eq!(rows, 30, "a fifth of 150 flowers is held out");
    let right: u64 = (0..3).map(|k| matrix[k][k]).sum();
    close(
        "accuracy from the matrix",
        right as f64 / 30.0,
        accuracy,
        1e-12,
    );
    for (k, class) in ["setosa", "versicolor", "virginica"].iter().enumerate() {
        let predicted: u64 = matrix.iter().map(|r| r[k]).sum();
        let actual: u64 = matrix[k].iter().sum();
        let precision = confusion["precision"][class].as_f64();
        let recall = confusion["recall"][class].as_f64();
        assert_eq!(
            precision,
            (predicted > 0).then(|| matrix[k][k] as f64 / predicted as f64)
        );
        assert_eq!(
            recall,
            (actual > 0).then(|| matrix[k][k] as f64 / actual as f64)
        );
    }
    let text = squiggle(&["train", IRIS]);
    let out = text.success();
    assert!(out.contains("valid accuracy 0.9"), "{text}");
    assert!(
        out.contains("Confusion matrix, valid (30 rows): rows are the true classes, columns the predicted ones (ArgMax)."),
        "{text}"
    );
}

#[test]
fn wine_beats_or_matches_logistic_regression_on_the_same_split() {
    // configs/wine.toml documents scikit-learn's LogisticRegression: 43 of the 45 held-out
    // wines (0.9556) on this split.
    let reference = 43.0 / 45.0;
    let network = squiggle(&["train", "configs/wine.toml", "--json"]).json();
    let logistic = squiggle(&["train", "configs/wine-logistic.toml", "--json"]).json();
    let net = number(&network["valid"], "accuracy");
    let lr = number(&logistic["valid"], "accuracy");
    assert_eq!(network["confusion"]["valid"]["rows"], 45);
    assert!(
        net >= reference - 1e-9,
        "network {net} < reference {reference}"
    );
    assert!(lr >= reference - 0.05, "logistic regression {lr}");
    assert_eq!(
        network["confusion"]["valid"]["classes"],
        serde_json::json!(["0", "1", "2"]),
        "integer labels, in numeric order"
    );
}

#[test]
fn predict_writes_the_class_and_probabilities_that_sum_to_one() {
    let dir = scratch();
    let run = dir.path().join("run");
    let config = root().join(IRIS);
    squiggle(&[
        "train",
        config.to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
        "--epochs",
        "40",
    ])
    .success();
    let input = root().join("configs/data/iris.csv");
    let output = dir.path().join("predicted.csv");
    squiggle(&[
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ])
    .success();
    let text = std::fs::read_to_string(&output).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sepal_length,sepal_width,petal_length,petal_width,species,predicted_species,p_setosa,p_versicolor,p_virginica"
    );
    let mut right = 0;
    let mut rows = 0;
    let mut surprise = 0.0;
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        // At most nine significant digits, in scientific notation when tiny.
        assert!(cells[6..].iter().all(|c| c.len() <= 15), "{line}");
        let p: Vec<f64> = cells[6..].iter().map(|c| c.parse().unwrap()).collect();
        close("Σ p", p.iter().sum(), 1.0, 1e-6);
        let truth = ["setosa", "versicolor", "virginica"]
            .iter()
            .position(|c| *c == cells[4])
            .unwrap();
        surprise -= p[truth].ln();
        let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(
            cells[5],
            ["setosa", "versicolor", "virginica"][best],
            "{line}"
        );
        right += usize::from(cells[4] == cells[5]);
        rows += 1;
    }
    assert_eq!(rows, 150);
    // The same checkpoint scored by eval on the same file: the same accuracy.
    let v = squiggle(&[
        "eval",
        "--run",
        run.to_str().unwrap(),
        "--data",
        input.to_str().unwrap(),
        "--json",
    ])
    .json();
    close(
        "accuracy",
        number(&v["data"], "accuracy"),
        right as f64 / 150.0,
        1e-12,
    );
    // And the cross entropy of the probabilities predict wrote (with 9 digits), a row.
    close(
        "cross entropy",
        number(&v["data"], "mean_cross_entropy"),
        surprise / 150.0,
        1e-5,
    );
    let shown = squiggle(&[
        "eval",
        "--run",
        run.to_str().unwrap(),
        "--data",
        input.to_str().unwrap(),
    ]);
    assert!(shown.success().contains("\ncross entropy "), "{shown}");
    // metrics.csv has the accuracy of every epoch, and plots of the run read it back.
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    assert!(
        metrics
            .lines()
            .next()
            .unwrap()
            .ends_with(",train_accuracy,valid_accuracy")
    );
    assert_eq!(metrics.lines().count(), 41);
    // confusion.csv: every epoch's matrices, one row per split and true class.
    let confusion = std::fs::read_to_string(run.join("confusion.csv")).unwrap();
    let mut lines = confusion.lines();
    assert_eq!(
        lines.next().unwrap(),
        "epoch,split,class,rows,precision,recall,predicted_setosa,predicted_versicolor,predicted_virginica"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 40 * 2 * 3);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], (k / 6 + 1).to_string());
        assert_eq!(row[1], if k % 6 < 3 { "train" } else { "valid" });
        assert_eq!(row[2], ["setosa", "versicolor", "virginica"][k % 3]);
        let counts: Vec<u64> = row[6..].iter().map(|c| c.parse().unwrap()).collect();
        let total: u64 = row[3].parse().unwrap();
        assert_eq!(counts.iter().sum::<u64>(), total);
        let recall: f64 = row[5].parse().unwrap();
        close("recall", recall, counts[k % 3] as f64 / total as f64, 1e-12);
    }
    let split_rows = |split: &str| -> u64 {
        rows[rows.len() - 6..]
            .iter()
            .filter(|r| r[1] == split)
            .map(|r| r[3].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!((split_rows("train"), split_rows("valid")), (120, 30));
    let plots = dir.path().join("plots");
    squiggle(&[
        "plot",
        config.to_str().unwrap(),
        "--run",
        run.to_str().unwrap(),
        "--out",
        plots.to_str().unwrap(),
    ])
    .success();
    for name in [
        "loss",
        "accuracy",
        "regions",
        "probability_setosa",
        "raw_virginica",
    ] {
        assert!(plots.join(format!("{name}.svg")).is_file(), "{name}");
    }
    // The regions are drawn over the 30 held-out flowers: a disc and a ring each, and one
    // disc per class in the legend.
    let svg = std::fs::read_to_string(plots.join("regions.svg")).unwrap();
    assert_eq!(svg.matches("<circle").count(), 30 * 2 + 3);
}

#[test]
fn labels_outside_the_classes_are_one_line_errors_with_the_line() {
    let dir = scratch();
    write(
        dir.path(),
        "train.csv",
        "a,b,kind\n0.1,0.2,cat\n0.3,0.1,dog\n0.5,0.5,cat\n",
    );
    write(
        dir.path(),
        "valid.csv",
        "a,b,kind\n0.1,0.2,cat\n0.2,0.2,bird\n",
    );
    let config = |data: &str, train: &str| {
        format!(
            "[model]\nhidden = [2]\n\n[data]\n{data}\n[train]\nloss = \"cross_entropy\"\n{train}"
        )
    };
    let cases = [
        (
            config("csv = \"train.csv\"\nclasses = [\"cat\", \"fox\"]\n", ""),
            "squiggle: train.csv:3: column `kind`: label `dog` is not one of the [data] classes (cat, fox)",
        ),
        (
            config(
                "csv = \"train.csv\"\nvalid_csv = \"valid.csv\"\n",
                "epochs = 2\n",
            ),
            "squiggle: valid.csv:3: column `kind`: label `bird` is not one of the training data's classes (cat, dog)",
        ),
        (
            config(
                "points = [[0.1, 0.2, 0], [0.3, 0.1, 2]]\nclasses = [\"cat\", \"dog\"]\n",
                "",
            )
            .replace("hidden = [2]", "inputs = 2\nhidden = [2]"),
            "squiggle: bad.toml:6:26: [data] points: row 2 class 2 is not a class index: expected a whole number from 0 to 1",
        ),
        (
            config("points = [[0.1, 0.2, 0]]\n", "")
                .replace("hidden = [2]", "inputs = 2\nhidden = [2]"),
            "squiggle: bad.toml:6:10: [data] points for `loss = \"cross_entropy\"` need `classes = [\"name\", …]`: each row ends with its class index",
        ),
        (
            config("csv = \"train.csv\"\nclasses = [\"cat\"]\n", ""),
            "squiggle: bad.toml:6:11: [data] classes: classification needs at least two classes; 1 given",
        ),
        (
            config("csv = \"train.csv\"\nclasses = [\"cat\", \"cat\"]\n", ""),
            "squiggle: bad.toml:6:11: [data] classes: `cat` is listed twice",
        ),
        (
            "[data]\ncsv = \"train.csv\"\nclasses = [\"cat\", \"dog\"]\n\n[train]\nloss = \"mse\"\n"
                .to_string(),
            "squiggle: bad.toml:3:11: [data] classes: class names need `loss = \"cross_entropy\"` in [train]",
        ),
        (
            config("csv = \"train.csv\"\n", "reduction = \"mean\"\n").replace(
                "loss = \"cross_entropy\"",
                "loss = \"ssr\"",
            ),
            "squiggle: bad.toml:9:13: `reduction` applies to `loss = \"cross_entropy\"`",
        ),
        (
            config("csv = \"train.csv\"\nstandardize = true\nrescale = true\n", "epochs = 2\n"),
            "squiggle: bad.toml:7:11: [data] takes `standardize` or `rescale`, not both",
        ),
        (
            "[train]\nloss = \"cross_entropy\"\n".to_string(),
            "squiggle: bad.toml:1:1: `loss = \"cross_entropy\"` needs labelled data: [data] `csv = \"file.csv\"` with a label column, or `points` with `classes`",
        ),
    ];
    for (text, message) in cases {
        write(dir.path(), "bad.toml", &text);
        squiggle_in(dir.path(), &["train", "bad.toml"]).fails_with(2, message);
    }
    // A label the run never saw, in the file eval scores: named with its line too.
    let run = dir.path().join("run");
    write(
        dir.path(),
        "ok.toml",
        &config("csv = \"train.csv\"\n", "epochs = 2\n"),
    );
    squiggle_in(
        dir.path(),
        &["train", "ok.toml", "--run-dir", run.to_str().unwrap()],
    )
    .success();
    squiggle_in(
        dir.path(),
        &["eval", "--run", "run", "--data", "valid.csv"],
    )
    .fails_with(
        2,
        "squiggle: valid.csv:3: column `kind`: label `bird` is not one of the run's classes (cat, dog)",
    );
}

#[test]
fn a_classifier_no_better_than_the_most_common_class_is_not_called_fitted() {
    // Every flower scored virginica, and a learning rate too small to change that.
    let out = squiggle(&[
        "train",
        IRIS,
        "--set",
        "model.init.\"output.weight\"=[[0,0,0],[0,0,0]]",
        "--set",
        "model.init.\"output.bias\"=[0,0,5]",
        "--set",
        "train.learning_rate=0.000001",
        "--epochs",
        "3",
    ]);
    let text = out.success();
    assert!(
        text.contains("Not fitted yet: the validation accuracy is 0.2667, no better than always predicting `versicolor` (0.5333)."),
        "{out}"
    );
    let fitted = squiggle(&["train", IRIS]);
    assert!(!fitted.success().contains("Not fitted yet"), "{fitted}");
}

#[test]
fn a_resumed_classifier_ends_where_the_whole_run_ends() {
    let dir = scratch();
    let config = root().join(IRIS);
    let config = config.to_str().unwrap();
    let (part, whole) = (dir.path().join("part"), dir.path().join("whole"));
    let (part, whole) = (part.to_str().unwrap(), whole.to_str().unwrap());
    squiggle(&["train", config, "--epochs", "3", "--run-dir", part]).success();
    squiggle(&["train", config, "--epochs", "6", "--resume", part]).success();
    squiggle(&["train", config, "--epochs", "6", "--run-dir", whole]).success();
    let read = |run: &str, file: &str| std::fs::read_to_string(Path::new(run).join(file)).unwrap();
    // Every column but the timings (seconds, rows/s).
    let untimed = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                [&cells[..12], &cells[14..]].concat().join(",")
            })
            .collect()
    };
    assert_eq!(
        untimed(read(part, "metrics.csv")),
        untimed(read(whole, "metrics.csv"))
    );
    assert_eq!(read(part, "confusion.csv"), read(whole, "confusion.csv"));
    assert_eq!(read(part, "confusion.csv").lines().count(), 1 + 6 * 2 * 3);
}
