//! What the page draws: a playground's state as JSON (its parameters, status, data, the fit
//! in the view its network calls for, the loss history, the landscape and the chain rule),
//! computed from the playground on each request. The page only draws it.

use serde_json::{Value, json};
use squiggle_model::{Named, Precision, TensorKind};
use squiggle_train::{Divergence, Explained, StopReason, Verdict, explain, tolerance};

use squiggle_config::Config;
use squiggle_train::format::{exact, num};

use crate::drawing::{GREEN, PINK, hex, padded_data_range, unit_colour};
use crate::limits::{REGION_CELLS, SAMPLES};
use crate::{Playground, Result, point_rows};

impl Playground {
    /// Everything the page draws, with the landscape and the chain rule of `param` (by
    /// default the first parameter that trains, else the last).
    pub fn state(&self, id: &str, param: Option<&str>) -> Result<Value> {
        let explained = self.explained(param)?;
        let selected = explained.rule.param;
        let config = &self.config;
        let precision = config.plan.precision();
        let loss = match &self.stepper {
            Some(stepper) => stepper.loss()?,
            None => {
                let probe = squiggle_train::Backprop::new(
                    &config.arch,
                    &self.rows,
                    config.plan.loss(),
                    &self.device,
                    precision,
                    config.plan.kernels(),
                );
                probe.loss(&self.values)?
            }
        };
        let rules = config.plan.stop_rules();
        let names = self.names();
        let params: Vec<Value> = (0..names.len())
            .map(|i| {
                let (t, from, to) = config.names.connection(i);
                let spec = &config.names.tensors()[t];
                let kind = match spec.kind {
                    TensorKind::Weight => "weight",
                    TensorKind::Bias => "bias",
                };
                json!({
                    "name": names[i],
                    "value": exact(self.values[i], precision),
                    "shown": num(self.values[i]),
                    "trainable": self.trainable[i],
                    "kind": kind,
                    "layer": spec.layer,
                    "from": from,
                    "to": to,
                })
            })
            .collect();
        let symbol = config.plan.loss().symbol();
        Ok(json!({
            "id": id,
            "name": self.name,
            "network": config.arch.describe(),
            "layers": std::iter::once(config.arch.inputs)
                .chain(config.arch.hidden.iter().copied())
                .chain([config.arch.outputs])
                .collect::<Vec<_>>(),
            "activation": config.arch.activation.name(),
            "colours": {
                "squiggle": hex(GREEN),
                "landscape": hex(PINK),
                "units": (0..config.names.lesson_units().len()).map(|k| hex(unit_colour(k))).collect::<Vec<_>>(),
                "classes": (0..config.arch.outputs).map(|k| hex(unit_colour(k))).collect::<Vec<_>>(),
            },
            "lesson_names": config.names.has_lesson_names(),
            "backend": config.backend.name(),
            "kernels": config.plan.kernels().name(),
            "dtype": precision.name(),
            "optimizer": config.plan.optimizer().kind().name(),
            "loss_name": symbol,
            "step": self.step(),
            "loss": exact(loss, precision),
            "loss_shown": num(loss),
            "learning_rate": config.plan.learning_rate(),
            "rules": {
                "max_steps": rules.map(|r| r.max_steps),
                "min_step_size": rules.map(|r| r.min_step_size),
                "target_loss": rules.and_then(|r| r.target_loss),
            },
            "status": self.status(),
            "params": params,
            "axes": self.axes.clone().unwrap_or_else(|| axes(config, "")),
            "view": self.view(),
            "classes": config.classes.as_ref().map(|c| &c.names),
            "data": self.points(),
            "fit": self.fit(),
            "history": self.history_json(loss),
            "landscape": self.landscape(
                selected,
                loss,
                explained.computed_by(config.plan.kernels()),
            ),
            "explain": self.explain_json(&explained, precision),
        }))
    }

