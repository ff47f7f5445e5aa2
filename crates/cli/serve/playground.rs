//! One playground: a lesson config trained step by step by the training core, as a page asks
//! — step, reset, change values, what trains, the learning rate, the stopping rules or the data
//! points — and its state as the page draws it.
//!
//! Every change is made the way a user would make it on the command line: as an edit of the
//! config (`train.learning_rate`, `train.trainable`, `data.points`, …) checked by the same
//! loader as `--set`, so the playground accepts exactly what a config file accepts, with the
//! same messages. After a change the core starts a new [`Stepper`] from the current values
//! (an optimizer with memory — momentum, Adam — starts afresh there); the step count and the
//! history go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use serde_json::{Value, json};
use squiggle_model::{Named, ParamTarget, Precision, TensorKind};
use squiggle_train::{
    Dataset, Divergence, Explained, Flow, ModeKind, Observer, Setting, StepRecord, Stepper,
    StopReason, TrainError, Verdict, explain, tolerance,
};

use crate::config::{self, Config, Edit, Overrides};
use crate::output::format::{exact, num, plural};
use crate::output::plot::lesson::padded_data_range;
use crate::output::plot::{GREEN, PINK, hex, unit_colour};
use crate::session;

use super::presets::Preset;

use super::limits::{
    MAX_HISTORY, MAX_PARAMS, MAX_POINTS, MAX_STEPS_PER_REQUEST, MAX_VALUE, REGION_CELLS, SAMPLES,
};

/// Why a request to a playground was not carried out.
#[derive(Debug)]
pub enum Refusal {
    /// The request itself is wrong (a value, a name, a config): 400.
    Bad(String),
    /// What the request names does not exist: 404.
    NotFound(String),
    /// The request is fine but the playground cannot do it now (it has stopped, nothing
    /// trains): 409.
    Conflict(String),
    /// The computation failed on the device: 500.
    Failed(String),
}

impl From<anyhow::Error> for Refusal {
    fn from(e: anyhow::Error) -> Self {
        Refusal::Bad(crate::message(&e))
    }
}

impl From<TrainError> for Refusal {
    fn from(e: TrainError) -> Self {
        Refusal::Failed(e.to_string())
    }
}

impl From<squiggle_model::ReadBack> for Refusal {
    fn from(e: squiggle_model::ReadBack) -> Self {
        Refusal::Failed(e.to_string())
    }
}

type Result<T> = std::result::Result<T, Refusal>;

/// The settings the page can change, as config keys.
const LEARNING_RATE: &str = "train.learning_rate";
const MAX_STEPS: &str = "train.max_steps";
const MIN_STEP_SIZE: &str = "train.min_step_size";
const TARGET_LOSS: &str = "train.target_loss";
const KERNELS: &str = "train.kernels";
const TRAINABLE: &str = "train.trainable";
const DATA: &str = "data";

/// New values for the settings the page shows, each optional.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// `[train] learning_rate`.
    pub learning_rate: Option<f64>,
    /// `[train] max_steps`.
    pub max_steps: Option<u64>,
    /// `[train] min_step_size`.
    pub min_step_size: Option<f64>,
    /// `[train] target_loss`.
    pub target_loss: Option<f64>,
    /// `[train] kernels`: `fused` or `burn`.
    pub kernels: Option<squiggle_train::Kernels>,
}

/// A lesson network, its data and its training so far.
pub struct Playground {
    /// What the page calls it (the preset or file name).
    name: String,
    path: PathBuf,
    text: String,
    overrides: Overrides,
    /// The changes made so far, by config key (the latest of each).
    edits: BTreeMap<&'static str, Edit>,
    config: Config,
    rows: Dataset,
    device: Device,
    /// Which parameters train (the page's choice; a config without `[train]` starts with
    /// none, as it describes a fitted network).
    trainable: Vec<bool>,
    /// The core's stepper; `None` while nothing trains.
    stepper: Option<Stepper>,
    /// Steps taken before the current stepper started.
    offset: usize,
    values: Vec<f64>,
    history: History,
    /// The steps at which a change (settings, data, values, what trains) started a new
    /// stepper: the loss curve marks them, and the landscape shows only the steps since the
    /// last, which were taken on the loss it draws.
    changes: Vec<usize>,
    /// The fit's axis titles when they are not the config's own (a config by epochs, whose
    /// columns the playground scaled: `petal_width (rescaled to 0..1)`).
    axes: Option<[String; 2]>,
}

