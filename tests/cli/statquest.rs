//! The lessons' numbers, end to end through the binary, on every CPU backend and with both
//! kernels.
//!
//! Reference: shared/statquest.md (values recomputed in double precision; they agree with the
//! videos, which round to 2–3 digits). Runs are f32, so values are compared within 1e-4 and
//! step counts exactly.

use crate::util::*;

const TOL: f64 = 1e-4;

/// Every lesson runs with Burn's autodiff of the module (the reference) and with the fused
/// kernels (the default), to the same numbers.
const KERNELS: [&str; 2] = ["burn", "fused"];

backend_test!(pt1_black_box_predictions_match_the_video, |backend| {
    for kernels in KERNELS {
        let v = squiggle(&[
            "eval",
            "configs/statquest-pt1.toml",
            "--json",
            "--backend",
            backend,
            "--kernels",
            kernels,
        ])
        .json();
        let predictions: Vec<f64> = v["predictions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row[0].as_f64().unwrap())
            .collect();
        for (i, (got, want)) in predictions
            .iter()
            .zip([-0.0110, 1.0348, 0.0046])
            .enumerate()
        {
            close(&format!("prediction {i}"), *got, want, TOL);
        }
        close("SSR", number(&v, "loss"), 0.00136, 1e-5);
        assert_eq!(v["backend"], backend);
        assert_eq!(v["kernels"], kernels);
    }
});

backend_test!(
    b3_only_training_matches_the_statquest_step_table,
    |backend| {
        for kernels in KERNELS {
            let dir = scratch();
            let trace = dir.path().join("steps.csv");
            let v = train_pt2_in(
                dir.path(),
                &[
                    "--json",
                    "--backend",
                    backend,
                    "--kernels",
                    kernels,
                    "--trace",
                    "steps.csv",
                ],
            )
            .json();
            assert_eq!(v["steps"], 10);
            assert_eq!(v["stop_reason"], "min_step_size");
            close("initial SSR", number(&v, "initial_loss"), 20.423598, TOL);
            assert!(number(&v, "final_loss") < 1e-4);
            // The final small step is applied: 2.608911 (2.6085 before it; the video says 2.61).
            close("b3", number(&v["params"], "b3"), 2.608911, TOL);
            for (name, fixed) in [
                ("w1", 3.34),
                ("b1", -1.43),
                ("w2", -3.53),
                ("b2", 0.57),
                ("w3", -1.22),
                ("w4", -2.30),
            ] {
                close(name, number(&v["params"], name), fixed, 1e-6);
            }

            // The trace holds the lesson's table: step, SSR, b3, dSSR/db3, step size.
            let csv = std::fs::read_to_string(&trace).unwrap();
            let mut lines = csv.lines();
            assert_eq!(lines.next(), Some("step,loss,b3,d_b3,step_b3"));
            let rows: Vec<Vec<f64>> = lines
                .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
                .collect();
            assert_eq!(rows.len(), 10);
            let table = [
                (0.0, 20.423598, 0.000000, -15.655108, -1.565511),
                (1.0, 3.267828, 1.565511, -6.262043, -0.626204),
                (2.0, 0.522905, 2.191715, -2.504817, -0.250482),
                (3.0, 0.083718, 2.442197, -1.001927, -0.100193),
                (9.0, 0.000064, 2.608501, -0.004104, -0.000410),
            ];
            for (step, ssr, b3, d, size) in table {
                let row = &rows[step as usize];
                assert_eq!(row[0], step);
                close(&format!("SSR at step {step}"), row[1], ssr, TOL);
                close(&format!("b3 at step {step}"), row[2], b3, TOL);
                close(&format!("dSSR/db3 at step {step}"), row[3], d, TOL);
                close(&format!("step size at step {step}"), row[4], size, 1e-5);
            }
        }
    }
);

backend_test!(
    three_parameters_take_the_lessons_first_step_and_reach_the_exact_fit,
    |backend| {
        for kernels in KERNELS {
            let config = "configs/statquest-details-pt1.toml";
            let v = squiggle(&[
                "train",
                config,
                "--json",
                "--backend",
                backend,
                "--kernels",
                kernels,
                "--max-steps",
                "1",
            ])
            .json();
            assert_eq!(v["stop_reason"], "max_steps");
            close("initial SSR", number(&v, "initial_loss"), 1.39767, TOL);
            for (name, want) in [("w3", 0.1024), ("w4", 0.5043), ("b3", -0.1900)] {
                close(name, number(&v["params"], name), want, TOL);
            }
            let v = squiggle(&[
                "train",
                config,
                "--json",
                "--backend",
                backend,
                "--kernels",
                kernels,
            ])
            .json();
            assert_eq!(v["stop_reason"], "min_step_size");
            for (name, want) in [("w3", -1.215898), ("w4", -2.303807), ("b3", 2.606661)] {
                close(name, number(&v["params"], name), want, 1e-3);
            }
            assert!(number(&v, "final_loss") < 1e-6);
        }
    }
);

backend_test!(
    all_seven_parameters_converge_to_the_pt2_network,
    |backend| {
        for kernels in KERNELS {
            let v = squiggle(&[
                "train",
                "configs/statquest-details-pt2.toml",
                "--json",
                "--backend",
                backend,
                "--kernels",
                kernels,
            ])
            .json();
            close("initial SSR", number(&v, "initial_loss"), 1.8959, TOL);
            assert_eq!(v["stop_reason"], "min_step_size");
            let steps = v["steps"].as_u64().unwrap();
            assert!(
                (7000..9500).contains(&steps),
                "about 8,000 steps, got {steps}"
            );
            // The video's values, to its three decimals.
            let want = [
                ("w1", 3.338),
                ("b1", -1.426),
                ("w2", -3.529),
                ("b2", 0.574),
                ("w3", -1.216),
                ("w4", -2.301),
                ("b3", 2.610),
            ];
            for (name, want) in want {
                close(name, number(&v["params"], name), want, 2e-3);
            }
        }
    }
);

backend_test!(gradient_descent_finds_the_least_squares_line, |backend| {
    for kernels in KERNELS {
        let v = squiggle(&[
            "train",
            "configs/gradient-descent.toml",
            "--json",
            "--backend",
            backend,
            "--kernels",
            kernels,
        ])
        .json();
        assert_eq!(v["stop_reason"], "min_step_size");
        close(
            "intercept",
            v["params"]["intercept"].as_f64().unwrap(),
            0.9487,
            1e-3,
        );
        close(
            "slope",
            v["params"]["slope"].as_f64().unwrap(),
            0.6410,
            1e-3,
        );
    }
});

#[test]
#[cfg_attr(
    not(feature = "ndarray"),
    ignore = "needs `--features ndarray`; .ci/run runs it with --include-ignored"
)]
fn backends_agree_step_for_step() {
    let run = |backend| {
        squiggle(&[
            "train",
            "configs/statquest-details-pt2.toml",
            "--json",
            "--backend",
            backend,
            "--max-steps",
            "500",
        ])
        .json()
    };
    let (flex, ndarray) = (run("flex"), run("ndarray"));
    assert_eq!(flex["steps"], 500);
    for (name, value) in flex["params"].as_object().unwrap() {
        close(
            name,
            ndarray["params"][name].as_f64().unwrap(),
            value.as_f64().unwrap(),
            TOL,
        );
    }
}
