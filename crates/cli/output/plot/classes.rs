//! Plots of a classifier with two inputs ("Neural Networks Pt. 4 and 5"): the decision regions
//! (the input square coloured by the ArgMax of the outputs) and, for each class, its raw output
//! and its SoftMax probability as heat maps (the lesson's "crinkled surfaces" seen from
//! above), with the data points on top in their true class's colour.
//!
//! The square is drawn in the units the network sees (after `rescale` or `standardize`), so
//! the lesson's Iris network is drawn over 0..1 as in the video. Cells are computed by the
//! host's f64 forward pass, one per cell of a [`GRID`] × [`GRID`] grid.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use squiggle_model::Architecture;
use squiggle_train::{Dataset, argmax, softmax};

use super::{
    Entry, Key, MAX_POINTS_DRAWN, Picture, axes, draw_legend_beside, min_max, padded, plot_error,
    px, pxu, sample, unit_colour, with_colour_bar, write_svg_and_png,
};

/// Cells along each side of the input square.
pub const GRID: usize = 80;

/// What a [`Surface`] colours its cells by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shade {
    /// The class with the largest output (ArgMax), lightened.
    Regions,
    /// Class `k`'s SoftMax probability, white (0) to its colour (1).
    Probability(usize),
    /// Class `k`'s raw output, white (its smallest on the square) to its colour (its largest).
    Raw(usize),
}

/// The input square of a two-input classifier, shaded, with the data points on top.
#[derive(Clone)]
pub struct Surface {
    /// The caption.
    pub title: String,
    /// The two inputs' names.
    pub inputs: [String; 2],
    /// The class names, in output order.
    pub classes: Vec<String>,
    /// The square: each input's range.
    pub x: (f64, f64),
    /// The second input's range.
    pub y: (f64, f64),
    /// Raw outputs of the cell centres, row by row from the bottom (`GRID × GRID`).
    pub cells: Vec<Vec<f64>>,
    /// What the cells show.
    pub shade: Shade,
    /// Data points: both inputs and the true class.
    pub points: Vec<(f64, f64, usize)>,
}

impl Surface {
    /// The surface of the network `arch` with `values` over the square around `data`'s points
    /// (at most [`MAX_POINTS_DRAWN`], evenly sampled), with `rows` of `data` drawn.
    pub fn new(
        arch: &Architecture,
        values: &[f64],
        data: &Dataset,
        rows: &[u32],
        shade: Shade,
        title: String,
    ) -> Self {
        let picked: Vec<u32> = sample(rows.len(), MAX_POINTS_DRAWN)
            .into_iter()
            .map(|i| rows[i])
            .collect();
        let points: Vec<(f64, f64, usize)> = picked
            .iter()
            .map(|&r| {
                let x = data.input_row(r as usize);
                (x[0], x[1], data.label(r as usize))
            })
            .collect();
        let x = padded_range(points.iter().map(|p| p.0));
        let y = padded_range(points.iter().map(|p| p.1));
        let mut cells = Vec::with_capacity(GRID * GRID);
        for j in 0..GRID {
            for i in 0..GRID {
                let at = [centre(x, i), centre(y, j)];
                cells.push(arch.forward_host(values, &at).prediction().to_vec());
            }
        }
        let names = data.input_names();
        Self {
            title,
            inputs: [names[0].clone(), names[1].clone()],
            classes: data.output_names().to_vec(),
            x,
            y,
            cells,
            shade,
            points,
        }
    }

    /// The colour of cell `c`.
    fn colour(&self, c: usize, raw_range: (f64, f64)) -> RGBColor {
        let raw = &self.cells[c];
        match self.shade {
            Shade::Regions => lighten(unit_colour(argmax(raw)), 0.35),
            Shade::Probability(k) => lighten(unit_colour(k), softmax(raw)[k]),
            Shade::Raw(k) => {
                let (lo, hi) = raw_range;
                lighten(unit_colour(k), (raw[k] - lo) / (hi - lo).max(1e-12))
            }
        }
    }
}

/// The data's range with a 5 % margin on each side.
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = min_max(values);
    padded(lo, hi, 0.05)
}

/// The centre of cell `i` of `GRID` across `range`.
fn centre(range: (f64, f64), i: usize) -> f64 {
    range.0 + (range.1 - range.0) * (i as f64 + 0.5) / GRID as f64
}

/// `colour` mixed with white: `share` 0 is white, 1 the colour itself.
fn lighten(colour: RGBColor, share: f64) -> RGBColor {
    let t = share.clamp(0.0, 1.0);
    let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * t).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

