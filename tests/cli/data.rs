//! CSV data sets: `[data] csv`, column choices, errors, and `squiggle generate`.

use crate::util::*;

#[test]
fn generate_writes_the_same_rows_for_the_same_seed() {
    let dir = scratch();
    let run = |name: &str, seed: &str| {
        squiggle_in(
            dir.path(),
            &[
                "generate", "dosage", "--rows", "200", "--noise", "0.05", "--seed", seed, "--out",
                name,
            ],
        )
        .success();
        std::fs::read_to_string(dir.path().join(name)).unwrap()
    };
    let (a, b, c) = (run("a.csv", "7"), run("b.csv", "7"), run("c.csv", "8"));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.lines().count(), 201);
    assert_eq!(a.lines().next(), Some("dosage,efficacy"));
    // Middle doses work, low and high ones do not.
    let rows: Vec<(f64, f64)> = a
        .lines()
        .skip(1)
        .map(|l| {
            let (d, e) = l.split_once(',').unwrap();
            (d.parse().unwrap(), e.parse().unwrap())
        })
        .collect();
    let mean = |lo: f64, hi: f64| {
        let picked: Vec<f64> = rows
            .iter()
            .filter(|r| r.0 >= lo && r.0 < hi)
            .map(|r| r.1)
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    assert!(mean(0.0, 0.1) < 0.3 && mean(0.9, 1.01) < 0.3 && mean(0.4, 0.6) > 0.8);
}

#[test]
fn a_csv_config_trains_with_widths_taken_from_the_columns() {
    let dir = scratch();
    squiggle_in(
        dir.path(),
        &["generate", "dosage", "--rows", "100", "--out", "dosage.csv"],
    )
    .success();
    write(
        dir.path(),
        "fit.toml",
        "[model]\nhidden = [2]\nseed = 1\n[data]\ncsv = \"dosage.csv\"\n[train]\nloss = \"mse\"\nlearning_rate = 0.5\nmax_steps = 300\nmin_step_size = 0\n",
    );
    let v = squiggle_in(dir.path(), &["train", "fit.toml", "--json"]).json();
    assert_eq!(v["steps"], 300);
    assert!(number(&v, "final_loss") < number(&v, "initial_loss"));
    // The lesson's names apply: one input column, one target column.
    assert!(v["params"]["b3"].is_number(), "{v}");
}

#[test]
fn csv_paths_are_relative_to_the_config_and_columns_can_be_named() {
    let dir = scratch();
    std::fs::create_dir(dir.path().join("cfg")).unwrap();
    write(
        &dir.path().join("cfg"),
        "d.csv",
        "id,x,noise,y\n1,0,5,0\n2,0.5,5,1\n3,1,5,0\n",
    );
    write(
        &dir.path().join("cfg"),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\ninputs = [\"x\"]\ntargets = [\"y\"]\n[model.init]\nw1 = 3.34\nb1 = -1.43\nw2 = -3.53\nb2 = 0.57\nw3 = -1.22\nw4 = -2.30\nb3 = -0.58\n",
    );
    let v = squiggle_in(dir.path(), &["eval", "cfg/c.toml", "--json"]).json();
    assert_eq!(v["predictions"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_csv_data_is_reported_with_file_line_and_column() {
    let dir = scratch();
    write(dir.path(), "bad.csv", "dosage,efficacy\n0,0\n0.5,high\n");
    write(dir.path(), "c.toml", "[data]\ncsv = \"bad.csv\"\n");
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: bad.csv:3: column `efficacy`: `high` is not a number",
    );
    write(dir.path(), "missing.toml", "[data]\ncsv = \"nope.csv\"\n");
    let out = squiggle_in(dir.path(), &["train", "missing.toml"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr
            .starts_with("squiggle: nope.csv: cannot read the file: "),
        "{out}"
    );
    write(
        dir.path(),
        "cols.toml",
        "[data]\ncsv = \"bad.csv\"\ninputs = [\"dose\"]\n",
    );
    squiggle_in(dir.path(), &["train", "cols.toml"]).fails_with(
        2,
        "squiggle: bad.csv:1: column `dose`: not in the header (columns: dosage, efficacy)",
    );
    write(dir.path(), "good.csv", "dosage,efficacy\n0,0\n");
    write(
        dir.path(),
        "width.toml",
        "[model]\ninputs = 2\n[data]\ncsv = \"good.csv\"\n",
    );
    squiggle_in(dir.path(), &["train", "width.toml"]).fails_with(
        2,
        "squiggle: width.toml:2:10: `inputs = 2` but the CSV data has 1 input column",
    );
    write(
        dir.path(),
        "both.toml",
        "[data]\ncsv = \"good.csv\"\npoints = [[0, 0]]\n",
    );
    squiggle_in(dir.path(), &["train", "both.toml"]).fails_with(
        2,
        "squiggle: both.toml:3:10: [data] takes `points` or `csv`, not both",
    );
}

#[test]
fn the_shipped_dosage_config_fits_down_to_the_noise() {
    // configs/data/dosage.csv has noise of standard deviation 0.1, so an MSE near 0.01 means
    // the squiggle found the curve underneath.
    let v = squiggle(&["train", "configs/dosage-csv.toml", "--json"]).json();
    let mse = number(&v, "final_loss");
    assert!((0.005..0.015).contains(&mse), "final MSE {mse}");
}
