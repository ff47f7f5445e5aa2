//! Config files: the TOML schema as written (`schema`), positions for messages
//! (`source`), and the checks that turn a file into a [`Config`] (`check`).
//!
//! Parsing and checking are separate steps (as cargo and linfa do): the schema mirrors the
//! file and validates nothing; [`load`] checks it, hands the training settings to
//! `squiggle_train` (which owns every check about training), reads the data, and returns the
//! [`Config`] the commands use. Every error is one line, `path:line:column: message`,
//! pointing at the offending key or value (or `--flag: message` for a flag).

mod backend;
mod check;
mod error;
mod memory;
mod schema;
mod set;
mod source;
mod stream;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use squiggle_model::{Architecture, Initializer, ParamNames, Precision};
use squiggle_train::{CsvOptions, DataSource, Dataset, Missing, Prepared, TrainPlan};
use toml::Spanned;
use toml::de::DeTable;

pub use backend::Backend;
pub use check::delimiter;
pub use error::ConfigError;
use schema::{ConfigFile, DataSection, ModelSection, TrainSection, in_section, resolved};
pub use set::Edit;
use source::Source;

/// Results of this crate: a [`ConfigError`] unless said otherwise.
type Result<T, E = ConfigError> = std::result::Result<T, E>;

/// Command-line values that take precedence over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--dtype`.
    pub precision: Option<Precision>,
    /// `--kernels`.
    pub kernels: Option<squiggle_train::Kernels>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
    /// `--max-steps`.
    pub max_steps: Option<usize>,
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--backend`.
    pub backend: Option<Backend>,
    /// `--set KEY=VALUE`, in order: edits of the file, checked as if written there.
    pub set: Vec<String>,
    /// The command can train on a streamed file (`train`): a file beyond the memory limit
    /// (or `[data] stream = true`) is then streamed; other commands hold their rows.
    pub streams: bool,
    /// How to learn the bytes this process may still take, asked when a network or its data
    /// is sized (the CLI reads the system's limits); `None` checks nothing.
    pub memory: Option<fn() -> Option<u64>>,
    /// Data files compiled into the program, read in place of the disk (a lesson preset's).
    pub compiled_in: squiggle_train::CompiledIn,
}

/// A checked config: everything a command needs, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file.
    pub path: PathBuf,
    /// The network's shape.
    pub arch: Architecture,
    /// Its parameter names.
    pub names: ParamNames,
    /// How the random initial weights were drawn.
    pub initializer: Initializer,
    /// The most parameters the network may have.
    pub max_params: u64,
    /// Initial parameter values, flat order.
    pub initial: Vec<f64>,
    /// `[model.init]` as written (after `--set` edits): what the resolved config keeps, since
    /// the seed and the initializer determine every other initial value.
    pub init: std::collections::BTreeMap<String, toml::Value>,
    /// Input column names.
    pub inputs: Vec<String>,
    /// The file columns the inputs come from (`inputs` unless some are categorical, each of
    /// which is one input per category).
    pub input_columns: Vec<String>,
    /// Target column names (a classifier's: its class names).
    pub targets: Vec<String>,
    /// A classifier's label column and classes.
    pub classes: Option<squiggle_train::Classes>,
    /// Where the training rows came from.
    pub source: DataSource,
    /// The validation file, when there is one.
    pub valid_csv: Option<PathBuf>,
    /// For a training file streamed by epochs: its shuffle buffer's rows.
    pub shuffle_buffer: Option<usize>,
    /// How to train.
    pub plan: TrainPlan,
    /// Where the tensors live (`--backend`, else `[train] backend`, else flex).
    pub backend: Backend,
    /// The training settings the file and the flags gave (the others are defaults).
    pub given: Vec<squiggle_train::Setting>,
    /// Whether the config asks for training: a `[train]` section, or a flag that trains
    /// (`--learning-rate`, `--max-steps`, `--epochs`). A config without either describes a
    /// network to evaluate, as Pt. 1's does.
    pub trains: bool,
}

/// The rows a config names, as read.
#[derive(Debug, Clone)]
pub struct Data {
    /// The training rows (validation rows among them when a fraction is held out).
    pub train: Dataset,
    /// Rows of a validation file.
    pub valid: Option<Dataset>,
    /// How long reading the data files took, when the rows came from files.
    pub read: Option<DataRead>,
    /// A training file read by epochs instead of held (`train` then holds one of its rows).
    pub stream: Option<squiggle_train::Stream>,
}

/// Rows read from data files, and the time it took.
#[derive(Clone, Copy, Debug)]
pub struct DataRead {
    /// Rows read (the training file's and the validation file's).
    pub rows: usize,
    /// Rows of those files left out for a missing value.
    pub dropped: u64,
    /// Missing inputs of those files filled with their column's mean.
    pub filled: u64,
    /// Seconds spent reading them.
    pub seconds: f64,
}

impl Data {
    /// The rows split and standardised as `plan` trains.
    pub fn prepare(self, plan: &TrainPlan) -> Prepared {
        Prepared::new(self.train, self.valid, plan)
    }
}

/// Reads and checks a config file, applying command-line overrides, and reads its data.
///
/// # Errors
/// A one-line error naming the file, line and column for every problem found.
pub fn load(path: &Path, overrides: &Overrides) -> Result<(Config, Data)> {
    let text = read(path)?;
    let edits = overrides
        .set
        .iter()
        .map(|arg| set::Edit::parse(arg))
        .collect::<Result<Vec<_>>>()?;
    load_text(path, text, &edits, overrides)
}

/// The text of the config file at `path`.
///
/// # Errors
/// Not a regular file, or unreadable.
pub fn read(path: &Path) -> Result<String> {
    let unreadable = |e: std::io::Error| ConfigError::Unreadable {
        path: path.to_path_buf(),
        source: squiggle_train::Foreign::new(e),
    };
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(ConfigError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    std::fs::read_to_string(path).map_err(unreadable)
}

/// Checks the config `text` (named `path` in messages; relative data paths are read from
/// its folder) edited by `edits`, applying `overrides`, and reads its data.
///
/// # Errors
/// A one-line error naming the position of the first problem, or the edit that caused it.
pub fn load_text(
    path: &Path,
    text: String,
    edits: &[Edit],
    overrides: &Overrides,
) -> Result<(Config, Data)> {
    let lengths: Vec<(String, usize)> = edits
        .iter()
        .map(|e| (e.label.clone(), e.value_len()))
        .collect();
    let source = Source::new(path.to_path_buf(), text, &lengths);
    let toml_error = |e: toml::de::Error| {
        let message = did_you_mean(e.message().trim().replace('\n', " "));
        match e.span() {
            Some(span) => source.error(span, message),
            None => ConfigError::At {
                at: source.path.display().to_string(),
                message,
            },
        }
    };
    let mut root = DeTable::parse(&source.text).map_err(toml_error)?;
    let regions: Vec<_> = source.edits.iter().map(|(r, _)| r.clone()).collect();
    set::apply(root.get_mut(), edits, &regions)?;
    let file = ConfigFile::deserialize(toml::de::Deserializer::from(root)).map_err(toml_error)?;
    check::check(file, &source, overrides)
}

/// A message about an unknown key or value (``unknown field `learnin_rate`, expected one of
/// `trainable`, …``) with the closest expected name first, when one is close enough to be a
/// slip of the keyboard: ``unknown field `learnin_rate`: did you mean `learning_rate`? (expected
/// one of …)``.
fn did_you_mean(message: String) -> String {
    let Some((head, expected)) = message.split_once(", expected ") else {
        return message;
    };
    let Some(given) = head.split('`').nth(1) else {
        return message;
    };
    match squiggle_model::closest(given, expected.split('`').skip(1).step_by(2)) {
        Some(name) => format!("{head}: did you mean `{name}`? (expected {expected})"),
        None => message,
    }
}