/// The losses and parameters of the steps taken, thinned to at most [`MAX_HISTORY`] entries
/// (every step at first, then every 2nd, 4th, … as a run grows).
#[derive(Clone, Debug, Default)]
struct History {
    stride: usize,
    /// `(step, loss before it, parameters before it)`.
    entries: Vec<(usize, f64, Vec<f64>)>,
}

impl History {
    fn push(&mut self, step: usize, loss: f64, values: Vec<f64>) {
        let stride = self.stride.max(1);
        if !step.is_multiple_of(stride) {
            return;
        }
        self.entries.push((step, loss, values));
        if self.entries.len() >= MAX_HISTORY {
            self.stride = stride * 2;
            let stride = self.stride;
            self.entries.retain(|(s, _, _)| s.is_multiple_of(stride));
        }
    }
}

/// Keeps the steps of one request in the history.
struct Recorder<'a> {
    history: &'a mut History,
    offset: usize,
    values: Vec<f64>,
}

impl Observer for Recorder<'_> {
    type Error = TrainError;

    fn step(&mut self, record: &StepRecord) -> std::result::Result<Flow, TrainError> {
        let step = self.offset + record.step;
        self.history.push(step, record.loss, self.values.clone());
        for p in &record.params {
            self.values[p.index] = p.new_value;
        }
        Ok(Flow::Continue)
    }
}

impl Playground {
    /// A playground of the config `text` (named `path`), on the backend it names (or
    /// `overrides`' one).
    ///
    /// # Errors
    /// A config the loader refuses, or one the playground cannot show: training by epochs,
    /// more than one input or output, more than [`MAX_POINTS`] points or [`MAX_PARAMS`]
    /// parameters.
    pub fn new(name: &str, path: &Path, text: String, overrides: Overrides) -> Result<Self> {
        match by_steps(path, &text, &overrides)? {
            Some((steps, axes)) => Self::loaded(name, path, steps, overrides, Some(axes)),
            None => Self::loaded(name, path, text, overrides, None),
        }
    }

    /// A playground of a lesson preset. A preset that reads data files has them compiled in
    /// too: they are handed to the loader from a private folder, read once, and the
    /// playground goes on from the points it made of them.
    ///
    /// # Errors
    /// As [`Playground::new`]; a private folder that cannot be written.
    pub fn of_preset(preset: &Preset, overrides: Overrides) -> Result<Self> {
        let path = preset.path();
        if preset.files.is_empty() {
            return Self::new(preset.name, &path, preset.text.to_string(), overrides);
        }
        let failed = |e: std::io::Error| Refusal::Failed(format!("{}: {e}", path.display()));
        let dir = tempfile::tempdir().map_err(failed)?;
        let copy = dir.path().join(format!("{}.toml", preset.name));
        for (name, text) in preset.files {
            let file = dir.path().join(name);
            if let Some(folder) = file.parent() {
                std::fs::create_dir_all(folder).map_err(failed)?;
            }
            std::fs::write(file, text).map_err(failed)?;
        }
        match by_steps(&copy, preset.text, &overrides)? {
            Some((steps, axes)) => Self::loaded(preset.name, &path, steps, overrides, Some(axes)),
            None => Err(Refusal::Failed(format!(
                "{}: a preset with data files should train by epochs",
                path.display()
            ))),
        }
    }

    /// A playground of the config `text`, which trains step by step.
    fn loaded(
        name: &str,
        path: &Path,
        text: String,
        overrides: Overrides,
        axes: Option<[String; 2]>,
    ) -> Result<Self> {
        let (config, rows) = load(path, &text, &BTreeMap::new(), &overrides)?;
        let device = session::device(&config)?;
        let trainable = if config.trains {
            config.plan.trainable().to_vec()
        } else {
            vec![false; config.arch.num_params()]
        };
        let mut playground = Self {
            name: name.to_string(),
            path: path.to_path_buf(),
            text,
            overrides,
            edits: BTreeMap::new(),
            values: config.initial.clone(),
            config,
            rows,
            device,
            trainable,
            stepper: None,
            offset: 0,
            history: History::default(),
            changes: Vec::new(),
            axes,
        };
        playground.restart()?;
        Ok(playground)
    }

