//! Seeing backpropagation: `explain`, `gradcheck`, plots and JSON Lines traces.

use crate::util::*;

/// Sums a JSON array of numbers.
fn sum(v: &serde_json::Value) -> f64 {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .sum()
}

#[test]
fn explain_breaks_db3_into_the_lessons_factors() {
    let v = squiggle(&["explain", "configs/statquest-pt2.toml", "--json"]).json();
    let b3 = &v["params"][0];
    assert_eq!(b3["name"], "b3");
    let names: Vec<&str> = b3["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dSSR/dpredicted", "dpredicted/db3"]);
    assert_eq!(b3["factors"][0]["meaning"], "−2(observed − predicted)");
    // Σ −2(observed − predicted) × 1 = −15.6551 (shared/statquest.md)
    close("Σ products", sum(&b3["products"]), -15.655108, 1e-5);
    for key in [
        "chain_rule",
        "burn_autodiff",
        "fused_backward",
        "finite_difference",
    ] {
        close(key, number(b3, key), -15.655108, 1e-4);
    }
    assert!(b3.get("autodiff").is_none(), "the old key is gone: {b3}");
    assert_eq!(b3["agree"], true);
    assert_eq!(v["kernels"], "fused");
    close("step size", number(b3, "step_size"), -1.565511, 1e-5);
    close("new b3", number(b3, "new_value"), 1.565511, 1e-5);
}

#[test]
fn explain_shows_a_later_step_and_frozen_parameters() {
    let v = squiggle(&[
        "explain",
        "configs/statquest-pt2.toml",
        "--json",
        "--step",
        "3",
        "--param",
        "w1",
        "b3",
    ])
    .json();
    let params = v["params"].as_array().unwrap();
    assert_eq!(params.len(), 2);
    let (w1, b3) = (&params[0], &params[1]);
    assert_eq!(w1["name"], "w1");
    assert_eq!(w1["trainable"], false);
    assert!(w1["step_size"].is_null());
    let names: Vec<&str> = w1["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["dSSR/dpredicted", "dpredicted/dy1", "dy1/dx1", "dx1/dw1"]
    );
    assert_eq!(w1["factors"][1]["meaning"], "w3");
    assert_eq!(w1["factors"][2]["meaning"], "sigmoid(x1)");
    assert_eq!(w1["agree"], true);
    // Step 3 of the lesson's table: b3 = 2.442197, dSSR/db3 = −1.001927.
    close("b3", number(b3, "value"), 2.442197, 1e-4);
    close("dSSR/db3", number(b3, "burn_autodiff"), -1.001927, 1e-4);
    close("dSSR/db3", number(b3, "fused_backward"), -1.001927, 1e-4);
}

/// With Burn's kernels the step explained is the one Burn's autodiff took: the same lesson
/// numbers, the same four derivatives.
#[test]
fn explain_with_burns_kernels_explains_burns_step() {
    let v = squiggle(&[
        "explain",
        "configs/statquest-pt2.toml",
        "--json",
        "--step",
        "3",
        "--kernels",
        "burn",
    ])
    .json();
    assert_eq!(v["kernels"], "burn");
    let b3 = &v["params"][0];
    close("b3", number(b3, "value"), 2.442197, 1e-4);
    for key in [
        "chain_rule",
        "burn_autodiff",
        "fused_backward",
        "finite_difference",
    ] {
        close(key, number(b3, key), -1.001927, 1e-4);
    }
    let text = squiggle(&["explain", "configs/statquest-pt2.toml", "--kernels", "burn"]);
    let text = text.success();
    assert!(
        text.starts_with(
            "Step 0 of training a 1-[2]-1 softplus network on 3 data points (flex, f32, Burn autodiff)"
        ),
        "{text}"
    );
    assert!(
        text.contains("  Burn's autodiff        -15.655108  (what training uses)\n"),
        "{text}"
    );
    assert!(
        text.contains("  fused backward         -15.655108\n"),
        "{text}"
    );
}

