//! From a parsed [`ConfigFile`] to a [`Config`]: the checks that are about the file (which
//! keys go together, positions, parameter names), the hand-off of the training settings to
//! `squiggle_train`'s plan (which owns every check about training), then the data.
//!
//! Order: the settings are checked first, then the data sources are read, then the network
//! (whose widths may come from a CSV file's columns), its initial values and the trainable
//! parameters. So a mistake in the config is reported before a large file is read.

use crate::{ConfigError, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use squiggle_model::{
    Architecture, DEFAULT_MAX_PARAMS, Initializer, ModelError, ParamNames, Values, initial_values,
};
use squiggle_train::{
    Categorical, CheckedSettings, Classes, Columns, CsvOptions, DataError, DataSource, Dataset,
    Labels, LoadError, Missing, PlanError, Problem, Setting, Settings, read_csv,
};
use toml::Spanned;

use super::schema::{ConfigFile, DataSection, ModelSection, TrainSection, in_section};
use super::source::{Origin, Source};
use super::{Config, Data, DataRead, Overrides};
use crate::backend::Backend;

/// Where each training setting came from.
#[derive(Default)]
struct Origins(HashMap<Setting, Origin>);

impl Origins {
    /// The value of `field`, remembering its position under `setting`.
    fn take<T: Clone>(&mut self, setting: Setting, field: &Option<Spanned<T>>) -> Option<T> {
        let field = field.as_ref()?;
        self.0.insert(setting, Origin::File(field.span()));
        Some(field.get_ref().clone())
    }

    /// `value` from the flag `flag`, when given, in place of the file's.
    fn flag<T>(
        &mut self,
        setting: Setting,
        flag: &'static str,
        value: Option<T>,
        slot: &mut Option<T>,
    ) {
        if let Some(value) = value {
            self.0.insert(setting, Origin::Flag(flag));
            *slot = Some(value);
        }
    }

    /// Where `setting` came from (the top of the file for a default).
    fn of(&self, setting: Setting) -> Origin {
        self.0.get(&setting).cloned().unwrap_or(Origin::File(0..0))
    }

    /// `error` at the position of the setting it names. A schedule that refuses the learning
    /// rate is placed at the learning rate when a flag gave it (the flag is what changed).
    fn error(&self, src: &Source, error: PlanError) -> ConfigError {
        let rate = self.of(Setting::LearningRate);
        let at = match (&error.problem, &rate) {
            (Problem::Schedule(_), Origin::Flag(_)) => rate,
            _ => self.of(error.setting),
        };
        src.error_at(&at, error)
    }
}

/// Checks `file`, reads its data, and builds the [`Config`], in stages: the training
/// settings (before anything is read), the data source, the training rows of a file (whose
/// columns may give the network its widths), the network, its initial values, the rows of a
/// config's points, the plan, the validation rows.
pub(super) fn check(
    file: ConfigFile,
    src: &Source,
    overrides: &Overrides,
) -> Result<(Config, Data)> {
    let data_section = file.data.as_ref().map(Spanned::get_ref);
    let trains = file.train.is_some()
        || overrides.learning_rate.is_some()
        || overrides.max_steps.is_some()
        || overrides.epochs.is_some();
    let train_section = file.train.unwrap_or_default();
    let (settings, origins) = settings(&file.model, &train_section, data_section, overrides);
    let checked = settings.check().map_err(|e| origins.error(src, e))?;
    let classify = checked.loss().is_cross_entropy();
    let source = data_source(file.data.as_ref(), &file.model, classify, src, overrides)?;
    let (csv, stream, seconds) = match &source {
        DataSource::Csv { .. } => {
            let streams = overrides.streams;
            let (read, seconds) = timed(|| {
                super::stream::training_rows(&source, data_section, &settings, streams, src)
            });
            let (rows, stream) = read?;
            (Some(rows), stream, seconds)
        }
        _ => (None, None, 0.0),
    };
    let mut read = csv.as_ref().map(|data| DataRead {
        rows: data.identity().rows as usize,
        dropped: stream.as_ref().map_or(data.dropped(), |s| s.gaps().0),
        filled: stream.as_ref().map_or(data.gaps().filled, |s| s.gaps().1),
        seconds,
    });
    let widths = match (&source, &csv) {
        (_, Some(data)) => Some((data.inputs(), data.outputs())),
        (
            DataSource::Points {
                inputs,
                outputs,
                classes: Some(_),
                ..
            },
            None,
        ) => Some((*inputs, *outputs)),
        _ => None,
    };
    let (arch, max_params) = network(&file.model, widths, classify, &settings, src, overrides)?;
    let names = ParamNames::new(&arch);
    let (initializer, initial) = start(&file.model, &source, &names, &arch, &settings, src)?;
    let train = match csv {
        Some(rows) => rows,
        None => config_rows(&source, file.data.as_ref(), classify, src)?,
    };
    let trainable = trainable(train_section.trainable.as_ref(), &names, src)?;
    if let Some(note) = renamed_by_edit(&file.model, &train_section, &arch, src) {
        eprintln!("squiggle: note: {note}");
    }
    let plan = plan(checked, &arch, trainable, &origins, src)?;
    let rows = stream
        .as_ref()
        .map_or(train.len(), |s| s.train_len() as usize);
    crate::memory::ensure_fits(
        overrides,
        &format!(
            "training on {} rows at a time",
            squiggle_train::format::thousands(plan.rows_at_once(rows))
        ),
        plan.working_bytes(&arch, rows),
    )
    .map_err(|e| src.error_at(&origins.of(Setting::BatchSize), e))?;
    let valid_csv = data_section
        .and_then(|d| d.valid_csv.as_ref())
        .map(|file| relative(src, file));
    let valid = match &valid_csv {
        Some(path) => Some(validation_rows(path, &train, &source, &mut read)?),
        None => None,
    };
    let backend = match (overrides.backend, &train_section.backend) {
        (Some(b), _) => b,
        (None, Some(b)) => *b.get_ref(),
        (None, None) => Backend::Flex,
    };
    let config = Config {
        path: src.path.clone(),
        arch,
        names,
        initializer,
        max_params,
        initial,
        init: file
            .model
            .init
            .iter()
            .map(|(name, value)| (name.clone(), value.get_ref().clone()))
            .collect(),
        inputs: train.input_names().to_vec(),
        input_columns: train.input_columns("training data's").0,
        targets: train.output_names().to_vec(),
        classes: train.classes().cloned(),
        source,
        valid_csv,
        shuffle_buffer: stream.as_ref().map(|s| s.shuffle_buffer()),
        plan,
        backend,
        given: settings.given(),
        trains,
    };
    Ok((
        config,
        Data {
            train,
            valid,
            read,
            stream,
        },
    ))
}

/// The network of `[model]` (its widths from `widths`, a data file's or a classifier's
/// classes, when given), within its size limit and the memory its parameters need.
fn network(
    model: &ModelSection,
    widths: Option<(usize, usize)>,
    classify: bool,
    settings: &Settings,
    src: &Source,
    overrides: &Overrides,
) -> Result<(Architecture, u64)> {
    let arch = architecture(model, widths, classify, src)?;
    let max_params = model
        .max_params
        .as_ref()
        .map_or(DEFAULT_MAX_PARAMS, |m| *m.get_ref());
    let span = model.hidden.as_ref().map_or(0..0, Spanned::span);
    arch.check_size(max_params)
        .map_err(|e| src.error(span.clone(), e))?;
    // Every parameter is held as f64 on the host (its initial value, and read back) and on the
    // device with its gradient and an optimizer's two moments at the run's precision.
    let precision = settings.precision.unwrap_or_default().dtype().size() as f64;
    let bytes = arch.num_params() as f64 * (16.0 + 4.0 * precision);
    crate::memory::ensure_fits(
        overrides,
        &format!("a network of {} parameters", arch.num_params()),
        bytes,
    )
    .map_err(|e| src.error(span, e))?;
    Ok((arch, max_params))
}

/// Where training starts: the initializer (the lessons draw standard normal weights; a data
/// file starts where Burn and PyTorch do) and the initial values with `[model.init]`'s.
fn start(
    model: &ModelSection,
    source: &DataSource,
    names: &ParamNames,
    arch: &Architecture,
    settings: &Settings,
    src: &Source,
) -> Result<(Initializer, Vec<f64>)> {
    let initializer = match &model.initializer {
        Some(i) => *i.get_ref(),
        None if source.csv_path().is_some() => Initializer::Uniform,
        None => Initializer::Normal,
    };
    let seed = settings.seed.unwrap_or(0);
    let drawn = initial_values(arch, seed, initializer);
    let initial = init_values(&model.init, names, drawn, src)?;
    Ok((initializer, initial))
}

/// The rows of the lesson's points or of `[data] points`, an error placed at the row at
/// fault.
fn config_rows(
    source: &DataSource,
    data: Option<&Spanned<DataSection>>,
    classify: bool,
    src: &Source,
) -> Result<Dataset> {
    let points = data.and_then(|d| d.get_ref().points.as_ref());
    match (source, points) {
        (DataSource::Lesson { .. }, _) if classify => Err(src.error(
            0..0,
            "`loss = \"cross_entropy\"` needs labelled data: [data] `csv = \"file.csv\"` with a label column, or `points` with `classes`",
        )),
        (DataSource::Lesson { .. }, _) => source.load().map_err(|e| {
            src.error(
                0..0,
                format!("no [data] section, and the lesson's points do not fit: {e}"),
            )
        }),
        (_, Some(points)) => source.load().map_err(|e| {
            let span = match &e {
                LoadError::Rows(
                    DataError::Width { row, .. }
                    | DataError::NonFinite { row, .. }
                    | DataError::Class { row, .. },
                ) => points.get_ref()[*row].span(),
                _ => points.span(),
            };
            src.error(span, format!("[data] points: {e}"))
        }),
        (_, None) => Ok(source.load()?),
    }
}

/// The rows of `[data] valid_csv`: the training file's columns, categories and classes, its
/// gaps filled with the training file's means; their count and reading time added to `read`.
fn validation_rows(
    path: &Path,
    train: &Dataset,
    source: &DataSource,
    read: &mut Option<DataRead>,
) -> Result<Dataset> {
    let (inputs, categorical) = train.input_columns("training data's");
    let columns = match train.classes() {
        Some(classes) => Columns {
            inputs: Some(inputs),
            targets: Some(vec![classes.column.clone()]),
            labels: Some(Labels::Known {
                names: classes.names.clone(),
                from: "training data's",
            }),
            categorical,
            ..Columns::default()
        },
        None => Columns {
            inputs: Some(inputs),
            targets: Some(train.output_names().to_vec()),
            categorical,
            ..Columns::default()
        },
    };
    let options = match source {
        DataSource::Csv { options, .. } => CsvOptions {
            fill: train.gaps().fill.clone(),
            ..options.clone()
        },
        _ => CsvOptions::default(),
    };
    let (rows, seconds) = timed(|| read_csv(path, &columns, &options));
    let rows = rows?;
    if let Some(read) = read {
        read.rows += rows.len();
        read.dropped += rows.dropped();
        read.filled += rows.gaps().filled;
        read.seconds += seconds;
    }
    Ok(rows)
}

/// `read()` and the seconds it took, where `std` has a clock: in a WebAssembly page it has
/// none (`Instant::now` panics there), and the page's reads count as 0 s.
fn timed<T>(read: impl FnOnce() -> T) -> (T, f64) {
    #[cfg(not(target_family = "wasm"))]
    {
        let start = std::time::Instant::now();
        let value = read();
        (value, start.elapsed().as_secs_f64())
    }
    #[cfg(target_family = "wasm")]
    (read(), 0.0)
}

/// The checked settings with the trainable mask: the plan.
fn plan(
    checked: CheckedSettings,
    arch: &Architecture,
    trainable: Vec<bool>,
    origins: &Origins,
    src: &Source,
) -> Result<squiggle_train::TrainPlan> {
    checked
        .into_plan(arch, trainable)
        .map_err(|e| origins.error(src, e))
}

/// The training settings of the sections `model`, `data` and `train`, each remembered in
/// `o` with its position: every setting of `squiggle_train`'s table, taken from the section
/// that holds it.
macro_rules! gather {
    ($o:ident, $model:ident, $data:ident, $train:ident rows:
        $( $(#[$doc:meta])* $f:ident : $ty:ty = $v:ident $k:literal $sec:ident $mode:ident $kind:ident; )*) => {
        Settings {
            $( $f: take!($kind $o, Setting::$v, &in_section!($sec, $model, $data, $train).$f), )*
            data_set: false,
        }
    };
}

/// A setting's value (`value`), or whether it was given (`given`), remembering its position.
macro_rules! take {
    (value $o:ident, $setting:expr, $field:expr) => {
        $o.take($setting, $field)
    };
    (given $o:ident, $setting:expr, $field:expr) => {
        $o.take($setting, $field).is_some()
    };
}

/// The training settings of the file, with the flags that override them, and where each
/// came from.
fn settings(
    model: &ModelSection,
    train: &TrainSection,
    data: Option<&DataSection>,
    overrides: &Overrides,
) -> (Settings, Origins) {
    let mut o = Origins::default();
    o.take(Setting::Trainable, &train.trainable);
    let empty = DataSection::default();
    let data = data.unwrap_or(&empty);
    let mut settings = squiggle_train::for_each_setting!(gather! { o, model, data, train });
    settings.data_set = data.csv.is_some();
    let f = overrides;
    // `--epochs` on a config that trains step by step trains it by epochs (full batch unless
    // `--set train.batch_size=N`): the file's step-by-step rules are set aside, said in one
    // line (a `--max-steps` given with it is still refused).
    if f.epochs.is_some() && train.epochs.is_none() {
        let rules = [
            ("max_steps", settings.max_steps.take().is_some()),
            ("min_step_size", settings.min_step_size.take().is_some()),
            ("target_loss", settings.target_loss.take().is_some()),
        ];
        let set_aside: Vec<&str> = rules.iter().filter(|r| r.1).map(|r| r.0).collect();
        // (With `--max-steps` too, the refusal that follows says it all.)
        if !set_aside.is_empty() && f.max_steps.is_none() {
            eprintln!(
                "squiggle: note: --epochs trains by epochs, so the config's step-by-step rules are set aside ({})",
                set_aside.join(", ")
            );
        }
    }
    o.flag(
        Setting::Dtype,
        "--dtype",
        f.precision,
        &mut settings.precision,
    );
    o.flag(
        Setting::Kernels,
        "--kernels",
        f.kernels,
        &mut settings.kernels,
    );
    o.flag(Setting::Seed, "--seed", f.seed, &mut settings.seed);
    o.flag(
        Setting::LearningRate,
        "--learning-rate",
        f.learning_rate,
        &mut settings.learning_rate,
    );
    o.flag(
        Setting::MaxSteps,
        "--max-steps",
        f.max_steps,
        &mut settings.max_steps,
    );
    o.flag(Setting::Epochs, "--epochs", f.epochs, &mut settings.epochs);
    (settings, o)
}

/// Where the training rows come from, checked but not read: the lesson's points (no
/// `[data]`), `[data] points` or a CSV file. The widths that split a row of points into
/// inputs and outputs are the network's as `[model]` gives them (the outputs a classifier's
/// classes), which `architecture` then holds the network to.
fn data_source(
    data: Option<&Spanned<DataSection>>,
    model: &ModelSection,
    classify: bool,
    src: &Source,
    overrides: &Overrides,
) -> Result<DataSource> {
    let given = |width: &Option<Spanned<usize>>| width.as_ref().map_or(1, |w| *w.get_ref());
    let Some(section) = data else {
        return Ok(DataSource::Lesson {
            inputs: given(&model.inputs),
            outputs: given(&model.outputs),
        });
    };
    let d = section.get_ref();
    let classes = d.classes.as_ref();
    if let Some(given) = classes {
        let at = |msg: String| src.error(given.span(), format!("[data] classes: {msg}"));
        if !classify {
            return Err(at(
                "class names need `loss = \"cross_entropy\"` in [train]".to_string()
            ));
        }
        Classes::check_names(given.get_ref()).map_err(|e| at(e.to_string()))?;
    }
    let Some(csv) = &d.csv else {
        not_for_points(d, src)?;
        return match &d.points {
            Some(points) if classify && classes.is_none() => Err(src.error(
                points.span(),
                "[data] points for `loss = \"cross_entropy\"` need `classes = [\"name\", …]`: each row ends with its class index",
            )),
            Some(points) => Ok(DataSource::Points {
                rows: points.get_ref().iter().map(|r| r.get_ref().clone()).collect(),
                inputs: given(&model.inputs),
                outputs: classes.map_or_else(|| given(&model.outputs), |c| c.get_ref().len()),
                classes: classes.map(|c| c.get_ref().clone()),
            }),
            None => Err(src.error(
                section.span(),
                "[data] needs `points = [[input…, output…], …]` or `csv = \"file.csv\"`",
            )),
        };
    };
    if let Some(points) = &d.points {
        return Err(src.error(points.span(), "[data] takes `points` or `csv`, not both"));
    }
    let options = CsvOptions {
        delimiter: match &d.delimiter {
            Some(given) => delimiter(given.get_ref())
                .map_err(|e| src.error(given.span(), format!("[data] delimiter: {e}")))?,
            None => CsvOptions::default().delimiter,
        },
        missing: match &d.missing {
            Some(given) => match given.get_ref().as_str() {
                "error" => Missing::Error,
                "drop" => Missing::Drop,
                "mean" => Missing::Mean,
                other => {
                    return Err(src.error(
                        given.span(),
                        format!("[data] missing: `{other}` is not one of: error (stop at the first, counting them), drop (leave such rows out), mean (fill inputs with their column's mean)"),
                    ));
                }
            },
            None => Missing::default(),
        },
        fill: None,
        memory_limit: match &d.memory_limit {
            Some(given) => Some(
                memory_limit(given.get_ref())
                    .map_err(|e| src.error(given.span(), format!("[data] memory_limit: {e}")))?,
            ),
            None => crate::memory::available(overrides),
        },
        compiled_in: overrides.compiled_in.clone(),
    };
    Ok(DataSource::Csv {
        path: relative(src, csv),
        columns: Columns {
            inputs: d.inputs.as_ref().map(|s| s.get_ref().clone()),
            targets: d.targets.as_ref().map(|s| s.get_ref().clone()),
            labels: classify.then(|| match classes {
                Some(names) => Labels::Known {
                    names: names.get_ref().clone(),
                    from: "[data]",
                },
                None => Labels::Found,
            }),
            exclude: d
                .exclude
                .as_ref()
                .map_or_else(Vec::new, |s| s.get_ref().clone()),
            categorical: d.categorical.as_ref().map_or_else(Vec::new, |s| {
                s.get_ref()
                    .iter()
                    .map(|column| Categorical {
                        column: column.clone(),
                        categories: Labels::Found,
                    })
                    .collect()
            }),
        },
        options,
    })
}

/// Refuses the `[data]` keys that only a CSV file takes, in a section without one.
fn not_for_points(d: &DataSection, src: &Source) -> Result<()> {
    for (key, given) in [
        ("delimiter", &d.delimiter),
        ("missing", &d.missing),
        ("memory_limit", &d.memory_limit),
    ] {
        if let Some(given) = given {
            return Err(src.error(
                given.span(),
                format!("[data] `{key}` is for CSV files; it needs `csv = \"file.csv\"`"),
            ));
        }
    }
    let streaming = [
        ("stream", d.stream.as_ref().map(Spanned::span)),
        (
            "shuffle_buffer",
            d.shuffle_buffer.as_ref().map(Spanned::span),
        ),
    ];
    if let Some((key, Some(span))) = streaming.into_iter().find(|(_, s)| s.is_some()) {
        return Err(src.error(
            span,
            format!("[data] `{key}` streams a CSV file; it needs `csv = \"file.csv\"`"),
        ));
    }
    for (key, given) in [
        ("inputs", &d.inputs),
        ("targets", &d.targets),
        ("exclude", &d.exclude),
        ("categorical", &d.categorical),
    ] {
        if let Some(given) = given {
            return Err(src.error(
                given.span(),
                format!("[data] `{key}` names CSV columns; it needs `csv = \"file.csv\"`"),
            ));
        }
    }
    if let Some(file) = &d.valid_csv {
        return Err(src.error(
            file.span(),
            "`valid_csv` needs `csv = \"file.csv\"` for the training rows",
        ));
    }
    Ok(())
}

/// A `memory_limit` setting in bytes: a number with a unit, `B`, `KB`, `MB`, `GB`, `TB`
/// (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024).
pub fn memory_limit(given: &str) -> Result<u64, String> {
    let text = given.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e')))
        .unwrap_or(text.len());
    let (number, unit) = (text[..split].trim(), text[split..].trim());
    let scale: f64 = match unit {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "{given:?} needs a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (\"8 GB\", \"512 MiB\")"
            ));
        }
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && (n * scale).is_finite() && n * scale < 1.8e19 => Ok((n * scale) as u64),
        _ => Err(format!(
            "{given:?} is not a positive amount of memory (\"8 GB\", \"512 MiB\")"
        )),
    }
}