    /// The chain rule of `param` (by default the first parameter that trains, else the last)
    /// at the current values, checked against autodiff and finite differences.
    fn explained(&self, param: Option<&str>) -> Result<Explained> {
        let selected = match param {
            Some(name) => self.scalar(name)?,
            None => self
                .trainable
                .iter()
                .position(|&t| t)
                .unwrap_or(self.names().len() - 1),
        };
        let config = &self.config;
        let mut explained = explain(
            &config.arch,
            &config.names,
            &self.values,
            &self.rows,
            config.plan.loss(),
            &self.device,
            config.plan.precision(),
            &[selected],
        )?;
        Ok(explained.remove(0))
    }

    /// The explanation of `param` alone, as [`Playground::state`] gives it.
    pub fn explanation(&self, param: Option<&str>) -> Result<Value> {
        let explained = self.explained(param)?;
        Ok(self.explain_json(&explained, self.config.plan.precision()))
    }

    /// Where the run stands: training, stopped by a rule, diverged, or nothing to train.
    fn status(&self) -> Value {
        let Some(stepper) = &self.stepper else {
            return json!({
                "state": "frozen",
                "message": "nothing trains: click a parameter to unfreeze it",
            });
        };
        match stepper.stopped() {
            None => json!({"state": "ready", "message": format!("ready for step {}", self.step())}),
            Some(stop) => {
                let message = status_message(stop, stepper.divergence(), self.step(), &self.config);
                let verdict = stepper.outcome().map(|o| o.verdict).ok();
                json!({
                    "state": if stop == StopReason::Diverged { "diverged" } else { "stopped" },
                    "rule": stop.name(),
                    "verdict": verdict.map(Verdict::name),
                    "message": message,
                })
            }
        }
    }