#[test]
fn explain_factors_sum_to_autodiff_on_a_deep_network() {
    let dir = scratch();
    write(
        dir.path(),
        "deep.toml",
        "[model]\ninputs = 2\nhidden = [3, 2]\noutputs = 2\nactivation = \"tanh\"\nseed = 5\n\
         [data]\npoints = [[0, 1, 0.5, 0], [1, 0, 0.2, 1], [1, 1, 0.9, 0.3]]\n\
         [train]\nloss = \"mse\"\ndtype = \"f64\"\n",
    );
    let v = squiggle_in(
        dir.path(),
        &["explain", "deep.toml", "--json", "--step", "2"],
    )
    .json();
    let params = v["params"].as_array().unwrap();
    assert_eq!(params.len(), (2 + 1) * 3 + (3 + 1) * 2 + (2 + 1) * 2);
    for p in params {
        for key in ["burn_autodiff", "fused_backward"] {
            let computed = number(p, key);
            let scale = computed.abs().max(1e-3);
            assert!(
                (sum(&p["products"]) - computed).abs() / scale < 1e-6,
                "{key}: {p}"
            );
        }
        assert_eq!(p["agree"], true, "{p}");
    }
    // A hidden weight's signal: from the layer above, through tanh', times its input.
    let w = params
        .iter()
        .find(|p| p["name"] == "hidden.1.weight[2][1]")
        .unwrap();
    let names: Vec<&str> = w["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dMSE/dh1[1]", "dh1[1]/dz1[1]", "dz1[1]/dw"]);
    assert_eq!(w["factors"][2]["meaning"], "h0[2]");
}

#[test]
fn explain_prints_the_table_the_checks_and_the_step() {
    let out = squiggle(&["explain", "configs/statquest-pt2.toml"]);
    let text = out.success();
    for expected in [
        "dSSR/db3 = Σ dSSR/dpredicted × dpredicted/db3\n",
        "  from the chain rule    -15.655108\n",
        "  Burn's autodiff        -15.655108\n",
        "  fused backward         -15.655108  (what training uses)\n",
        "  → all four agree",
        "  step size = dSSR/db3 × learning rate = -15.655108 × 0.1 = -1.565511\n",
        "  new b3 = old − step size = 0.000000 − (-1.565511) = 1.565511\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?}:\n{out}");
    }
}

#[test]
fn explain_rejects_steps_the_run_never_takes() {
    squiggle(&["explain", "configs/statquest-pt2.toml", "--step", "12"]).fails_with(
        2,
        "squiggle: the run stops after 10 steps (min_step_size), so it has no step 12",
    );
    squiggle(&["explain", "configs/statquest-pt2.toml", "--param", "w7"]).fails_with(
        2,
        "squiggle: --param: unknown parameter `w7`; expected one of w1, w2, w3, w4, b1, b2, b3, \
         hidden.0.weight, hidden.0.bias, output.weight, output.bias (or an element such as output.bias[0])",
    );
}

#[test]
fn gradcheck_passes_on_every_parameter() {
    for config in [
        "configs/statquest-pt2.toml",
        "configs/gradient-descent.toml",
    ] {
        // The run's own precision and kernels by default: f32 and the fused kernels.
        let v = squiggle(&["gradcheck", config, "--json"]).json();
        assert_eq!(v["passed"], true, "{v}");
        assert_eq!(
            (&v["dtype"], &v["kernels"]),
            (&"f32".into(), &"fused".into())
        );
        assert_eq!(v["tolerance"], 1e-3);
        assert!(number(&v["worst"], "error") < 1e-3);
        // --dtype f64 keeps the tight check.
        let v = squiggle(&["gradcheck", config, "--json", "--dtype", "f64"]).json();
        assert_eq!(v["passed"], true, "{v}");
        assert_eq!(v["dtype"], "f64");
        assert!(number(&v["worst"], "error") < 1e-6);
        for p in v["params"].as_array().unwrap() {
            for key in ["burn_error", "fused_error"] {
                assert!(number(p, key) < 1e-6, "{key}: {p}");
            }
        }
    }
    let v = squiggle(&["gradcheck", "configs/statquest-pt2.toml", "--json"]).json();
    assert_eq!(
        v["params"].as_array().unwrap().len(),
        7,
        "every parameter, frozen or not"
    );
    let b3 = &v["params"][6];
    assert_eq!(b3["name"], "b3");
    for key in ["burn_autodiff", "fused_backward", "finite_difference"] {
        close(key, number(b3, key), -15.655108, 1e-3);
    }
    let text = squiggle(&["gradcheck", "configs/statquest-pt2.toml"]);
    assert!(text.success().contains("tolerance 1e-3: PASS."), "{text}");
}

