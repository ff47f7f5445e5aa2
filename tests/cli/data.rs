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

/// A data set written as plain CSV, gzip, zstd, through a FIFO, on standard input and with
/// semicolons trains to the same parameters, and `predict` reads the compressed and the
/// semicolon files as the plain one.
#[test]
fn every_format_and_pipe_trains_to_the_same_parameters() {
    use std::io::Write;
    let dir = scratch();
    generate(dir.path(), 2000, "d.csv", &[]);
    let plain = std::fs::read(dir.path().join("d.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    std::fs::write(dir.path().join("d.csv.gz"), gz.finish().unwrap()).unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    // The name does not matter: the first bytes tell the format.
    std::fs::write(dir.path().join("zstd-data"), zst).unwrap();
    let semicolons = String::from_utf8(plain.clone()).unwrap().replace(',', ";");
    std::fs::write(dir.path().join("d.ssv"), &semicolons).unwrap();
    let config = |file: &str, extra: &str| {
        format!(
            "[model]\nhidden = [3]\nseed = 2\n[data]\ncsv = \"{file}\"\nvalid_fraction = 0.25\n{extra}[train]\nepochs = 3\nbatch_size = 64\nlearning_rate = 0.1\n"
        )
    };
    let trained = |toml: &str, stdin: Option<&[u8]>| {
        write(dir.path(), "c.toml", toml);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_squiggle"))
            .args(["train", "c.toml", "--json"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            input.write_all(bytes).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{toml}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        (v["params"].clone(), v["valid_loss"].clone())
    };
    let expected = trained(&config("d.csv", ""), None);
    assert!(expected.1.as_f64().is_some(), "{expected:?}");
    assert_eq!(trained(&config("d.csv.gz", ""), None), expected);
    assert_eq!(trained(&config("zstd-data", ""), None), expected);
    assert_eq!(
        trained(&config("d.ssv", "delimiter = \";\"\n"), None),
        expected
    );
    assert_eq!(trained(&config("-", ""), Some(&plain)), expected);
    let fifo = dir.path().join("fifo.csv");
    crate::util::mkfifo(&fifo);
    let feeder = {
        let (fifo, plain) = (fifo.clone(), plain.clone());
        std::thread::spawn(move || std::fs::write(fifo, plain).unwrap())
    };
    assert_eq!(trained(&config("fifo.csv", ""), None), expected);
    feeder.join().unwrap();
    // Predictions read the same formats; `--delimiter` reads and writes the semicolons.
    write(dir.path(), "c.toml", &config("d.csv", ""));
    squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]).success();
    let predict = |input: &str, extra: &[&str]| {
        let mut args = vec![
            "predict", "--run", "run", "--input", input, "--output", "p.csv",
        ];
        args.extend_from_slice(extra);
        squiggle_in(dir.path(), &args).success();
        std::fs::read_to_string(dir.path().join("p.csv")).unwrap()
    };
    let predicted = predict("d.csv", &[]);
    assert_eq!(predicted.lines().count(), 2001);
    assert_eq!(predict("d.csv.gz", &[]), predicted);
    assert_eq!(predict("zstd-data", &[]), predicted);
    assert_eq!(
        predict("d.ssv", &["--delimiter", ";"]),
        predicted.replace(',', ";")
    );
    // The run records the delimiter, and resumes with it.
    write(
        dir.path(),
        "s.toml",
        &config("d.ssv", "delimiter = \";\"\n"),
    );
    squiggle_in(dir.path(), &["train", "s.toml", "--run-dir", "ssv"]).success();
    let recorded = std::fs::read_to_string(dir.path().join("ssv/config.toml")).unwrap();
    assert!(recorded.contains("delimiter = \";\""), "{recorded}");
    squiggle_in(
        dir.path(),
        &[
            "train",
            "ssv/config.toml",
            "--resume",
            "ssv",
            "--epochs",
            "4",
        ],
    )
    .success();
}

#[test]
fn excluded_columns_are_left_out_and_a_one_column_header_names_its_delimiter() {
    let dir = scratch();
    write(
        dir.path(),
        "d.csv",
        "id,dosage,efficacy\n100,0,0\n200,0.5,1\n300,1,0\n",
    );
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nexclude = [\"id\"]\n[train]\nmax_steps = 1\n",
    );
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    assert!(out.success().contains("1-[2]-1"), "{out}");
    write(dir.path(), "e.csv", "dosage;efficacy\n0;0\n0.5;1\n");
    write(dir.path(), "e.toml", "[data]\ncsv = \"e.csv\"\n");
    squiggle_in(dir.path(), &["train", "e.toml"]).fails_with(
        2,
        "squiggle: e.csv:1: no input columns (the header is one column holding `;`: set [data] delimiter = \";\")",
    );
    write(
        dir.path(),
        "b.toml",
        "[data]\ncsv = \"e.csv\"\ndelimiter = \";;\"\n",
    );
    squiggle_in(dir.path(), &["train", "b.toml"]).fails_with(
        2,
        "squiggle: b.toml:3:13: [data] delimiter: \";;\" is not one character; use `,`, `;`, `\\t` or another ASCII character",
    );
    write(
        dir.path(),
        "q.toml",
        "[data]\npoints = [[0.0, 1.0]]\nexclude = [\"id\"]\n",
    );
    let out = squiggle_in(dir.path(), &["train", "q.toml"]);
    assert_eq!(out.status, 2, "{out}");
    assert!(
        out.stderr.contains("[data] `exclude` names CSV columns"),
        "{out}"
    );
}

#[test]
fn training_by_epochs_says_how_long_reading_took() {
    let dir = scratch();
    generate(dir.path(), 3000, "d.csv", &[]);
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nvalid_csv = \"d.csv\"\n[train]\nepochs = 1\n",
    );
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    let line = out.success().lines().nth(1).unwrap().to_string();
    assert!(
        line.starts_with("Read 6,000 rows in ") && line.ends_with(" rows/s)."),
        "{out}"
    );
}

#[test]
fn missing_values_stop_the_run_counted_or_are_left_out_when_asked() {
    let dir = scratch();
    let mut text = String::from("dosage,efficacy\n");
    for i in 0..200 {
        let dose = if i % 50 == 3 {
            "NA".to_string()
        } else {
            format!("{}", i as f64 / 200.0)
        };
        text.push_str(&format!("{dose},{}\n", (i % 7) as f64 / 7.0));
    }
    write(dir.path(), "d.csv", &text);
    let config = |missing: &str| {
        format!("[data]\ncsv = \"d.csv\"\n{missing}[train]\nepochs = 2\nbatch_size = 16\n")
    };
    write(dir.path(), "c.toml", &config(""));
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv:5: column `dosage`: `NA` is a missing value; 4 rows have one ([data] missing = \"drop\" leaves such rows out of training, \"mean\" fills inputs with their column's mean)",
    );
    write(dir.path(), "c.toml", &config("missing = \"drop\"\n"));
    let out = squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]);
    let text = out.success();
    assert!(text.contains("on 196 rows"), "{out}");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("Read 196 rows in ")
                && l.ends_with("; left out 4 with a missing value.")),
        "{out}"
    );
    let recorded = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    assert!(recorded.contains("missing = \"drop\""), "{recorded}");
    resume_run(dir.path(), "3");
    write(dir.path(), "c.toml", &config("missing = \"fill\"\n"));
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: c.toml:3:11: [data] missing: `fill` is not one of: error (stop at the first, counting them), drop (leave such rows out), mean (fill inputs with their column's mean)",
    );
}

