//! Plots of a run step by step: the fit (data, the green squiggle, each hidden unit's
//! contribution), the loss landscape of one parameter with the steps on it, a contour of two
//! parameters with the path across it, the loss per step, and an animation of the fit and the
//! landscape. Colours follow the lesson: the green squiggle, the blue and orange hidden-unit
//! contributions, a pink loss curve.
//!
//! The pictures tell the truth about the run: the steps are drawn at the loss the run really
//! had, and a 1-D curve is labelled as exact only when the landscape's parameter is the only
//! one that trains; otherwise it is a slice through the parameters of the step shown.

use std::path::{Path, PathBuf};

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use squiggle_model::{ParamNames, ParamTarget, lesson};
use squiggle_train::{DataSource, Dataset, LossKind, Outcome, StepRecord};

use crate::args::PlotOptions;
use squiggle_config::Config;
use squiggle_playground::drawing::padded_data_range;

use super::{
    Curve, Curves, Entry, GREEN, Key, PINK, Picture, PredictedVsObserved, axes, draw_legend_beside,
    linspace, min_max, padded, plot_error, px, pxu, sample, unit_colour, with_colour_bar,
    write_gif, write_svg_and_png,
};

/// Size of each animation frame: the fit and the landscape side by side.
pub const FRAME_SIZE: (u32, u32) = (1200, 480);
/// At most this many frames; longer runs are sampled evenly (first and last always kept).
pub const MAX_FRAMES: usize = 60;
/// At most this many steps are marked on the landscape; longer runs are sampled evenly.
pub const MAX_MARKED_STEPS: usize = 100;
/// Cells of the contour's grid, across and up.
const CONTOUR_CELLS: (usize, usize) = (72, 48);

/// Everything the plots are drawn from: a finished run.
pub struct Run<'a> {
    /// The config: network, names, loss, initial values.
    pub config: &'a Config,
    /// The data it was fitted to.
    pub data: &'a Dataset,
    /// Every step.
    pub records: &'a [StepRecord],
    /// The loss after the last step.
    pub final_loss: f64,
    /// The step at which the run diverged, if it did.
    pub diverged_at: Option<usize>,
    /// The parameters of the landscape (the first) and the contour (with a second).
    pub landscape: Vec<usize>,
}

impl<'a> Run<'a> {
    /// The run of `config` on `data` that took `records` and ended in `outcome`; `landscape`
    /// names the parameters of the landscape (and, with two, the contour).
    pub fn new(
        config: &'a Config,
        data: &'a Dataset,
        records: &'a [StepRecord],
        outcome: &Outcome,
        landscape: Vec<usize>,
    ) -> Self {
        let summary = outcome.steps_summary();
        Self {
            config,
            data,
            records,
            final_loss: summary.map_or(f64::NAN, |s| s.final_loss),
            diverged_at: summary.and_then(|s| s.divergence.as_ref()).map(|d| d.step),
            landscape,
        }
    }

    fn names(&self) -> &ParamNames {
        &self.config.names
    }

    fn loss(&self) -> LossKind {
        self.config.plan.loss()
    }

    /// The parameter vector before each step, then the final one.
    fn values_by_step(&self) -> Vec<Vec<f64>> {
        let mut values = self.config.initial.to_vec();
        let mut out = vec![values.clone()];
        for record in self.records {
            for p in &record.params {
                values[p.index] = p.new_value;
            }
            out.push(values.clone());
        }
        out
    }

    /// The loss at `values`, computed on the host in f64.
    fn loss_at(&self, values: &[f64]) -> f64 {
        self.loss().on_host(&self.config.arch, values, self.data)
    }

    /// Returns true if and only if `params` are exactly the parameters that train, so that a
    /// picture over them with the others fixed is the run's own loss, not a slice.
    fn trains_only(&self, params: &[usize]) -> bool {
        let mut trainable = self.config.plan.trainable_indices();
        let mut params = params.to_vec();
        trainable.sort_unstable();
        params.sort_unstable();
        trainable == params
    }

    /// `" (diverged at step 12)"`, or nothing.
    fn diverged_note(&self) -> String {
        self.diverged_at
            .map(|k| format!(" (diverged at step {k})"))
            .unwrap_or_default()
    }
}

