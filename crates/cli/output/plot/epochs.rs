//! Plots of a run by epochs: the loss and R² of the training and validation rows per epoch,
//! and the network's predictions against the observations (in original units); for a
//! classifier the accuracy per epoch and, with two inputs, its decision regions and surfaces.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use squiggle_model::Network;
use squiggle_train::{EpochReport, Prepared, observed_and_predicted};

use super::{
    BLUE, Curve, Curves, MAX_POINTS_DRAWN, PINK, PredictedVsObserved, sample, write_svg_and_png,
};
use squiggle_config::Config;
use squiggle_train::format::plural;

/// The network with `params` against the validation rows (the training rows without
/// validation), in original units, titled for what it shows; `when` says which parameters
/// (`after the last epoch`, `at runs/d/best.ckpt`).
///
/// # Errors
/// A device that cannot hand the predictions back.
pub fn fit(
    config: &Config,
    data: &Prepared,
    params: &[f64],
    device: &Device,
    when: &str,
) -> anyhow::Result<PredictedVsObserved> {
    let (rows, all, which) = match data.valid() {
        Some((rows_of, rows)) => (rows_of, rows, "validation"),
        None => (data.data(), data.train_rows(), "training"),
    };
    let picked: Vec<u32> = sample(all.len(), MAX_POINTS_DRAWN)
        .into_iter()
        .map(|i| all[i])
        .collect();
    let precision = config.plan.precision();
    let net = Network::from_values(&config.arch, params, device, precision);
    let predictor = squiggle_train::Predictor {
        net: &net,
        kernels: config.plan.kernels(),
    };
    let points =
        observed_and_predicted(predictor, rows, &picked, data.scaling(), precision, device)?;
    let shown = if picked.len() < all.len() {
        format!("{} of the {} {which} rows", picked.len(), all.len())
    } else {
        format!("the {which} rows ({})", plural(all.len(), "row"))
    };
    Ok(PredictedVsObserved {
        title: format!("Predicted against observed: {shown}, {when}"),
        points,
    })
}

/// Every plot of a run by epochs with the parameters `params` (`when` says which), into
/// `dir`: `loss`, then `r2` and `fit` ([`write_plots`]), or for a classifier `accuracy` and,
/// with two inputs, `regions` and each class's `probability_…` and `raw_…` surfaces.
///
/// # Errors
/// A device that cannot hand predictions back, a file that cannot be written, or a drawing
/// error.
pub fn write_run(
    config: &Config,
    data: &Prepared,
    reports: &[EpochReport],
    params: &[f64],
    device: &Device,
    when: &str,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let loss = config.plan.loss().symbol();
    if data.data().classes().is_none() {
        let fit = fit(config, data, params, device, when)?;
        return write_plots(reports, loss, &fit, dir);
    }
    super::prepare(dir)?;
    let mut written = vec![];
    written.extend(write_svg_and_png(&loss_curves(reports, loss), dir, "loss")?);
    let accuracy = Curves {
        title: "Accuracy per epoch (share of rows whose ArgMax is their class)".to_string(),
        x_desc: "epoch".to_string(),
        y_desc: "accuracy".to_string(),
        log: false,
        curves: curves(reports, &|r| {
            (
                r.train.accuracy.unwrap_or(f64::NAN),
                r.valid.and_then(|m| m.accuracy),
            )
        }),
    };
    written.extend(write_svg_and_png(&accuracy, dir, "accuracy")?);
    if config.arch.inputs == 2 {
        let (rows_of, rows) = data.valid().unwrap_or((data.data(), data.train_rows()));
        written.extend(super::classes::write_surfaces(
            &config.arch,
            params,
            rows_of,
            rows,
            when,
            dir,
        )?);
    }
    Ok(written)
}

/// The training curve (pink) and, when there is one, the validation curve (blue) of the
/// value `pick` takes from each report.
fn curves(
    reports: &[EpochReport],
    pick: &dyn Fn(&EpochReport) -> (f64, Option<f64>),
) -> Vec<Curve> {
    let train = reports
        .iter()
        .map(|r| (r.epoch as f64, pick(r).0))
        .collect();
    let valid: Vec<(f64, f64)> = reports
        .iter()
        .filter_map(|r| pick(r).1.map(|v| (r.epoch as f64, v)))
        .collect();
    let mut curves = vec![Curve {
        label: "training rows".to_string(),
        colour: PINK,
        points: train,
    }];
    if !valid.is_empty() {
        curves.push(Curve {
            label: "validation rows".to_string(),
            colour: BLUE,
            points: valid,
        });
    }
    curves
}

/// The loss per epoch, on a log scale.
fn loss_curves(reports: &[EpochReport], loss: &str) -> Curves {
    Curves {
        title: format!("{loss} per epoch (in the units the network trains in)"),
        x_desc: "epoch".to_string(),
        y_desc: format!("{loss} (log scale)"),
        log: true,
        curves: curves(reports, &|r| (r.train_loss, r.valid_loss)),
    }
}

/// Writes `loss`, `r2` and `fit` as `.svg` and `.png` into `dir`: the curves of `reports`
/// (the loss in `loss`'s units, e.g. `MSE`), and `fit`. Returns the paths written.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_plots(
    reports: &[EpochReport],
    loss: &str,
    fit: &PredictedVsObserved,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    super::prepare(dir)?;
    let mut written = Vec::new();
    written.extend(write_svg_and_png(&loss_curves(reports, loss), dir, "loss")?);
    let r2 = Curves {
        title: "R² per epoch (original units)".to_string(),
        x_desc: "epoch".to_string(),
        y_desc: "R²".to_string(),
        log: false,
        curves: curves(reports, &|r| (r.train.r2, r.valid.map(|m| m.r2))),
    };
    written.extend(write_svg_and_png(&r2, dir, "r2")?);
    written.extend(write_svg_and_png(fit, dir, "fit")?);
    Ok(written)
}
