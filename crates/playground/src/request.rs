//! The page's requests as the playground reads them, whoever carries them: `squiggle serve`
//! receives them as HTTP (`POST /api/playgrounds/{id}/{action}` with a JSON body), the
//! WebAssembly module as the same action and body from the page's script. Both hand the
//! body's bytes here, so a request means the same, and is refused with the same words, in
//! either.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::presets::{self, PRESETS, Preset};
use crate::{DeviceOf, Playground, Refusal, Result, SettingsChange};
use squiggle_config::Overrides;

/// A change of a playground, by the action that names it:
/// - `step` `{"steps": n}`: up to `n` steps (1 by default, at most 10,000), fewer when a
///   stopping rule fires;
/// - `reset`: back to the initial values and step 0 (the data and settings stay);
/// - `values` `{"values": {"b3": 1.5}}`: sets parameters;
/// - `trainable` `{"trainable": ["b3", "w1"]}`: these train, every other one is frozen;
/// - `settings` `{"learning_rate": 0.1, "max_steps": 1000, "min_step_size": 0.001,
///   "target_loss": 1e-4, "kernels": "burn"}` (each optional; `kernels` is `fused` or
///   `burn`: what computes the steps from then on);
/// - `data` `{"points": [[0, 0], [0.5, 1], [1, 0]]}`: new data points.
#[derive(Clone, Debug)]
pub enum Change {
    /// `step`.
    Step(u64),
    /// `reset`.
    Reset,
    /// `values`.
    Values(BTreeMap<String, f64>),
    /// `trainable`.
    Trainable(Vec<String>),
    /// `settings`.
    Settings(SettingsChange),
    /// `data`.
    Data(Vec<Vec<f64>>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepBody {
    #[serde(default = "one")]
    steps: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValuesBody {
    values: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainableBody {
    trainable: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsBody {
    points: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

impl Change {
    /// The change `action` names, with its JSON `body` (empty or blank: `{}`).
    ///
    /// # Errors
    /// [`Refusal::NotFound`] for an action that is none of the above; [`Refusal::Bad`] for a
    /// body that is not its JSON (unknown fields refused).
    pub fn parse(action: &str, body: &[u8]) -> Result<Self> {
        Ok(match action {
            "step" => Change::Step(json_body::<StepBody>(body)?.steps),
            "reset" => {
                json_body::<EmptyBody>(body)?;
                Change::Reset
            }
            "values" => Change::Values(json_body::<ValuesBody>(body)?.values),
            "trainable" => Change::Trainable(json_body::<TrainableBody>(body)?.trainable),
            "settings" => Change::Settings(json_body(body)?),
            "data" => Change::Data(json_body::<PointsBody>(body)?.points),
            _ => return Err(no_such_action()),
        })
    }
}

/// The refusal of an action, or an API path, that does not exist.
pub fn no_such_action() -> Refusal {
    Refusal::NotFound("no such API endpoint; docs/playground.md lists them".into())
}

impl Playground {
    /// Makes `change`.
    ///
    /// # Errors
    /// As the change's own method ([`Playground::take_steps`], …).
    pub fn apply(&mut self, change: &Change) -> Result<()> {
        match change {
            Change::Step(steps) => self.take_steps(*steps),
            Change::Reset => self.reset(),
            Change::Values(values) => self.set_values(values),
            Change::Trainable(names) => self.set_trainable(names),
            Change::Settings(settings) => self.set_settings(settings),
            Change::Data(points) => self.set_points(points),
        }
    }
}

/// What a new playground is made from: `{"preset": name}`, `{"toml": text}` (a config whose
/// data are its `[data] points`), or `{}`, the host's own start.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Create {
    preset: Option<String>,
    toml: Option<String>,
}

impl Create {
    /// The request in the JSON `body` (empty or blank: `{}`).
    ///
    /// # Errors
    /// [`Refusal::Bad`] for a body that is not this JSON.
    pub fn parse(body: &[u8]) -> Result<Self> {
        json_body(body)
    }

    /// The playground asked for; `{}` opens `start` (name, path, text), else the default
    /// preset.
    ///
    /// # Errors
    /// Both a preset and a config given, an unknown preset, a config that names files or that
    /// the loader or the playground refuses.
    pub fn open(
        self,
        start: Option<(&str, &Path, String)>,
        overrides: Overrides,
        device_of: DeviceOf,
    ) -> Result<Playground> {
        match (self.preset, self.toml) {
            (Some(_), Some(_)) => Err(Refusal::Bad("give `preset` or `toml`, not both".into())),
            (Some(name), None) => {
                let preset = Preset::find(&name).ok_or_else(|| {
                    let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
                    Refusal::Bad(format!(
                        "unknown preset `{name}`; expected one of {}",
                        names.join(", ")
                    ))
                })?;
                Playground::of_preset(preset, overrides, device_of)
            }
            (None, Some(text)) => {
                refuse_files(&text)?;
                let path = Path::new("request.toml");
                Playground::new("request", path, text, overrides, device_of)
            }
            (None, None) => match start {
                Some((name, path, text)) => Playground::new(name, path, text, overrides, device_of),
                None => Playground::of_preset(presets::default_preset(), overrides, device_of),
            },
        }
    }
}

/// A config sent by a page may not name files: the server would read its own disk for a
/// client. Its data comes as `[data] points`.
fn refuse_files(text: &str) -> Result<()> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Refusal::Bad(format!("request.toml: {}", e.message().trim()))
    })?;
    let data = table.get("data").and_then(toml::Value::as_table);
    for key in ["csv", "valid_csv"] {
        if data.is_some_and(|d| d.contains_key(key)) {
            return Err(Refusal::Bad(format!(
                "request.toml: [data] {key}: a config sent to the server cannot read its files; give the data as [data] points"
            )));
        }
    }
    Ok(())
}

/// The lesson configs a page offers, and the one it opens: `{"default": name, "presets":
/// [{"name", "title", "file"}]}`.
pub fn presets_json() -> Value {
    let list: Vec<Value> = PRESETS
        .iter()
        .map(
            |p| json!({"name": p.name, "title": p.title(), "file": p.path().display().to_string()}),
        )
        .collect();
    json!({"default": presets::DEFAULT, "presets": list})
}

/// `body` as JSON of type `T`; an empty or blank body is `{}`.
fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| Refusal::Bad(format!("malformed JSON body: {e}")))
}
