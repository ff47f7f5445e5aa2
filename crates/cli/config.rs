//! Config files: the TOML schema as written, and its check into a validated [`Config`].
//!
//! Parsing and checking are separate steps (as cargo and linfa do): [`ConfigFile`] mirrors the
//! file and validates nothing; [`load`] turns it into a [`Config`], the only thing the
//! commands use. Every error is one line, `path:line:column: message`, pointing at the
//! offending key or value.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Deserialize;
use squiggle_model::{
    Activation, Architecture, Initializer, ParamNames, Precision, Values, initial_values,
};
use squiggle_train::{
    Columns, DataError, Dataset, FitPlan, LossKind, Schedule, StopRules, TrainPlan, read_csv,
};

use crate::backend::Backend;
use toml::Spanned;

/// Float precision as named in configs and flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    /// 32-bit floats (the default).
    F32,
    /// 64-bit floats (CPU backends).
    F64,
}

impl From<Dtype> for Precision {
    fn from(d: Dtype) -> Self {
        match d {
            Dtype::F32 => Precision::F32,
            Dtype::F64 => Precision::F64,
        }
    }
}

/// A config as written. Nothing here is validated.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    model: ModelSection,
    data: Option<Spanned<DataSection>>,
    #[serde(default)]
    train: TrainSection,
}

/// `[model]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSection {
    inputs: Option<Spanned<usize>>,
    hidden: Option<Spanned<Vec<usize>>>,
    outputs: Option<Spanned<usize>>,
    activation: Option<Spanned<String>>,
    seed: Option<u64>,
    initializer: Option<Spanned<String>>,
    #[serde(default)]
    init: BTreeMap<String, Spanned<toml::Value>>,
}

/// `[data]`: either `points` or `csv` (with optional `inputs` and `targets` columns).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSection {
    points: Option<Spanned<Vec<Spanned<Vec<f64>>>>>,
    csv: Option<Spanned<String>>,
    inputs: Option<Spanned<Vec<String>>>,
    targets: Option<Spanned<Vec<String>>>,
    valid_fraction: Option<Spanned<f64>>,
    valid_csv: Option<Spanned<String>>,
    standardize: Option<Spanned<bool>>,
}

/// `[train]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainSection {
    trainable: Option<Spanned<Vec<Spanned<String>>>>,
    loss: Option<Spanned<String>>,
    learning_rate: Option<Spanned<f64>>,
    max_steps: Option<Spanned<usize>>,
    min_step_size: Option<Spanned<f64>>,
    target_loss: Option<Spanned<f64>>,
    dtype: Option<Dtype>,
    backend: Option<Spanned<String>>,
    epochs: Option<Spanned<usize>>,
    batch_size: Option<Spanned<usize>>,
    shuffle: Option<Spanned<bool>>,
    momentum: Option<Spanned<f64>>,
    weight_decay: Option<Spanned<f64>>,
    schedule: Option<Spanned<String>>,
    step_every: Option<Spanned<usize>>,
    step_gamma: Option<Spanned<f64>>,
    min_learning_rate: Option<Spanned<f64>>,
    patience: Option<Spanned<usize>>,
}

/// Command-line values that take precedence over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--dtype`.
    pub dtype: Option<Dtype>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--learning-rate` (already checked positive by clap).
    pub learning_rate: Option<f64>,
    /// `--max-steps`.
    pub max_steps: Option<usize>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--backend`.
    pub backend: Option<Backend>,
}

/// A checked config: everything a command needs, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// The network's shape.
    pub arch: Architecture,
    /// Its parameter names.
    pub names: ParamNames,
    /// Initial parameter values, flat order.
    pub initial: Vec<f64>,
    /// The data points.
    pub data: Dataset,
    /// How to train step by step (the lessons).
    pub plan: TrainPlan,
    /// How to train by epochs, when `[train] epochs` is set.
    pub fit: Option<FitPlan>,
    /// Validation data, if any.
    pub valid: Valid,
    /// Standardise inputs and targets with training statistics.
    pub standardize: bool,
    /// Where the tensors live (`--backend`, else `[train] backend`, else flex).
    pub backend: Backend,
    /// The seed of the initial weights, the validation split and the shuffles.
    pub seed: u64,
    /// The config file.
    pub path: PathBuf,
    /// The training CSV file, when the data comes from one.
    pub csv: Option<PathBuf>,
}

