#!/usr/bin/env bash
# Regenerates the MNIST stochastic-samplers section of bench/RESULTS.md: k-diffusion's stochastic
# samplers beside iPNDM on the polynomial schedule (NFE 5..20) and the shipped GITS file (NFE 5..10,
# its step counts) and a paper's-cost GITS search for 3..20 steps (NFE 5..20), 500 digits per cell, every cell against iPNDM on the same schedule and noise
# (`eval --baseline-solver ipndm`). About 70 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gits-sampler/target}"
cargo build --release --quiet --bin gits-sampler
cli="$CARGO_TARGET_DIR/release/gits-sampler"
solvers=ipndm,euler_ancestral,dpmpp_sde,dpmpp_2m_sde,dpmpp_3m_sde
"$cli" eval --samples 500 --solvers "$solvers" --baseline-solver ipndm --schedules polynomial:7 \
    --nfe 5,6,8,10,12,16,20 --out bench/mnist-eval/stochastic-polynomial.json
"$cli" eval --samples 500 --solvers "$solvers" --baseline-solver ipndm \
    --schedules gits:schedules/mnist-unet.gits.json+no-afs --nfe 5,6,8,10 --out bench/mnist-eval/stochastic-gits.json
[ -f bench/mnist-eval/gits-paper-20.json ] || "$cli" gits --model models/mnist-unet.int8.gsw --nfe 3..20 --out bench/mnist-eval/gits-paper-20.json
"$cli" eval --samples 500 --solvers "$solvers" --baseline-solver ipndm --schedules gits:bench/mnist-eval/gits-paper-20.json \
    --nfe 5,6,8,10,12,16,20 --out bench/mnist-eval/stochastic-gits-paper.json
python3 bench/stochastic-table.py | python3 bench/section.py mnist-stochastic