    /// The network's parameter names, flat order.
    fn names(&self) -> &[String] {
        self.config.names.names()
    }

    /// A new stepper from the current values, with the current settings and data; the
    /// values become what the device holds (rounded to the config's precision).
    fn restart(&mut self) -> Result<()> {
        self.offset = self.step();
        if self.offset > 0 && self.changes.last() != Some(&self.offset) {
            self.changes.push(self.offset);
        }
        self.stepper = None;
        let precision = self.config.plan.precision();
        self.values = self.values.iter().map(|&v| precision.round(v)).collect();
        if self.trainable.iter().any(|&t| t) {
            let prepared = config::Data {
                train: self.rows.clone(),
                valid: None,
                read: None,
                stream: None,
            }
            .prepare(&self.config.plan);
            self.stepper = Some(Stepper::new(
                &self.config.arch,
                &self.values,
                &prepared,
                &self.config.plan,
                &self.device,
            )?);
        }
        Ok(())
    }

    /// Steps taken in all.
    pub fn step(&self) -> usize {
        self.offset + self.stepper.as_ref().map_or(0, Stepper::steps)
    }

    /// Reloads the config with `edits` in place of the current ones, then restarts.
    fn edit(&mut self, change: impl FnOnce(&mut BTreeMap<&'static str, Edit>)) -> Result<()> {
        let mut edits = self.edits.clone();
        change(&mut edits);
        let (config, rows) = load(&self.path, &self.text, &edits, &self.overrides)?;
        self.edits = edits;
        self.config = config;
        self.rows = rows;
        self.restart()
    }

    /// Takes up to `count` steps, fewer when a stopping rule fires.
    ///
    /// # Errors
    /// [`Refusal::Bad`] for a count outside 1 to [`MAX_STEPS_PER_REQUEST`];
    /// [`Refusal::Conflict`] when nothing trains or the run has already stopped.
    pub fn take_steps(&mut self, count: u64) -> Result<()> {
        if !(1..=MAX_STEPS_PER_REQUEST as u64).contains(&count) {
            return Err(Refusal::Bad(format!(
                "steps: {count} asked; one request takes 1 to {MAX_STEPS_PER_REQUEST}"
            )));
        }
        let offset = self.offset;
        let Some(stepper) = self.stepper.as_mut() else {
            return Err(Refusal::Conflict(
                "nothing trains: click a parameter to unfreeze it".into(),
            ));
        };
        if let Some(stop) = stepper.stopped() {
            return Err(Refusal::Conflict(format!(
                "the run has stopped ({}); change a setting, a value or the data, or reset",
                status_message(
                    stop,
                    stepper.divergence(),
                    offset + stepper.steps(),
                    &self.config
                )
            )));
        }
        let mut recorder = Recorder {
            history: &mut self.history,
            offset,
            values: stepper.values().to_vec(),
        };
        for _ in 0..count {
            if stepper.step(&mut recorder)?.is_some() {
                break;
            }
        }
        self.values = stepper.values().to_vec();
        Ok(())
    }

    /// Back to the config's initial values and step 0, keeping the settings and data.
    pub fn reset(&mut self) -> Result<()> {
        self.values = self.config.initial.clone();
        self.history = History::default();
        self.changes.clear();
        self.offset = 0;
        self.stepper = None;
        self.restart()
    }

    /// Sets parameters by name (`{"b3": 1.5}`).
    pub fn set_values(&mut self, values: &BTreeMap<String, f64>) -> Result<()> {
        let mut next = self.values.clone();
        for (name, &value) in values {
            let i = self.scalar(name)?;
            if !value.is_finite() || value.abs() > MAX_VALUE {
                return Err(Refusal::Bad(format!(
                    "{name}: {} is outside ±{MAX_VALUE:e}, which the network's f32 arithmetic cannot train from",
                    num(value)
                )));
            }
            next[i] = value;
        }
        self.values = next;
        self.restart()
    }

    /// Which parameters train, by name; every other one is frozen.
    pub fn set_trainable(&mut self, names: &[String]) -> Result<()> {
        let mut mask = vec![false; self.names().len()];
        for name in names {
            mask[self.scalar(name)?] = true;
        }
        if !mask.iter().any(|&t| t) {
            // Nothing trains: the config keeps its last `trainable`, no stepper runs.
            self.trainable = mask;
            return self.restart();
        }
        let list: Vec<String> = (0..mask.len())
            .filter(|&i| mask[i])
            .map(|i| format!("{:?}", self.names()[i]))
            .collect();
        let value = format!("[{}]", list.join(", "));
        let label = format!("trainable {}", names.join(", "));
        let previous = std::mem::replace(&mut self.trainable, mask);
        let edited = self.edit(|edits| {
            edits.insert(TRAINABLE, Edit::made(TRAINABLE, value, label));
        });
        if edited.is_err() {
            self.trainable = previous;
        }
        edited
    }

    /// New stopping rules or learning rate.
    pub fn set_settings(&mut self, change: &SettingsChange) -> Result<()> {
        let mut made = Vec::new();
        let mut float = |key: &'static str, name: &str, value: Option<f64>| {
            if let Some(v) = value {
                made.push((key, Edit::made(key, toml_float(v), format!("{name} = {v}"))));
            }
        };
        float(LEARNING_RATE, "learning_rate", change.learning_rate);
        float(MIN_STEP_SIZE, "min_step_size", change.min_step_size);
        float(TARGET_LOSS, "target_loss", change.target_loss);
        if let Some(n) = change.max_steps {
            made.push((
                MAX_STEPS,
                Edit::made(MAX_STEPS, n.to_string(), format!("max_steps = {n}")),
            ));
        }
        if let Some(k) = change.kernels {
            made.push((
                KERNELS,
                Edit::made(KERNELS, format!("{:?}", k.name()), format!("kernels = {k}")),
            ));
        }
        self.edit(|edits| edits.extend(made))
    }

