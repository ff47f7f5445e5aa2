//! `squiggle train`: gradient descent with the lesson's step table.

use std::collections::VecDeque;
use std::io::Write;

use serde_json::json;
use squiggle_model::Precision;
use squiggle_train::{Outcome, StepRecord, StopReason};

use super::{describe_run, load, print_json};
use crate::args::TrainArgs;
use crate::config::{Config, Overrides};
use crate::files::AtomicFile;
use crate::format::{cell, exact, num, param_lines, params_json};

/// Steps printed before the elision in long runs, and after it.
const HEAD_STEPS: usize = 10;
const TAIL_STEPS: usize = 5;

/// Tables with at most this many trainable parameters print one wide row per step.
const WIDE_TABLE_MAX_PARAMS: usize = 3;

/// Trains, streaming the step table (and the trace file) as the steps happen.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let config = load(
        &args.run,
        Overrides {
            learning_rate: args.learning_rate,
            max_steps: args.max_steps,
            epochs: args.epochs.map(|e| e as usize),
            ..Overrides::default()
        },
    )?;
    if let Some(plan) = config.fit.clone() {
        for (flag, given) in [
            ("--trace", args.trace.is_some()),
            ("--plot", args.plot.is_some()),
            ("--max-steps", args.max_steps.is_some()),
            ("--all-steps", args.all_steps),
        ] {
            if given {
                anyhow::bail!(
                    "{flag} shows step-by-step training; `{}` trains by epochs (see metrics.csv in --run-dir)",
                    args.run.config.display()
                );
            }
        }
        return super::epochs::run(args, config, plan);
    }
    for (flag, given) in [
        ("--run-dir", args.run_dir.is_some()),
        ("--resume", args.resume.is_some()),
    ] {
        if given {
            anyhow::bail!(
                "{flag} keeps runs that train by epochs; `{}` has no `[train] epochs` (add it, or pass --epochs N)",
                args.run.config.display()
            );
        }
    }
    let device = super::device(&config)?;
    let landscape_param = match &args.plot {
        Some(_) => Some(super::plot::landscape_param(&config, &args.plots)?),
        None => None,
    };
    let mut trace = match &args.trace {
        Some(path) => Some(Trace::create(path, &config)?),
        None => None,
    };
    let mut records = Vec::new();
    let mut table = (!args.run.json).then(|| StepTable::new(&config, args.all_steps));
    if let Some(table) = &table {
        table.print_intro(&config, &describe_run(&config))?;
    }
    // The callback cannot return errors; keep the first one and report it after the run.
    let mut write_error: Option<anyhow::Error> = None;
    let outcome = super::train(&config, &config.plan, &device, |record| {
        if write_error.is_some() {
            return;
        }
        let result = (|| {
            if let Some(trace) = &mut trace {
                trace.write(record)?;
            }
            if let Some(table) = &mut table {
                table.push(record)?;
            }
            if landscape_param.is_some() {
                records.push(record.clone());
            }
            anyhow::Ok(())
        })();
        write_error = result.err();
    })?;
    if let Some(err) = write_error {
        return Err(err);
    }
    if let Some(trace) = trace {
        trace.finish(&config, &outcome)?;
    }
    match table {
        Some(table) => table.finish(&config, &outcome)?,
        None => print_json(&summary_json(&config, &outcome))?,
    }
    if let (Some(dir), Some(param)) = (&args.plot, landscape_param) {
        let written = super::plot::draw(&config, &records, &outcome, param, dir, &args.plots)?;
        if !args.run.json {
            super::plot::report(&written)?;
        }
    }
    Ok(())
}

fn summary_json(config: &Config, outcome: &Outcome) -> serde_json::Value {
    let trainable = config.trainable_names();
    let precision = config.plan.precision;
    json!({
        "steps": outcome.steps,
        "stop_reason": outcome.stop_reason.name(),
        "initial_loss": exact(outcome.initial_loss, precision),
        "final_loss": exact(outcome.final_loss, precision),
        "backend": config.backend.name(),
        "dtype": config.plan.precision.name(),
        "loss_function": config.plan.loss.name(),
        "learning_rate": config.plan.learning_rate,
        "trainable": trainable,
        "params": params_json(&config.arch, &config.names, &outcome.params, precision),
    })
}

