//! `squiggle bench`: the training core timed on fixed work, on every compiled backend with
//! both kernels (Burn's autodiff of the module, and squiggle's fused kernels), beside the
//! plain-Rust baseline doing the same work in the same run.
//!
//! Each repeat times every case on the baseline and then on each backend and kernels, so a
//! machine whose speed drifts slows them alike; the table shows medians, and each figure as a
//! ratio to the baseline's (its speed relative to the baseline: 0.5× takes twice as long).
//! The baseline and the fused kernels are gradients written by hand; the Burn columns are what
//! Burn computes by itself.

use std::io::{IsTerminal, Write};

use serde_json::json;
use squiggle_model::Named;
use squiggle_train::Kernels;
use squiggle_train::bench::{Timing, Unit, Work, run_baseline, run_core};

use crate::args::BenchArgs;
use crate::backend::{Backend, Open};
use squiggle_train::format::thousands;

/// One case's medians: the baseline's, then one per column.
struct Row {
    work: Work,
    baseline: f64,
    columns: Vec<f64>,
}

/// What one column times: a backend computing with some kernels.
#[derive(Clone, Copy)]
struct Column {
    backend: Backend,
    kernels: Kernels,
}

impl Column {
    /// `flex fused`, `wgpu burn`.
    fn name(&self) -> String {
        format!("{} {}", self.backend.name(), self.kernels.name())
    }
}

/// The figure a table shows for `timing`: µs per step, or million samples per second.
fn figure(unit: Unit, timing: &Timing) -> f64 {
    match unit {
        Unit::Step => timing.micros_per_unit(),
        Unit::Sample => timing.per_second() / 1e6,
    }
}

/// How fast `value` is relative to `baseline` (both figures of `unit`): above 1, faster.
fn speed_ratio(unit: Unit, value: f64, baseline: f64) -> f64 {
    match unit {
        Unit::Step => baseline / value,
        Unit::Sample => value / baseline,
    }
}