#[test]
fn missing_inputs_are_filled_with_the_training_means_in_training_and_in_predictions() {
    let dir = scratch();
    let mut text = String::from("dosage,weight,efficacy\n");
    let mut kept = Vec::new();
    for i in 0..200 {
        let dose = i as f64 / 200.0;
        let shown = match i % 50 {
            3 => "NA".to_string(),
            _ => {
                kept.push(dose);
                format!("{dose}")
            }
        };
        // One missing target: its row is left out.
        let efficacy = if i == 10 {
            String::new()
        } else {
            format!("{}", (i % 7) as f64 / 7.0)
        };
        text.push_str(&format!("{shown},{},{efficacy}\n", 60 + i % 5));
    }
    kept.retain(|&d| d != 10.0 / 200.0);
    let mean = kept.iter().sum::<f64>() / kept.len() as f64;
    write(dir.path(), "d.csv", &text);
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nmissing = \"mean\"\nstandardize = true\n[train]\nepochs = 2\nbatch_size = 16\n",
    );
    let out = squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]);
    let text = out.success();
    assert!(text.contains("on 199 rows"), "{out}");
    assert!(
        text.lines().nth(1).is_some_and(|l| l.ends_with(
            "; left out 1 with a missing value; filled 4 missing inputs with their column's mean."
        )),
        "{out}"
    );
    let recorded = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    assert!(recorded.contains("missing = \"mean\""), "{recorded}");
    // A gap in new rows takes the training file's mean (not the new file's): its prediction
    // is the one for that mean written out.
    write(
        dir.path(),
        "new.csv",
        &format!("dosage,weight\n,62\n{mean},62\n0.9,\n"),
    );
    let column = last_column_predicted(dir.path(), "new.csv");
    let predicted = column.join(", ");
    assert_eq!(column[0], column[1], "{predicted}");
    // Labelled new rows with gaps are scored the same way.
    write(
        dir.path(),
        "more.csv",
        "dosage,weight,efficacy\n,62,0.5\n0.2,61,0.1\n",
    );
    squiggle_in(dir.path(), &["eval", "--run", "run", "--data", "more.csv"]).success();
    // Resuming reads and fills the same rows: the same data.
    resume_run(dir.path(), "3");
}

