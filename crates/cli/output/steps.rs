//! Step-by-step training as the lesson shows it: the step table, the stopping rule that
//! fired, the final parameters, and the `--json` summary.

use std::collections::VecDeque;

use serde_json::json;
use squiggle_model::Named;
use squiggle_train::{
    Cause, Divergence, LossKind, Optimizer, Outcome, STALLED_R2, Schedule, StepRecord,
    StepsSummary, StopReason, Verdict,
};

use super::print_lines;
use squiggle_config::Config;
use squiggle_train::format::{
    cell, elision, exact, list, num, param_lines, params_json, plural, short_number,
};

/// Steps printed before the elision in long runs, and after it.
const HEAD_STEPS: usize = 10;
const TAIL_STEPS: usize = 5;

/// Tables with at most this many trainable parameters print one wide row per step.
const WIDE_TABLE_MAX_PARAMS: usize = 3;

/// What turns a step's loss into R²: the loss, the number of observed values, and their
/// total sum of squares about the column means.
#[derive(Clone, Copy, Debug)]
pub struct RSquared {
    /// The loss of the run.
    pub loss: LossKind,
    /// Observed values (rows × outputs).
    pub values: usize,
    /// `Σ (observed − mean)²`.
    pub total: f64,
}

impl RSquared {
    /// R² of a loss, `None` where the targets do not vary.
    pub fn of(&self, loss: f64) -> Option<f64> {
        self.loss.r_squared(loss, self.values, self.total)
    }
}

/// The step table, printed as the run goes: the first steps at once, the last ones at the end.
pub struct StepTable {
    loss_symbol: &'static str,
    r2: Option<RSquared>,
    names: Vec<String>,
    /// The width of the parameter column of the tall layout.
    name_width: usize,
    /// The width of each value column of the wide layout (long names widen them all).
    column_width: usize,
    wide: bool,
    /// The learning rate changes from step to step: the table shows it.
    scheduled: bool,
    all_steps: bool,
    tail: VecDeque<StepRecord>,
    hidden: usize,
}

impl StepTable {
    /// A table for `config`'s trainable parameters; `all_steps` prints every row; `r2`
    /// adds an R² column (for data sets, where it says how much of the data the fit explains).
    pub fn new(config: &Config, all_steps: bool, r2: Option<RSquared>) -> Self {
        let names = config.trainable_names();
        Self {
            loss_symbol: config.plan.loss().symbol(),
            r2,
            wide: names.len() <= WIDE_TABLE_MAX_PARAMS,
            scheduled: *config.plan.schedule() != Schedule::Constant,
            name_width: names
                .iter()
                .map(|n| n.chars().count())
                .max()
                .unwrap_or(0)
                .max(12),
            column_width: names
                .iter()
                .flat_map(|n| wide_titles(config.plan.loss().symbol(), n, names.len()))
                .map(|t| t.chars().count())
                .max()
                .unwrap_or(0)
                .max(11),
            names,
            all_steps,
            tail: VecDeque::new(),
            hidden: 0,
        }
    }

    /// The lines before the first step: what trains, the rules, the column titles. `run`
    /// describes the network and data (`a 1-[2]-1 softplus network on 3 data points …`).
    ///
    /// # Errors
    /// Stdout cannot be written.
    pub fn print_intro(
        &self,
        config: &Config,
        run: &str,
        read: Option<&squiggle_config::DataRead>,
    ) -> anyhow::Result<()> {
        let stop = config
            .plan
            .stop_rules()
            .expect("the step table shows training step by step");
        let mut rules = vec![format!("after {}", plural(stop.max_steps, "step"))];
        if stop.min_step_size > 0.0 {
            rules.push(format!(
                "when every |step size| < {}",
                short_number(stop.min_step_size)
            ));
        }
        if let Some(t) = stop.target_loss {
            rules.push(format!("when {} ≤ {}", self.loss_symbol, short_number(t)));
        }
        // The lessons' plain rule goes without saying; another optimizer is named.
        let optimizer = match config.plan.optimizer() {
            Optimizer::GradientDescent => String::new(),
            other => format!(", {other}"),
        };
        let schedule = match *config.plan.schedule() {
            Schedule::Constant => String::new(),
            Schedule::Step { every, gamma } => {
                format!(" (× {gamma} every {})", plural(every, "step"))
            }
            Schedule::Cosine { min_lr } => format!(
                " (a cosine down to {min_lr} over {})",
                plural(stop.max_steps, "step")
            ),
        };
        let mut lines = vec![
            format!("Training {} of {run}.", list(&self.names)),
            format!(
                "Loss {}, learning rate {}{schedule}{optimizer}; stop {}.",
                self.loss_symbol,
                config.plan.learning_rate(),
                rules.join(" or ")
            ),
        ];
        // A file's rows: how long reading took, and any left out or filled.
        lines.extend(read.map(super::epochs::read_line));
        lines.extend([String::new(), self.header()]);
        print_lines(&lines)
    }

