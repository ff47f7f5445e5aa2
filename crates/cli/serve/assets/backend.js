// How the playground page reaches the playground when `squiggle serve` serves it: the JSON
// API over HTTP. The static site has its own backend.js (crates/web/backend.js), which
// answers the same requests with the WebAssembly module inside the page; app.js calls
// `api` alike in both.
"use strict";

async function api(method, path, body) {
  const options = { method, headers: {} };
  // Every change is a JSON request (the server refuses any other kind of POST).
  if (method === "POST" && body === undefined) body = {};
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    throw new Error(data.error || `HTTP ${response.status}`);
  }
  return data;
}
