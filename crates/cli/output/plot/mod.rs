//! Plots: drawn with plotters into SVG (text as `<text>`, any viewer's fonts) and into RGB
//! buffers that are encoded as PNG and GIF here. Text in the bitmaps uses the DejaVu Sans
//! font bundled in `assets/`, so PNGs render identically on machines without any system font.
//!
//! [`lesson`] draws a run step by step (the fit with the hidden units' contributions, the loss
//! landscape, the loss per step, the animation); [`epochs`] a run by epochs (loss and R² per
//! epoch, predicted against observed). This module holds what both share: writing a
//! [`Picture`] in every format, axes, legends and colours. Data points and gradient-descent
//! steps are the only circles drawn, one per point and one per (sampled) step, so a reader or
//! a test can count them.

pub mod classes;
pub mod epochs;
pub mod lesson;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;

use squiggle_playground::drawing::{self, min_max, padded};

use crate::files::AtomicFile;

/// At most this many data points are drawn in a plot of a data set (evenly sampled).
pub const MAX_POINTS_DRAWN: usize = 2000;

/// Size of the still plots, in pixels.
pub const PLOT_SIZE: (u32, u32) = (900, 600);

/// Pictures are drawn this many times larger than they are shown and brought down to size:
/// an SVG through its viewBox (so coordinates fall on quarter pixels, not whole ones), a PNG
/// or GIF frame by averaging each block of pixels (so edges are anti-aliased). plotters
/// itself draws on whole pixels without anti-aliasing: straight lines drawn at the shown size
/// waver and curves step.
const SVG_SCALE: u32 = 4;
/// See [`SVG_SCALE`].
const BITMAP_SCALE: u32 = 3;

