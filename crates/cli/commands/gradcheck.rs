//! `squiggle gradcheck`: autodiff against central differences, for every parameter.

use serde_json::json;
use squiggle_model::{Named, Precision};
use squiggle_train::{Backprop, check_gradients, kinks};

use crate::CheckFailed;
use crate::args::GradcheckArgs;
use crate::config::Overrides;
use crate::output::format::{cell, num};
use crate::output::{print_json, print_lines};
use crate::session::Session;

/// Checks the gradient on the training rows at the config's initial parameters (or a run's
/// checkpoint); exit 1 when an error is beyond its allowance.
pub fn run(args: &GradcheckArgs) -> anyhow::Result<()> {
    // Gradient checks need f64 unless asked otherwise: f32 differences are too coarse.
    let session = Session::open(
        &args.run,
        &args.select,
        Overrides {
            precision: Some(Precision::F64),
            ..Overrides::default()
        },
    )?;
    let config = &session.config;
    let precision = config.plan.precision();
    // Central differences: truncation error ~h², rounding ~ε/h; these steps balance the two.
    let (h, default_tolerance) = match precision {
        Precision::F64 => (1e-6, 1e-6),
        Precision::F32 => (1e-2, 1e-2),
    };
    let tolerance = args.tolerance.unwrap_or(default_tolerance);
    let rows = session.data.train_data();
    let backprop = Backprop::new(
        &config.arch,
        &rows,
        config.plan.loss(),
        &session.device,
        precision,
    );
    let mut check = check_gradients(&backprop, &session.params, h, tolerance)?;
    let at_kink = kinks(&config.arch, &session.params, &rows, &check.steps);
    check = check.with_kinks(at_kink);
    if let Some(name) = &args.perturb {
        let target = config
            .names
            .resolve(name)
            .map_err(|e| anyhow::anyhow!("--perturb: {e}"))?;
        let mut autodiff = check.autodiff.clone();
        for i in config.names.indices(&target) {
            autodiff[i] *= 1.01;
        }
        check = check.with_autodiff(autodiff);
    }
    let (worst, error) = check.worst();
    let worst_name = config.names.name(worst);
    let allowed = check.allowed[worst];
    let passed = check.passed();
    // Where rounding in the loss allows more than the tolerance, say so.
    let limit = if allowed > tolerance {
        format!("allowed {allowed:.1e} there (rounding in the loss), tolerance {tolerance:e}")
    } else {
        format!("tolerance {tolerance:e}")
    };
    if args.run.flags.json {
        let params: Vec<_> = (0..check.autodiff.len())
            .map(|i| {
                json!({
                    "name": config.names.name(i),
                    "autodiff": check.autodiff[i],
                    "finite_difference": check.numeric[i],
                    "h": check.steps[i],
                    "error": check.errors[i],
                    "allowed": check.allowed[i],
                    "kink": check.at_kink(i),
                })
            })
            .collect();
        print_json(&json!({
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "rows": rows.len(),
            "h": h,
            "tolerance": tolerance,
            "worst": {"name": worst_name, "error": error, "allowed": allowed},
            "passed": passed,
            "params": params,
        }))?;
    } else {
        let width = config
            .names
            .names()
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(9);
        let mut lines = vec![
            format!(
                "Gradient check of {}{}: central differences with h = {h:e} (times |θ| where |θ| > 1).",
                session.describe(),
                // By epochs the description says which parameters; step by step, these.
                if session.config.by_epochs() {
                    ""
                } else {
                    " at its initial parameters"
                }
            ),
            String::new(),
            format!(
                "  {:<width$}{}{}{}",
                "parameter",
                cell("autodiff"),
                cell("numeric"),
                cell("error")
            ),
        ];
        for i in 0..check.autodiff.len() {
            let kink = if check.at_kink(i) { "  at a kink" } else { "" };
            lines.push(format!(
                "  {:<width$}{}{}{}{kink}",
                config.names.name(i),
                cell(&num(check.autodiff[i])),
                cell(&num(check.numeric[i])),
                cell(&format!("{:.1e}", check.errors[i]))
            ));
        }
        lines.push(String::new());
        let at_kinks: Vec<&str> = (0..check.autodiff.len())
            .filter(|&i| check.at_kink(i))
            .map(|i| config.names.name(i))
            .collect();
        if !at_kinks.is_empty() {
            lines.push(format!(
                "Not judged: {} at a ReLU kink. A nudge of ±h moves a unit across 0 on some row, where the loss has no derivative: autodiff takes ReLU′(0) = 0, the finite difference averages the slopes on either side.",
                at_kinks.join(", ")
            ));
        }
        let verdict = if passed { "PASS" } else { "FAIL" };
        lines.push(format!(
            "Worst error {error:.1e} ({worst_name}), {limit}: {verdict}."
        ));
        print_lines(&lines)?;
    }
    if passed {
        Ok(())
    } else {
        let exceeds = if allowed > tolerance {
            format!("its allowance {allowed:.1e}")
        } else {
            format!("the tolerance {tolerance:e}")
        };
        Err(CheckFailed(format!(
            "gradient check failed: error {error:.1e} for {worst_name} exceeds {exceeds}"
        ))
        .into())
    }
}
