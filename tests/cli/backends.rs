//! The cross-backend suite: the same runs on flex, ndarray and wgpu give the same numbers.
//!
//! Tolerance 1e-4 (absolute, on parameters and losses): every backend computes in f32, and
//! they may sum in different orders (SIMD lanes, GPU reductions), so results agree to a few
//! f32 ulps per step; over 500 steps of Details Pt. 2 the drift stays below 1e-5, and 1e-4
//! still catches any real difference (a wrong gradient moves parameters by 1e-2 in one step).
//!
//! Every comparison runs twice: flex against ndarray (always), and flex against wgpu, which
//! is `#[ignore]`d with its reason, so that a machine without the `wgpu` feature or a Vulkan
//! driver reports it as ignored rather than passed. `.ci/run` installs Mesa's software Vulkan
//! driver and runs them with `cargo test --release --workspace --features wgpu --
//! --include-ignored`; run the same locally to include them.

use crate::util::*;

const TOL: f64 = 1e-4;

/// One comparison, generated twice: `cpu` (flex and ndarray) and `wgpu` (flex and wgpu), each
/// ignored unless its backend is compiled in and asked for.
macro_rules! cross_backend {
    ($name:ident, |$backends:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            #[cfg_attr(not(feature = "ndarray"), ignore = "needs `--features ndarray`; .ci/run runs it with --include-ignored")]
            fn cpu() {
                let $backends: &[&str] = &["flex", "ndarray"];
                $body
            }

            #[test]
            #[ignore = "needs `--features wgpu` and a Vulkan driver; .ci/run runs it with --include-ignored"]
            fn wgpu() {
                let $backends: &[&str] = &["flex", "wgpu"];
                $body
            }
        }
    };
}