    /// What the fit card draws: the prediction over one input (`curve`), each prediction
    /// against its observation for other regressions (`predicted`), a classifier's decision
    /// regions over two inputs (`regions`), or its SoftMax probabilities over one
    /// (`probabilities`).
    fn view(&self) -> &'static str {
        let arch = &self.config.arch;
        match (&self.config.classes, arch.inputs) {
            (None, 1) if arch.outputs == 1 => "curve",
            (None, _) => "predicted",
            (Some(_), 2) => "regions",
            (Some(_), _) => "probabilities",
        }
    }

    /// The data points as the page draws and sends them back: each row's inputs, then its
    /// target (a classifier's: its class index). Data sets hold f32: each value as the
    /// network sees it, written shortest.
    fn points(&self) -> Vec<Vec<f64>> {
        point_rows(&self.rows, self.config.classes.is_some())
            .into_iter()
            .map(|row| row.into_iter().map(|v| exact(v, Precision::F32)).collect())
            .collect()
    }

    /// What the fit card draws (see [`Playground::view`]).
    fn fit(&self) -> Value {
        match self.view() {
            "regions" => self.regions(),
            "probabilities" => self.probabilities(),
            "predicted" => self.predicted(),
            _ => self.curve(),
        }
    }

    /// Each row's every target and the network's prediction of it.
    fn predicted(&self) -> Value {
        let arch = &self.config.arch;
        let (mut observed, mut predicted) = (Vec::new(), Vec::new());
        for i in 0..self.rows.len() {
            let pass = arch.forward_host(&self.values, &self.rows.input_row(i));
            observed.extend(self.rows.output_row(i));
            predicted.extend_from_slice(pass.prediction());
        }
        json!({"observed": observed, "predicted": predicted})
    }

    /// A classifier's decision regions over its two inputs' padded ranges: the class its
    /// network picks (the ArgMax) at the centre of each cell of a `REGION_CELLS` square grid,
    /// row by row from the bottom, and that class's SoftMax probability.
    fn regions(&self) -> Value {
        let range = |k: usize| {
            let values = (0..self.rows.len()).map(|i| self.rows.input_row(i)[k]);
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            let span = (hi - lo).max(0.5);
            (lo - 0.1 * span, hi + 0.1 * span)
        };
        let (x, y) = (range(0), range(1));
        let arch = &self.config.arch;
        let centre = |(lo, hi): (f64, f64), i: usize| {
            lo + (hi - lo) * (i as f64 + 0.5) / REGION_CELLS as f64
        };
        let mut classes = Vec::with_capacity(REGION_CELLS * REGION_CELLS);
        let mut confidence = Vec::with_capacity(REGION_CELLS * REGION_CELLS);
        for j in 0..REGION_CELLS {
            for i in 0..REGION_CELLS {
                let pass = arch.forward_host(&self.values, &[centre(x, i), centre(y, j)]);
                let raw = pass.prediction();
                let k = squiggle_train::argmax(raw);
                classes.push(k);
                confidence.push(squiggle_train::softmax(raw)[k]);
            }
        }
        json!({"x": [x.0, x.1], "y": [y.0, y.1], "cells": REGION_CELLS, "classes": classes, "confidence": confidence})
    }

    /// A one-input classifier's SoftMax probability of each class over the input's padded
    /// range.
    fn probabilities(&self) -> Value {
        let (lo, hi) = padded_data_range(&self.rows);
        let xs: Vec<f64> = (0..SAMPLES)
            .map(|k| lo + (hi - lo) * k as f64 / (SAMPLES - 1) as f64)
            .collect();
        let arch = &self.config.arch;
        let rows: Vec<Vec<f64>> = xs
            .iter()
            .map(|&x| squiggle_train::softmax(arch.forward_host(&self.values, &[x]).prediction()))
            .collect();
        let curves: Vec<Vec<f64>> = (0..arch.outputs)
            .map(|k| rows.iter().map(|p| p[k]).collect())
            .collect();
        json!({"x": xs, "probabilities": curves})
    }

    /// The green squiggle and, for networks with the lesson's names, each hidden unit's
    /// contribution (the blue and orange curves), over the data's padded input range.
    fn curve(&self) -> Value {
        let (lo, hi) = padded_data_range(&self.rows);
        let xs: Vec<f64> = (0..SAMPLES)
            .map(|k| lo + (hi - lo) * k as f64 / (SAMPLES - 1) as f64)
            .collect();
        let arch = &self.config.arch;
        let prediction: Vec<f64> = xs
            .iter()
            .map(|&x| arch.forward_host(&self.values, &[x]).prediction()[0])
            .collect();
        let units: Vec<Value> = self
            .config
            .names
            .lesson_units()
            .iter()
            .map(|unit| {
                let ys: Vec<f64> = xs
                    .iter()
                    .map(|&x| unit.contribution(arch.activation, &self.values, x))
                    .collect();
                json!({"label": unit.label(&self.config.names, arch.activation), "values": ys})
            })
            .collect();
        json!({"x": xs, "prediction": prediction, "units": units})
    }

    /// The loss before each step kept, then now.
    fn history_json(&self, loss: f64) -> Value {
        let mut steps: Vec<usize> = self.history.entries.iter().map(|e| e.0).collect();
        let mut losses: Vec<f64> = self.history.entries.iter().map(|e| e.1).collect();
        if steps.last() != Some(&self.step()) {
            steps.push(self.step());
            losses.push(loss);
        }
        json!({"steps": steps, "losses": losses, "changes": self.changes})
    }

    /// The loss along parameter `p`: exact when `p` alone trains, otherwise a slice through
    /// the other parameters' values now; the steps taken since the last change at the loss
    /// they really had; the tangent at the current value.
    fn landscape(&self, p: usize, loss: f64, slope: f64) -> Value {
        let exact = self
            .trainable
            .iter()
            .enumerate()
            .all(|(i, &t)| t == (i == p));
        let since = self.history.entries.iter().filter(|e| e.0 >= self.offset);
        let visited = since.clone().map(|e| e.2[p]);
        let (mut lo, mut hi) = visited
            .chain([self.values[p], self.config.initial[p]])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let span = (hi - lo).max(0.5);
        lo -= 0.25 * span;
        hi += 0.25 * span;
        let mut v = self.values.clone();
        let loss_kind = self.config.plan.loss();
        let xs: Vec<f64> = (0..SAMPLES)
            .map(|k| lo + (hi - lo) * k as f64 / (SAMPLES - 1) as f64)
            .collect();
        let curve: Vec<f64> = xs
            .iter()
            .map(|&x| {
                v[p] = x;
                loss_kind.on_host(&self.config.arch, &v, &self.rows)
            })
            .collect();
        let dots: Vec<Value> = since
            .map(|(step, loss, values)| json!([step, values[p], loss]))
            .collect();
        let name = &self.names()[p];
        json!({
            "param": name,
            "exact": exact,
            "label": if exact {
                format!("{} as a function of {name} (only {name} trains)", loss_kind.symbol())
            } else {
                format!(
                    "{} along {name}, the others at their values at step {} (a slice)",
                    loss_kind.symbol(),
                    self.step()
                )
            },
            "x": xs,
            "loss": curve,
            "dots": dots,
            "value": self.values[p],
            "current_loss": loss,
            "slope": slope,
        })
    }

    /// The chain rule of the selected parameter at the current values: the derivative the
    /// next step takes.
    fn explain_json(&self, d: &Explained, precision: squiggle_model::Precision) -> Value {
        let rule = &d.rule;
        let shown = |v: &[f64]| v.iter().map(|&x| num(x)).collect::<Vec<_>>();
        let factors: Vec<Value> = rule
            .factors
            .iter()
            .map(|f| {
                json!({"name": f.name, "meaning": f.meaning, "values": f.values, "shown": shown(&f.values)})
            })
            .collect();
        json!({
            "param": self.names()[rule.param],
            "step": self.step(),
            "loss_name": self.config.plan.loss().symbol(),
            "factors": factors,
            "products": rule.products,
            "products_shown": shown(&rule.products),
            "chain_rule": d.chain_rule(),
            "burn_autodiff": d.burn_autodiff,
            "fused_backward": d.fused_backward,
            "finite_difference": d.finite_difference,
            "kernels": self.config.plan.kernels().name(),
            "shown": [
                num(d.chain_rule()),
                num(d.burn_autodiff),
                num(d.fused_backward),
                num(d.finite_difference),
            ],
            "spread": d.spread(),
            "tolerance": tolerance(precision),
            "agree": d.agrees(precision),
            "at_kink": d.at_kink,
        })
    }
}

