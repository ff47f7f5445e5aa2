//! Every limit of the server in one place: what one request, one playground and the whole
//! server may cost. Requests beyond them get a 4xx naming the limit, never an allocation or
//! a computation that grows with what a client sends.

use std::time::Duration;

/// Playgrounds kept at once; creating one more drops the one idle longest.
pub const MAX_PLAYGROUNDS: usize = 32;
/// A playground no request has touched for this long is dropped.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// Steps one request may ask for (the lesson's step takes microseconds; Details Pt. 2's
/// 8,066 steps fit in one request).
pub const MAX_STEPS_PER_REQUEST: usize = 10_000;
/// Data points of a playground.
pub const MAX_POINTS: usize = 1_000;
/// Parameters of a playground's network (every one is drawn and listed).
pub const MAX_PARAMS: usize = 256;
/// The largest magnitude of a value or a data point a request may set: beyond it the f32
/// arithmetic of training overflows.
pub const MAX_VALUE: f64 = 1e6;
/// Steps kept in a playground's history (beyond, every 2nd, 4th, … step is kept).
pub const MAX_HISTORY: usize = 1_000;
/// Points of each sampled curve (the fit, the landscape).
pub const SAMPLES: usize = 200;
/// The largest request body (a config of 1,000 points is about 30 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The largest `metrics.csv` the dashboard reads.
pub const MAX_METRICS_BYTES: u64 = 64 * 1024 * 1024;
/// The largest run `config.toml` the dashboard reads (a seeded `8-[64,64]-1` run's is about
/// 130 KB).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// How much of the end of each `metrics.csv` the run list reads to count its epochs.
pub const METRICS_TAIL_BYTES: u64 = 64 * 1024;
/// Run folders the dashboard lists.
pub const MAX_RUNS: usize = 1_000;
/// Requests computed at once (more wait their turn).
pub const COMPUTE_THREADS: usize = 8;
/// Connections open at once; one more is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a kept-alive connection may sit without a request before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Cells along each side of a classifier's decision-region grid: 48 × 48 forward passes of
/// a network of at most [`MAX_PARAMS`] parameters per state, a few milliseconds.
pub const REGION_CELLS: usize = 48;