thread_local! {
    /// The scale the picture being drawn on this thread is drawn at.
    static SCALE: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// `n` pixels of the picture as shown, in the pixels it is drawn in.
fn px(n: i32) -> i32 {
    n * SCALE.with(std::cell::Cell::get) as i32
}

/// [`px`] for sizes.
fn pxu(n: u32) -> u32 {
    n * SCALE.with(std::cell::Cell::get)
}

/// Runs `draw` with pictures drawn `scale` times larger.
fn at_scale<T>(scale: u32, draw: impl FnOnce() -> T) -> T {
    let before = SCALE.with(|s| s.replace(scale));
    let out = draw();
    SCALE.with(|s| s.set(before));
    out
}

/// `picture` drawn [`SVG_SCALE`] times larger into an SVG shown at `size` pixels.
fn svg(picture: &impl Picture, size: (u32, u32)) -> anyhow::Result<String> {
    let (w, h) = (size.0 * SVG_SCALE, size.1 * SVG_SCALE);
    let mut svg = String::new();
    at_scale(SVG_SCALE, || {
        render(
            picture,
            &SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area(),
        )
    })?;
    // The same drawing, shown at its size: the viewBox keeps the drawing's coordinates.
    let drawn = format!("<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\"");
    let shown = format!(
        "<svg width=\"{}\" height=\"{}\" viewBox=\"0 0 {w} {h}\"",
        size.0, size.1
    );
    anyhow::ensure!(
        svg.contains(&drawn),
        "the SVG writer's root element changed"
    );
    Ok(svg.replacen(&drawn, &shown, 1))
}

/// A colour of the palette the page shares ([`squiggle_playground::drawing`]), for plotters.
const fn plotters_colour(c: drawing::Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// The squiggle (the prediction) and the steps taken.
pub const GREEN: RGBColor = plotters_colour(drawing::GREEN);
/// Loss curves and landscapes.
pub const PINK: RGBColor = plotters_colour(drawing::PINK);
/// The first hidden unit, and the validation curve.
const BLUE: RGBColor = plotters_colour(drawing::BLUE);

/// Something that draws itself into any plotters backend (SVG or bitmap).
pub trait Picture {
    /// Draws onto `area`.
    ///
    /// # Errors
    /// plotters' error, as one line.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static;
}

/// Writes `picture` as `dir/name.svg` and `dir/name.png` (900 × 600), returning both paths.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_svg_and_png(
    picture: &impl Picture,
    dir: &Path,
    name: &str,
) -> anyhow::Result<[PathBuf; 2]> {
    let svg_path = dir.join(format!("{name}.svg"));
    let svg = svg(picture, PLOT_SIZE)?;
    let mut file = AtomicFile::create(&svg_path)?;
    file.write_all(svg.as_bytes())?;
    file.commit()?;

    let png_path = dir.join(format!("{name}.png"));
    let rgb = rgb(picture, PLOT_SIZE)?;
    let mut file = AtomicFile::create(&png_path)?;
    {
        let mut encoder = png::Encoder::new(&mut file, PLOT_SIZE.0, PLOT_SIZE.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
    }
    file.commit()?;
    Ok([svg_path, png_path])
}

/// Writes an animated GIF of `frames` (each a picture and its delay in centiseconds) of
/// `size`, looping forever.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_gif<P: Picture>(
    path: &Path,
    size: (u32, u32),
    frames: impl IntoIterator<Item = (P, u16)>,
) -> anyhow::Result<PathBuf> {
    let (w, h) = (size.0 as u16, size.1 as u16);
    let mut file = AtomicFile::create(path)?;
    {
        let mut encoder = gif::Encoder::new(&mut file, w, h, &[])?;
        encoder.set_repeat(gif::Repeat::Infinite)?;
        for (picture, delay) in frames {
            let rgb = rgb(&picture, size)?;
            let mut frame = gif::Frame::from_rgb_speed(w, h, &rgb, 10);
            frame.delay = delay;
            encoder.write_frame(&frame)?;
        }
    }
    file.commit()?;
    Ok(path.to_path_buf())
}

/// Lists the files written on stdout (`wrote DIR/fit.svg`, …).
///
/// # Errors
/// Stdout cannot be written.
pub fn print_written(written: &[PathBuf]) -> anyhow::Result<()> {
    let lines: Vec<String> = written
        .iter()
        .map(|p| format!("wrote {}", p.display()))
        .collect();
    crate::output::print_lines(&lines)
}

/// Creates the plot folder (if missing) and loads the bundled font.
///
/// # Errors
/// The folder cannot be created.
pub fn prepare(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    register_font()
}

fn render<DB: DrawingBackend>(
    picture: &impl Picture,
    area: &DrawingArea<DB, Shift>,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(plot_error)?;
    picture.draw(area)?;
    area.present().map_err(plot_error)
}

/// `picture` as RGB pixels of `size`: drawn [`BITMAP_SCALE`] times larger, then each block
/// of pixels averaged into one.
fn rgb(picture: &impl Picture, size: (u32, u32)) -> anyhow::Result<Vec<u8>> {
    let k = BITMAP_SCALE as usize;
    let (w, h) = (size.0 as usize, size.1 as usize);
    let mut big = vec![0u8; w * k * h * k * 3];
    let drawn = (size.0 * BITMAP_SCALE, size.1 * BITMAP_SCALE);
    at_scale(BITMAP_SCALE, || {
        render(
            picture,
            &BitMapBackend::with_buffer(&mut big, drawn).into_drawing_area(),
        )
    })?;
    Ok(downsample(&big, w, h, k))
}

/// The `w` × `h` RGB picture whose every pixel is the mean of a `k` × `k` block of `big`.
fn downsample(big: &[u8], w: usize, h: usize, k: usize) -> Vec<u8> {
    let row = w * k * 3;
    let n = (k * k) as u32;
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..k {
                    let at = (y * k + dy) * row + x * k * 3 + c;
                    sum += (0..k).map(|dx| u32::from(big[at + dx * 3])).sum::<u32>();
                }
                out.push(((sum + n / 2) / n) as u8);
            }
        }
    }
    out
}

fn register_font() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../assets/DejaVuSans.ttf");
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

