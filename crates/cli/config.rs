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
    Activation, Architecture, ParamNames, Precision, Values, standard_normal_values,
};
use squiggle_train::{Columns, DataError, Dataset, LossKind, StopRules, TrainPlan, read_csv};
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
}

/// `[train]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainSection {
    trainable: Option<Spanned<Vec<Spanned<String>>>>,
    loss: Option<Spanned<String>>,
    learning_rate: Option<Spanned<f64>>,
    max_steps: Option<usize>,
    min_step_size: Option<Spanned<f64>>,
    target_loss: Option<Spanned<f64>>,
    dtype: Option<Dtype>,
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
    /// How to train.
    pub plan: TrainPlan,
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
    let csv = read_csv_data(file.data.as_ref(), src)?;
    let arch = check_architecture(&file.model, csv.as_ref(), src)?;
    let names = ParamNames::new(&arch);
    let seed = overrides.seed.or(file.model.seed).unwrap_or(0);
    let initial = check_init(&file.model.init, &arch, &names, seed, src)?;
    let data = match csv {
        Some(data) => data,
        None => check_data(file.data.as_ref(), &arch, src)?,
    };
    let plan = check_train(&file.train, &names, overrides, src)?;
    Ok(Config {
        arch,
        names,
        initial,
        data,
        plan,
    })
}

/// The data of `[data] csv = "…"` (relative to the config's folder), if that is the source.
fn read_csv_data(
    data: Option<&Spanned<DataSection>>,
    src: &Source,
) -> anyhow::Result<Option<Dataset>> {
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
    Ok(Some(read_csv(&path, &columns)?))
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
    arch: &Architecture,
    names: &ParamNames,
    seed: u64,
    src: &Source,
) -> anyhow::Result<Vec<f64>> {
    let mut values = standard_normal_values(arch, seed);
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
        None => LossKind::Ssr,
        Some(s) => match s.get_ref().as_str() {
            "ssr" => LossKind::Ssr,
            "mse" => LossKind::Mse,
            other => {
                return Err(src.error(
                    s.span(),
                    format!("unknown loss `{other}`; expected one of ssr, mse"),
                ));
            }
        },
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
            .or(train.max_steps)
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
