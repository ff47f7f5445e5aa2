//! `squiggle train`: both ways to train through the one training core — the lesson's step
//! table step by step, one line per epoch by epochs — with traces, run folders and plots.

use std::path::Path;

use anyhow::{anyhow, bail};
use burn::prelude::Device;
use squiggle_train::{
    DataSource, EpochReport, Flow, ModeKind, Observer, Prepared, RunState, Start, StepRecord,
    train, train_stream,
};

use crate::args::{RunArgs, TrainArgs};
use crate::files::refuse_destroying;
use crate::interrupt::{self, Interrupted};
use crate::output::epochs::{self, Bar};
use crate::output::plot::{self, lesson};
use crate::output::steps::{self, RSquared, StepTable};
use crate::output::trace::Trace;
use crate::output::{print_json, print_lines};
use crate::run_dir::{self, Resuming, RunDir};
use crate::session;
use squiggle_config::{Config, Data};
use squiggle_train::format::thousands;

/// Trains, streaming the step table or the epoch lines (and the files asked for) as the run
/// goes.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    interrupt::install()?;
    let overrides = squiggle_config::Overrides {
        streams: true,
        ..args.training.overrides()
    };
    // A resumed run's own config unless another is given.
    let run = RunArgs {
        config: match (&args.config, &args.resume) {
            (Some(config), _) => config.clone(),
            (None, Some(dir)) => run_dir::config_path(dir)?,
            (None, None) => anyhow::bail!("train needs a config, or a run folder with --resume"),
        },
        flags: args.flags.clone(),
    };
    let (config, data) = session::load(&run, overrides)?;
    check_flags(args, &run, &config)?;
    if !config.trains {
        let path = run.config.display();
        bail!(
            "`{path}` has no [train] section: it describes a network to evaluate (`squiggle eval {path}`); add a [train] section to train it"
        );
    }
    let device = session::device(&config)?;
    if config.by_epochs() {
        by_epochs(args, &run, &config, data, &device)
    } else {
        step_by_step(args, &run, &config, data, &device)
    }
}

/// Refuses the flags of the other mode, naming the flag.
fn check_flags(args: &TrainArgs, run: &RunArgs, config: &Config) -> anyhow::Result<()> {
    let path = run.config.display();
    if config.by_epochs() {
        let step_flags = [
            ("--trace", args.trace.is_some()),
            ("--all-steps", args.all_steps),
            ("--param", !args.plots.landscape_params.is_empty()),
            ("--animate", args.plots.animate),
        ];
        if let Some((flag, _)) = step_flags.iter().find(|(_, given)| *given) {
            bail!(
                "{flag} shows step-by-step training; `{path}` trains by epochs (see metrics.csv in --run-dir)"
            );
        }
    } else {
        let epoch_flags = [
            ("--run-dir", args.run_dir.is_some()),
            ("--resume", args.resume.is_some()),
            ("--report-memory", args.report_memory),
        ];
        if let Some((flag, _)) = epoch_flags.iter().find(|(_, given)| *given) {
            // The suggestion must work when followed: step-only keys refuse `epochs`.
            let step_keys: Vec<String> = config
                .given
                .iter()
                .filter(|s| s.mode() == Some(ModeKind::Steps))
                .map(|s| format!("`{}`", s.key()))
                .collect();
            if step_keys.is_empty() {
                bail!(
                    "{flag} keeps runs that train by epochs; `{path}` has no `[train] epochs` (add it, or pass --epochs N)"
                );
            }
            bail!(
                "{flag} keeps runs that train by epochs; `{path}` trains step by step (in [train], replace {} with `epochs = N`)",
                step_keys.join(", ")
            );
        }
    }
    Ok(())
}

/// What the run shows and keeps as it goes.
#[derive(Default)]
struct Watch {
    table: Option<StepTable>,
    trace: Option<Trace>,
    /// Every step, for the plots.
    steps: Option<Vec<StepRecord>>,
    /// Every epoch, for the plots.
    epochs: Vec<EpochReport>,
    /// One line per epoch on stdout.
    lines: bool,
    dir: Option<RunDir>,
    bar: Option<Bar>,
    /// The signal that stopped the run, and where it stopped.
    stopped: Option<(i32, String)>,
    /// The rows of its epoch a run stopped inside one had trained on, once its checkpoint is
    /// written.
    paused: Option<u64>,
}