/// The axis titles of the fit: the lessons' words on the lessons' points (dosage and
/// efficacy; weight and height for "Gradient Descent, Step-by-Step"), the column names of a
/// CSV file, `input`/`output` for other points.
fn axis_titles(config: &Config) -> (String, String) {
    let gradient_descent = || {
        lesson::GRADIENT_DESCENT_POINTS
            .iter()
            .map(|row| row.to_vec())
            .collect::<Vec<_>>()
    };
    match &config.source {
        DataSource::Lesson { .. } => ("input (dosage)".into(), "output (efficacy)".into()),
        DataSource::Points { rows, .. } if *rows == lesson::points() => {
            ("input (dosage)".into(), "output (efficacy)".into())
        }
        DataSource::Points { rows, .. } if *rows == gradient_descent() => {
            ("input (weight)".into(), "output (height)".into())
        }
        DataSource::Points { .. } => ("input".into(), "output".into()),
        DataSource::Csv { .. } => (config.inputs[0].clone(), config.targets[0].clone()),
    }
}

/// What the fitted curve is called in a title and in the legend: a network without a hidden
/// layer fits a straight line.
fn fitted(config: &Config) -> (&'static str, &'static str) {
    if config.arch.hidden.is_empty() {
        ("line", "prediction (the fitted line)")
    } else {
        ("squiggle", "prediction (the green squiggle)")
    }
}

/// The flat indices of `--param` (one for the landscape, two for a contour as well), or the
/// first trainable parameter.
///
/// # Errors
/// Unknown names, and names of whole tensors (an axis is one number).
pub fn landscape_params(config: &Config, options: &PlotOptions) -> anyhow::Result<Vec<usize>> {
    if options.landscape_params.is_empty() {
        return Ok(vec![config.plan.trainable_indices()[0]]);
    }
    let mut params = Vec::new();
    for name in &options.landscape_params {
        match config.names.resolve(name) {
            Ok(ParamTarget::Scalar(i)) if params.contains(&i) => {
                bail!("--param `{name}` is given twice; a contour needs two different parameters")
            }
            Ok(ParamTarget::Scalar(i)) => params.push(i),
            Ok(ParamTarget::Tensor(_)) => bail!(
                "--param `{name}` names a whole tensor; the landscape needs one number, such as `{name}[0]`"
            ),
            Err(e) => bail!("--param: {e}"),
        }
    }
    Ok(params)
}

/// Writes the fit of a config that does not train (`fit.svg` and `fit.png`): its network
/// drawn as it is configured, as "Neural Networks Pt. 1" shows it.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_untrained(
    config: &Config,
    data: &Dataset,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    super::prepare(dir)?;
    let run = Run {
        config,
        data,
        records: &[],
        final_loss: f64::NAN,
        diverged_at: None,
        landscape: Vec::new(),
    };
    write_fit(
        &run,
        &config.initial,
        "The network as configured (no training)".to_string(),
        "as configured",
        dir,
    )
}

/// The fit of `values`: the squiggle over the data (`fit`), or for a classifier with two
/// inputs its decision regions and surfaces (`when` says which parameters); nothing for a
/// classifier of more inputs, which has no picture over its inputs.
fn write_fit(
    run: &Run,
    values: &[f64],
    title: String,
    when: &str,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    if run.data.classes().is_some() {
        if run.config.arch.inputs != 2 {
            return Ok(Vec::new());
        }
        let rows: Vec<u32> = (0..run.data.len() as u32).collect();
        return super::classes::write_surfaces(
            &run.config.arch,
            values,
            run.data,
            &rows,
            when,
            dir,
        );
    }
    let fit = Fit { run, values, title };
    Ok(write_svg_and_png(&fit, dir, "fit")?.to_vec())
}

/// Writes `fit`, `landscape` and `loss` as `.svg` and `.png` into `dir` (`contour` too when
/// the run names two parameters, and `animation.gif` when `animate`), returning the paths.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_plots(run: &Run, dir: &Path, animate: bool) -> anyhow::Result<Vec<PathBuf>> {
    super::prepare(dir)?;
    let steps = run.values_by_step();
    let last = steps.len() - 1;
    let landscape = Landscape::new(run, &steps);
    let mut written = Vec::new();
    written.extend(write_fit(
        run,
        &steps[last],
        format!("The fitted {}{}", fitted(run.config).0, run.diverged_note()),
        &format!("after step {last}{}", run.diverged_note()),
        dir,
    )?);
    let marked = Marked {
        run,
        landscape: &landscape,
        upto: last,
    };
    written.extend(write_svg_and_png(&marked, dir, "landscape")?);
    if let [a, b] = run.landscape[..] {
        let contour = Contour::new(run, &steps, a, b);
        written.extend(write_svg_and_png(&contour, dir, "contour")?);
    }
    written.extend(write_svg_and_png(&loss_curve(run), dir, "loss")?);
    if animate {
        let frames = sample(steps.len(), MAX_FRAMES).into_iter().map(|k| {
            let title = if k == last {
                format!("After {k} steps{}", run.diverged_note())
            } else {
                format!("Step {k}")
            };
            let frame = Frame {
                fit: Fit {
                    run,
                    values: &steps[k],
                    title,
                },
                landscape: Marked {
                    run,
                    landscape: &landscape,
                    upto: k,
                },
            };
            // Centiseconds: a quarter second per step, two seconds on the result.
            (frame, if k == last { 200 } else { 25 })
        });
        written.push(write_gif(&dir.join("animation.gif"), FRAME_SIZE, frames)?);
    }
    Ok(written)
}

