//! Plots of a run step by step: the fit (data, the green squiggle, each hidden unit's
//! contribution), the loss landscape of one parameter with the steps on it, the loss per
//! step, and an animation of the fit and the landscape. Colours follow the lesson: the green
//! squiggle, the blue and orange hidden-unit contributions, a pink loss curve.

use std::path::{Path, PathBuf};

use anyhow::bail;
use plotters::coord::Shift;
use plotters::prelude::*;
use squiggle_model::{Architecture, ParamNames, ParamTarget};
use squiggle_train::{Dataset, LossKind, Outcome, StepRecord};

use crate::args::PlotOptions;
use crate::config::Config;

use super::{
    Curve, Curves, GREEN, HIDDEN_COLOURS, PINK, Picture, PredictedVsObserved, axes, dot_key,
    draw_legend, line_key, linspace, min_max, padded, plot_error, sample, write_gif,
    write_svg_and_png,
};

/// Size of each animation frame: the fit and the landscape side by side.
pub const FRAME_SIZE: (u32, u32) = (1200, 480);
/// At most this many frames; longer runs are sampled evenly (first and last always kept).
pub const MAX_FRAMES: usize = 60;
/// At most this many steps are marked on the landscape; longer runs are sampled evenly.
pub const MAX_MARKED_STEPS: usize = 100;

/// Everything the plots are drawn from: a finished run.
pub struct Run<'a> {
    /// The network's shape.
    pub arch: &'a Architecture,
    /// Its parameter names.
    pub names: &'a ParamNames,
    /// The data it was fitted to.
    pub data: &'a Dataset,
    /// The loss it minimised.
    pub loss: LossKind,
    /// The parameters before the first step.
    pub initial: &'a [f64],
    /// Every step.
    pub records: &'a [StepRecord],
    /// The loss after the last step.
    pub final_loss: f64,
    /// The parameter on the landscape's x axis.
    pub landscape_param: usize,
}

impl<'a> Run<'a> {
    /// The run of `config` on `data` that took `records` and ended in `outcome`, with
    /// `landscape_param` on the landscape's x axis.
    pub fn new(
        config: &'a Config,
        data: &'a Dataset,
        records: &'a [StepRecord],
        outcome: &Outcome,
        landscape_param: usize,
    ) -> Self {
        Self {
            arch: &config.arch,
            names: &config.names,
            data,
            loss: config.plan.loss(),
            initial: &config.initial,
            records,
            final_loss: outcome.losses().map_or(f64::NAN, |(_, last)| last),
            landscape_param,
        }
    }

    /// The parameter vector before each step, then the final one.
    fn values_by_step(&self) -> Vec<Vec<f64>> {
        let mut values = self.initial.to_vec();
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
        let observed = self.data.observed();
        let mut predicted = Vec::with_capacity(observed.len());
        for i in 0..self.data.len() {
            let pass = self.arch.forward_host(values, &self.data.input_row(i));
            predicted.extend_from_slice(pass.prediction());
        }
        self.loss.compute_host(&predicted, &observed)
    }
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
        Ok(ParamTarget::Tensor(_)) => bail!(
            "--param `{name}` names a whole tensor; the landscape needs one number, such as `{name}[0]`"
        ),
        Err(e) => bail!("--param: {e}"),
    }
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
        arch: &config.arch,
        names: &config.names,
        data,
        loss: config.plan.loss(),
        initial: &config.initial,
        records: &[],
        final_loss: f64::NAN,
        landscape_param: 0,
    };
    let fit = Fit {
        run: &run,
        values: &config.initial,
        title: "The network as configured (no training)".to_string(),
    };
    Ok(write_svg_and_png(&fit, dir, "fit")?.to_vec())
}

