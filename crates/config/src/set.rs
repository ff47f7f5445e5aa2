//! `--set KEY=VALUE`: command-line edits of a config file, as LightningCLI's and Hydra's
//! users write them (`--set train.batch_size=64`, `--set model.hidden=[8,8]`).
//!
//! Each edit is merged into the parsed file before anything is checked, so an edited key is
//! checked exactly like one written in the file: the same types, ranges and messages, and
//! an unknown key is refused with the accepted ones. The edit's value is parsed as a TOML
//! value; a bare word that is not one (`relu`, `data/x.csv`) is taken as a string.
//!
//! Positions: each edit's value gets a span past the end of the file text (see
//! [`Source::edit_at`](super::source::Source::edit_at)), so every message about it names the
//! `--set` argument instead of a line of the file.

use crate::{ConfigError, Result};
use std::borrow::Cow;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One `--set KEY=VALUE` argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    /// What messages about the edit start with: `--set KEY=VALUE` for a flag.
    pub label: String,
    /// The dotted key's parts: `train.batch_size` → `["train", "batch_size"]`.
    key: Vec<String>,
    /// The text after the first `=`.
    value: String,
}

impl Edit {
    /// Parses `KEY=VALUE`.
    ///
    /// # Errors
    /// No `=`, an empty value, or a key that is not one TOML key (bare or quoted parts).
    pub fn parse(arg: &str) -> Result<Self> {
        let fail = |why: &str| ConfigError::At {
            at: format!("--set {arg}"),
            message: why.to_string(),
        };
        let Some((key, value)) = arg.split_once('=') else {
            return Err(fail("expected KEY=VALUE, e.g. --set train.batch_size=64"));
        };
        let key = key_parts(key.trim()).ok_or_else(|| {
            fail("the key must be a TOML key, e.g. train.batch_size or model.init.\"output.bias\"")
        })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(fail("no value after `=`"));
        }
        Ok(Self {
            label: format!("--set {arg}"),
            key,
            value: value.to_string(),
        })
    }

    /// An edit made by a program rather than typed (the playground's settings): `key` is
    /// a dotted key of plain parts, `value` TOML, and `label` what messages about it start
    /// with.
    pub fn made(key: &str, value: String, label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            key: key.split('.').map(str::to_string).collect(),
            value,
        }
    }

    /// The length of the span the edit's value takes past the end of the file.
    pub(crate) fn value_len(&self) -> usize {
        self.value.len()
    }
}

/// The parts of a dotted TOML key, read by TOML itself, so that quoted parts work
/// (`model.init."output.bias"` → `["model", "init", "output.bias"]`); `None` for text that
/// is not one key.
fn key_parts(key: &str) -> Option<Vec<String>> {
    let probe = format!("{key} = 0");
    let mut table = DeTable::parse(&probe).ok()?.into_inner();
    let mut parts = Vec::new();
    loop {
        let mut entries = table.into_iter();
        let (name, value) = entries.next()?;
        if entries.next().is_some() {
            return None;
        }
        parts.push(name.into_inner().into_owned());
        match value.into_inner() {
            DeValue::Table(inner) => table = inner,
            _ => return Some(parts),
        }
    }
}

/// Merges `edits` into `root`, the parsed file; edit `k` takes the span `regions[k]`.
///
/// A key that names a table replaces the whole table; missing tables are created.
///
/// # Errors
/// A value that is not TOML (and not a bare word), or a key that goes through a value that
/// is not a table.
pub fn apply<'i>(
    root: &mut DeTable<'i>,
    edits: &'i [Edit],
    regions: &[Range<usize>],
) -> Result<()> {
    for (edit, region) in edits.iter().zip(regions) {
        let value = value_of(edit, region.start)?;
        let (last, parents) = edit.key.split_last().expect("a parsed key has a part");
        let mut table = &mut *root;
        for (depth, part) in parents.iter().enumerate() {
            let slot = table
                .entry(Spanned::new(region.clone(), Cow::Borrowed(part.as_str())))
                .or_insert_with(|| Spanned::new(region.clone(), DeValue::Table(DeTable::new())));
            table = match slot.get_mut() {
                DeValue::Table(t) => t,
                other => {
                    return Err(ConfigError::At {
                        at: edit.label.clone(),
                        message: format!(
                            "`{}` is a {}, not a table",
                            edit.key[..=depth].join("."),
                            other.type_str()
                        ),
                    });
                }
            };
        }
        let key = Spanned::new(region.clone(), Cow::Borrowed(last.as_str()));
        table.remove(last.as_str());
        table.insert(key, value);
    }
    Ok(())
}