/// The step table, printed as the run goes: the first steps at once, the last ones at the end.
struct StepTable {
    loss_symbol: &'static str,
    names: Vec<String>,
    wide: bool,
    all_steps: bool,
    tail: VecDeque<StepRecord>,
    hidden: usize,
}

impl StepTable {
    fn new(config: &Config, all_steps: bool) -> Self {
        let names = config.trainable_names();
        Self {
            loss_symbol: config.plan.loss.symbol(),
            wide: names.len() <= WIDE_TABLE_MAX_PARAMS,
            names,
            all_steps,
            tail: VecDeque::new(),
            hidden: 0,
        }
    }

    fn print_intro(&self, config: &Config, run: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        let stop = &config.plan.stop;
        let mut rules = vec![format!("after {}", plural(stop.max_steps, "step"))];
        if stop.min_step_size > 0.0 {
            rules.push(format!("when every |step size| < {}", stop.min_step_size));
        }
        if let Some(t) = stop.target_loss {
            rules.push(format!("when {} ≤ {t}", self.loss_symbol));
        }
        writeln!(out, "Training {} of {run}.", list(&self.names))?;
        writeln!(
            out,
            "Loss {}, learning rate {}; stop {}.",
            self.loss_symbol,
            config.plan.learning_rate,
            rules.join(" or ")
        )?;
        writeln!(out)?;
        writeln!(out, "{}", self.header())?;
        Ok(())
    }

    fn header(&self) -> String {
        let l = self.loss_symbol;
        let mut cells = vec![format!("{:>5}", "step"), cell(l)];
        if self.wide {
            for name in &self.names {
                cells.push(cell(name));
                cells.push(cell(&format!("d{l}/d{name}")));
                let step = if self.names.len() == 1 {
                    "step size".to_string()
                } else {
                    format!("step {name}")
                };
                cells.push(cell(&step));
            }
        } else {
            cells.push(format!("  {:<12}", "parameter"));
            for title in ["value", &format!("d{l}/dparam"), "step size"] {
                cells.push(cell(title));
            }
        }
        cells.concat()
    }

    fn rows(&self, record: &StepRecord) -> Vec<String> {
        let lead = format!("{:>5}{}", record.step, cell(&num(record.loss)));
        if self.wide {
            let mut line = lead;
            for p in &record.params {
                for x in [p.value, p.derivative, p.step] {
                    line.push_str(&cell(&num(x)));
                }
            }
            vec![line]
        } else {
            let blank = " ".repeat(lead.len());
            record
                .params
                .iter()
                .zip(&self.names)
                .enumerate()
                .map(|(k, (p, name))| {
                    format!(
                        "{}  {name:<12}{}{}{}",
                        if k == 0 { &lead } else { &blank },
                        cell(&num(p.value)),
                        cell(&num(p.derivative)),
                        cell(&num(p.step))
                    )
                })
                .collect()
        }
    }

    fn push(&mut self, record: &StepRecord) -> anyhow::Result<()> {
        if self.all_steps || record.step < HEAD_STEPS {
            return print_lines(&self.rows(record));
        }
        self.tail.push_back(record.clone());
        if self.tail.len() > TAIL_STEPS {
            self.tail.pop_front();
            self.hidden += 1;
        }
        Ok(())
    }

    fn finish(self, config: &Config, outcome: &Outcome) -> anyhow::Result<()> {
        let mut lines = Vec::new();
        if self.hidden > 0 {
            lines.push(format!(
                "  … {} steps not shown (--all-steps prints every step) …",
                self.hidden
            ));
        }
        for record in &self.tail {
            lines.extend(self.rows(record));
        }
        lines.push(String::new());
        let stop = &config.plan.stop;
        let steps = plural(outcome.steps, "step");
        lines.push(match outcome.stop_reason {
            StopReason::MinStepSize => format!(
                "Stopped by min_step_size after {steps}: every |step size| < {}.",
                stop.min_step_size
            ),
            StopReason::MaxSteps => format!("Stopped by max_steps after {steps}."),
            StopReason::TargetLoss => format!(
                "Stopped by target_loss after {steps}: {} ≤ {}.",
                self.loss_symbol,
                stop.target_loss.unwrap_or_default()
            ),
        });
        lines.push(String::new());
        lines.push("Final parameters:".to_string());
        let frozen: Vec<bool> = config.plan.trainable.iter().map(|t| !t).collect();
        lines.extend(param_lines(&config.names, &outcome.params, &frozen));
        lines.push(String::new());
        lines.push(format!(
            "{}: {} → {}",
            self.loss_symbol,
            num(outcome.initial_loss),
            num(outcome.final_loss)
        ));
        print_lines(&lines)
    }
}

