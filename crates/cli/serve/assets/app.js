// The playground page. It only draws: every number (parameters, losses, curves, chain-rule
// factors) comes from the playground's API (backend.js), where squiggle's training core
// computes it: on the server of `squiggle serve`, or in the page's WebAssembly module.
"use strict";

// The drawing helpers ($, el, frame, line, …) are in plot.js.

let state = null;      // the last state the server sent
let selected = null;   // the parameter of the landscape and the chain rule
let playing = false;
let busy = false;      // a request is in flight
let pendingPoints = null;
let newClass = 0;      // the class a double-click adds to a classifier's data
const rate = { steps: 0, since: performance.now() };

// ---- the API ------------------------------------------------------------------------
// `api(method, path, body)` is backend.js's: the server's JSON API over HTTP, or on the static
// site the same requests answered by the WebAssembly module inside the page.

function query() {
  return selected ? `?param=${encodeURIComponent(selected)}` : "";
}

// Sends one request about the current playground and draws the answer.
async function act(action, body, method = "POST") {
  if (!state) return;
  busy = true;
  try {
    const path = `/api/playgrounds/${state.id}${action ? "/" + action : ""}${query()}`;
    show(await api(method, path, body));
    $("error").textContent = "";
    return true;
  } catch (e) {
    $("error").textContent = e.message;
    if (/no playground/.test(e.message)) await open(state.name);
    return false;
  } finally {
    busy = false;
  }
}

async function open(preset) {
  const body = preset ? { preset } : {};
  busy = true;
  try {
    selected = null;
    show(await api("POST", "/api/playgrounds", body));
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = e.message;
  } finally {
    busy = false;
  }
}

// ---- the panels -----------------------------------------------------------------------

function show(next) {
  state = next;
  selected = state.landscape.param;
  $("title").textContent = `${state.network} network · ${state.optimizer} · ${state.backend}, ${state.dtype}`;
  $("kernels").value = state.kernels;
  $("step-count").textContent = state.step;
  $("loss-name").textContent = state.loss_name;
  $("loss").textContent = state.loss_shown;
  const status = $("status");
  status.textContent = state.status.message;
  status.className = `status ${state.status.state}`;
  const stopped = state.status.state !== "ready";
  $("step").disabled = stopped;
  $("play").disabled = stopped && !playing;
  if (stopped && playing) togglePlay();
  if (document.activeElement?.form !== $("settings")) {
    $("learning-rate").value = state.learning_rate;
    $("max-steps").value = state.rules.max_steps ?? "";
    $("min-step-size").value = state.rules.min_step_size ?? "";
    $("target-loss").value = state.rules.target_loss ?? "";
  }
  drawParams();
  drawNetwork();
  drawFit();
  drawLandscape();
  drawCurve();
  drawExplain();
}

function drawParams() {
  const body = $("params").tBodies[0];
  const editing = document.activeElement?.dataset?.param;
  clear(body);
  for (const p of state.params) {
    const row = body.insertRow();
    row.className = p.trainable ? "trains" : "frozen";
    row.insertCell().textContent = p.name;
    const value = document.createElement("input");
    value.type = "number";
    value.step = "any";
    value.id = `param-${p.name}`;
    value.dataset.param = p.name;
    value.value = p.shown;
    value.setAttribute("aria-label", p.name);
    value.addEventListener("change", () => {
      const v = Number(value.value);
      act("values", { values: { [p.name]: v } });
    });
    row.insertCell().appendChild(value);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `trains-${p.name}`;
    box.checked = p.trainable;
    box.addEventListener("change", () => toggle(p.name));
    row.insertCell().appendChild(box);
    if (editing === p.name) value.focus();
  }
}

function toggle(name) {
  const trainable = state.params
    .filter((p) => (p.name === name ? !p.trainable : p.trainable))
    .map((p) => p.name);
  selected = name;
  act("trainable", { trainable });
}

