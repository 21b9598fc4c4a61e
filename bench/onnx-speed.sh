#!/usr/bin/env bash
# Regenerates the onnx-speed section of bench/RESULTS.md: tract (gits-sampler bench on an ONNX
# model) against onnxruntime (bench/onnx_speed.py) per evaluation, on the MNIST export and the
# diffusers fixture at batch 1 and 16. Needs Python with bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin gits-sampler
python3 bench/onnx_speed.py "${CARGO_TARGET_DIR:-target}/release/gits-sampler" | python3 bench/section.py onnx-speed