/// The edit's value as TOML, its spans moved to start at `at`; a bare word is a string.
fn value_of(edit: &Edit, at: usize) -> Result<Spanned<DeValue<'_>>> {
    let text = edit.value.as_str();
    match DeValue::parse(text) {
        Ok(value) => Ok(shifted(value, at)),
        Err(_) if !text.starts_with(['"', '\'', '[', '{']) => Ok(Spanned::new(
            at..at + text.len(),
            DeValue::String(Cow::Borrowed(text)),
        )),
        Err(e) => Err(ConfigError::At {
            at: edit.label.clone(),
            message: e.message().trim().replace('\n', " "),
        }),
    }
}

/// `value` with every span moved `by` bytes on.
fn shifted(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = value.span();
    let inner = match value.into_inner() {
        DeValue::Array(mut items) => {
            for item in items.iter_mut() {
                let taken = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = shifted(taken, by);
            }
            DeValue::Array(items)
        }
        DeValue::Table(table) => {
            let mut moved = DeTable::new();
            for (key, item) in table {
                let key_span = key.span();
                moved.insert(
                    Spanned::new(key_span.start + by..key_span.end + by, key.into_inner()),
                    shifted(item, by),
                );
            }
            DeValue::Table(moved)
        }
        other => other,
    };
    Spanned::new(span.start + by..span.end + by, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edited(file: &str, args: &[&str]) -> Result<toml::Table> {
        let edits: Vec<Edit> = args
            .iter()
            .map(|a| Edit::parse(a))
            .collect::<Result<_, _>>()?;
        let mut at = file.len() + 1;
        let regions: Vec<Range<usize>> = edits
            .iter()
            .map(|e| {
                let r = at..at + e.value_len();
                at = r.end + 1;
                r
            })
            .collect();
        let mut root = DeTable::parse(file).unwrap();
        apply(root.get_mut(), &edits, &regions)?;
        Ok(serde::Deserialize::deserialize(toml::de::Deserializer::from(root)).unwrap())
    }

    #[test]
    fn edits_replace_add_and_create_keys_with_toml_values_or_bare_words() {
        let t = edited(
            "[train]\nbatch_size = 8\n",
            &[
                "train.batch_size=64",
                "train.learning_rate = 0.5",
                "model.hidden=[8, 8]",
                "model.activation=relu",
                "data.csv=data/x.csv",
                "train.shuffle=false",
                "model.init.\"output.bias\"=[0.5]",
            ],
        )
        .unwrap();
        assert_eq!(
            t["model"]["init"]["output.bias"].as_array().unwrap().len(),
            1
        );
        assert_eq!(t["train"]["batch_size"].as_integer(), Some(64));
        assert_eq!(t["train"]["learning_rate"].as_float(), Some(0.5));
        assert_eq!(t["model"]["hidden"].as_array().unwrap().len(), 2);
        assert_eq!(t["model"]["activation"].as_str(), Some("relu"));
        assert_eq!(t["data"]["csv"].as_str(), Some("data/x.csv"));
        assert_eq!(t["train"]["shuffle"].as_bool(), Some(false));
    }

    #[test]
    fn bad_edits_name_the_argument() {
        let message = |args: &[&str]| {
            edited("[train]\nloss = \"mse\"\n", args)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message(&["train.batch_size"]),
            "--set train.batch_size: expected KEY=VALUE, e.g. --set train.batch_size=64"
        );
        assert_eq!(
            message(&["train.loss="]),
            "--set train.loss=: no value after `=`"
        );
        assert!(message(&["train..x=1"]).starts_with("--set train..x=1: the key must be"));
        assert!(message(&["train.a b=1"]).starts_with("--set train.a b=1: the key must be"));
        assert_eq!(
            message(&["train.loss.kind=1"]),
            "--set train.loss.kind=1: `train.loss` is a string, not a table"
        );
        assert!(message(&["model.hidden=[8,"]).starts_with("--set model.hidden=[8,: "));
    }
}