fn linspace(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
}

/// A chart with a title, labelled linear axes over `x` × `y`, a light grid, and room at its
/// right for a legend of `legend` (see [`draw_legend_beside`]).
fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: impl AsRef<str>,
    x: (f64, f64),
    y: (f64, f64),
    x_desc: impl AsRef<str>,
    y_desc: impl AsRef<str>,
    legend: &[Entry],
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    let (caption, font) = fitted_caption(area, title.as_ref());
    let mut chart = ChartBuilder::on(area)
        .caption(caption, font)
        .margin(pxu(16))
        .margin_right(pxu(16) + legend_width(area, legend))
        .x_label_area_size(pxu(44))
        .y_label_area_size(pxu(70))
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc(x_desc.as_ref())
        .y_desc(y_desc.as_ref())
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(label_font())
        .axis_desc_style(label_font())
        .light_line_style(WHITE)
        .bold_line_style(BLACK.mix(0.2).stroke_width(pxu(1)))
        .axis_style(BLACK.stroke_width(pxu(1)))
        .draw()
        .map_err(plot_error)?;
    Ok(chart)
}

/// What a legend entry's key looks like.
#[derive(Clone, Copy)]
pub enum Key {
    /// A short line, as the series is drawn.
    Line(ShapeStyle),
    /// A small filled square (squares, so that the only circles in a plot are its data
    /// points and steps).
    Square(RGBColor),
    /// A disc, for points that stand for a class.
    Disc(RGBColor),
}

/// One entry of a legend.
pub struct Entry {
    /// What it says.
    pub label: String,
    /// How its key is drawn.
    pub key: Key,
}

impl Entry {
    /// An entry saying `label` beside `key`.
    pub fn new(label: impl Into<String>, key: Key) -> Self {
        Self {
            label: label.into(),
            key,
        }
    }
}

/// The room a legend of `entries` takes at a chart's right: its longest label, the key and
/// the box's margins; none without entries.
fn legend_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> u32 {
    let font = label_font();
    let longest = entries
        .iter()
        .filter_map(|e| area.estimate_text_size(&e.label, &font).ok())
        .map(|(w, _)| w)
        .max();
    longest.map_or(0, |w| w + pxu(12 + 40 + 10))
}