    fn header(&self) -> String {
        let l = self.loss_symbol;
        let mut cells = vec![format!("{:>5}", "step"), cell(l)];
        if self.r2.is_some() {
            cells.push(cell("R²"));
        }
        if self.scheduled {
            cells.push(cell("lr"));
        }
        if self.wide {
            for name in &self.names {
                for title in wide_titles(l, name, self.names.len()) {
                    cells.push(format!(" {title:>w$}", w = self.column_width));
                }
            }
        } else {
            cells.push(format!("  {:<w$}", "parameter", w = self.name_width));
            for title in ["value", &format!("d{l}/dparam"), "step size"] {
                cells.push(cell(title));
            }
        }
        cells.concat()
    }

    fn rows(&self, record: &StepRecord) -> Vec<String> {
        let mut lead = format!("{:>5}{}", record.step, cell(&num(record.loss)));
        if let Some(r2) = &self.r2 {
            lead.push_str(&cell(&r2.of(record.loss).map_or("-".to_string(), num)));
        }
        if self.scheduled {
            lead.push_str(&cell(&num(record.learning_rate)));
        }
        if self.wide {
            let mut line = lead;
            for p in &record.params {
                for x in [p.value, p.derivative, p.step] {
                    line.push_str(&format!(" {:>w$}", num(x), w = self.column_width));
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
                        "{}  {name:<w$}{}{}{}",
                        if k == 0 { &lead } else { &blank },
                        cell(&num(p.value)),
                        cell(&num(p.derivative)),
                        cell(&num(p.step)),
                        w = self.name_width
                    )
                })
                .collect()
        }
    }

    /// Shows one step: at once among the first steps, later (if among the last) otherwise.
    ///
    /// # Errors
    /// Stdout cannot be written.
    pub fn push(&mut self, record: &StepRecord) -> anyhow::Result<()> {
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

    /// The last steps, the rule that stopped the run, the final parameters and the loss.
    ///
    /// # Errors
    /// Stdout cannot be written.
    pub fn finish(self, config: &Config, outcome: &Outcome) -> anyhow::Result<()> {
        let mut lines = Vec::new();
        if self.hidden > 0 {
            lines.push(elision(self.hidden, "step", "--all-steps"));
        }
        for record in &self.tail {
            lines.extend(self.rows(record));
        }
        let summary = outcome.steps_summary().expect("a run step by step");
        lines.push(String::new());
        if outcome.verdict != Verdict::Diverged {
            lines.push(stop_sentence(config, outcome));
        }
        lines.extend(verdict_lines(config, outcome, summary));
        lines.push(String::new());
        lines.push(match &summary.divergence {
            Some(Divergence {
                cause: Cause::NonFinite { .. },
                ..
            }) => "The last parameters whose loss was finite:".to_string(),
            Some(d) => format!("The parameters at step {}:", d.step),
            None => "Final parameters:".to_string(),
        });
        let frozen: Vec<bool> = config.plan.trainable().iter().map(|t| !t).collect();
        lines.extend(param_lines(&config.names, &outcome.params, &frozen));
        lines.push(String::new());
        let mut last = format!(
            "{}: {} → {}",
            self.loss_symbol,
            num(summary.initial_loss),
            num(summary.final_loss)
        );
        if let (Some(_), Some(r2)) = (&self.r2, summary.r2) {
            last += &format!("  (R² {})", num(r2));
        }
        lines.push(last);
        print_lines(&lines)
    }
}

/// The wide layout's three titles for parameter `name`: its value, its derivative, its step.
fn wide_titles(loss: &str, name: &str, params: usize) -> [String; 3] {
    let step = if params == 1 {
        "step size".to_string()
    } else {
        format!("step {name}")
    };
    [name.to_string(), format!("d{loss}/d{name}"), step]
}

