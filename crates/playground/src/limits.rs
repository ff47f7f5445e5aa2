//! What one playground may cost: its points, parameters, history and the steps one call
//! takes. A change beyond them is refused naming the limit, never an allocation or a
//! computation that grows with what a page (or a client of `squiggle serve`) sends.

/// Steps one call may ask for (the lesson's step takes microseconds; Details Pt. 2's 8,066
/// steps fit in one call).
pub const MAX_STEPS_PER_REQUEST: usize = 10_000;
/// Data points of a playground.
pub const MAX_POINTS: usize = 1_000;
/// Parameters of a playground's network (every one is drawn and listed).
pub const MAX_PARAMS: usize = 256;
/// The largest magnitude of a value or a data point a change may set: beyond it the f32
/// arithmetic of training overflows.
pub const MAX_VALUE: f64 = 1e6;
/// Steps kept in a playground's history (beyond, every 2nd, 4th, … step is kept).
pub const MAX_HISTORY: usize = 1_000;
/// Points of each sampled curve (the fit, the landscape).
pub const SAMPLES: usize = 200;
/// Cells along each side of a classifier's decision-region grid: 48 × 48 forward passes of
/// a network of at most [`MAX_PARAMS`] parameters per state, a few milliseconds.
pub const REGION_CELLS: usize = 48;