/// `x` with three significant digits (`0.00512`, `17.7`, `112`), the precision a timing
/// on a noisy machine has.
fn significant(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return format!("{x}");
    }
    let decimals = (2 - x.log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// `lesson step (Details Pt. 2)`, `1-[64]-1, batch 1024, 100,000 rows`.
fn describe(work: &Work) -> String {
    match *work {
        Work::Lesson { .. } => "lesson step (Details Pt. 2)".to_string(),
        Work::Epochs {
            hidden,
            batch,
            rows,
            ..
        } => format!("1-[{hidden}]-1, batch {batch}, {} rows", thousands(rows)),
    }
}

fn unit_name(unit: Unit) -> (&'static str, &'static str) {
    match unit {
        Unit::Step => ("µs/step", "us_per_step"),
        Unit::Sample => ("M samples/s", "million_samples_per_s"),
    }
}

/// `chosen` without repeats, or `all` when nothing was chosen.
fn distinct<T: Copy + PartialEq>(chosen: &[T], all: impl Iterator<Item = T>) -> Vec<T> {
    if chosen.is_empty() {
        return all.collect();
    }
    let mut out = Vec::new();
    for &c in chosen {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Times every case and prints the table (or `--json`).
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let backends = distinct(
        &args.backends,
        Backend::ALL.iter().copied().filter(|b| b.compiled()),
    );
    // Burn's own kernels first: the reference, then what the fused kernels make of it.
    let kernels = distinct(&args.kernels, [Kernels::Burn, Kernels::Fused].into_iter());
    let devices = backends
        .iter()
        .map(|b| b.device())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let columns: Vec<(Column, &burn::prelude::Device)> = backends
        .iter()
        .zip(&devices)
        .flat_map(|(&backend, device)| {
            kernels
                .iter()
                .map(move |&kernels| (Column { backend, kernels }, device))
        })
        .collect();
    let cases = Work::cases(
        args.rows as usize,
        args.large_rows as usize,
        args.lesson_steps as usize,
    );
    // On a terminal, say what is being timed (a software GPU adapter takes minutes).
    let progress = std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    for work in cases {
        let data = work.data();
        let unit = work.unit();
        let mut baseline = Vec::new();
        let mut timings = vec![Vec::new(); columns.len()];
        for run in 1..=args.repeats {
            baseline.push(figure(unit, &run_baseline(work, &data).0));
            for (k, (column, device)) in columns.iter().enumerate() {
                let on = format!("{} on {}", describe(&work), column.name());
                if progress {
                    eprint!("\r\x1b[Ksquiggle bench: {on}, run {run}/{}", args.repeats);
                }
                let (timing, _) = run_core(work, &data, device, column.kernels)
                    .map_err(|e| anyhow::anyhow!("{on}: {e}"))?;
                timings[k].push(figure(unit, &timing));
            }
        }
        rows.push(Row {
            work,
            baseline: median(baseline),
            columns: timings.into_iter().map(median).collect(),
        });
    }
    if progress {
        eprint!("\r\x1b[K");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let columns: Vec<Column> = columns.into_iter().map(|(c, _)| c).collect();
    if args.json {
        print_json(args, &columns, &rows, cores)
    } else {
        print_table(args, &columns, &rows, cores)
    }
}

fn print_json(
    args: &BenchArgs,
    columns: &[Column],
    rows: &[Row],
    cores: usize,
) -> anyhow::Result<()> {
    let cases: Vec<_> = rows
        .iter()
        .map(|row| {
            let unit = row.work.unit();
            let mut figures = serde_json::Map::new();
            for (c, &v) in columns.iter().zip(&row.columns) {
                let backend = figures
                    .entry(c.backend.name().to_string())
                    .or_insert_with(|| json!({}));
                backend[c.kernels.name()] =
                    json!({"value": v, "ratio": speed_ratio(unit, v, row.baseline)});
            }
            json!({
                "case": describe(&row.work),
                "unit": unit_name(unit).1,
                "baseline": row.baseline,
                "backends": figures,
            })
        })
        .collect();
    let out = json!({
        "repeats": args.repeats,
        "cores": cores,
        "threads": rayon::current_num_threads(),
        "dtype": "f32",
        "cases": cases,
    });
    writeln!(std::io::stdout().lock(), "{out}")?;
    Ok(())
}

fn print_table(
    args: &BenchArgs,
    columns: &[Column],
    rows: &[Row],
    cores: usize,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Training timed on fixed work, f32, median of {} on {} CPU cores; `burn` is Burn's autodiff of the module, `fused` squiggle's hand-written kernels; in brackets the speed relative to the baseline (closed-form gradients in plain Rust, no Burn, the same work).",
        if args.repeats == 1 {
            "1 run".to_string()
        } else {
            format!("{} runs", args.repeats)
        },
        cores
    )?;
    writeln!(out)?;
    let mut header = format!("{:<40} {:>12} {:>12}", "case", "unit", "baseline");
    for c in columns {
        header += &format!(" {:>20}", c.name());
    }
    writeln!(out, "{header}")?;
    for row in rows {
        let unit = row.work.unit();
        let mut line = format!(
            "{:<40} {:>12} {:>12}",
            describe(&row.work),
            unit_name(unit).0,
            significant(row.baseline)
        );
        for &v in &row.columns {
            let cell = format!(
                "{} ({}×)",
                significant(v),
                significant(speed_ratio(unit, v, row.baseline))
            );
            line += &format!(" {cell:>20}");
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_keep_three_significant_digits() {
        assert_eq!(significant(0.0051234), "0.00512");
        assert_eq!(significant(17.74), "17.7");
        assert_eq!(significant(111.691), "112");
        assert_eq!(significant(2.5), "2.50");
    }

    #[test]
    fn medians_and_ratios() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        // Twice the baseline's µs per step is half its speed; twice its samples per second
        // is twice its speed.
        assert_eq!(speed_ratio(Unit::Step, 2.0, 1.0), 0.5);
        assert_eq!(speed_ratio(Unit::Sample, 2.0, 1.0), 2.0);
        let t = Timing {
            units: 4,
            seconds: 2e-6,
        };
        assert_eq!(figure(Unit::Step, &t), 0.5);
        assert_eq!(figure(Unit::Sample, &t), 2.0);
    }
}
