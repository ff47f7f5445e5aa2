//! `squiggle plot`: train quietly (or read a trained run), then draw it.

use std::path::PathBuf;

use anyhow::bail;
use squiggle_train::{Collect, Start, TrainError, train};

use crate::args::PlotArgs;
use crate::output::plot::{self, epochs, lesson};
use crate::output::print_json;
use crate::run_dir;
use crate::session::{self, ParamsAt, Session};
use squiggle_config::Overrides;

/// Writes the plots of the configured run, or of a trained run with `--run`. A configured
/// run that diverges is drawn up to the blow-up, then reported (exit 1), as `train` does.
pub fn run(args: &PlotArgs) -> anyhow::Result<()> {
    let (written, diverged) = if args.select.dir.is_some() {
        (trained_run(args)?, None)
    } else {
        configured_run(args)?
    };
    if args.run.flags.json {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        print_json(&serde_json::json!({ "written": files }))?;
    } else {
        plot::print_written(&written)?;
    }
    match diverged {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Trains the config (quietly) and draws it; also the divergence, if the run diverged.
fn configured_run(args: &PlotArgs) -> anyhow::Result<(Vec<PathBuf>, Option<TrainError>)> {
    let (config, data) = session::load(&args.run, args.training.overrides())?;
    if config.by_epochs() {
        refuse_lesson_options(args, &config.path)?;
    }
    let device = session::device(&config)?;
    let mut prepared = data.prepare(&config.plan);
    if !config.trains {
        refuse_lesson_options(args, &config.path)?;
        return Ok((
            lesson::write_untrained(&config, prepared.data(), &args.out)?,
            None,
        ));
    }
    let mut collect = Collect::default();
    let start = Start::Fresh(config.initial.clone());
    let landscape_param = if config.by_epochs() {
        None
    } else {
        Some(lesson::landscape_params(&config, &args.plots)?)
    };
    let outcome = train(
        &config.arch,
        start,
        &mut prepared,
        &config.plan,
        &device,
        &mut collect,
    )?;
    let written = match landscape_param {
        Some(param) => {
            let run = lesson::Run::new(&config, prepared.data(), &collect.steps, &outcome, param);
            lesson::write_plots(&run, &args.out, args.plots.animate)?
        }
        None => {
            let label = crate::output::epochs::fit_label(&outcome);
            epochs::write_run(
                &config,
                &prepared,
                &collect.epochs,
                &outcome.params,
                &device,
                &label,
                &args.out,
            )?
        }
    };
    Ok((written, outcome.divergence_error()))
}

/// The loss landscape and the animation draw the steps of training step by step (which a
/// config that trains by epochs, or does not train, has none of).
fn refuse_lesson_options(args: &PlotArgs, config: &std::path::Path) -> anyhow::Result<()> {
    for (flag, given) in [
        ("--param", !args.plots.landscape_params.is_empty()),
        ("--animate", args.plots.animate),
    ] {
        if given {
            bail!(
                "{flag} draws the steps of training step by step; `{}` does not train step by step",
                config.display()
            );
        }
    }
    Ok(())
}

/// `--run DIR`: the run's metrics per epoch and its checkpoint's predictions.
fn trained_run(args: &PlotArgs) -> anyhow::Result<Vec<PathBuf>> {
    let t = &args.training;
    for (flag, given) in [
        ("--learning-rate", t.learning_rate.is_some()),
        ("--max-steps", t.max_steps.is_some()),
        ("--epochs", t.epochs.is_some()),
    ] {
        if given {
            bail!("{flag} changes how a config trains; --run draws a run that has trained");
        }
    }
    let session = Session::open(&args.run, &args.select, Overrides::default())?;
    refuse_lesson_options(args, &session.config.path)?;
    let dir = args
        .select
        .dir
        .as_deref()
        .expect("trained_run is called with --run");
    let reports = run_dir::read_metrics(dir)?;
    let when = match &session.at {
        ParamsAt::Checkpoint { path, epoch } => format!("{} (epoch {epoch})", path.display()),
        ParamsAt::Initial => "at the initial parameters".to_string(),
    };
    epochs::write_run(
        &session.config,
        &session.data,
        &reports,
        &session.params,
        &session.device,
        &when,
        &args.out,
    )
}