    /// New data points, `[input, target]` each (a regression of more columns: its inputs,
    /// then its targets), or for a classifier its inputs and a class index (`[x1, x2,
    /// class]`).
    pub fn set_points(&mut self, points: &[Vec<f64>]) -> Result<()> {
        let arch = &self.config.arch;
        let (width, shape) = match &self.config.classes {
            Some(_) if arch.inputs == 2 => (3, "[input 1, input 2, class]".to_string()),
            Some(_) => (2, "[input, class]".to_string()),
            None if arch.inputs == 1 && arch.outputs == 1 => (2, "[input, target]".to_string()),
            None => (
                arch.inputs + arch.outputs,
                format!(
                    "its {}, then its {}",
                    plural(arch.inputs, "input"),
                    plural(arch.outputs, "target")
                ),
            ),
        };
        if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p.len() != width) {
            return Err(Refusal::Bad(format!(
                "points: point {} has {} values; each point is {shape}",
                i + 1,
                p.len()
            )));
        }
        if points.is_empty() || points.len() > MAX_POINTS {
            return Err(Refusal::Bad(format!(
                "points: {} given; the playground takes 1 to {MAX_POINTS}",
                points.len()
            )));
        }
        let shown = |p: &[f64]| p.iter().map(|&v| num(v)).collect::<Vec<_>>().join(", ");
        if let Some(p) = points
            .iter()
            .find(|p| p.iter().any(|v| v.abs() > MAX_VALUE))
        {
            return Err(Refusal::Bad(format!(
                "points: [{}] is outside ±{MAX_VALUE:e}",
                shown(p)
            )));
        }
        let rows: Vec<String> = points
            .iter()
            .map(|p| {
                let values: Vec<String> = p.iter().map(|&v| toml_float(v)).collect();
                format!("[{}]", values.join(", "))
            })
            .collect();
        // A classifier's points end with a class index into `classes`, which the [data]
        // table carries with them (the loader checks each index).
        let classes = match &self.config.classes {
            Some(c) => {
                let names: Vec<String> = c.names.iter().map(|n| format!("{n:?}")).collect();
                format!(", classes = [{}]", names.join(", "))
            }
            None => String::new(),
        };
        let value = format!("{{ points = [{}]{classes} }}", rows.join(", "));
        self.edit(|edits| {
            edits.insert(DATA, Edit::made(DATA, value, "points"));
        })
    }

    /// The flat index of the parameter called `name`.
    fn scalar(&self, name: &str) -> Result<usize> {
        match self.config.names.resolve(name) {
            Ok(ParamTarget::Scalar(i)) => Ok(i),
            Ok(ParamTarget::Tensor(_)) => Err(Refusal::Bad(format!(
                "`{name}` is a whole tensor; name one of its parameters: {}",
                self.names().join(", ")
            ))),
            Err(e) => Err(Refusal::Bad(e.to_string())),
        }
    }

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
            "axes": self.axes.clone().unwrap_or_else(|| axes(config)),
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
        (0..self.rows.len())
            .map(|i| {
                let output = self.rows.output_row(i);
                let mut row: Vec<f64> = self.rows.input_row(i);
                match &self.config.classes {
                    Some(_) => row.push(squiggle_train::argmax(&output) as f64),
                    None => row.extend(output),
                }
                row.into_iter().map(|v| exact(v, Precision::F32)).collect()
            })
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