/// Where validation rows come from.
#[derive(Debug, Clone)]
pub enum Valid {
    /// No validation.
    None,
    /// This fraction of the data's rows, drawn with the seed.
    Fraction(f64),
    /// A separate file (same columns), and its path.
    Data(Dataset, PathBuf),
}

impl Valid {
    /// True when there is no validation data.
    pub fn is_none(&self) -> bool {
        matches!(self, Valid::None)
    }
}

impl Config {
    /// Names of the trainable parameters, in flat order.
    pub fn trainable_names(&self) -> Vec<String> {
        self.plan
            .trainable_indices()
            .into_iter()
            .map(|i| self.names.name(i).to_string())
            .collect()
    }
}

/// The three points of the lessons: dosage 0, 0.5, 1 → efficacy 0, 1, 0.
const LESSON_POINTS: [[f64; 2]; 3] = [[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]];

/// Reads and checks a config file, applying command-line overrides.
///
/// # Errors
/// A one-line error naming the file, line and column for every problem found.
pub fn load(path: &Path, overrides: &Overrides) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let source = Source {
        path: path.to_path_buf(),
        text,
    };
    let file: ConfigFile = toml::from_str(&source.text).map_err(|e| {
        let message = e.message().trim().replace('\n', " ");
        match e.span() {
            Some(span) => source.error(span, message),
            None => anyhow!("{}: {message}", source.path.display()),
        }
    })?;
    check(file, &source, overrides)
}

/// The file being checked, for error positions.
struct Source {
    path: PathBuf,
    text: String,
}

impl Source {
    /// `path:line:column: message` for the byte range `span`.
    fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> anyhow::Error {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        anyhow!("{}:{line}:{column}: {message}", self.path.display())
    }
}

fn check(file: ConfigFile, src: &Source, overrides: &Overrides) -> anyhow::Result<Config> {
    let (csv, csv_path) = read_csv_data(file.data.as_ref(), src)?.unzip();
    let arch = check_architecture(&file.model, csv.as_ref(), src)?;
    let names = ParamNames::new(&arch);
    let seed = overrides.seed.or(file.model.seed).unwrap_or(0);
    let initializer = match &file.model.initializer {
        None => Initializer::Normal,
        Some(name) => one_of(
            name,
            "initializer",
            &[Initializer::Normal, Initializer::Glorot].map(|i| (i.name(), i)),
            src,
        )?,
    };
    let initial = check_init(
        &file.model.init,
        &names,
        initial_values(&arch, seed, initializer),
        src,
    )?;
    let data = match csv {
        Some(data) => data,
        None => check_data(file.data.as_ref(), &arch, src)?,
    };
    let plan = check_train(&file.train, &names, overrides, src)?;
    let section = file.data.as_ref().map(Spanned::get_ref);
    let fit = check_fit(&file.train, section, &plan, seed, overrides, src)?;
    let valid = check_valid(section, &data, src)?;
    let backend = match (overrides.backend, &file.train.backend) {
        (Some(b), _) => b,
        (None, None) => Backend::Flex,
        (None, Some(name)) => one_of(name, "backend", &Backend::ALL.map(|b| (b.name(), b)), src)?,
    };
    Ok(Config {
        arch,
        names,
        initial,
        data,
        plan,
        fit,
        valid,
        standardize: section
            .and_then(|d| d.standardize.as_ref())
            .is_some_and(|s| *s.get_ref()),
        backend,
        seed,
        path: src.path.clone(),
        csv: csv_path,
    })
}

/// The data of `[data] csv = "…"` (relative to the config's folder), if that is the source.
fn read_csv_data(
    data: Option<&Spanned<DataSection>>,
    src: &Source,
) -> anyhow::Result<Option<(Dataset, PathBuf)>> {
    let Some(section) = data else {
        return Ok(None);
    };
    let section_ref = section.get_ref();
    let Some(csv) = &section_ref.csv else {
        for (key, given) in [
            ("inputs", &section_ref.inputs),
            ("targets", &section_ref.targets),
        ] {
            if let Some(given) = given {
                return Err(src.error(
                    given.span(),
                    format!("[data] `{key}` names CSV columns; it needs `csv = \"file.csv\"`"),
                ));
            }
        }
        return Ok(None);
    };
    if let Some(points) = &section_ref.points {
        return Err(src.error(points.span(), "[data] takes `points` or `csv`, not both"));
    }
    let folder = src.path.parent().unwrap_or(Path::new(""));
    let path = folder.join(csv.get_ref());
    let columns = Columns {
        inputs: section_ref.inputs.as_ref().map(|s| s.get_ref().clone()),
        targets: section_ref.targets.as_ref().map(|s| s.get_ref().clone()),
    };
    Ok(Some((read_csv(&path, &columns)?, path)))
}

