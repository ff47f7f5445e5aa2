// How the playground page reaches the playground on the static site: the WebAssembly module
// beside the page (pkg/, built from crates/web) answers the same requests as the JSON API of
// `squiggle serve`, in the same words. `squiggle serve` has its own backend.js
// (crates/cli/serve/assets/backend.js), which sends them over HTTP; app.js calls `api` alike
// in both.
"use strict";

// The module, fetched and compiled once; the playgrounds live in its `Page`. A browser
// loads it only over HTTP: a page opened as a file (file://) is told how to serve it.
const page = import("./pkg/squiggle_web.js")
  .then(async (module) => {
    await module.default();
    return new module.Page();
  })
  .catch((e) => {
    const how = location.protocol === "file:"
      ? "a page opened as a file cannot load it: serve this folder over HTTP, e.g. `python3 -m http.server` in it"
      : "is pkg/ beside index.html?";
    throw new Error(`the playground's WebAssembly module did not load (${e.message}); ${how}`);
  });

// The static site has no dashboard of runs: that needs `squiggle serve --run DIR`.
document.getElementById("runs-link")?.remove();

async function api(method, path, body) {
  const url = new URL(path, location.href);
  const route = url.pathname.replace(/^.*?\/api\//, "");
  const param = url.searchParams.get("param") ?? undefined;
  const text = body === undefined ? "" : JSON.stringify(body);
  const playgrounds = await page;
  let answer;
  try {
    answer = playgrounds.request(method, route, param, text);
  } catch (e) {
    // A refusal is its one line, as the server's {"error": …}.
    throw new Error(typeof e === "string" ? e : e.message);
  }
  return JSON.parse(answer);
}