/// A config that trains by epochs as the playground trains it: step by step, full batch, on
/// its training rows scaled as training by epochs scales them (the lessons' Iris network was
/// fitted to inputs rescaled to 0..1), with the network, the start and the optimizer it
/// names, its epochs' own settings (batches, validation, patience) set aside. Returns that
/// config's text and the fit's axis titles; `None` for a config that trains step by step.
///
/// # Errors
/// A config the loader refuses, or more training rows than the playground takes.
fn by_steps(
    path: &Path,
    text: &str,
    overrides: &Overrides,
) -> Result<Option<(String, [String; 2])>> {
    let (config, data) = config::load_text(path, text.to_string(), &[], overrides)?;
    if !config.by_epochs() {
        return Ok(None);
    }
    let prepared = data.prepare(&config.plan);
    let rows = prepared.train_data();
    let name = path.display();
    if rows.len() > MAX_POINTS {
        return Err(Refusal::Bad(format!(
            "{name}: {} training rows; the playground takes at most {MAX_POINTS}",
            rows.len()
        )));
    }
    let scaled = match (prepared.scaling(), config.plan.epoch_plan()) {
        (Some(_), Some(e)) if e.rescale => " (rescaled to 0..1)",
        (Some(_), _) => " (standardised)",
        (None, _) => "",
    };
    let mut table: toml::Table = config
        .resolved_toml()
        .parse()
        .expect("a resolved config parses back");
    let points: Vec<toml::Value> = (0..rows.len())
        .map(|i| {
            let output = rows.output_row(i);
            let target = match &config.classes {
                Some(_) => squiggle_train::argmax(&output) as f64,
                None => output[0],
            };
            let mut row = rows.input_row(i);
            row.push(target);
            toml::Value::Array(row.into_iter().map(toml::Value::Float).collect())
        })
        .collect();
    let mut points_table = toml::Table::new();
    points_table.insert("points".into(), toml::Value::Array(points));
    if let Some(classes) = &config.classes {
        let names = classes.names.iter().cloned().map(toml::Value::String);
        points_table.insert("classes".into(), toml::Value::Array(names.collect()));
    }
    table.insert("data".into(), toml::Value::Table(points_table));
    if let Some(toml::Value::Table(train)) = table.get_mut("train") {
        train.retain(|key, _| {
            key != "epochs"
                && key
                    .parse::<Setting>()
                    .map_or(true, |s| s.mode() != Some(ModeKind::Epochs))
        });
    }
    let column = |names: &[String], k: usize, fallback: &str| {
        names
            .get(k)
            .cloned()
            .unwrap_or_else(|| fallback.to_string())
    };
    let axes = match (&config.classes, config.arch.inputs) {
        (Some(_), 2) => [
            format!("{}{scaled}", column(&config.inputs, 0, "input 1")),
            format!("{}{scaled}", column(&config.inputs, 1, "input 2")),
        ],
        (Some(_), _) => [
            format!("{}{scaled}", column(&config.inputs, 0, "input")),
            "probability".into(),
        ],
        (None, _) => [
            format!("{}{scaled}", column(&config.inputs, 0, "input")),
            format!("{}{scaled}", column(&config.targets, 0, "output")),
        ],
    };
    let text = format!(
        "# {name} step by step: its {} training rows{scaled}, full batch.\n{}",
        rows.len(),
        toml::to_string(&table).expect("a config serialises to TOML")
    );
    Ok(Some((text, axes)))
}

