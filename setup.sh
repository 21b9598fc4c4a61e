#!/usr/bin/env bash
# Installs what building the site needs and a fresh machine lacks, skipping what is present:
# the wasm32 target and the wasm-bindgen-cli that equals Cargo.lock's wasm-bindgen; with
# --browser also Debian's chromium for the headless-browser tests. `npm start`, `npm test` and
# .ci/run all begin here.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
  echo "setup: Rust is missing: install it with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup: installing the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly, or the bindings do not fit.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
wb_version=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
  echo "setup: installing wasm-bindgen-cli $wb_version (compiles from source: about 4 minutes, once)"
  build_dir=$(mktemp -d)
  # Not --locked: its lockfile pins a webpki-roots release the registry no longer serves.
  # --force: cargo's own record may say it is installed when the binary is gone or another.
  CARGO_TARGET_DIR="$build_dir" cargo install --force wasm-bindgen-cli --version "=$wb_version"
  rm -rf "$build_dir"
fi

# The tests use $CHROMIUM when set, else the chromium on the PATH (tests/browser/harness.mjs).
if [ "${1:-}" = --browser ] && [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's chromium for the headless-browser tests"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    echo "setup: the browser tests need chromium on the PATH: run 'sudo apt-get install chromium' (Debian/Ubuntu), then npm test again" >&2
    exit 1
  fi
fi