/// The data and the fitted curve at some parameters.
struct Fit<'a> {
    run: &'a Run<'a>,
    values: &'a [f64],
    title: String,
}

impl Picture for Fit<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        // A two-input classifier's fit is its decision regions (the animation's frames too).
        if self.run.data.classes().is_some() && self.run.config.arch.inputs == 2 {
            let rows: Vec<u32> = (0..self.run.data.len() as u32).collect();
            let regions = super::classes::Surface::new(
                &self.run.config.arch,
                self.values,
                self.run.data,
                &rows,
                super::classes::Shade::Regions,
                self.title.clone(),
            );
            return regions.draw(area);
        }
        draw_fit(area, self.run, self.values, &self.title)
    }
}

/// The landscape with the steps up to `upto` marked.
struct Marked<'a> {
    run: &'a Run<'a>,
    landscape: &'a Landscape,
    upto: usize,
}

impl Picture for Marked<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        self.landscape.draw(area, self.run, self.upto)
    }
}

/// An animation frame: the fit and the landscape at one step, side by side.
struct Frame<'a> {
    fit: Fit<'a>,
    landscape: Marked<'a>,
}

impl Picture for Frame<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (width, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(width / 2);
        self.fit.draw(&left)?;
        self.landscape.draw(&right)
    }
}

/// The loss before each step and at the end, on a log scale.
fn loss_curve(run: &Run) -> Curves {
    let mut losses: Vec<f64> = run.records.iter().map(|r| r.loss).collect();
    losses.push(run.final_loss);
    let symbol = run.loss().symbol();
    Curves {
        title: format!("{symbol} over the steps{}", run.diverged_note()),
        x_desc: "step".to_string(),
        y_desc: format!("{symbol} (log scale)"),
        log: true,
        curves: vec![Curve {
            label: String::new(),
            colour: PINK,
            points: losses
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64, l))
                .collect(),
        }],
    }
}

/// How far (as a multiple of the span of the data and the prediction) the hidden units'
/// contributions may reach before the y axis stops following them: the lesson's units (a few
/// times the data's span) are drawn whole; a wide network's (millions, past the data) are cut
/// at the axis, and their labels say so.
const CONTRIBUTION_REACH: f64 = 10.0;