/// The legend box beside `chart`, in the room [`legend_width`] left at the right of its
/// plotting area on `area`, top-aligned with the plot: never over the data.
///
/// # Errors
/// A drawing error.
fn draw_legend_beside<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, CT>,
    entries: &[Entry],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    if entries.is_empty() {
        return Ok(());
    }
    let (area_x, area_y) = area.get_base_pixel();
    let plot = chart.plotting_area();
    let (plot_x, plot_y) = plot.get_base_pixel();
    let left = plot_x - area_x + plot.dim_in_pixel().0 as i32 + px(12);
    let top = plot_y - area_y;
    let width = legend_width(area, entries) as i32 - px(12);
    let row = px(22);
    let bottom = top + row * entries.len() as i32 + px(10);
    area.draw(&Rectangle::new(
        [(left, top), (left + width, bottom)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(plot_error)?;
    area.draw(&Rectangle::new(
        [(left, top), (left + width, bottom)],
        BLACK.stroke_width(pxu(1)),
    ))
    .map_err(plot_error)?;
    let font = label_font();
    for (i, entry) in entries.iter().enumerate() {
        let y = top + px(5) + row * i as i32 + row / 2;
        let x = left + px(10);
        match entry.key {
            Key::Line(style) => area.draw(&PathElement::new(vec![(x, y), (x + px(20), y)], style)),
            Key::Square(colour) => area.draw(&Rectangle::new(
                [(x + px(6), y - px(4)), (x + px(14), y + px(4))],
                colour.filled(),
            )),
            Key::Disc(colour) => area.draw(&Circle::new((x + px(10), y), px(5), colour.filled())),
        }
        .map_err(plot_error)?;
        area.draw(&Text::new(
            entry.label.clone(),
            (x + px(30), y - px(8)),
            font.clone(),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}

/// The colour of hidden unit `k` (and of class `k`), for plotters.
pub fn unit_colour(k: usize) -> RGBColor {
    plotters_colour(drawing::unit_colour(k))
}

/// The caption of `title` on `area`: 24 px, or smaller until it fits the area's width with
/// its margins (down to 12 px), so a long title (a run's path) is never cut at the edges;
/// beyond that its middle gives way to `…`.
fn fitted_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> (String, TextStyle<'static>) {
    let room = area.dim_in_pixel().0.saturating_sub(pxu(40));
    let font = |size: u32| -> TextStyle<'static> { ("sans-serif", pxu(size)).into_font().into() };
    let fits = |text: &str, size: u32| {
        let font = font(size);
        area.estimate_text_size(text, &font)
            .is_ok_and(|(w, _)| w <= room)
    };
    for size in (12..=24).rev() {
        if fits(title, size) {
            return (title.to_string(), font(size));
        }
    }
    let chars: Vec<char> = title.chars().collect();
    let mut keep = chars.len();
    while keep > 8 {
        keep -= 2;
        let text: String = chars[..keep / 2]
            .iter()
            .chain(['…'].iter())
            .chain(&chars[chars.len() - keep / 2..])
            .collect();
        if fits(&text, 12) {
            return (text, font(12));
        }
    }
    (title.to_string(), font(12))
}

/// The width of a colour bar, in pixels.
const COLOUR_BAR: u32 = 110;

/// Splits `area` into the plot and, at its right, a colour bar titled `what`: from the
/// bottom (share 0) to the top (share 1) it shades as `shade` does, labelled at each
/// `(share, value)` of `labels`. Returns the plot's part.
///
/// # Errors
/// A drawing error.
fn with_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    what: &str,
    shade: &dyn Fn(f64) -> RGBColor,
    labels: &[(f64, f64)],
) -> anyhow::Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    const STEPS: i32 = 96;
    let (width, height) = area.dim_in_pixel();
    let (plot, bar) = area.split_horizontally(width.saturating_sub(pxu(COLOUR_BAR)));
    // The plot's own margins: its caption above, its axis labels below.
    let (top, bottom) = (px(64), height as i32 - px(64));
    let (left, right) = (px(12), px(36));
    let span = (bottom - top).max(STEPS);
    let at = |share: f64| bottom - (f64::from(span) * share).round() as i32;
    for s in 0..STEPS {
        let share = (f64::from(s) + 0.5) / f64::from(STEPS);
        let (y0, y1) = (bottom - span * (s + 1) / STEPS, bottom - span * s / STEPS);
        bar.draw(&Rectangle::new(
            [(left, y0), (right, y1)],
            shade(share).filled(),
        ))
        .map_err(plot_error)?;
    }
    bar.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        BLACK.stroke_width(pxu(1)),
    ))
    .map_err(plot_error)?;
    let font = label_font();
    for &(share, value) in labels {
        let text = tick(&format!("{value:.3e}").parse().unwrap_or(value));
        bar.draw(&Text::new(
            text,
            (right + px(6), at(share) - px(8)),
            font.clone(),
        ))
        .map_err(plot_error)?;
    }
    bar.draw(&Text::new(
        what.to_string(),
        (left - px(4), top - px(28)),
        font,
    ))
    .map_err(plot_error)?;
    Ok(plot)
}

/// A tick label without the float noise of a computed tick (`0.3`, not
/// `0.30000000000000004`): ten significant digits at most, shortest form, scientific when
/// tiny or huge.
pub fn tick(value: &f64) -> String {
    let rounded: f64 = format!("{value:.9e}").parse().unwrap_or(*value);
    // `-0` reads as 0.
    squiggle_train::format::short_number(rounded + 0.0)
}

/// A tick label on an axis of whole numbers (steps, epochs): the number where a tick falls
/// on one, nothing between them.
fn whole_tick(value: &f64) -> String {
    if value.fract() == 0.0 {
        tick(value)
    } else {
        String::new()
    }
}

fn label_font() -> TextStyle<'static> {
    ("sans-serif", pxu(16)).into_font().into()
}

