//! Integration tests: each one runs the real `squiggle` binary and reads what it prints.
//!
//! This binary does not link Burn, so it builds in seconds. Numeric work is tested where it
//! lives (`crates/model`, `crates/train`); here the lesson's numbers are checked end to end.

#[macro_use]
mod util;

// The lesson's golden numbers, per backend.
mod statquest;
// Bad input: exact one-line messages and exit codes.
mod errors;
// Output formats: JSON, trace files, tables.
mod outputs;
// Explanations, gradient checks, plots, JSON Lines traces.
mod see;
// CSV data sets and `squiggle generate`.
mod data;
// Training by epochs: batches, validation, run folders, resume, predict, memory.
mod epochs;
// The same numbers on flex, ndarray and (ignored unless asked for) wgpu.
mod backends;
// `--set KEY=VALUE` edits of any config key.
mod set;
// The examples of README.md and docs/, replayed.
mod readme;
// Run folders: one writer, never the user's files, no stray temporary files.
mod run_folders;
// Classifiers: SoftMax, cross entropy, labels, confusion matrices (Pt. 4–7).
mod classify;
// `squiggle export`: safetensors and JSON read back, reproducing predict.
mod export;
// `squiggle bench`: cases, baseline, ratios.
mod bench;
// Every command on every shipped config; the inspecting commands on trained runs.
mod shipped;
// `squiggle serve`: the playground's API and the run dashboard.
mod serve;
// The pages in headless Chromium (ignored unless asked for; `.ci/run` runs them).
mod browser;
// The WebDriver commands the browser tests speak to chromedriver.
mod webdriver;
// The static site served as a plain file server would, for the browser test of the site.
mod site;