#[test]
fn categorical_columns_train_as_one_input_per_category_and_new_rows_are_encoded_alike() {
    let dir = scratch();
    let colours = ["red", "green", "blue"];
    let mut text = String::from("id,dose,colour,effect\n");
    for i in 0..300 {
        let colour = colours[i % 3];
        let dose = (i % 10) as f64 / 10.0;
        let effect = dose + [0.0, 0.5, 1.0][i % 3];
        text.push_str(&format!("{i},{dose},{colour},{effect}\n"));
    }
    write(dir.path(), "d.csv", &text);
    write(
        dir.path(),
        "v.csv",
        "dose,colour,effect\n0.5,red,0.5\n0.5,pink,1\n",
    );
    let config = "[data]\ncsv = \"d.csv\"\nexclude = [\"id\"]\ncategorical = [\"colour\"]\n[model]\nhidden = [4]\n[train]\nepochs = 3\nbatch_size = 32\n";
    write(dir.path(), "c.toml", config);
    let out = squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]);
    assert!(
        out.success().contains("a 4-[4]-1 softplus network"),
        "{out}"
    );
    let recorded = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    assert!(
        recorded.contains("inputs = [\"dose\", \"colour\"]")
            && recorded.contains("categorical = [\"colour\"]"),
        "{recorded}"
    );
    // New rows with the run's categories, in any column order; the prediction for a colour
    // is that of its one-hot inputs.
    write(
        dir.path(),
        "new.csv",
        "colour,dose\nblue,0.5\ngreen,0.5\nblue,0.5\n",
    );
    let column = last_column_predicted(dir.path(), "new.csv");
    let predicted = column.join(", ");
    assert_eq!(column.len(), 3, "{predicted}");
    assert!(
        column[0] == column[2] && column[0] != column[1],
        "{predicted}"
    );
    write(dir.path(), "odd.csv", "colour,dose\nblue,0.5\npurple,0.1\n");
    squiggle_in(
        dir.path(),
        &["predict", "--run", "run", "--input", "odd.csv", "--output", "q.csv"],
    )
    .fails_with(
        2,
        "squiggle: odd.csv:3: column `colour`: category `purple` is not one of the run's categories (blue, green, red)",
    );
    assert!(!dir.path().join("q.csv").exists());
    // The resolved config resumes on the same encoding.
    resume_run(dir.path(), "4");
    // A validation file is encoded with the training file's categories.
    write(
        dir.path(),
        "c.toml",
        &config.replace("[model]", "valid_csv = \"v.csv\"\n[model]"),
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: v.csv:3: column `colour`: category `pink` is not one of the training data's categories (blue, green, red)",
    );
    write(
        dir.path(),
        "c.toml",
        &config.replace(
            "categorical = [\"colour\"]",
            "categorical = [\"colour\"]\ninputs = [\"dose\"]",
        ),
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv:1: column `colour`: is categorical but not one of the inputs",
    );
    // Without `categorical`, the first name says how such a column is read.
    write(
        dir.path(),
        "c.toml",
        &config.replace("categorical = [\"colour\"]\n", ""),
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv:2: column `colour`: `red` is not a number (a column of names can be inputs, one per category: [data] categorical = [\"colour\"])",
    );
}

/// `squiggle predict` with the run in `dir`/run on `input`: its last column's values.
fn last_column_predicted(dir: &std::path::Path, input: &str) -> Vec<String> {
    squiggle_in(
        dir,
        &[
            "predict", "--run", "run", "--input", input, "--output", "p.csv",
        ],
    )
    .success();
    let predicted = std::fs::read_to_string(dir.join("p.csv")).unwrap();
    predicted
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().to_string())
        .collect()
}