impl Watch {
    /// Stops the run when a signal arrived, noting `where_` it stopped.
    fn stop_on_signal(&mut self, where_: impl FnOnce() -> String) -> Flow {
        match interrupt::requested() {
            Some(signal) => {
                self.stopped = Some((signal, where_()));
                Flow::Stop
            }
            None => Flow::Continue,
        }
    }
}

impl Observer for Watch {
    type Error = anyhow::Error;

    fn step(&mut self, record: &StepRecord) -> anyhow::Result<Flow> {
        if let Some(trace) = &mut self.trace {
            trace.write(record)?;
        }
        if let Some(table) = &mut self.table {
            table.push(record)?;
        }
        if let Some(steps) = &mut self.steps {
            steps.push(record.clone());
        }
        Ok(self.stop_on_signal(|| format!("after step {}", record.step)))
    }

    fn wants_batch_loss(&mut self) -> bool {
        self.bar.as_mut().is_some_and(Bar::wants_loss)
    }

    fn batch(&mut self, progress: &squiggle_train::BatchProgress) -> anyhow::Result<Flow> {
        if let Some(bar) = &mut self.bar {
            bar.draw(progress);
        }
        Ok(self.stop_on_signal(|| {
            format!(
                "in epoch {} after {} of {} rows",
                progress.epoch + 1,
                thousands(progress.done),
                thousands(progress.total)
            )
        }))
    }

    fn epoch(&mut self, report: &EpochReport, state: &RunState<'_>) -> anyhow::Result<Flow> {
        if let Some(bar) = &mut self.bar {
            bar.finish_epoch();
        }
        if let Some(dir) = &mut self.dir {
            dir.record(report, &state.checkpoint()?)?;
        }
        if self.lines {
            print_lines(&[epochs::line(report)])?;
        }
        self.epochs.push(report.clone());
        Ok(Flow::Continue)
    }

    fn paused(&mut self, state: &RunState<'_>) -> anyhow::Result<()> {
        let checkpoint = state.checkpoint()?;
        if let (Some(dir), Some(within)) = (&mut self.dir, &checkpoint.meta.progress.within) {
            dir.pause(&checkpoint)?;
            self.paused = Some(within.rows);
        }
        Ok(())
    }
}

fn step_by_step(
    args: &TrainArgs,
    run: &RunArgs,
    config: &Config,
    data: Data,
    device: &Device,
) -> anyhow::Result<()> {
    let landscape_param = match &args.plot {
        Some(_) => Some(lesson::landscape_params(config, &args.plots)?),
        None => None,
    };
    if let Some(trace) = &args.trace {
        let mut inputs = vec![("config", run.config.as_path())];
        inputs.extend(config.source.csv_path().map(|p| ("data", p)));
        inputs.extend(config.valid_csv.as_deref().map(|p| ("validation data", p)));
        refuse_destroying("--trace", trace, &inputs, None)?;
    }
    let mut watch = Watch {
        trace: args
            .trace
            .as_deref()
            .map(|p| Trace::create(p, config))
            .transpose()?,
        steps: landscape_param.as_ref().map(|_| Vec::new()),
        ..Watch::default()
    };
    let read = data.read;
    let mut prepared = data.prepare(&config.plan);
    // On a data set, R² beside the loss says how much of the data the fit explains.
    let r2 = matches!(config.source, DataSource::Csv { .. }).then(|| RSquared {
        loss: config.plan.loss(),
        values: prepared.train_rows().len() * prepared.data().outputs(),
        total: prepared.data().total_squares(prepared.train_rows()),
    });
    watch.table = (!run.flags.json).then(|| StepTable::new(config, args.all_steps, r2));
    if let Some(table) = &watch.table {
        let run = session::describe(config, prepared.data().len());
        table.print_intro(config, &run, read.as_ref())?;
    }
    let start = Start::Fresh(config.initial.clone());
    let outcome = train(
        &config.arch,
        start,
        &mut prepared,
        &config.plan,
        device,
        &mut watch,
    )?;
    if let Some((signal, at)) = watch.stopped.take() {
        // Nothing is kept: the unfinished trace is removed with its temporary file.
        return Err(Interrupted {
            signal,
            what: format!("interrupted {at}; nothing was written"),
        }
        .into());
    }
    if let Some(trace) = watch.trace.take() {
        trace.finish(config, &outcome)?;
    }
    match watch.table.take() {
        Some(table) => table.finish(config, &outcome)?,
        None => print_json(&steps::summary_json(config, &outcome))?,
    }
    if let (Some(dir), Some(param)) = (&args.plot, landscape_param) {
        let records = watch.steps.as_deref().unwrap_or_default();
        let lesson_run = lesson::Run::new(config, prepared.data(), records, &outcome, param);
        let written = lesson::write_plots(&lesson_run, dir, args.plots.animate)?;
        if !run.flags.json {
            plot::print_written(&written)?;
        }
    }
    // A diverged run has shown and written everything up to the blow-up; it still failed.
    failed_if_diverged(&outcome, Some(&prepared))
}