// The network as the lesson draws it: inputs, hidden units (with their activation), the
// output (a weighted sum plus the final bias); every weight on its edge, every bias at its
// node, each clickable.
function drawNetwork() {
  const svg = $("network");
  clear(svg);
  const [w, h] = [460, 230];
  const layers = state.layers;
  const many = state.params.length > 40;
  const pos = layers.map((n, l) => {
    const x = 30 + (l * (w - 100)) / Math.max(1, layers.length - 1);
    return Array.from({ length: n }, (_, k) => [x, ((k + 1) * h) / (n + 1)]);
  });
  const labels = [];
  for (const p of state.params) {
    const cls = p.trainable ? "trains" : "frozen";
    if (p.kind === "weight") {
      const [x1, y1] = pos[p.layer][p.from];
      const [x2, y2] = pos[p.layer + 1][p.to];
      el("line", { x1, y1, x2, y2, class: `edge ${cls}` }, svg);
      // Halfway along, on the edge's outer side (above in the upper half of the picture,
      // below in the lower), so the labels of edges that meet at a node do not collide.
      // Into the output, nearer the hidden node: the output's bias sits below it.
      const t = p.layer + 2 === layers.length ? 0.4 : 0.5;
      const mid = y1 + (y2 - y1) * t;
      const dy = mid <= h / 2 + 1 ? -7 : 15;
      labels.push([p, x1 + (x2 - x1) * t, y1 + (y2 - y1) * t + dy]);
    } else {
      // Below its node.
      const [x, y] = pos[p.layer + 1][p.to];
      labels.push([p, x, y + 32]);
    }
  }
  pos.forEach((nodes, l) => nodes.forEach(([x, y]) => {
    el("circle", { cx: x, cy: y, r: 17, class: "node" }, svg);
    const hidden = l > 0 && l < pos.length - 1;
    const text = l === 0 ? "in" : hidden ? state.activation.slice(0, 4) : "Σ";
    el("text", { x, y: y + 4, "text-anchor": "middle", "font-size": 11 }, svg).textContent = text;
  }));
  if (many) return;
  for (const [p, x, y, anchor] of labels) {
    const text = el("text", {
      x, y, "text-anchor": anchor || "middle", id: `node-${p.name}`,
      class: `param-label ${p.trainable ? "trains" : "frozen"}`,
    }, svg);
    // The lessons' short names fit on the diagram; a tensor element's name
    // (`hidden.0.weight[1][0]`) would cover its neighbours, so those edges show the value
    // alone, the name on hover and in the table.
    text.textContent = state.lesson_names ? `${p.name} ${p.shown}` : p.shown;
    text.addEventListener("click", () => toggle(p.name));
    const title = el("title", {}, text);
    title.textContent = `${p.name} = ${p.shown}: click to ${p.trainable ? "freeze" : "unfreeze"}`;
  }
}

// The fit card: the prediction over one input, or for a classifier its decision regions
// (two inputs) or its SoftMax probabilities (one input).
function drawFit() {
  if (state.view === "regions") return drawRegions();
  if (state.view === "probabilities") return drawProbabilities();
  if (state.view === "predicted") return drawPredicted();
  return drawCurveFit();
}

// A regression of several inputs or outputs: each prediction against its observation, on
// the line where they would be equal. Its rows are changed in a config, not by dragging.
function drawPredicted() {
  const svg = $("fit");
  const f = state.fit;
  const r = pad(extent(f.observed.concat(f.predicted)), 0.08);
  const { X, Y, plot } = frame(svg, r, r, state.axes);
  clear($("fit-legend"));
  line(plot, r, r, X, Y, { stroke: "#98a2b3", "stroke-width": 1.5, "stroke-dasharray": "5 4" });
  f.observed.forEach((o, i) => {
    el("circle", { cx: X(o), cy: Y(f.predicted[i]), r: 5, class: "row", fill: state.colours.squiggle }, plot);
  });
  legendKey("#98a2b3", "predicted = observed");
  legendKey(state.colours.squiggle, "each row's prediction");
  svg.ondblclick = null;
}