/// What the run achieved: converged, stalled (with what to change), finished, or diverged
/// (with how); and the lowest loss when the run ended above it.
fn verdict_lines(config: &Config, outcome: &Outcome, summary: &StepsSummary) -> Vec<String> {
    let symbol = config.plan.loss().symbol();
    let r2 = summary
        .r2
        .map(|r2| format!(" (R² {})", num(r2)))
        .unwrap_or_default();
    let mut lines = vec![match outcome.verdict {
        Verdict::Converged => format!("Converged{r2}."),
        Verdict::Stalled => match summary.peak {
            // Steps that overshot can leave units where they no longer respond: a larger rate
            // would only make that worse.
            Some((peak, step)) if peak > summary.initial_loss => format!(
                "Stalled{r2}: the steps became small while the fit is no better than predicting the mean, after the {symbol} rose to {} at step {step}. Try a smaller learning_rate.",
                num(peak)
            ),
            _ => format!(
                "Stalled{r2}: the steps became small while the fit is no better than predicting the mean. Try a larger learning_rate, or a smaller min_step_size (0 turns it off) with more max_steps."
            ),
        },
        Verdict::Finished if summary.r2.is_some_and(|r2| r2 < STALLED_R2) => format!(
            "Finished the planned steps{r2}, still no better than predicting the mean: more max_steps or a larger learning_rate."
        ),
        Verdict::Finished => format!("Finished the planned steps{r2}."),
        Verdict::Diverged => {
            let divergence = summary
                .divergence
                .as_ref()
                .expect("a diverged run says how");
            let how = match &divergence.cause {
                // Before any update only the starting point can be at fault.
                Cause::NonFinite { what, value } if divergence.step == 0 => {
                    return vec![format!(
                        "Diverged at step 0: {what} is {value} before any update. Check [model.init] and the initializer."
                    )];
                }
                Cause::NonFinite { what, value } => format!("{what} became {value}"),
                Cause::Exploded { from, to } => format!(
                    "{symbol} rose from {} to {}, more than a thousandfold",
                    num(*from),
                    num(*to)
                ),
            };
            format!(
                "Diverged at step {}: {how}. Try a smaller learning_rate.",
                divergence.step
            )
        }
    }];
    if let Some((best, step)) = summary.best
        && outcome.verdict != Verdict::Diverged
        && summary.final_loss > best * 1.001
    {
        lines.push(format!(
            "The lowest {symbol}, {}, came before step {step}; the last steps oscillate or climb (schedule = \"cosine\" or a smaller learning_rate settles them).",
            num(best)
        ));
    }
    lines
}

/// `Stopped by min_step_size after 10 steps: every |step size| < 0.001.`
fn stop_sentence(config: &Config, outcome: &Outcome) -> String {
    let stop = config
        .plan
        .stop_rules()
        .expect("a run step by step has stopping rules");
    let steps = plural(outcome.steps, "step");
    match outcome.stop {
        StopReason::MinStepSize => format!(
            "Stopped by min_step_size after {steps}: every |step size| < {}.",
            short_number(stop.min_step_size)
        ),
        StopReason::TargetLoss => format!(
            "Stopped by target_loss after {steps}: {} ≤ {}.",
            config.plan.loss().symbol(),
            short_number(stop.target_loss.unwrap_or_default())
        ),
        other => format!("Stopped by {other} after {steps}."),
    }
}

/// The `--json` summary of a run step by step.
pub fn summary_json(config: &Config, outcome: &Outcome) -> serde_json::Value {
    let precision = config.plan.precision();
    let summary = outcome.steps_summary().expect("a run step by step");
    let (initial, last) = (summary.initial_loss, summary.final_loss);
    json!({
        "steps": outcome.steps,
        "stop_reason": outcome.stop.name(),
        "verdict": outcome.verdict.name(),
        "initial_loss": exact(initial, precision),
        "final_loss": exact(last, precision),
        "best_loss": summary.best.map(|(loss, _)| exact(loss, precision)),
        "best_step": summary.best.map(|(_, step)| step),
        "r2": summary.r2,
        "backend": config.backend.name(),
        "kernels": config.plan.kernels().name(),
        "dtype": precision.name(),
        "loss_function": config.plan.loss().name(),
        "learning_rate": config.plan.learning_rate(),
        "trainable": config.trainable_names(),
        "params": params_json(&config.names, &outcome.params, precision),
    })
}