/// Writes `settings` (a plan's, every default stated) into the sections `model`, `data` and
/// `train` of a resolved config: every setting of `squiggle_train`'s table whose value the
/// plan holds, in the section that holds it (a validation file is written by the caller).
macro_rules! write_back {
    ($s:ident, $model:ident, $data:ident, $train:ident rows:
        $( $(#[$doc:meta])* $f:ident : $ty:ty = $v:ident $k:literal $sec:ident $mode:ident $kind:ident; )*) => {
        $( put!($kind in_section!($sec, $model, $data, $train).$f, $s.$f); )*
    };
}

/// One setting written back: a value the plan holds (`value`); nothing for one only given.
macro_rules! put {
    (value $place:expr, $value:expr) => {
        $place = $value.clone().and_then(resolved)
    };
    (given $place:expr, $value:expr) => {};
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

    /// Whether a run with this config's network, seed and initializer and the `[model.init]`
    /// table `init` (as its `config.toml` holds it; `None`: no table) starts from this
    /// config's initial parameters. Values are compared, not the tables: the same start may be
    /// written with other names (`w1` or `hidden.0.weight[0][0]`), and run folders of earlier
    /// versions wrote every drawn value out.
    pub fn starts_from(&self, init: Option<&toml::Table>) -> bool {
        let drawn = squiggle_model::initial_values(&self.arch, self.plan.seed(), self.initializer);
        let none = toml::Table::new();
        check::written_over(init.unwrap_or(&none), &self.names, drawn)
            .is_some_and(|values| values == self.initial)
    }

    /// The trainable parameters in as few names as cover them (whole tensors by path), as
    /// the resolved config writes `trainable`.
    fn trainable_covering(&self) -> Vec<String> {
        self.names.covering(&self.plan.trainable_indices())
    }

    /// Returns true if and only if the config trains by epochs.
    pub fn by_epochs(&self) -> bool {
        self.plan.epoch_plan().is_some()
    }

    /// The config as it was run: every default filled in (the seed and the initializer
    /// among them, which determine the initial parameters; `[model.init]` as the user wrote
    /// it), data paths absolute. `squiggle train` accepts it as it is and starts from the same
    /// parameters. Drawn weights are not written out: a network of thousands of weights would
    /// make the file one enormous line of numbers nobody reads.
    pub fn resolved_toml(&self) -> String {
        let (mut model, mut data) = (self.resolved_model(), self.resolved_data());
        let mut train = TrainSection {
            trainable: resolved(
                self.trainable_covering()
                    .into_iter()
                    .map(|n| Spanned::new(0..0, n))
                    .collect(),
            ),
            backend: resolved(self.backend),
            ..TrainSection::default()
        };
        let settings = self.plan.resolved_settings();
        squiggle_train::for_each_setting!(write_back! { settings, model, data, train });
        let file = ConfigFile {
            model,
            data: Some(Spanned::new(0..0, data)),
            train: Some(train),
        };
        format!(
            "# Resolved by squiggle from {}: every default filled in.\n{}",
            self.path.display(),
            toml::to_string(&file).expect("a resolved config serialises to TOML")
        )
    }

    fn resolved_model(&self) -> ModelSection {
        let init = self
            .init
            .iter()
            .map(|(name, value)| (name.clone(), Spanned::new(0..0, value.clone())))
            .collect();
        ModelSection {
            inputs: resolved(self.arch.inputs),
            hidden: resolved(self.arch.hidden.clone()),
            outputs: resolved(self.arch.outputs),
            activation: resolved(self.arch.activation),
            initializer: resolved(self.initializer),
            max_params: resolved(self.max_params),
            init,
            ..ModelSection::default()
        }
    }

    fn resolved_data(&self) -> DataSection {
        let absolute = |p: &Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let mut data = DataSection::default();
        match &self.source {
            DataSource::Csv { path, options, .. } => {
                data.csv = match path == Path::new(squiggle_train::STDIN) {
                    true => resolved(squiggle_train::STDIN.to_string()),
                    false => resolved(absolute(path)),
                };
                // Written only when not a comma, so runs from before the key resume unchanged.
                if options.delimiter != CsvOptions::default().delimiter {
                    data.delimiter = resolved(char::from(options.delimiter).to_string());
                }
                if options.missing != Missing::default() {
                    data.missing = resolved(options.missing.name().to_string());
                }
                if let Some(rows) = self.shuffle_buffer {
                    data.stream = resolved(true);
                    data.shuffle_buffer = resolved(rows as u64);
                }
                data.inputs = resolved(self.input_columns.clone());
                if let DataSource::Csv { columns, .. } = &self.source
                    && !columns.categorical.is_empty()
                {
                    data.categorical = resolved(
                        columns
                            .categorical
                            .iter()
                            .map(|c| c.column.clone())
                            .collect(),
                    );
                }
                match &self.classes {
                    Some(classes) => {
                        data.targets = resolved(vec![classes.column.clone()]);
                        data.classes = resolved(classes.names.clone());
                    }
                    None => data.targets = resolved(self.targets.clone()),
                }
            }
            DataSource::Lesson { .. } => {
                let rows = squiggle_model::lesson::points();
                data.points = resolved(rows.into_iter().map(|r| Spanned::new(0..0, r)).collect());
            }
            DataSource::Points { rows, classes, .. } => {
                data.points =
                    resolved(rows.iter().map(|r| Spanned::new(0..0, r.clone())).collect());
                data.classes = classes.clone().and_then(resolved);
            }
        }
        // The file itself: the settings the plan holds are written back by `write_back!`.
        if self.plan.epoch_plan().is_some() {
            data.valid_csv = self
                .valid_csv
                .as_deref()
                .and_then(|p| resolved(absolute(p)));
        }
        data
    }
}

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    /// Mutated configs (of every shipped lesson and data-set config, with their data beside
    /// them) are loaded or refused with a one-line message, never a panic, a hang or an
    /// allocation beyond the limits (a bounded pass; `SQUIGGLE_FUZZ_SECONDS=600` for a long
    /// one).
    #[test]
    fn fuzzed_configs_give_an_answer() {
        let seeds: Vec<Vec<u8>> = [
            include_str!("../../../configs/statquest-pt1.toml"),
            include_str!("../../../configs/statquest-pt2.toml"),
            include_str!("../../../configs/statquest-pt2-adam.toml"),
            include_str!("../../../configs/statquest-details-pt2.toml"),
            include_str!("../../../configs/gradient-descent.toml"),
            include_str!("../../../configs/dosage-csv.toml"),
            include_str!("../../../configs/diabetes.toml"),
            include_str!("../../../configs/statquest-pt4-iris.toml"),
            include_str!("../../../configs/statquest-pt7-cross-entropy.toml"),
            include_str!("../../../configs/wine.toml"),
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        for name in ["dosage.csv", "diabetes.csv", "iris.csv", "wine.csv"] {
            let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/data");
            std::fs::copy(data.join(name), dir.path().join("data").join(name)).unwrap();
        }
        let path = dir.path().join("fuzzed.toml");
        let budget = squiggle_train::fuzz::Budget::from_env(300);
        let ran = squiggle_train::fuzz::run(&seeds, budget, |input| {
            std::fs::write(&path, input).unwrap();
            if let Err(e) = load(&path, &Overrides::default()) {
                let message = squiggle_train::full_message(&e);
                assert!(!message.contains('\n'), "one line: {message}");
            }
        });
        eprintln!("config: {ran} fuzzed files");
        assert!(ran >= 300);
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;
    use squiggle_model::Named;
    use squiggle_train::Setting;

    /// Every setting of `squiggle_train`'s table is a key of the section the table names, and
    /// of no other: the schema follows from the table.
    #[test]
    fn every_setting_is_a_key_of_its_section_alone() {
        for &setting in Setting::ALL {
            for section in ["model", "data", "train"] {
                let text = format!("[{section}]\n{} = \"?\"\n", setting.key());
                let parsed = toml::from_str::<ConfigFile>(&text);
                let unknown = parsed
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("unknown field"));
                assert_eq!(
                    unknown,
                    section != setting.section(),
                    "{setting:?} in [{section}]: {parsed:?}"
                );
            }
        }
    }

    /// A plan's settings, written back into a resolved config and read from it again, are the
    /// plan's: the write-back and the mapping follow from the same table.
    #[test]
    fn resolved_settings_read_back_as_they_were_written() {
        let configs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        for name in [
            "statquest-pt2-adam.toml",
            "diabetes.toml",
            "statquest-pt4-iris.toml",
        ] {
            let (config, _) = load(&configs.join(name), &Overrides::default()).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let resolved = dir.path().join("config.toml");
            std::fs::write(&resolved, config.resolved_toml()).unwrap();
            let (again, _) = load(&resolved, &Overrides::default()).unwrap();
            assert_eq!(
                again.plan.resolved_settings(),
                config.plan.resolved_settings(),
                "{name}"
            );
        }
    }
}
