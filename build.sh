#!/usr/bin/env bash
# Builds the static site into dist/: the wasm crate (two modules, WebGPU and CPU, in the
# wasm-release profile of Cargo.toml), their JS bindings, the bundled TypeScript front end, the
# page and the shipped models. Cargo and esbuild are incremental, so a second run after no change
# takes seconds.
set -euo pipefail
cd "$(dirname "$0")"

target_dir="${CARGO_TARGET_DIR:-target}"
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/gits_sampler.wasm"

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" # where setup.sh's cargo install puts wasm-bindgen
if ! command -v wasm-bindgen >/dev/null; then
  echo "build: wasm-bindgen not found; bash setup.sh installs it (npm start and npm test run it first)" >&2
  exit 1
fi
# Two modules with the same API: pages load the WebGPU one, or the CPU one where WebGPU is missing.
# Names are stripped: they are a sixth of the download and nothing reads them.
for backend in webgpu cpu; do
  echo "build: wasm, $backend module (wasm-release profile; the first build of burn takes 10-20 minutes)"
  cargo build --profile wasm-release --lib --target wasm32-unknown-unknown --no-default-features --features "$backend"
  wasm-bindgen --target web --out-dir www/pkg --out-name "gits_sampler_$backend" --remove-name-section --remove-producers-section "$wasm"
done

echo "build: front end"
rm -rf dist
mkdir -p dist/pkg dist/models dist/schedules
cp www/pkg/gits_sampler_{webgpu,cpu}.js www/pkg/gits_sampler_{webgpu,cpu}_bg.wasm dist/pkg/
cp www/icon.svg www/index.html www/style.css www/embed.html www/embed.css www/embed-example.html www/embed-example.css dist/
cp models/*.json models/*.gsw dist/models/
cp schedules/*.json dist/schedules/
# onnxruntime-web for ONNX models, fetched only when one is opened: the WebGPU build and the
# smaller wasm-only one, each with its wasm binary.
mkdir -p dist/ort
for f in ort.min.mjs ort-wasm-simd-threaded.jsep.mjs ort-wasm-simd-threaded.jsep.wasm ort.wasm.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm; do
  cp "node_modules/onnxruntime-web/dist/$f" dist/ort/
done
npx esbuild app=www/main.ts worker=www/worker.ts gits-sampler-widget=www/widget.ts embed=www/embed.ts --bundle --format=esm --target=es2022 --external:./pkg/* --outdir=dist --log-level=warning
# Brotli and gzip beside each file, for servers that send them as they are (www/serve.mjs).
node www/precompress.mjs dist "$target_dir/precompressed"
echo "build: done -> dist/ ($(du -sh dist | cut -f1))"
