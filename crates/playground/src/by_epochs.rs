//! Configs that train by epochs, in a playground that trains step by step.

use std::path::Path;

use squiggle_config::{Config, Data};
use squiggle_train::{ModeKind, Setting};

use crate::limits::MAX_POINTS;
use crate::view::axes;
use crate::{Refusal, Result, point_rows};

/// A config that trains by epochs as the playground trains it: step by step, full batch, on
/// its training rows scaled as training by epochs scales them (the lessons' Iris network was
/// fitted to inputs rescaled to 0..1), with the network, the start and the optimizer it
/// names, its epochs' own settings (batches, validation, patience) set aside. `config` and
/// `data` are what the loader made of the config at `path`. Returns the new config's text and
/// the fit's axis titles, which name the original columns and how they were scaled.
///
/// # Errors
/// More training rows than the playground takes.
pub(super) fn by_steps(path: &Path, config: &Config, data: Data) -> Result<(String, [String; 2])> {
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
    let points = point_rows(&rows, config.classes.is_some())
        .into_iter()
        .map(|row| toml::Value::Array(row.into_iter().map(toml::Value::Float).collect()))
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
    let text = format!(
        "# {name} step by step: its {} training rows{scaled}, full batch.\n{}",
        rows.len(),
        toml::to_string(&table).expect("a config serialises to TOML")
    );
    Ok((text, axes(config, scaled)))
}
