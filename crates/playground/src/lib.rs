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
//!
//! This crate is the playground whoever hosts it: `squiggle serve` answers its JSON API
//! from it, and the WebAssembly module of `crates/web` runs it inside the page. Neither
//! chooses anything here: the host says which device a config's backend opens ([`DeviceOf`])
//! and how much memory there is ([`Overrides::memory`]).
//!
//! This module holds the playground and its changes; `view` computes what the page draws
//! from it, `by_epochs` turns a config that trains by epochs into the points and steps a
//! playground trains on, [`request`] reads the page's requests (as the API and the module
//! receive them), [`presets`] holds the lesson configs, [`limits`] what one playground may
//! cost, and [`drawing`] the colours the page shares with the CLI's plots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::prelude::Device;
use squiggle_config::{self as config, Config, ConfigError, Edit, Overrides};
use squiggle_model::{Named, ParamTarget};
use squiggle_train::format::{num, plural};
use squiggle_train::{Dataset, Flow, Observer, StepRecord, Stepper, TrainError, full_message};

mod by_epochs;
pub mod drawing;
pub mod limits;
pub mod presets;
pub mod request;
mod view;

use by_epochs::by_steps;
use limits::{MAX_HISTORY, MAX_PARAMS, MAX_POINTS, MAX_STEPS_PER_REQUEST, MAX_VALUE};
use presets::Preset;
pub use request::{Change, Create};
use view::status_message;

/// The device a config's backend opens, as the host can open it (the CLI: any backend
/// compiled in; the web page: flex), or why not in one line.
pub type DeviceOf = fn(&Config) -> std::result::Result<Device, String>;

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

impl Refusal {
    /// The one line that says why.
    pub fn message(&self) -> &str {
        match self {
            Refusal::Bad(m) | Refusal::NotFound(m) | Refusal::Conflict(m) | Refusal::Failed(m) => m,
        }
    }
}

impl From<ConfigError> for Refusal {
    fn from(e: ConfigError) -> Self {
        Refusal::Bad(full_message(&e))
    }
}

impl From<TrainError> for Refusal {
    fn from(e: TrainError) -> Self {
        // The whole chain: a checkpoint that does not serialise says why in its source.
        Refusal::Failed(full_message(&e))
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
    /// `overrides`' one). The config is read once; one that trains by epochs becomes the
    /// step-by-step config of its training rows (`by_steps`), which is read in turn.
    ///
    /// # Errors
    /// A config the loader refuses, or one the playground cannot show: a classifier of more
    /// than two inputs, more than [`MAX_POINTS`] points or [`MAX_PARAMS`] parameters.
    pub fn new(
        name: &str,
        path: &Path,
        text: String,
        overrides: Overrides,
        device_of: DeviceOf,
    ) -> Result<Self> {
        let (config, data) = config::load_text(path, text.clone(), &[], &overrides)?;
        let host = (overrides, device_of);
        if config.by_epochs() {
            let (steps, axes) = by_steps(path, &config, data)?;
            let (config, rows) = load(path, &steps, &BTreeMap::new(), &host.0)?;
            return Self::built(name, path, steps, host, Some(axes), config, rows);
        }
        let (config, rows) = drawable(path, config, data)?;
        Self::built(name, path, text, host, None, config, rows)
    }

    /// A playground of a lesson preset. A preset that reads data files has them compiled in
    /// too: the loader reads them from the program, never from the disk (so a host without
    /// files, the WebAssembly page, opens them as well); such a preset trains by epochs, and
    /// the playground goes on from the points [`Playground::new`] makes of its rows.
    ///
    /// # Errors
    /// As [`Playground::new`].
    pub fn of_preset(preset: &Preset, overrides: Overrides, device_of: DeviceOf) -> Result<Self> {
        let path = preset.path();
        let folder = path.parent().unwrap_or(Path::new(""));
        let files = preset.files.iter();
        let overrides = Overrides {
            compiled_in: squiggle_train::CompiledIn(
                files
                    .map(|&(name, text)| (folder.join(name), text))
                    .collect(),
            ),
            ..overrides
        };
        Self::new(
            preset.name,
            &path,
            preset.text.to_string(),
            overrides,
            device_of,
        )
    }

    /// A playground of the config `text`, which trains step by step and which the loader
    /// made `config` and `rows` of.
    fn built(
        name: &str,
        path: &Path,
        text: String,
        (overrides, device_of): (Overrides, DeviceOf),
        axes: Option<[String; 2]>,
        config: Config,
        rows: Dataset,
    ) -> Result<Self> {
        let device = device_of(&config).map_err(Refusal::Failed)?;
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
    drawable(path, config, data)
}

/// `config` and its `data` (from the config at `path`), checked for what a playground can
/// show.
fn drawable(path: &Path, config: Config, data: config::Data) -> Result<(Config, Dataset)> {
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

/// The rows of `rows` as a playground's points: each row's inputs, then its targets, or a
/// classifier's class index (the ArgMax of its one-hot outputs).
fn point_rows(rows: &Dataset, classifier: bool) -> Vec<Vec<f64>> {
    (0..rows.len())
        .map(|i| {
            let output = rows.output_row(i);
            let mut row = rows.input_row(i);
            match classifier {
                true => row.push(squiggle_train::argmax(&output) as f64),
                false => row.extend(output),
            }
            row
        })
        .collect()
}

/// A float as TOML writes it (`1.0`, `1e-7`).
fn toml_float(v: f64) -> String {
    format!("{v:?}")
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
