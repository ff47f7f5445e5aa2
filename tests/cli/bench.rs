//! `squiggle bench`: the cases, the baseline and the ratios it prints (never timing bounds:
//! how fast a machine is belongs to the benchmark's own output).

use crate::util::*;

/// Small work, so the test takes a fraction of a second.
const SMALL: [&str; 10] = [
    "bench",
    "--repeats",
    "2",
    "--rows",
    "3000",
    "--large-rows",
    "5000",
    "--lesson-steps",
    "30",
    "--backend",
];

#[test]
fn every_case_is_timed_beside_the_baseline() {
    let mut args = SMALL.to_vec();
    args.extend(["flex", "--json"]);
    let v = squiggle(&args).json();
    assert_eq!(v["repeats"], 2);
    assert_eq!(v["dtype"], "f32");
    let cases = v["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["case"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "lesson step (Details Pt. 2)",
            "1-[64]-1, batch 1024, 3,000 rows",
            "1-[2]-1, batch 32, 3,000 rows",
            "1-[2]-1, batch 1024, 3,000 rows",
            "1-[2]-1, batch 1024, 5,000 rows",
        ]
    );
    for (i, case) in cases.iter().enumerate() {
        let unit = if i == 0 {
            "us_per_step"
        } else {
            "million_samples_per_s"
        };
        assert_eq!(case["unit"], unit, "{case}");
        let baseline = number(case, "baseline");
        assert!(baseline > 0.0 && baseline.is_finite(), "{case}");
        // Both kernels, each beside the same baseline.
        for kernels in ["burn", "fused"] {
            let figure = &case["backends"]["flex"][kernels];
            let (value, ratio) = (number(figure, "value"), number(figure, "ratio"));
            assert!(value > 0.0 && value.is_finite(), "{kernels}: {case}");
            // The ratio is speed relative to the baseline: a time per step divides the other
            // way.
            let want = if i == 0 {
                baseline / value
            } else {
                value / baseline
            };
            assert!((ratio - want).abs() <= 1e-9 * want, "{kernels}: {case}");
        }
    }
}

#[test]
fn one_kernels_can_be_timed_alone() {
    let mut args = SMALL.to_vec();
    args.extend(["flex", "--kernels", "fused", "--json"]);
    let v = squiggle(&args).json();
    for case in v["cases"].as_array().unwrap() {
        let flex = case["backends"]["flex"].as_object().unwrap();
        assert_eq!(flex.keys().collect::<Vec<_>>(), ["fused"], "{case}");
    }
}

#[test]
fn the_table_names_each_backend_once() {
    let mut args = SMALL.to_vec();
    args.extend(["flex", "--backend", "flex"]);
    let out = squiggle(&args);
    let text = out.success();
    let header = text
        .lines()
        .find(|l| l.starts_with("case "))
        .expect("a header line");
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["case", "unit", "baseline", "flex", "burn", "flex", "fused"]
    );
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("case "))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 5, "{out}");
    assert!(rows[0].starts_with("lesson step (Details Pt. 2)") && rows[0].contains("µs/step"));
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.contains("M samples/s") && r.matches("×)").count() == 2),
        "{out}"
    );
    assert!(
        text.starts_with("Training timed on fixed work, f32, median of 2 runs"),
        "{out}"
    );
}

#[test]
fn bad_bench_flags_are_refused() {
    squiggle(&["bench", "--repeats", "0"]).fails_with(
        2,
        "squiggle: invalid value '0' for '--repeats <REPEATS>': 0 is not in 1..=1000",
    );
    squiggle(&["bench", "--lesson-steps", "1"]).fails_with(
        2,
        "squiggle: invalid value '1' for '--lesson-steps <LESSON_STEPS>': 1 is not in 2..=100000000",
    );
}

#[test]
fn threads_sets_the_compute_threads_of_any_command() {
    for threads in ["1", "3"] {
        let mut args = vec!["--threads", threads];
        args.extend_from_slice(&SMALL);
        args.extend(["flex", "--json"]);
        let v = squiggle(&args).json();
        assert_eq!(v["threads"].to_string(), threads);
    }
    // Global: after the subcommand too.
    let out = squiggle(&["train", "configs/statquest-pt2.toml", "--threads", "1"]);
    assert!(out.success().contains("b3"), "{out}");
    for bad in ["0", "two", "5000"] {
        let out = squiggle(&["--threads", bad, "train", "configs/statquest-pt2.toml"]);
        assert_eq!(out.status, 2, "{out}");
        assert!(
            out.stderr.starts_with("squiggle: ") && out.stderr.contains("--threads"),
            "{out}"
        );
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
    }
}