/// One labelled line of a [`Curves`] chart.
pub struct Curve {
    /// The legend's label (no legend entry when empty).
    pub label: String,
    /// Its colour.
    pub colour: RGBColor,
    /// Its points.
    pub points: Vec<(f64, f64)>,
}

/// Lines over a shared x axis, on a linear or a log y axis: the loss per step or per epoch,
/// R² per epoch.
pub struct Curves {
    /// The caption.
    pub title: String,
    /// The x axis' description.
    pub x_desc: String,
    /// The y axis' description.
    pub y_desc: String,
    /// Whether the y axis is logarithmic (non-positive values are drawn at its floor).
    pub log: bool,
    /// The lines.
    pub curves: Vec<Curve>,
}

impl Picture for Curves {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let all = || self.curves.iter().flat_map(|c| c.points.iter().copied());
        let (x_lo, x_hi) = min_max(all().map(|p| p.0));
        let x = if x_lo < x_hi {
            x_lo..x_hi
        } else {
            x_lo..x_lo + 1.0
        };
        let mut builder = ChartBuilder::on(area);
        let (caption, font) = fitted_caption(area, &self.title);
        let legend: Vec<Entry> = self
            .curves
            .iter()
            .filter(|c| !c.label.is_empty())
            .map(|c| Entry::new(&c.label, Key::Line(c.colour.stroke_width(pxu(3)))))
            .collect();
        builder
            .caption(caption, font)
            .margin(pxu(16))
            .margin_right(pxu(16) + legend_width(area, &legend))
            .x_label_area_size(pxu(44))
            .y_label_area_size(pxu(80));
        if self.log {
            let (lo, hi) = min_max(all().map(|p| p.1).filter(|y| *y > 0.0));
            let (lo, hi) = if lo.is_finite() {
                (lo / 2.0, hi * 2.0)
            } else {
                (1e-12, 1.0)
            };
            let chart = builder
                .build_cartesian_2d(x, (lo..hi).log_scale())
                .map_err(plot_error)?;
            self.draw_lines(area, chart, lo, &tick, &legend)
        } else {
            let (lo, hi) = min_max(all().map(|p| p.1));
            let (lo, hi) = padded(lo, hi, 0.05);
            let chart = builder.build_cartesian_2d(x, lo..hi).map_err(plot_error)?;
            self.draw_lines(area, chart, f64::NEG_INFINITY, &tick, &legend)
        }
    }
}

impl Curves {
    /// The mesh, the lines (values below `floor` drawn at it) and the legend beside them, on
    /// a chart whose y axis is linear or logarithmic.
    fn draw_lines<'a, DB: DrawingBackend + 'a, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        mut chart: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
        floor: f64,
        y_label: &dyn Fn(&f64) -> String,
        legend: &[Entry],
    ) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .x_label_formatter(&whole_tick)
            .y_label_formatter(y_label)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .light_line_style(WHITE)
            .bold_line_style(BLACK.mix(0.2).stroke_width(pxu(1)))
            .axis_style(BLACK.stroke_width(pxu(1)))
            .draw()
            .map_err(plot_error)?;
        for c in &self.curves {
            let points = c.points.iter().map(|&(x, y)| (x, y.max(floor)));
            chart
                .draw_series(LineSeries::new(points, c.colour.stroke_width(pxu(3))))
                .map_err(plot_error)?;
        }
        draw_legend_beside(area, &chart, legend)
    }
}

/// Each prediction against its observation, with the line where they are equal.
pub struct PredictedVsObserved {
    /// The caption.
    pub title: String,
    /// `(observed, predicted)` pairs.
    pub points: Vec<(f64, f64)>,
}