function legendKey(colour, text) {
  const span = document.createElement("span");
  span.style.setProperty("--swatch", colour);
  span.textContent = text;
  $("fit-legend").appendChild(span);
}

// The classes in the legend, and the class a double-click adds.
function classLegend() {
  clear($("fit-legend"));
  state.classes.forEach((name, k) => legendKey(state.colours.classes[k], name));
  if (newClass >= state.classes.length) newClass = 0;
  const label = document.createElement("label");
  label.textContent = "double-click adds ";
  const pick = document.createElement("select");
  pick.id = "new-class";
  state.classes.forEach((name, k) => pick.add(new Option(name, k)));
  pick.value = newClass;
  pick.addEventListener("change", () => { newClass = Number(pick.value); });
  label.appendChild(pick);
  $("fit-legend").appendChild(label);
}

// Each point of a classifier's data, in its class's colour with a black ring; `at` places a
// point, `place` turns a dragged position into the point.
function classPoints(plot, points, at, invert, place) {
  points.forEach((p, i) => {
    const [cx, cy] = at(p);
    const dot = el("circle", {
      cx, cy, r: 7, class: "point", fill: state.colours.classes[p[p.length - 1]],
      stroke: "#000", "stroke-width": 1.5, "data-index": i, "data-class": p[p.length - 1],
    }, plot);
    dot.addEventListener("pointerdown", (e) => startDrag(e, i, invert, place));
    dot.addEventListener("dblclick", (e) => {
      e.stopPropagation();
      act("data", { points: state.data.filter((_, j) => j !== i) });
    });
  });
}

// `hex` mixed with white: `share` 0 is white, 1 the colour itself. Opaque, so cells that
// overlap by a pixel (no seams between them) do not darken where they do.
function paler(hex, share) {
  const mix = (i) => Math.round(255 - (255 - parseInt(hex.slice(i, i + 2), 16)) * share);
  return `rgb(${mix(1)}, ${mix(3)}, ${mix(5)})`;
}

function drawRegions() {
  const svg = $("fit");
  const f = state.fit;
  const points = pendingPoints || state.data;
  const { X, Y, plot, invert } = frame(svg, f.x, f.y, state.axes);
  const n = f.cells;
  const dx = (f.x[1] - f.x[0]) / n;
  const dy = (f.y[1] - f.y[0]) / n;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const c = j * n + i;
      const k = f.classes[c];
      const [x0, y1] = [f.x[0] + i * dx, f.y[0] + (j + 1) * dy];
      el("rect", {
        x: X(x0), y: Y(y1), width: X(x0 + dx) - X(x0) + 1, height: Y(y1 - dy) - Y(y1) + 1,
        fill: paler(state.colours.classes[k], 0.1 + 0.35 * f.confidence[c]),
        class: "region", "data-class": k, "shape-rendering": "crispEdges",
      }, plot);
    }
  }
  classLegend();
  classPoints(plot, points, (p) => [X(p[0]), Y(p[1])], invert, (x, y, old) => [x, y, old[2]]);
  svg.ondblclick = (e) => {
    const [x, y] = invert(...svgPoint(svg, e));
    act("data", { points: state.data.concat([[round(x), round(y), newClass]]) });
  };
}

function drawProbabilities() {
  const svg = $("fit");
  const f = state.fit;
  const points = pendingPoints || state.data;
  const xr = [f.x[0], f.x[f.x.length - 1]];
  const { X, Y, plot, invert } = frame(svg, xr, [-0.05, 1.05], state.axes);
  f.probabilities.forEach((ys, k) => {
    line(plot, f.x, ys, X, Y, { stroke: state.colours.classes[k], "stroke-width": 3, class: "probability" });
  });
  classLegend();
  // Each point at the top, where its class's probability should be.
  classPoints(plot, points, (p) => [X(p[0]), Y(1)], invert, (x, _y, old) => [x, old[1]]);
  svg.ondblclick = (e) => {
    const [x] = invert(...svgPoint(svg, e));
    act("data", { points: state.data.concat([[round(x), newClass]]) });
  };
}

