#!/usr/bin/env bash
# Regenerates the MNIST section of bench/RESULTS.md with the evaluation protocol of `eval`
# (docs/gits.md): the GITS variants searched for the shipped int8 model (warmup seed 0), then
# iPNDM and Euler on each schedule at NFE 4..10, SAMPLES digits per cell (default 1000) from the
# evaluation's own noise stream, every cell against the polynomial schedule on the same noise
# with a paired bootstrap SE; then f32 vs int8. SKIP_SEARCH=1 reuses the searched files.
# The propagated search also refines its schedules for iPNDM and Euler; gits-prop.json is that
# file without the refined entries (the DP's schedules of the same search). Then the shipped
# file's search and its evaluation (schedules/mnist-unet.gits.json is gits-shipped.json).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gits-sampler/target}"
samples="${SAMPLES:-1000}"
cargo build --release --quiet --bin gits-sampler
cli="$CARGO_TARGET_DIR/release/gits-sampler"
model=models/mnist-unet.int8.gsw
out=bench/mnist-eval
mkdir -p "$out"

if [ "${SKIP_SEARCH:-0}" != 1 ]; then
  "$cli" gits --model "$model" --warmup 256 --seed 0 --metric l2 --gamma 1.15,1.0,1.3 --nfe 3..10 --out "$out/gits-paper.json" 2> "$out/gits-paper.log"
  "$cli" gits --model "$model" --warmup 256 --seed 0 --metric dev --gamma 1.15 --nfe 3..10 --out "$out/gits-dev.json" 2> "$out/gits-dev.log"
  "$cli" gits --model "$model" --warmup 256 --seed 0 --metric l2 --propagate --gamma 1.0 --nfe 3..10 \
    --refine ipndm,euler --refine-samples 32 --refine-sweeps 3 --out "$out/gits-refined.json" 2> "$out/gits-refined.log"
  # The shipped file (schedules/mnist-unet.gits.json): the propagated DP and the optimal-step
  # search for iPNDM and Euler.
  "$cli" gits --model "$model" --warmup 256 --seed 0 --metric l2 --propagate --gamma 1.0 --nfe 3..10 \
    --optimal-steps ipndm,euler --optimal-samples 32 --out "$out/gits-shipped.json" 2> "$out/gits-shipped.log"
  python3 -c 'import json, sys; f = json.load(open(sys.argv[1])); f["schedules"] = [s for s in f["schedules"] if not s.get("student")]; f["timing"]["refine_s"] = 0; json.dump(f, open(sys.argv[2], "w"), indent=2)' \
    "$out/gits-refined.json" "$out/gits-prop.json"
fi
p="gits:$out/gits-paper.json" q="gits:$out/gits-prop.json" d="gits:$out/gits-dev.json" r="gits:$out/gits-refined.json"
"$cli" eval --model "$model" --solvers ipndm,euler --nfe 4..10 --samples "$samples" \
  --schedules "polynomial:7,$p@1.15,$p@1,$d@1.15,$q@1,$r@1" --out "$out/table.json"
"$cli" eval --model models/mnist-unet.f32.gsw --solvers ipndm,euler --nfe 10 --samples "$samples" \
  --schedules polynomial:7 --out "$out/f32.json"
python3 bench/mnist-table.py | python3 bench/section.py mnist-eval
# The shipped file's section (mnist-optimal-steps in RESULTS.md) reads this evaluation.
"$cli" eval --model "$model" --solvers euler,ipndm --nfe 4..10 --samples "$samples" \
  --schedules "polynomial:7,gits:$out/gits-shipped.json@1" --out "$out/shipped-eval.json"