/// The data with the fitted curve (and each hidden unit's share of it), or predicted against
/// observed when there are several inputs or outputs.
fn draw_fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &Run,
    values: &[f64],
    title: &str,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let (arch, data) = (&run.config.arch, run.data);
    if arch.inputs != 1 || arch.outputs != 1 {
        return predicted_vs_observed(run, values, title).draw(area);
    }
    let (x_lo, x_hi) = padded_data_range(data);
    // A straight line is drawn from its two ends: sampled, each point would be rounded to a
    // pixel on its own and the line would waver.
    let samples = if arch.hidden.is_empty() { 2 } else { 200 };
    let xs: Vec<f64> = linspace(x_lo, x_hi, samples).collect();
    let predict = |x: f64| arch.forward_host(values, &[x]).prediction()[0];
    let squiggle: Vec<(f64, f64)> = xs.iter().map(|&x| (x, predict(x))).collect();
    let points: Vec<(f64, f64)> = (0..data.len())
        .map(|i| (data.input_row(i)[0], data.output_row(i)[0]))
        .collect();
    let contributions = hidden_contributions(run, values, &xs);
    let (lo, hi) = min_max(squiggle.iter().chain(&points).map(|p| p.1));
    let (c_lo, c_hi) = min_max(
        contributions
            .iter()
            .flat_map(|(_, c)| c.iter().map(|p| p.1)),
    );
    let reach = CONTRIBUTION_REACH * (hi - lo).max(1e-9);
    let (lo, hi) = if c_lo >= lo - reach && c_hi <= hi + reach {
        (lo.min(c_lo), hi.max(c_hi))
    } else {
        (lo, hi)
    };
    let (y_lo, y_hi) = padded(lo, hi, 0.08);
    let (x_desc, y_desc) = axis_titles(run.config);
    // Each contribution in the stretches inside the axis, labelled `(clipped)` when cut.
    let contributions: Vec<(String, Vec<Stretch>)> = contributions
        .into_iter()
        .map(|(label, curve)| {
            let mut runs = inside(&curve, (y_lo, y_hi));
            let label = if runs.iter().map(Vec::len).sum::<usize>() < curve.len() {
                format!("{label} (clipped)")
            } else {
                label
            };
            if runs.is_empty() {
                // Wholly off the axis: still named in the legend.
                runs.push(Vec::new());
            }
            (label, runs)
        })
        .collect();
    let legend: Vec<Entry> = contributions
        .iter()
        .enumerate()
        .map(|(k, (label, _))| Entry::new(label, Key::Line(unit_colour(k).stroke_width(pxu(2)))))
        .chain([
            Entry::new(fitted(run.config).1, Key::Line(GREEN.stroke_width(pxu(4)))),
            Entry::new("data", Key::Square(BLACK)),
        ])
        .collect();
    let mut chart = axes(
        area,
        title,
        (x_lo, x_hi),
        (y_lo, y_hi),
        x_desc,
        y_desc,
        &legend,
    )?;
    for (k, (_, runs)) in contributions.into_iter().enumerate() {
        for run in runs {
            chart
                .draw_series(LineSeries::new(run, unit_colour(k).stroke_width(pxu(2))))
                .map_err(plot_error)?;
        }
    }
    chart
        .draw_series(LineSeries::new(
            squiggle.clone(),
            GREEN.stroke_width(pxu(4)),
        ))
        .map_err(plot_error)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, px(6), BLACK.filled())),
        )
        .map_err(plot_error)?;
    draw_legend_beside(area, &chart, &legend)
}

/// A stretch of a curve, as its points.
type Stretch = Vec<(f64, f64)>;