function drawCurveFit() {
  const svg = $("fit");
  const f = state.fit;
  const points = pendingPoints || state.data;
  const ys = points.map((p) => p[1]).concat(f.prediction);
  const yr = pad(extent(ys), 0.12);
  const xr = [f.x[0], f.x[f.x.length - 1]];
  const { X, Y, plot, invert } = frame(svg, xr, yr, state.axes);
  clear($("fit-legend"));
  const key = legendKey;
  // Contributions are drawn where they stay within ten times the data's span (as `squiggle
  // plot` does), so one far-off unit cannot flatten the picture.
  const reach = [yr[0] - 10 * (yr[1] - yr[0]), yr[1] + 10 * (yr[1] - yr[0])];
  f.units.forEach((u, k) => {
    const colour = state.colours.units[k];
    const ys = u.values.map((v) => (v < reach[0] || v > reach[1] ? NaN : v));
    line(plot, f.x, ys, X, Y, { stroke: colour, "stroke-width": 2, "stroke-dasharray": "6 4" });
    key(colour, u.label);
  });
  line(plot, f.x, f.prediction, X, Y, { stroke: state.colours.squiggle, "stroke-width": 4, id: "squiggle" });
  key(state.colours.squiggle, "prediction (the squiggle)");
  key("#000", "data");
  points.forEach((p, i) => {
    const dot = el("circle", { cx: X(p[0]), cy: Y(p[1]), r: 7, class: "point", fill: "#000", "data-index": i }, plot);
    dot.addEventListener("pointerdown", (e) => startDrag(e, i, invert, (x, y) => [x, y]));
    dot.addEventListener("dblclick", (e) => {
      e.stopPropagation();
      const kept = state.data.filter((_, j) => j !== i);
      act("data", { points: kept });
    });
  });
  svg.ondblclick = (e) => {
    const [x, y] = invert(...svgPoint(svg, e));
    act("data", { points: state.data.concat([[round(x), round(y)]]) });
  };
}

function round(v) {
  return Number(v.toFixed(4));
}

function svgPoint(svg, e) {
  const r = svg.getBoundingClientRect();
  const [w, h] = svg.getAttribute("viewBox").split(" ").slice(2).map(Number);
  return [((e.clientX - r.left) / r.width) * w, ((e.clientY - r.top) / r.height) * h];
}

// Dragging a point redraws it at once and sends the new data whenever no request is in
// flight, so the squiggle follows; the last position is always sent. `place` makes the point
// from the position and the point as it was (a class stays a point's class).
function startDrag(e, i, invert, place) {
  e.preventDefault();
  const svg = $("fit");
  const points = state.data.map((p) => p.slice());
  let moved = false;
  const move = (ev) => {
    moved = true;
    const [x, y] = invert(...svgPoint(svg, ev));
    points[i] = place(round(x), round(y), state.data[i]);
    pendingPoints = points;
    const dot = svg.querySelector(`circle[data-index="${i}"]`);
    const [px, py] = svgPoint(svg, ev);
    if (dot) { dot.setAttribute("cx", px); dot.setAttribute("cy", py); }
    if (!busy) act("data", { points });
  };
  const up = async (ev) => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    // A click without a move (half of a double-click) changes nothing and redraws nothing,
    // so the second click lands on the same point.
    if (!moved) return;
    move(ev);
    while (busy) await new Promise((r) => setTimeout(r, 10));
    await act("data", { points });
    pendingPoints = null;
    drawFit();
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}