/// Exit 1 with the divergence's one line, after everything else was shown and written.
/// `data`: the rows trained on, held; when they were not scaled and an input column spans
/// thousands, the line names it (an ID or a count in raw units blows up the first steps,
/// whatever the learning rate).
fn failed_if_diverged(
    outcome: &squiggle_train::Outcome,
    data: Option<&Prepared>,
) -> anyhow::Result<()> {
    let Some(error) = outcome.divergence_error() else {
        return Ok(());
    };
    let unscaled = data.filter(|p| p.scaling().is_none());
    // The column first, then the divergence (still the error's cause: a failed run).
    let error = anyhow::Error::new(error);
    Err(match unscaled.and_then(|p| widest_input(p.data())) {
        Some(column) => error.context(format!(
            "unscaled input {column} (set [data] standardize = true, or leave it out with [data] exclude)"
        )),
        None => error,
    })
}

/// `column `id` spans 0 to 199,999`: the input column with the largest values, when they
/// pass a thousand.
fn widest_input(data: &squiggle_train::Dataset) -> Option<String> {
    let width = data.inputs();
    let mut ranges = vec![(f32::INFINITY, f32::NEG_INFINITY); width];
    for row in data.input_values().chunks_exact(width.max(1)) {
        for ((low, high), &v) in ranges.iter_mut().zip(row) {
            (*low, *high) = (low.min(v), high.max(v));
        }
    }
    let size = |&(low, high): &(f32, f32)| low.abs().max(high.abs());
    let (column, range) = ranges
        .iter()
        .enumerate()
        .max_by(|a, b| size(a.1).total_cmp(&size(b.1)))?;
    (size(range) > 1000.0).then(|| {
        let name = &data.input_names()[column];
        // Whole numbers in groups of three (`199,999`), others as written.
        let show = |v: f32| match v.fract() == 0.0 && v.abs() < 1e15 {
            true if v < 0.0 => format!("-{}", thousands(v.abs() as usize)),
            true => thousands(v as usize),
            false => v.to_string(),
        };
        format!(
            "column `{name}` spans {} to {}",
            show(range.0),
            show(range.1)
        )
    })
}