impl Picture for Surface {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let raw_range = match self.shade {
            Shade::Raw(k) => min_max(self.cells.iter().map(|c| c[k])),
            _ => (0.0, 1.0),
        };
        // A continuous shade gets a colour bar at the right, saying what white and full
        // colour stand for.
        let area = match self.shade {
            Shade::Regions => area.clone(),
            Shade::Probability(k) | Shade::Raw(k) => {
                let what = match self.shade {
                    Shade::Probability(_) => "probability",
                    _ => "raw output",
                };
                let (lo, hi) = raw_range;
                let labels = [0.0, 0.5, 1.0].map(|t| (t, lo + (hi - lo) * t));
                with_colour_bar(area, what, &|t| lighten(unit_colour(k), t), &labels)?
            }
        };
        let area = &area;
        let legend: Vec<Entry> = self
            .classes
            .iter()
            .enumerate()
            .map(|(k, name)| Entry::new(name, Key::Disc(unit_colour(k))))
            .collect();
        let mut chart = axes(
            area,
            &self.title,
            self.x,
            self.y,
            &self.inputs[0],
            &self.inputs[1],
            &legend,
        )?;
        let (dx, dy) = (
            (self.x.1 - self.x.0) / GRID as f64,
            (self.y.1 - self.y.0) / GRID as f64,
        );
        chart
            .draw_series((0..GRID * GRID).map(|c| {
                let (i, j) = (c % GRID, c / GRID);
                let x0 = self.x.0 + dx * i as f64;
                let y0 = self.y.0 + dy * j as f64;
                Rectangle::new(
                    [(x0, y0), (x0 + dx, y0 + dy)],
                    self.colour(c, raw_range).filled(),
                )
            }))
            .map_err(plot_error)?;
        for k in 0..self.classes.len() {
            let colour = unit_colour(k);
            chart
                .draw_series(
                    self.points
                        .iter()
                        .filter(|p| p.2 == k)
                        .map(|&(x, y, _)| Circle::new((x, y), px(5), colour.filled())),
                )
                .map_err(plot_error)?;
        }
        // A black ring around every point, so it shows on a region of its own colour.
        chart
            .draw_series(
                self.points
                    .iter()
                    .map(|&(x, y, _)| Circle::new((x, y), px(5), BLACK.stroke_width(pxu(1)))),
            )
            .map_err(plot_error)?;
        draw_legend_beside(area, &chart, &legend)
    }
}

/// Writes `regions` and, per class, `probability_<class>` and `raw_<class>` (each `.svg` and
/// `.png`) of the network `arch` with `values`, over the rows `rows` of `data`; `when` says
/// which parameters. Returns the paths written.
///
/// # Errors
/// A file that cannot be written, or a drawing error.
pub fn write_surfaces(
    arch: &Architecture,
    values: &[f64],
    data: &Dataset,
    rows: &[u32],
    when: &str,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    // The cells are computed once; each picture shades them its own way.
    let regions = Surface::new(
        arch,
        values,
        data,
        rows,
        Shade::Regions,
        format!("Decision regions (ArgMax) and the data, {when}"),
    );
    written.extend(write_svg_and_png(&regions, dir, "regions")?);
    for (k, class) in data.output_names().iter().enumerate() {
        let probability = Surface {
            shade: Shade::Probability(k),
            title: format!("Probability of {class} (SoftMax), {when}"),
            ..regions.clone()
        };
        let file = format!("probability_{}", file_safe(class));
        written.extend(write_svg_and_png(&probability, dir, &file)?);
        let raw = Surface {
            shade: Shade::Raw(k),
            title: format!("Raw output for {class}, {when}"),
            ..regions.clone()
        };
        written.extend(write_svg_and_png(
            &raw,
            dir,
            &format!("raw_{}", file_safe(class)),
        )?);
    }
    Ok(written)
}

/// A class name as part of a file name: letters, digits, `-` and `_` kept, the rest `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_take_the_colour_of_their_argmax_and_probability() {
        assert_eq!(lighten(RGBColor(0, 100, 200), 1.0), RGBColor(0, 100, 200));
        assert_eq!(lighten(RGBColor(0, 100, 200), 0.0), RGBColor(255, 255, 255));
        assert_eq!(file_safe("Iris setosa/1"), "Iris_setosa_1");
        let surface = Surface {
            title: String::new(),
            inputs: ["a".into(), "b".into()],
            classes: vec!["p".into(), "q".into()],
            x: (0.0, 1.0),
            y: (0.0, 1.0),
            cells: vec![vec![0.0, 2.0]],
            shade: Shade::Regions,
            points: Vec::new(),
        };
        assert_eq!(surface.colour(0, (0.0, 1.0)), lighten(unit_colour(1), 0.35));
        let p = Surface {
            shade: Shade::Probability(0),
            ..surface
        };
        let share = 1.0 / (1.0 + 2f64.exp());
        assert_eq!(p.colour(0, (0.0, 1.0)), lighten(unit_colour(0), share));
    }
}