/// The fit's axis titles: the lesson's words on the lesson's points, else the column names
/// (a classifier's two inputs, or its one input and the probability), each followed by
/// `note` (how a config by epochs scaled it); a regression of several columns is drawn as
/// predicted against observed.
pub(super) fn axes(config: &Config, note: &str) -> [String; 2] {
    let column = |names: &[String], k: usize, fallback: &str| {
        let name = names
            .get(k)
            .cloned()
            .unwrap_or_else(|| fallback.to_string());
        format!("{name}{note}")
    };
    match (&config.classes, config.arch.inputs, config.arch.outputs) {
        (Some(_), 2, _) => [
            column(&config.inputs, 0, "input 1"),
            column(&config.inputs, 1, "input 2"),
        ],
        (Some(_), _, _) => [column(&config.inputs, 0, "input"), "probability".into()],
        (None, 1, 1) => {
            let lesson =
                config.names.has_lesson_names() && config.inputs.first().is_none_or(|n| n == "x");
            if lesson {
                ["dosage".into(), "efficacy".into()]
            } else {
                [
                    column(&config.inputs, 0, "input"),
                    column(&config.targets, 0, "output"),
                ]
            }
        }
        (None, _, _) => ["observed".into(), "predicted".into()],
    }
}

/// `converged: every step size fell below 0.001 (min_step_size) after 10 steps`.
pub(super) fn status_message(
    stop: StopReason,
    divergence: Option<&Divergence>,
    step: usize,
    config: &Config,
) -> String {
    let rules = config.plan.stop_rules();
    match stop {
        StopReason::Diverged => match divergence {
            Some(d) => format!("diverged at step {}: {}", d.step, d.error()),
            None => format!("diverged at step {step}"),
        },
        StopReason::MinStepSize => format!(
            "min_step_size fired after {step} steps: every step size fell below {}",
            rules.map_or(0.0, |r| r.min_step_size)
        ),
        StopReason::TargetLoss => format!(
            "target_loss fired after {step} steps: the {} reached {}",
            config.plan.loss().symbol(),
            rules.and_then(|r| r.target_loss).unwrap_or(0.0)
        ),
        StopReason::MaxSteps => format!(
            "max_steps fired: {} steps taken",
            rules.map_or(step, |r| r.max_steps)
        ),
        other => format!("{other} after {step} steps"),
    }
}