fn print_lines(lines: &[String]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `1 step`, `10 steps`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `b3`, `w3 and b3`, `w1, w2 and b3`; long lists are counted instead.
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        _ if names.len() > 8 => format!("{} parameters", names.len()),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `--trace FILE`: CSV or JSON Lines, by the file's extension.
///
/// CSV: a header `step,loss,NAME,d_NAME,step_NAME,…` (value, derivative and step size of each
/// trainable parameter), then one row per step.
///
/// JSON Lines, one object per line, each `{"type": …, "data": {…}}`:
/// - `{"type":"step","data":{"step":0,"loss":20.42,"params":[{"name":"b3","value":0,
///   "derivative":-15.66,"step_size":-1.566,"new_value":1.566}]}}` for every step;
/// - `{"type":"end","data":{"steps":10,"stop_reason":"min_step_size","initial_loss":20.42,
///   "final_loss":6.3e-5,"params":{…}}}` once at the end (`params` as in `--json`).
enum Format {
    Csv,
    Jsonl,
}

struct Trace {
    file: AtomicFile,
    format: Format,
    precision: Precision,
    names: Vec<String>,
}

impl Trace {
    fn create(path: &std::path::Path, config: &Config) -> anyhow::Result<Self> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("jsonl") => Format::Jsonl,
            _ => anyhow::bail!(
                "--trace `{}`: the file name must end in .csv or .jsonl",
                path.display()
            ),
        };
        let names = config.trainable_names();
        let mut file = AtomicFile::create(path)?;
        if let Format::Csv = format {
            let mut header = vec!["step".to_string(), "loss".to_string()];
            for name in &names {
                header.extend([name.clone(), format!("d_{name}"), format!("step_{name}")]);
            }
            writeln!(file, "{}", header.join(","))?;
        }
        Ok(Self {
            file,
            format,
            precision: config.plan.precision,
            names,
        })
    }

    fn write(&mut self, record: &StepRecord) -> anyhow::Result<()> {
        let x = |v: f64| exact(v, self.precision);
        match self.format {
            Format::Csv => {
                let mut row = format!("{},{}", record.step, x(record.loss));
                for p in &record.params {
                    row.push_str(&format!(
                        ",{},{},{}",
                        x(p.value),
                        x(p.derivative),
                        x(p.step)
                    ));
                }
                writeln!(self.file, "{row}")?;
            }
            Format::Jsonl => {
                let params: Vec<serde_json::Value> = record
                    .params
                    .iter()
                    .zip(&self.names)
                    .map(|(p, name)| {
                        json!({
                            "name": name,
                            "value": x(p.value),
                            "derivative": x(p.derivative),
                            "step_size": x(p.step),
                            "new_value": x(p.new_value),
                        })
                    })
                    .collect();
                let line = json!({"type": "step", "data": {
                    "step": record.step,
                    "loss": x(record.loss),
                    "params": params,
                }});
                writeln!(self.file, "{line}")?;
            }
        }
        Ok(())
    }

    fn finish(mut self, config: &Config, outcome: &Outcome) -> anyhow::Result<()> {
        if let Format::Jsonl = self.format {
            let x = |v: f64| exact(v, self.precision);
            let line = json!({"type": "end", "data": {
                "steps": outcome.steps,
                "stop_reason": outcome.stop_reason.name(),
                "initial_loss": x(outcome.initial_loss),
                "final_loss": x(outcome.final_loss),
                "params": params_json(&config.arch, &config.names, &outcome.params, self.precision),
            }});
            writeln!(self.file, "{line}")?;
        }
        self.file.commit()
    }
}