/// The config `text` with `edits`, checked for what a playground can show.
fn load(
    path: &Path,
    text: &str,
    edits: &BTreeMap<&'static str, Edit>,
    overrides: &Overrides,
) -> Result<(Config, Dataset)> {
    let edits: Vec<Edit> = edits.values().cloned().collect();
    let (config, data) = config::load_text(path, text.to_string(), &edits, overrides)?;
    let name = path.display();
    // A classifier's decision regions over two inputs, or its SoftMax curves over one; any
    // regression (its curve over one input, else predicted against observed).
    if config.classes.is_some() && !matches!(config.arch.inputs, 1 | 2) {
        return Err(Refusal::Bad(format!(
            "{name}: the playground draws a classifier's classes over one or two inputs; this network is {}",
            config.arch.describe()
        )));
    }
    if data.train.len() > MAX_POINTS {
        return Err(Refusal::Bad(format!(
            "{name}: {} data points; the playground takes at most {MAX_POINTS}",
            data.train.len()
        )));
    }
    if config.arch.num_params() > MAX_PARAMS {
        return Err(Refusal::Bad(format!(
            "{name}: {} parameters; the playground shows at most {MAX_PARAMS}",
            config.arch.num_params()
        )));
    }
    Ok((config, data.train))
}

/// A float as TOML writes it (`1.0`, `1e-7`).
fn toml_float(v: f64) -> String {
    format!("{v:?}")
}

/// The axis titles: the lesson's words on the lesson's points, else the column names (a
/// classifier's two inputs, or its one input and the probability).
fn axes(config: &Config) -> [String; 2] {
    let input = |k: usize| {
        config
            .inputs
            .get(k)
            .cloned()
            .unwrap_or_else(|| format!("input {}", k + 1))
    };
    if config.classes.is_some() {
        return match config.arch.inputs {
            2 => [input(0), input(1)],
            _ => [input(0), "probability".into()],
        };
    }
    if config.arch.inputs != 1 || config.arch.outputs != 1 {
        return ["observed".into(), "predicted".into()];
    }
    if config.names.has_lesson_names() && config.inputs.first().is_none_or(|n| n == "x") {
        ["dosage".into(), "efficacy".into()]
    } else {
        [
            config
                .inputs
                .first()
                .cloned()
                .unwrap_or_else(|| "input".into()),
            config
                .targets
                .first()
                .cloned()
                .unwrap_or_else(|| "output".into()),
        ]
    }
}

/// `converged: every step size fell below 0.001 (min_step_size) after 10 steps`.
fn status_message(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_history_keeps_every_other_step_and_stays_bounded() {
        let mut history = History::default();
        for step in 0..10 * MAX_HISTORY {
            history.push(step, step as f64, vec![step as f64]);
        }
        let steps: Vec<usize> = history.entries.iter().map(|e| e.0).collect();
        assert!(
            steps.len() < MAX_HISTORY && steps.len() >= MAX_HISTORY / 4,
            "{}",
            steps.len()
        );
        assert_eq!(steps[0], 0);
        // Evenly spaced, in order, up to the end.
        let stride = steps[1] - steps[0];
        assert!(steps.windows(2).all(|w| w[1] - w[0] == stride));
        assert!(10 * MAX_HISTORY - 1 - steps.last().unwrap() < stride);
        assert!(
            history
                .entries
                .iter()
                .all(|e| e.1 == e.0 as f64 && e.2 == [e.0 as f64])
        );
    }
}