#[test]
fn gradcheck_fails_on_a_wrong_gradient() {
    let out = squiggle(&[
        "gradcheck",
        "configs/statquest-pt2.toml",
        "--perturb",
        "w2",
        "--json",
    ]);
    assert_eq!(out.status, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["worst"]["name"], "w2");
    assert_eq!(
        v["worst"]["kernels"], "fused",
        "the run's kernels were perturbed"
    );
    assert!(
        out.stderr.starts_with(
            "squiggle: gradient check failed: error 9.9e-3 for w2 (fused backward) exceeds its allowance"
        ),
        "{out}"
    );
    // Perturbing Burn's derivative instead (a run with Burn's kernels) fails too, in f64.
    let out = squiggle(&[
        "gradcheck",
        "configs/statquest-pt2.toml",
        "--perturb",
        "w2",
        "--kernels",
        "burn",
        "--dtype",
        "f64",
    ]);
    assert_eq!(out.status, 1, "{out}");
    assert!(
        out.stderr.starts_with(
            "squiggle: gradient check failed: error 9.9e-3 for w2 (Burn's autodiff) exceeds the tolerance 1e-6"
        ),
        "{out}"
    );
}

/// Counts `<circle` elements in an SVG file.
fn circles(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .matches("<circle")
        .count()
}

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let reader = decoder.read_info().expect("a valid PNG");
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn plots_are_written_as_svg_png_and_gif_with_one_mark_per_point_and_step() {
    let dir = scratch();
    let out = dir.path().join("plots");
    let text = squiggle(&[
        "plot",
        "configs/statquest-pt2.toml",
        "--out",
        out.to_str().unwrap(),
        "--animate",
    ]);
    text.success();
    for name in ["fit", "landscape", "loss"] {
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.contains("width=\"900\"")
                && svg.contains("height=\"600\""),
            "{name}.svg"
        );
        assert_eq!(
            png_size(&out.join(format!("{name}.png"))),
            (900, 600),
            "{name}.png"
        );
    }
    assert_eq!(
        circles(&out.join("fit.svg")),
        3,
        "one marker per data point"
    );
    assert_eq!(
        circles(&out.join("landscape.svg")),
        10,
        "one marker per step"
    );
    let fit = std::fs::read_to_string(out.join("fit.svg")).unwrap();
    for label in [
        "w3·softplus(w1·x + b1)",
        "w4·softplus(w2·x + b2)",
        "prediction (the green squiggle)",
        "input (dosage)",
    ] {
        assert!(fit.contains(label), "fit.svg lacks {label:?}");
    }
    // The animation: one frame per step plus the result, 1200 × 480.
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options
        .read_info(std::fs::File::open(out.join("animation.gif")).unwrap())
        .unwrap();
    assert_eq!((decoder.width(), decoder.height()), (1200, 480));
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 11);
}

