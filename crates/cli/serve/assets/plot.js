// Drawing helpers shared by the playground and the run dashboard: SVG elements, axes with
// ticks, and polylines that break at values that are not finite.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function extent(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  return [lo, hi];
}

function pad([lo, hi], f) {
  const d = (hi - lo) * f;
  return [lo - d, hi + d];
}

function ticks([lo, hi], count) {
  const step0 = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return out;
}

function label(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

// Axes in `svg` (viewBox size w × h) over x and y ranges; returns the scales. With
// `wholeX`, the x axis counts something whole (steps, epochs) and ticks only whole numbers.
function frame(svg, xr, yr, titles, log = false, wholeX = false) {
  clear(svg);
  const [w, h] = svg.getAttribute("viewBox").split(" ").slice(2).map(Number);
  const m = { l: 58, r: 12, t: 10, b: 40 };
  const X = (v) => m.l + ((v - xr[0]) / (xr[1] - xr[0])) * (w - m.l - m.r);
  const Y = (v) => h - m.b - ((v - yr[0]) / (yr[1] - yr[0])) * (h - m.t - m.b);
  const axis = el("g", { class: "axis" }, svg);
  for (const t of ticks(xr, 6).filter((t) => !wholeX || Number.isInteger(t))) {
    el("line", { x1: X(t), x2: X(t), y1: m.t, y2: h - m.b, class: "grid" }, axis);
    el("text", { x: X(t), y: h - m.b + 14, "text-anchor": "middle" }, axis).textContent = label(t);
  }
  // A log axis spanning a decade or more ticks its powers of ten only.
  const wholeLog = log && yr[1] - yr[0] >= 1;
  for (const t of ticks(yr, 5).filter((t) => !wholeLog || Number.isInteger(t))) {
    el("line", { x1: m.l, x2: w - m.r, y1: Y(t), y2: Y(t), class: "grid" }, axis);
    const text = log ? label(Math.pow(10, t)) : label(t);
    el("text", { x: m.l - 6, y: Y(t) + 4, "text-anchor": "end" }, axis).textContent = text;
  }
  el("path", { d: `M${m.l},${m.t}V${h - m.b}H${w - m.r}`, fill: "none" }, axis);
  el("text", { x: (m.l + w - m.r) / 2, y: h - 6, "text-anchor": "middle" }, axis).textContent = titles[0];
  el("text", { x: 14, y: (m.t + h - m.b) / 2, "text-anchor": "middle",
    transform: `rotate(-90 14 ${(m.t + h - m.b) / 2})` }, axis).textContent = titles[1];
  const clip = `clip-${svg.id}`;
  const defs = el("defs", {}, svg);
  el("rect", { x: m.l, y: m.t, width: w - m.l - m.r, height: h - m.t - m.b }, el("clipPath", { id: clip }, defs));
  const plot = el("g", { "clip-path": `url(#${clip})` }, svg);
  const invert = (px, py) => [
    xr[0] + ((px - m.l) / (w - m.l - m.r)) * (xr[1] - xr[0]),
    yr[0] + ((h - m.b - py) / (h - m.t - m.b)) * (yr[1] - yr[0]),
  ];
  return { X, Y, plot, invert };
}

function line(g, xs, ys, X, Y, attrs) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(ys[i])) { pen = false; continue; }
    d += `${pen ? "L" : "M"}${X(xs[i]).toFixed(2)},${Y(ys[i]).toFixed(2)}`;
    pen = true;
  }
  return el("path", { d, fill: "none", ...attrs }, g);
}

