// How the playground page reaches the playground on the static site: the WebAssembly module
// beside the page (pkg/, built from crates/web) answers the same requests as the JSON API of
// `squiggle serve`, in the same words. `squiggle serve` has its own backend.js
// (crates/cli/serve/assets/backend.js), which sends them over HTTP; app.js calls `api` alike
// in both.
"use strict";

// The module, fetched and compiled once; the playgrounds live in its `Page`.
const page = import("./pkg/squiggle_web.js").then(async (module) => {
  await module.default();
  return new module.Page();
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
