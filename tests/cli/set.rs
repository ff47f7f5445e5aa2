//! `--set KEY=VALUE`: any config key from the command line, checked like the file.

use crate::util::*;

/// `configs/<name>` copied into `dir` with `edit` applied to its text.
fn edited_copy(dir: &std::path::Path, name: &str, edit: impl Fn(&str) -> String) -> String {
    let text = std::fs::read_to_string(root().join("configs").join(name)).unwrap();
    write(dir, name, &edit(&text))
}

#[test]
fn a_set_key_runs_exactly_as_the_file_edited_by_hand() {
    let dir = scratch();
    let pt2 = root().join("configs/statquest-pt2.toml");
    let pt2 = pt2.to_str().unwrap();
    let by_hand = edited_copy(dir.path(), "statquest-pt2.toml", |t| {
        t.replace("learning_rate = 0.1", "learning_rate = 0.05")
            .replace("trainable = [\"b3\"]", "trainable = [\"w3\", \"b3\"]")
    });
    let set = squiggle(&[
        "train",
        pt2,
        "--json",
        "--set",
        "train.learning_rate=0.05",
        "--set",
        "train.trainable=[\"w3\", \"b3\"]",
    ])
    .json();
    let hand = squiggle(&["train", &by_hand, "--json"]).json();
    assert_eq!(set, hand);
    assert_eq!(set["learning_rate"], 0.05, "{set}");
    // A bare word is a string; a missing section is created (Pt. 1 has no [train]).
    let pt1 = root().join("configs/statquest-pt1.toml");
    let v = squiggle(&[
        "train",
        pt1.to_str().unwrap(),
        "--json",
        "--set",
        "train.trainable=[\"b3\"]",
        "--set",
        "model.activation=relu",
        "--set",
        "train.max_steps=3",
    ])
    .json();
    assert_eq!(
        (v["steps"].as_u64(), &v["trainable"]),
        (Some(3), &serde_json::json!(["b3"])),
        "{v}"
    );
    let relu = squiggle(&[
        "eval",
        pt1.to_str().unwrap(),
        "--json",
        "--set",
        "model.activation=relu",
    ])
    .json();
    let softplus = squiggle(&["eval", pt1.to_str().unwrap(), "--json"]).json();
    assert_ne!(relu["loss"], softplus["loss"]);
    // Quoted key parts reach tensor paths (a plane's: its scalars have no names of their own).
    let dir = scratch();
    let plane = write(
        dir.path(),
        "plane.toml",
        "[model]\ninputs = 2\nhidden = []\n\n[data]\npoints = [[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]]\n\n[train]\nlearning_rate = 0.1\n",
    );
    let v = squiggle(&[
        "train",
        &plane,
        "--json",
        "--max-steps",
        "0",
        "--set",
        "model.init.\"output.bias\"=[0.5]",
    ])
    .json();
    assert_eq!(v["params"]["output.bias"], serde_json::json!([0.5]), "{v}");
    // The dedicated flags take precedence over --set.
    let v = squiggle(&[
        "train",
        pt2,
        "--json",
        "--set",
        "train.max_steps=3",
        "--max-steps",
        "2",
    ])
    .json();
    assert_eq!(v["steps"], 2, "{v}");
}

#[test]
fn set_values_reach_the_run_folder_and_paths_are_relative_to_the_working_folder() {
    let dir = scratch();
    squiggle_in(
        dir.path(),
        &[
            "generate", "dosage", "--rows", "60", "--seed", "3", "--out", "mine.csv",
        ],
    )
    .success();
    std::fs::create_dir(dir.path().join("cfg")).unwrap();
    // The file names a CSV next to it that is not there; the edit names one here.
    let c = write(
        &dir.path().join("cfg"),
        "c.toml",
        "[model]\nhidden = [2]\n[data]\ncsv = \"absent.csv\"\n[train]\nepochs = 1\n",
    );
    let v = squiggle_in(
        dir.path(),
        &[
            "train",
            &c,
            "--set",
            "data.csv=mine.csv",
            "--set",
            "train.epochs=2",
            "--json",
            "--run-dir",
            "run",
        ],
    )
    .json();
    assert_eq!(v["epochs"], 2, "{v}");
    let resolved = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    let mine = std::fs::canonicalize(dir.path().join("mine.csv")).unwrap();
    let written = resolved
        .lines()
        .find_map(|l| l.strip_prefix("csv = "))
        .unwrap();
    assert_eq!(
        std::fs::canonicalize(written.trim_matches('"')).unwrap(),
        mine,
        "{resolved}"
    );
    assert!(resolved.contains("epochs = 2\n"), "{resolved}");
    // A step key on a run by epochs is refused at the edit that gave it.
    squiggle_in(
        dir.path(),
        &["train", &c, "--set", "data.csv=mine.csv", "--set", "train.max_steps=5"],
    )
    .fails_with(
        2,
        "squiggle: --set train.max_steps=5: `max_steps` is a rule of step-by-step training; with `epochs`, use `patience` to stop early",
    );
}

#[test]
fn bad_edits_are_one_line_errors_naming_the_edit() {
    let pt2 = root().join("configs/statquest-pt2.toml");
    let pt2 = pt2.to_str().unwrap();
    for (edit, message) in [
        (
            "train.learning_rat=0.5",
            "unknown field `learning_rat`: did you mean `learning_rate`? (expected one of `trainable`, `backend`, `loss`, `reduction`, `learning_rate`,",
        ),
        (
            "train.learning_rate=-1",
            "`learning_rate` must be a positive number, got -1",
        ),
        (
            "train.max_steps=abc",
            "invalid type: string \"abc\", expected usize",
        ),
        (
            "train.loss=mae",
            "unknown loss `mae`; expected one of ssr, mse, cross_entropy, mean_cross_entropy",
        ),
        ("train.loss.kind=1", "`train.loss` is a string, not a table"),
        (
            "train.max_steps",
            "expected KEY=VALUE, e.g. --set train.batch_size=64",
        ),
        ("train.loss=", "no value after `=`"),
    ] {
        let out = squiggle(&["train", pt2, "--set", edit]);
        assert_eq!(out.status, 2, "{out}");
        assert!(out.stdout.is_empty(), "{out}");
        assert!(
            out.stderr
                .starts_with(&format!("squiggle: --set {edit}: {message}")),
            "{out}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    }
}

#[test]
fn a_width_edit_under_the_lessons_names_says_what_the_names_now_are() {
    let out = squiggle(&[
        "train",
        "configs/statquest-pt2.toml",
        "--set",
        "model.hidden=[3]",
    ]);
    out.success();
    assert_eq!(
        out.stderr.trim_end(),
        "squiggle: note: --set model.hidden=[3] moves the lesson's parameter names that [model.init] and trainable use: b3 was output.bias[0] and is now hidden.0.bias[2], w3 was output.weight[0][0] and is now hidden.0.weight[0][2], w4 was output.weight[1][0] and is now output.weight[0][0] (the output bias is now b4)"
    );
    // The same width, or another setting: nothing to say.
    let same = squiggle(&[
        "train",
        "configs/statquest-pt2.toml",
        "--set",
        "model.hidden=[2]",
    ]);
    assert!(same.success().contains("b3"), "{same}");
    assert!(same.stderr.is_empty(), "{same}");
}
