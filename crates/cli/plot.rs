//! Plots of a run: the fit, the loss landscape, the loss curve, and an animation.
//!
//! Drawn with plotters into SVG (text as `<text>`, any viewer's fonts) and into RGB buffers
//! that are encoded as PNG and GIF here. Text in the bitmaps uses the DejaVu Sans font bundled
//! in `assets/`, so PNGs render identically on machines without any system font.
//!
//! Colours follow the lesson: the fitted "green squiggle", the blue and orange hidden-unit
//! contributions, a pink loss curve. Data points and gradient-descent steps are the only
//! circles drawn, one per point and one per (sampled) step, so a reader or a test can count them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::FontStyle;

/// A pixel position, as plotters' backends take it.
type BackendCoord = (i32, i32);
use squiggle_model::{Architecture, ParamNames};
use squiggle_train::{Dataset, LossKind, StepRecord};

use crate::files::AtomicFile;

/// Size of the fit, landscape and loss plots, in pixels.
pub const PLOT_SIZE: (u32, u32) = (900, 600);
/// Size of each animation frame: the fit and the landscape side by side.
pub const FRAME_SIZE: (u32, u32) = (1200, 480);
/// At most this many frames; longer runs are sampled evenly (first and last always kept).
pub const MAX_FRAMES: usize = 60;
/// At most this many steps are marked on the landscape; longer runs are sampled evenly.
pub const MAX_MARKED_STEPS: usize = 100;

const GREEN: RGBColor = RGBColor(0, 158, 72);
const PINK: RGBColor = RGBColor(226, 72, 160);
const HIDDEN_COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 230),
    RGBColor(255, 140, 0),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
];

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

impl Run<'_> {
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

/// Writes `fit`, `landscape` and `loss` as `.svg` and `.png` into `dir` (and
/// `animation.gif` when `animate`), returning the paths written.
pub fn write_plots(run: &Run, dir: &Path, animate: bool) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    register_font()?;
    let steps = run.values_by_step();
    let last = steps.len() - 1;
    let scene = Scene {
        run,
        landscape: Landscape::new(run, &steps),
        steps,
    };
    let charts = [
        (
            "fit",
            Chart::Fit {
                values: &scene.steps[last],
                title: "The fitted squiggle".to_string(),
            },
        ),
        ("landscape", Chart::Landscape { upto: last }),
        ("loss", Chart::Loss),
    ];
    let mut written = Vec::new();
    for (name, chart) in &charts {
        written.push(scene.svg(&dir.join(format!("{name}.svg")), PLOT_SIZE, chart)?);
        written.push(scene.png(&dir.join(format!("{name}.png")), PLOT_SIZE, chart)?);
    }
    if animate {
        written.push(scene.gif(&dir.join("animation.gif"))?);
    }
    Ok(written)
}

/// One picture: each is drawn by the same code into SVG and into bitmaps.
enum Chart<'a> {
    /// The data and the fitted curve at `values`.
    Fit { values: &'a [f64], title: String },
    /// The landscape with the steps up to `upto` marked.
    Landscape { upto: usize },
    /// The loss over the steps.
    Loss,
    /// An animation frame: the fit and the landscape at step `k`.
    Frame { k: usize },
}

/// What the charts are drawn from.
struct Scene<'a> {
    run: &'a Run<'a>,
    steps: Vec<Vec<f64>>,
    landscape: Landscape,
}

impl Scene<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        chart: &Chart,
    ) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        area.fill(&WHITE).map_err(plot_error)?;
        match chart {
            Chart::Fit { values, title } => draw_fit(area, self.run, values, title)?,
            Chart::Landscape { upto } => self.landscape.draw(area, self.run, *upto)?,
            Chart::Loss => draw_loss(area, self.run)?,
            Chart::Frame { k } => {
                let (left, right) = area.split_horizontally(FRAME_SIZE.0 / 2);
                let title = if k + 1 == self.steps.len() {
                    format!("After {k} steps")
                } else {
                    format!("Step {k}")
                };
                draw_fit(&left, self.run, &self.steps[*k], &title)?;
                self.landscape.draw(&right, self.run, *k)?;
            }
        }
        area.present().map_err(plot_error)
    }

    fn svg(&self, path: &Path, size: (u32, u32), chart: &Chart) -> anyhow::Result<PathBuf> {
        let mut svg = String::new();
        self.draw(
            &SVGBackend::with_string(&mut svg, size).into_drawing_area(),
            chart,
        )?;
        let mut file = AtomicFile::create(path)?;
        file.write_all(svg.as_bytes())?;
        file.commit()?;
        Ok(path.to_path_buf())
    }

    fn rgb(&self, size: (u32, u32), chart: &Chart) -> anyhow::Result<Vec<u8>> {
        let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
        self.draw(
            &BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area(),
            chart,
        )?;
        Ok(rgb)
    }

    fn png(&self, path: &Path, size: (u32, u32), chart: &Chart) -> anyhow::Result<PathBuf> {
        let rgb = self.rgb(size, chart)?;
        let mut file = AtomicFile::create(path)?;
        {
            let mut encoder = png::Encoder::new(&mut file, size.0, size.1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&rgb)?;
            writer.finish()?;
        }
        file.commit()?;
        Ok(path.to_path_buf())
    }

    fn gif(&self, path: &Path) -> anyhow::Result<PathBuf> {
        let (w, h) = FRAME_SIZE;
        let mut file = AtomicFile::create(path)?;
        {
            let mut encoder = gif::Encoder::new(&mut file, w as u16, h as u16, &[])?;
            encoder.set_repeat(gif::Repeat::Infinite)?;
            let last = self.steps.len() - 1;
            for k in sample(self.steps.len(), MAX_FRAMES) {
                let rgb = self.rgb(FRAME_SIZE, &Chart::Frame { k })?;
                let mut frame = gif::Frame::from_rgb_speed(w as u16, h as u16, &rgb, 10);
                // Centiseconds: a quarter second per step, two seconds on the result.
                frame.delay = if k == last { 200 } else { 25 };
                encoder.write_frame(&frame)?;
            }
        }
        file.commit()?;
        Ok(path.to_path_buf())
    }
}