/// Resumes the run in `dir`/run from its resolved config, to `epochs` epochs.
fn resume_run(dir: &std::path::Path, epochs: &str) {
    squiggle_in(
        dir,
        &[
            "train",
            "run/config.toml",
            "--resume",
            "run",
            "--epochs",
            epochs,
        ],
    )
    .success();
}

#[test]
fn a_memory_limit_refuses_rows_that_would_not_fit_before_reading_them() {
    let dir = scratch();
    generate(dir.path(), 3000, "d.csv", &[]);
    let config = |limit: &str| {
        format!("[data]\ncsv = \"d.csv\"\nmemory_limit = \"{limit}\"\n[train]\nepochs = 1\n")
    };
    write(dir.path(), "c.toml", &config("1 KiB"));
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv: its 3,000 rows need about 48.0 kB of memory, more than the 1.0 kB it may take ([data] memory_limit); [data] `stream = true` with [train] `batch_size` trains on it by epochs without holding it",
    );
    write(dir.path(), "c.toml", &config("1 GB"));
    squiggle_in(dir.path(), &["train", "c.toml"]).success();
    write(dir.path(), "c.toml", &config("lots"));
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: c.toml:3:16: [data] memory_limit: \"lots\" needs a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (\"8 GB\", \"512 MiB\")",
    );
    write(dir.path(), "c.toml", &config("-3 GB"));
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: c.toml:3:16: [data] memory_limit: \"-3 GB\" is not a positive amount of memory (\"8 GB\", \"512 MiB\")",
    );
}

#[test]
fn training_step_by_step_on_a_file_says_how_long_reading_took_and_what_it_left_out() {
    let dir = scratch();
    write(dir.path(), "d.csv", "x,y\n0,0\n0.5,1\nNA,2\n1,0\n");
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nmissing = \"drop\"\n[train]\nmax_steps = 2\n",
    );
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    let line = out.success().lines().nth(2).unwrap().to_string();
    assert!(
        line.starts_with("Read 3 rows in ")
            && line.ends_with(" rows/s); left out 1 with a missing value."),
        "{out}"
    );
}

/// The training losses of a run's epoch lines.
fn train_losses(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("epoch "))
        .map(|l| {
            l.split("train loss ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn a_file_beyond_the_memory_limit_is_streamed_by_epochs_or_refused_with_the_way_to_stream_it() {
    let dir = scratch();
    generate(dir.path(), 3000, "d.csv", &[]);
    let config = |data: &str| {
        format!(
            "[model]\nhidden = [4]\n[data]\ncsv = \"d.csv\"\n{data}[train]\nepochs = 3\nbatch_size = 64\nlearning_rate = 0.05\n"
        )
    };
    // Over the limit and not told: streamed, said in one line, through a buffer of as many
    // rows as half the limit holds (32 rows of 16 bytes).
    write(dir.path(), "c.toml", &config("memory_limit = \"1 KiB\"\n"));
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    out.success();
    assert!(
        out.stderr.contains("squiggle: note: d.csv: its 3,000 rows need about 48.0 kB of memory, more than the 1.0 kB it may take ([data] memory_limit): it is streamed by epochs instead ([data] stream)"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("Streaming d.csv by epochs (read once per epoch, not held): a shuffle buffer of 32 rows."), "{}", out.stdout);
    assert_eq!(train_losses(&out.stdout).len(), 3);
    // Streamed through the default buffer, which holds every row, and held in memory: the
    // same batches, the same losses.
    write(dir.path(), "c.toml", &config("stream = true\n"));
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    assert!(
        out.success().contains("a shuffle buffer of 100,000 rows."),
        "{}",
        out.stdout
    );
    let streamed = train_losses(&out.stdout);
    write(dir.path(), "c.toml", &config(""));
    let held = squiggle_in(dir.path(), &["train", "c.toml"]);
    assert!(!held.success().contains("Streaming"));
    assert_eq!(train_losses(&held.stdout), streamed);
    // Told not to stream: refused with the way to stream it.
    write(
        dir.path(),
        "c.toml",
        &config("memory_limit = \"1 KiB\"\nstream = false\n"),
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv: its 3,000 rows need about 48.0 kB of memory, more than the 1.0 kB it may take ([data] memory_limit); `stream = true` trains on it by epochs without holding it",
    );
    // A small shuffle buffer still trains on every row, resumably.
    write(
        dir.path(),
        "c.toml",
        &config("stream = true\nshuffle_buffer = 100\nvalid_fraction = 0.2\nstandardize = true\n"),
    );
    let out = squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]);
    assert!(
        out.success()
            .contains("a shuffle buffer of 100 rows, validation rows held out row by row"),
        "{}",
        out.stdout
    );
    let resolved = std::fs::read_to_string(dir.path().join("run/config.toml")).unwrap();
    assert!(
        resolved.contains("stream = true") && resolved.contains("shuffle_buffer = 100"),
        "{resolved}"
    );
    // The shuffle buffer itself must fit.
    write(
        dir.path(),
        "c.toml",
        &config("stream = true\nshuffle_buffer = 1000\nmemory_limit = \"10 KiB\"\n"),
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.csv: a shuffle buffer of 1,000 rows needs about 16.0 kB of memory, more than the 10.2 kB it may take ([data] memory_limit): lower [data] shuffle_buffer",
    );
    // Streaming needs mini-batches and epochs.
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.csv\"\nstream = true\n[train]\nepochs = 2\n",
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: c.toml:3:10: [data] stream: a streamed file trains in mini-batches: add [train] `batch_size = N`",
    );
}

