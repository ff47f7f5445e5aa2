//! `squiggle gradcheck`: autodiff against central differences, for every parameter.

use std::io::Write;

use serde_json::json;
use squiggle_model::Precision;
use squiggle_train::{Backprop, GradCheck, check_gradients};

use super::{describe_run, load, print_json};
use crate::CheckFailed;
use crate::args::GradcheckArgs;
use crate::config::{Dtype, Overrides};
use crate::format::{cell, num};

/// Checks the gradient at the config's initial parameters; exit 1 when the worst error is
/// above the tolerance.
pub fn run(args: &GradcheckArgs) -> anyhow::Result<()> {
    // Gradient checks need f64 unless asked otherwise: f32 differences are too coarse.
    let config = load(
        &args.run,
        Overrides {
            dtype: Some(Dtype::F64),
            ..Overrides::default()
        },
    )?;
    let device = super::device(&config)?;
    let precision = config.plan.precision;
    // Central differences: truncation error ~h², rounding ~ε/h; these steps balance the two.
    let (h, default_tolerance) = match precision {
        Precision::F64 => (1e-6, 1e-6),
        Precision::F32 => (1e-2, 1e-2),
    };
    let tolerance = args.tolerance.unwrap_or(default_tolerance);
    let backprop = Backprop::new(
        &config.arch,
        &config.data,
        config.plan.loss,
        &device,
        precision,
    );
    let mut check = check_gradients(&backprop, &config.initial, h);
    if let Some(name) = &args.perturb {
        let target = config
            .names
            .resolve(name)
            .map_err(|e| anyhow::anyhow!("--perturb: {e}"))?;
        let mut autodiff = check.autodiff.clone();
        for i in config.names.indices(&target) {
            autodiff[i] *= 1.01;
        }
        check = GradCheck::new(check.loss, autodiff, check.numeric);
    }
    let (worst, error) = check.worst();
    let worst_name = config.names.name(worst);
    let passed = error <= tolerance;
    if args.run.json {
        let params: Vec<_> = (0..check.autodiff.len())
            .map(|i| {
                json!({
                    "name": config.names.name(i),
                    "autodiff": check.autodiff[i],
                    "finite_difference": check.numeric[i],
                    "error": check.errors[i],
                })
            })
            .collect();
        print_json(&json!({
            "backend": config.backend.name(),
            "dtype": precision.name(),
            "h": h,
            "tolerance": tolerance,
            "worst": {"name": worst_name, "error": error},
            "passed": passed,
            "params": params,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Gradient check of {} at its initial parameters: central differences with h = {h:e}.",
            describe_run(&config)
        )?;
        writeln!(out)?;
        let width = config
            .names
            .names()
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(9);
        writeln!(
            out,
            "  {:<width$}{}{}{}",
            "parameter",
            cell("autodiff"),
            cell("numeric"),
            cell("error")
        )?;
        for i in 0..check.autodiff.len() {
            writeln!(
                out,
                "  {:<width$}{}{}{}",
                config.names.name(i),
                cell(&num(check.autodiff[i])),
                cell(&num(check.numeric[i])),
                cell(&format!("{:.1e}", check.errors[i]))
            )?;
        }
        writeln!(out)?;
        let verdict = if passed { "PASS" } else { "FAIL" };
        writeln!(
            out,
            "Worst error {error:.1e} ({worst_name}), tolerance {tolerance:e}: {verdict}."
        )?;
    }
    if passed {
        Ok(())
    } else {
        Err(CheckFailed(format!(
            "gradient check failed: error {error:.1e} for {worst_name} exceeds the tolerance {tolerance:e}"
        ))
        .into())
    }
}