fn by_epochs(
    args: &TrainArgs,
    run: &RunArgs,
    config: &Config,
    data: Data,
    device: &Device,
) -> anyhow::Result<()> {
    let resumed = args
        .resume
        .as_deref()
        .map(|dir| run_dir::load_checkpoint(dir, false))
        .transpose()?;
    if let Some((path, checkpoint)) = &resumed {
        let buffer = data
            .stream
            .as_ref()
            .and_then(squiggle_train::Stream::buffered);
        checkpoint
            .check_resumable(&config.arch, &data.train, &config.plan, buffer)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    if let (Some(dir), Some((path, checkpoint))) = (&args.resume, &resumed) {
        run_dir::check_same_run(dir, config)?;
        run_dir::check_history(dir, checkpoint.meta.progress.epoch)?;
        // Everything the resume will load, loaded once now: nothing of the run is written
        // before it is known to continue.
        checkpoint
            .check_restore(&config.arch, &config.plan, device)
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        if !checkpoint.optimizer_state_carries(&config.plan) {
            eprintln!(
                "squiggle: note: the run trained with {}, which keeps no optimizer state; {} starts its state afresh from epoch {}",
                checkpoint.meta.optimizer,
                config.plan.optimizer(),
                checkpoint.meta.progress.epoch
            );
        }
    }
    let progress = resumed.as_ref().map(|(_, c)| c.meta.progress.clone());
    let resumed_at = progress.as_ref().map(|p| p.epoch);
    let planned = config.plan.epoch_plan().map_or(0, |e| e.epochs);
    // A resume with nothing left to do writes nothing (the run's config keeps its epochs).
    let nothing_to_do = resumed_at.is_some_and(|done| done >= planned);
    let resuming = args
        .resume
        .as_deref()
        .zip(resumed_at)
        .map(|(from, epoch)| Resuming { from, epoch });
    let dir = match (&args.run_dir, &args.resume) {
        _ if nothing_to_do => None,
        (Some(dir), _) | (None, Some(dir)) => Some(RunDir::open(dir, config, resuming)?),
        (None, None) => None,
    };
    let read = data.read;
    let scaling = resumed.as_ref().map(|(_, c)| c.meta.scaling.clone());
    let start = match resumed {
        Some((_, checkpoint)) => Start::Resume(Box::new(checkpoint)),
        None => Start::Fresh(config.initial.clone()),
    };
    let quiet = run.flags.json;
    let mut watch = Watch {
        lines: !quiet,
        dir,
        bar: (!quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(Bar::default),
        ..Watch::default()
    };
    // The run's first lines: its shape and rows (`extra`: how a streamed file is read).
    let intro = |(train, valid): (usize, usize), extra: Option<String>| {
        if quiet {
            return Ok(());
        }
        let mut lines = epochs::intro(config, train, valid, read, progress.as_ref());
        lines.extend(extra);
        print_lines(&lines)
    };
    let (outcome, prepared) = match data.stream {
        Some(stream) => {
            // A resumed run keeps training in the units it started in.
            let stream = match scaling {
                Some(scaling) => stream.rescaled(scaling),
                None => stream,
            };
            let mut valid = data.valid;
            if let (Some(rows), Some(s)) = (&mut valid, stream.scaling()) {
                s.apply(rows);
            }
            let held = valid
                .as_ref()
                .map_or(stream.valid_len(), |v| v.len() as u64);
            let rows = (stream.train_len() as usize, held as usize);
            intro(rows, Some(epochs::streaming(&stream)))?;
            let outcome = train_stream(
                &config.arch,
                start,
                &stream,
                valid.as_ref(),
                &config.plan,
                device,
                &mut watch,
            )?;
            (outcome, None)
        }
        None => {
            let mut prepared = match scaling {
                Some(scaling) => Prepared::resumed(data.train, data.valid, &config.plan, scaling),
                None => data.prepare(&config.plan),
            };
            intro((prepared.train_rows().len(), prepared.valid_len()), None)?;
            let outcome = train(
                &config.arch,
                start,
                &mut prepared,
                &config.plan,
                device,
                &mut watch,
            )?;
            (outcome, Some(prepared))
        }
    };
    if let Some((signal, at)) = watch.stopped.take() {
        drop(watch.bar.take());
        let done = resumed_at.unwrap_or(0) + watch.epochs.len();
        let kept = match (&watch.dir, watch.paused) {
            (Some(dir), Some(rows)) => format!(
                "`{}` keeps epoch {done} and {} rows of epoch {}: resume with --resume {}",
                dir.path().display(),
                thousands(rows as usize),
                done + 1,
                dir.path().display()
            ),
            (Some(dir), None) if done == 0 => {
                format!("`{}` holds no finished epoch yet", dir.path().display())
            }
            (Some(dir), None) => format!(
                "`{}` keeps epoch {done}: resume with --resume {}",
                dir.path().display(),
                dir.path().display()
            ),
            (None, _) => "nothing was kept (--run-dir keeps a run that can resume)".to_string(),
        };
        return Err(Interrupted {
            signal,
            what: format!("interrupted {at}; {kept}"),
        }
        .into());
    }
    if quiet {
        print_json(&epochs::summary_json(config, &outcome, args.report_memory))?;
    } else {
        let kept = watch.dir.as_ref().map(|d| kept_in(d.path()));
        epochs::print_summary(config, &outcome, kept)?;
    }
    if let (Some(dir), Some(prepared)) = (&args.plot, &prepared) {
        let label = epochs::fit_label(&outcome);
        let written = plot::epochs::write_run(
            config,
            prepared,
            &watch.epochs,
            &outcome.params,
            device,
            &label,
            dir,
        )?;
        if !quiet {
            plot::print_written(&written)?;
        }
    }
    failed_if_diverged(&outcome, prepared.as_ref())
}

/// `Run kept in DIR (config.toml, metrics.csv, last.ckpt, best.ckpt).`
fn kept_in(dir: &Path) -> String {
    let best = if dir.join(run_dir::BEST).exists() {
        ", best.ckpt"
    } else {
        ""
    };
    let confusion = if dir.join(run_dir::CONFUSION).exists() {
        ", confusion.csv"
    } else {
        ""
    };
    format!(
        "Run kept in {} (config.toml, metrics.csv{confusion}, last.ckpt{best}).",
        dir.display()
    )
}
