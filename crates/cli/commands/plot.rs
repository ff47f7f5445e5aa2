//! `squiggle plot`: train, then draw the run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::bail;
use squiggle_model::ParamTarget;
use squiggle_train::{Outcome, StepRecord};

use super::load;
use crate::args::{PlotArgs, PlotOptions};
use crate::config::{Config, Overrides};
use crate::plot::{Run, write_plots};

/// Trains quietly and writes the plots.
pub fn run(args: &PlotArgs) -> anyhow::Result<()> {
    let config = load(&args.run, Overrides::default())?;
    let landscape_param = landscape_param(&config, &args.plots)?;
    let device = super::device(&config)?;
    let mut records = Vec::new();
    let outcome = super::train(&config, &config.plan, &device, |r| records.push(r.clone()))?;
    let written = draw(
        &config,
        &records,
        &outcome,
        landscape_param,
        &args.out,
        &args.plots,
    )?;
    report(&written)
}

/// The flat index on the landscape's x axis: `--param`, or the first trainable parameter.
///
/// # Errors
/// Unknown names, and names of whole tensors (the x axis is one number).
pub fn landscape_param(config: &Config, options: &PlotOptions) -> anyhow::Result<usize> {
    let Some(name) = &options.landscape_param else {
        return Ok(config.plan.trainable_indices()[0]);
    };
    match config.names.resolve(name) {
        Ok(ParamTarget::Scalar(i)) => Ok(i),
        Ok(ParamTarget::Tensor(_)) => {
            bail!(
                "--param `{name}` names a whole tensor; the landscape needs one number, such as `{name}[0]`"
            )
        }
        Err(e) => bail!("--param: {e}"),
    }
}

/// Draws a finished run into `dir`.
pub fn draw(
    config: &Config,
    records: &[StepRecord],
    outcome: &Outcome,
    landscape_param: usize,
    dir: &Path,
    options: &PlotOptions,
) -> anyhow::Result<Vec<PathBuf>> {
    let run = Run {
        arch: &config.arch,
        names: &config.names,
        data: &config.data,
        loss: config.plan.loss,
        initial: &config.initial,
        records,
        final_loss: outcome.final_loss,
        landscape_param,
    };
    write_plots(&run, dir, options.animate)
}

/// Lists the files written.
pub fn report(written: &[PathBuf]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for path in written {
        writeln!(out, "wrote {}", path.display())?;
    }
    Ok(())
}