fn register_font() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("assets/DejaVuSans.ttf");
        result = plotters::style::register_font("sans-serif", FontStyle::Normal, font)
            .map_err(|_| anyhow!("the bundled font could not be loaded"));
    });
    result
}

/// Up to `max` indices of `0..n`, evenly spread, always with the first and the last.
pub fn sample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut picked: Vec<usize> = (0..max)
        .map(|i| (i as f64 * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    picked.dedup();
    picked
}

fn plot_error<E: std::error::Error + Send + Sync + 'static>(
    e: DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// `(lo, hi)` widened by `margin` of its span on each side, and never empty.
fn padded(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = (hi - lo).max(1e-9);
    let pad = (span * margin).max(if hi > lo { 0.0 } else { 0.5 });
    (lo - pad, hi + pad)
}

fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

fn linspace(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
}

/// A chart with a title, labelled linear axes over `x` × `y`, and a light grid.
fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: impl AsRef<str>,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: impl AsRef<str>,
    y_desc: impl AsRef<str>,
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(title.as_ref(), caption_font())
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_desc.as_ref())
        .y_desc(y_desc.as_ref())
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE)
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// The legend box, top right: one entry per labelled series.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .label_font(label_font())
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(plot_error)
}

/// A legend key drawn as a short line in `style`.
fn line_key(style: ShapeStyle) -> impl Fn(BackendCoord) -> PathElement<BackendCoord> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// A legend key drawn as a small filled square of `colour` (squares, so that the only circles
/// in a plot are its data points and steps).
fn dot_key(colour: RGBColor) -> impl Fn(BackendCoord) -> Rectangle<BackendCoord> {
    move |(x, y)| Rectangle::new([(x + 6, y - 4), (x + 14, y + 4)], colour.filled())
}

fn caption_font() -> TextStyle<'static> {
    ("sans-serif", 24).into_font().into()
}

fn label_font() -> TextStyle<'static> {
    ("sans-serif", 16).into_font().into()
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
        return draw_predicted_vs_observed(area, run, values, title);
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

/// For 1-[H]-1 networks, each hidden unit's scaled output `w_out·act(w·x + b)` over `xs`.
fn hidden_contributions(run: &Run, values: &[f64], xs: &[f64]) -> Vec<(String, Vec<(f64, f64)>)> {
    let arch = run.arch;
    if !arch.has_lesson_names() {
        return Vec::new();
    }
    let h = arch.hidden[0];
    let names = run.names;
    (0..h)
        .map(|k| {
            let (w, b, w_out) = (k, h + k, 2 * h + k);
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

fn draw_predicted_vs_observed<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &Run,
    values: &[f64],
    title: &str,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let data = run.data;
    let mut points = Vec::new();
    for i in 0..data.len() {
        let pass = run.arch.forward_host(values, &data.input_row(i));
        for (o, p) in data.output_row(i).iter().zip(pass.prediction()) {
            points.push((*o, *p));
        }
    }
    let (lo, hi) = min_max(points.iter().flat_map(|&(o, p)| [o, p]));
    let (lo, hi) = padded(lo, hi, 0.08);
    let mut chart = axes(area, title, (lo, hi), (lo, hi), "observed", "predicted")?;
    chart
        .draw_series(LineSeries::new(
            vec![(lo, lo), (hi, hi)],
            BLACK.mix(0.4).stroke_width(1),
        ))
        .map_err(plot_error)?
        .label("predicted = observed")
        .legend(line_key(BLACK.mix(0.4).into()));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 5, GREEN.filled())),
        )
        .map_err(plot_error)?;
    draw_legend(&mut chart)
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

/// The loss before each step and at the end, on a log scale.
fn draw_loss<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, run: &Run) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let mut losses: Vec<f64> = run.records.iter().map(|r| r.loss).collect();
    losses.push(run.final_loss);
    let positive = losses.iter().copied().filter(|l| *l > 0.0);
    let (lo, hi) = min_max(positive);
    let (lo, hi) = if lo.is_finite() {
        (lo / 2.0, hi * 2.0)
    } else {
        (1e-12, 1.0)
    };
    let floor = lo;
    let n = (losses.len() - 1).max(1) as f64;
    let symbol = run.loss.symbol();
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{symbol} over the steps"), caption_font())
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..n, (lo..hi).log_scale())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(format!("{symbol} (log scale)"))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(label_font())
        .axis_desc_style(label_font())
        .y_label_formatter(&|y| format!("{y:.0e}"))
        .light_line_style(WHITE)
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(LineSeries::new(
            losses
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64, l.max(floor))),
            PINK.stroke_width(3),
        ))
        .map_err(plot_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_the_ends_and_the_count() {
        assert_eq!(sample(5, 60), [0, 1, 2, 3, 4]);
        let s = sample(8067, 60);
        assert_eq!(s.len(), 60);
        assert_eq!((s[0], s[59]), (0, 8066));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }
}
