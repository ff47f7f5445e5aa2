//! What the page and the CLI's plots draw alike: the lesson's colours and the range of a fit's
//! input axis. Both come from here so that a plot and the page show a run the same way.

use squiggle_train::Dataset;

/// A colour, 8 bits a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The squiggle (the prediction) and the steps taken.
pub const GREEN: Rgb = Rgb(0, 158, 72);
/// Loss curves and landscapes.
pub const PINK: Rgb = Rgb(226, 72, 160);
/// The first hidden unit (the lesson's blue).
pub const BLUE: Rgb = Rgb(31, 119, 230);
const HIDDEN_COLOURS: [Rgb; 6] = [
    BLUE,
    Rgb(255, 140, 0),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(23, 190, 207),
    Rgb(188, 189, 34),
];

/// The colour of hidden unit `k` (and of class `k`): the lesson's blue and orange first, then
/// distinct hues (the golden angle apart), so no two of a network's units share one.
pub fn unit_colour(k: usize) -> Rgb {
    if let Some(&c) = HIDDEN_COLOURS.get(k) {
        return c;
    }
    let hue = (k as f64 * 137.507_764) % 360.0;
    let (r, g, b) = hsl_to_rgb(hue / 360.0, 0.65, 0.45);
    Rgb(r, g, b)
}

/// `#rrggbb`, as the page writes colours.
pub fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// HSL (each in [0, 1]) to 8-bit RGB.
fn hsl_to_rgb(h: f64, s: f64, l: f64) -> (u8, u8, u8) {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h * 6.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    (byte(r), byte(g), byte(b))
}

/// `lo..hi` with `margin` of its span added on each side (half a unit when it is one value).
pub fn padded(lo: f64, hi: f64, margin: f64) -> (f64, f64) {
    let span = (hi - lo).max(1e-9);
    let pad = (span * margin).max(if hi > lo { 0.0 } else { 0.5 });
    (lo - pad, hi + pad)
}

/// The smallest and largest finite values; `(0, 1)` when there are none (an axis over an
/// infinite or NaN range would never finish choosing its ticks).
pub fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo <= hi { (lo, hi) } else { (0.0, 1.0) }
}

/// The first input's range over `data` with a tenth of it added on each side: the fit's
/// x axis.
pub fn padded_data_range(data: &Dataset) -> (f64, f64) {
    let (lo, hi) = min_max((0..data.len()).map(|i| data.input_row(i)[0]));
    padded(lo, hi, 0.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_gets_its_own_colour() {
        let colours: Vec<Rgb> = (0..32).map(unit_colour).collect();
        for (i, a) in colours.iter().enumerate() {
            for b in &colours[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(unit_colour(0), BLUE);
        assert_eq!(hex(GREEN), "#009e48");
    }

    #[test]
    fn ranges_are_padded_and_never_empty() {
        assert_eq!(padded(0.0, 1.0, 0.1), (-0.1, 1.1));
        assert_eq!(padded(2.0, 2.0, 0.1), (1.5, 2.5));
        assert_eq!(min_max([f64::NAN, 3.0, -1.0, f64::INFINITY]), (-1.0, 3.0));
        assert_eq!(min_max([f64::NAN]), (0.0, 1.0));
    }
}