/// The stretches of `curve` inside `y` (a curve that leaves the axis is cut there, not
/// drawn along its edge).
fn inside(curve: &[(f64, f64)], (lo, hi): (f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for &(x, y) in curve {
        if (lo..=hi).contains(&y) {
            current.push((x, y));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

/// For networks with the lesson's names, each hidden unit's scaled output
/// `w_out·act(w·x + b)` over `xs`.
fn hidden_contributions(run: &Run, values: &[f64], xs: &[f64]) -> Vec<(String, Vec<(f64, f64)>)> {
    let (activation, names) = (run.config.arch.activation, run.names());
    names
        .lesson_units()
        .into_iter()
        .map(|unit| {
            let points = xs
                .iter()
                .map(|&x| (x, unit.contribution(activation, values, x)))
                .collect();
            (unit.label(names, activation), points)
        })
        .collect()
}

/// Each prediction at `values` against its observation, for several inputs or outputs.
fn predicted_vs_observed(run: &Run, values: &[f64], title: &str) -> PredictedVsObserved {
    let data = run.data;
    let mut points = Vec::new();
    for i in 0..data.len() {
        let pass = run.config.arch.forward_host(values, &data.input_row(i));
        for (o, p) in data.output_row(i).iter().zip(pass.prediction()) {
            points.push((*o, *p));
        }
    }
    PredictedVsObserved {
        title: title.to_string(),
        points,
    }
}

/// The loss along one parameter, with the run's steps at the loss the run really had.
struct Landscape {
    param: usize,
    /// Whether the parameter is the only one that trains: then the curve is the run's own
    /// loss; otherwise it is a slice through the parameters of the step shown.
    exact: bool,
    /// The parameters before each step, then the final ones.
    steps: Vec<Vec<f64>>,
    /// `(step, value, the run's loss there)` for each marked step.
    marks: Vec<(usize, f64, f64)>,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl Landscape {
    fn new(run: &Run, steps: &[Vec<f64>]) -> Self {
        let p = run.landscape.first().copied().unwrap_or(0);
        let exact = run.trains_only(&[p]);
        let (lo, hi) = min_max(steps.iter().map(|v| v[p]));
        let (x_lo, x_hi) = padded(lo, hi, 0.25);
        let marks: Vec<(usize, f64, f64)> = sample(run.records.len(), MAX_MARKED_STEPS)
            .into_iter()
            .map(|k| (k, steps[k][p], run.records[k].loss))
            .collect();
        let mut landscape = Self {
            param: p,
            exact,
            steps: steps.to_vec(),
            marks,
            x_range: (x_lo, x_hi),
            y_range: (0.0, 1.0),
        };
        // One y range for every frame: the run's losses and the slices at the start and at
        // the end.
        let ends = [0, steps.len() - 1];
        let curves = ends.iter().flat_map(|&k| landscape.slice(run, k));
        let ys: Vec<f64> = curves
            .map(|c| c.1)
            .chain(landscape.marks.iter().map(|m| m.2))
            .collect();
        let (y_lo, y_hi) = min_max(ys);
        landscape.y_range = padded(y_lo, y_hi, 0.05);
        landscape
    }

    /// The loss over the parameter's range with every other parameter at its value before
    /// step `k` (after the last step for `k` = the number of steps).
    fn slice(&self, run: &Run, k: usize) -> Vec<(f64, f64)> {
        let mut v = self.steps[k].clone();
        let (lo, hi) = self.x_range;
        linspace(lo, hi, 200)
            .map(|x| {
                v[self.param] = x;
                (x, run.loss_at(&v))
            })
            .collect()
    }

    /// Draws the landscape with the steps marked up to `upto` (the last step shows all), and
    /// the tangent whose slope is the derivative: at the start when the curve is exact, at
    /// the step shown otherwise.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        run: &Run,
        upto: usize,
    ) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let name = run.names().name(self.param);
        let symbol = run.loss().symbol();
        let last = self.steps.len() - 1;
        // The step whose slice and tangent are drawn: the start when the curve is exact (it is
        // the same curve at every step), else the step shown (the last one taken at the end).
        let at = if self.exact {
            0
        } else {
            upto.min(run.records.len().saturating_sub(1))
        };
        let (title, curve_label) = if self.exact {
            (
                format!("{symbol} as a function of {name}{}", run.diverged_note()),
                format!("{symbol}({name}), {name} alone trains"),
            )
        } else {
            (
                format!(
                    "{symbol} along the path, and a slice through {name}{}",
                    run.diverged_note()
                ),
                format!("slice: {symbol}({name}), the others as at step {at}"),
            )
        };
        let steps_label = if self.exact {
            "gradient-descent steps".to_string()
        } else {
            format!("the run's {symbol} at each step")
        };
        let tangent_label = format!("slope d{symbol}/d{name} at step {at}");
        let legend = [
            Entry::new(curve_label, Key::Line(PINK.stroke_width(pxu(3)))),
            Entry::new(tangent_label, Key::Line(BLACK.stroke_width(pxu(2)))),
            Entry::new(steps_label, Key::Square(GREEN)),
        ];
        let mut chart = axes(
            area,
            title,
            self.x_range,
            self.y_range,
            name,
            symbol,
            &legend,
        )?;
        chart
            .draw_series(LineSeries::new(
                self.slice(run, at),
                PINK.stroke_width(pxu(3)),
            ))
            .map_err(plot_error)?;
        if let Some(record) = run.records.get(at)
            && let Some(step) = record.params.iter().find(|s| s.index == self.param)
        {
            let (x_lo, x_hi) = self.x_range;
            let (y_lo, y_hi) = self.y_range;
            let (x0, y0, slope) = (step.value, record.loss, step.derivative);
            let half = (x_hi - x_lo) * 0.15;
            let clip = |(x, y): (f64, f64)| (x, y.clamp(y_lo, y_hi));
            let tangent = [
                (x0 - half, y0 - slope * half),
                (x0 + half, y0 + slope * half),
            ];
            chart
                .draw_series(LineSeries::new(
                    tangent.into_iter().map(clip),
                    BLACK.stroke_width(pxu(2)),
                ))
                .map_err(plot_error)?;
        }
        let shown: Vec<(f64, f64)> = self
            .marks
            .iter()
            .filter(|m| m.0 <= upto.min(last))
            .map(|&(_, x, y)| (x, y))
            .collect();
        chart
            .draw_series(shown.iter().map(|&p| Circle::new(p, px(5), GREEN.filled())))
            .map_err(plot_error)?;
        draw_legend_beside(area, &chart, &legend)
    }
}

/// The loss over two parameters, the others at their final values, with the run's path.
struct Contour {
    names: [String; 2],
    symbol: &'static str,
    exact: bool,
    /// `(a, b, colour band)` at each cell's centre: the cell's loss ranked among all cells,
    /// in [`BANDS`] bands, so the picture shows level sets whatever the loss's scale.
    cells: Vec<(f64, f64, usize)>,
    /// The lowest, the median and the highest cell's loss: the colour bar's labels.
    quantiles: [f64; 3],
    cell: (f64, f64),
    x_range: (f64, f64),
    y_range: (f64, f64),
    path: Vec<(f64, f64)>,
}

/// Colour bands of the contour.
const BANDS: usize = 12;

impl Contour {
    fn new(run: &Run, steps: &[Vec<f64>], a: usize, b: usize) -> Self {
        let range = |p: usize| {
            let (lo, hi) = min_max(steps.iter().map(|v| v[p]));
            padded(lo, hi, 0.25)
        };
        let (x_range, y_range) = (range(a), range(b));
        let (nx, ny) = CONTOUR_CELLS;
        let cell = (
            (x_range.1 - x_range.0) / nx as f64,
            (y_range.1 - y_range.0) / ny as f64,
        );
        let mut values = steps[steps.len() - 1].clone();
        let mut losses = Vec::with_capacity(nx * ny);
        for i in 0..nx {
            for j in 0..ny {
                let x = x_range.0 + (i as f64 + 0.5) * cell.0;
                let y = y_range.0 + (j as f64 + 0.5) * cell.1;
                values[a] = x;
                values[b] = y;
                losses.push((x, y, run.loss_at(&values)));
            }
        }
        let mut order: Vec<usize> = (0..losses.len()).collect();
        order.sort_by(|&i, &j| losses[i].2.total_cmp(&losses[j].2));
        let mut cells = vec![(0.0, 0.0, 0); losses.len()];
        for (rank, &i) in order.iter().enumerate() {
            let (x, y, _) = losses[i];
            cells[i] = (x, y, rank * BANDS / losses.len());
        }
        let marked = sample(steps.len(), MAX_MARKED_STEPS);
        let quantiles = [0, order.len() / 2, order.len() - 1].map(|r| losses[order[r]].2);
        Self {
            quantiles,
            names: [
                run.names().name(a).to_string(),
                run.names().name(b).to_string(),
            ],
            symbol: run.loss().symbol(),
            exact: run.trains_only(&[a, b]),
            cells,
            cell,
            x_range,
            y_range,
            path: marked
                .into_iter()
                .map(|k| (steps[k][a], steps[k][b]))
                .collect(),
        }
    }

    /// Light for the lowest band, dark for the highest.
    fn colour(band: usize) -> RGBColor {
        let t = band as f64 / (BANDS - 1) as f64;
        let mix = |light: f64, dark: f64| (light + (dark - light) * t).round() as u8;
        RGBColor(mix(255.0, 60.0), mix(250.0, 20.0), mix(215.0, 110.0))
    }
}

impl Picture for Contour {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let [a, b] = &self.names;
        let s = self.symbol;
        let title = if self.exact {
            format!("{s} over {a} and {b} (the two parameters that train)")
        } else {
            format!("{s} over {a} and {b}, the others at their final values")
        };
        // The bar shades by rank, as the cells do: its middle is the median cell's loss.
        let [low, median, high] = self.quantiles;
        let band = |t: f64| Self::colour(((t * BANDS as f64) as usize).min(BANDS - 1));
        let labels = [(0.0, low), (0.5, median), (1.0, high)];
        let area = &with_colour_bar(area, s, &band, &labels)?;
        let legend = [Entry::new(
            "the run's path",
            Key::Line(GREEN.stroke_width(pxu(2))),
        )];
        let mut chart = axes(area, title, self.x_range, self.y_range, a, b, &legend)?;
        let (w, h) = (self.cell.0 / 2.0, self.cell.1 / 2.0);
        chart
            .draw_series(self.cells.iter().map(|&(x, y, band)| {
                Rectangle::new(
                    [(x - w, y - h), (x + w, y + h)],
                    Self::colour(band).filled(),
                )
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(LineSeries::new(
                self.path.clone(),
                GREEN.stroke_width(pxu(2)),
            ))
            .map_err(plot_error)?;
        chart
            .draw_series(
                self.path
                    .iter()
                    .map(|&p| Circle::new(p, px(4), GREEN.filled())),
            )
            .map_err(plot_error)?;
        draw_legend_beside(area, &chart, &legend)
    }
}