#[test]
fn a_streamed_runs_peak_memory_stays_flat_from_one_to_twenty_million_rows() {
    // Held, 20M rows of two f32 columns would take 153 MiB; streamed, memory is the window,
    // the shuffle buffer and the model, whatever the row count: the training pass, the
    // validation rows measured after it (10%) and the first pass's statistics alike.
    let dir = scratch();
    let run = |rows: u64| {
        let csv = format!("d{rows}.csv");
        generate(dir.path(), rows, &csv, &["--seed", "3"]);
        let c = write(
            dir.path(),
            "c.toml",
            &format!(
                "[model]\nhidden = [3]\n[data]\ncsv = \"{csv}\"\nstream = true\nvalid_fraction = 0.1\nstandardize = true\n[train]\nepochs = 1\nbatch_size = 1024\nlearning_rate = 0.05\n"
            ),
        );
        let json = squiggle_in(dir.path(), &["train", &c, "--json", "--report-memory"]).json();
        std::fs::remove_file(dir.path().join(&csv)).unwrap();
        number(&json, "peak_memory_mb")
    };
    let small = run(1_000_000);
    let big = run(20_000_000);
    assert!(
        big - small < 8.0,
        "peak memory {small:.1} MiB at 1M rows, {big:.1} MiB at 20M rows"
    );
}

/// The same table as Parquet (written by polars, zstd in row groups of 128 rows and snappy in
/// one) and as CSV (polars' `write_csv`): tests/data/mixed.*.
#[cfg(feature = "parquet")]
fn copy_mixed(dir: &std::path::Path) {
    for name in ["mixed.csv", "mixed.parquet", "mixed.snappy.parquet"] {
        std::fs::copy(root().join("tests/data").join(name), dir.join(name)).unwrap();
    }
}