function drawLandscape() {
  const L = state.landscape;
  const select = $("landscape-param");
  if (select.options.length !== state.params.length || select.options[0]?.value !== state.params[0].name) {
    clear(select);
    for (const p of state.params) select.add(new Option(p.name, p.name));
  }
  select.value = L.param;
  const svg = $("landscape");
  const ys = L.loss.concat(L.dots.map((d) => d[2]), [L.current_loss]);
  const yr = pad(extent(ys), 0.05);
  const xr = [L.x[0], L.x[L.x.length - 1]];
  const { X, Y, plot } = frame(svg, xr, yr, [L.param, state.loss_name]);
  line(plot, L.x, L.loss, X, Y, { stroke: state.colours.landscape, "stroke-width": 3 });
  // The tangent at the current value: its slope is the derivative the next step uses.
  const dx = (xr[1] - xr[0]) * 0.15;
  const [x0, y0] = [L.value, L.current_loss];
  el("line", {
    x1: X(x0 - dx), y1: Y(y0 - L.slope * dx), x2: X(x0 + dx), y2: Y(y0 + L.slope * dx),
    stroke: "#000", "stroke-width": 2, id: "tangent",
  }, plot);
  for (const [, v, loss] of L.dots) {
    el("circle", { cx: X(v), cy: Y(loss), r: 4, fill: state.colours.squiggle }, plot);
  }
  el("circle", { cx: X(x0), cy: Y(y0), r: 6, fill: "none", stroke: "#000", "stroke-width": 2 }, plot);
  $("landscape-label").textContent = `${L.label}; dots: the steps since the last change; black: the tangent (slope ${L.slope.toPrecision(5)})`;
}

function drawCurve() {
  const H = state.history;
  const svg = $("curve");
  const logs = H.losses.map((v) => (v > 0 ? Math.log10(v) : NaN));
  const yr = pad(extent(logs), 0.05);
  const xr = [0, Math.max(1, H.steps[H.steps.length - 1] || 1)];
  const { X, Y, plot } = frame(svg, xr, yr, ["step", state.loss_name], true, true);
  // A change of data, settings, values or what trains starts a new loss: marked.
  for (const step of H.changes) {
    el("line", { x1: X(step), x2: X(step), y1: Y(yr[0]), y2: Y(yr[1]), stroke: "#667085",
      "stroke-dasharray": "3 3", class: "change" }, plot);
  }
  line(plot, H.steps, logs, X, Y, { stroke: state.colours.landscape, "stroke-width": 2 });
}

function drawExplain() {
  const E = state.explain;
  $("explain-param").textContent = E.param;
  $("explain-step").textContent = E.step;
  $("explain-formula").textContent =
    `d${E.loss_name}/d${E.param} = Σ ` + E.factors.map((f) => f.name).join(" × ") +
    "   where " + E.factors.map((f) => `${f.name} = ${f.meaning}`).join(", ");
  const table = $("explain");
  clear(table);
  const head = table.createTHead().insertRow();
  const th = (text, small) => {
    const cell = document.createElement("th");
    cell.textContent = text;
    if (small) { const s = document.createElement("small"); s.textContent = small; cell.appendChild(s); }
    head.appendChild(cell);
  };
  th("point");
  th(state.axes[0]);
  th(state.axes[1]);
  E.factors.forEach((f) => th(f.name, f.meaning));
  th("product");
  const body = table.createTBody();
  state.data.forEach((p, i) => {
    const row = body.insertRow();
    row.insertCell().textContent = i + 1;
    row.insertCell().textContent = p[0];
    row.insertCell().textContent = p[1];
    E.factors.forEach((f) => { row.insertCell().textContent = f.shown[i]; });
    row.insertCell().textContent = E.products_shown[i];
  });
  const sum = body.insertRow();
  sum.insertCell().textContent = "sum";
  sum.insertCell().colSpan = 2 + E.factors.length;
  const total = sum.insertCell();
  total.textContent = E.shown[0];
  total.id = "chain-total";
  const check = $("explain-check");
  clear(check);
  const lineOf = (text) => { const d = document.createElement("div"); d.textContent = text; check.appendChild(d); };
  const training = (kernels) => (E.kernels === kernels ? "  (what the steps use)" : "");
  lineOf(`from the chain rule   ${E.shown[0]}`);
  lineOf(`Burn's autodiff       ${E.shown[1]}${training("burn")}`);
  lineOf(`fused backward        ${E.shown[2]}${training("fused")}`);
  lineOf(`finite difference     ${E.shown[3]}`);
  const verdict = document.createElement("div");
  verdict.className = E.agree ? "agree" : "disagree";
  verdict.textContent = E.agree && E.at_kink
    ? `→ the chain rule, Burn's autodiff and the fused backward agree (relative difference ${E.spread.toExponential(1)}); a ReLU unit sits at its kink, where the finite difference averages the slopes on either side`
    : E.agree
    ? `→ all four agree (largest relative difference ${E.spread.toExponential(1)}, tolerance ${E.tolerance.toExponential(0)})`
    : `→ DISAGREE: relative difference ${E.spread.toExponential(1)} exceeds ${E.tolerance.toExponential(0)}`;
  check.appendChild(verdict);
}