#[test]
fn the_gradient_descent_lesson_plots_a_straight_line_through_weight_and_height() {
    let dir = scratch();
    let config = root().join("configs/gradient-descent.toml");
    let out = squiggle_in(
        dir.path(),
        &["plot", config.to_str().unwrap(), "--out", "gd"],
    );
    out.success();
    let fit = std::fs::read_to_string(dir.path().join("gd/fit.svg")).unwrap();
    for text in [
        "The fitted line",
        "input (weight)",
        "output (height)",
        "prediction (the fitted line)",
    ] {
        assert!(fit.contains(text), "fit.svg lacks {text:?}");
    }
    // The line is drawn from its two ends: one straight segment, not 200 rounded points.
    let line = fit
        .lines()
        .find(|l| l.contains("stroke=\"#009E48\" stroke-width=\"16\""))
        .expect("the fitted line");
    let points = line
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(points.split_whitespace().count(), 2, "{line}");
    // The legend stands beside the plot, right of the line's right end (the plot's edge).
    let right_end: f64 = points
        .split_whitespace()
        .map(|p| p.split(',').next().unwrap().parse::<f64>().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    let label = fit.find("prediction (the fitted line)").unwrap();
    let tag = fit[..label].rfind("<text x=\"").unwrap();
    let legend_x: f64 = fit[tag + 9..].split('"').next().unwrap().parse().unwrap();
    assert!(
        legend_x > right_end,
        "the legend at x {legend_x}, the plot ends at {right_end}"
    );
    // Drawn four times larger and shown at 900 × 600: coordinates on quarter pixels.
    assert!(
        fit.starts_with("<svg width=\"900\" height=\"600\" viewBox=\"0 0 3600 2400\""),
        "{}",
        &fit[..120]
    );
    // The PNG is anti-aliased: the line's edges blend green into white.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(dir.path().join("gd/fit.png")).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).unwrap();
    let greens: std::collections::BTreeSet<[u8; 3]> = pixels
        .chunks(3)
        .map(|p| [p[0], p[1], p[2]])
        .filter(|p| p[1] > p[0].saturating_add(40) && p[1] > p[2].saturating_add(40))
        .collect();
    assert!(
        greens.len() > 5,
        "{} shades of green: not anti-aliased",
        greens.len()
    );
    // Tick labels as written.
    assert!(
        fit.contains(">\n0.5\n<") || fit.contains(">0.5<"),
        "no 0.5 tick"
    );
    assert!(!fit.contains("0000000"), "a tick with float noise");
}

#[test]
fn train_can_plot_and_several_inputs_plot_predicted_against_observed() {
    let dir = scratch();
    write(
        dir.path(),
        "two.toml",
        "[model]\ninputs = 2\nhidden = [3]\n[data]\npoints = [[0, 1, 0.5], [1, 0, 0.2], [1, 1, 0.9], [0, 0, 0.1]]\n\
         [train]\nmax_steps = 5\nlearning_rate = 0.01\n",
    );
    let out = squiggle_in(
        dir.path(),
        &[
            "train",
            "two.toml",
            "--plot",
            "p",
            "--param",
            "output.bias[0]",
        ],
    );
    assert!(out.success().contains("wrote p/fit.png"), "{out}");
    assert_eq!(circles(&dir.path().join("p/fit.svg")), 4);
    assert_eq!(circles(&dir.path().join("p/landscape.svg")), 5);
    assert!(
        std::fs::read_to_string(dir.path().join("p/landscape.svg"))
            .unwrap()
            .contains("SSR along the path, and a slice through output.bias[0]")
    );
    squiggle_in(dir.path(), &["train", "two.toml", "--plot", "p", "--param", "output.weight"]).fails_with(
        2,
        "squiggle: --param `output.weight` names a whole tensor; the landscape needs one number, such as `output.weight[0]`",
    );
}

#[test]
fn jsonl_traces_have_a_step_per_line_and_an_end() {
    let dir = scratch();
    train_pt2_in(dir.path(), &["--json", "--trace", "t.jsonl"]).success();
    let text = std::fs::read_to_string(dir.path().join("t.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0]["type"], "step");
    assert_eq!(lines[0]["data"]["params"][0]["name"], "b3");
    close(
        "step size",
        number(&lines[0]["data"]["params"][0], "step_size"),
        -1.565511,
        1e-5,
    );
    assert_eq!(lines[10]["type"], "end");
    assert_eq!(lines[10]["data"]["stop_reason"], "min_step_size");
    close(
        "b3",
        number(&lines[10]["data"]["params"], "b3"),
        2.608911,
        1e-4,
    );
    train_pt2_in(dir.path(), &["--trace", "t.txt"]).fails_with(
        2,
        "squiggle: --trace `t.txt`: the file name must end in .csv or .jsonl",
    );
}

/// The `cy` of every `<circle` in an SVG file, in drawing order.
fn circle_ys(path: &std::path::Path) -> Vec<f64> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<circle")
        .skip(1)
        .map(|c| {
            let at = c.find("cy=\"").unwrap() + 4;
            c[at..].split('"').next().unwrap().parse().unwrap()
        })
        .collect()
}

/// The numbers printed as text in an SVG file (tick labels among them).
fn text_numbers(path: &std::path::Path) -> Vec<f64> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split('>').nth(1)?.split('<').next()?.trim().parse().ok())
        .collect()
}

#[test]
fn the_landscape_draws_each_step_at_the_loss_the_run_had() {
    // Details Pt. 1 trains w3, w4 and b3: a 1-D curve through w3 is only a slice, and the
    // run's own SSR falls at every step, so its dots must descend (SVG y grows downwards).
    let dir = scratch();
    let config = root().join("configs/statquest-details-pt1.toml");
    let plot = |second: &str| {
        let config = config.to_str().unwrap();
        squiggle_in(
            dir.path(),
            &["plot", config, "--out", "p", "--param", "w3", second],
        )
    };
    plot("w4").success();
    let ys = circle_ys(&dir.path().join("p/landscape.svg"));
    assert!(ys.len() > 10);
    assert!(
        ys.windows(2).all(|w| w[1] >= w[0] - 1e-9),
        "the dots climb: {ys:?}"
    );
    let svg = std::fs::read_to_string(dir.path().join("p/landscape.svg")).unwrap();
    assert!(
        svg.contains("slice: SSR(w3), the others as at step"),
        "labelled a slice"
    );
    // Two parameters: the contour with the path across it.
    let contour = std::fs::read_to_string(dir.path().join("p/contour.svg")).unwrap();
    assert!(contour.contains("SSR over w3 and w4, the others at their final values"));
    plot("w3").fails_with(
        2,
        "squiggle: --param `w3` is given twice; a contour needs two different parameters",
    );
}