#[cfg(feature = "parquet")]
#[test]
fn a_parquet_file_trains_predicts_and_streams_as_the_same_table_in_csv() {
    let dir = scratch();
    copy_mixed(dir.path());
    // Nulls, a categorical column of names with commas and quotes, a date left out.
    let regression = |file: &str, extra: &str| {
        format!(
            "[model]\nhidden = [4]\nseed = 3\n[data]\ncsv = \"{file}\"\ntargets = [\"y\"]\nexclude = [\"when\"]\ncategorical = [\"colour\"]\nmissing = \"mean\"\nvalid_fraction = 0.2\n{extra}[train]\nepochs = 3\nbatch_size = 32\nlearning_rate = 0.05\n"
        )
    };
    let trained = |toml: String| {
        write(dir.path(), "c.toml", &toml);
        let v = squiggle_in(dir.path(), &["train", "c.toml", "--json"]).json();
        (v["params"].clone(), v["valid_loss"].clone())
    };
    let expected = trained(regression("mixed.csv", ""));
    assert!(expected.1.as_f64().is_some(), "{expected:?}");
    assert_eq!(trained(regression("mixed.parquet", "")), expected);
    assert_eq!(trained(regression("mixed.snappy.parquet", "")), expected);
    // Streamed window by window, with a buffer smaller than the file.
    let streamed = "stream = true\nshuffle_buffer = 50\n";
    assert_eq!(
        trained(regression("mixed.parquet", streamed)),
        trained(regression("mixed.csv", streamed))
    );
    // The column of names as class labels.
    let classifier = |file: &str| {
        format!(
            "[model]\nhidden = [4]\n[data]\ncsv = \"{file}\"\ninputs = [\"b\", \"k\", \"y\"]\ntargets = [\"colour\"]\n[train]\nloss = \"cross_entropy\"\nepochs = 2\nbatch_size = 32\nlearning_rate = 0.05\n"
        )
    };
    assert_eq!(
        trained(classifier("mixed.parquet")),
        trained(classifier("mixed.csv"))
    );
    // Predictions read it too, and copy its columns as CSV text.
    write(dir.path(), "c.toml", &regression("mixed.csv", ""));
    squiggle_in(dir.path(), &["train", "c.toml", "--run-dir", "run"]).success();
    let predict = |input: &str| {
        let args = [
            "predict", "--run", "run", "--input", input, "--output", "p.csv",
        ];
        squiggle_in(dir.path(), &args).success();
        std::fs::read_to_string(dir.path().join("p.csv")).unwrap()
    };
    let from_csv = predict("mixed.csv");
    assert_eq!(from_csv.lines().count(), 301);
    assert_eq!(predict("mixed.parquet"), from_csv);
    // A row's problem is named at its line of the same table as CSV, in the same words.
    let refused = |file: &str| {
        let toml = regression(file, "").replace("missing = \"mean\"\n", "");
        write(dir.path(), "c.toml", &toml);
        let out = squiggle_in(dir.path(), &["train", "c.toml"]);
        assert_eq!(out.status, 2, "{out}");
        out.stderr
    };
    let message = refused("mixed.parquet");
    assert!(
        message
            .starts_with("squiggle: mixed.parquet:4: column `a`: an empty cell is a missing value"),
        "{message}"
    );
    assert_eq!(
        message,
        refused("mixed.csv").replace("mixed.csv", "mixed.parquet")
    );
}

#[cfg(feature = "parquet")]
#[test]
fn a_parquet_file_must_be_a_whole_file() {
    let dir = scratch();
    copy_mixed(dir.path());
    let config = |file: &str| {
        format!(
            "[data]\ncsv = \"{file}\"\ntargets = [\"y\"]\nexclude = [\"when\", \"colour\"]\nmissing = \"drop\"\n[train]\nepochs = 1\n"
        )
    };
    write(dir.path(), "c.toml", &config("-"));
    let parquet = std::fs::read(dir.path().join("mixed.parquet")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_squiggle"))
        .args(["train", "c.toml"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The reader stops at the first bytes: it may close the pipe before all are written.
    let _ = std::io::Write::write_all(&mut input, &parquet);
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "squiggle: -: a Parquet file is read from its end first: give a file, not a pipe or standard input"
    );
    // A damaged file: one line, from the Parquet reader.
    let cut = &parquet[..parquet.len() / 2];
    std::fs::write(dir.path().join("cut.parquet"), cut).unwrap();
    write(dir.path(), "c.toml", &config("cut.parquet"));
    let out = squiggle_in(dir.path(), &["train", "c.toml"]);
    assert!(
        out.stderr
            .starts_with("squiggle: cut.parquet: cannot read the file: parquet: "),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
}

#[cfg(not(feature = "parquet"))]
#[test]
fn a_parquet_file_says_how_to_build_the_reader() {
    let dir = scratch();
    std::fs::copy(
        root().join("tests/data/mixed.parquet"),
        dir.path().join("d.parquet"),
    )
    .unwrap();
    write(
        dir.path(),
        "c.toml",
        "[data]\ncsv = \"d.parquet\"\n[train]\nepochs = 1\n",
    );
    squiggle_in(dir.path(), &["train", "c.toml"]).fails_with(
        2,
        "squiggle: d.parquet: a Parquet file, and this squiggle was built without Parquet: build it with `cargo build --release --features parquet`, or write the table as CSV",
    );
}
