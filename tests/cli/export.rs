//! `squiggle export`: the files are read back here by a reader written from the safetensors
//! format's description (8-byte header length, JSON header, little-endian data), not by
//! Burn, and the network they describe is run forward in plain f64 to reproduce `predict`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::*;

/// A tensor of an exported file: its shape and values.
type Tensors = BTreeMap<String, (Vec<usize>, Vec<f64>)>;

/// Reads a safetensors file: its tensors (F32 or F64, widened) and its metadata.
fn read_safetensors(path: &Path) -> (Tensors, BTreeMap<String, String>, String) {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    let data = &bytes[8 + len..];
    let mut tensors = Tensors::new();
    let mut metadata = BTreeMap::new();
    let mut dtype = String::new();
    for (key, info) in header.as_object().unwrap() {
        if key == "__metadata__" {
            for (k, v) in info.as_object().unwrap() {
                metadata.insert(k.clone(), v.as_str().unwrap().to_string());
            }
            continue;
        }
        let shape: Vec<usize> = info["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let [start, end] = [0, 1].map(|i| info["data_offsets"][i].as_u64().unwrap() as usize);
        let raw = &data[start..end];
        dtype = info["dtype"].as_str().unwrap().to_string();
        let values: Vec<f64> = match dtype.as_str() {
            "F32" => raw
                .chunks(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
            "F64" => raw
                .chunks(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            other => panic!("unexpected dtype {other}"),
        };
        assert_eq!(values.len(), shape.iter().product::<usize>(), "{key}");
        tensors.insert(key.clone(), (shape, values));
    }
    (tensors, metadata, dtype)
}

/// The layers of an `nn.Sequential` state dict, in order: `(weight [out][in] row-major,
/// bias, out, in)`.
fn sequential(tensors: &Tensors) -> Vec<(Vec<f64>, Vec<f64>, usize, usize)> {
    let mut layers = Vec::new();
    for i in 0.. {
        let Some((shape, weight)) = tensors.get(&format!("{}.weight", 2 * i)) else {
            break;
        };
        let (bshape, bias) = &tensors[&format!("{}.bias", 2 * i)];
        assert_eq!(bshape, &vec![shape[0]], "layer {i}'s bias fits its weight");
        layers.push((weight.clone(), bias.clone(), shape[0], shape[1]));
    }
    assert_eq!(
        layers.len() * 2,
        tensors.len(),
        "only layer tensors: {tensors:?}"
    );
    layers
}

/// What PyTorch's modules compute, in f64.
fn activate(name: &str, z: f64) -> f64 {
    match name {
        "softplus" => z.max(0.0) + (-z.abs()).exp().ln_1p(),
        "relu" => z.max(0.0),
        "sigmoid" => 1.0 / (1.0 + (-z).exp()),
        "tanh" => z.tanh(),
        "identity" => z,
        other => panic!("unknown activation {other}"),
    }
}

/// The exported network on one row of raw column values, in the targets' units (a
/// classifier's: the SoftMax probabilities).
fn forward(
    meta: &serde_json::Value,
    layers: &[(Vec<f64>, Vec<f64>, usize, usize)],
    row: &[f64],
) -> Vec<f64> {
    let inputs = meta["inputs"].as_array().unwrap();
    let mut x: Vec<f64> = row
        .iter()
        .zip(inputs)
        .map(|(v, c)| (v - number(c, "mean")) / number(c, "std"))
        .collect();
    let activation = meta["activation"].as_str().unwrap();
    for (k, (w, b, out, inp)) in layers.iter().enumerate() {
        assert_eq!(*inp, x.len());
        let z: Vec<f64> = (0..*out)
            .map(|j| b[j] + (0..*inp).map(|i| w[j * inp + i] * x[i]).sum::<f64>())
            .collect();
        x = if k + 1 < layers.len() {
            z.into_iter().map(|z| activate(activation, z)).collect()
        } else {
            z
        };
    }
    if meta["classes"].is_array() {
        let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = x.iter().map(|z| (z - top).exp()).sum();
        return x.iter().map(|z| (z - top).exp() / sum).collect();
    }
    x.iter()
        .zip(meta["targets"].as_array().unwrap())
        .map(|(y, c)| y * number(c, "std") + number(c, "mean"))
        .collect()
}

/// Trains `config` into `dir/run` with `extra` flags.
fn train(dir: &Path, config: &str, extra: &[&str]) {
    let mut args = vec!["train", config, "--run-dir", "run"];
    args.extend_from_slice(extra);
    squiggle_in(dir, &args).success();
}

/// `predict`'s output columns from `first` on, per row, and the rows' values of `inputs`.
fn predicted(dir: &Path, input: &str, inputs: &[&str], first: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
    squiggle_in(
        dir,
        &[
            "predict", "--run", "run", "--input", input, "--output", "p.csv",
        ],
    )
    .success();
    let text = std::fs::read_to_string(dir.join("p.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at: Vec<usize> = inputs
        .iter()
        .map(|name| header.iter().position(|h| h == name).unwrap())
        .collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let row = at.iter().map(|&i| cells[i].parse().unwrap()).collect();
            let out = cells[first..]
                .iter()
                .filter_map(|c| c.parse().ok())
                .collect();
            (row, out)
        })
        .collect()
}

#[test]
fn an_exported_regression_reproduces_predict_from_its_weights_and_scaling() {
    let dir = scratch();
    // Two inputs on very different scales, a curved target: standardisation and two hidden
    // layers both matter to the numbers.
    let mut csv = String::from("id,a,b,y\n");
    for i in 0..160 {
        let a = f64::from(i % 16) * 25.0;
        let b = f64::from(i / 16) * 0.1 - 0.4;
        csv += &format!(
            "{i},{a},{b},{}\n",
            100.0 + a * (1.0 + b) + 40.0 * (a / 80.0).sin()
        );
    }
    write(dir.path(), "d.csv", &csv);
    let config = write(
        dir.path(),
        "c.toml",
        "[model]\nhidden = [5, 3]\nactivation = \"tanh\"\nseed = 3\n\n\
         [data]\ncsv = \"d.csv\"\ninputs = [\"a\", \"b\"]\ntargets = [\"y\"]\nstandardize = true\n\n\
         [train]\nepochs = 30\nbatch_size = 16\nlearning_rate = 0.05\n",
    );
    train(dir.path(), &config, &[]);
    let out = squiggle_in(
        dir.path(),
        &["export", "--run", "run", "--out", "net.safetensors"],
    );
    out.success();
    assert!(
        out.stderr
            .contains("2-[5, 3]-1 tanh network (a,b → y, 37 parameters)"),
        "{out}"
    );
    let (tensors, metadata, dtype) = read_safetensors(&dir.path().join("net.safetensors"));
    assert_eq!(dtype, "F32");
    let shapes: Vec<(&str, &Vec<usize>)> =
        tensors.iter().map(|(k, (s, _))| (k.as_str(), s)).collect();
    assert_eq!(
        shapes,
        [
            ("0.bias", &vec![5]),
            ("0.weight", &vec![5, 2]),
            ("2.bias", &vec![3]),
            ("2.weight", &vec![3, 5]),
            ("4.bias", &vec![1]),
            ("4.weight", &vec![1, 3]),
        ]
    );
    let meta: serde_json::Value = serde_json::from_str(&metadata["squiggle"]).unwrap();
    assert_eq!(meta["activation"], "tanh");
    assert_eq!(meta["classes"], serde_json::Value::Null);
    let names: Vec<&str> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(meta["targets"][0]["name"], "y");
    // Standardised with the training rows' statistics: a's mean is 187.5 over whole cycles.
    close("a's mean", number(&meta["inputs"][0], "mean"), 187.5, 1e-9);
    assert!(number(&meta["targets"][0], "std") > 10.0, "{meta}");

    let layers = sequential(&tensors);
    let rows = predicted(dir.path(), "d.csv", &["a", "b"], 4);
    assert_eq!(rows.len(), 160);
    for (row, want) in rows {
        let got = forward(&meta, &layers, &row);
        close("prediction", got[0], want[0], 1e-4 * want[0].abs().max(1.0));
    }

    // The JSON export holds the same description and the same weights, `[out][in]`.
    squiggle_in(dir.path(), &["export", "--run", "run", "--out", "net.json"]).success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("net.json")).unwrap())
            .unwrap();
    assert_eq!(json["squiggle"], meta);
    let json_layers = json["layers"].as_array().unwrap();
    assert_eq!(json_layers.len(), layers.len());
    for (l, (w, b, out, inp)) in json_layers.iter().zip(&layers) {
        let rows = l["weight"].as_array().unwrap();
        assert_eq!(rows.len(), *out);
        for (j, r) in rows.iter().enumerate() {
            let r = r.as_array().unwrap();
            assert_eq!(r.len(), *inp);
            for (i, v) in r.iter().enumerate() {
                // The same f32, written in its shortest form.
                assert_eq!(v.as_f64().unwrap() as f32, w[j * inp + i] as f32);
            }
        }
        let bias: Vec<f32> = l["bias"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(bias, b.iter().map(|&v| v as f32).collect::<Vec<_>>());
    }
}

#[test]
fn an_exported_classifier_names_its_classes_and_reproduces_the_probabilities() {
    let dir = scratch();
    let config = root().join("configs/statquest-pt4-iris.toml");
    train(dir.path(), config.to_str().unwrap(), &["--epochs", "40"]);
    squiggle_in(
        dir.path(),
        &[
            "export",
            "--run",
            "run",
            "--out",
            "iris.st",
            "--format",
            "safetensors",
        ],
    )
    .success();
    let (tensors, metadata, _) = read_safetensors(&dir.path().join("iris.st"));
    let meta: serde_json::Value = serde_json::from_str(&metadata["squiggle"]).unwrap();
    assert_eq!(
        meta["classes"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
    assert_eq!(meta["activation"], "relu");
    // rescale = true: mean is the minimum, std the range.
    let petal = &meta["inputs"][0];
    assert_eq!(petal["name"], "petal_width");
    assert!(
        number(petal, "mean") >= 0.1 && number(petal, "std") > 2.0,
        "{meta}"
    );
    for target in meta["targets"].as_array().unwrap() {
        assert_eq!((number(target, "mean"), number(target, "std")), (0.0, 1.0));
    }
    let layers = sequential(&tensors);
    let input = root().join("configs/data/iris.csv");
    // p_setosa, p_versicolor, p_virginica follow the label and the predicted class.
    let rows = predicted(
        dir.path(),
        input.to_str().unwrap(),
        &["petal_width", "sepal_width"],
        6,
    );
    assert_eq!(rows.len(), 150);
    for (row, want) in rows {
        let got = forward(&meta, &layers, &row);
        for (g, w) in got.iter().zip(&want) {
            close("probability", *g, *w, 1e-5);
        }
    }
}

#[test]
fn a_run_at_f64_exports_f64_and_the_last_checkpoint_on_request() {
    let dir = scratch();
    generate(dir.path(), 200, "d.csv", &[]);
    let config = write(
        dir.path(),
        "c.toml",
        "[model]\nhidden = [3]\nseed = 1\n\n\
         [data]\ncsv = \"d.csv\"\nvalid_fraction = 0.25\n\n\
         [train]\ndtype = \"f64\"\nepochs = 12\nbatch_size = 20\nlearning_rate = 0.3\n",
    );
    train(dir.path(), &config, &[]);
    let best = squiggle_in(
        dir.path(),
        &["export", "--run", "run", "--out", "best.safetensors"],
    );
    assert!(
        best.success().is_empty() && best.stderr.contains("run/best.ckpt"),
        "{best}"
    );
    let last = squiggle_in(
        dir.path(),
        &[
            "export",
            "--run",
            "run",
            "--last",
            "--out",
            "last.safetensors",
        ],
    );
    assert!(last.stderr.contains("run/last.ckpt"), "{last}");
    let (tensors, _, dtype) = read_safetensors(&dir.path().join("last.safetensors"));
    assert_eq!(dtype, "F64");
    let metrics = std::fs::read_to_string(dir.path().join("run/metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 13, "{metrics}");
    // `--format json` wins over the file's name; the file reads as JSON with 3 + 3 + 3 + 1
    // values.
    squiggle_in(
        dir.path(),
        &[
            "export", "--run", "run", "--last", "--out", "w.bin", "--format", "json",
        ],
    )
    .success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("w.bin")).unwrap()).unwrap();
    assert_eq!(
        json["layers"][0]["weight"],
        serde_json::json!(
            tensors["0.weight"]
                .1
                .chunks(1)
                .map(|c| c.to_vec())
                .collect::<Vec<_>>()
        )
    );
}

#[test]
fn export_refuses_the_run_folder_and_missing_runs_in_one_line() {
    let dir = scratch();
    squiggle_in(
        dir.path(),
        &["export", "--run", "nowhere", "--out", "n.safetensors"],
    )
    .fails_with(
        2,
        "squiggle: `nowhere` is not a run folder (no such folder)",
    );
    generate(dir.path(), 50, "d.csv", &[]);
    let config = write(
        dir.path(),
        "c.toml",
        "[model]\nhidden = [2]\nseed = 1\n\n[data]\ncsv = \"d.csv\"\n\n[train]\nepochs = 2\n",
    );
    train(dir.path(), &config, &[]);
    squiggle_in(dir.path(), &["export", "--run", "run", "--out", "run/x.safetensors"]).fails_with(
        2,
        "squiggle: --out `run/x.safetensors` is inside the run folder `run`, which holds the run's own files; write elsewhere",
    );
    assert!(!dir.path().join("run/x.safetensors").exists());
    squiggle_in(
        dir.path(),
        &["export", "--run", "run", "--out", "no/such/x.json"],
    )
    .fails_with(
        2,
        "squiggle: cannot write `no/such/x.json`: folder `no/such` does not exist",
    );
}
