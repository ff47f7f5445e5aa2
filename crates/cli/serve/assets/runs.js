// The run dashboard: the run folders under the served directory, and one run's metrics as
// curves that grow while `squiggle train --run-dir` is still writing them (polled once a
// second; only the new rows travel).
"use strict";

const TRAIN = "#1f77e6";
const VALID = "#ff8c00";
const RATE = "#e248a0";
let current = null;     // the run shown
let rows = [];          // its metrics rows so far

async function get(path) {
  const response = await fetch(path);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function legend(id, entries) {
  const box = $(id);
  clear(box);
  for (const [colour, text] of entries) {
    const span = document.createElement("span");
    span.style.setProperty("--swatch", colour);
    span.textContent = text;
    box.appendChild(span);
  }
}

function chart(id, series, title) {
  const svg = $(id);
  const xs = rows.map((r) => r.epoch);
  const all = series.flatMap(([key]) => rows.map((r) => r[key]).filter((v) => v !== null));
  const yr = pad(extent(all), 0.05);
  const xr = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const { X, Y, plot } = frame(svg, xr, yr, ["epoch", title]);
  for (const [key, colour] of series) {
    const ys = rows.map((r) => (r[key] === null ? NaN : r[key]));
    line(plot, xs, ys, X, Y, { stroke: colour, "stroke-width": 2, class: `series-${key}` });
    rows.forEach((r, i) => {
      if (Number.isFinite(ys[i]) && rows.length <= 200) {
        el("circle", { cx: X(xs[i]), cy: Y(ys[i]), r: 2.5, fill: colour }, plot);
      }
    });
  }
}

function draw(run) {
  $("run-title").textContent = `${run.name}: ${run.total} epoch${run.total === 1 ? "" : "s"}`;
  $("run-title").dataset.epochs = run.total;
  const training = run.training === true ? "training (the writer is still running)" : "finished";
  $("run-status").textContent = `${training}; updated ${new Date().toLocaleTimeString()}`;
  $("config").textContent = run.config;
  const valid = rows.some((r) => r.valid_loss !== null);
  const lossSeries = [["train_loss", TRAIN]].concat(valid ? [["valid_loss", VALID]] : []);
  chart("loss", lossSeries, "loss");
  legend("loss-legend", lossSeries.map(([k, c]) => [c, k.replace("_", " ")]));
  // A classifier's runs have an accuracy and no R²: the second chart shows what there is.
  const metric = rows.some((r) => r.train_accuracy != null) ? "accuracy" : "r2";
  $("r2-title").textContent = metric === "accuracy" ? "Accuracy per epoch" : "R² per epoch";
  const r2Series = [[`train_${metric}`, TRAIN]].concat(valid ? [[`valid_${metric}`, VALID]] : []);
  chart("r2", r2Series, metric === "accuracy" ? "accuracy" : "R²");
  legend("r2-legend", r2Series.map(([k, c]) => [c, k.replace("_", " ")]));
  chart("lr", [["learning_rate", RATE]], "learning rate");
}

async function refresh() {
  try {
    const list = await get("/api/runs");
    $("root").textContent = list.root;
    const box = $("runs");
    clear(box);
    for (const r of list.runs) {
      const a = document.createElement("a");
      a.href = `#${encodeURIComponent(r.name)}`;
      a.textContent = `${r.name} (${r.epochs} epochs${r.training ? ", training" : ""})`;
      a.className = r.name === current ? "current" : "";
      box.appendChild(a);
    }
    const wanted = decodeURIComponent(location.hash.slice(1)) || list.runs[0]?.name || null;
    if (wanted !== current) { current = wanted; rows = []; }
    if (current === null) {
      $("run-title").textContent = "no runs yet: train with --run-dir into this folder";
      return;
    }
    const run = await get(`/api/runs/${encodeURIComponent(current)}?since=${rows.length}`);
    if (run.since < rows.length) rows = rows.slice(0, run.since);
    rows = rows.concat(run.rows);
    draw(run);
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

window.addEventListener("hashchange", refresh);
refresh();
setInterval(refresh, 1000);