// ---- controls -------------------------------------------------------------------------

function togglePlay() {
  playing = !playing;
  $("play").textContent = playing ? "Pause" : "Play";
  rate.steps = 0;
  rate.since = performance.now();
  if (playing) loop();
}

// While playing, each answer asks for the next steps at once, so the page steps as fast as
// the server answers and the browser draws.
async function loop() {
  while (playing) {
    if (busy) { await new Promise((r) => setTimeout(r, 5)); continue; }
    const steps = Number($("speed").value);
    const before = state.step;
    const ok = await act("step", { steps });
    if (!ok) { if (playing) togglePlay(); break; }
    rate.steps += state.step - before;
    const seconds = (performance.now() - rate.since) / 1000;
    if (seconds > 0.5) showRate(seconds);
    await new Promise((r) => requestAnimationFrame(() => r()));
  }
  // A run that stopped within half a second still says how fast it went.
  showRate((performance.now() - rate.since) / 1000);
}

function showRate(seconds) {
  if (rate.steps > 0) $("rate").textContent = (rate.steps / Math.max(seconds, 1e-3)).toFixed(0);
}

$("step").addEventListener("click", () => { if (!busy) act("step", { steps: 1 }); });
$("play").addEventListener("click", togglePlay);
$("reset").addEventListener("click", () => { if (playing) togglePlay(); act("reset"); });
$("preset").addEventListener("change", (e) => { if (playing) togglePlay(); open(e.target.value); });
$("reload").addEventListener("click", () => { if (playing) togglePlay(); open($("preset").value); });
$("landscape-param").addEventListener("change", (e) => { selected = e.target.value; act("", undefined, "GET"); });
$("settings").addEventListener("submit", (e) => {
  e.preventDefault();
  const number = (id) => ($(id).value === "" ? undefined : Number($(id).value));
  act("settings", {
    learning_rate: number("learning-rate"),
    max_steps: number("max-steps"),
    min_step_size: number("min-step-size"),
    target_loss: number("target-loss"),
  });
});
$("kernels").addEventListener("change", (e) => act("settings", { kernels: e.target.value }));

// `/?present`: large type for a projector (style.css, `.present`).
if (new URLSearchParams(location.search).has("present")) document.body.classList.add("present");

(async function start() {
  try {
    const list = await api("GET", "/api/presets");
    for (const p of list.presets) $("preset").add(new Option(p.title, p.name));
    $("preset").value = list.default;
  } catch (e) {
    $("error").textContent = e.message;
  }
  await open(null);
  if (state) $("preset").value = state.name;
})();