/// Every number in `v` (params, losses, predictions), flattened with its path.
fn numbers(v: &serde_json::Value, path: &str, out: &mut Vec<(String, f64)>) {
    match v {
        serde_json::Value::Number(n) => out.push((path.to_string(), n.as_f64().unwrap())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                numbers(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                numbers(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// Runs `args --backend B --json` on each of `backends` and compares the fields `keys`.
fn same_on_every_backend(backends: &[&str], dir: &std::path::Path, args: &[&str], keys: &[&str]) {
    let mut reference: Option<(&str, Vec<(String, f64)>)> = None;
    for &backend in backends {
        let mut all = args.to_vec();
        all.extend(["--json", "--backend", backend]);
        let out = squiggle_in(dir, &all);
        let v = out.json();
        assert_eq!(v["backend"], backend);
        let mut got = Vec::new();
        for key in keys {
            numbers(&v[*key], key, &mut got);
        }
        assert!(!got.is_empty(), "no numbers under {keys:?}: {out}");
        match &reference {
            None => reference = Some((backend, got)),
            Some((name, want)) => {
                assert_eq!(got.len(), want.len());
                for ((path, g), (_, w)) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= TOL,
                        "{}: {path} is {g} on {backend} but {w} on {name}",
                        args.join(" ")
                    );
                }
            }
        }
    }
}

cross_backend!(pt1_eval_is_the_same_everywhere, |backends| {
    same_on_every_backend(
        backends,
        &root(),
        &["eval", "configs/statquest-pt1.toml"],
        &["predictions", "loss"],
    );
});

cross_backend!(pt2_is_the_same_everywhere, |backends| {
    same_on_every_backend(
        backends,
        &root(),
        &["train", "configs/statquest-pt2.toml"],
        &["params", "initial_loss", "final_loss", "steps"],
    );
});

// Burn's autodiff of the module on every backend (the lesson, all seven parameters, Adam), to
// the numbers it gives on flex.
cross_backend!(burns_kernels_are_the_same_everywhere, |backends| {
    same_on_every_backend(
        backends,
        &root(),
        &["train", "configs/statquest-pt2.toml", "--kernels", "burn"],
        &["params", "initial_loss", "final_loss", "steps"],
    );
    same_on_every_backend(
        backends,
        &root(),
        &[
            "train",
            "configs/statquest-details-pt2.toml",
            "--max-steps",
            "200",
            "--kernels",
            "burn",
        ],
        &["params", "final_loss"],
    );
    same_on_every_backend(
        backends,
        &root(),
        &[
            "train",
            "configs/statquest-pt2-adam.toml",
            "--max-steps",
            "50",
            "--kernels",
            "burn",
        ],
        &["params", "final_loss"],
    );
});

cross_backend!(
    details_pt1_for_100_steps_is_the_same_everywhere,
    |backends| {
        same_on_every_backend(
            backends,
            &root(),
            &[
                "train",
                "configs/statquest-details-pt1.toml",
                "--max-steps",
                "100",
            ],
            &["params", "final_loss"],
        );
    }
);

cross_backend!(
    details_pt2_for_500_steps_is_the_same_everywhere,
    |backends| {
        same_on_every_backend(
            backends,
            &root(),
            &[
                "train",
                "configs/statquest-details-pt2.toml",
                "--max-steps",
                "500",
            ],
            &["params", "final_loss"],
        );
    }
);

cross_backend!(
    a_small_csv_run_by_mini_batches_is_the_same_everywhere,
    |backends| {
        let dir = scratch();
        squiggle_in(
            dir.path(),
            &[
                "generate", "dosage", "--rows", "300", "--seed", "3", "--out", "d.csv",
            ],
        )
        .success();
        let config = write(
            dir.path(),
            "c.toml",
            "[model]\nhidden = [2]\nseed = 2\n[data]\ncsv = \"d.csv\"\nvalid_fraction = 0.2\nstandardize = true\n[train]\nepochs = 2\nbatch_size = 32\nlearning_rate = 0.05\nmomentum = 0.9\n",
        );
        same_on_every_backend(
            backends,
            dir.path(),
            &["train", &config],
            &["params", "train_loss", "valid_loss"],
        );
        // Adam, step by step, through the same core.
        let adam = write(
            dir.path(),
            "adam.toml",
            "[model]\nseed = 3\n[train]\noptimizer = \"adam\"\nlearning_rate = 0.05\nmax_steps = 50\nmin_step_size = 0\n",
        );
        same_on_every_backend(
            backends,
            dir.path(),
            &["train", &adam],
            &["params", "final_loss"],
        );
    }
);

cross_backend!(classifiers_are_the_same_everywhere, |backends| {
    // Pt. 7 step by step: cross entropy through log-SoftMax, one output bias.
    same_on_every_backend(
        backends,
        &root(),
        &["train", "configs/statquest-pt7-cross-entropy.toml"],
        &["params", "initial_loss", "final_loss", "steps"],
    );
    // The Iris network by epochs: every parameter, the mean cross entropy, the accuracy and
    // the confusion matrices.
    same_on_every_backend(
        backends,
        &root(),
        &["train", "configs/statquest-pt4-iris.toml", "--epochs", "30"],
        &["params", "train_loss", "valid_loss", "valid", "confusion"],
    );
    same_on_every_backend(
        backends,
        &root(),
        &["eval", "configs/statquest-pt7-cross-entropy.toml"],
        &["points", "loss", "accuracy"],
    );
});

#[test]
fn the_backends_command_lists_what_is_compiled_in() {
    let out = squiggle(&["backends"]);
    let text = out.success();
    assert!(
        text.lines()
            .any(|l| l.starts_with("flex ") && l.ends_with("compiled in")),
        "{out}"
    );
    assert!(text.lines().any(|l| l.starts_with("ndarray ")), "{out}");
    assert!(text.lines().any(|l| l.starts_with("wgpu ")), "{out}");
}

#[test]
#[ignore = "needs `--features wgpu`; .ci/run runs it with --include-ignored"]
fn wgpu_without_any_adapter_is_one_line_naming_the_fix() {
    // Hide every Vulkan driver and every EGL (GL) vendor from the loaders.
    let hidden = [
        ("VK_DRIVER_FILES", "/nonexistent/icd.json"),
        ("VK_ICD_FILENAMES", "/nonexistent/icd.json"),
        ("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json"),
    ];
    squiggle_env(&root(), &["train", "configs/statquest-pt2.toml", "--backend", "wgpu"], &hidden)
        .fails_with(
            2,
            "squiggle: wgpu found no graphics adapter; install a Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers libvulkan1`) or use `--backend flex`",
        );
}

#[test]
#[ignore = "needs `--features wgpu` and a Vulkan driver; .ci/run runs it with --include-ignored"]
fn wgpu_warns_once_when_it_runs_on_a_software_adapter() {
    let listing = squiggle(&["backends"]);
    let chosen = listing
        .success()
        .lines()
        .find(|l| l.ends_with("<- used by --backend wgpu"))
        .unwrap_or_else(|| panic!("no wgpu adapter listed: {listing}"))
        .trim()
        .to_string();
    let out = squiggle(&["eval", "configs/statquest-pt1.toml", "--backend", "wgpu"]);
    out.success();
    if chosen.starts_with("software adapter") {
        // CI: Mesa's lavapipe, and the user is told it is slow, once.
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        assert!(
            lines[0].starts_with("squiggle: wgpu found only a software adapter ("),
            "{out}"
        );
    } else {
        assert!(
            out.stderr.is_empty(),
            "a GPU ({chosen}) needs no warning: {out}"
        );
    }
}

#[test]
fn the_config_names_a_backend_and_the_flag_overrides_it() {
    let dir = scratch();
    let config = write(
        dir.path(),
        "c.toml",
        "[train]\nbackend = \"ndarray\"\ntrainable = [\"b3\"]\nmax_steps = 3\n",
    );
    let from_flag = squiggle_in(
        dir.path(),
        &["train", &config, "--json", "--backend", "flex"],
    )
    .json();
    assert_eq!(from_flag["backend"], "flex");
    let from_file = squiggle_in(dir.path(), &["train", &config, "--json"]);
    if cfg!(feature = "ndarray") {
        let from_file = from_file.json();
        assert_eq!(from_file["backend"], "ndarray");
        close(
            "b3 on ndarray vs flex",
            number(&from_file["params"], "b3"),
            number(&from_flag["params"], "b3"),
            TOL,
        );
    } else {
        from_file.fails_with(
            2,
            "squiggle: backend `ndarray` is not compiled into this binary; rebuild with `cargo build --release --features ndarray`",
        );
    }
    let bad = write(dir.path(), "bad.toml", "[train]\nbackend = \"tpu\"\n");
    squiggle_in(dir.path(), &["train", &bad]).fails_with(
        2,
        &format!(
            "squiggle: {bad}:2:11: unknown backend `tpu`; expected one of flex, ndarray, wgpu"
        ),
    );
}

cross_backend!(playground_steps_agree, |backends| {
    // The playground of `squiggle serve --backend B`: Details Pt. 2 (all seven parameters)
    // stepped 50 times through the API, then its chain rule, on each backend.
    let states: Vec<serde_json::Value> = backends
        .iter()
        .map(|backend| {
            let server = crate::serve::Server::start(&["--backend", backend]);
            let state = server.playground("statquest-details-pt2");
            assert_eq!(state["backend"], *backend);
            let id = state["id"].as_str().unwrap();
            let path = format!("/api/playgrounds/{id}/step");
            server.post(&path, serde_json::json!({"steps": 50}))
        })
        .collect();
    assert_eq!(states[0]["step"], 50);
    assert_eq!(states[1]["step"], 50);
    for key in ["params", "loss", "explain"] {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        numbers(&states[0][key], key, &mut a);
        numbers(&states[1][key], key, &mut b);
        assert_eq!(a.len(), b.len());
        for ((path, x), (_, y)) in a.iter().zip(&b) {
            assert!(
                (x - y).abs() <= TOL * x.abs().max(1.0),
                "{path}: {x} on {} vs {y} on {}",
                backends[0],
                backends[1]
            );
        }
    }
});

cross_backend!(explanations_agree_everywhere, |backends| {
    // The chain rule, autodiff and finite differences of Details Pt. 2's first step: the
    // finite differences are the host's, so they hold on a device whose own f64 is wrong
    // (Mesa's lavapipe), where they once disagreed.
    same_on_every_backend(
        backends,
        &root(),
        &["explain", "configs/statquest-details-pt2.toml"],
        &["params"],
    );
});