/// Writes `fit`, `landscape` and `loss` as `.svg` and `.png` into `dir` (and
/// `animation.gif` when `animate`), returning the paths written.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_plots(run: &Run, dir: &Path, animate: bool) -> anyhow::Result<Vec<PathBuf>> {
    super::prepare(dir)?;
    let steps = run.values_by_step();
    let last = steps.len() - 1;
    let landscape = Landscape::new(run, &steps);
    let mut written = Vec::new();
    let fit = Fit {
        run,
        values: &steps[last],
        title: "The fitted squiggle".to_string(),
    };
    written.extend(write_svg_and_png(&fit, dir, "fit")?);
    let marked = Marked {
        run,
        landscape: &landscape,
        upto: last,
    };
    written.extend(write_svg_and_png(&marked, dir, "landscape")?);
    written.extend(write_svg_and_png(&loss_curve(run), dir, "loss")?);
    if animate {
        let frames = sample(steps.len(), MAX_FRAMES).into_iter().map(|k| {
            let title = if k == last {
                format!("After {k} steps")
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
        let (left, right) = area.split_horizontally(FRAME_SIZE.0 / 2);
        self.fit.draw(&left)?;
        self.landscape.draw(&right)
    }
}

/// The loss before each step and at the end, on a log scale.
fn loss_curve(run: &Run) -> Curves {
    let mut losses: Vec<f64> = run.records.iter().map(|r| r.loss).collect();
    losses.push(run.final_loss);
    let symbol = run.loss.symbol();
    Curves {
        title: format!("{symbol} over the steps"),
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
    let (arch, data) = (run.arch, run.data);
    if arch.inputs != 1 || arch.outputs != 1 {
        return predicted_vs_observed(run, values, title).draw(area);
    }
    let (x_lo, x_hi) = padded_data_range(data);
    let xs: Vec<f64> = linspace(x_lo, x_hi, 200).collect();
    let predict = |x: f64| arch.forward_host(values, &[x]).prediction()[0];
    let squiggle: Vec<(f64, f64)> = xs.iter().map(|&x| (x, predict(x))).collect();
    let contributions = hidden_contributions(run, values, &xs);
    let all_y = squiggle
        .iter()
        .map(|p| p.1)
        .chain(
            contributions
                .iter()
                .flat_map(|(_, pts)| pts.iter().map(|p| p.1)),
        )
        .chain(data.observed());
    let (y_lo, y_hi) = min_max(all_y);
    let (y_lo, y_hi) = padded(y_lo, y_hi, 0.08);
    let mut chart = axes(
        area,
        title,
        (x_lo, x_hi),
        (y_lo, y_hi),
        "input (dosage)",
        "output (efficacy)",
    )?;
    for (k, (label, points)) in contributions.into_iter().enumerate() {
        let colour = HIDDEN_COLOURS[k % HIDDEN_COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(plot_error)?
            .label(label)
            .legend(line_key(colour.stroke_width(2)));
    }
    chart
        .draw_series(LineSeries::new(squiggle, GREEN.stroke_width(4)))
        .map_err(plot_error)?
        .label("prediction (the green squiggle)")
        .legend(line_key(GREEN.stroke_width(4)));
    chart
        .draw_series((0..data.len()).map(|i| {
            Circle::new(
                (data.input_row(i)[0], data.output_row(i)[0]),
                6,
                BLACK.filled(),
            )
        }))
        .map_err(plot_error)?
        .label("data")
        .legend(dot_key(BLACK));
    draw_legend(&mut chart)
}

fn padded_data_range(data: &Dataset) -> (f64, f64) {
    let (lo, hi) = min_max((0..data.len()).map(|i| data.input_row(i)[0]));
    padded(lo, hi, 0.1)
}

/// For networks with the lesson's names, each hidden unit's scaled output
/// `w_out·act(w·x + b)` over `xs`.
fn hidden_contributions(run: &Run, values: &[f64], xs: &[f64]) -> Vec<(String, Vec<(f64, f64)>)> {
    let (arch, names) = (run.arch, run.names);
    names
        .lesson_units()
        .into_iter()
        .map(|unit| {
            let (w, b, w_out) = (unit.weight, unit.bias, unit.output_weight);
            let label = format!(
                "{}·{}({}·x + {})",
                names.name(w_out),
                arch.activation,
                names.name(w),
                names.name(b)
            );
            let points = xs
                .iter()
                .map(|&x| {
                    let z = values[w] * x + values[b];
                    (x, values[w_out] * arch.activation.apply_scalar(z))
                })
                .collect();
            (label, points)
        })
        .collect()
}

/// Each prediction at `values` against its observation, for several inputs or outputs.
fn predicted_vs_observed(run: &Run, values: &[f64], title: &str) -> PredictedVsObserved {
    let data = run.data;
    let mut points = Vec::new();
    for i in 0..data.len() {
        let pass = run.arch.forward_host(values, &data.input_row(i));
        for (o, p) in data.output_row(i).iter().zip(pass.prediction()) {
            points.push((*o, *p));
        }
    }
    PredictedVsObserved {
        title: title.to_string(),
        points,
    }
}

/// The loss as a function of one parameter, the others held at their initial values.
struct Landscape {
    param: usize,
    curve: Vec<(f64, f64)>,
    /// `(step, value, loss on the curve)` for each marked step.
    marks: Vec<(usize, f64, f64)>,
    x_range: (f64, f64),
    y_range: (f64, f64),
    /// The tangent at the start, as a line segment.
    tangent: [(f64, f64); 2],
}

impl Landscape {
    fn new(run: &Run, steps: &[Vec<f64>]) -> Self {
        let p = run.landscape_param;
        let (lo, hi) = min_max(steps.iter().map(|v| v[p]));
        let (x_lo, x_hi) = padded(lo, hi, 0.25);
        let slice = |x: f64| {
            let mut v = run.initial.to_vec();
            v[p] = x;
            run.loss_at(&v)
        };
        let curve: Vec<(f64, f64)> = linspace(x_lo, x_hi, 200).map(|x| (x, slice(x))).collect();
        let marked = sample(run.records.len(), MAX_MARKED_STEPS);
        let marks: Vec<(usize, f64, f64)> = marked
            .into_iter()
            .map(|k| (k, steps[k][p], slice(steps[k][p])))
            .collect();
        let (y_lo, y_hi) = min_max(curve.iter().map(|c| c.1));
        let (y_lo, y_hi) = padded(y_lo, y_hi, 0.05);
        let start = run.initial[p];
        let slope = run
            .records
            .first()
            .and_then(|r| r.params.iter().find(|s| s.index == p))
            .map_or(0.0, |s| s.derivative);
        let l0 = slice(start);
        let half = (x_hi - x_lo) * 0.15;
        let tangent = [
            (start - half, l0 - slope * half),
            (start + half, l0 + slope * half),
        ];
        Self {
            param: p,
            curve,
            marks,
            x_range: (x_lo, x_hi),
            y_range: (y_lo, y_hi),
            tangent,
        }
    }

    /// Draws the landscape with the steps marked up to `upto` (the last step shows all).
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        run: &Run,
        upto: usize,
    ) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let name = run.names.name(self.param);
        let symbol = run.loss.symbol();
        let mut chart = axes(
            area,
            format!("{symbol} as a function of {name}"),
            self.x_range,
            self.y_range,
            name,
            symbol,
        )?;
        chart
            .draw_series(LineSeries::new(self.curve.clone(), PINK.stroke_width(3)))
            .map_err(plot_error)?
            .label(format!("{symbol}({name}), other parameters at their start"))
            .legend(line_key(PINK.stroke_width(3)));
        let (y_lo, y_hi) = self.y_range;
        let clip = |(x, y): (f64, f64)| (x, y.clamp(y_lo, y_hi));
        chart
            .draw_series(LineSeries::new(
                self.tangent.iter().copied().map(clip),
                BLACK.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(format!("slope at the start = d{symbol}/d{name}"))
            .legend(line_key(BLACK.stroke_width(2)));
        let shown: Vec<&(usize, f64, f64)> = self.marks.iter().filter(|m| m.0 <= upto).collect();
        chart
            .draw_series(
                shown
                    .iter()
                    .map(|&&(_, x, y)| Circle::new((x, y), 5, GREEN.filled())),
            )
            .map_err(plot_error)?
            .label("gradient-descent steps")
            .legend(dot_key(GREEN));
        draw_legend(&mut chart)
    }
}