#[test]
fn the_fit_spans_the_data_and_names_its_axes_after_the_columns() {
    // A 1-[8]-1 network on a sine: its units' contributions run far beyond the data, which
    // spans ±1; the y axis follows the data and the prediction, and clipped units say so.
    let dir = scratch();
    let mut csv = String::from("angle,height\n");
    for i in 0..60 {
        let x = f64::from(i) / 59.0;
        csv += &format!("{x},{}\n", (6.0 * x).sin());
    }
    std::fs::write(dir.path().join("sine.csv"), csv).unwrap();
    write(
        dir.path(),
        "sine.toml",
        "[model]\nhidden = [8]\nseed = 3\n[data]\ncsv = \"sine.csv\"\n[train]\nloss = \"mse\"\nlearning_rate = 0.2\nmax_steps = 300\n",
    );
    squiggle_in(dir.path(), &["plot", "sine.toml", "--out", "p"]).success();
    let fit = dir.path().join("p/fit.svg");
    let svg = std::fs::read_to_string(&fit).unwrap();
    assert!(
        svg.contains("angle") && svg.contains("height"),
        "axis titles"
    );
    let ticks = text_numbers(&fit);
    assert!(!ticks.is_empty());
    assert!(
        ticks.iter().all(|t| t.abs() <= 3.0),
        "the y axis spans the data, not the contributions: {ticks:?}"
    );
    assert_eq!(circles(&fit), 60, "one marker per data point");
    // Two units of ±1000 that cancel: the prediction and the data span 1, the units a
    // thousand. The axis follows the data; the units are cut at it, and say so.
    write(
        dir.path(),
        "cancel.toml",
        "[model.init]\nw1 = 1.0\nb1 = 0.0\nw2 = 1.0\nb2 = 0.0\nw3 = 1000.0\nw4 = -1000.0\nb3 = 0.5\n\
         [data]\npoints = [[0.0, 0.0], [1.0, 1.0]]\n",
    );
    squiggle_in(dir.path(), &["plot", "cancel.toml", "--out", "c"]).success();
    let cancel = dir.path().join("c/fit.svg");
    let svg = std::fs::read_to_string(&cancel).unwrap();
    assert!(svg.contains("w3·softplus(w1·x + b1) (clipped)"), "{svg}");
    assert!(svg.contains("w4·softplus(w2·x + b2) (clipped)"), "{svg}");
    let ticks = text_numbers(&cancel);
    assert!(ticks.iter().all(|t| t.abs() < 2.0), "{ticks:?}");
    // The lesson's own units, a few times the data's span, are drawn whole.
    let pt2 = std::fs::read_to_string(root().join("docs/plots/pt2/fit.svg")).unwrap();
    assert!(!pt2.contains("(clipped)"));
}

#[test]
fn gradcheck_reports_a_relu_kink_instead_of_failing() {
    // Zero biases and a row at input 0: both hidden units sit exactly on their kinks.
    let dir = scratch();
    write(
        dir.path(),
        "kink.toml",
        "[model]\nactivation = \"relu\"\n[model.init]\nw1 = 0.7\nw2 = -0.4\nb1 = 0.0\nb2 = 0.0\nw3 = 1.2\nw4 = 0.9\nb3 = 0.1\n\
         [data]\npoints = [[0.0, 0.5], [1.0, 1.0]]\n",
    );
    let out = squiggle_in(dir.path(), &["gradcheck", "kink.toml"]);
    let text = out.success();
    assert!(text.contains("Not judged: b1, b2 at a ReLU kink."), "{out}");
    assert!(text.contains("at a kink\n"), "{out}");
    assert!(text.trim_end().ends_with(": PASS."), "{out}");
    let v = squiggle_in(dir.path(), &["gradcheck", "kink.toml", "--json"]).json();
    let kinks: Vec<bool> = v["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kink"].as_bool().unwrap())
        .collect();
    assert_eq!(kinks, [false, false, true, true, false, false, false]);
    // A wrong gradient elsewhere still fails.
    let out = squiggle_in(dir.path(), &["gradcheck", "kink.toml", "--perturb", "w3"]);
    assert_eq!(out.status, 1, "{out}");
}