fn check_architecture(
    model: &ModelSection,
    csv: Option<&Dataset>,
    src: &Source,
) -> anyhow::Result<Architecture> {
    let activation = match &model.activation {
        None => Activation::Softplus,
        Some(a) => a
            .get_ref()
            .parse()
            .map_err(|msg: String| src.error(a.span(), msg))?,
    };
    // With a CSV file the data decides the widths; a width given as well must agree.
    let (data_inputs, data_outputs) = csv.map_or((1, 1), |d| (d.inputs(), d.outputs()));
    for (key, given, columns) in [
        ("inputs", &model.inputs, data_inputs),
        ("outputs", &model.outputs, data_outputs),
    ] {
        if let (Some(given), Some(_)) = (given, csv)
            && *given.get_ref() != columns
        {
            return Err(src.error(
                given.span(),
                format!(
                    "`{key} = {}` but the CSV data has {columns} {} column{}",
                    given.get_ref(),
                    key.trim_end_matches('s'),
                    if columns == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    let inputs = model.inputs.as_ref().map_or(data_inputs, |s| *s.get_ref());
    let outputs = model
        .outputs
        .as_ref()
        .map_or(data_outputs, |s| *s.get_ref());
    let hidden = model
        .hidden
        .as_ref()
        .map_or_else(|| vec![2], |s| s.get_ref().clone());
    Architecture::new(inputs, hidden, outputs, activation).map_err(|e| {
        let key = match &e {
            squiggle_model::ModelError::ZeroWidth { what } if what == "inputs" => &model.inputs,
            squiggle_model::ModelError::ZeroWidth { what } if what == "outputs" => &model.outputs,
            _ => &None,
        };
        let span = key
            .as_ref()
            .map(Spanned::span)
            .or_else(|| model.hidden.as_ref().map(Spanned::span))
            .unwrap_or(0..0);
        src.error(span, e)
    })
}

fn check_init(
    init: &BTreeMap<String, Spanned<toml::Value>>,
    names: &ParamNames,
    mut values: Vec<f64>,
    src: &Source,
) -> anyhow::Result<Vec<f64>> {
    let mut set_by: Vec<Option<&str>> = vec![None; values.len()];
    let mut entries: Vec<_> = init.iter().collect();
    entries.sort_by_key(|(_, v)| v.span().start);
    for (name, value) in entries {
        let at = |msg: String| src.error(value.span(), format!("[model.init] {msg}"));
        let given = to_values(value.get_ref())
            .ok_or_else(|| at(format!("`{name}` must be a number or an array of numbers")))?;
        let range = names
            .assign(&mut values, name, &given)
            .map_err(|e| at(e.to_string()))?;
        for i in range {
            if let Some(other) = set_by[i] {
                return Err(at(format!(
                    "`{name}` sets {} again (already set by `{other}`)",
                    names.name(i)
                )));
            }
            set_by[i] = Some(name);
        }
    }
    Ok(values)
}

fn to_values(value: &toml::Value) -> Option<Values> {
    match value {
        toml::Value::Integer(i) => Some(Values::Number(*i as f64)),
        toml::Value::Float(x) => Some(Values::Number(*x)),
        toml::Value::Array(items) => items
            .iter()
            .map(to_values)
            .collect::<Option<_>>()
            .map(Values::List),
        _ => None,
    }
}

fn check_data(
    data: Option<&Spanned<DataSection>>,
    arch: &Architecture,
    src: &Source,
) -> anyhow::Result<Dataset> {
    let Some(section) = data else {
        let rows: Vec<Vec<f64>> = LESSON_POINTS.iter().map(|r| r.to_vec()).collect();
        return Dataset::from_rows(&rows, arch.inputs, arch.outputs).map_err(|e| {
            src.error(
                0..0,
                format!("no [data] section, and the lesson's points do not fit: {e}"),
            )
        });
    };
    let Some(points) = &section.get_ref().points else {
        return Err(src.error(
            section.span(),
            "[data] needs `points = [[input…, output…], …]` or `csv = \"file.csv\"`",
        ));
    };
    let rows: Vec<Vec<f64>> = points
        .get_ref()
        .iter()
        .map(|r| r.get_ref().clone())
        .collect();
    Dataset::from_rows(&rows, arch.inputs, arch.outputs).map_err(|e| {
        let span = match e {
            DataError::Width { row, .. } | DataError::NonFinite { row, .. } => {
                points.get_ref()[row].span()
            }
            _ => points.span(),
        };
        src.error(span, format!("[data] points: {e}"))
    })
}

fn check_train(
    train: &TrainSection,
    names: &ParamNames,
    overrides: &Overrides,
    src: &Source,
) -> anyhow::Result<TrainPlan> {
    let loss = match &train.loss {
        // Mini-batches want a loss that does not grow with the batch; the lessons use SSR.
        None if train.epochs.is_some() || overrides.epochs.is_some() => LossKind::Mse,
        None => LossKind::Ssr,
        Some(s) => one_of(
            s,
            "loss",
            &[LossKind::Ssr, LossKind::Mse].map(|l| (l.name(), l)),
            src,
        )?,
    };
    let learning_rate = match (overrides.learning_rate, &train.learning_rate) {
        (Some(lr), _) => lr,
        (None, None) => 0.1,
        (None, Some(lr)) => number(lr, src, "learning_rate", |x| x > 0.0, "a positive number")?,
    };
    let min_step_size = match &train.min_step_size {
        None => StopRules::default().min_step_size,
        Some(s) => number(
            s,
            src,
            "min_step_size",
            |x| x >= 0.0,
            "a number ≥ 0 (0 disables it)",
        )?,
    };
    let target_loss = match &train.target_loss {
        None => None,
        Some(s) => Some(number(s, src, "target_loss", |x| x >= 0.0, "a number ≥ 0")?),
    };
    let stop = StopRules {
        max_steps: overrides
            .max_steps
            .or(train.max_steps.as_ref().map(|s| *s.get_ref()))
            .unwrap_or(StopRules::default().max_steps),
        min_step_size,
        target_loss,
    };
    Ok(TrainPlan {
        loss,
        learning_rate,
        stop,
        trainable: check_trainable(train.trainable.as_ref(), names, src)?,
        precision: overrides.dtype.or(train.dtype).unwrap_or(Dtype::F32).into(),
    })
}

/// The option `value` names among `options` (name, value), or an error at its position
/// listing the names: `unknown {what} `x`; expected one of a, b`.
fn one_of<T: Copy>(
    value: &Spanned<String>,
    what: &str,
    options: &[(&str, T)],
    src: &Source,
) -> anyhow::Result<T> {
    let given = value.get_ref();
    match options.iter().find(|(name, _)| name == given) {
        Some(&(_, option)) => Ok(option),
        None => {
            let names: Vec<&str> = options.iter().map(|&(name, _)| name).collect();
            Err(src.error(
                value.span(),
                format!(
                    "unknown {what} `{given}`; expected one of {}",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// A finite number satisfying `ok`, or an error at its position.
fn number(
    value: &Spanned<f64>,
    src: &Source,
    key: &str,
    ok: impl Fn(f64) -> bool,
    wanted: &str,
) -> anyhow::Result<f64> {
    let x = *value.get_ref();
    if x.is_finite() && ok(x) {
        Ok(x)
    } else {
        Err(src.error(value.span(), format!("`{key}` must be {wanted}, got {x}")))
    }
}

fn check_trainable(
    trainable: Option<&Spanned<Vec<Spanned<String>>>>,
    names: &ParamNames,
    src: &Source,
) -> anyhow::Result<Vec<bool>> {
    let count = names.names().len();
    let Some(list) = trainable else {
        return Ok(vec![true; count]);
    };
    if list.get_ref().is_empty() {
        return Err(src.error(
            list.span(),
            "`trainable` is empty; name at least one parameter (use `squiggle eval` to run without training)",
        ));
    }
    let mut mask = vec![false; count];
    let mut listed_by: Vec<Option<&str>> = vec![None; count];
    for name in list.get_ref() {
        let target = names
            .resolve(name.get_ref())
            .map_err(|e| src.error(name.span(), format!("[train] trainable: {e}")))?;
        for i in names.indices(&target) {
            if let Some(other) = listed_by[i] {
                let what = if other == name.get_ref() {
                    format!("`{other}` is listed twice")
                } else {
                    format!(
                        "`{}` covers {} again (already listed as `{other}`)",
                        name.get_ref(),
                        names.name(i)
                    )
                };
                return Err(src.error(
                    name.span(),
                    format!("[train] trainable: duplicate parameter: {what}"),
                ));
            }
            listed_by[i] = Some(name.get_ref());
            mask[i] = true;
        }
    }
    Ok(mask)
}

/// The epoch plan when `[train] epochs` (or `--epochs`) is given; otherwise checks that no
/// epoch-only key is used.
fn check_fit(
    train: &TrainSection,
    data: Option<&DataSection>,
    plan: &TrainPlan,
    seed: u64,
    overrides: &Overrides,
    src: &Source,
) -> anyhow::Result<Option<FitPlan>> {
    let epochs = overrides
        .epochs
        .or(train.epochs.as_ref().map(|e| *e.get_ref()));
    let Some(epochs) = epochs else {
        let epoch_only: [(&str, Option<Range<usize>>); 12] = [
            ("batch_size", train.batch_size.as_ref().map(Spanned::span)),
            ("shuffle", train.shuffle.as_ref().map(Spanned::span)),
            ("momentum", train.momentum.as_ref().map(Spanned::span)),
            (
                "weight_decay",
                train.weight_decay.as_ref().map(Spanned::span),
            ),
            ("schedule", train.schedule.as_ref().map(Spanned::span)),
            ("step_every", train.step_every.as_ref().map(Spanned::span)),
            ("step_gamma", train.step_gamma.as_ref().map(Spanned::span)),
            (
                "min_learning_rate",
                train.min_learning_rate.as_ref().map(Spanned::span),
            ),
            ("patience", train.patience.as_ref().map(Spanned::span)),
            (
                "valid_fraction",
                data.and_then(|d| d.valid_fraction.as_ref())
                    .map(Spanned::span),
            ),
            (
                "valid_csv",
                data.and_then(|d| d.valid_csv.as_ref()).map(Spanned::span),
            ),
            (
                "standardize",
                data.and_then(|d| d.standardize.as_ref()).map(Spanned::span),
            ),
        ];
        if let Some((key, Some(span))) = epoch_only.into_iter().find(|(_, s)| s.is_some()) {
            return Err(src.error(
                span,
                format!("`{key}` needs `epochs` in [train]: it applies to training by epochs"),
            ));
        }
        return Ok(None);
    };
    if epochs == 0 {
        let span = train.epochs.as_ref().map_or(0..0, Spanned::span);
        return Err(src.error(span, "`epochs` must be at least 1"));
    }
    let step_only = [
        ("max_steps", train.max_steps.as_ref().map(Spanned::span)),
        (
            "min_step_size",
            train.min_step_size.as_ref().map(Spanned::span),
        ),
        ("target_loss", train.target_loss.as_ref().map(Spanned::span)),
    ];
    if let Some((key, Some(span))) = step_only.into_iter().find(|(_, s)| s.is_some()) {
        return Err(src.error(
            span,
            format!("`{key}` is a rule of step-by-step training; with `epochs`, use `patience` to stop early"),
        ));
    }
    let positive_count = |v: &Option<Spanned<usize>>, key: &str| match v {
        Some(v) if *v.get_ref() == 0 => {
            Err(src.error(v.span(), format!("`{key}` must be at least 1")))
        }
        Some(v) => Ok(Some(*v.get_ref())),
        None => Ok(None),
    };
    let batch_size = positive_count(&train.batch_size, "batch_size")?;
    let patience = positive_count(&train.patience, "patience")?;
    let fraction = |v: &Option<Spanned<f64>>, key: &str, ok: fn(f64) -> bool, wanted: &str| {
        v.as_ref()
            .map(|v| number(v, src, key, ok, wanted))
            .transpose()
    };
    let momentum = fraction(
        &train.momentum,
        "momentum",
        |x| (0.0..1.0).contains(&x),
        "in [0, 1)",
    )?;
    let weight_decay = fraction(
        &train.weight_decay,
        "weight_decay",
        |x| x >= 0.0,
        "a number ≥ 0",
    )?;
    let schedule = check_schedule(train, src)?;
    if let Err(msg) = schedule.learning_rates(plan.learning_rate, epochs) {
        let span = train
            .schedule
            .as_ref()
            .map(Spanned::span)
            .or(train.learning_rate.as_ref().map(Spanned::span))
            .unwrap_or(0..0);
        return Err(src.error(span, format!("learning-rate schedule: {msg}")));
    }
    Ok(Some(FitPlan {
        loss: plan.loss,
        epochs,
        batch_size,
        shuffle: train.shuffle.as_ref().is_none_or(|s| *s.get_ref()),
        seed,
        learning_rate: plan.learning_rate,
        schedule,
        momentum: momentum.unwrap_or(0.0),
        weight_decay: weight_decay.unwrap_or(0.0),
        patience,
        trainable: plan.trainable.clone(),
        precision: plan.precision,
    }))
}

fn check_schedule(train: &TrainSection, src: &Source) -> anyhow::Result<Schedule> {
    let name = train
        .schedule
        .as_ref()
        .map_or("constant", |s| s.get_ref().as_str());
    let misplaced = |key: &str, span: Range<usize>, needs: &str| {
        Err(src.error(span, format!("`{key}` applies to `schedule = \"{needs}\"`")))
    };
    if name != "step" {
        for (key, span) in [
            ("step_every", train.step_every.as_ref().map(Spanned::span)),
            ("step_gamma", train.step_gamma.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                return misplaced(key, span, "step");
            }
        }
    }
    if name != "cosine"
        && let Some(m) = &train.min_learning_rate
    {
        return misplaced("min_learning_rate", m.span(), "cosine");
    }
    match name {
        "constant" => Ok(Schedule::Constant),
        "step" => {
            let Some(every) = &train.step_every else {
                let span = train.schedule.as_ref().map_or(0..0, Spanned::span);
                return Err(src.error(
                    span,
                    "`schedule = \"step\"` needs `step_every` (epochs between decays)",
                ));
            };
            if *every.get_ref() == 0 {
                return Err(src.error(every.span(), "`step_every` must be at least 1"));
            }
            let gamma = match &train.step_gamma {
                Some(g) => number(g, src, "step_gamma", |x| x > 0.0 && x < 1.0, "in (0, 1)")?,
                None => 0.1,
            };
            Ok(Schedule::Step {
                every: *every.get_ref(),
                gamma,
            })
        }
        "cosine" => Ok(Schedule::Cosine {
            min_lr: match &train.min_learning_rate {
                Some(m) => number(m, src, "min_learning_rate", |x| x >= 0.0, "a number ≥ 0")?,
                None => 0.0,
            },
        }),
        other => {
            let span = train.schedule.as_ref().map_or(0..0, Spanned::span);
            Err(src.error(
                span,
                format!("unknown schedule `{other}`; expected one of constant, step, cosine"),
            ))
        }
    }
}

/// The validation source of `[data]`: a fraction of the rows or a second CSV file.
fn check_valid(data: Option<&DataSection>, train: &Dataset, src: &Source) -> anyhow::Result<Valid> {
    let Some(data) = data else {
        return Ok(Valid::None);
    };
    match (&data.valid_fraction, &data.valid_csv) {
        (Some(f), Some(_)) => Err(src.error(
            f.span(),
            "[data] takes `valid_fraction` or `valid_csv`, not both",
        )),
        (Some(f), None) => Ok(Valid::Fraction(number(
            f,
            src,
            "valid_fraction",
            |x| x > 0.0 && x < 1.0,
            "in (0, 1)",
        )?)),
        (None, Some(file)) => {
            if data.csv.is_none() {
                return Err(src.error(
                    file.span(),
                    "`valid_csv` needs `csv = \"file.csv\"` for the training rows",
                ));
            }
            let folder = src.path.parent().unwrap_or(Path::new(""));
            let columns = Columns {
                inputs: Some(train.input_names().to_vec()),
                targets: Some(train.output_names().to_vec()),
            };
            let path = folder.join(file.get_ref());
            Ok(Valid::Data(read_csv(&path, &columns)?, path))
        }
        (None, None) => Ok(Valid::None),
    }
}

impl Config {
    /// The config as it was run: every default filled in, the initial parameters written out
    /// tensor by tensor, data paths absolute. `squiggle train` accepts it as it is.
    pub fn resolved_toml(&self) -> String {
        use toml::{Table, Value};
        let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
        let int = |x: usize| Value::Integer(x as i64);
        let absolute = |p: &Path| {
            Value::String(
                std::path::absolute(p)
                    .unwrap_or_else(|_| p.to_path_buf())
                    .display()
                    .to_string(),
            )
        };
        let mut model = Table::new();
        model.insert("inputs".into(), int(self.arch.inputs));
        model.insert(
            "hidden".into(),
            Value::Array(self.arch.hidden.iter().map(|&h| int(h)).collect()),
        );
        model.insert("outputs".into(), int(self.arch.outputs));
        model.insert(
            "activation".into(),
            Value::String(self.arch.activation.name().into()),
        );
        model.insert("seed".into(), Value::Integer(self.seed as i64));
        let mut init = Table::new();
        for spec in self.arch.tensors() {
            let values = &self.initial[spec.range()];
            let value = match spec.shape.as_slice() {
                [_, cols] => Value::Array(
                    values
                        .chunks(*cols)
                        .map(|row| Value::Array(row.iter().map(|&v| Value::Float(v)).collect()))
                        .collect(),
                ),
                _ => Value::Array(values.iter().map(|&v| Value::Float(v)).collect()),
            };
            init.insert(spec.path.clone(), value);
        }
        model.insert("init".into(), Value::Table(init));

        let mut data = Table::new();
        match &self.csv {
            Some(csv) => {
                data.insert("csv".into(), absolute(csv));
                data.insert("inputs".into(), strings(self.data.input_names()));
                data.insert("targets".into(), strings(self.data.output_names()));
            }
            None => {
                let rows = (0..self.data.len())
                    .map(|i| {
                        let mut row = self.data.input_row(i);
                        row.extend(self.data.output_row(i));
                        Value::Array(row.into_iter().map(Value::Float).collect())
                    })
                    .collect();
                data.insert("points".into(), Value::Array(rows));
            }
        }
        match &self.valid {
            Valid::None => {}
            Valid::Fraction(f) => {
                data.insert("valid_fraction".into(), Value::Float(*f));
            }
            Valid::Data(_, path) => {
                data.insert("valid_csv".into(), absolute(path));
            }
        }

        let mut train = Table::new();
        let plan = &self.plan;
        train.insert("backend".into(), Value::String(self.backend.name().into()));
        train.insert("dtype".into(), Value::String(plan.precision.name().into()));
        train.insert("loss".into(), Value::String(plan.loss.name().into()));
        train.insert("learning_rate".into(), Value::Float(plan.learning_rate));
        train.insert("trainable".into(), strings(&self.trainable_names()));
        match &self.fit {
            None => {
                train.insert("max_steps".into(), int(plan.stop.max_steps));
                train.insert(
                    "min_step_size".into(),
                    Value::Float(plan.stop.min_step_size),
                );
                if let Some(t) = plan.stop.target_loss {
                    train.insert("target_loss".into(), Value::Float(t));
                }
            }
            Some(fit) => {
                if self.standardize {
                    data.insert("standardize".into(), Value::Boolean(true));
                }
                train.insert("epochs".into(), int(fit.epochs));
                if let Some(b) = fit.batch_size {
                    train.insert("batch_size".into(), int(b));
                }
                train.insert("shuffle".into(), Value::Boolean(fit.shuffle));
                train.insert("momentum".into(), Value::Float(fit.momentum));
                train.insert("weight_decay".into(), Value::Float(fit.weight_decay));
                match fit.schedule {
                    Schedule::Constant => {
                        train.insert("schedule".into(), Value::String("constant".into()));
                    }
                    Schedule::Step { every, gamma } => {
                        train.insert("schedule".into(), Value::String("step".into()));
                        train.insert("step_every".into(), int(every));
                        train.insert("step_gamma".into(), Value::Float(gamma));
                    }
                    Schedule::Cosine { min_lr } => {
                        train.insert("schedule".into(), Value::String("cosine".into()));
                        train.insert("min_learning_rate".into(), Value::Float(min_lr));
                    }
                }
                if let Some(p) = fit.patience {
                    train.insert("patience".into(), int(p));
                }
            }
        }
        let mut root = Table::new();
        root.insert("model".into(), Value::Table(model));
        root.insert("data".into(), Value::Table(data));
        root.insert("train".into(), Value::Table(train));
        format!(
            "# Resolved by squiggle from {}: every default filled in.\n{}",
            self.path.display(),
            toml::to_string(&root).expect("a TOML table serialises")
        )
    }
}
