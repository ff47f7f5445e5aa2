#!/usr/bin/env bash
# Builds the playground as a static site: the page's assets (the same files `squiggle serve`
# serves) with crates/web compiled to WebAssembly in place of the server. Any static file
# server can host the folder, e.g. `python3 -m http.server -d target/site`.
#
#   bash crates/web/build.sh [FOLDER]     (default: target/site, in CARGO_TARGET_DIR if set)
#
# Installs what it needs when missing: the wasm32-unknown-unknown target (rustup) and
# wasm-bindgen-cli of exactly the version of wasm-bindgen in Cargo.lock (cargo install).
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
OUT="${1:-$TARGET_DIR/site}"
MARK=".squiggle-site"

# Never replace a folder this script did not write, nor a link (the user's files stay).
if [ -L "$OUT" ]; then
    echo "build.sh: $OUT is a symbolic link; give a folder" >&2
    exit 1
fi
if [ -e "$OUT" ] && ! [ -f "$OUT/$MARK" ] && [ -n "$(ls -A "$OUT" 2>/dev/null || echo file)" ]; then
    echo "build.sh: $OUT exists and is not a site this script built; give a new or empty folder" >&2
    exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown
fi
# The generated glue must match the wasm-bindgen crate the module was built with.
VERSION="$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $VERSION"; then
    # Not --locked: its lock file names crates some registry mirrors lack; the version of the
    # tool itself is what must match.
    cargo install wasm-bindgen-cli --version "=$VERSION"
fi

cargo build --profile web -p squiggle-web --target wasm32-unknown-unknown

STAGE="$(mktemp -d "${TMPDIR:-/tmp}/squiggle-site.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$STAGE/pkg" \
    "$TARGET_DIR/wasm32-unknown-unknown/web/squiggle_web.wasm"
ASSETS=crates/cli/serve/assets
cp "$ASSETS/index.html" "$ASSETS/style.css" "$ASSETS/plot.js" "$ASSETS/app.js" "$STAGE/"
cp crates/web/backend.js "$STAGE/"
touch "$STAGE/$MARK"

rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
mv "$STAGE" "$OUT"
chmod 755 "$OUT"
trap - EXIT

WASM="$OUT/pkg/squiggle_web_bg.wasm"
echo "site: $OUT (module $(wc -c < "$WASM") bytes, $(gzip -9 -c "$WASM" | wc -c) gzipped)"
