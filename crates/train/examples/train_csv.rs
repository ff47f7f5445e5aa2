//! Training on a CSV file with the crates directly: settings built in Rust, the data read and
//! split, mini-batch SGD by epochs with an observer that prints progress and keeps the best
//! checkpoint, then the checkpoint saved, loaded back and used to predict in original units.
//!
//! ```text
//! cargo run --release --example train_csv                   # configs/data/diabetes.csv
//! cargo run --release --example train_csv -- d.csv target   # any file and target column
//! ```

use std::path::PathBuf;

use burn::prelude::Device;
use squiggle_model::{Activation, Architecture, Initializer, initial_values};
use squiggle_train::{
    Checkpoint, Columns, CsvOptions, EpochReport, Flow, Kernels, Observer, Predictor, Prepared,
    RunState, ScheduleKind, Settings, Start, TrainError, TrainPlan,
};

/// Prints every tenth epoch and keeps a checkpoint of the best one.
#[derive(Default)]
struct Progress {
    best: Option<Checkpoint>,
}

impl Observer for Progress {
    type Error = TrainError;

    fn epoch(&mut self, report: &EpochReport, state: &RunState<'_>) -> Result<Flow, TrainError> {
        if report.epoch.is_multiple_of(10) || report.epoch == 1 {
            // Metrics in the target's units (standardisation undone).
            let valid = report.valid.as_ref().expect("a fifth of the rows validate");
            println!(
                "epoch {:>2}/{}  train RMSE {:.2}  R² {:.3}  valid RMSE {:.2}  R² {:.3}",
                report.epoch,
                report.epochs,
                report.train.rmse,
                report.train.r2,
                valid.rmse,
                valid.r2
            );
        }
        if report.best {
            self.best = Some(state.checkpoint()?);
        }
        Ok(Flow::Continue)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/data/diabetes.csv"),
        PathBuf::from,
    );
    let target = args.next().unwrap_or_else(|| "progression".to_string());

    // Every input column but the target.
    let columns = Columns {
        targets: Some(vec![target]),
        ..Columns::default()
    };
    let data = squiggle_train::read_csv(&path, &columns, &CsvOptions::default())?;
    println!(
        "read {} rows of {} from {}",
        data.len(),
        data.input_names().join(","),
        path.display()
    );

    let settings = Settings {
        epochs: Some(60),
        batch_size: Some(32),
        learning_rate: Some(0.01),
        momentum: Some(0.9),
        weight_decay: Some(0.03),
        schedule: Some(ScheduleKind::Cosine),
        valid_fraction: Some(0.2),
        standardize: Some(true),
        seed: Some(7),
        // A data set's defaults (MSE) rather than the lessons' (SSR).
        data_set: true,
        ..Settings::default()
    };
    let arch = Architecture::new(data.inputs(), vec![4], data.outputs(), Activation::Softplus)?;
    let plan = TrainPlan::new(&settings, &arch, vec![true; arch.num_params()])?;
    let initial = initial_values(&arch, 7, Initializer::Glorot);
    println!(
        "Training a {} network on flex ({}); predictions from the Burn module (kernels `{}`).",
        arch.describe(),
        plan.kernels().label(),
        Kernels::Burn
    );
    let device = Device::flex();
    let observed = data.observed();
    let mut prepared = Prepared::new(data, None, &plan);
    let mut progress = Progress::default();
    let outcome = squiggle_train::train(
        &arch,
        Start::Fresh(initial),
        &mut prepared,
        &plan,
        &device,
        &mut progress,
    )?;
    println!(
        "stopped by rule `{}` after {} steps",
        outcome.stop, outcome.steps
    );

    // Save the best checkpoint and load it back, as `squiggle predict` does.
    let best = progress.best.ok_or("no epoch finished")?;
    let file = std::env::temp_dir().join(format!("squiggle-example-{}.ckpt", std::process::id()));
    std::fs::write(&file, best.to_bytes())?;
    let loaded = Checkpoint::from_bytes(&std::fs::read(&file)?)?;
    std::fs::remove_file(&file)?;
    let net = loaded.network(&device)?;
    println!(
        "saved and loaded the checkpoint of epoch {} (the lowest validation loss): {} parameters",
        loaded.meta.progress.epoch,
        arch.num_params()
    );

    // Predictions for the first rows, in the target's units: inputs scaled as in training,
    // outputs unscaled.
    let (inputs, categorical) = loaded.meta.network.input_columns();
    let mut rows =
        squiggle_train::read_inputs(&path, &inputs, &categorical, &CsvOptions::default())?;
    let scaling = loaded.meta.scaling.as_ref();
    if let Some(s) = scaling {
        s.apply(&mut rows);
    }
    let mut predicted = Vec::new();
    squiggle_train::predict::<TrainError>(
        Predictor {
            net: &net,
            kernels: Kernels::Burn,
        },
        &rows,
        scaling,
        &device,
        loaded.meta.network.precision,
        |_, chunk| {
            predicted.extend_from_slice(chunk);
            Ok(())
        },
    )?;
    for (i, (p, o)) in predicted.iter().zip(&observed).take(5).enumerate() {
        println!("row {}: predicted {p:.1}, observed {o:.1}", i + 1);
    }
    Ok(())
}