impl Picture for PredictedVsObserved {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (lo, hi) = min_max(self.points.iter().flat_map(|&(o, p)| [o, p]));
        let (lo, hi) = padded(lo, hi, 0.08);
        let line = BLACK.mix(0.4).stroke_width(pxu(1));
        let legend = [Entry::new("predicted = observed", Key::Line(line))];
        let mut chart = axes(
            area,
            &self.title,
            (lo, hi),
            (lo, hi),
            "observed",
            "predicted",
            &legend,
        )?;
        chart
            .draw_series(LineSeries::new(vec![(lo, lo), (hi, hi)], line))
            .map_err(plot_error)?;
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|&p| Circle::new(p, px(5), GREEN.filled())),
            )
            .map_err(plot_error)?;
        draw_legend_beside(area, &chart, &legend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bitmap_drawn_larger_is_averaged_down_block_by_block() {
        // 4 × 2 pixels drawn at 2 × 2 per pixel: a black pixel beside a white one, and half
        // of a block dark.
        let mut big = vec![255u8; 4 * 2 * 3];
        for (x, y) in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0), (3, 1)] {
            let at = (y * 4 + x) * 3;
            big[at..at + 3].copy_from_slice(&[0, 0, 0]);
        }
        assert_eq!(downsample(&big, 2, 1, 2), [0, 0, 0, 128, 128, 128]);
        assert_eq!(at_scale(3, || (px(5), pxu(2))), (15, 6));
        assert_eq!(px(5), 5, "the scale ends with the drawing");
    }

    #[test]
    fn tick_labels_have_no_float_noise() {
        assert_eq!(tick(&0.300_000_000_000_000_04), "0.3");
        assert_eq!(tick(&0.929_999_999_999_999_9), "0.93");
        assert_eq!(tick(&(0.1 + 0.2 - 0.3)), "5.551115123e-17");
        assert_eq!(tick(&-0.0), "0");
        assert_eq!(tick(&2.5), "2.5");
        assert_eq!(tick(&-1500.0), "-1500");
        assert_eq!(tick(&1e-7), "1e-7");
        assert_eq!(tick(&2e7), "2e7");
        // Whole-number axes label whole numbers only.
        assert_eq!(whole_tick(&3.0), "3");
        assert_eq!(whole_tick(&0.5), "");
    }

    #[test]
    fn a_long_title_is_set_smaller_or_shortened_never_cut_at_the_edges() {
        register_font().unwrap();
        let mut svg = String::new();
        let area = SVGBackend::with_string(&mut svg, (900, 600)).into_drawing_area();
        let short = fitted_caption(&area, "The fitted squiggle");
        assert_eq!(short.0, "The fitted squiggle");
        let long = "Raw output for virginica, after epoch 300 of /home/someone/a/very/long/path/to/runs/iris-with-a-long-name";
        let (text, font) = fitted_caption(&area, long);
        let (width, _) = area.estimate_text_size(&text, &font).unwrap();
        assert!(width <= 860, "{width} px: {text}");
        let endless = "x".repeat(400);
        let (text, font) = fitted_caption(&area, &endless);
        assert!(text.contains('…') && text.chars().count() < 400, "{text}");
        assert!(area.estimate_text_size(&text, &font).unwrap().0 <= 860);
    }

    #[test]
    fn ranges_without_finite_values_are_drawable() {
        assert_eq!(min_max([f64::NAN, f64::INFINITY]), (0.0, 1.0));
        assert_eq!(min_max([]), (0.0, 1.0));
        assert_eq!(min_max([2.0, f64::NAN, -1.0]), (-1.0, 2.0));
    }

    #[test]
    fn sampling_keeps_the_ends_and_the_count() {
        assert_eq!(sample(5, 60), [0, 1, 2, 3, 4]);
        let s = sample(8067, 60);
        assert_eq!(s.len(), 60);
        assert_eq!((s[0], s[59]), (0, 8066));
        assert!(s.windows(2).all(|w| w[0] < w[1]));
    }
}
