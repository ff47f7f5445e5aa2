//! `--trace FILE`: every step of a run step by step, as CSV or JSON Lines.
//!
//! CSV: a header `step,loss,NAME,d_NAME,step_NAME,…` (value, derivative and step size of each
//! trainable parameter), then one row per step; under a learning-rate schedule a
//! `learning_rate` column follows `loss`.
//!
//! JSON Lines, one object per line, each `{"type": …, "data": {…}}`:
//! - `{"type":"step","data":{"step":0,"loss":20.42,"learning_rate":0.1,"params":[{"name":"b3","value":0,
//!   "derivative":-15.66,"step_size":-1.566,"new_value":1.566}]}}` for every step;
//! - `{"type":"end","data":{"steps":10,"stop_reason":"min_step_size","initial_loss":20.42,
//!   "final_loss":6.3e-5,"params":{…}}}` once at the end (`params` as in `--json`).
//!
//! The file is written to a temporary file and appears only when the run finishes.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use squiggle_model::Precision;
use squiggle_train::{Outcome, Schedule, StepRecord};

use crate::files::AtomicFile;
use squiggle_config::Config;
use squiggle_train::format::{exact, params_json};

enum Format {
    Csv,
    Jsonl,
}

/// A trace file being written.
pub struct Trace {
    file: AtomicFile,
    format: Format,
    precision: Precision,
    names: Vec<String>,
    scheduled: bool,
}

impl Trace {
    /// Creates the trace at `path`, in the format of its extension.
    ///
    /// # Errors
    /// Another extension, or a file that cannot be created.
    pub fn create(path: &Path, config: &Config) -> anyhow::Result<Self> {
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("jsonl") => Format::Jsonl,
            _ => anyhow::bail!(
                "--trace `{}`: the file name must end in .csv or .jsonl",
                path.display()
            ),
        };
        let names = config.trainable_names();
        let scheduled = *config.plan.schedule() != Schedule::Constant;
        let mut file = AtomicFile::create(path)?;
        if let Format::Csv = format {
            let mut header = vec!["step".to_string(), "loss".to_string()];
            if scheduled {
                header.push("learning_rate".to_string());
            }
            for name in &names {
                header.extend([name.clone(), format!("d_{name}"), format!("step_{name}")]);
            }
            writeln!(file, "{}", header.join(","))?;
        }
        Ok(Self {
            file,
            format,
            precision: config.plan.precision(),
            names,
            scheduled,
        })
    }

    /// Writes one step.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&mut self, record: &StepRecord) -> anyhow::Result<()> {
        let x = |v: f64| exact(v, self.precision);
        match self.format {
            Format::Csv => {
                let mut row = format!("{},{}", record.step, x(record.loss));
                if self.scheduled {
                    row.push_str(&format!(",{}", x(record.learning_rate)));
                }
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
                    "learning_rate": x(record.learning_rate),
                    "params": params,
                }});
                writeln!(self.file, "{line}")?;
            }
        }
        Ok(())
    }

    /// Writes the end line (JSON Lines) and moves the file into place.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn finish(mut self, config: &Config, outcome: &Outcome) -> anyhow::Result<()> {
        if let Format::Jsonl = self.format {
            let x = |v: f64| exact(v, self.precision);
            let (initial, last) = outcome.losses().expect("a trace is of a run step by step");
            let line = json!({"type": "end", "data": {
                "steps": outcome.steps,
                "stop_reason": outcome.stop.name(),
                "verdict": outcome.verdict.name(),
                "initial_loss": x(initial),
                "final_loss": x(last),
                "params": params_json(&config.names, &outcome.params, self.precision),
            }});
            writeln!(self.file, "{line}")?;
        }
        self.file.commit()
    }
}
