//! Every limit of the server in one place: what one request and the whole server may cost
//! (what one playground may cost is `squiggle_playground::limits`). Requests beyond them get
//! a 4xx naming the limit, never an allocation or a computation that grows with what a
//! client sends.

use std::time::Duration;

/// Playgrounds kept at once; creating one more drops the one idle longest.
pub const MAX_PLAYGROUNDS: usize = 32;
/// A playground no request has touched for this long is dropped.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
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