/// A `delimiter` setting as the byte it names: one ASCII character that cannot be part of
/// a field's text or end a line.
pub fn delimiter(given: &str) -> Result<u8, String> {
    match given.as_bytes() {
        [b'"' | b'\n' | b'\r'] => Err(format!(
            "{given:?} cannot separate fields; use `,`, `;`, `\\t` or another character"
        )),
        [byte] if byte.is_ascii() => Ok(*byte),
        _ => Err(format!(
            "{given:?} is not one character; use `,`, `;`, `\\t` or another ASCII character"
        )),
    }
}

/// A data file named in a config, relative to the config's folder (`-`, standard input, as
/// it is); a path a `--set` edit gave is taken as the shell took it, relative to the working
/// folder.
fn relative(src: &Source, file: &Spanned<String>) -> PathBuf {
    if src.edit_at(&file.span()).is_some() || file.get_ref() == squiggle_train::STDIN {
        return PathBuf::from(file.get_ref());
    }
    src.path
        .parent()
        .unwrap_or(Path::new(""))
        .join(file.get_ref())
}

/// The network's shape. With a CSV file the chosen columns decide the widths (one output per
/// class for a classifier, as `classes` does for points); widths given as well must agree.
fn architecture(
    model: &ModelSection,
    widths: Option<(usize, usize)>,
    classify: bool,
    src: &Source,
) -> Result<Architecture> {
    let activation = model
        .activation
        .as_ref()
        .map_or_else(Default::default, |a| *a.get_ref());
    let (data_inputs, data_outputs) = widths.unwrap_or((1, 1));
    for (key, given, columns) in [
        ("inputs", &model.inputs, data_inputs),
        ("outputs", &model.outputs, data_outputs),
    ] {
        if let (Some(given), Some(_)) = (given, widths)
            && *given.get_ref() != columns
        {
            let has = if classify && key == "outputs" {
                format!("the data has {columns} classes (one output each)")
            } else {
                format!(
                    "the CSV data has {columns} {} column{}",
                    key.trim_end_matches('s'),
                    if columns == 1 { "" } else { "s" }
                )
            };
            return Err(src.error(
                given.span(),
                format!("`{key} = {}` but {has}", given.get_ref()),
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
            ModelError::ZeroWidth { what } if what == "inputs" => &model.inputs,
            ModelError::ZeroWidth { what } if what == "outputs" => &model.outputs,
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

/// `[model.init]` written over the drawn `values`.
fn init_values(
    init: &BTreeMap<String, Spanned<toml::Value>>,
    names: &ParamNames,
    mut values: Vec<f64>,
    src: &Source,
) -> Result<Vec<f64>> {
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

/// A `[model.init]` table as a run folder's `config.toml` holds it, written over the drawn
/// `values`; `None` when an entry names no parameter or does not fit it.
pub(super) fn written_over(
    init: &toml::Table,
    names: &ParamNames,
    mut values: Vec<f64>,
) -> Option<Vec<f64>> {
    for (name, value) in init {
        let given = to_values(value)?;
        names.assign(&mut values, name, &given).ok()?;
    }
    Some(values)
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

/// When a `--set model.hidden=…` edit changes a network with the lesson's names (w1, b1, …,
/// whose places depend on the hidden width), what the names the file itself writes in
/// `[model.init]` and `trainable` now are: the run would otherwise train and start other
/// parameters than the config's author meant, without a word.
fn renamed_by_edit(
    model: &ModelSection,
    train: &TrainSection,
    arch: &Architecture,
    src: &Source,
) -> Option<String> {
    let hidden = model.hidden.as_ref()?;
    let edit = src.edit_at(&hidden.span())?;
    // The names as the file's own hidden widths place them.
    let file: toml::Table = src.text.parse().ok()?;
    let widths = file.get("model")?.get("hidden")?.as_array()?;
    let widths: Vec<usize> = widths
        .iter()
        .map(|w| w.as_integer().and_then(|w| usize::try_from(w).ok()))
        .collect::<Option<_>>()?;
    let before = Architecture::new(arch.inputs, widths, arch.outputs, arch.activation).ok()?;
    let (was, names) = (ParamNames::new(&before), ParamNames::new(arch));
    if !names.has_lesson_names() || !was.has_lesson_names() {
        return None;
    }
    let in_file = |span: std::ops::Range<usize>| src.edit_at(&span).is_none();
    let init = model
        .init
        .iter()
        .filter(|(_, v)| in_file(v.span()))
        .map(|(k, _)| k.as_str());
    let listed = train.trainable.iter().flat_map(|t| t.get_ref());
    let listed = listed
        .filter(|n| in_file(n.span()))
        .map(|n| n.get_ref().as_str());
    let mut used: Vec<&str> = Vec::new();
    for name in init.chain(listed) {
        if !used.contains(&name) && names.names().iter().any(|n| n == name) {
            used.push(name);
        }
    }
    if used.is_empty() {
        return None;
    }
    let place = |names: &ParamNames, name: &str| match names.resolve(name) {
        Ok(squiggle_model::ParamTarget::Scalar(i)) => Some(names.place(i)),
        _ => None,
    };
    let moved: Vec<String> = used
        .iter()
        .filter_map(|name| {
            let (then, now) = (place(&was, name)?, place(&names, name)?);
            (then != now).then(|| format!("{name} was {then} and is now {now}"))
        })
        .collect();
    if moved.is_empty() {
        return None;
    }
    let output_bias = names.names().last()?;
    Some(format!(
        "{edit} moves the lesson's parameter names that [model.init] and trainable use: {} (the output bias is now {output_bias})",
        moved.join(", ")
    ))
}

/// The trainable mask of `[train] trainable` (every parameter when absent; an empty list
/// gives an empty mask, which the plan refuses).
fn trainable(
    list: Option<&Spanned<Vec<Spanned<String>>>>,
    names: &ParamNames,
    src: &Source,
) -> Result<Vec<bool>> {
    let count = names.names().len();
    let Some(list) = list else {
        return Ok(vec![true; count]);
    };
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
