#!/usr/bin/env bash
# Regenerates the onnx-speed section of bench/RESULTS.md: tract (gits-sampler bench on an ONNX
# model) against onnxruntime (bench/onnx_speed.py) per evaluation, on the MNIST export and the
# diffusers fixture at batch 1 and 16. Needs Python with bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin gits-sampler
bin="${CARGO_TARGET_DIR:-target}/release/gits-sampler"
mkdir -p bench/out
for batch in 1 16; do
  "$bin" bench --model tests/fixtures/onnx/mnist-unet.onnx --solvers euler --nfe 20 --batch "$batch" --reps 7 --gits-warmup 0 --out "bench/out/tract-mnist-$batch.json"
  "$bin" bench --model tests/fixtures/onnx/diffusers-unet/model.onnx --solvers euler --nfe 20 --batch "$batch" --reps 7 --gits-warmup 0 --out "bench/out/tract-diffusers-$batch.json"
done
python3 bench/onnx_speed.py | python3 bench/section.py onnx-speed
