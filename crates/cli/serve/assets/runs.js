// The run dashboard: the run folders under the served directory, and the metrics of one run
// or several overlaid (`/runs#a,b`, or the boxes in the list) as curves that grow while
// `squiggle train --run-dir` is still writing them (polled once a second; only the new rows
// travel).
"use strict";

const TRAIN = "#1f77e6";
const VALID = "#ff8c00";
const RATE = "#e248a0";
// One colour per run when several are overlaid, by the run's place in the folder's list (so
// a run keeps its colour while others are added to or taken from the overlay).
const PALETTE = ["#1f77e6", "#e5483f", "#009e48", "#8e44c9", "#ff8c00", "#00a2b8", "#b8860b", "#d6409f"];
let names = [];          // every run of the folder, in the server's order
let shown = [];          // the runs on the charts
const runs = new Map();  // name → { rows, run } of each run shown

async function get(path) {
  const response = await fetch(path);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function colourOf(name) {
  const at = names.indexOf(name);
  return PALETTE[(at < 0 ? 0 : at) % PALETTE.length];
}

function legend(id, entries) {
  const box = $(id);
  clear(box);
  for (const [colour, text, dashed] of entries) {
    const span = document.createElement("span");
    span.style.setProperty("--swatch", dashed
      ? `repeating-linear-gradient(90deg, ${colour} 0 5px, transparent 5px 8px)`
      : colour);
    span.textContent = text;
    box.appendChild(span);
  }
}

// The curves of one chart: for each run shown, each of `keys` (the first solid, the others
// dashed) in the run's colour; a single run keeps the train and validation colours.
function curves(keys, single) {
  const out = [];
  for (const name of shown) {
    const entry = runs.get(name);
    if (!entry) continue;
    keys.forEach(([key, colour], k) => {
      if (!entry.rows.some((r) => r[key] !== null && r[key] !== undefined)) return;
      out.push({
        name, key, rows: entry.rows,
        colour: single ? colour : colourOf(name),
        dashed: !single && k > 0,
        label: single ? key.replace("_", " ") : `${name} ${key.split("_")[0]}`,
      });
    });
  }
  return out;
}

function chart(id, series, title) {
  const svg = $(id);
  const xs = series.flatMap((s) => s.rows.map((r) => r.epoch));
  const all = series.flatMap((s) => s.rows.map((r) => r[s.key]).filter((v) => v !== null));
  const yr = pad(extent(all), 0.05);
  const xr = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const { X, Y, plot } = frame(svg, xr, yr, ["epoch", title]);
  for (const s of series) {
    const sx = s.rows.map((r) => r.epoch);
    const ys = s.rows.map((r) => (r[s.key] === null ? NaN : r[s.key]));
    const style = { stroke: s.colour, "stroke-width": 2, class: `series-${s.key}`, "data-run": s.name };
    if (s.dashed) style["stroke-dasharray"] = "6 4";
    line(plot, sx, ys, X, Y, style);
    if (s.rows.length <= 200) {
      s.rows.forEach((r, i) => {
        if (Number.isFinite(ys[i])) {
          el("circle", { cx: X(sx[i]), cy: Y(ys[i]), r: 2.5, fill: s.colour, "data-run": s.name }, plot);
        }
      });
    }
  }
  legend(`${id}-legend`, series.map((s) => [s.colour, s.label, s.dashed]));
}

function draw() {
  const entries = shown.map((name) => [name, runs.get(name)]).filter(([, e]) => e && e.run);
  const single = entries.length === 1;
  const total = (run) => `${run.total} epoch${run.total === 1 ? "" : "s"}`;
  $("run-title").textContent = single
    ? `${entries[0][0]}: ${total(entries[0][1].run)}`
    : entries.map(([name, e]) => `${name} (${total(e.run)})`).join(", ");
  $("run-title").dataset.epochs = entries.map(([, e]) => e.run.total).join(",");
  $("run-title").dataset.runs = entries.length;
  const status = entries.map(([name, e]) => {
    const state = e.run.training === true ? "training (the writer is still running)" : "finished";
    return single ? state : `${name} ${state}`;
  });
  $("run-status").textContent = `${status.join("; ")}; updated ${new Date().toLocaleTimeString()}`;
  const config = $("config");
  clear(config);
  for (const [name, e] of entries) {
    if (!single) {
      const p = document.createElement("p");
      p.className = "config-name";
      p.textContent = name;
      config.appendChild(p);
    }
    const pre = document.createElement("pre");
    pre.className = "config";
    pre.textContent = e.run.config;
    config.appendChild(pre);
  }
  const rows = entries.flatMap(([, e]) => e.rows);
  const valid = rows.some((r) => r.valid_loss !== null);
  const loss = [["train_loss", TRAIN]].concat(valid ? [["valid_loss", VALID]] : []);
  chart("loss", curves(loss, single), "loss");
  // A classifier's runs have an accuracy and no R²: the second chart shows what there is.
  const metric = rows.some((r) => r.train_accuracy != null) ? "accuracy" : "r2";
  $("r2-title").textContent = metric === "accuracy" ? "Accuracy per epoch" : "R² per epoch";
  const second = [[`train_${metric}`, TRAIN]].concat(valid ? [[`valid_${metric}`, VALID]] : []);
  chart("r2", curves(second, single), metric === "accuracy" ? "accuracy" : "R²");
  chart("lr", curves([["learning_rate", RATE]], single), "learning rate");
}

// The runs the address names (`#a,b`), else the folder's first.
function wanted() {
  const named = location.hash.slice(1).split(",").map(decodeURIComponent).filter((n) => n);
  return named.length > 0 ? named : names.slice(0, 1);
}

function select(list) {
  location.hash = list.map(encodeURIComponent).join(",");
}

function listRuns(list) {
  const box = $("runs");
  clear(box);
  for (const r of list) {
    const row = document.createElement("label");
    const box2 = document.createElement("input");
    box2.type = "checkbox";
    box2.checked = shown.includes(r.name);
    box2.title = "overlay this run on the charts";
    box2.dataset.run = r.name;
    box2.addEventListener("change", () => {
      const next = box2.checked
        ? shown.concat([r.name])
        : shown.filter((n) => n !== r.name);
      select(next.length > 0 ? next : [r.name]);
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.setProperty("--swatch", shown.length > 1 && shown.includes(r.name) ? colourOf(r.name) : "transparent");
    const a = document.createElement("a");
    a.href = `#${encodeURIComponent(r.name)}`;
    a.textContent = `${r.name} (${r.epochs} epochs${r.training ? ", training" : ""})`;
    a.className = shown.length === 1 && shown[0] === r.name ? "current" : "";
    row.append(box2, swatch, a);
    box.appendChild(row);
  }
}

async function refresh() {
  try {
    const list = await get("/api/runs");
    $("root").textContent = list.root;
    names = list.runs.map((r) => r.name);
    const next = wanted();
    if (next.join(",") !== shown.join(",")) {
      shown = next;
      for (const name of [...runs.keys()]) if (!shown.includes(name)) runs.delete(name);
    }
    listRuns(list.runs);
    if (shown.length === 0) {
      $("run-title").textContent = "no runs yet: train with --run-dir into this folder";
      return;
    }
    for (const name of shown) {
      const entry = runs.get(name) || { rows: [], run: null };
      const run = await get(`/api/runs/${encodeURIComponent(name)}?since=${entry.rows.length}`);
      if (run.since < entry.rows.length) entry.rows = entry.rows.slice(0, run.since);
      entry.rows = entry.rows.concat(run.rows);
      entry.run = run;
      runs.set(name, entry);
    }
    draw();
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

window.addEventListener("hashchange", refresh);
refresh();
setInterval(refresh, 1000);
